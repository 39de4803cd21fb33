"""plan / promote / rollback / history end to end: a real bare remote for git,
the stateful GitHub and GitLab fakes (tests/fakeforge.py) for the APIs."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest

import promoter.adapters.forges.session
from promoter.core.pr_records import read_record
from tests.conftest import EXAMPLE, GIT_ENV, Remote, git, make_remote
from tests.fakeforge import SleepRecorder, github_fake, gitlab_fake

TOKEN = "ghp_promoteTOKEN123"
PIPELINE = {
    "GITHUB_SERVER_URL": "https://github.com",
    "GITHUB_REPOSITORY": "acme/api",
    "GITHUB_RUN_ID": "77",
    "GITHUB_SHA": "a1b2c3d4e5f6",
}


def _remote(tmp_path: Path, forge: str) -> Remote:
    source = tmp_path / "src"
    shutil.copytree(EXAMPLE, source)
    config = source / "promoter.yaml"
    text = config.read_text()
    text = text.replace("defaults:\n", f"{forge}\ndefaults:\n") if forge else text
    text = text.replace(
        "  - name: prod-eu\n    from: staging\n",
        "  - name: prod-eu\n    from: staging\n    reviewers: [alice]\n    labels: [prod]\n",
    )
    config.write_text(text)
    return make_remote(tmp_path, source)


@pytest.fixture
def no_sleep(monkeypatch: pytest.MonkeyPatch) -> SleepRecorder:
    recorder = SleepRecorder()
    monkeypatch.setattr(promoter.adapters.forges.session, "sleep", recorder)
    return recorder


def _bump(run, remote: Remote, service: str, tag: str, env: str = "dev") -> None:
    result = run(
        "bump",
        "--repo-url",
        remote.url,
        "--env",
        env,
        "--service",
        service,
        "--tag",
        tag,
        env=PIPELINE,
    )
    assert result.exit_code == 0, result.output


def _promote(run, remote: Remote, *args: str) -> list[dict]:
    result = run(
        "promote",
        "--repo-url",
        remote.url,
        *args,
        "-o",
        "json",
        env={"GITHUB_TOKEN": TOKEN, "GITLAB_TOKEN": TOKEN},
    )
    assert result.exit_code == 0, result.output
    assert TOKEN not in result.output
    return json.loads(result.stdout)


def _merge(remote: Remote, tmp_path: Path, branch: str, into: str = "main") -> None:
    """Merge a promotion branch as the forge would (a real merge commit)."""
    work = tmp_path / f"merge-{branch.replace('/', '-')}"
    if work.exists():
        shutil.rmtree(work)
    git("clone", "--quiet", remote.url, str(work), cwd=tmp_path)
    git("merge", "--quiet", "--no-ff", "-m", f"Merge {branch}", f"origin/{branch}", cwd=work)
    git("push", "--quiet", "origin", f"HEAD:{into}", cwd=work)


# --- plan -------------------------------------------------------------------------------


def test_plan_lists_what_differs(run, tmp_path: Path) -> None:
    remote = _remote(tmp_path, "")
    _bump(run, remote, "api", "1.4.2")
    clone = tmp_path / "clone"
    git("clone", "--quiet", remote.url, str(clone), cwd=tmp_path)
    result = run("plan", "--repo", str(clone), "--from", "dev", "--to", "staging", "-o", "json")
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout) == [
        {
            "service": "api",
            "from": {"tag": "1.0.0", "digest": None},
            "to": {"tag": "1.4.2", "digest": None},
            "files": ["apps/api/overlays/staging/kustomization.yaml"],
            "source": "dev",
            "target": "staging",
            "carried": [],
        }
    ]
    nothing = run(
        "plan", "--repo", str(clone), "--from", "staging", "--to", "prod-eu", "-o", "json"
    )
    assert json.loads(nothing.stdout) == []


def test_status_reads_each_environments_branch_from_the_remote(run, tmp_path) -> None:
    """`status --repo-url` shows what the remote has, not a stale clone, and
    reads an environment kept on its own branch from that branch."""
    remote = _remote(tmp_path, "")
    work = tmp_path / "work"
    git("clone", "--quiet", remote.url, str(work), cwd=tmp_path)
    config = work / "promoter.yaml"
    config.write_text(
        config.read_text().replace(
            "  - name: prod-us\n    from: staging\n",
            "  - name: prod-us\n    from: staging\n    branch: prod-us\n",
        )
    )
    git("commit", "--quiet", "-am", "prod-us has its own branch", cwd=work)
    git("push", "--quiet", "origin", "main", cwd=work)
    git("push", "--quiet", "origin", "main:prod-us", cwd=work)
    _bump(run, remote, "api", "1.4.2")  # on main only; the clone is stale now
    _bump(run, remote, "api", "7.0.0", env="prod-us")  # on the prod-us branch only

    stale = json.loads(run("status", "--repo", str(work), "-o", "json").stdout)
    assert stale["services"]["api"]["dev"]["tag"] == "1.0.0"
    result = run("status", "--repo-url", remote.url, "-o", "json")
    assert result.exit_code == 0, result.output
    api = json.loads(result.stdout)["services"]["api"]
    assert (api["dev"]["tag"], api["prod-us"]["tag"]) == ("1.4.2", "7.0.0")
    main, prod = remote.head("main"), remote.head("prod-us")
    assert f"dev from main at {main[:12]}" in result.stderr
    assert f"prod-us from prod-us at {prod[:12]}" in result.stderr
    table = run("status", "--repo-url", remote.url).stdout.splitlines()
    assert table[1].split() == ["api", "1.4.2", "1.0.0", "1.0.0", "7.0.0"]


def test_plan_refuses_a_hop_the_graph_does_not_have(run, remote: Remote) -> None:
    result = run("plan", "--repo-url", remote.url, "--from", "dev", "--to", "prod-eu")
    assert result.exit_code == 2
    assert "'prod-eu' is promoted from 'staging', not from 'dev'" in result.stderr


def test_plan_is_the_dry_run_of_promote_even_on_a_stale_dirty_clone(run, tmp_path) -> None:
    remote = _remote(tmp_path, "")
    clone = tmp_path / "clone"
    git("clone", "--quiet", remote.url, str(clone), cwd=tmp_path)
    _bump(run, remote, "api", "1.4.2")  # the clone does not have it
    overlay = clone / "apps/web/overlays/dev/deployment.yaml"
    overlay.write_text(overlay.read_text().replace("web:", "web:9.9.9-local #", 1))
    planned = run("plan", "--repo", str(clone), "--from", "dev", "--to", "staging", "-o", "json")
    assert planned.exit_code == 0, planned.output
    items = json.loads(planned.stdout)
    assert [(i["service"], i["to"]["tag"]) for i in items] == [("api", "1.4.2")]
    tip = git("rev-parse", "main", cwd=remote.path)
    assert f"dev from main at {tip[:12]}" in planned.stderr
    assert f"staging from main at {tip[:12]}" in planned.stderr
    assert "uncommitted changes" in planned.stderr
    (promoted,) = _promote(
        run, remote, "--from", "dev", "--to", "staging", "--all", "--forge", "none"
    )
    assert [i["service"] for i in promoted["items"]] == [i["service"] for i in items]
    assert [i["to"] for i in promoted["items"]] == [i["to"] for i in items]
    # A plain git remote has no pull request: null, not a PR numbered 0.
    assert promoted["pull_request"] is None
    assert promoted["commit"] == remote.head(promoted["branch"])


def test_promote_names_the_versions_it_proposed(run, tmp_path) -> None:
    remote = _remote(tmp_path, "")
    _bump(run, remote, "api", "1.4.2")
    result = run(
        "promote",
        "--repo-url",
        remote.url,
        "--from",
        "dev",
        "--to",
        "staging",
        "--service",
        "api",
        "--forge",
        "none",
    )
    assert result.exit_code == 0, result.output
    assert "staging: pushed promoter/staging/api (api 1.0.0 → 1.4.2)" in result.stdout


def test_plan_reads_branch_per_env_layouts(run, tmp_path: Path) -> None:
    source = tmp_path / "src"
    shutil.copytree(EXAMPLE, source)
    config = source / "promoter.yaml"
    config.write_text(
        config.read_text().replace(
            "  - name: staging\n", "  - name: staging\n    branch: env/staging\n"
        )
    )
    remote = make_remote(tmp_path, source)
    clone = tmp_path / "clone"
    git("clone", "--quiet", remote.url, str(clone), cwd=tmp_path)
    git("push", "--quiet", "origin", "main:env/staging", cwd=clone)
    _bump(run, remote, "web", "2.0.0")
    git("pull", "--quiet", cwd=clone)
    result = run("plan", "--repo", str(clone), "--from", "dev", "--to", "staging", "-o", "json")
    assert [(i["service"], i["to"]["tag"]) for i in json.loads(result.stdout)] == [("web", "2.0.0")]


# --- promote with no forge ---------------------------------------------------------------


def test_promote_without_forge_pushes_a_branch_and_says_what_to_merge(run, tmp_path) -> None:
    remote = _remote(tmp_path, "")
    _bump(run, remote, "api", "1.4.2")
    (result,) = _promote(
        run, remote, "--from", "dev", "--to", "staging", "--service", "api", "--forge", "none"
    )
    assert result["branch"] == "promoter/staging/api"
    assert result["pushed"] is True
    assert any("promoter/staging/api" in a and "main" in a for a in result["actions"])
    overlay = remote.show("apps/api/overlays/staging/kustomization.yaml", "promoter/staging/api")
    assert 'newTag: "1.4.2"' in overlay
    message = git("log", "-1", "--format=%B", "promoter/staging/api", cwd=remote.path)
    assert "Promoter-Kind: promotion" in message and "Promoter-Source-Env: dev" in message
    # The build pipeline behind 1.4.2 travels with it from dev's history.
    assert "Promoter-Pipeline: https://github.com/acme/api/actions/runs/77" in message
    assert remote.count() == 2  # main untouched: seed + the bump
    again = _promote(
        run, remote, "--from", "dev", "--to", "staging", "--service", "api", "--forge", "none"
    )
    assert again[0]["pushed"] is False  # same content: no push


def test_the_merge_hint_works_as_written_in_a_users_own_clone(run, tmp_path) -> None:
    remote = _remote(tmp_path, "")
    mine = tmp_path / "mine"
    git("clone", "--quiet", remote.url, str(mine), cwd=tmp_path)  # cloned before the promotion
    _bump(run, remote, "api", "1.4.2")
    (result,) = _promote(
        run, remote, "--from", "dev", "--to", "staging", "--service", "api", "--forge", "none"
    )
    (hint,) = [a for a in result["actions"] if "merge" in a]
    command = hint[hint.index("(") + 1 : hint.rindex(")")]
    done = subprocess.run(
        ["bash", "-c", command],
        cwd=mine,
        env={**os.environ, **GIT_ENV},
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0, f"{command}\n{done.stderr}"
    overlay = remote.show("apps/api/overlays/staging/kustomization.yaml", "main")
    assert 'newTag: "1.4.2"' in overlay


def test_promote_needs_services_or_all(run, tmp_path) -> None:
    remote = _remote(tmp_path, "")
    result = run(
        "promote", "--repo-url", remote.url, "--from", "dev", "--to", "staging", "--forge", "none"
    )
    assert result.exit_code == 2
    assert "--service" in result.stderr and "--all" in result.stderr


def test_nothing_to_promote(run, tmp_path) -> None:
    remote = _remote(tmp_path, "")
    (result,) = _promote(
        run, remote, "--from", "dev", "--to", "staging", "--all", "--forge", "none"
    )
    assert result["items"] == [] and result["pull_request"] is None
    assert git("branch", "--list", "promoter/*", cwd=remote.path) == ""


# --- GitHub -------------------------------------------------------------------------------

GITHUB = "forge:\n  type: github\n  repository: acme/env"


def test_github_opens_then_updates_one_pr(run, tmp_path, no_sleep) -> None:
    remote = _remote(tmp_path, GITHUB)
    _bump(run, remote, "api", "1.4.2")
    with github_fake(repo="acme/env", token=TOKEN) as gh:
        (first,) = _promote(run, remote, "--from", "dev", "--to", "staging", "--service", "api")
        assert first["created"] is True
        (pr,) = gh.open_pulls("main")
        assert pr["title"] == "Promote api 1.4.2 → staging"
        assert pr["head"]["ref"] == "promoter/staging/api"
        assert [label["name"] for label in pr["labels"]] == ["promoter", "env:staging"]
        assert "| api | dev | 1.0.0 | 1.4.2 | - |" in pr["body"]
        assert "[pipeline](https://github.com/acme/api/actions/runs/77)" in pr["body"]
        record = read_record(pr["body"])
        assert record is not None and dict(record.services) == {"api": "ghcr.io/acme/api:1.4.2"}

        gh.reset_log()
        (same,) = _promote(run, remote, "--from", "dev", "--to", "staging", "--service", "api")
        assert (same["created"], same["updated"], same["pushed"]) == (False, False, False)
        assert gh.request_count == 1  # the list; nothing to change

        _bump(run, remote, "api", "1.4.3")  # dev moves on while the PR is open
        (newer,) = _promote(run, remote, "--from", "dev", "--to", "staging", "--service", "api")
        assert newer["updated"] is True and newer["pushed"] is True
        (pr,) = gh.open_pulls("main")  # still one PR
        assert pr["title"] == "Promote api 1.4.3 → staging"
        assert "- api ghcr.io/acme/api:1.4.2" in pr["body"]  # the superseded version
        overlay = remote.show(
            "apps/api/overlays/staging/kustomization.yaml", "promoter/staging/api"
        )
        assert 'newTag: "1.4.3"' in overlay


def test_github_competing_prs_are_folded_into_one(run, tmp_path, no_sleep) -> None:
    remote = _remote(tmp_path, GITHUB)
    _bump(run, remote, "api", "1.4.2")
    _bump(run, remote, "web", "2.0.0")
    with github_fake(repo="acme/env", token=TOKEN) as gh:
        _promote(run, remote, "--from", "dev", "--to", "staging", "--service", "web")
        _promote(run, remote, "--from", "dev", "--to", "staging", "--service", "api")
        # Different services: two PRs is fine, neither competes with the other.
        assert len(gh.open_pulls("main")) == 2
        web_pr = next(p for p in gh.open_pulls("main") if p["head"]["ref"].endswith("/web"))
        api_pr = next(p for p in gh.open_pulls("main") if p["head"]["ref"].endswith("/api"))
        (result,) = _promote(run, remote, "--from", "dev", "--to", "staging", "--all")
        # --all covers api and web: the new PR carries both, the old ones close.
        assert result["branch"] == "promoter/staging/api+web"
        assert sorted(result["closed"]) == sorted([web_pr["number"], api_pr["number"]])
        (pr,) = gh.open_pulls("main")
        assert {i["service"] for i in result["items"]} == {"api", "web"}
        assert f"#{web_pr['number']} (web)" in pr["body"]
        assert "Superseded by" in gh.comments[web_pr["number"]][0]["body"]
        # Promoting api alone now folds into the open api+web PR instead of
        # opening a competing one.
        (again,) = _promote(run, remote, "--from", "dev", "--to", "staging", "--service", "api")
        assert again["branch"] == "promoter/staging/api+web"
        assert again["closed"] == [] and len(gh.open_pulls("main")) == 1


def test_github_fan_out_with_reviewers_and_labels(run, tmp_path, no_sleep) -> None:
    remote = _remote(tmp_path, GITHUB)
    _bump(run, remote, "api", "1.4.2")
    with github_fake(repo="acme/env", token=TOKEN, collaborators={"alice"}) as gh:
        _promote(run, remote, "--from", "dev", "--to", "staging", "--service", "api")
        (pr,) = gh.open_pulls("main")
        gh.merge(pr["number"])
        _merge(remote, tmp_path, "promoter/staging/api")
        results = _promote(
            run,
            remote,
            "--from",
            "staging",
            "--to",
            "prod-eu",
            "--to",
            "prod-us",
            "--service",
            "api",
        )
        assert [r["branch"] for r in results] == ["promoter/prod-eu/api", "promoter/prod-us/api"]
        prs = {p["head"]["ref"]: p for p in gh.open_pulls("main")}
        assert set(prs) == {"promoter/prod-eu/api", "promoter/prod-us/api"}
        eu = prs["promoter/prod-eu/api"]
        assert [label["name"] for label in eu["labels"]] == ["promoter", "env:prod-eu", "prod"]
        assert [u["login"] for u in eu["requested_reviewers"]] == ["alice"]


def test_github_rate_limit_is_waited_out(run, tmp_path, no_sleep) -> None:
    remote = _remote(tmp_path, GITHUB)
    _bump(run, remote, "api", "1.4.2")
    with github_fake(repo="acme/env", token=TOKEN) as gh:
        gh.fail(
            403,
            {"message": "API rate limit exceeded"},
            times=1,
            headers={"X-RateLimit-Remaining": "0", "X-RateLimit-Reset": "0", "Retry-After": "3"},
        )
        (result,) = _promote(run, remote, "--from", "dev", "--to", "staging", "--service", "api")
        assert result["created"] is True
        assert len(gh.open_pulls("main")) == 1
    assert no_sleep.waits and no_sleep.waits[0] >= 3


def test_github_bad_token_is_exit_6_and_masked(run, tmp_path, no_sleep) -> None:
    remote = _remote(tmp_path, GITHUB)
    _bump(run, remote, "api", "1.4.2")
    with github_fake(repo="acme/env", token=TOKEN):
        result = run(
            "promote",
            "--repo-url",
            remote.url,
            "--from",
            "dev",
            "--to",
            "staging",
            "--service",
            "api",
            env={"GITHUB_TOKEN": "ghp_wrongWRONGwrong"},
        )
    assert result.exit_code == 6, result.output
    assert "ghp_wrongWRONGwrong" not in result.output
    assert "token" in result.stderr.lower()


def test_rollback_opens_a_labelled_pr_to_the_previous_version(run, tmp_path, no_sleep) -> None:
    remote = _remote(tmp_path, GITHUB)
    _bump(run, remote, "api", "1.4.2")
    with github_fake(repo="acme/env", token=TOKEN) as gh:
        _promote(run, remote, "--from", "dev", "--to", "staging", "--service", "api")
        gh.merge(gh.open_pulls("main")[0]["number"])
        _merge(remote, tmp_path, "promoter/staging/api")
        result = run(
            "rollback",
            "--repo-url",
            remote.url,
            "--env",
            "staging",
            "--service",
            "api",
            "-o",
            "json",
            env={"GITHUB_TOKEN": TOKEN},
        )
        assert result.exit_code == 0, result.output
        data = json.loads(result.stdout)
        assert data["branch"] == "promoter/staging/rollback-api"
        (pr,) = gh.open_pulls("main")
        assert pr["title"] == "Roll back api to 1.0.0 in staging"
        assert "rollback" in [label["name"] for label in pr["labels"]]
        overlay = remote.show(
            "apps/api/overlays/staging/kustomization.yaml", "promoter/staging/rollback-api"
        )
        assert 'newTag: "1.0.0"' in overlay


def test_rollback_to_a_version_never_deployed_is_refused(run, tmp_path) -> None:
    remote = _remote(tmp_path, GITHUB)
    _bump(run, remote, "api", "1.4.2")
    result = run(
        "rollback",
        "--repo-url",
        remote.url,
        "--env",
        "dev",
        "--service",
        "api",
        "--to",
        "0.0.1",
        env={"GITHUB_TOKEN": TOKEN},
    )
    assert result.exit_code == 2
    assert "never ran '0.0.1' in dev" in result.stderr and "1.4.2" in result.stderr


# --- GitLab -------------------------------------------------------------------------------

GITLAB = "forge:\n  type: gitlab\n  repository: acme/platform/env"


def test_gitlab_opens_then_leaves_alone_one_mr(run, tmp_path, no_sleep) -> None:
    remote = _remote(tmp_path, GITLAB)
    _bump(run, remote, "worker", "2.2.0")
    with gitlab_fake(project="acme/platform/env", token=TOKEN) as gl:
        (first,) = _promote(run, remote, "--from", "dev", "--to", "staging", "--service", "worker")
        assert first["created"] is True
        (mr,) = gl.open_mrs("main")
        assert mr["title"] == "Promote worker 2.2.0 → staging"
        assert mr["source_branch"] == "promoter/staging/worker"
        assert mr["labels"] == ["promoter", "env:staging"]
        gl.reset_log()
        (same,) = _promote(run, remote, "--from", "dev", "--to", "staging", "--service", "worker")
        assert (same["created"], same["updated"]) == (False, False)
        assert gl.request_count == 1


# --- history ------------------------------------------------------------------------------


def test_history_reads_bumps_and_promotions(run, tmp_path, no_sleep) -> None:
    remote = _remote(tmp_path, "")
    _bump(run, remote, "api", "1.4.2")
    _promote(run, remote, "--from", "dev", "--to", "staging", "--service", "api", "--forge", "none")
    _merge(remote, tmp_path, "promoter/staging/api")
    result = run("history", "--repo-url", remote.url, "--env", "staging", "-o", "json")
    assert result.exit_code == 0, result.output
    (entry,) = json.loads(result.stdout)
    assert entry["service"] == "api" and entry["kind"] == "promotion"
    assert entry["from"] == "ghcr.io/acme/api:1.0.0" and entry["to"] == "ghcr.io/acme/api:1.4.2"
    assert entry["source_env"] == "dev"
    assert entry["pipeline"] == "https://github.com/acme/api/actions/runs/77"
    dev = json.loads(
        run(
            "history", "--repo-url", remote.url, "--env", "dev", "--service", "api", "-o", "json"
        ).stdout
    )
    assert [(d["kind"], d["to"]) for d in dev] == [("bump", "ghcr.io/acme/api:1.4.2")]


# --- environment modes and half-done runs ---------------------------------------------------


def test_bump_into_a_pull_request_environment_opens_a_pr(run, tmp_path, no_sleep) -> None:
    remote = _remote(tmp_path, GITHUB)
    config = remote.show("promoter.yaml").replace(
        "  - name: staging\n    from: dev\n",
        "  - name: staging\n    from: dev\n    mode: pull-request\n",
    )
    work = tmp_path / "cfg"
    git("clone", "--quiet", remote.url, str(work), cwd=tmp_path)
    (work / "promoter.yaml").write_text(config)
    git("commit", "--quiet", "-am", "staging takes PRs", cwd=work)
    git("push", "--quiet", "origin", "main", cwd=work)
    before = remote.count()
    with github_fake(repo="acme/env", token=TOKEN) as gh:
        result = run(
            "bump",
            "--repo-url",
            remote.url,
            "--env",
            "staging",
            "--service",
            "api",
            "--tag",
            "9.0.0",
            "-o",
            "json",
            env={"GITHUB_TOKEN": TOKEN},
        )
        assert result.exit_code == 0, result.output
        data = json.loads(result.stdout)
        assert data["pull_request"]["branch"] == "promoter/staging/api"
        # What was pushed where: the PR's branch and commit, the line changed.
        assert data["branch"] == "promoter/staging/api"
        assert data["commit"] == remote.head("promoter/staging/api")
        assert data["pull_request"]["commit"] == data["commit"]
        ((change,),) = [data["changed"]]
        assert change["file"] == "apps/api/overlays/staging/kustomization.yaml"
        lines = remote.show(change["file"], "promoter/staging/api").splitlines()
        assert lines[change["line"] - 1].strip().startswith('newTag: "9.0.0"')
        (pr,) = gh.open_pulls("main")
        assert pr["title"] == "Bump api to 9.0.0 in staging"
        # A promotion of the same service to the same environment reuses that PR.
        _bump(run, remote, "api", "9.1.0")
        (promoted,) = _promote(run, remote, "--from", "dev", "--to", "staging", "--service", "api")
        assert promoted["branch"] == "promoter/staging/api" and promoted["updated"] is True
        assert len(gh.open_pulls("main")) == 1
    assert remote.count() == before + 1  # only the dev bump reached main
    bumped = remote.show("apps/api/overlays/staging/kustomization.yaml", "promoter/staging/api")
    assert 'newTag: "9.1.0"' in bumped


def test_branch_pushed_without_a_pr_is_reused(run, tmp_path, no_sleep) -> None:
    remote = _remote(tmp_path, GITHUB)
    _bump(run, remote, "api", "1.4.2")
    with github_fake(repo="acme/env", token=TOKEN) as gh:
        gh.fail(502, {"message": "Server Error"}, times=5, method="POST")  # every retry
        failed = run(
            "promote",
            "--repo-url",
            remote.url,
            "--from",
            "dev",
            "--to",
            "staging",
            "--service",
            "api",
            env={"GITHUB_TOKEN": TOKEN},
        )
        assert failed.exit_code == 6, failed.output
        assert gh.open_pulls("main") == []
        pushed = remote.head("promoter/staging/api")
        (result,) = _promote(run, remote, "--from", "dev", "--to", "staging", "--service", "api")
        assert result["created"] is True and result["pushed"] is False
        assert remote.head("promoter/staging/api") == pushed
        assert len(gh.open_pulls("main")) == 1


def test_history_from_a_local_clone(run, tmp_path) -> None:
    remote = _remote(tmp_path, "")
    _bump(run, remote, "web", "2.0.0")
    _bump(run, remote, "web", "2.1.0")
    clone = tmp_path / "clone"
    git("clone", "--quiet", remote.url, str(clone), cwd=tmp_path)
    result = run("history", "--repo", str(clone), "--env", "dev", "--service", "web")
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert len(lines) == 2
    assert "ghcr.io/acme/web:2.0.0 → ghcr.io/acme/web:2.1.0  bump" in lines[0]
    assert "ghcr.io/acme/web:0.9.0 → ghcr.io/acme/web:2.0.0  bump" in lines[1]
    assert "https://github.com/acme/api/actions/runs/77" in lines[0]
