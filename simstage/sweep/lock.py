"""One sweep per folder at a time: an advisory lock on `DIR/.sweep.lock`.

Two sweeps in one folder would play the same runs twice and race on the table.
The lock is `flock`-based, so the kernel drops it when its process dies however
it dies (a kill, a crash): a stale lock file never blocks the next sweep.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from simstage.sweep.folder import refused_folder
from simstage.sweep.plan import LOCK_FILE, PLAN_FILE, SweepError


@contextmanager
def sweep_lock(out: Path, plan_file: str = PLAN_FILE) -> Iterator[None]:
    """Hold the folder's lock while the block runs, creating the folder if needed (`plan_file`: the file
    that records what the folder holds; a battery's is `battery.json`).

    The lock comes before any look at what the folder holds: a sweep that is
    starting (its lock taken, `sweep.json` not yet written) is "running", never
    "a folder of other things".

    Raises:
        SweepError: another live process holds the lock, or the folder cannot be made.
            A folder that cannot hold a sweep (and has no lock file) is left as it
            is, unlocked, for `prepare_folder` to refuse.
    """
    try:
        import fcntl
    except ImportError:  # pragma: no cover - not POSIX: no lock, as before
        yield
        return
    if not (out / LOCK_FILE).is_file() and refused_folder(out, plan_file):
        yield  # not a sweep folder: `prepare_folder` refuses it; leave nothing in it
        return
    try:
        out.mkdir(parents=True, exist_ok=True)
        handle = open(out / LOCK_FILE, "a+", encoding="utf-8")
    except OSError as exc:
        raise SweepError(f"--out {out}: cannot write: {exc.strerror}") from None
    with handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.seek(0)
            holder = handle.read().strip() or "?"
            raise SweepError(
                f"--out {out}: another sweep is running in this folder (pid {holder}); "
                "wait for it to end, or choose another --out"
            ) from None
        handle.seek(0)
        handle.truncate()
        handle.write(str(os.getpid()))
        handle.flush()
        yield
