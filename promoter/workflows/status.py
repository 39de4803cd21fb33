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
