"""The agent's counters and gauges, in Prometheus text format."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any

from promoter.core.applier.result import RoundResult


def _escape(value: str) -> str:
    return value.replace("\\", "\\\\").replace("\n", "\\n").replace('"', '\\"')


class Metrics:
    """Counters and gauges of the agent, in Prometheus text format."""

    def __init__(self, env: str, clock: Callable[[], float] = time.time) -> None:
        self.env = env
        self.clock = clock
        self._lock = threading.Lock()
        self.rounds = {"success": 0, "failure": 0}
        self.failures: dict[str, int] = {}
        self.drift_total = 0
        self.pruned_total = 0
        self.last: RoundResult | None = None
        self.last_success: RoundResult | None = None
        self.heartbeat = clock()

    def beat(self) -> None:
        """The loop is alive (called every poll, even when nothing changed)."""
        with self._lock:
            self.heartbeat = self.clock()

    def record(self, result: RoundResult) -> None:
        with self._lock:
            self.heartbeat = self.clock()
            self.last = result
            self.rounds["success" if result.ok else "failure"] += 1
            if result.ok:
                self.last_success = result
            else:
                self.failures[result.phase] = self.failures.get(result.phase, 0) + 1
            self.drift_total += len(result.drift)
            self.pruned_total += len(result.pruned)

    def render(self) -> str:
        with self._lock:
            return self._render()

    def _render(self) -> str:
        env = f'env="{_escape(self.env)}"'
        out: list[str] = []

        def metric(name: str, kind: str, help_text: str, samples: list[tuple[str, float]]) -> None:
            out.append(f"# HELP {name} {help_text}")
            out.append(f"# TYPE {name} {kind}")
            out.extend(f"{name}{{{labels}}} {value:g}" for labels, value in samples)

        last, good = self.last, self.last_success
        if good is not None:
            rev = _escape(good.revision or "")
            metric(
                "promoter_agent_last_applied_revision_info",
                "gauge",
                "The revision of the last successful round (value 1).",
                [(f'{env},revision="{rev}"', 1)],
            )
            metric(
                "promoter_agent_last_success_timestamp_seconds",
                "gauge",
                "When the last successful round started (Unix time).",
                [(env, good.started)],
            )
        if last is not None:
            metric(
                "promoter_agent_reconcile_duration_seconds",
                "gauge",
                "How long the last round took.",
                [(env, last.duration)],
            )
            metric(
                "promoter_agent_drift_objects",
                "gauge",
                "Objects found drifted in the last round.",
                [(env, len(last.drift))],
            )
            metric(
                "promoter_agent_objects",
                "gauge",
                "Objects the last round rendered.",
                [(env, last.desired)],
            )
            metric(
                "promoter_agent_last_round_success",
                "gauge",
                "1 when the last round succeeded, else 0.",
                [(env, 1 if last.ok else 0)],
            )
        metric(
            "promoter_agent_rounds_total",
            "counter",
            "Reconcile rounds by result.",
            [(f'{env},result="{k}"', v) for k, v in sorted(self.rounds.items())],
        )
        metric(
            "promoter_agent_failures_total",
            "counter",
            "Failed rounds by the phase that failed.",
            [(f'{env},phase="{k}"', v) for k, v in sorted(self.failures.items())],
        )
        metric(
            "promoter_agent_drift_total",
            "counter",
            "Drifted objects found, summed over rounds.",
            [(env, self.drift_total)],
        )
        metric(
            "promoter_agent_pruned_total",
            "counter",
            "Objects pruned, summed over rounds.",
            [(env, self.pruned_total)],
        )
        return "\n".join(out) + "\n"

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
