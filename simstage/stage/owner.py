"""One thread owns the model; everything else reaches it through a queue.

llama.cpp contexts are not thread-safe. `OwnedStage` wraps any stage so that
every call runs on one dedicated thread, in order. Streaming calls stream
back through a queue chunk by chunk; a consumer that stops early cancels the
generation between tokens.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable, Iterator
from concurrent.futures import Future
from typing import Any

_STREAMING = frozenset({"generate", "generate_tokens"})
_DONE = object()
_AHEAD = 16


class OwnedStage:
    """A stage whose every call runs on its own owner thread.

    Attributes that are not methods (counters, chat_format, n_ctx, flags) are
    read directly; they are plain values the owner thread updates.
    """

    def __init__(self, stage: Any):
        self._stage = stage
        self._jobs: queue.Queue[tuple[Callable[[], Any], Future[Any]] | None] = queue.Queue()
        self._thread = threading.Thread(target=self._serve, name="simstage-stage", daemon=True)
        self._closed = False
        self._thread.start()

    @property
    def inner(self) -> Any:
        """The wrapped stage (use only from the owner thread)."""
        return self._stage

    def _serve(self) -> None:
        while True:
            job = self._jobs.get()
            if job is None:
                return
            call, future = job
            if not future.set_running_or_notify_cancel():
                continue
            try:
                future.set_result(call())
            except BaseException as exc:  # noqa: BLE001 - handed to the caller
                future.set_exception(exc)

    def _submit(self, call: Callable[[], Any]) -> Any:
        if threading.current_thread() is self._thread:
            return call()
        if self._closed:
            raise RuntimeError("the stage is closed")
        future: Future[Any] = Future()
        self._jobs.put((call, future))
        return future.result()

    def _stream(self, method: Callable[..., Iterator[str]], *args: Any, **kwargs: Any) -> Iterator[str]:
        # Bounded: the producer stays a few chunks ahead, so stopping early stops it soon.
        chunks: queue.Queue[Any] = queue.Queue(maxsize=_AHEAD)
        cancelled = threading.Event()

        def hand_over(item: Any) -> bool:
            while not cancelled.is_set():
                try:
                    chunks.put(item, timeout=0.05)
                    return True
                except queue.Full:
                    continue
            return False

        def produce() -> None:
            iterator = method(*args, **kwargs)
            try:
                for chunk in iterator:
                    if not hand_over(chunk):
                        return
            except BaseException as exc:  # noqa: BLE001 - re-raised in the consumer
                hand_over(exc)
                return
            finally:
                close = getattr(iterator, "close", None)
                if close is not None:
                    close()
            hand_over(_DONE)

        future: Future[Any] = Future()
        if threading.current_thread() is self._thread:
            yield from method(*args, **kwargs)
            return
        self._jobs.put((produce, future))
        try:
            while True:
                item = chunks.get()
                if item is _DONE:
                    break
                if isinstance(item, BaseException):
                    raise item
                yield item
        finally:
            cancelled.set()
            future.result()

    def __getattr__(self, name: str) -> Any:
        attribute = getattr(self._stage, name)
        if not callable(attribute):
            return attribute
        if name in _STREAMING:
            return lambda *args, **kwargs: self._stream(attribute, *args, **kwargs)
        return lambda *args, **kwargs: self._submit(lambda: attribute(*args, **kwargs))

    def close(self) -> None:
        """Release the model on its thread, then stop the thread."""
        if self._closed:
            return
        try:
            self._submit(self._stage.close)
        finally:
            self._closed = True
            self._jobs.put(None)
            self._thread.join(timeout=10)
