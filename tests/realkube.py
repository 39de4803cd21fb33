"""The real control plane in the tests (scripts/kube-control-plane.sh: etcd
and kube-apiserver, no controller-manager, no scheduler, no kubelet).

What the missing controllers would do, a test does itself, as
controller-runtime's envtest users do: `StandIn` writes the status a
Deployment, StatefulSet, DaemonSet or Job controller would write, through
the real server's status subresource (so validation, resourceVersions and
managedFields are the server's). It is called where the applier sleeps —
pass it as the Reconciler's `sleep` — so every status change happens
between two of the agent's polls, in the order the agent caused it.

Without controllers, namespace deletion never finishes (the namespace
controller is in kube-controller-manager) and nothing is garbage-collected
by ownerReferences: tests take a fresh namespace each and delete their
cluster-scoped objects themselves. Also here: `RealCluster`, the fake's
test helpers (`seed`, `set_status`, …) on the real server, and the
summary line that counts the scenarios run on each.
"""

from __future__ import annotations

import os
import re
import threading
import time
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import yaml

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
SCENARIO_MODULES = ("tests/test_agent", "tests/test_kubefake", "tests/test_controllers")
"""Modules whose tests talk to a Kubernetes API (the fake, unless marked real)."""
_REAL = re.compile(r"[\[-]real[\]-]")
_FAKE = re.compile(r"[\[-]fake[\]-]")


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
        if _REAL.search(nodeid):
            real += 1
        elif _FAKE.search(nodeid) or nodeid.startswith(SCENARIO_MODULES):
            fake += 1
    if not real and not fake:
        return []  # a run without API scenarios
    lines = [f"API scenarios: {real} passed on the real API server, {fake} on the fake"]
    missing = [v for v in (E2E_KUBECONFIG, REAL_KUBECONFIG) if not os.environ.get(v)]
    if missing:
        lines.append(WHY_NOT_REAL.format(var=" and ".join(missing)))
    return lines


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

    @contextmanager
    def running(self, every: float = 0.1) -> Iterator[None]:
        """Step in a thread, for code that sleeps on its own (the CLI in-process)."""
        stop = threading.Event()

        def loop() -> None:
            while not stop.wait(every):
                self.step()

        thread = threading.Thread(target=loop, name="standin-controllers", daemon=True)
        thread.start()
        try:
            yield
        finally:
            stop.set()
            thread.join()

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
        write_status(self.kube, res, self.namespace, name, status, STANDIN_MANAGER)


def write_status(
    kube: Kube, res: Any, namespace: str | None, name: str, status: dict[str, Any], manager: str
) -> None:
    """Replace an object's status through its status subresource, as its
    controller does (a JSON patch `add` replaces the whole status)."""
    kube.dyn.patch(
        res.status,
        body=[{"op": "add", "path": "/status", "value": status}],
        name=name,
        namespace=namespace if res.namespaced else None,
        content_type="application/json-patch+json",
        field_manager=manager,
    )


class RealCluster:
    """The helpers tests use on a FakeKube (`seed`, `set_status`,
    `write_kubeconfig`, `get_object`), on the real server, through its API."""

    def __init__(self, kubeconfig: str | Path, kube: Kube) -> None:
        self.kubeconfig_path = Path(kubeconfig)
        self.kube = kube

    def write_kubeconfig(self, path: str | Path, namespace: str = "default") -> Path:
        config = yaml.safe_load(self.kubeconfig_path.read_text(encoding="utf-8"))
        for context in config["contexts"]:
            context["context"]["namespace"] = namespace
        target = Path(path)
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(yaml.safe_dump(config, sort_keys=False), encoding="utf-8")
        target.chmod(0o600)
        return target

    def seed(self, manifest: dict[str, Any], field_manager: str = "kubectl-create") -> Any:
        """Create (or, on a server shared between tests, update) the object as
        another client would; a CRD is waited on until it is served."""
        before, self.kube.field_manager = self.kube.field_manager, field_manager
        try:
            live = self.kube.apply(manifest, force=True)
        finally:
            self.kube.field_manager = before
        if manifest["kind"] == "CustomResourceDefinition":
            self.kube.wait_established([manifest["metadata"]["name"]], 30.0, poll=0.1)
        return live

    def set_status(
        self,
        api_version: str,
        kind: str,
        namespace: str | None,
        name: str,
        status: dict[str, Any],
        manager: str = "kube-controller-manager",
    ) -> None:
        res = self.kube.resource(api_version, kind)
        write_status(self.kube, res, namespace, name, status, manager)

    def get_object(
        self, api_version: str, kind: str, namespace: str | None, name: str
    ) -> dict[str, Any] | None:
        return self.kube.get(api_version, kind, namespace, name)

    def remove(self, api_version: str, kind: str, namespace: str | None, name: str) -> None:
        """Delete and wait until it is gone (a CRD's own finalizer runs in the
        API server; namespaces never finish: there is no namespace controller)."""
        group = api_version.rpartition("/")[0]
        self.kube.delete(f"{group}/{kind}/{namespace or ''}/{name}")
        deadline = time.monotonic() + 30
        while self.get_object(api_version, kind, namespace, name) is not None:
            assert time.monotonic() < deadline, f"{kind} {name} was not deleted in 30s"
            time.sleep(0.1)


def connect(kubeconfig: str | Path, namespace: str = "default", **options: Any) -> Kube:
    """The promoter's own client on the real server, field manager `kubectl-create`
    (what `seed` writes as), with short retries."""
    from promoter.adapters.kube import Retry

    retry = Retry(attempts=3, backoff=0.1, max_backoff=0.5)
    return Kube.connect(
        kubeconfig, namespace=namespace, field_manager="kubectl-create", retry=retry, **options
    )
