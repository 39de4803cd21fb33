"""Splices for the three edits every editor needs: replace a scalar, add a
key to a mapping, drop a key from a mapping — each touching only the text of
that scalar or that pair, in the style (block or flow, indent, line ending)
the file already uses."""

from __future__ import annotations

from promoter.edit.model import Splice
from promoter.edit.scalars import format_new, render_like
from promoter.errors import EditError
from promoter.yamlnodes import MappingNode, Node, ScalarNode, line_of


def newline_of(text: str) -> str:
    return "\r\n" if "\r\n" in text else "\n"


def replace_scalar(node: ScalarNode, value: str, *, in_flow: bool = False) -> Splice:
    return Splice(node.start_mark.index, node.end_mark.index, render_like(node, value, in_flow=in_flow))


def line_end(text: str, index: int) -> int:
    """Index of the line break ending the line that holds `index` (or len)."""
    cr = text.find("\r", index)
    lf = text.find("\n", index)
    ends = [i for i in (cr, lf) if i != -1]
    return min(ends) if ends else len(text)


def _next_line_start(text: str, index: int) -> int:
    end = line_end(text, index)
    if text.startswith("\r\n", end):
        return end + 2
    return min(end + 1, len(text))


def _line_start(text: str, index: int) -> int:
    return max(text.rfind("\n", 0, index), text.rfind("\r", 0, index)) + 1


def insert_pair(text: str, mapping: MappingNode, key: str, value: str) -> Splice:
    """Add `key: value` as the mapping's last pair."""
    if not mapping.value:
        raise EditError(f"line {line_of(mapping)}: cannot add {key!r} to an empty mapping")
    last_key, last_value = mapping.value[-1]
    if not isinstance(last_value, ScalarNode):
        raise EditError(
            f"line {line_of(last_key)}: cannot add {key!r} after a nested value",
            hint=f"add `{key}:` to the entry by hand once; promoter updates it from then on",
        )
    if mapping.flow_style:
        return Splice(last_value.end_mark.index, last_value.end_mark.index,
                      f", {key}: {format_new(value, in_flow=True)}")
    first_key = mapping.value[0][0]
    indent = " " * int(first_key.start_mark.column)
    at = line_end(text, last_value.end_mark.index)
    return Splice(at, at, f"{newline_of(text)}{indent}{key}: {format_new(value)}")


def remove_pair(text: str, mapping: MappingNode, key: str) -> Splice | None:
    """Drop `key` and its scalar value from the mapping; None if absent."""
    pairs = list(mapping.value)
    for i, (k, v) in enumerate(pairs):
        if isinstance(k, ScalarNode) and k.value == key:
            break
    else:
        return None
    if mapping.flow_style:
        if i > 0:  # drop ", key: value" after the previous value
            return Splice(pairs[i - 1][1].end_mark.index, v.end_mark.index, "")
        if len(pairs) > 1:  # first pair: drop "key: value, " up to the next key
            return Splice(k.start_mark.index, pairs[1][0].start_mark.index, "")
        return Splice(k.start_mark.index, v.end_mark.index, "")
    start = _line_start(text, k.start_mark.index)
    if text[start : k.start_mark.index].strip() == "":
        # The pair has its own line(s): remove them whole, comments included.
        return Splice(start, _next_line_start(text, _value_end(v)), "")
    if i + 1 < len(pairs):  # "- digest: x" opens a sequence item: pull the next key up
        return Splice(k.start_mark.index, pairs[i + 1][0].start_mark.index, "")
    raise EditError(f"line {line_of(k)}: cannot remove {key!r} from this layout")


def _value_end(node: Node) -> int:
    # A block collection's end mark sits at the start of the next token; the
    # last character that belongs to it is just before that.
    end = int(node.end_mark.index)
    return end if isinstance(node, ScalarNode) else max(end - 1, int(node.start_mark.index))
