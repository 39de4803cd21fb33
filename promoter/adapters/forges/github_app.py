"""GitHub App authentication, built in: the App's id and private key mint a
short-lived installation token — for the API and for git over HTTPS (as
`x-access-token`) — so no personal token is needed.

    PROMOTER_GITHUB_APP_ID               the App's id
    PROMOTER_GITHUB_APP_PRIVATE_KEY      its private key (PEM text), or
    PROMOTER_GITHUB_APP_PRIVATE_KEY_FILE a file holding it
    PROMOTER_GITHUB_APP_INSTALLATION_ID  optional: else looked up for the repository

PyGithub signs the JWT (RS256, `iss` = the App id, valid 5 minutes) and
makes the two calls (`GET /repos/{owner}/{repo}/installation`, `POST
/app/installations/{id}/access_tokens`). Tokens are kept per App,
installation and API and minted again when less than `REFRESH_MARGIN` of
their hour is left: a process that runs for days (serve, the agent, the
dashboard) asks `installation_token` before each request and never sends an
expired one. The key and every token are registered as secrets.
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

from promoter import USER_AGENT
from promoter.core import masking
from promoter.errors import ForgeError, InputError

if TYPE_CHECKING:
    from promoter.adapters.git import GitRepo

APP_ID = "PROMOTER_GITHUB_APP_ID"
PRIVATE_KEY = "PROMOTER_GITHUB_APP_PRIVATE_KEY"
PRIVATE_KEY_FILE = "PROMOTER_GITHUB_APP_PRIVATE_KEY_FILE"
INSTALLATION_ID = "PROMOTER_GITHUB_APP_INSTALLATION_ID"
REFRESH_MARGIN = 300.0
"""Seconds before expiry at which a cached installation token is replaced."""
_HINT = (
    f"set {APP_ID} and {PRIVATE_KEY} (the PEM text) or {PRIVATE_KEY_FILE}; "
    f"{INSTALLATION_ID} is optional"
)

# Module-level so tests can move time: monkeypatch.setattr(github_app, "now", …).
now: Callable[[], float] = time.time


@dataclass(frozen=True)
class AppCredentials:
    app_id: str
    private_key: str
    installation_id: int | None = None


def app_credentials(environ: Mapping[str, str]) -> AppCredentials | None:
    """The App's credentials from the environment; None when none are set;
    InputError for a half-given or unreadable set."""
    app_id = (environ.get(APP_ID) or "").strip()
    key = environ.get(PRIVATE_KEY) or ""
    key_file = (environ.get(PRIVATE_KEY_FILE) or "").strip()
    if not (app_id or key.strip() or key_file):
        return None
    if key.strip() and key_file:
        raise InputError(f"set {PRIVATE_KEY} or {PRIVATE_KEY_FILE}, not both", hint=_HINT)
    if key_file:
        try:
            key = Path(key_file).read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as err:
            raise InputError(f"{PRIVATE_KEY_FILE}: cannot read {key_file}: {err}") from err
    _register_key(key)
    if not app_id:
        raise InputError(f"a GitHub App private key is set but {APP_ID} is not", hint=_HINT)
    if not app_id.isdigit():
        raise InputError(f"{APP_ID} must be the App's numeric id, got {app_id!r}", hint=_HINT)
    if not key.strip():
        raise InputError(f"{APP_ID} is set but the App's private key is not", hint=_HINT)
    if "PRIVATE KEY-----" not in key:
        raise InputError(
            "the GitHub App private key is not PEM text (-----BEGIN RSA PRIVATE KEY-----)",
            hint="download the .pem from the App's settings and pass its content or path",
        )
    installation = (environ.get(INSTALLATION_ID) or "").strip()
    if installation and not installation.isdigit():
        raise InputError(f"{INSTALLATION_ID} must be a number, got {installation!r}", hint=_HINT)
    return AppCredentials(app_id, key, int(installation) if installation else None)


def _register_key(key: str) -> None:
    masking.register(key)
    for line in key.splitlines():
        if len(line) >= 16 and "-----" not in line:
            masking.register(line.strip())


_lock = threading.Lock()
_tokens: dict[tuple[str, str, str], tuple[str, float]] = {}
mints = 0
"""Installation tokens minted by this process (tests and logs count them)."""


def installation_token(app: AppCredentials, api_url: str, repository: str) -> str:
    """A valid installation token for `repository`, minted when the cached
    one is missing or nearly expired. ForgeError when GitHub refuses."""
    global mints
    key = (app.app_id, api_url.rstrip("/"), str(app.installation_id or repository.lower()))
    with _lock:
        cached = _tokens.get(key)
        if cached is not None and cached[1] - now() > REFRESH_MARGIN:
            return cached[0]
        token, expires = _mint(app, api_url.rstrip("/"), repository)
        masking.register(token)
        _tokens[key] = (token, expires)
        mints += 1
        return token


def forget() -> None:
    """Tests: no cached tokens."""
    global mints
    with _lock:
        _tokens.clear()
        mints = 0


def _mint(app: AppCredentials, api_url: str, repository: str) -> tuple[str, float]:
    from github import Auth, GithubException, GithubIntegration

    integration = GithubIntegration(
        auth=Auth.AppAuth(app.app_id, app.private_key),
        base_url=api_url,
        user_agent=USER_AGENT,
        retry=0,  # a refused mint is reported, not hammered
        seconds_between_requests=None,
        seconds_between_writes=None,
    )
    doing = f"GitHub App {app.app_id}: minting an installation token for {repository}"
    try:
        installation = app.installation_id
        if installation is None:
            owner, _, name = repository.partition("/")
            installation = integration.get_repo_installation(owner, name).id
        granted = integration.get_access_token(installation)
    except GithubException as err:
        why = err.data.get("message") if isinstance(err.data, dict) else None
        raise ForgeError(
            masking.mask(f"{doing} failed: {err.status} {why or 'refused'}"),
            hint="install the App on the repository, check its id and key "
            f"(and {INSTALLATION_ID}), and that the key is not revoked",
        ) from None
    finally:
        integration.close()
    expires = granted.expires_at
    return granted.token, expires.timestamp() if isinstance(expires, datetime) else now() + 3600


def keep_fresh(repo: GitRepo, url: str, environ: Mapping[str, str] | None) -> None:
    """With a GitHub App, `repo` works out git's auth afresh for each command
    (the installation token expires within the hour); without one, the
    auth of its clone stays, and nothing is recomputed per command."""
    from promoter.adapters.git import auth_environment

    given = dict(os.environ if environ is None else environ)
    if app_credentials(given) is not None:
        repo.env_source = lambda: auth_environment(url, given)


def token_source(
    environ: Mapping[str, str], api_url: str, repository: str
) -> Callable[[], str] | None:
    """A function giving the App's current installation token for the
    repository, or None when no App is configured (use a plain token)."""
    app = app_credentials(environ)
    if app is None:
        return None
    return lambda: installation_token(app, api_url, repository)
