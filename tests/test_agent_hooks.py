"""Argo CD resource hooks, sync waves and Flux annotations in the bundled
agent, on the fake API server and on the real one. The controllers (the
fake's, or tests.realkube.StandIn writing status on the real server) are
driven by the applier's own sleeps: each time it waits, Jobs finish (or
fail, when the test says so) and Deployments roll out — so the order of
events is exactly what the agent caused."""

from __future__ import annotations

import os
import uuid
from collections.abc import Callable, Iterator
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from promoter.adapters.kube import Kube
from promoter.core.applier.result import RoundResult
from promoter.core.objects import Obj, objects_from_docs
from promoter.workflows.apply_round import Reconciler, Settings
from tests.kubefake import FakeKube
from tests.realkube import E2E_KUBECONFIG, StandIn, targets

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
    """Stands in for the Job and Deployment controllers of the fake, acting
    when the applier sleeps; `events` is the order things happened in.
    (On the real server tests.realkube.StandIn does the same through the
    status subresource.)"""

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


class RecordingKube(Kube):
    """The agent's client, recording each write the server accepted as
    "verb plural[.group] name" — the same on the fake and the real server."""

    writes: list[str]

    def _record(self, verb: str, res: Any, name: str) -> None:
        plural = f"{res.name}.{res.group}" if res.group else res.name
        if name != "promoter-inventory-dev":
            self.writes.append(f"{verb} {plural} {name}")

    def apply(self, body: Any, *, dry_run: bool = False, force: bool | None = None) -> Any:
        out = super().apply(body, dry_run=dry_run, force=force)
        if not dry_run:
            self._record("apply", self.resource(body["apiVersion"], body["kind"]),
                         body["metadata"]["name"])  # fmt: skip
        return out

    def delete(self, key: str, *, dry_run: bool = False) -> bool:
        gone = super().delete(key, dry_run=dry_run)
        if gone and not dry_run:
            self._record("delete", self.resource_for_key(key), key.rsplit("/", 1)[1])
        return gone


@dataclass
class Hooks:
    """One agent, its cluster and its controllers; `round_` runs one round."""

    kube: RecordingKube
    ns: str
    controllers: Controllers | StandIn
    round_: Callable[..., RoundResult]

    def get(self, api_version: str, kind: str, name: str) -> dict[str, Any] | None:
        return self.kube.get(api_version, kind, self.ns, name)

    def writes(self) -> list[str]:
        return list(self.kube.writes)


@pytest.fixture(params=targets(E2E_KUBECONFIG))
def agent(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Hooks]:
    with ExitStack() as stack:
        if request.param == "real":
            kubeconfig = Path(os.environ[E2E_KUBECONFIG])
            ns = f"promoter-hooks-{uuid.uuid4().hex[:8]}"
        else:
            fake = stack.enter_context(FakeKube(auto_ready=False))
            kubeconfig, ns = fake.write_kubeconfig(tmp_path / "kubeconfig"), "default"
        kube = RecordingKube.connect(kubeconfig, namespace=ns)
        stack.callback(kube.close)
        kube.writes = []
        if request.param == "real":
            kube.apply({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": ns}})
            stack.callback(kube.delete, f"/Namespace//{ns}")
        controllers = StandIn(kube, ns) if request.param == "real" else Controllers(fake)
        settings = Settings("dev", inventory_namespace=ns, health_timeout=5,
                            health_poll=0.01, health_progress_every=60)  # fmt: skip
        rec = Reconciler(kube, settings, sleep=controllers)

        def round_(*docs: dict[str, Any]) -> RoundResult:
            objs: list[Obj] = objects_from_docs(docs)
            kube.writes = []  # what this round sends, and only that
            before = len(controllers.events)
            result = rec.run(lambda: objs, "rev")
            result.events = controllers.events[before:]  # type: ignore[attr-defined]
            return result

        yield Hooks(kube, ns, controllers, round_)
        if request.param == "fake":
            assert not fake.internal_errors, fake.internal_errors[0]


def test_a_presync_migration_runs_before_the_app_and_postsync_after(agent) -> None:
    h, round_ = agent, agent.round_
    docs = (
        job("migrate", **{HOOK: "PreSync"}),
        deployment("api"),
        job("smoke", **{HOOK: "PostSync", POLICY: "HookSucceeded"}),
    )
    result = round_(*docs)
    assert result.ok, result.text()
    assert h.writes() == [
        "apply jobs.batch migrate", "apply deployments.apps api",
        "apply jobs.batch smoke", "delete jobs.batch smoke",
    ]  # fmt: skip
    assert result.events == ["completed migrate", "rolled out api", "completed smoke"]
    assert result.hooks == [
        f"PreSync batch/Job/{h.ns}/migrate: succeeded",
        f"PostSync batch/Job/{h.ns}/smoke: succeeded",
    ]
    assert h.get("batch/v1", "Job", "smoke") is None  # HookSucceeded
    assert h.get("batch/v1", "Job", "migrate") is not None
    assert result.created == [f"apps/Deployment/{h.ns}/api"]  # hooks are not inventory
    inventory = h.get("v1", "ConfigMap", "promoter-inventory-dev")
    assert "Job" not in str(inventory["data"])

    again = round_(*docs)  # nothing changed in Git: no sync, no hooks
    assert again.ok and again.hooks == [] and h.writes() == []

    changed = round_(docs[0], deployment("api", "ghcr.io/acme/api:1.1.0"), docs[2])
    assert changed.ok, changed.text()
    # BeforeHookCreation (the default): the last run is deleted, then created anew.
    assert h.writes()[:3] == [
        "delete jobs.batch migrate", "apply jobs.batch migrate", "apply deployments.apps api",
    ]  # fmt: skip


def test_a_failed_presync_applies_and_prunes_nothing_and_runs_syncfail(agent) -> None:
    h, round_ = agent, agent.round_
    assert round_(deployment("api"), configmap("old")).ok
    h.controllers.failing.add("migrate")
    result = round_(
        job("migrate", **{HOOK: "PreSync", POLICY: "HookFailed"}),
        job("page-oncall", **{HOOK: "SyncFail"}),
        deployment("api", "ghcr.io/acme/api:2.0.0"),
    )
    assert not result.ok and result.phase == "presync" and result.exit_code == 8
    assert "PreSync hook failed" in result.error
    assert result.hooks == [
        f"PreSync batch/Job/{h.ns}/migrate: failed",
        f"SyncFail batch/Job/{h.ns}/page-oncall: succeeded",
    ]
    live = h.get("apps/v1", "Deployment", "api")
    assert live["spec"]["template"]["spec"]["containers"][0]["image"] == "ghcr.io/acme/api:1.0.0"
    assert h.get("v1", "ConfigMap", "old") is not None  # not pruned
    assert h.get("batch/v1", "Job", "migrate") is None  # HookFailed
    assert "apply deployments.apps api" not in h.writes()


def test_a_failed_hook_is_the_hook_failed_notification(agent) -> None:
    from promoter.adapters.notify import Notifier
    from promoter.core.config.loader import parse_config
    from promoter.core.notify.notices import Origin, from_round
    from tests.notify_receiver import receiver

    h, round_ = agent, agent.round_
    h.controllers.failing.add("migrate")
    result = round_(job("migrate", **{HOOK: "PreSync"}), deployment("api"))
    assert not result.ok and result.phase == "presync"
    with receiver() as hook:
        config = parse_config(
            "version: 1\nenvironments: [{name: dev}]\n"
            "services: [{name: api, image: ghcr.io/acme/api, path: x}]\n"
            f"notifications: [{{url: '{hook.url()}', events: [hook.failed]}}]\n"
        )
        (sent,) = Notifier({}).notify(config, [from_round(Origin("promoter agent"), result, False)])
        assert sent.ok, sent.detail
        (message,) = hook.messages
    assert message["title"] == "[dev] presync hook failed"
    assert "PreSync hook failed" in message["message"] and message["type"] == "failure"


def test_sync_waves_order_hooks_and_objects(agent) -> None:
    h, round_ = agent, agent.round_
    result = round_(
        job("second", **{HOOK: "PreSync", WAVE: "1"}),
        job("first", **{HOOK: "PreSync", WAVE: "-1"}),
        configmap("late", **{WAVE: "5"}),
        deployment("api", **{WAVE: "1"}),
        configmap("early"),
    )
    assert result.ok, result.text()
    assert h.writes() == [
        "apply jobs.batch first", "apply jobs.batch second", "apply configmaps early",
        "apply deployments.apps api", "apply configmaps late",
    ]  # fmt: skip
    assert result.events[:2] == ["completed first", "completed second"]


def test_skip_and_helm_hooks(agent) -> None:
    h, round_ = agent, agent.round_
    result = round_(
        job("never", **{HOOK: "Skip"}),
        job("helm-migrate", **{"helm.sh/hook": "pre-upgrade,pre-install"}),
        job("helm-test", **{"helm.sh/hook": "test"}),
        configmap("app"),
    )
    assert result.ok, result.text()
    assert h.writes() == ["apply jobs.batch helm-migrate", "apply configmaps app"]
    assert result.hooks == [f"PreSync batch/Job/{h.ns}/helm-migrate: succeeded"]


def test_a_bad_hook_annotation_stops_the_round_before_any_write(agent) -> None:
    h, round_ = agent, agent.round_
    result = round_(job("x", **{HOOK: "PreSnyc"}), configmap("app"))
    assert not result.ok and result.phase == "render"
    assert "'PreSnyc' is not a hook phase" in result.error
    assert h.writes() == []


def test_flux_annotations(agent) -> None:
    h, round_ = agent, agent.round_
    once = {"kustomize.toolkit.fluxcd.io/ssa": "IfNotPresent"}
    keep = {"kustomize.toolkit.fluxcd.io/prune": "disabled"}
    ignore = {"kustomize.toolkit.fluxcd.io/ssa": "Ignore"}
    assert round_(configmap("seed", **once), configmap("kept", **keep), configmap("x", **ignore)).ok
    assert h.get("v1", "ConfigMap", "x") is None
    changed = configmap("seed", **once)
    changed["data"] = {"k": "changed in Git"}
    result = round_(changed)  # `kept` left Git
    assert result.ok, result.text()
    assert h.get("v1", "ConfigMap", "seed")["data"] == {"k": "seed"}
    assert h.get("v1", "ConfigMap", "kept") is not None
    assert result.prune_skipped == [
        (
            f"/ConfigMap/{h.ns}/kept",
            "prune disabled by annotation kustomize.toolkit.fluxcd.io/prune",
        )
    ]
