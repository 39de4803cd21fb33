"""One forge event → what the bot does about it.

Order matters and is part of the contract:

1. No command in a comment: nothing at all (not even a permission lookup).
2. Permission first: `write` (or better) on the repository, or membership of
   one of the `allow_teams`. Anyone else gets ONE polite reply and a
   "confused" reaction — no status, no clone, no push, no pull request.
3. Accepted: an "eyes" reaction at once (the forge shows the command was
   seen while a clone and a push take their time), then the command, then
   "+1" — or "confused" and a reply saying what went wrong.

Errors become replies, never tracebacks, and are masked. A forge failure
(ForgeError) is still raised after a best-effort reply: then the forge is
what is broken, and the caller's exit code (6) should say so. So is an
unexpected exception (a bug), after a reply that says only "internal error".
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from typing import Any

from promoter.adapters.forges import make_forge
from promoter.adapters.forges.remote import Remote, detect_kind, parse_remote
from promoter.adapters.notify import Notifier
from promoter.core import masking
from promoter.core.chatops import replies
from promoter.core.chatops.commands import Command, parse_command
from promoter.core.chatops.events import Event
from promoter.core.forge import Forge, PullRequest, permits
from promoter.core.notify.notices import promotion_merged
from promoter.core.pr_records import ProposalRecord, read_record
from promoter.core.rehearsal import Rehearsal
from promoter.errors import ForgeError, InputError, PromoterError
from promoter.workflows.check import Registry, check_pr, registry_client
from promoter.workflows.promote import PromoteRequest, promote
from promoter.workflows.rollback import rollback
from promoter.workflows.workspace import Workspace, workspace

WorkspaceFactory = Callable[[], AbstractContextManager[Workspace]]
NEEDED_PERMISSION = "write"


@dataclass
class BotResult:
    """What the bot did about one event (for the CLI's output and logs)."""

    event: str
    outcome: str
    """"ignored", "refused", "help", "done" or "failed"."""
    command: str | None = None
    reason: str | None = None
    """Why it was ignored."""
    actions: list[str] = field(default_factory=list)
    """What was done, in order: reactions, checks, pull requests, replies."""
    replies: list[str] = field(default_factory=list)
    """The replies posted, as posted."""

    def to_json(self) -> dict[str, Any]:
        return {
            "event": self.event,
            "outcome": self.outcome,
            "command": self.command,
            "reason": self.reason,
            "actions": self.actions,
            "replies": self.replies,
        }


@dataclass
class _Context:
    event: Event
    forge: Forge
    pr: PullRequest
    workspace: WorkspaceFactory
    registry: Callable[[], Registry]
    result: BotResult

    @property
    def sign(self) -> str:
        return "!" if self.event.forge == "gitlab" else "#"

    def reply(self, text: str) -> None:
        body = replies.finish(text, self.forge.max_comment_length)
        self.forge.comment(self.pr, body)
        self.result.replies.append(body)
        self.result.actions.append("replied")

    def react(self, kind: str) -> None:
        if self.event.comment_id is not None:
            self.forge.add_reaction(self.pr, self.event.comment_id, kind)
            self.result.actions.append(f"reacted {kind}")


def may_command(forge: Forge, user: str, allow_teams: Iterable[str]) -> bool:
    """Write access or better, else membership of one of `allow_teams`
    (looked up only when the permission is not enough)."""
    if not user:
        return False
    if permits(forge.permission(user), NEEDED_PERMISSION):
        return True
    folded = user.casefold()
    return any(folded in {m.casefold() for m in forge.team_members(t)} for t in allow_teams)


def handle(
    event: Event,
    *,
    forge: Forge,
    workspace_factory: WorkspaceFactory,
    registry: Callable[[], Registry],
    allow_teams: Iterable[str] = (),
) -> BotResult:
    teams = tuple(allow_teams)
    result = BotResult(event.describe(), "ignored")
    if event.kind == "pull_request" and event.merged:
        return _merged(event, forge, workspace_factory, result)
    if event.kind == "pull_request":
        return _automatic_check(event, forge, workspace_factory, registry, result)
    command = parse_command(event.body)
    if command is None:
        result.reason = "no command in the comment"
        return result
    result.command = command.text
    pr = forge.get_pull_request(event.pr_number)
    ctx = _Context(event, forge, pr, workspace_factory, registry, result)
    if not may_command(forge, event.author, teams):
        result.outcome = "refused"
        ctx.reply(replies.refusal(event.author, command.text, teams))
        ctx.react("confused")
        return result
    if command.name == "help":
        result.outcome = "help"
        ctx.reply(replies.usage(command.problem))
        ctx.react("confused")
        return result
    ctx.react("eyes")
    try:
        text, ok = _RUNNERS[command.name](ctx, command)
    except ForgeError as err:
        _report_failure(ctx, command, err)
        raise
    except PromoterError as err:
        _report_failure(ctx, command, err)
        return result
    except Exception:
        # A bug: the traceback belongs in the log (the caller prints it,
        # masked); the PR gets told, so the 👀 does not hang there forever.
        _report_failure(ctx, command, PromoterError("internal error in promoter (see its log)"))
        raise
    if text:
        ctx.reply(text)
    result.outcome = "done" if ok else "failed"
    ctx.react("+1" if ok else "confused")
    return result


def _report_failure(ctx: _Context, command: Command, err: PromoterError) -> None:
    ctx.result.outcome = "failed"
    try:
        ctx.reply(replies.failure(command.text, err))
        ctx.react("confused")
    except ForgeError:
        if not isinstance(err, ForgeError):
            raise
        # The forge is failing anyway: the original error is the one to report.


def _automatic_check(
    event: Event,
    forge: Forge,
    workspace_factory: WorkspaceFactory,
    registry: Callable[[], Registry],
    result: BotResult,
) -> BotResult:
    """A PR was opened or pushed to: evaluate it if it is one of promoter's.
    Nobody asked, so there is no permission check and no reaction; anyone
    who can push to a promoter branch may re-run its policies."""
    pr = forge.get_pull_request(event.pr_number)
    if read_record(pr.body) is None:
        result.reason = "not a promoter pull request"
        return result
    if pr.state != "open":
        result.reason = f"the pull request is {pr.state}"
        return result
    ctx = _Context(event, forge, pr, workspace_factory, registry, result)
    result.command = "/check"
    try:
        _check(ctx, Command("check", "/check"))
    except ForgeError:
        result.outcome = "failed"
        raise
    except PromoterError as err:
        result.outcome = "failed"
        ctx.reply(replies.failure("/check", err))
        return result
    result.outcome = "done"
    return result


def _merged(
    event: Event, forge: Forge, workspace_factory: WorkspaceFactory, result: BotResult
) -> BotResult:
    """A promoter PR was merged: tell the `promotion.merged` targets (the
    agent or the controller takes it from there)."""
    pr = forge.get_pull_request(event.pr_number)
    record = read_record(pr.body)
    if record is None:
        result.reason = "not a promoter pull request"
        return result
    with workspace_factory() as ws:
        if ws.notifier is None or not ws.config.notifications:
            result.reason = "merged; no notification target in promoter.yaml"
            return result
        sent = ws.notifier.tell(ws.config, lambda o: [promotion_merged(o, pr, record)])
    result.outcome = "done"
    result.command = "notify"
    result.actions += [
        f"notified target {d.target} ({d.shown}): {'ok' if d.ok else 'failed'}" for d in sent
    ]
    return result


# --- the commands -----------------------------------------------------------------------------


def _record(ctx: _Context) -> ProposalRecord:
    record = read_record(ctx.pr.body)
    if record is None:
        raise InputError(
            f"{ctx.sign}{ctx.pr.number} is not a promoter pull request "
            "(its description has no promoter:plan block)",
            hint="commands work on pull requests opened by promoter promote/rollback/bump",
        )
    return record


def _must_be_merged(ctx: _Context, record: ProposalRecord, doing: str) -> None:
    if ctx.pr.state != "merged":
        raise InputError(
            f"{ctx.sign}{ctx.pr.number} is {ctx.pr.state}, not merged: {doing} acts on what "
            f"{record.target} runs, and this pull request's change is not there",
            hint="merge it first, then run the command again",
        )


def _check(ctx: _Context, command: Command) -> tuple[str, bool]:
    with ctx.workspace() as ws:
        checked = check_pr(ws, ctx.forge, ctx.pr.number, registry=ctx.registry)
    sha = (checked.pull_request.head_sha or "")[:12]
    ctx.result.actions.append(
        f"set promoter/policy to {checked.state} on {sha or 'the head commit'} "
        "and updated the promoter comment"
    )
    # The sticky comment is the answer; a policy failure is not a bot failure.
    return "", True


def _diff(ctx: _Context, command: Command) -> tuple[str, bool]:
    _check(ctx, command)
    record = read_record(ctx.pr.body)
    where = f" in {replies.code(record.target)}" if record else ""
    return (
        f"Refreshed: the rendered changes{where} are in the promoter comment on this "
        "pull request (section *Rendered changes*).",
        True,
    )


def _promote(ctx: _Context, command: Command) -> tuple[str, bool]:
    record = _record(ctx)
    _must_be_merged(ctx, record, "/promote")
    with ctx.workspace() as ws:
        downstream = [e.name for e in ws.config.environments if e.from_ == record.target]
        wrong = [t for t in command.targets if t not in downstream]
        if wrong:
            choices = ", ".join(downstream) if downstream else "none: nothing is promoted from it"
            raise InputError(
                f"{', '.join(wrong)} {'is' if len(wrong) == 1 else 'are'} not promoted from "
                f"{record.target}",
                hint=f"environments promoted from {record.target}: {choices}",
            )
        request = PromoteRequest(
            source=record.target, targets=command.targets, services=tuple(sorted(record.services))
        )
        results = promote(ws, ctx.forge, request)
    for r in results:
        pr = r.pull_request
        if pr is not None and pr.number:
            ctx.result.actions.append(f"{r.target}: {ctx.sign}{pr.number} {pr.url}")
    lines = [replies.describe(r, ctx.sign) for r in results]
    return f"Promotion from {replies.code(record.target)}:\n\n" + "\n".join(lines), True


def _rollback(ctx: _Context, command: Command) -> tuple[str, bool]:
    record = _record(ctx)
    _must_be_merged(ctx, record, "/rollback")
    services = [command.service] if command.service else sorted(record.services)
    if command.to_tag and len(services) > 1:
        raise InputError(
            f"--to names one version, and this pull request carries {', '.join(services)}",
            hint="name the service: /rollback <service> --to TAG",
        )
    lines, ok = [], True
    with ctx.workspace() as ws:
        for service in services:
            try:
                r = rollback(ws, ctx.forge, record.target, service, command.to_tag)
            except ForgeError:
                raise
            except PromoterError as err:
                # One service without an earlier version must not hide the others.
                ok = False
                lines.append(f"- {replies.code(service)}: {masking.mask(err.message)}")
                continue
            pr = r.pull_request
            if pr is not None and pr.number:
                ctx.result.actions.append(f"{r.target}: {ctx.sign}{pr.number} {pr.url}")
            lines.append(replies.describe(r, ctx.sign))
    head = f"Rollback in {replies.code(record.target)}:"
    return head + "\n\n" + "\n".join(lines), ok


_RUNNERS: dict[str, Callable[[_Context, Command], tuple[str, bool]]] = {
    "check": _check,
    "diff": _diff,
    "promote": _promote,
    "rollback": _rollback,
}


# --- wiring an event to the real forge and workspace (`promoter bot` and `serve`)


def forge_for(
    event: Event, repo_url: str, api_url: str | None, environ: Mapping[str, str]
) -> Forge:
    """The event's forge. The repository (OWNER/REPO) comes from `repo_url`;
    from the event only when the URL is local and says nothing (tests,
    repositories on disk), so a payload cannot send API calls to a
    repository other than the URL's."""
    local = parse_remote(repo_url).local
    return make_forge(
        event.forge,
        repo_url,
        api_url=api_url,
        repository=event.repository if local else None,
        environ=environ,
    )


def run_event(
    event: Event,
    *,
    environ: Mapping[str, str],
    repo_url: str | None = None,
    api_url: str | None = None,
    allow_teams: Iterable[str] = (),
    rehearsal: Rehearsal | None = None,
    notifier: Notifier | None = None,
) -> BotResult:
    """Handle `event` against the repository at `repo_url` (default: the
    clone URL the event names). With a `rehearsal` (--dry-run) the forge and
    git are read, and what would be written is noted there instead.
    `notifier`: the server's (its repeats suppressed); default: one for this event."""
    url = repo_url or event.repo_url
    told = (notifier or Notifier.for_run(environ, url)).by(event.author or None)
    forge = forge_for(event, url, api_url, environ)
    if rehearsal is not None:
        from promoter.adapters.forges.rehearsal import RehearsalForge

        forge = RehearsalForge(forge, rehearsal)
    return handle(
        event,
        forge=forge,
        workspace_factory=lambda: workspace(url, environ, rehearsal=rehearsal, notifier=told),
        registry=registry_client,
        allow_teams=tuple(allow_teams),
    )


def served_url(repo_urls: Iterable[str], event: Event) -> str | None:
    """The configured URL of the event's repository, or None when it is not
    one of `repo_urls` (`promoter serve` acts only on repositories it was
    told about: a payload must not choose where the tokens go)."""
    return next(
        (
            u
            for u in repo_urls
            if same_repository(u, event.repo_url) and _forge_matches(u, event.forge)
        ),
        None,
    )


def _forge_matches(url: str, forge: str) -> bool:
    """A GitLab delivery (guarded only by a static token) must not act on a
    GitHub repository, and vice versa: the URL's host says which forge it is."""
    remote = parse_remote(url)
    if remote.local:
        return True
    try:
        return detect_kind(remote) == forge
    except InputError:
        return True  # a host we cannot classify: the operator listed it on purpose


def same_repository(a: str, b: str) -> bool:
    """Whether two remote URLs name the same repository (credentials, case of
    host and path, a trailing ".git" or "/" do not matter)."""
    return _key(parse_remote(a)) == _key(parse_remote(b))


def _key(remote: Remote) -> tuple[str, str, int | None, str]:
    return remote.scheme, remote.host, remote.port, remote.path.casefold()
