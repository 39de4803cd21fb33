"""The agent's counters, gauges and histograms, through the official
`prometheus_client` (its registry and text exposition), so names, label
escaping and float formatting follow the exposition format exactly."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    Info,
    disable_created_metrics,
    generate_latest,
)

from promoter.adapters.forges.quota import QuotaCollector
from promoter.core.applier.result import RoundResult

# `_created` series double every counter's lines and say nothing an agent's
# restart time does not.
disable_created_metrics()  # type: ignore[no-untyped-call]

CONTENT_TYPE = CONTENT_TYPE_LATEST
DURATION_BUCKETS = (0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600)
PHASES = ("fetch", "render", "inventory", "presync", "apply", "prune", "health", "postsync")


class Metrics:
    """One environment's agent metrics in a registry of their own (several
    agents in one process, as in tests, do not collide)."""

    def __init__(self, env: str, clock: Callable[[], float] = time.time) -> None:
        self.env = env
        self.clock = clock
        self._lock = threading.Lock()
        self.registry = CollectorRegistry(auto_describe=True)
        self.registry.register(QuotaCollector())  # the forge's quota, for commit statuses
        self.rounds = {"success": 0, "failure": 0}
        self.last: RoundResult | None = None
        self.last_success: RoundResult | None = None
        self.heartbeat = clock()
        r = self.registry
        self._revision = Info(
            "promoter_agent_last_applied_revision",
            "The revision of the last successful round.",
            ["env"],
            registry=r,
        )
        self._success_time = Gauge(
            "promoter_agent_last_success_timestamp_seconds",
            "When the last successful round started (Unix time).",
            ["env"],
            registry=r,
        )
        self._duration = Histogram(
            "promoter_agent_reconcile_duration_seconds",
            "How long rounds take.",
            ["env"],
            buckets=DURATION_BUCKETS,
            registry=r,
        )
        self._drift_now = Gauge(
            "promoter_agent_drift_objects",
            "Objects found drifted in the last round.",
            ["env"],
            registry=r,
        )
        self._objects = Gauge(
            "promoter_agent_objects", "Objects the last round rendered.", ["env"], registry=r
        )
        self._last_ok = Gauge(
            "promoter_agent_last_round_success",
            "1 when the last round succeeded, else 0.",
            ["env"],
            registry=r,
        )
        self._rounds = Counter(
            "promoter_agent_rounds", "Reconcile rounds by result.", ["env", "result"], registry=r
        )
        self._failures = Counter(
            "promoter_agent_failures",
            "Failed rounds by the phase that failed.",
            ["env", "phase"],
            registry=r,
        )
        self._drift = Counter(
            "promoter_agent_drift",
            "Drifted objects found, summed over rounds.",
            ["env"],
            registry=r,
        )
        self._pruned = Counter(
            "promoter_agent_pruned", "Objects pruned, summed over rounds.", ["env"], registry=r
        )
        # Every series exists from the start, at zero: a rate() over a
        # counter that appears only after the first failure misses it.
        for result in self.rounds:
            self._rounds.labels(env, result)
        for phase in PHASES:
            self._failures.labels(env, phase)
        self._drift.labels(env)
        self._pruned.labels(env)

    def beat(self) -> None:
        """The loop is alive (called every poll, even when nothing changed)."""
        with self._lock:
            self.heartbeat = self.clock()

    def record(self, result: RoundResult) -> None:
        env = self.env
        with self._lock:
            self.heartbeat = self.clock()
            self.last = result
            outcome = "success" if result.ok else "failure"
            self.rounds[outcome] += 1
            self._rounds.labels(env, outcome).inc()
            if result.ok:
                self.last_success = result
                self._revision.labels(env).info({"revision": result.revision or ""})
                self._success_time.labels(env).set(result.started)
            else:
                self._failures.labels(env, result.phase).inc()
            self._duration.labels(env).observe(result.duration)
            self._drift_now.labels(env).set(len(result.drift))
            self._objects.labels(env).set(result.desired)
            self._last_ok.labels(env).set(1 if result.ok else 0)
            self._drift.labels(env).inc(len(result.drift))
            self._pruned.labels(env).inc(len(result.pruned))

    def render(self) -> str:
        """The text exposition of every metric."""
        return generate_latest(self.registry).decode("utf-8")

    def status(self) -> dict[str, Any]:
        with self._lock:
            return {
                "env": self.env,
                "heartbeat": self.heartbeat,
                "last": self.last.to_json() if self.last else None,
                "last_success_revision": self.last_success.revision if self.last_success else None,
            }

    def alive(self, stale_after: float) -> bool:
        with self._lock:
            return self.clock() - self.heartbeat <= stale_after
