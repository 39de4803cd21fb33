"""What commands print and log: masked text and JSON, and the log handler
(text, or one JSON object per line for collectors)."""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Iterable
from typing import TYPE_CHECKING

import click

from promoter.core import masking

if TYPE_CHECKING:
    from collections.abc import Callable

    from promoter.core.edit.model import Change
    from promoter.core.rehearsal import Rehearsal


TIME_FORMAT = "%Y-%m-%dT%H:%M:%S%z"
"""ISO 8601 with the UTC offset, in text and JSON log lines alike."""


class JsonFormatter(logging.Formatter):
    """One JSON object per line, for log collectors (the agent runs for days)."""

    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "time": self.formatTime(record, TIME_FORMAT),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
        }
        if record.exc_info:
            entry["error"] = self.formatException(record.exc_info)
        return json.dumps(entry)


def setup_logging() -> None:
    handler = logging.StreamHandler()
    handler.addFilter(masking.MaskingFilter())
    root = logging.getLogger("promoter")
    if not root.handlers:
        root.addHandler(handler)
        root.setLevel(logging.WARNING)


def configure_verbose(level: int) -> None:
    """-v: promoter's log lines at `level` on stderr, `promoter.git: git fetch origin`."""
    setup_logging()
    root = logging.getLogger("promoter")
    root.setLevel(level)
    for handler in root.handlers:
        handler.setFormatter(logging.Formatter("%(name)s: %(message)s"))


def configure_logging(fmt: str, level: int) -> None:
    """Switch promoter's log handler to `fmt` ("text" or "json") at `level`."""
    root = logging.getLogger("promoter")
    root.setLevel(level)
    for handler in root.handlers:
        handler.setFormatter(
            JsonFormatter()
            if fmt == "json"
            else logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s", TIME_FORMAT)
        )


def emit_json(data: object) -> None:
    click.echo(masking.mask(json.dumps(data, indent=2, sort_keys=False)))


def emit(text: str, *, err: bool = False) -> None:
    # click strips styles when the stream is not a terminal or --no-color
    # was given; NO_COLOR (https://no-color.org) turns them off everywhere.
    click.echo(masking.mask(text), err=err, color=False if os.environ.get("NO_COLOR") else None)


def verdict_colored(text: str) -> str:
    """A check report with its last line (`pass: …` / `fail: …`) in colour."""
    head, _, last = text.rpartition("\n")
    colour = "green" if last.startswith("pass:") else "red" if last.startswith("fail:") else None
    styled = click.style(last, fg=colour, bold=True) if colour else last
    return f"{head}\n{styled}" if head else styled


def emit_result(
    data: object, text: Callable[[], str], output: str, rehearsal: Rehearsal | None
) -> None:
    """A command's result; under --dry-run, what it would have written (JSON:
    `{"dry_run": true, "would": [...], "result": <the usual output>}`)."""
    if rehearsal is not None:
        if output == "json":
            emit_json(rehearsal.to_json(data))
        else:
            emit(rehearsal.text())
    elif output == "json":
        emit_json(data)
    else:
        emit(text())


def changes_json(changes: Iterable[Change]) -> list[dict[str, object]]:
    """The `changed` list of set-image's and bump's JSON output."""
    return [{"file": c.file, "line": c.line, "old": c.old, "new": c.new} for c in changes]
