"""What was deployed when, read back from the `Promoter-*` commit trailers
that bump, promote and rollback write.

A squash-merged promotion PR concatenates several commit messages, so a
message may hold several trailer groups; each starts at `Promoter-Service`.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from typing import Any

_TRAILER = re.compile(r"^(Promoter-[A-Za-z-]+):[ \t]*(.*?)[ \t]*$", re.MULTILINE)


@dataclass(frozen=True)
class Deployment:
    """One version change of one service in one environment."""

    commit: str
    date: str
    """Committer date, ISO 8601."""
    author: str
    service: str
    env: str
    from_ref: str | None
    to_ref: str
    kind: str
    """bump, promotion or rollback."""
    source_env: str | None = None
    pipeline: str | None = None
    source_commit: str | None = None
    carried: tuple[str, ...] = ()
    """`promote:` files (and `file#field`s) that came with the version."""

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["from"] = data.pop("from_ref")
        data["to"] = data.pop("to_ref")
        data["carried"] = list(self.carried)
        return data


def trailer_groups(message: str) -> list[dict[str, str]]:
    """The Promoter-* trailers of a message, one dict per service changed."""
    groups: list[dict[str, str]] = []
    for key, value in _TRAILER.findall(message):
        if key == "Promoter-Service" or not groups or key in groups[-1]:
            groups.append({})
        groups[-1][key] = value
    return [g for g in groups if "Promoter-Service" in g and "Promoter-To" in g]


def deployments(commit: str, date: str, author: str, message: str) -> list[Deployment]:
    out = []
    for g in trailer_groups(message):
        from_ref = g.get("Promoter-From")
        out.append(
            Deployment(
                commit=commit,
                date=date,
                author=author,
                service=g["Promoter-Service"],
                env=g.get("Promoter-Env", ""),
                from_ref=None if from_ref in (None, "", "none") else from_ref,
                to_ref=g["Promoter-To"],
                kind=g.get("Promoter-Kind", "bump"),
                source_env=g.get("Promoter-Source-Env"),
                pipeline=g.get("Promoter-Pipeline"),
                source_commit=g.get("Promoter-Source-Commit"),
                carried=tuple(
                    c.strip() for c in g.get("Promoter-Carried", "").split(",") if c.strip()
                ),
            )
        )
    return out


def format_trailers(pairs: list[tuple[str, str]]) -> str:
    """Trailer lines; values with line breaks are dropped (they could forge others)."""
    return "\n".join(f"{k}: {v}" for k, v in pairs if v and "\n" not in v and "\r" not in v)


def pipeline_url(environ: Mapping[str, str]) -> str | None:
    """The running pipeline's web page, from whichever CI system we run in."""
    pipeline = environ.get("PROMOTER_PIPELINE_URL")
    if not pipeline and environ.get("GITHUB_RUN_ID") and environ.get("GITHUB_REPOSITORY"):
        server = environ.get("GITHUB_SERVER_URL", "https://github.com")
        pipeline = (
            f"{server}/{environ['GITHUB_REPOSITORY']}/actions/runs/{environ['GITHUB_RUN_ID']}"
        )
    return pipeline or environ.get("CI_PIPELINE_URL") or environ.get("BUILD_URL") or None


def ci_trailers(environ: Mapping[str, str]) -> list[tuple[str, str]]:
    """Pipeline URL and source commit, from whichever CI system we run in."""
    pipeline = pipeline_url(environ)
    commit = environ.get("PROMOTER_SOURCE_COMMIT")
    commit = (
        commit
        or environ.get("GITHUB_SHA")
        or environ.get("CI_COMMIT_SHA")
        or environ.get("GIT_COMMIT")
    )
    out = []
    if pipeline:
        out.append(("Promoter-Pipeline", pipeline))
    if commit:
        out.append(("Promoter-Source-Commit", commit))
    return [(k, v) for k, v in out if "\n" not in v and "\r" not in v]
