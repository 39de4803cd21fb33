"""Reading a file that an environment repository supplies, safely.

An environment repository is input that CI runners and the bot trust, so a
crafted one must not make promoter read (and then quote in a build log or a
PR comment) a file of the machine it runs on, hang on a FIFO, or fill memory
from /dev/zero. Every such file is read through `read_repository_file`:

- it must resolve inside the repository: a symbolic link to
  `/proc/self/environ` or `~/.ssh/id_rsa` is refused, its target unread;
- it must be a regular file (not a FIFO, socket or device);
- it may be at most MAX_FILE_BYTES (documented in docs/config.md).
"""

from __future__ import annotations

import os
import stat

from promoter.errors import FileSystemError, InputError

MAX_FILE_BYTES = 16 * 1024 * 1024
"""The largest file promoter reads from a repository (a 10,000-service
promoter.yaml is about 1.3 MB)."""


def inside(path: str, root: str) -> bool:
    """`path` resolves (links followed) to `root` or below it."""
    real_root = os.path.realpath(root)
    real = os.path.realpath(path)
    return real == real_root or real.startswith(real_root.rstrip(os.sep) + os.sep)


def read_repository_file(path: str, root: str, *, shown: str | None = None) -> bytes:
    """The bytes of `path`, which must resolve inside `root`; InputError (exit
    2) for a link that leaves it, a non-regular file or one too large."""
    name = shown or path
    real = os.path.realpath(path)
    if not inside(real, root):
        raise InputError(
            f"{name} is a symbolic link to a file outside the repository; not read",
            hint="replace the link with the file itself (promoter reads only files inside "
            "the repository)",
        )
    try:
        # O_NONBLOCK: a FIFO swapped in after the check below must not hang us.
        fd = os.open(real, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
    except OSError as err:
        raise FileSystemError(
            f"cannot read {name}: {err.strerror or err}", hint="check that it is a readable file"
        ) from err
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            raise InputError(
                f"{name} is not a regular file (a FIFO, socket or device); not read",
                hint="commit the file itself",
            )
        if info.st_size > MAX_FILE_BYTES:
            raise InputError(
                f"{name} is {info.st_size:,} bytes; promoter reads files of at most "
                f"{MAX_FILE_BYTES:,} bytes",
                hint="split the file, or remove what does not belong in it",
            )
        chunks, total = [], 0
        while True:  # the size can grow after fstat: read no more than the limit
            chunk = os.read(fd, min(1 << 20, MAX_FILE_BYTES + 1 - total))
            if not chunk:
                break
            chunks.append(chunk)
            total += len(chunk)
            if total > MAX_FILE_BYTES:
                raise InputError(
                    f"{name} grew past {MAX_FILE_BYTES:,} bytes while being read; not read"
                )
        return b"".join(chunks)
    finally:
        os.close(fd)
