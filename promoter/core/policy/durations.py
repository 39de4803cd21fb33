"""Durations as people write them in promoter.yaml (`30m`, `1h30m`, `2d`) and
as reports show them."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

__all__ = ["duration_problem", "format_duration", "format_utc", "parse_duration"]

_DURATION = re.compile(r"(?:(\d+)d)?(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s)?")
_UNITS = (("d", 86400), ("h", 3600), ("m", 60), ("s", 1))


def parse_duration(text: str) -> int | None:
    """Seconds in `text` (`90s`, `30m`, `2h`, `1d`, `1h30m`), None if malformed.

    Units go from largest to smallest, each at most once; at least one.
    """
    match = _DURATION.fullmatch(text.strip())
    if match is None or not any(match.groups()):
        return None
    return sum(int(n or 0) * size for n, (_, size) in zip(match.groups(), _UNITS, strict=True))


def duration_problem(text: str) -> str | None:
    seconds = parse_duration(text)
    if seconds is None:
        return (
            f"{text!r} is not a duration like 30m, 2h, 1d, 90s or 1h30m "
            "(units d, h, m, s, largest first)"
        )
    if seconds == 0:
        return f"{text!r} is zero; give a positive duration"
    return None


def format_duration(seconds: float) -> str:
    """`1d2h`, `1h30m`, `12m5s`, `45s`: the two largest units, rounded down."""
    left = max(0, int(seconds))
    parts: list[str] = []
    for unit, size in _UNITS:
        amount, left = divmod(left, size)
        if amount or parts:
            parts.append(f"{amount}{unit}")
        if len(parts) == 2:
            break
    shown = [p for p in parts if not p.startswith("0")]
    return "".join(shown) or "0s"


def format_utc(moment: datetime) -> str:
    """`2024-05-03 14:32 UTC`, rounded *up* to the minute (a wait-until time)."""
    utc = moment.astimezone(UTC)
    if utc.second or utc.microsecond:
        utc = utc.replace(second=0, microsecond=0) + timedelta(minutes=1)
    return utc.strftime("%Y-%m-%d %H:%M UTC")
