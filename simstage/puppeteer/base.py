"""What a puppeteer is: whoever picks the next speaker (and may shape its line).

The protocol is one method. Optional abilities are plain methods the engine
looks for:

- `attach(simulation)`: called once by the `Simulation`, so the puppeteer can
  use the stage, read events and `emit` its own (choices, directions, candidates);
- `compose(simulation, speaker, messages, sampling) -> str | None`: called when
  the speaker's turn starts; a string is used as the speaker's whole turn
  (raw, as the stage would have produced it), None lets the stage generate.

`next_speaker` may return None to end the scene (a human who quits).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Protocol

from simstage.scenario.models import Scenario
from simstage.world.state import WorldState


class Puppeteer(Protocol):
    """Picks who speaks at each turn."""

    kind: str

    def next_speaker(
        self, scenario: Scenario, world: WorldState, events: Sequence[object], turn: int
    ) -> str | None:
        """The name of the character who speaks at `turn` (None: end the scene)."""
        ...


def public_transcript(events: Sequence[Any], limit: int = 30) -> str:
    """What an onlooker of the whole scene saw, last `limit` lines: the narrator's view."""
    from simstage.render import narrate

    shown = ("enter", "exit", "move", "say", "claim")
    lines = [narrate(e) for e in events if getattr(e, "type", None) in shown]
    text = "\n".join(line for line in lines[-limit:] if line)
    return text or "(Nothing has happened yet.)"


def default_speaker(scenario: Scenario, turn: int) -> str:
    """Round robin's choice: the fallback when a puppeteer has no better one."""
    names = scenario.cast_names
    return names[(turn - 1) % len(names)]


def last_speaker(events: Sequence[Any]) -> str | None:
    """Who had the floor most recently."""
    for event in reversed(events):
        if getattr(event, "type", None) == "turn_started":
            return str(event.speaker)
    return None


def floor_options(scenario: Scenario, events: Sequence[Any]) -> list[str]:
    """Who may take the floor next: everyone but the last speaker (all, in a one-character scene)."""
    names = scenario.cast_names
    previous = last_speaker(events)
    return [name for name in names if name != previous] or names
