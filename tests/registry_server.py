"""A real OCI registry for tests, and pushing images into it over its API.

The registry is Debian's `docker-registry` (distribution 2.8) listening on
127.0.0.1 with htpasswd (bcrypt) auth; `scripts/test.sh` installs it and
`htpasswd` (apache2-utils). This version accepts htpasswd auth over plain
HTTP, so no certificate is needed.

Images are pushed the way `docker push` does it, minus the daemon: each
blob with a monolithic upload (POST /blobs/uploads/, then PUT ?digest=),
then an OCI image manifest naming a config blob and one layer.
"""

from __future__ import annotations

import gzip
import hashlib
import io
import json
import secrets
import shutil
import socket
import subprocess
import tarfile
import time
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urljoin

import requests

OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
OCI_CONFIG = "application/vnd.oci.image.config.v1+json"
OCI_LAYER = "application/vnd.oci.image.layer.v1.tar+gzip"
BINARIES = ("docker-registry", "htpasswd")


@dataclass
class RegistryServer:
    url: str
    """http://127.0.0.1:PORT"""
    host: str
    """127.0.0.1:PORT, the registry part of image references."""
    username: str
    password: str
    process: subprocess.Popen[bytes]
    log: Path

    @property
    def auth(self) -> tuple[str, str]:
        return self.username, self.password


def free_port() -> int:
    """A port nothing listens on (just now): also what a registry that is down looks like."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def start_registry(workdir: Path, username: str = "promoter-ci") -> RegistryServer:
    missing = [name for name in BINARIES if shutil.which(name) is None]
    if missing:
        raise RuntimeError(
            f"{', '.join(missing)} not on PATH: run scripts/test.sh, which installs the "
            "docker-registry and apache2-utils Debian packages"
        )
    workdir.mkdir(parents=True, exist_ok=True)
    password = "pw-" + secrets.token_urlsafe(16)
    htpasswd = subprocess.run(
        ["htpasswd", "-Bbn", username, password], check=True, capture_output=True, text=True
    ).stdout
    (workdir / "htpasswd").write_text(htpasswd, encoding="utf-8")
    port = free_port()
    config = workdir / "config.yml"
    config.write_text(_config(workdir, port), encoding="utf-8")
    log = workdir / "registry.log"
    with log.open("wb") as out:
        process = subprocess.Popen(
            ["docker-registry", "serve", str(config)], stdout=out, stderr=subprocess.STDOUT
        )
    server = RegistryServer(
        f"http://127.0.0.1:{port}", f"127.0.0.1:{port}", username, password, process, log
    )
    try:
        _wait_until_up(server)
    except BaseException:
        stop_registry(server)
        raise
    return server


def stop_registry(server: RegistryServer) -> None:
    server.process.terminate()
    try:
        server.process.wait(timeout=5)
    except subprocess.TimeoutExpired:
        server.process.kill()
        server.process.wait(timeout=5)


def _config(workdir: Path, port: int) -> str:
    # JSON is YAML: no quoting worries for the tmp paths.
    return json.dumps(
        {
            "version": 0.1,
            "log": {"level": "warn", "accesslog": {"disabled": True}},
            "storage": {"filesystem": {"rootdirectory": str(workdir / "data")}},
            "http": {"addr": f"127.0.0.1:{port}", "secret": secrets.token_hex(16)},
            "auth": {"htpasswd": {"realm": "promoter-tests", "path": str(workdir / "htpasswd")}},
        }
    )


def _wait_until_up(server: RegistryServer, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.process.poll() is not None:
            raise RuntimeError(f"docker-registry exited: {server.log.read_text(errors='replace')}")
        try:
            # 401 is an answer: the registry is up and asks for the password.
            if requests.get(server.url + "/v2/", timeout=1).status_code in (200, 401):
                return
        except requests.ConnectionError:
            pass
        time.sleep(0.05)
    raise RuntimeError(f"docker-registry did not answer /v2/ within {timeout} s")


def sha256_digest(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


def push_blob(url: str, auth: tuple[str, str], repo: str, data: bytes) -> str:
    start = requests.post(f"{url}/v2/{repo}/blobs/uploads/", auth=auth, timeout=10)
    assert start.status_code == 202, (start.status_code, start.text)
    digest = sha256_digest(data)
    put = requests.put(
        urljoin(url + "/", start.headers["Location"]),
        params={"digest": digest},  # requests adds it to the _state query already there
        data=data,
        headers={"Content-Type": "application/octet-stream"},
        auth=auth,
        timeout=10,
    )
    assert put.status_code == 201, (put.status_code, put.text)
    return digest


def push_image(url: str, auth: tuple[str, str], repo: str, tag: str) -> str:
    """Push a one-layer OCI image as `repo:tag`; return the manifest digest the registry gave."""
    layer = _layer(f"{repo}:{tag}")
    config = json.dumps(
        {
            "architecture": "amd64",
            "os": "linux",
            "config": {"Labels": {"tag": tag}},  # distinct content, distinct digest
            "rootfs": {"type": "layers", "diff_ids": [sha256_digest(gzip.decompress(layer))]},
        }
    ).encode()
    manifest = json.dumps(
        {
            "schemaVersion": 2,
            "mediaType": OCI_MANIFEST,
            "config": _descriptor(OCI_CONFIG, config, push_blob(url, auth, repo, config)),
            "layers": [_descriptor(OCI_LAYER, layer, push_blob(url, auth, repo, layer))],
        }
    ).encode()
    put = requests.put(
        f"{url}/v2/{repo}/manifests/{tag}",
        data=manifest,
        headers={"Content-Type": OCI_MANIFEST},
        auth=auth,
        timeout=10,
    )
    assert put.status_code == 201, (put.status_code, put.text)
    digest = put.headers["Docker-Content-Digest"]
    assert digest == sha256_digest(manifest)
    return digest


def _descriptor(media_type: str, data: bytes, digest: str) -> dict[str, object]:
    return {"mediaType": media_type, "digest": digest, "size": len(data)}


def _layer(text: str) -> bytes:
    """A gzipped tar holding one small file; mtime 0 keeps it reproducible."""
    payload = text.encode()
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w") as tar:
        info = tarfile.TarInfo("hello.txt")
        info.size = len(payload)
        tar.addfile(info, io.BytesIO(payload))
    return gzip.compress(buffer.getvalue(), mtime=0)
