"""A real OpenSSH server (Debian's `openssh-server`) on 127.0.0.1, serving
the bare repositories of a test over SSH as a git host does: key
authentication only, the test's own key, its own host key pinned in a
known_hosts file (checking stays on).

    with ssh_server(tmp_path) as sshd:
        url = sshd.url(remote.path)            # ssh://USER@127.0.0.1:PORT/abs/env.git
        env = sshd.environ()                   # GIT_SSH_COMMAND with the key
"""

from __future__ import annotations

import getpass
import os
import shutil
import socket
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest

SSHD = shutil.which("sshd") or ("/usr/sbin/sshd" if os.path.exists("/usr/sbin/sshd") else None)
HINT = "apt-get install openssh-server (scripts/test.sh installs it)"


@dataclass(frozen=True)
class SSHServer:
    port: int
    user: str
    key: Path
    known_hosts: Path

    def url(self, repo: Path) -> str:
        return f"ssh://{self.user}@127.0.0.1:{self.port}{repo}"

    def scp_url(self, repo: Path) -> str:
        """`user@host:path` has no port: `environ(scp=True)` passes it to ssh."""
        return f"{self.user}@127.0.0.1:{repo}"

    def environ(self, *, scp: bool = False) -> dict[str, str]:
        port = f" -p {self.port}" if scp else ""
        return {
            "GIT_SSH_COMMAND": (
                f"ssh -i {self.key} -o IdentitiesOnly=yes -o BatchMode=yes{port} "
                f"-o UserKnownHostsFile={self.known_hosts} -o StrictHostKeyChecking=yes"
            )
        }


def _keygen(path: Path) -> None:
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(path)], check=True)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def ssh_server(root: Path, *, protocol_v2: bool = True) -> Iterator[SSHServer]:
    """`protocol_v2`: pass git's GIT_PROTOCOL on, as GitHub's and GitLab's servers
    do (False: an old server that speaks protocol v0 over SSH only)."""
    if SSHD is None:
        pytest.fail(f"sshd is not installed: {HINT}")
    root.mkdir(parents=True, exist_ok=True)
    host_key, client_key = root / "host_ed25519", root / "client_ed25519"
    _keygen(host_key)
    _keygen(client_key)
    authorized = root / "authorized_keys"
    shutil.copy(client_key.with_suffix(".pub"), authorized)
    user = getpass.getuser()
    port = _free_port()
    known = root / "known_hosts"
    known.write_text(f"[127.0.0.1]:{port} {host_key.with_suffix('.pub').read_text()}")
    config = root / "sshd_config"
    config.write_text(
        f"Port {port}\nListenAddress 127.0.0.1\nHostKey {host_key}\n"
        f"AuthorizedKeysFile {authorized}\nPidFile {root / 'sshd.pid'}\n"
        "PasswordAuthentication no\nKbdInteractiveAuthentication no\nUsePAM no\n"
        "StrictModes no\nPermitRootLogin prohibit-password\nAllowTcpForwarding no\n"
        f"AllowUsers {user}\nLogLevel ERROR\n" + ("AcceptEnv GIT_PROTOCOL\n" if protocol_v2 else "")
    )
    if os.geteuid() == 0:
        Path("/run/sshd").mkdir(mode=0o755, exist_ok=True)  # privilege separation
    log = (root / "sshd.log").open("w")
    process = subprocess.Popen([SSHD, "-D", "-e", "-f", str(config)], stdout=log, stderr=log)
    try:
        deadline = time.monotonic() + 10
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
                break
            except OSError:
                if process.poll() is not None or time.monotonic() > deadline:
                    log.flush()
                    pytest.fail(f"sshd did not start: {(root / 'sshd.log').read_text()}")
                time.sleep(0.05)
        yield SSHServer(port, user, client_key, known)
    finally:
        process.terminate()
        process.wait(10)
        log.close()
