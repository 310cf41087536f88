"""The director: a meta-character, played by the same stage, that the cast never sees.

Each turn the director reads the whole public scene (with every character's
persona and goals), picks the next speaker by log-probability over the names,
and writes a one-line stage direction. The direction is a `DirectionGiven`
event perceived only by that speaker, so it lands in its prompt alone.
"""

from __future__ import annotations

from simstage.cast.narrator import public_transcript
from simstage.events import DirectionGiven, SpeakerChosen
from simstage.puppeteer.base import PuppeteerBase, Scene, floor_options
from simstage.scenario.models import Scenario
from simstage.stage.base import Message, Sampling

SEQUENCE = " director"
"""The director's sequence key (a leading space: no character can be called this)."""
MAX_DIRECTION_CHARS = 160


def director_system(scenario: Scenario) -> Message:
    """Who the director is and what it knows: every persona and goal."""
    lines = [f'You are the director of the play "{scenario.title}". The actors never see you.']
    for member in scenario.cast:
        goals = f" Wants: {' '.join(member.goals)}" if member.goals else ""
        lines.append(f"- {member.name}: {member.persona}{goals}")
    lines.append("Keep the scene moving and dramatic.")
    return Message("system", "\n".join(lines))


def clean_direction(text: str) -> str:
    """The first non-empty line of a generated direction, unquoted and bounded."""
    for line in text.splitlines():
        line = line.strip().strip('"').strip()
        if line:
            return line[:MAX_DIRECTION_CHARS]
    return ""


class Director(PuppeteerBase):
    """Picks the next speaker and whispers it a stage direction.

    Args:
        max_tokens: most tokens a direction may take.
    """

    kind = "director"

    def __init__(self, max_tokens: int = 32) -> None:
        self.max_tokens = max_tokens

    def next_speaker(self, scene: Scene) -> str:
        scenario, events, turn, stage = scene.scenario, scene.events, scene.turn, scene.stage
        options = floor_options(scenario, events)
        seq = scene.sequence(SEQUENCE)
        transcript = f"The scene so far:\n{public_transcript(events)}"
        ask = [
            director_system(scenario),
            Message("user", f"{transcript}\n\nWho should speak next?"),
        ]
        if len(options) == 1:
            speaker = options[0]
        else:
            index = stage.choose(seq, ask, [" " + name for name in options], prefix="Next:")
            speaker = options[index]
        scene.emit(SpeakerChosen(turn=turn, by=self.kind, speaker=speaker, options=tuple(options)))
        request = (
            f"{transcript}\n\n{speaker} speaks next. Write one short stage direction for {speaker} "
            "alone: what to do or say now. Reply with the direction only."
        )
        sampling = Sampling(
            temperature=scene.sampling.temperature,
            top_p=scene.sampling.top_p,
            max_tokens=self.max_tokens,
            seed=(scene.seed * 7_919 + turn) & 0x7FFFFFFF,
        )
        raw = "".join(
            stage.generate(seq, [director_system(scenario), Message("user", request)], sampling)
        )
        text = clean_direction(raw)
        if text:
            scene.emit(DirectionGiven(turn=turn, to=speaker, text=text))
        return speaker
