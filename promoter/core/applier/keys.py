"""Inventory keys (`group/Kind/namespace/name`, as `objects.Obj.key` builds
them) and the well-known kinds the rules single out."""

from __future__ import annotations

from typing import NamedTuple

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
