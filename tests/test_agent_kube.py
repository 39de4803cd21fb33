"""promoter/adapters/kube.py: retries (the fake's faults), error conversion,
discovery, waiting for CRDs, connecting. What needs no injected fault runs
on the real kube-apiserver too (`api`)."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from promoter.adapters.kube import Kube, Retry
from promoter.core.applier.errors import (
    KubeConflictError,
    KubeError,
    KubeUnavailableError,
    UnknownKindError,
)
from promoter.errors import ExitCode, InputError
from tests.agent_helpers import Sleeps, configmap
from tests.kubefake import FakeKube
from tests.realkube import E2E_KUBECONFIG, RealCluster, targets

CRD = {
    "apiVersion": "apiextensions.k8s.io/v1",
    "kind": "CustomResourceDefinition",
    "metadata": {"name": "gadgets.example.com"},
    "spec": {
        "group": "example.com",
        "scope": "Cluster",
        "names": {"plural": "gadgets", "singular": "gadget", "kind": "Gadget"},
        "versions": [
            {
                "name": "v1",
                "served": True,
                "storage": True,
                "schema": {
                    "openAPIV3Schema": {
                        "type": "object",
                        "x-kubernetes-preserve-unknown-fields": True,
                    }
                },
            }
        ],
    },
}


CRD_KIND = ("apiextensions.k8s.io/v1", "CustomResourceDefinition")


@pytest.fixture
def fake() -> Iterator[FakeKube]:
    with FakeKube(crd_delay=None) as kube:
        yield kube
        assert not kube.internal_errors, kube.internal_errors[0]


@pytest.fixture
def sleeps() -> Sleeps:
    return Sleeps()


@dataclass
class Api:
    """promoter's client on the fake or the real server, in namespace `ns`."""

    kube: Kube
    ns: str
    other: FakeKube | RealCluster
    """For writes by another client (`apply_manifest`-like: `seed`)."""

    def apply_as(self, manifest: dict[str, Any], manager: str) -> None:
        if isinstance(self.other, FakeKube):
            self.other.apply_manifest(manifest, field_manager=manager)
        else:
            self.other.seed(manifest, field_manager=manager)


@pytest.fixture(params=targets(E2E_KUBECONFIG))
def api(request: pytest.FixtureRequest, tmp_path: Path, sleeps: Sleeps) -> Iterator[Api]:
    retry = Retry(attempts=3, backoff=0.1, max_backoff=0.5, sleep=sleeps)
    if request.param == "real":
        yield from _real(retry)
        return
    with FakeKube() as fake:
        client = Kube.connect(fake.write_kubeconfig(tmp_path / "kc"), retry=retry)
        yield Api(client, "default", fake)
        client.close()
        assert not fake.internal_errors, fake.internal_errors[0]


@pytest.fixture(params=["real"])
def real_api(sleeps: Sleeps) -> Iterator[Api]:
    """For what only a real server has (RBAC, its own CRD controller)."""
    if not os.environ.get(E2E_KUBECONFIG):
        pytest.skip(f"needs a real API server: set {E2E_KUBECONFIG} (scripts/test.sh does)")
    yield from _real(Retry(attempts=3, backoff=0.1, max_backoff=0.5, sleep=sleeps))


def _real(retry: Retry) -> Iterator[Api]:
    ns = f"promoter-kube-{uuid.uuid4().hex[:8]}"
    client = Kube.connect(os.environ[E2E_KUBECONFIG], namespace=ns, retry=retry)
    client.apply({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": ns}})
    try:
        yield Api(client, ns, RealCluster(os.environ[E2E_KUBECONFIG], client))
    finally:
        client.impersonate(None)
        client.delete(f"/Namespace//{ns}")
        client.close()


@pytest.fixture
def kube(fake: FakeKube, tmp_path: Path, sleeps: Sleeps) -> Iterator[Kube]:
    retry = Retry(attempts=3, backoff=0.1, max_backoff=0.5, sleep=sleeps)
    client = Kube.connect(fake.write_kubeconfig(tmp_path / "kc", namespace="team"), retry=retry)
    yield client
    client.close()


def test_the_contexts_namespace_is_the_default(kube: Kube) -> None:
    assert kube.namespace == "team"


def test_retry_after_is_honoured_up_to_the_cap(fake: FakeKube, kube: Kube, sleeps: Sleeps) -> None:
    fake.fail_next("PATCH", "/configmaps/", 429, retry_after=30)

    kube.apply(configmap("a", ns="default"))

    assert len(sleeps.calls) == 1
    assert 0.5 <= sleeps.calls[0] <= 0.5 * 1.25  # capped at max_backoff (+ jitter)


def test_dropped_connections_are_retried(fake: FakeKube, kube: Kube, sleeps: Sleeps) -> None:
    fake.fail_next("PATCH", "/configmaps/", drop=True)

    kube.apply(configmap("a", ns="default"))

    assert fake.count("apply", "configmaps") == 2
    assert len(sleeps.calls) == 1


def test_retries_are_bounded(fake: FakeKube, kube: Kube, sleeps: Sleeps) -> None:
    fake.fail_next("GET", "/configmaps", 503, times=10)

    with pytest.raises(KubeUnavailableError) as caught:
        kube.get("v1", "ConfigMap", "default", "a")

    assert "failed after 3 attempts: HTTP 503" in str(caught.value)
    assert caught.value.exit_code == ExitCode.APPLY
    assert fake.count("get", "configmaps") == 3
    assert len(sleeps.calls) == 2 and sleeps.calls[0] < sleeps.calls[1]


def test_client_errors_are_not_retried_and_say_what_to_do(
    fake: FakeKube, kube: Kube, sleeps: Sleeps
) -> None:
    fake.fail_next("PATCH", "/configmaps/", 403, message='configmaps "a" is forbidden')

    with pytest.raises(KubeError) as caught:
        kube.apply(configmap("a", ns="default"))

    assert caught.value.status == 403
    assert 'apply /ConfigMap/default/a: HTTP 403: configmaps "a" is forbidden' in str(caught.value)
    assert "RBAC" in (caught.value.hint or "")
    assert sleeps.calls == []


def test_a_real_403_is_not_retried_and_says_who_was_refused(real_api: Api, sleeps: Sleeps) -> None:
    api = real_api
    api.kube.impersonate("someone-without-rights")

    with pytest.raises(KubeError) as caught:
        api.kube.apply(configmap("a", ns=api.ns))

    assert caught.value.status == 403
    assert f'apply /ConfigMap/{api.ns}/a: HTTP 403: configmaps "a" is forbidden: ' in str(
        caught.value
    )
    assert 'User "someone-without-rights" cannot patch resource "configmaps"' in str(caught.value)
    assert "impersonated" in (caught.value.hint or "")
    assert sleeps.calls == []


def test_conflicts_name_the_other_manager(api: Api) -> None:
    api.apply_as(configmap("a", ns=api.ns, k="theirs"), "operator")

    with pytest.raises(KubeConflictError) as caught:
        api.kube.apply(configmap("a", ns=api.ns, k="ours"), force=False)
    api.kube.apply(configmap("a", ns=api.ns, k="ours"), force=True)

    assert 'conflict with "operator"' in str(caught.value)
    assert "--force-conflicts" in (caught.value.hint or "")
    live = api.kube.get("v1", "ConfigMap", api.ns, "a")
    assert live is not None and live["data"] == {"k": "ours"}


def test_get_and_delete_of_missing_objects(api: Api) -> None:
    kube, ns = api.kube, api.ns
    assert kube.get("v1", "ConfigMap", ns, "nope") is None
    assert kube.get_key(f"/ConfigMap/{ns}/nope") is None
    assert kube.get_key("example.com/Doodad//nope") is None  # kind not served: gone
    assert kube.delete(f"/ConfigMap/{ns}/nope") is False


def test_a_crd_becomes_served_on_the_real_server(real_api: Api) -> None:
    api = real_api
    crd = {**CRD, "metadata": {"name": "gizmos.example.com"}}
    crd["spec"] = {
        **CRD["spec"],
        "names": {"plural": "gizmos", "singular": "gizmo", "kind": "Gizmo"},
    }
    with pytest.raises(UnknownKindError):
        api.kube.resource("example.com/v1", "Gizmo")
    api.kube.apply(crd)
    try:
        api.kube.wait_established(["gizmos.example.com"], 30.0, poll=0.1)
        assert api.kube.namespaced("example.com/v1", "Gizmo") is False
        assert api.kube.resource_for("example.com", "Gizmo").kind == "Gizmo"
    finally:
        assert isinstance(api.other, RealCluster)
        api.other.remove(*CRD_KIND, None, "gizmos.example.com")


def test_unknown_kinds_and_crds_becoming_served(fake: FakeKube, kube: Kube) -> None:
    with pytest.raises(UnknownKindError):
        kube.resource("example.com/v1", "Gadget")
    kube.apply(CRD)

    with pytest.raises(KubeError) as caught:
        kube.wait_established(["gadgets.example.com"], 0.05, poll=0.01)
    assert "not Established after 0.05s: gadgets.example.com" in str(caught.value)

    fake.establish_crd("gadgets.example.com")
    kube.wait_established(["gadgets.example.com"], 1.0, poll=0.01)
    assert kube.namespaced("example.com/v1", "Gadget") is False
    assert kube.resource_for("example.com", "Gadget").kind == "Gadget"


def test_a_bad_kubeconfig_is_reported(tmp_path: Path) -> None:
    path = tmp_path / "kubeconfig"
    path.write_text("apiVersion: v1\nkind: Config\nclusters: []\ncontexts: []\n")

    with pytest.raises(InputError) as caught:  # which cluster: a usage question, exit 2
        Kube.connect(path, context="missing")

    assert caught.value.exit_code == ExitCode.INPUT
    assert "cannot load the cluster configuration" in str(caught.value)
    assert "--kubeconfig" in (caught.value.hint or "")
