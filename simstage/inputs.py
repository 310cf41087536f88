"""Reading the files simstage is given (scenarios, character cards, run logs): regular files only.

A path that names a FIFO would block the reader until some other process
writes to it (for ever, as a rule); a device can be endless (/dev/zero). Both
are refused before a byte is read: the path is checked with stat, opened
without blocking, and checked again on the open file, so swapping the file
between the check and the open changes nothing.
"""

from __future__ import annotations

import errno
import os
import stat
from pathlib import Path

_KINDS = (
    (stat.S_ISDIR, "a folder"),
    (stat.S_ISFIFO, "a FIFO (named pipe)"),
    (stat.S_ISSOCK, "a socket"),
    (stat.S_ISCHR, "a character device"),
    (stat.S_ISBLK, "a block device"),
)


def _refuse_irregular(mode: int) -> None:
    if stat.S_ISREG(mode):
        return
    kind = next((name for test, name in _KINDS if test(mode)), "not a plain file")
    raise OSError(errno.EINVAL, f"{kind}, not a regular file")


def read_input(path: str | Path, limit: int | None = None) -> bytes:
    """The bytes of a regular file: all of them, or at most `limit + 1` (so a caller sees "too large").

    Raises:
        OSError: the file is missing or unreadable, or is not a regular file (its `strerror`
            says what it is instead: a FIFO, a folder, a device).
    """
    _refuse_irregular(os.stat(path).st_mode)
    fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_CLOEXEC", 0))
    with open(fd, "rb", closefd=True) as handle:
        _refuse_irregular(os.fstat(fd).st_mode)
        return handle.read() if limit is None else handle.read(limit + 1)
