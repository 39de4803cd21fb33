"""agent (the pull-based applier) and diff (desired vs live)."""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import click

from promoter.cli.options import (
    API_URL_OPTION,
    LOG_FORMAT_OPTION,
    OUTPUT_OPTION,
    REPO_OPTION,
    complete_environments,
    forge_option,
)
from promoter.cli.output import configure_logging, emit, emit_json
from promoter.core.applier.keys import PROTECTED_KINDS
from promoter.core.policy.durations import duration_problem, parse_duration
from promoter.errors import ExitCode

if TYPE_CHECKING:
    from promoter.core.applier.result import RoundResult

log = logging.getLogger("promoter.applier")

F = TypeVar("F", bound=Callable[..., Any])


def _seconds(ctx: click.Context, param: click.Parameter, value: str) -> float:
    if value in ("0", "0s"):
        return 0.0
    problem = duration_problem(value)
    if problem:
        raise click.BadParameter(problem)
    return float(parse_duration(value) or 0)


def _cluster_options(f: F) -> F:
    for option in reversed(
        [
            click.option(
                "--env",
                "env",
                required=True,
                help="Environment to apply, e.g. dev.",
                shell_complete=complete_environments,
            ),
            click.option(
                "--path",
                "paths",
                multiple=True,
                metavar="PATH",
                help="Render this repository path instead of the services' paths (repeatable).",
            ),
            click.option(
                "--kubeconfig",
                type=click.Path(dir_okay=False, path_type=Path),
                help="Kubeconfig file (default: $KUBECONFIG, ~/.kube/config, or in-cluster).",
            ),
            click.option("--context", help="Kubeconfig context (default: the current one)."),
            click.option(
                "--inventory-namespace",
                metavar="NAMESPACE",
                help="Namespace of the inventory ConfigMap (default: the context's / pod's).",
            ),
        ]
    ):
        f = option(f)
    return f


@click.command("agent")
@_cluster_options
@LOG_FORMAT_OPTION
@click.option("--repo-url", "repo_url", help="Environment repository to pull (else --repo).")
@REPO_OPTION
@click.option("--branch", help="Branch to pull (default: the environment's, else the default).")
@click.option(
    "--interval",
    default="1m",
    metavar="DURATION",
    show_default=True,
    callback=_seconds,
    help="How often to poll the branch and reconcile (30s, 5m, 1h).",
)
@click.option("--once", is_flag=True, help="One round, then exit (non-zero on failure).")
@click.option("--dry-run", is_flag=True, help="Dry-run apply only; report what prune would do.")
@click.option(
    "--self-heal/--no-self-heal",
    default=True,
    show_default=True,
    help="Put back objects changed or deleted in the cluster between commits (drift), "
    "or only report them.",
)
@click.option(
    "--force-conflicts/--no-force-conflicts",
    default=True,
    show_default=True,
    help="Take over fields other field managers own (Git wins), or report the conflict.",
)
@click.option("--allow-empty", is_flag=True, help="Accept an empty render (prunes everything).")
@click.option(
    "--prune-allow",
    multiple=True,
    type=click.Choice(sorted(PROTECTED_KINDS.values())),
    help="Let prune delete this protected kind (repeatable).",
)
@click.option(
    "--health-timeout",
    default="5m",
    metavar="DURATION",
    show_default=True,
    callback=_seconds,
    help="How long to wait for applied objects to become healthy (0: check once).",
)
@click.option(
    "--metrics-port",
    type=click.IntRange(0, 65535),
    help="Serve /metrics, /healthz, /status and POST /trigger on this port.",
)
@click.option(
    "--metrics-host",
    default="0.0.0.0",
    show_default=True,
    metavar="HOST",
    help="Address the --metrics-port server listens on.",
)
@click.option(
    "--commit-status/--no-commit-status",
    default=True,
    show_default=True,
    help="Set `promoter/apply` on the applied commit (with --repo-url and a forge token).",
)
@forge_option("Code host.")
@API_URL_OPTION
@click.option(
    "--workdir",
    type=click.Path(file_okay=False, path_type=Path),
    help="Where to keep the clone between rounds (default: a temporary directory).",
)
@OUTPUT_OPTION
def agent_cmd(
    env: str,
    paths: tuple[str, ...],
    kubeconfig: Path | None,
    context: str | None,
    inventory_namespace: str | None,
    repo_url: str | None,
    repo: Path,
    branch: str | None,
    interval: float,
    once: bool,
    dry_run: bool,
    self_heal: bool,
    force_conflicts: bool,
    allow_empty: bool,
    prune_allow: tuple[str, ...],
    health_timeout: float,
    metrics_port: int | None,
    metrics_host: str,
    commit_status: bool,
    forge: str | None,
    api_url: str | None,
    workdir: Path | None,
    output: str,
    log_format: str = "text",
) -> None:
    """Apply an environment to a cluster, pull-based: poll its branch, render,
    server-side apply, prune what Git removed, heal drift, wait for health,
    report. Runs until stopped; --once runs one round."""
    from promoter.workflows.agent import AgentRequest, exit_code, run_agent

    configure_logging(log_format, logging.INFO)
    request = AgentRequest(
        env,
        repo,
        paths=paths,
        kubeconfig=kubeconfig,
        context=context,
        inventory_namespace=inventory_namespace,
        repo_url=repo_url,
        branch=branch,
        interval=interval,
        once=once,
        dry_run=dry_run,
        self_heal=self_heal,
        force_conflicts=force_conflicts,
        allow_empty=allow_empty,
        prune_allow=frozenset(prune_allow),
        health_timeout=health_timeout,
        metrics_port=metrics_port,
        metrics_host=metrics_host,
        commit_status=commit_status,
        forge=forge,
        api_url=api_url,
        workdir=workdir,
    )
    result = run_agent(
        request,
        on_round=lambda r: _show(r, output, brief=True),
        on_listening=lambda url: log.info("metrics on %s", url),
    )
    if once:
        _show(result, output)
    code = exit_code(result)
    if once and code:
        raise click.exceptions.Exit(code)


def _show(result: RoundResult, output: str, *, brief: bool = False) -> None:
    if output == "json":
        emit_json(result.to_json())
    elif brief:  # one line per round of a long-running agent: a timestamped log line
        log.log(logging.INFO if result.ok else logging.ERROR, "%s", result.text().splitlines()[0])
    else:
        emit(result.text(), err=False)


@click.command("diff")
@_cluster_options
@REPO_OPTION
@OUTPUT_OPTION
def diff_cmd(
    env: str,
    paths: tuple[str, ...],
    kubeconfig: Path | None,
    context: str | None,
    inventory_namespace: str | None,
    repo: Path,
    output: str,
) -> None:
    """Show what `promoter agent` would change: desired (a dry-run apply of
    the rendered environment) vs live, one unified diff per object, Secret
    values masked; objects it would prune show as deletions. Exits like
    `kubectl diff`: 0 no differences, 1 differences, >1 an error."""
    from promoter.workflows.live_diff import diff_environment

    result = diff_environment(
        repo,
        env,
        paths,
        kubeconfig=kubeconfig,
        context=context,
        inventory_namespace=inventory_namespace,
    )
    if output == "json":
        emit_json(result.to_json())
    elif not result.diffs:
        emit(f"{env}: no differences ({result.objects} objects)")
    else:
        for key in sorted(result.diffs):
            emit(result.diffs[key].rstrip("\n"))
    if result.diffs:
        raise click.exceptions.Exit(int(ExitCode.DIFFERENCES))
