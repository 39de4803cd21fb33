"""Render an environment to Kubernetes objects, the way the cluster will see
them: real kustomize for a kustomization, the Helm engine for a chart, the
Jsonnet bindings for a Jsonnet program, plain YAML documents otherwise.
Shared by the agent, `promoter render`, `promoter diff` and the PR comment's
diff, so all of them show the same objects.

How a service renders: its `render:` in promoter.yaml (helm or jsonnet);
else a path that is a chart directory (Chart.yaml) renders as that chart
with its own values; else kustomize or plain YAML by what the path holds.

Helm and Jsonnet renders are cached in the process by a hash of their inputs
(every file of the chart or the Jsonnet directories, the values, the
options), so an agent round over an unchanged environment renders nothing
again.
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections import OrderedDict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from promoter.adapters.render import kustomize
from promoter.adapters.render.helm import merged_values, render_chart
from promoter.adapters.render.jsonnet import render_jsonnet
from promoter.core.config.loader import load_config
from promoter.core.config.model import Config, HelmRender, JsonnetRender, Service
from promoter.core.config.templates import expand_path
from promoter.core.objects import Obj, RenderError, objects_from_yaml
from promoter.errors import InputError

log = logging.getLogger("promoter.applier")
CACHE_SIZE = 64
_cache: OrderedDict[str, list[Obj]] = OrderedDict()


def render(directory: Path) -> list[Obj]:
    """The objects `directory` (or a single manifest file) produces."""
    if kustomize.is_kustomization_dir(directory):
        return kustomize.build(directory)
    if directory.is_dir() and (directory / "Chart.yaml").is_file():
        return _cached(
            ("helm", str(directory)),
            [directory],
            lambda: render_chart(directory, {}, directory.name, None, str(directory)),
        )
    files = sorted(directory.glob("*.y*ml")) if directory.is_dir() else [directory]
    out: list[Obj] = []
    for path in files:
        out += objects_from_yaml(path.read_text(encoding="utf-8"), str(path))
    return out


def _inside(root: Path, rel: str) -> Path:
    path = (root / rel.strip("/")).resolve()
    if not path.is_relative_to(root.resolve()):
        raise InputError(f"path {rel!r} is outside the repository")
    return path


def _digest(parts: Iterable[object], inputs: Iterable[Path]) -> str:
    """Content hash of the options and of every file under `inputs`."""
    h = hashlib.sha256(json.dumps(list(parts), sort_keys=True, default=str).encode())
    for top in inputs:
        files = (
            sorted(p for p in top.rglob("*") if p.is_file() and ".git" not in p.parts)
            if top.is_dir()
            else [top]
        )
        for path in files:
            h.update(str(path).encode() + b"\0")
            h.update(path.read_bytes() if path.is_file() else b"(missing)")
    return h.hexdigest()


def _cached(
    parts: Iterable[object], inputs: list[Path], make: Callable[[], list[Obj]]
) -> list[Obj]:
    key = _digest(parts, inputs)
    if key in _cache:
        _cache.move_to_end(key)
        return list(_cache[key])
    objects = make()
    _cache[key] = objects
    while len(_cache) > CACHE_SIZE:
        _cache.popitem(last=False)
    return list(objects)


def render_service(root: Path, config: Config, env: str, service: Service) -> list[Obj]:
    """What `service` renders to in `env` ([] when its path does not exist
    there and it has no render spec: a service need not run everywhere)."""
    rel = config.path_for(service, env)
    spec = service.render
    if isinstance(spec, HelmRender):
        return _helm(root, spec, env, service, rel)
    if isinstance(spec, JsonnetRender):
        return _jsonnet(root, spec, env, service)
    path = _inside(root, rel)
    return render(path) if path.exists() else []


def _helm(root: Path, spec: HelmRender, env: str, service: Service, rel: str) -> list[Obj]:
    def fill(text: str) -> str:
        return expand_path(text, service.name, env)

    chart_rel = fill(spec.chart)
    chart = _inside(root, chart_rel)
    values = [_inside(root, fill(v)) for v in spec.values] if spec.values is not None else []
    if spec.values is None:
        values = [_inside(root, rel)]
    release = fill(spec.release) if spec.release else service.name
    namespace = fill(spec.namespace) if spec.namespace else None
    inline = dict(spec.set)
    return _cached(
        ("helm", chart_rel, release, namespace, inline),
        [chart, *values],
        lambda: render_chart(
            chart, merged_values(values, inline, root), release, namespace, chart_rel
        ),
    )


def _jsonnet(root: Path, spec: JsonnetRender, env: str, service: Service) -> list[Obj]:
    def fill(text: str) -> str:
        return expand_path(text, service.name, env)

    main_rel = fill(spec.main)
    main = _inside(root, main_rel)
    libs = [_inside(root, fill(p)) for p in spec.libs]
    ext_vars = {k: fill(v) for k, v in spec.ext_vars.items()}
    tlas = {k: fill(v) for k, v in spec.tlas.items()}
    return _cached(
        ("jsonnet", main_rel, ext_vars, tlas),
        [main.parent, *libs],
        lambda: render_jsonnet(main, libs, ext_vars, tlas, main_rel),
    )


@dataclass
class Rendering:
    """What an environment renders to, and what in it could not be applied."""

    objects: list[Obj]
    not_applied: list[tuple[str, str]]
    """(path, why) for each path that holds no Kubernetes object."""


NOT_OBJECTS = (
    "no Kubernetes object in it (YAML without apiVersion and kind, such as Helm values "
    "without `render: {helm: …}` in promoter.yaml, is not applied)"
)


def render_environment(root: Path, env: str, override: Sequence[str] = ()) -> Rendering:
    """Render `env`: the `override` paths if given, else every service of the
    environment (each path once). A path that does not exist is left out;
    one that renders to no Kubernetes object is counted as not applied,
    never silently dropped. A render error raises RenderError: nothing is
    half-rendered."""
    rendering = Rendering([], [])
    if override:
        for rel in dict.fromkeys(override):
            path = _inside(root, rel)
            if not path.exists():
                log.info("%s: %s does not exist; skipped", env, rel)
                continue
            _add(rendering, env, rel, render(path))
        return rendering
    config = load_config(root)
    environment = config.environment(env)
    seen: set[object] = set()
    for service in config.services:
        rel = config.path_for(service, environment)
        key = (rel, service.render) if service.render else rel
        if key in seen:
            continue
        seen.add(key)
        if service.render is None and not _inside(root, rel).exists():
            log.info("%s: %s does not exist; skipped", env, rel)
            continue
        _add(rendering, env, rel, render_service(root, config, env, service))
    return rendering


def _add(rendering: Rendering, env: str, rel: str, objects: list[Obj]) -> None:
    if not objects:
        rendering.not_applied.append((rel, NOT_OBJECTS))
        log.warning("%s: not applied: %s: %s", env, rel, NOT_OBJECTS)
    rendering.objects += objects


__all__ = ["RenderError", "Rendering", "render", "render_environment", "render_service"]
