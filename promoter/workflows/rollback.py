"""`rollback`: a pull request that puts a service back on an earlier version
of its environment, chosen from the history the trailers record."""

from __future__ import annotations

from pathlib import Path

from promoter.adapters.scratch import scratch_dir
from promoter.adapters.snapshots import from_ref, history
from promoter.core.forge import Forge
from promoter.core.images import ImageRef, parse_reference
from promoter.core.plans import PlanItem, same_version
from promoter.core.pr_records import ProposalResult
from promoter.core.trailers import Deployment
from promoter.errors import InputError
from promoter.workflows.open_pr import propose
from promoter.workflows.workspace import Workspace, env_ref


def rollback(
    ws: Workspace, forge: Forge, env_name: str, service_name: str, to_tag: str | None
) -> ProposalResult:
    config = ws.config
    env = config.environment(env_name)
    service = config.service(service_name)
    ref = env_ref(ws, env)
    with scratch_dir("promoter-snap-") as tmp:
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
