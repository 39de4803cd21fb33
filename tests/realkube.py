"""The real control plane in the tests (scripts/kube-control-plane.sh: etcd
and kube-apiserver, no controller-manager, no scheduler, no kubelet).

What the missing controllers would do, a test does itself, as
controller-runtime's envtest users do: `StandIn` writes the status a
Deployment, StatefulSet, DaemonSet or Job controller would write, through
the real server's status subresource (so validation, resourceVersions and
managedFields are the server's). It is called where the applier sleeps —
pass it as the Reconciler's `sleep` — so every status change happens
between two of the agent's polls, in the order the agent caused it.

Also here: what a real server cannot do without controllers, named once
(namespace deletion never finishes: the namespace controller is in
kube-controller-manager; nothing is garbage-collected by ownerReferences).
"""

from __future__ import annotations

import os
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from promoter.adapters.kube import Kube
from tests.kubefake.status import controller_status, job_failed

E2E_KUBECONFIG = "PROMOTER_E2E_KUBECONFIG"
"""The agent's scenarios also run on the server this kubeconfig names."""
REAL_KUBECONFIG = "PROMOTER_TEST_KUBECONFIG"
"""The fake's parity tests also run on the server this kubeconfig names."""
WHY_NOT_REAL = (
    "no scenario ran on a real API server: without {var} there is none (scripts/test.sh "
    "starts kube-apiserver and etcd and sets them when Go is installed)"
)
SCENARIO_MODULES = ("tests/test_agent", "tests/test_kubefake", "tests/test_tenancy")


def targets(variable: str) -> list[str]:
    """The parameters of a fixture that runs on the fake, and on a real
    server when `variable` names one (no "real" runs to skip otherwise:
    the summary says once why they did not run)."""
    return ["fake", "real"] if os.environ.get(variable) else ["fake"]


def summary(stats: Mapping[str, Sequence[object]]) -> list[str]:
    """The lines pytest's summary ends with: how many API scenarios passed
    on the real server and how many on the fake."""
    real = fake = 0
    for report in stats.get("passed", ()):
        nodeid = str(getattr(report, "nodeid", ""))
        if getattr(report, "when", "call") != "call":
            continue
        if "[real" in nodeid:
            real += 1
        elif nodeid.startswith(SCENARIO_MODULES):
            fake += 1
    lines = [f"API scenarios: {real} passed on the real API server, {fake} on the fake"]
    missing = [v for v in (E2E_KUBECONFIG, REAL_KUBECONFIG) if not os.environ.get(v)]
    if missing and (real or fake):
        lines.append(WHY_NOT_REAL.format(var=" and ".join(missing)))
    return lines


MERGE = "application/merge-patch+json"
STANDIN_MANAGER = "kube-controller-manager"
"""The field manager the stand-in writes status as (the real one's name)."""
WORKLOADS = (
    ("apps/v1", "Deployment"),
    ("apps/v1", "StatefulSet"),
    ("apps/v1", "DaemonSet"),
    ("batch/v1", "Job"),
)


def now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


@dataclass
class StandIn:
    """Rolls out (or fails) the workloads of one namespace on a real server."""

    kube: Kube
    namespace: str
    failing: set[str] = field(default_factory=set)
    """Job names that fail instead of completing."""
    hold: bool = False
    """True: do nothing (workloads stay unready, as with auto_ready=False)."""
    pause: float = 0.05
    """Seconds actually slept per call (the agent's poll interval is for a
    controller that takes time; this one is done when it returns)."""
    events: list[str] = field(default_factory=list)
    _done: set[tuple[str, str, Any]] = field(default_factory=set)

    def __call__(self, seconds: float) -> None:
        if not self.hold:
            self.step()
        time.sleep(min(seconds, self.pause))

    def step(self) -> None:
        for api_version, kind in WORKLOADS:
            res = self.kube.resource(api_version, kind)
            for obj in self.kube.list_objects(res, self.namespace):
                self._reconcile(res, kind, obj)

    def _reconcile(self, res: Any, kind: str, obj: dict[str, Any]) -> None:
        meta = obj["metadata"]
        mark = (kind, meta["uid"], None if kind == "Job" else meta.get("generation"))
        if mark in self._done or meta.get("deletionTimestamp"):
            return
        self._done.add(mark)
        name = meta["name"]
        if kind == "Job" and name in self.failing:
            status = job_failed(obj, now())
            self.events.append(f"failed {name}")
        else:
            status = controller_status(kind, obj, True, now()) or {}
            verb = "completed" if kind == "Job" else "rolled out"
            self.events.append(f"{verb} {name}")
        self.kube.dyn.patch(
            res.status,
            body={"status": status},
            name=name,
            namespace=self.namespace,
            content_type=MERGE,
            field_manager=STANDIN_MANAGER,
        )
