"""`--dry-run` on bump, promote, rollback and check --pr: the same reads and
decisions as the real run against a real git remote and the fake forge,
then nothing written: no ref moves, no forge write, and the output says what
would have been pushed (with the patch), opened, closed, commented or set.
(The bot's dry run is in test_bot.py.)"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

import promoter.adapters.forges.session
from tests.conftest import EXAMPLE, Remote, git, make_remote
from tests.fakeforge import SleepRecorder, github_fake

TOKEN = "ghp_dryrunTOKEN123456"
ENV = {"GITHUB_TOKEN": TOKEN}
GITHUB = "forge:\n  type: github\n  repository: acme/env"


@pytest.fixture(autouse=True)
def no_sleep(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(promoter.adapters.forges.session, "sleep", SleepRecorder())


def _remote(tmp_path: Path, forge: str = "") -> Remote:
    source = tmp_path / "src"
    shutil.copytree(EXAMPLE, source)
    config = source / "promoter.yaml"
    if forge:
        config.write_text(config.read_text().replace("defaults:\n", f"{forge}\ndefaults:\n"))
    return make_remote(tmp_path, source)


def _refs(remote: Remote) -> str:
    return git("for-each-ref", "--format=%(refname) %(objectname)", cwd=remote.path)


def _bump(run, remote: Remote, *args: str) -> object:
    return run("bump", "--repo-url", remote.url, "--env", "dev", "--service", "api", *args, env=ENV)


def test_bump_dry_run_shows_the_patch_and_pushes_nothing(run, tmp_path) -> None:
    remote = _remote(tmp_path)
    before = _refs(remote)
    result = _bump(run, remote, "--tag", "1.4.2", "--dry-run")
    assert result.exit_code == 0, result.output
    assert _refs(remote) == before
    lines = result.stdout.splitlines()
    assert lines[0] == "dry run: nothing was pushed, opened or posted; promoter would:"
    assert lines[1].startswith("  push 1 commit(s) to branch main (git push --dry-run:")
    assert '    -    newTag: "1.0.0"   # bumped by promoter' in lines
    assert '    +    newTag: "1.4.2"   # bumped by promoter' in lines

    data = json.loads(_bump(run, remote, "--tag", "1.4.2", "--dry-run", "-o", "json").stdout)
    assert data["dry_run"] is True
    (push,) = data["would"]
    assert push["action"] == "push" and push["branch"] == "main"
    assert data["result"]["changed"][0]["new"] == "ghcr.io/acme/api:1.4.2"
    # The commit it shows is the one a real run makes (same tree, same message).
    real = json.loads(_bump(run, remote, "--tag", "1.4.2", "-o", "json").stdout)
    assert (
        git("show", "--format=%s", "--no-patch", real["commit"], cwd=remote.path)
        == (push["commits"][0].split(" ", 1)[1])
    )


def test_bump_dry_run_still_fails_what_the_real_run_would(run, tmp_path) -> None:
    remote = _remote(tmp_path)
    before = _refs(remote)
    result = _bump(run, remote, "--tag", "1.0;rm", "--dry-run")
    assert result.exit_code == 2
    assert _refs(remote) == before
    gone = run(
        "bump",
        "--repo-url",
        (tmp_path / "nowhere.git").as_uri(),
        "--env",
        "dev",
        "--service",
        "api",
        "--tag",
        "1.4.2",
        "--dry-run",
    )
    assert gone.exit_code == 3, gone.output


def test_promote_and_check_dry_runs_touch_neither_git_nor_the_forge(run, tmp_path) -> None:
    remote = _remote(tmp_path, GITHUB)
    assert _bump(run, remote, "--tag", "1.4.2").exit_code == 0
    promote = ("promote", "--repo-url", remote.url, "--from", "dev", "--to", "staging")
    with github_fake(repo="acme/env", token=TOKEN) as gh:
        before = _refs(remote)
        rehearsed = run(*promote, "--service", "api", "--dry-run", env=ENV)
        assert rehearsed.exit_code == 0, rehearsed.output
        assert [c for c in gh.calls if c.method != "GET"] == []
        assert _refs(remote) == before and gh.open_pulls("main") == []
        assert "push 1 commit(s) to branch promoter/staging/api" in rehearsed.stdout
        assert "open a github pull request promoter/staging/api → main:" in rehearsed.stdout
        assert TOKEN not in rehearsed.output

        opened = run(*promote, "--service", "api", "-o", "json", env=ENV)
        assert opened.exit_code == 0, opened.output
        (pr,) = gh.open_pulls("main")
        number, head = pr["number"], pr["head"]["sha"]

        gh.reset_log()
        check = ("check", "--repo-url", remote.url, "--pr", str(number))
        dry = run(*check, "--dry-run", "-o", "json", env=ENV)
        assert dry.exit_code == 0, dry.output
        assert [c for c in gh.calls if c.method != "GET"] == []
        assert gh.statuses == {} and gh.comments.get(number, []) == []
        data = json.loads(dry.stdout)
        assert data["result"]["verdict"] == "pass"
        status, sticky = data["would"]
        assert (status["action"], status["sha"], status["context"], status["state"]) == (
            "set_status",
            head,
            "promoter/policy",
            "success",
        )
        assert sticky["action"] == "upsert_comment" and sticky["number"] == number
        assert "| api | `ghcr.io/acme/api:1.0.0` | `ghcr.io/acme/api:1.4.2` |" in sticky["body"]
        text = run(*check, "--dry-run", env=ENV).stdout
        assert f"set status promoter/policy=success on {head[:12]}" in text
        assert f"write the sticky comment on #{number}" in text


def test_rollback_dry_run(run, tmp_path) -> None:
    remote = _remote(tmp_path)
    assert _bump(run, remote, "--tag", "1.4.2").exit_code == 0
    before = _refs(remote)
    result = run(
        "rollback",
        "--repo-url",
        remote.url,
        "--env",
        "dev",
        "--service",
        "api",
        "--dry-run",
        "-o",
        "json",
    )
    assert result.exit_code == 0, result.output
    assert _refs(remote) == before
    data = json.loads(result.stdout)
    push, merge = data["would"]
    assert push["branch"] == "promoter/dev/rollback-api"
    assert '+    newTag: "1.0.0"' in push["patch"]
    assert merge["action"] == "merge_by_hand"  # a plain remote: no pull request to open
    assert data["result"]["pull_request"] is None


def test_dry_run_on_a_local_check_is_refused(run, env_repo) -> None:
    result = run("check", "--repo", str(env_repo), "--from", "dev", "--to", "staging", "--dry-run")
    assert result.exit_code == 2
    assert "--dry-run is for --pr" in result.stderr
