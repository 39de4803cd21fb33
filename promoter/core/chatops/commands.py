"""Comment text → the one command it carries: pure.

A command is a line that starts with `/word` (leading spaces allowed):

    /promote <env>[, <env>…]       open the next hop(s) from this PR's environment
    /rollback [service] [--to TAG] roll this PR's environment back
    /check                         re-evaluate the policies (status + sticky comment)
    /diff                          refresh the rendered diff in the sticky comment

Only the FIRST command line of a comment counts, so one comment is one
command and its acknowledgement is unambiguous. Lines inside fenced code
blocks and quoted lines (`> /promote …`) are not commands: quoting someone's
command, or showing one in an example, must not run it. `/word` followed by
anything but a space (a path such as `/etc/hosts`) is not a command either.
An unknown `/word`, or a known one with bad arguments, parses as `help` with
the problem, so the bot can answer with usage.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from promoter.core.images import validate_tag
from promoter.errors import InputError

USAGE = {
    "promote": "/promote <env>[, <env>…]",
    "rollback": "/rollback [service] [--to TAG]",
    "check": "/check",
    "diff": "/diff",
}
_LINE = re.compile(r"/([A-Za-z][\w-]*)(?:[ \t]+(.*))?")
_NAME = re.compile(r"[A-Za-z0-9][\w.-]*")
_FENCE = re.compile(r"(```|~~~)")
MAX_QUOTED = 120


@dataclass(frozen=True)
class Command:
    name: str
    """"promote", "rollback", "check", "diff", or "help" (unknown or malformed)."""
    text: str
    """The command line as written (stripped, at most MAX_QUOTED characters)."""
    targets: tuple[str, ...] = ()
    """/promote: the environments to open PRs for."""
    service: str | None = None
    """/rollback: only this service."""
    to_tag: str | None = None
    """/rollback --to TAG."""
    problem: str | None = None
    """help: what was wrong with the command."""


def command_lines(body: str) -> list[str]:
    """The comment's command line, if it has one: its first non-blank line,
    indented less than four spaces. Only there: anywhere else a command could
    sit in a quote, a code block, an HTML comment or a GitLab `>>>` block,
    and Markdown has too many such forms to tell them all apart safely."""
    for raw in body.splitlines():
        if not raw.strip():
            continue
        indent = len(raw) - len(raw.lstrip(" "))
        line = raw.strip()
        return (
            [line] if indent < 4 and "\t" not in raw[: indent + 1] and _LINE.fullmatch(line) else []
        )
    return []


def parse_command(body: str) -> Command | None:
    """The first command of a comment body, or None when it has none."""
    lines = command_lines(body)
    if not lines:
        return None
    line = lines[0]
    match = _LINE.fullmatch(line)
    assert match is not None  # command_lines only returns matching lines
    name, rest = match.group(1).lower(), (match.group(2) or "").strip()
    text = line if len(line) <= MAX_QUOTED else line[: MAX_QUOTED - 1] + "…"
    if name not in USAGE:
        return Command("help", text, problem=f"unknown command /{name}")
    try:
        if name == "promote":
            return Command(name, text, targets=_targets(rest))
        if name == "rollback":
            service, to_tag = _rollback_args(rest)
            return Command(name, text, service=service, to_tag=to_tag)
        if rest:
            raise InputError(f"/{name} takes no arguments")
        return Command(name, text)
    except InputError as err:
        return Command("help", text, problem=f"{err.message} (usage: {USAGE[name]})")


def _targets(rest: str) -> tuple[str, ...]:
    names = [n for n in re.split(r"[\s,]+", rest) if n]
    if not names:
        raise InputError("/promote needs the environment(s) to promote to")
    for n in names:
        if not _NAME.fullmatch(n):
            raise InputError(f"{n!r} is not an environment name")
    return tuple(dict.fromkeys(names))


def _rollback_args(rest: str) -> tuple[str | None, str | None]:
    words = rest.split()
    service: str | None = None
    to_tag: str | None = None
    i = 0
    while i < len(words):
        word = words[i]
        if word == "--to" or word.startswith("--to="):
            if to_tag is not None:
                raise InputError("--to given twice")
            if word == "--to":
                if i + 1 >= len(words):
                    raise InputError("--to needs a tag")
                i += 1
                to_tag = words[i]
            else:
                to_tag = word.removeprefix("--to=")
            validate_tag(to_tag)
        elif word.startswith("-"):
            raise InputError(f"unknown option {word!r}")
        elif service is None:
            if not _NAME.fullmatch(word):
                raise InputError(f"{word!r} is not a service name")
            service = word
        else:
            raise InputError("/rollback takes at most one service")
        i += 1
    return service, to_tag
