"""`promoter serve`: the webhook receiver, over real HTTP on 127.0.0.1.

Every refused delivery is checked twice: the HTTP status, and that nothing
was dispatched (the side effect a forged or replayed delivery would want)."""

from __future__ import annotations

import hashlib
import hmac
import http.client
import json
import logging
import os
import shutil
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import pytest

import promoter.adapters.forges.session
from promoter.adapters.http.webhook_auth import ReplayGuard, WebhookSettings
from promoter.adapters.http.webhooks import Busy, WebhookServer, Worker
from promoter.core.chatops.events import Event
from promoter.errors import InputError
from promoter.workflows.bot import run_event, same_repository, served_url
from tests.conftest import EXAMPLE, make_remote
from tests.fakeforge import SleepRecorder, github_fake
from tests.test_bot import (
    GH_CLONE,
    github_comment_payload,
    gitlab_mr_payload,
    gitlab_note_payload,
)

SECRET = "whsec-github-s3cret-value"
GITLAB_TOKEN = "glwh-gitlab-t0ken-value"
MAX_BODY = 64 * 1024


class Served:
    """A running receiver and what it dispatched."""

    def __init__(self, server: WebhookServer, dispatched: list[Event]) -> None:
        self.server = server
        self.dispatched = dispatched
        self.port = server.server_address[1]

    def request(
        self,
        method: str,
        path: str,
        body: bytes | None = None,
        headers: dict[str, str] | None = None,
        *,
        length: int | None = None,
    ) -> tuple[int, str]:
        """Send a request; `length` overrides Content-Length (None: the body's;
        -1: no Content-Length header at all)."""
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=5)
        try:
            conn.putrequest(method, path, skip_accept_encoding=True)
            for key, value in (headers or {}).items():
                conn.putheader(key, value)
            size = len(body or b"") if length is None else length
            if size >= 0 and (body is not None or length is not None):
                conn.putheader("Content-Length", str(size))
            conn.endheaders()
            if body:
                conn.send(body)
            response = conn.getresponse()
            return response.status, response.read().decode()
        finally:
            conn.close()

    def github(self, payload: object, *, event: str = "issue_comment", **kw: Any) -> int:
        body = json.dumps(payload).encode()
        headers = github_headers(body, event=event, **kw)
        return self.request("POST", "/webhook", body, headers)[0]

    def gitlab(self, payload: object, *, token: str | None = GITLAB_TOKEN, **kw: Any) -> int:
        body = json.dumps(payload).encode()
        headers = gitlab_headers(token=token, **kw)
        return self.request("POST", "/webhook", body, headers)[0]


def signature(body: bytes, secret: str = SECRET) -> str:
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


_ids = iter(range(1, 1_000_000))


def github_headers(
    body: bytes,
    *,
    event: str = "issue_comment",
    delivery: str | None = None,
    secret: str | None = SECRET,
) -> dict[str, str]:
    headers = {
        "Content-Type": "application/json",
        "User-Agent": "GitHub-Hookshot/044aadd",
        "X-GitHub-Event": event,
        "X-GitHub-Delivery": delivery or f"72d3162e-cc78-11e3-81ab-{next(_ids):012d}",
        "X-GitHub-Hook-ID": "292430182",
    }
    if secret is not None:
        headers["X-Hub-Signature-256"] = signature(body, secret)
    return headers


def gitlab_headers(
    *, token: str | None = GITLAB_TOKEN, event: str = "Note Hook", delivery: str | None = None
) -> dict[str, str]:
    headers = {
        "Content-Type": "application/json",
        "User-Agent": "GitLab/17.5.0",
        "X-Gitlab-Event": event,
        "X-Gitlab-Event-UUID": delivery or f"13792a34-cac6-4fda-95a8-{next(_ids):012d}",
        "X-Gitlab-Instance": "https://gitlab.com",
    }
    if token is not None:
        headers["X-Gitlab-Token"] = token
    return headers


def _start(settings: WebhookSettings, dispatch: Any) -> Iterator[WebhookServer]:
    server = WebhookServer(("127.0.0.1", 0), settings, dispatch)
    thread = threading.Thread(
        target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
    )
    thread.start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)


@pytest.fixture
def served() -> Iterator[Served]:
    dispatched: list[Event] = []
    settings = WebhookSettings(github_secret=SECRET, gitlab_token=GITLAB_TOKEN, max_body=MAX_BODY)
    for server in _start(settings, dispatched.append):
        yield Served(server, dispatched)


# --- GitHub ---------------------------------------------------------------------------------


def test_valid_github_delivery_is_accepted_and_dispatched_once(served: Served) -> None:
    payload = github_comment_payload("/check", user="alice", number=3)
    body = json.dumps(payload).encode()
    status, text = served.request("POST", "/webhook", body, github_headers(body))
    assert (status, json.loads(text)["message"]) == (202, "accepted")
    (event,) = served.dispatched
    assert (event.forge, event.pr_number, event.author, event.body) == (
        "github",
        3,
        "alice",
        "/check",
    )


def test_unsigned_github_delivery_is_refused(served: Served) -> None:
    body = json.dumps(github_comment_payload("/promote prod-eu")).encode()
    status, text = served.request("POST", "/webhook", body, github_headers(body, secret=None))
    assert status == 401 and "missing X-Hub-Signature-256" in text
    no_forge_headers = {"Content-Type": "application/json"}
    assert served.request("POST", "/webhook", body, no_forge_headers)[0] == 401
    assert served.dispatched == []


@pytest.mark.parametrize(
    "bad",
    [
        "sha256=" + "0" * 64,
        signature(b"another body"),
        signature(b"", "other-secret"),
        "sha1=0123",
        "sha256=ünïcode",
    ],
)
def test_wrongly_signed_github_delivery_is_refused(served: Served, bad: str) -> None:
    body = json.dumps(github_comment_payload("/promote prod-eu")).encode()
    headers = {**github_headers(body), "X-Hub-Signature-256": bad}
    status, text = served.request("POST", "/webhook", body, headers)
    assert status == 401 and "wrong X-Hub-Signature-256" in text
    assert served.dispatched == []


def test_a_signature_covers_the_body_as_sent(served: Served) -> None:
    body = json.dumps(github_comment_payload("/check")).encode()
    headers = github_headers(body)
    tampered = body.replace(b"/check", b"/rollback")
    assert served.request("POST", "/webhook", tampered, headers)[0] == 401
    assert served.dispatched == []


def test_replayed_delivery_is_refused(served: Served) -> None:
    body = json.dumps(github_comment_payload("/promote prod-eu")).encode()
    headers = github_headers(body, delivery="d-1")
    assert served.request("POST", "/webhook", body, headers)[0] == 202
    status, text = served.request("POST", "/webhook", body, headers)
    assert status == 409 and "replayed" in text
    # Same signed body under a fresh delivery id: GitHub signs only the body.
    again = github_headers(body, delivery="d-2")
    assert served.request("POST", "/webhook", body, again)[0] == 409
    # A new body reusing a delivery id.
    other = json.dumps(github_comment_payload("/check")).encode()
    assert (
        served.request("POST", "/webhook", other, github_headers(other, delivery="d-1"))[0] == 409
    )
    assert len(served.dispatched) == 1


def test_oversized_delivery_is_refused_unread(served: Served) -> None:
    headers = github_headers(b"{}")
    # Only the headers are sent: a server that tried to read the body would
    # wait for it, and the client would time out instead of getting 413.
    start = time.monotonic()
    status, text = served.request("POST", "/webhook", None, headers, length=MAX_BODY + 1)
    assert status == 413 and f"over {MAX_BODY} bytes" in text
    assert time.monotonic() - start < 3
    assert served.dispatched == []


def test_delivery_without_content_length_is_refused(served: Served) -> None:
    body = json.dumps(github_comment_payload("/check")).encode()
    status, _ = served.request("POST", "/webhook", None, github_headers(body), length=-1)
    assert status == 411
    chunked = {**github_headers(body), "Transfer-Encoding": "chunked"}
    assert served.request("POST", "/webhook", None, chunked, length=-1)[0] == 411
    assert served.dispatched == []


def test_signed_but_not_json_is_a_bad_request(served: Served) -> None:
    body = b"payload that is not json"
    assert served.request("POST", "/webhook", body, github_headers(body))[0] == 400
    missing_field = github_comment_payload("/check")
    del missing_field["comment"]["id"]
    assert served.github(missing_field) == 400
    assert served.dispatched == []


def test_form_encoded_github_delivery(served: Served) -> None:
    body = urlencode({"payload": json.dumps(github_comment_payload("/diff"))}).encode()
    headers = {**github_headers(body), "Content-Type": "application/x-www-form-urlencoded"}
    assert served.request("POST", "/webhook", body, headers)[0] == 202
    assert [e.body for e in served.dispatched] == ["/diff"]


def test_events_the_bot_does_not_handle_are_ignored(served: Served) -> None:
    ping = {"zen": "Design for failure.", "hook_id": 1, **github_comment_payload("/check")}
    assert served.github(ping, event="ping") == 202
    assert served.github(github_comment_payload("/check"), event="push") == 202
    assert served.github(github_comment_payload("/check", action="edited")) == 202
    assert served.dispatched == []


def test_delivery_without_id_is_refused(served: Served) -> None:
    body = json.dumps(github_comment_payload("/check")).encode()
    headers = github_headers(body)
    del headers["X-GitHub-Delivery"]
    status, text = served.request("POST", "/webhook", body, headers)
    assert status == 400 and "delivery id" in text
    assert served.dispatched == []


# --- GitLab ---------------------------------------------------------------------------------


def test_gitlab_token_right_and_wrong(served: Served) -> None:
    assert served.gitlab(gitlab_note_payload("/check"), token="wrong-token") == 401
    assert served.gitlab(gitlab_note_payload("/check"), token=None) == 401
    assert served.gitlab(gitlab_note_payload("/check"), token=GITLAB_TOKEN[:-1]) == 401
    assert served.dispatched == []
    assert served.gitlab(gitlab_note_payload("/check", note_id=9)) == 202
    assert served.gitlab(gitlab_mr_payload(action="open"), event="Merge Request Hook") == 202
    assert [(e.kind, e.comment_id) for e in served.dispatched] == [
        ("comment", 9),
        ("pull_request", None),
    ]


def test_gitlab_replay(served: Served) -> None:
    assert served.gitlab(gitlab_note_payload("/check"), delivery="uuid-1") == 202
    assert served.gitlab(gitlab_note_payload("/diff"), delivery="uuid-1") == 409
    assert len(served.dispatched) == 1


def test_a_forge_without_a_secret_is_refused() -> None:
    dispatched: list[Event] = []
    for server in _start(WebhookSettings(gitlab_token=GITLAB_TOKEN), dispatched.append):
        s = Served(server, dispatched)
        assert s.github(github_comment_payload("/check")) == 401
        assert s.gitlab(gitlab_note_payload("/check")) == 202
    assert len(dispatched) == 1 and dispatched[0].forge == "gitlab"


# --- routes, limits, logging ----------------------------------------------------------------


def test_routes(served: Served) -> None:
    assert served.request("GET", "/healthz") == (200, "ok")
    assert served.request("GET", "/webhook")[0] == 405
    assert served.request("PUT", "/webhook", b"{}")[0] == 405
    body = json.dumps(github_comment_payload("/check")).encode()
    assert served.request("POST", "/hooks", body, github_headers(body))[0] == 404
    assert served.dispatched == []


def test_repositories_not_served_are_ignored() -> None:
    dispatched: list[Event] = []
    urls = ("https://github.com/acme/env.git",)
    settings = WebhookSettings(
        github_secret=SECRET, accepts=lambda e: served_url(urls, e) is not None
    )
    for server in _start(settings, dispatched.append):
        s = Served(server, dispatched)
        evil = github_comment_payload("/check", clone_url="https://evil.example/acme/env.git")
        assert s.github(evil) == 202
        assert dispatched == []
        assert (
            s.github(github_comment_payload("/check", clone_url="https://GitHub.com/acme/env"))
            == 202
        )
    assert len(dispatched) == 1


def test_busy_dispatcher_is_503() -> None:
    def busy(event: Event) -> None:
        raise Busy

    for server in _start(WebhookSettings(github_secret=SECRET), busy):
        assert Served(server, []).github(github_comment_payload("/check")) == 503


def test_secrets_and_signatures_are_never_logged(served: Served, caplog) -> None:
    caplog.set_level(logging.DEBUG, logger="promoter")
    body = json.dumps(github_comment_payload("/check")).encode()
    good = github_headers(body)
    served.request("POST", "/webhook", body, good)
    served.request("POST", "/webhook", body, {**github_headers(body), "X-Hub-Signature-256": "x"})
    served.gitlab(gitlab_note_payload("/check"))
    logged = caplog.text
    assert "POST /webhook" in logged  # it does log requests
    for secret in (
        SECRET,
        GITLAB_TOKEN,
        good["X-Hub-Signature-256"],
        good["X-Hub-Signature-256"][7:],
    ):
        assert secret not in logged


def test_server_refuses_to_start_without_a_secret() -> None:
    with pytest.raises(InputError, match="needs a secret"):
        WebhookServer(("127.0.0.1", 0), WebhookSettings(), lambda e: None)


def test_serve_command_needs_a_secret_and_repositories(run, monkeypatch) -> None:
    monkeypatch.delenv("PROMOTER_WEBHOOK_SECRET", raising=False)
    monkeypatch.delenv("PROMOTER_GITLAB_WEBHOOK_TOKEN", raising=False)
    no_secret = run("serve", "--port", "0", "--repo-url", GH_CLONE)
    assert no_secret.exit_code == 2
    assert "PROMOTER_WEBHOOK_SECRET" in no_secret.stderr
    no_repo = run("serve", "--port", "0", env={"PROMOTER_WEBHOOK_SECRET": SECRET})
    assert no_repo.exit_code == 2 and "--repo-url" in no_repo.stderr


# --- pieces ---------------------------------------------------------------------------------


def test_replay_guard_is_bounded() -> None:
    guard = ReplayGuard(size=2)
    assert [guard.seen(k) for k in ("a", "b", "a", "c")] == [False, False, True, False]
    assert guard.seen("c") and guard.seen("a")  # kept: recently seen
    assert not guard.seen("b")  # forgotten: the oldest


def test_worker_runs_events_in_order_and_survives_errors(caplog) -> None:
    done: list[int] = []

    def handler(event: Event) -> None:
        if event.pr_number == 2:
            raise RuntimeError("boom https://u:pass-word-123@example.com")
        done.append(event.pr_number)

    worker = Worker(handler)
    for n in (1, 2, 3):
        worker(Event("github", "comment", n, 1, "alice", "/check", "created", GH_CLONE, "a/b"))
    worker.close(timeout=5)
    assert done == [1, 3]
    assert "boom" in caplog.text and "pass-word-123" not in caplog.text


def test_same_repository() -> None:
    assert same_repository("https://github.com/acme/env.git", "https://GITHUB.com/Acme/env/")
    assert same_repository("https://tok:x@github.com/acme/env", "https://github.com/acme/env.git")
    assert not same_repository("https://github.com/acme/env", "https://github.com/acme/env2")
    assert not same_repository("https://github.com/acme/env", "https://evil.example/acme/env")


# --- the default dispatch, end to end ------------------------------------------------------


def test_a_signed_delivery_runs_the_command(run, tmp_path: Path, monkeypatch) -> None:
    """serve's wiring: a verified /check delivery is handled against the
    served repository (real clone), setting the status on the forge."""
    monkeypatch.setattr(promoter.adapters.forges.session, "sleep", SleepRecorder())
    token = "ghp_serveTOKEN12345"
    source = tmp_path / "src"
    shutil.copytree(EXAMPLE, source)
    config = source / "promoter.yaml"
    config.write_text(
        config.read_text().replace(
            "defaults:\n", "forge:\n  type: github\n  repository: acme/env\ndefaults:\n"
        )
    )
    remote = make_remote(tmp_path, source)
    environ = {"GITHUB_TOKEN": token}
    with github_fake(repo="acme/env", token=token, permissions={"alice": "write"}) as gh:
        gh.rsps.add_passthru("http://127.0.0.1")
        for args in (
            ("bump", "--repo-url", remote.url, "--env", "dev", "--service", "api", "--tag", "2.0"),
            ("promote", "--repo-url", remote.url, "--from", "dev", "--to", "staging", "--all"),
        ):
            assert run(*args, env=environ).exit_code == 0
        comment = gh.add_comment(1, "/check", user="alice")
        worker = Worker(lambda e: run_event(e, environ=environ, repo_url=remote.url))
        settings = WebhookSettings(github_secret=SECRET)
        for server in _start(settings, worker):
            payload = github_comment_payload(
                "/check", comment_id=comment["id"], clone_url=remote.url
            )
            assert Served(server, []).github(payload) == 202
        worker.close(timeout=60)
        head = gh.pulls[1]["head"]["sha"]
        assert gh.latest_statuses(head)["promoter/policy"]["state"] == "success"
        assert [r["content"] for r in gh.reactions[comment["id"]]] == ["eyes", "+1"]


def test_serve_command_reports_a_busy_port(run, monkeypatch) -> None:
    monkeypatch.delenv("PROMOTER_GITLAB_WEBHOOK_TOKEN", raising=False)
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = str(taken.getsockname()[1])
        result = run(
            "serve", "--port", port, "--repo-url", GH_CLONE, env={"PROMOTER_WEBHOOK_SECRET": SECRET}
        )
    assert result.exit_code == 2, result.output
    assert f"cannot listen on 127.0.0.1:{port}" in result.stderr


def test_a_trickling_body_is_cut_off_at_the_request_deadline(served: Served, monkeypatch) -> None:
    """One byte every few seconds must not hold a thread for ever (the per-read
    timeout alone would allow it): the whole body has a deadline."""
    import socket

    import promoter.adapters.http.webhooks as server_module

    monkeypatch.setattr(server_module, "REQUEST_DEADLINE_S", 1.0)
    headers = github_headers(b"{}")
    head = "".join(f"{k}: {v}\r\n" for k, v in headers.items() if k != "Content-Length")
    with socket.create_connection(("127.0.0.1", served.port), timeout=10) as sock:
        sock.sendall(
            f"POST /webhook HTTP/1.1\r\nHost: 127.0.0.1\r\n{head}"
            "Content-Length: 100\r\n\r\n".encode()
        )
        start = time.monotonic()
        answer = b""
        for _ in range(8):  # keep trickling until the server answers
            sock.sendall(b"x")
            sock.settimeout(0.4)
            try:
                answer = sock.recv(4096)
            except TimeoutError:
                continue
            if answer:
                break
        elapsed = time.monotonic() - start
    assert answer.startswith(b"HTTP/1.0 40") or answer.startswith(b"HTTP/1.1 40"), answer
    assert elapsed < 3.5
    assert served.dispatched == []


def test_serve_log_lines_carry_timestamps(tmp_path) -> None:
    """A long-running receiver's log must say when things happened."""
    import re
    import subprocess
    import sys
    import urllib.request

    env = {**os.environ, "PROMOTER_WEBHOOK_SECRET": SECRET}
    proc = subprocess.Popen(
        [sys.executable, "-m", "promoter", "serve", "--port", "0", "--repo-url", GH_CLONE],
        env=env,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stderr is not None
        first = proc.stderr.readline()
        port = re.search(r"127\.0\.0\.1:(\d+)/webhook", first)
        assert port, first
        with urllib.request.urlopen(f"http://127.0.0.1:{port.group(1)}/healthz", timeout=5):
            pass
        proc.terminate()
        _, rest = proc.communicate(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
    lines = [first.rstrip("\n"), *rest.splitlines()]
    stamp = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d[+-]\d{4} ")
    assert len(lines) >= 2 and all(stamp.match(line) for line in lines), lines
    assert any("GET /healthz" in line for line in lines), lines


def test_a_trickling_request_head_is_cut_off_at_its_deadline(served: Served, monkeypatch) -> None:
    """Header lines one every 0.4 s: each read is quick, so only a deadline on
    the whole head stops a client from holding a slot for ever."""
    import socket

    import promoter.adapters.http.webhooks as server_module

    monkeypatch.setattr(server_module, "HEAD_DEADLINE_S", 1.0)
    with socket.create_connection(("127.0.0.1", served.port), timeout=10) as sock:
        sock.sendall(b"POST /webhook HTTP/1.1\r\nHost: 127.0.0.1\r\n")
        start = time.monotonic()
        closed = False
        for i in range(20):
            try:
                sock.sendall(f"X-Slow-{i}: {i}\r\n".encode())
            except OSError:
                closed = True
                break
            sock.settimeout(0.4)
            try:
                if sock.recv(4096) == b"":
                    closed = True
                    break
            except TimeoutError:
                continue
        elapsed = time.monotonic() - start
    assert closed and elapsed < 3.0, elapsed
    assert served.dispatched == []


def test_two_different_content_lengths_are_refused(served: Served) -> None:
    import socket

    body = b"{}"
    headers = github_headers(body)
    head = "".join(f"{k}: {v}\r\n" for k, v in headers.items() if k != "Content-Length")
    with socket.create_connection(("127.0.0.1", served.port), timeout=10) as sock:
        sock.sendall(
            f"POST /webhook HTTP/1.1\r\nHost: 127.0.0.1\r\n{head}"
            "Content-Length: 2\r\nContent-Length: 200\r\n\r\n".encode()
            + body
        )
        answer = b""
        while chunk := sock.recv(4096):  # head and body may come apart: read to the close
            answer += chunk
    assert answer.split(b"\r\n", 1)[0].endswith(b"400 Bad Request"), answer
    assert b"conflicting Content-Length headers" in answer
    assert served.dispatched == []
