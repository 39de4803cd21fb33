"""Splices for the three edits every editor needs: replace a scalar, add a
key to a mapping, drop a key from a mapping — each touching only the text of
that scalar or that pair, in the style (block or flow, indent, line ending)
the file already uses."""

from __future__ import annotations

from collections.abc import Container

from promoter.core.edit.model import NodeError, Splice
from promoter.core.edit.scalars import format_new, render_like
from promoter.core.yamlnodes import MappingNode, Node, ScalarNode, line_of, scalar, scalar_span


def newline_of(text: str) -> str:
    return "\r\n" if "\r\n" in text else "\n"


def replace_scalar(text: str, node: ScalarNode, value: str, *, in_flow: bool = False) -> Splice:
    """Replace the scalar's own text (never its anchor or tag) with `value`."""
    where = scalar_span(text, node)
    new = render_like(node, value, in_flow=in_flow)
    if where.start == where.end and where.start > 0 and text[where.start - 1] not in " \t":
        new = " " + new  # an empty value right after `key:` or `&anchor`
    return Splice(where.start, where.end, new)


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


def line_start(text: str, index: int) -> int:
    return max(text.rfind("\n", 0, index), text.rfind("\r", 0, index)) + 1


def insert_pair(
    text: str, mapping: MappingNode, key: str, value: str, *, skip: Container[str] = ()
) -> Splice:
    """Add `key: value` after the mapping's last pair whose key is not in `skip`
    (pairs another splice of the same edit removes)."""
    pairs = [
        (k, v) for k, v in mapping.value if not (isinstance(k, ScalarNode) and k.value in skip)
    ]
    if not pairs:
        raise NodeError(line_of(mapping), f"cannot add {key!r} to an empty mapping")
    last_key, last_value = pairs[-1]
    if not isinstance(last_value, ScalarNode):
        raise NodeError(
            line_of(last_key),
            f"cannot add {key!r} after a nested value",
            hint=f"add `{key}:` to the entry by hand once; promoter updates it from then on",
        )
    if mapping.flow_style:
        end = int(last_value.end_mark.index)
        return Splice(end, end, f", {key}: {format_new(value, in_flow=True)}")
    indent = " " * int(mapping.value[0][0].start_mark.column)
    at = line_end(text, int(last_value.end_mark.index))
    return Splice(at, at, f"{newline_of(text)}{indent}{key}: {format_new(value)}")


def remove_pair(text: str, mapping: MappingNode, key: str) -> Splice | None:
    """Drop `key` and its scalar value from the mapping; None if absent."""
    pairs = list(mapping.value)
    i = next((i for i, (k, _) in enumerate(pairs) if scalar(k) == key), None)
    if i is None:
        return None
    k, v = pairs[i]
    if mapping.flow_style:
        if i > 0:  # drop ", key: value" after the previous value
            return Splice(pairs[i - 1][1].end_mark.index, v.end_mark.index, "")
        if len(pairs) > 1:  # first pair: drop "key: value, " up to the next key
            return Splice(k.start_mark.index, pairs[1][0].start_mark.index, "")
        return Splice(k.start_mark.index, v.end_mark.index, "")
    start = line_start(text, k.start_mark.index)
    if text[start : k.start_mark.index].strip() == "":
        # The pair has its own line(s): remove them whole, comments included.
        end = _next_line_start(text, _value_end(v))
        if end == len(text) and not text.endswith(("\n", "\r")) and start > 0:
            # Last line of a file without a final newline: take the line
            # break before it instead, so the file still ends the same way.
            return Splice(_previous_line_end(text, start), end, "")
        return Splice(start, end, "")
    if i + 1 < len(pairs):  # "- digest: x" opens a sequence item: pull the next key up
        return Splice(k.start_mark.index, pairs[i + 1][0].start_mark.index, "")
    raise NodeError(line_of(k), f"cannot remove {key!r} from this layout")


def _previous_line_end(text: str, start: int) -> int:
    return start - 2 if text[max(start - 2, 0) : start] == "\r\n" else start - 1


def _value_end(node: Node) -> int:
    # A block collection's end mark sits at the start of the next token; the
    # last character that belongs to it is just before that.
    end = int(node.end_mark.index)
    return end if isinstance(node, ScalarNode) else max(end - 1, int(node.start_mark.index))
