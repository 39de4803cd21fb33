"""bump against real remotes: a bare repository over file://, and git's smart
HTTP (git http-backend) on 127.0.0.1 demanding a token."""

from __future__ import annotations

import base64
import json
import shutil
from pathlib import Path

import pytest

from promoter.adapters.git import GitRepo, auth_environment
from tests.conftest import EXAMPLE, Remote, git, make_remote, run_process
from tests.gitserver import GitHttpServer

OVERLAY = "apps/api/overlays/dev/kustomization.yaml"


def bump(run, remote: Remote, args: str, env: dict[str, str] | None = None):
    """`promoter bump --repo-url <remote> ARGS` in-process (args: space-separated)."""
    return run("bump", "--repo-url", remote.url, *args.split(), env=env)


TOKEN = "glpat-s3cr3t-T0KEN-value"


def test_bump_commits_and_pushes_with_trailers(run, remote: Remote) -> None:
    before = remote.head()
    env = {
        "GITHUB_SERVER_URL": "https://github.example",
        "GITHUB_REPOSITORY": "acme/api",
        "GITHUB_RUN_ID": "4242",
        "GITHUB_SHA": "0123abc",
    }
    result = bump(run, remote, "--env dev --service api --tag 1.4.2 -o json", env=env)
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["commit"] == remote.head() != before
    assert data["changed"] == [
        {
            "file": OVERLAY,
            "line": 7,
            "old": "ghcr.io/acme/api:1.0.0",
            "new": "ghcr.io/acme/api:1.4.2",
        }
    ]
    original = (EXAMPLE / OVERLAY).read_text()
    assert remote.show(OVERLAY) == original.replace('"1.0.0"', '"1.4.2"')
    message = remote.log()
    assert message.splitlines()[0] == "Bump api to 1.4.2 in dev"
    trailers = dict(line.split(": ", 1) for line in message.splitlines()[2:] if ": " in line)
    assert trailers == {
        "Promoter-Service": "api",
        "Promoter-Env": "dev",
        "Promoter-From": "ghcr.io/acme/api:1.0.0",
        "Promoter-To": "ghcr.io/acme/api:1.4.2",
        "Promoter-Kind": "bump",
        "Promoter-Pipeline": "https://github.example/acme/api/actions/runs/4242",
        "Promoter-Source-Commit": "0123abc",
    }
    # git itself parses them as trailers.
    parsed = git(
        "log", "-1", "--format=%(trailers:key=Promoter-To,valueonly)", "main", cwd=remote.path
    )
    assert parsed == "ghcr.io/acme/api:1.4.2"
    # The only file in the commit is the overlay.
    assert git("show", "--name-only", "--format=", "main", cwd=remote.path) == OVERLAY


def test_bump_same_tag_again_commits_nothing(run, remote: Remote) -> None:
    args = (
        "bump",
        "--repo-url",
        remote.url,
        "--env",
        "staging",
        "--service",
        "worker",
        "--tag",
        "2.1.0",
    )
    result = run(*args)
    assert result.exit_code == 0, result.output
    assert "nothing to commit" in result.stdout
    assert remote.count() == 1


def test_bump_with_gitlab_pipeline_trailers_and_message_template(run, remote: Remote) -> None:
    result = run(
        "bump",
        "--repo-url",
        remote.url,
        "--env",
        "dev",
        "--image",
        "ghcr.io/acme/web:2.0.0",
        "--message",
        "deploy({env}): {service} {old} -> {version}",
        env={
            "CI_PIPELINE_URL": "https://gitlab.example/acme/web/-/pipelines/7",
            "CI_COMMIT_SHA": "feedbeef",
        },
    )
    assert result.exit_code == 0, result.output
    message = remote.log()
    assert message.splitlines()[0] == "deploy(dev): web ghcr.io/acme/web:0.9.0 -> 2.0.0"
    assert "Promoter-Pipeline: https://gitlab.example/acme/web/-/pipelines/7" in message
    assert "Promoter-Source-Commit: feedbeef" in message


def test_bump_to_environment_branch(run, tmp_path: Path) -> None:
    source = tmp_path / "src"
    shutil.copytree(EXAMPLE, source)
    config = source / "promoter.yaml"
    config.write_text(
        config.read_text().replace(
            "  - name: staging\n", "  - name: staging\n    branch: env/staging\n"
        )
    )
    remote = make_remote(tmp_path, source)
    seed = tmp_path / "seed"
    git("clone", "--quiet", remote.url, str(seed), cwd=tmp_path)
    git("push", "--quiet", "origin", "main:env/staging", cwd=seed)
    result = run(
        "bump", "--repo-url", remote.url, "--env", "staging", "--service", "api", "--tag", "3.0"
    )
    assert result.exit_code == 0, result.output
    assert 'newTag: "3.0"' in remote.show(
        "apps/api/overlays/staging/kustomization.yaml", "env/staging"
    )
    assert remote.count("main") == 1  # main untouched


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--tag", "bad tag"], "invalid image tag"),
        (["--tag", "1", "--message", ""], "empty subject"),
        (["--tag", "1", "--message", "deploy\nPromoter-Env: prod"], "single line"),
        (["--tag", "1", "--message", "{tag.real}"], "unknown placeholder {tag.real}"),
        (["--tag", "1", "--message", "{nope}"], "unknown placeholder {nope}"),
        (["--tag", "1", "--message", "{"], "bad template"),
        (["--tag", "1", "--branch", "a..b"], "--branch"),
        (["--tag", "1", "--branch", "main:refs/heads/x"], "--branch"),
    ],
)
def test_bump_bad_input_fails_before_any_network(run, args, message) -> None:
    # The URL does not exist: exit 2 rather than 3 proves nothing was fetched.
    result = run(
        "bump",
        "--repo-url",
        "file:///nonexistent/repo.git",
        "--env",
        "dev",
        "--service",
        "api",
        *args,
    )
    assert result.exit_code == 2, result.output
    assert message in result.stderr


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--env", "qa", "--service", "api", "--tag", "1"], "unknown environment 'qa'"),
        (["--env", "dev", "--service", "nope", "--tag", "1"], "unknown service 'nope'"),
    ],
)
def test_bump_unknown_names_push_nothing(run, remote: Remote, args, message) -> None:
    result = run("bump", "--repo-url", remote.url, *args)
    assert result.exit_code == 2
    assert message in result.stderr
    assert remote.count() == 1


def test_bump_unreachable_remote_is_a_git_error(run, tmp_path: Path) -> None:
    result = run(
        "bump",
        "--repo-url",
        (tmp_path / "missing.git").as_uri(),
        "--env",
        "dev",
        "--service",
        "api",
        "--tag",
        "1",
    )
    assert result.exit_code == 3
    assert "cloning file://" in result.stderr and "hint: check the repository URL" in result.stderr


def test_sparse_clone_fetches_only_the_needed_blobs(remote: Remote, tmp_path: Path) -> None:
    repo = GitRepo.clone(
        remote.url,
        tmp_path / "w",
        branch=None,
        sparse=["/promoter.yaml", "/apps/api/overlays/dev"],
        env={},
    )
    files = sorted(
        p.relative_to(tmp_path / "w").as_posix()
        for p in (tmp_path / "w").rglob("*")
        if p.is_file() and ".git" not in p.parts
    )
    assert files == ["apps/api/overlays/dev/kustomization.yaml", "promoter.yaml"]
    missing = [
        line
        for line in repo.out("rev-list", "--objects", "--all", "--missing=print").splitlines()
        if line.startswith("?")
    ]
    assert missing, "blob:none filter was not applied: every blob was downloaded"
    assert repo.out("rev-list", "--count", "HEAD") == "1"  # shallow


# --- token over smart HTTP ------------------------------------------------------------


@pytest.fixture
def http_remote(tmp_path: Path):
    (tmp_path / "srv").mkdir()
    make_remote(tmp_path / "srv", EXAMPLE)
    with GitHttpServer(tmp_path / "srv", "x-access-token", TOKEN) as server:
        yield server


def test_bump_over_http_with_token_never_leaks_it(
    http_remote: GitHttpServer, tmp_path: Path
) -> None:
    url = f"{http_remote.url}/env.git"
    proc = run_process(
        "bump",
        "--repo-url",
        url,
        "--env",
        "dev",
        "--service",
        "api",
        "--tag",
        "5.0.0",
        env={"PROMOTER_GIT_TOKEN": TOKEN, "GIT_TRACE": "0"},
    )
    assert proc.returncode == 0, proc.stderr
    assert TOKEN not in proc.stdout + proc.stderr
    bare = Remote(tmp_path / "srv" / "env.git")
    assert 'newTag: "5.0.0"' in bare.show(OVERLAY)
    assert TOKEN not in bare.log("%B", 5)
    assert any(h.startswith("Basic ") for h in http_remote.auth_headers)


def test_token_stays_out_of_git_config(http_remote: GitHttpServer, tmp_path: Path) -> None:
    url = f"{http_remote.url}/env.git"
    env = auth_environment(url, {"GITHUB_TOKEN": TOKEN})
    repo = GitRepo.clone(url, tmp_path / "w", branch=None, sparse=["/promoter.yaml"], env=env)
    config = (tmp_path / "w" / ".git" / "config").read_text()
    assert TOKEN not in config and "extraHeader" not in config
    assert repo.out("remote", "get-url", "origin") == url


def test_wrong_token_is_a_masked_git_error(http_remote: GitHttpServer) -> None:
    wrong = "ghp_wrongTOKENvalue123"
    proc = run_process(
        "bump",
        "--repo-url",
        f"{http_remote.url}/env.git",
        "--env",
        "dev",
        "--service",
        "api",
        "--tag",
        "5.0.0",
        env={"GITHUB_TOKEN": wrong},
    )
    assert proc.returncode == 3, proc.stderr
    assert wrong not in proc.stdout + proc.stderr
    assert "token" in proc.stderr.lower()


def test_credentials_in_url_are_moved_to_a_header_and_masked(http_remote: GitHttpServer) -> None:
    url = f"{http_remote.url}/env.git".replace("http://", f"http://x-access-token:{TOKEN}@")
    proc = run_process(
        "bump", "--repo-url", url, "--env", "dev", "--service", "api", "--tag", "6.0.0"
    )
    assert proc.returncode == 0, proc.stderr
    assert TOKEN not in proc.stdout + proc.stderr


# --- races and rejections ---------------------------------------------------------------


def _race_once(monkeypatch: pytest.MonkeyPatch, remote: Remote, tmp_path: Path, times: int) -> None:
    """Make another pipeline push to the remote right before each of our
    first `times` commits, so our push is rejected as a real race would be."""
    other = tmp_path / "other"
    git("clone", "--quiet", remote.url, str(other), cwd=tmp_path)
    real_commit = GitRepo.commit
    state = {"n": 0}

    def racing_commit(self: GitRepo, paths, message, author):  # type: ignore[no-untyped-def]
        if state["n"] < times:
            state["n"] += 1
            path = other / "apps/web/overlays/prod-us/deployment.yaml"
            path.write_text(path.read_text() + f"# touched {state['n']}\n")
            git("commit", "--quiet", "-am", f"other pipeline {state['n']}", cwd=other)
            git("push", "--quiet", "origin", "main", cwd=other)
        return real_commit(self, paths, message, author)

    monkeypatch.setattr(GitRepo, "commit", racing_commit)


def test_rejected_push_is_reapplied_on_the_new_tip(run, remote, tmp_path, monkeypatch) -> None:
    _race_once(monkeypatch, remote, tmp_path, times=2)
    result = bump(run, remote, "--env dev --service api --tag 7.0.0 -o json")
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["attempts"] == 3
    assert remote.count() == 4  # seed, two other pipelines, ours: nothing lost
    assert git("log", "--format=%s", "-2", "main", cwd=remote.path).splitlines() == [
        "Bump api to 7.0.0 in dev",
        "other pipeline 2",
    ]
    assert "# touched 2" in remote.show("apps/web/overlays/prod-us/deployment.yaml")


def test_retries_exhausted_is_exit_4_and_pushes_nothing(run, remote, tmp_path, monkeypatch) -> None:
    _race_once(monkeypatch, remote, tmp_path, times=3)
    result = bump(run, remote, "--env dev --service api --tag 7.0.0 --retries 2")
    assert result.exit_code == 4, result.output
    assert "gave up after 3 attempts" in result.stderr
    assert "Bump api" not in remote.log("%s", 10)


def test_stale_lock_on_the_server_is_not_mistaken_for_a_race(run, remote: Remote) -> None:
    (remote.path / "refs" / "heads" / "main.lock").write_text("")
    result = bump(run, remote, "--env dev --service api --tag 7.0.0 --retries 5 -o json")
    assert result.exit_code == 3, result.output
    assert "main.lock" in result.stderr
    assert "rejected 4 times although the branch did not move" in result.stderr


def test_hook_rejection_mentioning_fast_forward_is_not_retried(run, remote: Remote) -> None:
    hook = remote.path / "hooks" / "pre-receive"
    hook.write_text(
        "#!/bin/sh\necho 'policy: non-fast-forward pushes are audited; denied' >&2\nexit 1\n"
    )
    hook.chmod(0o755)
    result = bump(run, remote, "--env dev --service api --tag 7.0.0 --retries 5")
    assert result.exit_code == 3, result.output
    assert "pre-receive hook declined" in result.stderr


def test_missing_environment_branch_is_a_git_error_with_a_hint(run, tmp_path: Path) -> None:
    source = tmp_path / "src"
    shutil.copytree(EXAMPLE, source)
    config = source / "promoter.yaml"
    config.write_text(
        config.read_text().replace(
            "  - name: staging\n", "  - name: staging\n    branch: env/staging\n"
        )
    )
    remote = make_remote(tmp_path, source)
    result = run(
        "bump", "--repo-url", remote.url, "--env", "staging", "--service", "api", "--tag", "3.0"
    )
    assert result.exit_code == 3
    assert "env/staging" in result.stderr and "hint: check --branch" in result.stderr


def test_sparse_directory_pattern_leaves_subdirectories_out(remote: Remote, tmp_path: Path) -> None:
    seed = tmp_path / "seed2"
    git("clone", "--quiet", remote.url, str(seed), cwd=tmp_path)
    (seed / "apps/api/overlays/dev/big").mkdir()
    (seed / "apps/api/overlays/dev/big/blob.yaml").write_text("x: 1\n" * 1000)
    git("add", "-A", cwd=seed)
    git("commit", "--quiet", "-m", "subdir", cwd=seed)
    git("push", "--quiet", "origin", "main", cwd=seed)
    repo = GitRepo.clone(remote.url, tmp_path / "w", branch=None, sparse=["/promoter.yaml"], env={})
    repo.checkout_only(["promoter.yaml", "apps/api/overlays/dev"])
    work = tmp_path / "w"
    assert (work / "apps/api/overlays/dev/kustomization.yaml").is_file()
    assert not (work / "apps/api/overlays/dev/big").exists()
    repo.checkout_only(["promoter.yaml", "deploy/dev/worker-values.yaml"])
    assert (work / "deploy/dev/worker-values.yaml").is_file()
    assert not (work / "deploy/eu").exists()


def test_curl_trace_never_contains_the_token(http_remote: GitHttpServer, tmp_path: Path) -> None:
    trace = tmp_path / "curl.trace"
    proc = run_process(
        "bump",
        "--repo-url",
        f"{http_remote.url}/env.git",
        "--env",
        "dev",
        "--service",
        "api",
        "--tag",
        "8.0.0",
        env={"GITHUB_TOKEN": TOKEN, "GIT_TRACE_CURL": str(trace), "GIT_TRACE_REDACT": "0"},
    )
    assert proc.returncode == 0, proc.stderr
    text = trace.read_text()
    assert "Authorization: Basic <redacted>" in text
    assert TOKEN not in text
    assert base64.b64encode(f"x-access-token:{TOKEN}".encode()).decode() not in text


@pytest.mark.parametrize("password", ["sec/ret99", "p@ss@word", "a:b:c"])
def test_odd_passwords_in_url_never_print(password: str) -> None:
    proc = run_process(
        "bump",
        "--repo-url",
        f"https://x:{password}@127.0.0.1:9/env.git",
        "--env",
        "dev",
        "--service",
        "api",
        "--tag",
        "1",
    )
    assert proc.returncode == 3
    assert password not in proc.stdout + proc.stderr
    assert "https://127.0.0.1:9/env.git" in proc.stderr
