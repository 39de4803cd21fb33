from __future__ import annotations

from typing import Any

import pytest

from promoter.core.applier.health import Health, State, overall, status, summarise_not_ready

C, P, F, U = State.CURRENT, State.IN_PROGRESS, State.FAILED, State.UNKNOWN


def cond(
    type_: str, status_: str = "True", reason: str = "", message: str = "", **extra: Any
) -> dict[str, Any]:
    return {"type": type_, "status": status_, "reason": reason, "message": message, **extra}


def mk(
    api_version: str, kind: str, spec: Any = None, st: Any = None, generation: int = 1, **meta: Any
) -> dict[str, Any]:
    obj: dict[str, Any] = {
        "apiVersion": api_version,
        "kind": kind,
        "metadata": {"name": "x", "namespace": "app", "generation": generation, **meta},
    }
    if spec is not None:
        obj["spec"] = spec
    if st is not None:
        obj["status"] = st
    return obj


DONE_CONDS = [cond("Available"), cond("Progressing", reason="NewReplicaSetAvailable")]


def deploy(**st: Any) -> dict[str, Any]:
    base = {
        "observedGeneration": 1,
        "replicas": 3,
        "updatedReplicas": 3,
        "readyReplicas": 3,
        "availableReplicas": 3,
        "conditions": DONE_CONDS,
    }
    return mk("apps/v1", "Deployment", {"replicas": 3}, {**base, **st})


def sts(spec: dict[str, Any] | None = None, **st: Any) -> dict[str, Any]:
    base = {
        "observedGeneration": 1,
        "replicas": 3,
        "readyReplicas": 3,
        "currentReplicas": 3,
        "updatedReplicas": 3,
        "currentRevision": "db-1",
        "updateRevision": "db-1",
    }
    return mk("apps/v1", "StatefulSet", {"replicas": 3, **(spec or {})}, {**base, **st})


def ds(**st: Any) -> dict[str, Any]:
    base = {
        "observedGeneration": 1,
        "desiredNumberScheduled": 4,
        "currentNumberScheduled": 4,
        "updatedNumberScheduled": 4,
        "numberAvailable": 4,
        "numberReady": 4,
    }
    return mk(
        "apps/v1", "DaemonSet", {}, {k: v for k, v in {**base, **st}.items() if v is not None}
    )


def rs(**st: Any) -> dict[str, Any]:
    base = {
        "observedGeneration": 1,
        "replicas": 2,
        "fullyLabeledReplicas": 2,
        "readyReplicas": 2,
        "availableReplicas": 2,
    }
    return mk("apps/v1", "ReplicaSet", {"replicas": 2}, {**base, **st})


def pod(
    phase: str,
    conditions: list[dict[str, Any]] | None = None,
    waiting: str | None = None,
    init: bool = False,
) -> dict[str, Any]:
    st: dict[str, Any] = {"phase": phase, "conditions": conditions or []}
    if waiting:
        field = "initContainerStatuses" if init else "containerStatuses"
        st[field] = [
            {"name": "app", "state": {"waiting": {"reason": waiting, "message": "back-off"}}}
        ]
    return mk("v1", "Pod", {}, st)


def job(conditions: list[dict[str, Any]] | None = None, **extra: Any) -> dict[str, Any]:
    spec = {"suspend": extra.pop("suspend")} if "suspend" in extra else {}
    return mk("batch/v1", "Job", spec, {"conditions": conditions or [], **extra})


def svc(type_: str, ingress: Any = None) -> dict[str, Any]:
    st = {"loadBalancer": {} if ingress is None else {"ingress": ingress}}
    return mk("v1", "Service", {"type": type_}, st)


def crd(*conditions: dict[str, Any]) -> dict[str, Any]:
    return mk(
        "apiextensions.k8s.io/v1", "CustomResourceDefinition", {}, {"conditions": list(conditions)}
    )


def rollout(phase: str | None, observed: Any = "1", **extra: Any) -> dict[str, Any]:
    st: dict[str, Any] = {"observedGeneration": observed, **extra}
    if phase:
        st["phase"] = phase
    return mk("argoproj.io/v1alpha1", "Rollout", {}, st)


def canary(phase: str | None, **extra: Any) -> dict[str, Any]:
    """`status` as Flagger writes it (flagger.app/v1beta1)."""
    st: dict[str, Any] = {"observedGeneration": 1, "canaryWeight": 0, "failedChecks": 0, **extra}
    if phase:
        st["phase"] = phase
    return mk("flagger.app/v1beta1", "Canary", {}, st)


def promoted(status: str, message: str) -> list[dict[str, Any]]:
    return [{"type": "Promoted", "status": status, "reason": "Succeeded", "message": message}]


CASES: list[Any] = [
    # Flagger Canary
    pytest.param(
        canary("Initialized", conditions=promoted("True", "Deployment initialization completed.")),
        C,
        "initialization completed",
        id="canary-initialized",
    ),
    pytest.param(canary("Succeeded"), C, "Canary Succeeded", id="canary-succeeded"),
    pytest.param(canary("Progressing", canaryWeight=20), P, "Progressing", id="canary-progressing"),
    pytest.param(canary("WaitingPromotion"), P, "WaitingPromotion", id="canary-waiting-promotion"),
    pytest.param(
        canary(
            "Failed",
            conditions=promoted("False", "Canary analysis failed, Deployment scaled to zero."),
        ),
        F,
        "rolled back",
        id="canary-failed",
    ),
    pytest.param(canary(None), P, "Flagger", id="canary-no-phase"),
    # Deployment
    pytest.param(deploy(), C, "available", id="deployment-complete"),
    pytest.param(deploy(observedGeneration=0), P, "generation 1", id="deployment-not-observed"),
    pytest.param(deploy(updatedReplicas=1), P, "updated: 1/3", id="deployment-mid-rollout"),
    pytest.param(
        deploy(replicas=4), P, "pending termination: 1", id="deployment-old-pods-terminating"
    ),
    pytest.param(deploy(availableReplicas=2), P, "available: 2/3", id="deployment-not-available"),
    pytest.param(deploy(readyReplicas=2), P, "ready: 2/3", id="deployment-not-ready"),
    pytest.param(
        deploy(replicas=1, updatedReplicas=1), P, "replicas: 1/3", id="deployment-scaling-up"
    ),
    pytest.param(
        deploy(conditions=[cond("Available"), cond("Progressing", reason="ReplicaSetUpdated")]),
        P,
        "new ReplicaSet",
        id="deployment-still-progressing",
    ),
    pytest.param(
        deploy(conditions=[cond("Available", "False"), DONE_CONDS[1]]),
        P,
        "not Available",
        id="deployment-unavailable",
    ),
    pytest.param(
        deploy(
            updatedReplicas=1,
            conditions=[
                cond(
                    "Progressing",
                    "False",
                    "ProgressDeadlineExceeded",
                    'ReplicaSet "api-7" has timed out',
                )
            ],
        ),
        F,
        "progress deadline exceeded",
        id="deployment-progress-deadline",
    ),
    pytest.param(
        mk(
            "apps/v1",
            "Deployment",
            {},
            {
                "observedGeneration": 1,
                "replicas": 1,
                "updatedReplicas": 1,
                "readyReplicas": 1,
                "availableReplicas": 1,
                "conditions": DONE_CONDS,
            },
        ),
        C,
        "1 replicas",
        id="deployment-default-one-replica",
    ),
    pytest.param(deploy(replicas="3"), U, "replicas is not an integer", id="deployment-malformed"),
    pytest.param(
        deploy(conditions="Available"), U, "conditions", id="deployment-malformed-conditions"
    ),
    # StatefulSet
    pytest.param(sts(), C, "ready", id="sts-complete"),
    pytest.param(sts(readyReplicas=2), P, "ready: 2/3", id="sts-not-ready"),
    pytest.param(sts(currentReplicas=1), P, "current: 1/3", id="sts-rolling"),
    pytest.param(sts(updateRevision="db-2"), P, "db-2", id="sts-revision-pending"),
    pytest.param(
        sts(
            {"updateStrategy": {"type": "RollingUpdate", "rollingUpdate": {"partition": 2}}},
            updatedReplicas=1,
            updateRevision="db-2",
        ),
        C,
        "partitioned roll out complete",
        id="sts-partition-done",
    ),
    pytest.param(
        sts(
            {"updateStrategy": {"type": "RollingUpdate", "rollingUpdate": {"partition": 1}}},
            updatedReplicas=1,
            updateRevision="db-2",
        ),
        P,
        "updated 1/2",
        id="sts-partition-in-progress",
    ),
    pytest.param(
        sts({"updateStrategy": {"type": "OnDelete"}}, readyReplicas=0),
        C,
        "OnDelete",
        id="sts-ondelete",
    ),
    # DaemonSet
    pytest.param(ds(), C, "4 nodes", id="ds-complete"),
    pytest.param(ds(updatedNumberScheduled=3), P, "updated: 3/4", id="ds-updating"),
    pytest.param(ds(numberAvailable=2), P, "available: 2/4", id="ds-not-available"),
    pytest.param(ds(desiredNumberScheduled=None), P, "schedule", id="ds-no-status-yet"),
    # ReplicaSet
    pytest.param(rs(), C, "2 replicas", id="rs-complete"),
    pytest.param(rs(readyReplicas=1), P, "ready: 1/2", id="rs-not-ready"),
    pytest.param(
        rs(conditions=[cond("ReplicaFailure", reason="FailedCreate")]),
        P,
        "FailedCreate",
        id="rs-failure",
    ),
    # Pod
    pytest.param(pod("Running", [cond("Ready")]), C, "Ready", id="pod-ready"),
    pytest.param(
        pod("Running", [cond("Ready", "False")]), P, "not Ready", id="pod-running-not-ready"
    ),
    pytest.param(pod("Succeeded"), C, "completed", id="pod-succeeded"),
    pytest.param(pod("Failed"), F, "failed", id="pod-failed"),
    pytest.param(
        pod("Running", [cond("Ready", "False")], "CrashLoopBackOff"),
        F,
        "CrashLoopBackOff",
        id="pod-crashloop",
    ),
    pytest.param(
        pod("Pending", [], "CrashLoopBackOff", init=True),
        F,
        "CrashLoopBackOff",
        id="pod-init-crashloop",
    ),
    pytest.param(
        pod("Pending", [], "ImagePullBackOff"), P, "ImagePullBackOff", id="pod-image-pull-named"
    ),
    pytest.param(
        pod("Pending", [cond("PodScheduled", "False", "Unschedulable", "0/3 nodes are available")]),
        P,
        "0/3 nodes",
        id="pod-unschedulable",
    ),
    # Job
    pytest.param(job([cond("Complete")], succeeded=1), C, "completed", id="job-complete"),
    pytest.param(
        job([cond("Failed", reason="BackoffLimitExceeded")], failed=6),
        F,
        "BackoffLimitExceeded",
        id="job-failed",
    ),
    pytest.param(job(startTime="2026-01-01T00:00:00Z", active=1), P, "1 active", id="job-running"),
    pytest.param(job(), P, "not started", id="job-not-started"),
    pytest.param(job(suspend=True), C, "suspended", id="job-suspended"),
    # PVC
    pytest.param(
        mk("v1", "PersistentVolumeClaim", {}, {"phase": "Bound"}), C, "Bound", id="pvc-bound"
    ),
    pytest.param(
        mk("v1", "PersistentVolumeClaim", {}, {"phase": "Pending"}), P, "Pending", id="pvc-pending"
    ),
    pytest.param(mk("v1", "PersistentVolumeClaim", {}, {}), P, "Pending", id="pvc-no-status"),
    pytest.param(
        mk("v1", "PersistentVolumeClaim", {}, {"phase": "Lost"}), F, "lost", id="pvc-lost"
    ),
    # Service
    pytest.param(svc("ClusterIP"), C, "Service", id="svc-clusterip"),
    pytest.param(svc("LoadBalancer"), P, "load balancer address", id="lb-without-ingress"),
    pytest.param(svc("LoadBalancer", []), P, "load balancer address", id="lb-empty-ingress"),
    pytest.param(svc("LoadBalancer", [{"ip": "203.0.113.7"}]), C, "address", id="lb-with-ingress"),
    # CRD
    pytest.param(
        crd(cond("NamesAccepted"), cond("Established")), C, "Established", id="crd-established"
    ),
    pytest.param(crd(cond("Established", "False")), P, "not Established", id="crd-not-established"),
    pytest.param(
        crd(cond("NamesAccepted", "False", "MultipleNamesConflict")),
        F,
        "MultipleNamesConflict",
        id="crd-names",
    ),
    # Argo Rollout
    pytest.param(rollout("Healthy"), C, "Healthy", id="rollout-healthy"),
    pytest.param(
        rollout("Paused", message="CanaryPauseStep"), P, "CanaryPauseStep", id="rollout-paused"
    ),
    pytest.param(
        rollout("Degraded", message="RolloutAborted"), F, "RolloutAborted", id="rollout-degraded"
    ),
    pytest.param(
        rollout("Healthy", observed="0"), P, "generation 1", id="rollout-string-generation-stale"
    ),
    pytest.param(
        rollout("Healthy", observed="6d4f8c9b7"), C, "Healthy", id="rollout-legacy-hash-generation"
    ),
    pytest.param(rollout(None), P, "phase", id="rollout-no-phase"),
    pytest.param(
        rollout(
            "Progressing",
            conditions=[cond("InvalidSpec", reason="InvalidSpec", message="bad steps")],
        ),
        F,
        "bad steps",
        id="rollout-invalid-spec",
    ),
    # Generic
    pytest.param(mk("v1", "ConfigMap"), C, "no status", id="generic-no-status"),
    pytest.param(mk("example.com/v1", "Widget", {}, {}), C, "no status", id="generic-empty-status"),
    pytest.param(
        mk("example.com/v1", "Widget", {}, {"conditions": [cond("Ready")]}),
        C,
        "Ready",
        id="generic-ready",
    ),
    pytest.param(
        mk(
            "example.com/v1",
            "Widget",
            {},
            {"conditions": [cond("Ready", "False", "Waiting", "for DNS")]},
        ),
        P,
        "for DNS",
        id="generic-not-ready",
    ),
    pytest.param(
        mk(
            "example.com/v1",
            "Widget",
            {},
            {"conditions": [cond("Ready", observedGeneration=1)]},
            generation=2,
        ),
        P,
        "generation 1, not 2",
        id="generic-stale-ready-condition",
    ),
    pytest.param(
        mk("example.com/v1", "Widget", {}, {"conditions": [cond("Available", "Unknown")]}),
        P,
        "Available=Unknown",
        id="generic-available-unknown",
    ),
    pytest.param(
        mk(
            "example.com/v1",
            "Widget",
            {},
            {"observedGeneration": 1, "conditions": [cond("Ready")]},
            generation=3,
        ),
        P,
        "generation 3",
        id="generic-not-observed",
    ),
    pytest.param(
        mk(
            "example.com/v1",
            "Widget",
            {},
            {"conditions": [cond("Ready"), cond("Stalled", reason="BadConfig")]},
        ),
        F,
        "BadConfig",
        id="generic-stalled",
    ),
    pytest.param(
        mk(
            "example.com/v1",
            "Widget",
            {},
            {"conditions": [cond("Ready"), cond("Reconciling", reason="Progress")]},
        ),
        P,
        "Reconciling",
        id="generic-reconciling",
    ),
    pytest.param(
        mk("example.com/v1", "Widget", {}, {"phase": "Running"}),
        C,
        "no readiness condition",
        id="generic-no-conditions",
    ),
    pytest.param(
        deploy() | {"metadata": {"name": "x", "deletionTimestamp": "2026-01-01T00:00:00Z"}},
        P,
        "deleted",
        id="being-deleted",
    ),
    pytest.param(
        mk("v1", "Pod", {}, "Running"), U, "status is not an object", id="status-not-a-map"
    ),
]


@pytest.mark.parametrize(("obj", "state", "fragment"), CASES)
def test_status(obj: dict[str, Any], state: State, fragment: str) -> None:
    health = status(obj)
    assert health.state is state, health
    assert fragment in health.message


def test_state_compares_equal_to_its_kstatus_name() -> None:
    assert status(deploy()).state == "Current"
    assert status(deploy()).ready and not status(deploy(readyReplicas=0)).ready


def test_summary_names_stuck_objects_worst_first() -> None:
    text = summarise_not_ready(
        [
            ("apps/Deployment/app/web", Health(C, "ok")),
            ("apps/Deployment/app/api", Health(P, "updated: 1/3")),
            ("batch/Job/app/migrate", Health(F, "Job failed: BackoffLimitExceeded")),
            ("/Service/app/lb", Health(P, "waiting for a load balancer address")),
        ]
    )
    assert text.splitlines() == [
        "3 of 4 objects not ready:",
        "  batch/Job/app/migrate: Failed: Job failed: BackoffLimitExceeded",
        "  /Service/app/lb: InProgress: waiting for a load balancer address",
        "  apps/Deployment/app/api: InProgress: updated: 1/3",
    ]


def test_summary_is_capped() -> None:
    items = [(f"/ConfigMap/app/c{i:02d}", Health(U, "?")) for i in range(25)]
    lines = summarise_not_ready(items, limit=5).splitlines()
    assert len(lines) == 7 and lines[-1] == "  … and 20 more"
    assert lines[1].startswith("  /ConfigMap/app/c00:")


def test_summary_when_all_ready() -> None:
    assert summarise_not_ready([("k", Health(C, "ok"))]) == "all 1 objects are ready"


@pytest.mark.parametrize(
    ("states", "expected"),
    [([], C), ([C, C], C), ([C, P], P), ([P, U, C], U), ([U, F, P], F)],
)
def test_overall(states: list[State], expected: State) -> None:
    assert overall(Health(s, "") for s in states) is expected
