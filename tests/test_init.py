"""`promoter init` on real repository layouts: the bundled example
(kustomize overlays, raw manifests, Helm values files, one environment under
another name), and a Helm/Flux/compose repository. The guess must validate,
and `bump`'s editors must work on what it names."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from promoter.core.config.loader import load_config
from promoter.core.repo_survey import Sighting, environment_of, guess
from tests.conftest import EXAMPLE, snapshot


@pytest.fixture
def bare_example(tmp_path: Path) -> Path:
    repo = tmp_path / "env"
    shutil.copytree(EXAMPLE, repo)
    (repo / "promoter.yaml").unlink()
    return repo


def test_init_rebuilds_the_example_config(run, bare_example: Path) -> None:
    result = run("init", "--repo", str(bare_example))
    assert result.exit_code == 0, result.output
    assert "environments: dev → staging → prod-eu, prod-us" in result.stdout
    assert "service worker: registry.example.com:5000/team/worker at deploy/{env}; " in (
        result.stdout
    )
    assert "not in any environment: ghcr.io/acme/api (apps/api/base/deployment.yaml)" in (
        result.stdout
    )
    assert "service dash: ghcr.io/acme/dash at apps/{service}/{env}/params.json" in result.stdout
    assert "to review" not in result.stdout
    guessed = load_config(bare_example)
    original = load_config(EXAMPLE)
    assert [(e.name, e.from_) for e in guessed.environments] == [
        (e.name, e.from_) for e in original.environments
    ]
    assert {s.name: s.image for s in guessed.services} == {
        s.name: s.image for s in original.services
    }
    # Every service lands on the same files as the hand-written config.
    for service in original.services:
        for env in original.environments:
            mine = guessed.path_for(service.name, env.name)
            theirs = original.path_for(service.name, env.name)
            assert (bare_example / mine).resolve() == (bare_example / theirs).resolve() or (
                (bare_example / theirs).parent.resolve() == (bare_example / mine).resolve()
            ), (service.name, env.name, mine, theirs)
    validated = run("config", "validate", "--repo", str(bare_example))
    assert validated.exit_code == 0, validated.output
    assert "16 paths checked" in validated.stdout
    text = (bare_example / "promoter.yaml").read_text()
    assert text.startswith("# Written by `promoter init`")


def test_init_never_overwrites_and_dry_run_writes_nothing(run, bare_example: Path) -> None:
    before = snapshot(bare_example)
    dry = run("init", "--repo", str(bare_example), "--dry-run")
    assert dry.exit_code == 0, dry.output
    assert dry.stdout.startswith("# Written by `promoter init`")
    assert "read 22 YAML/JSON file(s); guessed:" in dry.stderr  # the SOPS Secret and .sops.yaml too
    assert snapshot(bare_example) == before

    assert run("init", "--repo", str(bare_example)).exit_code == 0
    (bare_example / "promoter.yaml").write_text("version: 1  # mine\n")
    again = run("init", "--repo", str(bare_example))
    assert again.exit_code == 2
    assert "promoter.yaml exists already; init does not overwrite it" in again.stderr
    assert (bare_example / "promoter.yaml").read_text() == "version: 1  # mine\n"
    forced = run("init", "--repo", str(bare_example), "--force", "-o", "json")
    assert forced.exit_code == 0, forced.output
    data = json.loads(forced.stdout)
    assert data["written"].endswith("promoter.yaml") and data["problems"] == []
    assert (bare_example / "promoter.yaml").read_text() == data["text"]
    assert not list(bare_example.glob(".promoter.yaml.init-*"))


def _helm_flux_compose(root: Path) -> None:
    for env in ("dev", "qa", "prod"):
        (root / "charts/api").mkdir(parents=True, exist_ok=True)
        (root / f"charts/api/values-{env}.yaml").write_text(
            f'image:\n  repository: ghcr.io/acme/api\n  tag: "1.0.0"   # {env}\n'
        )
        (root / f"clusters/{env}").mkdir(parents=True)
        (root / f"clusters/{env}/worker.yaml").write_text(
            "apiVersion: helm.toolkit.fluxcd.io/v2\nkind: HelmRelease\n"
            "metadata: {name: worker}\nspec:\n  chart: {spec: {chart: worker}}\n"
            "  values:\n    image:\n      repository: registry.example.com/team/worker\n"
            '      tag: "2.0.0"\n'
        )
        (root / "compose").mkdir(exist_ok=True)
        (root / f"compose/docker-compose.{env}.yml").write_text(
            "services:\n  web:\n    image: ghcr.io/acme/web:3.0.0\n"
        )
    (root / "charts/api/values.yaml").write_text(
        "image:\n  repository: ghcr.io/acme/api\n  tag: latest\n"
    )
    (root / "charts/api/templates").mkdir()
    (root / "charts/api/templates/deployment.yaml").write_text(
        "image: {{ .Values.image.repository }}:{{ .Values.image.tag }}\n"
    )


def test_init_on_helm_values_flux_and_compose(run, tmp_path: Path) -> None:
    repo = tmp_path / "env"
    repo.mkdir()
    _helm_flux_compose(repo)
    result = run("init", "--repo", str(repo))
    assert result.exit_code == 0, result.output
    assert "environments: dev → qa → prod" in result.stdout
    config = load_config(repo)
    assert config.path_for("api", "prod") == "charts/api/values-prod.yaml"
    assert config.path_for("worker", "qa") == "clusters/qa"
    assert config.path_for("web", "dev") == "compose/docker-compose.dev.yml"
    assert "ghcr.io/acme/api (charts/api/values.yaml)" in result.stdout
    # bump's editors work on every guessed path.
    for service, env, tag in (("api", "prod", "1.1.0"), ("worker", "qa", "2.1.0")):
        changed = run(
            "set-image", "--repo", str(repo), "--env", env, "--service", service, "--tag", tag
        )
        assert changed.exit_code == 0, changed.output
    assert 'tag: "1.1.0"' in (repo / "charts/api/values-prod.yaml").read_text()
    assert 'tag: "2.1.0"' in (repo / "clusters/qa/worker.yaml").read_text()


def test_init_without_images_says_so(run, tmp_path: Path) -> None:
    (tmp_path / "notes.yaml").write_text("a: 1\n")
    result = run("init", "--repo", str(tmp_path))
    assert result.exit_code == 2
    assert "found no image references in the 1 YAML/JSON file(s)" in result.stderr
    assert not (tmp_path / "promoter.yaml").exists()


@pytest.mark.parametrize(
    ("path", "env"),
    [
        ("apps/api/overlays/eu-west/kustomization.yaml", "eu-west"),
        ("envs/blue/app.yaml", "blue"),
        ("deploy/production/values.yaml", "production"),
        ("helm/values-staging.yaml", "staging"),
        ("k8s/prod-us/api.yaml", "prod-us"),
        ("apps/api/base/deployment.yaml", None),
        ("product/api.yaml", None),  # a word that starts like a stage is not one
    ],
)
def test_environment_names(path: str, env: str | None) -> None:
    assert environment_of(path) == env


def test_one_rank_fans_out_and_unknown_names_stand_alone() -> None:
    sightings = [
        Sighting(f"overlays/{env}/kustomization.yaml", "ghcr.io/acme/api", True)
        for env in ("prod-us", "dev", "prod-eu", "blue", "staging")
    ]
    g = guess(sightings)
    assert g.environments == [
        ("dev", []),
        ("staging", ["dev"]),
        ("prod-eu", ["staging"]),
        ("prod-us", ["staging"]),
        ("blue", []),  # no known rank: stands alone for a person to place
    ]
    (service,) = g.services
    assert (service.name, service.path, service.paths) == ("api", "overlays/{env}", {})
