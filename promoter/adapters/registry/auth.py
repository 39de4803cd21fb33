"""Answering a registry's 401: Basic credentials or a Bearer token.

The distribution "token authentication" flow: a request is first sent
anonymously; a 401 carries `WWW-Authenticate: Bearer realm=…,service=…,
scope=…`, we fetch a token from the realm (with Basic credentials when we
have them, anonymously otherwise, which public images allow; with an
identity token as an OAuth2 refresh token) and send the request again with
`Authorization: Bearer <token>`. A `Basic` challenge gets the credentials
directly. Headers are cached per (registry, scope), so only the first
request to a repository pays for the 401.
"""

from __future__ import annotations

import base64
import re
from collections.abc import Mapping
from dataclasses import dataclass

import requests

from promoter.adapters.registry.credentials import Credentials, Lookup, find_credentials
from promoter.adapters.registry.transport import Transport
from promoter.core import masking
from promoter.errors import RegistryError

_PARAM = re.compile(r'([A-Za-z_][\w-]*)\s*=\s*("(?:[^"\\]|\\.)*"|[^,\s]*)')


@dataclass(frozen=True)
class Challenge:
    scheme: str
    """Lowercased: "bearer" or "basic"."""
    params: dict[str, str]


def parse_challenge(header: str | None) -> Challenge | None:
    """`Bearer realm="…",service="…",scope="a:b:pull,push"` → Challenge."""
    if not header or not header.strip():
        return None
    scheme, _, rest = header.strip().partition(" ")
    params = {
        key.lower(): value[1:-1].replace('\\"', '"') if value.startswith('"') else value
        for key, value in _PARAM.findall(rest)
    }
    return Challenge(scheme.lower(), params)


class Authenticator:
    """Credentials (looked up once per registry) and Authorization headers."""

    def __init__(self, transport: Transport, environ: Mapping[str, str]) -> None:
        self._transport = transport
        self._environ = environ
        self._lookups: dict[str, Lookup] = {}
        self._headers: dict[tuple[str, str], str] = {}

    def cached(self, registry: str, scope: str) -> str | None:
        return self._headers.get((registry, scope))

    def lookup(self, registry: str) -> Lookup:
        if registry not in self._lookups:
            self._lookups[registry] = find_credentials(registry, self._environ)
        return self._lookups[registry]

    def authorize(
        self, registry: str, scope: str, repository: str, challenge: Challenge | None
    ) -> str:
        """The Authorization header value that answers `challenge`."""
        creds = self.lookup(registry).credentials
        if challenge is not None and challenge.scheme == "bearer":
            header = "Bearer " + self._token(registry, scope, repository, challenge, creds)
        elif challenge is not None and challenge.scheme == "basic":
            if creds is None or creds.basic is None:
                raise self.refused(registry, repository, 401)
            header = "Basic " + _basic(*creds.basic)
        else:
            raise RegistryError(
                f"registry {registry} asked for authentication promoter does not speak "
                f"({challenge.scheme if challenge else 'no WWW-Authenticate header'})",
                hint="promoter speaks the Basic and Bearer (token) schemes of the OCI "
                "distribution API",
            )
        masking.register(header.split(" ", 1)[1])
        self._headers[(registry, scope)] = header
        return header

    def refused(self, registry: str, repository: str, status: int) -> RegistryError:
        """The error for a 401/403 that authenticating did not cure."""
        lookup = self.lookup(registry)
        creds = lookup.credentials
        denied = f"{status} {'Forbidden' if status == 403 else 'Unauthorized'}"
        if creds is None:
            message = (
                f"registry {registry} refused access to {repository} ({denied}): credentials "
                f"are missing; promoter found none (looked in {lookup.searched})"
            )
        else:
            who = f" for user {creds.username!r}" if creds.username else ""
            message = (
                f"registry {registry} refused access to {repository} ({denied}): the credentials"
                f"{who} from {creds.source} are wrong, expired, or lack pull access "
                f"(looked in {lookup.searched})"
            )
        return RegistryError(
            masking.mask(message),
            hint=f"run `docker login {registry}` or set PROMOTER_REGISTRY_USERNAME and "
            "PROMOTER_REGISTRY_PASSWORD; some registries (Docker Hub) also answer this way "
            "for a repository that does not exist",
        )

    def _token(
        self,
        registry: str,
        scope: str,
        repository: str,
        challenge: Challenge,
        creds: Credentials | None,
    ) -> str:
        realm = challenge.params.get("realm")
        if not realm or not realm.startswith(("https://", "http://")):
            raise RegistryError(
                f"registry {registry} sent a Bearer challenge without a usable realm: {realm!r}"
            )
        service = challenge.params.get("service")
        # The server knows best which scope it wants; ours is the fallback.
        wanted = challenge.params.get("scope") or scope
        response = self._request_token(registry, realm, service, wanted, creds)
        if response.status_code in (401, 403):
            raise self.refused(registry, repository, response.status_code)
        if response.status_code != 200:
            raise RegistryError(
                f"token endpoint {realm} of registry {registry} answered "
                f"{response.status_code} {response.reason}",
                hint="the registry's authentication service may be down; re-run later",
            )
        return _token_from(response, registry, realm)

    def _request_token(
        self,
        registry: str,
        realm: str,
        service: str | None,
        scope: str,
        creds: Credentials | None,
    ) -> requests.Response:
        what = f"token endpoint of registry {registry}"
        if creds is not None and creds.identity_token:
            # What the docker CLI does with an identity token: OAuth2 refresh.
            form = {
                "grant_type": "refresh_token",
                "refresh_token": creds.identity_token,
                "client_id": "promoter",
                "scope": scope,
                **({"service": service} if service else {}),
            }
            return self._transport.send("POST", realm, what=what, data=form)
        params = {"scope": scope, **({"service": service} if service else {})}
        auth = creds.basic if creds is not None else None
        return self._transport.send("GET", realm, what=what, params=params, auth=auth)


def _basic(username: str, password: str) -> str:
    return base64.b64encode(f"{username}:{password}".encode()).decode("ascii")


def _token_from(response: requests.Response, registry: str, realm: str) -> str:
    try:
        body = response.json()
    except ValueError:
        body = None
    token = None
    if isinstance(body, dict):
        # Docker Hub sends both; OAuth2-style servers only access_token.
        token = body.get("token") or body.get("access_token")
    if not isinstance(token, str) or not token:
        raise RegistryError(f"token endpoint {realm} of registry {registry} sent no token")
    masking.register(token)
    return token
