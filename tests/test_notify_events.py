"""Every event, sent by the command that saw it, to a real receiver on
127.0.0.1 (Apprise's `json://`): bump, promote, rollback and the bot on the
GitHub fake and real git remotes; check; and the agent's rounds on the
fake and the real API server — with the no-flood rules: 50 identical
drift rounds are one message, a failure on one commit is told once."""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

import promoter.adapters.forges.session
from promoter.adapters.agent_source import LocalSource
from promoter.adapters.notify import Notifier
from promoter.core.chatops.events import parse_event
from promoter.core.notify.notices import Origin
from promoter.core.notify.suppress import Suppressor
from promoter.workflows.agent import Agent, AgentOptions
from promoter.workflows.bot import run_event
from tests.agent_helpers import Cluster, configmap, deployment
from tests.conftest import EXAMPLE, GIT_ENV, Remote, git, make_remote
from tests.fakeforge import SleepRecorder, github_fake
from tests.notify_receiver import Receiver, receiver
from tests.test_bot import github_pull_request_payload

pytest_plugins = ["tests.agent_fixtures"]

TOKEN = "ghp_notifyTOKEN12345"
HOOK_SECRET = "hook-s3cret-value-42"
ENV = {
    "GITHUB_TOKEN": TOKEN,
    "HOOK_KEY": HOOK_SECRET,
    "GITHUB_ACTOR": "alice",
    "PROMOTER_PIPELINE_URL": "https://ci.example/pipelines/7",
}
SOAK = "    policies:\n      soak: {duration: 30m}\n"


@pytest.fixture
def hook() -> Iterator[Receiver]:
    with receiver() as r:
        yield r


@pytest.fixture(autouse=True)
def no_sleep(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(promoter.adapters.forges.session, "sleep", SleepRecorder())


def targets(hook: Receiver, extra: str = "") -> str:
    return f"notifications:\n  - url: {hook.url('deploys', '+X-Key=${HOOK_KEY}')}\n{extra}"


def env_remote(tmp_path: Path, hook: Receiver, extra: str = "") -> Remote:
    source = tmp_path / "src"
    shutil.copytree(EXAMPLE, source)
    config = source / "promoter.yaml"
    text = config.read_text().replace(
        "defaults:\n", "forge:\n  type: github\n  repository: acme/env\ndefaults:\n"
    )
    text = text.replace("  - name: staging\n    from: dev\n", "  - name: staging\n    from: dev\n"
                        + SOAK)  # fmt: skip
    config.write_text(text + targets(hook, extra))
    return make_remote(tmp_path, source)


def ok(run, *args: str, env: dict[str, str] | None = None) -> Any:
    result = run(*args, "-o", "json", env={**ENV, **(env or {})})
    assert result.exit_code == 0, result.output
    assert TOKEN not in result.output and HOOK_SECRET not in result.output
    return json.loads(result.stdout)


def bump(run, remote: Remote, service: str, tag: str) -> Any:
    return ok(run, "bump", "--repo-url", remote.url, "--env", "dev", "--service", service,
              "--tag", tag)  # fmt: skip


def events(hook: Receiver) -> list[str]:
    return [m["message"].split("**")[1] for m in hook.messages]


def test_bump_pushed_says_who_what_and_links_the_pipeline(run, tmp_path, hook) -> None:
    remote = env_remote(tmp_path, hook)
    pushed = bump(run, remote, "api", "1.4.2")
    bump(run, remote, "api", "1.4.2")  # already there: nothing pushed, nothing told
    dry = run("bump", "--repo-url", remote.url, "--env", "dev", "--service", "api",
              "--tag", "1.5.0", "--dry-run", env=ENV)  # fmt: skip
    assert dry.exit_code == 0, dry.output

    (post,) = hook.posts
    assert post["headers"]["X-Key"] == HOOK_SECRET
    message = post["body"]
    assert message["title"] == "[dev] bumped: api 1.0.0 → 1.4.2"
    assert f"revision {pushed['commit'][:12]}, by alice" in message["message"]
    assert "[pipeline](https://ci.example/pipelines/7)" in message["message"]
    assert message["type"] == "info"


def test_promote_and_rollback_tell_opened_and_superseded(run, tmp_path, hook) -> None:
    remote = env_remote(tmp_path, hook)
    bump(run, remote, "api", "1.4.2")
    bump(run, remote, "web", "2.0.0")
    hook.posts.clear()
    with github_fake(repo="acme/env", token=TOKEN) as gh:
        gh.rsps.add_passthru(f"http://127.0.0.1:{hook.port}")
        promote = ("promote", "--repo-url", remote.url, "--from", "dev", "--to", "staging")
        ok(run, *promote, "--service", "web")
        ok(run, *promote, "--service", "web")  # the same PR, unchanged: no news
        ok(run, *promote, "--all")
        ok(run, "rollback", "--repo-url", remote.url, "--env", "dev", "--service", "web")
        pulls = {p["number"]: p for p in gh.pulls.values()}

    assert events(hook) == [
        "promotion.opened", "promotion.opened", "promotion.superseded", "rollback.opened",
    ]  # fmt: skip
    opened, folded, superseded, rollback = hook.messages
    assert opened["title"] == "[staging] promotion #1 opened: web 0.9.0 → 2.0.0"
    assert f"[PR #1]({pulls[1]['html_url']})" in opened["message"]
    assert "by alice" in opened["message"]
    assert folded["title"] == "[staging] promotion #2 opened: 2 services"
    assert "- api 1.0.0 → 1.4.2" in folded["message"]
    assert superseded["title"] == "[staging] #1 superseded by #2: 2 services"
    assert rollback["title"] == "[dev] rollback #3 opened: web 2.0.0 → 0.9.0"
    assert all(TOKEN not in m["message"] for m in hook.messages)


def test_a_local_check_that_fails_tells_which_rule(run, tmp_path, hook) -> None:
    remote = env_remote(tmp_path, hook)
    bump(run, remote, "api", "1.4.2")  # just now: the 30m soak fails
    hook.posts.clear()
    clone = tmp_path / "clone"
    git("clone", "--quiet", remote.url, str(clone), cwd=tmp_path)
    result = run("check", "--repo", str(clone), "--from", "dev", "--to", "staging", env=ENV)
    assert result.exit_code == 1, result.output

    (message,) = hook.messages
    assert message["title"] == "[staging] policy check failed: api 1.0.0 → 1.4.2"
    assert "- ✗ soak (api): " in message["message"]
    assert message["type"] == "warning"


def test_a_merged_promotion_is_told_once_even_when_redelivered(run, tmp_path, hook) -> None:
    remote = env_remote(tmp_path, hook, "    events: [promotion.merged]\n")
    bump(run, remote, "api", "1.4.2")
    with github_fake(repo="acme/env", token=TOKEN) as gh:
        gh.rsps.add_passthru(f"http://127.0.0.1:{hook.port}")
        ok(run, "promote", "--repo-url", remote.url, "--from", "dev", "--to", "staging",
           "--all")  # fmt: skip
        gh.merge(1)
        payload = github_pull_request_payload(action="closed", merged=True, clone_url=remote.url)
        event = parse_event(payload)
        # `serve`: one notifier for the server's life; GitHub redelivers.
        served = Notifier(ENV, Origin.from_environ(ENV), remote.url, Suppressor())
        first = run_event(event, environ=ENV, repo_url=remote.url, notifier=served)
        again = run_event(event, environ=ENV, repo_url=remote.url, notifier=served)
        # `promoter bot` in a workflow: a process per delivery, nothing suppressed.
        path = tmp_path / "event.json"
        path.write_text(json.dumps(payload))
        once_more = run("bot", "--event", str(path), env=ENV)

    assert first.outcome == "done" and first.command == "notify"
    assert again.actions == []  # suppressed: nothing sent
    assert once_more.exit_code == 0, once_more.output
    assert events(hook) == ["promotion.merged", "promotion.merged"]
    message = hook.messages[0]
    assert message["title"] == "[staging] promotion #1 merged: api (none) → 1.4.2"
    assert "by alice" in message["message"]  # the delivery's sender, not the CI's actor
    assert message["type"] == "success"


# --- the agent ---------------------------------------------------------------------------


class Pinned(LocalSource):
    """The working tree, as if at commit `revision`."""

    revision = "1" * 40

    def update(self) -> tuple[Path, str | None]:
        return self.path, self.revision


def agent_for(c: Cluster, hook: Receiver, clock: list[float], **settings: Any) -> Agent:
    config = c.repo / "promoter.yaml"
    config.write_text(config.read_text() + targets(hook))
    notifier = Notifier(GIT_ENV | {"HOOK_KEY": HOOK_SECRET}, Origin("promoter agent"),
                        suppressor=Suppressor(clock=lambda: clock[0]))  # fmt: skip
    return Agent(Pinned(c.repo), c.reconciler(**settings), AgentOptions("dev"), notifier=notifier)


def write(c: Cluster, name: str, doc: dict[str, Any] | str) -> None:
    c.write(name, doc)


def test_an_apply_is_told_once_and_fifty_drift_rounds_are_one_message(
    cluster: Cluster, hook: Receiver
) -> None:
    c, clock = cluster, [0.0]
    write(c, "settings", configmap("settings", mode="blue"))
    agent = agent_for(c, hook, clock)
    with c.controllers():
        first = agent.round()
        quiet = agent.round()
        drifted = []
        for _ in range(50):
            c.patch("v1", "ConfigMap", "settings", {"data": {"mode": "red"}}, manager="ops")
            drifted.append(agent.round())
            clock[0] += 1.0  # 50 s in all: inside the 5 minute window

    assert first.ok and quiet.ok and not quiet.applied, quiet.text()
    assert all(r.drift and r.drift[0].healed for r in drifted), drifted[0].text()
    assert events(hook) == ["apply.succeeded", "drift.detected"]
    applied, drift = hook.messages
    assert applied["title"] == f"[dev] applied 1 of {first.desired}"
    assert f"/ConfigMap/{c.namespace}/settings" in applied["message"]
    assert applied["type"] == "success"
    assert drift["title"] == "[dev] drift healed in 1 object(s)"
    assert "data.mode" in drift["message"] and "by promoter agent" in drift["message"]

    clock[0] += 300.0  # the window has passed: the same drift is news again
    c.patch("v1", "ConfigMap", "settings", {"data": {"mode": "red"}}, manager="ops")
    with c.controllers():
        agent.round()
    assert events(hook)[-1] == "drift.detected" and len(hook.posts) == 3


def test_a_failing_commit_is_told_once_then_its_recovery(cluster: Cluster, hook: Receiver) -> None:
    c, clock = cluster, [0.0]
    write(c, "settings", configmap("settings"))
    write(c, "broken", "a: [\n")
    agent = agent_for(c, hook, clock)
    with c.controllers():
        failed = [agent.round() for _ in range(5)]
        clock[0] += 3600.0  # an hour later, the same commit still fails: still no repeat
        failed.append(agent.round())
        Pinned.revision = "2" * 40  # a new commit that fails the same way: news
        failed.append(agent.round())
        c.remove("broken")
        recovered = agent.round()
    Pinned.revision = "1" * 40

    assert not any(r.ok for r in failed) and recovered.ok
    assert events(hook) == ["apply.failed", "apply.failed", "apply.succeeded"]
    first, second, back = hook.messages
    assert first["title"] == "[dev] render failed"
    assert "revision 111111111111" in first["message"] and first["type"] == "failure"
    assert "revision 222222222222" in second["message"]
    assert back["title"] == "[dev] recovered"


def test_a_workload_that_never_becomes_healthy_is_told_as_degraded(
    cluster: Cluster, hook: Receiver
) -> None:
    c, clock = cluster, [0.0]
    write(c, "app", deployment("web"))
    c.hold_rollouts()
    agent = agent_for(c, hook, clock, health_timeout=1.0, health_poll=0.1)
    results = [agent.round(), agent.round()]

    assert [r.phase for r in results] == ["health", "health"], results[0].text()
    (message,) = hook.messages
    assert message["title"] == "[dev] not healthy"
    assert f"Deployment/{c.namespace}/web" in message["message"]
    assert message["type"] == "warning"


def test_agent_once_from_the_command_line_tells_its_apply(
    run, cluster: Cluster, hook: Receiver, tmp_path: Path
) -> None:
    c = cluster
    config = c.repo / "promoter.yaml"
    config.write_text(config.read_text() + targets(hook))
    write(c, "settings", configmap("settings"))
    kubeconfig = str(c.kubeconfig_here(tmp_path / "kubeconfig"))
    base = ("agent", "--env", "dev", "--repo", str(c.repo), "--kubeconfig", kubeconfig, "--once")

    applied = run(*base, env={"HOOK_KEY": HOOK_SECRET})
    again = run(*base, env={"HOOK_KEY": HOOK_SECRET})  # nothing to apply: nothing to tell

    assert applied.exit_code == 0 and again.exit_code == 0, applied.output + again.output
    (message,) = hook.messages
    assert message["title"].startswith("[dev] applied 1 of ")
    assert hook.posts[0]["headers"]["X-Key"] == HOOK_SECRET
    assert HOOK_SECRET not in applied.output
