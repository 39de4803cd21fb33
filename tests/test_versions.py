"""Version parsing, precedence, Masterminds/semver constraints, tag selection.

Expectations come from, and comments cite:
- semver.org 2.0.0 (items 9-11: pre-release syntax and precedence);
- the Masterminds/semver v3 README ("Checking Version Constraints": basic
  comparisons, pre-releases, hyphen ranges, wildcards, tilde, caret) and its
  constraints_test.go tables (TestConstraintCheck / TestConstraintsCheck /
  TestNewConstraint), the library Flux's ImagePolicy `semver.range` uses;
- Masterminds/semver PR #267 (3.4.0): a pre-release in one comparison of an
  AND group lets pre-releases through the whole group, not across `||`;
- Flux's ImagePolicy docs (filterTags pattern/extract, alphabetical and
  numerical policies) and image-reflector-controller's policy code.
"""

from __future__ import annotations

import dataclasses

import pytest
import semver as pysemver
from hypothesis import given
from hypothesis import strategies as st

from promoter.core.tag_selection import select_latest
from promoter.core.versions import Version, compare, is_downgrade, parse_constraint, parse_version
from promoter.errors import ExitCode, InputError


def v(text: str) -> Version:
    parsed = parse_version(text)
    assert parsed is not None, text
    return parsed


def _input_error(call: object, *args: object, **kwargs: object) -> InputError:
    assert callable(call)
    with pytest.raises(InputError) as info:
        call(*args, **kwargs)
    assert info.value.exit_code == ExitCode.INPUT
    return info.value


# ------------------------------------------------------------------ parsing versions

# text, (major, minor, patch, prerelease, build)
PARSED = [
    ("1.2.3", (1, 2, 3, (), "")),
    ("v1.2.3", (1, 2, 3, (), "")),  # Masterminds: optional leading v
    ("V1.2.3", (1, 2, 3, (), "")),  # ours: capital V too
    ("0.0.0", (0, 0, 0, (), "")),
    ("1.2", (1, 2, 0, (), "")),  # Masterminds NewVersion coerces 1.2 -> 1.2.0
    ("1", (1, 0, 0, (), "")),  # ... and 1 -> 1.0.0
    ("v3.0", (3, 0, 0, (), "")),
    ("1.02.3", (1, 2, 3, (), "")),  # 3.4.0 (#266): NewVersion allows leading zeros
    ("1.2.3-rc.1", (1, 2, 3, ("rc", 1), "")),  # numeric identifiers become ints
    ("1.2.3-0", (1, 2, 3, (0,), "")),
    ("1.2.3-alpha-1.x-y", (1, 2, 3, ("alpha-1", "x-y"), "")),  # hyphens are allowed
    ("1.2.3-rc.1+build.5", (1, 2, 3, ("rc", 1), "build.5")),
    ("1.2.3+001", (1, 2, 3, (), "001")),  # semver item 10: build may have leading zeros
    ("1.2-beta", (1, 2, 0, ("beta",), "")),
    ("10.20.30-0a.1", (10, 20, 30, ("0a", 1), "")),  # "0a" is alphanumeric, not numeric
]


@pytest.mark.parametrize(("text", "expected"), PARSED)
def test_parse_version(text: str, expected: tuple[object, ...]) -> None:
    parsed = v(text)
    assert (parsed.major, parsed.minor, parsed.patch, parsed.prerelease, parsed.build) == expected
    assert parsed.original == text


NOT_VERSIONS = [
    "",
    "latest",
    "sha-abc123",
    "main-20240101-abcdef",
    "v",
    "1.2.3.4",  # Masterminds #185: four parts are not a version
    "v1.2.3.4",
    "1..2",
    "1.2.",
    ".1.2",
    "1.2.3-",  # empty pre-release
    "1.2.3-a..b",  # empty identifier
    "1.2.3+",
    "1.2.3-01",  # semver item 9: numeric identifiers have no leading zeros
    "1.2.3-rc.01",
    "1.2.3-ü",  # identifiers are ASCII only
    "１.2.3",  # fullwidth digit: not [0-9]
    " 1.2.3",
    "1.2.3\n",
    "x.1.2",  # wildcards belong to constraints only
    "-1.2.3",
]


@pytest.mark.parametrize("text", NOT_VERSIONS)
def test_not_a_version(text: str) -> None:
    assert parse_version(text) is None


@pytest.mark.parametrize(
    ("text", "ok"),
    [
        ("1.2.3", True),
        ("v1.2.3-rc.1+b", True),
        ("1.2", False),  # Masterminds StrictNewVersion wants all three numbers
        ("1", False),
        ("01.2.3", False),  # ... and no leading zeros
        ("1.2.03", False),
    ],
)
def test_parse_version_strict(text: str, ok: bool) -> None:
    assert (parse_version(text, loose=False) is not None) is ok
    assert parse_version(text, loose=True) is not None


def test_version_is_frozen_and_unordered() -> None:
    a, b = v("1.0.0"), v("2.0.0")
    with pytest.raises(dataclasses.FrozenInstanceError):
        a.major = 3  # type: ignore[misc]
    with pytest.raises(TypeError):
        _ = a < b  # type: ignore[operator]  # precedence is compare()'s job


def test_version_str_is_normalised() -> None:
    assert str(v("v1.2-rc.1+b.2")) == "1.2.0-rc.1+b.2"
    assert v("1.2.3-rc.1").is_prerelease and not v("1.2.3").is_prerelease


# ------------------------------------------------------------------ precedence

# Each list is strictly increasing.
ASCENDING = [
    # semver.org item 11's own example
    [
        "1.0.0-alpha",
        "1.0.0-alpha.1",
        "1.0.0-alpha.beta",
        "1.0.0-beta",
        "1.0.0-beta.2",
        "1.0.0-beta.11",
        "1.0.0-rc.1",
        "1.0.0",
    ],
    # item 11: major, minor, patch compared numerically
    ["1.0.0", "2.0.0", "2.1.0", "2.1.1", "2.10.0", "10.0.0"],
    # numeric identifiers numerically: rc.10 after rc.2
    ["1.2.0-rc.1", "1.2.0-rc.2", "1.2.0-rc.10", "1.2.0"],
    # numeric identifiers before alphanumeric ones; then ASCII, so upper case first
    ["1.0.0-1", "1.0.0-99", "1.0.0-BETA", "1.0.0-alpha", "1.0.0-beta"],
    # loose versions: 3.0 is 3.0.0
    ["2.9.9", "3.0", "3.0.1", "v3.1", "4"],
    ["1.9.0", "v1.10.0"],  # not string order
]


@pytest.mark.parametrize("chain", ASCENDING, ids=lambda c: f"{c[0]}..{c[-1]}")
def test_precedence_chains(chain: list[str]) -> None:
    for i, low in enumerate(chain):
        for high in chain[i + 1 :]:
            assert compare(v(low), v(high)) == -1, (low, high)
            assert compare(v(high), v(low)) == 1, (high, low)


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ("1.2.3+build.1", "1.2.3+build.2"),  # item 10: build metadata is ignored
        ("1.2.3", "v1.2.3"),
        ("3.0", "3.0.0"),
        ("1", "1.0.0"),
        ("1.02.3", "1.2.3"),
    ],
)
def test_equal_precedence(a: str, b: str) -> None:
    assert compare(v(a), v(b)) == 0 == compare(v(b), v(a))


# ------------------------------------------------------------------ constraints

# constraint, version, matches
CONSTRAINTS = [
    # README "Basic Comparisons": =, !=, >, <, >=, <= (and Masterminds' => =<)
    ("=2.0.0", "2.0.0", True),
    ("=2.0.0", "1.2.3", False),
    ("2.0.0", "2.0.0", True),  # no operator is =
    ("=2.0", "2.0.1", True),  # = with a missing patch falls back to ~ (README wildcards)
    ("=2.0", "2.1.0", False),
    ("!=4.1.0", "4.1.0", False),
    ("!=4.1.0", "4.1.1", True),
    ("!=4.1", "4.1.1", False),  # constraints_test: != with a missing part excludes 4.1.x
    ("!=4.1", "5.1.0", True),
    ("!=4.x", "4.1.0", False),
    ("!=4.x", "5.1.0", True),
    ("!=4.2.x", "4.2.3", False),
    ("!=4.1.x", "4.2.0", True),
    ("!=4.1-alpha", "4.1.0", True),
    ("!=4.1-alpha", "4.1.0-alpha", False),
    ("!=4.1-alpha", "4.1.1-alpha", False),
    ("!=4.1", "5.1.0-alpha.1", False),  # pre-release, and none named
    ("<11", "0.1.0", True),
    ("<11", "11.1.0", False),
    ("<1.1", "1.1.0", False),
    ("<1.1", "1.1.1", False),
    ("<1.x", "1.1.1", False),
    ("<1.x", "0.1.1", True),
    ("<1.2.x", "1.1.1", True),
    ("<=11", "11.2.3", True),  # <= with a missing part takes that whole line
    ("<=11", "12.2.3", False),
    ("<=1.1", "1.1.1", True),
    ("<=1.1", "1.2.3", False),
    ("<=1.1.x", "1.2.500", False),
    ("=<1.2", "1.3.0", False),
    (">1.1", "1.1.0", False),
    (">1.1", "1.1.5", False),  # constraints_test: >11.1 does not take 11.1.1
    (">1.1", "1.2.0", True),
    (">11", "11.1.0", False),  # ... and >11 does not take 11.1.0
    (">11", "12.0.0", True),
    (">0", "0", False),
    (">0", "1", True),
    (">1.2.3", "1.2.4", True),
    (">1.2.3", "1.2.3", False),
    (">=11.1", "11.0.2", False),
    (">=1.1", "1.1.0", True),
    (">=1.1", "4.1.0", True),
    ("=>1.2", "1.2.0", True),
    (">= 1.2", "1.2.0", True),  # space between operator and version
    (">=v1.2", "v1.10.0", True),  # v prefix in constraint and version
    ("v1.2.3", "1.2.3", True),
    # README "Wildcards In Comparisons"
    ("1.2.x", "1.2.0", True),
    ("1.2.x", "1.2.99", True),
    ("1.2.x", "1.3.0", False),
    ("1.2.X", "1.2.7", True),
    ("1.2.*", "1.2.7", True),
    (">= 1.2.x", "1.2.0", True),
    (">= 1.2.x", "5.0.0", True),
    (">= 1.2.x", "1.1.9", False),
    ("<= 2.x", "2.9.9", True),  # "<= 2.x is equivalent to < 3"
    ("<= 2.x", "3.0.0", False),
    ("*", "0.0.0", True),  # "* is equivalent to >= 0.0.0"
    ("*", "4.5.6", True),
    ("1.x", "1.4", True),
    ("2.*", "2.1.1", True),
    ("2.*", "3.4.5", False),
    ("2.*", "1", False),
    ("2", "2.1.1", True),  # a bare major is 2.x
    ("2", "3.4.5", False),
    ("2.1", "2.1.1", True),  # a bare major.minor is 2.1.x
    ("2.1", "2.2.1", False),
    ("0.x.x", "1.2.3", False),
    ("0.0.x", "1.2.3", False),
    ("0.0.0", "1.2.3", False),
    # README "Tilde Range Comparisons (Patch)"
    ("~1.2.3", "1.2.3", True),
    ("~1.2.3", "1.2.9", True),
    ("~1.2.3", "1.2.2", False),  # ">= 1.2.3, < 1.3.0"
    ("~1.2.3", "1.3.0", False),
    ("~1", "1.0.0", True),  # "~1 is equivalent to >= 1, < 2"
    ("~1", "1.9.9", True),
    ("~1", "2.0.0", False),
    ("~2.3", "2.3.9", True),  # "~2.3 is equivalent to >= 2.3, < 2.4"
    ("~2.3", "2.4.0", False),
    ("~1.2.x", "1.2.0", True),
    ("~1.2.x", "1.3.0", False),
    ("~1.x", "1.9.0", True),
    ("~1.x", "2.0.0", False),
    ("~>1.2", "1.2.5", True),  # ~> is an alias of ~
    ("~>1.2", "1.3.0", False),
    ("~0.2.3", "0.2.5", True),
    ("~0.2.3", "0.3.5", False),
    ("~0.0.0", "1.2.3", True),  # constraints_test: ~0.0.0 takes everything
    ("~*", "2.1.1", True),
    ("~1.2.3-beta.2", "1.2.4-beta.2", True),  # pre-releases range over patches here
    ("~1.2.3-beta.2", "1.3.4-beta.2", False),
    ("~1.1.1-beta", "1.1.1-alpha", False),
    ("~1.1.1-beta", "1.1.1", True),
    # README "Caret Range Comparisons (Major)"
    ("^1.2.3", "1.2.3", True),  # ">= 1.2.3, < 2.0.0"
    ("^1.2.3", "1.8.9", True),
    ("^1.2.3", "1.2.2", False),
    ("^1.2.3", "2.0.0", False),
    ("^1.2.x", "1.2.0", True),  # ">= 1.2.0, < 2.0.0"
    ("^1.2.x", "1.9.0", True),
    ("^1.2.x", "1.1.9", False),
    ("^1.2.x", "2.0.0", False),
    ("^2.3", "2.3.0", True),  # ">= 2.3, < 3"
    ("^2.3", "2.9.9", True),
    ("^2.3", "2.2.9", False),
    ("^2.3", "3.0.0", False),
    ("^2.x", "2.0.0", True),
    ("^2.x", "3.0.0", False),
    ("^2.x", "1.1.1", False),
    ("^0.2.3", "0.2.3", True),  # ">=0.2.3 <0.3.0"
    ("^0.2.3", "0.2.9", True),
    ("^0.2.3", "0.2.2", False),
    ("^0.2.3", "0.3.0", False),
    ("^0.2", "0.2.0", True),  # ">=0.2.0 <0.3.0"
    ("^0.2", "0.2.5", True),
    ("^0.2", "0.3.0", False),
    ("^0.0.3", "0.0.3", True),  # ">=0.0.3 <0.0.4"
    ("^0.0.3", "0.0.4", False),
    ("^0.0.3", "0.0.2", False),
    ("^0.0.3", "0.1.3", False),
    ("^0.0", "0.0.0", True),  # ">=0.0.0 <0.1.0"
    ("^0.0", "0.0.9", True),
    ("^0.0", "0.1.0", False),
    ("^0.0", "1.0.4", False),
    ("^0", "0.0.0", True),  # ">=0.0.0 <1.0.0"
    ("^0", "0.9.9", True),
    ("^0", "1.0.0", False),
    ("^0.0.0", "1.2.3", False),  # constraints_test
    ("^1.1.2-alpha", "1.2.1-beta1", True),
    ("^1.2.x-alpha", "1.1.1-beta1", False),
    ("^1.2.0-alpha.2", "1.2.0-alpha.1", False),
    ("^0.2.3-beta.2", "0.2.4-beta.2", True),
    ("^0.2.3-beta.2", "0.3.4-beta.2", False),
    # README "Basic Comparisons": AND by comma or space, OR by ||
    (">1.1, <2", "1.1.1", False),
    (">1.1, <2", "1.2.1", True),
    (">1.1 <2", "1.2.1", True),
    (">1.1 <3", "4.3.2", False),
    ("> 1.1, <     2", "1.2.1", True),
    (">=1.1, <2, !=1.2.3", "1.2.3", False),
    (">=1.1, <2, !=1.2.3", "1.2.4", True),
    (">=1.1 <2 !=1.2.3 || > 3", "4.1.2", True),
    (">=1.1 <2 !=1.2.3 || > 3", "3.1.2", False),  # >3 is >=4.0.0
    (">=1.1 <2 !=1.2.3 || > 3", "3.0.0", False),
    (">=1.1 <2 !=1.2.3 || >= 3", "3.0.0", True),
    (">=1.1 <2 !=1.2.3 || > 3", "1.2.3", False),
    (">= 1.2, < 3.0.0 || >= 4.2.3", "4.2.3", True),  # the README's own example
    (">= 1.2, < 3.0.0 || >= 4.2.3", "3.5.0", False),
    (">=1.2 <2", "1.9.9", True),  # the example
    (">=1.2 <2", "2.0.0", False),
    ("^1 || ^3", "2.0.0", False),
    ("^1 || ^3", "3.1.0", True),
    # README "Hyphen Range Comparisons"
    ("1.2 - 1.4.5", "1.2.0", True),  # ">= 1.2, <= 1.4.5"
    ("1.2 - 1.4.5", "1.4.5", True),
    ("1.2 - 1.4.5", "1.4.6", False),
    ("1.2 - 1.4.5", "1.1.9", False),
    ("2.3.4 - 4.5", "2.3.3", False),  # ">= 2.3.4, <= 4.5"
    ("2.3.4 - 4.5", "4.5.9", True),  # <= 4.5 takes all of 4.5.x
    ("2.3.4 - 4.5", "4.6.0", False),
    ("1.1 - 2", "1.1.1", True),
    ("1.5.0 - 4.5", "3.7.0", True),
    ("1.1-3", "4.3.2", False),  # no spaces: 1.1 with pre-release "3", not a range
    ("1.0.0 - 2.0.0 <=2.0.0", "1.5.0", True),  # ranges AND with other comparisons
    ("1.0.0 - 2.0.0, <=2.0.0", "1.5.0", True),
    ("3 - 4 || => 3.0, < 4", "4.9.0", True),
    # README "Working With Prerelease Versions": only when the constraint names one
    ("*", "1.2.3-alpha.1", False),
    ("*-0", "1.2.3-alpha.1", True),
    (">=1.2.3", "1.2.4-beta", False),  # ">=1.2.3 will skip prereleases"
    (">=1.2.3-0", "1.2.4-beta", True),  # "... while >=1.2.3-0 will ... find prereleases"
    (">=1.2", "1.3.0-beta", False),  # the example
    (">=1.2.0-rc.1", "1.2.0-rc.2", True),  # ... and its counterpart
    (">=1.2.0-rc.1", "1.2.0-rc.10", True),  # rc.10 after rc.2 numerically
    (">=1.2.0-rc.1", "1.2.0-rc.0", False),
    (">=1.2.0-rc.1", "1.2.0", True),
    (">=1.1", "4.1.0-beta", False),
    ("^1.x", "1.1.1-beta1", False),
    ("~1.1", "1.1.1-alpha", False),
    ("<=1.1", "0.1.0-alpha", False),
    ("<=1.1-a", "0.1.0-alpha", True),
    (">0", "0.0.1-alpha", False),
    (">=0-0", "0.0.1-alpha", True),
    (">0.0.0-0", "0.0.0-alpha", True),
    ("<0-z", "0.0.0-alpha", True),
    (">=1.2.3-BETA", "1.2.3-alpha", True),  # README: ASCII order, so BETA < alpha
    # PR #267 (3.4.0): a pre-release anywhere in an AND group opts the group in...
    (">=1.2.0-rc.1 <2", "1.5.0-beta", True),
    ("1.0.0-alpha.1 - 1.1.0", "1.0.0-alpha.2", True),  # issue #177
    (">= 1.2.3 < 2.0.0-beta || > 3", "1.5.0-alpha", True),
    # ... but not across ||
    (">= 1.2.3 < 2.0.0-beta || > 3", "3.1.0-alpha", False),
    (">= 1.2.3 < 2.0.0-beta || > 3", "4.0.0", True),
]


@pytest.mark.parametrize(("constraint", "version", "expected"), CONSTRAINTS)
def test_constraint(constraint: str, version: str, expected: bool) -> None:
    assert parse_constraint(constraint).matches(v(version)) is expected


@pytest.mark.parametrize(
    ("text", "groups", "first_group_size"),
    [
        # constraints_test TestNewConstraint: how many ORs and ANDs
        (">= 1.1", 1, 1),
        (">40.50.60, < 50.70", 1, 2),
        ("2.0", 1, 1),
        ("v2.3.5-20161202202307-sha.e8fc5e5", 1, 1),
        (">= 1.2.3 < 2.0", 1, 2),
        (">= 1.2.3 < 2.0 || => 3.0 < 4", 2, 2),
        (">= 1.2.3, < 2.0 || => 3.0, < 4", 2, 2),
        ("3 - 4 || => 3.0, < 4", 2, 2),  # the range is rewritten into two
        ("12.3.34 ~1.2.3", 1, 2),
        ("1.0.0 - 2.0.0, <=2.0.0", 1, 3),
        ("  ^1.2  ", 1, 1),
    ],
)
def test_constraint_structure(text: str, groups: int, first_group_size: int) -> None:
    parsed = parse_constraint(text)
    assert len(parsed.groups) == groups
    assert len(parsed.groups[0]) == first_group_size
    assert parsed.text == str(parsed) == text


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("^1.2", False),
        ("1.x", False),
        (">=1.2.0-0", True),
        ("^1 || >=2.0.0-rc.1", True),
        ("1.2.3 - 1.3.0-rc.1", True),
    ],
)
def test_has_prerelease(text: str, expected: bool) -> None:
    assert parse_constraint(text).has_prerelease is expected


# text, a fragment the message must contain
BAD_CONSTRAINTS = [
    ("", "it is empty"),
    ("   ", "it is empty"),
    ("foo", "unexpected 'foo' at character 1"),
    (">= bar", "unexpected '>= bar'"),  # constraints_test
    ("BAR >= 1.2.3", "unexpected 'BAR >= 1.2.3'"),
    ("12.3.4.1234", "at most three numbers"),  # Masterminds #185
    ("12.3.34~ 1.2.3", "unexpected '~ 1.2.3' at character 8"),  # needs a separator
    (">=1.2<2", "unexpected '<2'"),
    ("^1 | ^2", "OR is written ||"),
    ("^1 ||| ^2", "OR is written ||"),
    ("^1 ||", "an empty alternative"),
    ("|| ^1", "an empty alternative"),
    (">=1.2,", "unexpected"),
    (", >=1.2", "unexpected ', >=1.2' at character 1"),
    ("1x", "unexpected 'x'"),
    ("1.2.3 - ", "unexpected '-'"),
    ("1.2.3 -2", "unexpected '-2'"),
    ("=1.2 - 1.4", "unexpected '- 1.4'"),  # a hyphen range takes no operators
    ("^1.2.3-01", "leading zero"),
    (">== 1", "unexpected"),
]


@pytest.mark.parametrize(("text", "fragment"), BAD_CONSTRAINTS)
def test_bad_constraint(text: str, fragment: str) -> None:
    error = _input_error(parse_constraint, text)
    assert error.message.startswith(f"invalid version constraint {text!r}: ")
    assert fragment in error.message
    assert error.hint is not None and "^1.2" in error.hint and "-0" in error.hint


# ------------------------------------------------------------------ select_latest

REGISTRY = [
    "latest",
    "sha-abc123",
    "1.2.3",
    "v1.10.0",
    "1.10.0-rc.1",
    "1.9.0",
    "2.0.0-beta.1",
    "main-20240101-abcdef",
    "main-20240315-0123ab",
    "main-20231231-ffffff",
    "1.2",
    "0.9.12",
]


@pytest.mark.parametrize(
    ("constraint", "expected"),
    [
        (None, "v1.10.0"),  # no constraint is *: releases only; 1.10 > 1.9
        ("*", "v1.10.0"),
        ("^1.2", "v1.10.0"),
        ("~1.9", "1.9.0"),
        ("~1.2", "1.2.3"),  # the loose 1.2 is 1.2.0, below 1.2.3
        ("1.2.0", "1.2"),  # ... and is found as 1.2.0
        ("<1.10", "1.9.0"),
        ("^0.9", "0.9.12"),
        (">=2.0.0-0", "2.0.0-beta.1"),
        (">=1.10.0-rc.0 <1.11", "v1.10.0"),  # the release beats its rc
        (">=1.10.0-rc.0 <1.10.0", "1.10.0-rc.1"),
        ("^1.x-0", "v1.10.0"),  # Flux docs' rc range: the release still beats the rc
        ("^3", None),
        ("^2", None),  # only a pre-release of 2 exists
    ],
)
def test_select_latest_semver(constraint: str | None, expected: str | None) -> None:
    assert select_latest(REGISTRY, constraint=constraint) == expected
    assert select_latest(list(reversed(REGISTRY)), constraint=constraint) == expected


def test_select_latest_flux_rc_example() -> None:
    # Flux docs: filterTags.pattern '.*-rc.*' with semver range '^1.x-0'
    assert select_latest(REGISTRY, pattern=".*-rc.*", constraint="^1.x-0") == "1.10.0-rc.1"


@pytest.mark.parametrize(
    "extract", ["$ts", "${ts}", "$1", "${1}"], ids=["name", "braced-name", "num", "braced-num"]
)
def test_select_latest_timestamp_tags(extract: str) -> None:
    pattern = r"main-(?P<ts>\d+)-[a-f0-9]+"
    # Returns the tag, not the extracted timestamp.
    assert select_latest(REGISTRY, pattern=pattern, extract=extract, order="numeric") == (
        "main-20240315-0123ab"
    )
    assert select_latest(REGISTRY, pattern=pattern, extract=extract, order="alpha") == (
        "main-20240315-0123ab"
    )


def test_select_latest_flux_minio_example() -> None:
    # Flux docs: pattern '^RELEASE\.(?P<timestamp>.*)Z$', extract '$timestamp', alphabetical
    tags = [
        "RELEASE.2023-01-31T02-24-19Z",
        "RELEASE.2024-03-15T01-07-19Z",
        "RELEASE.2022-12-12T19-27-27Z",
        "latest",
        "RELEASE.2025-01-01",  # no Z: filtered out
    ]
    pattern = r"^RELEASE\.(?P<timestamp>.*)Z$"
    assert (
        select_latest(tags, pattern=pattern, extract="$timestamp", order="alpha")
        == "RELEASE.2024-03-15T01-07-19Z"
    )


def test_pattern_is_searched_not_fullmatched() -> None:
    # Flux uses Go's MatchString: the pattern may match anywhere in the tag.
    tags = ["v1.10.0", "1.9.0"]
    assert select_latest(tags, pattern=r"1\.") == "v1.10.0"
    assert select_latest(tags, pattern=r"^1\.") == "1.9.0"


def test_constraint_applies_to_the_extracted_value() -> None:
    tags = ["app-1.2.3", "app-1.3.0", "app-2.0.0", "other-1.9.9", "app-latest"]
    assert select_latest(tags, pattern=r"^app-(.*)$", extract="$1", constraint="^1") == (
        "app-1.3.0"
    )
    # Without extract the value is the whole tag, which is not a version.
    assert select_latest(tags, pattern=r"^app-", constraint="^1") is None


def test_extract_with_literal_text() -> None:
    tags = ["build-7", "build-12", "build-x"]
    assert select_latest(tags, pattern=r"build-(\d+)", extract="${1}.0.0") == "build-12"


def test_extract_double_dollar_is_a_literal_dollar() -> None:
    # Go's Expand: $$1 is the text "$1", not "$" + group 1; every value is then
    # "$1", so the tie goes to the tag that sorts last.
    tags = ["z-1", "a-9"]
    assert select_latest(tags, pattern=r"-(\d)", extract="$$1", order="alpha") == "z-1"
    assert select_latest(tags, pattern=r"-(\d)", extract="$$$1", order="alpha") == "a-9"
    # "$1" is not a number, so numeric order finds nothing ("1" would be one).
    assert select_latest(tags, pattern=r"-(\d)", extract="$$1", order="numeric") is None


def test_unmatched_optional_group_expands_to_nothing() -> None:
    # As in Go: "dev-99" leaves group 1 out, so its value is "", not a number.
    tags = ["rel-5", "dev-99"]
    pattern = r"^(?:rel-(\d+)|dev-(\d+))$"
    assert select_latest(tags, pattern=pattern, extract="$1", order="numeric") == "rel-5"


def test_numeric_order() -> None:
    tags = ["9", "10", "100", "latest", "1.5", "nan", "inf", "0x200", "1_000", "-3"]
    # Flux's numerical policy sorts numbers, not strings; non-numbers are skipped.
    assert select_latest(tags, order="numeric") == "100"
    assert select_latest(["9", "10"], order="alpha") == "9"  # the string order differs
    assert select_latest(["-3", "-1.5", "-2"], order="numeric") == "-1.5"
    assert select_latest(["1e3", "999"], order="numeric") == "1e3"


def test_numeric_order_is_exact_for_long_timestamps() -> None:
    low, high = "20240101123456788", "20240101123456789"
    assert float(low) == float(high)  # a float comparison would call this a tie
    tags = [f"b-{low}", f"a-{high}"]  # ... and the tie-break would pick b-
    assert select_latest(tags, pattern=r"-(\d+)$", extract="$1", order="numeric") == f"a-{high}"


def test_alpha_order() -> None:
    # Flux's alphabetical policy with order asc: the last tag in sorted order.
    assert select_latest(REGISTRY, order="alpha") == "v1.10.0"
    assert select_latest(["a", "B", "b", "A"], order="alpha") == "b"  # code-point order


@pytest.mark.parametrize(
    ("tags", "order", "expected"),
    [
        (["1.2.3", "v1.2.3"], "semver", "v1.2.3"),
        (["1.2.3+b", "1.2.3+a"], "semver", "1.2.3+b"),
        (["3.0", "3.0.0"], "semver", "3.0.0"),
        (["x-7", "y-7.0"], "numeric", "y-7.0"),
    ],
)
def test_ties_go_to_the_tag_that_sorts_last(tags: list[str], order: str, expected: str) -> None:
    pattern, extract = (r"-(.*)", "$1") if order == "numeric" else (None, None)
    for listing in (tags, list(reversed(tags))):
        assert select_latest(listing, order=order, pattern=pattern, extract=extract) == expected


@pytest.mark.parametrize("order", ["semver", "numeric", "alpha"])
def test_nothing_to_select(order: str) -> None:
    assert select_latest([], order=order) is None
    assert select_latest(["latest", "sha-abc123"], pattern="^v", order=order) is None


def test_select_latest_accepts_any_iterable() -> None:
    assert select_latest(tag for tag in ["1.0.0", "2.0.0"]) == "2.0.0"


# call kwargs, fragment of the message, fragment of the hint (or None)
BAD_SELECTIONS = [
    ({"pattern": "main-("}, "invalid tag pattern 'main-('", "Python regular expression"),
    ({"pattern": r"main-(?<ts>\d+)"}, "invalid tag pattern", "(?P<name>...)"),
    ({"pattern": r"main-(\d+)", "extract": "$2"}, "refers to group '2'", "groups: 0, 1"),
    ({"pattern": r"(?P<ts>\d+)", "extract": "$tz"}, "refers to group 'tz'", "0, 1, ts"),
    ({"pattern": r"(\d+)", "extract": "$1x"}, "refers to group '1x'", "write ${1}"),
    ({"pattern": r"(\d+)", "extract": "$01"}, "refers to group '01'", None),
    ({"pattern": r"(\d+)", "extract": "${1"}, "unclosed or empty ${...}", "${name}"),
    ({"pattern": r"(\d+)", "extract": "${}"}, "unclosed or empty ${...}", None),
    ({"extract": "$1"}, "needs a tag pattern", None),
    ({"order": "date"}, "unknown tag order 'date'", "semver, numeric, alpha"),
    ({"order": "numeric", "constraint": "^1"}, "only applies to semver order", None),
    ({"constraint": ">=1.2<2"}, "invalid version constraint", "^1.2"),
]


@pytest.mark.parametrize(("kwargs", "message", "hint"), BAD_SELECTIONS)
def test_bad_selection(kwargs: dict[str, str], message: str, hint: str | None) -> None:
    # Checked up front: an empty tag list still reports the mistake.
    error = _input_error(select_latest, [], **kwargs)
    assert message in error.message
    if hint is not None:
        assert error.hint is not None and hint in error.hint


# ------------------------------------------------------------------ is_downgrade


@pytest.mark.parametrize(
    ("old", "new", "expected"),
    [
        ("1.2.3", "1.2.2", True),
        ("1.2.3", "1.2.4", False),
        ("1.2.3", "1.2.3", False),
        ("v1.2.3", "1.2.3", False),
        ("1.10.0", "1.9.0", True),  # numeric, not string, comparison
        ("1.9.0", "v1.10.0", False),
        ("3.0", "3.0.1", False),  # loose versions compare sensibly
        ("3.0.1", "3.0", True),
        ("1.2.0", "1.2.0-rc.1", True),  # a pre-release is below its release
        ("1.2.0-rc.1", "1.2.0", False),
        ("1.2.0-rc.2", "1.2.0-rc.10", False),
        ("1.2.0-rc.10", "1.2.0-rc.2", True),
        ("1.2.3+build.2", "1.2.3+build.1", False),  # build metadata does not count
        ("latest", "1.2.3", None),
        ("1.2.3", "sha-abc123", None),
        ("main-20240101-abcdef", "main-20240315-0123ab", None),
    ],
)
def test_is_downgrade(old: str, new: str, expected: bool | None) -> None:
    assert is_downgrade(old, new) is expected


# ------------------------------------------------------------------ properties

_ALNUM = st.text("0123456789abcXYZ-", min_size=1, max_size=4).filter(lambda s: not s.isdigit())
_IDENTIFIER = st.one_of(st.integers(0, 12).map(str), _ALNUM)
_SMALL = st.integers(0, 3)


@st.composite
def version_texts(draw: st.DrawFn, prerelease: bool = True) -> str:
    core = f"{draw(_SMALL)}.{draw(_SMALL)}.{draw(_SMALL)}"
    if prerelease and draw(st.booleans()):
        core += "-" + ".".join(draw(st.lists(_IDENTIFIER, min_size=1, max_size=3)))
    if draw(st.booleans()):
        core += "+" + draw(st.sampled_from(["b1", "exp.sha.5114f85", "001"]))
    return draw(st.sampled_from(["", "v"])) + core


@given(version_texts(), version_texts())
def test_compare_agrees_with_python_semver(a: str, b: str) -> None:
    # An independent semver 2.0 implementation as the oracle for precedence.
    assert compare(v(a), v(b)) == pysemver.Version.parse(a.lstrip("v")).compare(b.lstrip("v"))


@given(version_texts(), version_texts())
def test_compare_is_antisymmetric(a: str, b: str) -> None:
    assert compare(v(a), v(b)) == -compare(v(b), v(a))


@given(version_texts(), version_texts(), version_texts())
def test_compare_is_transitive(a: str, b: str, c: str) -> None:
    va, vb, vc = v(a), v(b), v(c)
    if compare(va, vb) <= 0 and compare(vb, vc) <= 0:
        assert compare(va, vc) <= 0
    if compare(va, vb) == 0 and compare(vb, vc) == 0:
        assert compare(va, vc) == 0


@given(version_texts())
def test_str_round_trips(text: str) -> None:
    parsed = v(text)
    again = v(str(parsed))
    assert compare(parsed, again) == 0
    assert dataclasses.replace(again, original=text) == parsed


_JUNK = st.sampled_from(["latest", "sha-abc123", "main-20240101-abcdef", "1.2.3.4", "stable"])


@given(st.lists(st.one_of(version_texts(), _JUNK), max_size=12))
def test_select_latest_returns_an_unbeaten_member(tags: list[str]) -> None:
    result = select_latest(tags)
    # Without a constraint (i.e. `*`) the candidates are the release versions.
    candidates = [t for t in tags if (p := parse_version(t)) is not None and not p.is_prerelease]
    if not candidates:
        assert result is None
        return
    assert result in candidates
    best = v(result)
    for tag in candidates:
        assert compare(best, v(tag)) >= 0
        if compare(best, v(tag)) == 0:
            assert tag <= result  # ties: the tag that sorts last
    assert select_latest(list(reversed(tags))) == result


@given(st.lists(version_texts(), max_size=10), st.sampled_from(["^1", "~0.2", ">=1.1.0-0 <3"]))
def test_select_latest_with_constraint_is_the_max_of_the_matches(
    tags: list[str], constraint: str
) -> None:
    parsed = parse_constraint(constraint)
    matching = [t for t in tags if parsed.matches(v(t))]
    result = select_latest(tags, constraint=constraint)
    if not matching:
        assert result is None
    else:
        assert result in matching
        assert all(compare(v(result), v(t)) >= 0 for t in matching)


_BOUND = st.tuples(_SMALL, _SMALL, _SMALL)


def _text(parts: tuple[int, int, int]) -> str:
    return ".".join(map(str, parts))


@given(_BOUND, version_texts(prerelease=False))
def test_readme_equivalences(bound: tuple[int, int, int], version: str) -> None:
    # The Masterminds README defines ^, ~, x-ranges and hyphen ranges by these
    # rewrites; check them on release versions around the bound.
    x, y, z = bound
    if x > 0:
        caret = f">={x}.{y}.{z}, <{x + 1}.0.0"
    elif y > 0:
        caret = f">=0.{y}.{z}, <0.{y + 1}.0"
    else:
        caret = f">=0.0.{z}, <0.0.{z + 1}"
    pairs = [
        (f"^{_text(bound)}", caret),
        (f"~{x}", f">={x}.0.0, <{x + 1}.0.0"),
        (f"{x}.{y}.x", f">={x}.{y}.0, <{x}.{y + 1}.0"),
        (f"<={x}.x", f"<{x + 1}"),
        (f"{_text(bound)} - {x + 1}.{y}.{z}", f">={x}.{y}.{z}, <={x + 1}.{y}.{z}"),
    ]
    if bound != (0, 0, 0):  # ~0.0.0 is special: it takes everything (see CONSTRAINTS)
        pairs.append((f"~{_text(bound)}", f">={x}.{y}.{z}, <{x}.{y + 1}.0"))
    target = v(version)
    for shorthand, rewrite in pairs:
        expected = parse_constraint(rewrite).matches(target)
        assert parse_constraint(shorthand).matches(target) is expected, (shorthand, version)


@given(version_texts(), st.sampled_from(["^1", "~0.2", ">=1 <3", "*", "1.x", "!=1.2.3"]))
def test_or_is_the_union_and_prereleases_need_opting_in(version: str, constraint: str) -> None:
    target = v(version)
    single = parse_constraint(constraint).matches(target)
    union = parse_constraint(f"{constraint} || >=2.0.0").matches(target)
    assert union is (single or parse_constraint(">=2.0.0").matches(target))
    if target.is_prerelease:
        assert not single and not union  # no bound names a pre-release
