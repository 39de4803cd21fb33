"""Read what each environment runs from git refs (not only the working
tree), so folder-per-env and branch-per-env layouts plan the same way."""

from __future__ import annotations

import hashlib
import io
import os
import tarfile
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from promoter.adapters.git import GitRepo
from promoter.adapters.worktree import Deployed, read_deployed
from promoter.core.carry import carried_path
from promoter.core.config.model import Config, Environment, Service
from promoter.core.trailers import Deployment, deployments
from promoter.errors import InputError


@dataclass(frozen=True)
class Snapshot:
    env: str
    ref: str | None
    """The git ref it was read from; None for the working tree."""
    deployed: dict[str, Deployed]
    root: Path | None = None
    """Where its files can be read (extracted, or the working tree)."""


def env_paths(config: Config, env: str, services: Iterable[Service]) -> list[str]:
    """The services' paths in `env`, and the files their `promote:` carries."""
    out = []
    for service in services:
        try:
            path = config.path_for(service, env)
        except InputError:
            continue  # no path for this env: the service is not deployed there
        out.append(path)
        out += carried_files(config, service, path)
    return sorted(set(out))


def carried_files(config: Config, service: Service, path: str) -> list[str]:
    spec = config.carry_for(service)
    names = [*spec.files, *(f.file for f in spec.fields)]
    return [carried_path(path, name) for name in names]


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
            _extract(tar, root, ref)
    return Snapshot(
        env.name, ref, {s.name: read_deployed(root, config, env.name, s) for s in services}, root
    )


def _extract(tar: tarfile.TarFile, root: Path, ref: str) -> None:
    """Extract, refusing members and links that leave `root` (a crafted
    repository must not make us write or read outside the scratch folder)."""
    if hasattr(tarfile, "data_filter"):
        try:
            tar.extractall(root, filter="data")
        except tarfile.FilterError as exc:
            raise _outside(ref, exc.tarinfo.name) from None
        return
    # Python before 3.11.4 (Debian 12 ships 3.11.2) has no extraction
    # filters: check what the "data" filter would refuse by hand. git
    # archive writes only files, folders and symbolic links.
    base = root.resolve()
    for member in tar.getmembers():
        target = (base / member.name).resolve()
        if not (member.isfile() or member.isdir() or member.issym()):
            raise _outside(ref, member.name)
        if not target.is_relative_to(base):
            raise _outside(ref, member.name)
        if member.issym():
            link = (target.parent / member.linkname).resolve()
            if os.path.isabs(member.linkname) or not link.is_relative_to(base):
                raise _outside(ref, member.name)
    tar.extractall(root)  # every member checked above


def _outside(ref: str, name: str) -> InputError:
    return InputError(
        f"{name} at {ref} is a link or path that leaves the repository",
        hint="make it a regular file, or a relative link to a file inside the repository",
    )


def from_tree(root: Path, config: Config, env: Environment, services: list[Service]) -> Snapshot:
    return Snapshot(
        env.name, None, {s.name: read_deployed(root, config, env.name, s) for s in services}, root
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
