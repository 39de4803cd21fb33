"""Shared pieces of the agent tests: an environment repository on disk, a
cluster to apply to (the fake, or a real one when PROMOTER_E2E_KUBECONFIG
names a kubeconfig), manifest builders.

`cluster` is parametrised over "fake" and "real"; the "real" runs are
skipped unless the variable is set (the kind workflow sets it). Scenarios
taking `cluster` use only the Kubernetes API (another field manager's
patch, GETs), so they mean the same on both. Scenarios that need the
fake's switches (faults, health, request log) take `fake_cluster`.
"""

from __future__ import annotations

import textwrap
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from promoter.adapters.kube import Kube, Retry
from promoter.adapters.render.renderer import render
from promoter.core.applier.inventory import Inventory
from promoter.core.applier.result import RoundResult
from promoter.core.objects import Obj
from promoter.workflows.apply_round import Reconciler, Settings
from tests.kubefake import FakeKube
from tests.realkube import RealCluster, StandIn

MERGE = "application/merge-patch+json"
SCENARIO_KINDS = (("v1", "ConfigMap"), ("v1", "Service"), ("apps/v1", "Deployment"))
OWNER = "app.kubernetes.io/managed-by"


@dataclass
class Sleeps:
    """An injectable sleep that only records (no test waits for real backoff)."""

    calls: list[float] = field(default_factory=list)

    def __call__(self, seconds: float) -> None:
        self.calls.append(seconds)


@dataclass
class Cluster:
    kube: Kube
    namespace: str
    repo: Path
    sleeps: Sleeps
    fake: FakeKube | None = None
    kubeconfig: Path | None = None
    standin: StandIn | None = None
    """On the real server: the controllers' stand-in, run where the agent sleeps."""

    @property
    def real(self) -> bool:
        return self.fake is None

    # -- the environment repository ---------------------------------------------------

    @property
    def env_dir(self) -> Path:
        return self.repo / "clusters" / "dev"

    def write(self, name: str, *docs: dict[str, Any] | str) -> None:
        texts = [d if isinstance(d, str) else yaml.safe_dump(d, sort_keys=False) for d in docs]
        (self.env_dir / f"{name}.yaml").write_text("---\n".join(texts), encoding="utf-8")

    def remove(self, name: str) -> None:
        (self.env_dir / f"{name}.yaml").unlink()

    def render(self) -> list[Obj]:
        return render(self.env_dir)

    # -- rounds ---------------------------------------------------------------------------

    def reconciler(self, **overrides: Any) -> Reconciler:
        options: dict[str, Any] = {
            "health_timeout": 60.0 if self.real else 5.0,
            "health_poll": 1.0 if self.real else 0.02,
            "crd_timeout": 60.0 if self.real else 5.0,
            "inventory_namespace": self.namespace,
        }
        options.update(overrides)
        if self.standin is None:
            return Reconciler(self.kube, Settings("dev", **options))
        return Reconciler(self.kube, Settings("dev", **options), sleep=self.standin)

    def round(self, **overrides: Any) -> RoundResult:
        return self.reconciler(**overrides).run(self.render, "rev")

    def inventory(self) -> Inventory:
        return self.reconciler().read_inventory()

    # -- the cluster, through the API only -------------------------------------------------

    def get(self, api_version: str, kind: str, name: str, namespace: str | None = "") -> Any:
        ns = self.namespace if namespace == "" else namespace
        return self.kube.get(api_version, kind, ns, name)

    def patch(
        self, api_version: str, kind: str, name: str, body: dict[str, Any], manager: str
    ) -> None:
        """Someone else edits the live object (kubectl edit, an operator)."""
        res = self.kube.resource(api_version, kind)
        namespace = self.namespace if res.namespaced else None
        self.kube.dyn.patch(
            res,
            body=body,
            name=name,
            namespace=namespace,
            content_type=MERGE,
            field_manager=manager,
        )

    def snapshot(self, *kinds: tuple[str, str]) -> dict[str, str]:
        """key -> resourceVersion of every object of `kinds` (default: the
        kinds the scenarios apply) in the test's namespace, inventory
        included: equal snapshots mean nothing was written."""
        out: dict[str, str] = {}
        for api_version, kind in kinds or SCENARIO_KINDS:
            res = self.kube.resource(api_version, kind)
            for item in self.kube.list_objects(res, self.namespace):
                meta = item["metadata"]
                out[f"{kind}/{meta['name']}"] = meta["resourceVersion"]
        return out

    def kubeconfig_here(self, path: Path) -> Path:
        """A kubeconfig for this cluster whose context namespace is the test's."""
        if self.fake is not None:
            return self.fake.write_kubeconfig(path, namespace=self.namespace)
        assert self.kubeconfig is not None
        return RealCluster(self.kubeconfig, self.kube).write_kubeconfig(path, self.namespace)

    # -- the controllers: the fake's, or the stand-in on a real server ---------------------

    @contextmanager
    def controllers(self) -> Iterator[None]:
        """Workloads roll out while the block runs (the fake is auto_ready)."""
        if self.standin is None:
            yield
            return
        with self.standin.running():
            yield

    def hold_rollouts(self) -> None:
        """Workloads stay "observed, not ready" until `roll_out`."""
        if self.fake is not None:
            self.fake.auto_ready = False
        else:
            assert self.standin is not None
            self.standin.hold = True

    def set_status(self, api_version: str, kind: str, name: str, status: dict[str, Any]) -> None:
        """A controller writes `status` through the status subresource."""
        target: Any = self.fake
        if target is None:
            assert self.kubeconfig is not None
            target = RealCluster(self.kubeconfig, self.kube)
        target.set_status(api_version, kind, self.namespace, name, status, manager="a-controller")

    def roll_out(self, name: str) -> None:
        """The Deployment controller finishes `name`'s rollout (status moves)."""
        if self.fake is not None:
            self.fake.make_available(self.namespace, name)
            return
        assert self.standin is not None
        self.standin.hold = False
        self.standin.step()

    def apply_as(self, body: dict[str, Any], manager: str, force: bool = False) -> None:
        res = self.kube.resource(body["apiVersion"], body["kind"])
        self.kube.dyn.server_side_apply(
            res,
            body=body,
            namespace=self.namespace if res.namespaced else None,
            field_manager=manager,
            force_conflicts=True if force else None,
        )


def configmap(name: str, ns: str | None = None, **data: str) -> dict[str, Any]:
    meta: dict[str, Any] = {"name": name}
    if ns:
        meta["namespace"] = ns
    return {"apiVersion": "v1", "kind": "ConfigMap", "metadata": meta, "data": data or {"k": "v"}}


def deployment(
    name: str, image: str = "registry.k8s.io/pause:3.9", replicas: int = 1, cpu: str | None = None
) -> dict[str, Any]:
    container: dict[str, Any] = {"name": "app", "image": image}
    if cpu is not None:
        container["resources"] = {"requests": {"cpu": cpu}}
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": name},
        "spec": {
            "replicas": replicas,
            "selector": {"matchLabels": {"app": name}},
            "template": {
                "metadata": {"labels": {"app": name}},
                "spec": {"containers": [container]},
            },
        },
    }


def service(name: str) -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": {"name": name},
        "spec": {"selector": {"app": name}, "ports": [{"port": 80}]},
    }


def make_repo(root: Path) -> Path:
    """An environment repository: one service whose dev path holds plain manifests."""
    (root / "clusters" / "dev").mkdir(parents=True)
    (root / "promoter.yaml").write_text(
        textwrap.dedent(
            """\
            version: 1
            environments:
              - name: dev
            services:
              - name: app
                image: ghcr.io/acme/app
                path: clusters/{env}
            """
        ),
        encoding="utf-8",
    )
    return root


def fast_kube(kubeconfig: Path, namespace: str, sleeps: Sleeps, **options: Any) -> Kube:
    retry = Retry(attempts=4, backoff=0.05, max_backoff=0.5, sleep=sleeps)
    options.setdefault("timeout", 2.0)
    return Kube.connect(kubeconfig, namespace=namespace, retry=retry, **options)
