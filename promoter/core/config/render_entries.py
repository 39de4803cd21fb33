"""`render:` in promoter.yaml (a service, an environment or `defaults`):
how files become Kubernetes objects — `kustomize` or `plain` said outright,
a Helm chart with values files, or a Jsonnet program."""

from __future__ import annotations

from typing import Any

from promoter.core.config.model import (
    DIRECTORY_RENDERERS,
    DirectoryRender,
    HelmRender,
    JsonnetRender,
    RenderSpec,
)
from promoter.core.config.reader import BOOL, FLOAT, INT, NULL, STR, Entries, NodeReader, kind_of
from promoter.core.config.templates import path_problem, template_problem
from promoter.core.yamlnodes import MappingNode, Node, ScalarNode, SequenceNode

_KINDS = ("helm", "jsonnet")
_HELM_KEYS = ("chart", "release", "namespace", "values", "set")
_JSONNET_KEYS = ("main", "extVars", "tlas", "libs")


def _value_problem(text: str) -> str | None:
    return template_problem(text, ("service", "env"))


def plain(node: Node) -> Any:
    """A node as plain data, by the YAML 1.2 core schema the nodes were
    resolved with (inline Helm values: `set:`)."""
    if isinstance(node, MappingNode):
        return {str(plain(k)): plain(v) for k, v in node.value}
    if isinstance(node, SequenceNode):
        return [plain(v) for v in node.value]
    text = str(node.value)
    if node.tag == INT:
        return int(text.replace("_", ""), 0) if text[:2].lower() in ("0x", "0o") else int(text)
    if node.tag == FLOAT:
        lowered = text.lower()
        if lowered in (".inf", "+.inf", "-.inf", ".nan"):
            return float(lowered.replace(".", ""))
        return float(text)
    if node.tag == BOOL:
        return text.lower() == "true"
    if node.tag == NULL:
        return None
    return text


class RenderEntries(NodeReader):
    def render_spec(self, entries: Entries, label: str) -> tuple[bool, RenderSpec | None]:
        """(valid, the spec or None when absent)."""
        if "render" not in entries:
            return True, None
        key_node, node = entries["render"]
        sub_label = f"{label}: render"
        if isinstance(node, ScalarNode):
            text = str(node.value)
            if node.tag == STR and text in DIRECTORY_RENDERERS:
                return True, DirectoryRender(text)
            self.problem(
                node,
                f"{sub_label}: {text!r} is not a renderer; use `kustomize`, `plain`, "
                "or a mapping with `helm:` or `jsonnet:`",
            )
            return False, None
        sub = self.mapping(node, sub_label, _KINDS, at=key_node)
        if sub is None:
            return False, None
        if len(sub) != 1:
            self.problem(
                key_node,
                f"{sub_label} needs exactly one of: {', '.join(_KINDS)} "
                "(or the word `kustomize` or `plain`)",
            )
            return False, None
        ((kind, (kind_key, body)),) = sub.items()
        count = len(self.problems)
        spec = (
            self._helm(body, kind_key, f"{sub_label}: helm")
            if kind == "helm"
            else self._jsonnet(body, kind_key, f"{sub_label}: jsonnet")
        )
        return len(self.problems) == count and spec is not None, spec

    def _helm(self, node: Node, at: Node, label: str) -> HelmRender | None:
        entries = self.mapping(node, label, _HELM_KEYS, at=at)
        if entries is None:
            return None
        if "chart" not in entries:
            self.problem(at, f"{label}: missing required key 'chart' (the chart's directory)")
            return None
        chart = self.checked(entries, "chart", label, path_problem)
        release = self.checked(entries, "release", label, _value_problem)
        namespace = self.checked(entries, "namespace", label, _value_problem)
        values = self._paths(entries, "values", label)
        inline: dict[str, Any] = {}
        if "set" in entries:
            set_key, set_node = entries["set"]
            if isinstance(set_node, MappingNode):
                inline = plain(set_node)
            else:
                self.problem(set_key, f"{label}: set must be a mapping, got {kind_of(set_node)}")
        if chart is None:
            return None
        return HelmRender(chart, release, namespace, values, inline)

    def _jsonnet(self, node: Node, at: Node, label: str) -> JsonnetRender | None:
        entries = self.mapping(node, label, _JSONNET_KEYS, at=at)
        if entries is None:
            return None
        if "main" not in entries:
            self.problem(at, f"{label}: missing required key 'main' (the .jsonnet file)")
            return None
        main = self.checked(entries, "main", label, path_problem)
        ext_vars = self._strings(entries, "extVars", label)
        tlas = self._strings(entries, "tlas", label)
        libs = self._paths(entries, "libs", label)
        if main is None:
            return None
        return JsonnetRender(main, ext_vars, tlas, libs or ())

    def _paths(self, entries: Entries, key: str, label: str) -> tuple[str, ...] | None:
        if key not in entries:
            return None
        key_node, node = entries[key]
        if not isinstance(node, SequenceNode):
            self.problem(key_node, f"{label}: {key} must be a list of paths, got {kind_of(node)}")
            return None
        out = []
        for index, item in enumerate(node.value):
            problem = (
                path_problem(str(item.value))
                if isinstance(item, ScalarNode) and item.tag == STR
                else f"must be a path, got {kind_of(item)}"
            )
            if problem:
                self.problem(item, f"{label}: {key}[{index}]: {problem}")
                continue
            out.append(str(item.value))
        return tuple(out)

    def _strings(self, entries: Entries, key: str, label: str) -> dict[str, str]:
        if key not in entries:
            return {}
        key_node, node = entries[key]
        sub = self.mapping(node, f"{label}: {key}", None, at=key_node)
        if sub is None:
            return {}
        out = {}
        for name in sub:
            text = self.checked(sub, name, f"{label}: {key}", _value_problem)
            if text is not None:
                out[name] = text
        return out
