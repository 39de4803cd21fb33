"""Parse YAML to position-carrying nodes.

Editors never re-dump YAML (ruamel's round-trip dump is not byte-exact);
they parse to the node graph, whose marks give each scalar's exact character
span in the original text, and splice new text into that span. This module is
the one place that knows how to get those nodes.

Two composers give the same node graph: libyaml's (through PyYAML's
CParser, ~8x faster — what makes `status` over thousands of overlays and a
10,000-service promoter.yaml cheap) and ruamel.yaml's pure-Python one, used
when libyaml is missing or PROMOTER_YAML_BACKEND=ruamel. Both resolve plain
scalars by the YAML 1.2 core schema (`yes` is a string, `true` a bool), as
kustomize's and Helm's Go YAML v3 parsers do.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from promoter.core.masking import excerpt
from promoter.core.yaml_checks import DuplicateKey, TooLarge, check_document
from promoter.errors import YamlError


def _libyaml() -> Any:
    if os.environ.get("PROMOTER_YAML_BACKEND", "").lower() == "ruamel":
        return None
    try:
        import yaml

        if not getattr(yaml, "__with_libyaml__", False):
            return None
        from promoter.core import libyaml_composer
    except ImportError:
        return None
    return libyaml_composer


_LIBYAML = _libyaml()
BACKEND = "libyaml" if _LIBYAML is not None else "ruamel"

if TYPE_CHECKING:
    from ruamel.yaml.error import MarkedYAMLError, YAMLError
    from ruamel.yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode
elif _LIBYAML is not None:
    from yaml.error import MarkedYAMLError, YAMLError
    from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode
else:
    from ruamel.yaml.error import MarkedYAMLError, YAMLError
    from ruamel.yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode


def _compose(text: str) -> list[Any]:
    if _LIBYAML is not None:
        return list(_LIBYAML.compose(text))
    from ruamel.yaml import YAML

    # The "safe" composer is ~2x faster than "rt"; we only need nodes and
    # marks, never constructed objects or comments.
    return list(YAML(typ="safe", pure=True).compose_all(text))


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
    "scalar_span",
]


def compose_all(text: str, filename: str, *, duplicates: bool = True) -> list[Node]:
    """All documents of `text` as node graphs (empty documents dropped).

    Raises YamlError naming `filename:line` and the parser's complaint.
    """
    try:
        docs = [doc for doc in _compose(text) if doc is not None]
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
    seen: set[int] = set()
    aliases = "*" in text
    for doc in docs:
        checked(doc, filename, duplicates=duplicates, aliases=aliases)
        _place_empty_values(text, doc, seen)
    return docs


def checked(doc: Any, filename: str, *, duplicates: bool = True, aliases: bool = True) -> Any:
    """`doc` (a composed document), or YamlError when it repeats a key or its
    aliases expand too far (see yaml_checks)."""
    try:
        check_document(doc, duplicates=duplicates, aliases=aliases)
    except DuplicateKey as err:
        raise duplicate_key_error(err, filename) from None
    except TooLarge as err:
        raise YamlError(f"{filename}: refused: {err}", hint=ALIAS_HINT) from None
    return doc


ALIAS_HINT = "write the data out instead of nesting aliases (a YAML alias bomb?)"


def duplicate_key_error(err: DuplicateKey, filename: str) -> YamlError:
    return YamlError(
        f"{filename}:{err.second}: duplicate key {excerpt(err.key)!r} (first at line {err.first})",
        hint="YAML keys are unique, and kustomize and Helm read only the last one: "
        "remove one of the two",
    )


def _place_empty_values(text: str, node: Node, seen: set[int]) -> None:
    """Put each empty mapping value (`key:` with nothing after it) right after
    its key's colon; the parser marks it where the next token starts, often
    on a later line, which is no place to splice a value into."""
    # Iterative, and only collections are visited: `status` runs this over
    # every scalar of thousands of files.
    stack = [node]
    while stack:
        current = stack.pop()
        if id(current) in seen:
            continue
        seen.add(id(current))
        if isinstance(current, SequenceNode):
            stack.extend(item for item in current.value if not isinstance(item, ScalarNode))
        elif isinstance(current, MappingNode):
            for key, value in current.value:
                if isinstance(value, ScalarNode):
                    if not _is_empty(value):
                        continue
                    colon = text.find(":", int(key.end_mark.index), int(value.start_mark.index))
                    if colon != -1:  # no colon: `? key` or `{key, ...}`
                        value.start_mark = value.end_mark = _mark_after(text, key, colon)
                else:
                    stack.append(value)


def _is_empty(node: Node) -> bool:
    return (
        isinstance(node, ScalarNode)
        and node.value == ""
        and not node.style
        and node.start_mark.index == node.end_mark.index
    )


@dataclass(frozen=True)
class _Mark:
    """A position we computed ourselves (libyaml's marks are read-only)."""

    index: int
    line: int
    column: int


def _mark_after(text: str, key: Node, colon: int) -> Any:
    return _Mark(
        index=colon + 1,
        line=int(key.end_mark.line) + text.count("\n", int(key.end_mark.index), colon),
        column=colon + 1 - (max(text.rfind("\n", 0, colon), text.rfind("\r", 0, colon)) + 1),
    )


@dataclass(frozen=True)
class Span:
    """Half-open character range [start, end) in the original text."""

    start: int
    end: int


def scalar_span(text: str, node: ScalarNode) -> Span:
    """The span of a scalar's own text in `text`, without its properties.

    A node's start mark sits on its anchor or tag when it has one
    (`&img nginx:1.0`, `!!str 1234`); splicing over that would drop them.
    """
    start, end = int(node.start_mark.index), int(node.end_mark.index)
    while start < end and text[start] in "&!":
        start = _after_property(text, start)
    return Span(min(start, end), end)


def _after_property(text: str, index: int) -> int:
    # A property is one token with no spaces; after it come spaces, line
    # breaks and comment lines before the scalar itself.
    while index < len(text) and text[index] not in " \t\r\n":
        index += 1
    while index < len(text):
        if text[index] in " \t\r\n":
            index += 1
        elif text[index] == "#":
            while index < len(text) and text[index] not in "\r\n":
                index += 1
        else:
            break
    return index


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
