"""`status`: the matrix of what runs where, read from the working tree."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from promoter.adapters.worktree import read_deployed
from promoter.core.config.model import Config


def status_matrix(root: Path, config: Config) -> dict[str, Any]:
    order = config.promotion_order()  # dev before staging before prod, as people read it
    services: dict[str, dict[str, Any]] = {}
    for service in config.services:
        row: dict[str, Any] = {}
        for env in order:
            deployed = read_deployed(root, config, env.name, service)
            image = deployed.image
            row[env.name] = {
                "image": str(image) if image else None,
                "tag": image.tag if image else None,
                "digest": image.digest if image else None,
                "files": list(deployed.files),
            }
            if deployed.conflicting:
                row[env.name]["conflicting"] = list(deployed.conflicting)
        services[service.name] = row
    return {"environments": [e.name for e in order], "services": services}


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
