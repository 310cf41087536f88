"""Round robin: the cast speaks in turn, in the order the scenario lists it."""

from __future__ import annotations

from simstage.puppeteer.base import PuppeteerBase, Scene, default_speaker


class RoundRobin(PuppeteerBase):
    """Turn 1 goes to the first character, turn 2 to the second, and so on."""

    kind = "round_robin"

    def next_speaker(self, scene: Scene) -> str:
        return default_speaker(scene.scenario, scene.turn)
