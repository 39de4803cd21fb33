"""`history`: what was deployed to an environment when, read back from the
`Promoter-*` trailers on its branch (remote or local clone)."""

from __future__ import annotations

from pathlib import Path

from promoter.adapters.git import GitRepo
from promoter.adapters.snapshots import history
from promoter.core.config.loader import load_config
from promoter.core.trailers import Deployment
from promoter.workflows.plan import local_env_ref
from promoter.workflows.workspace import Workspace, env_ref


def remote_history(ws: Workspace, env_name: str, service: str | None) -> list[Deployment]:
    env = ws.config.environment(env_name)
    services = [ws.config.service(service)] if service else list(ws.config.services)
    return history(ws.repo, ws.config, env.name, env_ref(ws, env), services)


def local_history(repo_dir: Path, env_name: str, service: str | None) -> list[Deployment]:
    config = load_config(repo_dir)
    env = config.environment(env_name)
    services = [config.service(service)] if service else list(config.services)
    repo = GitRepo(repo_dir)
    return history(repo, config, env.name, local_env_ref(repo, config, env) or "HEAD", services)
