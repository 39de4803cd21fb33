"""Files a kustomization's generators read (`secretGenerator` /
`configMapGenerator` `envs`, `env`, `files`), SOPS-encrypted, decrypted
before kustomize reads them — as Flux's kustomize-controller does.

kustomize reads those files itself, so they cannot be decrypted after the
build. When a kustomization (or one it builds on, through local
`resources`/`components`/`bases`) names an encrypted one, the repository
is copied into a private scratch folder (0700, removed afterwards, `.git`
left out), the encrypted files are decrypted there, and kustomize builds
the copy. Without one, nothing is copied.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import yaml

from promoter.adapters.render.sops import decrypt_file
from promoter.adapters.scratch import scratch_dir
from promoter.core.edit.kustomize import KUSTOMIZATION_FILES

_GENERATORS = ("secretGenerator", "configMapGenerator")


@contextmanager
def generator_inputs_decrypted(directory: Path, root: Path) -> Iterator[Path]:
    """The directory kustomize should build: `directory` itself, or its twin
    in a scratch copy of `root` whose encrypted generator files are decrypted."""
    directory, root = directory.resolve(), root.resolve()
    encrypted = [f for f in _generator_files(directory, root, set()) if _is_sops_file(f)]
    if not encrypted:
        yield directory
        return
    with scratch_dir("promoter-sops-build-") as tmp:
        copy = Path(tmp) / "repo"
        shutil.copytree(root, copy, ignore=shutil.ignore_patterns(".git"), symlinks=True)
        for path in encrypted:
            rel = path.relative_to(root)
            target = copy / rel
            target.write_bytes(decrypt_file(path, rel.as_posix()))
            os.chmod(target, 0o600)
        yield copy / directory.relative_to(root)


def _generator_files(directory: Path, root: Path, seen: set[Path]) -> list[Path]:
    """Every local file a generator of this kustomization (and those it
    builds on) reads; paths outside `root` are left to kustomize to refuse."""
    directory = directory.resolve()
    if directory in seen or not directory.is_relative_to(root.resolve()):
        return []
    seen.add(directory)
    doc = _kustomization(directory)
    out: list[Path] = []
    for kind in _GENERATORS:
        for generator in doc.get(kind) or []:
            if not isinstance(generator, dict):
                continue
            names = [*(generator.get("envs") or []), *(generator.get("files") or [])]
            if generator.get("env"):
                names.append(generator["env"])
            for name in names:
                if isinstance(name, str):
                    out.append(directory / name.rpartition("=")[2])  # files: [key=path]
    for key in ("resources", "components", "bases"):
        for entry in doc.get(key) or []:
            if isinstance(entry, str) and "://" not in entry and (directory / entry).is_dir():
                out += _generator_files(directory / entry, root, seen)
    return [p for p in out if p.is_file()]


def _kustomization(directory: Path) -> dict[str, Any]:
    for name in KUSTOMIZATION_FILES:
        path = directory / name
        if path.is_file():
            try:
                doc = yaml.safe_load(path.read_text(encoding="utf-8"))
            except (yaml.YAMLError, UnicodeDecodeError):
                return {}  # kustomize says what is wrong with it
            return doc if isinstance(doc, dict) else {}
    return {}


def _is_sops_file(path: Path) -> bool:
    """SOPS metadata in a dotenv (`sops_mac=`), YAML or JSON file."""
    try:
        text = path.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return False
    if path.suffix in (".env", "") or "sops_mac=" in text:
        return any(line.startswith("sops_mac=") for line in text.splitlines())
    return ("\nsops:" in text or text.startswith("sops:") or '"sops":' in text) and "mac" in text
