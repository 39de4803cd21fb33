"""`plan`: what promoting one hop would change — the dry run of `promote`,
read from the same place (a fresh clone of the remote) by the same
`HopPlanner` — and the pieces every promotion shares (the hop check,
service selection, the diff between two environments' snapshots).

`local_plan` reads a local clone instead (working tree for the checked-out
branch); `check --from/--to` uses it to evaluate policies on what is there.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, replace
from pathlib import Path

from promoter.adapters.carried import carried_between
from promoter.adapters.git import GitRepo
from promoter.adapters.scratch import scratch_dir
from promoter.adapters.snapshots import Snapshot, from_ref, from_tree, history
from promoter.adapters.worktree import Deployed
from promoter.core.config.loader import load_config
from promoter.core.config.model import Config, Environment, Service
from promoter.core.plans import PlanItem, plan_item, with_provenance
from promoter.core.trailers import Deployment
from promoter.errors import InputError
from promoter.workflows.workspace import ReadRef, Workspace, env_ref, read_ref


def select_services(config: Config, names: tuple[str, ...], all_: bool) -> list[Service]:
    if all_ and names:
        raise InputError("give --service or --all, not both")
    if all_:
        return list(config.services)
    if not names:
        raise InputError("name the services to promote with --service (repeatable), or --all")
    return [config.service(n) for n in dict.fromkeys(names)]


def plan_between(
    config: Config, source: Snapshot, target: Snapshot, services: list[Service]
) -> list[PlanItem]:
    items = []
    for service in services:
        have = target.deployed.get(service.name, Deployed(None, ()))
        new = source.deployed[service.name].image
        if not have.files or new is None:  # not deployed there: nothing to edit
            continue
        item = plan_item(service.name, source.env, target.env, new, have.image, have.files)
        carried = carried_between(config, service, source, target)
        if item is None and carried:  # the same version, another config: still a promotion
            item = PlanItem(service.name, source.env, target.env, new, have.image, have.files)
        if item is not None:
            items.append(replace(item, carried=carried))
    return items


def check_hop(config: Config, source: Environment, target: Environment) -> None:
    if target.from_ != source.name:
        upstream = f"from {target.from_!r}" if target.from_ else "from nowhere (it is a root)"
        raise InputError(
            f"{target.name!r} is promoted {upstream}, not from {source.name!r}",
            hint="promotions follow `from:` in promoter.yaml, one hop at a time",
        )


class HopPlanner:
    """The source environment and each target, read once from the remote's
    branches (`origin/<branch>` of a fresh clone), and the items a hop
    carries for any set of services: shared by `plan` and `promote`, so the
    plan is exactly what a promotion would propose."""

    def __init__(self, ws: Workspace, source: str, targets: Iterable[str], scratch: Path) -> None:
        config = ws.config
        self.ws = ws
        self.source = config.environment(source)
        self.targets = [config.environment(t) for t in dict.fromkeys(targets)]
        for target in self.targets:
            check_hop(config, self.source, target)
        # Snapshots cover every service: folding in a competing PR may need any.
        self.everything = list(config.services)
        self.refs = {env.name: read_ref(ws, env) for env in (self.source, *self.targets)}
        source_ref = env_ref(ws, self.source)
        self.source_snapshot = from_ref(
            ws.repo, config, self.source, source_ref, self.everything, scratch
        )
        self.source_history: list[Deployment] = history(
            ws.repo, config, self.source.name, source_ref, self.everything
        )
        self.snapshots = {
            t.name: from_ref(ws.repo, config, t, env_ref(ws, t), self.everything, scratch)
            for t in self.targets
        }

    def items(self, target: str, names: set[str]) -> list[PlanItem]:
        """What the hop to `target` changes for the services `names`."""
        chosen = [s for s in self.everything if s.name in names]
        items = plan_between(self.ws.config, self.source_snapshot, self.snapshots[target], chosen)
        return with_provenance(items, self.source_history)


@dataclass(frozen=True)
class Plan:
    items: list[PlanItem]
    refs: list[ReadRef]
    """Where the source and the target were read, in that order."""


def plan(ws: Workspace, source: str, target: str, names: tuple[str, ...]) -> Plan:
    """What `promote --from source --to target` would propose (every
    service that differs when `names` is empty)."""
    with scratch_dir("promoter-plan-") as tmp:
        planner = HopPlanner(ws, source, [target], Path(tmp))
        services = select_services(ws.config, names, all_=not names)
        items = planner.items(planner.targets[0].name, {s.name for s in services})
        return Plan(items, list(planner.refs.values()))


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
    with scratch_dir("promoter-plan-") as tmp:
        snaps = [
            _local_snapshot(repo, repo_dir, config, env, current.strip(), services, Path(tmp))
            for env in (source, target)
        ]
        return plan_between(config, snaps[0], snaps[1], services)


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
