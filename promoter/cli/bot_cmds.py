"""bot (one forge event from a file) and serve (a webhook receiver)."""

from __future__ import annotations

import contextlib
import json
import logging
import os
import signal
import threading
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING

import click

from promoter.adapters.http.webhook_auth import DEFAULT_MAX_BODY
from promoter.cli.options import (
    API_URL_OPTION,
    DRY_RUN_OPTION,
    LOG_FORMAT_OPTION,
    OUTPUT_OPTION,
    forge_option,
)
from promoter.cli.output import configure_logging, emit, emit_json
from promoter.errors import InputError

if TYPE_CHECKING:
    from promoter.adapters.http.dashboard_app import DashboardApp
    from promoter.adapters.http.webhooks import WebhookServer
    from promoter.core.chatops.events import Event
    from promoter.workflows.bot import BotResult


log = logging.getLogger("promoter.bot.server")

ALLOW_TEAM = click.option(
    "--allow-team",
    "allow_teams",
    multiple=True,
    help="Members of this GitHub team (ORG/SLUG) or GitLab group (its path) may command "
    "too, without write access (repeatable).",
)


def _read_payload(path: Path) -> object:
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as err:
        raise InputError(f"cannot read the event file {path}: {err}") from err
    try:
        return json.loads(text)
    except ValueError as err:
        raise InputError(f"the event file {path} is not JSON: {err}") from err


def _show(result: BotResult, output: str) -> None:
    if output == "json":
        emit_json(result.to_json())
        return
    what = f" ({result.command})" if result.command else ""
    why = f": {result.reason}" if result.reason else ""
    emit(f"{result.event}: {result.outcome}{what}{why}")
    for action in result.actions:
        emit(f"  {action}")


@click.command("bot")
@click.option(
    "--event",
    "event_file",
    type=click.Path(dir_okay=False, path_type=Path),
    help="The webhook payload (default: $GITHUB_EVENT_PATH, as in GitHub Actions).",
)
@click.option(
    "--event-name",
    help="GitHub event name, e.g. issue_comment (default: $GITHUB_EVENT_NAME; else the "
    "payload's shape decides).",
)
@forge_option("Default: from the payload.", kinds=("github", "gitlab"))
@click.option("--repo-url", "repo_url", help="Clone URL (default: the one the payload names).")
@API_URL_OPTION
@ALLOW_TEAM
@DRY_RUN_OPTION
@OUTPUT_OPTION
def bot_cmd(
    event_file: Path | None,
    event_name: str | None,
    forge: str | None,
    repo_url: str | None,
    api_url: str | None,
    allow_teams: tuple[str, ...],
    dry_run: bool,
    output: str,
) -> None:
    """Act on one forge event: a `/promote`, `/rollback`, `/check` or `/diff`
    comment on a promoter pull request, or a pull request opened or pushed
    to (which runs the check). Exit 0 when handled or ignored."""
    from promoter.core.chatops.events import Ignored, parse_event
    from promoter.core.rehearsal import Rehearsal
    from promoter.workflows.bot import BotResult, run_event

    environ = dict(os.environ)
    default = environ.get("GITHUB_EVENT_PATH")
    path = event_file or (Path(default) if default else None)
    if path is None:
        raise InputError("no event to handle", hint="pass --event FILE (or set GITHUB_EVENT_PATH)")
    payload = _read_payload(path)
    parsed = parse_event(
        payload, forge=forge, event_name=event_name or environ.get("GITHUB_EVENT_NAME") or None
    )
    rehearsal = Rehearsal() if dry_run else None
    if isinstance(parsed, Ignored):
        result = BotResult("payload", "ignored", reason=parsed.reason)
    else:
        result = run_event(
            parsed,
            environ=environ,
            repo_url=repo_url,
            api_url=api_url,
            allow_teams=allow_teams,
            rehearsal=rehearsal,
        )
    if rehearsal is None:
        _show(result, output)
    elif output == "json":
        emit_json(rehearsal.to_json(result.to_json()))
    else:
        _show(result, output)
        emit(rehearsal.text())


@click.command("serve")
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option(
    "--port",
    type=click.IntRange(0, 65535),
    default=8080,
    show_default=True,
    help="Port to listen on (0: any free port; the log says which).",
)
@click.option(
    "--max-body",
    type=click.IntRange(1, 64 * 1024 * 1024),
    default=DEFAULT_MAX_BODY,
    show_default=True,
    help="Largest delivery accepted, in bytes (larger: 413, unread).",
)
@click.option(
    "--repo-url",
    "repo_urls",
    multiple=True,
    help="An environment repository this server acts on (repeatable; required): events "
    "for other repositories are ignored.",
)
@API_URL_OPTION
@ALLOW_TEAM
@LOG_FORMAT_OPTION
@click.option(
    "--dashboard",
    is_flag=True,
    help="Also serve `promoter dashboard`'s pages for the (one) --repo-url at /dashboard/.",
)
@click.option(
    "--dashboard-token-env",
    metavar="NAME",
    help="The dashboard's token (bearer, or basic-auth password), needed beyond loopback.",
)
def serve_cmd(
    host: str,
    port: int,
    max_body: int,
    repo_urls: tuple[str, ...],
    api_url: str | None,
    allow_teams: tuple[str, ...],
    log_format: str,
    dashboard: bool,
    dashboard_token_env: str | None,
) -> None:
    """Receive GitHub / GitLab webhooks on POST /webhook and act on them as
    `promoter bot` does. Secrets: PROMOTER_WEBHOOK_SECRET (GitHub),
    PROMOTER_GITLAB_WEBHOOK_TOKEN (GitLab)."""
    from promoter.adapters.http.webhook_auth import WebhookSettings, require_secret
    from promoter.adapters.http.webhooks import Worker, serve
    from promoter.adapters.notify import Notifier
    from promoter.workflows.bot import run_event, served_url

    environ = dict(os.environ)
    if not repo_urls:
        raise InputError(
            "name the environment repositories this server acts on",
            hint="pass --repo-url URL (repeatable); a delivery must not choose where "
            "promoter sends its tokens",
        )
    settings = WebhookSettings.from_environ(
        environ,
        max_body=max_body,
        accepts=lambda event: served_url(repo_urls, event) is not None,
    )
    require_secret(settings)  # before a thread is started or a port opened

    # One notifier for the server's life: a redelivered webhook is no news.
    notifier = Notifier.for_run(environ, None, long_running=True)

    def handle(event: Event) -> BotResult:
        url = served_url(repo_urls, event)
        return run_event(
            event,
            environ=environ,
            repo_url=url,
            api_url=api_url,
            allow_teams=allow_teams,
            notifier=replace(notifier, repo_url=url),
        )

    # Operators want to see deliveries and outcomes (never headers or secrets).
    configure_logging(log_format, logging.INFO)
    worker = Worker(handle)

    def ready(server: WebhookServer) -> None:
        # SIGTERM (how containers are stopped) ends the loop like Ctrl-C, and the
        # queued events are still handled; shutdown() must come from another thread.
        signal.signal(signal.SIGTERM, lambda *_: threading.Thread(target=server.shutdown).start())
        bound_host, bound_port = server.server_address[:2]
        log.info("listening on http://%s:%s/webhook", bound_host, bound_port)

    with contextlib.ExitStack() as stack:
        pages = (
            stack.enter_context(
                mounted_dashboard(repo_urls, host, dashboard_token_env, api_url, environ)
            )
            if dashboard
            else None
        )
        try:
            serve(host, port, settings, worker, ready=ready, dashboard=pages)
        finally:
            worker.close(timeout=30)


@contextlib.contextmanager
def mounted_dashboard(
    repo_urls: tuple[str, ...],
    host: str,
    token_env: str | None,
    api_url: str | None,
    environ: dict[str, str],
) -> Iterator[DashboardApp]:
    """The dashboard's WSGI app for serve's one repository, its refresher running."""
    from promoter.adapters.forges.remote import web_base
    from promoter.adapters.http.dashboard_app import DashboardApp, Links
    from promoter.cli.dashboard_cmd import loopback
    from promoter.cli.options import forge_for
    from promoter.workflows.dashboard import Refresher, one_forge, remote_reader

    if len(repo_urls) != 1:
        raise InputError(
            f"--dashboard shows one repository; serve has {len(repo_urls)} --repo-url",
            hint="run `promoter dashboard --repo-url URL` for each repository instead",
        )
    token = environ.get(token_env) if token_env else None
    if not loopback(host) and not token:
        raise InputError(
            f"--dashboard on {host}: beyond loopback the pages need --dashboard-token-env",
            hint="webhook receivers are public; the matrix must not be",
        )
    (url,) = repo_urls
    forge = one_forge(lambda config: forge_for(config, None, url, api_url, environ, None))
    with remote_reader(url, environ, forge=forge) as read:
        refresher = Refresher(read, 30.0)
        refresher.start()
        try:
            yield DashboardApp(
                refresher,
                token=token,
                links=Links(web_base(url), None),
                forge=True,
                prefix="/dashboard",
            )
        finally:
            refresher.stop.set()
