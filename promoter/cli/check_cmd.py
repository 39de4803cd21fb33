"""check: evaluate an environment's policies for a promotion (locally) or a PR."""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING

import click

from promoter.cli.options import (
    API_URL_OPTION,
    CONTEXT_OPTION,
    DRY_RUN_OPTION,
    KUBECONFIG_OPTION,
    OUTPUT_OPTION,
    REPO_OPTION,
    complete_environments,
    forge_for,
    forge_option,
)
from promoter.cli.output import emit, emit_result, verdict_colored
from promoter.core.rehearsal import Rehearsal
from promoter.errors import ExitCode, InputError

if TYPE_CHECKING:
    from promoter.core.plans import PlanItem
    from promoter.core.policy.engine import Report


@click.command("check")
@click.option("--pr", "pr", type=int, help="Check this pull/merge request (number).")
@click.option(
    "--from",
    "source",
    help="Local check: source environment.",
    shell_complete=complete_environments,
)
@click.option(
    "--to",
    "target",
    help="Local check: target environment.",
    shell_complete=complete_environments,
)
@click.option(
    "--require-approvals",
    is_flag=True,
    help="Local check: fail the approvals rule (there is no PR to read) instead of "
    "reporting it as not evaluated.",
)
@click.option("--repo-url", "repo_url", help="Environment repository URL (with --pr).")
@REPO_OPTION
@forge_option("Code host.")
@API_URL_OPTION
@KUBECONFIG_OPTION
@CONTEXT_OPTION
@DRY_RUN_OPTION
@OUTPUT_OPTION
def check_cmd(
    pr: int | None,
    source: str | None,
    target: str | None,
    require_approvals: bool,
    repo_url: str | None,
    repo: Path,
    forge: str | None,
    api_url: str | None,
    kubeconfig: Path | None,
    context: str | None,
    dry_run: bool,
    output: str,
) -> None:
    """Evaluate the target environment's policies. With --pr: set the
    `promoter/policy` status on the PR's head and update its sticky comment.
    Exit 1 when a rule fails (or could not be checked)."""
    from promoter.adapters.notify import Notifier
    from promoter.core.policy.report import text as report_text
    from promoter.workflows.check import check_local, check_pr, registry_client
    from promoter.workflows.controller_facts import kube_reader
    from promoter.workflows.workspace import origin_url, workspace

    environ = dict(os.environ)
    rehearsal = Rehearsal() if dry_run else None
    if dry_run and pr is None:
        raise InputError("--dry-run is for --pr: a local check (--from/--to) writes nothing anyway")
    if pr is not None:
        if source or target:
            raise InputError("--pr reads source and target from the PR; drop --from/--to")
        if require_approvals:
            raise InputError(
                "--require-approvals is for a local check; with --pr the PR's approvals "
                "are always counted"
            )
        url = repo_url or origin_url(repo)
        notifier = Notifier.for_run(environ, url)
        with workspace(url, environ, rehearsal=rehearsal, notifier=notifier) as ws:
            host = forge_for(ws.config, forge, url, api_url, environ, rehearsal)
            result = check_pr(
                ws, host, pr, registry=registry_client,
                controllers=lambda: kube_reader(kubeconfig, context),
            )  # fmt: skip
        report, items = result.checked.report, result.checked.items
        extra = {"pull_request": pr, "state": result.state}
    else:
        if not (source and target):
            raise InputError("give --pr N, or --from A --to B for a local check")
        checked = check_local(
            repo, source, target, registry=registry_client, require_approvals=require_approvals,
            controllers=lambda: kube_reader(kubeconfig, context),
        )  # fmt: skip
        report, items, extra = checked.report, checked.items, {}
        if not report.passed:
            _tell_failed(repo, environ, report, items)
    data = {**report.to_json(), **extra, "items": [i.to_json() for i in items]}
    shown = verdict_colored(report_text(report).rstrip())
    if rehearsal is not None and output == "text":
        emit(shown)
    emit_result(data, lambda: shown, output, rehearsal)
    if not report.passed:
        raise click.exceptions.Exit(int(ExitCode.CHECK_FAILED))


def _tell_failed(
    repo: Path, environ: dict[str, str], report: Report, items: list[PlanItem]
) -> None:
    """check.failed for a local check: the repository's own targets."""
    from promoter.adapters.notify import Notifier
    from promoter.core.config.loader import load_config
    from promoter.core.notify.notices import check_failed
    from promoter.workflows.workspace import origin_url

    config = load_config(repo)
    if not config.notifications:
        return
    try:
        url: str | None = origin_url(repo)
    except InputError:
        url = None  # a directory without a remote: no commit links
    Notifier.for_run(environ, url).tell(config, lambda o: [check_failed(o, report, items)])
