"""wait: block until an environment's applier has synced a revision, healthy."""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING

import click

from promoter.cli.options import (
    API_URL_OPTION,
    CONTEXT_OPTION,
    KUBECONFIG_OPTION,
    OUTPUT_OPTION,
    REPO_OPTION,
    complete_environments,
    forge_for,
    forge_option,
)
from promoter.cli.output import emit, emit_json
from promoter.errors import ExitCode, InputError

if TYPE_CHECKING:
    from promoter.core.forge import Forge


def _seconds(ctx: click.Context, param: click.Parameter, value: str) -> float:
    from promoter.core.policy.durations import parse_duration

    seconds = parse_duration(value) if not value.isdigit() else int(value)
    if seconds is None or seconds <= 0:
        raise click.BadParameter(f"{value!r} is not a duration such as 90s, 10m or 1h")
    return float(seconds)


@click.command("wait")
@click.option(
    "--env", "env", required=True, help="Environment to wait for.",
    shell_complete=complete_environments,
)  # fmt: skip
@click.option(
    "--revision",
    required=True,
    help="Commit to wait for (a sha, or a ref of --repo such as HEAD); a later "
    "commit built on it counts too.",
)
@click.option(
    "--timeout", default="10m", show_default=True, callback=_seconds,
    help="Give up after this long (90s, 10m, 1h): exit 10.",
)  # fmt: skip
@click.option(
    "--interval", default="5s", show_default=True, callback=_seconds,
    help="How often to ask the applier.",
)  # fmt: skip
@REPO_OPTION
@KUBECONFIG_OPTION
@CONTEXT_OPTION
@forge_option("Code host (for promoter's own agent: its promoter/apply status).")
@API_URL_OPTION
@OUTPUT_OPTION
def wait_cmd(
    env: str,
    revision: str,
    timeout: float,
    interval: float,
    repo: Path,
    kubeconfig: Path | None,
    context: str | None,
    forge: str | None,
    api_url: str | None,
    output: str,
) -> None:
    """Wait until ENV's applier — promoter's agent, Argo CD or Flux, as
    `applier:` in promoter.yaml says — has synced REVISION and it is healthy.
    Exit 0 healthy, 9 degraded, 10 timed out."""
    from promoter.adapters.git import GitRepo
    from promoter.core.config.loader import load_config
    from promoter.workflows.controller_facts import kube_reader
    from promoter.workflows.wait import wait_for
    from promoter.workflows.workspace import origin_url

    config = load_config(repo)
    environment = config.environment(env)
    git = GitRepo(repo)
    status, sha, _ = git.run("rev-parse", "--verify", "--quiet", f"{revision}^{{commit}}",
                             check=False)  # fmt: skip
    if status == 0:
        revision = sha.strip()
    elif not all(c in "0123456789abcdef" for c in revision) or len(revision) < 7:
        raise InputError(
            f"--revision {revision!r} is neither a commit of {repo} nor a commit sha",
            hint="pass the merged commit's sha (e.g. $GITHUB_SHA / $CI_COMMIT_SHA)",
        )
    reader = kube_reader(kubeconfig, context) if environment.applier is not None else None

    def statuses() -> Forge:
        url = origin_url(repo)
        return forge_for(config, forge, url, api_url, dict(os.environ), None)

    try:
        result = wait_for(
            environment, revision, repo=git, reader=reader, statuses=statuses,
            timeout=timeout, interval=interval, say=lambda line: emit(line, err=True),
        )  # fmt: skip
    finally:
        if reader is not None:
            reader.close()
    if output == "json":
        emit_json(result.to_json())
    else:
        verdict = {"healthy": "synced and healthy", "degraded": "degraded"}.get(
            result.outcome, f"not synced and healthy after {timeout:g}s"
        )
        emit(f"{env}: {revision[:12]} {verdict}")
    if result.outcome == "degraded":
        raise click.exceptions.Exit(int(ExitCode.HEALTH))
    if result.outcome == "timeout":
        raise click.exceptions.Exit(int(ExitCode.TIMEOUT))
