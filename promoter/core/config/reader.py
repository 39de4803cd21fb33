"""Reading YAML nodes into checked values, collecting every problem.

`NodeReader` is what the promoter.yaml parser and the `policies:` reader
share: typed access to mappings, strings, booleans and string lists, each
problem located as `file:line`, none of them fatal on its own (so that one
run reports everything wrong with the file).

Booleans follow YAML 1.2 (the only version this reader speaks): `true` and
`false` are booleans; `yes`, `no`, `on`, `off` are strings, and a string where
a boolean belongs is a problem, never silently read as one.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from promoter.core.config.fields import name_problem, suggest
from promoter.core.masking import excerpt
from promoter.core.yamlnodes import (
    MappingNode,
    Node,
    ScalarNode,
    SequenceNode,
    get,
    line_of,
    scalar,
)
from promoter.errors import Problem

STR = "tag:yaml.org,2002:str"
INT = "tag:yaml.org,2002:int"
FLOAT = "tag:yaml.org,2002:float"
BOOL = "tag:yaml.org,2002:bool"
NULL = "tag:yaml.org,2002:null"
_TAG_KINDS = {
    STR: "a string",
    INT: "a number",
    FLOAT: "a number",
    BOOL: "a boolean",
    NULL: "nothing (null)",
    "tag:yaml.org,2002:timestamp": "a date",
}
_YAML11_BOOLS = ("yes", "no", "y", "n", "on", "off")

Entries = dict[str, tuple[Node, Node]]
"""A mapping's entries: key -> (key node, value node)."""


def kind_of(node: Node | None) -> str:
    if isinstance(node, MappingNode):
        return "a mapping"
    if isinstance(node, SequenceNode):
        return "a list"
    if isinstance(node, ScalarNode):
        tag = str(node.tag)
        return _TAG_KINDS.get(tag, f"a value tagged {tag}")
    return "nothing"


def raw_name(item: Node) -> str | None:
    """The entry's `name` if it is a string (valid or not)."""
    node = get(item, "name")
    return scalar(node) if node is not None and node.tag == STR else None


def entry_label(item: Node, what: str, index: int) -> str:
    """`service 'api'` when the entry has a valid name, else `services[3]`."""
    name = raw_name(item)
    if name is not None and name_problem(name) is None:
        return f"{what} {name!r}"
    return f"{what}s[{index}]"


class NodeReader:
    """Typed reads of YAML nodes; every problem is collected, none raised."""

    def __init__(self, file: str) -> None:
        self.file = file
        self.problems: list[Problem] = []

    def problem(self, where: Node | int, message: str) -> None:
        line = where if isinstance(where, int) else line_of(where)
        self.problems.append(Problem(self.file, line, message))

    # -- generic shapes

    def mapping(
        self, node: Node, label: str, allowed: Sequence[str] | None, at: Node | int
    ) -> Entries | None:
        """Entries of a mapping node; reports wrong type, duplicate and unknown keys."""
        if not isinstance(node, MappingNode):
            self.problem(at, f"{label} must be a mapping, got {kind_of(node)}")
            return None
        entries: Entries = {}
        seen: dict[str, int] = {}
        for key_node, value_node in node.value:
            if not isinstance(key_node, ScalarNode):
                self.problem(key_node, f"{label}: keys must be strings, got {kind_of(key_node)}")
                continue
            key = str(key_node.value)
            if key in seen:
                self.problem(
                    key_node,
                    f"{label}: duplicate key {excerpt(key)!r} (first at line {seen[key]})",
                )
                continue
            seen[key] = line_of(key_node)
            if allowed is not None and key not in allowed:
                self.problem(
                    key_node,
                    f"{label}: unknown key {excerpt(key)!r}{suggest(key, allowed)} "
                    f"(allowed: {', '.join(allowed)})",
                )
                continue
            entries[key] = (key_node, value_node)
        return entries

    def string(self, entries: Entries, key: str, label: str) -> str | None:
        """The non-empty string under `key`, None if absent or (reported) invalid."""
        if key not in entries:
            return None
        key_node, value = entries[key]
        if not isinstance(value, ScalarNode) or value.tag != STR:
            quote = " (quote it)" if isinstance(value, ScalarNode) and value.value else ""
            self.problem(key_node, f"{label}: {key} must be a string, got {kind_of(value)}{quote}")
            return None
        text = str(value.value)
        if not text.strip():
            self.problem(key_node, f"{label}: {key} must not be empty")
            return None
        return text

    def checked(
        self,
        entries: Entries,
        key: str,
        label: str,
        check: Callable[[str], str | None],
    ) -> str | None:
        """A string under `key` that passes `check` (which returns a problem or None)."""
        text = self.string(entries, key, label)
        if text is None:
            return None
        problem = check(text)
        if problem is not None:
            self.problem(entries[key][1], f"{label}: {key}: {problem}")
            return None
        return text

    def boolean(self, entries: Entries, key: str, label: str) -> bool | None:
        """The YAML 1.2 boolean under `key`, None if absent or (reported) invalid."""
        if key not in entries:
            return None
        key_node, value = entries[key]
        if isinstance(value, ScalarNode) and value.tag == BOOL:
            return str(value.value).lower() == "true"
        extra = ""
        if isinstance(value, ScalarNode) and value.tag == STR:
            text = str(value.value)
            if text.lower() in ("true", "false"):
                extra = " (unquote it)"
            elif text.lower() in _YAML11_BOOLS:
                word = "true" if text.lower() in ("yes", "y", "on") else "false"
                extra = f" ({text!r} is a string in YAML 1.2; write {word})"
        self.problem(key_node, f"{label}: {key} must be true or false, got {kind_of(value)}{extra}")
        return None

    def string_list(
        self,
        entries: Entries,
        key: str,
        label: str,
        check: Callable[[str], str | None],
    ) -> tuple[str, ...] | None:
        """The list of distinct, non-empty strings passing `check` under `key`.

        None if absent or (reported) invalid. Duplicates ignore case, as
        GitHub and GitLab do for user names, team slugs and labels.
        """
        if key not in entries:
            return None
        key_node, node = entries[key]
        if not isinstance(node, SequenceNode):
            extra = ""
            if isinstance(node, ScalarNode) and node.tag == STR and node.value:
                extra = f" (write {key}: [{node.value}])"
            self.problem(
                key_node, f"{label}: {key} must be a list of strings, got {kind_of(node)}{extra}"
            )
            return None
        result: list[str] = []
        seen: dict[str, tuple[str, int]] = {}
        ok = True
        for index, item in enumerate(node.value):
            where = f"{label}: {key}[{index}]"
            if not isinstance(item, ScalarNode) or item.tag != STR:
                quote = " (quote it)" if isinstance(item, ScalarNode) and item.value else ""
                self.problem(item, f"{where} must be a string, got {kind_of(item)}{quote}")
                ok = False
                continue
            text = str(item.value)
            problem = "must not be empty" if not text.strip() else check(text)
            if problem is not None:
                self.problem(item, f"{where}: {problem}")
                ok = False
                continue
            folded = text.casefold()
            if folded in seen:
                first, first_line = seen[folded]
                spelled = "" if first == text else f" as {first!r}; case does not count"
                self.problem(
                    item,
                    f"{label}: {key}: duplicate {text!r} (first at line {first_line}{spelled})",
                )
                ok = False
                continue
            seen[folded] = (text, line_of(item))
            result.append(text)
        return tuple(result) if ok else None

    def name(self, entries: Entries, label: str, at: Node) -> str | None:
        if "name" not in entries:
            self.problem(at, f"{label}: missing required key 'name'")
            return None
        return self.checked(entries, "name", label, name_problem)

    # -- document
