"""A small 5-field cron matcher for freeze windows.

`minute hour day-of-month month day-of-week`, each field `*`, a number, a
range `a-b`, a step `*/n`, `a-b/n` or `a/n` (a to the field's maximum), or a
comma-separated list of those. Months and weekdays also take three-letter
English names (`JAN`, `FRI`); weekday 0 and 7 are both Sunday.

As in Vixie cron (and so in most people's heads): when both day-of-month and
day-of-week are restricted (neither starts with `*`), a day matches if
*either* matches; otherwise both must.

Times are naive wall-clock datetimes in the window's time zone: a window is
about what the clocks on the wall say ("Friday 15:00 Berlin time"), so DST
changes move it with the clocks instead of shifting it by an hour.
"""

from __future__ import annotations

import calendar
import re
from dataclasses import dataclass
from datetime import date, datetime, timedelta

__all__ = ["Cron", "CronError", "Window", "parse_cron", "parse_window"]

SEARCH_DAYS = 8 * 366
"""How far matches are searched: a `29 2 *` start recurs every 4 (or 8) years."""

_MONTHS = {name.upper(): n for n, name in enumerate(calendar.month_abbr) if name}
_WEEKDAYS = {"SUN": 0, "MON": 1, "TUE": 2, "WED": 3, "THU": 4, "FRI": 5, "SAT": 6}
_FIELDS: tuple[tuple[str, int, int, dict[str, int]], ...] = (
    ("minute", 0, 59, {}),
    ("hour", 0, 23, {}),
    ("day of month", 1, 31, {}),
    ("month", 1, 12, _MONTHS),
    ("day of week", 0, 7, _WEEKDAYS),
)
_PART = re.compile(r"(?P<range>\*|[A-Za-z0-9]+(?:-[A-Za-z0-9]+)?)(?:/(?P<step>[0-9]+))?")
_WINDOW_SPLIT = re.compile(r"\s+-\s+")
_LONGEST_MONTH = {m: 29 if m == 2 else calendar.monthrange(2001, m)[1] for m in range(1, 13)}


class CronError(ValueError):
    """An expression that is not a valid 5-field cron (or window)."""


@dataclass(frozen=True)
class Cron:
    """A parsed cron expression; weekdays are 0-6 with 0 = Sunday."""

    text: str
    minutes: frozenset[int]
    hours: frozenset[int]
    days: frozenset[int]
    months: frozenset[int]
    weekdays: frozenset[int]
    any_day: bool
    """The day-of-month field starts with `*`."""
    any_weekday: bool
    """The day-of-week field starts with `*`."""

    def matches_day(self, day: date) -> bool:
        if day.month not in self.months:
            return False
        in_days = day.day in self.days
        in_weekdays = (day.weekday() + 1) % 7 in self.weekdays
        if self.any_day or self.any_weekday:
            return in_days and in_weekdays
        return in_days or in_weekdays

    def matches(self, wall: datetime) -> bool:
        return (
            wall.minute in self.minutes
            and wall.hour in self.hours
            and self.matches_day(wall.date())
        )

    def latest_at_or_before(self, wall: datetime) -> datetime | None:
        """The last matching minute at or before `wall` (seconds ignored)."""
        day = wall.date()
        for _ in range(SEARCH_DAYS):
            if self.matches_day(day):
                for hour in sorted(self.hours, reverse=True):
                    if day == wall.date() and hour > wall.hour:
                        continue
                    for minute in sorted(self.minutes, reverse=True):
                        if day == wall.date() and hour == wall.hour and minute > wall.minute:
                            continue
                        return datetime(day.year, day.month, day.day, hour, minute)
            day -= timedelta(days=1)
        return None

    def earliest_after(self, wall: datetime) -> datetime | None:
        """The first matching minute strictly after `wall`'s minute."""
        day = wall.date()
        for _ in range(SEARCH_DAYS):
            if self.matches_day(day):
                for hour in sorted(self.hours):
                    if day == wall.date() and hour < wall.hour:
                        continue
                    for minute in sorted(self.minutes):
                        if day == wall.date() and (hour, minute) <= (wall.hour, wall.minute):
                            continue
                        return datetime(day.year, day.month, day.day, hour, minute)
            day += timedelta(days=1)
        return None


@dataclass(frozen=True)
class Window:
    """`<start cron> - <end cron>`: from a time the first matches to the next
    time the second matches (start included, end excluded)."""

    text: str
    start: Cron
    end: Cron

    def active_at(self, wall: datetime) -> tuple[datetime, datetime | None] | None:
        """(start, end) of the window `wall` lies in, or None.

        The latest start at or before `wall` is enough: an earlier start's
        window ends at or before the latest start's does. `end` is None only
        if the end expression never matches again (not a valid window).
        """
        start = self.start.latest_at_or_before(wall)
        if start is None:
            return None
        end = self.end.earliest_after(start)
        if end is not None and wall >= end:
            return None
        return start, end


def _value(text: str, low: int, high: int, names: dict[str, int], field: str) -> int:
    if text.isdigit():
        number = int(text)
    elif text.upper() in names:
        number = names[text.upper()]
    else:
        raise CronError(f"{field}: {text!r} is not a number")
    if not low <= number <= high:
        raise CronError(f"{field}: {number} is out of range {low}-{high}")
    return number


def _field(text: str, low: int, high: int, names: dict[str, int], field: str) -> set[int]:
    values: set[int] = set()
    for part in text.split(","):
        match = _PART.fullmatch(part)
        if match is None:
            raise CronError(f"{field}: {part!r} is not a number, range, step or '*'")
        spec, step_text = match.group("range"), match.group("step")
        if spec == "*":
            first, last = low, high
        elif "-" in spec:
            a, b = spec.split("-")
            first, last = _value(a, low, high, names, field), _value(b, low, high, names, field)
            if first > last:
                raise CronError(f"{field}: range {part!r} goes backwards")
        else:
            first = _value(spec, low, high, names, field)
            # `a/n` means "from a, every n": up to the field's maximum.
            last = high if step_text is not None else first
        step = 1 if step_text is None else int(step_text)
        if step < 1:
            raise CronError(f"{field}: step must be at least 1 in {part!r}")
        values.update(range(first, last + 1, step))
    return values


def parse_cron(text: str) -> Cron:
    """Parse a 5-field cron expression; CronError says what is wrong."""
    fields = text.split()
    if len(fields) != 5:
        raise CronError(
            f"{text!r} has {len(fields)} field(s); a cron expression has 5 "
            "(minute hour day-of-month month day-of-week)"
        )
    parsed = [
        _field(f, low, high, names, name)
        for f, (name, low, high, names) in zip(fields, _FIELDS, strict=True)
    ]
    minutes, hours, days, months, weekdays = parsed
    weekdays = {d % 7 for d in weekdays}  # 7 is Sunday, like 0
    cron = Cron(
        text=" ".join(fields),
        minutes=frozenset(minutes),
        hours=frozenset(hours),
        days=frozenset(days),
        months=frozenset(months),
        weekdays=frozenset(weekdays),
        any_day=fields[2].startswith("*"),
        any_weekday=fields[4].startswith("*"),
    )
    # Only "day N of months that never have N" can make a cron never match.
    if cron.any_weekday and not any(d <= _LONGEST_MONTH[m] for m in months for d in days):
        raise CronError(f"{text!r} never matches: no month it names has those days")
    return cron


def parse_window(text: str) -> Window:
    """Parse `"<cron> - <cron>"` (a hyphen with spaces around it between two crons)."""
    parts = _WINDOW_SPLIT.split(text.strip())
    if len(parts) != 2:
        raise CronError(
            f"{text!r} is not a window '<cron> - <cron>' "
            "(e.g. '0 15 * * 5 - 0 8 * * 1': Friday 15:00 to Monday 08:00)"
        )
    start, end = parse_cron(parts[0]), parse_cron(parts[1])
    return Window(f"{start.text} - {end.text}", start, end)
