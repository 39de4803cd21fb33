"""config validate."""

from __future__ import annotations

from pathlib import Path

import click

from promoter.cli.options import REPO_OPTION
from promoter.cli.output import emit


@click.group("config")
def config_group() -> None:
    """Inspect promoter.yaml."""


@config_group.command("validate")
@REPO_OPTION
def validate_cmd(repo: Path) -> None:
    """Report every problem in promoter.yaml with file:line (exit 2 if any)."""
    from promoter.core.config.loader import load_config

    config = load_config(repo)
    emit(
        f"{config.file}: OK ({len(config.environments)} environments, "
        f"{len(config.services)} services)"
    )
