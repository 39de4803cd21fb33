"""Promotion plans and the pull requests that carry them — pure functions of
data the adapters gathered (deployed versions, history, open PRs).

A promotion PR's body ends with a hidden machine-readable block so later
runs (and the bot) can read back what the PR proposes and what it replaced.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from typing import Any

from promoter.core.images import ImageRef, parse_reference
from promoter.core.trailers import Deployment
from promoter.errors import ImageRefError

BLOCK_START = "<!-- promoter:plan"
BLOCK_END = "-->"
_BLOCK = re.compile(re.escape(BLOCK_START) + r"\s*(\{.*?\})\s*" + re.escape(BLOCK_END), re.DOTALL)
BRANCH_PREFIX = "promoter"
MAX_BRANCH = 200


@dataclass(frozen=True)
class Provenance:
    """Where a version came from: the env-repo commit that put it in the
    source environment and the build pipeline/commit behind it."""

    env_commit: str | None = None
    pipeline: str | None = None
    source_commit: str | None = None


@dataclass(frozen=True)
class PlanItem:
    service: str
    source_env: str
    target_env: str
    new: ImageRef
    current: ImageRef | None
    files: tuple[str, ...] = ()
    provenance: Provenance = field(default_factory=Provenance)

    def to_json(self) -> dict[str, Any]:
        return {
            "service": self.service,
            "from": _version(self.current),
            "to": _version(self.new),
            "files": list(self.files),
            "source": self.source_env,
            "target": self.target_env,
        }


def _version(ref: ImageRef | None) -> dict[str, str | None] | None:
    return None if ref is None else {"tag": ref.tag, "digest": ref.digest}


def same_version(a: ImageRef | None, b: ImageRef | None) -> bool:
    if a is None or b is None:
        return a is b
    return (a.tag, a.digest) == (b.tag, b.digest)


def plan_item(
    service: str,
    source_env: str,
    target_env: str,
    source: ImageRef | None,
    target: ImageRef | None,
    target_files: tuple[str, ...],
) -> PlanItem | None:
    """The item promoting `service`, or None when there is nothing to do."""
    if source is None or same_version(source, target):
        return None
    return PlanItem(service, source_env, target_env, source, target, target_files)


def provenance(history: Iterable[Deployment], service: str, ref: ImageRef) -> Provenance:
    """The newest history entry that put `ref` in place for `service`."""
    for d in history:
        if d.service == service and same_version_text(d.to_ref, ref):
            return Provenance(d.commit, d.pipeline, d.source_commit)
    return Provenance()


def same_version_text(text: str, ref: ImageRef) -> bool:
    try:
        return same_version(parse_reference(text), ref)
    except ImageRefError:
        return False


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


def with_provenance(items: list[PlanItem], history: list[Deployment]) -> list[PlanItem]:
    return [replace(i, provenance=provenance(history, i.service, i.new)) for i in items]
