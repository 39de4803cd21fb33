"""A real HTTP receiver on 127.0.0.1 for Apprise's `json://` notifications:
it records every POST (path, headers, JSON body) and answers as told —
200, a status code, or not at all for `stall` seconds.

    with receiver() as hook:
        url = hook.url("deploys")          # json://127.0.0.1:PORT/deploys
        ...
        assert [m["title"] for m in hook.messages] == [...]
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass
class Receiver:
    port: int = 0
    status: int = 200
    stall: float = 0.0
    """Seconds to hold each request before answering (a target that hangs)."""
    posts: list[dict[str, Any]] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def url(self, path: str = "hook", query: str = "") -> str:
        return f"json://127.0.0.1:{self.port}/{path}{'?' + query if query else ''}"

    @property
    def messages(self) -> list[dict[str, Any]]:
        with self.lock:
            return [p["body"] for p in self.posts]

    def titles(self) -> list[str]:
        return [str(m["title"]) for m in self.messages]

    def wait_for(self, count: int, timeout: float = 10.0) -> list[dict[str, Any]]:
        end = time.monotonic() + timeout
        while len(self.messages) < count and time.monotonic() < end:
            time.sleep(0.02)
        return self.messages


@contextmanager
def receiver(status: int = 200, stall: float = 0.0) -> Iterator[Receiver]:
    state = Receiver(status=status, stall=stall)
    release = threading.Event()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            raw = self.rfile.read(length)
            with state.lock:
                state.posts.append(
                    {
                        "path": self.path,
                        "headers": dict(self.headers),
                        "body": json.loads(raw) if raw else None,
                    }
                )
            if state.stall:
                release.wait(state.stall)
            self.send_response(state.status)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    state.port = server.server_address[1]
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield state
    finally:
        release.set()
        server.shutdown()
        server.server_close()
