"""Rules about where a version comes from, read from Git history: order,
soak and healthy-upstream.

"The commit that put a version into the source environment" is the *latest*
deployment of that version there: when a version left and came back, its
soak time starts again, because the environment only ran it since then.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from promoter.core.images import ImageRef, parse_reference
from promoter.core.policy.controller_health import controller_results
from promoter.core.policy.durations import format_duration, format_utc
from promoter.core.policy.facts import Facts, Item
from promoter.core.policy.result import ERROR, FAIL, PASS, WARN, Result
from promoter.core.policy.settings import NoOptions, SoakOptions
from promoter.core.policy.versions import same_version, version
from promoter.core.trailers import Deployment
from promoter.errors import ImageRefError

__all__ = ["healthy_upstream", "order", "same_version", "soak", "version"]


def when(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")


@dataclass(frozen=True)
class _Entry:
    deployment: Deployment
    at: datetime
    ref: ImageRef | None


@dataclass(frozen=True)
class Landing:
    """The deployment that last put a version into an environment."""

    entry: _Entry
    replaced_by: _Entry | None
    """The next change of that service there, if any."""
    later: tuple[_Entry, ...]
    """Every deployment (any service) from the landing until it was replaced."""

    @property
    def commit(self) -> str:
        return self.entry.deployment.commit


def _timeline(history: tuple[Deployment, ...], env: str) -> list[_Entry]:
    """The environment's deployments, oldest first. Entries whose date does not
    parse are dropped: a rule then finds less history, which fails, never passes."""
    entries = []
    for d in history:
        if d.env not in (env, ""):
            continue
        try:
            at = datetime.fromisoformat(d.date)
        except ValueError:
            continue
        if at.utcoffset() is None:
            at = at.replace(tzinfo=UTC)  # git always writes an offset; be safe
        try:
            ref: ImageRef | None = parse_reference(d.to_ref)
        except ImageRefError:
            ref = None
        entries.append(_Entry(d, at, ref))
    return sorted(entries, key=lambda e: e.at)


def landing(history: tuple[Deployment, ...], env: str, item: Item) -> Landing | None:
    """When `item.new` last arrived in `env`, and what happened after."""
    timeline = _timeline(history, env)
    index = None
    for i, entry in enumerate(timeline):
        if entry.deployment.service == item.service and _is(entry, item.new):
            index = i
    if index is None:
        return None
    later = [timeline[index]]
    for entry in timeline[index + 1 :]:
        if entry.deployment.service == item.service and not _is(entry, item.new):
            return Landing(timeline[index], entry, tuple(later))
        later.append(entry)
    return Landing(timeline[index], None, tuple(later))


def _is(entry: _Entry, ref: ImageRef) -> bool:
    return entry.ref is not None and same_version(entry.ref, ref)


def _no_source(rule: str, facts: Facts) -> list[Result] | None:
    """The one result for proposals this rule does not apply to, else None."""
    if facts.kind == "rollback" and rule != "order":
        return [Result(rule, PASS, "", "rollbacks are not held back by this rule")]
    if facts.source_env is None and facts.kind != "rollback":
        return [
            Result(
                rule,
                PASS,
                "",
                f"{facts.target_env} has no source environment (no `from`): nothing to check",
            )
        ]
    return None


# --------------------------------------------------------------------------- order


def order(facts: Facts, options: NoOptions) -> list[Result]:
    """Each version is (or was) running in the source environment; a
    rollback's version ran in the target environment before."""
    skipped = _no_source("order", facts)
    if skipped is not None:
        return skipped
    if facts.kind == "rollback":
        return [_rollback_order(facts, item) for item in facts.items]
    return [_order(facts, item) for item in facts.items]


def _order(facts: Facts, item: Item) -> Result:
    source = facts.source_env or ""
    what = f"{item.service} {version(item.new)}"
    found = None if facts.source_history is None else landing(facts.source_history, source, item)
    if found is not None:
        return Result(
            "order",
            PASS,
            item.service,
            f"{what} reached {source} in commit {found.commit[:12]} on {when(found.entry.at)}",
        )
    current = None if facts.source_current is None else facts.source_current.get(item.service)
    if current is not None and same_version(current, item.new):
        return Result("order", PASS, item.service, f"{what} runs in {source} now")
    if facts.source_history is None or facts.source_current is None:
        return Result(
            "order",
            ERROR,
            item.service,
            f"cannot tell whether {what} ran in {source}: its history was not read",
            f"re-run the check with access to {source}'s branch",
        )
    now_there = f" ({source} runs {version(current)} now)" if current is not None else ""
    return Result(
        "order",
        FAIL,
        item.service,
        f"{what} has never run in {source}{now_there}",
        f"promote {what} to {source} first, or promote the version {source} runs",
    )


def _rollback_order(facts: Facts, item: Item) -> Result:
    target = facts.target_env
    what = f"{item.service} {version(item.new)}"
    if facts.target_history is None:
        return Result(
            "order",
            ERROR,
            item.service,
            f"cannot verify the rollback: {target}'s history was not read",
            f"re-run the check with access to {target}'s branch",
        )
    found = landing(facts.target_history, target, item)
    if found is None:
        return Result(
            "order",
            FAIL,
            item.service,
            f"rollback to {what}, which never ran in {target}",
            f"roll back to a version from `promoter history --env {target} "
            f"--service {item.service}`",
        )
    return Result(
        "order",
        PASS,
        item.service,
        f"rollback: {what} ran in {target} before "
        f"(commit {found.commit[:12]}, {when(found.entry.at)})",
    )


# --------------------------------------------------------------------------- soak


def soak(facts: Facts, options: SoakOptions) -> list[Result]:
    """Each version has been in the source environment for `options.seconds`,
    counted from the latest commit that put it there (until now, or until
    another version replaced it)."""
    skipped = _no_source("soak", facts)
    if skipped is not None:
        return skipped
    if facts.source_history is None:
        return [
            Result(
                "soak",
                ERROR,
                "",
                f"{facts.source_env}'s history was not read, so soak time cannot be counted",
                f"re-run the check with access to {facts.source_env}'s branch",
            )
        ]
    return [_soak(facts, options, item) for item in facts.items]


def _soak(facts: Facts, options: SoakOptions, item: Item) -> Result:
    source = facts.source_env or ""
    what = f"{item.service} {version(item.new)}"
    need = timedelta(seconds=options.seconds)
    found = landing(facts.source_history or (), source, item)
    if found is None:
        return Result(
            "soak",
            FAIL,
            item.service,
            f"no promoter commit put {what} into {source}, so its soak time cannot be counted",
            f"promote it into {source} with promoter and wait {options.text}",
        )
    since = found.entry.at
    if found.replaced_by is not None:
        stayed = max(found.replaced_by.at - since, timedelta(0))
        ref = found.replaced_by.ref
        by = version(ref) if ref is not None else found.replaced_by.deployment.to_ref
        if stayed >= need:
            return Result(
                "soak",
                PASS,
                item.service,
                f"{what} was in {source} for {format_duration(stayed.total_seconds())} "
                f"before {by} replaced it; soak needs {options.text}",
            )
        return Result(
            "soak",
            FAIL,
            item.service,
            f"{what} was in {source} for only {format_duration(stayed.total_seconds())} "
            f"before {by} replaced it; soak needs {options.text}",
            f"promote the version {source} runs now once it has soaked {options.text}",
        )
    stayed = max(facts.now - since, timedelta(0))
    if stayed >= need:
        return Result(
            "soak",
            PASS,
            item.service,
            f"{what} has been in {source} for {format_duration(stayed.total_seconds())} "
            f"(since {when(since)}); soak needs {options.text}",
        )
    left = need - stayed
    return Result(
        "soak",
        FAIL,
        item.service,
        f"{what} has been in {source} for {format_duration(stayed.total_seconds())}; "
        f"soak needs {options.text} ({format_duration(left.total_seconds())} to go)",
        f"wait until {format_utc(since + need)}, then run /check again",
    )


# --------------------------------------------------------------------------- healthy-upstream


def healthy_upstream(facts: Facts, options: NoOptions) -> list[Result]:
    """The source environment's applier reported success while it ran each
    version: the newest `promoter/apply` status among the source commits from
    the one that put the version there until it was replaced decides (an
    applier may skip commits that landed together). No status at all: pass
    with a warning, since not every environment runs an applier that reports."""
    skipped = _no_source("healthy-upstream", facts)
    if skipped is not None:
        return skipped
    if facts.controllers is not None:
        return controller_results(facts)
    if facts.apply_statuses is None or facts.source_history is None:
        missing = "commit statuses" if facts.apply_statuses is None else "history"
        return [
            Result(
                "healthy-upstream",
                ERROR,
                "",
                f"{facts.source_env}'s {missing} were not read",
                "re-run the check with access to the forge and the environment repository",
            )
        ]
    return [_healthy(facts, item) for item in facts.items]


def _healthy(facts: Facts, item: Item) -> Result:
    source = facts.source_env or ""
    statuses = facts.apply_statuses or {}
    what = f"{item.service} {version(item.new)}"
    found = landing(facts.source_history or (), source, item)
    if found is None:
        return Result(
            "healthy-upstream",
            WARN,
            item.service,
            f"no promoter commit put {what} into {source}; its applier status was not checked",
            f"promote it into {source} with promoter so its commit can be traced",
        )
    for entry in reversed(found.later):
        sha = entry.deployment.commit
        state = statuses.get(sha)
        if state is None:
            continue
        if state == "success":
            return Result(
                "healthy-upstream",
                PASS,
                item.service,
                f"{source}'s applier reported success for commit {sha[:12]} ({what})",
            )
        if state == "pending":
            return Result(
                "healthy-upstream",
                FAIL,
                item.service,
                f"{source}'s applier is still applying commit {sha[:12]} ({what})",
                "wait for the promoter/apply status to finish, then run /check again",
            )
        return Result(
            "healthy-upstream",
            FAIL,
            item.service,
            f"{source}'s applier reported {state} for commit {sha[:12]} ({what})",
            f"fix {source} first (see the promoter/apply status of {sha[:12]}), "
            "or promote a version that applied cleanly",
        )
    return Result(
        "healthy-upstream",
        WARN,
        item.service,
        f"no applier reported on commit {found.commit[:12]} that put {what} into {source} "
        "(no promoter/apply status)",
        f"run an applier for {source} that reports promoter/apply, "
        "or drop healthy-upstream for this environment",
    )
