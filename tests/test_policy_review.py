"""approvals and freeze: who counts as an approver, and deny windows."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import pytest

from promoter.core.images import parse_reference
from promoter.core.policy.facts import Approval, Facts, Item
from promoter.core.policy.result import Result
from promoter.core.policy.rules import approvals, freeze
from promoter.core.policy.settings import ApprovalsOptions, FreezeOptions

HEAD = "h" * 40
OLD = "o" * 40
HEAD_DATE = datetime.fromisoformat("2024-05-03T12:00:00+00:00")
NOW = datetime.fromisoformat("2024-05-03T14:00:00+00:00")  # a Friday, 16:00 in Berlin


def at(text: str) -> datetime:
    return datetime.fromisoformat(text)


def review(user: str, state: str = "APPROVED", sha: str | None = HEAD, **kw: Any) -> Approval:
    kw.setdefault("submitted_at", at("2024-05-03T13:00:00+00:00"))
    return Approval(user=user, state=state, commit_sha=sha, **kw)


def facts(*reviews: Approval, **changes: Any) -> Facts:
    fields: dict[str, Any] = {
        "kind": "promotion",
        "target_env": "prod",
        "source_env": "staging",
        "items": (Item("api", parse_reference("ghcr.io/acme/api:1.4.2")),),
        "now": NOW,
        "approvals": reviews,
        "author": "alice",
        "head_sha": HEAD,
        "head_date": HEAD_DATE,
        "labels": (),
    }
    fields.update(changes)
    return Facts(**fields)


def only(results: list[Result]) -> Result:
    assert len(results) == 1, results
    return results[0]


# ----------------------------------------------------------------- approvals


def test_enough_current_approvals_pass() -> None:
    result = only(approvals(facts(review("bob"), review("carol")), ApprovalsOptions(count=2)))
    assert (result.rule, result.status, result.subject) == ("approvals", "pass", "")
    assert result.reason == "2 of 2 approvals (bob, carol)"


def test_too_few_approvals_fail_with_who_to_ask() -> None:
    result = only(approvals(facts(review("bob")), ApprovalsOptions(count=2, teams=("sre",))))
    assert result.status == "fail"
    assert result.reason == "0 of 2 approvals; not counted: bob (not in the allowed users/teams)"
    assert result.fix == "ask 2 more of teams/groups sre to approve the PR's latest commit"


def test_the_authors_own_approval_never_counts() -> None:
    result = only(approvals(facts(review("Alice"), review("bob")), ApprovalsOptions(count=2)))
    assert result.status == "fail"
    assert result.reason == "1 of 2 approvals (bob); not counted: Alice (the author)"


def test_an_approval_of_an_older_commit_is_stale() -> None:
    result = only(approvals(facts(review("bob", sha=OLD)), ApprovalsOptions()))
    assert result.status == "fail"
    assert result.reason == "0 of 1 approvals; not counted: bob (approved an older commit)"


def test_without_commit_shas_approvals_after_the_head_commit_count() -> None:
    before = review("bob", sha=None, submitted_at=at("2024-05-03T11:59:59+00:00"))
    after = review("carol", sha=None, submitted_at=at("2024-05-03T14:00:00+02:00"))  # 12:00 UTC
    result = only(approvals(facts(before, after), ApprovalsOptions(count=2)))
    assert result.reason == "1 of 2 approvals (carol); not counted: bob (approved an older commit)"


def test_an_approval_that_cannot_be_dated_does_not_count() -> None:
    undated = review("bob", sha=None, submitted_at=None)
    result = only(approvals(facts(undated, head_date=None), ApprovalsOptions()))
    assert result.status == "fail"
    assert "bob (cannot tell which commit they approved)" in result.reason


def test_the_latest_review_of_a_person_decides() -> None:
    first = review("bob", submitted_at=at("2024-05-03T13:00:00+00:00"))
    later = review("bob", "CHANGES_REQUESTED", submitted_at=at("2024-05-03T13:30:00+00:00"))
    comment = review("bob", "COMMENTED", submitted_at=at("2024-05-03T13:45:00+00:00"))
    assert only(approvals(facts(first, later), ApprovalsOptions())).status == "fail"
    assert only(approvals(facts(later, first), ApprovalsOptions())).status == "fail"
    # a comment after an approval does not take it back
    assert only(approvals(facts(first, comment), ApprovalsOptions())).status == "pass"


def test_one_person_counts_once() -> None:
    twice = (review("bob"), review("BOB", submitted_at=at("2024-05-03T13:10:00+00:00")))
    result = only(approvals(facts(*twice), ApprovalsOptions(count=2)))
    assert result.status == "fail"
    assert result.reason.startswith("1 of 2 approvals")


def test_users_and_team_members_count() -> None:
    options = ApprovalsOptions(count=3, users=("Bob",), teams=("sre",), groups=("acme/ops",))
    reviews = (
        review("bob"),  # listed user (case does not count)
        review("carol", teams=("SRE", "web")),  # member of a listed team
        review("dave", teams=("acme/ops",)),  # member of a listed GitLab group
        review("erin", teams=("web",)),  # neither
    )
    result = only(approvals(facts(*reviews), options))
    assert result.status == "pass"
    assert result.reason == (
        "3 of 3 approvals (bob, carol, dave); not counted: erin (not in the allowed users/teams)"
    )


def test_approvals_without_a_pr_are_not_evaluated() -> None:
    result = only(approvals(facts(approvals=None), ApprovalsOptions()))
    assert result.status == "skipped" and not result.blocks
    assert result.reason.startswith("not evaluated locally")


def test_approvals_without_a_pr_are_an_error_when_required() -> None:
    result = only(approvals(facts(approvals=None, require_reviews=True), ApprovalsOptions()))
    assert result.status == "error"
    assert "no pull/merge request" in result.reason


def test_approvals_without_a_known_head_are_an_error() -> None:
    result = only(
        approvals(facts(review("bob"), head_sha=None, head_date=None), ApprovalsOptions())
    )
    assert result.status == "error"


# ----------------------------------------------------------------- freeze

WEEKEND = FreezeOptions(deny=("0 15 * * 5 - 0 8 * * 1",), timezone="Europe/Berlin")


def test_inside_a_window_fails_with_when_it_ends() -> None:
    result = only(freeze(facts(), WEEKEND))
    assert (result.rule, result.status) == ("freeze", "fail")
    assert result.reason == (
        "prod is frozen until Mon 2024-05-06 08:00 Europe/Berlin (2024-05-06 06:00 UTC) "
        "(window '0 15 * * 5 - 0 8 * * 1')"
    )
    assert result.fix == (
        "wait until 2024-05-06 06:00 UTC, or add the label 'freeze-override' and get "
        "1 approval(s) from reviewers other than the author"
    )


def test_outside_every_window_passes() -> None:
    result = only(freeze(facts(now=at("2024-05-03T12:59:00+00:00")), WEEKEND))
    assert result.status == "pass"
    assert result.reason == "not in a freeze window (Fri 14:59 Europe/Berlin)"


@pytest.mark.parametrize(
    "now,status",
    [
        # spring forward: Monday 08:00 CEST is 06:00 UTC
        ("2024-04-01T05:59:00+00:00", "fail"),
        ("2024-04-01T06:00:00+00:00", "pass"),
        # fall back: Monday 08:00 CET is 07:00 UTC
        ("2024-10-28T06:59:00+00:00", "fail"),
        ("2024-10-28T07:00:00+00:00", "pass"),
        # Friday 15:00 CEST is 13:00 UTC
        ("2024-10-25T12:59:00+00:00", "pass"),
        ("2024-10-25T13:00:00+00:00", "fail"),
    ],
)
def test_berlin_weekend_across_dst(now: str, status: str) -> None:
    assert only(freeze(facts(now=at(now)), WEEKEND)).status == status


def test_window_end_is_shown_in_local_time_after_a_dst_change() -> None:
    result = only(freeze(facts(now=at("2024-10-26T12:00:00+00:00")), WEEKEND))
    assert "until Mon 2024-10-28 08:00 Europe/Berlin (2024-10-28 07:00 UTC)" in result.reason


def test_nightly_window_across_midnight_in_utc() -> None:
    nightly = FreezeOptions(deny=("0 22 * * * - 0 6 * * *",))
    assert only(freeze(facts(now=at("2024-05-03T23:30:00+00:00")), nightly)).status == "fail"
    assert only(freeze(facts(now=at("2024-05-04T05:59:00+00:00")), nightly)).status == "fail"
    assert only(freeze(facts(now=at("2024-05-04T06:00:00+00:00")), nightly)).status == "pass"


def test_the_window_that_ends_last_is_reported() -> None:
    both = FreezeOptions(deny=("0 22 * * * - 0 6 * * *", "0 15 * * 5 - 0 8 * * 1"))
    result = only(freeze(facts(now=at("2024-05-03T23:00:00+00:00")), both))
    assert "until Mon 2024-05-06 08:00 UTC" in result.reason


def test_override_label_with_an_approval_passes() -> None:
    result = only(freeze(facts(review("bob"), labels=("freeze-override",)), WEEKEND))
    assert result.status == "pass"
    assert result.reason.endswith(", overridden by label 'freeze-override' approved by bob")


def test_override_label_without_approval_fails() -> None:
    result = only(freeze(facts(labels=("freeze-override",)), WEEKEND))
    assert result.status == "fail"
    assert "label 'freeze-override' is set but has 0 of 1 approvals" in result.reason
    assert result.fix == (
        "ask 1 more of reviewers other than the author to approve the PR's latest commit"
    )


def test_override_approval_by_the_author_or_a_stale_one_does_not_count() -> None:
    reviews = (review("alice"), review("bob", sha=OLD))
    result = only(freeze(facts(*reviews, labels=("freeze-override",)), WEEKEND))
    assert result.status == "fail"
    assert "(not counted: alice (the author), bob (approved an older commit))" in result.reason


def test_override_approvers_can_be_restricted() -> None:
    options = FreezeOptions(
        deny=WEEKEND.deny,
        timezone="Europe/Berlin",
        override_label="hotfix",
        override_approvals=2,
        override_users=("carol",),
        override_teams=("sre",),
    )
    reviews = (review("bob"), review("carol"), review("dave", teams=("sre",)))
    ok = only(freeze(facts(*reviews, labels=("hotfix",)), options))
    assert ok.status == "pass"
    assert ok.reason.endswith("approved by carol, dave")
    short = only(freeze(facts(*reviews[:2], labels=("hotfix",)), options))
    assert short.status == "fail"
    assert "ask 1 more of users carol or teams/groups sre" in short.fix
    # the default label means nothing when another one is configured
    assert only(freeze(facts(*reviews, labels=("freeze-override",)), options)).status == "fail"


def test_freeze_without_a_pr_still_knows_the_time() -> None:
    outside = facts(approvals=None, labels=None, now=at("2024-05-01T12:00:00+00:00"))
    assert only(freeze(outside, WEEKEND)).status == "pass"
    assert only(freeze(facts(approvals=None, labels=None), WEEKEND)).status == "fail"


def test_a_hand_built_bad_time_zone_is_an_error() -> None:
    bad = FreezeOptions(deny=WEEKEND.deny, timezone="Mars/Olympus")
    result = only(freeze(facts(), bad))
    assert result.status == "error"
    assert "freeze windows cannot be read" in result.reason
