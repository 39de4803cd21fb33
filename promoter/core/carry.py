"""What a promotion carries besides the version: whole files copied byte for
byte from the upstream environment, and single values (fields) moved into
the target's file with the rest of it untouched.

A field path is a JSONPath-like walk: `config.cache.size`,
`env[name=CACHE_SIZE].value` (the list item whose `name` is `CACHE_SIZE`),
`containers[0].args[1]` (by position). Only scalars move; a path that
leads to a mapping or a list is refused, so a promotion never rewrites a
block it cannot splice byte-exactly.
"""

from __future__ import annotations

import posixpath
import re
from dataclasses import dataclass, field

from promoter.core.edit.model import Splice, apply_splices
from promoter.core.yamlnodes import (
    MappingNode,
    Node,
    ScalarNode,
    SequenceNode,
    compose_all,
    scalar_span,
)

_STEP = re.compile(
    r"(?P<key>[A-Za-z0-9_$@-][A-Za-z0-9_$@/-]*)"
    r"|\[(?:(?P<index>\d+)|(?P<sel_key>[A-Za-z0-9_.-]+)=(?P<sel_value>[^\]]*))\]"
)
FILE_SUFFIXES = (".yaml", ".yml", ".json", ".jsonnet", ".libsonnet", ".env", ".txt")


@dataclass(frozen=True)
class FieldSpec:
    file: str
    paths: tuple[str, ...]


@dataclass(frozen=True)
class CarrySpec:
    """`promote:` of a service (or `defaults`)."""

    files: tuple[str, ...] = ()
    fields: tuple[FieldSpec, ...] = ()


@dataclass(frozen=True)
class Carried:
    """One file or field a promotion moves: in the target, `old` → `new`."""

    kind: str
    """"file" or "field"."""
    file: str
    """Repository path in the target environment."""
    at: str | None = None
    """A field's path in the file."""
    old: str | None = None
    """A field's value before; for a file, "present"/None (absent)."""
    new: str | None = None
    content: bytes = field(default=b"", repr=False, compare=False)
    """A carried file's bytes (from the source environment)."""

    def text(self) -> str:
        if self.kind == "file":
            return f"{self.file} (copied{'' if self.old else ', new'})"
        return f"{self.file} {self.at}: {self.old} → {self.new}"

    def to_json(self) -> dict[str, str | None]:
        return {"kind": self.kind, "file": self.file, "field": self.at,
                "from": self.old, "to": self.new}  # fmt: skip


def base_dir(service_path: str) -> str:
    """Carried paths are relative to the service's folder: its path, or the
    folder of its file (a values file, a version file)."""
    path = service_path.rstrip("/")
    return posixpath.dirname(path) if path.endswith(FILE_SUFFIXES) else path


def carried_path(service_path: str, relative: str) -> str:
    return posixpath.normpath(posixpath.join(base_dir(service_path), relative))


def relative_problem(text: str) -> str | None:
    """Why `text` is not a path inside the service's folder, or None."""
    norm = posixpath.normpath(text)
    if text.startswith("/") or norm == ".." or norm.startswith("../") or "\\" in text:
        return f"{text!r} must be a path inside the service's folder (no leading '/', no '..')"
    if norm in (".", ""):
        return f"{text!r} names the folder itself; name a file"
    return None


def parse_field(path: str) -> list[tuple[str, str | int, str | None]]:
    """Steps of a field path: ("key", name, None), ("index", n, None) or
    ("select", key, value). ValueError saying where it breaks."""
    steps: list[tuple[str, str | int, str | None]] = []
    at = 0
    while at < len(path):
        if steps and path[at] == ".":
            at += 1
        match = _STEP.match(path, at)
        if match is None or match.end() == at:
            raise ValueError(f"{path!r} breaks at character {at + 1}: {path[at : at + 12]!r}")
        if match["key"] is not None:
            steps.append(("key", match["key"], None))
        elif match["index"] is not None:
            steps.append(("index", int(match["index"]), None))
        else:
            steps.append(("select", match["sel_key"], match["sel_value"]))
        at = match.end()
    if not steps:
        raise ValueError("an empty field path")
    return steps


def field_problem(path: str) -> str | None:
    try:
        parse_field(path)
    except ValueError as err:
        return f"{err} (write a.b, list[key=value].c or list[0])"
    return None


def _child(node: Node | None, step: tuple[str, str | int, str | None]) -> Node | None:
    kind, name, value = step
    if kind == "key" and isinstance(node, MappingNode):
        return next((v for k, v in node.value if isinstance(k, ScalarNode) and k.value == name),
                    None)  # fmt: skip
    if kind == "index" and isinstance(node, SequenceNode):
        assert isinstance(name, int)
        picked: Node | None = node.value[name] if name < len(node.value) else None
        return picked
    if kind == "select" and isinstance(node, SequenceNode):
        for item in node.value:
            match = _child(item, ("key", name, None))
            if isinstance(match, ScalarNode) and str(match.value) == value:
                found: Node = item
                return found
    return None


def locate(text: str, filename: str, path: str) -> Node | None:
    """The node at `path` in the first document that has it."""
    steps = parse_field(path)
    docs: list[Node] = compose_all(text, filename)
    for doc in docs:
        node: Node | None = doc
        for step in steps:
            node = _child(node, step)
        if node is not None:
            return node
    return None


def _scalar(text: str, filename: str, path: str) -> ScalarNode | None:
    node = locate(text, filename, path)
    if node is None:
        return None
    if not isinstance(node, ScalarNode):
        what = "list" if isinstance(node, SequenceNode) else "mapping"
        raise ValueError(f"{filename}: {path} is a {what}, not a value; name the values inside it")
    if node.style in ("|", ">"):
        raise ValueError(
            f"{filename}: {path} is a block scalar ({node.style}); carry the whole file"
        )
    return node


def read_field(text: str, filename: str, path: str) -> str | None:
    """The scalar at `path` exactly as written — quotes included, so that
    `10` and `"10"` differ (None: absent). ValueError when it is a mapping,
    a list or a block scalar."""
    node = _scalar(text, filename, path)
    if node is None:
        return None
    span = scalar_span(text, node)
    return text[span.start : span.end]


def write_field(text: str, filename: str, path: str, written: str) -> str:
    """`text` with the scalar at `path` replaced by `written` (as read from
    the source with `read_field`), every other byte kept."""
    node = _scalar(text, filename, path)
    if node is None:
        raise ValueError(f"{filename} has no value at {path} to replace")
    span = scalar_span(text, node)
    return apply_splices(text, [Splice(span.start, span.end, written)])
