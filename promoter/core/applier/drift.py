"""Drift: has the cluster moved away from what we applied?

Never compare the desired manifest with the live object: the server adds
defaults and rewrites values (`0.5` CPU comes back as `500m`), so that
comparison reports drift forever and a self-healing agent loops. Compare
instead the result of a *dry-run* server-side apply of the desired object
with the live object: both come from the server, both carry the same
defaults, normalised quantities and fields other managers own, so what
differs is exactly what our apply would change.

A no-change round must not cost a dry-run per object. The inventory records
for each object the hash of what we applied and the resourceVersion we last
saw; one LIST per kind gives the live resourceVersions, and `needs_check`
says which objects still need the dry-run. After a check finds no drift,
record the live resourceVersion, so status-only updates (which bump it) cost
one check, not one per round.
"""

from __future__ import annotations

import copy
import datetime
import hashlib
import json
import re
from collections.abc import Mapping
from typing import Any

from promoter.core.applier.inventory import Inventory
from promoter.core.objects import Obj

# Set and changed by the API server on every write: never drift.
SERVER_OWNED_METADATA = (
    "managedFields",
    "resourceVersion",
    "uid",
    "generation",
    "creationTimestamp",
    "selfLink",
    "deletionTimestamp",
    "deletionGracePeriodSeconds",
)
IGNORED_ANNOTATIONS = ("kubectl.kubernetes.io/last-applied-configuration",)
_IDENT = re.compile(r"[A-Za-z_][A-Za-z0-9_-]*")


def normalise(obj: Mapping[str, Any]) -> dict[str, Any]:
    """A copy without status and server-owned metadata; annotations that
    only kubectl writes are dropped, and so is a map they leave empty."""
    out = copy.deepcopy(dict(obj))
    out.pop("status", None)
    meta = out.get("metadata")
    if isinstance(meta, dict):
        for field in SERVER_OWNED_METADATA:
            meta.pop(field, None)
        annotations = meta.get("annotations")
        if isinstance(annotations, dict):
            for name in IGNORED_ANNOTATIONS:
                annotations.pop(name, None)
            if not annotations:
                del meta["annotations"]
    return out


def drifted(dry_run_result: Mapping[str, Any], live: Mapping[str, Any]) -> list[str]:
    """Paths where live differs from what our apply would make it, e.g.
    `spec.replicas`, `metadata.labels["app.kubernetes.io/name"]`,
    `spec.template.spec.containers[0].image`. Values are left out: a Secret's
    drift must not print the Secret."""
    paths: list[str] = []
    _compare(normalise(dry_run_result), normalise(live), "", paths)
    return paths


def _compare(want: Any, have: Any, path: str, out: list[str]) -> None:
    if isinstance(want, Mapping) and isinstance(have, Mapping):
        for key in sorted(set(want) | set(have), key=str):
            sub = _join(path, str(key))
            if key not in want or key not in have:
                out.append(sub)
            else:
                _compare(want[key], have[key], sub, out)
    elif isinstance(want, list) and isinstance(have, list):
        for i in range(max(len(want), len(have))):
            sub = f"{path}[{i}]"
            if i >= len(want) or i >= len(have):
                out.append(sub)
            else:
                _compare(want[i], have[i], sub, out)
    elif want != have or type(want) is not type(have):
        # type check: 1 == True and 1 == 1.0 in Python, not in Kubernetes.
        out.append(path or "(object)")


def _join(path: str, key: str) -> str:
    part = f".{key}" if _IDENT.fullmatch(key) else f"[{json.dumps(key)}]"
    return (path + part).lstrip(".")


def _jsonable(value: Any) -> str:
    # yaml.safe_load turns an unquoted 2024-01-01 into a date.
    if isinstance(value, datetime.date):  # datetime is a date too
        return value.isoformat()
    raise TypeError(f"not JSON serialisable: {type(value).__name__}")


def desired_hash(obj: Obj | Mapping[str, Any]) -> str:
    """sha256 (hex) of the canonical JSON of the desired object: independent
    of key order and YAML formatting, changed by any value change. Hash the
    body exactly as it is applied (after stamping labels)."""
    body = obj.body if isinstance(obj, Obj) else obj
    text = json.dumps(
        body, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=_jsonable
    )
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def needs_check(key: str, desired_hash: str, live_rv: str | None, inventory: Inventory) -> bool:
    """False only when nothing can have changed: we applied exactly this
    desired object and the live object is still at the resourceVersion we
    recorded. Anything unknown (new key, no record, object missing) → True."""
    entry = inventory.get(key)
    if entry is None or entry.hash is None or entry.resource_version is None:
        return True
    # A missing object (live_rv None) never equals a recorded version.
    return entry.hash != desired_hash or entry.resource_version != live_rv


def keys_to_check(
    desired_hashes: Mapping[str, str], live_rvs: Mapping[str, str], inventory: Inventory
) -> list[str]:
    """The desired keys that need a dry-run this round, sorted."""
    return sorted(
        key
        for key, digest in desired_hashes.items()
        if needs_check(key, digest, live_rvs.get(key), inventory)
    )
