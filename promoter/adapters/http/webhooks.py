"""`promoter serve`: a small webhook receiver for GitHub and GitLab.

    POST /webhook   a delivery: verified, de-duplicated, parsed, dispatched (202)
    GET  /healthz   200 "ok"
    GET  /metrics   Prometheus text: the forge APIs' remaining rate-limit quota

Checks, in this order, each refusing before any work is done:

1. Size: a Content-Length is required (411 without one, e.g. chunked
   uploads) and must not exceed `max_body` (413) — decided from the header,
   before a byte of the body is read.
2. Authenticity: GitHub's `X-Hub-Signature-256` (HMAC-SHA256 of the raw body
   with PROMOTER_WEBHOOK_SECRET) or GitLab's `X-Gitlab-Token` (equal to
   PROMOTER_GITLAB_WEBHOOK_TOKEN), compared in constant time. Missing or
   wrong: 401. A GitLab token is checked before the body is read.
3. Replay: the delivery id (`X-GitHub-Delivery` / `X-Gitlab-Event-UUID`,
   required: 400 without) and the body's SHA-256 are remembered (the last
   10,000 of each); either seen before: 409. The body is remembered too
   because GitHub signs only the body: a captured delivery re-sent with a
   fresh delivery id still carries a valid signature.
4. Content: not JSON, or a malformed event: 400; an event the bot does not
   handle, or one for a repository this server does not serve: 202 ignored.

Accepted events go to `dispatch(event)`, which must return quickly (forges
give up on a delivery after ~10 s): the default `Worker` queues them for one
background thread, which also serialises promotions. A full queue is 503.
Secrets and signatures are never logged or echoed.
"""

from __future__ import annotations

import hashlib
import json
import logging
import queue
import socket
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import IO, TYPE_CHECKING, Any, cast
from urllib.parse import parse_qs, unquote, urlsplit
from wsgiref.handlers import SimpleHandler

from promoter.adapters.http.webhook_auth import (
    ReplayGuard,
    WebhookSettings,
    github_signature,
    require_secret,
    same_secret,
)
from promoter.core import masking
from promoter.core.chatops.events import Event, Ignored, parse_event
from promoter.errors import InputError

if TYPE_CHECKING:
    from wsgiref.types import WSGIApplication

log = logging.getLogger("promoter.bot.server")

Dispatch = Callable[[Event], object]


class Busy(Exception):
    """The dispatcher cannot take another event now (answered with 503)."""


class Worker:
    """Queue events for one background thread that runs `handler` on each
    (errors are logged, masked, and do not stop the thread)."""

    def __init__(self, handler: Callable[[Event], object], maxsize: int = 100) -> None:
        self.handler = handler
        self._queue: queue.Queue[Event | None] = queue.Queue(maxsize)
        self._thread = threading.Thread(target=self._run, name="promoter-bot", daemon=True)
        self._thread.start()

    def __call__(self, event: Event) -> None:
        try:
            self._queue.put_nowait(event)
        except queue.Full:
            raise Busy from None

    def _run(self) -> None:
        while (event := self._queue.get()) is not None:
            try:
                outcome = self.handler(event)
                log.info("%s: %s", event.describe(), getattr(outcome, "outcome", "done"))
            except Exception as err:  # one bad event must not stop the bot
                log.error("%s: %s", event.describe(), masking.mask(str(err)))

    def close(self, timeout: float | None = None) -> None:
        """Finish the queued events, then stop."""
        self._queue.put(None)
        self._thread.join(timeout)


@dataclass(frozen=True)
class Answer:
    status: int
    message: str
    event: Event | None = None


REQUEST_DEADLINE_S = 30.0
HEAD_DEADLINE_S = 10.0
"""The request line and every header must arrive within this, in all: a
per-read timeout alone let 32 clients each send a header line every few
seconds and hold every slot."""
DASHBOARD_PREFIX = "/dashboard"
MAX_CONNECTIONS = 32


class WebhookServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(
        self,
        address: tuple[str, int],
        settings: WebhookSettings,
        dispatch: Dispatch,
        guard: ReplayGuard | None = None,
        dashboard: WSGIApplication | None = None,
    ) -> None:
        require_secret(settings)
        self.dashboard = dashboard
        """The dashboard's pages, mounted under /dashboard (read-only GETs)."""
        self.settings = settings
        self.dispatch = dispatch
        self.guard = guard or ReplayGuard()
        self._slots = threading.BoundedSemaphore(MAX_CONNECTIONS)
        super().__init__(address, _Handler)

    def process_request(self, request: Any, client_address: Any) -> None:
        # Bounded concurrency: past MAX_CONNECTIONS open requests, new ones are
        # closed at once instead of each taking a thread and up to max-body.
        if not self._slots.acquire(blocking=False):
            self.shutdown_request(request)
            return
        super().process_request(request, client_address)

    def process_request_thread(self, request: Any, client_address: Any) -> None:
        try:
            super().process_request_thread(request, client_address)
        finally:
            self._slots.release()


class _HeadReader:
    """The connection's reader, giving the request head (line and headers)
    one deadline in all; reads of the body pass through untouched."""

    def __init__(self, raw: Any, sock: socket.socket, per_read: float) -> None:
        self.raw, self.sock, self.per_read = raw, sock, per_read
        self.deadline = time.monotonic() + HEAD_DEADLINE_S

    def readline(self, limit: int = -1) -> bytes:
        left = self.deadline - time.monotonic()
        if left <= 0:
            raise TimeoutError("request head deadline passed")
        self.sock.settimeout(min(left, self.per_read))
        line: bytes = self.raw.readline(limit)
        return line

    def __getattr__(self, name: str) -> Any:
        return getattr(self.raw, name)


class _Handler(BaseHTTPRequestHandler):
    server: WebhookServer
    timeout = 15  # seconds per socket read: a slow client cannot hold a thread forever

    def setup(self) -> None:
        super().setup()
        self.rfile = _HeadReader(self.rfile, self.connection, float(self.timeout))  # type: ignore[assignment]

    def _read_body(self, length: int) -> bytes:
        """Read the body within REQUEST_DEADLINE_S in all: a per-read timeout
        alone lets a client trickle one byte every few seconds for ever."""
        deadline = time.monotonic() + REQUEST_DEADLINE_S
        chunks: list[bytes] = []
        remaining = length
        while remaining > 0:
            left = deadline - time.monotonic()
            if left <= 0:
                break
            self.connection.settimeout(min(left, self.timeout))
            try:
                chunk = self.rfile.read1(min(remaining, 65536))
            except TimeoutError:
                break
            if not chunk:
                break
            chunks.append(chunk)
            remaining -= len(chunk)
        return b"".join(chunks)

    def version_string(self) -> str:
        return "promoter"  # no Python version for scanners

    # -- routing ----------------------------------------------------------------------------

    def do_GET(self) -> None:
        path = self._path()
        if path == "/healthz":
            self._send(200, "ok", plain=True)
        elif path == "/metrics":
            self._metrics()
        elif self.server.dashboard is not None and (path + "/").startswith(DASHBOARD_PREFIX + "/"):
            self._wsgi(self.server.dashboard)
        else:
            self._not_post()

    def _metrics(self) -> None:
        from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest

        from promoter.adapters.forges.quota import QuotaCollector

        registry = CollectorRegistry(auto_describe=True)
        registry.register(QuotaCollector())
        body = generate_latest(registry)
        self.send_response(200)
        self.send_header("Content-Type", CONTENT_TYPE_LATEST)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def _wsgi(self, app: WSGIApplication) -> None:
        """Hand the request to a WSGI app through the standard library's
        gateway (wsgiref), one request per connection."""
        target = urlsplit(self.path)
        environ = {
            "REQUEST_METHOD": self.command,
            "SCRIPT_NAME": DASHBOARD_PREFIX,
            "PATH_INFO": unquote(target.path[len(DASHBOARD_PREFIX) :]) or "/",
            "QUERY_STRING": target.query,
            "SERVER_NAME": str(self.server.server_address[0]),
            "SERVER_PORT": str(self.server.server_address[1]),
            "SERVER_PROTOCOL": "HTTP/1.0",
            "REMOTE_ADDR": self.client_address[0],
            "CONTENT_LENGTH": "0",
            **{
                "HTTP_" + k.upper().replace("-", "_"): v
                for k, v in self.headers.items()
                if k.lower() not in ("content-length", "content-type")
            },
        }
        out = cast(IO[bytes], self.wfile)  # a socket file: what wsgiref writes to
        gateway = SimpleHandler(self.rfile, out, sys.stderr, environ, multithread=True)
        gateway.http_version = "1.0"
        gateway.server_software = "promoter"
        self.close_connection = True
        gateway.run(app)

    def do_POST(self) -> None:
        if self._path() != "/webhook":
            self._send(404, "not found")
            return
        answer = self._receive()
        if answer.event is not None:
            try:
                self.server.dispatch(answer.event)
            except Busy:
                answer = Answer(503, "busy: try again later")
        self._send(answer.status, answer.message)

    def do_PUT(self) -> None:
        self._not_post()

    def do_PATCH(self) -> None:
        self._not_post()

    def do_DELETE(self) -> None:
        self._not_post()

    def _not_post(self) -> None:
        if self._path() == "/webhook":
            self._send(405, "use POST", headers={"Allow": "POST"})
        else:
            self._send(404, "not found")

    def _path(self) -> str:
        return self.path.split("?", 1)[0]

    # -- the checks -------------------------------------------------------------------------

    def _receive(self) -> Answer:
        settings = self.server.settings
        forge = _forge_of(self.headers)
        if "Transfer-Encoding" in self.headers or "Content-Length" not in self.headers:
            return Answer(411, "a Content-Length is required")
        if len(set(self.headers.get_all("Content-Length") or [])) > 1:
            # Which one a proxy in front believed is unknowable: refuse both.
            return Answer(400, "conflicting Content-Length headers")
        try:
            length = int(self.headers["Content-Length"])
        except ValueError:
            return Answer(400, "bad Content-Length")
        if length < 0:
            return Answer(400, "bad Content-Length")
        if length > settings.max_body:
            return Answer(413, f"body over {settings.max_body} bytes")
        if forge is None:
            return Answer(401, "unsigned delivery (no X-Hub-Signature-256 or X-Gitlab-Token)")
        if forge == "gitlab":
            given = self.headers.get("X-Gitlab-Token")
            if not settings.gitlab_token:
                return Answer(401, "GitLab deliveries are not accepted here")
            if not given:
                return Answer(401, "missing X-Gitlab-Token")
            if not same_secret(given, settings.gitlab_token):
                return Answer(401, "wrong X-Gitlab-Token")
            body = self._read_body(length)
        else:
            signature = self.headers.get("X-Hub-Signature-256")
            if not settings.github_secret:
                return Answer(401, "GitHub deliveries are not accepted here")
            if not signature:
                return Answer(401, "missing X-Hub-Signature-256")
            body = self._read_body(length)
            if not same_secret(signature, github_signature(settings.github_secret, body)):
                return Answer(401, "wrong X-Hub-Signature-256")
        if len(body) != length:
            return Answer(400, "body shorter than its Content-Length")
        delivery = self.headers.get(
            "X-GitHub-Delivery" if forge == "github" else "X-Gitlab-Event-UUID"
        )
        if not delivery:
            return Answer(400, "missing delivery id")
        digest = hashlib.sha256(body).hexdigest()
        guard = self.server.guard
        # `|`, not `or`: remember both, whichever was seen.
        if guard.seen(f"{forge}:delivery:{delivery}") | guard.seen(f"{forge}:body:{digest}"):
            return Answer(409, "replayed delivery")
        return self._parse(forge, body)

    def _parse(self, forge: str, body: bytes) -> Answer:
        try:
            payload = _payload(body, self.headers.get("Content-Type") or "")
            name = self.headers.get("X-GitHub-Event" if forge == "github" else "X-Gitlab-Event")
            parsed = parse_event(payload, forge=forge, event_name=name)
        except InputError as err:
            return Answer(400, err.message)
        if isinstance(parsed, Ignored):
            return Answer(202, f"ignored: {parsed.reason}")
        accepts = self.server.settings.accepts
        if accepts is not None and not accepts(parsed):
            return Answer(202, "ignored: this server does not serve that repository")
        return Answer(202, "accepted", parsed)

    # -- output -----------------------------------------------------------------------------

    def _send(
        self,
        status: int,
        message: str,
        *,
        plain: bool = False,
        headers: dict[str, str] | None = None,
    ) -> None:
        data = (message if plain else json.dumps({"status": status, "message": message})).encode()
        self.send_response(status)
        self.send_header("Content-Type", "text/plain" if plain else "application/json")
        self.send_header("Content-Length", str(len(data)))
        for key, value in (headers or {}).items():
            self.send_header(key, value)
        # Whatever of a refused body is still unread must not be taken for a next request.
        self.send_header("Connection", "close")
        self.close_connection = True
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, format: str, *args: Any) -> None:
        # Only the request line and status: never headers (they carry the secrets).
        log.info("%s %s", self.address_string(), masking.mask(format % args))


def _forge_of(headers: Any) -> str | None:
    if "X-Hub-Signature-256" in headers or "X-GitHub-Event" in headers:
        return "github"
    if "X-Gitlab-Token" in headers or "X-Gitlab-Event" in headers:
        return "gitlab"
    return None


def _payload(body: bytes, content_type: str) -> object:
    """The JSON payload (GitHub may also send it form-encoded as `payload=`)."""
    try:
        text = body.decode("utf-8")
        if content_type.split(";")[0].strip().lower() == "application/x-www-form-urlencoded":
            text = parse_qs(text).get("payload", [""])[0]
        return json.loads(text)
    except (UnicodeDecodeError, ValueError) as err:
        raise InputError("the delivery's body is not JSON") from err


def serve(
    host: str,
    port: int,
    settings: WebhookSettings,
    dispatch: Dispatch,
    *,
    ready: Callable[[WebhookServer], None] | None = None,
    dashboard: WSGIApplication | None = None,
) -> None:
    """Serve until interrupted (or `server.shutdown()`)."""
    try:
        server = WebhookServer((host, port), settings, dispatch, dashboard=dashboard)
    except OSError as err:
        raise InputError(
            f"cannot listen on {host}:{port}: {err.strerror or err}",
            hint="choose another --port (or --host)",
        ) from err
    with server:
        if ready is not None:
            ready(server)
        server.serve_forever()
