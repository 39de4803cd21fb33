"""kustomization `images:` entries, with kustomize's image-transformer meaning.

An entry `{name, newName, newTag, digest}` makes every container image named
`name` become `newName` (or `name`) with `newTag` and/or `digest`; so the
image an entry *produces* is `newName` or else `name`, and that is what we
match against the service's repository. When an entry sets `newTag` or
`digest`, it replaces both parts of the image it matches (kustomize 5
renders `newTag` + `digest` as `name:tag@digest`, `digest` alone as
`name@digest`), so the entry alone says which image runs.
"""

from __future__ import annotations

import os
import re

from promoter.core.edit.model import (
    Found,
    NodeError,
    Rewrite,
    Splice,
    Target,
    current_ref,
    matches,
    text_of,
)
from promoter.core.edit.scalars import format_new
from promoter.core.edit.splicing import (
    insert_pair,
    line_end,
    line_start,
    newline_of,
    remove_pair,
    replace_scalar,
)
from promoter.core.yamlnodes import (
    MappingNode,
    Node,
    ScalarNode,
    SequenceNode,
    get,
    line_of,
    scalar,
    scalar_span,
)

KUSTOMIZATION_FILES = ("kustomization.yaml", "kustomization.yml", "Kustomization")
_FLUX_API = "kustomize.toolkit.fluxcd.io/"
_NULLS = ("", "~", "null", "Null", "NULL")


def is_kustomization_file(filename: str) -> bool:
    return os.path.basename(filename) in KUSTOMIZATION_FILES


def is_kustomization(filename: str, doc: Node) -> bool:
    if is_kustomization_file(filename):
        return True
    return scalar(get(doc, "kind")) == "Kustomization"


def images_of(doc: Node) -> Node | None:
    """The `images:` node: top level in a kustomization, `spec.images` in a
    Flux Kustomization object."""
    if (scalar(get(doc, "apiVersion")) or "").startswith(_FLUX_API):
        return get(get(doc, "spec"), "images")
    return get(doc, "images")


def find(doc: Node, target: Target) -> list[Found]:
    images = images_of(doc)
    if not isinstance(images, SequenceNode):
        return []
    found = []
    for entry in images.value:
        if isinstance(entry, MappingNode):
            f = _entry(entry, target)
            if f is not None:
                found.append(f)
    return found


def _entry(entry: MappingNode, target: Target) -> Found | None:
    effective = scalar(get(entry, "newName")) or scalar(get(entry, "name"))
    if not effective or not matches(effective, target):
        return None
    tag_node = get(entry, "newTag")
    digest_node = get(entry, "digest")
    anchor = tag_node or get(entry, "name") or entry
    ref = current_ref(anchor, effective, text_of(tag_node), text_of(digest_node))
    return Found(
        kind="kustomize",
        line=line_of(anchor),
        ref=ref,
        rewrite=_rewriter(entry),
        key=(anchor.start_mark.index, anchor.end_mark.index),
        # The entry decides the whole image: a setter marker on one of its
        # fields must not rewrite that field on its own.
        covers=tuple(
            (v.start_mark.index, v.end_mark.index)
            for _, v in entry.value
            if isinstance(v, ScalarNode)
        ),
    )


def _rewriter(entry: MappingNode) -> Rewrite:
    def rewrite(text: str, tag: str | None, digest: str | None) -> list[Splice]:
        wanted = (("newTag", tag), ("digest", digest))
        dropped = [key for key, value in wanted if value is None]
        splices: list[Splice] = []
        for key, value in wanted:
            node = get(entry, key)
            if value is None:
                removed = remove_pair(text, entry, key)
                if removed is not None:
                    splices.append(removed)
            elif isinstance(node, ScalarNode):
                splices.append(replace_scalar(text, node, value, in_flow=bool(entry.flow_style)))
            elif node is None:
                splices.append(insert_pair(text, entry, key, value, skip=dropped))
            else:
                raise NodeError(line_of(node), f"`{key}:` of this images entry is not a scalar")
        return _merge_inserts(splices)

    return rewrite


def _merge_inserts(splices: list[Splice]) -> list[Splice]:
    # newTag and digest may both be inserted after the same last pair; two
    # insertions at one point must become one, in key order.
    merged: list[Splice] = []
    for s in splices:
        if merged and s.start == s.end == merged[-1].start == merged[-1].end:
            prev = merged.pop()
            merged.append(Splice(prev.start, prev.end, prev.text + s.text))
        else:
            merged.append(s)
    return merged


# --------------------------------------------------------------------------- add_entry


def add_entry(
    text: str, doc: Node | None, repository: str, tag: str | None, digest: str | None
) -> str:
    """Append an `images:` entry, as `kustomize edit set image` would."""
    fields = [("name", repository)]
    if tag is not None:
        fields.append(("newTag", tag))
    if digest is not None:
        fields.append(("digest", digest))
    if doc is not None and not isinstance(doc, MappingNode):
        raise NodeError(line_of(doc), "the kustomization is not a mapping")
    if isinstance(doc, MappingNode) and doc.flow_style:
        raise NodeError(
            line_of(doc),
            "cannot add `images:` to a kustomization written as a flow mapping ({...})",
            hint="add an `images:` entry by hand once; promoter updates it from then on",
        )
    images = images_of(doc) if doc is not None else None
    if isinstance(images, SequenceNode) and images.flow_style:
        return _add_to_flow_sequence(text, images, fields)
    if isinstance(images, SequenceNode) and images.value:
        return _add_to_block_sequence(text, images, fields)
    if isinstance(images, ScalarNode) and images.value in _NULLS:
        return _fill_null(text, images, fields)
    if images is not None:
        raise NodeError(line_of(images), "`images:` of the kustomization is not a list")
    if doc is not None and (scalar(get(doc, "apiVersion")) or "").startswith(_FLUX_API):
        raise NodeError(
            line_of(doc),
            "this Flux Kustomization has no `spec.images:` to add the image to",
            hint="add `spec.images:` with an entry by hand once; promoter updates it from then on",
        )
    return _append_images(text, doc, fields)


def _flow_entry(fields: list[tuple[str, str]]) -> str:
    return "{" + ", ".join(f"{k}: {format_new(v, in_flow=True)}" for k, v in fields) + "}"


def _block_entry(fields: list[tuple[str, str]], dash: int, gap: int, nl: str) -> str:
    """`- name: ...` with the dash at column `dash` and `gap` spaces after it."""
    key_col = dash + 1 + gap
    first = " " * dash + "-" + " " * gap + _pair(*fields[0])
    return nl.join([first] + [" " * key_col + _pair(k, v) for k, v in fields[1:]])


def _pair(key: str, value: str) -> str:
    return f"{key}: {format_new(value)}"


def _add_to_flow_sequence(text: str, images: SequenceNode, fields: list[tuple[str, str]]) -> str:
    close = int(images.end_mark.index) - 1  # the closing "]"
    if images.value:
        at = int(images.value[-1].end_mark.index)
        return text[:at] + ", " + _flow_entry(fields) + text[at:]
    return text[:close] + _flow_entry(fields) + text[close:]


def _add_to_block_sequence(text: str, images: SequenceNode, fields: list[tuple[str, str]]) -> str:
    nl = newline_of(text)
    last = images.value[-1]
    dash = _dash_column(text, images.value[0])
    if isinstance(last, MappingNode) and last.flow_style:
        entry = " " * dash + "- " + _flow_entry(fields)
    else:
        key_col = _first_key_column(last, dash + 2)
        entry = _block_entry(fields, dash, max(key_col - dash - 1, 1), nl)
    at = _end_of_last_line(text, last)
    return text[:at] + nl + entry + text[at:]


def _fill_null(text: str, images: ScalarNode, fields: list[tuple[str, str]]) -> str:
    # `images:`, `images: ~` or `images: []`-less null: the list goes on the
    # next lines, at the key's column (kustomize writes an indentless list).
    nl = newline_of(text)
    where = scalar_span(text, images)
    head = text[: where.start].rstrip(" \t") if where.start != where.end else text[: where.start]
    rest = text[where.end :]
    eol = line_end(rest, 0)
    column = _key_column(text, where.start)
    body = _block_entry(fields, column, 1, nl)
    return head + rest[:eol] + nl + body + rest[eol:]


def _key_column(text: str, value_start: int) -> int:
    start = line_start(text, value_start)
    line = text[start:value_start]
    return len(line) - len(line.lstrip(" "))


_DOCUMENT_END = re.compile(r"^\.\.\.(?:[ \t]+#.*|[ \t]*)\r?$", re.MULTILINE)


def _append_images(text: str, doc: MappingNode | None, fields: list[tuple[str, str]]) -> str:
    nl = newline_of(text)
    column = int(doc.value[0][0].start_mark.column) if doc is not None and doc.value else 0
    block = " " * column + "images:" + nl + _block_entry(fields, column, 1, nl) + nl
    end = _DOCUMENT_END.search(text, int(doc.end_mark.index) if doc is not None else 0)
    if end is not None:  # keep the entry inside the document, before "..."
        return text[: end.start()] + block + text[end.start() :]
    prefix = "" if text == "" or text.endswith(("\n", "\r")) else nl
    return text + prefix + block


def _dash_column(text: str, first: Node) -> int:
    dash = text.rfind("-", 0, int(first.start_mark.index))
    return dash - line_start(text, dash)


def _first_key_column(item: Node, default: int) -> int:
    if isinstance(item, MappingNode) and item.value:
        return int(item.value[0][0].start_mark.column)
    return default


def _end_of_last_line(text: str, node: Node) -> int:
    last = node
    while isinstance(last, MappingNode | SequenceNode) and last.value:
        if last.flow_style:
            break
        last = last.value[-1][1] if isinstance(last, MappingNode) else last.value[-1]
    return line_end(text, int(last.end_mark.index))
