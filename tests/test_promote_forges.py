"""The same promotion scenarios on GitHub and GitLab: superseding, fan-out,
rollback and rate-limit retries, each asserted on the fake forge's state."""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

import promoter.adapters.forges.session
from tests.conftest import EXAMPLE, Remote, git, make_remote
from tests.fakeforge import SleepRecorder, github_fake, gitlab_fake

TOKEN = "glpat-FORGEtoken-123"
CONFIG = {
    "github": "forge:\n  type: github\n  repository: acme/env",
    "gitlab": "forge:\n  type: gitlab\n  repository: acme/platform/env",
}


@dataclass
class PR:
    number: int
    head: str
    title: str
    body: str
    labels: list[str]


@dataclass
class Host:
    """One view over both fakes."""

    kind: str
    fake: Any

    def open(self) -> list[PR]:
        if self.kind == "github":
            return [
                PR(
                    p["number"],
                    p["head"]["ref"],
                    p["title"],
                    p["body"] or "",
                    [label["name"] for label in p["labels"]],
                )
                for p in self.fake.open_pulls("main")
            ]
        return [
            PR(m["iid"], m["source_branch"], m["title"], m["description"] or "", list(m["labels"]))
            for m in self.fake.open_mrs("main")
        ]

    def comments(self, number: int) -> list[str]:
        store = self.fake.comments if self.kind == "github" else self.fake.notes
        return [c["body"] for c in store.get(number, [])]

    def rate_limit(self) -> None:
        if self.kind == "github":
            headers = {"X-RateLimit-Remaining": "0", "X-RateLimit-Reset": "0", "Retry-After": "2"}
            self.fake.fail(403, {"message": "API rate limit exceeded"}, times=1, headers=headers)
        else:
            self.fake.fail(
                429, {"message": "429 Too Many Requests"}, times=1, headers={"Retry-After": "2"}
            )


@pytest.fixture(params=["github", "gitlab"])
def kind(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def remote(tmp_path: Path, kind: str) -> Remote:
    source = tmp_path / "src"
    shutil.copytree(EXAMPLE, source)
    config = source / "promoter.yaml"
    config.write_text(config.read_text().replace("defaults:\n", CONFIG[kind] + "\ndefaults:\n"))
    return make_remote(tmp_path, source)


@contextmanager
def hosted(kind: str) -> Iterator[Host]:
    if kind == "github":
        with github_fake(repo="acme/env", token=TOKEN) as gh:
            yield Host(kind, gh)
    else:
        with gitlab_fake(project="acme/platform/env", token=TOKEN) as gl:
            yield Host(kind, gl)


@pytest.fixture(autouse=True)
def no_sleep(monkeypatch: pytest.MonkeyPatch) -> SleepRecorder:
    recorder = SleepRecorder()
    monkeypatch.setattr(promoter.adapters.forges.session, "sleep", recorder)
    return recorder


def cli(run, *args: str) -> Any:
    result = run(*args, "-o", "json", env={"GITHUB_TOKEN": TOKEN, "GITLAB_TOKEN": TOKEN})
    assert result.exit_code == 0, result.output
    assert TOKEN not in result.output
    return json.loads(result.stdout)


def bump(run, remote: Remote, service: str, tag: str) -> None:
    cli(run, "bump", "--repo-url", remote.url, "--env", "dev", "--service", service, "--tag", tag)


def promote(run, remote: Remote, *args: str) -> list[dict[str, Any]]:
    return list(cli(run, "promote", "--repo-url", remote.url, *args))


def merge(remote: Remote, tmp_path: Path, branch: str) -> None:
    work = tmp_path / "merge"
    shutil.rmtree(work, ignore_errors=True)
    git("clone", "--quiet", remote.url, str(work), cwd=tmp_path)
    git("merge", "--quiet", "--no-ff", "-m", f"Merge {branch}", f"origin/{branch}", cwd=work)
    git("push", "--quiet", "origin", "HEAD:main", cwd=work)


def test_superseding_updates_the_one_pr(run, remote, kind) -> None:
    bump(run, remote, "api", "1.4.2")
    with hosted(kind) as host:
        promote(run, remote, "--from", "dev", "--to", "staging", "--service", "api")
        bump(run, remote, "api", "1.4.3")
        (result,) = promote(run, remote, "--from", "dev", "--to", "staging", "--service", "api")
        assert result["updated"] is True
        (pr,) = host.open()
        assert pr.title == "Promote api 1.4.3 → staging"
        assert "- api ghcr.io/acme/api:1.4.2" in pr.body
        assert pr.labels == ["promoter", "env:staging"]


def test_all_folds_competing_prs_and_closes_them_with_a_comment(run, remote, kind) -> None:
    bump(run, remote, "api", "1.4.2")
    bump(run, remote, "web", "2.0.0")
    with hosted(kind) as host:
        promote(run, remote, "--from", "dev", "--to", "staging", "--service", "web")
        (web,) = host.open()
        (result,) = promote(run, remote, "--from", "dev", "--to", "staging", "--all")
        assert result["branch"] == "promoter/staging/api+web"
        assert result["closed"] == [web.number]
        (pr,) = host.open()
        assert pr.head == "promoter/staging/api+web"
        assert host.comments(web.number) and "Superseded by" in host.comments(web.number)[0]


def test_fan_out_opens_one_pr_per_target(run, remote, kind, tmp_path) -> None:
    bump(run, remote, "worker", "3.0.0")
    with hosted(kind) as host:
        promote(run, remote, "--from", "dev", "--to", "staging", "--service", "worker")
        merge(remote, tmp_path, "promoter/staging/worker")
        results = promote(
            run,
            remote,
            "--from",
            "staging",
            "--to",
            "prod-eu",
            "--to",
            "prod-us",
            "--service",
            "worker",
        )
        assert [r["target"] for r in results] == ["prod-eu", "prod-us"]
        heads = sorted(pr.head for pr in host.open())
        assert heads == [
            "promoter/prod-eu/worker",
            "promoter/prod-us/worker",
            "promoter/staging/worker",
        ]
    eu = remote.show("deploy/eu/worker-values.yaml", "promoter/prod-eu/worker")
    assert "tag: 3.0.0" in eu


def test_rollback_pr(run, remote, kind, tmp_path) -> None:
    bump(run, remote, "web", "2.0.0")
    bump(run, remote, "web", "2.1.0")
    with hosted(kind) as host:
        result = cli(run, "rollback", "--repo-url", remote.url, "--env", "dev", "--service", "web")
        assert result["branch"] == "promoter/dev/rollback-web"
        (pr,) = host.open()
        assert pr.title == "Roll back web to 2.0.0 in dev"
        assert "rollback" in pr.labels
        named = cli(
            run,
            "rollback",
            "--repo-url",
            remote.url,
            "--env",
            "dev",
            "--service",
            "web",
            "--to",
            "0.9.0",
        )
        assert named["updated"] is True
        (pr,) = host.open()
        assert pr.title == "Roll back web to 0.9.0 in dev"
    manifest = remote.show("apps/web/overlays/dev/deployment.yaml", "promoter/dev/rollback-web")
    assert manifest.count("ghcr.io/acme/web:0.9.0") == 2


def test_rate_limit_is_retried(run, remote, kind, no_sleep) -> None:
    bump(run, remote, "api", "1.4.2")
    with hosted(kind) as host:
        host.rate_limit()
        (result,) = promote(run, remote, "--from", "dev", "--to", "staging", "--service", "api")
        assert result["created"] is True
        assert len(host.open()) == 1
    assert no_sleep.waits and no_sleep.waits[0] >= 2
