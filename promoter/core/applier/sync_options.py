"""Argo CD and Flux annotations the agent honours, so manifests written for
those controllers keep their meaning when the bundled agent applies them.

Resource hooks (Argo CD `argocd.argoproj.io/hook`, and Helm's `helm.sh/hook`
mapped the way Argo CD maps it):
- `PreSync` objects (a database migration Job) run to completion before the
  main apply; `Sync` ones after it, `PostSync` ones once everything is
  healthy; `SyncFail` ones when any of that fails. `Skip` is never applied.
- `hook-delete-policy`: `BeforeHookCreation` (the default, as in Argo CD)
  deletes the previous run first; `HookSucceeded` / `HookFailed` delete the
  hook after it succeeded / failed.
- Hooks are not part of the inventory: never pruned, never drift-corrected.

Flux: `kustomize.toolkit.fluxcd.io/ssa: IfNotPresent` creates an object
once and then leaves it alone; `ssa: Ignore` is never applied.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from promoter.core.applier.errors import ApplierError
from promoter.core.applier.order import annotations_of
from promoter.core.objects import Obj

HOOK = "argocd.argoproj.io/hook"
HOOK_DELETE_POLICY = "argocd.argoproj.io/hook-delete-policy"
HELM_HOOK = "helm.sh/hook"
HELM_DELETE_POLICY = "helm.sh/hook-delete-policy"
FLUX_SSA = "kustomize.toolkit.fluxcd.io/ssa"
PHASES = ("PreSync", "Sync", "PostSync", "SyncFail")
SKIP = "Skip"
POLICIES = ("BeforeHookCreation", "HookSucceeded", "HookFailed")
DEFAULT_POLICY = "BeforeHookCreation"
# Argo CD's mapping of Helm hooks; the others (tests, deletes, rollbacks)
# have no place in a sync and are not applied.
_HELM_PHASES = {
    "pre-install": "PreSync",
    "pre-upgrade": "PreSync",
    "post-install": "PostSync",
    "post-upgrade": "PostSync",
}
_HELM_POLICIES = {
    "before-hook-creation": "BeforeHookCreation",
    "hook-succeeded": "HookSucceeded",
    "hook-failed": "HookFailed",
}


class HookError(ApplierError):
    """A hook failed, or its annotation cannot be read."""


@dataclass(frozen=True)
class Hook:
    obj: Obj
    phases: frozenset[str]
    policies: frozenset[str]


def _words(value: Any) -> list[str]:
    return [w.strip() for w in str(value).split(",") if w.strip()]


def _hook(obj: Obj, ann: Mapping[str, Any]) -> Hook | None:
    """The object's hook, None for an ordinary object; a Hook with no phase
    for one that is never applied."""
    if HOOK in ann:
        phases = _words(ann[HOOK])
        unknown = [p for p in phases if p not in (*PHASES, SKIP)]
        if unknown or not phases:
            raise HookError(
                f"{obj.key}: annotation {HOOK}: {ann[HOOK]!r} is not a hook phase",
                hint=f"use one or more of {', '.join((*PHASES, SKIP))}, comma-separated",
            )
        raw = _words(ann.get(HOOK_DELETE_POLICY, DEFAULT_POLICY))
        bad = [p for p in raw if p not in POLICIES]
        if bad:
            raise HookError(
                f"{obj.key}: annotation {HOOK_DELETE_POLICY}: {bad[0]!r} is not a delete policy",
                hint=f"use one or more of {', '.join(POLICIES)}",
            )
        kept = frozenset(p for p in phases if p != SKIP)
        return Hook(obj, frozenset() if SKIP in phases else kept, frozenset(raw))
    if HELM_HOOK in ann:
        mapped = frozenset(_HELM_PHASES[w] for w in _words(ann[HELM_HOOK]) if w in _HELM_PHASES)
        helm_policies = _words(ann.get(HELM_DELETE_POLICY, "before-hook-creation"))
        policies = frozenset(_HELM_POLICIES[p] for p in helm_policies if p in _HELM_POLICIES)
        return Hook(obj, mapped, policies or frozenset({DEFAULT_POLICY}))
    return None


@dataclass(frozen=True)
class Split:
    main: list[Obj]
    """What the inventory tracks: applied, pruned, drift-corrected."""
    hooks: list[Hook]
    left_out: list[str]
    """Keys never applied (`Skip`, Helm's test/delete hooks, Flux `ssa: Ignore`)."""


def split(objs: Iterable[Obj]) -> Split:
    main: list[Obj] = []
    hooks: list[Hook] = []
    left_out: list[str] = []
    for obj in objs:
        ann = annotations_of(obj.body)
        hook = _hook(obj, ann)
        if hook is None:
            if str(ann.get(FLUX_SSA, "")).lower() == "ignore":
                left_out.append(obj.key)
            else:
                main.append(obj)
        elif hook.phases:
            hooks.append(hook)
        else:
            left_out.append(obj.key)
    return Split(main, hooks, left_out)


def in_phase(hooks: Iterable[Hook], phase: str) -> list[Hook]:
    return [h for h in hooks if phase in h.phases]


def create_only(obj: Obj) -> bool:
    """Flux `ssa: IfNotPresent`: create it once, then never touch it."""
    return str(annotations_of(obj.body).get(FLUX_SSA, "")).lower() == "ifnotpresent"


def sync_needed(stored: Mapping[str, str | None], desired: Mapping[str, str]) -> bool:
    """Git changed what the environment holds since the last sync: an object
    was added, changed or removed (`stored`: key -> hash the inventory last
    recorded). Hooks run only then — not on a no-change or drift round."""
    if set(stored) != set(desired):
        return True
    return any(stored[key] != digest for key, digest in desired.items())
