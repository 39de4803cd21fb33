"""The resource types the fake serves, and its discovery documents."""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

VERBS = ["create", "delete", "deletecollection", "get", "list", "patch", "update"]
"""No "watch": the fake does not implement it, so it does not advertise it."""


@dataclass(frozen=True)
class ResourceType:
    group: str
    version: str
    kind: str
    plural: str
    namespaced: bool
    short_names: tuple[str, ...] = ()
    categories: tuple[str, ...] = ()
    status: bool = False
    """Has a /status subresource: writes to the main resource leave status alone."""
    generation: bool = False
    """Maintains metadata.generation (bumped when anything but metadata/status changes)."""
    custom: bool = False
    """Defined by a CRD: no built-in list semantics, LIST items carry apiVersion/kind."""

    @property
    def api_version(self) -> str:
        return f"{self.group}/{self.version}" if self.group else self.version

    @property
    def singular(self) -> str:
        return self.kind.lower()

    @property
    def label(self) -> str:
        """`deployments.apps`, `configmaps`: how counters and messages name it."""
        return f"{self.plural}.{self.group}" if self.group else self.plural

    def discovery(self) -> list[dict[str, Any]]:
        digest = hashlib.sha256(f"{self.api_version}/{self.kind}".encode()).digest()[:8]
        entry: dict[str, Any] = {
            "name": self.plural,
            "singularName": self.singular,
            "namespaced": self.namespaced,
            "kind": self.kind,
            "verbs": list(VERBS),
            "storageVersionHash": base64.b64encode(digest).decode(),
        }
        if self.short_names:
            entry["shortNames"] = list(self.short_names)
        if self.categories:
            entry["categories"] = list(self.categories)
        entries = [entry]
        if self.status:
            entries.append(
                {
                    "name": f"{self.plural}/status",
                    "singularName": "",
                    "namespaced": self.namespaced,
                    "kind": self.kind,
                    "verbs": ["get", "patch", "update"],
                }
            )
        return entries


def _t(
    api_version: str,
    kind: str,
    plural: str,
    namespaced: bool = True,
    short: Iterable[str] = (),
    cats: Iterable[str] = (),
    status: bool = False,
    generation: bool = False,
    custom: bool = False,
) -> ResourceType:
    group, _, version = api_version.rpartition("/")
    return ResourceType(
        group,
        version,
        kind,
        plural,
        namespaced,
        tuple(short),
        tuple(cats),
        status,
        generation,
        custom,
    )


ALL = ("all",)
BUILTINS: tuple[ResourceType, ...] = (
    _t("v1", "Namespace", "namespaces", False, ["ns"], status=True),
    _t("v1", "ConfigMap", "configmaps", short=["cm"]),
    _t("v1", "Secret", "secrets"),
    _t("v1", "Service", "services", short=["svc"], cats=ALL, status=True),
    _t("v1", "ServiceAccount", "serviceaccounts", short=["sa"]),
    _t("v1", "PersistentVolumeClaim", "persistentvolumeclaims", short=["pvc"], status=True),
    _t("v1", "Pod", "pods", short=["po"], cats=ALL, status=True),
    _t("v1", "Endpoints", "endpoints", short=["ep"]),
    _t("v1", "Event", "events", short=["ev"]),
    _t("v1", "LimitRange", "limitranges", short=["limits"]),
    _t("v1", "ResourceQuota", "resourcequotas", short=["quota"], status=True),
    _t("v1", "PersistentVolume", "persistentvolumes", False, ["pv"], status=True),
    _t(
        "apps/v1",
        "Deployment",
        "deployments",
        short=["deploy"],
        cats=ALL,
        status=True,
        generation=True,
    ),
    _t(
        "apps/v1",
        "StatefulSet",
        "statefulsets",
        short=["sts"],
        cats=ALL,
        status=True,
        generation=True,
    ),
    _t("apps/v1", "DaemonSet", "daemonsets", short=["ds"], cats=ALL, status=True, generation=True),
    _t(
        "apps/v1", "ReplicaSet", "replicasets", short=["rs"], cats=ALL, status=True, generation=True
    ),
    _t("batch/v1", "Job", "jobs", cats=ALL, status=True, generation=True),
    _t("batch/v1", "CronJob", "cronjobs", short=["cj"], cats=ALL, status=True, generation=True),
    _t(
        "autoscaling/v2",
        "HorizontalPodAutoscaler",
        "horizontalpodautoscalers",
        short=["hpa"],
        cats=ALL,
        status=True,
        generation=True,
    ),
    _t(
        "policy/v1",
        "PodDisruptionBudget",
        "poddisruptionbudgets",
        short=["pdb"],
        status=True,
        generation=True,
    ),
    _t("networking.k8s.io/v1", "Ingress", "ingresses", short=["ing"], status=True, generation=True),
    _t("networking.k8s.io/v1", "IngressClass", "ingressclasses", False),
    _t(
        "networking.k8s.io/v1",
        "NetworkPolicy",
        "networkpolicies",
        short=["netpol"],
        generation=True,
    ),
    _t("rbac.authorization.k8s.io/v1", "Role", "roles"),
    _t("rbac.authorization.k8s.io/v1", "RoleBinding", "rolebindings"),
    _t("rbac.authorization.k8s.io/v1", "ClusterRole", "clusterroles", False),
    _t("rbac.authorization.k8s.io/v1", "ClusterRoleBinding", "clusterrolebindings", False),
    _t("storage.k8s.io/v1", "StorageClass", "storageclasses", False, ["sc"]),
    _t("scheduling.k8s.io/v1", "PriorityClass", "priorityclasses", False, ["pc"]),
    _t(
        "apiextensions.k8s.io/v1",
        "CustomResourceDefinition",
        "customresourcedefinitions",
        False,
        ["crd", "crds"],
        status=True,
        generation=True,
    ),
    _t(
        "admissionregistration.k8s.io/v1",
        "MutatingWebhookConfiguration",
        "mutatingwebhookconfigurations",
        False,
        generation=True,
    ),
    _t(
        "admissionregistration.k8s.io/v1",
        "ValidatingWebhookConfiguration",
        "validatingwebhookconfigurations",
        False,
        generation=True,
    ),
)
ROLLOUT = _t(
    "argoproj.io/v1alpha1",
    "Rollout",
    "rollouts",
    short=["ro"],
    status=True,
    generation=True,
    custom=True,
)
"""Argo Rollouts' CRD, served as if installed (FakeKube(argo_rollouts=False) leaves it out)."""


def crd_types(crd: dict[str, Any]) -> list[ResourceType]:
    """The resource types a CustomResourceDefinition serves (one per served version)."""
    spec = crd.get("spec") or {}
    names = spec.get("names") or {}
    types = []
    for version in spec.get("versions") or []:
        if not version.get("served", True):
            continue
        types.append(
            ResourceType(
                group=spec.get("group", ""),
                version=version["name"],
                kind=names.get("kind", ""),
                plural=names.get("plural", ""),
                namespaced=spec.get("scope", "Namespaced") == "Namespaced",
                short_names=tuple(names.get("shortNames") or ()),
                categories=tuple(names.get("categories") or ()),
                status="status" in (version.get("subresources") or {}),
                generation=True,
                custom=True,
            )
        )
    return types


def resource_list(group_version: str, types: Iterable[ResourceType]) -> dict[str, Any]:
    resources: list[dict[str, Any]] = []
    for rt in types:
        resources.extend(rt.discovery())
    return {
        "kind": "APIResourceList",
        "apiVersion": "v1",
        "groupVersion": group_version,
        "resources": resources,
    }


def api_group(name: str, versions: list[str]) -> dict[str, Any]:
    entries = [{"groupVersion": f"{name}/{v}", "version": v} for v in versions]
    return {
        "kind": "APIGroup",
        "apiVersion": "v1",
        "name": name,
        "versions": entries,
        "preferredVersion": dict(entries[0]),
    }
