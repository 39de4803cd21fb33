"""promoter export argocd|flux against the bundled example: every exported
source points at what promoter itself renders, Flux's dependsOn follows the
promotion graph, and each exported directory builds with real kustomize."""

from __future__ import annotations

import posixpath
import shutil
from pathlib import Path

import pytest
import yaml

from promoter.adapters.render.renderer import render
from promoter.core.config.loader import load_config
from tests.conftest import EXAMPLE, git

URL = "https://github.com/acme/env.git"


@pytest.fixture
def clone(tmp_path: Path) -> Path:
    root = tmp_path / "env"
    shutil.copytree(EXAMPLE, root)
    git("init", "--quiet", cwd=root)
    git("remote", "add", "origin", "https://x-access-token:ghs_SECRET99@github.com/acme/env.git",
        cwd=root)  # fmt: skip
    return root


def test_argocd_application_set_has_one_application_per_environment_and_path(run, clone) -> None:
    result = run("export", "argocd", "--repo", str(clone))
    assert result.exit_code == 0, result.output
    assert "ghs_SECRET99" not in result.output  # the remote's credentials stay out
    (app_set,) = list(yaml.safe_load_all(result.stdout))
    assert app_set["kind"] == "ApplicationSet" and app_set["spec"]["goTemplate"] is True
    elements = app_set["spec"]["generators"][0]["list"]["elements"]
    config = load_config(clone)
    assert len(elements) == len(config.services) * len(config.environments) == 16
    by_name = {e["name"]: e for e in elements}
    assert by_name["api-prod-eu"]["source"] == {
        "repoURL": URL, "targetRevision": "main", "path": "apps/api/overlays/prod-eu",
    }  # fmt: skip
    worker = by_name["worker-prod-eu"]["source"]
    (values,) = worker["helm"]["valueFiles"]  # relative to the chart, as Argo CD reads them
    assert posixpath.normpath(posixpath.join(worker["path"], values)) == config.path_for(
        "worker", "prod-eu"
    )
    dash = by_name["dash-staging"]["source"]["directory"]
    assert dash["include"] == "main.jsonnet"
    assert dash["jsonnet"]["extVars"] == [{"name": "env", "value": "staging"}]
    assert all(e["automated"] for e in elements)
    assert "syncPolicy" in app_set["spec"]["templatePatch"]


def test_argocd_sync_policy_follows_the_environment(run, clone) -> None:
    config = clone / "promoter.yaml"
    config.write_text(config.read_text().replace(
        "  - name: prod-eu\n    from: staging\n",
        "  - name: prod-eu\n    from: staging\n"
        "    applier: {argocd: {applicationSet: promoter, sync: manual}}\n",
    ))  # fmt: skip
    result = run("export", "argocd", "--repo", str(clone), "--repo-url", URL)
    elements = yaml.safe_load(result.stdout)["spec"]["generators"][0]["list"]["elements"]
    manual = sorted(e["name"] for e in elements if not e["automated"])
    assert manual == ["api-prod-eu", "dash-prod-eu", "web-prod-eu", "worker-prod-eu"]


def test_flux_kustomizations_depend_along_the_promotion_graph(run, clone) -> None:
    result = run("export", "flux", "--repo", str(clone), "--name", "envs")
    assert result.exit_code == 0, result.output
    docs = list(yaml.safe_load_all(result.stdout))
    repo, *kustomizations = docs
    assert repo["kind"] == "GitRepository" and repo["spec"]["ref"] == {"branch": "main"}
    assert repo["spec"]["url"] == URL
    depends = {
        k["metadata"]["name"]: [d["name"] for d in k["spec"].get("dependsOn", [])]
        for k in kustomizations
    }
    assert depends["api-dev"] == [] and depends["api-staging"] == ["api-dev"]
    assert depends["api-prod-eu"] == depends["api-prod-us"] == ["api-staging"]
    assert "# not exported: worker in dev: rendered by helm" in result.stdout
    for k in kustomizations:  # each directory renders (kustomize, or plain manifests,
        # for which Flux generates a kustomization the same way)
        assert k["spec"]["sourceRef"] == {"kind": "GitRepository", "name": "envs"}
        assert render(clone / k["spec"]["path"]), k["spec"]["path"]
