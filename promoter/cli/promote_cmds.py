"""plan, promote, rollback, history."""

from __future__ import annotations

import os
from pathlib import Path

import click

from promoter.cli.options import (
    API_URL_OPTION,
    DRY_RUN_OPTION,
    OUTPUT_OPTION,
    REPO_OPTION,
    complete_environments,
    complete_services,
    forge_for,
    forge_option,
)
from promoter.cli.output import emit, emit_json, emit_result
from promoter.core.masking import strip_credentials
from promoter.core.rehearsal import Rehearsal
from promoter.errors import InputError

REPO_URL = click.option("--repo-url", "repo_url", help="Environment repository URL.")
REPO_DIR = click.option(
    "--repo",
    "repo",
    type=click.Path(file_okay=False, path_type=Path),
    help="A local clone (its `origin` is used for pushing).",
)
FORGE = forge_option(
    "Code host (default: from promoter.yaml `forge.type`, else detected from the URL)."
)


def _url(repo_url: str | None, repo: Path | None) -> str:
    if repo_url and repo:
        raise InputError("give --repo-url or --repo, not both")
    if repo_url:
        return repo_url
    from promoter.workflows.workspace import origin_url

    return origin_url(repo or Path("."))


SOURCE_ENV = click.option(
    "--from",
    "source",
    required=True,
    help="Source environment.",
    shell_complete=complete_environments,
)


@click.command("plan")
@SOURCE_ENV
@click.option(
    "--to",
    "target",
    required=True,
    help="Target environment.",
    shell_complete=complete_environments,
)
@click.option(
    "--service",
    "services",
    multiple=True,
    help="Only these services (repeatable).",
    shell_complete=complete_services,
)
@REPO_URL
@REPO_OPTION
@OUTPUT_OPTION
def plan_cmd(
    source: str,
    target: str,
    services: tuple[str, ...],
    repo_url: str | None,
    repo: Path,
    output: str,
) -> None:
    """What `promote` would propose: the same remote branches, read the same
    way (a dry run that opens nothing)."""
    from promoter.core.plans import same_version
    from promoter.workflows.plan import plan
    from promoter.workflows.workspace import unpublished_changes, workspace

    url = repo_url or _url(None, repo)
    if not repo_url:
        for warning in unpublished_changes(repo):
            emit(f"warning: {warning}", err=True)
    with workspace(url, dict(os.environ)) as ws:
        result = plan(ws, source, target, services)
    shown = strip_credentials(url)[0]
    emit(f"read {', '.join(r.text() for r in result.refs)} ({shown})", err=True)
    if output == "json":
        emit_json([i.to_json() for i in result.items])
    elif not result.items:
        emit(f"nothing to promote from {source} to {target}")
    else:
        for i in result.items:
            current = str(i.current) if i.current else "(none)"
            moves = "(config only)" if same_version(i.current, i.new) else f"{current} → {i.new}"
            emit(f"{i.service}: {moves}  [{', '.join(i.files)}]")
            for c in i.carried:
                emit(f"  carries {c.text()}")


@click.command("promote")
@SOURCE_ENV
@click.option(
    "--to",
    "targets",
    required=True,
    multiple=True,
    help="Target environment (repeatable: fan-out).",
    shell_complete=complete_environments,
)
@click.option(
    "--service",
    "services",
    multiple=True,
    help="Services to promote (repeatable).",
    shell_complete=complete_services,
)
@click.option("--all", "all_", is_flag=True, help="Promote every service that differs.")
@REPO_URL
@REPO_DIR
@FORGE
@API_URL_OPTION
@click.option("--draft", is_flag=True, help="Open the pull requests as drafts.")
@DRY_RUN_OPTION
@OUTPUT_OPTION
def promote_cmd(
    source: str,
    targets: tuple[str, ...],
    services: tuple[str, ...],
    all_: bool,
    repo_url: str | None,
    repo: Path | None,
    forge: str | None,
    api_url: str | None,
    draft: bool,
    dry_run: bool,
    output: str,
) -> None:
    """Open or update one pull/merge request per target environment."""
    from promoter.adapters.notify import Notifier
    from promoter.cli.proposals import describe_proposal
    from promoter.workflows.promote import PromoteRequest, promote
    from promoter.workflows.workspace import workspace

    url = _url(repo_url, repo)
    environ = dict(os.environ)
    rehearsal = Rehearsal() if dry_run else None
    notifier = Notifier.for_run(environ, url)
    with workspace(url, environ, rehearsal=rehearsal, notifier=notifier) as ws:
        host = forge_for(ws.config, forge, url, api_url, environ, rehearsal)
        results = promote(ws, host, PromoteRequest(source, targets, services, all_, draft))
    emit_result(
        [r.to_json() for r in results],
        lambda: "\n".join(describe_proposal(r) for r in results),
        output,
        rehearsal,
    )


@click.command("rollback")
@click.option(
    "--env",
    "env",
    required=True,
    help="Environment to roll back.",
    shell_complete=complete_environments,
)
@click.option(
    "--service",
    "service",
    required=True,
    help="Service to roll back.",
    shell_complete=complete_services,
)
@click.option("--to", "to_tag", help="Tag to go back to (default: the previous version).")
@REPO_URL
@REPO_DIR
@FORGE
@API_URL_OPTION
@DRY_RUN_OPTION
@OUTPUT_OPTION
def rollback_cmd(
    env: str,
    service: str,
    to_tag: str | None,
    repo_url: str | None,
    repo: Path | None,
    forge: str | None,
    api_url: str | None,
    dry_run: bool,
    output: str,
) -> None:
    """Open a pull request putting a service back to an earlier version."""
    from promoter.adapters.notify import Notifier
    from promoter.cli.proposals import describe_proposal
    from promoter.workflows.rollback import rollback
    from promoter.workflows.workspace import workspace

    url = _url(repo_url, repo)
    environ = dict(os.environ)
    rehearsal = Rehearsal() if dry_run else None
    notifier = Notifier.for_run(environ, url)
    with workspace(url, environ, rehearsal=rehearsal, notifier=notifier) as ws:
        host = forge_for(ws.config, forge, url, api_url, environ, rehearsal)
        result = rollback(ws, host, env, service, to_tag)
    emit_result(result.to_json(), lambda: describe_proposal(result), output, rehearsal)


@click.command("history")
@click.option(
    "--env", "env", required=True, help="Environment.", shell_complete=complete_environments
)
@click.option("--service", "service", help="Only this service.", shell_complete=complete_services)
@REPO_URL
@REPO_OPTION
@OUTPUT_OPTION
def history_cmd(
    env: str, service: str | None, repo_url: str | None, repo: Path, output: str
) -> None:
    """What was deployed when, by whom, from which pipeline (commit trailers)."""
    from promoter.workflows.history import local_history, remote_history
    from promoter.workflows.workspace import workspace

    if repo_url:
        with workspace(repo_url, dict(os.environ)) as ws:
            entries = remote_history(ws, env, service)
    else:
        entries = local_history(repo, env, service)
    if output == "json":
        emit_json([d.to_json() for d in entries])
    elif not entries:
        emit(f"no recorded deployments in {env}")
    else:
        for d in entries:
            source = f" from {d.source_env}" if d.source_env else ""
            pipeline = f"  {d.pipeline}" if d.pipeline else ""
            emit(
                f"{d.date}  {d.commit[:10]}  {d.service}  {d.from_ref or '(none)'} → {d.to_ref}"
                f"  {d.kind}{source}  by {d.author}{pipeline}"
            )
            if d.carried:
                emit(f"    carried {', '.join(d.carried)}")
