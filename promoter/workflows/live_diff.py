"""`promoter diff`: desired vs live, one unified diff per object.

"Desired" is what a server-side apply would make the object (a dry-run),
not the manifest: both sides then carry the server's defaults and
normalised values, so the diff shows only what an apply would change (plus
fields other managers own, which the dry-run keeps). Objects the inventory
tracks and the render dropped show as deletions: prune would remove them.
Secret values are masked on both sides.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from promoter.adapters.kube import Kube
from promoter.adapters.render.renderer import render_environment
from promoter.core.applier.drift import normalise
from promoter.core.applier.errors import KubeError
from promoter.core.applier.inventory import Inventory
from promoter.core.applier.prepare import prepare
from promoter.core.objects import Obj, diff
from promoter.errors import PromoterError
from promoter.workflows.agent import connect
from promoter.workflows.apply_round import Reconciler, Settings

log = logging.getLogger("promoter.applier")


def as_obj(body: Mapping[str, Any]) -> Obj:
    meta = body.get("metadata") or {}
    return Obj(
        str(body.get("apiVersion", "")),
        str(body.get("kind", "")),
        str(meta.get("namespace") or ""),
        str(meta.get("name") or ""),
        dict(body),
    )


def live_diff(kube: Kube, desired: Sequence[Obj], tracked: Inventory) -> dict[str, str]:
    """key -> unified diff (live → desired) for every object that differs."""
    before: list[Obj] = []
    after: list[Obj] = []
    for obj in desired:
        live = kube.get(obj.api_version, obj.kind, obj.namespace or None, obj.name)
        try:
            wanted: Mapping[str, Any] = kube.apply(obj.body, dry_run=True, force=True)
        except KubeError:
            # e.g. its namespace does not exist yet: show the manifest itself.
            wanted = obj.body
        if live is not None:
            before.append(as_obj(normalise(live)))
        after.append(as_obj(normalise(wanted)))
    keys = {o.key for o in desired}
    for key in sorted(tracked.keys - keys):
        live = kube.get_key(key)
        if live is not None:
            before.append(as_obj(normalise(live)))
    return diff(before, after)


@dataclass(frozen=True)
class EnvironmentDiff:
    env: str
    diffs: dict[str, str]
    """Object key -> unified diff, for the objects that differ."""
    objects: int
    """How many objects the render holds."""

    def action(self, key: str) -> str:
        """What the agent would do to the object: create, update or prune."""
        first = self.diffs[key].split("\n", 2)[:2]
        if first and first[0].startswith("--- /dev/null"):
            return "create"
        if len(first) > 1 and first[1].startswith("+++ /dev/null"):
            return "prune"
        return "update"

    def to_json(self) -> dict[str, Any]:
        return {
            "env": self.env,
            "objects": self.objects,
            "differences": [
                {"key": key, "action": self.action(key), "diff": self.diffs[key]}
                for key in sorted(self.diffs)
            ],
        }


def diff_environment(
    repo: Path,
    env: str,
    paths: Sequence[str],
    *,
    kubeconfig: Path | None,
    context: str | None,
    inventory_namespace: str | None,
) -> EnvironmentDiff:
    """Render `env` from the working tree and diff it against the cluster."""
    objs = render_environment(repo, env, paths).objects
    with connect(kubeconfig, context) as kube:
        desired = prepare(objs, kube.namespaced, kube.namespace)
        reconciler = Reconciler(kube, Settings(env, inventory_namespace=inventory_namespace))
        try:
            tracked = reconciler.read_inventory()
        except PromoterError as err:
            log.warning("no inventory read (%s): deletions are not shown", err)
            tracked = Inventory()
        return EnvironmentDiff(env, live_diff(kube, desired, tracked), len(desired))
