"""status: what runs where."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import click

from promoter.cli.options import OUTPUT_OPTION, REPO_OPTION
from promoter.cli.output import emit, emit_json
from promoter.core.masking import strip_credentials


@click.command("status")
@click.option(
    "--repo-url",
    "repo_url",
    help="Read each environment's branch from this remote instead of the working tree.",
)
@REPO_OPTION
@OUTPUT_OPTION
def status_cmd(repo_url: str | None, repo: Path, output: str) -> None:
    """What runs where: services × environments, read from the working tree
    (or, with --repo-url, from the remote's branches)."""
    if repo_url:
        from promoter.workflows.status import remote_status
        from promoter.workflows.workspace import workspace

        with workspace(repo_url, dict(os.environ)) as ws:
            matrix, refs = remote_status(ws)
        shown = strip_credentials(repo_url)[0]
        emit(f"read {', '.join(r.text() for r in refs)} ({shown})", err=True)
    else:
        from promoter.core.config.loader import load_config
        from promoter.workflows.status import status_matrix

        matrix = status_matrix(repo, load_config(repo))
    if output == "json":
        emit_json(matrix)
    else:
        emit(status_table(matrix))


def _cell(entry: dict[str, Any]) -> str:
    if entry["image"] is None:
        return "-"
    tag = entry["tag"] or ""
    digest = entry["digest"]
    text = f"{tag}@{digest[:19]}…" if digest else tag
    return text + (" (!)" if entry.get("conflicting") else "")


def status_table(matrix: dict[str, Any]) -> str:
    envs: list[str] = matrix["environments"]
    rows = [["SERVICE", *[e.upper() for e in envs]]]
    for name, row in matrix["services"].items():
        rows.append([name, *[_cell(row[e]) for e in envs]])
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    lines = ["  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)).rstrip() for r in rows]
    if any(e.get("conflicting") for row in matrix["services"].values() for e in row.values()):
        lines.append("(!) files disagree; see --output json for every reference")
    return "\n".join(lines)
