"""The forge vocabulary shared by the adapters (permissions, status
descriptions, the sticky-comment choice, timestamps) and the no-forge
adapter's answers for checks and the bot: no request, nothing pretended."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta, timezone

import pytest
import responses

from promoter.adapters.forges import CommentResult, make_forge
from promoter.adapters.forges.common import Marked, parse_time, pick_sticky, same_text
from promoter.adapters.forges.none import NoForge
from promoter.core.forge import PERMISSIONS, PullRequest, permits, short_description
from promoter.errors import InputError

MARK = "<!-- promoter:sticky -->"


@pytest.mark.parametrize(
    ("have", "need", "expected"),
    [
        ("admin", "write", True),
        ("maintain", "write", True),
        ("write", "write", True),
        ("triage", "write", False),
        ("read", "write", False),
        ("none", "read", False),
        ("read", "read", True),
        ("admin", "admin", True),
        ("maintain", "admin", False),
        ("custom-role", "read", False),  # unknown: counts as none
        ("none", "none", True),
        ("admin", "superuser", False),  # an unknown requirement is never met
    ],
)
def test_permits(have: str, need: str, expected: bool) -> None:
    assert permits(have, need) is expected


def test_permissions_are_ordered_strongest_first() -> None:
    assert all(permits(a, b) for i, a in enumerate(PERMISSIONS) for b in PERMISSIONS[i:])
    assert not any(permits(b, a) for i, a in enumerate(PERMISSIONS) for b in PERMISSIONS[i + 1 :])


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("short", "short"),
        ("two\nlines  and   spaces", "two lines and spaces"),
        ("x" * 140, "x" * 140),
        ("x" * 141, "x" * 139 + "…"),
        ("word " * 40, "word " * 27 + "word…"),
    ],
)
def test_short_description(text: str, expected: str) -> None:
    assert short_description(text) == expected
    assert len(short_description(text)) <= 140


def test_pick_sticky() -> None:
    theirs = Marked(1, "mallory", "a")
    ours = Marked(2, "Promoter-Bot", "b")
    later = Marked(3, "promoter-bot", "c")
    assert pick_sticky([theirs, ours, later], None) == theirs
    assert pick_sticky([theirs, ours, later], "promoter-bot") == ours
    assert pick_sticky([theirs], "promoter-bot") == theirs  # none of ours: the oldest
    assert pick_sticky([], "promoter-bot") is None


def test_pick_sticky_stops_reading_at_the_first_acceptable_comment() -> None:
    read: list[int] = []

    def comments() -> Iterator[Marked]:
        for i in range(1, 4):
            read.append(i)
            yield Marked(i, "bot", "x")

    assert pick_sticky(comments(), None) == Marked(1, "bot", "x")
    assert read == [1]


def test_same_text() -> None:
    assert same_text("a\r\nb\r\n", "a\nb")
    assert same_text(None, "")
    assert not same_text("a\nb", "a\nc")
    assert not same_text(" a", "a")  # leading space can matter in Markdown


def test_parse_time() -> None:
    assert parse_time("2026-01-01T10:00:00Z") == datetime(2026, 1, 1, 10, tzinfo=UTC)
    assert parse_time("2026-01-01T10:00:00.500+02:00") == datetime(
        2026, 1, 1, 10, 0, 0, 500000, tzinfo=timezone(timedelta(hours=2))
    )
    naive = datetime(2026, 1, 1, 10)  # PyGithub before 2.0 gave naive UTC
    assert parse_time(naive) == datetime(2026, 1, 1, 10, tzinfo=UTC)
    assert parse_time(None) is None
    assert parse_time("") is None


# -- no forge ------------------------------------------------------------------------


@pytest.fixture
def none_forge() -> Iterator[NoForge]:
    # Any request would hit an empty RequestsMock and fail the test.
    with responses.RequestsMock() as rsps:
        forge = make_forge("none", "file:///srv/env.git", environ={})
        assert isinstance(forge, NoForge)
        yield forge
        assert len(rsps.calls) == 0


PR = PullRequest(0, "", "promoter/staging", "staging", "t", "b", "open")


def test_no_forge_has_no_pull_request_to_read(none_forge: NoForge) -> None:
    with pytest.raises(InputError) as caught:
        none_forge.get_pull_request(3)
    assert caught.value.message == (
        "no forge API for this remote: there is no pull request #3 to read"
    )
    assert caught.value.hint is not None


def test_no_forge_answers_checks_and_the_bot_with_nothing(none_forge: NoForge) -> None:
    none_forge.set_status("a" * 40, "promoter/apply", "success", "ok")
    assert none_forge.commit_statuses("a" * 40) == {}
    assert none_forge.upsert_comment(PR, MARK, f"{MARK}\nreport") == CommentResult(
        0, created=False, updated=False
    )
    assert none_forge.approvals(PR) == []
    assert none_forge.team_members("acme/sre") == set()
    assert none_forge.permission("alice") == "none"
    none_forge.add_reaction(PR, 1, "eyes")
    assert none_forge.max_comment_length == 65_536
    assert none_forge.request_count == 0


def test_no_forge_still_checks_its_arguments(none_forge: NoForge) -> None:
    with pytest.raises(ValueError, match="unknown commit status state"):
        none_forge.set_status("a" * 40, "promoter/apply", "failed", "x")
    with pytest.raises(ValueError, match="does not contain its marker"):
        none_forge.upsert_comment(PR, MARK, "report")
    with pytest.raises(ValueError, match="exceeds"):
        none_forge.upsert_comment(PR, MARK, MARK + "x" * 70_000)
    with pytest.raises(ValueError, match="unknown reaction"):
        none_forge.add_reaction(PR, 1, "thumbsup")
