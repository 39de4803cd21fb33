"""Git's object id of a file or directory, computed from the files on disk.

A render's cache key is the git tree hash of its inputs (the chart, the
values files, the Jsonnet directories): the same id `git rev-parse
HEAD:charts/worker` prints for a clean checkout, so a key can be checked
against git, yet it needs no repository — `promoter render` of a working
tree with edits not yet committed keys on what is on disk.

Only what git itself stores counts: `.git` is skipped, empty directories
vanish, and the executable bit is the only mode bit. One deliberate
difference: a symlink to a file counts as that file's content (git stores
the link text), because the renderers read through it and a key that missed
a change of the target would serve a stale render; a symlink to a
directory, or a dangling one, is its link text as in git.
"""

from __future__ import annotations

import hashlib
import os
import stat
from pathlib import Path

_MISSING = "0" * 40


def _object_id(kind: str, body: bytes) -> bytes:
    return hashlib.sha1(b"%s %d\0" % (kind.encode(), len(body)) + body).digest()


def _entry(path: Path) -> tuple[bytes, bytes] | None:
    """(mode, raw id) of one directory entry, None when git would not store it."""
    info = path.lstat()
    if stat.S_ISLNK(info.st_mode):
        if path.is_file():
            return b"100644", _object_id("blob", path.read_bytes())
        return b"120000", _object_id("blob", os.fsencode(os.readlink(path)))
    if stat.S_ISDIR(info.st_mode):
        tree = _tree(path)
        return None if tree is None else (b"40000", tree)
    if stat.S_ISREG(info.st_mode):
        mode = b"100755" if info.st_mode & stat.S_IXUSR else b"100644"
        return mode, _object_id("blob", path.read_bytes())
    return None  # sockets, FIFOs, devices: git has no such object


def _tree(directory: Path) -> bytes | None:
    entries: list[tuple[bytes, bytes, bytes]] = []
    for child in directory.iterdir():
        if child.name == ".git":
            continue
        found = _entry(child)
        if found is None:
            continue
        mode, oid = found
        name = os.fsencode(child.name)
        # git orders a directory as if its name ended in "/".
        entries.append((name + b"/" if mode == b"40000" else name, mode + b" " + name, oid))
    if not entries:
        return None
    body = b"".join(head + b"\0" + oid for _, head, oid in sorted(entries))
    return _object_id("tree", body)


def git_object_id(path: Path) -> str:
    """Hex id of `path` as git would store it (a tree for a directory, a
    blob for a file); forty zeros when it does not exist or is empty."""
    if not os.path.lexists(path):
        return _MISSING
    found = _entry(path)
    return _MISSING if found is None else found[1].hex()
