"""render: what the cluster will receive for an environment."""

from __future__ import annotations

import os
from pathlib import Path

import click

from promoter.cli.options import REPO_OPTION, complete_environments
from promoter.cli.output import emit, emit_json


@click.command("render")
@click.option(
    "--env",
    "env",
    required=True,
    help="Environment to render.",
    shell_complete=complete_environments,
)
@click.option(
    "--repo-url",
    "repo_url",
    help="Render the environment's branch of this remote instead of the working tree.",
)
@REPO_OPTION
@click.option(
    "--output",
    "-o",
    type=click.Choice(["yaml", "json"]),
    default="yaml",
    show_default=True,
    help="A YAML stream of the objects, or a JSON list.",
)
@click.option(
    "--show-secrets",
    is_flag=True,
    help="Print Secret values as they are; by default each reads `*****` (keys kept).",
)
def render_cmd(env: str, repo_url: str | None, repo: Path, output: str, show_secrets: bool) -> None:
    """Render an environment as the applier does — kustomize, Helm charts,
    Jsonnet, plain manifests — like `kustomize build` / `helm template`.
    Secret values are masked unless --show-secrets.
    Exit 8 when something does not render (with the renderer's message)."""
    from promoter.adapters.render.renderer import render_environment
    from promoter.core.objects import masked

    if repo_url:
        from promoter.workflows.workspace import workspace

        with workspace(repo_url, dict(os.environ)) as ws:
            environment = ws.config.environment(env)
            branch = ws.branch_of(environment)
            if branch != ws.repo.current_branch():
                ws.repo.fetch_reset(branch)
            ws.repo.run("sparse-checkout", "disable", timeout=600)  # charts need every file
            rendering = render_environment(ws.root, env)
    else:
        rendering = render_environment(repo, env)
    # What does not render to objects is said by the renderer's log line.
    bodies = [o.body if show_secrets else masked(o) for o in rendering.objects]
    if output == "json":
        emit_json(bodies)
    else:
        import yaml

        emit(yaml.safe_dump_all(bodies, sort_keys=False, default_flow_style=False).rstrip())
