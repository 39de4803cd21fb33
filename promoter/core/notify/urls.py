"""Notification target URLs as written in promoter.yaml: an Apprise URL in
which `${NAME}` is replaced from the environment, so that the webhook token
lives in the CI's secrets and never in Git. `$$` is a literal `$`."""

from __future__ import annotations

import re
from collections.abc import Mapping

_VARIABLE = re.compile(r"\$(?:\{([A-Za-z_][A-Za-z0-9_]*)\}|(\$))")
_SCHEME = re.compile(r"[a-z][a-z0-9+.-]*://\S+", re.IGNORECASE)


def url_problem(text: str) -> str | None:
    """Why `text` is not a target URL template, or None."""
    if not _SCHEME.fullmatch(text.strip()):
        return (
            f"{_shown(text)!r} is not an Apprise URL like slack://…, workflows://…, "
            "json://host/path (see docs/notifications.md)"
        )
    stray = _VARIABLE.sub("", text)
    if "$" in stray:
        return (
            "a `$` must start `${NAME}` (an environment variable) or be written `$$`; "
            f"found one in {_shown(text)!r}"
        )
    return None


def variables(text: str) -> list[str]:
    """The environment variables `text` uses, in order, each once."""
    return list(dict.fromkeys(m[1] for m in _VARIABLE.finditer(text) if m[1]))


def missing(text: str, environ: Mapping[str, str]) -> list[str]:
    return [name for name in variables(text) if not environ.get(name)]


def expand(text: str, environ: Mapping[str, str]) -> str:
    """`text` with every `${NAME}` replaced; KeyError naming an unset one."""
    absent = missing(text, environ)
    if absent:
        raise KeyError(absent[0])
    return _VARIABLE.sub(lambda m: "$" if m[2] else environ[m[1]], text)


def _shown(text: str) -> str:
    # A URL written out in Git may hold a literal token: show its scheme only.
    scheme, sep, _ = text.partition("://")
    return f"{scheme}://…" if sep else text[:20]
