"""libyaml's composer (through PyYAML's CParser) with the YAML 1.2 core
schema, producing the same node graph and character marks as ruamel's.
Imported by yamlnodes only when libyaml is available."""

from __future__ import annotations

import re
from typing import Any

import yaml
from yaml.cyaml import CParser
from yaml.nodes import MappingNode, SequenceNode

# YAML 1.2 core schema, the same implicit types ruamel resolves for 1.2.
_CORE_SCHEMA = [
    ("tag:yaml.org,2002:bool", r"^(?:true|True|TRUE|false|False|FALSE)$", "tTfF"),
    (
        "tag:yaml.org,2002:float",
        r"""^(?:[-+]?(?:[0-9][0-9_]*)\.[0-9_]*(?:[eE][-+]?[0-9]+)?
        |[-+]?(?:[0-9][0-9_]*)(?:[eE][-+]?[0-9]+)
        |[-+]?\.[0-9_]+(?:[eE][-+][0-9]+)?
        |[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN))$""",
        "-+0123456789.",
    ),
    (
        "tag:yaml.org,2002:int",
        r"^(?:[-+]?0b[0-1_]+|[-+]?0o?[0-7_]+|[-+]?[0-9_]+|[-+]?0x[0-9a-fA-F_]+)$",
        "-+0123456789",
    ),
    ("tag:yaml.org,2002:merge", r"^(?:<<)$", "<"),
    ("tag:yaml.org,2002:null", r"^(?:~|null|Null|NULL|)$", ["~", "n", "N", ""]),
    (
        "tag:yaml.org,2002:timestamp",
        r"""^(?:[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]
        |[0-9][0-9][0-9][0-9]-[0-9][0-9]?-[0-9][0-9]?
        (?:[Tt]|[ \t]+)[0-9][0-9]?:[0-9][0-9]:[0-9][0-9](?:\.[0-9]*)?
        (?:[ \t]*(?:Z|[-+][0-9][0-9]?(?::[0-9][0-9])?))?)$""",
        "0123456789",
    ),
]


_RESOLVED: dict[tuple[Any, str, Any], str] = {}
_RESOLVED_MAX = 65_536


class _CoreResolver(yaml.resolver.BaseResolver):  # type: ignore[misc]
    """No path resolvers are registered, so a node's tag depends only on its
    kind, value and implicitness: resolve each combination once (`status`
    resolves hundreds of thousands of scalars, mostly the same keys), and
    skip the path bookkeeping PyYAML does around every node."""

    def resolve(self, kind: Any, value: Any, implicit: Any) -> str:
        if kind is not yaml.nodes.ScalarNode:
            return str(super().resolve(kind, value, implicit))
        key = (implicit, value, kind)
        tag = _RESOLVED.get(key)
        if tag is None:
            tag = str(super().resolve(kind, value, implicit))
            if len(_RESOLVED) >= _RESOLVED_MAX:
                _RESOLVED.clear()
            _RESOLVED[key] = tag
        return tag

    def descend_resolver(self, current_node: Any, current_index: Any) -> None:
        return None

    def ascend_resolver(self) -> None:
        return None


for _tag, _pattern, _first in _CORE_SCHEMA:
    _CoreResolver.add_implicit_resolver(_tag, re.compile(_pattern, re.X), list(_first))


class _Loader(CParser, _CoreResolver):  # type: ignore[misc]
    def __init__(self, stream: str) -> None:
        CParser.__init__(self, stream)
        _CoreResolver.__init__(self)


class Mark:
    """A position we computed ourselves (libyaml's marks are read-only)."""

    __slots__ = ("column", "index", "line")

    def __init__(self, index: int, line: int, column: int) -> None:
        self.index, self.line, self.column = index, line, column


def compose(text: str) -> list[Any]:
    if not text.startswith("\ufeff"):
        return list(yaml.compose_all(text, Loader=_Loader))
    # libyaml counts positions from after a byte-order mark; we splice into
    # the text with it, so every mark moves one character on.
    docs = list(yaml.compose_all(text[1:], Loader=_Loader))
    seen: set[int] = set()
    for doc in docs:
        _shift(doc, seen)
    return docs


def _shifted(mark: Any) -> Mark:
    return Mark(int(mark.index) + 1, int(mark.line), int(mark.column) + (mark.line == 0))


def _shift(node: Any, seen: set[int]) -> None:
    if id(node) in seen:
        return
    seen.add(id(node))
    node.start_mark, node.end_mark = _shifted(node.start_mark), _shifted(node.end_mark)
    if isinstance(node, SequenceNode):
        for item in node.value:
            _shift(item, seen)
    elif isinstance(node, MappingNode):
        for key, value in node.value:
            _shift(key, seen)
            _shift(value, seen)
