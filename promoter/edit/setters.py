"""Setter markers: a comment on the line of a field says which image it holds.

- Flux image automation: `# {"$imagepolicy": "ns:name"}` (whole reference),
  `ns:name:tag`, `ns:name:name`, `ns:name:digest` (one part of it). The
  policy means a service when `imagePolicy: ns:name` is configured for it,
  or — when none is configured — when the policy's name is the service's.
- promoter's own: `# {"$promoter": "<service>"}` and `<service>:tag`,
  `:name`, `:digest`, for any field of any file.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator

from promoter.edit.manifests import whole_ref_rewriter
from promoter.edit.model import Found, Rewrite, Splice, Target, parse_ref
from promoter.edit.splicing import replace_scalar
from promoter.images import ImageRef
from promoter.yamlnodes import MappingNode, Node, ScalarNode, SequenceNode, line_of

_MARKER = re.compile(r'#\s*(\{\s*"\$(?:imagepolicy|promoter)"\s*:\s*"[^"]*"\s*\})')
_PARTS = ("tag", "name", "digest")


def has_markers(text: str) -> bool:
    return "$imagepolicy" in text or "$promoter" in text


def _markers(text: str) -> Iterator[tuple[int, int, str, str]]:
    """(line index 0-based, comment offset, marker kind, marker value)."""
    offset = 0
    for number, line in enumerate(text.splitlines(keepends=True)):
        m = _MARKER.search(line)
        if m:
            ((kind, value),) = json.loads(m.group(1)).items()
            yield number, offset + m.start(), kind, value
        offset += len(line)


def _scalars_by_line(node: Node, parent: Node | None, out: dict[int, list[tuple[ScalarNode, Node | None]]]) -> None:
    if isinstance(node, ScalarNode):
        out.setdefault(int(node.end_mark.line), []).append((node, parent))
    elif isinstance(node, SequenceNode):
        for item in node.value:
            _scalars_by_line(item, node, out)
    elif isinstance(node, MappingNode):
        for _, value in node.value:  # keys never carry images
            _scalars_by_line(value, node, out)


def _means(kind: str, value: str, target: Target) -> str | None:
    """The part ('' for the whole ref) a marker sets, if it means `target`."""
    if kind == "$promoter":
        service, _, part = value.partition(":")
        if service != target.service:
            return None
    else:
        ns, _, rest = value.partition(":")
        name, _, part = rest.partition(":")
        policy = f"{ns}:{name}"
        if target.image_policy is not None:
            if policy != target.image_policy:
                return None
        elif name != target.service:
            return None
    return part if part in _PARTS else ("" if part == "" else None)


def find(text: str, docs: list[Node], target: Target) -> list[Found]:
    if not has_markers(text):
        return []
    scalars: dict[int, list[tuple[ScalarNode, Node | None]]] = {}
    for doc in docs:
        _scalars_by_line(doc, None, scalars)
    found = []
    for line, comment_at, kind, value in _markers(text):
        part = _means(kind, value, target)
        if part is None:
            continue
        before = [(n, p) for n, p in scalars.get(line, []) if n.end_mark.index <= comment_at]
        if not before:
            continue
        node, parent = before[-1]
        in_flow = isinstance(parent, MappingNode | SequenceNode) and bool(parent.flow_style)
        found.append(_found(node, part, target, in_flow))
    return found


def _found(node: ScalarNode, part: str, target: Target, in_flow: bool) -> Found:
    current = str(node.value)
    key = (int(node.start_mark.index), int(node.end_mark.index))
    if part == "":
        ref = parse_ref(current) or ImageRef(target.repository)
        rewrite = whole_ref_rewriter(node, ref.repository, in_flow)
        return Found("setter", line_of(node), ref, rewrite, key)
    if part == "name":  # the repository is not ours to change on a bump
        return Found(
            "setter", line_of(node), ImageRef(current), _unchanged, key, False, False
        )
    if part == "tag":
        ref = ImageRef(target.repository, current or None)
        return Found("setter", line_of(node), ref, _part_rewriter(node, "tag", in_flow), key,
                     sets_tag=True, sets_digest=False)
    ref = ImageRef(target.repository, None, current or None)
    return Found("setter", line_of(node), ref, _part_rewriter(node, "digest", in_flow), key,
                 sets_tag=False, sets_digest=True)


def _unchanged(text: str, tag: str | None, digest: str | None) -> list[Splice]:
    return []


def _part_rewriter(node: ScalarNode, part: str, in_flow: bool) -> Rewrite:
    def rewrite(text: str, tag: str | None, digest: str | None) -> list[Splice]:
        value = tag if part == "tag" else digest
        return [replace_scalar(node, value or "", in_flow=in_flow)]

    return rewrite
