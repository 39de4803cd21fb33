"""Argo CD and Flux as the applier: healthy-upstream and `promoter wait` read
their objects from the (fake) Kubernetes API, in the status shapes their
controllers write, and Argo CD's REST API (faked with `responses`, shaped
like its documented answers). A promotion out of an environment is refused
while its Application is OutOfSync or healthy on an older revision, and
allowed once it is synced to the commit that carries the version."""

from __future__ import annotations

import json
import os
import shutil
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import responses

from tests.conftest import EXAMPLE, Remote, git, make_remote
from tests.kubefake import FakeKube
from tests.realkube import E2E_KUBECONFIG, RealCluster, connect, targets

ARGO = ("argoproj.io/v1alpha1", "Application")
CRD_V1 = ("apiextensions.k8s.io/v1", "CustomResourceDefinition")
KUSTOMIZATION = ("kustomize.toolkit.fluxcd.io/v1", "Kustomization")


def _crd(group: str, kind: str, plural: str, version: str) -> dict[str, Any]:
    return {
        "apiVersion": "apiextensions.k8s.io/v1",
        "kind": "CustomResourceDefinition",
        "metadata": {"name": f"{plural}.{group}"},
        "spec": {
            "group": group,
            "scope": "Namespaced",
            "names": {"plural": plural, "singular": kind.lower(), "kind": kind},
            "versions": [
                {
                    "name": version,
                    "served": True,
                    "storage": True,
                    "subresources": {"status": {}},
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


def _seed(cluster: FakeKube | RealCluster) -> None:
    cluster.seed(_crd("argoproj.io", "Application", "applications", "v1alpha1"))
    cluster.seed(_crd("kustomize.toolkit.fluxcd.io", "Kustomization", "kustomizations", "v1"))
    cluster.seed(
        {
            "apiVersion": ARGO[0],
            "kind": ARGO[1],
            "metadata": {"name": "shop-dev", "namespace": "argocd"},
            "spec": {"source": {"path": "apps/api/overlays/dev"}},
        }
    )
    cluster.seed(
        {
            "apiVersion": KUSTOMIZATION[0],
            "kind": KUSTOMIZATION[1],
            "metadata": {"name": "apps-dev", "namespace": "flux-system"},
            "spec": {"path": "./apps", "prune": True},
        }
    )


@pytest.fixture(params=targets(E2E_KUBECONFIG))
def cluster(request: pytest.FixtureRequest) -> Iterator[FakeKube | RealCluster]:
    """The fake, and the real server: the CRDs Argo CD and Flux install (with
    their status subresource), their objects, the status their controllers
    write. The real server is shared: every test sets the status it reads."""
    if request.param == "real":
        kubeconfig = os.environ[E2E_KUBECONFIG]
        kube = connect(kubeconfig)
        try:
            real = RealCluster(kubeconfig, kube)
            for name in ("argocd", "flux-system"):
                real.seed({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name}})
            _seed(real)
            yield real
        finally:
            kube.close()
        return
    namespaces = ("default", "kube-system", "argocd", "flux-system")
    with FakeKube(crd_delay=0, namespaces=namespaces) as fake:
        _seed(fake)
        yield fake


def argo_status(sync: str, revision: str, health: str = "Healthy", **extra: Any) -> dict:
    """`status` as Argo CD's application controller writes it."""
    return {
        "sync": {
            "status": sync,
            "revision": revision,
            "comparedTo": {"source": {"path": "apps/api/overlays/dev"}},
        },
        "health": {"status": health},
        "operationState": {
            "phase": "Succeeded",
            "message": "successfully synced (all tasks run)",
            "syncResult": {"revision": revision},
        },
        **extra,
    }


def flux_status(ready: str, reason: str, applied: str, generation: int = 1) -> dict:
    """`status` as Flux's kustomize-controller writes it."""
    return {
        "observedGeneration": generation,
        "lastAppliedRevision": f"main@sha1:{applied}",
        "lastAttemptedRevision": f"main@sha1:{applied}",
        "conditions": [
            {
                "type": "Ready",
                "status": ready,
                "reason": reason,
                "message": f"Applied revision: main@sha1:{applied}",
                "lastTransitionTime": "2026-12-01T10:00:00Z",
                "observedGeneration": generation,
            },
        ],
    }


APPLIERS = {
    "argocd": "    applier: {argocd: {applications: ['shop-{env}']}}\n",
    "flux": "    applier: {flux: {kustomizations: ['flux-system/apps-{env}']}}\n",
    "rest": "    applier: {argocd: {applications: ['shop-{env}'], server: 'https://argocd.test'}}\n",
}


def _remote(tmp_path: Path, applier: str, forge: str = "") -> Remote:
    source = tmp_path / "src"
    shutil.copytree(EXAMPLE, source)
    config = source / "promoter.yaml"
    config.write_text(
        config.read_text()
        .replace("defaults:\n", forge + "defaults:\n")
        .replace(
            "  - name: dev\n  - name: staging\n    from: dev\n",
            "  - name: dev\n" + APPLIERS[applier] + "  - name: staging\n    from: dev\n"
            "    policies: {healthy-upstream: {}}\n",
        )
    )
    return make_remote(tmp_path, source)


@pytest.fixture
def promoted(run, tmp_path: Path, request: pytest.FixtureRequest) -> tuple[Path, str, str]:
    """(clone, the commit before, the commit that bumped dev's api to 1.4.2)."""
    remote = _remote(tmp_path, request.param)
    before = remote.head()
    result = run(
        "bump", "--repo-url", remote.url, "--env", "dev", "--service", "api", "--tag", "1.4.2"
    )
    assert result.exit_code == 0, result.output
    clone = tmp_path / "clone"
    git("clone", "--quiet", remote.url, str(clone), cwd=tmp_path)
    return clone, before, remote.head()


def _check(run, clone: Path, kubeconfig: Path) -> Any:
    return run(
        "check",
        "--repo",
        str(clone),
        "--from",
        "dev",
        "--to",
        "staging",
        "--kubeconfig",
        str(kubeconfig),
        "-o",
        "json",
    )


def _upstream(result: Any) -> dict:
    data = json.loads(result.stdout)
    (found,) = [r for r in data["results"] if r["rule"] == "healthy-upstream"]
    return found


@pytest.mark.parametrize("promoted", ["argocd"], indirect=True)
def test_argocd_out_of_sync_or_older_revision_refuses_then_synced_allows(
    run, promoted: tuple[Path, str, str], cluster: FakeKube | RealCluster, tmp_path: Path
) -> None:
    clone, before, after = promoted
    kubeconfig = cluster.write_kubeconfig(tmp_path / "kubeconfig")
    steps = [
        (
            argo_status("OutOfSync", after, "Healthy"),
            1,
            "fail",
            "is progressing: OutOfSync, Healthy",
        ),
        (
            argo_status("Synced", before),
            1,
            "fail",
            f"healthy on {before[:12]}, a revision that runs api 1.0.0, not 1.4.2",
        ),
        (argo_status("Synced", after, "Degraded"), 1, "fail", "is degraded: Synced, Degraded"),
        (argo_status("Synced", after), 0, "pass", "dev is synced and healthy with api 1.4.2"),
    ]
    for status, code, verdict, words in steps:
        cluster.set_status(*ARGO, "argocd", "shop-dev", status, manager="argocd-controller")
        result = _check(run, clone, kubeconfig)
        assert result.exit_code == code, result.output
        found = _upstream(result)
        assert found["status"] == verdict and words in found["reason"], found
        assert "Application argocd/shop-dev" in found["reason"]


@pytest.mark.parametrize("promoted", ["flux"], indirect=True)
def test_flux_kustomization_must_have_applied_the_revision(
    run, promoted: tuple[Path, str, str], cluster: FakeKube | RealCluster, tmp_path: Path
) -> None:
    clone, before, after = promoted
    kubeconfig = cluster.write_kubeconfig(tmp_path / "kubeconfig")
    steps = [
        (flux_status("False", "ReconciliationFailed", after), "fail", "is degraded: Ready=False"),
        (
            flux_status("True", "ReconciliationSucceeded", before),
            "fail",
            f"healthy on {before[:12]}, a revision that runs api 1.0.0",
        ),
        (
            flux_status("True", "ReconciliationSucceeded", after, generation=0),
            "fail",
            "generation 1 not observed yet",
        ),
        (
            flux_status("True", "ReconciliationSucceeded", after),
            "pass",
            "Kustomization flux-system/apps-dev at " + after[:12],
        ),
    ]
    for status, verdict, words in steps:
        cluster.set_status(
            *KUSTOMIZATION, "flux-system", "apps-dev", status, manager="kustomize-controller"
        )
        found = _upstream(_check(run, clone, kubeconfig))
        assert found["status"] == verdict and words in found["reason"], found


@pytest.mark.parametrize("promoted", ["argocd"], indirect=True)
def test_no_cluster_access_is_an_error_result_not_a_crash(
    run, promoted: tuple[Path, str, str], tmp_path: Path
) -> None:
    clone, _, _ = promoted
    missing = tmp_path / "no-such-kubeconfig"
    result = _check(run, clone, missing)
    assert result.exit_code == 1, result.output
    found = _upstream(result)
    assert found["status"] == "error" and "could not be read" in found["reason"], found


@pytest.mark.parametrize("promoted", ["rest"], indirect=True)
def test_argocd_rest_api_with_a_token(
    run, promoted: tuple[Path, str, str], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    clone, _, after = promoted
    token = "argocd-token-SECRET-4242"
    monkeypatch.setenv("ARGOCD_AUTH_TOKEN", token)
    app = {
        "metadata": {"name": "shop-dev", "namespace": "argocd"},
        "status": argo_status("Synced", after),
    }
    with responses.RequestsMock(assert_all_requests_are_fired=False) as api:
        api.get(
            "https://argocd.test/api/v1/applications/shop-dev",
            json=app,
            match=[
                responses.matchers.header_matcher({"Authorization": f"Bearer {token}"}),
                responses.matchers.query_param_matcher({"appNamespace": "argocd"}),
            ],
        )
        result = _check(run, clone, tmp_path / "unused")
        assert result.exit_code == 0, result.output
        assert _upstream(result)["status"] == "pass"
        api.replace(
            responses.GET,
            "https://argocd.test/api/v1/applications/shop-dev",
            json={"error": "invalid session", "code": 16},
            status=401,
        )
        refused = _check(run, clone, tmp_path / "unused")
    assert refused.exit_code == 1
    found = _upstream(refused)
    assert found["status"] == "error" and "refused the token" in found["reason"], found
    assert token not in result.output + refused.output


@pytest.mark.parametrize("promoted", ["argocd"], indirect=True)
def test_wait_returns_when_the_revision_is_synced_and_healthy(
    run, promoted: tuple[Path, str, str], cluster: FakeKube | RealCluster, tmp_path: Path
) -> None:
    clone, before, after = promoted
    kubeconfig = cluster.write_kubeconfig(tmp_path / "kubeconfig")
    cluster.set_status(*ARGO, "argocd", "shop-dev", argo_status("OutOfSync", before))
    later = threading.Timer(
        1.0, lambda: cluster.set_status(*ARGO, "argocd", "shop-dev", argo_status("Synced", after))
    )
    later.start()
    try:
        result = run(
            "wait",
            "--repo",
            str(clone),
            "--env",
            "dev",
            "--revision",
            "HEAD",
            "--kubeconfig",
            str(kubeconfig),
            "--interval",
            "1s",
            "--timeout",
            "30s",
        )
    finally:
        later.cancel()
    assert result.exit_code == 0, result.output
    assert result.stdout == f"dev: {after[:12]} synced and healthy\n"
    assert "progressing" in result.stderr and "healthy" in result.stderr


@pytest.mark.parametrize("promoted", ["argocd"], indirect=True)
def test_wait_exit_codes_degraded_timeout_and_later_commits(
    run, promoted: tuple[Path, str, str], cluster: FakeKube | RealCluster, tmp_path: Path
) -> None:
    clone, before, after = promoted
    kubeconfig = cluster.write_kubeconfig(tmp_path / "kubeconfig")

    def wait(revision: str) -> Any:
        return run(
            "wait",
            "--repo",
            str(clone),
            "--env",
            "dev",
            "--revision",
            revision,
            "--kubeconfig",
            str(kubeconfig),
            "--interval",
            "1s",
            "--timeout",
            "2s",
            "-o",
            "json",
        )

    cluster.set_status(*ARGO, "argocd", "shop-dev", argo_status("Synced", after, "Degraded"))
    degraded = wait(after)
    assert degraded.exit_code == 9, degraded.output
    assert json.loads(degraded.stdout)["outcome"] == "degraded"
    cluster.set_status(*ARGO, "argocd", "shop-dev", argo_status("Synced", before))
    timed_out = wait(after)
    assert timed_out.exit_code == 10, timed_out.output
    assert json.loads(timed_out.stdout)["states"][0]["revision"] == before
    # Synced to a commit built on the one asked for: that includes it.
    cluster.set_status(*ARGO, "argocd", "shop-dev", argo_status("Synced", after))
    assert wait(before).exit_code == 0
    bad = wait("not-a-commit")
    assert bad.exit_code == 2 and "neither a commit" in bad.stderr


@pytest.mark.parametrize("promoted", ["argocd"], indirect=True)
def test_status_shows_what_the_controller_runs(
    run, promoted: tuple[Path, str, str], cluster: FakeKube | RealCluster, tmp_path: Path
) -> None:
    clone, before, _ = promoted
    kubeconfig = cluster.write_kubeconfig(tmp_path / "kubeconfig")
    cluster.set_status(*ARGO, "argocd", "shop-dev", argo_status("OutOfSync", before))
    text = run("status", "--repo", str(clone), "--applier", "--kubeconfig", str(kubeconfig))
    assert text.exit_code == 0, text.output
    row = next(line for line in text.stdout.splitlines() if line.startswith("dev "))
    assert row.split()[:5] == ["dev", "Application", "argocd/shop-dev", "progressing", before[:12]]
    as_json = run("status", "--repo", str(clone), "--applier", "--kubeconfig", str(kubeconfig),
                  "-o", "json")  # fmt: skip
    (state,) = json.loads(as_json.stdout)["appliers"]["dev"]
    assert state["revision"] == before and state["summary"] == "OutOfSync, Healthy"
    plain = run("status", "--repo", str(clone), "-o", "json")  # no cluster asked without it
    assert "appliers" not in json.loads(plain.stdout)


def test_the_pr_check_and_its_sticky_comment_read_argocd(
    run, cluster: FakeKube | RealCluster, tmp_path: Path
) -> None:
    from tests.fakeforge import github_fake

    token = "ghp_controllersTOKEN1234"
    remote = _remote(tmp_path, "argocd", "forge:\n  type: github\n  repository: acme/env\n")
    before = remote.head()
    bumped = run("bump", "--repo-url", remote.url, "--env", "dev", "--service", "api",
                 "--tag", "1.4.2")  # fmt: skip
    assert bumped.exit_code == 0, bumped.output
    after = remote.head()
    kubeconfig = str(cluster.write_kubeconfig(tmp_path / "kubeconfig"))
    env = {"GITHUB_TOKEN": token}
    with github_fake(repo="acme/env", token=token) as gh:
        opened = run("promote", "--repo-url", remote.url, "--from", "dev", "--to", "staging",
                     "--service", "api", env=env)  # fmt: skip
        assert opened.exit_code == 0, opened.output
        (pr,) = gh.open_pulls("main")
        check = ("check", "--repo-url", remote.url, "--pr", str(pr["number"]),
                 "--kubeconfig", kubeconfig)  # fmt: skip

        cluster.set_status(*ARGO, "argocd", "shop-dev", argo_status("Synced", before))
        refused = run(*check, env=env)
        assert refused.exit_code == 1, refused.output
        assert gh.latest_statuses(pr["head"]["sha"])["promoter/policy"]["state"] == "failure"
        (comment,) = gh.comments[pr["number"]]
        assert "healthy-upstream" in comment["body"]
        assert f"healthy on {before[:12]}, a revision that runs api 1.0.0" in comment["body"]

        cluster.set_status(*ARGO, "argocd", "shop-dev", argo_status("Synced", after))
        allowed = run(*check, env=env)
        assert allowed.exit_code == 0, allowed.output
        assert gh.latest_statuses(pr["head"]["sha"])["promoter/policy"]["state"] == "success"
        assert "dev is synced and healthy with api 1.4.2" in gh.comments[pr["number"]][0]["body"]


def test_reader_finds_applicationset_children_helmreleases_and_missing_names(
    cluster: FakeKube | RealCluster, tmp_path: Path
) -> None:
    from promoter.adapters.controllers import ControllerReader
    from promoter.adapters.kube import Kube
    from promoter.core.config.model import ArgoCDApplier, FluxApplier
    from promoter.errors import PromoterError

    kubeconfig = cluster.write_kubeconfig(tmp_path / "kubeconfig")
    owner = {"apiVersion": "argoproj.io/v1alpha1", "kind": "ApplicationSet", "name": "shop",
             "uid": "0b8e2c3a-1111-4222-8333-444455556666", "controller": True}  # fmt: skip
    for name in ("api-dev", "web-dev", "api-prod"):
        refs = [owner] if name != "api-prod" else []
        meta = {"name": name, "namespace": "argocd", "ownerReferences": refs}
        cluster.seed({"apiVersion": ARGO[0], "kind": ARGO[1], "metadata": meta})
        cluster.set_status(*ARGO, "argocd", name, argo_status("Synced", "a" * 40))
    reader = ControllerReader(lambda: Kube.connect(kubeconfig))
    try:
        states = reader.states(ArgoCDApplier(("gone-{env}",), "shop"), "dev")
        assert [(s.name, s.verdict) for s in states] == [
            ("Application argocd/gone-dev", "degraded"),
            ("Application argocd/api-dev", "healthy"),
            ("Application argocd/web-dev", "healthy"),
        ]
        assert states[0].summary == "not found in the cluster"
        with pytest.raises(PromoterError) as info:  # Flux's HelmRelease CRD is not installed
            reader.states(FluxApplier(helm_releases=("team/worker",)), "dev")
        assert "the cluster does not serve HelmRelease" in info.value.message
        cluster.seed(_crd("helm.toolkit.fluxcd.io", "HelmRelease", "helmreleases", "v2"))
        cluster.seed({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "team"}})
        cluster.seed({"apiVersion": "helm.toolkit.fluxcd.io/v2", "kind": "HelmRelease",
                      "metadata": {"name": "worker", "namespace": "team"}, "spec": {}})  # fmt: skip
        cluster.set_status("helm.toolkit.fluxcd.io/v2", "HelmRelease", "team", "worker",
                           {**flux_status("True", "UpgradeSucceeded", "x"),
                            "lastAttemptedRevision": "1.4.2"})  # fmt: skip
    finally:
        reader.close()
    reader = ControllerReader(lambda: Kube.connect(kubeconfig))  # discovery sees the new CRD
    try:
        (release,) = reader.states(FluxApplier(helm_releases=("team/worker",)), "dev")
    finally:
        reader.close()
        if isinstance(cluster, RealCluster):  # a server shared with the next run
            cluster.remove(*CRD_V1, None, "helmreleases.helm.toolkit.fluxcd.io")
    assert (release.name, release.verdict, release.revision) == (
        "HelmRelease team/worker", "healthy", None,
    )  # fmt: skip
