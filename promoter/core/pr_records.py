"""The pull request that carries a plan: its branch name, title, labels and
body. The body ends with a hidden machine-readable block, so later runs (and
the bot) can read back what the PR proposes and what it replaced.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from promoter.core.forge import PullRequest
from promoter.core.images import ImageRef
from promoter.core.plans import PlanItem, Provenance

BLOCK_START = "<!-- promoter:plan"
BLOCK_END = "-->"
_BLOCK = re.compile(re.escape(BLOCK_START) + r"\s*(\{.*?\})\s*" + re.escape(BLOCK_END), re.DOTALL)
BRANCH_PREFIX = "promoter"
MAX_BRANCH = 200


# --- branches, titles, labels ---------------------------------------------------------


def branch_name(target: str, services: Iterable[str], kind: str = "promotion") -> str:
    names = sorted(set(services))
    if kind == "rollback":
        return f"{BRANCH_PREFIX}/{target}/rollback-{'+'.join(names)}"
    name = f"{BRANCH_PREFIX}/{target}/{'+'.join(names)}"
    if len(name) <= MAX_BRANCH:
        return name
    digest = hashlib.sha1("+".join(names).encode()).hexdigest()[:10]
    return f"{BRANCH_PREFIX}/{target}/{len(names)}-services-{digest}"


def is_promoter_branch(branch: str, target: str) -> bool:
    return branch.startswith(f"{BRANCH_PREFIX}/{target}/")


def labels(target: str, extra: Iterable[str] = (), kind: str = "promotion") -> tuple[str, ...]:
    out = ["promoter", f"env:{target}", *extra]
    if kind == "rollback":
        out.append("rollback")
    return tuple(dict.fromkeys(out))


def _short(ref: ImageRef) -> str:
    if ref.tag and ref.digest:
        return f"{ref.tag}@{ref.digest[:19]}…"
    return ref.tag or (ref.digest or "")[:19] + "…"


def title(items: list[PlanItem], kind: str = "promotion") -> str:
    target = items[0].target_env
    if kind == "rollback":
        item = items[0]
        return f"Roll back {item.service} to {_short(item.new)} in {target}"
    if kind == "bump":
        item = items[0]
        return f"Bump {item.service} to {_short(item.new)} in {target}"
    if len(items) > 3:
        return f"Promote {len(items)} services → {target}"
    what = ", ".join(f"{i.service} {_short(i.new)}" for i in items)
    return f"Promote {what} → {target}"


# --- the body and its hidden block ------------------------------------------------------


@dataclass(frozen=True)
class ProposalRecord:
    """What a PR proposes, as stored in its hidden block."""

    kind: str
    source: str | None
    target: str
    services: Mapping[str, str]
    """service -> new reference."""
    superseded: tuple[str, ...] = ()
    """Human-readable notes: versions and PRs this one replaced."""

    def to_json(self) -> dict[str, Any]:
        return {
            "version": 1,
            "kind": self.kind,
            "source": self.source,
            "target": self.target,
            "services": dict(sorted(self.services.items())),
            "superseded": list(self.superseded),
        }


def read_record(body: str) -> ProposalRecord | None:
    """The hidden block of a PR body, or None (not ours, or mangled)."""
    m = _BLOCK.search(body or "")
    if not m:
        return None
    try:
        data = json.loads(m.group(1))
        return ProposalRecord(
            kind=str(data["kind"]),
            source=data.get("source"),
            target=str(data["target"]),
            services={str(k): str(v) for k, v in data["services"].items()},
            superseded=tuple(str(s) for s in data.get("superseded", [])),
        )
    except (ValueError, KeyError, TypeError, AttributeError):
        return None


def record_for(
    items: list[PlanItem], kind: str, previous: ProposalRecord | None, closed: Iterable[str] = ()
) -> ProposalRecord:
    """This proposal's record; versions it replaces in `previous` (the same
    PR's last state) and PRs it `closed` are added to the superseded notes."""
    notes = list(previous.superseded) if previous else []
    if previous is not None:
        for service, old in sorted(previous.services.items()):
            new = next((str(i.new) for i in items if i.service == service), None)
            if new != old:
                notes.append(f"{service} {old}")
    notes += list(closed)
    return ProposalRecord(
        kind=kind,
        source=items[0].source_env if kind == "promotion" else None,
        target=items[0].target_env,
        services={i.service: str(i.new) for i in items},
        superseded=tuple(dict.fromkeys(notes)),
    )


def body(items: list[PlanItem], record: ProposalRecord) -> str:
    target = record.target
    if record.kind == "rollback":
        intro = f"Rolls **{items[0].service}** in **{target}** back to a version it ran before."
    elif record.kind == "bump":
        intro = (
            f"Bumps **{items[0].service}** in **{target}**, which takes changes by pull request."
        )
    else:
        intro = f"Promotes from **{record.source}** to **{target}**."
    lines = [
        intro,
        "",
        f"| service | from env | current in {target} | new | digest |",
        "|---|---|---|---|---|",
    ]
    for i in items:
        current = i.current.tag or "-" if i.current else "-"
        digest = f"`{i.new.digest}`" if i.new.digest else "-"
        new = i.new.tag or "-"
        lines.append(f"| {i.service} | {i.source_env} | {current} | {new} | {digest} |")
    carried = [f"- {i.service}: {c.text()}" for i in items for c in i.carried]
    if carried:
        lines += ["", "**Carried with the version**", "", *carried]
    sources = [_source_line(i) for i in items if i.provenance != Provenance()]
    if sources:
        lines += ["", "**Source**", "", *sources]
    if record.superseded:
        lines += ["", "**Supersedes**", "", *[f"- {s}" for s in record.superseded]]
    lines += [
        "",
        "_Opened by promoter; re-running the promotion updates this PR._",
        "",
        BLOCK_START,
        json.dumps(record.to_json(), sort_keys=True),
        BLOCK_END,
    ]
    return "\n".join(lines) + "\n"


def _source_line(item: PlanItem) -> str:
    p = item.provenance
    parts = []
    if p.source_commit:
        parts.append(f"source commit `{p.source_commit[:12]}`")
    if p.pipeline:
        parts.append(f"[pipeline]({p.pipeline})")
    if p.env_commit:
        parts.append(f"in {item.source_env} since `{p.env_commit[:12]}`")
    return f"- {item.service}: " + ", ".join(parts)


@dataclass
class ProposalResult:
    target: str
    branch: str
    items: list[PlanItem]
    pull_request: PullRequest | None = None
    created: bool = False
    updated: bool = False
    pushed: bool = False
    commit: str | None = None
    """The branch's tip on the remote once proposed (None: not proposed)."""
    closed: list[int] = field(default_factory=list)
    actions: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    def to_json(self) -> dict[str, object]:
        pr = self.pull_request
        return {
            "target": self.target,
            "branch": self.branch,
            # A plain git remote has no pull request, only the pushed branch.
            "pull_request": {"number": pr.number, "url": pr.url} if pr and pr.number else None,
            "created": self.created,
            "updated": self.updated,
            "pushed": self.pushed,
            "commit": self.commit,
            "closed": self.closed,
            "actions": self.actions,
            "warnings": self.warnings,
            "items": [i.to_json() for i in self.items],
        }
