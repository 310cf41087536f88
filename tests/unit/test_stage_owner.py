"""OwnedStage: every call on one owner thread, streams through a queue, errors come back; its abilities too."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

import pytest

from simstage.stage.abilities import (
    Batching,
    LatentReader,
    Meter,
    OneByOne,
    TokenCounter,
    batching,
    counters,
)
from simstage.stage.base import Message, Sampling, StageError
from simstage.stage.owner import OwnedStage
from simstage.stage.scripted import ScriptedStage


class Recording(ScriptedStage, Batching):
    """A scripted stage that batches (one by one) and notes the threads that called it."""

    def __init__(self) -> None:
        super().__init__(chunk=1)
        self.threads: set[str] = set()
        self.closed = False

    def _seen(self) -> None:
        self.threads.add(threading.current_thread().name)

    def open_sequence(self) -> int:
        self._seen()
        return super().open_sequence()

    def generate(self, seq, messages, sampling):
        self._seen()
        yield from super().generate(seq, messages, sampling)

    def choose(self, seq, messages, options, prefix=""):
        raise ValueError("no options today")

    def choose_many(self, jobs):
        self._seen()
        return OneByOne(self).choose_many(jobs)

    def score_many(self, seq, jobs):
        self._seen()
        return OneByOne(self).score_many(seq, jobs)

    def generate_candidates(self, seq, messages, sampling, n):
        self._seen()
        return OneByOne(self).generate_candidates(seq, messages, sampling, n)

    def count_tokens(self, messages):
        self._seen()
        return super().count_tokens(messages)

    def close(self) -> None:
        self._seen()
        self.closed = True


def test_calls_from_many_threads_run_on_the_owner_thread() -> None:
    inner = Recording()
    owned = OwnedStage(inner)
    with ThreadPoolExecutor(4) as pool:
        seqs = list(pool.map(lambda _: owned.open_sequence(), range(20)))
    assert sorted(seqs) == list(range(20))
    inner.enqueue(["abc"])
    chunks = list(owned.generate(0, [Message("user", "hi")], Sampling()))
    assert chunks == ["a", "b", "c"]
    owned.close()
    assert inner.closed and inner.threads == {"simstage-stage"}


def test_errors_reach_the_caller_and_a_closed_stage_says_so() -> None:
    owned = OwnedStage(Recording())
    with pytest.raises(ValueError, match="no options today"):
        owned.choose(0, [], ["a"])
    owned.close()
    with pytest.raises(StageError, match="closed"):
        owned.open_sequence()


def test_abilities_come_through_the_owner_thread() -> None:
    inner = Recording()
    owned = OwnedStage(inner)
    assert owned.describe() == inner.describe()
    together = owned.ability(Batching)
    assert isinstance(together, Batching) and batching(owned) is not inner
    assert together.score_many(0, [([Message("user", "hi")], ["abc", "a"])]) == [[-3.0, -1.0]]
    counter = owned.ability(TokenCounter)
    assert counter is not None and counter.count_tokens([Message("user", "two words")]) == 4
    assert counter.kv_length(0) is None
    assert inner.threads == {"simstage-stage"}
    # Counters are plain values: the inner stage's own; a missing ability is None.
    meter = owned.ability(Meter)
    assert meter is not None and meter.counters is inner.counters is counters(owned)
    assert owned.ability(LatentReader) is None
    owned.close()


def test_a_stage_without_its_own_batching_gets_the_loop_over_its_core() -> None:
    stage = ScriptedStage(["one", "two"], chooser=lambda messages, options: len(options) - 1)
    assert stage.ability(Batching) is None
    loop = batching(stage)
    assert isinstance(loop, OneByOne) and not loop.together
    assert loop.choose_many([(0, [], ["a", "b"], ""), (0, [], ["a", "b", "c"], "")]) == [1, 2]
    assert loop.generate_candidates(0, [], Sampling(), 2) == ["one", "two"]


def test_stopping_a_stream_early_cancels_it() -> None:
    inner = Recording()
    owned = OwnedStage(inner)
    inner.enqueue(["x" * 1000])
    stream = owned.generate(0, [Message("user", "hi")], Sampling())
    assert next(stream) == "x"
    stream.close()
    # The owner thread is free again: the next call does not wait for 1,000 chunks.
    assert owned.open_sequence() >= 0
    assert inner.counters.generated_tokens < 1000
    owned.close()
