"""Rules about people and time: approvals and freeze windows.

Who counts as an approver (both rules):
- a user's *latest* review decides (a later "changes requested" or a
  dismissal takes an approval back; plain comments do not);
- only approvals of the PR's current head count: the review's commit is the
  head commit or, when the forge does not say (GitLab), it was submitted at
  or after the head commit's date; an approval that cannot be dated does not
  count;
- the PR author's own approval never counts;
- when users/teams are configured, only those users and members of those
  teams (GitHub) or groups (GitLab) count.
"""

from __future__ import annotations

import zoneinfo
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime

from promoter.core.policy.cron import CronError, Window, parse_window
from promoter.core.policy.durations import format_utc
from promoter.core.policy.facts import Approval, Facts
from promoter.core.policy.result import ERROR, FAIL, PASS, SKIP, Result
from promoter.core.policy.settings import ApprovalsOptions, FreezeOptions

__all__ = ["Tally", "approvals", "freeze", "tally"]


@dataclass
class Tally:
    """The PR's reviewers, sorted by whether their approval counts."""

    counted: list[str] = field(default_factory=list)
    author: list[str] = field(default_factory=list)
    stale: list[str] = field(default_factory=list)
    undated: list[str] = field(default_factory=list)
    outsiders: list[str] = field(default_factory=list)

    def not_counted(self) -> str:
        """`bob (approved an older commit), carol (the author)`."""
        notes = [
            *(f"{u} (the author)" for u in self.author),
            *(f"{u} (approved an older commit)" for u in self.stale),
            *(f"{u} (cannot tell which commit they approved)" for u in self.undated),
            *(f"{u} (not in the allowed users/teams)" for u in self.outsiders),
        ]
        return ", ".join(notes)


def _latest_verdicts(reviews: Sequence[Approval]) -> list[Approval]:
    """Each user's latest review that is not a plain comment, in first-seen order."""
    ordered = sorted(
        enumerate(reviews),
        key=lambda pair: (
            pair[1].submitted_at.timestamp() if pair[1].submitted_at else float("-inf"),
            pair[0],
        ),
    )
    latest: dict[str, Approval] = {}
    for _, review in ordered:
        if review.state != "COMMENTED":
            latest[review.user.casefold()] = review
    return list(latest.values())


def _is_current(review: Approval, facts: Facts) -> bool | None:
    if facts.head_sha and review.commit_sha:
        return review.commit_sha == facts.head_sha
    if facts.head_date is not None and review.submitted_at is not None:
        return review.submitted_at >= facts.head_date
    return None


def tally(facts: Facts, users: Sequence[str], teams: Sequence[str]) -> Tally:
    """Sort the PR's approvals; `users`/`teams` empty: anyone may approve."""
    allowed_users = {u.casefold() for u in users}
    allowed_teams = {t.casefold() for t in teams}
    author = (facts.author or "").casefold()
    result = Tally()
    for review in _latest_verdicts(facts.approvals or ()):
        if review.state != "APPROVED":
            continue
        if author and review.user.casefold() == author:
            result.author.append(review.user)
            continue
        current = _is_current(review, facts)
        if current is None:
            result.undated.append(review.user)
            continue
        if not current:
            result.stale.append(review.user)
            continue
        member = review.user.casefold() in allowed_users or any(
            t.casefold() in allowed_teams for t in review.teams
        )
        if (allowed_users or allowed_teams) and not member:
            result.outsiders.append(review.user)
            continue
        result.counted.append(review.user)
    return result


def _who(users: Sequence[str], teams: Sequence[str]) -> str:
    parts = []
    if users:
        parts.append("users " + ", ".join(users))
    if teams:
        parts.append("teams/groups " + ", ".join(teams))
    return " or ".join(parts) if parts else "reviewers other than the author"


def _no_pr(rule: str, facts: Facts) -> Result | None:
    if facts.approvals is None and not facts.require_reviews:
        # A local check has no reviews to read: saying "failed" would make
        # it fail forever, saying "passed" would be a lie.
        return Result(
            rule,
            SKIP,
            "",
            "not evaluated locally: approvals live on the pull/merge request",
            "run `promoter check --pr N` on the promotion PR "
            "(or --require-approvals to count this as a failure here)",
        )
    if facts.approvals is None:
        return Result(
            rule,
            ERROR,
            "",
            "there is no pull/merge request to read approvals from",
            "open the promotion PR (promoter promote) and run the check on it",
        )
    if facts.head_sha is None and facts.head_date is None:
        return Result(
            rule,
            ERROR,
            "",
            "the PR's head commit is unknown, so approvals cannot be matched to it",
            "re-run the check with access to the forge",
        )
    return None


# --------------------------------------------------------------------------- approvals


def approvals(facts: Facts, options: ApprovalsOptions) -> list[Result]:
    """At least `count` current approvals from allowed approvers."""
    missing = _no_pr("approvals", facts)
    if missing is not None:
        return [missing]
    teams = (*options.teams, *options.groups)
    found = tally(facts, options.users, teams)
    have, need = len(found.counted), options.count
    names = f" ({', '.join(found.counted)})" if found.counted else ""
    ignored = found.not_counted()
    ignored = f"; not counted: {ignored}" if ignored else ""
    if have >= need:
        return [Result("approvals", PASS, "", f"{have} of {need} approvals{names}{ignored}")]
    return [
        Result(
            "approvals",
            FAIL,
            "",
            f"{have} of {need} approvals{names}{ignored}",
            f"ask {need - have} more of {_who(options.users, teams)} "
            "to approve the PR's latest commit",
        )
    ]


# --------------------------------------------------------------------------- freeze


def freeze(facts: Facts, options: FreezeOptions) -> list[Result]:
    """Refuse promotions while the clock (in `options.timezone`) is inside a
    deny window, unless the PR carries the override label and enough current
    approvals (not the author's) from the override approvers."""
    try:
        zone = zoneinfo.ZoneInfo(options.timezone)
        windows = [parse_window(w) for w in options.deny]
    except (zoneinfo.ZoneInfoNotFoundError, ValueError, CronError) as err:
        return [
            Result(
                "freeze",
                ERROR,
                "",
                f"freeze windows cannot be read: {err}",
                "fix the freeze options in promoter.yaml",
            )
        ]
    wall = facts.now.astimezone(zone).replace(tzinfo=None)
    active = _active(windows, wall)
    if active is None:
        return [
            Result(
                "freeze",
                PASS,
                "",
                f"not in a freeze window ({facts.now.astimezone(zone):%a %H:%M} "
                f"{options.timezone})",
            )
        ]
    window, end = active
    until = "further notice" if end is None else _local(end, zone, options.timezone)
    frozen = f"{facts.target_env} is frozen until {until} (window '{window.text}')"
    label = options.override_label
    if label not in (facts.labels or ()):
        wait = "" if end is None else f"wait until {format_utc(end.replace(tzinfo=zone))}, or "
        return [
            Result(
                "freeze",
                FAIL,
                "",
                frozen,
                f"{wait}add the label '{label}' and get {options.override_approvals} "
                f"approval(s) from {_who(options.override_users, options.override_teams)}",
            )
        ]
    missing = _no_pr("freeze", facts)
    if missing is not None:
        return [missing]
    found = tally(facts, options.override_users, options.override_teams)
    have, need = len(found.counted), options.override_approvals
    if have >= need:
        return [
            Result(
                "freeze",
                PASS,
                "",
                f"{frozen}, overridden by label '{label}' approved by {', '.join(found.counted)}",
            )
        ]
    ignored = found.not_counted()
    return [
        Result(
            "freeze",
            FAIL,
            "",
            f"{frozen}; label '{label}' is set but has {have} of {need} approvals"
            + (f" (not counted: {ignored})" if ignored else ""),
            f"ask {need - have} more of "
            f"{_who(options.override_users, options.override_teams)} "
            "to approve the PR's latest commit",
        )
    ]


def _active(windows: list[Window], wall: datetime) -> tuple[Window, datetime | None] | None:
    """The window `wall` lies in that ends last, with its end (wall clock)."""
    best: tuple[Window, datetime | None] | None = None
    for window in windows:
        span = window.active_at(wall)
        if span is None:
            continue
        end = span[1]
        if best is None or end is None or (best[1] is not None and end > best[1]):
            best = (window, end)
    return best


def _local(wall: datetime, zone: zoneinfo.ZoneInfo, name: str) -> str:
    """`Mon 2024-05-06 08:00 Europe/Berlin (2024-05-06 06:00 UTC)`."""
    local = f"{wall:%a %Y-%m-%d %H:%M} {name}"
    utc = format_utc(wall.replace(tzinfo=zone))
    return local if utc.endswith(f"{wall:%Y-%m-%d %H:%M} UTC") else f"{local} ({utc})"
