"""The commit messages promoter writes: a one-line subject, then the
`Promoter-*` trailers that `history`, provenance and rollback read back.

A bump's subject comes from the user's `--message` template; a promotion's,
rollback's or pull-request-mode bump's from the plan item.
"""

from __future__ import annotations

import string
from collections.abc import Mapping
from typing import TYPE_CHECKING

from promoter.core.trailers import ci_trailers, format_trailers
from promoter.errors import InputError

if TYPE_CHECKING:
    from promoter.core.images import ImageRef
    from promoter.core.plans import PlanItem

DEFAULT_MESSAGE = "Bump {service} to {version} in {env}"
PLACEHOLDERS = ("service", "env", "tag", "digest", "version", "image", "old")


_TEMPLATE_HINT = "use a one-line subject with the placeholders " + " ".join(
    "{" + p + "}" for p in PLACEHOLDERS
)


def _subject(template: str, values: Mapping[str, str]) -> str:
    try:
        fields = [f for _, f, _, _ in string.Formatter().parse(template) if f is not None]
        for name in fields:
            if name not in PLACEHOLDERS:  # also refuses {tag.x} and {tag[0]}
                raise InputError(f"--message: unknown placeholder {{{name}}}", hint=_TEMPLATE_HINT)
        subject = template.format(**values)
    except ValueError as err:
        raise InputError(
            f"--message: bad template {template!r} ({err})", hint=_TEMPLATE_HINT
        ) from err
    if "\n" in subject or "\r" in subject:
        # Lines of our own in the body could pass for trailers to a reader.
        raise InputError("--message must be a single line", hint=_TEMPLATE_HINT)
    if not subject.strip():
        raise InputError("--message renders to an empty subject", hint=_TEMPLATE_HINT)
    return subject.strip()


def check_template(template: str) -> None:
    """Reject a bad --message before any network work."""
    _subject(template, {p: "x" for p in PLACEHOLDERS})


def commit_message(
    template: str, *, service: str, env: str, old: str, new: ImageRef, environ: Mapping[str, str]
) -> str:
    version = new.tag or new.digest or ""
    if new.tag and new.digest:
        version = f"{new.tag}@{new.digest}"
    values = {
        "service": service,
        "env": env,
        "tag": new.tag or "",
        "digest": new.digest or "",
        "version": version,
        "image": str(new),
        "old": old,
    }
    subject = _subject(template, values)
    trailers = [
        ("Promoter-Service", service),
        ("Promoter-Env", env),
        ("Promoter-From", old or "none"),
        ("Promoter-To", str(new)),
        ("Promoter-Kind", "bump"),
        *ci_trailers(environ),
    ]
    return subject + "\n\n" + format_trailers(trailers) + "\n"


def proposal_message(item: PlanItem, kind: str, environ: Mapping[str, str]) -> str:
    verb = {"rollback": "Roll back", "bump": "Bump"}.get(kind, "Promote")
    subject = f"{verb} {item.service} to {item.new.tag or item.new.digest} in {item.target_env}"
    p = item.provenance
    pairs = [
        ("Promoter-Service", item.service),
        ("Promoter-Env", item.target_env),
        ("Promoter-From", str(item.current) if item.current else "none"),
        ("Promoter-To", str(item.new)),
        ("Promoter-Kind", kind),
    ]
    if kind == "promotion":
        pairs.append(("Promoter-Source-Env", item.source_env))
    if item.carried:  # `promoter history` says which settings came with the version
        moved = [c.file if c.kind == "file" else f"{c.file}#{c.at}" for c in item.carried]
        pairs.append(("Promoter-Carried", ", ".join(moved)))
    # The build behind the version (carried from the source environment's
    # history) says more than the pipeline that ran the promotion.
    if p.pipeline or p.source_commit:
        pairs += [
            ("Promoter-Pipeline", p.pipeline or ""),
            ("Promoter-Source-Commit", p.source_commit or ""),
        ]
    else:
        pairs += ci_trailers(environ)
    return subject + "\n\n" + format_trailers(pairs) + "\n"
