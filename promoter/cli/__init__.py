"""Command line: click only. Each command parses options, calls one
workflow, prints the result. Commands live one module (or one small family)
each and are imported only when they run; `PromoterGroup` maps errors to
exit codes."""

from __future__ import annotations

import click

from promoter import __version__
from promoter.cli.group import PromoterGroup
from promoter.cli.options import common_options

COMMANDS = {
    "init": "promoter.cli.init_cmd:init_cmd",
    "config": "promoter.cli.config_cmd:config_group",
    "set-image": "promoter.cli.set_image_cmd:set_image_cmd",
    "status": "promoter.cli.status_cmd:status_cmd",
    "bump": "promoter.cli.bump_cmd:bump_cmd",
    "plan": "promoter.cli.promote_cmds:plan_cmd",
    "promote": "promoter.cli.promote_cmds:promote_cmd",
    "rollback": "promoter.cli.promote_cmds:rollback_cmd",
    "history": "promoter.cli.promote_cmds:history_cmd",
    "check": "promoter.cli.check_cmd:check_cmd",
    "bot": "promoter.cli.bot_cmds:bot_cmd",
    "serve": "promoter.cli.bot_cmds:serve_cmd",
    "agent": "promoter.cli.agent_cmds:agent_cmd",
    "diff": "promoter.cli.agent_cmds:diff_cmd",
    "render": "promoter.cli.render_cmd:render_cmd",
    "wait": "promoter.cli.wait_cmd:wait_cmd",
    "export": "promoter.cli.export_cmd:export_cmd",
    "dashboard": "promoter.cli.dashboard_cmd:dashboard_cmd",
    "completion": "promoter.cli.completion_cmd:completion_cmd",
}
"""Command name -> "module:attribute" of its click command."""


@click.group(
    cls=PromoterGroup,
    lazy_commands=COMMANDS,
    context_settings={"help_option_names": ["-h", "--help"]},
)
@click.version_option(__version__, prog_name="promoter")
def cli() -> None:
    """promoter: bump image tags in a GitOps environment repository, promote
    them through pull requests, and apply them.

    \b
    Exit codes: 0 done or nothing to do; 1 a check failed; 2 bad input or config;
    3 git or remote failure; 4 push kept being rejected;
    5 file not readable or writable; 6 forge API failure; 7 registry failure;
    8 apply failure; 9 health timeout or degraded; 10 wait timed out;
    70 internal error; 130 interrupted; 141 output closed; 143 terminated.
    """


cli.params.extend(common_options())


def main() -> None:
    cli(prog_name="promoter")
