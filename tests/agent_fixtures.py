"""pytest fixtures for the agent tests (load with `pytest_plugins`); the
helpers they build on are in tests/agent_helpers.py.

* `fake_cluster`: the fake API server (workloads ready at once).
* `cluster`: parametrised over "fake" and "real"; "real" runs against the
  server PROMOTER_E2E_KUBECONFIG names (scripts/test.sh starts one), in a
  fresh namespace, with tests.realkube.StandIn as the controllers; without
  the variable there is no "real" run (the summary says why, once).
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.agent_helpers import Cluster, Sleeps, fast_kube, make_repo
from tests.kubefake import FakeKube
from tests.realkube import E2E_KUBECONFIG, StandIn, targets


@pytest.fixture
def fake_cluster(tmp_path: Path) -> Iterator[Cluster]:
    with FakeKube(auto_ready=True) as fake:
        sleeps = Sleeps()
        kube = fast_kube(fake.write_kubeconfig(tmp_path / "kubeconfig"), "default", sleeps)
        try:
            yield Cluster(
                kube, "default", make_repo(tmp_path / "env"), sleeps, fake, tmp_path / "kubeconfig"
            )
        finally:
            kube.close()
        assert not fake.internal_errors, fake.internal_errors[0]


@pytest.fixture(params=targets(E2E_KUBECONFIG))
def cluster(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Cluster]:
    if request.param == "fake":
        yield request.getfixturevalue("fake_cluster")
        return
    kubeconfig = os.environ[E2E_KUBECONFIG]
    namespace = f"promoter-e2e-{uuid.uuid4().hex[:8]}"
    sleeps = Sleeps()
    kube = fast_kube(Path(kubeconfig), namespace, sleeps, timeout=30.0)
    kube.apply({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": namespace}})
    standin = StandIn(kube, namespace)
    try:
        yield Cluster(
            kube, namespace, make_repo(tmp_path / "env"), sleeps, None, Path(kubeconfig), standin
        )
    finally:
        kube.delete(f"/Namespace//{namespace}")
        kube.close()
