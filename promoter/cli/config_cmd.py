"""config validate."""

from __future__ import annotations

import os
from pathlib import Path

import click

from promoter.cli.options import REPO_OPTION
from promoter.cli.output import emit


@click.group("config")
def config_group() -> None:
    """Inspect promoter.yaml."""


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}" if n == 1 else f"{n} {noun}s"


@config_group.command("validate")
@REPO_OPTION
def validate_cmd(repo: Path) -> None:
    """Report every problem in promoter.yaml with file:line, and every
    service path that is missing or lacks the service's image (exit 2 if any)."""
    from promoter.adapters.git import GitRepo
    from promoter.adapters.notify import target_problems
    from promoter.core.config.loader import load_config
    from promoter.errors import ConfigError, GitError
    from promoter.workflows.validate import check_layout

    config = load_config(repo)
    try:
        branch: str | None = GitRepo(repo).current_branch()
    except GitError:
        branch = None  # not a git checkout: every environment is in the tree
    layout = check_layout(repo, config, branch)
    if layout.problems:
        raise ConfigError(
            layout.problems,
            hint="fix the service's `path`/`paths` or `image` in promoter.yaml, or add the files",
        )
    targets = target_problems(config, os.environ)
    if targets:
        raise ConfigError(
            targets,
            hint="set the variables where promoter runs (the CI's secrets), and check the URL "
            "against docs/notifications.md",
        )
    for env in layout.elsewhere:
        emit(f"note: not checked here: {env}; run it on that branch's checkout", err=True)
    emit(
        f"{config.file}: OK ({_count(len(config.environments), 'environment')}, "
        f"{_count(len(config.services), 'service')}, "
        f"{_count(layout.checked, 'path')} checked)"
    )
