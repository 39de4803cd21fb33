"""Render an environment's directory to Kubernetes objects, the way the
cluster will see them: real kustomize for a kustomization, plain YAML
documents otherwise. Shared by the PR comment's diff and the applier.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from promoter.adapters.render import kustomize
from promoter.core.config.loader import load_config
from promoter.core.objects import Obj, objects_from_yaml
from promoter.errors import InputError

log = logging.getLogger("promoter.applier")


def render(directory: Path) -> list[Obj]:
    """The objects `directory` (or a single manifest file) produces."""
    if kustomize.is_kustomization_dir(directory):
        return kustomize.build(directory)
    files = sorted(directory.glob("*.y*ml")) if directory.is_dir() else [directory]
    out: list[Obj] = []
    for path in files:
        out += objects_from_yaml(path.read_text(encoding="utf-8"), str(path))
    return out


@dataclass
class Rendering:
    """What an environment renders to, and what in it could not be applied."""

    objects: list[Obj]
    not_applied: list[tuple[str, str]]
    """(path, why) for each path that holds no Kubernetes object."""


def render_environment(root: Path, env: str, override: Sequence[str] = ()) -> Rendering:
    """Render `env`: the `override` paths if given, else every service's path
    for the environment (each once). A path that does not exist is left out
    (a service need not run everywhere); one that renders to no Kubernetes
    object is counted as not applied, never silently dropped."""
    if override:
        relative = list(override)
    else:
        config = load_config(root)
        environment = config.environment(env)
        relative = [config.path_for(svc, environment) for svc in config.services]
    base = root.resolve()
    rendering = Rendering([], [])
    for rel in dict.fromkeys(relative):
        path = (root / rel.strip("/")).resolve()
        if not path.is_relative_to(base):
            raise InputError(f"path {rel!r} is outside the repository")
        if not path.exists():
            log.info("%s: %s does not exist; skipped", env, rel)
            continue
        objects = render(path)
        if not objects:
            why = (
                "no Kubernetes object in it (YAML without apiVersion and kind, such as "
                "Helm values, is not applied)"
            )
            rendering.not_applied.append((rel, why))
            log.warning("%s: not applied: %s: %s", env, rel, why)
        rendering.objects += objects
    return rendering
