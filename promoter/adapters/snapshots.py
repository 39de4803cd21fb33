"""Read what each environment runs from git refs (not only the working
tree), so folder-per-env and branch-per-env layouts plan the same way."""

from __future__ import annotations

import hashlib
import io
import tarfile
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from promoter.adapters.git import GitRepo
from promoter.adapters.worktree import Deployed, read_deployed
from promoter.core.config.model import Config, Environment, Service
from promoter.core.trailers import Deployment, deployments
from promoter.errors import InputError


@dataclass(frozen=True)
class Snapshot:
    env: str
    ref: str | None
    """The git ref it was read from; None for the working tree."""
    deployed: dict[str, Deployed]


def env_paths(config: Config, env: str, services: Iterable[Service]) -> list[str]:
    out = []
    for service in services:
        try:
            out.append(config.path_for(service, env))
        except InputError:
            continue  # no path for this env: the service is not deployed there
    return sorted(set(out))


def from_ref(
    repo: GitRepo,
    config: Config,
    env: Environment,
    ref: str,
    services: list[Service],
    scratch: Path,
) -> Snapshot:
    """Extract the env's paths at `ref` into `scratch` and read them."""
    root = scratch / f"{env.name}-{hashlib.sha1(ref.encode()).hexdigest()[:8]}"
    root.mkdir(parents=True, exist_ok=True)
    data = repo.archive(ref, env_paths(config, env.name, services))
    if data:
        with tarfile.open(fileobj=io.BytesIO(data)) as tar:
            tar.extractall(root, filter="data")  # refuses links and paths leaving root
    return Snapshot(
        env.name, ref, {s.name: read_deployed(root, config, env.name, s) for s in services}
    )


def from_tree(root: Path, config: Config, env: Environment, services: list[Service]) -> Snapshot:
    return Snapshot(
        env.name, None, {s.name: read_deployed(root, config, env.name, s) for s in services}
    )


def history(
    repo: GitRepo, config: Config, env: str, ref: str, services: list[Service]
) -> list[Deployment]:
    """Deployments recorded for `env` on `ref`, newest first."""
    paths = env_paths(config, env, services) or None
    names = {s.name for s in services}
    out = []
    for sha, date, author, message in repo.log(ref, paths):
        out += [
            d
            for d in deployments(sha, date, author, message)
            if d.env == env and d.service in names
        ]
    return out
