"""Beliefs turn by turn, folded incrementally: each event is applied once, as it arrives.

The engine's run and the TUI (live or replaying a log) keep one of these and
feed it every event; `at(turn)` is the belief state at the end of that turn,
kept as a snapshot, so scrubbing back and forth never folds the run again.
"""

from __future__ import annotations

import bisect
from collections.abc import Iterable
from typing import Any

from simstage.events import ProbeAnswered, RunEnded
from simstage.scenario.models import Scenario
from simstage.tom.beliefs import BeliefState
from simstage.tom.tracker import MAX_ORDER, BeliefTracker


def probe_order(scenario: Scenario, extra: Iterable[ProbeAnswered] = ()) -> int:
    """The order to track: the scenario's, or deeper where one of its probes (or `extra`) asks deeper.

    At most 4; a probe through [B, C] asks an order-3 belief.
    """
    chains = [probe.through for probe in scenario.probes] + [probe.through for probe in extra]
    deepest = max((len(chain) + 1 for chain in chains), default=0)
    return min(MAX_ORDER, max(scenario.tom.order, deepest))


class BeliefTimeline:
    """The tracker fed one event at a time, with a snapshot at the end of every turn.

    Args:
        scenario: the scene.
        order: the deepest order kept (default: the scenario's, or its probes' when deeper).
    """

    def __init__(self, scenario: Scenario, order: int | None = None):
        self.scenario = scenario
        self.tracker = BeliefTracker(
            scenario, order=probe_order(scenario) if order is None else order
        )
        self._initial = self.tracker.state()
        self._turn = 0
        self._ended: list[int] = []
        self._snapshots: list[BeliefState] = []
        """The state at the end of each turn in `_ended` (turns that had events), in order."""

    def add(self, event: Any) -> None:
        """Fold one more event (events arrive in order)."""
        if isinstance(event, RunEnded):
            return
        if event.turn > self._turn:
            self._ended.append(self._turn)
            self._snapshots.append(self.tracker.state())
            self._turn = event.turn
        self.tracker.apply(event)

    def extend(self, events: Iterable[Any]) -> BeliefTimeline:
        """Fold several events; returns itself."""
        for event in events:
            self.add(event)
        return self

    def now(self) -> BeliefState:
        """The beliefs after every event so far."""
        return self.tracker.state()

    def at(self, turn: int) -> BeliefState:
        """The beliefs at the end of `turn` (the latest state for the turn in progress or later)."""
        if turn >= self._turn:
            return self.now()
        index = bisect.bisect_right(self._ended, turn) - 1
        return self._snapshots[index] if index >= 0 else self._initial
