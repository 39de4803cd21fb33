"""Options several commands share, written once."""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar, cast

import click

if TYPE_CHECKING:
    from promoter.core.config.model import Config
    from promoter.core.forge import Forge
    from promoter.core.rehearsal import Rehearsal

F = TypeVar("F", bound=Callable[..., Any])


def _names(ctx: click.Context, incomplete: str, kind: str) -> list[str]:
    """Environment or service names from promoter.yaml (of --repo, else the
    current directory upwards), for TAB; nothing when it cannot be read."""
    from promoter.core.config.loader import find_config_root, load_config
    from promoter.errors import PromoterError

    repo = ctx.params.get("repo") or "."
    try:
        config = load_config(find_config_root(repo))
    except (PromoterError, OSError):
        return []
    found = config.environments if kind == "environment" else config.services
    return [item.name for item in found if item.name.startswith(incomplete)]


def complete_environments(ctx: click.Context, param: click.Parameter, incomplete: str) -> list[str]:
    return _names(ctx, incomplete, "environment")


def complete_services(ctx: click.Context, param: click.Parameter, incomplete: str) -> list[str]:
    return _names(ctx, incomplete, "service")


OUTPUT_OPTION = click.option(
    "--output",
    "-o",
    type=click.Choice(["text", "json"]),
    default="text",
    show_default=True,
    help="Output format.",
)


def _config_root(ctx: click.Context, param: click.Parameter, value: Path) -> Path:
    from promoter.core.config.loader import find_config_root

    return Path(find_config_root(value))


REPO_OPTION = click.option(
    "--repo",
    "repo",
    type=click.Path(file_okay=False, path_type=Path),
    default=Path("."),
    show_default=True,
    callback=_config_root,
    help="Working tree (a clone) of the environment repository; promoter.yaml is "
    "looked for there, then in its parents up to the git root.",
)

DRY_RUN_OPTION = click.option(
    "--dry-run",
    is_flag=True,
    help="Do everything but write: print what would be pushed, opened, commented or set. "
    "Git and the forge are still read; pushes are checked with `git push --dry-run`.",
)

LOG_FORMAT_OPTION = click.option(
    "--log-format",
    type=click.Choice(["text", "json"]),
    default="text",
    show_default=True,
    help="Log lines as text or as one JSON object per line.",
)

KUBECONFIG_OPTION = click.option(
    "--kubeconfig",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Kubeconfig for reading Argo CD / Flux objects (default: $KUBECONFIG, "
    "~/.kube/config, or in-cluster).",
)
CONTEXT_OPTION = click.option("--context", help="Kubeconfig context (default: the current one).")

API_URL_OPTION = click.option(
    "--api-url", help="API base URL (GitHub Enterprise, self-managed GitLab)."
)


def forge_option(
    help_text: str, kinds: tuple[str, ...] = ("github", "gitlab", "none")
) -> Callable[[F], F]:
    """`--forge`: which code host's API to use."""
    return click.option("--forge", type=click.Choice(list(kinds)), help=help_text)


def version_options(f: F) -> F:
    """--env, --service, --tag, --digest, --image, --chart-version: which version goes where."""

    @functools.wraps(f)
    def folded(*args: Any, chart_version: str | None = None, **kwargs: Any) -> Any:
        # A chart's version is the reference's tag (a chart service's "image" is its chart).
        if chart_version is not None:
            if kwargs.get("tag") or kwargs.get("digest") or kwargs.get("image"):
                raise click.UsageError(
                    "--chart-version is a chart service's whole version: drop --tag, "
                    "--digest and --image"
                )
            kwargs["tag"] = chart_version
        return f(*args, **kwargs)

    command: Any = folded
    for option in reversed(
        [
            click.option(
                "--env",
                "env",
                required=True,
                help="Environment to change, e.g. dev.",
                shell_complete=complete_environments,
            ),
            click.option(
                "--service",
                "service",
                help="Service name from promoter.yaml.",
                shell_complete=complete_services,
            ),
            click.option("--tag", "tag", help="New image tag, e.g. 1.4.2."),
            click.option("--digest", "digest", help="Pin this digest too (sha256:…)."),
            click.option(
                "--image",
                "image",
                help="A whole reference (repo:tag[@digest]) instead of --service/--tag; "
                "the service is found by repository.",
            ),
            click.option(
                "--chart-version",
                "chart_version",
                metavar="VERSION",
                help="For a service with `chart:`: the chart version to pin, e.g. 6.5.1.",
            ),
        ]
    ):
        command = option(command)
    return cast(F, command)


def forge_for(
    config: Config,
    forge: str | None,
    url: str,
    api_url: str | None,
    environ: Mapping[str, str],
    rehearsal: Rehearsal | None,
) -> Forge:
    """The repository's forge; under --dry-run one that reads the real forge
    and only notes its writes."""
    from promoter.adapters.forges import make_forge_for

    host = make_forge_for(config, forge, url, api_url, dict(environ))
    if rehearsal is None:
        return host
    from promoter.adapters.forges.rehearsal import RehearsalForge

    return RehearsalForge(host, rehearsal)


def _verbosity(ctx: click.Context, param: click.Parameter, value: int) -> None:
    if value:
        import logging

        from promoter.cli.output import configure_verbose

        configure_verbose(logging.INFO if value == 1 else logging.DEBUG)


def _no_color(ctx: click.Context, param: click.Parameter, value: bool) -> None:
    if value:
        ctx.color = ctx.find_root().color = False


def common_options() -> list[click.Parameter]:
    """`-v` and `--no-color`, on the group and on every command (both
    `promoter -v bump` and `promoter bump -v` work)."""
    return [
        click.Option(
            ["-v", "--verbose"],
            count=True,
            expose_value=False,
            is_eager=True,
            callback=_verbosity,
            help="Say what promoter is doing (git commands, API requests) on stderr; -vv for more.",
        ),
        click.Option(
            ["--no-color"],
            is_flag=True,
            expose_value=False,
            is_eager=True,
            callback=_no_color,
            help="No colour (also when NO_COLOR is set or output is not a terminal).",
        ),
    ]
