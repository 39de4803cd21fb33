"""One reconcile round: render → apply → prune → health.

Safety rules (docs/agent.md explains them):
- a render that fails, is empty (unless allowed), unkeyable, or names a
  kind the cluster does not serve stops the round before any write;
- the inventory is written as old ∪ desired *before* the first apply, so
  a crash anywhere after leaks nothing (the next round still knows every
  object it may have created);
- prune runs only after every object applied; a failed apply or an API
  outage leaves everything Git removed in place, tracked, for next round;
- objects are pruned only with our owner label and without
  `promoter.dev/prune: disabled`; Namespaces, PVCs and CRDs only when the
  kind is explicitly allowed.

A no-change round costs one inventory GET and one LIST per kind and
namespace: the inventory's (hash, resourceVersion) per object says which
objects need a dry-run (drift.needs_check); when nothing moved, none do,
and health comes from the same LIST.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from promoter.adapters.kube import Kube
from promoter.core.applier.drift import drifted, needs_check
from promoter.core.applier.errors import (
    ApplierError,
    InventoryError,
    KubeError,
    KubeUnavailableError,
    UnknownKindError,
    first_hint,
)
from promoter.core.applier.inventory import (
    Entry,
    Inventory,
    after_prune,
    before_apply,
    encode,
    from_configmap,
    to_configmap,
)
from promoter.core.applier.keys import CRD, NAMESPACE, group_of, kinds_to_list, make_key
from promoter.core.applier.order import apply_order
from promoter.core.applier.prepare import crd_scopes, hashes, prepare
from promoter.core.applier.prune import DEFAULT_OWNER_LABEL, check_render, prune_candidates
from promoter.core.applier.result import Drift, RoundResult
from promoter.core.applier.sync_options import create_only, split, sync_needed
from promoter.core.applier.tenancy import OUTSIDE, Scope, allows, check_scope
from promoter.core.objects import Obj
from promoter.errors import ExitCode, PromoterError
from promoter.workflows.health_wait import HealthError, wait_healthy
from promoter.workflows.hooks_run import HookRunner

log = logging.getLogger("promoter.applier")


class ApplyError(ApplierError):
    """One or more objects could not be applied; nothing was pruned."""


class PruneError(ApplierError):
    """One or more deletes failed; those objects stay tracked and are retried."""


@dataclass(frozen=True)
class Settings:
    env: str
    self_heal: bool = True
    dry_run: bool = False
    """Dry-run server-side apply only; prune is reported, not executed;
    the inventory is not written."""
    allow_empty: bool = False
    prune_allow: frozenset[str] = frozenset()
    """Protected kinds (Namespace, PersistentVolumeClaim,
    CustomResourceDefinition) that prune may delete."""
    inventory_namespace: str | None = None
    """None: the client's default namespace (kubeconfig context / the pod's)."""
    inventory_name: str | None = None
    """None: `promoter-inventory-<env>`."""
    owner_label: tuple[str, str] = DEFAULT_OWNER_LABEL
    health_timeout: float = 300.0
    health_poll: float = 2.0
    health_progress_every: float = 5.0
    """Seconds between "waiting for …" log lines while health is awaited."""
    crd_timeout: float = 60.0
    scope: Scope = field(default_factory=Scope)
    """What the agent may touch (`applier: {promoter: …}`) and whom it acts as."""


Render = Callable[[], Sequence[Obj]]


class Reconciler:
    """Runs rounds against one cluster; keeps nothing between rounds but
    the client (and its discovery cache): the inventory is the memory."""

    def __init__(
        self,
        kube: Kube,
        settings: Settings,
        *,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.kube = kube
        self.settings = settings
        self.clock = clock
        self.sleep = sleep

    @property
    def default_namespace(self) -> str:
        """For objects without one, and the inventory: the impersonated
        service account's namespace (a tenant's own), else the client's."""
        account = self.settings.scope.service_account
        return account[0] if account else self.kube.namespace

    @property
    def inventory_ref(self) -> tuple[str, str]:
        s = self.settings
        return (
            s.inventory_namespace or self.default_namespace,
            s.inventory_name or f"promoter-inventory-{s.env}",
        )

    def read_inventory(self) -> Inventory:
        namespace, name = self.inventory_ref
        cm = self.kube.get("v1", "ConfigMap", namespace, name)
        return Inventory() if cm is None else from_configmap(cm)

    def run(self, render: Render, revision: str | None = None) -> RoundResult:
        """One round. Never raises a PromoterError: the result says what failed."""
        result = RoundResult(self.settings.env, revision, self.settings.dry_run)
        result.started = time.time()
        start, sent = self.clock(), self.kube.requests
        # Every request of the round, discovery included, as the tenant.
        self.kube.impersonate(self.settings.scope.username)
        try:
            _Round(self, result).run(render)
            result.ok, result.phase = True, "done"
        except PromoterError as err:
            result.error = str(err)
            # RenderError and friends carry no code of their own: the applier's.
            code = err.exit_code
            result.exit_code = int(ExitCode.APPLY if code == ExitCode.INTERNAL else code)
            log.error("%s: %s failed: %s", self.settings.env, result.phase, err)
        finally:
            result.duration = self.clock() - start
            result.requests = self.kube.requests - sent
        return result


class _Round:
    """The state of one round; each phase a method."""

    def __init__(self, rec: Reconciler, result: RoundResult) -> None:
        self.rec, self.kube, self.s, self.result = rec, rec.kube, rec.settings, result
        self.live: dict[str, dict[str, Any]] = {}
        self.inv = Inventory()
        self.stored = Inventory()
        self.hashes: dict[str, str] = {}
        self.new_kinds: dict[tuple[str, str], bool] = {}
        self.new_namespaces: set[str] = set()

    def run(self, render: Render) -> None:
        self.result.phase = "render"
        objs = render()
        namespace = self.rec.default_namespace
        prepared = prepare(objs, self.kube.namespaced, namespace, self.s.owner_label)
        check_scope(prepared, self.s.scope, self.s.env)
        parts = split(prepared)
        desired = parts.main
        check_render(desired, self.s.allow_empty)
        batches = apply_order(desired)
        self.hashes = hashes(desired)
        self.new_kinds = crd_scopes(prepared)
        self.result.desired = len(desired)

        self.result.phase = "inventory"
        self.stored = self.rec.read_inventory()
        # What an earlier, wider scope left tracked is not ours to read now.
        tracked = [k for k in self.stored.keys if allows(self.s.scope, k)]
        self.live = self._list_live(desired, tracked)
        self.new_namespaces = {
            o.name for o in desired if (group_of(o.api_version), o.kind) == NAMESPACE
        } - {k.split("/")[3] for k in self.live if k.startswith("/Namespace/")}
        # Hooks run when Git changed the environment, as an Argo CD sync
        # would: not on a no-change round, nor to heal drift.
        recorded = {k: e.hash for k, e in self.stored.entries.items()}
        hooks = (
            HookRunner(self.kube, parts.hooks, self.s, self.result, self.rec.clock, self.rec.sleep)
            if parts.hooks and not self.s.dry_run and sync_needed(recorded, self.hashes)
            else None
        )
        with _on_failure(hooks):
            if hooks is not None:
                self.result.phase = "presync"
                hooks.run("PreSync")  # a failed migration: nothing else is applied or pruned
            self.inv = before_apply(self.stored, self.hashes)
            self._store()

            self.result.phase = "apply"
            try:
                for batch in batches:
                    self._apply_batch(batch)
                if hooks is not None:
                    hooks.run("Sync")
            except PromoterError:
                self._store_quietly()  # keep what the objects that did apply recorded
                raise

            self.result.phase = "prune"
            self._prune(set(self.hashes))

            self.result.phase = "health"
            if not self.s.dry_run:
                self._wait_healthy(desired)
            if hooks is not None:
                self.result.phase = "postsync"
                hooks.run("PostSync")

    # -- inventory -------------------------------------------------------------------

    def _store(self) -> None:
        """Write the inventory if it changed (never in dry-run)."""
        if self.s.dry_run or encode(self.inv) == encode(self.stored):
            return
        namespace, name = self.rec.inventory_ref
        try:
            self.kube.apply(to_configmap(name, namespace, self.inv), force=True)
        except KubeError as err:
            hint = err.hint
            if err.status == 404:
                hint = f"create namespace {namespace!r}, or pass --inventory-namespace"
            raise InventoryError(f"cannot store the inventory: {err.message}", hint=hint) from err
        self.stored = self.inv

    # -- live state ------------------------------------------------------------------

    def _list_live(self, desired: Sequence[Obj], tracked: Iterable[str]) -> dict[str, Any]:
        """key -> live object, from one LIST per (kind, namespace) with our label."""
        wanted: dict[tuple[str, str], tuple[Any, set[str | None]]] = {}
        for api_version, kind, key_group, namespace in kinds_to_list(desired, tracked):
            try:
                res = (
                    self.kube.resource(api_version, kind)
                    if api_version
                    else self.kube.resource_for(key_group, kind)
                )
            except UnknownKindError:
                continue  # not served (yet): nothing of it can be live
            entry = wanted.setdefault((key_group, kind), (res, set()))
            entry[1].add(namespace if res.namespaced else None)
        return self._list(wanted.values())

    def _list(self, pairs: Iterable[tuple[Any, set[str | None]]]) -> dict[str, Any]:
        selector = "=".join(self.s.owner_label)
        live: dict[str, Any] = {}
        for res, namespaces in pairs:
            for namespace in sorted(namespaces, key=str):
                for item in self.kube.list_objects(res, namespace, selector):
                    meta = item.get("metadata") or {}
                    key = make_key(
                        group_of(str(item["apiVersion"])),
                        str(item["kind"]),
                        str(meta.get("namespace") or ""),
                        str(meta.get("name")),
                    )
                    live[key] = item
        return live

    # -- apply -----------------------------------------------------------------------

    def _apply_batch(self, batch: Sequence[Obj]) -> None:
        problems: list[str] = []
        crds: list[str] = []
        for obj in batch:
            try:
                if self._sync(obj) and (group_of(obj.api_version), obj.kind) == CRD:
                    crds.append(obj.name)
            except KubeUnavailableError as err:
                # The server is sick: further requests would each wait out the retries.
                problems.append(f"{obj.key}: {err.message}")
                break
            except KubeError as err:
                problems.append(f"{obj.key}: {err.message}")
        if problems:
            raise ApplyError(
                f"{len(problems)} object(s) failed to apply; nothing was pruned:\n"
                + "\n".join(f"  {p}" for p in problems),
                hint=first_hint(problems),
            )
        if crds and not self.s.dry_run:
            self.kube.wait_established(crds, self.s.crd_timeout, poll=min(0.5, self.s.health_poll))

    def _store_quietly(self) -> None:
        """Keep what the apply recorded, without hiding the apply's own error."""
        try:
            self._store()
        except PromoterError as err:
            log.warning("could not store the inventory after a failed apply: %s", err)

    def _sync(self, obj: Obj) -> bool:
        """Bring one object in line; True when something was (or would be) written."""
        key, digest = obj.key, self.hashes[obj.key]
        live, entry = self.live.get(key), self.inv.get(key)
        if live is None:
            self._write(obj, digest)
            self.result.created.append(key)
            return True
        if create_only(obj):  # Flux `ssa: IfNotPresent`: created once, then left alone
            self.inv = self.inv.with_entry(
                key, Entry(digest, live["metadata"].get("resourceVersion"))
            )
            self.result.unchanged += 1
            return False
        rv = (live.get("metadata") or {}).get("resourceVersion")
        if entry is None or entry.hash != digest:
            out = self._write(obj, digest)
            # A dry-run never moves the resourceVersion: compare content instead.
            if out is None:
                changed = True
            elif self.s.dry_run:
                changed = bool(drifted(out, live))
            else:
                changed = (out.get("metadata") or {}).get("resourceVersion") != rv
            if changed:
                self.result.configured.append(key)
            else:
                self.result.unchanged += 1
            return changed
        if not needs_check(key, digest, rv, self.inv):
            self.result.unchanged += 1
            return False
        self.result.checked += 1
        # force: see what our apply would make it even where someone else
        # took a field over; whether we may take it back is decided below.
        dry = self.kube.apply(obj.body, dry_run=True, force=True)
        paths = drifted(dry, live)
        if not paths:
            self.inv = self.inv.with_entry(key, Entry(digest, rv))
            self.result.unchanged += 1
            return False
        heal = self.s.self_heal and not self.s.dry_run
        log.warning("%s drifted (%s): %s", key, "healing" if heal else "reported", paths)
        if heal:
            self._write(obj, digest)
        self.result.drift.append(Drift(key, tuple(paths), heal))
        return heal

    def _write(self, obj: Obj, digest: str) -> dict[str, Any] | None:
        """Apply (or dry-run apply) and record; None when a dry-run could not
        be sent because the object's CRD or namespace does not exist yet."""
        if self.s.dry_run:
            gk = (group_of(obj.api_version), obj.kind)
            if gk in self.new_kinds or obj.namespace in self.new_namespaces:
                return None
            return self.kube.apply(obj.body, dry_run=True)
        out = self.kube.apply(obj.body)
        rv = (out.get("metadata") or {}).get("resourceVersion")
        self.inv = self.inv.with_entry(obj.key, Entry(digest, str(rv) if rv else None))
        self.live[obj.key] = out
        return out

    # -- prune -----------------------------------------------------------------------

    def _prune(self, desired: set[str]) -> None:
        leftovers = sorted(self.inv.keys - desired)
        # Tracked from before the scope narrowed: not ours to read or delete now.
        outside = {k for k in leftovers if not allows(self.s.scope, k)}
        meta: dict[str, Any] = {}
        for key in leftovers:
            if key in outside:
                continue
            # Not in our labelled LIST: unlabelled by someone, or gone. Ask.
            obj = self.live.get(key) or self.kube.get_key(key)
            if obj is not None:
                meta[key] = obj.get("metadata") or {}
        plan = prune_candidates(
            self.inv.keys - outside,
            desired,
            meta,
            owner_label=self.s.owner_label,
            allow_kinds=self.s.prune_allow,
        )
        skipped = [*((k, OUTSIDE) for k in sorted(outside)), *plan.skipped]
        self.result.prune_skipped = skipped
        if self.s.dry_run:
            self.result.would_prune = list(plan.to_delete)
            return
        done, problems = list(plan.gone), []
        for key in plan.to_delete:
            try:
                self.kube.delete(key)
                done.append(key)
                self.result.pruned.append(key)
            except KubeError as err:
                problems.append(f"{key}: {err.message}")
        abandoned = [key for key, _ in skipped]
        self.inv = after_prune(self.inv, done, desired, abandoned=abandoned)
        self._store()
        if problems:
            raise PruneError(
                f"{len(problems)} object(s) could not be pruned (still tracked, retried "
                "next round):\n" + "\n".join(f"  {p}" for p in problems)
            )

    # -- health ----------------------------------------------------------------------

    def _wait_healthy(self, desired: Sequence[Obj]) -> None:
        try:
            wait_healthy(desired, self.live, self._relist, self.s, self.rec.clock, self.rec.sleep)
        except HealthError as err:
            self.result.not_ready = err.not_ready
            raise

    def _relist(self, objs: Sequence[Obj]) -> None:
        pairs: dict[tuple[str, str], tuple[Any, set[str | None]]] = {}
        for obj in objs:
            res = self.kube.resource(obj.api_version, obj.kind)
            entry = pairs.setdefault((obj.api_version, obj.kind), (res, set()))
            entry[1].add(obj.namespace or None)
        fresh = self._list(pairs.values())
        for obj in objs:
            found = fresh.get(obj.key)
            if found is None:
                self.live.pop(obj.key, None)
            else:
                self.live[obj.key] = found


@contextmanager
def _on_failure(hooks: HookRunner | None) -> Iterator[None]:
    """Run the SyncFail hooks when anything in the block fails."""
    try:
        yield
    except PromoterError:
        if hooks is not None:
            hooks.fail()
        raise
