"""order, soak and healthy-upstream: rules read from the source environment's history."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import pytest

from promoter.core.images import parse_reference
from promoter.core.policy.facts import Facts, Item
from promoter.core.policy.result import Result
from promoter.core.policy.rules import healthy_upstream, order, soak
from promoter.core.policy.settings import NoOptions, SoakOptions
from promoter.core.trailers import Deployment

NOW = datetime.fromisoformat("2024-05-03T14:20:00+00:00")
API = "ghcr.io/acme/api"
DIGEST_A = "sha256:" + "a" * 64
DIGEST_B = "sha256:" + "b" * 64


def dep(commit: str, date: str, to: str, service: str = "api", env: str = "staging") -> Deployment:
    return Deployment(
        commit=commit * 40 if len(commit) == 1 else commit,
        date=date,
        author="ci",
        service=service,
        env=env,
        from_ref=None,
        to_ref=to,
        kind="promotion",
    )


HISTORY = (
    # newest first, as `git log` gives them
    dep("c", "2024-05-03T16:08:00+02:00", f"{API}:1.4.2"),  # 14:08 UTC
    dep("w", "2024-05-03T10:00:00+00:00", "ghcr.io/acme/worker:2.0.0", service="worker"),
    dep("b", "2024-05-02T09:00:00+00:00", f"{API}:1.4.1"),
    dep("a", "2024-05-01T09:00:00+00:00", f"{API}:1.4.0"),
)


def facts(*items: Item, **changes: Any) -> Facts:
    fields: dict[str, Any] = {
        "kind": "promotion",
        "target_env": "prod",
        "source_env": "staging",
        "items": items or (Item("api", parse_reference(f"{API}:1.4.2")),),
        "now": NOW,
        "source_history": HISTORY,
        "source_current": {"api": parse_reference(f"{API}:1.4.2")},
        "apply_statuses": {},
    }
    fields.update(changes)
    return Facts(**fields)


def item(version: str, service: str = "api") -> Item:
    return Item(service, parse_reference(f"ghcr.io/acme/{service}:{version}"))


def only(results: list[Result]) -> Result:
    assert len(results) == 1, results
    return results[0]


# ----------------------------------------------------------------- order


def test_order_passes_for_a_version_the_source_ran() -> None:
    result = only(order(facts(item("1.4.1")), NoOptions()))
    assert (result.rule, result.status, result.subject) == ("order", "pass", "api")
    assert result.reason == (
        "api 1.4.1 reached staging in commit bbbbbbbbbbbb on 2024-05-02 09:00 UTC"
    )


def test_order_fails_for_a_version_the_source_never_ran() -> None:
    result = only(order(facts(item("1.5.0")), NoOptions()))
    assert result.status == "fail"
    assert result.reason == "api 1.5.0 has never run in staging (staging runs 1.4.2 now)"
    assert "promote api 1.5.0 to staging first" in result.fix


def test_order_accepts_the_source_current_version_without_history() -> None:
    result = only(order(facts(source_history=()), NoOptions()))
    assert result.status == "pass"
    assert result.reason == "api 1.4.2 runs in staging now"


def test_order_without_history_or_current_is_an_error_not_a_pass() -> None:
    result = only(order(facts(item("1.5.0"), source_history=None), NoOptions()))
    assert result.status == "error"
    assert "history was not read" in result.reason
    result = only(order(facts(item("1.5.0"), source_current=None), NoOptions()))
    assert result.status == "error"


def test_order_one_result_per_item() -> None:
    results = order(
        facts(item("1.4.2"), item("2.0.0", "worker"), item("9.9.9", "web")), NoOptions()
    )
    assert [(r.subject, r.status) for r in results] == [
        ("api", "pass"),
        ("worker", "pass"),
        ("web", "fail"),
    ]


def test_order_compares_digests_when_both_have_one() -> None:
    history = (dep("d", "2024-05-01T09:00:00+00:00", f"{API}:1.4.2@{DIGEST_A}"),)
    same = Item("api", parse_reference(f"{API}:1.4.2@{DIGEST_A}"))
    other = Item("api", parse_reference(f"{API}:1.4.2@{DIGEST_B}"))
    renamed = Item("api", parse_reference(f"{API}:v1.4.2@{DIGEST_A}"))
    options = NoOptions()
    kw: dict[str, Any] = {"source_history": history, "source_current": {}}
    assert only(order(facts(same, **kw), options)).status == "pass"
    assert only(order(facts(other, **kw), options)).status == "fail"
    assert only(order(facts(renamed, **kw), options)).status == "pass"


def test_order_ignores_other_environments_in_the_history() -> None:
    history = (dep("e", "2024-05-01T09:00:00+00:00", f"{API}:1.5.0", env="dev"),)
    result = only(order(facts(item("1.5.0"), source_history=history), NoOptions()))
    assert result.status == "fail"


def test_order_passes_without_a_source_environment() -> None:
    result = only(order(facts(source_env=None, source_history=None), NoOptions()))
    assert result.status == "pass"
    assert result.reason == "prod has no source environment (no `from`): nothing to check"


def test_rollback_order_checks_the_target_history() -> None:
    target = (dep("f", "2024-04-01T09:00:00+00:00", f"{API}:1.3.0", env="prod"),)
    ok = only(order(facts(item("1.3.0"), kind="rollback", target_history=target), NoOptions()))
    assert ok.status == "pass"
    assert ok.reason.startswith("rollback: api 1.3.0 ran in prod before (commit ffffffffffff")

    bad = only(order(facts(item("1.2.0"), kind="rollback", target_history=target), NoOptions()))
    assert bad.status == "fail"
    assert bad.reason == "rollback to api 1.2.0, which never ran in prod"
    assert "promoter history --env prod --service api" in bad.fix

    unknown = only(order(facts(item("1.3.0"), kind="rollback"), NoOptions()))
    assert unknown.status == "error"


# ----------------------------------------------------------------- soak


def test_soak_fails_with_the_time_to_go_and_when() -> None:
    result = only(soak(facts(), SoakOptions(30 * 60)))
    assert result.status == "fail"
    assert result.reason == "api 1.4.2 has been in staging for 12m; soak needs 30m (18m to go)"
    assert result.fix == "wait until 2024-05-03 14:38 UTC, then run /check again"


def test_soak_passes_once_long_enough() -> None:
    result = only(soak(facts(item("1.4.2")), SoakOptions(10 * 60)))
    assert result.status == "pass"
    assert result.reason == (
        "api 1.4.2 has been in staging for 12m (since 2024-05-03 14:08 UTC); soak needs 10m"
    )
    assert result.fix == ""


@pytest.mark.parametrize("seconds,status", [(12 * 60, "pass"), (12 * 60 + 1, "fail")])
def test_soak_exactly_at_the_boundary_passes(seconds: int, status: str) -> None:
    assert only(soak(facts(), SoakOptions(seconds))).status == status


def test_soak_counts_a_replaced_version_until_it_was_replaced() -> None:
    # 1.4.1 ran from 05-02 09:00 until 1.4.2 replaced it on 05-03 14:08: 1d5h8m.
    long_enough = only(soak(facts(item("1.4.1")), SoakOptions(86400)))
    assert long_enough.status == "pass"
    assert long_enough.reason == (
        "api 1.4.1 was in staging for 1d5h before 1.4.2 replaced it; soak needs 1d"
    )
    too_short = only(soak(facts(item("1.4.1")), SoakOptions(2 * 86400)))
    assert too_short.status == "fail"
    assert "was in staging for only 1d5h before 1.4.2 replaced it" in too_short.reason


def test_soak_counts_from_the_latest_arrival_of_a_version() -> None:
    history = (
        dep("3", "2024-05-03T14:00:00+00:00", f"{API}:1.4.2"),  # back again: 20m ago
        dep("2", "2024-05-02T10:00:00+00:00", f"{API}:1.4.1"),
        dep("1", "2024-05-01T10:00:00+00:00", f"{API}:1.4.2"),  # first time: 2 days ago
    )
    result = only(soak(facts(source_history=history), SoakOptions(3600)))
    assert result.status == "fail"
    assert "has been in staging for 20m" in result.reason


def test_soak_without_a_commit_for_the_version_fails() -> None:
    result = only(soak(facts(item("1.5.0")), SoakOptions(60)))
    assert result.status == "fail"
    assert "no promoter commit put api 1.5.0 into staging" in result.reason


def test_soak_without_history_is_an_error() -> None:
    result = only(soak(facts(source_history=None), SoakOptions(60)))
    assert result.status == "error"


def test_soak_drops_entries_whose_date_does_not_parse() -> None:
    history = (dep("1", "yesterday", f"{API}:1.4.2"),)
    assert only(soak(facts(source_history=history), SoakOptions(60))).status == "fail"


def test_soak_does_not_hold_back_rollbacks_or_first_environments() -> None:
    assert only(soak(facts(kind="rollback"), SoakOptions(86400))).status == "pass"
    assert only(soak(facts(source_env=None), SoakOptions(86400))).status == "pass"


def test_a_commit_date_in_the_future_counts_as_no_time() -> None:
    history = (dep("1", "2024-05-03T15:00:00+00:00", f"{API}:1.4.2"),)
    result = only(soak(facts(source_history=history), SoakOptions(60)))
    assert result.status == "fail"
    assert "for 0s; soak needs 1m (1m to go)" in result.reason


# ----------------------------------------------------------------- healthy-upstream


def test_healthy_upstream_passes_on_success() -> None:
    result = only(healthy_upstream(facts(apply_statuses={"c" * 40: "success"}), NoOptions()))
    assert result.status == "pass"
    assert result.reason == "staging's applier reported success for commit cccccccccccc (api 1.4.2)"


@pytest.mark.parametrize("state", ["failure", "error"])
def test_healthy_upstream_fails_on_failure(state: str) -> None:
    result = only(healthy_upstream(facts(apply_statuses={"c" * 40: state}), NoOptions()))
    assert result.status == "fail"
    assert (
        result.reason == f"staging's applier reported {state} for commit cccccccccccc (api 1.4.2)"
    )
    assert "fix staging first" in result.fix


def test_healthy_upstream_fails_while_pending() -> None:
    result = only(healthy_upstream(facts(apply_statuses={"c" * 40: "pending"}), NoOptions()))
    assert result.status == "fail"
    assert "still applying" in result.reason


def test_healthy_upstream_warns_when_no_applier_reports() -> None:
    result = only(healthy_upstream(facts(), NoOptions()))
    assert result.status == "warn"
    assert "no applier reported on commit cccccccccccc" in result.reason


def test_the_newest_status_while_the_version_ran_decides() -> None:
    # 1.4.1 landed in b, worker changed in w (applied cleanly), then c replaced 1.4.1.
    statuses = {"b" * 40: "failure", "w" * 40: "success", "c" * 40: "failure"}
    result = only(healthy_upstream(facts(item("1.4.1"), apply_statuses=statuses), NoOptions()))
    assert result.status == "pass"
    assert "commit wwwwwwwwwwww" in result.reason


def test_healthy_upstream_errors_without_statuses() -> None:
    result = only(healthy_upstream(facts(apply_statuses=None), NoOptions()))
    assert result.status == "error"
    assert "commit statuses were not read" in result.reason


def test_healthy_upstream_warns_when_no_commit_put_the_version_there() -> None:
    result = only(healthy_upstream(facts(item("1.5.0")), NoOptions()))
    assert result.status == "warn"


def test_healthy_upstream_skips_rollbacks() -> None:
    assert only(healthy_upstream(facts(kind="rollback"), NoOptions())).status == "pass"
