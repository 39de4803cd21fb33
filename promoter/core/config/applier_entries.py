"""`applier:` in promoter.yaml (an environment or `defaults`): who applies the
environment — the bundled agent (`promoter`, the default), Argo CD or Flux —
so that healthy-upstream, `promoter wait` and `promoter export` read and
write the controller that really runs it."""

from __future__ import annotations

import re

from promoter.core.config.fields import api_url_problem
from promoter.core.config.model import (
    APPLIERS,
    ARGOCD_NAMESPACE,
    SYNC_POLICIES,
    AgentSettings,
    ApplierSpec,
    ArgoCDApplier,
    FluxApplier,
)
from promoter.core.config.reader import STR, Entries, NodeReader
from promoter.core.config.templates import template_problem
from promoter.core.yamlnodes import ScalarNode

_ARGOCD_KEYS = ("applications", "applicationSet", "namespace", "server", "sync")
_FLUX_KEYS = ("kustomizations", "helmReleases")
_PROMOTER_KEYS = ("namespaces", "clusterScoped", "serviceAccount", "decryption")
_KIND = re.compile(r"[A-Z][A-Za-z0-9]*(\.[a-z0-9]([-a-z0-9.]*[a-z0-9])?)?")
_DNS_NAME = re.compile(r"[a-z0-9]([-a-z0-9.]*[a-z0-9])?")
PROMOTER = "promoter"


def _object_name_problem(text: str) -> str | None:
    problem = template_problem(text, ("env",))
    if problem is not None:
        return problem
    if not _DNS_NAME.fullmatch(text.replace("{env}", "env")) or len(text) > 253:
        return f"{text!r} is not a Kubernetes object name (lower case, digits, '-', '.')"
    return None


def _namespaced_problem(text: str) -> str | None:
    namespace, _, name = text.rpartition("/")
    for part in (namespace, name) if namespace else (name,):
        problem = _object_name_problem(part)
        if problem is not None:
            return f"{problem}; write namespace/name or name"
    return None


def _kind_problem(text: str) -> str | None:
    if _KIND.fullmatch(text):
        return None
    example = "ClusterRole.rbac.authorization.k8s.io"
    return f"{text!r} is not a kind; write Kind or Kind.group (e.g. {example})"


def _account_problem(text: str) -> str | None:
    if "/" not in text:
        return f"{text!r} needs its namespace: write namespace/name"
    return _namespaced_problem(text)


def _sync_problem(text: str) -> str | None:
    return None if text in SYNC_POLICIES else f"must be one of {', '.join(SYNC_POLICIES)}"


Applier = tuple[bool, ApplierSpec | None, AgentSettings | None]


class ApplierEntries(NodeReader):
    def applier_spec(self, entries: Entries, label: str) -> Applier:
        """(valid, the controller's spec — None: absent or `promoter` —, the
        bundled agent's settings when `promoter:` has them)."""
        if "applier" not in entries:
            return True, None, None
        key_node, node = entries["applier"]
        sub_label = f"{label}: applier"
        if isinstance(node, ScalarNode):
            if node.tag == STR and node.value == PROMOTER:
                return True, None, None
            self.problem(
                node,
                f"{sub_label}: {node.value!r} is not an applier; use `promoter` (the bundled "
                "agent), or a mapping with `promoter:`, `argocd:` or `flux:`",
            )
            return False, None, None
        sub = self.mapping(node, sub_label, APPLIERS, at=key_node)
        if sub is None:
            return False, None, None
        if len(sub) != 1:
            self.problem(key_node, f"{sub_label} needs exactly one of: promoter, argocd, flux")
            return False, None, None
        ((kind, (kind_key, body)),) = sub.items()
        count = len(self.problems)
        keys = {"promoter": _PROMOTER_KEYS, "argocd": _ARGOCD_KEYS, "flux": _FLUX_KEYS}[kind]
        inner = self.mapping(body, f"{sub_label}: {kind}", keys, at=kind_key)
        if inner is None:
            return False, None, None
        where = f"{sub_label}: {kind}"
        if kind == PROMOTER:
            agent = AgentSettings(
                namespaces=self.string_list(inner, "namespaces", where, _object_name_problem),
                cluster_scoped=self.string_list(inner, "clusterScoped", where, _kind_problem),
                service_account=self.checked(inner, "serviceAccount", where, _account_problem),
                decryption_secret=self._decryption(inner, where),
            )
            return len(self.problems) == count, None, agent
        spec: ApplierSpec
        if kind == "argocd":
            apps = self.string_list(inner, "applications", where, _object_name_problem) or ()
            app_set = self.checked(inner, "applicationSet", where, _object_name_problem)
            if not apps and app_set is None:
                self.problem(kind_key, f"{where}: name `applications` or an `applicationSet`")
            spec = ArgoCDApplier(
                applications=apps,
                application_set=app_set,
                namespace=self.checked(inner, "namespace", where, _object_name_problem)
                or ARGOCD_NAMESPACE,
                server=self._server(inner, where),
                sync=self.checked(inner, "sync", where, _sync_problem) or "automated",
            )
        else:
            kustomizations = self.string_list(inner, "kustomizations", where, _namespaced_problem)
            releases = self.string_list(inner, "helmReleases", where, _namespaced_problem)
            if not kustomizations and not releases:
                self.problem(kind_key, f"{where}: name `kustomizations` or `helmReleases`")
            spec = FluxApplier(kustomizations or (), releases or ())
        return len(self.problems) == count, spec, None

    def _decryption(self, entries: Entries, label: str) -> str | None:
        if "decryption" not in entries:
            return None
        key_node, node = entries["decryption"]
        inner = self.mapping(node, f"{label}: decryption", ("secretRef",), at=key_node)
        if inner is None:
            return None
        name = self.checked(inner, "secretRef", f"{label}: decryption", _object_name_problem)
        if name is None and "secretRef" not in inner:
            self.problem(key_node, f"{label}: decryption needs `secretRef: NAME` (a Secret)")
        return name

    def _server(self, entries: Entries, label: str) -> str | None:
        server = self.checked(entries, "server", label, api_url_problem)
        return None if server is None else server.rstrip("/")
