"""notify test: does each target of `notifications:` take a message?"""

from __future__ import annotations

import os
from pathlib import Path

import click

from promoter.cli.options import OUTPUT_OPTION, REPO_OPTION
from promoter.cli.output import emit, emit_json
from promoter.errors import ExitCode, InputError


@click.group("notify")
def notify_group() -> None:
    """Notification targets (promoter.yaml `notifications:`)."""


@notify_group.command("test")
@REPO_OPTION
@click.option(
    "--target",
    "target",
    type=click.IntRange(min=1),
    help="Only this target: its position in `notifications:` (1 is the first).",
)
@OUTPUT_OPTION
def test_cmd(repo: Path, target: int | None, output: str) -> None:
    """Send a test message to each target and print ok/failed per target
    (exit 12 if one failed). `${NAME}` in a URL is read from the environment."""
    from promoter.adapters.notify import Notifier
    from promoter.core.config.loader import load_config

    config = load_config(repo)
    count = len(config.notifications)
    if not count:
        raise InputError(
            f"{config.file} has no `notifications:` targets",
            hint="add one, e.g. `notifications: [{url: 'slack://${SLACK_TOKEN}/#deploys'}]` "
            "(see docs/notifications.md)",
        )
    if target is not None and target > count:
        raise InputError(
            f"--target {target}: {config.file} has {count} notification target(s)",
            hint=f"give a number from 1 to {count}",
        )
    deliveries = Notifier.for_run(dict(os.environ), None).test(config, target)
    if output == "json":
        emit_json(
            [
                {"target": d.target, "url": d.shown, "ok": d.ok, "detail": d.detail or None}
                for d in deliveries
            ]
        )
    else:
        for d in deliveries:
            verdict = "ok" if d.ok else f"failed: {d.detail}"
            emit(f"target {d.target} ({d.shown}): {verdict}")
    if not all(d.ok for d in deliveries):
        raise click.exceptions.Exit(int(ExitCode.NOTIFY))
