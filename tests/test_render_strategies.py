"""Helm charts and Jsonnet programs, rendered by the real engines (the Helm
v4 library from helm-python-sdk, Google's jsonnet bindings): a chart with a
values file per environment and a vendored subchart, a Jsonnet app with
external variables and a library import. A bump shows up in the render; a
broken template fails with the engine's own message and exit 8."""

from __future__ import annotations

import json
import textwrap
from pathlib import Path

import pytest
import yaml

from promoter.adapters.render import renderer
from promoter.core.config.loader import load_config, parse_config
from promoter.errors import ConfigError

pytest.importorskip("helm_python", reason="pip install 'promoter[helm]'")
pytest.importorskip("_jsonnet", reason="pip install 'promoter[jsonnet]'")

CONFIG = """\
version: 1
environments:
  - name: dev
  - name: prod
    from: dev
services:
  - name: shop
    image: ghcr.io/acme/shop
    path: deploy/{env}/shop-values.yaml
    render:
      helm:
        chart: charts/shop
        namespace: shop-{env}
        values:                      # {env} in a flow list would be a mapping: block style
          - deploy/common.yaml
          - deploy/{env}/shop-values.yaml
        set: {replicaCount: 2}
  - name: dash
    image: ghcr.io/acme/dash
    path: dash/{env}/params.json
    render:
      jsonnet:
        main: dash/main.jsonnet
        extVars: {env: "{env}"}
        tlas: {team: web}
        libs:                        # params.json is found in the environment's directory
          - dash/lib
          - dash/{env}
"""


SHOP_VALUES = 'image:\n  repository: ghcr.io/acme/shop\n  tag: "{tag}"\n'


def _write(root: Path, files: dict[str, str]) -> None:
    for rel, text in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text))


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    root = tmp_path / "env"
    _write(
        root,
        {
            "promoter.yaml": CONFIG,
            "charts/shop/Chart.yaml": """\
                apiVersion: v2
                name: shop
                version: 0.1.0
                dependencies:
                  - name: cache
                    version: 0.1.0
                """,
            "charts/shop/values.yaml": """\
                replicaCount: 1
                image:
                  repository: ghcr.io/acme/shop
                  tag: "0.0.0"
                logLevel: info
                """,
            "charts/shop/templates/deployment.yaml": """\
                apiVersion: apps/v1
                kind: Deployment
                metadata:
                  name: {{ .Release.Name }}
                  namespace: {{ .Release.Namespace }}
                spec:
                  replicas: {{ .Values.replicaCount }}
                  template:
                    spec:
                      containers:
                        - name: shop
                          image: "{{ .Values.image.repository }}:{{ .Values.image.tag }}"
                          env:
                            - {name: LOG_LEVEL, value: {{ .Values.logLevel | quote }}}
                """,
            "charts/shop/templates/NOTES.txt": "Thanks for installing {{ .Release.Name }}.\n",
            "charts/shop/charts/cache/Chart.yaml": "apiVersion: v2\nname: cache\nversion: 0.1.0\n",
            "charts/shop/charts/cache/templates/service.yaml": """\
                apiVersion: v1
                kind: Service
                metadata:
                  name: {{ .Release.Name }}-cache
                """,
            "deploy/common.yaml": "logLevel: warn\n",
            "deploy/dev/shop-values.yaml": SHOP_VALUES.format(tag="1.0.0"),
            "deploy/prod/shop-values.yaml": SHOP_VALUES.format(tag="0.9.0"),
            "dash/lib/k.libsonnet": """\
                {
                  deployment(name, image, ns):: {
                    apiVersion: 'apps/v1', kind: 'Deployment',
                    metadata: { name: name, namespace: ns },
                    spec: { template: { spec: { containers: [{ name: name, image: image }] } } },
                  },
                }
                """,
            "dash/main.jsonnet": """\
                local k = import 'k.libsonnet';
                local env = std.extVar('env');
                local params = import 'params.json';
                function(team) {
                  deployment: k.deployment('dash', params.image, team + '-' + env),
                  config: [{ apiVersion: 'v1', kind: 'ConfigMap',
                             metadata: { name: 'dash-' + env }, data: { team: team } }],
                }
                """,
            "dash/dev/params.json": '{"image": "ghcr.io/acme/dash:2.0.0"}\n',
            "dash/prod/params.json": '{"image": "ghcr.io/acme/dash:1.9.0"}\n',
        },
    )
    return root


def _by_kind(objects: list) -> dict[str, dict]:
    return {f"{o.kind}/{o.name}": o.body for o in objects}


def test_helm_chart_with_values_per_environment_and_a_vendored_subchart(repo: Path) -> None:
    objects = _by_kind(renderer.render_environment(repo, "dev").objects)
    shop = objects["Deployment/shop"]
    assert shop["metadata"]["namespace"] == "shop-dev"
    assert shop["spec"]["replicas"] == 2  # `set` comes last
    container = shop["spec"]["template"]["spec"]["containers"][0]
    assert container["image"] == "ghcr.io/acme/shop:1.0.0"  # the env's values file
    assert container["env"] == [
        {"name": "LOG_LEVEL", "value": "warn"}
    ]  # common.yaml over the chart
    assert "Service/shop-cache" in objects  # the vendored subchart
    prod = _by_kind(renderer.render_environment(repo, "prod").objects)
    assert prod["Deployment/shop"]["spec"]["template"]["spec"]["containers"][0]["image"] == (
        "ghcr.io/acme/shop:0.9.0"
    )


def test_jsonnet_with_external_variables_arguments_and_a_library(repo: Path) -> None:
    objects = _by_kind(renderer.render_environment(repo, "dev").objects)
    dash = objects["Deployment/dash"]
    assert dash["metadata"]["namespace"] == "web-dev"  # tla team + extVar env
    assert dash["spec"]["template"]["spec"]["containers"][0]["image"] == "ghcr.io/acme/dash:2.0.0"
    assert objects["ConfigMap/dash-dev"]["data"] == {"team": "web"}


def test_a_bump_shows_in_the_render(run, repo: Path) -> None:
    for service, tag in (("shop", "1.1.0"), ("dash", "2.1.0")):
        result = run("set-image", "--repo", str(repo), "--env", "dev", "--service", service,
                     "--tag", tag)  # fmt: skip
        assert result.exit_code == 0, result.output
    rendered = run("render", "--repo", str(repo), "--env", "dev", "-o", "json")
    assert rendered.exit_code == 0, rendered.output
    images = {
        doc["metadata"]["name"]: doc["spec"]["template"]["spec"]["containers"][0]["image"]
        for doc in json.loads(rendered.stdout)
        if doc["kind"] == "Deployment"
    }
    assert images == {"shop": "ghcr.io/acme/shop:1.1.0", "dash": "ghcr.io/acme/dash:2.1.0"}
    as_yaml = run("render", "--repo", str(repo), "--env", "dev")
    assert [d["kind"] for d in yaml.safe_load_all(as_yaml.stdout)] == [
        d["kind"] for d in json.loads(rendered.stdout)
    ]
    assert "Thanks for installing" not in as_yaml.stdout  # NOTES.txt is never applied


def test_a_broken_template_fails_with_helms_message_and_exit_8(run, repo: Path) -> None:
    (repo / "charts/shop/templates/broken.yaml").write_text("x: {{ .Values.nope.deeper }}\n")
    result = run("render", "--repo", str(repo), "--env", "dev")
    assert result.exit_code == 8
    assert "helm could not render charts/shop" in result.stderr
    assert "shop/templates/broken.yaml:1" in result.stderr
    assert "nil pointer evaluating interface {}.deeper" in result.stderr
    assert result.stdout == ""


def test_a_broken_jsonnet_program_fails_with_jsonnets_message(run, repo: Path) -> None:
    (repo / "dash/main.jsonnet").write_text("local x = ;\n{}\n")
    result = run("render", "--repo", str(repo), "--env", "dev")
    assert result.exit_code == 8
    assert "jsonnet could not evaluate dash/main.jsonnet" in result.stderr
    assert "main.jsonnet:1:11" in result.stderr


def test_unchanged_inputs_are_rendered_once(repo: Path, monkeypatch) -> None:
    calls: list[str] = []
    real = renderer.render_chart

    def counting(*args, **kwargs):
        calls.append(args[-1])
        return real(*args, **kwargs)

    monkeypatch.setattr(renderer, "render_chart", counting)
    renderer._cache.clear()
    first = renderer.render_environment(repo, "dev").objects
    second = renderer.render_environment(repo, "dev").objects
    assert calls == ["charts/shop"] and first == second
    values = repo / "deploy/dev/shop-values.yaml"
    values.write_text(values.read_text().replace("1.0.0", "1.0.1"))
    renderer.render_environment(repo, "dev")
    assert calls == ["charts/shop", "charts/shop"]  # a changed input renders again


@pytest.mark.parametrize(
    ("render", "message"),
    [
        ("{helm: {}}", "render: helm: missing required key 'chart'"),
        ("{helm: {chart: ../elsewhere}}", "contains '..'"),
        ("{jsonnet: {main: x.jsonnet, extVars: {a: '{nope}'}}}", "unknown placeholder {nope}"),
        ("{helm: {chart: c}, jsonnet: {main: m}}", "needs exactly one of: helm, jsonnet"),
        ("{kustomize: {}}", "unknown key 'kustomize'"),
        ("{helm: {chart: c, set: [1]}}", "set must be a mapping"),
    ],
)
def test_render_settings_are_validated(render: str, message: str) -> None:
    text = (
        "version: 1\nenvironments: [{name: dev}]\nservices:\n"
        f"  - name: a\n    image: ghcr.io/acme/a\n    path: a\n    render: {render}\n"
    )
    with pytest.raises(ConfigError) as info:
        parse_config(text)
    assert message in str(info.value)


def test_render_settings_survive_the_config_cache(repo: Path, monkeypatch, tmp_path) -> None:
    monkeypatch.setenv("PROMOTER_CACHE_DIR", str(tmp_path / "cache"))
    (repo / "promoter.yaml").write_text(CONFIG + "# padding\n" * 8000)  # over the cache size
    first = load_config(repo)
    second = load_config(repo)  # from the cache
    assert list((tmp_path / "cache").iterdir())
    assert [s.render for s in second.services] == [s.render for s in first.services]
    assert dict(second.services[0].render.set) == {"replicaCount": 2}


def test_render_reads_the_remote_with_repo_url(run, remote) -> None:
    """The bundled example from a real git remote: kustomize (api), plain
    manifests (web), the Helm-packaged worker and the Jsonnet dash, as the
    agent gets them."""
    result = run("render", "--repo-url", remote.url, "--env", "prod-eu", "-o", "json")
    assert result.exit_code == 0, result.output
    images = {
        doc["metadata"]["name"]: doc["spec"]["template"]["spec"]["containers"][0]["image"]
        for doc in json.loads(result.stdout)
        if doc["kind"] == "Deployment"
    }
    assert images == {
        "api": "ghcr.io/acme/api:1.0.0",
        "worker": "registry.example.com:5000/team/worker:2.1.0",  # from deploy/eu (paths:)
        "web": "ghcr.io/acme/web:0.9.0",
        "dash": "ghcr.io/acme/dash:3.0.0",  # Jsonnet, parameters from apps/dash/prod-eu
    }
