"""The engine's verdicts, severities and JSON; the report's Markdown table,
status line and plain text; Facts' own checks; the whole path from
promoter.yaml to a report."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

import pytest

from promoter.core.config.loader import parse_config
from promoter.core.images import parse_reference
from promoter.core.plans import PlanItem
from promoter.core.policy import rules
from promoter.core.policy.engine import Report, evaluate
from promoter.core.policy.facts import Approval, Facts, Item, RegistryFacts, items_from_plan
from promoter.core.policy.report import MAX_STATUS_LENGTH, markdown, status_line, text
from promoter.core.policy.result import Result
from promoter.core.policy.settings import RULES, NoOptions, PolicyConfig, SoakOptions
from promoter.core.trailers import Deployment

NOW = datetime.fromisoformat("2024-05-03T14:20:00+00:00")  # a Friday


def facts(**changes: Any) -> Facts:
    fields: dict[str, Any] = {
        "kind": "promotion",
        "target_env": "prod",
        "source_env": "staging",
        "items": (
            Item(
                "api",
                parse_reference("ghcr.io/acme/api:1.4.2"),
                parse_reference("ghcr.io/acme/api:1.4.1"),
            ),
        ),
        "now": NOW,
        "source_history": (
            Deployment(
                "c" * 40,
                "2024-05-03T14:08:00+00:00",
                "ci",
                "api",
                "staging",
                None,
                "ghcr.io/acme/api:1.4.2",
                "promotion",
            ),
        ),
        "source_current": {},
    }
    fields.update(changes)
    return Facts(**fields)


def test_no_policies_pass_with_no_results() -> None:
    report = evaluate(facts(), ())
    assert report.results == ()
    assert report.verdict == "pass" and report.passed
    assert markdown(report) == (
        "### Policy checks for `prod`: ✅ nothing to check\n\n"
        "No policies are configured for `prod`.\n"
    )
    assert status_line(report) == "no policies configured"


def test_all_passing_rules_pass() -> None:
    report = evaluate(facts(), [PolicyConfig("order"), PolicyConfig("no-downgrade")])
    assert [(r.rule, r.status) for r in report.results] == [
        ("order", "pass"),
        ("no-downgrade", "pass"),
    ]
    assert report.verdict == "pass"
    assert status_line(report) == "all 2 checks passed"


def test_one_failure_fails_the_check() -> None:
    report = evaluate(facts(), [PolicyConfig("order"), PolicyConfig("soak", SoakOptions(1800))])
    assert report.verdict == "fail"
    assert report.counts() == {"pass": 1, "fail": 1, "warn": 0, "error": 0, "skipped": 0}
    assert status_line(report) == "1 failed, 1 passed: soak (api)"


def test_an_error_fails_the_check_too() -> None:
    report = evaluate(facts(), [PolicyConfig("image-exists")])  # no registry facts
    assert [r.status for r in report.results] == ["error"]
    assert report.verdict == "fail"


def test_warnings_do_not_fail_the_check() -> None:
    main = facts(
        items=(
            Item(
                "api",
                parse_reference("ghcr.io/acme/api:main-1"),
                parse_reference("ghcr.io/acme/api:main-0"),
            ),
        )
    )
    report = evaluate(main, [PolicyConfig("no-downgrade")])
    assert [r.status for r in report.results] == ["warn"]
    assert report.verdict == "pass"
    assert status_line(report) == "all 1 checks passed, 1 warning(s)"


def test_severity_warn_reports_failures_and_errors_without_blocking() -> None:
    policies = [
        PolicyConfig("soak", SoakOptions(1800), severity="warn"),
        PolicyConfig("image-exists", severity="warn"),
        PolicyConfig("order", severity="warn"),
    ]
    report = evaluate(facts(), policies)
    assert [r.status for r in report.results] == ["warn", "warn", "pass"]
    assert report.results[0].reason.endswith("(18m to go) (severity: warn)")
    assert report.verdict == "pass"


def test_a_crashing_rule_fails_closed(monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(facts: Facts, options: NoOptions) -> list[Result]:
        raise KeyError("boom")

    monkeypatch.setitem(rules.RULE_FUNCTIONS, "order", broken)  # type: ignore[index]
    report = evaluate(facts(), [PolicyConfig("order"), PolicyConfig("no-downgrade")])
    assert [r.status for r in report.results] == ["error", "pass"]
    assert (
        "the rule crashed (KeyError: 'boom'); this is a bug in promoter" in report.results[0].reason
    )
    assert report.verdict == "fail"


def test_an_unknown_rule_in_a_hand_built_config_is_an_error() -> None:
    report = evaluate(facts(), [PolicyConfig("no-such-rule")])
    assert [(r.rule, r.status) for r in report.results] == [("no-such-rule", "error")]


def test_every_configurable_rule_has_a_function() -> None:
    assert tuple(rules.RULE_FUNCTIONS) == RULES


def test_report_json() -> None:
    report = evaluate(facts(), [PolicyConfig("soak", SoakOptions(1800))])
    data = json.loads(json.dumps(report.to_json()))
    assert data == {
        "target": "prod",
        "verdict": "fail",
        "counts": {"pass": 0, "fail": 1, "warn": 0, "error": 0, "skipped": 0},
        "results": [
            {
                "rule": "soak",
                "status": "fail",
                "subject": "api",
                "reason": "api 1.4.2 has been in staging for 12m; soak needs 30m (18m to go)",
                "fix": "wait until 2024-05-03 14:38 UTC, then run /check again",
            }
        ],
    }


# ----------------------------------------------------------------- the report


def mixed() -> Report:
    return Report(
        "prod",
        (
            Result("order", "pass", "api", "api 1.4.2 runs in staging now"),
            Result("soak", "fail", "api", "only 12m | not 30m", "wait\nuntil 14:38"),
            Result("healthy-upstream", "warn", "api", "no applier reported", "run an applier"),
            Result("image-exists", "error", "api", "could not look up", "check credentials"),
        ),
    )


def test_markdown_table_puts_what_to_do_first() -> None:
    assert markdown(mixed()) == (
        "### Policy checks for `prod`: ❌ 2 of 4 failed\n"
        "\n"
        "| | rule | service | result | how to fix |\n"
        "|---|---|---|---|---|\n"
        "| ❌ | `soak` | api | only 12m \\| not 30m | wait until 14:38 |\n"
        "| ❌ | `image-exists` | api | could not look up | check credentials |\n"
        "| ⚠️ | `healthy-upstream` | api | no applier reported | run an applier |\n"
        "| ✅ | `order` | api | api 1.4.2 runs in staging now | — |\n"
        "\n"
        "❌ 1 check(s) could not be made; they count as failures.\n"
    )


def test_markdown_heading_for_passing_reports() -> None:
    warned = Report("prod", (Result("x", "warn", "", "w"), Result("y", "pass", "", "p")))
    assert markdown(warned).startswith(
        "### Policy checks for `prod`: ✅ passed with 1 warning(s)\n"
    )
    clean = Report("prod", (Result("y", "pass", "", "p"),))
    assert markdown(clean).startswith("### Policy checks for `prod`: ✅ all 1 passed\n")
    assert "| ✅ | `y` | — | p | — |" in markdown(clean)


def test_status_line_names_the_failures() -> None:
    assert status_line(mixed()) == (
        "2 failed, 1 warning(s), 1 passed: soak (api), image-exists (api)"
    )


def test_status_line_fits_githubs_limit() -> None:
    many = Report(
        "prod",
        tuple(Result("approvals", "fail", f"service-number-{i}", "x") for i in range(40)),
    )
    line = status_line(many)
    assert len(line) <= MAX_STATUS_LENGTH
    assert line.startswith("40 failed, 0 passed: approvals (service-number-0)")
    assert line.endswith("…")


def test_plain_text() -> None:
    assert text(mixed()) == (
        "✅ order api: api 1.4.2 runs in staging now\n"
        "❌ soak api: only 12m | not 30m\n"
        "   fix: wait until 14:38\n"
        "⚠️ healthy-upstream api: no applier reported\n"
        "   fix: run an applier\n"
        "❌ image-exists api: could not look up\n"
        "   fix: check credentials\n"
        "fail: 2 failed, 1 warning(s), 1 passed: soak (api), image-exists (api)\n"
    )


def test_result_status_is_checked() -> None:
    with pytest.raises(ValueError, match="status must be one of"):
        Result("x", "ok", "", "")


# ----------------------------------------------------------------- facts


def test_facts_need_an_aware_now_and_a_known_kind() -> None:
    with pytest.raises(ValueError, match="time-zone aware"):
        facts(now=datetime(2024, 5, 3, 14, 0))
    with pytest.raises(ValueError, match="kind must be one of"):
        facts(kind="deploy")
    with pytest.raises(ValueError, match="head_date must be time-zone aware"):
        facts(head_date=datetime(2024, 5, 3))
    with pytest.raises(ValueError, match="submitted_at must be time-zone aware"):
        Approval("bob", submitted_at=datetime(2024, 5, 3))


def test_facts_copy_what_they_are_given() -> None:
    statuses = {"c" * 40: "success"}
    labels = ["freeze-override"]
    f = facts(apply_statuses=statuses, labels=labels)
    statuses["c" * 40] = "failure"
    labels.clear()
    assert f.apply_statuses == {"c" * 40: "success"}
    assert f.labels == ("freeze-override",)
    with pytest.raises(TypeError):
        f.apply_statuses["x"] = "success"  # type: ignore[index]


def test_items_from_a_plan() -> None:
    new, old = parse_reference("ghcr.io/acme/api:1.4.2"), parse_reference("ghcr.io/acme/api:1.4.1")
    plan = [PlanItem("api", "staging", "prod", new, old)]
    assert items_from_plan(plan) == (Item("api", new, old),)


# ----------------------------------------------------------------- end to end


def test_from_promoter_yaml_to_a_report() -> None:
    config = parse_config(
        """\
version: 1
environments:
  - name: staging
  - name: prod
    from: staging
    policies:
      soak: {duration: 10m}
      freeze: {deny: ["0 15 * * 5 - 0 8 * * 1"], timezone: Europe/Berlin}
      approvals: {count: 1}
defaults:
  policies:
    image-exists: {}
    no-downgrade: {severity: warn}
services: []
"""
    )
    head = "h" * 40
    checked = facts(
        approvals=(Approval("bob", commit_sha=head),),
        author="alice",
        head_sha=head,
        labels=("freeze-override",),
        registry={"api": RegistryFacts(exists=True, digest="sha256:" + "a" * 64)},
    )
    report = evaluate(checked, config.environment("prod").policies)
    assert [(r.rule, r.status) for r in report.results] == [
        ("soak", "pass"),
        ("no-downgrade", "pass"),
        ("image-exists", "pass"),
        ("freeze", "pass"),  # Friday 16:20 in Berlin: frozen, but overridden
        ("approvals", "pass"),
    ]
    assert "overridden by label 'freeze-override' approved by bob" in report.results[3].reason
    assert report.verdict == "pass"

    unapproved = evaluate(
        facts(approvals=(), author="alice", head_sha=head, labels=(), registry={}),
        config.environment("prod").policies,
    )
    assert [r.rule for r in unapproved.results if r.blocks] == [
        "image-exists",
        "freeze",
        "approvals",
    ]
    assert status_line(unapproved) == "3 failed, 2 passed: image-exists (api), freeze, approvals"
