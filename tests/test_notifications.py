"""Notifications: the `notifications:` block, the notices, and sending them
through Apprise — to a real receiver on 127.0.0.1 (`json://`), and to Slack
and Microsoft Teams (Power Automate workflows) with their requests captured
by `responses`. The events commands send are in test_notify_events.py."""

from __future__ import annotations

import json
import re
import textwrap
import threading
from pathlib import Path
from typing import Any

import pytest
import responses

from promoter.adapters.notify import Notifier
from promoter.core.config.cache import _from_json, _to_json
from promoter.core.config.loader import parse_config
from promoter.core.images import parse_reference
from promoter.core.notify.events import EVENTS, Change, Notice
from promoter.core.notify.notices import Origin, bump_pushed
from promoter.core.notify.suppress import Suppressor
from promoter.core.notify.urls import expand, missing, url_problem
from promoter.errors import ConfigError
from tests.notify_receiver import receiver

BASE = textwrap.dedent(
    """\
    version: 1
    environments:
      - name: dev
      - name: prod
        from: dev
    services:
      - name: web
        image: ghcr.io/acme/web
        path: apps/web/{env}
    """
)
SECRET = "xoxb-very-secret-token-123"


def config_with(block: str) -> Any:
    return parse_config(BASE + block)


def problems(block: str) -> list[str]:
    with pytest.raises(ConfigError) as info:
        config_with(block)
    return [f"{p.line}: {p.message}" for p in info.value.problems]


def notice(event: str = "bump.pushed", env: str = "dev", **kw: Any) -> Notice:
    return Notice(event, env, kw.pop("headline", "bumped"), **kw)


# ----------------------------------------------------------------- promoter.yaml


def test_targets_parse_with_their_defaults() -> None:
    config = config_with(
        "notifications:\n"
        "  - url: slack://${SLACK_TOKEN}/#deploys\n"
        "  - url: json://127.0.0.1:9/hook\n"
        "    events: [apply.failed, health.degraded]\n"
        "    environments: [prod]\n"
        "    window: 10m\n"
    )
    first, second = config.notifications
    assert (first.url, first.events, first.environments, first.window) == (
        "slack://${SLACK_TOKEN}/#deploys", (), (), 300,
    )  # fmt: skip
    assert first.wants("promotion.opened", "dev")
    assert (second.events, second.environments, second.window, second.line) == (
        ("apply.failed", "health.degraded"), ("prod",), 600, 12,
    )  # fmt: skip
    assert second.wants("apply.failed", "prod")
    assert not second.wants("apply.failed", "dev")
    assert not second.wants("bump.pushed", "prod")


def test_every_problem_in_the_block_is_reported_with_its_line() -> None:
    found = problems(
        "notifications:\n"
        "  - url: slack://${SLACK_TOKEN}/#deploys\n"
        "    events: [apply.failed, promotion.opend]\n"
        "    environments: [prd]\n"
        "  - url: json://host/$path\n"
        "  - url: hooks.slack.com/services/x\n"
        "    window: 10q\n"
        "  - events: [bump.pushed]\n"
        "  - url: json://h\n"
        "    colour: red\n"
    )
    assert found[0].startswith("12: notifications[0]: events[1]: unknown event 'promotion.opend'")
    assert "did you mean 'promotion.opened'?" in found[0]
    assert found[1] == "13: notifications: unknown environment 'prd'; did you mean 'prod'? " \
        "(known: dev, prod)"  # fmt: skip
    assert found[2].startswith("14: notifications[1]: url: a `$` must start `${NAME}`")
    assert found[3].startswith("15: notifications[2]: url: 'hooks.slack.com/serv' is not")
    assert found[4].startswith("16: notifications[2]: window: '10q' is not a duration")
    assert found[5] == "17: notifications[3]: missing required key 'url' (an Apprise URL)"
    assert found[6].startswith("19: notifications[4]: unknown key 'colour'")
    assert len(found) == 7


def test_a_non_list_block_is_refused() -> None:
    assert problems("notifications:\n  url: json://h\n") == [
        "10: notifications must be a list of targets (- url: …)"
    ]


def test_the_config_cache_keeps_the_targets() -> None:
    config = config_with(
        "notifications:\n  - url: json://h/x\n    events: [bump.pushed]\n    window: 1h\n"
    )
    data = json.loads(json.dumps(_to_json(config)))
    assert _from_json(data).notifications == config.notifications


def test_url_templates() -> None:
    environ = {"TOKEN": "abc", "EMPTY": ""}
    assert expand("json://h/${TOKEN}?x=$$1", environ) == "json://h/abc?x=$1"
    assert missing("slack://${TOKEN}/${EMPTY}/${NOPE}", environ) == ["EMPTY", "NOPE"]
    with pytest.raises(KeyError, match="NOPE"):
        expand("json://h/${NOPE}", environ)
    assert url_problem("json://h/${TOKEN}") is None
    assert "`$$`" in (url_problem("json://h/$TOKEN") or "")
    # A URL written in Git with a literal token is never echoed whole.
    assert SECRET not in (url_problem(f"slack:/{SECRET}") or "")


# ----------------------------------------------------------------- notices


def test_a_notice_says_what_where_who_and_links() -> None:
    origin = Origin("alice", "https://ci.example/run/7", "https://github.com/acme/env", "github")
    new, old = parse_reference("ghcr.io/acme/web:1.5.0"), parse_reference("ghcr.io/acme/web:1.4.2")
    n = bump_pushed(origin, "web", "dev", old, new, "0123456789abcdef")
    assert n.title() == "[dev] bumped: web 1.4.2 → 1.5.0"
    body = n.body()
    assert "**bump.pushed** in `dev`" in body
    assert "revision 0123456789ab, by alice" in body
    assert "[commit 0123456789ab](https://github.com/acme/env/commit/0123456789abcdef)" in body
    assert "[pipeline](https://ci.example/run/7)" in body
    gitlab = Origin(None, None, "https://gitlab.com/acme/env", "gitlab").links("abc")
    assert gitlab == (("commit abc", "https://gitlab.com/acme/env/-/commit/abc"),)


def test_a_notice_masks_registered_secrets_and_bounds_its_body() -> None:
    from promoter.core import masking

    masking.register(SECRET)
    n = notice(
        "apply.failed",
        headline="apply failed",
        detail=f"token {SECRET} refused\n" + "x" * 5000,
        changes=tuple(Change(f"s{i}", "1", "2") for i in range(25)),
    )
    assert SECRET not in n.body() + n.title()
    assert len(n.body()) < 2500
    assert "… and 15 more" in n.body()
    assert n.title() == "[dev] apply failed: 25 services"


def test_the_suppressor_lets_a_repeat_through_only_after_its_window() -> None:
    now = [0.0]
    s = Suppressor(clock=lambda: now[0])
    key = notice().key()
    assert s.admit(key, 300)
    now[0] = 299.0
    assert not s.admit(key, 300)
    assert s.admit(notice(revision="other").key(), 300)  # another revision: news
    now[0] = 300.0
    assert s.admit(key, 300)
    assert s.suppressed == 1


# ----------------------------------------------------------------- sending


def test_a_json_target_gets_title_body_and_type(monkeypatch: pytest.MonkeyPatch) -> None:
    with receiver() as hook:
        config = config_with(f"notifications:\n  - url: {hook.url('deploys', '+X-Key=${KEY}')}\n")
        notifier = Notifier({"KEY": SECRET})
        failed = notice("apply.failed", headline="apply failed", trigger="alice")
        (delivery,) = notifier.notify(config, [failed])
        assert delivery.ok, delivery.detail
        (post,) = hook.posts
    assert post["path"] == "/deploys"
    assert post["headers"]["X-Key"] == SECRET  # `${KEY}` filled from the environment
    assert post["body"]["title"] == "[dev] apply failed"
    assert post["body"]["type"] == "failure"
    assert "by alice" in post["body"]["message"]
    assert SECRET not in delivery.shown


def test_targets_get_only_the_events_and_environments_they_want() -> None:
    with receiver() as a, receiver() as b:
        config = config_with(
            f"notifications:\n  - url: {a.url()}\n"
            f"  - url: {b.url()}\n    events: [apply.failed]\n    environments: [prod]\n"
        )
        sent = Notifier({}).notify(
            config,
            [notice("apply.failed", "dev"), notice("apply.failed", "prod"), notice("bump.pushed")],
        )
    assert [(d.target, d.event) for d in sent] == [
        (1, "apply.failed"), (1, "apply.failed"), (2, "apply.failed"), (1, "bump.pushed"),
    ]  # fmt: skip
    assert len(a.posts) == 3 and len(b.posts) == 1
    assert b.messages[0]["title"].startswith("[prod]")


@pytest.mark.parametrize("status", [500, 404])
def test_a_failing_target_is_logged_once_and_not_retried(
    status: int, caplog: pytest.LogCaptureFixture
) -> None:
    with receiver(status=status) as hook:
        config = config_with(f"notifications:\n  - url: {hook.url('x', 't=${T}')}\n")
        (delivery,) = Notifier({"T": SECRET}).notify(config, [notice()])
        assert len(hook.posts) == 1  # no retry storm
    assert not delivery.ok
    assert str(status) in delivery.detail
    (line,) = [r.getMessage() for r in caplog.records if r.name == "promoter.notify"]
    assert line.startswith(f"notification bump.pushed to target 1 (json://127.0.0.1:{hook.port}")
    assert SECRET not in caplog.text


def test_a_refused_connection_and_an_unset_variable_fail_their_target_only() -> None:
    with receiver() as good:
        config = config_with(
            "notifications:\n  - url: json://127.0.0.1:9/closed\n"
            "  - url: slack://${SLACK_TOKEN}/#x\n"
            f"  - url: {good.url()}\n"
        )
        refused, unset, ok = Notifier({}).notify(config, [notice()])
    assert not refused.ok and "Connection error" in refused.detail
    assert not unset.ok and unset.detail.startswith("environment variable SLACK_TOKEN is not set")
    assert ok.ok and len(good.posts) == 1


def test_a_target_that_never_answers_does_not_hold_the_command() -> None:
    with receiver(stall=60) as slow, receiver() as fast:
        config = config_with(f"notifications:\n  - url: {slow.url()}\n  - url: {fast.url()}\n")
        notifier = Notifier({}, timeout=0.5, deadline=3)
        done = threading.Event()
        out: list[Any] = []
        worker = threading.Thread(target=lambda: (out.extend(notifier.notify(config, [notice()])),
                                                  done.set()))  # fmt: skip
        worker.start()
        # Bounded by the read timeout, not by the target's 60 s.
        assert done.wait(20), "notify waited for a target that never answers"
    slow_delivery, fast_delivery = out
    assert not slow_delivery.ok and fast_delivery.ok


def test_slack_gets_its_webhook_request() -> None:
    config = config_with("notifications:\n  - url: slack://${SLACK_HOOK}/#deploys\n")
    hook = "T1JJ3T3L2/A1BRTD4JD/TIiajkdnlazkcOXrIdevi7FQ"
    with responses.RequestsMock() as rsps:
        rsps.add(responses.POST, f"https://hooks.slack.com/services/{hook}", body="ok")
        (delivery,) = Notifier({"SLACK_HOOK": hook}).notify(
            config, [notice("apply.succeeded", headline="applied 3 of 3")]
        )
        (call,) = rsps.calls
    assert delivery.ok, delivery.detail
    assert "TIiajkdnlazkcOXrIdevi7FQ" not in delivery.shown  # privacy form: T...Q
    sent = json.loads(call.request.body)
    assert sent["channel"] == "#deploys"
    (attachment,) = sent["attachments"]
    assert attachment["title"] == "[dev] applied 3 of 3"
    assert "*apply.succeeded* in `dev`" in attachment["text"]  # markdown → Slack's mrkdwn


def test_teams_gets_an_adaptive_card_through_its_workflow_url() -> None:
    config = config_with(
        "notifications:\n"
        "  - url: workflows://prod-00.westus.logic.azure.com:443/${TEAMS_FLOW}/${TEAMS_SIG}\n"
    )
    with responses.RequestsMock() as rsps:
        rsps.add(responses.POST, re.compile(r"https://prod-00\.westus\.logic\.azure\.com.*"),
                 status=202)  # fmt: skip
        (delivery,) = Notifier({"TEAMS_FLOW": "f1a2b3", "TEAMS_SIG": "s1g-s3cr3t"}).notify(
            config, [notice("promotion.opened", "prod", headline="promotion #4 opened")]
        )
        (call,) = rsps.calls
    assert delivery.ok, delivery.detail
    assert call.request.url.startswith(
        "https://prod-00.westus.logic.azure.com:443/workflows/f1a2b3/triggers/manual/paths/invoke?"
    )
    assert "sig=s1g-s3cr3t" in call.request.url
    card = json.loads(call.request.body)["attachments"][0]
    assert card["contentType"] == "application/vnd.microsoft.card.adaptive"
    texts = [b.get("text") for b in card["content"]["body"]]
    assert "[prod] promotion #4 opened" in texts
    assert "s1g-s3cr3t" not in delivery.shown


# ----------------------------------------------------------------- CLI


def write_repo(tmp_path: Path, block: str) -> Path:
    (tmp_path / "promoter.yaml").write_text(BASE + block, encoding="utf-8")
    for env in ("dev", "prod"):
        (tmp_path / "apps" / "web" / env).mkdir(parents=True, exist_ok=True)
        (tmp_path / "apps" / "web" / env / "deploy.yaml").write_text(
            "kind: Deployment\nspec:\n  template:\n    spec:\n      containers:\n"
            "        - name: web\n          image: ghcr.io/acme/web:1.0.0\n"
        )
    return tmp_path


def test_notify_test_reports_each_target(run, tmp_path: Path) -> None:
    with receiver() as hook:
        repo = write_repo(
            tmp_path, f"notifications:\n  - url: {hook.url()}\n  - url: json://127.0.0.1:9/no\n"
        )
        result = run("notify", "test", "--repo", str(repo))
        assert result.exit_code == 12, result.output
        lines = result.stdout.splitlines()
        assert lines[0] == f"target 1 (json://127.0.0.1:{hook.port}/hook): ok"
        assert lines[1].startswith("target 2 (json://127.0.0.1:9/no): failed: A Connection error")
        assert hook.messages[0]["title"] == "[*] test message from promoter"

        only = run("notify", "test", "--repo", str(repo), "--target", "1", "-o", "json")
        assert only.exit_code == 0, only.output
        assert json.loads(only.stdout) == [
            {"target": 1, "url": f"json://127.0.0.1:{hook.port}/hook", "ok": True, "detail": None}
        ]
        assert len(hook.posts) == 2

        beyond = run("notify", "test", "--repo", str(repo), "--target", "3")
        assert beyond.exit_code == 2
        assert "has 2 notification target(s)" in beyond.stderr


def test_notify_test_without_targets_says_how_to_add_one(run, tmp_path: Path) -> None:
    result = run("notify", "test", "--repo", str(write_repo(tmp_path, "")))
    assert result.exit_code == 2
    assert "has no `notifications:` targets" in result.stderr
    assert "docs/notifications.md" in result.stderr


def test_config_validate_names_an_unset_variable_and_an_unknown_service(
    run, tmp_path: Path
) -> None:
    repo = write_repo(
        tmp_path,
        "notifications:\n  - url: slack://${SLACK_TOKEN}/#x\n  - url: nosuchservice://host/x\n",
    )
    result = run("config", "validate", "--repo", str(repo))
    assert result.exit_code == 2
    assert "promoter.yaml:11: notifications[0]: url uses ${SLACK_TOKEN}, but SLACK_TOKEN is not " \
        "set in the environment" in result.stderr  # fmt: skip
    assert "promoter.yaml:12: notifications[1]: url: Apprise does not understand " \
        "nosuchservice://…" in result.stderr  # fmt: skip
    ok = run("config", "validate", "--repo", str(repo), env={"SLACK_TOKEN": "T0/B0/abc"})
    assert ok.exit_code == 2  # the second target is still unknown
    assert "SLACK_TOKEN" not in ok.stderr


def test_every_event_name_is_documented() -> None:
    doc = (Path(__file__).parent.parent / "docs" / "notifications.md").read_text()
    for event in EVENTS:
        assert f"`{event}`" in doc, event
