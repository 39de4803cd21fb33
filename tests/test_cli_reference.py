"""docs/cli.md cannot fall behind `--help`: every command has a generated
synopsis and option table (scripts/cli_reference.py) and they match the
click commands; every option says what it does."""

from __future__ import annotations

import importlib.util
import subprocess
import sys
from pathlib import Path

import click
import pytest

from promoter.cli import COMMANDS, cli

ROOT = Path(__file__).resolve().parent.parent
SCRIPT = ROOT / "scripts" / "cli_reference.py"


def _reference():  # the script is not a package module: load it by path
    spec = importlib.util.spec_from_file_location("cli_reference", SCRIPT)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _paths() -> list[str]:
    ctx = click.Context(cli, info_name="promoter")
    out = []
    for name in COMMANDS:
        command = cli.get_command(ctx, name)
        if isinstance(command, click.Group):
            out += [f"promoter {name} {sub}" for sub in command.commands]
        else:
            out.append(f"promoter {name}")
    return out


def test_the_reference_matches_the_commands() -> None:
    proc = subprocess.run(
        [sys.executable, str(SCRIPT)], capture_output=True, text=True, check=False
    )
    assert proc.returncode == 0, proc.stderr


def test_every_command_has_its_block() -> None:
    doc = (ROOT / "docs" / "cli.md").read_text()
    for path in _paths():
        assert f"<!-- cli: {path} -->" in doc, f"docs/cli.md has no block for `{path}`"


def test_a_stale_block_is_caught(tmp_path: Path) -> None:
    reference = _reference()
    fresh = reference.block("promoter bump")
    assert "| `--dry-run` |  |" in fresh and "--retries N" in fresh
    stale = "\n".join(line for line in fresh.splitlines() if "`--dry-run`" not in line)
    assert stale != fresh
    text = f"intro\n\n{stale}\n\nafter\n"
    assert reference.refreshed(text) == f"intro\n\n{fresh}\n\nafter\n"
    reference.DOC = tmp_path / "cli.md"
    reference.DOC.write_text(text)
    assert reference.main([]) == 1
    assert reference.main(["--write"]) == 0
    assert reference.main([]) == 0 and reference.DOC.read_text().count("after") == 1


@pytest.mark.parametrize("path", _paths())
def test_every_option_says_what_it_does(path: str) -> None:
    _, command = _reference().command_for(path)
    undocumented = [p.name for p in command.params if isinstance(p, click.Option) and not p.help]
    assert undocumented == [], f"{path}: options without help: {undocumented}"
