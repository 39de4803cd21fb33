"""`plan`, `promote`, `rollback` and `history`: read environments from git,
plan, and hand the plan to `propose`."""

from __future__ import annotations

import tempfile
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from promoter.adapters.forges.base import Forge
from promoter.adapters.git import GitRepo, Identity, auth_environment
from promoter.adapters.snapshots import Snapshot, from_ref, from_tree, history
from promoter.adapters.worktree import Deployed
from promoter.core import masking
from promoter.core.config.loader import load_config
from promoter.core.config.model import CONFIG_FILENAMES, Config, Environment, Service
from promoter.core.images import ImageRef, parse_reference
from promoter.core.plans import PlanItem, plan_item, same_version, with_provenance
from promoter.core.trailers import Deployment
from promoter.errors import InputError
from promoter.workflows.bump import DEFAULT_IDENTITY
from promoter.workflows.open_pr import ProposalResult, Workspace, env_ref, propose


@contextmanager
def workspace(
    repo_url: str, environ: Mapping[str, str], identity: Identity = DEFAULT_IDENTITY
) -> Iterator[Workspace]:
    """A blob-less clone with full commit history (history feeds provenance
    and rollback) and only promoter.yaml checked out."""
    env_vars = auth_environment(repo_url, dict(environ))
    with tempfile.TemporaryDirectory(prefix="promoter-") as tmp:
        root = Path(tmp) / "repo"
        repo = GitRepo.clone(
            repo_url,
            root,
            branch=None,
            sparse=[f"/{n}" for n in CONFIG_FILENAMES],
            env=env_vars,
            shallow=False,
        )
        shown = masking.strip_credentials(repo_url)[0]
        config = load_config(root, shown_as=shown)
        yield Workspace(repo, root, config, repo.current_branch(), identity, environ)


def origin_url(repo_dir: Path) -> str:
    """The push URL behind a local clone (promote works on a fresh clone of it)."""
    status, out, _ = GitRepo(repo_dir).run("remote", "get-url", "origin", check=False)
    if status != 0 or not out.strip():
        raise InputError(
            f"{repo_dir} is not a git clone with an `origin` remote",
            hint="pass --repo-url URL of the environment repository",
        )
    return out.strip()


def select_services(config: Config, names: tuple[str, ...], all_: bool) -> list[Service]:
    if all_ and names:
        raise InputError("give --service or --all, not both")
    if all_:
        return list(config.services)
    if not names:
        raise InputError("name the services to promote with --service (repeatable), or --all")
    return [config.service(n) for n in dict.fromkeys(names)]


def plan_between(source: Snapshot, target: Snapshot, services: list[Service]) -> list[PlanItem]:
    items = []
    for service in services:
        have = target.deployed.get(service.name, Deployed(None, ()))
        item = plan_item(
            service.name,
            source.env,
            target.env,
            source.deployed[service.name].image,
            have.image,
            have.files,
        )
        if item is not None and have.files:  # not deployed there: nothing to edit
            items.append(item)
    return items


def check_hop(config: Config, source: Environment, target: Environment) -> None:
    if target.from_ != source.name:
        upstream = f"from {target.from_!r}" if target.from_ else "from nowhere (it is a root)"
        raise InputError(
            f"{target.name!r} is promoted {upstream}, not from {source.name!r}",
            hint="promotions follow `from:` in promoter.yaml, one hop at a time",
        )


# --- plan (local) -----------------------------------------------------------------------


def local_plan(
    repo_dir: Path, source_name: str, target_name: str, names: tuple[str, ...]
) -> list[PlanItem]:
    """Plan from a local clone: environments on the checked-out branch are
    read from the working tree, others from their branch (origin's if fetched)."""
    config = load_config(repo_dir)
    source, target = config.environment(source_name), config.environment(target_name)
    check_hop(config, source, target)
    services = select_services(config, names, all_=not names)
    repo = GitRepo(repo_dir)
    _, current, _ = repo.run("rev-parse", "--abbrev-ref", "HEAD", check=False)
    with tempfile.TemporaryDirectory(prefix="promoter-plan-") as tmp:
        snaps = [
            _local_snapshot(repo, repo_dir, config, env, current.strip(), services, Path(tmp))
            for env in (source, target)
        ]
        return plan_between(snaps[0], snaps[1], services)


def _local_snapshot(
    repo: GitRepo,
    root: Path,
    config: Config,
    env: Environment,
    current: str,
    services: list[Service],
    scratch: Path,
) -> Snapshot:
    branch = config.branch_for(env)
    ref = None if branch == current else local_env_ref(repo, config, env)
    return snapshot_at(repo, root, config, env, ref, services, scratch)


def local_env_ref(repo: GitRepo, config: Config, env: Environment) -> str | None:
    """The ref of `env`'s own branch in a local clone; None when it shares
    the checked-out branch (then the working tree is its state)."""
    branch = config.branch_for(env)
    return local_ref(repo, env, branch) if branch else None


def snapshot_at(
    repo: GitRepo,
    root: Path,
    config: Config,
    env: Environment,
    ref: str | None,
    services: list[Service],
    scratch: Path,
) -> Snapshot:
    """`env` as of `ref`, or as the working tree says when `ref` is None."""
    if ref is None:
        return from_tree(root, config, env, services)
    return from_ref(repo, config, env, ref, services, scratch)


def local_ref(repo: GitRepo, env: Environment, branch: str) -> str:
    """The freshest ref a local clone has of an environment's branch."""
    for ref in (f"refs/remotes/origin/{branch}", f"refs/heads/{branch}"):
        if repo.run("rev-parse", "--verify", "--quiet", ref, check=False)[0] == 0:
            return ref
    raise InputError(
        f"environment {env.name!r} lives on branch {branch!r}, which this clone does not have",
        hint=f"git fetch origin {branch}",
    )


# --- promote ----------------------------------------------------------------------------


@dataclass
class PromoteRequest:
    source: str
    targets: tuple[str, ...]
    services: tuple[str, ...]
    all: bool = False
    draft: bool = False


def promote(ws: Workspace, forge: Forge, request: PromoteRequest) -> list[ProposalResult]:
    config = ws.config
    source = config.environment(request.source)
    targets = [config.environment(t) for t in dict.fromkeys(request.targets)]
    for target in targets:
        check_hop(config, source, target)
    selected = select_services(config, request.services, request.all)
    everything = list(config.services)  # snapshots cover all: widening may need any
    with tempfile.TemporaryDirectory(prefix="promoter-snap-") as tmp:
        scratch = Path(tmp)
        source_ref = env_ref(ws, source)
        source_snap = from_ref(ws.repo, config, source, source_ref, everything, scratch)
        source_history = history(ws.repo, config, source.name, source_ref, everything)
        results = []
        for target in targets:
            target_snap = from_ref(
                ws.repo, config, target, env_ref(ws, target), everything, scratch
            )

            def replan(names: set[str], _t: Snapshot = target_snap) -> list[PlanItem]:
                chosen = [s for s in everything if s.name in names]
                return with_provenance(plan_between(source_snap, _t, chosen), source_history)

            items = replan({s.name for s in selected})
            if not items:
                results.append(ProposalResult(target.name, "", []))
                continue
            results.append(propose(ws, forge, target, items, draft=request.draft, replan=replan))
        return results


# --- rollback and history ---------------------------------------------------------------


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


def rollback(
    ws: Workspace, forge: Forge, env_name: str, service_name: str, to_tag: str | None
) -> ProposalResult:
    config = ws.config
    env = config.environment(env_name)
    service = config.service(service_name)
    ref = env_ref(ws, env)
    with tempfile.TemporaryDirectory(prefix="promoter-snap-") as tmp:
        snap = from_ref(ws.repo, config, env, ref, [service], Path(tmp))
    deployed = snap.deployed[service.name]
    if deployed.image is None:
        raise InputError(f"{service.name} is not deployed in {env.name}; nothing to roll back")
    past = history(ws.repo, config, env.name, ref, [service])
    target = _rollback_target(past, deployed.image, to_tag, service.name, env.name)
    item = PlanItem(service.name, env.name, env.name, target, deployed.image, deployed.files)
    return propose(ws, forge, env, [item], kind="rollback")


def _rollback_target(
    past: list[Deployment], current: ImageRef, to_tag: str | None, service: str, env: str
) -> ImageRef:
    versions = []
    for d in past:
        for text in (d.to_ref, d.from_ref):
            if text:
                try:
                    versions.append(parse_reference(text))
                except InputError:
                    continue
    if to_tag is not None:
        for ref in versions:
            if ref.tag == to_tag:
                return ref
        known = ", ".join(dict.fromkeys(r.tag or r.digest or "" for r in versions)) or "none"
        raise InputError(
            f"{service} never ran {to_tag!r} in {env} according to its history",
            hint=f"versions in the history: {known}",
        )
    for d in past:  # newest first: the change that put the current version in place
        if d.from_ref and same_version(parse_reference(d.to_ref), current):
            return parse_reference(d.from_ref)
    for ref in versions:  # the current version was set by hand: take the newest other
        if not same_version(ref, current):
            return ref
    raise InputError(
        f"no earlier version of {service} in {env} is recorded in the history",
        hint="name one with --to TAG",
    )
