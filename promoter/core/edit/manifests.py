"""Container images in Kubernetes workload manifests (and partial manifests
used as kustomize patches, which carry the same paths)."""

from __future__ import annotations

from collections.abc import Iterable, Iterator

from promoter.core.edit.model import Found, Rewrite, Splice, Target, parse_ref
from promoter.core.edit.splicing import replace_scalar
from promoter.core.images import format_reference
from promoter.core.yamlnodes import (
    MappingNode,
    Node,
    ScalarNode,
    SequenceNode,
    get,
    line_of,
    scalar,
)

# Where each kind keeps its PodSpec.
POD_SPEC_PATHS: dict[str, tuple[str, ...]] = {
    "Pod": ("spec",),
    "Deployment": ("spec", "template", "spec"),
    "StatefulSet": ("spec", "template", "spec"),
    "DaemonSet": ("spec", "template", "spec"),
    "ReplicaSet": ("spec", "template", "spec"),
    "ReplicationController": ("spec", "template", "spec"),
    "Job": ("spec", "template", "spec"),
    "Rollout": ("spec", "template", "spec"),  # Argo Rollouts
    "PodTemplate": ("template", "spec"),
    "CronJob": ("spec", "jobTemplate", "spec", "template", "spec"),
}
CONTAINER_LISTS = ("containers", "initContainers", "ephemeralContainers")


def is_manifest(doc: Node) -> bool:
    return scalar(get(doc, "kind")) is not None and scalar(get(doc, "apiVersion")) is not None


def image_nodes(doc: Node) -> Iterator[tuple[ScalarNode, Node]]:
    """Every container `image:` scalar of a workload document, with its container."""
    kind = scalar(get(doc, "kind")) or ""
    if kind.endswith("List"):  # v1 List (and FooList) of objects
        items = get(doc, "items")
        for item in items.value if isinstance(items, SequenceNode) else []:
            yield from image_nodes(item)
        return
    path = POD_SPEC_PATHS.get(kind)
    if path is None:
        return
    node: Node | None = doc
    for key in path:
        node = get(node, key)
    for list_key in CONTAINER_LISTS:
        yield from _container_images(_elements(get(node, list_key)))


def _elements(node: Node | None) -> list[Node]:
    return list(node.value) if isinstance(node, SequenceNode) else []


def _container_images(containers: Iterable[Node]) -> Iterator[tuple[ScalarNode, Node]]:
    for container in containers:
        image = get(container, "image")
        if isinstance(image, ScalarNode):
            yield image, container


def find(doc: Node, target: Target) -> list[Found]:
    return [
        f
        for node, container in image_nodes(doc)
        if (f := found_ref(node, target, "manifest", is_flow(container)))
    ]


def find_json_patch(doc: Node, target: Target) -> list[Found]:
    """JSON 6902 patches: `[{op: replace, path: /spec/.../image, value: ref}]`,
    and ops adding or replacing whole containers (`value: {name, image}`) or
    container lists."""
    if not isinstance(doc, SequenceNode):
        return []
    found = []
    for op in doc.value:
        path = scalar(get(op, "path")) or ""
        value = get(op, "value")
        candidates: list[tuple[ScalarNode, Node | None]] = []
        if path.endswith("/image") and isinstance(value, ScalarNode):
            candidates.append((value, op))
        elif "ontainers" in path:  # a whole container, or a list of them
            containers = [value] if isinstance(value, MappingNode) else _elements(value)
            candidates += _container_images(containers)
        for node, parent in candidates:
            f = found_ref(node, target, "manifest", is_flow(parent))
            if f is not None:
                found.append(f)
    return found


def found_ref(node: ScalarNode, target: Target, kind: str, in_flow: bool = False) -> Found | None:
    """A Found for a scalar holding a whole reference to the target image."""
    text = str(node.value)
    # Cheap test first: helm values are full of scalars, and any reference to
    # the target contains its last path component.
    if target.name_hint not in text:
        return None
    ref = parse_ref(text)
    if ref is None or not ref.same_repository(target.repository):
        return None
    return Found(
        kind=kind,
        line=line_of(node),
        ref=ref,
        rewrite=whole_ref_rewriter(node, ref.repository, in_flow),
        key=(node.start_mark.index, node.end_mark.index),
    )


def whole_ref_rewriter(node: ScalarNode, repository: str, in_flow: bool = False) -> Rewrite:
    def rewrite(text: str, tag: str | None, digest: str | None) -> list[Splice]:
        new = format_reference(repository, tag, digest)
        return [replace_scalar(text, node, new, in_flow=in_flow)]

    return rewrite


def is_flow(parent: Node | None) -> bool:
    return isinstance(parent, MappingNode | SequenceNode) and bool(parent.flow_style)
