"""One thread owns the model; everything else reaches it through a queue.

llama.cpp contexts are not thread-safe. `OwnedStage` wraps any stage so that
every call runs on one dedicated thread, in order. Streaming calls stream
back through a queue chunk by chunk; a consumer that stops early cancels the
generation between tokens.

Every member of the protocol is written out here, and so is every ability with
methods (`Owned*` below): a type checker sees each one, and a new ability that is
not wrapped here is not offered through the owner (`ability` returns None).
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Future
from typing import Any, TypeVar

from simstage.stage.abilities import (
    Batching,
    Contrast,
    LatentChoices,
    LatentReader,
    Meter,
    PromptRenderer,
    Restart,
    Steering,
    TokenCounter,
    WrappingLatentReader,
)
from simstage.stage.base import (
    ChooseJob,
    ClosableStage,
    Message,
    Sampling,
    ScoreJob,
    StageDescription,
    StageError,
)  # fmt: skip

A = TypeVar("A")
T = TypeVar("T")
_DONE = object()
_AHEAD = 16


class OwnerThread:
    """The thread that runs every call on a stage, one after another."""

    def __init__(self) -> None:
        self._jobs: queue.Queue[tuple[Callable[[], Any], Future[Any]] | None] = queue.Queue()
        self._thread = threading.Thread(target=self._serve, name="simstage-stage", daemon=True)
        self.closed = False
        self._thread.start()

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
            except BaseException as exc:
                future.set_exception(exc)

    def call(self, call: Callable[[], T]) -> T:
        """Run `call` on the owner thread and return what it returns (or raise what it raised)."""
        if threading.current_thread() is self._thread:
            return call()
        if self.closed:
            raise StageError("the stage is closed")
        future: Future[T] = Future()
        self._jobs.put((call, future))
        return future.result()

    def stream(self, start: Callable[[], Iterator[str]]) -> Iterator[str]:
        """The chunks of the iterator `start` makes, produced on the owner thread."""
        if threading.current_thread() is self._thread:
            yield from start()
            return
        if self.closed:
            raise StageError("the stage is closed")
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
            iterator = start()
            try:
                for chunk in iterator:
                    if not hand_over(chunk):
                        return
            except BaseException as exc:
                hand_over(exc)
                return
            finally:
                close = getattr(iterator, "close", None)  # a generator's; a plain iterator has none
                if close is not None:
                    close()
            hand_over(_DONE)

        future: Future[Any] = Future()
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

    def stop(self) -> None:
        """Stop the thread once the calls queued before are done."""
        self.closed = True
        self._jobs.put(None)
        self._thread.join(timeout=10)


class OwnedStage:
    """A stage whose every call runs on its own owner thread.

    Args:
        stage: the stage to own; use it only through this wrapper from now on.
    """

    def __init__(self, stage: ClosableStage):
        self._stage = stage
        self._owner = OwnerThread()
        self._description: StageDescription | None = None

    def describe(self) -> StageDescription:
        """The stage's description, read once on the owner thread (it is fixed for the stage's life)."""
        if self._description is None:
            self._description = self._owner.call(self._stage.describe)
        return self._description

    def ability(self, kind: type[A]) -> A | None:
        """The stage's ability, its calls run on the owner thread; counters (plain values) as they are."""
        inner = self._stage.ability(kind)
        owner = self._owner
        wrapped: object
        if inner is None:
            return None
        # One stage object often offers several abilities: wrap it as the one asked for.
        if kind is Batching and isinstance(inner, Batching):
            wrapped = OwnedBatching(owner, inner)
        elif kind is LatentReader and isinstance(inner, LatentReader):
            wrapped = OwnedLatentReader(owner, inner)
        elif kind is TokenCounter and isinstance(inner, TokenCounter):
            wrapped = OwnedTokenCounter(owner, inner)
        elif kind is PromptRenderer and isinstance(inner, PromptRenderer):
            wrapped = OwnedPromptRenderer(owner, inner)
        elif kind is Restart and isinstance(inner, Restart):
            wrapped = OwnedRestart(owner, inner)
        elif kind is Meter:
            wrapped = inner  # plain values the owner thread updates
        else:
            return None
        return wrapped if isinstance(wrapped, kind) else None

    def open_sequence(self) -> int:
        return self._owner.call(self._stage.open_sequence)

    def fork(self, seq: int) -> int:
        return self._owner.call(lambda: self._stage.fork(seq))

    def drop(self, seq: int) -> None:
        self._owner.call(lambda: self._stage.drop(seq))

    def generate(self, seq: int, messages: Sequence[Message], sampling: Sampling) -> Iterator[str]:
        return self._owner.stream(lambda: self._stage.generate(seq, messages, sampling))

    def choose(
        self, seq: int, messages: Sequence[Message], options: Sequence[str], prefix: str = ""
    ) -> int:
        return self._owner.call(lambda: self._stage.choose(seq, messages, options, prefix))

    def score(
        self, seq: int, messages: Sequence[Message], continuation: str, prefix: str = ""
    ) -> float:
        return self._owner.call(lambda: self._stage.score(seq, messages, continuation, prefix))

    def close(self) -> None:
        """Release the model on its thread, then stop the thread."""
        if self._owner.closed:
            return
        try:
            self._owner.call(self._stage.close)
        finally:
            self._owner.stop()


class OwnedBatching(Batching):
    """A stage's `Batching`, called on its owner thread."""

    def __init__(self, owner: OwnerThread, inner: Batching):
        self._owner, self._inner = owner, inner
        self.together = inner.together

    def choose_many(self, jobs: Sequence[ChooseJob]) -> list[int]:
        return self._owner.call(lambda: self._inner.choose_many(jobs))

    def score_many(self, seq: int, jobs: Sequence[ScoreJob]) -> list[list[float]]:
        return self._owner.call(lambda: self._inner.score_many(seq, jobs))

    def generate_candidates(
        self, seq: int, messages: Sequence[Message], sampling: Sampling, n: int
    ) -> list[str]:
        return self._owner.call(lambda: self._inner.generate_candidates(seq, messages, sampling, n))


class OwnedLatentReader(WrappingLatentReader):
    """A stage's `LatentReader`, called on its owner thread."""

    def __init__(self, owner: OwnerThread, inner: LatentReader):
        super().__init__(inner)
        self._owner = owner

    def choose_many_latent(
        self, jobs: Sequence[ChooseJob], contrast: Contrast = None, steer: Steering = None
    ) -> LatentChoices:
        return self._owner.call(lambda: self._inner.choose_many_latent(jobs, contrast, steer))


class OwnedTokenCounter(TokenCounter):
    """A stage's `TokenCounter`, called on its owner thread."""

    def __init__(self, owner: OwnerThread, inner: TokenCounter):
        self._owner, self._inner = owner, inner

    def count_tokens(self, messages: Sequence[Message]) -> int | None:
        return self._owner.call(lambda: self._inner.count_tokens(messages))

    def kv_length(self, seq: int) -> int | None:
        return self._owner.call(lambda: self._inner.kv_length(seq))


class OwnedPromptRenderer(PromptRenderer):
    """A stage's `PromptRenderer`, called on its owner thread."""

    def __init__(self, owner: OwnerThread, inner: PromptRenderer):
        self._owner, self._inner = owner, inner

    def prompt_text(self, messages: Sequence[Message], prefix: str = "") -> str:
        return self._owner.call(lambda: self._inner.prompt_text(messages, prefix))

    def prompt_tokens(self, messages: Sequence[Message], prefix: str = "") -> list[int]:
        return self._owner.call(lambda: self._inner.prompt_tokens(messages, prefix))


class OwnedRestart(Restart):
    """A stage's `Restart`, called on its owner thread."""

    def __init__(self, owner: OwnerThread, inner: Restart):
        self._owner, self._inner = owner, inner

    def restart(self) -> None:
        self._owner.call(self._inner.restart)
