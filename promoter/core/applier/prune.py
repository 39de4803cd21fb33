"""What prune may delete, and the guards around it.

Prune deletes objects the inventory tracks and the render no longer has.
The loop only calls it after a fully successful render and apply, and
`check_render` runs first: an empty or unkeyable render would otherwise
look like "Git removed everything".

An object is never deleted when, *on the live object*:
- the owner label does not carry our value (someone else took it over, or
  it was never stamped by us);
- `promoter.dev/prune` says `disabled` (or `false`); an unknown value is
  treated the same way, because guessing wrong deletes data; Flux's
  `kustomize.toolkit.fluxcd.io/prune: disabled` and Argo CD's
  `argocd.argoproj.io/sync-options: Prune=false` are honoured too;
- it is a Namespace, PersistentVolumeClaim or CustomResourceDefinition and
  that kind is not explicitly allowed: deleting one of those deletes data
  (everything in the namespace, the volume, every custom resource).
Skipped objects are reported and dropped from the inventory by the caller
(`inventory.after_prune(abandoned=...)`): they are no longer ours.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from promoter.core.applier.errors import RenderEmptyError, RenderInvalidError
from promoter.core.applier.inventory import Inventory
from promoter.core.applier.keys import PROTECTED_KINDS, parse_key
from promoter.core.applier.order import annotations_of, prune_key_order
from promoter.core.objects import Obj

PRUNE_ANNOTATION = "promoter.dev/prune"
FLUX_PRUNE_ANNOTATION = "kustomize.toolkit.fluxcd.io/prune"
ARGOCD_SYNC_OPTIONS = "argocd.argoproj.io/sync-options"
DEFAULT_OWNER_LABEL = ("app.kubernetes.io/managed-by", "promoter")
# (group, kind) -> the kind name to list in the environment's prune allowance.
_DISABLED = frozenset({"disabled", "false"})
_ENABLED = frozenset({"enabled", "true"})


@dataclass(frozen=True)
class PrunePlan:
    """`to_delete` in prune order (reverse apply order); `skipped` sorted by
    key with the reason; `gone` are tracked keys already absent (or being
    deleted): pruned as far as the inventory is concerned."""

    to_delete: list[str] = field(default_factory=list)
    skipped: list[tuple[str, str]] = field(default_factory=list)
    gone: list[str] = field(default_factory=list)


def prune_candidates(
    old_inv: Inventory | Iterable[str],
    desired_keys: Iterable[str],
    live: Mapping[str, Mapping[str, Any]],
    *,
    owner_label: tuple[str, str] = DEFAULT_OWNER_LABEL,
    allow_kinds: Collection[str] = frozenset(),
) -> PrunePlan:
    """Plan the prune. `live` maps key -> that object's live `metadata`
    (labels, annotations) for every tracked object that still exists."""
    tracked = old_inv.keys if isinstance(old_inv, Inventory) else set(old_inv)
    leftovers = sorted(tracked - set(desired_keys))
    deletable: list[str] = []
    skipped: list[tuple[str, str]] = []
    gone: list[str] = []
    for key in leftovers:
        meta = live.get(key)
        if meta is None or meta.get("deletionTimestamp"):
            gone.append(key)
            continue
        reason = _keep_reason(key, meta, owner_label, allow_kinds)
        if reason:
            skipped.append((key, reason))
        else:
            deletable.append(key)
    annotations = {key: _annotations(live[key]) for key in deletable}
    return PrunePlan(prune_key_order(deletable, annotations), skipped, gone)


def _annotations(meta: Mapping[str, Any]) -> Mapping[str, Any]:
    return annotations_of({"metadata": meta})


def _keep_reason(
    key: str,
    meta: Mapping[str, Any],
    owner_label: tuple[str, str],
    allow_kinds: Collection[str],
) -> str | None:
    """Why this object must not be deleted, or None."""
    label, value = owner_label
    labels = meta.get("labels")
    have = labels.get(label) if isinstance(labels, Mapping) else None
    if have != value:
        owner = "the label is missing" if have is None else f"it says {have!r}"
        return f"not ours: label {label}={value} expected, {owner}"
    annotations = _annotations(meta)
    if str(annotations.get(FLUX_PRUNE_ANNOTATION, "")).strip().lower() == "disabled":
        return f"prune disabled by annotation {FLUX_PRUNE_ANNOTATION}"
    options = [o.strip() for o in str(annotations.get(ARGOCD_SYNC_OPTIONS, "")).split(",")]
    if "Prune=false" in options:
        return f"prune disabled by annotation {ARGOCD_SYNC_OPTIONS}: Prune=false"
    setting = annotations.get(PRUNE_ANNOTATION)
    if setting is not None:
        word = str(setting).strip().lower()
        if word in _DISABLED:
            return f"prune disabled by annotation {PRUNE_ANNOTATION}"
        if word not in _ENABLED:
            return (
                f"annotation {PRUNE_ANNOTATION} has unknown value {setting!r} "
                "(use 'disabled'); kept to be safe"
            )
    parsed = parse_key(key)
    kind = PROTECTED_KINDS.get((parsed.group, parsed.kind))
    if kind is not None and kind not in allow_kinds:
        return f"{kind} is only pruned when the environment allows it"
    return None


def check_render(objs: Sequence[Obj], allow_empty: bool = False) -> None:
    """Refuse a render the applier cannot safely act on.

    Empty: RenderEmptyError unless the environment allows it, because an
    empty render after a broken kustomization or a wrong path would prune
    everything. Unnamed or duplicate objects: RenderInvalidError, because
    the inventory could not tell them apart.
    """
    if not objs:
        if allow_empty:
            return
        raise RenderEmptyError(
            "the render produced no objects; refusing to apply and prune everything",
            hint="check the environment's path; set allowEmpty: true if empty is intended",
        )
    unnamed = sorted(o.key for o in objs if not o.name)
    if unnamed:
        raise RenderInvalidError(
            "objects without metadata.name cannot be applied: " + ", ".join(unnamed),
            hint="server-side apply needs a name (generateName is not supported)",
        )
    counts = Counter(o.key for o in objs)
    dupes = sorted(key for key, n in counts.items() if n > 1)
    if dupes:
        raise RenderInvalidError(
            "the render has the same object more than once: " + ", ".join(dupes),
            hint="remove the duplicate documents (one object, one manifest)",
        )
