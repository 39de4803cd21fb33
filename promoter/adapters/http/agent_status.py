"""How the agent tells the world: a commit status on the applied commit,
Prometheus metrics, and `/metrics`, `/healthz`, `/status` over HTTP (plus
`POST /trigger`, which wakes the loop early).

Reporting never fails a round: a forge outage is logged, and the cluster
state is what it is whether or not GitHub heard about it.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Protocol

from promoter.core.applier.result import RoundResult
from promoter.errors import PromoterError

log = logging.getLogger("promoter.applier")

STATUS_CONTEXT = "promoter/apply"


class StatusSink(Protocol):
    """The part of a Forge the agent uses."""

    def set_status(
        self,
        sha: str,
        context: str,
        state: str,
        description: str,
        target_url: str | None = None,
    ) -> None: ...


class CommitStatus:
    """`promoter/apply` pending → success/failure on the applied commit."""

    def __init__(self, sink: StatusSink | None, target_url: str | None = None) -> None:
        self.sink = sink
        self.target_url = target_url

    def pending(self, sha: str | None, env: str) -> None:
        self._send(sha, "pending", f"applying to {env}")

    def done(self, result: RoundResult) -> None:
        state = "success" if result.ok else "failure"
        self._send(result.revision, state, f"{result.env}: {result.summary()}")

    def _send(self, sha: str | None, state: str, description: str) -> None:
        if self.sink is None or not sha:
            return
        try:
            self.sink.set_status(sha, STATUS_CONTEXT, state, description, self.target_url)
        except PromoterError as err:
            log.warning("could not set the %s status on %s: %s", STATUS_CONTEXT, sha[:12], err)


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


class StatusServer:
    """`/metrics`, `/healthz`, `/status` (GET) and `/trigger` (POST) on
    `host`:`port` (0: a free port, see `.port`), in a daemon thread."""

    def __init__(
        self,
        metrics: Metrics,
        port: int,
        *,
        host: str = "0.0.0.0",
        stale_after: float = 600.0,
        on_trigger: Callable[[], None] | None = None,
    ) -> None:
        self.metrics = metrics
        self.stale_after = stale_after
        self.on_trigger = on_trigger
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                outer._handle(self)

            def do_POST(self) -> None:
                outer._trigger(self)

            def log_message(self, format: str, *args: Any) -> None:
                pass  # probes every few seconds would drown the agent's own log

        self._server = ThreadingHTTPServer((host, port), Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(
            target=self._server.serve_forever, name="promoter-metrics", daemon=True
        )

    @property
    def port(self) -> int:
        return int(self._server.server_address[1])

    def start(self) -> StatusServer:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)

    def _trigger(self, handler: BaseHTTPRequestHandler) -> None:
        # Only wakes the loop early (it then polls git as usual): the body is
        # not read for anything, so an unauthenticated caller can at most make
        # the agent poll sooner; rounds never overlap.
        length = int(handler.headers.get("Content-Length") or 0)
        if length:
            handler.rfile.read(min(length, 1 << 20))
        if handler.path.split("?")[0] == "/trigger" and self.on_trigger is not None:
            self.on_trigger()
            self._send(handler, 202, "text/plain", "triggered\n")
        else:
            self._send(handler, 404, "text/plain", "not found\n")

    def _handle(self, handler: BaseHTTPRequestHandler) -> None:
        path = handler.path.split("?")[0]
        if path == "/metrics":
            body, ctype, code = self.metrics.render(), "text/plain; version=0.0.4", 200
        elif path == "/healthz":
            # Liveness: the loop still turns. A failing round is not a dead agent.
            ok = self.metrics.alive(self.stale_after)
            body, ctype, code = ("ok\n" if ok else "stalled\n"), "text/plain", 200 if ok else 503
        elif path == "/status":
            body = json.dumps(self.metrics.status(), indent=2) + "\n"
            ctype, code = "application/json", 200
        else:
            body, ctype, code = "not found\n", "text/plain", 404
        self._send(handler, code, ctype, body)

    @staticmethod
    def _send(handler: BaseHTTPRequestHandler, code: int, ctype: str, body: str) -> None:
        data = body.encode("utf-8")
        handler.send_response(code)
        handler.send_header("Content-Type", ctype)
        handler.send_header("Content-Length", str(len(data)))
        handler.end_headers()
        handler.wfile.write(data)
