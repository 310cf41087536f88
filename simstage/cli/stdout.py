"""Standard output that fails loudly: a full disk, /dev/full or an I/O error is one line and exit 2.

Python reports a failed write to stdout as a traceback, or, when the output sat in
the buffer until exit, as "Exception ignored" and status 120 (or not at all).
While a command runs, `sys.stdout` is a `GuardedStdout` over the same buffer, so
every write and flush that fails says so as a `StdoutError`; the command is then
one line on stderr and exit 2. A reader that went away (a closed pipe: `| head`)
is not a failure: the command ends quietly with status 0.
"""

from __future__ import annotations

import contextlib
import io
import os
import sys
from collections.abc import Iterator

from simstage.cli.errors import StdoutError, fail


class GuardedStdout(io.TextIOWrapper):
    """`sys.stdout` whose failed write or flush raises `StdoutError` (and is remembered in `failed`)."""

    failed: StdoutError | None = None

    def write(self, text: str) -> int:
        """Write as `sys.stdout` does.

        Raises:
            StdoutError: the write failed (not a closed pipe).
            BrokenPipeError: the reader went away.
        """
        try:
            return super().write(text)
        except BrokenPipeError:
            raise
        except OSError as exc:
            raise self._fault(exc) from None

    def flush(self) -> None:
        """Flush as `sys.stdout` does.

        Raises:
            StdoutError: the flush failed (not a closed pipe).
            BrokenPipeError: the reader went away.
        """
        try:
            super().flush()
        except BrokenPipeError:
            raise
        except OSError as exc:
            raise self._fault(exc) from None

    def _fault(self, exc: OSError) -> StdoutError:
        self.failed = StdoutError(f"cannot write to standard output: {exc.strerror or exc}")
        return self.failed


def _silence() -> None:
    """Point stdout at /dev/null, so what is still buffered cannot fail again at exit (status 120)."""
    with contextlib.suppress(OSError, ValueError, AttributeError):
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.__stdout__.fileno())  # type: ignore[union-attr]
        os.close(devnull)


def _settle(guard: GuardedStdout) -> bool:
    """Flush what the command printed (a failure lands in `guard.failed`); True when the reader went away."""
    try:
        guard.flush()
    except StdoutError:
        pass
    except BrokenPipeError:
        return True
    return False


@contextlib.contextmanager
def guarded_stdout() -> Iterator[None]:
    """Run the block with a `GuardedStdout`; a failed stdout is one line and exit 2, a closed pipe exit 0.

    Only the process's own stdout is guarded (a test runner's captured stdout is left as it is).

    Raises:
        SystemExit: 2 when stdout failed (after `simstage: cannot write to standard output: ...`
            on stderr); 0 when its reader went away.
    """
    original = sys.stdout
    if (
        original is None
        or original is not sys.__stdout__
        or not isinstance(original, io.TextIOWrapper)
    ):
        yield
        return
    original.flush()
    guard = GuardedStdout(
        original.buffer,
        encoding=original.encoding,
        errors=original.errors,
        line_buffering=original.line_buffering,
        write_through=original.write_through,
    )
    sys.stdout = guard
    closed = False
    try:
        try:
            yield
        except BrokenPipeError:
            closed = True
        except BaseException:
            closed = _settle(guard)
            if guard.failed is None and not closed:
                raise  # the command's own exit status or error, its output flushed
        else:
            closed = _settle(guard)
    finally:
        sys.stdout = original
        if guard.failed is not None or closed:
            _silence()
        with contextlib.suppress(OSError, ValueError):
            guard.detach()  # the buffer is the process's stdout: never closed with the guard
    if guard.failed is not None:
        fail(str(guard.failed))
    if closed:
        raise SystemExit(0)
