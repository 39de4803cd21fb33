"""Helm values: plain values files and a HelmRelease's `spec.values`.

Recognised layouts, anywhere in the values tree:
- a mapping with `repository` (+ optional `registry`) and `tag` siblings,
  optionally a `digest` sibling; a tag may carry its digest (`1.2@sha256:…`);
- a scalar holding a whole reference with a tag or digest
  (`image: ghcr.io/acme/api:1.2`);
- explicit dotted key paths per service (`keys:` in promoter.yaml) for charts
  that use other names.
"""

from __future__ import annotations

from promoter.edit.manifests import found_ref, is_flow
from promoter.edit.model import Found, HelmKeyPaths, Rewrite, Splice, Target, matches
from promoter.edit.splicing import replace_scalar
from promoter.errors import EditError
from promoter.images import ImageRef, validate_digest
from promoter.yamlnodes import MappingNode, Node, ScalarNode, SequenceNode, get, line_of, scalar


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
    _walk(root, None, target, found)
    return found


def _walk(node: Node, parent: Node | None, target: Target, found: list[Found]) -> None:
    if isinstance(node, ScalarNode):
        f = found_ref(node, target, "helm", is_flow(parent))
        if f is not None and (f.ref.tag or f.ref.digest):
            found.append(f)
        return
    if isinstance(node, SequenceNode):
        for item in node.value:
            _walk(item, node, target, found)
        return
    if not isinstance(node, MappingNode):
        return
    pair = _repository_tag_pair(node, target)
    if pair is not None:
        found.append(pair)
    for key, value in node.value:
        if pair is not None and scalar(key) in ("repository", "registry", "tag", "digest"):
            continue
        _walk(value, node, target, found)


def _repository_tag_pair(node: MappingNode, target: Target) -> Found | None:
    repository = scalar(get(node, "repository"))
    tag_node = get(node, "tag")
    if not repository or not isinstance(tag_node, ScalarNode):
        return None
    registry = scalar(get(node, "registry"))
    effective = f"{registry.rstrip('/')}/{repository}" if registry else repository
    if not matches(effective, target):
        return None
    return _found(node, effective, tag_node, get(node, "digest"))


def _found(
    mapping: Node | None, repository: str, tag_node: ScalarNode, digest_node: Node | None
) -> Found:
    raw_tag = str(tag_node.value)
    tag, _, inline_digest = raw_tag.partition("@")
    digest = scalar(digest_node) or inline_digest or None
    return Found(
        kind="helm",
        line=line_of(tag_node),
        ref=ImageRef(repository, tag or None, digest),
        rewrite=_pair_rewriter(mapping, tag_node, digest_node),
        key=(tag_node.start_mark.index, tag_node.end_mark.index),
    )


def _pair_rewriter(mapping: Node | None, tag_node: ScalarNode, digest_node: Node | None) -> Rewrite:
    in_flow = is_flow(mapping)

    def rewrite(text: str, tag: str | None, digest: str | None) -> list[Splice]:
        if tag is None:
            raise EditError(
                f"line {line_of(tag_node)}: Helm values need a tag; a digest alone cannot "
                "be written into `tag:`",
                hint="pass --tag together with --digest",
            )
        if isinstance(digest_node, ScalarNode):
            return [
                replace_scalar(tag_node, tag, in_flow=in_flow),
                replace_scalar(digest_node, digest or "", in_flow=in_flow),
            ]
        value = f"{tag}@{validate_digest(digest)}" if digest else tag
        return [replace_scalar(tag_node, value, in_flow=in_flow)]

    return rewrite


def _find_keys(root: Node, target: Target, keys: HelmKeyPaths) -> list[Found]:
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
        node = get(node, part)
    return node
