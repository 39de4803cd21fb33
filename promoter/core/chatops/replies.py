"""What the bot says in a pull request: refusals, usage help, errors and
results. Every reply starts with REPLY_MARKER (so the bot ignores its own
comments), is masked for tokens, and fits the forge's comment limit."""

from __future__ import annotations

from collections.abc import Iterable

from promoter.core import masking
from promoter.core.chatops.commands import USAGE
from promoter.core.chatops.events import REPLY_MARKER
from promoter.core.pr_records import ProposalResult
from promoter.errors import PromoterError

_HELP = {
    "promote": "open the next hop(s) from this PR's environment (after it is merged)",
    "rollback": "roll this PR's environment back to the previous version (or TAG)",
    "check": "re-evaluate the policies: commit status and the promoter comment",
    "diff": "refresh the rendered diff in the promoter comment",
}


def code(text: str) -> str:
    """`text` as inline code: user input rendered inert (no mentions, links
    or markup), with backticks that would end the span replaced."""
    return "`" + text.replace("`", "'").replace("\n", " ") + "`"


def finish(text: str, limit: int) -> str:
    """The reply as posted: marked, masked, and cut to `limit` characters."""
    body = masking.mask(f"{REPLY_MARKER}\n{text.strip()}\n")
    if len(body) > limit:
        body = body[: max(limit - 40, 0)].rstrip() + "\n\n… (reply shortened)\n"
    return body


def refusal(author: str, command: str, teams: Iterable[str]) -> str:
    names = ", ".join(code(t) for t in teams)
    who = "people with write access to this repository"
    if names:
        who += f" or members of {names}"
    return (
        f"Sorry @{author}, {code(command)} can only be run by {who}. "
        "Nothing was done; please ask one of them."
    )


def usage(problem: str | None) -> str:
    lines = [f"I did not understand that: {problem}." if problem else "Commands I know:", ""]
    if problem:
        lines += ["Commands I know:", ""]
    lines += [f"- {code(USAGE[name])}: {_HELP[name]}" for name in USAGE]
    lines += ["", "Only the first command line of a comment counts."]
    return "\n".join(lines)


def failure(command: str, err: PromoterError) -> str:
    text = f"{code(command)} failed: {err.message}"
    if err.hint:
        text += f"\n\n_Hint: {err.hint}_"
    return text


def describe(result: ProposalResult, sign: str = "#") -> str:
    """One markdown list item per proposal (opened/updated PR, or nothing to
    do); `sign` is how the forge writes a PR number (GitLab: "!")."""
    services = ", ".join(i.service for i in result.items)
    if not result.items:
        return f"- {code(result.target)}: nothing to promote (already up to date)"
    pr = result.pull_request
    if pr is None or not pr.number:  # no forge API: only a branch moved
        verb = "pushed" if result.pushed else "unchanged"
        line = f"- {code(result.target)}: {verb} branch {code(result.branch)} ({services})"
    else:
        if result.created:
            verb = "opened"
        else:
            verb = "updated" if result.updated or result.pushed else "unchanged"
        line = f"- {code(result.target)}: {verb} {sign}{pr.number} {pr.url} ({services})"
    extra = [f"  - closed {sign}{n} (superseded)" for n in result.closed]
    extra += [f"  - warning: {w}" for w in result.warnings]
    return "\n".join([line, *extra])
