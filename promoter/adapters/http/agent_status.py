"""The agent's HTTP endpoints: `/metrics` (Prometheus), `/healthz`, `/status`
(the last round as JSON), and `POST /trigger`, which wakes the loop early."""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from promoter.adapters.metrics import CONTENT_TYPE, Metrics


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
            body, ctype, code = self.metrics.render(), CONTENT_TYPE, 200
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
