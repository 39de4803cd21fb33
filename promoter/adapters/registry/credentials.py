"""Registry credentials, found the way Docker finds them.

In order:

1. `PROMOTER_REGISTRY_USERNAME` + `PROMOTER_REGISTRY_PASSWORD` (both, or
   neither): an explicit override for CI jobs, used for every registry.
2. Docker's config file: `$DOCKER_CONFIG/config.json` when `DOCKER_CONFIG`
   is set (and then only that, as the docker CLI does), else
   `~/.docker/config.json` or the legacy `~/.dockercfg`. It is read with the
   `docker` package's own helpers, so `credHelpers` / `credsStore`
   (`docker-credential-<name>` executables on PATH, asked with `get`) win
   over the base64 `auths` entries, exactly as in `docker pull`.

Every password and identity token found is registered with
`promoter.core.masking`, so no error or log line can show it.
"""

from __future__ import annotations

import json
import os
import warnings
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from promoter.core import masking
from promoter.errors import RegistryError

USERNAME_ENV = "PROMOTER_REGISTRY_USERNAME"
PASSWORD_ENV = "PROMOTER_REGISTRY_PASSWORD"
_ENV_PAIR = f"{USERNAME_ENV}/{PASSWORD_ENV}"


@dataclass(frozen=True)
class Credentials:
    """What to authenticate with, and where it came from (for messages)."""

    username: str | None = None
    password: str | None = field(default=None, repr=False)
    identity_token: str | None = field(default=None, repr=False)
    """An OAuth2 refresh token (`docker login` to e.g. ACR stores one)."""
    source: str = ""

    def __post_init__(self) -> None:
        masking.register(self.password)
        masking.register(self.identity_token)

    @property
    def basic(self) -> tuple[str, str] | None:
        if self.username and self.password is not None:
            return self.username, self.password
        return None


@dataclass(frozen=True)
class Lookup:
    """The credentials found for one registry (or None) and where we looked."""

    credentials: Credentials | None
    searched: str
    """e.g. "PROMOTER_REGISTRY_USERNAME/PROMOTER_REGISTRY_PASSWORD (not set),
    /root/.docker/config.json (credential helper docker-credential-ecr-login)"."""


def find_credentials(registry: str, environ: Mapping[str, str]) -> Lookup:
    """Credentials for `registry` (host[:port], "docker.io" for Docker Hub)."""
    override = _from_environment(environ)
    if override is not None:
        return Lookup(override, f"{_ENV_PAIR} (used)")
    searched = [f"{_ENV_PAIR} (not set)"]
    path = docker_config_path(environ)
    if path is None:
        searched.append(f"no Docker config at {_default_config(environ)}")
        return Lookup(None, ", ".join(searched))
    _check_json(path)
    # The docker package (with its API client) loads only when a config exists.
    import docker.auth  # type: ignore[import-untyped]

    config = docker.auth.load_config(config_path=str(path))
    helper = config.get_credential_store(registry)
    searched.append(str(path) if helper is None else f"{path} ({_helper_text(helper)})")
    entry = _resolve(config, registry, helper, path)
    return Lookup(_to_credentials(entry, helper, path), ", ".join(searched))


def docker_config_path(environ: Mapping[str, str]) -> Path | None:
    """The Docker config file in force, or None when there is none."""
    if environ.get("DOCKER_CONFIG"):
        path = Path(environ["DOCKER_CONFIG"]) / "config.json"
        return path if path.is_file() else None
    home = _home(environ)
    for candidate in (home / ".docker" / "config.json", home / ".dockercfg"):
        if candidate.is_file():
            return candidate
    return None


def _default_config(environ: Mapping[str, str]) -> Path:
    if environ.get("DOCKER_CONFIG"):
        return Path(environ["DOCKER_CONFIG"]) / "config.json"
    return _home(environ) / ".docker" / "config.json"


def _home(environ: Mapping[str, str]) -> Path:
    return Path(environ.get("HOME") or os.path.expanduser("~"))


def _from_environment(environ: Mapping[str, str]) -> Credentials | None:
    username = environ.get(USERNAME_ENV) or None
    password = environ.get(PASSWORD_ENV) or None
    masking.register(password)
    if username is None and password is None:
        return None
    if username is None or password is None:
        missing = USERNAME_ENV if username is None else PASSWORD_ENV
        raise RegistryError(
            f"{_ENV_PAIR}: {missing} is not set",
            hint="set both (a token goes in the password), or neither to use the Docker config",
        )
    return Credentials(username, password, source=_ENV_PAIR)


def _check_json(path: Path) -> None:
    # docker.auth silently treats an unreadable config as empty; a CI job
    # would then fail later with a puzzling "no credentials".
    try:
        json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ValueError) as err:
        raise RegistryError(
            f"cannot read Docker config {path}: {err}",
            hint="fix or remove the file, or point DOCKER_CONFIG at another directory",
        ) from err


def _resolve(config: Any, registry: str, helper: str | None, path: Path) -> dict[str, Any] | None:
    import docker.auth
    import docker.errors  # type: ignore[import-untyped]

    try:
        with warnings.catch_warnings():
            # docker warns (besides failing) when a helper is not on PATH;
            # the failure is reported below, with what to do about it.
            warnings.simplefilter("ignore")
            entry = docker.auth.resolve_authconfig(config, registry)
    except docker.errors.DockerException as err:
        raise RegistryError(
            masking.mask(f"{_helper_text(helper)} failed for {registry}: {err}"),
            hint=f"install docker-credential-{helper} on PATH, or remove it from "
            f"credHelpers/credsStore in {path}",
        ) from err
    return entry if isinstance(entry, dict) else None


def _to_credentials(
    entry: dict[str, Any] | None, helper: str | None, path: Path
) -> Credentials | None:
    if not entry:
        return None
    # Entries from `auths` use lowercase keys, helper answers capitalised ones.
    lowered = {str(k).lower(): v for k, v in entry.items()}
    from_helper = helper is not None and "ServerAddress" in entry
    source = _helper_text(helper) if from_helper else f"{path} auths"
    username, password = lowered.get("username"), lowered.get("password")
    token = lowered.get("identitytoken")
    if not (username and password is not None) and not token:
        return None
    return Credentials(username or None, password, token or None, source=source)


def _helper_text(helper: str | None) -> str:
    return f"credential helper docker-credential-{helper}"
