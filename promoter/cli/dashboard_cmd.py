"""dashboard: a read-only web view of what runs where, what waits, what drifted."""

from __future__ import annotations

import contextlib
import ipaddress
import os
import signal
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import click

from promoter.cli.options import (
    API_URL_OPTION,
    CONTEXT_OPTION,
    KUBECONFIG_OPTION,
    REPO_OPTION,
    forge_for,
    forge_option,
)
from promoter.cli.output import emit
from promoter.errors import InputError

if TYPE_CHECKING:
    from promoter.workflows.dashboard import Reader


def listen_address(text: str) -> tuple[str, int]:
    host, sep, port = text.rpartition(":")
    if not sep or not port.isdigit() or not 0 <= int(port) < 65536:  # 0: any free port
        raise InputError(f"--listen {text!r} is not HOST:PORT", hint="e.g. --listen 127.0.0.1:8080")
    return host.strip("[]") or "127.0.0.1", int(port)


def loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


@click.command("dashboard")
@REPO_OPTION
@click.option("--repo-url", "repo_url", help="Show this remote (a clone kept while it runs).")
@click.option(
    "--listen", default="127.0.0.1:8080", show_default=True, help="HOST:PORT to serve on."
)
@click.option(
    "--refresh",
    default=10.0,
    show_default=True,
    type=click.FloatRange(min=0.5),
    help="Seconds between reads of the repository.",
)
@click.option(
    "--token-env",
    metavar="NAME",
    help="Require this environment variable's value as a bearer token or basic-auth "
    "password (needed to listen beyond loopback).",
)
@click.option(
    "--applier",
    "show_applier",
    is_flag=True,
    help="Also show what Argo CD / Flux report (promoter.yaml's `applier:`).",
)
@click.option(
    "--agent",
    "agents",
    multiple=True,
    metavar="ENV=URL",
    help="The bundled agent's status endpoint for ENV (http://host:9090), repeatable; "
    "without it the `promoter/apply` status of ENV's newest commit is shown.",
)
@KUBECONFIG_OPTION
@CONTEXT_OPTION
@forge_option("List open promotion PRs/MRs from this code host (default: promoter.yaml's forge).")
@API_URL_OPTION
def dashboard_cmd(
    repo: Path,
    repo_url: str | None,
    listen: str,
    refresh: float,
    token_env: str | None,
    show_applier: bool,
    agents: tuple[str, ...],
    kubeconfig: Path | None,
    context: str | None,
    forge: str | None,
    api_url: str | None,
) -> None:
    """Serve a read-only dashboard: the environment matrix, open promotions
    with their policy results, the appliers, history and delivery figures.
    Git stays the only write path: actions are links to the forge."""
    import waitress

    from promoter.adapters.forges.remote import web_base
    from promoter.adapters.http.dashboard_app import DashboardApp, Links
    from promoter.core.config.loader import load_config
    from promoter.workflows.controller_facts import kube_reader
    from promoter.workflows.dashboard import Refresher, local_reader, one_forge, remote_reader
    from promoter.workflows.workspace import origin_url

    host, port = listen_address(listen)
    endpoints = dict(_agent(a) for a in agents)
    token = os.environ.get(token_env) if token_env else None
    if token_env and not token:
        raise InputError(
            f"${token_env} is empty or not set", hint="export the token, or drop --token-env"
        )
    if not loopback(host) and token is None:
        raise InputError(
            f"--listen {listen}: beyond loopback the dashboard needs --token-env",
            hint="anyone who can reach it would see every environment; set a token",
        )
    environ = dict(os.environ)
    url = repo_url or _origin(repo, origin_url)
    config = load_config(repo) if repo_url is None else None
    kind = forge or (config.forge.type if config and config.forge else None)
    wants_forge = kind in ("github", "gitlab") and url is not None
    hosting = (
        one_forge(lambda cfg: forge_for(cfg, forge, url or "", api_url, environ, None))
        if wants_forge
        else None
    )
    readers = (lambda: kube_reader(kubeconfig, context)) if show_applier else None
    with contextlib.ExitStack() as stack:
        read: Reader = (
            stack.enter_context(
                remote_reader(repo_url, environ, readers=readers, forge=hosting, agents=endpoints)
            )
            if repo_url
            else local_reader(repo, readers=readers, forge=hosting, agents=endpoints)
        )
        refresher = Refresher(read, refresh)
        refresher.start()
        links = Links(web_base(url) if url else None, kind)
        app = DashboardApp(refresher, token=token, links=links, forge=wants_forge)
        server = waitress.create_server(
            app, host=host, port=port, threads=8, channel_timeout=30, ident="promoter"
        )
        emit(
            f"dashboard on http://{host}:{server.effective_port}/ ({refresher.snapshot.source})",
            err=True,
        )
        with _stopping():
            server.run()
        refresher.stop.set()


def _agent(text: str) -> tuple[str, str]:
    env, sep, url = text.partition("=")
    if not sep or not env or not url.startswith(("http://", "https://")):
        raise InputError(
            f"--agent {text!r} is not ENV=URL", hint="e.g. --agent prod=http://agent:9090"
        )
    return env, url


def _origin(repo: Path, origin_url: object) -> str | None:
    from promoter.errors import PromoterError

    try:
        return origin_url(repo)  # type: ignore[operator,no-any-return]
    except PromoterError:
        return None  # a working tree without a remote: no forge links


@contextlib.contextmanager
def _stopping() -> Iterator[None]:
    """SIGTERM (a pod being stopped) ends the server loop as Ctrl-C does:
    waitress's loop returns on KeyboardInterrupt, and the command exits 0."""

    def stop(signum: int, frame: object) -> None:
        raise KeyboardInterrupt

    previous = signal.signal(signal.SIGTERM, stop)
    try:
        yield
    except KeyboardInterrupt:
        pass
    finally:
        signal.signal(signal.SIGTERM, previous)
