"""The root command group: loads a command's module only when that command
runs (click's lazy-group pattern), and is the one error handler that maps
promoter's errors to messages and exit codes."""

from __future__ import annotations

import importlib
import os
import signal
import sys
import threading
import traceback
from collections.abc import Mapping, Sequence
from typing import Any

import click

from promoter.cli.output import setup_logging
from promoter.core import masking
from promoter.errors import ExitCode, PromoterError


class Terminated(BaseException):
    """SIGTERM arrived (a cancelled CI job, `kill`). Raised in the main thread
    like KeyboardInterrupt, so that `with` blocks clean up (temporary clones,
    git children) on the way out; a BaseException so no `except Exception`
    on the way can swallow it."""


def _terminate(signum: int, frame: object) -> None:
    raise Terminated


def _color(ctx: click.Context | None) -> bool | None:
    """False when NO_COLOR is set (https://no-color.org) or --no-color was
    given; else None: click colours only a terminal."""
    if os.environ.get("NO_COLOR"):
        return False
    return False if ctx is not None and ctx.find_root().color is False else None


def _error_lines(message: str, hint: str) -> str:
    return (
        click.style("error:", fg="red", bold=True)
        + f" {message}\n  "
        + click.style("hint:", fg="cyan")
        + f" {hint}"
    )


def _with_common_options(command: click.Command) -> None:
    """-v and --no-color on `command` and, for a group, on its commands."""
    from promoter.cli.options import common_options

    names = {name for p in command.params for name in p.opts}
    if "--verbose" not in names:
        command.params.extend(common_options())
    if isinstance(command, click.Group):
        for sub in command.commands.values():
            _with_common_options(sub)


class PromoterGroup(click.Group):
    """`lazy_commands` maps a command name to "module:attribute"; the module
    is imported the first time click asks for that command (to run it, or
    to show its help line), so `promoter --version` imports none of them."""

    def __init__(
        self,
        *args: Any,
        lazy_commands: Mapping[str, str],
        help_lines: Mapping[str, str] | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        self.lazy_commands = dict(lazy_commands)
        self.help_lines = dict(help_lines or {})

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        """The command list from `help_lines` (click's own layout and
        shortening), importing no command module for it."""
        names = self.list_commands(ctx)
        if not names:
            return
        limit = formatter.width - 6 - max(len(name) for name in names)
        rows = []
        for name in names:
            text = self.help_lines.get(name)
            if text is None or name in self.commands:
                command = self.get_command(ctx, name)
                if command is None or command.hidden:
                    continue
                rows.append((name, command.get_short_help_str(limit)))
            else:
                # click's own shortening, without importing the command
                rows.append((name, click.Command(name, help=text).get_short_help_str(limit)))
        with formatter.section("Commands"):
            formatter.write_dl(rows)

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted({*self.commands, *self.lazy_commands})

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name not in self.commands and cmd_name in self.lazy_commands:
            module_name, _, attribute = self.lazy_commands[cmd_name].partition(":")
            command = getattr(importlib.import_module(module_name), attribute)
            if not isinstance(command, click.Command):  # a wrong table entry is our bug
                raise TypeError(f"{self.lazy_commands[cmd_name]} is not a click command")
            _with_common_options(command)
            self.add_command(command, cmd_name)
        return self.commands.get(cmd_name)

    def main(
        self,
        args: Sequence[str] | None = None,
        prog_name: str | None = None,
        complete_var: str | None = None,
        standalone_mode: bool = True,
        **extra: Any,
    ) -> Any:
        """click's own errors (unknown option, missing value, bad choice) in
        promoter's `error:` + `hint:` form, with click's exit code (2 for
        usage errors)."""
        if not standalone_mode:
            return super().main(args, prog_name, complete_var, False, **extra)
        try:
            code = super().main(args, prog_name, complete_var, False, **extra)
        except click.ClickException as err:
            ctx = err.ctx if isinstance(err, click.UsageError) else None
            where = ctx.command_path if ctx else ""
            hint = f"see `{where or 'promoter'} --help` for the options"
            click.echo(_error_lines(err.format_message(), hint), err=True, color=_color(ctx))
            sys.exit(err.exit_code)
        except click.exceptions.Abort:  # Ctrl-C while click itself was reading input
            click.echo("interrupted", err=True)
            sys.exit(int(ExitCode.INTERRUPTED))
        sys.exit(code if isinstance(code, int) else 0)

    def invoke(self, ctx: click.Context) -> Any:
        setup_logging()
        # Long-running commands (agent, serve) install their own handler;
        # signals can only be handled in the main thread.
        main = threading.current_thread() is threading.main_thread()
        if main and signal.getsignal(signal.SIGTERM) is signal.SIG_DFL:
            signal.signal(signal.SIGTERM, _terminate)
        try:
            return super().invoke(ctx)
        except PromoterError as err:
            hint = err.hint or err.default_hint
            click.echo(
                _error_lines(masking.mask(err.message), masking.mask(hint)),
                err=True,
                color=_color(ctx),
            )
            raise click.exceptions.Exit(int(err.exit_code)) from None
        except BrokenPipeError:
            # Python would complain again flushing stdout at exit: point it
            # at /dev/null (the `signal` docs' recipe) and leave quietly.
            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, sys.stdout.fileno())
            raise click.exceptions.Exit(int(ExitCode.PIPE_CLOSED)) from None
        except KeyboardInterrupt:
            click.echo("interrupted", err=True)
            raise click.exceptions.Exit(int(ExitCode.INTERRUPTED)) from None
        except Terminated:
            click.echo("terminated", err=True)
            raise click.exceptions.Exit(int(ExitCode.TERMINATED)) from None
        except (click.exceptions.Exit, click.ClickException, click.Abort):
            raise
        except Exception:
            click.echo("internal error (a bug in promoter; please report it):", err=True)
            click.echo(masking.mask(traceback.format_exc()), err=True)
            raise click.exceptions.Exit(int(ExitCode.INTERNAL)) from None
