"""Chart versions where Helm shops pin them, for a service that names a
chart (`chart: NAME`) instead of an image:

- a Flux `HelmRelease`: `spec.chart.spec.version` where `spec.chart.spec.chart`
  is the chart, or in a kustomize patch of the release (no `chart:`, named
  like the chart or the service) that sets the version;
- a `Chart.yaml` dependency: `dependencies[name=NAME].version`;
- an Argo CD `Application`: `spec.source.targetRevision` (or one of
  `spec.sources[]`) whose `chart` is the chart.

Each is one scalar, replaced in place; the version is the reference's tag
(chart versions are semantic versions, which are valid tags).
"""

from __future__ import annotations

from promoter.core.edit.manifests import is_flow
from promoter.core.edit.model import Found, NodeError, Rewrite, Splice, Target, current_ref, text_of
from promoter.core.edit.splicing import replace_scalar
from promoter.core.yamlnodes import (
    MappingNode,
    Node,
    ScalarNode,
    SequenceNode,
    get,
    line_of,
    scalar,
)


def find(filename: str, doc: Node, target: Target) -> list[Found]:
    name = target.chart
    if name is None or not isinstance(doc, MappingNode):
        return []
    base = filename.rsplit("/", 1)[-1]
    if base == "Chart.yaml":
        return _dependencies(doc, name, target)
    kind = scalar(get(doc, "kind"))
    spec = get(doc, "spec")
    if kind == "HelmRelease":
        chart_spec = get(get(spec, "chart"), "spec")
        chart = scalar(get(chart_spec, "chart"))
        # A kustomize patch of the release sets the version without naming
        # the chart: it names the release, which is the chart's or the service's.
        release = scalar(get(get(doc, "metadata"), "name"))
        if chart == name or (chart is None and release in (name, target.service)):
            return _version(chart_spec, "version", target)
        return []
    if kind == "Application":
        sources = [get(spec, "source")]
        listed = get(spec, "sources")
        if isinstance(listed, SequenceNode):
            sources += list(listed.value)
        found: list[Found] = []
        for source in sources:
            if isinstance(source, MappingNode) and scalar(get(source, "chart")) == name:
                found += _version(source, "targetRevision", target)
        return found
    return []


def _dependencies(doc: MappingNode, name: str, target: Target) -> list[Found]:
    deps = get(doc, "dependencies")
    if not isinstance(deps, SequenceNode):
        return []
    found: list[Found] = []
    for dep in deps.value:
        if isinstance(dep, MappingNode) and scalar(get(dep, "name")) == name:
            found += _version(dep, "version", target)
    return found


def _version(mapping: Node | None, key: str, target: Target) -> list[Found]:
    node = get(mapping, key)
    if not isinstance(node, ScalarNode):
        return []
    version = text_of(node)
    return [
        Found(
            kind="chart",
            line=line_of(node),
            ref=current_ref(node, target.repository, version, None),
            rewrite=_rewriter(node, is_flow(mapping)),
            key=(node.start_mark.index, node.end_mark.index),
            sets_digest=False,
        )
    ]


def _rewriter(node: ScalarNode, in_flow: bool) -> Rewrite:
    def rewrite(text: str, tag: str | None, digest: str | None) -> list[Splice]:
        if tag is None or digest is not None:
            raise NodeError(
                line_of(node),
                "a chart is pinned by its version alone",
                hint="pass --chart-version VERSION (no digest)",
            )
        return [replace_scalar(text, node, tag, in_flow=in_flow)]

    return rewrite
