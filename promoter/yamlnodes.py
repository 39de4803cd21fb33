"""Parse YAML to position-carrying nodes.

Editors never re-dump YAML (ruamel's round-trip dump is not byte-exact);
they parse to the node graph, whose marks give each scalar's exact character
span in the original text, and splice new text into that span. This module is
the one place that knows how to get those nodes.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from ruamel.yaml import YAML
from ruamel.yaml.error import MarkedYAMLError, YAMLError
from ruamel.yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from promoter.errors import YamlError

__all__ = [
    "MappingNode",
    "Node",
    "ScalarNode",
    "SequenceNode",
    "Span",
    "compose_all",
    "get",
    "items",
    "line_of",
    "scalar",
    "span",
]


def _yaml() -> YAML:
    # The "safe" composer is pure Python here and ~2x faster than "rt"; we only
    # need nodes and marks, never constructed objects or comments.
    return YAML(typ="safe", pure=True)


def compose_all(text: str, filename: str) -> list[Node]:
    """All documents of `text` as node graphs (empty documents dropped).

    Raises YamlError naming `filename:line` and the parser's complaint.
    """
    try:
        return [doc for doc in _yaml().compose_all(text) if doc is not None]
    except MarkedYAMLError as err:
        mark = err.problem_mark or err.context_mark
        line = f":{mark.line + 1}" if mark is not None else ""
        problem = err.problem or err.context or "cannot parse"
        raise YamlError(
            f"{filename}{line}: malformed YAML: {problem}",
            hint="fix the YAML syntax (a linter such as yamllint shows it too)",
        ) from err
    except YAMLError as err:
        raise YamlError(f"{filename}: malformed YAML: {err}") from err


@dataclass(frozen=True)
class Span:
    """Half-open character range [start, end) in the original text."""

    start: int
    end: int


def span(node: Node) -> Span:
    return Span(node.start_mark.index, node.end_mark.index)


def line_of(node: Node) -> int:
    """1-based line where `node` starts."""
    return int(node.start_mark.line) + 1


def items(node: Node | None) -> Iterator[tuple[str, Node, Node]]:
    """(key, key node, value node) of a mapping with scalar keys; nothing otherwise."""
    if isinstance(node, MappingNode):
        for key, value in node.value:
            if isinstance(key, ScalarNode):
                yield str(key.value), key, value


def get(node: Node | None, key: str) -> Node | None:
    """The value node under `key` in a mapping node, or None."""
    for name, _, value in items(node):
        if name == key:
            return value
    return None


def scalar(node: Node | None) -> str | None:
    """The text of a scalar node, or None when it is absent or not a scalar."""
    if isinstance(node, ScalarNode):
        return str(node.value)
    return None
