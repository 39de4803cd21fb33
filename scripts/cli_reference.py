"""The synopsis and option table of every command in docs/cli.md, generated
from the click commands themselves so the reference cannot fall behind
`--help` (tests/test_cli_reference.py fails when it does).

    python scripts/cli_reference.py          # exit 1 and name the stale blocks
    python scripts/cli_reference.py --write  # rewrite them in docs/cli.md

Each block sits between `<!-- cli: promoter NAME -->` and `<!-- /cli -->`;
everything around the blocks is written by hand.
"""

from __future__ import annotations

import re
import sys
import textwrap
from pathlib import Path

import click

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from promoter.cli import cli  # noqa: E402

DOC = ROOT / "docs" / "cli.md"
BLOCK = re.compile(r"<!-- cli: (promoter [\w -]+?) -->\n.*?<!-- /cli -->", re.S)
COMMON = {"--help", "--verbose", "--no-color"}
"""On every command; docs/cli.md describes them once, at the top."""
WIDTH = 88


def command_for(path: str) -> tuple[click.Context, click.Command]:
    """`promoter config validate` -> its context and command."""
    ctx = click.Context(cli, info_name="promoter")
    command: click.Command = cli
    for name in path.split()[1:]:
        assert isinstance(command, click.Group), path
        sub = command.get_command(ctx, name)
        assert sub is not None, f"no command {path}"
        ctx = click.Context(sub, info_name=name, parent=ctx)
        command = sub
    return ctx, command


def _shown(param: click.Parameter) -> bool:
    return not (isinstance(param, click.Option) and (set(param.opts) & COMMON or param.hidden))


def _metavar(param: click.Parameter, ctx: click.Context) -> str:
    if isinstance(param, click.Option) and param.is_flag:
        return ""
    kind = param.type
    if isinstance(kind, click.Choice):
        return "|".join(map(str, kind.choices))
    if isinstance(param, click.Argument):
        return param.make_metavar(ctx)
    if param.metavar:
        return param.metavar
    if isinstance(kind, click.Path):
        return "DIR" if not kind.file_okay else "FILE"
    if isinstance(kind, (click.IntRange, click.types.IntParamType)):
        return "N"
    name = param.name or "value"
    return "URL" if name.endswith("url") or name.endswith("urls") else name.upper()


def _name(param: click.Parameter, ctx: click.Context) -> str:
    if isinstance(param, click.Argument):
        return param.make_metavar(ctx)
    assert isinstance(param, click.Option)
    # The long name people type in scripts; the short one is in the table.
    longest = max(param.opts, key=len)
    flags = "/".join([longest, *param.secondary_opts]) if param.is_flag else longest
    metavar = _metavar(param, ctx)
    return f"{flags} {metavar}" if metavar else flags


def _names(param: click.Parameter, ctx: click.Context) -> str:
    """Every spelling, for the table: `-o, --output text|json`."""
    if not isinstance(param, click.Option) or len(param.opts) < 2:
        return _name(param, ctx)
    short = ", ".join(sorted(param.opts, key=len)[:-1])
    return f"{short}, {_name(param, ctx)}"


def synopsis(path: str) -> str:
    ctx, command = command_for(path)
    words = []
    for param in command.params:
        if not _shown(param):
            continue
        word = _name(param, ctx)
        if getattr(param, "multiple", False):
            word += "…"
        words.append(word if param.required else f"[{word}]")
    # One option and its value stay on one line: wrap at NBSP-joined words.
    lines = textwrap.wrap(
        " ".join([path, *(w.replace(" ", "\u00a0") for w in words)]),
        width=WIDTH,
        subsequent_indent=" " * (len(path) + 1),
        break_on_hyphens=False,
        break_long_words=False,
    )
    return "\n".join(lines).replace("\u00a0", " ")


def _default(param: click.Parameter, ctx: click.Context) -> str:
    if isinstance(param, click.Option) and param.is_flag:
        if not param.secondary_opts:
            return ""
        on, off = max(param.opts, key=len), param.secondary_opts[0]
        return f"`{on if param.get_default(ctx, call=False) else off}`"
    value = param.get_default(ctx, call=False)
    unset = type(value).__name__ == "Sentinel"  # click >= 8.3 marks "no default" so
    if unset or value is None or value == () or callable(value):
        return ""
    return f"`{value}`"


def _cell(text: str) -> str:
    return " ".join(text.split()).replace("|", "\\|")


def table(path: str) -> str:
    ctx, command = command_for(path)
    rows = ["| option | default | meaning |", "|---|---|---|"]
    for param in command.params:
        if not _shown(param):
            continue
        name = f"`{_names(param, ctx)}`"
        if param.required:
            name += " (required)"
        if getattr(param, "multiple", False):
            name += " (repeatable)"
        meaning = getattr(param, "help", None) or ""
        rows.append(f"| {_cell(name)} | {_default(param, ctx)} | {_cell(meaning)} |")
    return "\n".join(rows)


def block(path: str) -> str:
    return f"<!-- cli: {path} -->\n```\n{synopsis(path)}\n```\n\n{table(path)}\n<!-- /cli -->"


def refreshed(text: str) -> str:
    return BLOCK.sub(lambda m: block(m.group(1)), text)


def main(argv: list[str]) -> int:
    text = DOC.read_text(encoding="utf-8")
    new = refreshed(text)
    if "--write" in argv:
        if new != text:
            DOC.write_text(new, encoding="utf-8")
        return 0
    stale = [m.group(1) for m in BLOCK.finditer(text) if m.group(0) != block(m.group(1))]
    for path in stale:
        print(f"docs/cli.md: the block for `{path}` is behind its --help", file=sys.stderr)
    if stale:
        print("hint: python scripts/cli_reference.py --write", file=sys.stderr)
    return 1 if stale else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
