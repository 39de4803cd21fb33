"""Which renderer a service gets: its own `render:`, else its environment's,
else `defaults.render`, else detected from the path; `kustomize` and `plain`
can be said outright. And the cache key: the git tree hash of the inputs,
checked against git itself."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

from promoter.adapters.agent_source import LocalSource
from promoter.adapters.render import renderer
from promoter.adapters.render.treehash import git_object_id
from promoter.core.config.loader import load_config, parse_config
from promoter.core.config.model import DirectoryRender, HelmRender
from promoter.errors import ConfigError
from promoter.workflows.agent import Agent, AgentOptions
from tests.agent_helpers import Cluster, configmap
from tests.conftest import git
from tests.test_render_strategies import _write

pytest_plugins = ["tests.agent_fixtures"]
pytest.importorskip("helm_python", reason="pip install 'promoter[helm]'")

CHART = {
    "charts/app/Chart.yaml": "apiVersion: v2\nname: app\nversion: 0.1.0\n",
    "charts/app/values.yaml": "image: {repository: x, tag: '0'}\n",
    "charts/app/templates/deployment.yaml": """\
        apiVersion: apps/v1
        kind: Deployment
        metadata: {name: {{ .Release.Name }}, namespace: {{ .Release.Namespace }}}
        spec:
          template:
            spec:
              containers:
                - {name: app, image: "{{ .Values.image.repository }}:{{ .Values.image.tag }}"}
        """,
}

# prod renders every service through one chart (the environment's `render`,
# values from the service's path); dev is kustomize for all but `side`, which
# says `plain` itself; `defaults.render` covers staging.
CONFIG = """\
version: 1
defaults:
  path: "{env}/{service}"
  render: plain
environments:
  - name: dev
    render: kustomize
  - name: staging
    from: dev
  - name: prod
    from: staging
    render:
      helm:
        chart: charts/app
        namespace: "{env}"
services:
  - name: api
    image: ghcr.io/acme/api
    paths: {prod: prod/api-values.yaml}
  - name: side
    image: ghcr.io/acme/side
    render: plain
"""

KUSTOMIZATION = (
    "resources: [deployment.yaml]\nimages:\n  - {name: ghcr.io/acme/api, newTag: 1.0.0}\n"
)
DEPLOYMENT = """\
apiVersion: apps/v1
kind: Deployment
metadata: {name: api}
spec:
  template:
    spec:
      containers: [{name: api, image: ghcr.io/acme/api}]
"""


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    root = tmp_path / "env"
    _write(
        root,
        {
            **CHART,
            "promoter.yaml": CONFIG,
            "dev/api/kustomization.yaml": KUSTOMIZATION,
            "dev/api/deployment.yaml": DEPLOYMENT,
            "dev/side/kustomization.yaml": "resources: [cm.yaml]\n",
            "dev/side/cm.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: side}\n",
            "staging/api/deployment.yaml": DEPLOYMENT.replace("acme/api", "acme/api:0.9.0"),
            "prod/api-values.yaml": "image: {repository: ghcr.io/acme/api, tag: 0.8.0}\n",
        },
    )
    return root


def _images(root: Path, env: str) -> dict[str, str]:
    return {
        o.name: o.body["spec"]["template"]["spec"]["containers"][0]["image"]
        for o in renderer.render_environment(root, env).objects
        if o.kind == "Deployment"
    }


def test_the_environment_decides_unless_the_service_does(repo: Path) -> None:
    config = load_config(repo)
    api, side = config.services
    assert config.render_for(api, "dev") == DirectoryRender("kustomize")
    assert config.render_for(api, "staging") == DirectoryRender("plain")  # defaults.render
    assert isinstance(config.render_for(api, "prod"), HelmRender)
    assert config.render_for(side, "prod") == DirectoryRender("plain")  # its own wins

    assert _images(repo, "dev") == {"api": "ghcr.io/acme/api:1.0.0"}  # kustomize's images:
    dev = renderer.render_environment(repo, "dev").objects
    # `plain` beside a kustomization: the documents as written, not the Kustomization.
    assert sorted(f"{o.kind}/{o.name}" for o in dev) == ["ConfigMap/side", "Deployment/api"]
    assert _images(repo, "staging") == {"api": "ghcr.io/acme/api:0.9.0"}
    prod = renderer.render_environment(repo, "prod").objects
    assert [(o.kind, o.name, o.namespace) for o in prod] == [("Deployment", "api", "prod")]
    assert _images(repo, "prod") == {"api": "ghcr.io/acme/api:0.8.0"}


def test_render_kustomize_without_a_kustomization_is_exit_8(run, repo: Path) -> None:
    (repo / "dev/api/kustomization.yaml").unlink()
    result = run("render", "--repo", str(repo), "--env", "dev")
    assert result.exit_code == 8
    assert "dev/api has no kustomization.yaml" in result.stderr
    assert "`render: kustomize`" in result.stderr
    assert result.stdout == ""


def test_one_chart_for_every_service_renders_once(repo: Path) -> None:
    """An environment whose `render` names no {service} renders the same for
    each service: the objects appear once, not once per service."""
    config = (repo / "promoter.yaml").read_text()
    (repo / "promoter.yaml").write_text(
        config.replace(
            "paths: {prod: prod/api-values.yaml}", "paths: {prod: prod/values.yaml}"
        ).replace("    render: plain\n", "    paths: {prod: prod/values.yaml}\n")
    )
    (repo / "prod/values.yaml").write_text("image: {repository: ghcr.io/acme/all, tag: '5'}\n")
    prod = renderer.render_environment(repo, "prod").objects
    assert [(o.kind, o.name) for o in prod] == [("Deployment", "api"), ("Deployment", "side")]
    (repo / "promoter.yaml").write_text(
        (repo / "promoter.yaml").read_text().replace('namespace: "{env}"', "release: app")
    )
    prod = renderer.render_environment(repo, "prod").objects
    assert [(o.kind, o.name) for o in prod] == [("Deployment", "app")]


@pytest.mark.parametrize(
    ("where", "message"),
    [
        ("environments:\n  - name: dev\n    render: helmfile\n",
         "environment 'dev': render: 'helmfile' is not a renderer; use `kustomize`, `plain`"),
        ("defaults:\n  render: [helm]\nenvironments:\n  - name: dev\n",
         "defaults: render must be a mapping"),
        ("environments:\n  - name: dev\n    render: {helm: {}}\n",
         "environment 'dev': render: helm: missing required key 'chart'"),
        ("environments:\n  - name: dev\n    render: {}\n",
         "needs exactly one of: helm, jsonnet (or the word `kustomize` or `plain`)"),
    ],
)  # fmt: skip
def test_environment_and_default_render_are_validated(where: str, message: str) -> None:
    text = f"version: 1\n{where}services:\n  - {{name: a, image: ghcr.io/acme/a, path: a}}\n"
    with pytest.raises(ConfigError) as info:
        parse_config(text)
    assert message in str(info.value)


def test_environment_render_survives_the_config_cache(
    repo: Path, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("PROMOTER_CACHE_DIR", str(tmp_path / "cache"))
    (repo / "promoter.yaml").write_text(CONFIG + "# padding\n" * 8000)  # over the cache size
    first = load_config(repo)
    second = load_config(repo)
    assert list((tmp_path / "cache").iterdir())
    assert [e.render for e in second.environments] == [e.render for e in first.environments]
    assert second.services[1].render == DirectoryRender("plain")


def test_the_cache_key_is_gits_own_tree_hash(tmp_path: Path) -> None:
    root = tmp_path / "repo"
    _write(root, {**CHART, "charts/app/charts/sub/Chart.yaml": "name: sub\n", "a-b": "x\n"})
    (root / "charts/app/run.sh").write_text("#!/bin/sh\n")
    (root / "charts/app/run.sh").chmod(0o755)
    (root / "charts/app/empty").mkdir()  # git stores no empty directory
    os.symlink("templates", root / "charts/app/linked")  # a link to a directory: its text
    git("init", "--quiet", cwd=root)
    git("add", "-A", cwd=root)
    git("commit", "--quiet", "-m", "seed", cwd=root)
    for rel in ("charts/app", "charts", "charts/app/values.yaml", "charts/app/templates"):
        assert git_object_id(root / rel) == git("rev-parse", f"HEAD:{rel}", cwd=root).strip()
    before = git_object_id(root / "charts")
    (root / "charts/app/values.yaml").write_text("image: {repository: x, tag: '1'}\n")
    assert git_object_id(root / "charts") != before
    assert git_object_id(root / "nothing-here") == "0" * 40


def test_a_working_tree_is_rendered_every_round(fake_cluster: Cluster) -> None:
    """--repo is read as it is: an edit not yet committed reaches the
    cluster on the next round, though HEAD did not move."""
    c = fake_cluster
    c.write("app", configmap("first"))
    agent = Agent(LocalSource(c.repo), c.reconciler(), AgentOptions("dev"))
    assert agent.round().created == ["/ConfigMap/default/first"]
    c.write("app", configmap("first"), configmap("second"))
    result = agent.round()
    assert result.ok, result.text()
    assert result.created == ["/ConfigMap/default/second"]


@pytest.mark.parametrize(
    ("module", "env", "needs"),
    [
        ("helm_python", "prod", "pip install 'promoter[helm]'"),
        ("_jsonnet", "dev", "pip install 'promoter[jsonnet]'"),
    ],
)
def test_a_missing_engine_names_its_extra(
    run, repo: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, module: str, env: str,
    needs: str,
) -> None:  # fmt: skip
    (repo / "dev/main.jsonnet").write_text("[]\n")
    (repo / "promoter.yaml").write_text(
        CONFIG.replace(
            "    render: kustomize\n", "    render: {jsonnet: {main: dev/main.jsonnet}}\n"
        )
    )
    monkeypatch.setitem(sys.modules, module, None)  # `import` raises ImportError
    monkeypatch.setenv("PATH", str(tmp_path / "no-binaries"))  # no helm binary either
    renderer._cache.clear()
    result = run("render", "--repo", str(repo), "--env", env)
    assert result.exit_code == 8, result.output
    assert needs in result.stderr
    assert result.stdout == ""
