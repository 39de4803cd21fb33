"""set-image: edit the working tree."""

from __future__ import annotations

import difflib
from pathlib import Path
from typing import TYPE_CHECKING

import click

from promoter.cli.options import OUTPUT_OPTION, REPO_OPTION, version_options
from promoter.cli.output import changes_json, emit, emit_json

if TYPE_CHECKING:
    from promoter.adapters.worktree import FileEdit


def _diff(edits: list[FileEdit]) -> str:
    out: list[str] = []
    for e in edits:
        out += difflib.unified_diff(
            e.old_text.splitlines(keepends=True),
            e.new_text.splitlines(keepends=True),
            fromfile=f"a/{e.path}",
            tofile=f"b/{e.path}",
        )
    return "".join(line if line.endswith(("\n", "\r")) else line + "\n" for line in out)


@click.command("set-image")
@version_options
@REPO_OPTION
@click.option("--dry-run", is_flag=True, help="Show the change; write nothing.")
@OUTPUT_OPTION
def set_image_cmd(
    env: str,
    service: str | None,
    tag: str | None,
    digest: str | None,
    image: str | None,
    repo: Path,
    dry_run: bool,
    output: str,
) -> None:
    """Point a service's image in one environment at a new tag/digest, in the
    working tree (formatting untouched). Already there: no-op, exit 0."""
    from promoter.workflows.set_image import set_image

    result = set_image(
        repo, env, service=service, tag=tag, digest=digest, image=image, dry_run=dry_run
    )
    if output == "json":
        emit_json(
            {
                "changed": changes_json(c for e in result.edits for c in e.changes),
                "dry_run": dry_run,
            }
        )
    elif result.edits:
        click.echo(_diff(result.edits), nl=False)
    else:
        emit(f"{result.service} in {result.env} already runs that version; nothing to change")
