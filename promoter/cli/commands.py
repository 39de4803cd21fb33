"""config validate, set-image, status, bump."""

from __future__ import annotations

import difflib
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import click

from promoter.adapters.worktree import FileEdit, plan_set_image, write_edits
from promoter.cli.base import OUTPUT_OPTION, REPO_OPTION, emit, emit_json
from promoter.cli.proposals import describe_proposal, make_forge_for
from promoter.core.config.loader import load_config
from promoter.core.config.model import Config
from promoter.core.config.templates import branch_problem
from promoter.core.forge import Forge
from promoter.core.images import parse_reference, validate_digest, validate_tag
from promoter.core.service_choice import needed, resolve_service
from promoter.errors import InputError
from promoter.workflows.bump import DEFAULT_MESSAGE, BumpRequest, TagQuery, bump, check_template
from promoter.workflows.status import status_matrix, status_table

F = TypeVar("F", bound=Callable[..., Any])


def _version_options(f: F) -> F:
    for option in reversed(
        [
            click.option("--env", "env", required=True, help="Environment to change, e.g. dev."),
            click.option("--service", "service", help="Service name from promoter.yaml."),
            click.option("--tag", "tag", help="New image tag, e.g. 1.4.2."),
            click.option("--digest", "digest", help="Pin this digest too (sha256:…)."),
            click.option(
                "--image",
                "image",
                help="A whole reference (repo:tag[@digest]) instead of --service/--tag; "
                "the service is found by repository.",
            ),
        ]
    ):
        f = option(f)
    return f


@click.group("config")
def config_group() -> None:
    """Inspect promoter.yaml."""


@config_group.command("validate")
@REPO_OPTION
def validate_cmd(repo: Path) -> None:
    """Report every problem in promoter.yaml with file:line (exit 2 if any)."""
    config = load_config(repo)
    emit(
        f"{config.file}: OK ({len(config.environments)} environments, "
        f"{len(config.services)} services)"
    )


def _diff(edits: list[FileEdit]) -> str:
    out: list[str] = []
    for e in edits:
        out += difflib.unified_diff(
            e.old_text.splitlines(keepends=True),
            e.new_text.splitlines(keepends=True),
            fromfile=f"a/{e.path}",
            tofile=f"b/{e.path}",
        )
    return "".join(line if line.endswith(("\n", "\r")) else line + "\n" for line in out)


def _changes_json(edits: list[FileEdit]) -> list[dict[str, object]]:
    return [
        {"file": c.file, "line": c.line, "old": c.old, "new": c.new}
        for e in edits
        for c in e.changes
    ]


@click.command("set-image")
@_version_options
@REPO_OPTION
@click.option("--dry-run", is_flag=True, help="Show the change; write nothing.")
@OUTPUT_OPTION
def set_image_cmd(
    env: str,
    service: str | None,
    tag: str | None,
    digest: str | None,
    image: str | None,
    repo: Path,
    dry_run: bool,
    output: str,
) -> None:
    """Point a service's image in one environment at a new tag/digest, in the
    working tree (formatting untouched). Already there: no-op, exit 0."""
    services, images = needed(service, image)
    config = load_config(repo, services=services, images=images)
    environment = config.environment(env)
    chosen, new_tag, new_digest = resolve_service(config, service, tag, digest, image)
    edits = plan_set_image(repo, config, environment.name, chosen, new_tag, new_digest)
    if edits and not dry_run:
        write_edits(repo, edits)
    if output == "json":
        emit_json({"changed": _changes_json(edits), "dry_run": dry_run})
    elif edits:
        click.echo(_diff(edits), nl=False)
    else:
        emit(f"{chosen.name} in {environment.name} already runs that version; nothing to change")


@click.command("status")
@REPO_OPTION
@OUTPUT_OPTION
def status_cmd(repo: Path, output: str) -> None:
    """What runs where: services × environments, read from the working tree."""
    config = load_config(repo)
    matrix = status_matrix(repo, config)
    if output == "json":
        emit_json(matrix)
    else:
        emit(status_table(matrix))


@click.command("bump")
@_version_options
@click.option("--repo-url", "repo_url", required=True, help="Environment repository to push to.")
@click.option("--branch", "branch", help="Branch to commit to (default: the environment's).")
@click.option(
    "--message",
    "message",
    default=DEFAULT_MESSAGE,
    show_default=True,
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
@click.option(
    "--forge",
    type=click.Choice(["github", "gitlab", "none"]),
    help="Code host for environments with `mode: pull-request` (default: detected).",
)
@click.option("--api-url", help="API base URL (GitHub Enterprise, self-managed GitLab).")
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
    output: str,
) -> None:
    """Clone only what is needed, set the image, commit with trailers, push;
    retries by re-applying the edit when the branch moved."""
    # Check what can be checked before touching the network.
    if tag is not None:
        validate_tag(tag)
    if digest is not None:
        validate_digest(digest)
    if image is not None:
        parse_reference(image)
    if branch is not None:
        problem = branch_problem(branch) if "{" not in branch else f"{branch!r} has a placeholder"
        if problem:
            raise InputError(f"--branch: {problem}", hint="give a plain branch name, e.g. main")
    check_template(message)
    query = TagQuery(latest, constraint, pattern, extract, order, resolve_digest)
    if latest and (tag or image):
        raise InputError("--latest picks the tag: give --service without --tag/--image")
    query.check()
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

    def forge_for(config: Config) -> Forge:
        return make_forge_for(config, forge, repo_url, api_url, environ)

    result = bump(request, environ, forge=forge_for)
    if output == "json":
        emit_json(
            {
                "service": result.service,
                "env": result.env,
                "branch": result.branch,
                "commit": result.commit,
                "attempts": result.attempts,
                "changed": [
                    {"file": c.file, "line": c.line, "old": c.old, "new": c.new}
                    for c in result.changes
                ],
                "pull_request": result.proposal.to_json() if result.proposal else None,
            }
        )
    elif result.proposal is not None:
        emit(describe_proposal(result.proposal))
    elif result.commit:
        new = result.changes[0].new if result.changes else ""
        emit(
            f"pushed {result.commit[:12]} to {result.branch}: {result.service} → {new} "
            f"in {result.env} ({len(result.changes)} reference(s), attempt {result.attempts})"
        )
    else:
        emit(f"{result.service} in {result.env} already runs that version; nothing to commit")
