"""Charts as versions: a service that names a chart (`chart: NAME`) has the
version pinned in a Flux HelmRelease, a Chart.yaml dependency or an Argo CD
Application; set-image/bump --chart-version, status, plan, promote,
rollback, history and no-downgrade treat it as the service's version, and
every edit is the one line, byte for byte."""

from __future__ import annotations

import json
import textwrap
from pathlib import Path
from typing import Any

import pytest

from promoter.core.config.loader import parse_config
from promoter.errors import ConfigError
from tests.conftest import Remote, git, make_remote

CONFIG = textwrap.dedent(
    """\
    version: 1
    environments:
      - name: dev
      - name: staging
        from: dev
        policies:
          no-downgrade: {}
    services:
      - name: podinfo
        chart: podinfo
        path: clusters/{env}/podinfo.yaml
      - name: redis
        chart: redis
        path: umbrella/{env}/Chart.yaml
      - name: guestbook
        chart: guestbook
        path: argocd/{env}/guestbook.yaml
    """
)
HELMRELEASE = textwrap.dedent(
    """\
    apiVersion: helm.toolkit.fluxcd.io/v2
    kind: HelmRelease
    metadata:
      name: podinfo   # the release
    spec:
      interval: 10m
      chart:
        spec:
          chart: podinfo
          version: "6.5.0"   # pinned
          sourceRef: {kind: HelmRepository, name: podinfo}
      values:
        replicaCount: 2
    """
)
CHART = textwrap.dedent(
    """\
    apiVersion: v2
    name: umbrella
    version: 0.1.0
    dependencies:
      - name: postgresql
        version: 12.1.0
        repository: oci://registry-1.docker.io/bitnamicharts
      - name: redis
        version: 18.1.0   # cache
        repository: oci://registry-1.docker.io/bitnamicharts
    """
)
APPLICATION = textwrap.dedent(
    """\
    apiVersion: argoproj.io/v1alpha1
    kind: Application
    metadata: {name: guestbook, namespace: argocd}
    spec:
      project: default
      source:
        repoURL: https://charts.example.com
        chart: guestbook
        targetRevision: 1.2.0
      destination: {server: https://kubernetes.default.svc, namespace: guestbook}
    """
)
FILES = {
    "clusters/{env}/podinfo.yaml": HELMRELEASE,
    "umbrella/{env}/Chart.yaml": CHART,
    "argocd/{env}/guestbook.yaml": APPLICATION,
}


@pytest.fixture
def remote(tmp_path: Path) -> Remote:
    source = tmp_path / "src"
    source.mkdir()
    (source / "promoter.yaml").write_text(CONFIG)
    for template, text in FILES.items():
        for env in ("dev", "staging"):
            path = source / template.format(env=env)
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text)
    return make_remote(tmp_path, source)


def ok(run, *args: str) -> Any:
    result = run(*args, "-o", "json")
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


@pytest.mark.parametrize(
    ("service", "path", "old", "new"),
    [
        ("podinfo", "clusters/dev/podinfo.yaml", 'version: "6.5.0"', 'version: "6.5.1"'),
        ("redis", "umbrella/dev/Chart.yaml", "version: 18.1.0", "version: 18.2.0"),
        ("guestbook", "argocd/dev/guestbook.yaml", "targetRevision: 1.2.0",
         "targetRevision: 1.3.0"),
    ],
)  # fmt: skip
def test_set_image_edits_the_one_pinned_version(
    run, remote: Remote, tmp_path: Path, service: str, path: str, old: str, new: str
) -> None:
    work = tmp_path / "work"
    git("clone", "--quiet", remote.url, str(work), cwd=tmp_path)
    before = (work / path).read_text()
    version = new.split(": ")[1].strip('"')
    result = run("set-image", "--repo", str(work), "--env", "dev", "--service", service,
                 "--chart-version", version)  # fmt: skip
    assert result.exit_code == 0, result.output
    assert (work / path).read_text() == before.replace(old, new)  # that line, nothing else


def test_a_chart_version_is_bumped_promoted_and_rolled_back(run, remote: Remote) -> None:
    url = ("--repo-url", remote.url)
    ok(run, "bump", *url, "--env", "dev", "--service", "podinfo", "--chart-version", "6.5.1")
    ok(run, "bump", *url, "--env", "dev", "--service", "redis", "--chart-version", "18.2.0")
    status = ok(run, "status", *url)
    assert status["services"]["podinfo"]["dev"]["tag"] == "6.5.1"
    assert status["services"]["podinfo"]["staging"]["tag"] == "6.5.0"
    plan = ok(run, "plan", *url, "--from", "dev", "--to", "staging")
    assert [(i["service"], i["from"]["tag"], i["to"]["tag"]) for i in plan] == [
        ("podinfo", "6.5.0", "6.5.1"), ("redis", "18.1.0", "18.2.0"),
    ]  # fmt: skip
    (promoted,) = ok(run, "promote", *url, "--from", "dev", "--to", "staging",
                     "--service", "podinfo", "--service", "redis", "--forge", "none")  # fmt: skip
    branch = promoted["branch"]
    assert branch == "promoter/staging/podinfo+redis"
    assert remote.show("clusters/staging/podinfo.yaml", branch) == HELMRELEASE.replace(
        '"6.5.0"', '"6.5.1"'
    )
    assert remote.show("umbrella/staging/Chart.yaml", branch) == CHART.replace("18.1.0", "18.2.0")

    ok(run, "bump", *url, "--env", "dev", "--service", "podinfo", "--chart-version", "6.6.0")
    back = ok(run, "rollback", *url, "--env", "dev", "--service", "podinfo", "--forge", "none")
    assert remote.show("clusters/dev/podinfo.yaml", back["branch"]) == HELMRELEASE.replace(
        '"6.5.0"', '"6.5.1"'
    )
    ok(run, "bump", *url, "--env", "dev", "--service", "redis", "--chart-version", "18.3.0")
    deps = ok(run, "rollback", *url, "--env", "dev", "--service", "redis", "--forge", "none")
    assert remote.show("umbrella/dev/Chart.yaml", deps["branch"]) == CHART.replace(
        "18.1.0", "18.2.0"
    )
    history = ok(run, "history", *url, "--env", "dev", "--service", "podinfo")
    assert [(d["from"], d["to"]) for d in history][:2] == [
        ("podinfo:6.5.1", "podinfo:6.6.0"), ("podinfo:6.5.0", "podinfo:6.5.1"),
    ]  # fmt: skip


def test_no_downgrade_compares_chart_versions(run, remote: Remote, tmp_path: Path) -> None:
    url = ("--repo-url", remote.url)
    ok(run, "bump", *url, "--env", "dev", "--service", "guestbook", "--chart-version", "1.1.9")
    work = tmp_path / "check"
    git("clone", "--quiet", remote.url, str(work), cwd=tmp_path)
    result = run("check", "--repo", str(work), "--from", "dev", "--to", "staging", "-o", "json")
    assert result.exit_code == 1, result.output
    failed = [r for r in json.loads(result.stdout)["results"] if r["status"] == "fail"]
    assert [(r["rule"], r["subject"]) for r in failed] == [("no-downgrade", "guestbook")]


def test_chart_services_are_validated() -> None:
    with pytest.raises(ConfigError, match="give `image` or `chart`, not both"):
        parse_config(CONFIG.replace("chart: podinfo\n", "chart: podinfo\n    image: x/podinfo\n"))
    with pytest.raises(ConfigError, match="is not a Helm chart name"):
        parse_config(CONFIG.replace("chart: podinfo\n", "chart: Pod_Info\n"))
    with pytest.raises(ConfigError, match=r"missing required key 'image' .* or 'chart'"):
        parse_config(CONFIG.replace("    chart: podinfo\n", ""))
    config = parse_config(CONFIG)
    assert (config.service("redis").chart, config.service("redis").image) == ("redis", "redis")


def test_digest_and_tag_flags_do_not_mix_with_chart_version(run, remote: Remote) -> None:
    result = run("bump", "--repo-url", remote.url, "--env", "dev", "--service", "podinfo",
                 "--chart-version", "6.5.1", "--tag", "6.5.1")  # fmt: skip
    assert result.exit_code == 2
    assert "--chart-version is a chart service's whole version" in result.stderr
    assert git("log", "-1", "--format=%s", cwd=remote.path) == "seed"


def test_init_finds_helmreleases_chart_dependencies_and_applications(run, tmp_path) -> None:
    repo = tmp_path / "fresh"
    for template, text in FILES.items():
        for env in ("dev", "staging", "prod"):
            path = repo / template.format(env=env)
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text)
    result = run("init", "--repo", str(repo))
    assert result.exit_code == 0, result.output
    config = (repo / "promoter.yaml").read_text()
    for name, path in (("podinfo", "clusters/{env}/podinfo.yaml"),
                       ("redis", "umbrella/{env}/Chart.yaml"),
                       ("postgresql", "umbrella/{env}/Chart.yaml"),
                       ("guestbook", "argocd/{env}/guestbook.yaml")):  # fmt: skip
        assert f"  - name: {name}\n    chart: {name}\n" in config, path
    parsed = parse_config(config)
    assert parsed.service("podinfo").path == "clusters/{env}"  # its folder, as for images
    assert [e.name for e in parsed.environments] == ["dev", "staging", "prod"]
    checked = run("config", "validate", "--repo", str(repo))
    assert checked.exit_code == 0, checked.output


PATCH = textwrap.dedent(
    """\
    apiVersion: helm.toolkit.fluxcd.io/v2
    kind: HelmRelease
    metadata:
      name: podinfo
    spec:
      chart:
        spec:
          version: 6.5.0 # staging pins its own
    """
)


def test_a_kustomize_patch_of_the_helmrelease_is_where_the_version_is(run, tmp_path) -> None:
    repo = tmp_path / "repo"
    (repo / "base").mkdir(parents=True)
    (repo / "base/podinfo.yaml").write_text(HELMRELEASE)
    (repo / "base/kustomization.yaml").write_text("resources: [podinfo.yaml]\n")
    for env in ("dev", "staging"):
        overlay = repo / "overlays" / env
        overlay.mkdir(parents=True)
        (overlay / "kustomization.yaml").write_text(
            "resources: [../../base]\npatches:\n  - path: version.yaml\n"
        )
        (overlay / "version.yaml").write_text(PATCH)
    (repo / "promoter.yaml").write_text(
        "version: 1\nenvironments: [{name: dev}, {name: staging, from: dev}]\n"
        "services: [{name: podinfo, chart: podinfo, path: 'overlays/{env}'}]\n"
    )
    remote = make_remote(tmp_path, repo)
    ok(run, "bump", "--repo-url", remote.url, "--env", "dev", "--service", "podinfo",
       "--chart-version", "6.7.0")  # fmt: skip
    assert remote.show("overlays/dev/version.yaml") == PATCH.replace("6.5.0", "6.7.0")
    assert remote.show("base/podinfo.yaml") == HELMRELEASE  # the base is not an environment's
