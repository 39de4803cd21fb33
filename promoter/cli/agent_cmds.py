"""agent (the pull-based applier) and diff (desired vs live)."""

from __future__ import annotations

import logging
import os
import signal
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TypeVar

import click

from promoter.adapters.http.agent_status import StatusServer
from promoter.adapters.kube import Kube
from promoter.adapters.metrics import Metrics
from promoter.cli.base import OUTPUT_OPTION, REPO_OPTION, configure_logging, emit, emit_json
from promoter.cli.proposals import make_forge_for
from promoter.core.applier.inventory import Inventory
from promoter.core.applier.prepare import prepare
from promoter.core.applier.prune import PROTECTED_KINDS
from promoter.core.applier.result import RoundResult
from promoter.core.config.loader import load_config
from promoter.core.policy.durations import duration_problem, parse_duration
from promoter.errors import InputError, PromoterError
from promoter.workflows.agent import (
    Agent,
    AgentOptions,
    CommitStatus,
    GitSource,
    LocalSource,
    Source,
    StatusSink,
    env_paths,
    exit_code,
    render_paths,
)
from promoter.workflows.apply_round import Reconciler, Settings
from promoter.workflows.live_diff import live_diff

F = TypeVar("F", bound=Callable[..., Any])
log = logging.getLogger("promoter.applier")


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
            click.option("--env", "env", required=True, help="Environment to apply, e.g. dev."),
            click.option(
                "--path",
                "paths",
                multiple=True,
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
                help="Namespace of the inventory ConfigMap (default: the context's / pod's).",
            ),
        ]
    ):
        f = option(f)
    return f


@contextmanager
def _connect(kubeconfig: Path | None, context: str | None, force: bool = True) -> Iterator[Kube]:
    kube = Kube.connect(kubeconfig, context, force=force)
    try:
        yield kube
    finally:
        kube.close()


@click.command("agent")
@_cluster_options
@click.option(
    "--log-format",
    type=click.Choice(["text", "json"]),
    default="text",
    show_default=True,
    help="Log lines as text or as one JSON object per line.",
)
@click.option("--repo-url", "repo_url", help="Environment repository to pull (else --repo).")
@REPO_OPTION
@click.option("--branch", help="Branch to pull (default: the environment's, else the default).")
@click.option(
    "--interval",
    default="1m",
    show_default=True,
    callback=_seconds,
    help="How often to poll the branch and reconcile (30s, 5m, 1h).",
)
@click.option("--once", is_flag=True, help="One round, then exit (non-zero on failure).")
@click.option("--dry-run", is_flag=True, help="Dry-run apply only; report what prune would do.")
@click.option("--self-heal/--no-self-heal", default=True, show_default=True)
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
    show_default=True,
    callback=_seconds,
    help="How long to wait for applied objects to become healthy (0: check once).",
)
@click.option(
    "--metrics-port",
    type=click.IntRange(0, 65535),
    help="Serve /metrics, /healthz, /status and POST /trigger on this port.",
)
@click.option("--metrics-host", default="0.0.0.0", show_default=True)
@click.option(
    "--commit-status/--no-commit-status",
    default=True,
    show_default=True,
    help="Set `promoter/apply` on the applied commit (with --repo-url and a forge token).",
)
@click.option("--forge", type=click.Choice(["github", "gitlab", "none"]), help="Code host.")
@click.option("--api-url", help="API base URL (GitHub Enterprise, self-managed GitLab).")
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
    configure_logging(log_format, logging.INFO)
    if interval <= 0 and not once:
        raise InputError("--interval must be positive")
    settings = Settings(
        env,
        self_heal=self_heal,
        dry_run=dry_run,
        allow_empty=allow_empty,
        prune_allow=frozenset(prune_allow),
        inventory_namespace=inventory_namespace,
        health_timeout=health_timeout,
        # Poll often enough that a short timeout still sees a few polls.
        health_poll=min(2.0, max(0.2, health_timeout / 10)),
    )
    options = AgentOptions(env, interval=interval, paths=paths, once=once)
    with _workdir(workdir) as work, _connect(kubeconfig, context, force_conflicts) as kube:
        source: Source = (
            GitSource(repo_url, work, env, branch=branch, environ=dict(os.environ))
            if repo_url
            else LocalSource(repo)
        )
        # A dry run's "success" would tell healthy-upstream a version ran that never did.
        report = commit_status and not dry_run and repo_url is not None
        sink = _LazyForge(repo_url, forge, api_url, source) if report and repo_url else None
        metrics = Metrics(env)
        agent = Agent(
            source,
            Reconciler(kube, settings),
            options,
            status=CommitStatus(sink),
            metrics=metrics,
            on_round=None if once else lambda r: _show(r, output, brief=True),
        )
        server = None
        if metrics_port is not None:
            stale = 3 * interval + health_timeout + 60
            server = StatusServer(
                metrics,
                metrics_port,
                host=metrics_host,
                stale_after=stale,
                on_trigger=agent.trigger,
            )
            server.start()
            emit(f"metrics on http://{metrics_host}:{server.port}/metrics", err=True)
        if not once:
            # SIGTERM (how a pod is stopped) ends the loop after the current round.
            signal.signal(signal.SIGTERM, lambda *_: agent.shutdown())
        try:
            result = agent.run()
        finally:
            if server is not None:
                server.stop()
    if once:
        _show(result, output)
    code = exit_code(result)
    if once and code:
        raise click.exceptions.Exit(code)


@contextmanager
def _workdir(given: Path | None) -> Iterator[Path]:
    if given is not None:
        given.mkdir(parents=True, exist_ok=True)
        yield given
        return
    with tempfile.TemporaryDirectory(prefix="promoter-agent-") as tmp:
        yield Path(tmp)


class _LazyForge:
    """The forge is built on first use, from the promoter.yaml of the clone
    (its `forge:` block), which only exists after the first fetch."""

    def __init__(self, url: str, kind: str | None, api_url: str | None, source: Source) -> None:
        self.url, self.kind, self.api_url, self.source = url, kind, api_url, source
        self._sink: StatusSink | None = None

    def set_status(
        self, sha: str, context: str, state: str, description: str, target_url: str | None = None
    ) -> None:
        if self._sink is None:
            config = load_config(self.source.root)
            self._sink = make_forge_for(config, self.kind, self.url, self.api_url, dict(os.environ))
        self._sink.set_status(sha, context, state, description, target_url)


def _show(result: RoundResult, output: str, *, brief: bool = False) -> None:
    if output == "json":
        emit_json(result.to_json())
    elif brief:
        emit(result.text().splitlines()[0], err=not result.ok)
    else:
        emit(result.text(), err=False)


@click.command("diff")
@_cluster_options
@REPO_OPTION
def diff_cmd(
    env: str,
    paths: tuple[str, ...],
    kubeconfig: Path | None,
    context: str | None,
    inventory_namespace: str | None,
    repo: Path,
) -> None:
    """Show what `promoter agent` would change: desired (a dry-run apply of
    the rendered environment) vs live, one unified diff per object, Secret
    values masked; objects it would prune show as deletions."""
    objs = render_paths(env_paths(repo, env, paths))
    with _connect(kubeconfig, context) as kube:
        desired = prepare(objs, kube.namespaced, kube.namespace)
        reconciler = Reconciler(kube, Settings(env, inventory_namespace=inventory_namespace))
        try:
            tracked = reconciler.read_inventory()
        except PromoterError as err:
            log.warning("no inventory read (%s): deletions are not shown", err)
            tracked = Inventory()
        diffs = live_diff(kube, desired, tracked)
    if not diffs:
        emit(f"{env}: no differences ({len(desired)} objects)")
        return
    for key in sorted(diffs):
        emit(diffs[key].rstrip("\n"))
