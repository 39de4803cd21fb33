"""The order objects are applied in (and pruned in, reversed).

Batches, each applied before the next starts:

1. CustomResourceDefinitions: the loop waits for them to be Established
   and refreshes discovery, or custom resources of those kinds fail.
2. Namespaces: everything namespaced needs its namespace.
3. One batch per wave (`promoter.dev/wave`, else Argo CD's
   `argocd.argoproj.io/sync-wave`; an integer, default 0, lower first).
   CRDs and Namespaces ignore their wave: they always lead, because no
   wave can work without them.

Inside a wave, kinds follow Helm's install order (what an object refers to
comes before it: ServiceAccounts and Secrets before the Pods that mount
them), then custom resources, then admission webhooks last, so a webhook
whose backend is not running yet cannot reject the rest of the wave. Ties
break by key, so the same render always yields the same order.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Any

from promoter.core.applier.errors import WaveError
from promoter.core.applier.keys import CRD, NAMESPACE, group_of, parse_key
from promoter.core.objects import Obj

WAVE_ANNOTATION = "promoter.dev/wave"
ARGOCD_WAVE_ANNOTATION = "argocd.argoproj.io/sync-wave"

# Helm's InstallOrder for built-in kinds, keyed by (group, kind) so a custom
# resource that happens to be called `Service` (Knative) is not mistaken
# for the core one.
BUILTIN_ORDER: tuple[tuple[str, str], ...] = (
    ("scheduling.k8s.io", "PriorityClass"),
    ("node.k8s.io", "RuntimeClass"),
    ("networking.k8s.io", "NetworkPolicy"),
    ("", "ResourceQuota"),
    ("", "LimitRange"),
    ("policy", "PodDisruptionBudget"),
    ("", "ServiceAccount"),
    ("", "Secret"),
    ("", "ConfigMap"),
    ("storage.k8s.io", "StorageClass"),
    ("", "PersistentVolume"),
    ("", "PersistentVolumeClaim"),
    ("rbac.authorization.k8s.io", "ClusterRole"),
    ("rbac.authorization.k8s.io", "ClusterRoleBinding"),
    ("rbac.authorization.k8s.io", "Role"),
    ("rbac.authorization.k8s.io", "RoleBinding"),
    ("", "Service"),
    ("apps", "DaemonSet"),
    ("", "Pod"),
    ("", "ReplicationController"),
    ("apps", "ReplicaSet"),
    ("apps", "Deployment"),
    ("autoscaling", "HorizontalPodAutoscaler"),
    ("apps", "StatefulSet"),
    ("batch", "Job"),
    ("batch", "CronJob"),
    ("networking.k8s.io", "IngressClass"),
    ("networking.k8s.io", "Ingress"),
    ("apiregistration.k8s.io", "APIService"),
)
WEBHOOKS = frozenset(
    {
        ("admissionregistration.k8s.io", "MutatingWebhookConfiguration"),
        ("admissionregistration.k8s.io", "ValidatingWebhookConfiguration"),
    }
)

_RANK = {gk: i for i, gk in enumerate(BUILTIN_ORDER)}
_CUSTOM_RANK = len(BUILTIN_ORDER)
_WEBHOOK_RANK = _CUSTOM_RANK + 1
# Same grammar as Argo CD's sync-wave (strconv.Atoi): optional sign, digits.
_WAVE = re.compile(r"[+-]?[0-9]+")

_CRD_BATCH = (0, 0)
_NAMESPACE_BATCH = (1, 0)

SortKey = tuple[tuple[int, int], int, str]


def kind_rank(group: str, kind: str) -> int:
    """Position of a kind inside a wave: built-ins by Helm's order, then
    everything unknown (custom resources), then webhooks."""
    if (group, kind) in WEBHOOKS:
        return _WEBHOOK_RANK
    return _RANK.get((group, kind), _CUSTOM_RANK)


def wave_of(annotations: Mapping[str, Any] | None, key: str) -> int:
    """The object's wave; WaveError naming `key` when the annotation is not
    an integer string (annotation values must be strings: the API server
    rejects an unquoted `1`, so say so now rather than mid-apply)."""
    found = annotations or {}
    name = WAVE_ANNOTATION if WAVE_ANNOTATION in found else ARGOCD_WAVE_ANNOTATION
    raw = found.get(name)
    if raw is None:
        return 0
    if not isinstance(raw, str):
        raise WaveError(
            f"{key}: annotation {name} must be a string, got {raw!r}",
            hint=f'quote it: {name}: "{raw}"',
        )
    if not _WAVE.fullmatch(raw):
        raise WaveError(
            f"{key}: annotation {name}: {raw!r} is not an integer",
            hint=f'use a whole number such as {name}: "-1" or "2"',
        )
    return int(raw)


def sort_key(group: str, kind: str, wave: int, key: str) -> SortKey:
    """(batch, kind rank, key): sorting by it gives the apply order."""
    if (group, kind) == CRD:
        batch = _CRD_BATCH
    elif (group, kind) == NAMESPACE:
        batch = _NAMESPACE_BATCH
    else:
        batch = (2, wave)
    return batch, kind_rank(group, kind), key


def annotations_of(body: Mapping[str, Any]) -> Mapping[str, Any]:
    meta = body.get("metadata")
    ann = meta.get("annotations") if isinstance(meta, Mapping) else None
    return ann if isinstance(ann, Mapping) else {}


def apply_order(objs: Iterable[Obj]) -> list[list[Obj]]:
    """The objects in batches (see the module docstring); empty batches are
    left out. Every bad wave annotation is reported at once, so one fix
    round is enough."""
    keyed: list[tuple[SortKey, Obj]] = []
    problems: list[WaveError] = []
    for obj in objs:
        try:
            wave = wave_of(annotations_of(obj.body), obj.key)
        except WaveError as err:
            problems.append(err)
            continue
        keyed.append((sort_key(group_of(obj.api_version), obj.kind, wave, obj.key), obj))
    if problems:
        if len(problems) == 1:
            raise problems[0]
        raise WaveError(
            "invalid wave annotations:\n" + "\n".join(f"  {p.message}" for p in problems),
            hint=problems[0].hint,
        )
    # Stable sort: identical keys (which check_render rejects) keep input order.
    keyed.sort(key=lambda pair: pair[0])
    batches: list[list[Obj]] = []
    current: tuple[int, int] | None = None
    for (batch, _, _), obj in keyed:
        if batch != current:
            batches.append([])
            current = batch
        batches[-1].append(obj)
    return batches


def prune_order(objs: Iterable[Obj]) -> list[list[Obj]]:
    """Apply order reversed, batch by batch and inside each batch: webhooks
    go first (so they cannot block deletes), CRDs last (deleting a CRD
    deletes every custom resource of it)."""
    return [batch[::-1] for batch in reversed(apply_order(objs))]


def prune_key_order(keys: Iterable[str], annotations: Mapping[str, Mapping[str, Any]]) -> list[str]:
    """Keys in prune order, for objects known only by key and live metadata.

    A bad wave annotation on a live object falls back to wave 0: it only
    affects the order of deletes, and refusing to prune over it would keep
    objects Git removed alive forever.
    """

    def rank(key: str) -> SortKey:
        parsed = parse_key(key)
        try:
            wave = wave_of(annotations.get(key), key)
        except WaveError:
            wave = 0
        return sort_key(parsed.group, parsed.kind, wave, key)

    return sorted(keys, key=rank, reverse=True)
