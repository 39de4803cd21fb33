"""`applier:` in promoter.yaml, and how Argo CD / Flux status reads as a
verdict (status shapes as their controllers write them)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from promoter.core.config.loader import load_config, parse_config
from promoter.core.config.model import ArgoCDApplier, FluxApplier
from promoter.core.controllers import (
    DEGRADED,
    HEALTHY,
    PROGRESSING,
    argocd_state,
    flux_revision,
    flux_state,
)
from promoter.errors import ConfigError

SHA = "4f2a9c1e7b3d5a6f8091a2b3c4d5e6f708192a3b"


def app(sync: str = "Synced", health: str = "Healthy", phase: str = "Succeeded", **st: Any) -> dict:
    status = {
        "sync": {"status": sync, "revision": SHA},
        "health": {"status": health},
        "operationState": {"phase": phase, "message": "one or more objects failed"},
        **st,
    }
    return {"metadata": {"name": "shop", "namespace": "argocd"}, "status": status}


@pytest.mark.parametrize(
    ("obj", "verdict", "words"),
    [
        (app(), HEALTHY, "Synced, Healthy"),
        (app(sync="OutOfSync"), PROGRESSING, "OutOfSync, Healthy"),
        (app(health="Progressing"), PROGRESSING, "Synced, Progressing"),
        (app(health="Suspended"), PROGRESSING, "Suspended"),
        (app(health="Degraded"), DEGRADED, "Synced, Degraded"),
        (app(health="Missing", sync="OutOfSync"), DEGRADED, "Missing"),
        (app(phase="Running"), PROGRESSING, "sync Running"),
        (app(phase="Failed"), DEGRADED, "sync Failed (one or more objects failed)"),
        ({"metadata": {"name": "new"}}, PROGRESSING, "Unknown, Unknown"),
    ],
)
def test_argocd_application_states(obj: dict, verdict: str, words: str) -> None:
    state = argocd_state(obj)
    assert (state.verdict, state.applier) == (verdict, "argocd")
    assert words in state.summary
    if "status" in obj:
        assert state.revision == SHA and state.name == "Application argocd/shop"


def test_argocd_multi_source_revision() -> None:
    obj = {
        "metadata": {"name": "m"},
        "status": {"sync": {"status": "Synced", "revisions": [SHA, "x"]}},
    }
    assert argocd_state(obj).revision == SHA


def ks(ready: str | None, reason: str = "ReconciliationSucceeded", **extra: Any) -> dict:
    conditions = [{"type": "Ready", "status": ready, "reason": reason}] if ready else []
    conditions += extra.pop("conditions", [])
    status = {
        "observedGeneration": 2,
        "lastAppliedRevision": f"main@sha1:{SHA}",
        "lastAttemptedRevision": f"main@sha1:{SHA}",
        "conditions": conditions,
        **extra,
    }
    return {
        "kind": "Kustomization",
        "metadata": {"name": "apps", "namespace": "flux-system", "generation": 2},
        "spec": {},
        "status": status,
    }


@pytest.mark.parametrize(
    ("obj", "verdict", "words"),
    [
        (ks("True"), HEALTHY, "Ready=True (ReconciliationSucceeded)"),
        (ks(None), PROGRESSING, "not reconciled yet"),
        (ks("Unknown", "Progressing"), PROGRESSING, "Ready=Unknown"),
        (ks("False", "HealthCheckFailed"), DEGRADED, "HealthCheckFailed"),
        (
            ks(
                "False",
                "DependencyNotReady",
                conditions=[{"type": "Reconciling", "status": "True"}],
            ),
            PROGRESSING,
            "Dependency",
        ),
        (
            ks("False", "BuildFailed", conditions=[{"type": "Stalled", "status": "True"}]),
            DEGRADED,
            "Stalled",
        ),
        (ks("True", observedGeneration=1), PROGRESSING, "generation 2 not observed yet"),
        (ks("True", lastAttemptedRevision="main@sha1:" + "b" * 40), PROGRESSING, "applying bbbb"),
        ({**ks("True"), "spec": {"suspend": True}}, DEGRADED, "suspended"),
    ],
)
def test_flux_kustomization_states(obj: dict, verdict: str, words: str) -> None:
    state = flux_state(obj)
    assert state.verdict == verdict and words in state.summary, state
    assert state.revision == SHA


def test_a_helm_release_says_ready_not_which_commit() -> None:
    release = {**ks("True", "UpgradeSucceeded"), "kind": "HelmRelease"}
    release["status"]["lastAttemptedRevision"] = "1.4.2"  # a chart version
    state = flux_state(release)
    assert state.verdict == HEALTHY and state.revision is None
    assert state.name == "HelmRelease flux-system/apps"


@pytest.mark.parametrize(
    ("text", "sha"),
    [(f"main@sha1:{SHA}", SHA), (f"sha1:{SHA}", SHA), (f"main/{SHA}", SHA), ("", None)],
)
def test_flux_revision_formats(text: str, sha: str | None) -> None:
    assert flux_revision(text) == sha


BASE = (
    "version: 1\n{defaults}environments:\n  - name: dev\n{env}services:\n"
    "  - {{name: a, image: ghcr.io/acme/a, path: a}}\n"
)


def test_applier_settings_and_their_defaults() -> None:
    config = parse_config(
        BASE.format(
            defaults="defaults:\n  applier: {argocd: {applicationSet: shop, server: 'https://cd.test/'}}\n",
            env="  - name: prod\n    applier: {flux: {kustomizations: ['apps-{env}', 'team/x']}}\n"
            "  - name: lab\n    applier: promoter\n",
        )
    )
    dev, prod, lab = config.environments
    assert dev.applier == ArgoCDApplier(application_set="shop", server="https://cd.test")
    assert prod.applier == FluxApplier(kustomizations=("apps-{env}", "team/x"))
    assert lab.applier is None  # `promoter` overrides the default


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ("    applier: argo\n", "'argo' is not an applier; use `promoter`"),
        ("    applier: {argocd: {}}\n", "name `applications` or an `applicationSet`"),
        ("    applier: {flux: {}}\n", "name `kustomizations` or `helmReleases`"),
        (
            "    applier: {argocd: {applications: [Shop]}}\n",
            "not a Kubernetes object name",
        ),
        (
            "    applier: {argocd: {applications: [a], sync: auto}}\n",
            "one of automated, manual",
        ),
        ("    applier: {argocd: {applications: [a], server: 'https://u:p@cd'}}\n", "credentials"),
        ("    applier: {flux: {kustomizations: ['a/b/c']}}\n", "write namespace/name"),
        (
            "    applier: {argocd: {applications: [a]}, flux: {kustomizations: [b]}}\n",
            "needs exactly one of: promoter, argocd, flux",
        ),
        ("    applier: {argocd: {applications: ['{service}']}}\n", "unknown placeholder {service}"),
    ],
)
def test_applier_settings_are_validated(env: str, message: str) -> None:
    with pytest.raises(ConfigError) as info:
        parse_config(BASE.format(defaults="", env="  - name: prod\n" + env))
    assert message in str(info.value)


def test_applier_settings_survive_the_config_cache(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PROMOTER_CACHE_DIR", str(tmp_path / "cache"))
    text = BASE.format(
        defaults="",
        env="  - name: prod\n    applier: {argocd: {applications: "
        "[a, b], namespace: cd, sync: manual}}\n",
    )
    (tmp_path / "promoter.yaml").write_text(text + "# padding\n" * 8000)
    first, second = load_config(tmp_path), load_config(tmp_path)
    assert list((tmp_path / "cache").iterdir())
    assert second.environments[1].applier == first.environments[1].applier
    assert second.environments[1].applier == ArgoCDApplier(("a", "b"), None, "cd", None, "manual")


class _Statuses:
    """Commit statuses as the forge adapters return them: context -> state."""

    def __init__(self, answers: list[str | None]) -> None:
        self.answers, self.asked = answers, []

    def commit_statuses(self, sha: str) -> dict[str, str]:
        self.asked.append(sha)
        state = self.answers.pop(0) if len(self.answers) > 1 else self.answers[0]
        return {"promoter/apply": state} if state else {}


@pytest.mark.parametrize(
    ("answers", "outcome", "polls"),
    [([None, "pending", "success"], "healthy", 3), (["failure"], "degraded", 1),
     (["pending"], "timeout", 5)],
)  # fmt: skip
def test_wait_on_the_bundled_agent_reads_promoter_apply(
    answers: list[str | None], outcome: str, polls: int
) -> None:
    from promoter.core.config.model import Environment
    from promoter.workflows.wait import wait_for

    statuses = _Statuses(answers)
    now = [0.0]
    said: list[str] = []
    result = wait_for(
        Environment("dev"), SHA, repo=None, reader=None, statuses=lambda: statuses,
        timeout=20, interval=5, say=said.append, clock=lambda: now[0],
        sleep=lambda s: now.__setitem__(0, now[0] + s),
    )  # fmt: skip
    assert result.outcome == outcome and statuses.asked == [SHA] * polls
    assert said[0].startswith(f"dev: promoter/apply on {SHA[:12]}: ")
    assert len(said) == len(dict.fromkeys(said))  # a line only when something changed
