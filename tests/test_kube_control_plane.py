"""scripts/kube-control-plane.sh: up prints a kubeconfig for a real server
(kubectl names its version), is idempotent, down removes what up made; and
the failures a user meets first — no Go, a build that fails — are one line
with a hint and exit 1."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.realkube import E2E_KUBECONFIG

ROOT = Path(__file__).resolve().parent.parent
SCRIPT = ROOT / "scripts" / "kube-control-plane.sh"
needs_go = pytest.mark.skipif(shutil.which("go") is None, reason="needs a Go toolchain")


def script(
    *args: str, env: dict[str, str] | None = None, path: Path = SCRIPT
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["bash", str(path), *args],
        capture_output=True,
        text=True,
        timeout=900,  # a first build takes minutes
        env={**os.environ, **(env or {})},
    )


def kubectl_version(kubeconfig: str) -> str:
    kubectl = shutil.which("kubectl") or shutil.which(
        "kubectl", path=str(Path(sys.executable).parent)
    )
    assert kubectl is not None
    proc = subprocess.run(
        [kubectl, "--kubeconfig", kubeconfig, "version"], capture_output=True, text=True, timeout=60
    )
    assert proc.returncode == 0, proc.stderr
    return proc.stdout


@needs_go
def test_up_is_a_real_server_idempotent_and_down_removes_it(tmp_path: Path) -> None:
    folder = tmp_path / "kube"
    up = script("up", str(folder))
    try:
        assert up.returncode == 0, up.stderr
        assert up.stdout == f"{folder}/kubeconfig\n"  # quiet: only the path
        assert "Server Version: v1.37.2" in kubectl_version(up.stdout.strip())
        pid = (folder / "kube-apiserver.pid").read_text()
        again = script("up", str(folder))
        assert again.returncode == 0 and again.stdout == up.stdout and again.stderr == ""
        assert (folder / "kube-apiserver.pid").read_text() == pid  # the same server
        assert (folder / "kubeconfig").stat().st_mode & 0o077 == 0  # a credential
    finally:
        down = script("down", str(folder))
    assert down.returncode == 0 and down.stdout == down.stderr == ""
    assert not folder.exists()  # up made it, down removed it
    assert script("down", str(folder)).returncode == 0  # nothing to stop: fine


def test_without_go_one_line_with_a_hint(tmp_path: Path) -> None:
    no_go = "/usr/bin:/bin"  # bash, python3, openssl; Go lives elsewhere
    assert shutil.which("go", path=no_go) is None
    result = script(
        "up",
        str(tmp_path / "kube"),
        env={"PATH": no_go, "PROMOTER_KUBE_CACHE": str(tmp_path / "c")},
    )
    assert result.returncode == 1
    assert result.stdout == ""
    (line,) = result.stderr.splitlines()
    assert line.startswith("kube-control-plane: no Go toolchain on PATH (hint: install Go")
    assert not (tmp_path / "kube").exists()  # nothing made


@needs_go
def test_a_build_that_fails_is_one_line_naming_its_log(tmp_path: Path) -> None:
    copy = tmp_path / "repo"
    (copy / "scripts").mkdir(parents=True)
    shutil.copy(SCRIPT, copy / "scripts")
    for name in ("kube-apiserver", "etcd"):
        module = copy / "tests" / "kube" / name
        module.mkdir(parents=True)
        shutil.copy(ROOT / "tests" / "kube" / name / "go.mod", module)
        (module / "go.sum").write_text("")  # every checksum missing: go refuses to build
    cache = tmp_path / "cache"
    result = script(
        "build",
        env={"PROMOTER_KUBE_CACHE": str(cache)},
        path=copy / "scripts" / "kube-control-plane.sh",
    )
    assert result.returncode == 1, result.stderr
    lines = [
        line
        for line in result.stderr.splitlines()
        if not line.startswith("kube-control-plane: building")
    ]
    (line,) = lines
    assert line.startswith("kube-control-plane: the build failed: ")
    assert f"see {cache}/build.log" in line
    assert not [p for p in cache.iterdir() if p.name.startswith("kube-")]  # nothing half-built


def test_the_suite_runs_on_the_real_server_when_there_is_one() -> None:
    """What scripts/test.sh started is the one the scenarios use: up on its
    folder again changes nothing (the same path, no second server)."""
    kubeconfig = os.environ.get(E2E_KUBECONFIG)
    if not kubeconfig or not shutil.which("go"):
        pytest.skip(f"no {E2E_KUBECONFIG} from scripts/test.sh")
    folder = Path(kubeconfig).parent
    if not (folder / "kube-apiserver.pid").exists():
        pytest.skip(f"{E2E_KUBECONFIG} names a cluster this script did not start")
    again = script("up", str(folder))
    assert again.returncode == 0 and again.stdout.strip() == kubeconfig
    assert "Server Version: v1.37.2" in kubectl_version(kubeconfig)
