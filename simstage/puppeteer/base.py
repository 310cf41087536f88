"""What a puppeteer is: whoever picks the next speaker."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from simstage.scenario.models import Scenario
from simstage.world.state import WorldState


class Puppeteer(Protocol):
    """Picks who speaks at each turn."""

    kind: str

    def next_speaker(
        self, scenario: Scenario, world: WorldState, events: Sequence[object], turn: int
    ) -> str:
        """The name of the character who speaks at `turn`."""
        ...
