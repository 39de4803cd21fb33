"""Readiness of live objects, following kstatus (sigs.k8s.io/cli-utils).

Four states: Current (done), InProgress (wait), Failed (waiting will not
help), Unknown (the object is malformed, so we cannot tell). Generic rules
run first for every kind (being deleted, controller has not observed the
latest generation, Stalled/Reconciling conditions); then the kind's own.

Deliberate differences from kstatus, for an applier that waits on health:
- a running Job is InProgress (kstatus says Current): a migration Job must
  finish before the round counts as healthy; a suspended Job is Current,
  since nothing will happen until someone resumes it;
- a Pod waiting on CrashLoopBackOff is Failed (as in kstatus), other
  waiting reasons (ImagePullBackOff...) stay InProgress but are named, so
  the timeout message says what is wrong;
- a PVC in phase Lost is Failed;
- Argo Rollouts (not covered by kstatus) follow status.phase, and so do
  Flagger Canaries (Initialized / Succeeded ready, Failed failed, any other
  phase in progress);
- any other kind with a Ready (else Available) condition follows it.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from promoter.core.applier.keys import CRD, group_of


class State(StrEnum):
    CURRENT = "Current"
    IN_PROGRESS = "InProgress"
    FAILED = "Failed"
    UNKNOWN = "Unknown"


@dataclass(frozen=True)
class Health:
    state: State
    message: str

    @property
    def ready(self) -> bool:
        return self.state is State.CURRENT


class _Malformed(Exception):
    """A status field has the wrong type: the answer is Unknown."""


def _current(message: str) -> Health:
    return Health(State.CURRENT, message)


def _progress(message: str) -> Health:
    return Health(State.IN_PROGRESS, message)


def _failed(message: str) -> Health:
    return Health(State.FAILED, message)


def _map(parent: Mapping[str, Any], name: str) -> Mapping[str, Any]:
    value = parent.get(name)
    if value is None:
        return {}
    if not isinstance(value, Mapping):
        raise _Malformed(f"{name} is not an object")
    return value


def _int(parent: Mapping[str, Any], name: str, default: int = 0) -> int:
    value = parent.get(name)
    if value is None:
        return default
    if isinstance(value, bool) or not isinstance(value, int):
        raise _Malformed(f"{name} is not an integer: {value!r}")
    return value


def _conditions(status: Mapping[str, Any]) -> dict[str, Mapping[str, Any]]:
    raw = status.get("conditions")
    if raw is None:
        return {}
    if not isinstance(raw, list) or not all(isinstance(c, Mapping) for c in raw):
        raise _Malformed("status.conditions is not a list of objects")
    return {str(c.get("type")): c for c in raw}


def _is(conds: Mapping[str, Mapping[str, Any]], kind: str, value: str = "True") -> bool:
    cond = conds.get(kind)
    return cond is not None and cond.get("status") == value


def _why(cond: Mapping[str, Any]) -> str:
    parts = [str(cond[f]) for f in ("reason", "message") if cond.get(f)]
    return ": ".join(parts) or "no reason given"


def _generation(value: Any) -> int | None:
    """An observedGeneration as int. Argo Rollouts store it as a string, and
    old versions as a spec hash, which cannot be compared: None."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.isdigit():
        return int(value)
    return None


def status(obj: Mapping[str, Any]) -> Health:
    """The health of one live object."""
    try:
        return _status(obj)
    except _Malformed as err:
        return Health(State.UNKNOWN, f"cannot read status: {err}")


def _status(obj: Mapping[str, Any]) -> Health:
    meta = _map(obj, "metadata")
    st = _map(obj, "status")
    conds = _conditions(st)
    if meta.get("deletionTimestamp"):
        return _progress("being deleted")
    generation = _generation(meta.get("generation"))
    observed = _generation(st.get("observedGeneration"))
    if generation is not None and observed is not None and observed < generation:
        return _progress(f"controller has not observed generation {generation} yet ({observed})")
    if _is(conds, "Stalled"):
        return _failed(f"Stalled: {_why(conds['Stalled'])}")
    if _is(conds, "Reconciling"):
        return _progress(f"Reconciling: {_why(conds['Reconciling'])}")
    rule = _RULES.get((group_of(str(obj.get("apiVersion", ""))), str(obj.get("kind", ""))))
    if rule is not None:
        return rule(obj, _map(obj, "spec"), st, conds)
    return _generic(st, conds, generation)


Conds = dict[str, Mapping[str, Any]]


def _deployment(
    obj: Mapping[str, Any], spec: Mapping[str, Any], st: Mapping[str, Any], conds: Conds
) -> Health:
    progressing = conds.get("Progressing")
    if progressing is not None and progressing.get("reason") == "ProgressDeadlineExceeded":
        return _failed(f"progress deadline exceeded: {_why(progressing)}")
    want = _int(spec, "replicas", 1)
    have, updated = _int(st, "replicas"), _int(st, "updatedReplicas")
    ready, available = _int(st, "readyReplicas"), _int(st, "availableReplicas")
    if want > have:
        return _progress(f"replicas: {have}/{want}")
    if want > updated:
        return _progress(f"updated: {updated}/{want}")
    if have > want:
        return _progress(f"pending termination: {have - want}")
    if updated > available:
        return _progress(f"available: {available}/{updated}")
    if want > ready:
        return _progress(f"ready: {ready}/{want}")
    if not (
        _is(conds, "Progressing") and (progressing or {}).get("reason") == "NewReplicaSetAvailable"
    ):
        return _progress("new ReplicaSet not available yet")
    if not _is(conds, "Available"):
        return _progress("Deployment not Available")
    return _current(f"Deployment available: {want} replicas")


def _statefulset(
    obj: Mapping[str, Any], spec: Mapping[str, Any], st: Mapping[str, Any], conds: Conds
) -> Health:
    strategy = _map(spec, "updateStrategy")
    if strategy.get("type") == "OnDelete":
        # Pods are only replaced when someone deletes them: nothing to wait for.
        return _current("StatefulSet uses the OnDelete update strategy")
    want = _int(spec, "replicas", 1)
    have, ready = _int(st, "replicas"), _int(st, "readyReplicas")
    current, updated = _int(st, "currentReplicas"), _int(st, "updatedReplicas")
    if want > have:
        return _progress(f"replicas: {have}/{want}")
    if want > ready:
        return _progress(f"ready: {ready}/{want}")
    if have > want:
        return _progress(f"pending termination: {have - want}")
    partition = _int(_map(strategy, "rollingUpdate"), "partition", -1)
    if partition != -1:
        # Only ordinals >= partition are updated; the rest stay on purpose.
        target = max(want - partition, 0)
        if updated < target:
            return _progress(f"partitioned roll out: updated {updated}/{target}")
        return _current(f"partitioned roll out complete: updated {updated}/{target}")
    if want > current:
        return _progress(f"current: {current}/{want}")
    if st.get("currentRevision") != st.get("updateRevision"):
        return _progress(f"waiting for revision {st.get('updateRevision')} to roll out")
    return _current(f"StatefulSet ready: {want} replicas")


def _daemonset(
    obj: Mapping[str, Any], spec: Mapping[str, Any], st: Mapping[str, Any], conds: Conds
) -> Health:
    if "desiredNumberScheduled" not in st:
        return _progress("waiting for the controller to schedule the DaemonSet")
    want = _int(st, "desiredNumberScheduled")
    for field, label in (
        ("currentNumberScheduled", "scheduled"),
        ("updatedNumberScheduled", "updated"),
        ("numberAvailable", "available"),
        ("numberReady", "ready"),
    ):
        have = _int(st, field)
        if want > have:
            return _progress(f"{label}: {have}/{want}")
    return _current(f"DaemonSet ready on {want} nodes")


def _replicaset(
    obj: Mapping[str, Any], spec: Mapping[str, Any], st: Mapping[str, Any], conds: Conds
) -> Health:
    if _is(conds, "ReplicaFailure"):
        return _progress(f"ReplicaFailure: {_why(conds['ReplicaFailure'])}")
    want = _int(spec, "replicas", 1)
    for field, label in (
        ("fullyLabeledReplicas", "labelled"),
        ("availableReplicas", "available"),
        ("readyReplicas", "ready"),
    ):
        have = _int(st, field)
        if want > have:
            return _progress(f"{label}: {have}/{want}")
    if _int(st, "replicas") > want:
        return _progress(f"pending termination: {_int(st, 'replicas') - want}")
    return _current(f"ReplicaSet available: {want} replicas")


def _pod(
    obj: Mapping[str, Any], spec: Mapping[str, Any], st: Mapping[str, Any], conds: Conds
) -> Health:
    phase = st.get("phase")
    if phase == "Succeeded":
        return _current("Pod completed successfully")
    if phase == "Failed":
        return _failed(f"Pod failed: {_why(st)}")
    waiting: list[str] = []
    for field in ("initContainerStatuses", "containerStatuses"):
        statuses = st.get(field) or []
        if not isinstance(statuses, list):
            raise _Malformed(f"status.{field} is not a list")
        for cs in statuses:
            state = _map(_map(cs, "state"), "waiting") if isinstance(cs, Mapping) else {}
            reason = state.get("reason")
            if reason == "CrashLoopBackOff":
                return _failed(f"container {cs.get('name')} is in CrashLoopBackOff")
            if reason and reason != "ContainerCreating" and reason != "PodInitializing":
                waiting.append(f"container {cs.get('name')}: {reason}")
    if phase == "Running" and _is(conds, "Ready"):
        return _current("Pod is Ready")
    if _is(conds, "PodScheduled", "False"):
        return _progress(f"Pod not scheduled: {_why(conds['PodScheduled'])}")
    detail = f" ({'; '.join(waiting)})" if waiting else ""
    if phase == "Running":
        return _progress(f"Pod is running but not Ready{detail}")
    return _progress(f"Pod is {phase or 'Pending'}{detail}")


def _job(
    obj: Mapping[str, Any], spec: Mapping[str, Any], st: Mapping[str, Any], conds: Conds
) -> Health:
    succeeded, active, failed = _int(st, "succeeded"), _int(st, "active"), _int(st, "failed")
    if _is(conds, "Complete"):
        return _current(f"Job completed: {succeeded} succeeded")
    if _is(conds, "Failed"):
        return _failed(f"Job failed: {_why(conds['Failed'])}")
    if spec.get("suspend") is True:
        return _current("Job is suspended")
    if not st.get("startTime"):
        return _progress("Job not started")
    return _progress(f"Job running: {active} active, {succeeded} succeeded, {failed} failed")


def _pvc(
    obj: Mapping[str, Any], spec: Mapping[str, Any], st: Mapping[str, Any], conds: Conds
) -> Health:
    phase = st.get("phase")
    if phase == "Bound":
        return _current("PVC is Bound")
    if phase == "Lost":
        return _failed("PVC lost its volume")
    return _progress(f"PVC is {phase or 'Pending'}, not Bound")


def _service(
    obj: Mapping[str, Any], spec: Mapping[str, Any], st: Mapping[str, Any], conds: Conds
) -> Health:
    if spec.get("type") != "LoadBalancer":
        return _current("Service ready")
    ingress = _map(st, "loadBalancer").get("ingress")
    if isinstance(ingress, list) and ingress:
        return _current("load balancer has an address")
    return _progress("waiting for a load balancer address")


def _crd(
    obj: Mapping[str, Any], spec: Mapping[str, Any], st: Mapping[str, Any], conds: Conds
) -> Health:
    if _is(conds, "NamesAccepted", "False"):
        return _failed(f"CRD names not accepted: {_why(conds['NamesAccepted'])}")
    if _is(conds, "Established"):
        return _current("CRD is Established")
    return _progress("CRD is not Established yet")


def _rollout(
    obj: Mapping[str, Any], spec: Mapping[str, Any], st: Mapping[str, Any], conds: Conds
) -> Health:
    if _is(conds, "InvalidSpec"):
        return _failed(f"Rollout spec is invalid: {_why(conds['InvalidSpec'])}")
    phase = st.get("phase")
    message = f": {st['message']}" if st.get("message") else ""
    if phase == "Healthy":
        return _current("Rollout is Healthy")
    if phase == "Degraded":
        return _failed(f"Rollout is Degraded{message}")
    if phase in ("Progressing", "Paused"):
        return _progress(f"Rollout is {phase}{message}")
    # No phase: the Rollout controller has not looked at it yet.
    return _progress("waiting for the Rollout controller to report a phase")


# Flagger's Canary phases: Initialized (ready, no analysis running) and
# Succeeded (the last analysis promoted) are at rest; Failed rolled back.
_CANARY_AT_REST = ("Initialized", "Succeeded")


def _canary(
    obj: Mapping[str, Any], spec: Mapping[str, Any], st: Mapping[str, Any], conds: Conds
) -> Health:
    phase = st.get("phase")
    promoted = conds.get("Promoted")
    message = f": {promoted['message']}" if promoted and promoted.get("message") else ""
    if phase in _CANARY_AT_REST:
        return _current(f"Canary {phase}{message}")
    if phase == "Failed":
        return _failed(f"Canary analysis failed and was rolled back{message}")
    if phase:
        return _progress(f"Canary is {phase}{message}")
    return _progress("waiting for Flagger to report a phase")


def _generic(st: Mapping[str, Any], conds: Conds, generation: int | None) -> Health:
    if not st:
        return _current("no status to wait for")
    for kind in ("Ready", "Available"):
        cond = conds.get(kind)
        if cond is None:
            continue
        seen = _generation(cond.get("observedGeneration"))
        if generation is not None and seen is not None and seen < generation:
            return _progress(f"{kind} condition is about generation {seen}, not {generation}")
        if cond.get("status") == "True":
            return _current(f"{kind}")
        return _progress(f"{kind}={cond.get('status')}: {_why(cond)}")
    return _current("no readiness condition to wait for")


_RULES = {
    ("apps", "Deployment"): _deployment,
    ("apps", "StatefulSet"): _statefulset,
    ("apps", "DaemonSet"): _daemonset,
    ("apps", "ReplicaSet"): _replicaset,
    ("", "Pod"): _pod,
    ("batch", "Job"): _job,
    ("", "PersistentVolumeClaim"): _pvc,
    ("", "Service"): _service,
    CRD: _crd,
    ("argoproj.io", "Rollout"): _rollout,
    ("flagger.app", "Canary"): _canary,
}

_SEVERITY = {State.FAILED: 0, State.UNKNOWN: 1, State.IN_PROGRESS: 2, State.CURRENT: 3}


def overall(healths: Iterable[Health]) -> State:
    """The worst state: Failed > Unknown > InProgress > Current (empty: Current)."""
    return min((h.state for h in healths), key=_SEVERITY.__getitem__, default=State.CURRENT)


def not_ready(items: Iterable[tuple[str, Health]]) -> list[tuple[str, Health]]:
    """The objects that are not ready, worst first, then by key."""
    return sorted(
        ((key, h) for key, h in items if not h.ready),
        key=lambda kh: (_SEVERITY[kh[1].state], kh[0]),
    )


def summarise_not_ready(items: Iterable[tuple[str, Health]], *, limit: int = 20) -> str:
    """A timeout message naming the stuck objects, worst first, then by key."""
    items = list(items)
    stuck = not_ready(items)
    if not stuck:
        return f"all {len(items)} objects are ready"
    lines = [f"{len(stuck)} of {len(items)} objects not ready:"]
    lines += [f"  {key}: {h.state}: {h.message}" for key, h in stuck[:limit]]
    if len(stuck) > limit:
        lines.append(f"  … and {len(stuck) - limit} more")
    return "\n".join(lines)
