"""Keep tokens out of everything we print, log or raise.

Every token promoter reads is registered here; `mask` replaces registered
values (and the password part of any URL) before text leaves the process.
A logging filter applies the same to log records.
"""

from __future__ import annotations

import logging
import re

_secrets: set[str] = set()
# Greedy up to the last "@" of the word: a password may itself hold "@" or "/".
_URL_PASSWORD = re.compile(r"([a-zA-Z][a-zA-Z0-9+.-]*://[^/@\s:]*):\S+@")
MASK = "***"


def register(value: str | None) -> None:
    # Very short values would mask innocent text; real tokens are long.
    if value and len(value) >= 4:
        _secrets.add(value)


def mask(text: str) -> str:
    for secret in sorted(_secrets, key=len, reverse=True):
        text = text.replace(secret, MASK)
    return _URL_PASSWORD.sub(rf"\1:{MASK}@", text)


EXCERPT = 40
_TOKEN_SHAPED = re.compile(r"(gh[pousr]_|glpat-|github_pat_)[A-Za-z0-9_-]{6,}")


def excerpt(text: str, limit: int = EXCERPT) -> str:
    """What a message may quote of a repository's file: at most `limit`
    characters, registered secrets and token-shaped words masked."""
    shown = _TOKEN_SHAPED.sub(MASK, mask(text))
    return shown if len(shown) <= limit else shown[: limit - 1] + "…"


def strip_credentials(url: str) -> tuple[str, str | None, str | None]:
    """(url without userinfo, user, password) for http(s) URLs; others as is.

    The userinfo ends at the *last* "@" before the host, since people paste
    tokens containing "@" or "/" unencoded; user and password are registered
    as secrets (a token is often given as the user: https://TOKEN@host/).
    """
    m = re.match(r"^(https?://)(.*)$", url, re.DOTALL)
    if not m:
        return url, None, None
    scheme, rest = m.groups()
    at = rest.rfind("@")
    userinfo = rest[:at] if at != -1 else ""
    # "host/org/repo@v1" is a path with an "@", not credentials.
    if at == -1 or ("/" in userinfo and ":" not in userinfo):
        return url, None, None
    user, _, password = userinfo.partition(":")
    register(user)
    register(password)
    return scheme + rest[at + 1 :], user or None, password or None


class MaskingFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        record.msg = mask(record.getMessage())
        record.args = ()
        return True
