"""How bump, promote and rollback report the pull requests they opened."""

from __future__ import annotations

from promoter.core.images import ImageRef
from promoter.core.pr_records import ProposalResult


def describe_proposal(r: ProposalResult) -> str:
    if not r.items:
        return f"{r.target}: nothing to promote (already up to date)"
    pr = r.pull_request
    if pr is None or not pr.number:  # no forge API: only the branch moved
        verb = "pushed" if r.pushed else "unchanged"
    else:
        verb = "opened" if r.created else "updated" if r.updated or r.pushed else "unchanged"
    where = f"#{pr.number} {pr.url}".strip() if pr and pr.number else r.branch
    versions = ", ".join(f"{i.service} {_version(i.current)} → {_version(i.new)}" for i in r.items)
    lines = [f"{r.target}: {verb} {where} ({versions})"]
    lines += [f"  closed #{n} (superseded)" for n in r.closed]
    lines += [f"  {a}" for a in r.actions]
    lines += [f"  warning: {w}" for w in r.warnings]
    return "\n".join(lines)


def _version(ref: ImageRef | None) -> str:
    if ref is None:
        return "(none)"
    return ref.tag or ref.digest or str(ref)
