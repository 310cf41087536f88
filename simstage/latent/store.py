"""The activation sidecar beside a run log: raw float32 records, addressed by the log's events.

A run that captures activations writes `RUN.latent.f32` next to `RUN.jsonl`. Each
probe's record (its layers × the model's width, little-endian float32, row by
row; with contrast pairs, three such blocks: `record_shape`) is appended and flushed before the `latent_captured` event that names its
offset, length and sha256 is written, so a run killed mid-way leaves every
record the log names whole; a torn tail past the last named record is ignored.
"""

from __future__ import annotations

import hashlib
import math
import os
from pathlib import Path
from typing import Any

import numpy as np

from simstage.errors import SimstageError

SUFFIX = ".latent.f32"


class LatentError(SimstageError):
    """A sidecar record is missing, cut short or not what its event says."""


def sidecar_path(log_path: str | Path) -> Path:
    """`RUN.latent.f32` for `RUN.jsonl`."""
    path = Path(log_path)
    return path.with_name(path.name.removesuffix(".jsonl") + SUFFIX)


class LatentStore:
    """Appends records to one run's sidecar.

    Args:
        log_path: the run log; the sidecar is beside it. None: keep nothing, count offsets
            only (`replay --verify` re-reads activations without writing a file).
        fresh: a new run: an old sidecar of that name goes first (a resumed run appends).
    """

    def __init__(self, log_path: str | Path | None, *, fresh: bool = True):
        self.path = sidecar_path(log_path) if log_path is not None else None
        self._size = 0
        if self.path is not None:
            if fresh:
                self.path.unlink(missing_ok=True)
            elif self.path.exists():
                self._size = self.path.stat().st_size

    def append(self, vectors: np.ndarray) -> tuple[int, str]:
        """Write one record and flush it to disk: (byte offset, sha256 hex)."""
        data = np.ascontiguousarray(vectors, dtype="<f4").tobytes()
        offset = self._size
        if self.path is not None:
            with open(self.path, "ab") as handle:
                handle.seek(0, os.SEEK_END)
                offset = handle.tell()
                handle.write(data)
                handle.flush()
                os.fsync(handle.fileno())
        self._size = offset + len(data)
        return offset, hashlib.sha256(data).hexdigest()


def record_shape(event: Any) -> tuple[int, ...]:
    """The shape of the record a `latent_captured` event names: [layers, dims], or [1 + pairs, layers, dims]."""
    base = (len(event.layers), event.dims)
    return (1 + len(event.contrast), *base) if event.contrast else base


def read_record(log_path: str | Path, event: Any) -> np.ndarray:
    """The record a `latent_captured` event names, as float32 of `record_shape(event)`.

    Raises:
        LatentError: the sidecar is missing, shorter than the record, or its bytes differ.
    """
    path = sidecar_path(log_path)
    if event.dims < 1 or not event.layers:
        raise LatentError(f"{path}: the event at byte {event.offset} names a record of no size")
    shape = record_shape(event)
    count = math.prod(shape)
    try:
        with open(path, "rb") as handle:
            # A hostile event can name a record larger than memory: never ask for more than the file holds.
            if event.offset + count * 4 > os.fstat(handle.fileno()).st_size:
                raise LatentError(f"{path}: the record at byte {event.offset} is cut short")
            handle.seek(event.offset)
            data = handle.read(count * 4)
    except OSError as exc:
        raise LatentError(f"{path}: cannot read: {exc.strerror}") from None
    if len(data) != count * 4:
        raise LatentError(f"{path}: the record at byte {event.offset} is cut short")
    if hashlib.sha256(data).hexdigest() != event.sha256:
        raise LatentError(f"{path}: the record at byte {event.offset} does not match its sha256")
    return np.frombuffer(data, dtype="<f4").reshape(shape).copy()
