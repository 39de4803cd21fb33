"""From what a command did to the notices it sends: one builder per event
source (a bump, a proposal, a merged PR, a policy check, an agent round).

`Origin` is what every notice says about where it comes from: who set it
off, the pipeline, and how to link a commit on the forge's web pages.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from promoter.core.applier.result import RoundResult
from promoter.core.forge import PullRequest
from promoter.core.images import ImageRef, reference_or_none
from promoter.core.notify.events import Change, Notice
from promoter.core.plans import PlanItem
from promoter.core.policy.engine import Report
from promoter.core.policy.versions import version as short_version
from promoter.core.pr_records import ProposalRecord, ProposalResult
from promoter.core.trailers import pipeline_url

_ACTOR_VARIABLES = ("PROMOTER_ACTOR", "GITHUB_ACTOR", "GITLAB_USER_LOGIN", "BUILD_USER_ID")
HOOK_PHASES = ("presync", "postsync")


@dataclass(frozen=True)
class Origin:
    trigger: str | None = None
    pipeline: str | None = None
    web: str | None = None
    """https://host/owner/name of the environment repository, when known."""
    forge: str | None = None
    """"github", "gitlab" or None: how commit links are spelled."""

    @classmethod
    def from_environ(
        cls, environ: Mapping[str, str], web: str | None = None, forge: str | None = None
    ) -> Origin:
        actor = next((environ[v] for v in _ACTOR_VARIABLES if environ.get(v)), None)
        pipeline = pipeline_url(environ)
        trigger = actor or ("pipeline" if pipeline else None)
        return cls(trigger, pipeline, web, forge)

    def by(self, trigger: str | None) -> Origin:
        return Origin(trigger or self.trigger, self.pipeline, self.web, self.forge)

    def links(
        self, commit: str | None = None, pr: PullRequest | None = None
    ) -> tuple[tuple[str, str], ...]:
        out: list[tuple[str, str]] = []
        if pr is not None and pr.url:
            out.append((f"{'MR !' if self.forge == 'gitlab' else 'PR #'}{pr.number}", pr.url))
        if commit and self.web:
            sep = "/-/commit/" if self.forge == "gitlab" else "/commit/"
            out.append((f"commit {commit[:12]}", f"{self.web}{sep}{commit}"))
        if self.pipeline:
            out.append(("pipeline", self.pipeline))
        return tuple(out)

    def sign(self) -> str:
        return "!" if self.forge == "gitlab" else "#"


def version(ref: ImageRef | None) -> str | None:
    """What a person calls the version (policy.versions' wording); None: not deployed."""
    return None if ref is None else short_version(ref)


def _version_of(text: str) -> str:
    ref = reference_or_none(text)
    return short_version(ref) if ref else text  # a hand-edited block: show what it says


def _change(item: PlanItem) -> Change:
    return Change(item.service, version(item.current), version(item.new) or "")


def bump_pushed(
    origin: Origin, service: str, env: str, old: ImageRef | None, new: ImageRef, commit: str
) -> Notice:
    return Notice(
        "bump.pushed",
        env,
        "bumped",
        changes=(Change(service, version(old), version(new) or ""),),
        revision=commit,
        trigger=origin.trigger,
        links=origin.links(commit),
    )


def from_proposal(origin: Origin, result: ProposalResult, kind: str) -> list[Notice]:
    """`promotion.opened` / `rollback.opened` when the PR was opened or got
    new commits (a re-run that changed nothing is no news), and
    `promotion.superseded` for the PRs it closed."""
    pr = result.pull_request
    if pr is None or not result.items:
        return []
    changes = tuple(_change(i) for i in result.items)
    out: list[Notice] = []
    sign = origin.sign()
    number = f"{sign}{pr.number}" if pr.number else f"branch {result.branch}"

    def about(event: str, headline: str) -> Notice:
        return Notice(event, result.target, headline, changes=changes, revision=result.commit,
                      trigger=origin.trigger, links=origin.links(None, pr))  # fmt: skip

    if result.created or result.pushed:
        event = "rollback.opened" if kind == "rollback" else "promotion.opened"
        verb = "opened" if result.created else "updated"
        what = {"rollback": "rollback", "bump": "bump"}.get(kind, "promotion")
        out.append(about(event, f"{what} {number} {verb}"))
    if result.closed:
        closed = ", ".join(f"{sign}{n}" for n in result.closed)
        out.append(about("promotion.superseded", f"{closed} superseded by {number}"))
    return out


def promotion_merged(origin: Origin, pr: PullRequest, record: ProposalRecord) -> Notice:
    changes = tuple(
        Change(name, None, _version_of(ref)) for name, ref in sorted(record.services.items())
    )
    what = "rollback" if record.kind == "rollback" else "promotion"
    return Notice(
        "promotion.merged",
        record.target,
        f"{what} {origin.sign()}{pr.number} merged",
        changes=changes,
        revision=pr.head_sha,
        trigger=origin.trigger,
        links=origin.links(None, pr),
    )


def check_failed(
    origin: Origin, report: Report, items: list[PlanItem], pr: PullRequest | None = None
) -> Notice | None:
    blocking = [r for r in report.results if r.blocks]
    if not blocking:
        return None
    where = f" on {origin.sign()}{pr.number}" if pr is not None else ""
    return Notice(
        "check.failed",
        report.target_env,
        f"policy check failed{where}",
        changes=tuple(_change(i) for i in items),
        revision=pr.head_sha if pr is not None else None,
        trigger=origin.trigger,
        links=origin.links(None, pr),
        extra=tuple(
            f"- ✗ {r.rule}{f' ({r.subject})' if r.subject else ''}: {r.reason}" for r in blocking
        ),
    )


def from_round(origin: Origin, result: RoundResult, recovered: bool) -> Notice | None:
    """The news in an agent round whose outcome changed: a failure (by
    phase), or a success that applied something or ended a failure. None for
    a round that only confirmed what was there. Drift is `drift_detected`."""
    env, rev = result.env, result.revision
    links = origin.links(rev)
    if not result.ok:
        if result.phase == "health":
            event, head = "health.degraded", "not healthy"
        elif result.phase in HOOK_PHASES:
            event, head = "hook.failed", f"{result.phase} hook failed"
        else:
            event, head = "apply.failed", f"{result.phase} failed"
        detail = result.not_ready or result.error
        return Notice(event, env, head, revision=rev, trigger=origin.trigger, links=links,
                      detail=detail)  # fmt: skip
    changed = result.applied + result.pruned
    if not changed and not recovered:
        return None
    head = "recovered" if recovered else f"applied {len(result.applied)} of {result.desired}"
    if result.pruned:
        head += f", pruned {len(result.pruned)}"
    return Notice(
        "apply.succeeded", env, head, objects=tuple(changed), revision=rev,
        trigger=origin.trigger, links=links,
    )  # fmt: skip


def drift_detected(origin: Origin, result: RoundResult) -> Notice | None:
    if not result.drift:
        return None
    healed = all(d.healed for d in result.drift)
    return Notice(
        "drift.detected",
        result.env,
        f"drift {'healed' if healed else 'found'} in {len(result.drift)} object(s)",
        objects=tuple(sorted(d.key for d in result.drift)),
        revision=result.revision,
        trigger=origin.trigger,
        links=origin.links(result.revision),
        extra=tuple(f"  {d.key}: {', '.join(d.paths)}" for d in result.drift[:10]),
    )


def test_notice(origin: Origin) -> Notice:
    return Notice(
        "test", "*", "test message from promoter", trigger=origin.trigger,
        detail="If you read this, promoter can reach this target.",
    )  # fmt: skip
