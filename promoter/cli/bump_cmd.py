"""bump: set the image on the remote, commit with trailers, push."""

from __future__ import annotations

import os
from typing import TYPE_CHECKING

import click

from promoter.cli.options import (
    API_URL_OPTION,
    DRY_RUN_OPTION,
    OUTPUT_OPTION,
    forge_for,
    forge_option,
    version_options,
)
from promoter.cli.output import changes_json, emit_result
from promoter.core.commit_messages import DEFAULT_MESSAGE
from promoter.core.rehearsal import Rehearsal

if TYPE_CHECKING:
    from promoter.core.config.model import Config
    from promoter.core.forge import Forge


MAX_MESSAGE = 1000
"""Characters of a commit subject (git takes more; no forge shows it)."""


def _message(value: str) -> str:
    if len(value) > MAX_MESSAGE:
        raise click.BadParameter(
            f"is {len(value):,} characters; a commit subject may have at most {MAX_MESSAGE:,}"
        )
    if "\x00" in value:
        raise click.BadParameter("contains a NUL character, which git cannot store")
    return value


@click.command("bump")
@version_options
@click.option("--repo-url", "repo_url", required=True, help="Environment repository to push to.")
@click.option("--branch", "branch", help="Branch to commit to (default: the environment's).")
@click.option(
    "--message",
    "message",
    default=DEFAULT_MESSAGE,
    show_default=True,
    callback=lambda ctx, param, value: _message(value),
    help="Commit subject; placeholders {service} {env} {tag} {digest} {version} {image} {old}.",
)
@click.option(
    "--retries",
    type=click.IntRange(0, 100),
    default=20,
    show_default=True,
    help="Re-apply and push again this often when the branch moved.",
)
@click.option("--latest", is_flag=True, help="Pick the newest matching tag from the registry.")
@click.option("--constraint", help="With --latest: a semver range, e.g. '^1.2' or '>=1.2 <2'.")
@click.option("--pattern", help="With --latest: only tags matching this regular expression.")
@click.option("--extract", help="With --pattern: what to order by, e.g. '$1' or '$ts'.")
@click.option(
    "--order",
    type=click.Choice(["semver", "numeric", "alpha"]),
    default="semver",
    show_default=True,
    help="With --latest: how tags (or extracted values) compare.",
)
@click.option(
    "--resolve-digest", is_flag=True, help="Pin the chosen tag's digest from the registry."
)
@forge_option("Code host for environments with `mode: pull-request` (default: detected).")
@API_URL_OPTION
@DRY_RUN_OPTION
@OUTPUT_OPTION
def bump_cmd(
    env: str,
    service: str | None,
    tag: str | None,
    digest: str | None,
    image: str | None,
    repo_url: str,
    branch: str | None,
    message: str,
    retries: int,
    latest: bool,
    constraint: str | None,
    pattern: str | None,
    extract: str | None,
    order: str,
    resolve_digest: bool,
    forge: str | None,
    api_url: str | None,
    dry_run: bool,
    output: str,
) -> None:
    """Clone only what is needed, set the image, commit with trailers, push;
    retries by re-applying the edit when the branch moved."""
    from promoter.adapters.notify import Notifier
    from promoter.cli.proposals import describe_proposal
    from promoter.workflows.bump import BumpRequest, TagQuery, bump

    query = TagQuery(latest, constraint, pattern, extract, order, resolve_digest)
    request = BumpRequest(
        env=env,
        repo_url=repo_url,
        service=service,
        tag=tag,
        digest=digest,
        image=image,
        branch=branch,
        message=message,
        retries=retries,
        query=query,
    )
    environ = dict(os.environ)
    rehearsal = Rehearsal() if dry_run else None

    def the_forge(config: Config) -> Forge:
        return forge_for(config, forge, repo_url, api_url, environ, rehearsal)

    notifier = Notifier.for_run(environ, repo_url)
    result = bump(request, environ, forge=the_forge, rehearsal=rehearsal, notifier=notifier)
    data = {
        "service": result.service,
        "env": result.env,
        "branch": result.branch,
        "commit": result.commit,
        "attempts": result.attempts,
        "changed": changes_json(result.changes),
        "pull_request": result.proposal.to_json() if result.proposal else None,
    }

    def text() -> str:
        if result.proposal is not None:
            return describe_proposal(result.proposal)
        if result.commit:
            new = result.changes[0].new if result.changes else ""
            return (
                f"pushed {result.commit[:12]} to {result.branch}: {result.service} → {new} "
                f"in {result.env} ({len(result.changes)} reference(s), "
                f"attempt {result.attempts})"
            )
        return f"{result.service} in {result.env} already runs that version; nothing to commit"

    emit_result(data, text, output, rehearsal)
