"""pytest fixtures for the fake API server (load with `pytest_plugins`).

    pytest_plugins = ["tests.kubefake.fixtures"]

* `kube`: a started FakeKube (defaults), stopped afterwards; the test fails
  if the fake hit an internal error while serving it.
* `kube_dyn`: a kubernetes DynamicClient built from the fake's kubeconfig.
* `kube_target`: the fake and, when PROMOTER_TEST_KUBECONFIG names a
  kubeconfig, also a real cluster (a second parameter, `[real]`); yields a
  `KubeTarget` with a fresh namespace to work in. Tests written against it check that the fake and a
  real API server agree.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from tests.realkube import REAL_KUBECONFIG, targets

from .server import FakeKube

if TYPE_CHECKING:
    from kubernetes.dynamic import DynamicClient


@pytest.fixture
def kube() -> Iterator[FakeKube]:
    fake = FakeKube().start()
    try:
        yield fake
    finally:
        fake.stop()
    assert not fake.internal_errors, fake.internal_errors[0]


@pytest.fixture
def kube_dyn(kube: FakeKube) -> DynamicClient:
    return kube.dynamic_client()


@dataclass
class KubeTarget:
    """Where a parity test runs: the fake, or a real cluster."""

    dyn: DynamicClient
    namespace: str
    fake: FakeKube | None

    @property
    def real(self) -> bool:
        return self.fake is None

    def resource(self, api_version: str, kind: str) -> Any:
        return self.dyn.resources.get(api_version=api_version, kind=kind)


def _namespace(dyn: DynamicClient, name: str) -> None:
    namespaces = dyn.resources.get(api_version="v1", kind="Namespace")
    body = {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name}}
    dyn.server_side_apply(namespaces, body=body, field_manager="kubefake-tests")


@pytest.fixture(params=targets(REAL_KUBECONFIG))
def kube_target(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[KubeTarget]:
    name = f"kubefake-{uuid.uuid4().hex[:8]}"
    if request.param == "real":
        kubeconfig = os.environ[REAL_KUBECONFIG]
        from kubernetes import config, dynamic

        api = config.new_client_from_config(config_file=kubeconfig)
        dyn = dynamic.DynamicClient(api, cache_file=str(tmp_path / "discovery.json"))
        _namespace(dyn, name)
        try:
            yield KubeTarget(dyn, name, None)
        finally:
            namespaces = dyn.resources.get(api_version="v1", kind="Namespace")
            dyn.delete(namespaces, name=name)
        return
    fake = FakeKube().start()
    try:
        dyn = fake.dynamic_client()
        _namespace(dyn, name)
        yield KubeTarget(dyn, name, fake)
    finally:
        fake.stop()
    assert not fake.internal_errors, fake.internal_errors[0]
