"""`read_completions`: contrast completions decoded in groups; reading stops at a failed group, its error kept, and every fork is dropped."""

from __future__ import annotations

import numpy as np

from simstage.stage.base import StageCounters
from simstage.stage.scoring import ScoreRequest, read_completions


class FakeStage:
    """Two free sequences at a time, so four completions need two groups."""

    def __init__(self) -> None:
        self.counters = StageCounters()
        self.open: set[int] = set()
        self.next = 100
        self.decoded: list[list[tuple[int, int, int, bool]]] = []

    def fork(self, seq: int) -> int:
        self.next += 1
        self.open.add(self.next)
        return self.next

    def drop(self, seq: int) -> None:
        self.open.discard(seq)

    def free_sequences(self) -> int:
        return 2

    def decode(self, items):
        self.decoded.append(list(items))
        return {}


class FakeCapture:
    """Reads every wanted token; fails in the decode numbered `fail_at`."""

    def __init__(self, stage: FakeStage, fail_at: int | None) -> None:
        self.stage, self.fail_at = stage, fail_at
        self.found: dict = {0: np.zeros(2), 1: np.zeros(2)}
        self.error: BaseException | None = None
        self._wanted: dict = {}

    def expect(self, wanted):
        self._wanted = dict(wanted or {})
        if wanted:  # the decode that follows reads them (or fails)
            if len(self.stage.decoded) == self.fail_at:
                self.error = RuntimeError("a tensor of the wrong width")
            for label in self._wanted.values():
                self.found[label] = np.ones(2)


REQUESTS = [ScoreRequest(0, [1, 2, 3], [[7, 8], [9]]), ScoreRequest(1, [1, 2], [[5], [6, 4]])]


def test_every_completion_is_read_at_its_last_token_and_the_question_reads_kept() -> None:
    stage = FakeStage()
    capture = FakeCapture(stage, fail_at=None)
    read_completions(stage, REQUESTS, [10, 11], [[0, 1], [0, 1]], capture)
    assert capture.error is None and not stage.open
    assert set(capture.found) == {0, 1, (0, 0), (0, 1), (1, 0), (1, 1)}
    first = stage.decoded[0]  # request 0's two completions, whole, logits only at each last token
    assert [(t, p, last) for t, p, _, last in first] == [(7, 3, False), (8, 4, True), (9, 3, True)]
    assert len(stage.decoded) == 2 and stage.counters.prompt_tokens == 6


def test_an_error_in_the_first_group_stops_the_reads_and_is_kept() -> None:
    stage = FakeStage()
    capture = FakeCapture(stage, fail_at=0)
    read_completions(stage, REQUESTS, [10, 11], [[0, 1], [0, 1]], capture)
    assert isinstance(capture.error, RuntimeError) and not stage.open
    assert len(stage.decoded) == 1  # stopped after the failing group
