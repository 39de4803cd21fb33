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
    "notify": "promoter.cli.notify_cmd:notify_group",
    "completion": "promoter.cli.completion_cmd:completion_cmd",
}
"""Command name -> "module:attribute" of its click command."""
COMMAND_HELP = {
    "init": (
        "Survey the repository's kustomizations, manifests, Helm values, HelmReleases and"
        " compose files; guess the environments, services and their paths; write a "
        "commented promoter.yaml and say what was guessed."
    ),
    "config": "Inspect promoter.yaml.",
    "set-image": (
        "Point a service's image in one environment at a new tag/digest, in the working "
        "tree (formatting untouched)."
    ),
    "status": (
        "What runs where: services × environments, read from the working tree (or, with "
        "--repo-url, from the remote's branches); with --applier, what Argo CD or Flux "
        "report for each environment they apply."
    ),
    "bump": (
        "Clone only what is needed, set the image, commit with trailers, push; retries by"
        " re-applying the edit when the branch moved."
    ),
    "plan": (
        "What `promote` would propose: the same remote branches, read the same way (a dry"
        " run that opens nothing)."
    ),
    "promote": "Open or update one pull/merge request per target environment.",
    "rollback": "Open a pull request putting a service back to an earlier version.",
    "history": "What was deployed when, by whom, from which pipeline (commit trailers).",
    "check": "Evaluate the target environment's policies.",
    "bot": (
        "Act on one forge event: a `/promote`, `/rollback`, `/check` or `/diff` comment "
        "on a promoter pull request, or a pull request opened or pushed to (which runs "
        "the check)."
    ),
    "serve": (
        "Receive GitHub / GitLab webhooks on POST /webhook and act on them as `promoter bot` does."
    ),
    "agent": (
        "Apply an environment to a cluster, pull-based: poll its branch, render, server-"
        "side apply, prune what Git removed, heal drift, wait for health, report."
    ),
    "diff": (
        "Show what `promoter agent` would change: desired (a dry-run apply of the "
        "rendered environment) vs live, one unified diff per object, Secret values "
        "masked; objects it would prune show as deletions."
    ),
    "render": (
        "Render an environment as the applier does — kustomize, Helm charts, Jsonnet, "
        "plain manifests — like `kustomize build` / `helm template`."
    ),
    "wait": (
        "Wait until ENV's applier — promoter's agent, Argo CD or Flux, as `applier:` in "
        "promoter.yaml says — has synced REVISION and it is healthy."
    ),
    "export": (
        "Print Argo CD (an ApplicationSet: one Application per environment and path) or "
        "Flux resources (GitRepository + Kustomizations whose dependsOn follows the "
        "promotion graph) for this repository, as YAML."
    ),
    "dashboard": (
        "Serve a read-only dashboard: the environment matrix, open promotions with their "
        "policy results, the appliers, history and delivery figures."
    ),
    "notify": "Notification targets (promoter.yaml `notifications:`).",
    "completion": "Print the completion script for SHELL.",
}
"""Each command's help line, so `promoter --help` imports no command module
(tests/test_cli_manners.py keeps it equal to the commands' own)."""


@click.group(
    cls=PromoterGroup,
    lazy_commands=COMMANDS,
    help_lines=COMMAND_HELP,
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
    12 a notification target failed its test; 70 internal error;
    130 interrupted; 141 output closed; 143 terminated.
    """


cli.params.extend(common_options())


def main() -> None:
    cli(prog_name="promoter")
