"""Ctrl-C and a cancelled CI job's SIGTERM end promoter at once.

A git remote on 127.0.0.1 that accepts the connection and never answers
keeps `git clone` waiting; we signal promoter (only promoter, as a CI
runner does) and expect it gone within 2 s with 130 (SIGINT) or 143
(SIGTERM), its git children ended and its temporary clone removed.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import GIT_ENV


@pytest.fixture
def silent_remote() -> Iterator[str]:
    """An HTTP "git remote" that takes connections and says nothing."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(8)
    held: list[socket.socket] = []
    stop = threading.Event()

    def accept() -> None:
        listener.settimeout(0.2)
        while not stop.is_set():
            try:
                conn, _ = listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            held.append(conn)

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{listener.getsockname()[1]}/env.git"
    stop.set()
    thread.join(timeout=2)
    for conn in held:
        conn.close()
    listener.close()


def _git_children(pid: int) -> list[int]:
    """Processes (any depth) whose parent chain reaches `pid`, or that carry
    our marker in their environment: git may have been re-parented."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            environ = (entry / "environ").read_bytes()
        except OSError:
            continue
        if f"PROMOTER_TEST_MARKER={pid}".encode() in environ and int(entry.name) != pid:
            found.append(int(entry.name))
    return found


@pytest.mark.parametrize(("signum", "code"), [(signal.SIGINT, 130), (signal.SIGTERM, 143)])
def test_a_signal_ends_a_hanging_bump_within_two_seconds(
    silent_remote: str, tmp_path: Path, signum: int, code: int
) -> None:
    tmpdir = tmp_path / "tmp"
    tmpdir.mkdir()
    env = {**os.environ, **GIT_ENV, "TMPDIR": str(tmpdir)}
    env.pop("PROMOTER_TEST_MARKER", None)
    proc = subprocess.Popen(
        [
            sys.executable,
            "-c",
            # The marker in the environment finds git's processes later, at any depth.
            "import os, sys; os.environ['PROMOTER_TEST_MARKER'] = str(os.getpid()); "
            "from promoter.cli import main; sys.argv = ['promoter', *sys.argv[1:]]; main()",
            "bump",
            "--repo-url",
            silent_remote,
            "--env",
            "dev",
            "--service",
            "api",
            "--tag",
            "1.2.3",
        ],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    deadline = time.monotonic() + 20
    while not _git_children(proc.pid):  # git is running and waiting on the remote
        assert proc.poll() is None, proc.communicate()
        assert time.monotonic() < deadline, "git never started"
        time.sleep(0.05)
    time.sleep(0.3)
    proc.send_signal(signum)
    sent = time.monotonic()
    try:
        _, err = proc.communicate(timeout=10)
    finally:
        if proc.poll() is None:
            proc.kill()
    took = time.monotonic() - sent
    assert took < 2.0, f"still running {took:.1f} s after the signal"
    assert proc.returncode == code, err.decode()
    assert ("interrupted" if code == 130 else "terminated") in err.decode()
    deadline = time.monotonic() + 2
    while _git_children(proc.pid) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not _git_children(proc.pid), "git children outlived promoter"
    assert list(tmpdir.iterdir()) == [], "temporary clone left behind"
