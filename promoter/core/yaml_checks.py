"""Two checks every YAML document promoter reads goes through, whichever
parser read it (libyaml's or ruamel's composer for the editors, PyYAML's
loader for manifests and Helm values):

- **Duplicate mapping keys.** YAML 1.2 says keys are unique; kustomize and
  Helm silently read the last one, so an edit of the first would commit a
  change that deploys nothing. Refused, naming both lines.
- **Alias expansion.** `&a [*b, *b, …]` nested nine deep (the "billion
  laughs" shape) is a few hundred bytes that expand to billions of nodes
  when a program copies the data. A document whose aliases expand past
  MAX_EXPANDED_NODES is refused; the count is linear in the document's own
  size (each node's expansion is computed once).
"""

from __future__ import annotations

from typing import Any

MAX_EXPANDED_NODES = 1_000_000
"""Nodes a document may have once aliases are expanded (documented in docs/config.md)."""
MERGE_KEY = "tag:yaml.org,2002:merge"


class DuplicateKey(ValueError):
    def __init__(self, key: str, first: int, second: int) -> None:
        super().__init__(f"duplicate key {key!r} (lines {first} and {second})")
        self.key, self.first, self.second = key, first, second


class TooLarge(ValueError):
    def __init__(self, size: int | None) -> None:
        super().__init__(
            "an alias refers to a node that contains it (a recursive structure)"
            if size is None
            else f"its aliases expand to more than {MAX_EXPANDED_NODES:,} nodes ({size:,} counted)"
        )
        self.size = size


def _kind(node: Any) -> str:
    return type(node).__name__  # MappingNode / SequenceNode / ScalarNode, in both libraries


def _children(node: Any) -> list[Any]:
    kind = _kind(node)
    if kind == "MappingNode":
        return [part for pair in node.value for part in pair]
    if kind == "SequenceNode":
        return list(node.value)
    return []


def check_document(
    root: Any, *, duplicates: bool = True, cycles: bool = True, aliases: bool = True
) -> None:
    """DuplicateKey or TooLarge for a composed document (a node graph).

    `duplicates=False` for a reader that reports them itself (promoter.yaml's
    parser lists every problem at once, duplicates with their context).
    `cycles=False` refuses recursive aliases, which the editors can live with
    (they never expand aliases) but anything copying the data cannot.
    `aliases=False` when the text has no `*` at all: then nothing can expand,
    and only the keys need checking (the common, cheap case).
    """
    if not aliases:
        if duplicates:
            _keys_only(root)
        return
    sizes: dict[int, int] = {}
    open_: set[int] = set()
    stack: list[tuple[Any, bool]] = [(root, False)]
    while stack:  # iterative post-order: deep nesting must not hit the recursion limit
        node, done = stack.pop()
        ident = id(node)
        if not done:
            if ident in sizes or ident in open_:
                continue
            open_.add(ident)
            stack.append((node, True))
            for child in _children(node):
                if _kind(child) == "ScalarNode":
                    continue  # counts 1, nothing below it
                if id(child) in open_:  # a way back up: a recursive alias
                    if not cycles:
                        raise TooLarge(None)
                    continue  # counted once, as the editors see it
                if id(child) not in sizes:
                    stack.append((child, False))
            continue
        open_.discard(ident)
        if duplicates and _kind(node) == "MappingNode":
            _unique_keys(node)
        size = 1 + sum(sizes.get(id(child), 1) for child in _children(node))
        if size > MAX_EXPANDED_NODES:
            raise TooLarge(size)
        sizes[ident] = size


def _keys_only(root: Any) -> None:
    stack = [root]
    while stack:
        node = stack.pop()
        kind = _kind(node)
        if kind == "MappingNode":
            if len(node.value) > 1:
                _unique_keys(node)
            stack.extend(v for pair in node.value for v in pair if _kind(v) != "ScalarNode")
        elif kind == "SequenceNode":
            stack.extend(v for v in node.value if _kind(v) != "ScalarNode")


def _unique_keys(node: Any) -> None:
    plain = [k.value for k, _ in node.value if _kind(k) == "ScalarNode"]
    if len(plain) == len(set(plain)):
        return  # the usual case: no two keys even look alike
    seen: dict[tuple[str, str], int] = {}
    for key, _ in node.value:
        if _kind(key) != "ScalarNode" or key.tag == MERGE_KEY:
            continue
        line = key.start_mark.line + 1
        marker = (str(key.tag), str(key.value))
        if marker in seen:
            raise DuplicateKey(str(key.value), seen[marker], line)
        seen[marker] = line
