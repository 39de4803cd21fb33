"""`rollback`: a pull request that puts a service back on an earlier version
of its environment, chosen from the history the trailers record."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from promoter.adapters.carried import carried_between
from promoter.adapters.scratch import scratch_dir
from promoter.adapters.snapshots import from_ref, history
from promoter.core.forge import Forge
from promoter.core.images import ImageRef, parse_reference, reference_or_none
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
    target, state = _rollback_target(past, deployed.image, to_tag, service.name, env.name)
    item = PlanItem(service.name, env.name, env.name, target, deployed.image, deployed.files)
    if state is not None:
        # `promote:` files and fields go back to what they were with that version.
        with scratch_dir("promoter-snap-") as tmp:
            then = from_ref(ws.repo, config, env, state, [service], Path(tmp) / "then")
            now = from_ref(ws.repo, config, env, ref, [service], Path(tmp) / "now")
            carried = carried_between(config, service, then, now, strict=False)
            item = replace(item, carried=carried)
    return propose(ws, forge, env, [item], kind="rollback")


def _rollback_target(
    past: list[Deployment], current: ImageRef, to_tag: str | None, service: str, env: str
) -> tuple[ImageRef, str | None]:
    """The version to go back to, and the commit whose files ran with it
    (None: not known from the history, so carried files stay as they are)."""
    versions = [
        ref
        for d in past
        for text in (d.to_ref, d.from_ref)
        if (ref := reference_or_none(text)) is not None
    ]
    if to_tag is not None:
        for d in past:  # newest first: the last time it was put in place
            put = reference_or_none(d.to_ref)
            if put is not None and put.tag == to_tag:
                return put, d.commit
        for ref in versions:
            if ref.tag == to_tag:
                return ref, None
        known = ", ".join(dict.fromkeys(r.tag or r.digest or "" for r in versions)) or "none"
        raise InputError(
            f"{service} never ran {to_tag!r} in {env} according to its history",
            hint=f"versions in the history: {known}",
        )
    for d in past:  # newest first: the change that put the current version in place
        if d.from_ref and same_version(parse_reference(d.to_ref), current):
            return parse_reference(d.from_ref), f"{d.commit}^"
    for ref in versions:  # the current version was set by hand: take the newest other
        if not same_version(ref, current):
            return ref, None
    raise InputError(
        f"no earlier version of {service} in {env} is recorded in the history",
        hint="name one with --to TAG",
    )
