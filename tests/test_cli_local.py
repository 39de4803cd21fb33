"""set-image, status and config validate on a working tree, through the CLI."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.conftest import snapshot

DIGEST = "sha256:" + "ab" * 32
OVERLAY = "apps/api/overlays/dev/kustomization.yaml"


def test_set_image_changes_only_the_tag_scalar(run, env_repo: Path) -> None:
    before = (env_repo / OVERLAY).read_text()
    result = run(
        "set-image", "--repo", str(env_repo), "--env", "dev", "--service", "api", "--tag", "1.4.2"
    )
    assert result.exit_code == 0, result.output
    after = (env_repo / OVERLAY).read_text()
    assert after == before.replace('newTag: "1.0.0"', 'newTag: "1.4.2"')
    assert '-    newTag: "1.0.0"   # bumped by promoter' in result.stdout
    assert '+    newTag: "1.4.2"   # bumped by promoter' in result.stdout
    # Other environments untouched.
    assert (
        'newTag: "1.0.0"' in (env_repo / "apps/api/overlays/staging/kustomization.yaml").read_text()
    )


def test_set_image_json_reports_old_and_new(run, env_repo: Path) -> None:
    result = run(
        "set-image",
        "--repo",
        str(env_repo),
        "--env",
        "prod-eu",
        "--service",
        "worker",
        "--tag",
        "2.2.0",
        "--digest",
        DIGEST,
        "--output",
        "json",
    )
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["changed"] == [
        {
            "file": "deploy/eu/worker-values.yaml",
            "line": 5,
            "old": "registry.example.com:5000/team/worker:2.1.0",
            "new": f"registry.example.com:5000/team/worker:2.2.0@{DIGEST}",
        }
    ]
    assert f"tag: 2.2.0@{DIGEST}\n" in (env_repo / "deploy/eu/worker-values.yaml").read_text()


def test_set_image_by_image_reference_finds_the_service(run, env_repo: Path) -> None:
    result = run(
        "set-image",
        "--repo",
        str(env_repo),
        "--env",
        "dev",
        "--image",
        "ghcr.io/acme/web:1.0.0",
        "-o",
        "json",
    )
    assert result.exit_code == 0, result.output
    changed = json.loads(result.stdout)["changed"]
    # The init container and the main container both run the image.
    assert [c["new"] for c in changed] == ["ghcr.io/acme/web:1.0.0"] * 2


def test_same_tag_twice_is_a_noop(run, env_repo: Path) -> None:
    args = (
        "set-image",
        "--repo",
        str(env_repo),
        "--env",
        "dev",
        "--service",
        "api",
        "--tag",
        "2.0",
    )
    assert run(*args).exit_code == 0
    before = snapshot(env_repo)
    again = run(*args)
    assert again.exit_code == 0
    assert "nothing to change" in again.stdout
    assert snapshot(env_repo) == before


def test_dry_run_writes_nothing(run, env_repo: Path) -> None:
    before = snapshot(env_repo)
    result = run(
        "set-image",
        "--repo",
        str(env_repo),
        "--env",
        "dev",
        "--service",
        "api",
        "--tag",
        "9.9.9",
        "--dry-run",
    )
    assert result.exit_code == 0
    assert '+    newTag: "9.9.9"' in result.stdout
    assert snapshot(env_repo) == before


def test_status_matrix_json(run, env_repo: Path) -> None:
    run("set-image", "--repo", str(env_repo), "--env", "dev", "--service", "api", "--tag", "1.1.0")
    result = run("status", "--repo", str(env_repo), "--output", "json")
    assert result.exit_code == 0
    data = json.loads(result.stdout)
    assert data["environments"] == ["dev", "staging", "prod-eu", "prod-us"]
    assert data["services"]["api"]["dev"] == {
        "image": "ghcr.io/acme/api:1.1.0",
        "tag": "1.1.0",
        "digest": None,
        "files": ["apps/api/overlays/dev/kustomization.yaml"],
    }
    assert data["services"]["api"]["staging"]["tag"] == "1.0.0"
    assert data["services"]["worker"]["prod-eu"]["files"] == ["deploy/eu/worker-values.yaml"]
    assert set(data["services"]) == {"api", "worker", "web", "dash"}


def test_status_table(run, env_repo: Path) -> None:
    result = run("status", "--repo", str(env_repo))
    lines = result.stdout.splitlines()
    assert lines[0].split() == ["SERVICE", "DEV", "STAGING", "PROD-EU", "PROD-US"]
    assert lines[1].split() == ["api", "1.0.0", "1.0.0", "1.0.0", "1.0.0"]


def test_status_marks_disagreeing_files(run, env_repo: Path) -> None:
    path = env_repo / "apps/web/overlays/dev/deployment.yaml"
    path.write_text(path.read_text().replace("web:0.9.0   #", "web:0.9.1   #"))
    data = json.loads(run("status", "--repo", str(env_repo), "-o", "json").stdout)
    assert data["services"]["web"]["dev"]["conflicting"] == [
        "ghcr.io/acme/web:0.9.0",
        "ghcr.io/acme/web:0.9.1",
    ]


def test_config_validate_ok(run, env_repo: Path) -> None:
    result = run("config", "validate", "--repo", str(env_repo))
    assert result.exit_code == 0
    assert result.stdout == (
        f"{env_repo / 'promoter.yaml'}: OK (4 environments, 4 services, 16 paths checked)\n"
    )


def test_config_validate_finds_missing_paths_and_images(run, env_repo: Path) -> None:
    """The file can be valid and still point nowhere: a path that does not
    exist, or files that never name the service's image, fail here and not
    in the first bump; nothing is written."""
    shutil.rmtree(env_repo / "apps/web/overlays/prod-us")
    values = env_repo / "deploy/staging/worker-values.yaml"
    values.write_text(values.read_text().replace("team/worker", "team/other"))
    before = snapshot(env_repo)
    result = run("config", "validate", "--repo", str(env_repo))
    assert result.exit_code == 2, result.output
    config = env_repo / "promoter.yaml"
    web, worker = _service_line(config, "web"), _service_line(config, "worker")
    assert (
        f"{config}:{web}: service 'web' in environment 'prod-us': "
        "path apps/web/overlays/prod-us does not exist"
    ) in result.stderr
    assert (
        f"{config}:{worker}: service 'worker' in environment 'staging': "
        "deploy/staging/worker-values.yaml has no reference to image "
        "registry.example.com:5000/team/worker"
    ) in result.stderr
    assert "hint: fix the service's `path`/`paths` or `image`" in result.stderr
    assert snapshot(env_repo) == before


def _service_line(config: Path, name: str) -> int:
    lines = config.read_text().splitlines()
    return next(i for i, line in enumerate(lines, 1) if line.strip() == f"- name: {name}")


def test_config_is_found_from_a_subdirectory_like_git_does(
    run, env_repo: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    deep = env_repo / "apps/api/overlays/dev"
    monkeypatch.chdir(deep)
    result = run("config", "validate")
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith("../../../../promoter.yaml: OK (4 environments")
    status = json.loads(run("status", "-o", "json").stdout)
    assert status["services"]["api"]["dev"]["tag"] == "1.0.0"
    changed = run("set-image", "--env", "dev", "--service", "api", "--tag", "1.2.3")
    assert changed.exit_code == 0, changed.output
    assert 'newTag: "1.2.3"' in (deep / "kustomization.yaml").read_text()


def test_config_search_stops_at_the_git_root(
    run, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A promoter.yaml above the repository is someone else's: not used."""
    (tmp_path / "promoter.yaml").write_text("version: 1\n")
    repo = tmp_path / "repo"
    (repo / "sub").mkdir(parents=True)
    subprocess.run(["git", "init", "--quiet", str(repo)], check=True)
    monkeypatch.chdir(repo / "sub")
    result = run("config", "validate")
    assert result.exit_code == 2
    assert "no promoter.yaml in ." in result.stderr
    assert "looked for up to the git root" in result.stderr


# --- bad input: clear message, exit code 2 (5 for files), nothing written ---------------

BAD_INPUT = [
    (["--env", "qa", "--service", "api", "--tag", "1"], "unknown environment 'qa'"),
    (["--env", "dev", "--service", "nope", "--tag", "1"], "unknown service 'nope'"),
    (["--env", "dev", "--service", "api", "--tag", "1.0;rm -rf /"], "tag"),
    (["--env", "dev", "--service", "api", "--tag", "x" * 129], "128"),
    (["--env", "dev", "--service", "api", "--tag", "1", "--digest", "sha256:abc"], "64"),
    (["--env", "dev", "--image", "ghcr.io/Acme/api:1"], "lowercase"),
    (["--env", "dev", "--image", "ghcr.io/acme/other:1"], "no service in promoter.yaml"),
    (["--env", "dev", "--image", "ghcr.io/acme/api"], "no tag or digest"),
    (["--env", "dev", "--service", "api"], "--tag"),
    (["--env", "dev", "--tag", "1"], "--service"),
]


@pytest.mark.parametrize(("args", "message"), BAD_INPUT)
def test_bad_input_exits_2_and_writes_nothing(run, env_repo: Path, args, message) -> None:
    before = snapshot(env_repo)
    result = run("set-image", "--repo", str(env_repo), *args)
    assert result.exit_code == 2, result.output
    assert message in result.stderr
    assert result.stderr.startswith("error: ")
    assert snapshot(env_repo) == before


def test_malformed_yaml_in_overlay(run, env_repo: Path) -> None:
    (env_repo / OVERLAY).write_text("images:\n  - name: ghcr.io/acme/api\n    newTag: [1.0\n")
    before = snapshot(env_repo)
    result = run(
        "set-image", "--repo", str(env_repo), "--env", "dev", "--service", "api", "--tag", "2"
    )
    assert result.exit_code == 2
    assert f"{OVERLAY}:" in result.stderr and "malformed YAML" in result.stderr
    assert snapshot(env_repo) == before


def test_missing_config(run, tmp_path: Path) -> None:
    result = run(
        "set-image", "--repo", str(tmp_path), "--env", "dev", "--service", "api", "--tag", "1"
    )
    assert result.exit_code == 2
    assert "promoter.yaml" in result.stderr


def test_invalid_config_lists_problems_with_lines(run, env_repo: Path) -> None:
    config = env_repo / "promoter.yaml"
    config.write_text(
        config.read_text()
        .replace("from: dev", "from: qa")
        .replace("  - name: web\n", "  - name: web\n    colour: blue\n")
    )
    result = run("config", "validate", "--repo", str(env_repo))
    assert result.exit_code == 2
    assert "promoter.yaml:5:" in result.stderr and "qa" in result.stderr
    assert "promoter.yaml:22:" in result.stderr and "colour" in result.stderr


def test_path_without_reference_is_an_error(run, env_repo: Path) -> None:
    path = env_repo / "deploy/dev/worker-values.yaml"
    path.write_text("replicas: 2\n")
    before = snapshot(env_repo)
    result = run(
        "set-image", "--repo", str(env_repo), "--env", "dev", "--service", "worker", "--tag", "3"
    )
    assert result.exit_code == 2
    assert "deploy/dev/worker-values.yaml" in result.stderr
    assert "registry.example.com:5000/team/worker" in result.stderr
    assert snapshot(env_repo) == before


def test_directory_without_reference_gets_an_images_entry(run, env_repo: Path) -> None:
    overlay = env_repo / OVERLAY
    overlay.write_text("resources:\n  - ../../base\n")
    result = run(
        "set-image", "--repo", str(env_repo), "--env", "dev", "--service", "api", "--tag", "1.2"
    )
    assert result.exit_code == 0, result.output
    assert overlay.read_text() == (
        'resources:\n  - ../../base\nimages:\n- name: ghcr.io/acme/api\n  newTag: "1.2"\n'
    )


def test_directory_without_reference_or_kustomization(run, env_repo: Path) -> None:
    overlay_dir = env_repo / "apps/web/overlays/dev"
    (overlay_dir / "deployment.yaml").write_text("kind: ConfigMap\napiVersion: v1\n")
    before = snapshot(env_repo)
    result = run(
        "set-image", "--repo", str(env_repo), "--env", "dev", "--service", "web", "--tag", "1"
    )
    assert result.exit_code == 2
    assert "apps/web/overlays/dev/" in result.stderr and "ghcr.io/acme/web" in result.stderr
    assert snapshot(env_repo) == before


def test_missing_path(run, env_repo: Path) -> None:
    import shutil

    shutil.rmtree(env_repo / "apps/api/overlays/dev")
    result = run(
        "set-image", "--repo", str(env_repo), "--env", "dev", "--service", "api", "--tag", "1"
    )
    assert result.exit_code == 2
    assert "apps/api/overlays/dev: no such file or directory" in result.stderr


@pytest.mark.skipif(os.geteuid() == 0, reason="root ignores file permissions")
def test_unwritable_file(run, env_repo: Path) -> None:
    path = env_repo / "deploy/dev/worker-values.yaml"
    path.chmod(0o444)
    result = run(
        "set-image", "--repo", str(env_repo), "--env", "dev", "--service", "worker", "--tag", "3"
    )
    assert result.exit_code == 5
    assert "cannot write deploy/dev/worker-values.yaml" in result.stderr


def test_failed_write_restores_every_file(
    run, env_repo: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Two files change (init container + container live in one file, so use
    # a directory with two files) and the second replace fails: the first
    # must be put back, so the tree is as before.
    overlay_dir = env_repo / "apps/web/overlays/dev"
    (overlay_dir / "job.yaml").write_text(
        "apiVersion: batch/v1\nkind: Job\nmetadata: {name: seed}\nspec:\n  template:\n    spec:\n"
        "      containers:\n      - name: seed\n        image: ghcr.io/acme/web:0.9.0\n"
    )
    before = snapshot(env_repo)
    real_replace = os.replace
    calls = []

    def failing_replace(src, dst):
        calls.append(dst)
        if len(calls) == 2:
            raise PermissionError(13, "Permission denied", str(dst))
        return real_replace(src, dst)

    monkeypatch.setattr(os, "replace", failing_replace)
    result = run(
        "set-image", "--repo", str(env_repo), "--env", "dev", "--service", "web", "--tag", "1"
    )
    assert result.exit_code == 5, result.output
    assert "nothing was written" in result.stderr
    assert snapshot(env_repo) == before
    assert not [p for p in overlay_dir.iterdir() if p.name.startswith(".")]  # no temp files left


def test_failure_while_staging_leaves_no_temp_file(run, env_repo: Path, monkeypatch) -> None:
    before = snapshot(env_repo)
    real_fdopen = os.fdopen

    def full_disk(fd, *args, **kwargs):
        handle = real_fdopen(fd, *args, **kwargs)

        def write(_text: str) -> int:
            raise OSError(28, "No space left on device")

        handle.write = write  # type: ignore[method-assign]
        return handle

    monkeypatch.setattr(os, "fdopen", full_disk)
    result = run(
        "set-image", "--repo", str(env_repo), "--env", "dev", "--service", "api", "--tag", "1.2"
    )
    assert result.exit_code == 5, result.output
    assert f"cannot write {OVERLAY}: No space left on device" in result.stderr
    assert snapshot(env_repo) == before
    assert not [p for p in (env_repo / OVERLAY).parent.iterdir() if p.name.startswith(".")]


def test_symlinked_file_in_overlay_is_never_followed(run, env_repo: Path, tmp_path: Path) -> None:
    outside = tmp_path / "outside.yaml"
    outside.write_text("image: ghcr.io/acme/api:0.0.1\n")
    overlay_dir = (env_repo / OVERLAY).parent
    (overlay_dir / "zz-shared.yaml").symlink_to(outside)
    (overlay_dir / "aa-staging.yaml").symlink_to(
        env_repo / "apps/api/overlays/staging/kustomization.yaml"
    )
    result = run(
        "set-image",
        "--repo",
        str(env_repo),
        "--env",
        "dev",
        "--service",
        "api",
        "--tag",
        "1.2",
        "-o",
        "json",
    )
    assert result.exit_code == 0, result.output
    assert [c["file"] for c in json.loads(result.stdout)["changed"]] == [OVERLAY]
    assert outside.read_text() == "image: ghcr.io/acme/api:0.0.1\n"
    assert (
        'newTag: "1.0.0"' in (env_repo / "apps/api/overlays/staging/kustomization.yaml").read_text()
    )
    status = json.loads(run("status", "--repo", str(env_repo), "-o", "json").stdout)
    assert status["services"]["api"]["dev"]["files"] == [OVERLAY]


def test_configured_path_through_a_symlink_is_refused(run, env_repo: Path) -> None:
    import shutil

    dev = env_repo / "deploy/dev"
    shutil.rmtree(dev)
    dev.symlink_to(env_repo / "deploy/staging")
    before = snapshot(env_repo)
    result = run(
        "set-image", "--repo", str(env_repo), "--env", "dev", "--service", "worker", "--tag", "3"
    )
    assert result.exit_code == 2
    assert "symbolic link" in result.stderr
    assert snapshot(env_repo) == before


def test_config_validate_counts_in_words(run, tmp_path: Path) -> None:
    """`1 environment, 1 service`, not `1 services` (the docs' example)."""
    (tmp_path / "promoter.yaml").write_text(
        "version: 1\nenvironments:\n  - name: dev\nservices:\n"
        "  - name: api\n    image: ghcr.io/acme/api\n    path: dev/api.yaml\n"
    )
    (tmp_path / "dev").mkdir()
    (tmp_path / "dev" / "api.yaml").write_text("image: ghcr.io/acme/api:1.0.0\n")
    result = run("config", "validate", "--repo", str(tmp_path))
    assert result.exit_code == 0, result.output
    assert result.stdout.endswith(": OK (1 environment, 1 service, 1 path checked)\n")
