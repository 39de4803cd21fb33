"""Command line: click commands only. Each command parses options, calls one
core function, prints the result; `PromoterGroup` maps errors to exit codes."""

from __future__ import annotations

import click

from promoter import __version__
from promoter.cli.agent_cmds import agent_cmd, diff_cmd
from promoter.cli.base import PromoterGroup
from promoter.cli.bot_cmds import bot_cmd, serve_cmd
from promoter.cli.check_cmd import check_cmd
from promoter.cli.commands import bump_cmd, config_group, set_image_cmd, status_cmd
from promoter.cli.promote_cmds import history_cmd, plan_cmd, promote_cmd, rollback_cmd


@click.group(cls=PromoterGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="promoter")
def cli() -> None:
    """promoter: bump image tags in a GitOps environment repository, promote
    them through pull requests, and apply them.

    \b
    Exit codes: 0 done or nothing to do; 1 a check failed; 2 bad input or config;
    3 git or remote failure; 4 push kept being rejected;
    5 file not readable or writable; 6 forge API failure; 7 registry failure;
    8 apply failure; 9 health timeout;
    70 internal error; 130 interrupted.
    """


cli.add_command(config_group)
cli.add_command(set_image_cmd)
cli.add_command(status_cmd)
cli.add_command(bump_cmd)
cli.add_command(plan_cmd)
cli.add_command(promote_cmd)
cli.add_command(rollback_cmd)
cli.add_command(history_cmd)
cli.add_command(check_cmd)
cli.add_command(bot_cmd)
cli.add_command(serve_cmd)
cli.add_command(agent_cmd)
cli.add_command(diff_cmd)


def main() -> None:
    cli(prog_name="promoter")
