"""The issue's scenarios for one reconcile round (promoter/workflows/apply_round.py).

Tests taking `cluster` run against the fake API server, and against the
real kube-apiserver that scripts/test.sh starts (PROMOTER_E2E_KUBECONFIG;
any cluster works, e.g. kind); they only use the Kubernetes API. Tests
taking `fake_cluster` need what only the fake can do: faults on demand
(5xx, timeouts, an outage) and its request log.
"""

from __future__ import annotations

import logging
from typing import Any

import pytest
import yaml

from promoter.core.applier.drift import desired_hash
from promoter.core.applier.prepare import prepare
from promoter.errors import ExitCode
from promoter.workflows import apply_round
from tests.agent_helpers import OWNER, Cluster, configmap, deployment, service

pytest_plugins = ["tests.agent_fixtures"]

CRD = {
    "apiVersion": "apiextensions.k8s.io/v1",
    "kind": "CustomResourceDefinition",
    "metadata": {"name": "widgets.example.com"},
    "spec": {
        "group": "example.com",
        "scope": "Namespaced",
        "names": {"plural": "widgets", "singular": "widget", "kind": "Widget"},
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
WIDGET = {"apiVersion": "example.com/v1", "kind": "Widget", "metadata": {"name": "w1"}, "spec": {}}


def keys(cluster: Cluster, *names: str) -> set[str]:
    kinds = {"cm": "/ConfigMap", "deploy": "apps/Deployment", "svc": "/Service"}
    out = set()
    for name in names:
        kind, _, obj = name.partition(":")
        out.add(f"{kinds[kind]}/{cluster.namespace}/{obj}")
    return out


# -- first apply, update, removal ----------------------------------------------------------


def test_first_apply_creates_everything_labelled_and_tracked(cluster: Cluster) -> None:
    cluster.write("app", configmap("settings", a="1"), deployment("web"), service("web"))

    result = cluster.round()

    assert result.ok, result.text()
    assert set(result.created) == keys(cluster, "cm:settings", "deploy:web", "svc:web")
    live = cluster.get("apps/v1", "Deployment", "web")
    assert live["metadata"]["labels"][OWNER] == "promoter"
    managers = {m["manager"] for m in live["metadata"]["managedFields"]}
    assert "promoter" in managers
    inventory = cluster.inventory()
    assert inventory.keys == set(result.created)
    entry = inventory.get(f"apps/Deployment/{cluster.namespace}/web")
    assert entry is not None and entry.resource_version is not None
    desired = prepare(cluster.render(), cluster.kube.namespaced, cluster.namespace)
    web = next(o for o in desired if (o.kind, o.name) == ("Deployment", "web"))
    assert entry.hash == desired_hash(web)


def test_crds_first_then_their_custom_resources(cluster: Cluster) -> None:
    cluster.write("widgets", WIDGET, CRD)  # the CR first in the file: order is ours
    crd_key = "apiextensions.k8s.io/CustomResourceDefinition//widgets.example.com"
    try:
        result = cluster.round()

        assert result.ok, result.text()
        widget = f"example.com/Widget/{cluster.namespace}/w1"
        assert result.created.index(crd_key) < result.created.index(widget)
        assert cluster.get("example.com/v1", "Widget", "w1") is not None
    finally:
        if cluster.real:  # cluster-scoped: the test namespace's deletion leaves it
            cluster.kube.delete(crd_key)


def test_a_custom_resource_with_a_status_subresource_is_read_for_health(
    cluster: Cluster,
) -> None:
    """Flux- and Argo CD-shaped: the CRD serves /status, a controller writes
    Ready there; the agent waits on it and never calls it drift."""
    crd = yaml.safe_load(
        yaml.safe_dump(CRD).replace("widget", "gadget").replace("Widget", "Gadget")
    )
    crd["spec"]["versions"][0]["subresources"] = {"status": {}}
    gadget = {"apiVersion": "example.com/v1", "kind": "Gadget", "metadata": {"name": "g1"},
              "spec": {"interval": "1m"}}  # fmt: skip
    cluster.write("gadgets", crd, gadget)
    crd_key = "apiextensions.k8s.io/CustomResourceDefinition//gadgets.example.com"

    def ready(value: str, reason: str) -> dict[str, Any]:
        condition = {
            "type": "Ready",
            "status": value,
            "reason": reason,
            "message": reason,
            "lastTransitionTime": "2026-12-01T10:00:00Z",
            "observedGeneration": 1,
        }
        return {"observedGeneration": 1, "conditions": [condition]}  # fmt: skip

    try:
        assert cluster.round().ok  # no status yet: nothing to wait for
        cluster.set_status("example.com/v1", "Gadget", "g1", ready("False", "Progressing"))
        waiting = cluster.round(health_timeout=0.3)
        live = cluster.get("example.com/v1", "Gadget", "g1")
        cluster.set_status("example.com/v1", "Gadget", "g1", ready("True", "Succeeded"))
        done = cluster.round()
    finally:
        if cluster.real:
            cluster.kube.delete(crd_key)

    assert not waiting.ok and waiting.exit_code == ExitCode.HEALTH
    assert f"example.com/Gadget/{cluster.namespace}/g1: InProgress: Ready=False" in (
        waiting.error or ""
    )
    assert waiting.drift == [] and waiting.applied == []
    assert live["status"]["conditions"][0]["reason"] == "Progressing"
    assert live["spec"] == {"interval": "1m"}  # the status write left the spec alone
    assert done.ok and done.drift == [], done.text()


def test_update_applies_only_what_changed(cluster: Cluster) -> None:
    cluster.write("app", configmap("settings", a="1"), deployment("web", image="nginx:1.25"))
    assert cluster.round().ok

    cluster.write("app", configmap("settings", a="1"), deployment("web", image="nginx:1.26"))
    result = cluster.round()

    assert result.ok, result.text()
    assert result.configured == [f"apps/Deployment/{cluster.namespace}/web"]
    assert result.created == [] and result.unchanged == 1
    live = cluster.get("apps/v1", "Deployment", "web")
    assert live["spec"]["template"]["spec"]["containers"][0]["image"] == "nginx:1.26"


def test_removal_from_git_prunes_only_what_is_ours(cluster: Cluster) -> None:
    kept = configmap("kept")
    kept["metadata"]["annotations"] = {"promoter.dev/prune": "disabled"}
    cluster.write("app", configmap("settings"), deployment("web"), service("web"), kept)
    cluster.write("extra", configmap("taken-over"))
    assert cluster.round().ok
    # Someone else claims one object: it is no longer ours to delete.
    cluster.patch(
        "v1", "ConfigMap", "taken-over", {"metadata": {"labels": {OWNER: "helm"}}}, "helm"
    )

    cluster.write("app", configmap("settings"))
    cluster.remove("extra")
    result = cluster.round()

    assert result.ok, result.text()
    assert set(result.pruned) == keys(cluster, "deploy:web", "svc:web")
    # Reverse apply order: the Deployment goes before the Service it uses.
    assert result.pruned.index(f"apps/Deployment/{cluster.namespace}/web") < result.pruned.index(
        f"/Service/{cluster.namespace}/web"
    )
    assert cluster.get("apps/v1", "Deployment", "web") is None
    assert cluster.get("v1", "Service", "web") is None
    assert cluster.get("v1", "ConfigMap", "kept") is not None
    assert cluster.get("v1", "ConfigMap", "taken-over") is not None
    assert {k for k, _ in result.prune_skipped} == keys(cluster, "cm:kept", "cm:taken-over")
    # Skipped objects are abandoned: no longer tracked.
    assert cluster.inventory().keys == keys(cluster, "cm:settings")


def test_namespaces_are_pruned_only_when_allowed(cluster: Cluster) -> None:
    team = f"{cluster.namespace}-a"
    namespace = {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": team}}
    cluster.write("ns", namespace, configmap("in-a", ns=team))
    cluster.write("app", configmap("settings"))
    assert cluster.round().ok
    cluster.remove("ns")

    result = cluster.round()

    assert result.ok, result.text()
    assert result.pruned == [f"/ConfigMap/{team}/in-a"]
    assert result.prune_skipped == [
        (f"/Namespace//{team}", "Namespace is only pruned when the environment allows it")
    ]
    assert cluster.get("v1", "Namespace", team, None) is not None
    assert cluster.get("v1", "ConfigMap", "in-a", team) is None


# -- refusing to act ----------------------------------------------------------------------


def test_empty_render_is_refused_and_nothing_is_pruned(cluster: Cluster) -> None:
    cluster.write("app", configmap("settings"))
    assert cluster.round().ok
    cluster.remove("app")

    result = cluster.round()

    assert not result.ok and result.phase == "render"
    assert "no objects" in (result.error or "")
    assert result.exit_code == ExitCode.APPLY
    assert cluster.get("v1", "ConfigMap", "settings") is not None

    allowed = cluster.round(allow_empty=True)
    assert allowed.ok, allowed.text()
    assert allowed.pruned == sorted(keys(cluster, "cm:settings"))
    assert cluster.get("v1", "ConfigMap", "settings") is None


def test_render_error_leaves_the_cluster_untouched(cluster: Cluster) -> None:
    c = cluster
    c.write("app", configmap("settings"), deployment("web"))
    assert c.round().ok
    c.remove("app")
    c.write("app", configmap("settings"))
    (c.env_dir / "broken.yaml").write_text("kind: [unclosed\n", encoding="utf-8")
    before = c.snapshot()
    if c.fake is not None:
        c.fake.reset_requests()

    result = c.round()

    assert not result.ok and result.phase == "render"
    assert "not valid YAML" in (result.error or "")
    assert result.exit_code == ExitCode.APPLY
    assert c.snapshot() == before
    if c.fake is not None:
        assert [r for r in c.fake.requests if r.method != "GET"] == []
    assert c.get("apps/v1", "Deployment", "web") is not None


def test_unknown_kind_is_refused_before_any_write(cluster: Cluster) -> None:
    c = cluster
    c.write("app", configmap("settings"), WIDGET)  # no CRD for Widget anywhere
    if c.fake is not None:
        c.fake.reset_requests()

    result = c.round()

    assert not result.ok and result.phase == "render"
    assert "does not serve: Widget (example.com/v1)" in (result.error or "")
    assert c.snapshot() == {}
    if c.fake is not None:
        assert [r for r in c.fake.requests if r.method != "GET"] == []


# -- the API failing ----------------------------------------------------------------------


def test_5xx_mid_apply_is_retried_with_backoff(fake_cluster: Cluster) -> None:
    c = fake_cluster
    c.write("app", configmap("settings"), deployment("web"))
    c.fake.fail_next("PATCH", r"/deployments/web", 503, times=2)

    result = c.round()

    assert result.ok, result.text()
    assert c.fake.count("apply", "deployments", name="web", fault=True) == 2
    assert len(c.sleeps.calls) == 2 and c.sleeps.calls[1] > c.sleeps.calls[0]


def test_timeouts_mid_apply_are_retried(fake_cluster: Cluster) -> None:
    c = fake_cluster
    c.kube.timeout = 0.3
    c.write("app", deployment("web"))
    # Answered only after the client gave up; the write still lands, as on a real server.
    c.fake.timeout_next("PATCH", r"/deployments/web", seconds=1.0)

    result = c.round()

    assert result.ok, result.text()
    assert c.fake.count("apply", "deployments", name="web") == 2
    assert len(c.sleeps.calls) == 1


def test_api_outage_mid_apply_prunes_nothing_and_reports(fake_cluster: Cluster) -> None:
    c = fake_cluster
    c.write("app", configmap("settings", a="1"), deployment("web"), service("web"))
    assert c.round().ok
    # Git: the Service is removed and the ConfigMap changes; the API then fails.
    c.write("app", configmap("settings", a="2"), deployment("web"))
    c.fake.fail_next("PATCH", r"/configmaps/settings", 500, times=50)

    result = c.round()

    assert not result.ok and result.phase == "apply"
    assert result.exit_code == ExitCode.APPLY
    assert "failed after 4 attempts" in (result.error or "")
    assert "nothing was pruned" in (result.error or "")
    assert c.fake.count("delete") == 0
    assert c.get("v1", "Service", "web") is not None
    assert "/Service/default/web" in c.inventory()
    assert len(c.sleeps.calls) == 3  # 4 attempts, bounded

    c.fake.clear_faults()
    healed = c.round()
    assert healed.ok, healed.text()
    assert healed.pruned == ["/Service/default/web"]


# -- drift --------------------------------------------------------------------------------


def test_drift_is_reverted_with_self_heal(cluster: Cluster) -> None:
    cluster.write("app", deployment("web", replicas=2))
    assert cluster.round().ok
    cluster.patch("apps/v1", "Deployment", "web", {"spec": {"replicas": 5}}, "kubectl-edit")

    result = cluster.round()

    assert result.ok, result.text()
    assert [(d.key, d.paths, d.healed) for d in result.drift] == [
        (f"apps/Deployment/{cluster.namespace}/web", ("spec.replicas",), True)
    ]
    assert cluster.get("apps/v1", "Deployment", "web")["spec"]["replicas"] == 2


def test_drift_is_only_reported_without_self_heal(cluster: Cluster) -> None:
    cluster.write("app", deployment("web", replicas=2))
    assert cluster.round(self_heal=False).ok
    cluster.patch("apps/v1", "Deployment", "web", {"spec": {"replicas": 5}}, "kubectl-edit")

    for _ in range(2):  # reported every round until someone acts
        result = cluster.round(self_heal=False)
        assert result.ok, result.text()
        assert [(d.paths, d.healed) for d in result.drift] == [(("spec.replicas",), False)]
    assert cluster.get("apps/v1", "Deployment", "web")["spec"]["replicas"] == 5


def test_server_defaults_are_not_drift(cluster: Cluster) -> None:
    # 0.5 comes back as 500m, and the server fills in many defaults.
    cluster.write("app", deployment("web", cpu="0.5"), service("web"))
    assert cluster.round().ok
    cluster.round()  # status updates since the apply cost one check each, once

    result = cluster.round()

    assert result.ok and result.drift == [] and result.applied == []


def test_ownership_conflict_is_reported_without_force(cluster: Cluster) -> None:
    cluster.kube.force = False
    cluster.write("app", deployment("web", replicas=2))
    assert cluster.round().ok
    # Another manager takes spec.replicas over with server-side apply.
    takeover = deployment("web", replicas=4)
    takeover["metadata"]["namespace"] = cluster.namespace
    takeover["spec"] = {"replicas": 4}
    cluster.apply_as(takeover, "autoscaler", force=True)
    cluster.write("app", deployment("web", replicas=3))

    result = cluster.round()

    assert not result.ok and result.phase == "apply"
    assert "conflict" in (result.error or "") and "autoscaler" in (result.error or "")
    assert "--force-conflicts" in (result.error or "")
    assert cluster.get("apps/v1", "Deployment", "web")["spec"]["replicas"] == 4


# -- health -------------------------------------------------------------------------------


def test_health_timeout_names_the_stuck_objects(cluster: Cluster) -> None:
    c = cluster
    c.hold_rollouts()
    c.write("app", configmap("settings"), deployment("web"), deployment("api"))
    if c.fake is not None:
        c.fake.reset_requests()

    result = c.round(health_timeout=0.3)

    assert not result.ok and result.phase == "health"
    assert result.exit_code == ExitCode.HEALTH
    assert "2 of 3 objects not ready" in (result.not_ready or "")
    # Nothing observed the Deployments yet (the real server has no controller).
    assert f"apps/Deployment/{c.namespace}/web: InProgress" in (result.error or "")
    assert f"apps/Deployment/{c.namespace}/api: InProgress" in (result.error or "")
    assert "settings" not in (result.error or "")
    if c.fake is not None:  # health polls LIST the kind; it does not GET each object
        assert c.fake.count("get", "deployments") == 0
        assert c.fake.count("list", "deployments") >= 2


def test_the_health_wait_says_what_it_waits_for_every_few_seconds(
    fake_cluster: Cluster, caplog: pytest.LogCaptureFixture
) -> None:
    c = fake_cluster
    c.fake.auto_ready = False
    c.write("app", configmap("settings"), deployment("web"), deployment("api"))
    with caplog.at_level(logging.INFO, logger="promoter.applier"):
        result = c.round(health_timeout=0.6, health_poll=0.05, health_progress_every=0.2)
    assert not result.ok and result.phase == "health"
    waiting = [r.getMessage() for r in caplog.records if "waiting for" in r.getMessage()]
    assert 2 <= len(waiting) <= 4, waiting  # about every 0.2 s of a 0.6 s wait, not every poll
    assert "waiting for 2 of 3 objects to become healthy" in waiting[0]
    assert "apps/Deployment/default/api: InProgress" in waiting[0]
    assert "s of 0.6s)" in waiting[0]


def test_health_waits_for_objects_to_become_ready(cluster: Cluster) -> None:
    c = cluster
    if c.fake is not None:
        c.fake.auto_ready = 0.2  # Deployments become Available 0.2 s after each change
    c.write("app", deployment("web"))  # (real: the stand-in rolls out at the first wait)

    result = c.round()

    assert result.ok, result.text()
    live = c.get("apps/v1", "Deployment", "web")
    assert live["status"]["availableReplicas"] == 1
    if c.fake is not None:
        assert c.fake.count("list", "deployments") >= 2
    else:
        assert c.standin is not None and c.standin.events == ["rolled out web"]


# -- crash safety and cost ------------------------------------------------------------------


def test_crash_between_apply_and_prune_leaks_nothing(
    cluster: Cluster, monkeypatch: pytest.MonkeyPatch
) -> None:
    cluster.write("a", configmap("a"))
    cluster.write("b", configmap("b"))
    assert cluster.round().ok
    # Git drops b and adds c; the agent dies after applying, before pruning.
    cluster.remove("b")
    cluster.write("c", configmap("c"))

    def crash(self: object, desired: object) -> None:
        raise KeyboardInterrupt("the pod was killed")

    with monkeypatch.context() as patched:
        patched.setattr(apply_round._Round, "_prune", crash)
        with pytest.raises(KeyboardInterrupt):
            cluster.round()
    assert cluster.get("v1", "ConfigMap", "c") is not None  # applied before the crash
    assert cluster.inventory().keys == keys(cluster, "cm:a", "cm:b", "cm:c")

    # Git now drops c too: without the union written before the apply, c would leak.
    cluster.remove("c")
    result = cluster.round()

    assert result.ok, result.text()
    assert set(result.pruned) == keys(cluster, "cm:b", "cm:c")
    assert cluster.get("v1", "ConfigMap", "b") is None
    assert cluster.get("v1", "ConfigMap", "c") is None
    assert cluster.inventory().keys == keys(cluster, "cm:a")


def _settle(cluster: Cluster) -> None:
    """Apply, then a round that absorbs status updates made since."""
    assert cluster.round().ok
    assert cluster.round().ok


def test_no_change_round_costs_requests_per_kind_not_per_object(cluster: Cluster) -> None:
    def write(n: int) -> None:
        for i in range(n):
            cluster.write(f"obj{i}", configmap(f"cm{i}"), service(f"svc{i}"), deployment(f"d{i}"))

    write(3)
    _settle(cluster)
    sent = cluster.kube.requests
    small = cluster.round()
    small_cost = cluster.kube.requests - sent

    write(12)
    _settle(cluster)
    sent = cluster.kube.requests
    large = cluster.round()
    large_cost = cluster.kube.requests - sent

    assert small.ok and large.ok
    assert (small.desired, large.desired) == (9, 36)
    assert small.applied == large.applied == [] and small.checked == large.checked == 0
    # One GET of the inventory, one LIST per kind (3 kinds, one namespace).
    assert small_cost == large_cost == 4


def test_no_change_round_requests_in_the_fake_log(fake_cluster: Cluster) -> None:
    c = fake_cluster
    for i in range(20):
        c.write(f"obj{i}", configmap(f"cm{i}"), deployment(f"d{i}"))
    _settle(c)
    c.fake.reset_requests()

    result = c.round()

    assert result.ok and result.unchanged == 40
    assert sorted(c.fake.counts().items()) == [
        (("get", "configmaps"), 1),  # the inventory
        (("list", "configmaps"), 1),
        (("list", "deployments.apps"), 1),
    ]


def test_status_updates_cost_one_check_then_nothing(cluster: Cluster) -> None:
    c = cluster
    c.hold_rollouts()
    c.write("app", deployment("web"))
    assert not c.round(health_timeout=0).ok  # applied, not ready yet
    c.roll_out("web")  # the controller writes status: rv moves

    checked = c.round()
    settled = c.round()

    assert checked.ok and checked.checked == 1 and checked.drift == []
    assert settled.ok and settled.checked == 0


# -- dry run ----------------------------------------------------------------------------------


def test_dry_run_changes_nothing_and_reports_prune(cluster: Cluster) -> None:
    c = cluster
    c.write("app", configmap("settings", a="1"), service("web"))
    assert c.round().ok
    c.write("app", configmap("settings", a="2"), deployment("new"))
    before = c.snapshot()
    if c.fake is not None:
        c.fake.reset_requests()

    result = c.round(dry_run=True)

    assert result.ok, result.text()
    assert result.created == [f"apps/Deployment/{c.namespace}/new"]
    assert result.configured == [f"/ConfigMap/{c.namespace}/settings"]
    assert result.would_prune == [f"/Service/{c.namespace}/web"] and result.pruned == []
    assert c.snapshot() == before
    if c.fake is not None:
        assert [r for r in c.fake.requests if r.method != "GET" and not r.dry_run] == []
    assert c.get("apps/v1", "Deployment", "new") is None
    assert c.get("v1", "ConfigMap", "settings")["data"] == {"a": "1"}
