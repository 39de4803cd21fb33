"""A cache of validated configurations, keyed by the file's bytes.

A monorepo's promoter.yaml grows with its services (10,000 services is a
1.3 MB file and 0.6 s to parse and validate), while a `set-image` needs one
service. A cache entry is JSON lines: the first holds everything but the
services plus an index (service name -> byte range, image -> names); each
further line is one service. A command that names its service reads the
index and that one line, so its cost hardly grows with the repository.

JSON, not pickle: a cache file must never be able to run code. Small files
are not cached (parsing them is cheaper than the I/O). Set
PROMOTER_NO_CACHE=1 to switch it off; PROMOTER_CACHE_DIR moves it.
"""

from __future__ import annotations

import contextlib
import dataclasses
import hashlib
import json
import os
import tempfile
from collections.abc import Iterable, Mapping
from pathlib import Path
from types import MappingProxyType
from typing import Any

from promoter import __version__
from promoter.core.carry import CarrySpec, FieldSpec
from promoter.core.config.model import (
    AgentSettings,
    ApplierSpec,
    ArgoCDApplier,
    Config,
    DirectoryRender,
    Environment,
    FluxApplier,
    ForgeSettings,
    HelmKeys,
    HelmRender,
    JsonnetRender,
    NotificationTarget,
    RenderSpec,
    Service,
)
from promoter.core.images import normalise_repository
from promoter.core.policy.settings import PolicyConfig

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


def load(
    data: bytes,
    shown: str,
    services: Iterable[str] | None = None,
    images: Iterable[str] | None = None,
) -> Config | None:
    """The cached config, or None. With `services`/`images` (canonical
    repositories), only those services are materialised; None when one of
    them is not in the index, so the caller's full parse reports it."""
    directory = cache_dir()
    if directory is None or len(data) < MIN_CACHED_BYTES:
        return None
    try:
        raw = (directory / f"config-{_key(data, shown)}.jsonl").read_bytes()
        head_end = raw.index(b"\n")
        head = json.loads(raw[:head_end])
        index: dict[str, list[int]] = head.pop("index")
        by_image: dict[str, list[str]] = head.pop("images")
        if services is None and images is None:
            names = list(index)
        else:
            names = list(services or [])
            for image in images or []:
                names += by_image[image]
        wanted = [index[n] for n in dict.fromkeys(names)]
        head["services"] = [json.loads(raw[start:end]) for start, end in wanted]
        return _from_json(head)
    except (OSError, ValueError, KeyError, TypeError):
        return None  # absent, from another version, or a name it lacks: parse again


def store(data: bytes, shown: str, config: Config) -> None:
    directory = cache_dir()
    if directory is None or len(data) < MIN_CACHED_BYTES:
        return
    # A cache that cannot be written only costs speed.
    with contextlib.suppress(OSError):
        directory.mkdir(parents=True, exist_ok=True, mode=0o700)
        text = _lines(config)
        fd, tmp = tempfile.mkstemp(dir=directory, prefix=".config-")
        try:
            with os.fdopen(fd, "wb") as f:
                f.write(text)
            os.replace(tmp, directory / f"config-{_key(data, shown)}.jsonl")
        finally:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(tmp)


def _lines(config: Config) -> bytes:
    data = _to_json(config)
    lines = [json.dumps(service).encode() for service in data.pop("services")]
    names = [s.name for s in config.services]
    images: dict[str, list[str]] = {}
    for service in config.services:
        images.setdefault(normalise_repository(service.image), []).append(service.name)
    # Offsets depend on the head's length, which holds them: fix the width.
    index = {n: [0, 0] for n in names}
    head = {**data, "index": index, "images": images}
    width = len(json.dumps(head).encode()) + 20 * len(names) + 64
    offset = width + 1
    for name, line in zip(names, lines, strict=True):
        index[name] = [offset, offset + len(line)]
        offset += len(line) + 1
    head_bytes = json.dumps(head).encode().ljust(width)
    return b"\n".join([head_bytes, *lines]) + b"\n"


def _fields(obj: Any) -> dict[str, Any]:
    return {f.name: getattr(obj, f.name) for f in dataclasses.fields(obj)}


def _render_json(spec: RenderSpec | None) -> dict[str, Any] | None:
    if spec is None:
        return None
    if isinstance(spec, DirectoryRender):
        return {spec.kind: None}
    fields = {k: dict(v) if isinstance(v, Mapping) else v for k, v in _fields(spec).items()}
    return {"helm" if isinstance(spec, HelmRender) else "jsonnet": fields}


def _render_from(data: dict[str, Any] | None) -> RenderSpec | None:
    if not data:
        return None
    ((kind, fields),) = data.items()
    if fields is None:
        return DirectoryRender(kind)
    tuples = {k: tuple(v) for k, v in fields.items() if isinstance(v, list)}
    if kind == "helm":
        return HelmRender(**{**fields, **tuples})
    return JsonnetRender(**{**fields, **tuples})


def _applier_json(spec: ApplierSpec | None) -> dict[str, Any] | None:
    if spec is None:
        return None
    return {"argocd" if isinstance(spec, ArgoCDApplier) else "flux": _fields(spec)}


def _applier_from(data: dict[str, Any] | None) -> ApplierSpec | None:
    if not data:
        return None
    ((kind, fields),) = data.items()
    fields = {k: tuple(v) if isinstance(v, list) else v for k, v in fields.items()}
    return ArgoCDApplier(**fields) if kind == "argocd" else FluxApplier(**fields)


def _agent_from(data: dict[str, Any] | None) -> AgentSettings | None:
    if not data:
        return None

    def names(key: str) -> tuple[str, ...] | None:
        return None if data.get(key) is None else tuple(data[key])

    return AgentSettings(
        names("namespaces"),
        names("cluster_scoped"),
        data.get("service_account"),
        data.get("decryption_secret"),
    )


def _carry_json(spec: CarrySpec | None) -> dict[str, Any] | None:
    if spec is None:
        return None
    return {"files": list(spec.files), "fields": [[f.file, list(f.paths)] for f in spec.fields]}


def _carry_from(data: dict[str, Any] | None) -> CarrySpec | None:
    if not data:
        return None
    fields = tuple(FieldSpec(file, tuple(paths)) for file, paths in data["fields"])
    return CarrySpec(tuple(data["files"]), fields)


def _to_json(config: Config) -> dict[str, Any]:
    return {
        **_fields(config),
        "environments": [
            {
                **_fields(e),
                "policies": [p.to_json() for p in e.policies],
                "render": _render_json(e.render),
                "applier": _applier_json(e.applier),
                "agent": _fields(e.agent) if e.agent else None,
            }
            for e in config.environments
        ],
        "services": [
            {
                **_fields(s),
                "paths": dict(s.paths),
                "keys": _fields(s.keys) if s.keys else None,
                "render": _render_json(s.render),
                "carry": _carry_json(s.carry),
            }
            for s in config.services
        ],
        "default_carry": _carry_json(config.default_carry),
        "forge": _fields(config.forge) if config.forge else None,
        "notifications": [_fields(n) for n in config.notifications],
    }


def _from_json(data: dict[str, Any]) -> Config:
    environments = tuple(
        Environment(
            **{
                **e,
                **{k: tuple(v) for k, v in e.items() if isinstance(v, list)},
                "policies": tuple(PolicyConfig.from_json(p) for p in e.get("policies", ())),
                "render": _render_from(e.get("render")),
                "applier": _applier_from(e.get("applier")),
                "agent": _agent_from(e.get("agent")),
            }
        )
        for e in data.pop("environments")
    )
    services = tuple(
        Service(
            **{
                **s,
                "paths": MappingProxyType(dict(s["paths"])),
                "keys": HelmKeys(**s["keys"]) if s["keys"] else None,
                "render": _render_from(s.get("render")),
                "carry": _carry_from(s.get("carry")),
            }
        )
        for s in data.pop("services")
    )
    data["default_carry"] = _carry_from(data.get("default_carry"))
    forge = data.pop("forge")
    notifications = tuple(
        NotificationTarget(
            **{**n, "events": tuple(n["events"]), "environments": tuple(n["environments"])}
        )
        for n in data.pop("notifications", ())
    )
    return Config(
        **data,
        notifications=notifications,
        environments=environments,
        services=services,
        forge=ForgeSettings(**forge) if forge else None,
    )
