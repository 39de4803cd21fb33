"""Running sync hooks (see core/applier/sync_options): each phase's hooks in
wave order, a batch at a time — previous run deleted first
(BeforeHookCreation), applied, waited for until complete (a Job succeeded,
a Pod finished), then deleted as their policy says.

Hooks are applied with a plain server-side apply and never enter the
inventory: prune never touches them and drift correction never sees them.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence

from promoter.adapters.kube import Kube
from promoter.core.applier.errors import KubeError
from promoter.core.applier.order import apply_order
from promoter.core.applier.result import RoundResult
from promoter.core.applier.sync_options import Hook, HookError, in_phase
from promoter.core.objects import Obj
from promoter.errors import PromoterError
from promoter.workflows.health_wait import HealthError, WaitSettings, wait_healthy

log = logging.getLogger("promoter.applier")
GONE_POLL_S = 0.5


class HookRunner:
    def __init__(
        self,
        kube: Kube,
        hooks: Sequence[Hook],
        settings: WaitSettings,
        result: RoundResult,
        clock: Callable[[], float],
        sleep: Callable[[float], None],
    ) -> None:
        self.kube, self.hooks, self.s, self.result = kube, list(hooks), settings, result
        self.clock, self.sleep = clock, sleep

    def run(self, phase: str) -> None:
        """Every hook of `phase`; HookError at the first one that fails."""
        chosen = {h.obj.key: h for h in in_phase(self.hooks, phase)}
        for batch in apply_order(h.obj for h in chosen.values()):
            self._batch(phase, [chosen[o.key] for o in batch])

    def fail(self) -> None:
        """SyncFail hooks, after something failed; their own failure is
        logged, never allowed to hide the first error."""
        if not in_phase(self.hooks, "SyncFail"):
            return
        try:
            self.run("SyncFail")
        except PromoterError as err:
            log.error("%s: SyncFail hooks failed too: %s", self.s.env, err)

    def _batch(self, phase: str, hooks: list[Hook]) -> None:
        for hook in hooks:
            if "BeforeHookCreation" in hook.policies:
                self._delete(hook.obj, wait=True)
            self.kube.apply(hook.obj.body, force=True)
        live: dict[str, dict[str, object]] = {}
        objs = [h.obj for h in hooks]
        self._refresh(objs, live)
        try:
            wait_healthy(
                objs,
                live,
                lambda stuck: self._refresh(stuck, live),
                self.s,
                self.clock,
                self.sleep,
                what=f"{phase} hook(s) applied",
            )
        except HealthError as err:
            for hook in hooks:
                self.result.hooks.append(f"{phase} {hook.obj.key}: failed")
                if "HookFailed" in hook.policies:
                    self._delete(hook.obj, wait=False)
            raise HookError(
                f"{phase} hook failed: {err.message}",
                hint=f"see the hook's logs (kubectl logs for {objs[0].key}); nothing after "
                f"{phase} ran",
            ) from err
        for hook in hooks:
            self.result.hooks.append(f"{phase} {hook.obj.key}: succeeded")
            if "HookSucceeded" in hook.policies:
                self._delete(hook.obj, wait=False)

    def _refresh(self, objs: Sequence[Obj], live: dict[str, dict[str, object]]) -> None:
        for obj in objs:
            found = self.kube.get(obj.api_version, obj.kind, obj.namespace or None, obj.name)
            if found is None:
                live.pop(obj.key, None)
            else:
                live[obj.key] = found

    def _delete(self, obj: Obj, *, wait: bool) -> None:
        try:
            if not self.kube.delete(obj.key) or not wait:
                return
        except KubeError as err:
            raise HookError(
                f"could not delete the previous run of {obj.key}: {err.message}"
            ) from err
        deadline = self.clock() + self.s.health_timeout
        while self.kube.get_key(obj.key) is not None:  # being deleted: its pods go first
            if self.clock() >= deadline:
                raise HookError(f"the previous run of {obj.key} was still being deleted")
            self.sleep(min(GONE_POLL_S, self.s.health_poll))
