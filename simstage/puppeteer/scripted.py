"""Scripted: the scenario's explicit speaking order, cycling."""

from __future__ import annotations

from collections.abc import Sequence

from simstage.events import SpeakerChosen
from simstage.puppeteer.base import PuppeteerBase, Scene


class ScriptedOrder(PuppeteerBase):
    """Turn 1 goes to `order[0]`, turn 2 to `order[1]`, ... and round again.

    Args:
        order: character names; the scenario checks they are in the cast.
    """

    kind = "scripted"

    def __init__(self, order: Sequence[str]):
        if not order:
            raise ValueError("the scripted puppeteer needs a non-empty `order`")
        self.order = list(order)

    def next_speaker(self, scene: Scene) -> str:
        speaker = self.order[(scene.turn - 1) % len(self.order)]
        scene.emit(SpeakerChosen(turn=scene.turn, by=self.kind, speaker=speaker))
        return speaker
