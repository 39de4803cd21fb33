"""Statuses the fake's stand-in controllers write.

There are no controllers: a workload gets an "observed but not ready"
status when it is created or its spec changes (its pods never become
ready), and a ready one only when a test says so (`FakeKube.make_ready`,
`make_available`, ...) or `auto_ready` is on. The fields are the ones
kstatus-style health checks read: observedGeneration, replica counts,
conditions, phases.
"""

from __future__ import annotations

import hashlib
from typing import Any

TRACKED = {
    "Deployment",
    "StatefulSet",
    "DaemonSet",
    "ReplicaSet",
    "Job",
    "PersistentVolumeClaim",
    "Pod",
    "Service",
    "Rollout",
}
"""Kinds whose status the fake's controllers maintain."""


def _condition(kind: str, status: bool, reason: str, message: str, now: str) -> dict[str, Any]:
    return {
        "type": kind,
        "status": "True" if status else "False",
        "lastUpdateTime": now,
        "lastTransitionTime": now,
        "reason": reason,
        "message": message,
    }


def _replicas(obj: dict[str, Any]) -> int:
    value = (obj.get("spec") or {}).get("replicas", 1)
    return value if isinstance(value, int) else 1


def _positive(status: dict[str, Any]) -> dict[str, Any]:
    """Zero counts are omitted (omitempty), as the real status writers do."""
    return {k: v for k, v in status.items() if not (isinstance(v, int) and v == 0)}


def _revision(obj: dict[str, Any]) -> str:
    digest = hashlib.sha256(repr((obj.get("spec") or {}).get("template")).encode()).hexdigest()
    return f"{obj['metadata']['name']}-{digest[:10]}"


def _deployment(obj: dict[str, Any], ready: bool, now: str) -> dict[str, Any]:
    generation, replicas = obj["metadata"]["generation"], _replicas(obj)
    previous = obj.get("status") or {}
    rs = _revision(obj)
    if ready:
        return _positive(
            {
                "observedGeneration": generation,
                "replicas": replicas,
                "updatedReplicas": replicas,
                "readyReplicas": replicas,
                "availableReplicas": replicas,
            }
        ) | {
            "conditions": [
                _condition(
                    "Available",
                    True,
                    "MinimumReplicasAvailable",
                    "Deployment has minimum availability.",
                    now,
                ),
                _condition(
                    "Progressing",
                    True,
                    "NewReplicaSetAvailable",
                    f'ReplicaSet "{rs}" has successfully progressed.',
                    now,
                ),
            ]
        }
    old_pods = int(previous.get("availableReplicas") or 0)
    available = old_pods > 0 and old_pods >= replicas
    return _positive(
        {
            "observedGeneration": generation,
            "replicas": replicas + old_pods,
            "updatedReplicas": replicas,
            "readyReplicas": old_pods,
            "availableReplicas": old_pods,
            "unavailableReplicas": replicas,
        }
    ) | {
        "conditions": [
            _condition(
                "Available",
                available,
                "MinimumReplicasAvailable" if available else "MinimumReplicasUnavailable",
                "Deployment has minimum availability."
                if available
                else "Deployment does not have minimum availability.",
                now,
            ),
            _condition(
                "Progressing", True, "ReplicaSetUpdated", f'ReplicaSet "{rs}" is progressing.', now
            ),
        ]
    }


def deployment_failed(obj: dict[str, Any], now: str) -> dict[str, Any]:
    status = _deployment(obj, False, now)
    rs = _revision(obj)
    status["conditions"][1] = _condition(
        "Progressing",
        False,
        "ProgressDeadlineExceeded",
        f'ReplicaSet "{rs}" has timed out progressing.',
        now,
    )
    return status


def _statefulset(obj: dict[str, Any], ready: bool, now: str) -> dict[str, Any]:
    generation, replicas = obj["metadata"]["generation"], _replicas(obj)
    previous = obj.get("status") or {}
    revision = _revision(obj)
    ready_count = replicas if ready else int(previous.get("readyReplicas") or 0)
    return _positive(
        {
            "observedGeneration": generation,
            "replicas": replicas,
            "readyReplicas": ready_count,
            "currentReplicas": ready_count if ready else int(previous.get("currentReplicas") or 0),
            "updatedReplicas": replicas if ready else 0,
            "availableReplicas": ready_count,
            "collisionCount": 0,
        }
    ) | {
        "currentRevision": revision if ready else previous.get("currentRevision", revision),
        "updateRevision": revision,
    }


def _daemonset(obj: dict[str, Any], ready: bool, now: str, nodes: int) -> dict[str, Any]:
    previous = obj.get("status") or {}
    ready_count = nodes if ready else int(previous.get("numberReady") or 0)
    return {
        "observedGeneration": obj["metadata"]["generation"],
        "desiredNumberScheduled": nodes,
        "currentNumberScheduled": nodes,
        "numberMisscheduled": 0,
        "numberReady": ready_count,
    } | _positive(
        {
            "updatedNumberScheduled": nodes if ready else 0,
            "numberAvailable": ready_count,
            "numberUnavailable": nodes - ready_count,
        }
    )


def _replicaset(obj: dict[str, Any], ready: bool, now: str) -> dict[str, Any]:
    replicas = _replicas(obj)
    return _positive(
        {
            "observedGeneration": obj["metadata"]["generation"],
            "replicas": replicas,
            "fullyLabeledReplicas": replicas,
            "readyReplicas": replicas if ready else 0,
            "availableReplicas": replicas if ready else 0,
        }
    )


def _job(obj: dict[str, Any], ready: bool, now: str) -> dict[str, Any]:
    spec = obj.get("spec") or {}
    previous = obj.get("status") or {}
    start = previous.get("startTime", now)
    if not ready:
        return {
            "startTime": start,
            "active": spec.get("parallelism", 1),
            "ready": 0,
            "terminating": 0,
            "uncountedTerminatedPods": {},
        }
    return {
        "startTime": start,
        "completionTime": now,
        "succeeded": spec.get("completions") or 1,
        "ready": 0,
        "terminating": 0,
        "uncountedTerminatedPods": {},
        "conditions": [
            _condition(
                "SuccessCriteriaMet",
                True,
                "CompletionsReached",
                "Reached expected number of succeeded pods",
                now,
            ),
            _condition(
                "Complete",
                True,
                "CompletionsReached",
                "Reached expected number of succeeded pods",
                now,
            ),
        ],
    }


def job_failed(obj: dict[str, Any], now: str) -> dict[str, Any]:
    spec = obj.get("spec") or {}
    previous = obj.get("status") or {}
    message = "Job has reached the specified backoff limit"
    return {
        "startTime": previous.get("startTime", now),
        "failed": int(spec.get("backoffLimit", 6)) + 1,
        "ready": 0,
        "terminating": 0,
        "uncountedTerminatedPods": {},
        "conditions": [
            _condition("FailureTarget", True, "BackoffLimitExceeded", message, now),
            _condition("Failed", True, "BackoffLimitExceeded", message, now),
        ],
    }


def _pvc(obj: dict[str, Any], ready: bool, now: str) -> dict[str, Any]:
    if not ready:
        return {"phase": "Pending"}
    spec = obj.get("spec") or {}
    storage = ((spec.get("resources") or {}).get("requests") or {}).get("storage", "1Gi")
    return {
        "phase": "Bound",
        "accessModes": list(spec.get("accessModes") or ["ReadWriteOnce"]),
        "capacity": {"storage": storage},
    }


def _pod(obj: dict[str, Any], ready: bool, now: str) -> dict[str, Any]:
    scheduled = _condition("PodScheduled", True, "", "", now)
    if not ready:
        return {"phase": "Pending", "conditions": [_plain(scheduled)], "qosClass": "BestEffort"}
    containers = (obj.get("spec") or {}).get("containers") or []
    return {
        "phase": "Running",
        "conditions": [
            _plain(_condition(kind, True, "", "", now))
            for kind in ("Initialized", "Ready", "ContainersReady", "PodScheduled")
        ],
        "containerStatuses": [
            {
                "name": c.get("name"),
                "image": c.get("image"),
                "imageID": "",
                "ready": True,
                "started": True,
                "restartCount": 0,
                "state": {"running": {"startedAt": now}},
            }
            for c in containers
            if isinstance(c, dict)
        ],
        "hostIP": "192.0.2.10",
        "podIP": "10.244.0.10",
        "startTime": now,
        "qosClass": "BestEffort",
    }


def _plain(condition: dict[str, Any]) -> dict[str, Any]:
    """Pod conditions carry no lastUpdateTime and no empty reason/message."""
    return {
        k: v
        for k, v in condition.items()
        if k != "lastUpdateTime" and (v or k == "lastTransitionTime")
    }


def service_status(
    obj: dict[str, Any], ready: bool, ingress: list[dict[str, Any]] | None = None
) -> dict[str, Any]:
    is_lb = (obj.get("spec") or {}).get("type") == "LoadBalancer"
    if ready and is_lb:
        return {"loadBalancer": {"ingress": ingress or [{"ip": "203.0.113.10", "ipMode": "VIP"}]}}
    return {"loadBalancer": {}}


def _rollout(obj: dict[str, Any], ready: bool, now: str) -> dict[str, Any]:
    replicas = _replicas(obj)
    previous = obj.get("status") or {}
    pod_hash = _revision(obj).rsplit("-", 1)[-1]
    old = int(previous.get("availableReplicas") or 0)
    status: dict[str, Any] = {
        "observedGeneration": str(obj["metadata"]["generation"]),
        "phase": "Healthy" if ready else "Progressing",
        "replicas": replicas,
        "updatedReplicas": replicas,
        "readyReplicas": replicas if ready else old,
        "availableReplicas": replicas if ready else old,
        "currentPodHash": pod_hash,
    }
    if ready:
        status["stableRS"] = pod_hash
        status["conditions"] = [
            _condition(
                "Available", True, "AvailableReason", "Rollout has minimum availability", now
            ),
            _condition("Healthy", True, "RolloutHealthy", "Rollout is healthy", now),
            _condition("Progressing", True, "NewReplicaSetAvailable", "Rollout has completed", now),
        ]
    else:
        status["stableRS"] = previous.get("stableRS", "")
        status["conditions"] = [
            _condition("Progressing", True, "ReplicaSetUpdated", "Rollout is progressing", now)
        ]
    return status


def controller_status(
    kind: str, obj: dict[str, Any], ready: bool, now: str, nodes: int = 1
) -> dict[str, Any] | None:
    """The status the kind's controller would write: ready, or observed but not ready."""
    if kind == "Deployment":
        return _deployment(obj, ready, now)
    if kind == "StatefulSet":
        return _statefulset(obj, ready, now)
    if kind == "DaemonSet":
        return _daemonset(obj, ready, now, nodes)
    if kind == "ReplicaSet":
        return _replicaset(obj, ready, now)
    if kind == "Job":
        return _job(obj, ready, now)
    if kind == "PersistentVolumeClaim":
        return _pvc(obj, ready, now)
    if kind == "Pod":
        return _pod(obj, ready, now)
    if kind == "Service":
        return service_status(obj, ready)
    if kind == "Rollout":
        return _rollout(obj, ready, now)
    return None
