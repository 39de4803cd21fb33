"""status: what runs where."""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from promoter.cli.options import CONTEXT_OPTION, KUBECONFIG_OPTION, OUTPUT_OPTION, REPO_OPTION
from promoter.cli.output import emit, emit_json
from promoter.core.masking import strip_credentials

if TYPE_CHECKING:
    from promoter.core.config.model import Config


@click.command("status")
@click.option(
    "--repo-url",
    "repo_url",
    help="Read each environment's branch from this remote instead of the working tree.",
)
@REPO_OPTION
@click.option(
    "--applier",
    "show_applier",
    is_flag=True,
    help="Also ask each environment's Argo CD / Flux objects (`applier:` in promoter.yaml) "
    "what they run and whether it is healthy.",
)
@KUBECONFIG_OPTION
@CONTEXT_OPTION
@OUTPUT_OPTION
def status_cmd(
    repo_url: str | None,
    repo: Path,
    show_applier: bool,
    kubeconfig: Path | None,
    context: str | None,
    output: str,
) -> None:
    """What runs where: services × environments, read from the working tree
    (or, with --repo-url, from the remote's branches); with --applier, what
    Argo CD or Flux report for each environment they apply."""
    if repo_url:
        from promoter.workflows.status import remote_status
        from promoter.workflows.workspace import workspace

        with workspace(repo_url, dict(os.environ)) as ws:
            matrix, refs = remote_status(ws)
            config = ws.config
        shown = strip_credentials(repo_url)[0]
        emit(f"read {', '.join(r.text() for r in refs)} ({shown})", err=True)
    else:
        from promoter.core.config.loader import load_config
        from promoter.workflows.status import status_matrix

        config = load_config(repo)
        matrix = status_matrix(repo, config)
    if show_applier:
        matrix["appliers"] = _appliers(config, kubeconfig, context)
    if output == "json":
        emit_json(matrix)
    else:
        emit(status_table(matrix) + _applier_table(matrix.get("appliers")))


def _appliers(
    config: Config, kubeconfig: Path | None, context: str | None
) -> dict[str, list[dict[str, Any]]]:
    from promoter.workflows.controller_facts import applier_states, kube_reader

    return {
        env.name: [
            s.to_json() for s in applier_states(lambda: kube_reader(kubeconfig, context), env)
        ]
        for env in config.promotion_order()
        if env.applier is not None
    }


def _applier_table(appliers: dict[str, list[dict[str, Any]]] | None) -> str:
    if appliers is None:
        return ""
    if not appliers:
        return "\n\nno environment names an `applier:` (promoter's agent applies them all)"
    rows = [["ENV", "APPLIER", "STATE", "REVISION", "SAYS"]]
    for env, states in appliers.items():
        for state in states:
            rev = (state["revision"] or "-")[:12]
            rows.append([env, state["name"], state["verdict"], rev, state["summary"]])
    widths = [max(len(r[i]) for r in rows) for i in range(4)]
    lines = [
        "  ".join([*(c.ljust(w) for c, w in zip(r[:4], widths, strict=True)), r[4]]) for r in rows
    ]
    return "\n\n" + "\n".join(line.rstrip() for line in lines)


def _cell(entry: dict[str, Any]) -> str:
    if entry["image"] is None:
        return "-"
    tag = entry["tag"] or ""
    digest = entry["digest"]
    text = f"{tag}@{digest[:19]}…" if digest else tag
    return text + (" (!)" if entry.get("conflicting") else "")


def status_table(matrix: dict[str, Any]) -> str:
    envs: list[str] = matrix["environments"]
    rows = [["SERVICE", *[e.upper() for e in envs]]]
    for name, row in matrix["services"].items():
        rows.append([name, *[_cell(row[e]) for e in envs]])
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    lines = ["  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)).rstrip() for r in rows]
    if any(e.get("conflicting") for row in matrix["services"].values() for e in row.values()):
        lines.append("(!) files disagree; see --output json for every reference")
    return "\n".join(lines)
