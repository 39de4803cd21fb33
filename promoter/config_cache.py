"""A cache of validated configurations, keyed by the file's bytes.

A monorepo's promoter.yaml grows with its services (10,000 services is a
1.3 MB file and 0.6 s to parse and validate), while a `set-image` needs one
service: with the cache, repeated commands on an unchanged file cost a hash
and a JSON load. JSON, not pickle: a cache file must never be able to run
code. Small files are not cached (parsing them is cheaper than the I/O).
Set PROMOTER_NO_CACHE=1 to switch it off; PROMOTER_CACHE_DIR moves it.
"""

from __future__ import annotations

import contextlib
import dataclasses
import hashlib
import json
import os
import tempfile
from pathlib import Path
from types import MappingProxyType
from typing import Any

from promoter import __version__
from promoter.config import Config, Environment, ForgeSettings, HelmKeys, Service

MIN_CACHED_BYTES = 64 * 1024


def cache_dir() -> Path | None:
    if os.environ.get("PROMOTER_NO_CACHE"):
        return None
    explicit = os.environ.get("PROMOTER_CACHE_DIR")
    if explicit:
        return Path(explicit)
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "promoter"


def _key(data: bytes, shown: str) -> str:
    h = hashlib.sha256(data)
    h.update(f"\0{shown}\0{__version__}".encode())
    return h.hexdigest()


def load(data: bytes, shown: str) -> Config | None:
    directory = cache_dir()
    if directory is None or len(data) < MIN_CACHED_BYTES:
        return None
    try:
        raw = (directory / f"config-{_key(data, shown)}.json").read_text(encoding="utf-8")
        return _from_json(json.loads(raw))
    except (OSError, ValueError, KeyError, TypeError):
        return None  # absent, or from another version: parse again


def store(data: bytes, shown: str, config: Config) -> None:
    directory = cache_dir()
    if directory is None or len(data) < MIN_CACHED_BYTES:
        return
    # A cache that cannot be written only costs speed.
    with contextlib.suppress(OSError):
        directory.mkdir(parents=True, exist_ok=True, mode=0o700)
        text = json.dumps(_to_json(config))
        fd, tmp = tempfile.mkstemp(dir=directory, prefix=".config-")
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as f:
                f.write(text)
            os.replace(tmp, directory / f"config-{_key(data, shown)}.json")
        finally:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(tmp)


def _fields(obj: Any) -> dict[str, Any]:
    return {f.name: getattr(obj, f.name) for f in dataclasses.fields(obj)}


def _to_json(config: Config) -> dict[str, Any]:
    return {
        **_fields(config),
        "environments": [_fields(e) for e in config.environments],
        "services": [
            {
                **_fields(s),
                "paths": dict(s.paths),
                "keys": _fields(s.keys) if s.keys else None,
            }
            for s in config.services
        ],
        "forge": _fields(config.forge) if config.forge else None,
    }


def _from_json(data: dict[str, Any]) -> Config:
    environments = tuple(
        Environment(**{**e, **{k: tuple(v) for k, v in e.items() if isinstance(v, list)}})
        for e in data.pop("environments")
    )
    services = tuple(
        Service(
            **{
                **s,
                "paths": MappingProxyType(dict(s["paths"])),
                "keys": HelmKeys(**s["keys"]) if s["keys"] else None,
            }
        )
        for s in data.pop("services")
    )
    forge = data.pop("forge")
    return Config(
        **data,
        environments=environments,
        services=services,
        forge=ForgeSettings(**forge) if forge else None,
    )
