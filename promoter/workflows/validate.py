"""`config validate`, past the file itself: every service's path exists in
every environment and holds a reference to the service's image, so a
mistyped path or image fails here and not in the first bump."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from promoter.adapters.worktree import read_deployed
from promoter.core.config.model import Config
from promoter.errors import InputError, Problem, PromoterError


@dataclass
class Layout:
    checked: int = 0
    """service × environment pairs whose path was read."""
    problems: list[Problem] = field(default_factory=list)
    elsewhere: list[str] = field(default_factory=list)
    """Environments kept on another branch: not in this working tree."""


def check_layout(root: Path, config: Config, current_branch: str | None) -> Layout:
    """`current_branch`: the working tree's (None: not a git checkout, every
    environment is read from the tree)."""
    result = Layout()
    for env in config.promotion_order():
        branch = config.branch_for(env)
        if current_branch is not None and branch is not None and branch != current_branch:
            # Its files live on that branch, not in this working tree.
            result.elsewhere.append(f"{env.name} (branch {branch})")
            continue
        for service in config.services:
            try:
                rel = config.path_for(service, env.name)
            except InputError:
                continue  # the service is not deployed there
            where = f"service {service.name!r} in environment {env.name!r}"
            line = service.line or None
            if not (root / rel).exists():
                result.problems.append(
                    Problem(config.file, line, f"{where}: path {rel} does not exist")
                )
                continue
            result.checked += 1
            try:
                deployed = read_deployed(root, config, env.name, service)
            except PromoterError as err:
                result.problems.append(Problem(config.file, line, f"{where}: {err.message}"))
                continue
            if deployed.image is None:
                result.problems.append(
                    Problem(
                        config.file,
                        line,
                        f"{where}: {rel} has no reference to image {service.image}",
                    )
                )
    return result
