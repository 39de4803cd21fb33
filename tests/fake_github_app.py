"""A GitHub App on the GitHub fake (tests/fakeforge.py), answering as
GitHub does (docs: "Authenticating as a GitHub App installation"):

- `GET /repos/{owner}/{repo}/installation` and `POST
  /app/installations/{id}/access_tokens` take only the App's JWT — RS256,
  signed by the App's key, `iss` the App id, `exp` at most 10 minutes after
  `iat`, not expired;
- every other endpoint takes only a live installation token (`ghs_…`, an
  hour unless told otherwise, by the fake's clock);
- anything else is 401 "Bad credentials".

    key = rsa_key()
    with github_fake(repo="acme/env") as gh:
        app = FakeApp(gh, app_id="4242", key=key)
        environ = app.environ()        # PROMOTER_GITHUB_APP_ID / _PRIVATE_KEY
        ...
        assert [c.path for c in app.jwt_calls] == ["/app/installations/77/access_tokens"]
"""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from tests.fakeforge import Call, FakeGitHub, _reply


def rsa_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def pem(key: rsa.RSAPrivateKey) -> str:
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.TraditionalOpenSSL,
        serialization.NoEncryption(),
    ).decode()


class FakeApp:
    def __init__(
        self,
        gh: FakeGitHub,
        *,
        app_id: str = "4242",
        key: rsa.RSAPrivateKey,
        installation_id: int = 77,
        lifetime: float = 3600.0,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.gh, self.app_id, self.key = gh, app_id, key
        self.installation_id, self.lifetime, self.clock = installation_id, lifetime, clock
        self.tokens: dict[str, float] = {}
        """installation token → when it expires."""
        self.jwt_calls: list[Call] = []
        self.token_calls: list[tuple[Call, str]] = []
        """(call, the installation token it carried)."""
        gh.authorised = self._authorised  # type: ignore[method-assign]
        gh.route("GET", r"/repos/([^/]+/[^/]+)/installation", self._installation)
        gh.route("POST", r"/app/installations/(\d+)/access_tokens", self._mint)

    def environ(self, *, installation: bool = False) -> dict[str, str]:
        env = {
            "PROMOTER_GITHUB_APP_ID": self.app_id,
            "PROMOTER_GITHUB_APP_PRIVATE_KEY": pem(self.key),
        }
        if installation:
            env["PROMOTER_GITHUB_APP_INSTALLATION_ID"] = str(self.installation_id)
        return env

    @property
    def minted(self) -> list[str]:
        return list(self.tokens)

    # -- the fake's checks ------------------------------------------------------------

    def _claims(self, bearer: str) -> dict[str, Any] | None:
        try:
            claims = jwt.decode(
                bearer, self.key.public_key(), algorithms=["RS256"],
                options={"require": ["iat", "exp", "iss"]},
            )  # fmt: skip
        except jwt.PyJWTError:
            return None
        if str(claims["iss"]) != self.app_id or claims["exp"] - claims["iat"] > 600:
            return None
        return dict(claims)

    def _authorised(self, headers: dict[str, str]) -> bool:
        call = self.gh.calls[-1]  # _dispatch logs the call before asking
        scheme, _, value = headers.get("Authorization", "").partition(" ")
        if scheme.lower() not in ("bearer", "token"):
            return False
        app_endpoint = call.path.startswith("/app/") or call.path.endswith("/installation")
        if app_endpoint:
            if self._claims(value) is None:
                return False
            self.jwt_calls.append(call)
            return True
        expires = self.tokens.get(value)
        if expires is None or expires <= self.clock():
            return False
        self.token_calls.append((call, value))
        return True

    # -- routes -----------------------------------------------------------------------

    def _installation(self, repo: str, **_: Any) -> Any:
        if repo.lower() != self.gh.repo.lower():
            return self.gh.not_found()
        return _reply(200, {"id": self.installation_id, "app_id": int(self.app_id),
                            "account": {"login": repo.split("/")[0]}})  # fmt: skip

    def _mint(self, installation: str, **_: Any) -> Any:
        if int(installation) != self.installation_id:
            return self.gh.not_found()
        token = f"ghs_fakeInstallationToken{len(self.tokens) + 1:04d}xyz"
        expires = self.clock() + self.lifetime
        self.tokens[token] = expires
        when = datetime.fromtimestamp(expires, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        return _reply(201, {"token": token, "expires_at": when,
                            "permissions": {"contents": "write", "pull_requests": "write"},
                            "repository_selection": "selected"})  # fmt: skip
