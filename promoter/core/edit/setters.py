"""Setter markers: a comment after a field, on the line where it ends, says
which image the field holds.

- Flux image automation: `# {"$imagepolicy": "ns:name"}` (whole reference),
  `ns:name:tag`, `ns:name:name`, `ns:name:digest` (one part of it). The
  policy means a service when `imagePolicy: ns:name` is configured for it,
  or — when none is configured — when the policy's name is the service's.
- promoter's own: `# {"$promoter": "<service>"}` and `<service>:tag`,
  `:name`, `:digest`, for any field of any file.

A marked field belongs to its marker: a marker naming another service (or a
configured policy other than this service's) keeps the editing rules off it.
"""

from __future__ import annotations

import bisect
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass, field

from promoter.core.edit.manifests import is_flow, whole_ref_rewriter
from promoter.core.edit.model import Found, Rewrite, Splice, Target, current_ref, parse_ref, text_of
from promoter.core.edit.splicing import replace_scalar
from promoter.core.images import ImageRef
from promoter.core.yamlnodes import MappingNode, Node, ScalarNode, SequenceNode, line_of

# A comment starts a line or follows a blank; its JSON value has no escapes.
_MARKER = re.compile(
    r'(?:(?<=[ \t])|^)#[ \t]*(\{\s*"\$(?:imagepolicy|promoter)"\s*:\s*"[^"\\\r\n]*"\s*\})',
    re.MULTILINE,
)
_PARTS = ("tag", "name", "digest")


@dataclass
class Markers:
    found: list[Found] = field(default_factory=list)
    """References of the target that markers point at."""
    foreign: set[tuple[int, int]] = field(default_factory=set)
    """Spans of scalars marked as another service's."""


def has_markers(text: str) -> bool:
    return "$imagepolicy" in text or "$promoter" in text


@dataclass(frozen=True)
class _Scalars:
    """Every value scalar of a file, ordered by where it ends."""

    nodes: list[tuple[ScalarNode, Node | None]]
    ends: list[int]

    @classmethod
    def of(cls, docs: list[Node]) -> _Scalars:
        out: list[tuple[ScalarNode, Node | None]] = []
        seen: set[int] = set()
        for doc in docs:
            out += _value_scalars(doc, None, seen)
        out.sort(key=lambda pair: int(pair[0].end_mark.index))
        return cls(out, [int(n.end_mark.index) for n, _ in out])

    def marked_by(self, text: str, comment_at: int) -> tuple[ScalarNode, Node | None] | None:
        """The last scalar ending before the comment on the comment's line."""
        i = bisect.bisect_right(self.ends, comment_at)
        if i == 0:
            return None
        node, parent = self.nodes[i - 1]
        between = text[int(node.end_mark.index) : comment_at]
        return None if "\n" in between or "\r" in between else (node, parent)

    def contains(self, index: int) -> bool:
        """Is `index` inside a scalar (a '#' in a quoted or block string)?"""
        i = bisect.bisect_right(self.ends, index)  # scalars never overlap
        return i < len(self.nodes) and self.nodes[i][0].start_mark.index < index


def _value_scalars(
    node: Node, parent: Node | None, seen: set[int]
) -> Iterator[tuple[ScalarNode, Node | None]]:
    if id(node) in seen:
        return
    seen.add(id(node))
    if isinstance(node, ScalarNode):
        yield node, parent
    elif isinstance(node, SequenceNode):
        for item in node.value:
            yield from _value_scalars(item, node, seen)
    elif isinstance(node, MappingNode):
        for _, value in node.value:  # keys never carry images
            yield from _value_scalars(value, node, seen)


def _markers(text: str) -> Iterator[tuple[int, str, str]]:
    """(offset of the '#', marker kind, marker value)."""
    for m in _MARKER.finditer(text):
        try:
            ((kind, value),) = json.loads(m.group(1)).items()
        except ValueError:
            continue
        yield m.start(), str(kind), str(value)


def _means(kind: str, value: str, target: Target) -> str | None:
    """The part ('' for the whole ref) a marker sets, if it means `target`."""
    owner, part = _owner(kind, value)
    if kind == "$promoter":
        mine = owner == target.service
    elif target.image_policy is not None:
        mine = owner == target.image_policy
    else:
        mine = owner.partition(":")[2] == target.service
    if not mine:
        return None
    return part if part in (*_PARTS, "") else None


def _owner(kind: str, value: str) -> tuple[str, str]:
    """(service or `ns:policy`, part) of a marker value."""
    if kind == "$promoter":
        owner, _, part = value.partition(":")
        return owner, part
    ns, _, rest = value.partition(":")
    name, _, part = rest.partition(":")
    return f"{ns}:{name}", part


def _foreign(kind: str, value: str, target: Target) -> bool:
    """Does the marker surely mean another service? (A Flux policy does only
    when this service's policy is configured; otherwise nobody can tell.)"""
    if kind == "$promoter":
        return _owner(kind, value)[0] != target.service
    return target.image_policy is not None and _owner(kind, value)[0] != target.image_policy


def find(text: str, docs: list[Node], target: Target) -> Markers:
    result = Markers()
    if not has_markers(text):
        return result
    scalars = _Scalars.of(docs)
    for comment_at, kind, value in _markers(text):
        marked = scalars.marked_by(text, comment_at)
        if marked is None or scalars.contains(comment_at):
            continue
        node, parent = marked
        part = _means(kind, value, target)
        if part is not None:
            result.found.append(_found(node, part, target, is_flow(parent)))
        elif _foreign(kind, value, target):
            result.foreign.add((node.start_mark.index, node.end_mark.index))
    return result


def _found(node: ScalarNode, part: str, target: Target, in_flow: bool) -> Found:
    current = text_of(node) or ""
    key = (node.start_mark.index, node.end_mark.index)
    line = line_of(node)
    if part == "":
        ref = parse_ref(current)
        if ref is not None and ref.same_repository(target.repository):
            rewrite = whole_ref_rewriter(node, ref.repository, in_flow)
            return Found("setter", line, ref, rewrite, key)
        # Flux writes the policy's image whatever the field held before.
        rewrite = whole_ref_rewriter(node, target.repository, in_flow)
        old = ref or ImageRef(target.repository)
        return Found("setter", line, old, rewrite, key, rename=target.repository)
    if part == "name":  # the repository is not ours to change on a bump
        ref = parse_ref(current) or ImageRef(target.repository)
        return Found("setter", line, ref, _unchanged, key, sets_tag=False, sets_digest=False)
    if part == "tag":
        ref = current_ref(node, target.repository, current or None, None)
        rewrite = _part_rewriter(node, "tag", in_flow)
        return Found("setter", line, ref, rewrite, key, sets_digest=False)
    ref = current_ref(node, target.repository, None, current or None)
    rewrite = _part_rewriter(node, "digest", in_flow)
    return Found("setter", line, ref, rewrite, key, sets_tag=False)


def _unchanged(text: str, tag: str | None, digest: str | None) -> list[Splice]:
    return []


def _part_rewriter(node: ScalarNode, part: str, in_flow: bool) -> Rewrite:
    def rewrite(text: str, tag: str | None, digest: str | None) -> list[Splice]:
        value = tag if part == "tag" else digest
        return [replace_scalar(text, node, value or "", in_flow=in_flow)]

    return rewrite
