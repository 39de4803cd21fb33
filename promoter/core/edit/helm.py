"""Helm values: plain values files and a HelmRelease's `spec.values`.

Recognised layouts, anywhere in the values tree:
- a mapping with `repository` (+ optional `registry`) and `tag` siblings,
  optionally a `digest` sibling; a tag may carry its digest (`1.2@sha256:…`);
  siblings may come through a YAML merge key (`<<: *defaults`);
- a scalar holding a whole reference with a tag or digest
  (`image: ghcr.io/acme/api:1.2`);
- explicit dotted key paths per service (`keys:` in promoter.yaml) for charts
  that use other names.
"""

from __future__ import annotations

from collections.abc import Iterator

from promoter.core.edit.manifests import found_ref, is_flow
from promoter.core.edit.model import (
    Found,
    HelmKeys,
    NodeError,
    Rewrite,
    Splice,
    Target,
    current_ref,
    matches,
    text_of,
)
from promoter.core.edit.splicing import replace_scalar
from promoter.core.images import validate_digest
from promoter.core.yamlnodes import (
    MappingNode,
    Node,
    ScalarNode,
    SequenceNode,
    get,
    line_of,
    scalar,
)

_PAIR_KEYS = ("repository", "registry", "tag", "digest")


def values_root(doc: Node) -> Node | None:
    """The node holding Helm values in this document."""
    if scalar(get(doc, "kind")) == "HelmRelease":
        return get(get(doc, "spec"), "values")
    return doc


def find(doc: Node, target: Target) -> list[Found]:
    root = values_root(doc)
    if root is None:
        return []
    if target.helm_keys is not None:
        return _find_keys(root, target, target.helm_keys)
    found: list[Found] = []
    _walk(root, None, target, found, set())
    return found


def _walk(
    node: Node, parent: Node | None, target: Target, found: list[Found], seen: set[int]
) -> None:
    if id(node) in seen:  # an alias repeats a node (and may even loop)
        return
    seen.add(id(node))
    if isinstance(node, ScalarNode):
        f = found_ref(node, target, "helm", is_flow(parent))
        if f is not None and (f.ref.tag or f.ref.digest):
            found.append(f)
        return
    if isinstance(node, SequenceNode):
        for item in node.value:
            _walk(item, node, target, found, seen)
        return
    if not isinstance(node, MappingNode):
        return
    pair = _repository_tag_pair(node, target)
    if pair is not None:
        found.append(pair)
    for key, value in node.value:
        if pair is not None and scalar(key) in _PAIR_KEYS:
            continue
        _walk(value, node, target, found, seen)


def lookup(node: Node | None, key: str) -> Node | None:
    """`get`, honouring YAML merge keys: own pairs first, then `<<: *a` or
    `<<: [*a, *b]` in order."""
    own = get(node, key)
    if own is not None or not isinstance(node, MappingNode):
        return own
    for merged in _merged(node):
        value = lookup(merged, key)
        if value is not None:
            return value
    return None


def _merged(node: MappingNode) -> Iterator[Node]:
    for k, v in node.value:
        if isinstance(k, ScalarNode) and k.value == "<<":
            yield from v.value if isinstance(v, SequenceNode) else [v]


def _repository_tag_pair(node: MappingNode, target: Target) -> Found | None:
    repository = scalar(lookup(node, "repository"))
    tag_node = lookup(node, "tag")
    if not repository or not isinstance(tag_node, ScalarNode):
        return None
    registry = scalar(lookup(node, "registry"))
    effective = f"{registry.rstrip('/')}/{repository}" if registry else repository
    if not matches(effective, target):
        return None
    return _found(node, effective, tag_node, lookup(node, "digest"))


def _found(
    mapping: Node | None, repository: str, tag_node: ScalarNode, digest_node: Node | None
) -> Found:
    tag, _, inline_digest = (text_of(tag_node) or "").partition("@")
    digest = text_of(digest_node) or inline_digest or None
    separate = digest_node if isinstance(digest_node, ScalarNode) else None
    return Found(
        kind="helm",
        line=line_of(tag_node),
        ref=current_ref(tag_node, repository, tag or None, digest),
        rewrite=_pair_rewriter(mapping, tag_node, separate),
        key=(tag_node.start_mark.index, tag_node.end_mark.index),
        covers=((separate.start_mark.index, separate.end_mark.index),) if separate else (),
    )


def _pair_rewriter(
    mapping: Node | None, tag_node: ScalarNode, digest_node: ScalarNode | None
) -> Rewrite:
    in_flow = is_flow(mapping)

    def rewrite(text: str, tag: str | None, digest: str | None) -> list[Splice]:
        if tag is None:
            raise NodeError(
                line_of(tag_node),
                "Helm values need a tag; a digest alone cannot be written into `tag:`",
                hint="pass --tag together with --digest",
            )
        if digest_node is not None:  # kept, emptied when there is no digest
            return [
                replace_scalar(text, tag_node, tag, in_flow=in_flow),
                replace_scalar(text, digest_node, digest or "", in_flow=in_flow),
            ]
        value = f"{tag}@{validate_digest(digest)}" if digest else tag
        return [replace_scalar(text, tag_node, value, in_flow=in_flow)]

    return rewrite


def _find_keys(root: Node, target: Target, keys: HelmKeys) -> list[Found]:
    tag_node = _at(root, keys.tag)
    if not isinstance(tag_node, ScalarNode):
        return []
    repository = scalar(_at(root, keys.repository)) if keys.repository else None
    registry = scalar(_at(root, keys.registry)) if keys.registry else None
    effective = target.repository
    if repository:
        effective = f"{registry.rstrip('/')}/{repository}" if registry else repository
        if not matches(effective, target):
            return []
    digest_node = _at(root, keys.digest) if keys.digest else None
    parent = _at(root, keys.tag.rpartition(".")[0]) if "." in keys.tag else root
    return [_found(parent, effective, tag_node, digest_node)]


def _at(root: Node, dotted: str) -> Node | None:
    node: Node | None = root
    for part in dotted.split("."):
        node = lookup(node, part)
    return node
