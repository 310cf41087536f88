"""The human puppeteer: the person at the keyboard steers, one prompt per turn.

At each turn's prompt:

    <Enter>              the next character in turn speaks (the stage writes its line)
    @Name                Name speaks next (the stage writes its line)
    @Name: words         Name says these words (the human writes the line)
    !exit Name place     inject a world event: exit, enter (Name place),
    !enter Name place      move (Name object container), claim (Name object container)
    !move Name obj cont
    q  (or end of input) end the scene

A world event is applied at once and the prompt comes back for the same turn.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Sequence
from typing import IO, Any

from simstage.errors import SimstageError
from simstage.events import SpeakerChosen
from simstage.puppeteer.base import PuppeteerBase, Scene, default_speaker
from simstage.scenario.models import (
    ClaimAction,
    EnterAction,
    ExitAction,
    MoveAction,
    Scenario,
)
from simstage.stage.base import Message, Sampling

HELP = (
    "Enter: next in turn | @Name: speaks | @Name: words | !exit|!enter Name place | "
    "!move|!claim Name object container | q: quit"
)


class HumanInputError(SimstageError, ValueError):
    """A line typed at the prompt that is not a command."""


def parse_world_event(text: str, scenario: Scenario) -> Any:
    """`exit Sally hallway` and the like as a scenario action.

    Raises:
        HumanInputError: an unknown verb or a wrong number of words.
    """
    words = text.split()
    if not words:
        raise HumanInputError("an empty world event")
    verb, args = words[0].lower(), words[1:]
    if verb in ("exit", "enter") and len(args) == 2:
        if verb == "exit":
            return ExitAction(type="exit", who=args[0], to=args[1])
        return EnterAction(type="enter", who=args[0], to=args[1])
    if verb == "move" and len(args) == 3:
        return MoveAction(type="move", who=args[0], object=args[1], to=args[2])
    if verb == "claim" and len(args) == 3:
        return ClaimAction(type="claim", who=args[0], object=args[1], container=args[2], text=None)
    raise HumanInputError(f"not a world event: {text!r} ({HELP})")


class HumanPuppeteer(PuppeteerBase):
    """Reads the human's choice for each turn from `stdin`, prompts on `stdout`.

    Args:
        stdin: where commands come from (default: `sys.stdin`).
        stdout: where prompts and complaints go (default: `sys.stderr`, to keep the transcript clean).
    """

    kind = "human"

    def __init__(self, stdin: IO[str] | None = None, stdout: IO[str] | None = None) -> None:
        self.stdin = stdin or sys.stdin
        self.stdout = stdout or sys.stderr
        self._lines: dict[int, str] = {}

    def _say(self, text: str) -> None:
        self.stdout.write(text + "\n")
        self.stdout.flush()

    def next_speaker(self, scene: Scene) -> str | None:
        scenario, turn = scene.scenario, scene.turn
        names = scenario.cast_names
        fallback = default_speaker(scenario, turn)
        while True:
            self.stdout.write(f"turn {turn} [{fallback}] > ")
            self.stdout.flush()
            line = self.stdin.readline()
            if not line:
                self._say("")
                return None
            text = line.strip()
            if text.lower() in ("q", "quit", "exit"):
                return None
            if text in ("?", "help"):
                self._say(HELP)
                continue
            if text.startswith("!"):
                try:
                    action = parse_world_event(text[1:], scenario)
                except HumanInputError as exc:
                    self._say(str(exc))
                    continue
                scene.act(action, "human")
                continue
            speaker, words = fallback, None
            if text.startswith("@"):
                name, _, rest = text[1:].partition(":")
                speaker, words = name.strip(), (rest.strip() if _ else None)
            elif text:
                self._say(f"not a command: {text!r} ({HELP})")
                continue
            if speaker not in names:
                self._say(f"unknown character {speaker!r} (cast: {', '.join(names)})")
                continue
            if words:
                self._lines[turn] = json.dumps({"say": words, "action": None})
            scene.emit(SpeakerChosen(turn=turn, by=self.kind, speaker=speaker))
            return speaker

    def compose(
        self, scene: Scene, speaker: str, messages: Sequence[Message], sampling: Sampling
    ) -> str | None:
        """The line the human typed for this turn, if any (the stage writes it otherwise)."""
        return self._lines.pop(scene.turn, None)
