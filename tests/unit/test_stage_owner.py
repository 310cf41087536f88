"""OwnedStage: every call on one owner thread, streams through a queue, errors come back."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

import pytest

from simstage.stage.base import Message, Sampling
from simstage.stage.owner import OwnedStage
from simstage.stage.scripted import ScriptedStage


class Recording(ScriptedStage):
    def __init__(self) -> None:
        super().__init__(chunk=1)
        self.threads: set[str] = set()
        self.closed = False

    def open_sequence(self) -> int:
        self.threads.add(threading.current_thread().name)
        return super().open_sequence()

    def generate(self, seq, messages, sampling):
        self.threads.add(threading.current_thread().name)
        yield from super().generate(seq, messages, sampling)

    def choose(self, seq, messages, options, prefix=""):
        raise ValueError("no options today")

    def close(self) -> None:
        self.threads.add(threading.current_thread().name)
        self.closed = True


def test_calls_from_many_threads_run_on_the_owner_thread() -> None:
    inner = Recording()
    owned = OwnedStage(inner)
    with ThreadPoolExecutor(4) as pool:
        seqs = list(pool.map(lambda _: owned.open_sequence(), range(20)))
    assert sorted(seqs) == list(range(20))
    owned.enqueue(["abc"])
    chunks = list(owned.generate(0, [Message("user", "hi")], Sampling()))
    assert chunks == ["a", "b", "c"]
    owned.close()
    assert inner.closed and inner.threads == {"simstage-stage"}


def test_errors_reach_the_caller_and_attributes_pass_through() -> None:
    owned = OwnedStage(Recording())
    with pytest.raises(ValueError, match="no options today"):
        owned.choose(0, [], ["a"])
    assert owned.backend == "scripted" and owned.SUPPORTS_SEQUENCES
    assert owned.counters is owned.inner.counters
    owned.close()


def test_stopping_a_stream_early_cancels_it() -> None:
    inner = Recording()
    owned = OwnedStage(inner)
    owned.enqueue(["x" * 1000])
    stream = owned.generate(0, [Message("user", "hi")], Sampling())
    assert next(stream) == "x"
    stream.close()
    # The owner thread is free again: the next call does not wait for 1,000 chunks.
    assert owned.open_sequence() >= 0
    assert inner.counters.generated_tokens < 1000
    owned.close()
