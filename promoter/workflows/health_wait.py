"""Waiting for applied objects to become healthy: the main apply's health
phase and each batch of sync hooks (a PreSync migration Job must complete
before the rest is applied)."""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from typing import Any, Protocol

from promoter.core.applier import health
from promoter.core.objects import Obj
from promoter.errors import ExitCode, PromoterError

log = logging.getLogger("promoter.applier")


class HealthError(PromoterError):
    """Applied, but not everything became healthy (or something failed)."""

    exit_code = ExitCode.HEALTH

    def __init__(self, message: str, *, not_ready: str = "", hint: str | None = None) -> None:
        super().__init__(message, hint=hint)
        self.not_ready = not_ready


class WaitSettings(Protocol):
    @property
    def env(self) -> str: ...
    @property
    def health_timeout(self) -> float: ...
    @property
    def health_poll(self) -> float: ...
    @property
    def health_progress_every(self) -> float: ...


def _health(live: dict[str, Any], key: str) -> health.Health:
    obj = live.get(key)
    if obj is None:
        return health.Health(health.State.IN_PROGRESS, "not found in the cluster")
    return health.status(obj)


def wait_healthy(
    objs: Sequence[Obj],
    live: dict[str, Any],
    relist: Callable[[Sequence[Obj]], None],
    s: WaitSettings,
    clock: Callable[[], float],
    sleep: Callable[[float], None],
    *,
    what: str = "applied",
) -> None:
    """Until every object in `live` (kept fresh by `relist`) is ready;
    HealthError when one failed or the timeout passed."""
    deadline = clock() + s.health_timeout
    by_key = {o.key: o for o in objs}
    states = {key: _health(live, key) for key in by_key}
    started = clock()
    next_progress = started + s.health_progress_every
    while True:
        stuck = [key for key, h in states.items() if not h.ready]
        if not stuck:
            return
        failed = [k for k in stuck if states[k].state is health.State.FAILED]
        now = clock()
        if failed or now >= deadline:
            message = health.summarise_not_ready(states.items())
            why = "failed" if failed else f"not healthy after {s.health_timeout:g}s"
            raise HealthError(f"{what}, but {why}: {message}", not_ready=message)
        if now >= next_progress:
            # A wait of minutes must not look like a hang in the pod's log.
            next_progress = now + s.health_progress_every
            waiting = health.not_ready(states.items())
            log.info(
                "%s: waiting for %d of %d objects to become healthy (%.0fs of %gs): %s%s",
                s.env,
                len(waiting),
                len(states),
                now - started,
                s.health_timeout,
                "; ".join(f"{key}: {h.state}: {h.message}" for key, h in waiting[:3]),
                f"; … and {len(waiting) - 3} more" if len(waiting) > 3 else "",
            )
        sleep(s.health_poll)
        relist([by_key[k] for k in stuck])
        states.update({key: _health(live, key) for key in stuck})
