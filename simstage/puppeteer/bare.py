"""The bare stage: no puppeteer; the model itself decides who speaks next.

The stage reads the public transcript from a narrator's seat and the next
speaker's name is chosen by log-probability over the cast (`stage.choose`):
the model as a pure simulator of the scene. A base model reads the public
screenplay and the next `Name:` line is scored instead.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from simstage.cast import screenplay
from simstage.cast.narrator import public_transcript
from simstage.events import SpeakerChosen
from simstage.puppeteer.base import PuppeteerBase, Scene, floor_options
from simstage.scenario.models import Scenario
from simstage.stage.base import Message

SEQUENCE = " narrator"
"""The narrator's sequence key (a leading space: no character can be called this)."""
PREFIX = "Next to speak:"


def narrator_messages(scenario: Scenario, events: Sequence[Any]) -> list[Message]:
    """The narrator's view: who is in the scene, what has been said and done in public."""
    cast = "\n".join(f"- {m.name}: {m.persona}" for m in scenario.cast)
    system = (
        f'You are the narrator of the scene "{scenario.title}". You know who is in it:\n{cast}\n'
        "You tell who speaks next, naming one character."
    )
    user = f"The scene so far:\n{public_transcript(events)}\n\nWho speaks next?"
    return [Message("system", system), Message("user", user)]


class BareStage(PuppeteerBase):
    """The stage picks the next speaker among the cast (anyone but whoever just spoke)."""

    kind = "bare"

    def next_speaker(self, scene: Scene) -> str:
        scenario, events = scene.scenario, scene.events
        # A conversation passes the floor; a one-character scene has no choice.
        options = floor_options(scenario, events)
        if len(options) == 1:
            speaker = options[0]
        elif scene.stage.describe().plays_screenplay:
            # A base model: which `Name:` is the likeliest next line of the public screenplay.
            messages = screenplay.narrator_messages(scenario, events)
            labels = [screenplay.turn_prefix(name) for name in options]
            speaker = options[scene.stage.choose(scene.sequence(SEQUENCE), messages, labels)]
        else:
            messages = narrator_messages(scenario, events)
            labels = [" " + name for name in options]
            speaker = options[
                scene.stage.choose(scene.sequence(SEQUENCE), messages, labels, prefix=PREFIX)
            ]
        scene.emit(
            SpeakerChosen(turn=scene.turn, by=self.kind, speaker=speaker, options=tuple(options))
        )
        return speaker
