"""`status`: the matrix of what runs where, read from a working tree or,
with `--repo-url`, from each environment's branch on the remote."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from promoter.adapters.carried import carried_fingerprint
from promoter.adapters.scratch import scratch_dir
from promoter.adapters.worktree import Deployed, read_deployed
from promoter.core.config.model import Config, Service

if TYPE_CHECKING:
    from promoter.workflows.workspace import ReadRef, Workspace


def status_matrix(root: Path, config: Config) -> dict[str, Any]:
    return _matrix(
        config,
        lambda env, service: read_deployed(root, config, env, service),
        lambda env, service: carried_fingerprint(config, service, env, root),
    )


def remote_status(ws: Workspace) -> tuple[dict[str, Any], list[ReadRef]]:
    """The matrix as the remote has it (each environment read from its own
    branch, freshly fetched), and where each environment was read."""
    # Only here: the local `status` must not pay for git and snapshots.
    from promoter.adapters.snapshots import from_ref
    from promoter.workflows.workspace import read_ref

    config = ws.config
    services = list(config.services)
    order = config.promotion_order()
    with scratch_dir("promoter-status-") as tmp:
        refs = [read_ref(ws, env) for env in order]
        snapshots = {
            env.name: from_ref(ws.repo, config, env, ref.commit, services, Path(tmp))
            for env, ref in zip(order, refs, strict=True)
        }
        # Read while the snapshots' files are still there.
        matrix = _matrix(
            config,
            lambda env, service: snapshots[env].deployed[service.name],
            lambda env, service: carried_fingerprint(
                config, service, env, snapshots[env].root or Path(tmp)
            ),
        )
    return matrix, refs


def _matrix(
    config: Config,
    deployed_in: Callable[[str, Service], Deployed],
    carried_in: Callable[[str, Service], str | None],
) -> dict[str, Any]:
    order = config.promotion_order()  # dev before staging before prod, as people read it
    services: dict[str, dict[str, Any]] = {}
    for service in config.services:
        row: dict[str, Any] = {}
        for env in order:
            deployed = deployed_in(env.name, service)
            image = deployed.image
            row[env.name] = {
                "image": str(image) if image else None,
                "tag": image.tag if image else None,
                "digest": image.digest if image else None,
                "files": list(deployed.files),
            }
            if deployed.conflicting:
                row[env.name]["conflicting"] = list(deployed.conflicting)
            carried = carried_in(env.name, service)
            if carried is not None:
                row[env.name]["carried"] = carried
        services[service.name] = row
    return {"environments": [e.name for e in order], "services": services}
