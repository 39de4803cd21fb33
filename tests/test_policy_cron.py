"""The freeze rule's cron matcher and windows (wall-clock times)."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest

from promoter.core.policy.cron import CronError, parse_cron, parse_window

BERLIN = ZoneInfo("Europe/Berlin")


def wall(text: str) -> datetime:
    return datetime.fromisoformat(text)


def test_fields_lists_ranges_steps_and_names() -> None:
    cron = parse_cron("0,30 8-18/2 1,15 JAN-mar mon-FRI")
    assert cron.minutes == {0, 30}
    assert cron.hours == {8, 10, 12, 14, 16, 18}
    assert cron.days == {1, 15}
    assert cron.months == {1, 2, 3}
    assert cron.weekdays == {1, 2, 3, 4, 5}
    assert (cron.any_day, cron.any_weekday) == (False, False)


def test_star_steps_and_open_ended_steps() -> None:
    cron = parse_cron("*/15 5/6 * * *")
    assert cron.minutes == {0, 15, 30, 45}
    assert cron.hours == {5, 11, 17, 23}
    assert len(cron.days) == 31 and len(cron.months) == 12


@pytest.mark.parametrize("sunday", ["0", "7", "SUN", "sun"])
def test_sunday_is_0_or_7(sunday: str) -> None:
    cron = parse_cron(f"0 12 * * {sunday}")
    assert cron.weekdays == {0}
    assert cron.matches(wall("2024-06-02T12:00"))  # a Sunday
    assert not cron.matches(wall("2024-06-03T12:00"))


def test_range_up_to_7_wraps_to_sunday() -> None:
    assert parse_cron("0 0 * * 5-7").weekdays == {5, 6, 0}


def test_restricted_day_of_month_and_week_match_either() -> None:
    cron = parse_cron("0 0 13 * 5")  # the 13th, or any Friday (cron's OR rule)
    assert cron.matches_day(wall("2024-09-13").date())  # Friday the 13th
    assert cron.matches_day(wall("2024-08-13").date())  # a Tuesday, the 13th
    assert cron.matches_day(wall("2024-08-16").date())  # a Friday
    assert not cron.matches_day(wall("2024-08-14").date())


def test_a_starred_field_makes_both_day_fields_required() -> None:
    cron = parse_cron("0 0 */2 * 5")  # starts with '*': odd days AND Friday
    assert cron.any_day
    assert cron.matches_day(wall("2024-08-09").date())  # Friday the 9th
    assert not cron.matches_day(wall("2024-08-16").date())  # Friday the 16th
    assert not cron.matches_day(wall("2024-08-11").date())  # Sunday the 11th


@pytest.mark.parametrize(
    "text,fragment",
    [
        ("0 15 * *", "has 4 field(s); a cron expression has 5"),
        ("0 15 * * * *", "has 6 field(s)"),
        ("60 * * * *", "minute: 60 is out of range 0-59"),
        ("0 24 * * *", "hour: 24 is out of range 0-23"),
        ("0 0 0 * *", "day of month: 0 is out of range 1-31"),
        ("0 0 * 13 *", "month: 13 is out of range 1-12"),
        ("0 0 * * 8", "day of week: 8 is out of range 0-7"),
        ("0 18-8 * * *", "hour: range '18-8' goes backwards"),
        ("*/0 * * * *", "minute: step must be at least 1"),
        ("0 0 * * FRY", "day of week: 'FRY' is not a number"),
        ("0 0 * JUNE *", "month: 'JUNE' is not a number"),
        ("0 0 ? * *", "day of month: '?' is not a number, range, step or '*'"),
        ("0 0 1,,2 * *", "day of month: '' is not a number"),
        ("0 0 30 2 *", "never matches"),
        ("0 0 31 4,6 *", "never matches"),
    ],
)
def test_invalid_crons_say_what_is_wrong(text: str, fragment: str) -> None:
    with pytest.raises(CronError) as info:
        parse_cron(text)
    assert fragment in str(info.value)


def test_day_31_of_a_month_set_that_has_one_is_fine() -> None:
    parse_cron("0 0 31 4,5 *")
    parse_cron("0 0 30 2 1")  # day-of-week restricted too: Mondays in February
    parse_cron("0 0 29 2 *")  # leap days exist


def test_latest_at_or_before_includes_the_current_minute() -> None:
    cron = parse_cron("0 15 * * 5")
    assert cron.latest_at_or_before(wall("2024-08-16T15:00:59")) == wall("2024-08-16T15:00")
    assert cron.latest_at_or_before(wall("2024-08-16T14:59")) == wall("2024-08-09T15:00")


def test_earliest_after_is_strictly_later() -> None:
    cron = parse_cron("0 8 * * 1")
    assert cron.earliest_after(wall("2024-08-19T08:00")) == wall("2024-08-26T08:00")
    assert cron.earliest_after(wall("2024-08-19T07:59")) == wall("2024-08-19T08:00")


def test_rare_expressions_are_found_years_away() -> None:
    leap = parse_cron("0 0 29 2 *")
    assert leap.latest_at_or_before(wall("2027-03-01T00:00")) == wall("2024-02-29T00:00")
    assert leap.earliest_after(wall("2024-03-01T00:00")) == wall("2028-02-29T00:00")


@pytest.mark.parametrize(
    "text,problem",
    [
        ("0 15 * * 5", "is not a window '<cron> - <cron>'"),
        ("0 15 * * 5 -0 8 * * 1", "is not a window"),
        ("0 15 * * 5 - 0 8 * * 1 - 0 9 * * 1", "is not a window"),
        ("0 15 * * 5 - 0 8 * *", "has 4 field(s)"),
    ],
)
def test_invalid_windows(text: str, problem: str) -> None:
    with pytest.raises(CronError) as info:
        parse_window(text)
    assert problem in str(info.value)


def test_window_text_is_normalised() -> None:
    assert parse_window("  0  15 * * 5   -   0 8 * * 1 ").text == "0 15 * * 5 - 0 8 * * 1"


WEEKEND = parse_window("0 15 * * 5 - 0 8 * * 1")


@pytest.mark.parametrize(
    "moment,frozen",
    [
        ("2024-08-16T14:59", False),  # Friday, a minute early
        ("2024-08-16T15:00", True),  # the start minute is inside
        ("2024-08-17T03:00", True),  # Saturday night
        ("2024-08-18T23:59", True),  # Sunday
        ("2024-08-19T07:59", True),  # Monday morning
        ("2024-08-19T08:00", False),  # the end minute is outside
        ("2024-08-21T12:00", False),  # Wednesday
    ],
)
def test_weekend_window(moment: str, frozen: bool) -> None:
    assert (WEEKEND.active_at(wall(moment)) is not None) is frozen


def test_active_window_reports_its_start_and_end() -> None:
    assert WEEKEND.active_at(wall("2024-08-17T03:00")) == (
        wall("2024-08-16T15:00"),
        wall("2024-08-19T08:00"),
    )


@pytest.mark.parametrize(
    "moment,frozen",
    [
        ("2024-08-16T21:59", False),
        ("2024-08-16T22:00", True),
        ("2024-08-16T23:30", True),
        ("2024-08-17T00:00", True),  # across midnight
        ("2024-08-17T05:59", True),
        ("2024-08-17T06:00", False),
    ],
)
def test_nightly_window_crosses_midnight(moment: str, frozen: bool) -> None:
    nightly = parse_window("0 22 * * * - 0 6 * * *")
    assert (nightly.active_at(wall(moment)) is not None) is frozen


def berlin_wall(utc_text: str) -> datetime:
    """What Berlin's clocks showed at a UTC moment (how the rule evaluates)."""
    moment = datetime.fromisoformat(utc_text).replace(tzinfo=UTC)
    return moment.astimezone(BERLIN).replace(tzinfo=None)


@pytest.mark.parametrize(
    "utc,frozen",
    [
        # Spring forward on Sunday 2024-03-31: Friday 15:00 is CET (14:00
        # UTC), Monday 08:00 is CEST (06:00 UTC).
        ("2024-03-29T13:59", False),
        ("2024-03-29T14:00", True),
        ("2024-03-31T01:30", True),  # 03:30 CEST, just after the jump
        ("2024-04-01T05:59", True),  # 07:59 CEST
        ("2024-04-01T06:00", False),  # 08:00 CEST (07:00 CET would still be frozen)
        # Fall back on Sunday 2024-10-27: Friday 15:00 is CEST (13:00 UTC),
        # Monday 08:00 is CET (07:00 UTC).
        ("2024-10-25T12:59", False),
        ("2024-10-25T13:00", True),
        ("2024-10-27T00:30", True),  # 02:30 CEST, the first of two 02:30s
        ("2024-10-27T01:30", True),  # 02:30 CET, the second
        ("2024-10-28T06:30", True),  # 07:30 CET (08:30 CEST would be open)
        ("2024-10-28T07:00", False),  # 08:00 CET
    ],
)
def test_weekend_window_in_berlin_across_dst_changes(utc: str, frozen: bool) -> None:
    assert (WEEKEND.active_at(berlin_wall(utc)) is not None) is frozen


def test_a_start_in_the_skipped_hour_begins_when_the_clocks_reach_it() -> None:
    night = parse_window("30 2 * * * - 0 4 * * *")
    assert night.active_at(berlin_wall("2024-03-31T00:59")) is None  # 01:59 CET
    assert night.active_at(berlin_wall("2024-03-31T01:00")) is not None  # 03:00 CEST
    assert night.active_at(berlin_wall("2024-03-31T02:00")) is None  # 04:00 CEST
