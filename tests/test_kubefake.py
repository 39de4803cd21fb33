"""The fake Kubernetes API server, driven by the real `kubernetes` client.

Tests taking `kube_target` run against the fake and, when
PROMOTER_TEST_KUBECONFIG names a kubeconfig, against that real cluster too:
they pin down behaviour the fake must share with kube-apiserver. The others
exercise the fake's own switches (health, faults, CRD timing, counters).
"""

from __future__ import annotations

import json
import time
from typing import TYPE_CHECKING, Any

import pytest
import requests
import urllib3
from kubernetes.dynamic import DynamicClient
from kubernetes.dynamic.exceptions import (
    ConflictError,
    DynamicApiError,
    InternalServerError,
    NotFoundError,
    ResourceNotFoundError,
    UnauthorizedError,
    UnprocessibleEntityError,
)

from tests.kubefake import FakeKube

if TYPE_CHECKING:
    from tests.kubefake.fixtures import KubeTarget

pytest_plugins = ["tests.kubefake.fixtures"]

MERGE = "application/merge-patch+json"


def deployment(name: str, namespace: str, image: str = "nginx:1.25", **spec: Any) -> dict[str, Any]:
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": name, "namespace": namespace, "labels": {"app": name}},
        "spec": {
            "selector": {"matchLabels": {"app": name}},
            "template": {
                "metadata": {"labels": {"app": name}},
                "spec": {"containers": [{"name": "app", "image": image}]},
            },
            **spec,
        },
    }


def configmap(
    name: str, namespace: str, labels: dict[str, str] | None = None, **data: str
) -> dict[str, Any]:
    # No `labels: {}` when there are none: the server drops an empty map,
    # so a second manager applying `{}` again conflicts on it (docs/kubefake.md).
    meta: dict[str, Any] = {"name": name, "namespace": namespace}
    if labels:
        meta["labels"] = labels
    return {"apiVersion": "v1", "kind": "ConfigMap", "metadata": meta, "data": data}


def owned(obj: Any, manager: str) -> dict[str, Any]:
    """The fieldsV1 of `manager`'s entries (merged), from a returned object."""
    fields: dict[str, Any] = {}
    for entry in obj.to_dict()["metadata"].get("managedFields", []):
        if entry["manager"] == manager:
            fields.update(entry["fieldsV1"])
    return fields


def healthy(dep: dict[str, Any]) -> bool:
    """A kstatus-style Deployment check, to show the fake's statuses are meaningful."""
    status = dep.get("status") or {}
    replicas = dep["spec"]["replicas"]
    conditions = {c["type"]: c["status"] for c in status.get("conditions", [])}
    return (
        status.get("observedGeneration") == dep["metadata"]["generation"]
        and status.get("updatedReplicas", 0) == replicas
        and status.get("replicas", 0) == replicas
        and status.get("availableReplicas", 0) == replicas
        and conditions.get("Available") == "True"
    )


# -- parity with kube-apiserver ----------------------------------------------------------


def test_discovery_serves_builtin_kinds(kube_target: KubeTarget) -> None:
    dyn = kube_target.dyn
    deployments = dyn.resources.get(api_version="apps/v1", kind="Deployment")
    assert (deployments.name, deployments.namespaced) == ("deployments", True)
    assert {"get", "list", "patch", "delete"} <= set(deployments.verbs)
    assert "status" in deployments.subresources
    assert dyn.resources.get(api_version="v1", kind="Namespace").namespaced is False
    assert (
        dyn.resources.get(api_version="rbac.authorization.k8s.io/v1", kind="ClusterRole").namespaced
        is False
    )
    for api_version, kind in [
        ("v1", "ServiceAccount"),
        ("batch/v1", "CronJob"),
        ("networking.k8s.io/v1", "Ingress"),
        ("apiextensions.k8s.io/v1", "CustomResourceDefinition"),
        ("admissionregistration.k8s.io/v1", "ValidatingWebhookConfiguration"),
    ]:
        assert dyn.resources.get(api_version=api_version, kind=kind).kind == kind
    with pytest.raises(ResourceNotFoundError):
        dyn.resources.get(api_version="example.com/v1", kind="Gadget")


def test_apply_creates_then_bumps_versions_only_on_change(kube_target: KubeTarget) -> None:
    dyn, ns = kube_target.dyn, kube_target.namespace
    res = kube_target.resource("apps/v1", "Deployment")
    body = deployment("web", ns)
    created = dyn.server_side_apply(res, body=body, field_manager="promoter")
    assert created.metadata.generation == 1
    assert created.metadata.uid and created.metadata.creationTimestamp
    rv = int(created.metadata.resourceVersion)

    again = dyn.server_side_apply(res, body=body, field_manager="promoter")
    assert int(again.metadata.resourceVersion) == rv  # a no-op apply writes nothing

    body["metadata"]["labels"]["team"] = "a"
    relabelled = dyn.server_side_apply(res, body=body, field_manager="promoter")
    assert int(relabelled.metadata.resourceVersion) > rv
    assert relabelled.metadata.generation == 1  # metadata is not spec

    body["spec"]["template"]["spec"]["containers"][0]["image"] = "nginx:1.26"
    bumped = dyn.server_side_apply(res, body=body, field_manager="promoter")
    assert bumped.metadata.generation == 2
    assert int(bumped.metadata.resourceVersion) > int(relabelled.metadata.resourceVersion)
    assert (
        dyn.get(res, name="web", namespace=ns).spec.template.spec.containers[0].image
        == "nginx:1.26"
    )


def test_dry_run_apply_computes_without_storing(kube_target: KubeTarget) -> None:
    dyn, ns = kube_target.dyn, kube_target.namespace
    res = kube_target.resource("apps/v1", "Deployment")
    live = dyn.server_side_apply(res, body=deployment("web", ns), field_manager="promoter")

    changed = deployment("web", ns, image="nginx:1.27")
    preview = dyn.server_side_apply(res, body=changed, field_manager="promoter", dry_run="All")
    assert preview.spec.template.spec.containers[0].image == "nginx:1.27"
    assert preview.spec.replicas == 1  # server defaults are in the answer
    assert preview.metadata.resourceVersion == live.metadata.resourceVersion
    stored = dyn.get(res, name="web", namespace=ns)
    assert stored.spec.template.spec.containers[0].image == "nginx:1.25"
    assert stored.metadata.resourceVersion == live.metadata.resourceVersion

    new = dyn.server_side_apply(
        res, body=deployment("api", ns), field_manager="promoter", dry_run="All"
    )
    assert new.metadata.name == "api"
    with pytest.raises(NotFoundError):
        dyn.get(res, name="api", namespace=ns)


def test_conflict_with_another_manager_unless_forced(kube_target: KubeTarget) -> None:
    dyn, ns = kube_target.dyn, kube_target.namespace
    res = kube_target.resource("apps/v1", "Deployment")
    dyn.server_side_apply(res, body=deployment("web", ns, replicas=2), field_manager="promoter")
    # Someone scales by hand: an Update by another field manager.
    dyn.patch(
        res,
        body={"spec": {"replicas": 5}},
        name="web",
        namespace=ns,
        content_type=MERGE,
        field_manager="kubectl-edit",
    )

    with pytest.raises(ConflictError) as caught:
        dyn.server_side_apply(res, body=deployment("web", ns, replicas=3), field_manager="promoter")
    status = json.loads(caught.value.body)
    assert status["reason"] == "Conflict"
    assert status["message"].startswith(
        'Apply failed with 1 conflict: conflict with "kubectl-edit"'
    )
    assert [c["field"] for c in status["details"]["causes"]] == [".spec.replicas"]
    assert dyn.get(res, name="web", namespace=ns).spec.replicas == 5

    forced = dyn.server_side_apply(
        res, body=deployment("web", ns, replicas=3), field_manager="promoter", force_conflicts=True
    )
    assert forced.spec.replicas == 3
    assert "f:replicas" in owned(forced, "promoter")["f:spec"]
    assert "f:replicas" not in owned(forced, "kubectl-edit").get("f:spec", {})


def test_applying_the_live_value_shares_ownership(kube_target: KubeTarget) -> None:
    dyn, ns = kube_target.dyn, kube_target.namespace
    res = kube_target.resource("v1", "ConfigMap")
    dyn.server_side_apply(res, body=configmap("cfg", ns, mode="a"), field_manager="helm")
    shared = dyn.server_side_apply(
        res, body=configmap("cfg", ns, mode="a"), field_manager="promoter"
    )
    assert "f:mode" in owned(shared, "helm")["f:data"]
    assert "f:mode" in owned(shared, "promoter")["f:data"]
    with pytest.raises(ConflictError):
        dyn.server_side_apply(res, body=configmap("cfg", ns, mode="b"), field_manager="promoter")


def test_apply_removes_fields_it_no_longer_applies(kube_target: KubeTarget) -> None:
    dyn, ns = kube_target.dyn, kube_target.namespace
    res = kube_target.resource("v1", "ConfigMap")
    dyn.server_side_apply(
        res, body=configmap("cfg", ns, a="1", b="2", c="3"), field_manager="promoter"
    )
    # Another manager also applies c: it must survive promoter dropping it.
    dyn.server_side_apply(res, body=configmap("cfg", ns, c="3"), field_manager="other")
    after = dyn.server_side_apply(res, body=configmap("cfg", ns, a="1"), field_manager="promoter")
    assert after.data.to_dict() == {"a": "1", "c": "3"}


def test_list_with_label_and_field_selectors(kube_target: KubeTarget) -> None:
    dyn, ns = kube_target.dyn, kube_target.namespace
    res = kube_target.resource("v1", "ConfigMap")
    for name, labels in [
        ("web", {"app": "web", "tier": "front"}),
        ("api", {"app": "api", "tier": "back"}),
        ("db", {"app": "db"}),
    ]:
        dyn.server_side_apply(res, body=configmap(name, ns, labels), field_manager="promoter")

    def names(**kwargs: Any) -> list[str]:
        listed = dyn.get(res, namespace=ns, **kwargs)
        return sorted(item.metadata.name for item in listed.items)

    assert names(label_selector="app=web") == ["web"]
    assert names(label_selector="app==web") == ["web"]
    assert names(label_selector="app!=web") == ["api", "db"]
    assert names(label_selector="app in (web,api)") == ["api", "web"]
    assert names(label_selector="app notin (web)") == ["api", "db"]
    assert names(label_selector="tier") == ["api", "web"]
    assert names(label_selector="!tier") == ["db"]
    assert names(label_selector="app,tier=back") == ["api"]
    assert names(field_selector="metadata.name=db") == ["db"]
    assert names(field_selector="metadata.name!=db", label_selector="tier") == ["api", "web"]
    everywhere = dyn.get(res, label_selector="app=web")  # all namespaces
    # (a shared real server also holds other tests' namespaces)
    found = [(i.metadata.namespace, i.metadata.name) for i in everywhere.items]
    assert (ns, "web") in found and all(name == "web" for _, name in found)
    assert all(i.metadata.labels["app"] == "web" for i in everywhere.items)


def test_delete_then_not_found(kube_target: KubeTarget) -> None:
    dyn, ns = kube_target.dyn, kube_target.namespace
    res = kube_target.resource("v1", "ConfigMap")
    dyn.server_side_apply(res, body=configmap("gone", ns), field_manager="promoter")
    dyn.delete(res, name="gone", namespace=ns, propagation_policy="Background")
    with pytest.raises(NotFoundError):
        dyn.get(res, name="gone", namespace=ns)
    with pytest.raises(NotFoundError):
        dyn.delete(res, name="gone", namespace=ns)


def test_quantities_are_stored_canonical_so_compare_through_dry_run(
    kube_target: KubeTarget,
) -> None:
    dyn, ns = kube_target.dyn, kube_target.namespace
    res = kube_target.resource("apps/v1", "Deployment")
    body = deployment("web", ns)
    container = body["spec"]["template"]["spec"]["containers"][0]
    container["resources"] = {
        "requests": {"cpu": 0.5, "memory": "1Gi"},
        "limits": {"memory": "1024Mi"},
    }
    live = dyn.server_side_apply(res, body=body, field_manager="promoter")
    resources = live.spec.template.spec.containers[0].resources
    assert resources.requests.cpu == "500m"
    assert resources.requests.memory == "1Gi"
    assert resources.limits.memory == "1Gi"
    # Raw desired-vs-live sees drift that is not there; a dry-run apply does not.
    assert container["resources"]["requests"]["cpu"] != resources.requests.cpu
    preview = dyn.server_side_apply(res, body=body, field_manager="promoter", dry_run="All")
    assert preview.spec.to_dict() == live.spec.to_dict()
    assert preview.spec.template.spec.containers[0].imagePullPolicy == "IfNotPresent"


def test_namespace_must_exist(kube_target: KubeTarget) -> None:
    res = kube_target.resource("v1", "ConfigMap")
    with pytest.raises(NotFoundError) as caught:
        kube_target.dyn.server_side_apply(
            res, body=configmap("cfg", "no-such-namespace"), field_manager="promoter"
        )
    assert 'namespaces "no-such-namespace" not found' in json.loads(caught.value.body)["message"]


def test_selector_is_immutable(kube_target: KubeTarget) -> None:
    dyn, ns = kube_target.dyn, kube_target.namespace
    res = kube_target.resource("apps/v1", "Deployment")
    dyn.server_side_apply(res, body=deployment("web", ns), field_manager="promoter")
    body = deployment("web", ns)
    body["spec"]["selector"]["matchLabels"]["track"] = "stable"
    body["spec"]["template"]["metadata"]["labels"]["track"] = "stable"
    with pytest.raises(UnprocessibleEntityError) as caught:
        dyn.server_side_apply(res, body=body, field_manager="promoter")
    assert "field is immutable" in json.loads(caught.value.body)["message"]


def test_invalid_objects_are_refused(kube_target: KubeTarget) -> None:
    dyn, ns = kube_target.dyn, kube_target.namespace
    res = kube_target.resource("apps/v1", "Deployment")
    mismatched = deployment("web", ns)
    mismatched["spec"]["template"]["metadata"]["labels"] = {"app": "other"}
    bad_label = deployment("web", ns)
    bad_label["metadata"]["labels"]["team"] = "not a valid value"
    no_image = deployment("web", ns)
    del no_image["spec"]["template"]["spec"]["containers"][0]["image"]
    for body in (mismatched, bad_label, no_image, deployment("Web", ns)):
        with pytest.raises(UnprocessibleEntityError) as caught:
            dyn.server_side_apply(res, body=body, field_manager="promoter")
        assert "is invalid" in json.loads(caught.value.body)["message"]
    with pytest.raises(NotFoundError):
        dyn.get(res, name="web", namespace=ns)


# -- the fake's own switches -------------------------------------------------------------


def test_apply_needs_a_field_manager(kube: FakeKube, kube_dyn: DynamicClient) -> None:
    res = kube_dyn.resources.get(api_version="v1", kind="ConfigMap")
    with pytest.raises(UnprocessibleEntityError) as caught:
        kube_dyn.patch(
            res, body=configmap("cfg", "default"), content_type="application/apply-patch+yaml"
        )
    assert "fieldManager: Required value" in json.loads(caught.value.body)["message"]
    assert kube.get_object("v1", "ConfigMap", "default", "cfg") is None


def test_drift_by_other_actors_is_owned_by_them(kube: FakeKube, kube_dyn: DynamicClient) -> None:
    res = kube_dyn.resources.get(api_version="apps/v1", kind="Deployment")
    kube_dyn.server_side_apply(res, body=deployment("web", "default"), field_manager="promoter")
    kube.edit(
        "apps/v1",
        "Deployment",
        "default",
        "web",
        {"spec": {"template": {"spec": {"containers": [{"name": "app", "image": "evil:1"}]}}}},
    )
    live = kube.get_object("apps/v1", "Deployment", "default", "web")
    assert live is not None
    assert live["metadata"]["generation"] == 2
    image = '.spec.template.spec.containers[name="app"].image'
    # A merge patch replaces the whole containers list (that is what merge patch means).
    assert image in kube.managers("apps/v1", "Deployment", "default", "web")["kubectl-edit"]
    assert image not in kube.managers("apps/v1", "Deployment", "default", "web")["promoter"]
    with pytest.raises(ConflictError):
        kube_dyn.server_side_apply(res, body=deployment("web", "default"), field_manager="promoter")


def test_put_and_strategic_merge_patch(kube: FakeKube, kube_dyn: DynamicClient) -> None:
    res = kube_dyn.resources.get(api_version="apps/v1", kind="Deployment")
    body = deployment("web", "default")
    body["spec"]["template"]["spec"]["containers"].append({"name": "sidecar", "image": "envoy:1"})
    kube_dyn.create(res, body=body, namespace="default")
    patched = kube_dyn.patch(
        res,
        name="web",
        namespace="default",
        body={
            "spec": {
                "template": {"spec": {"containers": [{"name": "sidecar", "image": "envoy:2"}]}}
            }
        },
    )
    images = [c.image for c in patched.spec.template.spec.containers]
    assert images == ["nginx:1.25", "envoy:2"]
    current = patched.to_dict()
    current["spec"]["replicas"] = 4
    replaced = kube_dyn.replace(res, body=current, field_manager="kubectl-replace")
    assert replaced.spec.replicas == 4 and replaced.metadata.generation == 3
    stale = dict(current, metadata=dict(current["metadata"], resourceVersion="1"))
    with pytest.raises(ConflictError):
        kube_dyn.replace(res, body=stale)


def test_secret_string_data_and_service_defaults(kube: FakeKube, kube_dyn: DynamicClient) -> None:
    secrets = kube_dyn.resources.get(api_version="v1", kind="Secret")
    secret = kube_dyn.server_side_apply(
        secrets,
        field_manager="promoter",
        body={
            "apiVersion": "v1",
            "kind": "Secret",
            "metadata": {"name": "s", "namespace": "default"},
            "stringData": {"password": "hunter2"},
        },
    )
    assert secret.data.password == "aHVudGVyMg==" and secret.type == "Opaque"
    assert "stringData" not in secret.to_dict()
    services = kube_dyn.resources.get(api_version="v1", kind="Service")
    svc = kube_dyn.server_side_apply(
        services,
        field_manager="promoter",
        body={
            "apiVersion": "v1",
            "kind": "Service",
            "metadata": {"name": "web", "namespace": "default"},
            "spec": {"type": "LoadBalancer", "selector": {"app": "web"}, "ports": [{"port": 80}]},
        },
    )
    assert svc.spec.clusterIP.startswith("10.96.")
    assert svc.spec.ports[0].targetPort == 80 and svc.spec.ports[0].protocol == "TCP"
    assert svc.spec.ports[0].nodePort >= 30000
    assert not svc.status.loadBalancer.to_dict().get("ingress")
    ready = kube.set_load_balancer("default", "web")
    assert ready["status"]["loadBalancer"]["ingress"] == [{"ip": "203.0.113.10", "ipMode": "VIP"}]


def test_configmap_data_must_be_strings(kube_dyn: DynamicClient) -> None:
    res = kube_dyn.resources.get(api_version="v1", kind="ConfigMap")
    body = configmap("cfg", "default")
    body["data"] = {"port": 8080}
    with pytest.raises(DynamicApiError) as caught:
        kube_dyn.server_side_apply(res, body=body, field_manager="promoter")
    assert caught.value.status == 400


def test_status_is_not_applied_through_the_main_resource(
    kube: FakeKube, kube_dyn: DynamicClient
) -> None:
    res = kube_dyn.resources.get(api_version="apps/v1", kind="Deployment")
    body = deployment("web", "default")
    body["status"] = {"observedGeneration": 99, "availableReplicas": 7}
    applied = kube_dyn.server_side_apply(res, body=body, field_manager="promoter")
    assert applied.status.observedGeneration == 1
    assert applied.status.availableReplicas is None
    assert "f:status" not in owned(applied, "promoter")


def test_make_available_switches_deployment_health(kube: FakeKube, kube_dyn: DynamicClient) -> None:
    res = kube_dyn.resources.get(api_version="apps/v1", kind="Deployment")
    kube_dyn.server_side_apply(
        res, body=deployment("web", "default", replicas=2), field_manager="promoter"
    )
    fresh = kube_dyn.get(res, name="web", namespace="default").to_dict()
    assert not healthy(fresh)
    assert {c["type"]: c["status"] for c in fresh["status"]["conditions"]}["Available"] == "False"

    kube.make_available("default", "web")
    ready = kube_dyn.get(res, name="web", namespace="default").to_dict()
    assert healthy(ready)
    assert ready["status"]["readyReplicas"] == 2
    assert int(ready["metadata"]["resourceVersion"]) > int(fresh["metadata"]["resourceVersion"])

    rollout = kube_dyn.server_side_apply(
        res,
        body=deployment("web", "default", image="nginx:2", replicas=2),
        field_manager="promoter",
    ).to_dict()
    assert rollout["metadata"]["generation"] == 2 and not healthy(rollout)
    kube.fail_progress("default", "web")
    failed = kube_dyn.get(res, name="web", namespace="default").to_dict()
    progressing = next(c for c in failed["status"]["conditions"] if c["type"] == "Progressing")
    assert (progressing["status"], progressing["reason"]) == ("False", "ProgressDeadlineExceeded")


def test_auto_ready_now_or_after_a_delay() -> None:
    with FakeKube(auto_ready=True) as kube:
        dyn = kube.dynamic_client()
        res = dyn.resources.get(api_version="apps/v1", kind="Deployment")
        assert healthy(
            dyn.server_side_apply(
                res, body=deployment("web", "default"), field_manager="p"
            ).to_dict()
        )
    with FakeKube(auto_ready=0.3) as kube:
        dyn = kube.dynamic_client()
        res = dyn.resources.get(api_version="apps/v1", kind="Deployment")
        assert not healthy(
            dyn.server_side_apply(
                res, body=deployment("web", "default"), field_manager="p"
            ).to_dict()
        )
        time.sleep(0.35)
        assert healthy(dyn.get(res, name="web", namespace="default").to_dict())


def test_other_health_switches(kube: FakeKube) -> None:
    template = deployment("x", "default")["spec"]["template"]
    selector = {"matchLabels": {"app": "x"}}
    kube.seed(
        {
            "apiVersion": "apps/v1",
            "kind": "StatefulSet",
            "metadata": {"name": "db"},
            "spec": {
                "selector": selector,
                "serviceName": "db",
                "replicas": 3,
                "template": template,
            },
        }
    )
    kube.seed(
        {
            "apiVersion": "apps/v1",
            "kind": "DaemonSet",
            "metadata": {"name": "agent"},
            "spec": {"selector": selector, "template": template},
        }
    )
    job_template = {
        "spec": {"restartPolicy": "Never", "containers": [{"name": "m", "image": "m:1"}]}
    }
    for name in ("migrate", "broken"):
        kube.seed(
            {
                "apiVersion": "batch/v1",
                "kind": "Job",
                "metadata": {"name": name},
                "spec": {"template": job_template},
            }
        )
    kube.seed(
        {
            "apiVersion": "v1",
            "kind": "PersistentVolumeClaim",
            "metadata": {"name": "data"},
            "spec": {
                "accessModes": ["ReadWriteOnce"],
                "resources": {"requests": {"storage": "1Gi"}},
            },
        }
    )

    assert (
        kube.get_object("apps/v1", "StatefulSet", "default", "db")["status"].get("readyReplicas")
        is None
    )  # type: ignore[index]
    sts = kube.make_ready("StatefulSet", "default", "db")["status"]
    assert (sts["readyReplicas"], sts["updatedReplicas"], sts["observedGeneration"]) == (3, 3, 1)
    assert sts["currentRevision"] == sts["updateRevision"]
    ds = kube.make_ready("DaemonSet", "default", "agent")["status"]
    assert ds["numberReady"] == ds["desiredNumberScheduled"] == ds["updatedNumberScheduled"] == 1
    job = kube.complete_job("default", "migrate")["status"]
    assert {c["type"] for c in job["conditions"]} >= {"Complete"} and job["succeeded"] == 1
    failed = kube.fail_job("default", "broken")["status"]
    assert [c["reason"] for c in failed["conditions"] if c["type"] == "Failed"] == [
        "BackoffLimitExceeded"
    ]
    assert (
        kube.get_object("v1", "PersistentVolumeClaim", "default", "data")["status"]["phase"]
        == "Pending"
    )  # type: ignore[index]
    assert kube.bind_pvc("default", "data")["status"] == {
        "phase": "Bound",
        "accessModes": ["ReadWriteOnce"],
        "capacity": {"storage": "1Gi"},
    }
    custom = kube.set_status("batch/v1", "Job", "default", "migrate", {"active": 9})
    assert custom["status"] == {"active": 9}


def test_job_gets_generated_selector_and_rejects_template_change(
    kube: FakeKube, kube_dyn: DynamicClient
) -> None:
    res = kube_dyn.resources.get(api_version="batch/v1", kind="Job")
    body = {
        "apiVersion": "batch/v1",
        "kind": "Job",
        "metadata": {"name": "m", "namespace": "default"},
        "spec": {
            "template": {
                "spec": {"restartPolicy": "Never", "containers": [{"name": "m", "image": "m:1"}]}
            }
        },
    }
    job = kube_dyn.server_side_apply(res, body=body, field_manager="promoter")
    uid = job.metadata.uid
    assert job.spec.selector.matchLabels["batch.kubernetes.io/controller-uid"] == uid
    assert job.spec.template.metadata.labels["job-name"] == "m"
    assert kube_dyn.server_side_apply(
        res, body=body, field_manager="promoter"
    ).metadata.resourceVersion == (job.metadata.resourceVersion)
    body["spec"]["template"]["spec"]["containers"][0]["image"] = "m:2"
    with pytest.raises(UnprocessibleEntityError):
        kube_dyn.server_side_apply(res, body=body, field_manager="promoter")


def test_crd_is_served_once_established() -> None:
    with FakeKube(crd_delay=0.3) as kube:
        dyn = kube.dynamic_client()
        crds = dyn.resources.get(
            api_version="apiextensions.k8s.io/v1", kind="CustomResourceDefinition"
        )
        crd = {
            "apiVersion": "apiextensions.k8s.io/v1",
            "kind": "CustomResourceDefinition",
            "metadata": {"name": "widgets.example.com"},
            "spec": {
                "group": "example.com",
                "scope": "Namespaced",
                "names": {
                    "plural": "widgets",
                    "singular": "widget",
                    "kind": "Widget",
                    "shortNames": ["wd"],
                },
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
                        "subresources": {"status": {}},
                    }
                ],
            },
        }
        created = dyn.server_side_apply(crds, body=crd, field_manager="promoter")
        conditions = {c.type: c.status for c in created.status.conditions}
        assert conditions == {"NamesAccepted": "True", "Established": "False"}
        with pytest.raises(ResourceNotFoundError):
            dyn.resources.get(api_version="example.com/v1", kind="Widget")

        deadline = time.monotonic() + 3
        while True:
            current = dyn.get(crds, name="widgets.example.com")
            if {c.type: c.status for c in current.status.conditions}["Established"] == "True":
                break
            assert time.monotonic() < deadline, "CRD never became Established"
            time.sleep(0.05)
        widgets = dyn.resources.get(
            api_version="example.com/v1", kind="Widget"
        )  # refreshes discovery
        assert widgets.namespaced and widgets.short_names == ["wd"]
        dyn.server_side_apply(
            widgets,
            field_manager="promoter",
            body={
                "apiVersion": "example.com/v1",
                "kind": "Widget",
                "metadata": {"name": "w1", "namespace": "default"},
                "spec": {"size": 3},
            },
        )
        headers = {"Authorization": f"Bearer {kube.token}"}
        raw = requests.get(f"{kube.url}/apis/example.com/v1/widgets", headers=headers, timeout=5)
        assert raw.json()["items"][0]["kind"] == "Widget"  # custom resources keep kind in lists
        builtin = requests.get(f"{kube.url}/api/v1/namespaces", headers=headers, timeout=5)
        assert "kind" not in builtin.json()["items"][0]  # built-in LIST items do not

        dyn.delete(crds, name="widgets.example.com")
        assert (
            kube.get_object(
                "apiextensions.k8s.io/v1", "CustomResourceDefinition", None, "widgets.example.com"
            )
            is None
        )
        assert kube.resource_type("example.com", "v1", "widgets") is None


def test_crd_with_manual_establish_is_not_served_until_then() -> None:
    with FakeKube(crd_delay=None) as kube:
        kube.seed(
            {
                "apiVersion": "apiextensions.k8s.io/v1",
                "kind": "CustomResourceDefinition",
                "metadata": {"name": "gadgets.example.com"},
                "spec": {
                    "group": "example.com",
                    "scope": "Cluster",
                    "names": {"plural": "gadgets", "kind": "Gadget"},
                    "versions": [{"name": "v1", "served": True, "storage": True}],
                },
            }
        )
        time.sleep(0.2)
        assert kube.resource_type("example.com", "v1", "gadgets") is None
        established = kube.establish_crd("gadgets.example.com")
        assert established["status"]["conditions"][1]["status"] == "True"
        dyn = kube.dynamic_client()
        assert dyn.resources.get(api_version="example.com/v1", kind="Gadget").namespaced is False


def test_fault_injection_fails_then_recovers(kube: FakeKube, kube_dyn: DynamicClient) -> None:
    res = kube_dyn.resources.get(api_version="v1", kind="ConfigMap")
    kube.seed(configmap("cfg", "default", a="1"))
    kube.reset_requests()
    fault = kube.fail_next("GET", r"/configmaps/cfg$", status=500)
    with pytest.raises(InternalServerError):
        kube_dyn.get(res, name="cfg", namespace="default")
    assert kube_dyn.get(res, name="cfg", namespace="default").data.a == "1"
    assert fault.hits == 1
    assert [(r.verb, r.status, r.fault) for r in kube.requests] == [
        ("get", 500, True),
        ("get", 200, False),
    ]

    kube.fail_next(status=429, times=2, path_regex="configmaps")
    for _ in range(2):
        with pytest.raises(DynamicApiError) as caught:
            kube_dyn.get(res, name="cfg", namespace="default")
        assert caught.value.status == 429
    assert kube_dyn.get(res, name="cfg", namespace="default").metadata.name == "cfg"

    # With Retry-After, urllib3 (under the kubernetes client) retries a GET by itself.
    kube.reset_requests()
    kube.fail_next("GET", status=503, retry_after=0)
    assert kube_dyn.get(res, name="cfg", namespace="default").metadata.name == "cfg"
    assert [r.status for r in kube.requests] == [503, 200]

    # A dropped connection: urllib3 retries a GET, not a PATCH.
    kube.reset_requests()
    kube.fail_next("GET", drop=True)
    kube.fail_next("PATCH", drop=True)
    assert kube_dyn.get(res, name="cfg", namespace="default").metadata.name == "cfg"
    with pytest.raises(urllib3.exceptions.ProtocolError):
        kube_dyn.server_side_apply(res, body=configmap("cfg", "default"), field_manager="p")
    assert [(r.verb, r.status) for r in kube.requests] == [("get", 0), ("get", 200), ("apply", 0)]


def test_timeout_mode_answers_after_the_client_gave_up(
    kube: FakeKube, kube_dyn: DynamicClient
) -> None:
    res = kube_dyn.resources.get(api_version="v1", kind="ConfigMap")
    kube.timeout_next("PATCH", seconds=1.0)
    started = time.monotonic()
    with pytest.raises(urllib3.exceptions.ReadTimeoutError):
        kube_dyn.server_side_apply(
            res,
            body=configmap("late", "default", a="1"),
            field_manager="promoter",
            _request_timeout=0.2,
        )
    assert time.monotonic() - started < 0.9
    assert kube.get_object("v1", "ConfigMap", "default", "late") is None
    deadline = time.monotonic() + 3
    while kube.get_object("v1", "ConfigMap", "default", "late") is None:
        assert time.monotonic() < deadline, "the late write never landed"
        time.sleep(0.05)


def test_requests_need_the_bearer_token(kube: FakeKube, tmp_path: Any) -> None:
    assert requests.get(f"{kube.url}/api", timeout=5).status_code == 401
    wrong = requests.get(f"{kube.url}/api", headers={"Authorization": "Bearer nope"}, timeout=5)
    assert wrong.status_code == 401 and wrong.json()["reason"] == "Unauthorized"
    good = requests.get(
        f"{kube.url}/api", headers={"Authorization": f"Bearer {kube.token}"}, timeout=5
    )
    assert good.status_code == 200 and good.json()["versions"] == ["v1"]

    config = kube.kubeconfig()
    config["users"][0]["user"]["token"] = "stolen"
    path = tmp_path / "bad-kubeconfig"
    path.write_text(json.dumps(config))
    with pytest.raises(UnauthorizedError):
        kube.dynamic_client(kubeconfig=path)


def test_request_counters(kube: FakeKube, kube_dyn: DynamicClient) -> None:
    res = kube_dyn.resources.get(api_version="apps/v1", kind="Deployment")
    kube.reset_requests()
    for image in ("a:1", "a:2"):
        kube_dyn.server_side_apply(
            res, body=deployment("web", "default", image=image), field_manager="promoter"
        )
    kube_dyn.server_side_apply(
        res, body=deployment("web", "default"), field_manager="promoter", dry_run="All"
    )
    kube_dyn.get(res, namespace="default")
    kube_dyn.delete(res, name="web", namespace="default")
    assert kube.counts() == {
        ("apply", "deployments.apps"): 3,
        ("list", "deployments.apps"): 1,
        ("delete", "deployments.apps"): 1,
    }
    assert kube.count("apply", "deployments") == 3
    assert kube.count("apply", dry_run=True) == 1
    assert kube.count("apply", status=201) == 1  # the first apply created it
    kube.reset_requests()
    assert kube.count() == 0


def test_garbage_collection_and_finalizers(kube: FakeKube, kube_dyn: DynamicClient) -> None:
    owner = kube.seed(configmap("owner", "default"))
    ref = {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "name": "owner",
        "uid": owner["metadata"]["uid"],
    }
    for name in ("child", "orphan-me"):
        dependent = configmap(name, "default")
        dependent["metadata"]["ownerReferences"] = [ref]
        kube.seed(dependent)
    held = configmap("held", "default")
    held["metadata"]["finalizers"] = ["example.com/hold"]
    kube.seed(held)

    res = kube_dyn.resources.get(api_version="v1", kind="ConfigMap")
    kube_dyn.delete(res, name="owner", namespace="default")
    assert kube.get_object("v1", "ConfigMap", "default", "child") is None
    assert kube.get_object("v1", "ConfigMap", "default", "orphan-me") is None

    kube_dyn.delete(res, name="held", namespace="default")
    pending = kube_dyn.get(res, name="held", namespace="default")
    assert pending.metadata.deletionTimestamp
    kube_dyn.patch(
        res,
        name="held",
        namespace="default",
        body={"metadata": {"finalizers": None}},
        content_type=MERGE,
    )
    assert kube.get_object("v1", "ConfigMap", "default", "held") is None


def test_namespace_deletion_terminates_its_content(kube: FakeKube, kube_dyn: DynamicClient) -> None:
    kube.seed({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "team"}})
    kube.seed(configmap("a", "team"))
    held = configmap("held", "team")
    held["metadata"]["finalizers"] = ["example.com/hold"]
    kube.seed(held)
    namespaces = kube_dyn.resources.get(api_version="v1", kind="Namespace")
    answer = kube_dyn.delete(namespaces, name="team")
    assert answer.status.phase == "Terminating"
    assert kube.get_object("v1", "ConfigMap", "team", "a") is None
    assert kube_dyn.get(namespaces, name="team").status.phase == "Terminating"

    res = kube_dyn.resources.get(api_version="v1", kind="ConfigMap")
    with pytest.raises(DynamicApiError) as caught:
        kube_dyn.server_side_apply(res, body=configmap("new", "team"), field_manager="promoter")
    assert caught.value.status == 403
    assert "because it is being terminated" in json.loads(caught.value.body)["message"]

    kube.edit("v1", "ConfigMap", "team", "held", {"metadata": {"finalizers": None}})
    assert kube.get_object("v1", "ConfigMap", "team", "held") is None
    with pytest.raises(NotFoundError):
        kube_dyn.get(namespaces, name="team")


def test_list_pagination_and_watch_refused(kube: FakeKube, kube_dyn: DynamicClient) -> None:
    for index in range(5):
        kube.seed(configmap(f"cm-{index}", "default"))
    res = kube_dyn.resources.get(api_version="v1", kind="ConfigMap")
    first = kube_dyn.get(res, namespace="default", limit=2)
    assert [i.metadata.name for i in first.items] == ["cm-0", "cm-1"]
    assert first.metadata.remainingItemCount == 3
    second = kube_dyn.get(res, namespace="default", limit=2, _continue=first.metadata["continue"])
    assert [i.metadata.name for i in second.items] == ["cm-2", "cm-3"]
    headers = {"Authorization": f"Bearer {kube.token}"}
    watch = requests.get(f"{kube.url}/api/v1/configmaps?watch=true", headers=headers, timeout=5)
    assert watch.status_code == 405
