"""What Argo CD and Flux say about an environment, read as one verdict.

Field names are the ones their controllers write (Argo CD's Application
CRD, `argoproj.io/v1alpha1`; Flux's Kustomization `kustomize.toolkit.
fluxcd.io/v1` and HelmRelease `helm.toolkit.fluxcd.io/v2`):

- Argo CD: `status.sync.status` (Synced / OutOfSync / Unknown) against
  `status.sync.revision` (`revisions[0]` for a multi-source Application),
  `status.health.status` (Healthy / Progressing / Degraded / Suspended /
  Missing / Unknown), `status.operationState.phase` (Running / Succeeded /
  Failed / Error / Terminating).
- Flux: the `Ready` condition (and `Stalled`, `Reconciling`),
  `status.observedGeneration` against `metadata.generation`, and a
  Kustomization's `status.lastAppliedRevision` (`main@sha1:<sha>`, or the
  older `main/<sha>`). A HelmRelease's revisions are chart versions, not
  commits: it says whether it is ready, not which commit it runs (list the
  Kustomization that applies it for that).

"Healthy" is strict: synced, healthy and no operation failing. Which
revision it runs is judged by the caller, who knows the commit it needs.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

HEALTHY = "healthy"
PROGRESSING = "progressing"
DEGRADED = "degraded"
UNREADABLE = "unreadable"
"""The controller could not be asked (no cluster access, API down)."""
VERDICTS = (HEALTHY, PROGRESSING, DEGRADED, UNREADABLE)


@dataclass(frozen=True)
class ControllerState:
    """One Application, Kustomization or HelmRelease, as last reported."""

    applier: str
    """argocd or flux."""
    name: str
    """`Application argocd/shop-prod`: what a person looks up."""
    verdict: str
    """One of VERDICTS."""
    summary: str
    """`Synced, Healthy` / `OutOfSync, Progressing: …` — the controller's words."""
    revision: str | None = None
    """The commit it reports being synced to; None: it does not say one."""

    def to_json(self) -> dict[str, Any]:
        return {
            "applier": self.applier,
            "name": self.name,
            "verdict": self.verdict,
            "summary": self.summary,
            "revision": self.revision,
        }


def _get(obj: Mapping[str, Any], *path: str) -> Any:
    current: Any = obj
    for key in path:
        if not isinstance(current, Mapping):
            return None
        current = current.get(key)
    return current


def _name(kind: str, obj: Mapping[str, Any]) -> str:
    meta = obj.get("metadata") or {}
    return f"{kind} {meta.get('namespace') or 'default'}/{meta.get('name', '?')}"


def argocd_state(app: Mapping[str, Any]) -> ControllerState:
    """An Argo CD Application (as the CR or the REST API's JSON: same shape)."""
    name = _name("Application", app)
    sync = _get(app, "status", "sync") or {}
    status = str(sync.get("status") or "Unknown")
    revisions = sync.get("revisions") or []
    revision = sync.get("revision") or (revisions[0] if revisions else None)
    health = str(_get(app, "status", "health", "status") or "Unknown")
    health_message = _get(app, "status", "health", "message")
    op = _get(app, "status", "operationState") or {}
    phase = op.get("phase")
    words = f"{status}, {health}"
    if health_message:
        words += f": {health_message}"
    if phase in ("Failed", "Error"):
        detail = f" ({op.get('message')})" if op.get("message") else ""
        return ControllerState("argocd", name, DEGRADED, f"sync {phase}{detail}; {words}", revision)
    if health in ("Degraded", "Missing"):
        return ControllerState("argocd", name, DEGRADED, words, revision)
    if phase in ("Running", "Terminating"):
        return ControllerState("argocd", name, PROGRESSING, f"sync {phase}; {words}", revision)
    if status != "Synced" or health != "Healthy":
        return ControllerState("argocd", name, PROGRESSING, words, revision)
    return ControllerState("argocd", name, HEALTHY, words, revision)


def _condition(obj: Mapping[str, Any], kind: str) -> Mapping[str, Any] | None:
    for cond in _get(obj, "status", "conditions") or ():
        if isinstance(cond, Mapping) and cond.get("type") == kind:
            return cond
    return None


def flux_revision(text: str | None) -> str | None:
    """The commit in a Flux revision: `main@sha1:abc…`, `sha1:abc…`, `main/abc…`."""
    if not text:
        return None
    tail = text.rsplit("@", 1)[-1]
    if ":" in tail:
        return tail.split(":", 1)[1]
    return tail.rsplit("/", 1)[-1]


def flux_state(obj: Mapping[str, Any]) -> ControllerState:
    """A Flux Kustomization or HelmRelease."""
    kind = str(obj.get("kind") or "Kustomization")
    name = _name(kind, obj)
    revision = (
        flux_revision(_get(obj, "status", "lastAppliedRevision"))
        if kind == "Kustomization"
        else None
    )
    ready = _condition(obj, "Ready")
    said = f"Ready={ready.get('status')}" if ready else "not reconciled yet"
    if ready and ready.get("reason"):
        said += f" ({ready['reason']}"
        said += f": {ready['message']})" if ready.get("message") else ")"
    if _get(obj, "spec", "suspend") is True:
        return ControllerState(
            "flux", name, DEGRADED, f"suspended: reconciliation is switched off; {said}", revision
        )
    generation = _get(obj, "metadata", "generation")
    observed = _get(obj, "status", "observedGeneration")
    if generation is not None and observed != generation:
        return ControllerState(
            "flux",
            name,
            PROGRESSING,
            f"generation {generation} not observed yet (observed {observed}); {said}",
            revision,
        )
    stalled = _condition(obj, "Stalled")
    if stalled and stalled.get("status") == "True":
        return ControllerState("flux", name, DEGRADED, f"Stalled; {said}", revision)
    reconciling = _condition(obj, "Reconciling")
    if ready is None or ready.get("status") == "Unknown":
        return ControllerState("flux", name, PROGRESSING, said, revision)
    if ready.get("status") == "False":
        busy = (reconciling is not None and reconciling.get("status") == "True") or ready.get(
            "reason"
        ) == "DependencyNotReady"  # retried until the dependency is ready
        return ControllerState("flux", name, PROGRESSING if busy else DEGRADED, said, revision)
    if kind == "Kustomization":
        attempted = flux_revision(_get(obj, "status", "lastAttemptedRevision"))
        if attempted and revision and attempted != revision:
            return ControllerState(
                "flux", name, PROGRESSING, f"applying {attempted[:12]}; {said}", revision
            )
    return ControllerState("flux", name, HEALTHY, said, revision)


def agent_state(status: Mapping[str, Any], where: str) -> ControllerState:
    """The bundled agent's `/status` JSON (its last round) as a state."""
    name = f"promoter agent {status.get('env') or ''} ({where})".replace("  ", " ")
    last = status.get("last")
    if not isinstance(last, Mapping):
        return ControllerState("promoter", name, PROGRESSING, "no round yet")
    revision = last.get("revision") if isinstance(last.get("revision"), str) else None
    summary = str(last.get("summary") or "")
    if last.get("ok"):
        drift = last.get("drift") or []
        verdict = PROGRESSING if drift and not all(d.get("healed") for d in drift) else HEALTHY
        return ControllerState("promoter", name, verdict, summary, revision)
    first = str(last.get("error") or "failed").splitlines()[0]
    return ControllerState("promoter", name, DEGRADED, f"{last.get('phase')}: {first}", revision)


def apply_status_state(state: str | None, sha: str) -> ControllerState:
    """The `promoter/apply` commit status on an environment's newest commit."""
    name = f"promoter/apply on {sha[:12]}"
    if state == "success":
        return ControllerState("promoter", name, HEALTHY, "success", sha)
    if state in ("failure", "error"):
        return ControllerState("promoter", name, DEGRADED, state, sha)
    return ControllerState("promoter", name, PROGRESSING, state or "no status yet", sha)
