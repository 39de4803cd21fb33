"""Temporary folders for clones, and the clean-up after runs that could not
clean up after themselves.

Nothing survives `kill -9`, so a killed bump leaves its clone behind; on a CI
runner those add up until the disk is full. Each folder made here records
its owner's pid; every new one first sweeps the old ones away: folders with
our prefix, of our user, untouched for STALE_AFTER_S, whose owner process is
gone. A folder whose owner still runs (an agent of many days) is never
touched; one without an owner file is left alone too (not provably ours).
"""

from __future__ import annotations

import contextlib
import logging
import os
import shutil
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

log = logging.getLogger("promoter")
PREFIX = "promoter-"
OWNER_FILE = ".promoter-owner"
STALE_AFTER_S = 15 * 60
_swept = False
"""One sweep per process: a command making several folders scans once."""


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # someone else's process: alive, and not ours to judge
    return True


def sweep(base: str | None = None, *, now: float | None = None) -> list[str]:
    """Remove stale folders (see the module docstring); the names removed."""
    folder = base or tempfile.gettempdir()
    moment = time.time() if now is None else now
    removed: list[str] = []
    try:
        entries = list(os.scandir(folder))
    except OSError:
        return removed
    for entry in entries:
        if not entry.name.startswith(PREFIX):
            continue
        try:
            info = entry.stat(follow_symlinks=False)
            if not entry.is_dir(follow_symlinks=False) or info.st_uid != os.getuid():
                continue
            if moment - info.st_mtime < STALE_AFTER_S:
                continue
            owner = Path(entry.path, OWNER_FILE).read_text(encoding="ascii").strip()
            if not owner.isdigit() or _alive(int(owner)):
                continue
        except (OSError, ValueError):
            continue
        shutil.rmtree(entry.path, ignore_errors=True)
        removed.append(entry.name)
    if removed:
        log.info("removed %d stale temporary folder(s) of killed runs", len(removed))
    return removed


@contextlib.contextmanager
def scratch_dir(prefix: str) -> Iterator[str]:
    """A temporary folder (removed on the way out, as TemporaryDirectory),
    marked with our pid so a later run can tell it is stale if we are killed."""
    global _swept
    assert prefix.startswith(PREFIX)
    if not _swept:
        _swept = True
        sweep()
    with tempfile.TemporaryDirectory(prefix=prefix) as tmp:
        Path(tmp, OWNER_FILE).write_text(str(os.getpid()), encoding="ascii")
        yield tmp
