"""The release workflow (.github/workflows/release.yml) does what it says
when run here: its tag check refuses a tag that does not name the version,
and the sdist and the wheel it builds hold the package data and install into
a fresh virtual environment as a working `promoter`.

The build is the workflow's own `python -m build`, without build isolation
(the test extras pin `build` and a setuptools that builds wheels itself), so
no network is needed. The image job needs a
Docker daemon and is linted only (tests/test_workflow_lint.py).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tarfile
import tomllib
import zipfile
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parent.parent
RELEASE = ROOT / ".github" / "workflows" / "release.yml"
VERSION = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["version"]


def _step(job: str, name: str) -> dict:
    steps = yaml.safe_load(RELEASE.read_text())["jobs"][job]["steps"]
    (step,) = [s for s in steps if s.get("name") == name]
    return step


def test_it_runs_on_version_tags_only() -> None:
    workflow = yaml.safe_load(RELEASE.read_text())
    # PyYAML reads the `on:` key as True (YAML 1.1).
    assert workflow[True] == {"push": {"tags": ["v*"]}}
    assert workflow["permissions"] == {}
    assert workflow["jobs"]["image"]["permissions"]["packages"] == "write"


@pytest.mark.parametrize(("tag", "ok"), [(f"v{VERSION}", True), ("v9.9.9", False)])
def test_the_tag_must_name_the_version(tmp_path: Path, tag: str, ok: bool) -> None:
    step = _step("dist", "The tag names the version in pyproject.toml")
    shutil.copy(ROOT / "pyproject.toml", tmp_path)
    proc = subprocess.run(
        ["bash", "-eo", "pipefail", "-c", step["run"]],
        cwd=tmp_path,
        env={**os.environ, "TAG": tag},
        capture_output=True,
        text=True,
        check=False,
    )
    assert (proc.returncode == 0) is ok, proc.stdout + proc.stderr
    if not ok:
        assert f"tag v9.9.9 does not match version {VERSION}" in proc.stdout


BUILD = [sys.executable, "-m", "build", "--no-isolation", "--sdist", "--wheel"]


def _build(source: Path, out: Path) -> tuple[Path, Path]:
    """The workflow's build command, minus isolation (no network here)."""
    proc = subprocess.run(
        [*BUILD, "--outdir", str(out), str(source)],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    (sdist,) = out.glob("*.tar.gz")
    (wheel,) = out.glob("*.whl")
    return sdist, wheel


@pytest.fixture(scope="module")
def dist(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    # Build from a copy of what git tracks: the working tree may hold caches
    # and egg-info that a release checkout does not.
    work = tmp_path_factory.mktemp("release")
    source = work / "src"
    files = subprocess.run(
        ["git", "ls-files", "-z"], cwd=ROOT, capture_output=True, check=True
    ).stdout.split(b"\0")
    for name in filter(None, files):
        path = ROOT / os.fsdecode(name)
        if path.is_file():
            target = source / os.fsdecode(name)
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(path, target)
    out = work / "dist"
    out.mkdir()
    return _build(source, out)


def test_sdist_and_wheel_carry_the_package_data(dist: tuple[Path, Path]) -> None:
    sdist, wheel = dist
    assert sdist.name == f"promoter-{VERSION}.tar.gz"
    assert wheel.name == f"promoter-{VERSION}-py3-none-any.whl"
    with zipfile.ZipFile(wheel) as z:
        names = set(z.namelist())
        entry_points = z.read(f"promoter-{VERSION}.dist-info/entry_points.txt").decode()
    assert {"promoter/py.typed", "promoter/cli/__init__.py"} <= names
    assert any(n.startswith("promoter/schema/") and n.endswith(".json") for n in names)
    assert "promoter = promoter.cli:main" in entry_points
    assert not any(n.startswith("tests/") for n in names)
    with tarfile.open(sdist) as tar:
        members = {m.name.split("/", 1)[1] for m in tar.getmembers() if "/" in m.name}
    assert {"pyproject.toml", "README.md", "promoter/py.typed"} <= members
    assert {n for n in names if n.startswith("promoter/")} <= members


def test_the_wheel_installs_as_a_working_promoter(dist: tuple[Path, Path], tmp_path: Path) -> None:
    """Installed into a fresh venv (its dependencies from this interpreter's
    site-packages, so no network), the wheel's `promoter` runs and is the
    wheel's code, not this checkout's."""
    _, wheel = dist
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--system-site-packages", str(venv)], check=True)
    pip = [str(venv / "bin" / "python"), "-m", "pip", "--disable-pip-version-check"]
    install = subprocess.run(
        [*pip, "install", "--no-deps", "--quiet", str(wheel)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert install.returncode == 0, install.stderr
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    version = subprocess.run(
        [str(venv / "bin" / "promoter"), "--version"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert version.returncode == 0, version.stderr
    assert VERSION in version.stdout
    where = subprocess.run(
        [str(venv / "bin" / "python"), "-c", "import promoter; print(promoter.__file__)"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    assert Path(where.stdout.strip()).is_relative_to(venv)
