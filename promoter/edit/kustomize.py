"""kustomization `images:` entries, with kustomize's image-transformer meaning.

An entry `{name, newName, newTag, digest}` makes every container image named
`name` become `newName` (or `name`) with `newTag` and/or `digest`; so the
image an entry *produces* is `newName` or else `name`, and that is what we
match against the service's repository.
"""

from __future__ import annotations

import os

from promoter.edit.model import Found, Rewrite, Splice, Target, matches
from promoter.edit.scalars import format_new
from promoter.edit.splicing import (
    insert_pair,
    line_end,
    newline_of,
    remove_pair,
    replace_scalar,
)
from promoter.images import ImageRef
from promoter.yamlnodes import MappingNode, Node, ScalarNode, SequenceNode, get, line_of, scalar

KUSTOMIZATION_FILES = ("kustomization.yaml", "kustomization.yml", "Kustomization")


def is_kustomization(filename: str, doc: Node) -> bool:
    if os.path.basename(filename) in KUSTOMIZATION_FILES:
        return True
    return scalar(get(doc, "kind")) == "Kustomization"


def find(doc: Node, target: Target) -> list[Found]:
    images = get(doc, "images")
    if not isinstance(images, SequenceNode):
        return []
    found = []
    for entry in images.value:
        if not isinstance(entry, MappingNode):
            continue
        name = scalar(get(entry, "name"))
        effective = scalar(get(entry, "newName")) or name
        if not effective:
            continue
        if not matches(effective, target):
            continue
        tag_node = get(entry, "newTag")
        digest_node = get(entry, "digest")
        ref = ImageRef(effective, scalar(tag_node) or None, scalar(digest_node) or None)
        anchor = tag_node or get(entry, "name") or entry
        found.append(
            Found(
                kind="kustomize",
                line=line_of(anchor),
                ref=ref,
                rewrite=_rewriter(entry),
                key=(anchor.start_mark.index, anchor.end_mark.index),
            )
        )
    return found


def _rewriter(entry: MappingNode) -> Rewrite:
    def rewrite(text: str, tag: str | None, digest: str | None) -> list[Splice]:
        splices: list[Splice] = []
        for key, value in (("newTag", tag), ("digest", digest)):
            node = get(entry, key)
            if value is None:
                removed = remove_pair(text, entry, key)
                if removed is not None:
                    splices.append(removed)
            elif isinstance(node, ScalarNode):
                splices.append(replace_scalar(node, value, in_flow=bool(entry.flow_style)))
            else:
                splices.append(insert_pair(text, entry, key, value))
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


def add_entry(text: str, doc: Node, repository: str, tag: str | None, digest: str | None) -> str:
    """Append an `images:` entry, as `kustomize edit set image` would."""
    nl = newline_of(text)
    fields = [("name", repository)]
    if tag is not None:
        fields.append(("newTag", tag))
    if digest is not None:
        fields.append(("digest", digest))
    images = get(doc, "images")
    if isinstance(images, SequenceNode) and images.flow_style:
        body = ", ".join(f"{k}: {format_new(v, in_flow=True)}" for k, v in fields)
        at = int(images.end_mark.index) - 1  # before the closing "]"
        sep = ", " if images.value else ""
        return text[:at] + sep + "{" + body + "}" + text[at:]
    if isinstance(images, SequenceNode) and images.value:
        last = images.value[-1]
        dash_col = _dash_column(text, images)
        key_col = _first_key_column(last, dash_col + 2)
        lines = [" " * dash_col + "- " + " " * (key_col - dash_col - 2) + _pair(*fields[0])]
        lines += [" " * key_col + _pair(k, v) for k, v in fields[1:]]
        at = _end_of_last_line(text, last)
        return text[:at] + nl + nl.join(lines) + text[at:]
    block = nl.join(["- " + _pair(*fields[0])] + ["  " + _pair(k, v) for k, v in fields[1:]])
    if images is not None:  # `images:` with no items (null): fill it in place
        key_end = int(images.start_mark.index)
        eol = line_end(text, key_end)
        return text[:eol] + nl + block + text[eol:]
    prefix = "" if text == "" or text.endswith(("\n", "\r")) else nl
    return text + prefix + "images:" + nl + block + nl


def _pair(key: str, value: str) -> str:
    return f"{key}: {format_new(value)}"


def _dash_column(text: str, seq: SequenceNode) -> int:
    first = seq.value[0]
    start = int(first.start_mark.index)
    dash = text.rfind("-", 0, start)
    line_start = max(text.rfind("\n", 0, dash), text.rfind("\r", 0, dash)) + 1
    return dash - line_start


def _first_key_column(item: Node, default: int) -> int:
    if isinstance(item, MappingNode) and item.value:
        return int(item.value[0][0].start_mark.column)
    return default


def _end_of_last_line(text: str, node: Node) -> int:
    last = node
    while isinstance(last, MappingNode | SequenceNode) and last.value:
        last = last.value[-1][1] if isinstance(last, MappingNode) else last.value[-1]
    return line_end(text, int(last.end_mark.index))
