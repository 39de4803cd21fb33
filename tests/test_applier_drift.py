from __future__ import annotations

import copy
import datetime
import hashlib
from typing import Any

import pytest

from promoter.core.applier.drift import desired_hash, drifted, keys_to_check, needs_check, normalise
from promoter.core.applier.inventory import Entry, Inventory
from promoter.core.objects import Obj


def live_deployment(**changes: Any) -> dict[str, Any]:
    obj: dict[str, Any] = {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {
            "name": "api",
            "namespace": "app",
            "uid": "0b7c-uid",
            "resourceVersion": "1200",
            "generation": 4,
            "creationTimestamp": "2026-01-01T00:00:00Z",
            "managedFields": [{"manager": "promoter", "operation": "Apply"}],
            "labels": {"app.kubernetes.io/name": "api"},
            "annotations": {"deployment.kubernetes.io/revision": "4"},
        },
        "spec": {
            "replicas": 3,
            "template": {
                "spec": {
                    "containers": [
                        {
                            "name": "api",
                            "image": "ghcr.io/acme/api:1.4.2",
                            "resources": {"requests": {"cpu": "500m", "memory": "128Mi"}},
                            "imagePullPolicy": "IfNotPresent",
                        }
                    ]
                }
            },
        },
        "status": {"replicas": 3, "observedGeneration": 4},
    }
    for path, value in changes.items():
        node = obj
        *parents, last = path.split("__")
        for part in parents:
            node = node[int(part)] if isinstance(node, list) else node[part]
        if value is _DELETE:
            del node[last]
        else:
            node[last] = value
    return obj


_DELETE = object()


def test_normalise_strips_server_owned_fields_and_keeps_the_rest() -> None:
    live = live_deployment()
    live["metadata"]["annotations"]["kubectl.kubernetes.io/last-applied-configuration"] = "{}"
    live["metadata"]["selfLink"] = "/apis/apps/v1/namespaces/app/deployments/api"
    before = copy.deepcopy(live)
    out = normalise(live)
    assert live == before  # input untouched
    assert "status" not in out
    assert out["metadata"] == {
        "name": "api",
        "namespace": "app",
        "labels": {"app.kubernetes.io/name": "api"},
        "annotations": {"deployment.kubernetes.io/revision": "4"},
    }
    assert out["spec"] == live["spec"]


def test_normalise_drops_annotations_left_empty() -> None:
    obj = {
        "metadata": {
            "name": "x",
            "annotations": {"kubectl.kubernetes.io/last-applied-configuration": "{}"},
        }
    }
    assert normalise(obj) == {"metadata": {"name": "x"}}


def test_quantity_written_differently_in_git_is_not_drift() -> None:
    # Git says cpu: "0.5" and no imagePullPolicy; the dry-run SSA result is
    # what the server would store (500m, defaults filled in) and matches live.
    desired = live_deployment()
    del desired["metadata"]["annotations"], desired["status"]
    container = desired["spec"]["template"]["spec"]["containers"][0]
    container["resources"]["requests"]["cpu"] = "0.5"
    del container["imagePullPolicy"]
    dry_run = live_deployment()
    dry_run["metadata"]["managedFields"] = [{"manager": "promoter", "time": "2026-02-02T00:00:00Z"}]
    dry_run["metadata"]["generation"] = 5
    assert drifted(dry_run, live_deployment()) == []
    # Comparing the manifest itself would report drift forever.
    assert "spec.template.spec.containers[0].resources.requests.cpu" in drifted(
        desired, live_deployment()
    )


@pytest.mark.parametrize(
    ("live_changes", "paths"),
    [
        pytest.param({"spec__replicas": 5}, ["spec.replicas"], id="scaled-by-hand"),
        pytest.param(
            {"spec__template__spec__containers__0__image": "ghcr.io/acme/api:hotfix"},
            ["spec.template.spec.containers[0].image"],
            id="image-edited",
        ),
        pytest.param(
            {"metadata__labels": {"app.kubernetes.io/name": "api", "team": "x"}},
            ["metadata.labels.team"],
            id="label-added",
        ),
        pytest.param(
            {"metadata__labels": {"app.kubernetes.io/name": "web"}},
            ['metadata.labels["app.kubernetes.io/name"]'],
            id="dotted-label-changed",
        ),
        pytest.param(
            {"spec__template__spec__containers__0__resources": _DELETE},
            ["spec.template.spec.containers[0].resources"],
            id="field-removed",
        ),
        pytest.param(
            {"spec__template__spec__containers": []},
            ["spec.template.spec.containers[0]"],
            id="list-shorter",
        ),
        pytest.param({"spec__replicas": "3"}, ["spec.replicas"], id="type-changed"),
        pytest.param({"spec__replicas": 3.0}, ["spec.replicas"], id="int-vs-float"),
        pytest.param({"spec__template": []}, ["spec.template"], id="map-became-list"),
        pytest.param(
            {"status__replicas": 1, "metadata__resourceVersion": "9999", "metadata__uid": "other"},
            [],
            id="server-owned-only",
        ),
    ],
)
def test_drift_paths(live_changes: dict[str, Any], paths: list[str]) -> None:
    assert drifted(live_deployment(), live_deployment(**live_changes)) == paths


def test_secret_drift_names_the_path_not_the_value() -> None:
    want = {
        "apiVersion": "v1",
        "kind": "Secret",
        "metadata": {"name": "db"},
        "data": {"password": "aHVudGVyMg=="},
    }
    have = {**want, "data": {"password": "czNjcjN0"}}
    paths = drifted(want, have)
    assert paths == ["data.password"]
    assert not any("aHVudGVyMg" in p or "czNjcjN0" in p for p in paths)


def test_desired_hash_is_stable_across_key_order_and_sensitive_to_values() -> None:
    a: dict[str, Any] = {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {"name": "x", "labels": {"a": "1", "b": "2"}},
        "data": {"k": "v"},
    }
    b = {
        "data": {"k": "v"},
        "metadata": {"labels": {"b": "2", "a": "1"}, "name": "x"},
        "kind": "ConfigMap",
        "apiVersion": "v1",
    }
    assert desired_hash(a) == desired_hash(b)
    assert len(desired_hash(a)) == 64 and int(desired_hash(a), 16) >= 0
    changed = copy.deepcopy(a)
    changed["data"]["k"] = "w"
    assert desired_hash(changed) != desired_hash(a)
    assert desired_hash({"n": 1}) != desired_hash({"n": "1"})


def test_desired_hash_of_obj_is_the_hash_of_its_body() -> None:
    body = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "x"}, "data": {"é": "ü"}}
    assert desired_hash(Obj("v1", "ConfigMap", "", "x", body)) == desired_hash(body)
    assert (
        desired_hash(body)
        == hashlib.sha256(
            '{"apiVersion":"v1","data":{"é":"ü"},"kind":"ConfigMap","metadata":{"name":"x"}}'.encode()
        ).hexdigest()
    )


def test_desired_hash_handles_yaml_dates() -> None:
    assert desired_hash({"d": datetime.date(2026, 1, 2)}) == desired_hash({"d": "2026-01-02"})
    with pytest.raises(TypeError):
        desired_hash({"d": {1, 2}})


K = "apps/Deployment/app/api"
H = "a" * 64
H2 = "b" * 64


@pytest.mark.parametrize(
    ("entry", "digest", "live_rv", "expected"),
    [
        pytest.param(Entry(H, "10"), H, "10", False, id="unchanged-skips-dry-run"),
        pytest.param(Entry(H, "10"), H2, "10", True, id="git-changed"),
        pytest.param(Entry(H, "10"), H, "11", True, id="cluster-changed"),
        pytest.param(Entry(H, "10"), H, None, True, id="object-missing"),
        pytest.param(Entry(H, None), H, "10", True, id="no-recorded-rv"),
        pytest.param(Entry(None, "10"), H, "10", True, id="no-recorded-hash"),
        pytest.param(None, H, "10", True, id="not-in-inventory"),
    ],
)
def test_needs_check(entry: Entry | None, digest: str, live_rv: str | None, expected: bool) -> None:
    inv = Inventory() if entry is None else Inventory({K: entry})
    assert needs_check(K, digest, live_rv, inv) is expected


def test_keys_to_check_for_a_round() -> None:
    inv = Inventory(
        {
            "/ConfigMap/a/same": Entry(H, "1"),
            "/ConfigMap/a/edited": Entry(H, "1"),
            "/ConfigMap/a/bumped": Entry(H, "1"),
        }
    )
    desired = {
        "/ConfigMap/a/same": H,
        "/ConfigMap/a/edited": H,
        "/ConfigMap/a/bumped": H2,
        "/ConfigMap/a/new": H,
    }
    live = {"/ConfigMap/a/same": "1", "/ConfigMap/a/edited": "2", "/ConfigMap/a/bumped": "1"}
    assert keys_to_check(desired, live, inv) == [
        "/ConfigMap/a/bumped",
        "/ConfigMap/a/edited",
        "/ConfigMap/a/new",
    ]
