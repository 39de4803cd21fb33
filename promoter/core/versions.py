"""Versions and version constraints: parsing and comparison; pure, no I/O.

`promoter bump --latest` picks the newest tag of a registry's tag list
(`tag_selection`) and the `no-downgrade` policy rule compares two tags; both
use this module so they can never disagree about which version is newer.

Constraints mean what they mean in Flux's ImagePolicy `semver.range`, which
is Masterminds/semver v3 (3.4): `^1.2`, `~1.4`, `1.x`, `*`, `1.2 - 1.4.5`,
`=`/`!=`/`>`/`<`/`>=`/`<=` (also `=>`, `=<`, `~>`), AND by comma or space,
OR by `||`. A version with a pre-release only satisfies an AND group in which
some bound names a pre-release (`>=1.2.0-0`), exactly as Masterminds 3.4 does.
The operator rules below deliberately reproduce that library's behaviour,
edge cases included, so a range copied from an ImagePolicy picks the same tag.

Versions are parsed loosely like Masterminds' `NewVersion`: an optional `v`
(or `V`), one to three numbers (`3.0` is `3.0.0`, leading zeros allowed in
them), then `-pre.release` and `+build`. `1.2.3.4` is not a version. Flux
itself only considers strict `X.Y.Z` tags; we accept the loose forms because
registries are full of `3.0`-style tags and they compare sensibly.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

from promoter.errors import InputError

__all__ = [
    "Constraint",
    "Version",
    "compare",
    "is_downgrade",
    "parse_constraint",
    "parse_version",
]


_IDENTS = r"[0-9A-Za-z-]+(?:\.[0-9A-Za-z-]+)*"
_LOOSE = re.compile(
    rf"[vV]?([0-9]+)(?:\.([0-9]+))?(?:\.([0-9]+))?(?:-({_IDENTS}))?(?:\+({_IDENTS}))?",
    re.ASCII,
)
_STRICT = re.compile(
    rf"[vV]?(0|[1-9][0-9]*)\.(0|[1-9][0-9]*)\.(0|[1-9][0-9]*)"
    rf"(?:-({_IDENTS}))?(?:\+({_IDENTS}))?",
    re.ASCII,
)
_NUMERIC_ID = re.compile(r"[0-9]+", re.ASCII)


@dataclass(frozen=True, order=False)
class Version:
    """A parsed version. Use `compare` for precedence: `==` also compares
    `build` and `original`, which precedence ignores."""

    major: int
    minor: int
    patch: int
    prerelease: tuple[str | int, ...]
    build: str
    original: str

    @property
    def is_prerelease(self) -> bool:
        return bool(self.prerelease)

    def __str__(self) -> str:
        text = f"{self.major}.{self.minor}.{self.patch}"
        if self.prerelease:
            text += "-" + ".".join(str(part) for part in self.prerelease)
        return text + (f"+{self.build}" if self.build else "")


def parse_version(text: str, *, loose: bool = True) -> Version | None:
    """The version `text` spells, or None (`latest`, `sha-abc123`, `1.2.3.4`).

    A leading `v`/`V` is accepted either way; `loose` also accepts missing
    minor/patch numbers and leading zeros in them (like Masterminds'
    `NewVersion`), strict wants exactly `X.Y.Z` (its `StrictNewVersion`)."""
    match = (_LOOSE if loose else _STRICT).fullmatch(text)
    if match is None:
        return None
    major, minor, patch, pre, build = match.groups()
    prerelease = _parse_prerelease(pre) if pre else ()
    if prerelease is None:
        return None
    return Version(int(major), int(minor or 0), int(patch or 0), prerelease, build or "", text)


def _parse_prerelease(text: str) -> tuple[str | int, ...] | None:
    """Identifiers, numeric ones as ints; None for a numeric one with a
    leading zero, which semver 2.0 (item 9) forbids."""
    parts: list[str | int] = []
    for part in text.split("."):
        if _NUMERIC_ID.fullmatch(part):
            if len(part) > 1 and part[0] == "0":
                return None
            parts.append(int(part))
        else:
            parts.append(part)
    return tuple(parts)


def precedence(version: Version) -> tuple[int, int, int, tuple[object, ...]]:
    """A sort key equal to semver 2.0 precedence (item 11): a release sorts
    after its pre-releases; numeric identifiers sort numerically and before
    alphanumeric ones (ASCII order); a longer identifier list wins a tie."""
    if not version.prerelease:
        pre: tuple[object, ...] = (1,)
    else:
        pre = (0, tuple((0, p) if isinstance(p, int) else (1, p) for p in version.prerelease))
    return (version.major, version.minor, version.patch, pre)


def compare(a: Version, b: Version) -> int:
    """-1, 0 or 1 as `a` has lower, equal or higher precedence than `b`;
    build metadata is ignored."""
    key_a, key_b = precedence(a), precedence(b)
    return (key_a > key_b) - (key_a < key_b)


# ------------------------------------------------------------------ constraints

_OPERATORS = {
    "": "=",
    "=": "=",
    "!=": "!=",
    ">": ">",
    "<": "<",
    ">=": ">=",
    "=>": ">=",
    "<=": "<=",
    "=<": "<=",
    "~": "~",
    "~>": "~",
    "^": "^",
}
_PART = r"(?:[0-9]+|[xX*])"
# Two-character operators first: alternation takes the first that fits.
_TERM = re.compile(
    rf"(?P<op>!=|>=|=>|<=|=<|~>|>|<|=|~|\^)?\s*(?P<version>[vV]?(?P<major>{_PART})"
    rf"(?:\.(?P<minor>{_PART}))?(?:\.(?P<patch>{_PART}))?"
    rf"(?:-(?P<pre>{_IDENTS}))?(?:\+(?P<build>{_IDENTS}))?)",
    re.ASCII,
)
_HYPHEN = re.compile(r"\s+-\s+", re.ASCII)
_SEPARATOR = re.compile(r"\s*,\s*|\s+", re.ASCII)
_CONSTRAINT_HINT = (
    "constraints look like ^1.2, ~1.4, 1.x, >=1.2 <2, 1.2 - 1.4.5 or ^1 || ^2 "
    "(Masterminds/semver, as in Flux's ImagePolicy); add a pre-release such as "
    ">=1.2.0-0 to include pre-releases"
)


@dataclass(frozen=True)
class _Term:
    """One comparison. `bound` has wildcards and missing parts filled with 0;
    the dirty flags remember which parts were wildcards or missing, because
    the operators treat `1.2` and `1.2.0` differently (`>1.2` means >=1.3.0)."""

    op: str
    bound: Version
    dirty: bool
    minor_dirty: bool
    patch_dirty: bool

    def matches(self, v: Version) -> bool:
        return _OPERATOR_RULES[self.op](v, self)


def _equal(v: Version, t: _Term) -> bool:
    return _tilde(v, t) if t.dirty else compare(v, t.bound) == 0


def _not_equal(v: Version, t: _Term) -> bool:
    b = t.bound
    if t.minor_dirty:  # !=4.x: any other major
        return v.major != b.major
    if t.patch_dirty:  # !=4.1: other major.minor, or a different pre-release
        return (v.major, v.minor) != (b.major, b.minor) or v.prerelease != b.prerelease
    return compare(v, b) != 0


def _greater(v: Version, t: _Term) -> bool:
    b = t.bound
    if t.minor_dirty:  # >1 means 2.0.0 or later
        return v.major > b.major
    if t.patch_dirty:  # >1.1 means 1.2.0 or later
        return (v.major, v.minor) > (b.major, b.minor)
    return compare(v, b) > 0


def _less(v: Version, t: _Term) -> bool:
    return compare(v, t.bound) < 0


def _greater_equal(v: Version, t: _Term) -> bool:
    return compare(v, t.bound) >= 0


def _less_equal(v: Version, t: _Term) -> bool:
    b = t.bound
    if not t.dirty:
        return compare(v, b) <= 0
    # <=1.1 takes all of 1.1.x, <=2 (or <=2.x) all of 2.x.x.
    if v.major != b.major:
        return v.major < b.major
    return t.minor_dirty or v.minor <= b.minor


def _tilde(v: Version, t: _Term) -> bool:
    b = t.bound
    if compare(v, b) < 0:
        return False
    if (b.major, b.minor, b.patch) == (0, 0, 0) and not (t.minor_dirty or t.patch_dirty):
        return True  # ~0.0.0 and ~* take everything from there on
    return v.major == b.major and (t.minor_dirty or v.minor == b.minor)


def _caret(v: Version, t: _Term) -> bool:
    # The leftmost non-zero part of the bound is the one that must not change.
    b = t.bound
    if compare(v, b) < 0:
        return False
    if b.major > 0 or t.minor_dirty:
        return v.major == b.major
    if v.major > 0:
        return False
    if b.minor > 0 or t.patch_dirty:
        return v.minor == b.minor
    return v.minor == 0 and v.patch == b.patch


_OPERATOR_RULES: dict[str, Callable[[Version, _Term], bool]] = {
    "=": _equal,
    "!=": _not_equal,
    ">": _greater,
    "<": _less,
    ">=": _greater_equal,
    "<=": _less_equal,
    "~": _tilde,
    "^": _caret,
}


@dataclass(frozen=True)
class Constraint:
    """A parsed constraint: OR of AND groups of comparisons."""

    text: str
    groups: tuple[tuple[_Term, ...], ...]

    @property
    def has_prerelease(self) -> bool:
        """Whether some bound names a pre-release (so pre-releases can match)."""
        return any(term.bound.prerelease for group in self.groups for term in group)

    def matches(self, v: Version) -> bool:
        return any(_group_matches(group, v) for group in self.groups)

    def __str__(self) -> str:
        return self.text


def _group_matches(group: tuple[_Term, ...], v: Version) -> bool:
    # Pre-releases are opt-in per AND group (Masterminds 3.4, PR #267): one
    # bound with a pre-release lets pre-releases through the whole group.
    if v.prerelease and not any(term.bound.prerelease for term in group):
        return False
    return all(term.matches(v) for term in group)


def parse_constraint(text: str) -> Constraint:
    """Parse a Masterminds/semver constraint; InputError says what is wrong."""
    groups = []
    offset = 0
    for alternative in text.split("||"):
        groups.append(_parse_group(text, offset, offset + len(alternative)))
        offset += len(alternative) + 2
    return Constraint(text, tuple(groups))


def _parse_group(text: str, pos: int, end: int) -> tuple[_Term, ...]:
    """The AND group in text[pos:end]: terms separated by commas or spaces;
    `A - B` (spaces around the hyphen, no operators) is `>=A <=B`."""
    terms: list[_Term] = []
    pos = _skip_space(text, pos, end)
    if pos == end:
        raise _constraint_error(text, "an empty alternative" if "||" in text else "it is empty")
    while True:
        term = _TERM.match(text, pos, end)
        if term is None:
            raise _constraint_error(text, _unexpected(text, pos, end))
        pos = term.end()
        hyphen = _HYPHEN.match(text, pos, end)
        upper = _TERM.match(text, hyphen.end(), end) if hyphen else None
        if upper is not None and not term["op"] and not upper["op"]:
            terms += [_make_term(">=", term), _make_term("<=", upper)]
            pos = upper.end()
        else:
            terms.append(_make_term(_OPERATORS[term["op"] or ""], term))
        if _skip_space(text, pos, end) == end:
            return tuple(terms)
        separator = _SEPARATOR.match(text, pos, end)
        if separator is None:
            raise _constraint_error(text, _unexpected(text, pos, end))
        pos = separator.end()


def _make_term(op: str, match: re.Match[str]) -> _Term:
    """Fill wildcards and missing parts the Masterminds way: the first
    wildcard or missing part zeroes itself and everything after it (`1.x.3`
    is `1.x`); the pre-release is kept, build metadata dropped."""
    major, minor, patch, pre = match["major"], match["minor"], match["patch"], match["pre"]
    prerelease = _parse_prerelease(pre) if pre else ()
    if prerelease is None:
        raise _constraint_error(match.string, f"{pre!r} has a numeric part with a leading zero")
    if _is_wild(major):
        numbers, flags = (0, 0, 0), (True, False, False)
    elif _is_wild(minor):
        numbers, flags = (int(major), 0, 0), (True, True, False)
    elif _is_wild(patch):
        numbers, flags = (int(major), int(minor), 0), (True, False, True)
    else:
        numbers, flags = (int(major), int(minor), int(patch)), (False, False, False)
    bound = Version(*numbers, prerelease, "", match["version"])
    return _Term(op, bound, *flags)


def _is_wild(part: str | None) -> bool:
    return part is None or part in ("x", "X", "*")


def _skip_space(text: str, pos: int, end: int) -> int:
    while pos < end and text[pos].isspace():
        pos += 1
    return pos


def _unexpected(text: str, pos: int, end: int) -> str:
    pos = _skip_space(text, pos, end)
    rest = text[pos:end].rstrip()
    where = f"unexpected {rest!r} at character {pos + 1}"
    if re.match(r"\.[0-9]", rest):
        return f"{where}; a version has at most three numbers (major.minor.patch)"
    if rest.startswith("|"):
        return f"{where}; OR is written ||"
    return where


def _constraint_error(text: str, detail: str) -> InputError:
    return InputError(f"invalid version constraint {text!r}: {detail}", hint=_CONSTRAINT_HINT)


def is_downgrade(old_tag: str, new_tag: str) -> bool | None:
    """Whether moving from `old_tag` to `new_tag` goes to a lower version;
    None when either is not a version (`latest`, a sha), so no one can tell."""
    old, new = parse_version(old_tag), parse_version(new_tag)
    if old is None or new is None:
        return None
    return compare(new, old) < 0
