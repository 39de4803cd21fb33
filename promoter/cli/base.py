"""The one error handler, and output helpers shared by commands."""

from __future__ import annotations

import json
import logging
import traceback
from pathlib import Path
from typing import Any

import click

from promoter.core import masking
from promoter.errors import ExitCode, PromoterError


class PromoterGroup(click.Group):
    def invoke(self, ctx: click.Context) -> Any:
        _setup_logging()
        try:
            return super().invoke(ctx)
        except PromoterError as err:
            click.echo(f"error: {masking.mask(str(err))}", err=True)
            raise click.exceptions.Exit(int(err.exit_code)) from None
        except KeyboardInterrupt:
            click.echo("interrupted", err=True)
            raise click.exceptions.Exit(int(ExitCode.INTERRUPTED)) from None
        except (click.exceptions.Exit, click.ClickException, click.Abort):
            raise
        except Exception:
            click.echo("internal error (a bug in promoter; please report it):", err=True)
            click.echo(masking.mask(traceback.format_exc()), err=True)
            raise click.exceptions.Exit(int(ExitCode.INTERNAL)) from None


class JsonFormatter(logging.Formatter):
    """One JSON object per line, for log collectors (the agent runs for days)."""

    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "time": self.formatTime(record, "%Y-%m-%dT%H:%M:%S%z"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
        }
        if record.exc_info:
            entry["error"] = self.formatException(record.exc_info)
        return json.dumps(entry)


def _setup_logging() -> None:
    handler = logging.StreamHandler()
    handler.addFilter(masking.MaskingFilter())
    root = logging.getLogger("promoter")
    if not root.handlers:
        root.addHandler(handler)
        root.setLevel(logging.WARNING)


def configure_logging(fmt: str, level: int) -> None:
    """Switch promoter's log handler to `fmt` ("text" or "json") at `level`."""
    root = logging.getLogger("promoter")
    root.setLevel(level)
    for handler in root.handlers:
        handler.setFormatter(
            JsonFormatter()
            if fmt == "json"
            else logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s")
        )


def emit_json(data: object) -> None:
    click.echo(masking.mask(json.dumps(data, indent=2, sort_keys=False)))


def emit(text: str, *, err: bool = False) -> None:
    click.echo(masking.mask(text), err=err)


OUTPUT_OPTION = click.option(
    "--output",
    "-o",
    type=click.Choice(["text", "json"]),
    default="text",
    show_default=True,
    help="Output format.",
)

REPO_OPTION = click.option(
    "--repo",
    "repo",
    type=click.Path(file_okay=False, path_type=Path),
    default=Path("."),
    show_default=True,
    help="Working tree (a clone) of the environment repository.",
)
