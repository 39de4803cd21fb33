"""Jsonnet through Google's bindings (PyPI `jsonnet`, the extra
`promoter[jsonnet]`), with `jsonnet -J` import paths, external variables and
top-level arguments, as Argo CD's directory source takes them.

The program's value is read the way Argo CD reads it: an array is a list of
objects (nested arrays flattened), an object with apiVersion and kind is one
object (`kind: List` gives its items), and any other object is a tree whose
leaves are the objects (as Tanka lays environments out).
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from promoter.core.objects import Obj, RenderError, objects_from_docs
from promoter.core.repo_files import read_repository_file
from promoter.errors import PromoterError

EXTRA_HINT = "pip install 'promoter[jsonnet]' (Google's jsonnet bindings)"


def _importer(root: Path, libs: list[Path]) -> Callable[[str, str], tuple[str, bytes]]:
    """Jsonnet's import search (the importing file's folder, then the library
    paths, the last one first, as `jsonnet -J`), refusing any file that
    resolves outside the repository: `import '/etc/passwd'` reads nothing."""

    def find(folder: str, rel: str) -> tuple[str, bytes]:
        if os.path.isabs(rel):
            raise RuntimeError(f"import {rel!r}: absolute paths are not allowed")
        for base in [Path(folder), *reversed(libs)]:
            candidate = base / rel
            if candidate.is_file():
                try:
                    return str(candidate), read_repository_file(str(candidate), str(root))
                except PromoterError as err:
                    raise RuntimeError(f"import {rel!r}: {err.message}") from None
        raise RuntimeError(f"import {rel!r}: no such file in {folder} or the library paths")

    return find


def render_jsonnet(
    main: Path,
    libs: list[Path],
    ext_vars: Mapping[str, str],
    tlas: Mapping[str, str],
    shown: str,
    root: Path | None = None,
) -> list[Obj]:
    if not main.is_file():
        raise RenderError(
            f"Jsonnet file {shown} does not exist",
            hint="fix `render.jsonnet.main` in promoter.yaml, or add the file",
        )
    try:
        import _jsonnet
    except ImportError:
        raise RenderError(f"rendering {shown} needs Jsonnet", hint=EXTRA_HINT) from None
    try:
        text = _jsonnet.evaluate_file(
            str(main),
            jpathdir=[str(p) for p in libs],
            ext_vars=dict(ext_vars),
            tla_vars=dict(tlas),
            import_callback=_importer(root or main.parent, libs),
        )
    except RuntimeError as err:
        raise RenderError(
            f"jsonnet could not evaluate {shown}: {str(err).strip()}",
            hint="fix the Jsonnet program (the message is jsonnet's own)",
        ) from err
    return objects_from_docs(_documents(json.loads(text)))


def _documents(value: Any) -> list[Any]:
    if isinstance(value, list):
        return [doc for item in value for doc in _documents(item)]
    if isinstance(value, dict):
        if "apiVersion" in value and "kind" in value:
            if value["kind"] == "List" and isinstance(value.get("items"), list):
                return _documents(value["items"])
            return [value]
        return [doc for key in sorted(value) for doc in _documents(value[key])]
    return []
