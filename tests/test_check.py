"""promoter check: locally for a planned promotion, and on a PR (status +
sticky comment) against the stateful forge fakes."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

import promoter.adapters.forges.session
from tests.conftest import EXAMPLE, Remote, git, make_remote
from tests.fakeforge import SleepRecorder, github_fake, gitlab_fake

TOKEN = "ghp_checkTOKEN12345"
POLICIES = """    policies:
      order: {}
      no-downgrade: {}
      immutable-tags: {}
      soak: {duration: 30m}
"""


def _remote(tmp_path: Path, forge: str = "", extra: str = "") -> Remote:
    source = tmp_path / "src"
    shutil.copytree(EXAMPLE, source)
    config = source / "promoter.yaml"
    text = config.read_text().replace(
        "  - name: staging\n    from: dev\n",
        "  - name: staging\n    from: dev\n" + POLICIES + extra,
    )
    if forge:
        text = text.replace("defaults:\n", forge + "\ndefaults:\n")
    config.write_text(text)
    return make_remote(tmp_path, source)


@pytest.fixture(autouse=True)
def no_sleep(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(promoter.adapters.forges.session, "sleep", SleepRecorder())


LONG_AGO = {"GIT_COMMITTER_DATE": "2026-01-01T00:00:00Z", "GIT_AUTHOR_DATE": "2026-01-01T00:00:00Z"}


def _bump(run, remote: Remote, service: str, tag: str, *, soaked: bool = True) -> None:
    """Bump dev; `soaked` dates the commit long ago so the soak rule passes."""
    result = run(
        "bump",
        "--repo-url",
        remote.url,
        "--env",
        "dev",
        "--service",
        service,
        "--tag",
        tag,
        env=LONG_AGO if soaked else None,
    )
    assert result.exit_code == 0, result.output


def _clone(remote: Remote, tmp_path: Path) -> Path:
    clone = tmp_path / "clone"
    shutil.rmtree(clone, ignore_errors=True)
    git("clone", "--quiet", remote.url, str(clone), cwd=tmp_path)
    return clone


def test_local_check_passes_a_clean_promotion(run, tmp_path) -> None:
    remote = _remote(tmp_path)
    _bump(run, remote, "api", "1.4.2")
    result = run(
        "check",
        "--repo",
        str(_clone(remote, tmp_path)),
        "--from",
        "dev",
        "--to",
        "staging",
        "-o",
        "json",
    )
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["verdict"] == "pass"
    assert {(r["rule"], r["status"]) for r in data["results"]} >= {
        ("order", "pass"),
        ("no-downgrade", "pass"),
        ("immutable-tags", "pass"),
        ("soak", "pass"),
    }


def test_local_check_fails_a_fresh_version_on_soak(run, tmp_path) -> None:
    remote = _remote(tmp_path)
    _bump(run, remote, "api", "1.4.2", soaked=False)
    result = run(
        "check", "--repo", str(_clone(remote, tmp_path)), "--from", "dev", "--to", "staging"
    )
    assert result.exit_code == 1
    assert "❌ soak api: api 1.4.2 has been in dev for" in result.stdout
    assert "soak needs 30m" in result.stdout


@pytest.mark.parametrize(("tag", "rule"), [("0.5.0", "no-downgrade"), ("latest", "immutable-tags")])
def test_local_check_fails_with_exit_1(run, tmp_path, tag, rule) -> None:
    remote = _remote(tmp_path)
    _bump(run, remote, "api", tag)
    result = run(
        "check", "--repo", str(_clone(remote, tmp_path)), "--from", "dev", "--to", "staging"
    )
    assert result.exit_code == 1, result.output
    failing = [line for line in result.stdout.splitlines() if line.startswith("❌")]
    assert any(f"{rule} api" in line for line in failing), result.stdout
    assert result.stdout.rstrip().splitlines()[-1].startswith("fail:")


GITHUB = "forge:\n  type: github\n  repository: acme/env"
APPROVALS = "      approvals: {count: 1}\n"


def test_local_check_reports_approvals_as_not_evaluated(run, tmp_path) -> None:
    """There are no reviews to read without a PR: the local check used to
    fail forever once `approvals` was configured. Now the rule is neither a
    pass nor a failure, and the report says which."""
    remote = _remote(tmp_path, extra=APPROVALS)
    _bump(run, remote, "api", "1.4.2")
    clone = _clone(remote, tmp_path)
    hop = ("check", "--repo", str(clone), "--from", "dev", "--to", "staging")
    result = run(*hop)
    assert result.exit_code == 0, result.output
    assert "➖ approvals: not evaluated locally" in result.stdout
    assert result.stdout.rstrip().splitlines()[-1] == ("pass: all 4 checks passed, 1 not evaluated")
    data = json.loads(run(*hop, "-o", "json").stdout)
    assert data["verdict"] == "pass" and data["counts"]["skipped"] == 1
    assert ("approvals", "skipped") in {(r["rule"], r["status"]) for r in data["results"]}

    required = run(*hop, "--require-approvals")
    assert required.exit_code == 1, required.output
    assert "❌ approvals: there is no pull/merge request to read approvals from" in (
        required.stdout
    )


def test_require_approvals_is_for_a_local_check(run, env_repo) -> None:
    result = run("check", "--repo", str(env_repo), "--pr", "3", "--require-approvals")
    assert result.exit_code == 2
    assert "--require-approvals is for a local check" in result.stderr


def test_pr_check_sets_status_and_one_sticky_comment(run, tmp_path) -> None:
    remote = _remote(tmp_path, GITHUB, APPROVALS)
    _bump(run, remote, "api", "1.4.2")
    env = {"GITHUB_TOKEN": TOKEN}
    with github_fake(repo="acme/env", token=TOKEN) as gh:
        opened = run(
            "promote",
            "--repo-url",
            remote.url,
            "--from",
            "dev",
            "--to",
            "staging",
            "--service",
            "api",
            env=env,
        )
        assert opened.exit_code == 0, opened.output
        (pr,) = gh.open_pulls("main")
        number, head = pr["number"], pr["head"]["sha"]

        first = run("check", "--repo-url", remote.url, "--pr", str(number), env=env)
        assert first.exit_code == 1, first.output  # nobody approved yet
        assert gh.latest_statuses(head)["promoter/policy"]["state"] == "failure"
        (comment,) = gh.comments[number]
        assert comment["body"].startswith("<!-- promoter:sticky -->")
        assert "| api | `ghcr.io/acme/api:1.0.0` | `ghcr.io/acme/api:1.4.2` |" in comment["body"]
        assert "`approvals`" in comment["body"] and "❌" in comment["body"]
        assert "apps/Deployment//api" in comment["body"]  # the rendered diff
        assert "+      - image: ghcr.io/acme/api:1.4.2" in comment["body"]

        gh.add_review(
            number, "alice", "APPROVED", commit_id=head, submitted_at="2026-11-01T00:00:00Z"
        )
        second = run("check", "--repo-url", remote.url, "--pr", str(number), "-o", "json", env=env)
        assert second.exit_code == 0, second.output
        assert json.loads(second.stdout)["state"] == "success"
        assert gh.latest_statuses(head)["promoter/policy"]["state"] == "success"
        assert len(gh.comments[number]) == 1  # edited in place, never a second one
        assert "✅" in gh.comments[number][0]["body"]


def test_self_approval_does_not_count(run, tmp_path) -> None:
    remote = _remote(tmp_path, GITHUB, APPROVALS)
    _bump(run, remote, "api", "1.4.2")
    env = {"GITHUB_TOKEN": TOKEN}
    with github_fake(repo="acme/env", token=TOKEN) as gh:
        run(
            "promote",
            "--repo-url",
            remote.url,
            "--from",
            "dev",
            "--to",
            "staging",
            "--service",
            "api",
            env=env,
        )
        (pr,) = gh.open_pulls("main")
        author = pr["user"]["login"]
        gh.add_review(
            pr["number"],
            author,
            "APPROVED",
            commit_id=pr["head"]["sha"],
            submitted_at="2026-11-01T00:00:00Z",
        )
        result = run("check", "--repo-url", remote.url, "--pr", str(pr["number"]), env=env)
        assert result.exit_code == 1


def test_gitlab_pr_check(run, tmp_path) -> None:
    remote = _remote(tmp_path, "forge:\n  type: gitlab\n  repository: acme/env")
    _bump(run, remote, "api", "latest")
    env = {"GITLAB_TOKEN": TOKEN}
    with gitlab_fake(project="acme/env", token=TOKEN) as gl:
        run(
            "promote",
            "--repo-url",
            remote.url,
            "--from",
            "dev",
            "--to",
            "staging",
            "--service",
            "api",
            env=env,
        )
        (mr,) = gl.open_mrs("main")
        result = run("check", "--repo-url", remote.url, "--pr", str(mr["iid"]), env=env)
        assert result.exit_code == 1, result.output
        assert gl.latest_statuses(mr["sha"])["promoter/policy"]["status"] == "failed"
        (note,) = [n for n in gl.notes[mr["iid"]] if not n.get("system")]
        assert "immutable-tags" in note["body"]


def test_check_needs_a_pr_or_a_hop(run, env_repo) -> None:
    result = run("check", "--repo", str(env_repo))
    assert result.exit_code == 2 and "--pr N" in result.stderr


# --- image-exists against a real registry ---------------------------------------------------


def _registry_repo(tmp_path: Path, host: str) -> Path:
    root = tmp_path / "envrepo"
    for env, tag in (("dev", "1.1.0"), ("staging", "1.0.0")):
        (root / env).mkdir(parents=True)
        (root / env / "api.yaml").write_text(f"image: {host}/acme/api:{tag}\n")
    (root / "promoter.yaml").write_text(
        "version: 1\nenvironments:\n  - name: dev\n  - name: staging\n    from: dev\n"
        "    policies:\n      image-exists: {}\n"
        "defaults:\n  path: '{env}/{service}.yaml'\n"
        f"services:\n  - name: api\n    image: {host}/acme/api\n"
    )
    git("init", "--quiet", "--initial-branch=main", cwd=root)
    git("add", "-A", cwd=root)
    git("commit", "--quiet", "-m", "seed", cwd=root)
    return root


@pytest.fixture(scope="module")
def registry(tmp_path_factory: pytest.TempPathFactory):
    from tests.registry_server import push_image, start_registry, stop_registry

    server = start_registry(tmp_path_factory.mktemp("registry"))
    push_image(server.url, server.auth, "acme/api", "1.1.0")
    yield server
    stop_registry(server)


def _registry_env(server) -> dict[str, str]:
    return {
        "PROMOTER_REGISTRY_USERNAME": server.username,
        "PROMOTER_REGISTRY_PASSWORD": server.password,
    }


def test_image_exists_passes_for_a_pushed_tag(run, tmp_path, registry) -> None:
    root = _registry_repo(tmp_path, registry.host)
    result = run(
        "check",
        "--repo",
        str(root),
        "--from",
        "dev",
        "--to",
        "staging",
        "-o",
        "json",
        env=_registry_env(registry),
    )
    assert result.exit_code == 0, result.output
    (res,) = json.loads(result.stdout)["results"]
    assert (res["rule"], res["status"]) == ("image-exists", "pass")


def test_image_exists_fails_for_a_missing_tag(run, tmp_path, registry) -> None:
    root = _registry_repo(tmp_path, registry.host)
    (root / "dev" / "api.yaml").write_text(f"image: {registry.host}/acme/api:9.9.9\n")
    result = run(
        "check",
        "--repo",
        str(root),
        "--from",
        "dev",
        "--to",
        "staging",
        "-o",
        "json",
        env=_registry_env(registry),
    )
    assert result.exit_code == 1
    (res,) = json.loads(result.stdout)["results"]
    assert res["status"] == "fail"


def test_registry_down_is_an_error_not_a_pass(run, tmp_path) -> None:
    root = _registry_repo(tmp_path, "127.0.0.1:9")  # nothing listens on the discard port
    result = run("check", "--repo", str(root), "--from", "dev", "--to", "staging", "-o", "json")
    assert result.exit_code == 1, result.output
    (res,) = json.loads(result.stdout)["results"]
    assert res["status"] == "error" and "unreachable" in res["reason"]


@pytest.mark.parametrize(("applied", "exit_code"), [("failure", 1), ("success", 0)])
def test_healthy_upstream_reads_the_appliers_status(run, tmp_path, applied, exit_code) -> None:
    remote = _remote(tmp_path, GITHUB, "      healthy-upstream: {}\n")
    _bump(run, remote, "api", "1.4.2")
    dev_commit = remote.head()  # the commit that put 1.4.2 into dev
    env = {"GITHUB_TOKEN": TOKEN}
    with github_fake(repo="acme/env", token=TOKEN) as gh:
        gh.add_status(dev_commit, "promoter/apply", applied)
        run(
            "promote",
            "--repo-url",
            remote.url,
            "--from",
            "dev",
            "--to",
            "staging",
            "--service",
            "api",
            env=env,
        )
        (pr,) = gh.open_pulls("main")
        result = run(
            "check", "--repo-url", remote.url, "--pr", str(pr["number"]), "-o", "json", env=env
        )
        assert result.exit_code == exit_code, result.output
        upstream = [
            r for r in json.loads(result.stdout)["results"] if r["rule"] == "healthy-upstream"
        ]
        assert [r["status"] for r in upstream] == ["fail" if applied == "failure" else "pass"]


def test_a_helm_values_bump_shows_as_the_rendered_image_change(run, tmp_path) -> None:
    """The example's worker is a values file rendered with its chart: the
    sticky comment shows the Deployment's image changing, not only the
    values line."""
    pytest.importorskip("helm_python", reason="pip install 'promoter[helm]'")
    remote = _remote(tmp_path, GITHUB)
    _bump(run, remote, "worker", "2.2.0")
    env = {"GITHUB_TOKEN": TOKEN}
    with github_fake(repo="acme/env", token=TOKEN) as gh:
        promote = ("promote", "--repo-url", remote.url, "--from", "dev", "--to", "staging")
        opened = run(*promote, "--service", "worker", env=env)
        assert opened.exit_code == 0, opened.output
        (pr,) = gh.open_pulls("main")
        result = run("check", "--repo-url", remote.url, "--pr", str(pr["number"]), env=env)
        assert result.exit_code == 0, result.output
        (comment,) = gh.comments[pr["number"]]
        body = comment["body"]
        assert "apps/Deployment//worker" in body
        assert "-      - image: registry.example.com:5000/team/worker:2.1.0" in body
        assert "+      - image: registry.example.com:5000/team/worker:2.2.0" in body


def test_a_set_is_one_promotion_and_one_failing_member_blocks_it(run, tmp_path) -> None:
    remote = _remote(tmp_path, GITHUB)
    _bump(run, remote, "api", "1.4.2")  # soaked long ago
    _bump(run, remote, "web", "2.0.0", soaked=False)  # just now: the 30m soak fails
    _bump(run, remote, "worker", "3.0.0")  # differs too, but not asked for
    env = {"GITHUB_TOKEN": TOKEN}
    with github_fake(repo="acme/env", token=TOKEN) as gh:
        opened = run("promote", "--repo-url", remote.url, "--from", "dev", "--to", "staging",
                     "--service", "api", "--service", "web", "-o", "json", env=env)  # fmt: skip
        assert opened.exit_code == 0, opened.output
        (pr,) = gh.open_pulls("main")
        assert pr["head"]["ref"] == "promoter/staging/api+web"
        (result,) = json.loads(opened.stdout)
        assert [i["service"] for i in result["items"]] == ["api", "web"]
        checked = run("check", "--repo-url", remote.url, "--pr", str(pr["number"]), "-o", "json",
                      env=env)  # fmt: skip
    assert checked.exit_code == 1, checked.output
    failing = [r for r in json.loads(checked.stdout)["results"] if r["status"] == "fail"]
    assert [(r["rule"], r["subject"]) for r in failing] == [("soak", "web")]
    worker = remote.show("deploy/staging/worker-values.yaml", "promoter/staging/api+web")
    assert "3.0.0" not in worker  # exactly the set: the worker's bump stays in dev
