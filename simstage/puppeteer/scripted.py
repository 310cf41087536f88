"""Scripted: the scenario's explicit speaking order, cycling."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from simstage.events import SpeakerChosen
from simstage.scenario.models import Scenario
from simstage.world.state import WorldState


class ScriptedOrder:
    """Turn 1 goes to `order[0]`, turn 2 to `order[1]`, ... and round again.

    Args:
        order: character names; the scenario checks they are in the cast.
    """

    kind = "scripted"

    def __init__(self, order: Sequence[str]):
        if not order:
            raise ValueError("the scripted puppeteer needs a non-empty `order`")
        self.order = list(order)
        self._simulation: Any = None

    def attach(self, simulation: Any) -> None:
        """Remember the simulation, to record each choice as an event."""
        self._simulation = simulation

    def next_speaker(
        self, scenario: Scenario, world: WorldState, events: Sequence[object], turn: int
    ) -> str:
        speaker = self.order[(turn - 1) % len(self.order)]
        if self._simulation is not None:
            self._simulation.emit(SpeakerChosen(turn=turn, by=self.kind, speaker=speaker))
        return speaker
