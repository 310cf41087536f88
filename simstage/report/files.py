"""Writing output files: atomically over a regular file (or none), through to a device, a FIFO or stdout.

An atomic write renames a temporary file over its target, which would turn a
device node (`/dev/null`) or a FIFO into a regular file, and a symlink into a
file of its own; so the rename only ever replaces a regular file or a missing
path, and a symlink is followed: the file it points at is replaced, the link
stays. `write_output` (the commands' `-o`) writes through to a character device,
a FIFO or stdout (`-`) instead, and refuses an output that is one of its inputs;
`write_binary_output` does the same for binary data (a latent dataset, a
plot), but refuses `-`.
"""

from __future__ import annotations

import errno
import io
import os
import stat
import sys
import tempfile
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import BinaryIO

from simstage.errors import SimstageError

STDOUT = "-"
"""The output name that means standard output."""

TEMPORARY_SUFFIX = ".tmp"
"""Temporaries are `.NAME.RANDOM.tmp` beside their target: a kill leaves one, which `stale_temporaries` finds."""


class OutputError(SimstageError):
    """An output that cannot be written, or must not be (it is an input); the message names it."""


def replaceable_target(path: str | Path) -> Path:
    """The file an atomic write of `path` replaces: `path`, or the file a symlink at `path` points at.

    Raises:
        IsADirectoryError: the target is a folder, or `path` can only name one (it ends in `/`,
            `/.` or `/..`).
        OSError: the target exists and is not a regular file (a device, a FIFO, a socket).
    """
    # Path() drops the slash (and a last "."): the rename would make a file of it.
    if names_folder(path):
        ending = "/" + os.path.basename(os.fspath(path))
        raise IsADirectoryError(
            errno.EISDIR, f"names a folder (it ends in {ending}), not a file", str(path)
        )
    target = Path(os.path.realpath(path)) if os.path.islink(path) else Path(path)
    try:
        mode = os.stat(target).st_mode
    except FileNotFoundError:
        return target
    if stat.S_ISDIR(mode):
        raise IsADirectoryError(errno.EISDIR, "is a folder, not a file", str(path))
    if not stat.S_ISREG(mode):
        raise OSError(
            errno.EINVAL, "not a regular file (a device, FIFO or socket); not replaced", str(path)
        )
    return target


def atomic_replace(path: str | Path, write: Callable[[Path], object]) -> Path:
    """Have `write` fill a temporary file beside `path`, then put it in `path`'s place in one step.

    `path` is replaced only when it is a regular file or missing; a symlink is
    followed (the file it points at is replaced, the link itself stays). The
    temporary file (`.NAME.RANDOM.tmp`) is removed on any failure, and its data
    is on disk before the rename, so `path` is either untouched or complete.

    Returns:
        The file written (`path`, or the file a symlink at `path` points at).

    Raises:
        OSError: the folder is missing or not writable, the disk is full, or
            `path` is a folder, a device, a FIFO or a socket.
    """
    target = replaceable_target(path)
    folder = target.parent if str(target.parent) else Path(".")
    handle, name = tempfile.mkstemp(dir=folder, prefix=f".{target.name}.", suffix=TEMPORARY_SUFFIX)
    temporary = Path(name)
    try:
        os.close(handle)
        write(temporary)
        handle = os.open(temporary, os.O_RDONLY)
        try:
            os.fsync(handle)
        finally:
            os.close(handle)
        # mkstemp makes the file 0600; give it the mode of the file it replaces, or of a plain open().
        try:
            mode = stat.S_IMODE(os.stat(target).st_mode)
        except FileNotFoundError:
            umask = os.umask(0)
            os.umask(umask)
            mode = 0o666 & ~umask
        os.chmod(temporary, mode)
        replaceable_target(
            target
        )  # still a regular file (or none): checked again just before the rename
        os.replace(temporary, target)
    except BaseException:
        try:
            os.unlink(temporary)
        except OSError:
            pass
        raise
    return target


def atomic_write_text(path: str | Path, text: str) -> Path:
    """Write `text` to `path` so that `path` is either untouched or complete, never partial.

    As `atomic_replace`: only a regular file or a missing path is replaced; a
    symlink is followed.

    Returns:
        The file written.

    Raises:
        OSError: the folder is missing or not writable, the disk is full, or
            `path` is a folder, a device, a FIFO or a socket.
    """
    return atomic_replace(path, lambda temporary: temporary.write_text(text, encoding="utf-8"))


def atomic_write_binary(path: str | Path, write: Callable[[BinaryIO], object]) -> Path:
    """Have `write` fill an open binary file that then replaces `path` in one step (`atomic_replace`).

    The file is opened here and handed over, so a writer that names files itself
    (numpy adds `.npz` to a name) writes under no name but the temporary's.

    Returns:
        The file written.

    Raises:
        OSError: as `atomic_replace`.
    """

    def fill(temporary: Path) -> None:
        with open(temporary, "wb") as handle:
            write(handle)

    return atomic_replace(path, fill)


def same_file(path: str | Path, inputs: Iterable[str | Path]) -> str | Path | None:
    """The input that `path` is (the same file, also by another name or a hard link), or None."""
    try:
        out = os.stat(path)
    except (OSError, ValueError):
        return None
    for source in inputs:
        try:
            known = os.stat(source)
        except (OSError, ValueError):
            continue
        if (known.st_dev, known.st_ino) == (out.st_dev, out.st_ino):
            return source
    return None


def names_folder(path: str | Path) -> bool:
    """Whether `path` can only name a folder: it ends in `/`, `/.` or `/..` (or is `.` or `..`)."""
    return os.path.basename(os.fspath(path)) in ("", ".", "..")


def refuse_input(
    path: str | Path, inputs: Iterable[str | Path], *, option: str | None = "-o"
) -> None:
    """Refuse an output that is one of the command's inputs, or that cannot be written
    (`refuse_unwritable`): checked before any work.

    `option` is the command's name for the output (`-o`, `--plot`), for the message; None where
    the user does not name it (the TUI's export).

    Raises:
        OutputError: `path` is one of `inputs`, by any name or link, or cannot be written.
    """
    if str(path) == STDOUT:
        return
    source = same_file(path, inputs)
    if source is not None:
        choose = f", so choose another {option}" if option else ""
        raise OutputError(f"{path}: is the input {source}; writing it would destroy it{choose}")
    refuse_unwritable(path)


def write_output(path: str | Path, text: str, *, inputs: Iterable[str | Path] = ()) -> str:
    """Write a command's output (`-o PATH`): atomically to a file, through to a device, FIFO or stdout.

    A regular file or a missing path gets `atomic_write_text` (a symlink is
    followed: the file it points at is replaced, the link stays). A
    character device (`/dev/null`) or a FIFO is opened and written, as a shell's
    `>` does; `-` is standard output. An output that is one of `inputs` is refused
    before anything is written, whatever name or link reaches it.

    Returns:
        What was written, for messages: the path, or "standard output".

    Raises:
        OutputError: `path` is an input, a folder, a block device or a socket,
            or cannot be written (the message names it and says why).
        BrokenPipeError: standard output's reader has gone (the caller exits quietly).
    """
    if str(path) == STDOUT:
        try:
            sys.stdout.write(text)
            sys.stdout.flush()
        except BrokenPipeError:
            raise
        except OSError as exc:
            raise OutputError(f"cannot write to standard output: {exc.strerror or exc}") from None
        return "standard output"
    refuse_input(path, inputs)
    return _write_file(
        path,
        lambda handle: handle.write(text.encode("utf-8")),
        lambda: atomic_write_text(path, text),
    )


def refuse_binary_output(
    path: str | Path, inputs: Iterable[str | Path], *, option: str = "-o"
) -> None:
    """Refuse what `write_binary_output` refuses before writing: `-`, or one of the inputs.

    `option` is the command's name for the output (`-o`, `--plot`), for the message.

    Raises:
        OutputError: `path` is `-` (binary data is no terminal's), or one of `inputs`.
    """
    if str(path) == STDOUT:
        raise OutputError(
            f"{option} -: the output is binary, not for standard output; name a file to write"
        )
    refuse_input(path, inputs, option=option)


def refuse_unwritable(path: str | Path) -> None:
    """Refuse, before any work, an output that cannot be written: a folder, a name that can only
    be one, or a file whose folder is missing, not a folder, or not writable.

    What only the write finds (a full disk) still fails then, as `write_output` says.

    Raises:
        OutputError: as the write would fail (`cannot write PATH: why`).
    """
    try:
        if _written_through(path):
            return
        target = replaceable_target(path)
        folder = target.parent if str(target.parent) else Path(".")
        if not folder.is_dir():
            os.stat(folder)  # the reason: missing, or a file on the way
            raise NotADirectoryError(errno.ENOTDIR, os.strerror(errno.ENOTDIR), str(folder))
        if not os.access(folder, os.W_OK | os.X_OK):
            raise PermissionError(errno.EACCES, os.strerror(errno.EACCES), str(folder))
    except OSError as exc:
        raise OutputError(f"cannot write {path}: {exc.strerror or exc}") from None


def write_binary_output(
    path: str | Path,
    write: Callable[[BinaryIO], object],
    *,
    inputs: Iterable[str | Path] = (),
    option: str = "-o",
) -> str:
    """Write a command's binary output (`-o PATH`) as `write_output` writes text; `-` is refused.

    `write` gets an open file: a temporary that then replaces `path`
    (`atomic_write_binary`), or, for a character device or FIFO, a buffer in
    memory that is then written through in one go (a zip writer seeks in a
    file that says it can: `/dev/null` says so, and the zip's end record then
    cannot be packed). `option` names the output in the messages (`-o`, `--plot`).

    Returns:
        What was written, for messages: the path.

    Raises:
        OutputError: `path` is `-`, an input, a folder, a block device or a
            socket, or cannot be written (the message names it and says why).
    """
    refuse_binary_output(path, inputs, option=option)
    return _write_file(path, write, lambda: atomic_write_binary(path, write))


def _write_file(
    path: str | Path, write: Callable[[BinaryIO], object], replace: Callable[[], object]
) -> str:
    """Write `path`: through to a character device or FIFO (`write` fills a buffer in memory, then
    one write), or else by `replace` (an atomic write); the path, for messages.

    Raises:
        OutputError: `path` cannot be written (the message names it and says why).
    """
    through = _written_through(path)
    try:
        if through:
            buffer = io.BytesIO()
            write(buffer)
            with open(path, "wb") as handle:
                handle.write(buffer.getbuffer())
        else:
            replace()
    except OSError as exc:
        raise OutputError(f"cannot write {path}: {exc.strerror or exc}") from None
    return str(path)


def _written_through(path: str | Path) -> bool:
    """Whether `path` is a character device or a FIFO (written through, not replaced).

    Raises:
        OutputError: `path` cannot be looked at (a folder on the way is not one, ...).
    """
    try:
        mode = os.stat(path).st_mode
    except FileNotFoundError:
        return False
    except OSError as exc:
        raise OutputError(f"cannot write {path}: {exc.strerror or exc}") from None
    return stat.S_ISCHR(mode) or stat.S_ISFIFO(mode)


def stale_temporaries(folder: Path) -> list[Path]:
    """The temporaries a killed atomic write left in `folder` (`.NAME.RANDOM.tmp`, regular files only)."""
    try:
        found = [
            p
            for p in folder.iterdir()
            if p.name.startswith(".") and p.name.endswith(TEMPORARY_SUFFIX)
        ]
    except OSError:
        return []
    return [p for p in found if p.is_file() and not p.is_symlink()]
