"""Render an environment to Kubernetes objects, the way the cluster will see
them: real kustomize for a kustomization, the Helm engine for a chart, the
Jsonnet bindings for a Jsonnet program, plain YAML documents otherwise.
Shared by the agent, `promoter render`, `promoter diff` and the PR comment's
diff, so all of them show the same objects.

How a service renders in an environment: its `render:` in promoter.yaml,
else the environment's (or `defaults.render`), else by what its path holds:
a kustomization through kustomize, a chart directory (Chart.yaml) as that
chart with its own values, otherwise plain YAML.

Helm and Jsonnet renders are cached in the process by the git tree hash of
their inputs (the chart, the values files, the Jsonnet directories) and
their options; the agent's clone is also cached whole by commit. An agent
round over an unchanged environment renders nothing again.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
from collections import OrderedDict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path

from promoter.adapters.render import kustomize
from promoter.adapters.render.helm import merged_values, render_chart
from promoter.adapters.render.jsonnet import render_jsonnet
from promoter.adapters.render.sops import decrypt_all
from promoter.adapters.render.sops_files import generator_inputs_decrypted
from promoter.adapters.render.treehash import git_object_id
from promoter.core.config.loader import load_config
from promoter.core.config.model import (
    Config,
    DirectoryRender,
    HelmRender,
    JsonnetRender,
    Service,
)
from promoter.core.config.templates import expand_path
from promoter.core.edit.kustomize import KUSTOMIZATION_FILES
from promoter.core.objects import Obj, RenderError, objects_from_yaml
from promoter.core.repo_files import inside, read_repository_file
from promoter.errors import InputError


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


log = logging.getLogger("promoter.applier")
CACHE_SIZE = 64
ENV_CACHE_SIZE = 8
_cache: OrderedDict[str, list[Obj]] = OrderedDict()
_env_cache: OrderedDict[tuple[object, ...], Rendering] = OrderedDict()
Identity = tuple[object, ...]
"""What a render is of, with {service}/{env} filled in: two services whose
identities are equal render the same objects, once."""


def render(directory: Path, root: Path | None = None) -> list[Obj]:
    """The objects `directory` (or a single manifest file) produces, by what
    it holds: a kustomization, a chart directory, else plain YAML; SOPS-
    encrypted documents decrypted."""
    if kustomize.is_kustomization_dir(directory):
        top = root if root is not None else directory
        with generator_inputs_decrypted(directory, top) as build_dir:
            return decrypt_all(kustomize.build(build_dir))
    if directory.is_dir() and (directory / "Chart.yaml").is_file():
        shown = _shown(directory, root)
        return decrypt_all(
            _cached(
                ("helm", shown),
                [(shown, directory)],
                lambda: render_chart(directory, {}, directory.name, None, shown),
                root,
            )
        )
    return decrypt_all(_plain(directory, root))


def _plain(path: Path, root: Path | None = None) -> list[Obj]:
    files = sorted(path.glob("*.y*ml")) if path.is_dir() else [path]
    out: list[Obj] = []
    for file in files:
        if file.name in KUSTOMIZATION_FILES:
            continue  # kustomize's own file is not an object for the cluster
        base = root if root is not None else (path if path.is_dir() else path.parent)
        data = read_repository_file(str(file), str(base))
        text = data.decode("utf-8", errors="replace")
        out += objects_from_yaml(text, str(file), _shown(file, root))
    return out


def _no_escaping_links(top: Path, root: Path) -> None:
    """Refuse an input (a chart, a Jsonnet folder) holding a symbolic link
    that leaves the repository: the engine would read the target."""
    walk = os.walk(top) if top.is_dir() else [(str(top.parent), [], [top.name])]
    for folder, dirs, files in walk:
        for name in [*dirs, *files]:
            full = os.path.join(folder, name)
            if os.path.islink(full) and not inside(full, str(root)):
                shown = os.path.relpath(full, os.path.realpath(root))
                raise InputError(
                    f"{shown} is a symbolic link to a file outside the repository; not rendered",
                    hint="replace the link with the file itself",
                )


def _shown(path: Path, root: Path | None) -> str:
    if root is not None and path.is_relative_to(root.resolve()):
        return path.relative_to(root.resolve()).as_posix()
    return str(path)


def _inside(root: Path, rel: str) -> Path:
    path = (root / rel.strip("/")).resolve()
    if not path.is_relative_to(root.resolve()):
        raise InputError(f"path {rel!r} is outside the repository")
    return path


def _cached(
    identity: Identity,
    inputs: list[tuple[str, Path]],
    make: Callable[[], list[Obj]],
    root: Path | None = None,
) -> list[Obj]:
    """`make()`, remembered under the identity and the git tree hash of
    every input: an unchanged chart is rendered once per process."""
    for _, path in inputs:
        if root is not None and path.exists():
            _no_escaping_links(path, root)
    trees = [(shown, git_object_id(path)) for shown, path in inputs]
    key = hashlib.sha256(json.dumps([identity, trees], default=str).encode()).hexdigest()
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
    there and nothing else names its inputs: a service need not run
    everywhere)."""
    return decrypt_all(_planned(root, config, env, service)[1]())


def _planned(
    root: Path, config: Config, env: str, service: Service
) -> tuple[Identity, Callable[[], list[Obj]]]:
    rel = config.path_for(service, env)
    spec = config.render_for(service, env)
    if isinstance(spec, HelmRender):
        return _helm(root, spec, env, service, rel)
    if isinstance(spec, JsonnetRender):
        return _jsonnet(root, spec, env, service)
    kind = spec.kind if isinstance(spec, DirectoryRender) else None
    path = _inside(root, rel)

    def make() -> list[Obj]:
        if not path.exists():
            return []
        if kind == "plain":
            return _plain(path, root)
        if kind == "kustomize" and not kustomize.is_kustomization_dir(path):
            raise RenderError(
                f"{rel} has no kustomization.yaml, but promoter.yaml says `render: kustomize`",
                hint="add the kustomization, or change `render` in promoter.yaml",
            )
        return render(path, root)

    return ("path", rel, kind), make


def _helm(
    root: Path, spec: HelmRender, env: str, service: Service, rel: str
) -> tuple[Identity, Callable[[], list[Obj]]]:
    def fill(text: str) -> str:
        return expand_path(text, service.name, env)

    chart_rel = fill(spec.chart)
    chart = _inside(root, chart_rel)
    values_rel = [fill(v) for v in spec.values] if spec.values is not None else [rel]
    values = [_inside(root, v) for v in values_rel]
    release = fill(spec.release) if spec.release else service.name
    namespace = fill(spec.namespace) if spec.namespace else None
    inline = dict(spec.set)
    identity = ("helm", chart_rel, tuple(values_rel), release, namespace, json.dumps(inline))
    return identity, lambda: _cached(
        identity,
        [(chart_rel, chart), *zip(values_rel, values, strict=True)],
        lambda: render_chart(
            chart, merged_values(values, inline, root), release, namespace, chart_rel
        ),
        root,
    )


def _jsonnet(
    root: Path, spec: JsonnetRender, env: str, service: Service
) -> tuple[Identity, Callable[[], list[Obj]]]:
    def fill(text: str) -> str:
        return expand_path(text, service.name, env)

    main_rel = fill(spec.main)
    main = _inside(root, main_rel)
    libs_rel = [fill(p) for p in spec.libs]
    libs = [_inside(root, p) for p in libs_rel]
    ext_vars = {k: fill(v) for k, v in spec.ext_vars.items()}
    tlas = {k: fill(v) for k, v in spec.tlas.items()}
    identity = ("jsonnet", main_rel, tuple(libs_rel), json.dumps([ext_vars, tlas]))
    inputs = [(_shown(main.parent, root), main.parent), *zip(libs_rel, libs, strict=True)]
    return identity, lambda: _cached(
        identity, inputs, lambda: render_jsonnet(main, libs, ext_vars, tlas, main_rel, root), root
    )


def render_environment(
    root: Path, env: str, override: Sequence[str] = (), *, commit: str | None = None
) -> Rendering:
    """Render `env`: the `override` paths if given, else every service of the
    environment (what renders the same, once). A path that does not exist is
    left out; one that renders to no Kubernetes object is counted as not
    applied, never silently dropped. A render error raises RenderError:
    nothing is half-rendered.

    `commit`: the commit `root` is an untouched checkout of (the agent's
    clone). The whole rendering is then remembered by it, so a round over a
    revision already rendered runs no renderer at all — kustomize included.
    """
    key = (str(root), env, tuple(override), commit)
    if commit is not None and key in _env_cache:
        _env_cache.move_to_end(key)
        done = _env_cache[key]
        return Rendering(list(done.objects), list(done.not_applied))
    rendering = _render_environment(root, env, override)
    if commit is not None:
        _env_cache[key] = Rendering(list(rendering.objects), list(rendering.not_applied))
        while len(_env_cache) > ENV_CACHE_SIZE:
            _env_cache.popitem(last=False)
    return rendering


def _render_environment(root: Path, env: str, override: Sequence[str]) -> Rendering:
    rendering = Rendering([], [])
    if override:
        for rel in dict.fromkeys(override):
            path = _inside(root, rel)
            if not path.exists():
                log.info("%s: %s does not exist; skipped", env, rel)
                continue
            _add(rendering, env, rel, render(path, root))
        return rendering
    config = load_config(root)
    environment = config.environment(env)
    seen: set[Identity] = set()
    for service in config.services:
        identity, make = _planned(root, config, env, service)
        if identity in seen:
            continue
        seen.add(identity)
        rel = config.path_for(service, environment)
        if identity[0] == "path" and not _inside(root, rel).exists():
            log.info("%s: %s does not exist; skipped", env, rel)
            continue
        _add(rendering, env, rel, make())
    return rendering


def _add(rendering: Rendering, env: str, rel: str, objects: list[Obj]) -> None:
    if not objects:
        rendering.not_applied.append((rel, NOT_OBJECTS))
        log.warning("%s: not applied: %s: %s", env, rel, NOT_OBJECTS)
    # Messages about an object name the file to fix: the manifest where the
    # renderer knows it, else the service's path (a kustomization, a chart).
    named = [o if o.source else replace(o, source=rel) for o in objects]
    rendering.objects += decrypt_all(named)  # what render() decrypted already is left as it is


__all__ = ["RenderError", "Rendering", "render", "render_environment", "render_service"]
