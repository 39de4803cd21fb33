"""Hostile environment repositories (issue 14): duplicate keys, links that
leave the repository, files that are not files or are endless, alias bombs,
an endless commit message. Each case failed before its fix; every command
that reads the file is tried, on both YAML composers (libyaml's, and
ruamel's with PROMOTER_YAML_BACKEND=ruamel, in a real process)."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from promoter.core.objects import RenderError, load_all, objects_from_docs, objects_from_yaml
from tests.conftest import EXAMPLE, Remote, git, make_remote, run_process, snapshot

OVERLAY = "apps/api/overlays/dev/kustomization.yaml"
TWO_IMAGES = """\
resources: [../../base]
images:
  - name: ghcr.io/acme/api
    newTag: 1.0.0
images:
  - name: ghcr.io/acme/api
    newTag: 9.9.9
"""
BACKENDS = ["libyaml", "ruamel"]


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    """A clone of the bundled example (plan and check read its origin)."""
    source = tmp_path / "src"
    shutil.copytree(EXAMPLE, source)
    remote = make_remote(tmp_path, source, "origin.git")
    root = tmp_path / "env"
    git("clone", "--quiet", remote.url, str(root), cwd=tmp_path)
    return root


def _promoter(backend: str, *args: str, cwd: Path | None = None):  # type: ignore[no-untyped-def]
    env = {"PROMOTER_YAML_BACKEND": backend, "PROMOTER_NO_CACHE": "1"}
    return run_process(*args, env=env, cwd=cwd, timeout=120)


READERS = {
    "status": ("status",),
    "set-image": ("set-image", "--env", "dev", "--service", "api", "--tag", "1.1.0"),
    "plan": ("plan", "--from", "dev", "--to", "staging"),
    "check": ("check", "--from", "dev", "--to", "staging"),
    "promote": ("promote", "--from", "dev", "--to", "staging", "--forge", "none"),
    "render": ("render", "--env", "dev"),
}


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("command", list(READERS))
def test_duplicate_keys_stop_every_reader_with_both_lines(repo, backend, command) -> None:
    (repo / OVERLAY).write_text(TWO_IMAGES)
    git("commit", "-qam", "a hostile overlay", cwd=repo)
    git("push", "-q", "origin", "HEAD", cwd=repo)  # plan and check read the remote's branch
    before = snapshot(repo)
    result = _promoter(backend, *READERS[command], "--repo", str(repo))
    assert result.returncode == 2, (result.stdout, result.stderr)
    assert f"{OVERLAY}:5: duplicate key 'images' (first at line 2)" in result.stderr.replace(
        str(repo) + "/", ""
    )
    assert "Traceback" not in result.stderr
    assert snapshot(repo) == before  # nothing written


@pytest.mark.parametrize("backend", BACKENDS)
def test_bump_pushes_nothing_over_a_duplicate_key(tmp_path, repo, backend) -> None:
    (repo / OVERLAY).write_text(TWO_IMAGES)
    git("commit", "-qam", "a hostile overlay", cwd=repo)
    git("push", "-q", "origin", "HEAD", cwd=repo)
    remote = Remote(tmp_path / "origin.git")
    head = remote.head()
    result = _promoter(
        backend,
        "bump",
        "--repo-url",
        remote.url,
        "--env",
        "dev",
        "--service",
        "api",
        "--tag",
        "1.1.0",
    )
    assert result.returncode == 2, result.stderr
    assert "duplicate key 'images'" in result.stderr
    assert remote.head() == head


def test_duplicate_keys_in_helm_values_and_a_container(repo) -> None:
    values = repo / "deploy/dev/worker-values.yaml"
    values.write_text(values.read_text() + "image:\n  tag: 6.6.6\n")
    result = _promoter("libyaml", "render", "--repo", str(repo), "--env", "dev")
    assert result.returncode == 2 and "duplicate key 'image'" in result.stderr
    with pytest.raises(Exception, match="duplicate key 'image'"):
        load_all("kind: Pod\nspec:\n  image: a\n  image: b\n", "pod.yaml")


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("command", list(READERS))
def test_an_overlay_linked_outside_the_repository_is_not_read(
    repo, tmp_path, backend, command
) -> None:
    secret = tmp_path / "runner-file.yaml"
    secret.write_text("images:\n  - name: ghcr.io/acme/api\n    newTag: ghp_runnerSECRET9\n")
    (repo / OVERLAY).unlink()
    os.symlink(secret, repo / OVERLAY)
    git("add", "-A", cwd=repo)
    git("commit", "-qm", "a link out", cwd=repo)
    git("push", "-q", "origin", "HEAD", cwd=repo)
    result = _promoter(backend, *READERS[command], "--repo", str(repo))
    # Refused (2, 8), or the link is passed over as not a file of the
    # repository (status then shows no version): never read, never quoted.
    assert result.returncode in (0, 1, 2, 8), (result.stdout, result.stderr)
    assert "ghp_runnerSECRET9" not in result.stdout + result.stderr
    assert "Traceback" not in result.stderr
    assert secret.read_text().endswith("ghp_runnerSECRET9\n")  # never written through


@pytest.mark.parametrize("backend", BACKENDS)
def test_a_config_linked_outside_the_repository_is_not_read(repo, tmp_path, backend) -> None:
    secret = tmp_path / "runner-secrets"
    secret.write_text("GITHUB_TOKEN=ghp_runnerSECRET123\n")
    (repo / "promoter.yaml").unlink()
    os.symlink(secret, repo / "promoter.yaml")
    for command in ("status", "config"):
        args = ("config", "validate") if command == "config" else ("status",)
        result = _promoter(backend, *args, "--repo", str(repo))
        assert result.returncode == 2, result.stderr
        assert "symbolic link to a file outside the repository; not read" in result.stderr
        assert "ghp_runnerSECRET123" not in result.stdout + result.stderr
        assert "GITHUB_TOKEN" not in result.stdout + result.stderr


@pytest.mark.parametrize("target", ["/dev/zero", "fifo", "huge"])
def test_a_config_that_is_not_a_plain_small_file_is_refused(repo, tmp_path, target) -> None:
    config = repo / "promoter.yaml"
    config.unlink()
    if target == "fifo":
        os.mkfifo(config)
    elif target == "huge":
        with open(config, "wb") as fh:
            fh.truncate(17 * 1024 * 1024)  # sparse: no disk used
    else:
        os.symlink(target, config)
    result = _promoter("libyaml", "status", "--repo", str(repo))
    assert result.returncode == 2, result.stderr
    assert "Traceback" not in result.stderr
    assert (
        "not a regular file" in result.stderr
        or "outside the repository" in result.stderr
        or "promoter reads files of at most 16,777,216 bytes" in result.stderr
    )


def _bomb(levels: int = 9) -> str:
    lines = ["a0: &a0 [x, x, x, x, x, x, x, x, x, x]"]
    for i in range(1, levels):
        refs = ", ".join([f"*a{i - 1}"] * 10)
        lines.append(f"a{i}: &a{i} [{refs}]")
    return (
        "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: bomb}\ndata:\n"
        + "\n".join("  " + line for line in lines)
        + "\n"
    )


def test_an_alias_bomb_is_refused_before_it_expands() -> None:
    with pytest.raises(RenderError, match="expand to more than 1,000,000 nodes"):
        load_all(_bomb(), "bomb.yaml")
    assert load_all(_bomb(4), "small.yaml")  # 10,000 nodes: fine
    with pytest.raises(RenderError, match="recursive structure"):
        load_all("a: &a [*a]\n", "loop.yaml")


def test_the_agent_applies_and_prunes_nothing_over_an_alias_bomb(repo) -> None:
    bomb = repo / "apps/web/overlays/dev/bomb.yaml"
    bomb.write_text(_bomb())
    result = _promoter("libyaml", "render", "--repo", str(repo), "--env", "dev")
    assert result.returncode == 8, result.stderr
    assert "aliases expand to more than 1,000,000 nodes" in result.stderr


def test_jsonnet_and_charts_cannot_reach_outside(repo, tmp_path) -> None:
    pytest.importorskip("_jsonnet")
    outside = tmp_path / "outside.libsonnet"
    outside.write_text("{ secret: 'ghp_outsideSECRET' }\n")
    main = repo / "apps/dash/main.jsonnet"
    main.write_text(f"local s = import '{outside}';\nassert s != null;\n" + main.read_text())
    result = _promoter("libyaml", "render", "--repo", str(repo), "--env", "dev")
    assert result.returncode == 8 and "absolute paths are not allowed" in result.stderr
    main.write_text(main.read_text().split("\n", 2)[2])
    os.symlink(outside, repo / "apps/dash/lib/linked.libsonnet")
    result = _promoter("libyaml", "render", "--repo", str(repo), "--env", "dev")
    assert result.returncode == 2 and "outside the repository; not rendered" in result.stderr
    os.unlink(repo / "apps/dash/lib/linked.libsonnet")
    os.symlink(outside, repo / "charts/worker/templates/linked.yaml")
    result = _promoter("libyaml", "render", "--repo", str(repo), "--env", "dev")
    assert result.returncode == 2 and "charts/worker/templates/linked.yaml" in result.stderr
    assert "ghp_outsideSECRET" not in result.stdout + result.stderr


def test_an_endless_commit_message_is_refused(run, tmp_path, repo) -> None:
    """A 1 MB line: in-process, since no OS passes an argument that long."""
    remote = Remote(tmp_path / "origin.git")
    head = remote.head()
    result = run(
        "bump",
        "--repo-url",
        remote.url,
        "--env",
        "dev",
        "--service",
        "api",
        "--tag",
        "1.1.0",
        "--message",
        "x" * 1_000_000,
    )
    assert result.exit_code == 2, result.stderr[-500:]
    assert "a commit subject may have at most 1,000" in result.stderr
    assert remote.head() == head


def test_an_agent_round_over_an_alias_bomb_applies_and_prunes_nothing(tmp_path) -> None:
    from promoter.adapters.kube import Kube
    from promoter.workflows.apply_round import Reconciler, Settings
    from tests.kubefake import FakeKube

    kept = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "kept"}}
    with FakeKube(auto_ready=True) as fake:
        kube = Kube.connect(fake.write_kubeconfig(tmp_path / "kubeconfig"))
        try:
            rec = Reconciler(kube, Settings("dev", inventory_namespace="default"))
            assert rec.run(lambda: objects_from_docs([kept])).ok
            fake.reset_requests()
            result = rec.run(lambda: objects_from_yaml(_bomb(), "bomb.yaml"))
        finally:
            kube.close()
        assert not result.ok and result.exit_code == 8 and result.phase == "render"
        assert "aliases expand to more than 1,000,000 nodes" in (result.error or "")
        assert [r for r in fake.requests if r.verb in ("apply", "delete", "patch")] == []
        assert fake.get_object("v1", "ConfigMap", "default", "kept") is not None


def test_messages_quote_only_a_short_masked_excerpt(repo) -> None:
    """A crafted promoter.yaml whose keys are a token and a thousand characters:
    the message names them, but shows neither."""
    token = "ghp_" + "T0kenSecret" * 4
    config = repo / "promoter.yaml"
    config.write_text(config.read_text() + f"{token}: 1\n{'x' * 1000}: 2\n")
    result = _promoter("libyaml", "config", "validate", "--repo", str(repo))
    assert result.returncode == 2, result.stderr
    assert token not in result.stderr and "unknown key '***'" in result.stderr
    assert "x" * 41 not in result.stderr and len(result.stderr) < 5_000
