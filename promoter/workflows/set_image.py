"""`set-image`: point one service's image in one environment of a working
tree at a new tag/digest, formatting untouched; nothing written on a dry run
or when it already runs that version."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from promoter.adapters.worktree import FileEdit, plan_set_image, write_edits
from promoter.core.config.loader import load_config
from promoter.core.service_choice import needed, resolve_service


@dataclass(frozen=True)
class SetImageResult:
    service: str
    env: str
    edits: list[FileEdit]
    """Empty when the environment already runs that version."""


def set_image(
    repo: Path,
    env: str,
    *,
    service: str | None,
    tag: str | None,
    digest: str | None,
    image: str | None,
    dry_run: bool,
) -> SetImageResult:
    services, images = needed(service, image)
    config = load_config(repo, services=services, images=images)
    environment = config.environment(env)
    chosen, new_tag, new_digest = resolve_service(config, service, tag, digest, image)
    edits = plan_set_image(repo, config, environment.name, chosen, new_tag, new_digest)
    if edits and not dry_run:
        write_edits(repo, edits)
    return SetImageResult(chosen.name, environment.name, edits)
