"""The bench's scene: a fixed cast talking in turn, each character's prompt built from what it heard."""

from __future__ import annotations

from typing import Any

from simstage.stage.base import Message

NAMES = ("Ada", "Bram", "Cleo", "Dev", "Edda", "Finn", "Gus", "Hana", "Ines", "Jon", "Kai", "Lior")
PERSONAS = (
    "a retired sea captain who tells long stories",
    "a nervous accountant who worries about money",
    "a young painter who sees beauty everywhere",
    "a blunt chef who hates waste",
)


def bench_scenario(characters: int) -> Any:
    """The seeded bench scene: a dinner, `characters` guests, the real cast prompts."""
    from simstage.scenario.models import Scenario

    names = [NAMES[i % len(NAMES)] + ("" if i < len(NAMES) else str(i)) for i in range(characters)]
    return Scenario.model_validate(
        {
            "title": "A dinner that runs late",
            "seed": 1,
            "world": {
                "locations": ["dining room", "kitchen", "garden"],
                "containers": {"sideboard": {"in": "dining room"}, "pantry": {"in": "kitchen"}},
                "objects": {"wine": {"in": "pantry"}},
            },
            "cast": [
                {
                    "name": name,
                    "persona": f"{name} is {PERSONAS[i % len(PERSONAS)]}.",
                    "location": "dining room",
                    "goals": ["Be heard at the table.", "Find out who brought the wine."],
                }
                for i, name in enumerate(names)
            ],
            "max_turns": 100_000,
        }
    )


class SceneScript:
    """Who speaks when and what each character has heard: the prompts of the bench scene."""

    def __init__(self, characters: int, seed: int = 0):
        from simstage.cast.prompt import system_message

        self.seed = seed
        """Who opens the scene: runs of different seeds start with different speakers."""
        self.scenario = bench_scenario(characters)
        self.names = self.scenario.cast_names
        self._system = {name: system_message(self.scenario, name) for name in self.names}
        self.lines: list[tuple[str, str]] = []

    def speaker(self, turn: int) -> str:
        return self.names[(turn + self.seed) % len(self.names)]

    def messages(self, name: str) -> list[Message]:
        """The speaker's chat: system, then (heard since last turn, own line) pairs, then the open turn."""
        messages = [self._system[name]]
        heard: list[str] = []
        for speaker, line in self.lines:
            if speaker == name:
                messages.append(Message("user", "\n".join(heard) or "(silence)"))
                messages.append(Message("assistant", line))
                heard = []
            else:
                heard.append(f"{speaker} says: {line}")
        heard.append("It is your turn.")
        messages.append(Message("user", "\n".join(heard)))
        return messages
