"""What a puppeteer is: whoever picks the next speaker (and may shape its line).

The engine hands a puppeteer a small `Scene` view at each call, never itself:
the scenario, the events so far, the world, the turn, the seed and sampling,
the stage, a way to get a stage sequence, and `emit` for the puppeteer's own
events (choices, directions, candidates).

- `next_speaker(scene)`: who speaks at `scene.turn` (None: end the scene, as a
  human who quits does);
- `compose(scene, speaker, messages, sampling)`: called when the speaker's turn
  starts; a string is used as the speaker's whole turn (raw, as the stage would
  have produced it), None lets the stage generate. `PuppeteerBase` returns None.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from simstage.events import TurnStarted
from simstage.scenario.models import Scenario
from simstage.stage.base import Message, Sampling, Stage
from simstage.world.state import WorldState


@dataclass(frozen=True)
class Scene:
    """What a puppeteer, a reward or a metric may read and do during one call."""

    scenario: Scenario
    events: Sequence[Any]
    """The run's events so far (read only)."""
    world: WorldState
    turn: int
    seed: int
    sampling: Sampling
    """The scenario's sampling settings (temperature, top_p, max_tokens)."""
    stage: Stage
    sequence: Callable[[str], int]
    """The stage sequence of a character (or of a puppeteer's own seat, e.g. " director")."""
    emit: Callable[[Any], Any]
    """Record an event (it is folded into the world and the log, then returned)."""
    act: Callable[[Any, str], Any]
    """Apply a world action with an origin (a human's injected event); returns its event."""


class Puppeteer(Protocol):
    """Picks who speaks at each turn, and may write the speaker's line."""

    kind: str

    def next_speaker(self, scene: Scene) -> str | None:
        """The name of the character who speaks at `scene.turn` (None: end the scene)."""
        ...

    def compose(
        self, scene: Scene, speaker: str, messages: Sequence[Message], sampling: Sampling
    ) -> str | None:
        """The speaker's whole turn, or None to let the stage generate it."""
        ...


class PuppeteerBase:
    """The default: the stage writes every line."""

    kind = "?"

    def compose(
        self, scene: Scene, speaker: str, messages: Sequence[Message], sampling: Sampling
    ) -> str | None:
        return None


def default_speaker(scenario: Scenario, turn: int) -> str:
    """Round robin's choice: the fallback when a puppeteer has no better one."""
    names = scenario.cast_names
    return names[(turn - 1) % len(names)]


def last_speaker(events: Sequence[Any]) -> str | None:
    """Who had the floor most recently."""
    for event in reversed(events):
        if isinstance(event, TurnStarted):
            return event.speaker
    return None


def floor_options(scenario: Scenario, events: Sequence[Any]) -> list[str]:
    """Who may take the floor next: everyone but the last speaker (all, in a one-character scene)."""
    names = scenario.cast_names
    previous = last_speaker(events)
    return [name for name in names if name != previous] or names
