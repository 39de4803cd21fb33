"""Render an environment's directory to Kubernetes objects, the way the
cluster will see them: real kustomize for a kustomization, plain YAML
documents otherwise. Shared by the PR comment's diff and the applier.
"""

from __future__ import annotations

from pathlib import Path

from promoter.adapters.render import kustomize
from promoter.core.objects import Obj, objects_from_yaml


def render(directory: Path) -> list[Obj]:
    """The objects `directory` (or a single manifest file) produces."""
    if kustomize.is_kustomization_dir(directory):
        return kustomize.build(directory)
    files = sorted(directory.glob("*.y*ml")) if directory.is_dir() else [directory]
    out: list[Obj] = []
    for path in files:
        out += objects_from_yaml(path.read_text(encoding="utf-8"), str(path))
    return out
