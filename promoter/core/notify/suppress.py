"""No floods: a long-running process (the agent, `serve`) says the same
thing once per window. "The same thing" is `Notice.key()`: event,
environment, object set and revision — as Flux's notification-controller
keys its rate limit on the event's involved object and revision."""

from __future__ import annotations

import time
from collections.abc import Callable, Hashable

DEFAULT_WINDOW = 300.0
"""Seconds a repeat stays suppressed (Flux's default: 5 minutes)."""


class Suppressor:
    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self.clock = clock
        self._sent: dict[Hashable, float] = {}
        self.suppressed = 0
        """How many notices were held back (the agent's metrics and logs say so)."""

    def admit(self, key: Hashable, window: float = DEFAULT_WINDOW) -> bool:
        """True when `key` was not admitted within the last `window` seconds
        (and records it); False for a repeat."""
        now = self.clock()
        last = self._sent.get(key)
        if last is not None and now - last < window:
            self.suppressed += 1
            return False
        self._sent[key] = now
        if len(self._sent) > 4096:  # a process up for months: forget what has expired
            self._sent = {k: t for k, t in self._sent.items() if now - t < window}
        return True
