"""What a valid value of one promoter.yaml field looks like: names, the
forge block, accounts, teams, labels, modes, image policies, key paths.

Each `*_problem` function returns why a text is not valid, or None; the
parser reports that at the value's line. `promoter.core.policy` uses the
account, team and label checks for its options too.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterable

from promoter.core.config.model import BUILTIN_LABEL, FORGE_TYPES, MAX_LABEL_LENGTH, MODES

NAME_PATTERN = r"[a-z0-9]([a-z0-9._-]*[a-z0-9])?"
_NAME = re.compile(NAME_PATTERN)
"""Environment and service names: they end up in branch names and paths."""
_KEY_PATH = re.compile(r"[^.\s]+(\.[^.\s]+)*")
_IMAGE_POLICY = re.compile(r"[a-z0-9]([a-z0-9-]*[a-z0-9])?:[a-z0-9]([a-z0-9.-]*[a-z0-9])?")
_API_URL = re.compile(r"https?://(\[[0-9A-Fa-f:.]+\]|[^\s/?#@:\[\]]+)(:[0-9]{1,5})?(/[^\s?#]*)?")
_REPO_SEGMENT = re.compile(r"[A-Za-z0-9_.-]+")
_ACCOUNT = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.-]*")
"""User names and team slugs (GitHub and GitLab both fit)."""


def name_problem(text: str) -> str | None:
    if _NAME.fullmatch(text):
        return None
    return (
        f"{text!r} is not a valid name (lowercase letters, digits, '.', '_', '-'; "
        "starting and ending with a letter or digit)"
    )


def forge_type_problem(text: str) -> str | None:
    if text in FORGE_TYPES:
        return None
    return f"must be one of {', '.join(FORGE_TYPES)}; got {text!r}{suggest(text, FORGE_TYPES)}"


def api_url_problem(text: str) -> str | None:
    """Why `text` is not an http(s) API base URL, or None."""
    if not text.startswith(("http://", "https://")):
        return f"{text!r} must start with http:// or https://"
    if "@" in text.split("/", 3)[2]:
        return f"{text!r} must not contain credentials; promoter reads tokens from the environment"
    if _API_URL.fullmatch(text):
        return None
    return (
        f"{text!r} is not a URL like https://ghe.example.com/api/v3 "
        "(a host, an optional port and path; no spaces, query or fragment)"
    )


def repository_problem(text: str) -> str | None:
    """Why `text` is not an `owner/name` (or GitLab `group/sub/project`) slug, or None."""
    segments = text.split("/")
    if text.endswith(".git"):
        return f"{text!r} ends in '.git'; write the slug without it"
    if len(segments) < 2:
        return (
            f"{text!r} is not a repository slug like 'owner/name' (or GitLab 'group/sub/project')"
        )
    for segment in segments:
        if not _REPO_SEGMENT.fullmatch(segment) or not segment.strip("."):
            return (
                f"{text!r} is not a repository slug: each '/'-separated part is letters, "
                "digits, '_', '.', '-' (and not only dots)"
            )
    return None


def account_problem(text: str, what: str = "a user name") -> str | None:
    """Why `text` is not a user name / team slug, or None."""
    if text.startswith("@"):
        return f"{text!r}: write {what} without '@'"
    if _ACCOUNT.fullmatch(text):
        return None
    return (
        f"{text!r} is not {what} (letters, digits, '_', '.', '-'; "
        "starting with a letter, digit or '_')"
    )


def team_problem(text: str) -> str | None:
    if "/" in text:
        return (
            f"{text!r}: write the team slug without the organisation "
            f"(e.g. {text.rsplit('/', 1)[-1]!r})"
        )
    return account_problem(text, "a team slug")


def label_problem(text: str) -> str | None:
    """Why `text` cannot be an extra PR label, or None."""
    if "," in text:
        return f"{text!r} contains a comma (GitLab splits labels on commas)"
    if len(text) > MAX_LABEL_LENGTH:
        return f"{text!r} is {len(text)} characters long; labels have at most {MAX_LABEL_LENGTH}"
    if text != text.strip() or any(ord(c) < 0x20 or ord(c) == 0x7F for c in text):
        return f"{text!r} has leading/trailing spaces or control characters"
    if text.casefold() == BUILTIN_LABEL or text.casefold().startswith("env:"):
        return f"{text!r} is reserved: promoter adds {BUILTIN_LABEL!r} and 'env:<name>' itself"
    return None


def mode_problem(text: str) -> str | None:
    return None if text in MODES else f"must be one of {', '.join(MODES)}; got {text!r}"


def image_policy_problem(text: str) -> str | None:
    if _IMAGE_POLICY.fullmatch(text):
        return None
    return f"{text!r} is not a Flux image policy of the form 'namespace:name'"


def key_path_problem(text: str) -> str | None:
    if _KEY_PATH.fullmatch(text):
        return None
    return f"{text!r} is not a dotted key path like 'image.tag'"


def suggest(word: str, choices: Iterable[str]) -> str:
    close = difflib.get_close_matches(word, list(choices), n=1)
    return f"; did you mean {close[0]!r}?" if close else ""
