"""Path and branch templates: `apps/{service}/overlays/{env}`, `env/{env}`.

What makes a template valid, and how one is expanded. A path must stay
inside the repository; a branch template must give a valid git branch name.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

_PLACEHOLDER = re.compile(r"\{([^{}]*)\}")
_BAD_REF_CHARS = re.compile(r"[\x00-\x20\x7f~^:?*\[\\]")


def expand_path(template: str, service: str, env: str) -> str:
    """A path template with `{service}` and `{env}` substituted."""
    return template.replace("{service}", service).replace("{env}", env)


def expand_branch(template: str, env: str) -> str:
    """A branch template with `{env}` substituted."""
    return template.replace("{env}", env)


def template_problem(text: str, allowed: Sequence[str]) -> str | None:
    """Why `text` is not a valid path template (placeholders `allowed`), or None."""
    if not text.strip():
        return "must not be empty"
    for name in _PLACEHOLDER.findall(text):
        if name not in allowed:
            known = " and ".join(f"{{{a}}}" for a in allowed)
            verb = "is" if len(allowed) == 1 else "are"
            return f"unknown placeholder {{{name}}} in {text!r}; only {known} {verb} substituted"
    rest = _PLACEHOLDER.sub("", text)
    if "{" in rest or "}" in rest:
        return f"unbalanced braces in {text!r}"
    return None


def path_problem(text: str) -> str | None:
    """Why path template `text` is invalid, or None."""
    problem = template_problem(text, ("service", "env"))
    if problem is not None:
        return problem
    if text.startswith(("/", "\\")) or re.match(r"[A-Za-z]:", text):
        return f"{text!r} is absolute; paths are relative to the repository root"
    if ".." in re.split(r"[/\\]", text):
        return f"{text!r} contains '..'; paths must stay inside the repository"
    return None


def branch_problem(text: str) -> str | None:
    """Why branch template `text` (placeholder `{env}`) is not a valid branch, or None."""
    problem = template_problem(text, ("env",))
    if problem is not None:
        return problem
    name = text.replace("{env}", "x")
    bad = (
        _BAD_REF_CHARS.search(name)
        or name.startswith(("-", "/", "."))
        or name.endswith(("/", ".", ".lock"))
        or any(s in name for s in ("..", "//", "@{", "/.", ".lock/"))
        or name == "@"
    )
    if bad:
        return f"{text!r} is not a valid git branch name"
    return None
