"""Which tag is newest: `promoter bump --latest` over a registry's tag list.

Flux ImagePolicy's three orders — semver (with a Masterminds constraint, see
`versions`), numeric and alphabetical — over the tag itself or a value
extracted from it by a regular expression (`--pattern` + `--extract`).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from decimal import Decimal

from promoter.core.versions import parse_constraint, parse_version, precedence
from promoter.errors import InputError

__all__ = ["ORDERS", "select_latest"]

ORDERS = ("semver", "numeric", "alpha")
_ANY = parse_constraint("*")
_GROUP_NUMBER = re.compile(r"[0-9]+", re.ASCII)


@dataclass(frozen=True)
class _GroupRef:
    key: int | str


_REFERENCE = re.compile(r"\$(?:(\$)|\{(\w*)(\}?)|(\w+))")


def _compile_extract(template: str, pattern: re.Pattern[str]) -> tuple[str | _GroupRef, ...]:
    """Split an extract template into literals and group references, the way
    Go's Regexp.Expand reads `$1`, `${1}`, `$name`, `${name}`, `$$`; a name is
    the longest run of letters, digits and `_`, so `$1x` means group "1x".
    Unlike Go, which expands unknown groups to nothing, those are errors."""
    parts: list[str | _GroupRef] = []
    pos = 0
    for ref in _REFERENCE.finditer(template):
        parts.append(template[pos : ref.start()])
        pos = ref.end()
        dollar, braced, closed, bare = ref.groups()
        if dollar:
            parts.append("$")
            continue
        if braced is not None and (not braced or not closed):
            raise InputError(
                f"invalid extract template {template!r}: unclosed or empty ${{...}}",
                hint="write ${1} or ${name}",
            )
        parts.append(_GroupRef(_group_key(braced or bare, template, pattern)))
    parts.append(template[pos:])
    return tuple(part for part in parts if part != "")


def _group_key(name: str, template: str, pattern: re.Pattern[str]) -> int | str:
    if _GROUP_NUMBER.fullmatch(name) and (name == "0" or name[0] != "0"):
        if int(name) <= pattern.groups:
            return int(name)
    elif name in pattern.groupindex:
        return name
    groups = [str(n) for n in range(pattern.groups + 1)] + list(pattern.groupindex)
    hint = f"the pattern's groups: {', '.join(groups)}"
    if re.match(r"[0-9]+[^0-9]", name, re.ASCII):
        digits = re.match(r"[0-9]+", name, re.ASCII)
        assert digits is not None
        hint += f"; to follow ${digits.group()} with text write ${{{digits.group()}}}"
    raise InputError(
        f"extract template {template!r} refers to group {name!r}, "
        f"which the pattern {pattern.pattern!r} does not have",
        hint=hint,
    )


def _expand(parts: tuple[str | _GroupRef, ...], match: re.Match[str]) -> str:
    # A group that did not take part in the match expands to "" (as in Go).
    return "".join(
        part if isinstance(part, str) else (match.group(part.key) or "") for part in parts
    )


def _compile_pattern(pattern: str) -> re.Pattern[str]:
    try:
        return re.compile(pattern)
    except re.error as err:
        hint = "the pattern is a Python regular expression, searched for anywhere in the tag"
        if "(?<" in pattern:
            hint = "named groups are written (?P<name>...) in Python regular expressions"
        raise InputError(f"invalid tag pattern {pattern!r}: {err}", hint=hint) from err


def _extractor(pattern: str | None, extract: str | None) -> Callable[[str], str | None]:
    """tag -> the value to order by, or None when the tag is filtered out.

    The pattern is *searched* (Go's MatchString, as Flux does), so anchor it
    with ^...$ to match whole tags."""
    if pattern is None:
        if extract:
            raise InputError("an extract template needs a tag pattern to take groups from")
        return lambda tag: tag
    regex = _compile_pattern(pattern)
    parts = _compile_extract(extract, regex) if extract else None

    def pick(tag: str) -> str | None:
        match = regex.search(tag)
        if match is None:
            return None
        return tag if parts is None else _expand(parts, match)

    return pick


_Key = tuple[object, ...]
_DECIMAL = re.compile(r"[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?", re.ASCII)


def _ranker(order: str, constraint: str | None) -> Callable[[str], _Key | None]:
    """value -> a sort key (greater is newer), or None to skip the value."""
    if order not in ORDERS:
        raise InputError(f"unknown tag order {order!r}", hint=f"one of: {', '.join(ORDERS)}")
    if constraint is not None and order != "semver":
        raise InputError(f"a version constraint only applies to semver order, not {order!r}")
    if order == "alpha":
        return lambda value: (value,)
    if order == "numeric":
        # Decimal, not float: 17-digit timestamps must not collapse into ties.
        return lambda value: (Decimal(value),) if _DECIMAL.fullmatch(value) else None
    # No constraint means `*`: any release, no pre-releases.
    allowed = _ANY if constraint is None else parse_constraint(constraint)

    def rank(value: str) -> _Key | None:
        version = parse_version(value)
        if version is None or not allowed.matches(version):
            return None
        return precedence(version)

    return rank


def select_latest(
    tags: Iterable[str],
    *,
    constraint: str | None = None,
    pattern: str | None = None,
    extract: str | None = None,
    order: str = "semver",
) -> str | None:
    """The newest of `tags` (the original tag, not the extracted value), or
    None when none qualifies.

    `pattern` keeps the tags it matches anywhere (re.search, like Flux);
    `extract` (`$1`, `${name}`, ...) builds the value to order by, else the
    tag itself is. `order`: "semver" (the value must be a version satisfying
    `constraint`, default `*`), "numeric" (decimal numbers; others skipped) or
    "alpha" (greatest string). Equal values go to the tag that sorts last,
    so the answer does not depend on the registry's listing order."""
    rank = _ranker(order, constraint)
    pick = _extractor(pattern, extract)
    best: tuple[_Key, str] | None = None
    for tag in tags:
        value = pick(tag)
        key = None if value is None else rank(value)
        if key is not None and (best is None or (key, tag) > best):
            best = (key, tag)
    return None if best is None else best[1]
