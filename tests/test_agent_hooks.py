"""Argo CD resource hooks, sync waves and Flux annotations in the bundled
agent, against the fake API server. The fake's controllers are driven by
the applier's own sleeps: each time it waits, Jobs finish (or fail, when the
test says so) and Deployments roll out — so the order of events is exactly
what the agent caused."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from promoter.adapters.kube import Kube
from promoter.core.applier.result import RoundResult
from promoter.core.objects import Obj, objects_from_docs
from promoter.workflows.apply_round import Reconciler, Settings
from tests.kubefake import FakeKube

HOOK = "argocd.argoproj.io/hook"
POLICY = "argocd.argoproj.io/hook-delete-policy"
WAVE = "argocd.argoproj.io/sync-wave"


def job(name: str, **annotations: str) -> dict[str, Any]:
    return {
        "apiVersion": "batch/v1", "kind": "Job",
        "metadata": {"name": name, "annotations": annotations},
        "spec": {"template": {"spec": {"restartPolicy": "Never",
                 "containers": [{"name": "run", "image": "ghcr.io/acme/api:1.0.0"}]}}},
    }  # fmt: skip


def deployment(name: str, image: str = "ghcr.io/acme/api:1.0.0", **annotations: str) -> dict:
    labels = {"app": name}
    return {
        "apiVersion": "apps/v1", "kind": "Deployment",
        "metadata": {"name": name, "annotations": annotations},
        "spec": {"replicas": 1, "selector": {"matchLabels": labels},
                 "template": {"metadata": {"labels": labels},
                              "spec": {"containers": [{"name": "app", "image": image}]}}},
    }  # fmt: skip


def configmap(name: str, **annotations: str) -> dict[str, Any]:
    meta = {"name": name, "annotations": annotations}
    return {"apiVersion": "v1", "kind": "ConfigMap", "metadata": meta, "data": {"k": name}}


class Controllers:
    """Stands in for the Job and Deployment controllers, acting when the
    applier sleeps; `events` is the order things happened in."""

    def __init__(self, fake: FakeKube) -> None:
        self.fake, self.failing, self.events, self.done = fake, set(), [], set()

    def __call__(self, seconds: float) -> None:
        for obj in self.fake.list_objects("batch/v1", "Job", "default"):
            name = obj["metadata"]["name"]
            uid = obj["metadata"]["uid"]
            if uid in self.done:
                continue
            self.done.add(uid)
            if name in self.failing:
                self.fake.fail_job("default", name)
                self.events.append(f"failed {name}")
            else:
                self.fake.complete_job("default", name)
                self.events.append(f"completed {name}")
        for obj in self.fake.list_objects("apps/v1", "Deployment", "default"):
            gen = obj["metadata"].get("generation")
            if (obj["metadata"]["uid"], gen) not in self.done:
                self.done.add((obj["metadata"]["uid"], gen))
                self.fake.make_available("default", obj["metadata"]["name"])
                self.events.append(f"rolled out {obj['metadata']['name']}")


@pytest.fixture
def agent(tmp_path: Path) -> Iterator[tuple[FakeKube, Controllers, Any]]:
    with FakeKube(auto_ready=False) as fake:
        kube = Kube.connect(fake.write_kubeconfig(tmp_path / "kubeconfig"))
        controllers = Controllers(fake)
        settings = Settings("dev", inventory_namespace="default", health_timeout=5,
                            health_poll=0.01, health_progress_every=60)  # fmt: skip
        rec = Reconciler(kube, settings, sleep=controllers)

        def round_(*docs: dict[str, Any]) -> RoundResult:
            objs: list[Obj] = objects_from_docs(docs)
            fake.reset_requests()  # what this round sends, and only that
            before = len(controllers.events)
            result = rec.run(lambda: objs, "rev")
            result.events = controllers.events[before:]  # type: ignore[attr-defined]
            return result

        try:
            yield fake, controllers, round_
        finally:
            kube.close()
        assert not fake.internal_errors, fake.internal_errors[0]


def _writes(fake: FakeKube) -> list[str]:
    return [
        f"{r.verb} {r.resource} {r.name}"
        for r in fake.requests
        if r.verb in ("apply", "delete")
        and not r.dry_run
        and r.status < 300
        and r.name != "promoter-inventory-dev"
    ]


def test_a_presync_migration_runs_before_the_app_and_postsync_after(agent) -> None:
    fake, _, round_ = agent
    docs = (
        job("migrate", **{HOOK: "PreSync"}),
        deployment("api"),
        job("smoke", **{HOOK: "PostSync", POLICY: "HookSucceeded"}),
    )
    result = round_(*docs)
    assert result.ok, result.text()
    assert _writes(fake) == [
        "apply jobs.batch migrate", "apply deployments.apps api",
        "apply jobs.batch smoke", "delete jobs.batch smoke",
    ]  # fmt: skip
    assert result.events == ["completed migrate", "rolled out api", "completed smoke"]
    assert result.hooks == [
        "PreSync batch/Job/default/migrate: succeeded",
        "PostSync batch/Job/default/smoke: succeeded",
    ]
    assert fake.get_object("batch/v1", "Job", "default", "smoke") is None  # HookSucceeded
    assert fake.get_object("batch/v1", "Job", "default", "migrate") is not None
    assert result.created == ["apps/Deployment/default/api"]  # hooks are not inventory
    inventory = fake.get_object("v1", "ConfigMap", "default", "promoter-inventory-dev")
    assert "Job" not in str(inventory["data"])

    again = round_(*docs)  # nothing changed in Git: no sync, no hooks
    assert again.ok and again.hooks == [] and _writes(fake) == []

    changed = round_(docs[0], deployment("api", "ghcr.io/acme/api:1.1.0"), docs[2])
    assert changed.ok, changed.text()
    # BeforeHookCreation (the default): the last run is deleted, then created anew.
    assert _writes(fake)[:3] == [
        "delete jobs.batch migrate", "apply jobs.batch migrate", "apply deployments.apps api",
    ]  # fmt: skip


def test_a_failed_presync_applies_and_prunes_nothing_and_runs_syncfail(agent) -> None:
    fake, controllers, round_ = agent
    assert round_(deployment("api"), configmap("old")).ok
    controllers.failing.add("migrate")
    result = round_(
        job("migrate", **{HOOK: "PreSync", POLICY: "HookFailed"}),
        job("page-oncall", **{HOOK: "SyncFail"}),
        deployment("api", "ghcr.io/acme/api:2.0.0"),
    )
    assert not result.ok and result.phase == "presync" and result.exit_code == 8
    assert "PreSync hook failed" in result.error
    assert result.hooks == [
        "PreSync batch/Job/default/migrate: failed",
        "SyncFail batch/Job/default/page-oncall: succeeded",
    ]
    live = fake.get_object("apps/v1", "Deployment", "default", "api")
    assert live["spec"]["template"]["spec"]["containers"][0]["image"] == "ghcr.io/acme/api:1.0.0"
    assert fake.get_object("v1", "ConfigMap", "default", "old") is not None  # not pruned
    assert fake.get_object("batch/v1", "Job", "default", "migrate") is None  # HookFailed
    assert "apply deployments.apps api" not in _writes(fake)


def test_sync_waves_order_hooks_and_objects(agent) -> None:
    fake, _, round_ = agent
    result = round_(
        job("second", **{HOOK: "PreSync", WAVE: "1"}),
        job("first", **{HOOK: "PreSync", WAVE: "-1"}),
        configmap("late", **{WAVE: "5"}),
        deployment("api", **{WAVE: "1"}),
        configmap("early"),
    )
    assert result.ok, result.text()
    assert _writes(fake) == [
        "apply jobs.batch first", "apply jobs.batch second", "apply configmaps early",
        "apply deployments.apps api", "apply configmaps late",
    ]  # fmt: skip
    assert result.events[:2] == ["completed first", "completed second"]


def test_skip_and_helm_hooks(agent) -> None:
    fake, _, round_ = agent
    result = round_(
        job("never", **{HOOK: "Skip"}),
        job("helm-migrate", **{"helm.sh/hook": "pre-upgrade,pre-install"}),
        job("helm-test", **{"helm.sh/hook": "test"}),
        configmap("app"),
    )
    assert result.ok, result.text()
    assert _writes(fake) == ["apply jobs.batch helm-migrate", "apply configmaps app"]
    assert result.hooks == ["PreSync batch/Job/default/helm-migrate: succeeded"]


def test_a_bad_hook_annotation_stops_the_round_before_any_write(agent) -> None:
    fake, _, round_ = agent
    result = round_(job("x", **{HOOK: "PreSnyc"}), configmap("app"))
    assert not result.ok and result.phase == "render"
    assert "'PreSnyc' is not a hook phase" in result.error
    assert _writes(fake) == []


def test_flux_annotations(agent) -> None:
    fake, _, round_ = agent
    once = {"kustomize.toolkit.fluxcd.io/ssa": "IfNotPresent"}
    keep = {"kustomize.toolkit.fluxcd.io/prune": "disabled"}
    ignore = {"kustomize.toolkit.fluxcd.io/ssa": "Ignore"}
    assert round_(configmap("seed", **once), configmap("kept", **keep), configmap("x", **ignore)).ok
    assert fake.get_object("v1", "ConfigMap", "default", "x") is None
    changed = configmap("seed", **once)
    changed["data"] = {"k": "changed in Git"}
    result = round_(changed)  # `kept` left Git
    assert result.ok, result.text()
    assert fake.get_object("v1", "ConfigMap", "default", "seed")["data"] == {"k": "seed"}
    assert fake.get_object("v1", "ConfigMap", "default", "kept") is not None
    assert result.prune_skipped == [
        (
            "/ConfigMap/default/kept",
            "prune disabled by annotation kustomize.toolkit.fluxcd.io/prune",
        )
    ]
