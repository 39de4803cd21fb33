"""Small pure helpers the GitHub and GitLab adapters share: argument checks
in the tool's own vocabulary (promoter/core/forge.py) and the sticky-comment choice."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime

from promoter.core.forge import REACTIONS, STATUS_STATES


def check_state(state: str) -> str:
    if state not in STATUS_STATES:
        raise ValueError(f"unknown commit status state {state!r}: use one of {STATUS_STATES}")
    return state


def check_reaction(kind: str) -> str:
    if kind not in REACTIONS:
        raise ValueError(f"unknown reaction {kind!r}: use one of {REACTIONS}")
    return kind


def check_sticky(marker: str, body: str, limit: int, forge: str) -> None:
    """A sticky body must carry its marker (or the next run would not find it
    and post a second comment) and fit the forge's limit: the caller, who
    knows what can be dropped, truncates; we never cut a report blindly."""
    if not marker.strip():
        raise ValueError("a sticky comment needs a non-empty marker")
    if marker not in body:
        raise ValueError(f"the sticky comment's body does not contain its marker {marker!r}")
    if len(body) > limit:
        raise ValueError(
            f"comment body of {len(body)} characters exceeds {forge}'s limit of {limit}"
        )


def same_text(a: str | None, b: str | None) -> bool:
    """Bodies equal up to line ends (GitHub keeps CRLF from web edits) and
    trailing whitespace (which a forge may strip and nobody can see)."""
    return (a or "").replace("\r\n", "\n").rstrip() == (b or "").replace("\r\n", "\n").rstrip()


@dataclass(frozen=True)
class Marked:
    """A comment that carries the sticky marker."""

    id: int
    author: str | None
    body: str


def pick_sticky(marked: Iterable[Marked], me: str | None) -> Marked | None:
    """The oldest marked comment by `me` (our own user, when known), else the
    oldest marked one. `marked` comes oldest first and is consumed lazily, so
    a match on the first page needs no second page."""
    first: Marked | None = None
    for comment in marked:
        if me is None or (comment.author or "").casefold() == me.casefold():
            return comment
        if first is None:
            first = comment
    return first


def parse_time(value: object) -> datetime | None:
    """An API timestamp ("2026-01-01T00:00:00.000Z", datetime or None) as an
    aware datetime (UTC when it names no zone)."""
    if value is None or value == "":
        return None
    when = value if isinstance(value, datetime) else datetime.fromisoformat(str(value))
    return when if when.tzinfo is not None else when.replace(tzinfo=UTC)


def unique(items: Iterable[str]) -> list[str]:
    """Non-empty items in order, each once, case-insensitively (as the forges
    compare user names and labels)."""
    seen: set[str] = set()
    out = []
    for item in items:
        if item and item.casefold() not in seen:
            seen.add(item.casefold())
            out.append(item)
    return out
