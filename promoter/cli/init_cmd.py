"""init: guess a promoter.yaml from an existing environment repository."""

from __future__ import annotations

from pathlib import Path

import click

from promoter.cli.output import emit, emit_json


@click.command("init")
@click.option(
    "--repo",
    "repo",
    type=click.Path(file_okay=False, exists=True, path_type=Path),
    default=Path("."),
    show_default=True,
    help="The environment repository to survey (its root).",
)
@click.option("--force", is_flag=True, help="Replace an existing promoter.yaml.")
@click.option("--dry-run", is_flag=True, help="Print the guessed promoter.yaml; write nothing.")
@click.option(
    "--output",
    "-o",
    type=click.Choice(["text", "json"]),
    default="text",
    show_default=True,
    help="Output format (json: the guess and the file's text).",
)
def init_cmd(repo: Path, force: bool, dry_run: bool, output: str) -> None:
    """Survey the repository's kustomizations, manifests, Helm values,
    HelmReleases and compose files; guess the environments, services and
    their paths; write a commented promoter.yaml and say what was guessed."""
    from promoter.workflows.init import survey, write_config

    result = survey(repo)
    g = result.guess
    written = None if dry_run else write_config(repo, result.text, force=force)
    if output == "json":
        emit_json(
            {
                "environments": [{"name": e, "from": f} for e, f in g.environments],
                "default_path": g.default_path,
                "services": [
                    {"name": s.name, "image": s.image, "path": s.path, "paths": s.paths}
                    for s in g.services
                ],
                "unplaced": g.unplaced,
                "problems": [str(p) for p in result.problems],
                "written": str(written) if written else None,
                "text": result.text,
            }
        )
        return
    if dry_run:
        emit(result.text.rstrip())
    emit(f"read {result.files} YAML/JSON file(s); guessed:", err=dry_run)
    for line in _summary(result):
        emit(f"  {line}", err=dry_run)
    if written:
        emit(f"wrote {written}; check it with: promoter config validate", err=dry_run)


def _summary(result: object) -> list[str]:
    from promoter.workflows.init import Survey

    assert isinstance(result, Survey)
    g = result.guess
    # Environments promoted from the same one form one step: `prod-eu, prod-us`.
    steps: list[tuple[list[str], list[str]]] = []
    for env, sources in g.environments:
        if steps and steps[-1][1] == sources:
            steps[-1][0].append(env)
        else:
            steps.append(([env], sources))
    order = [names for names, _ in steps]
    lines = ["environments: " + " → ".join(", ".join(step) for step in order)]
    if g.default_path:
        lines.append(f"default path: {g.default_path}")
    for s in g.services:
        where = s.path or g.default_path or "?"
        extra = "".join(f"; {e}: {p}" for e, p in sorted(s.paths.items()))
        lines.append(f"service {s.name}: {s.image} at {where}{extra}")
    lines += [f"not in any environment: {u}" for u in g.unplaced]
    lines += [f"to review: {p}" for p in result.problems]
    return lines
