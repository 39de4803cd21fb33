"""Temporary clones left by `kill -9`: the next run removes them, and only
them (issue 14)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from promoter.adapters.scratch import OWNER_FILE, STALE_AFTER_S, scratch_dir, sweep
from tests.conftest import EXAMPLE, make_remote, run_process


def _dead_pid() -> int:
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()
    return proc.pid


def _folder(base: Path, name: str, owner: str | None, age: float) -> Path:
    path = base / name
    (path / "repo").mkdir(parents=True)
    if owner is not None:
        (path / OWNER_FILE).write_text(owner)
    old = time.time() - age
    os.utime(path, (old, old))
    return path


def test_sweep_removes_only_stale_folders_of_dead_runs(tmp_path: Path) -> None:
    dead = str(_dead_pid())
    stale = _folder(tmp_path, "promoter-bump-killed", dead, STALE_AFTER_S + 60)
    young = _folder(tmp_path, "promoter-bump-young", dead, 60)  # its run may be starting
    running = _folder(tmp_path, "promoter-agent-running", str(os.getpid()), 10 * STALE_AFTER_S)
    unmarked = _folder(tmp_path, "promoter-unmarked", None, 10 * STALE_AFTER_S)
    other = _folder(tmp_path, "someone-elses", dead, 10 * STALE_AFTER_S)
    assert sweep(str(tmp_path)) == ["promoter-bump-killed"]
    assert not stale.exists()
    assert young.exists() and running.exists() and unmarked.exists() and other.exists()


def test_a_killed_bump_is_cleaned_up_by_the_next_one(tmp_path: Path, monkeypatch) -> None:
    """kill -9 in the middle of a bump (its clone stays), then another bump:
    the stale clone is gone afterwards, the new one cleaned up as usual."""
    remote = make_remote(tmp_path, EXAMPLE)
    scratch = tmp_path / "tmp"
    scratch.mkdir()
    env = {"TMPDIR": str(scratch), "GIT_TRACE": "0"}
    args = [
        sys.executable,
        "-m",
        "promoter",
        "bump",
        "--repo-url",
        remote.url,
        "--env",
        "dev",
        "--service",
        "api",
        "--tag",
        "1.1.0",
    ]
    # Its own process group, killed whole, as a cancelled CI job is: an orphaned
    # git child would otherwise keep writing into the folder being removed.
    victim = subprocess.Popen(args, env={**os.environ, **env}, start_new_session=True)
    deadline = time.monotonic() + 20
    while not any(scratch.glob("promoter-bump-*/" + OWNER_FILE)) and time.monotonic() < deadline:
        time.sleep(0.01)
    os.killpg(victim.pid, signal.SIGKILL)
    victim.wait()
    left = [p for p in scratch.glob("promoter-bump-*") if p.is_dir()]
    assert left, "the killed bump left no clone to clean up (it finished too fast?)"
    old = time.time() - STALE_AFTER_S - 60
    for path in left:
        os.utime(path, (old, old))
    result = run_process(
        "bump",
        "--repo-url",
        remote.url,
        "--env",
        "dev",
        "--service",
        "api",
        "--tag",
        "1.2.0",
        env=env,
    )
    assert result.returncode == 0, result.stderr
    assert not [p for p in scratch.iterdir() if p.name.startswith("promoter-")]


def test_scratch_dir_marks_its_owner(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setenv("TMPDIR", str(tmp_path))
    import tempfile

    monkeypatch.setattr(tempfile, "tempdir", None)
    with scratch_dir("promoter-test-") as folder:
        assert Path(folder).parent == tmp_path
        assert Path(folder, OWNER_FILE).read_text() == str(os.getpid())
    assert not Path(folder).exists()
