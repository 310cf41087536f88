"""Round robin: the cast speaks in turn, in the order the scenario lists it."""

from __future__ import annotations

from collections.abc import Sequence

from simstage.scenario.models import Scenario
from simstage.world.state import WorldState


class RoundRobin:
    """Turn 1 goes to the first character, turn 2 to the second, and so on."""

    kind = "round_robin"

    def next_speaker(
        self, scenario: Scenario, world: WorldState, events: Sequence[object], turn: int
    ) -> str:
        names = scenario.cast_names
        return names[(turn - 1) % len(names)]
