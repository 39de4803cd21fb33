"""Inventory keys (`group/Kind/namespace/name`, as `objects.Obj.key` builds
them) and the well-known kinds the rules single out."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, NamedTuple

if TYPE_CHECKING:
    from promoter.core.objects import Obj

CRD = ("apiextensions.k8s.io", "CustomResourceDefinition")
NAMESPACE = ("", "Namespace")
PVC = ("", "PersistentVolumeClaim")
PROTECTED_KINDS = {gk: gk[1] for gk in (NAMESPACE, PVC, CRD)}
"""Kinds prune deletes only when --prune-allow names them (data or whole APIs go with them)."""


class Key(NamedTuple):
    group: str
    kind: str
    namespace: str
    name: str


def group_of(api_version: str) -> str:
    """`apps/v1` -> `apps`, `v1` -> `` (the core group)."""
    return api_version.rpartition("/")[0]


def make_key(group: str, kind: str, namespace: str, name: str) -> str:
    return f"{group}/{kind}/{namespace}/{name}"


def parse_key(key: str) -> Key:
    """Split a key; ValueError when it is not one (groups, kinds, namespaces
    and names never contain `/`, so there are exactly four parts)."""
    parts = key.split("/")
    if len(parts) != 4 or not parts[1] or not parts[3]:
        raise ValueError(f"not an object key (group/Kind/namespace/name): {key!r}")
    return Key(*parts)


def kinds_to_list(
    desired: Sequence[Obj], tracked: Iterable[str]
) -> list[tuple[str, str, str, str | None]]:
    """(apiVersion or "", kind, group, namespace) the agent LISTs: those of
    the desired objects, then those only the inventory still tracks (with no
    apiVersion: the group's preferred one), so desired apiVersions win."""
    out: dict[tuple[str, str, str | None], tuple[str, str, str, str | None]] = {}
    for obj in desired:
        group = group_of(obj.api_version)
        where = obj.namespace or None
        out.setdefault((group, obj.kind, where), (obj.api_version, obj.kind, group, where))
    for key in tracked:
        group, kind, namespace, _ = key.split("/")
        out.setdefault((group, kind, namespace or None), ("", kind, group, namespace or None))
    return list(out.values())
