"""A 1,000-turn, 4-character scene on the real model: context trimming keeps it going."""

from __future__ import annotations

import pytest

from simstage.engine import Simulation
from simstage.events import ContextTrimmed, RunEnded, TurnEnded
from simstage.scenario import parse_scenario
from simstage.stage.llama import LlamaStage
from simstage.stage.models import resolve_model

pytestmark = pytest.mark.model

TURNS = 1000
NAMES = ["Ada", "Bram", "Cleo", "Dev"]
REMARKS = [
    "The soup is getting cold, and nobody has touched the bread yet.",
    "Did anyone hear the thunder outside a moment ago?",
    "I still think the painting in the hall is hung crooked.",
    "Pass the salt, please, if it is not too much trouble.",
]


def long_scene() -> str:
    cast = "\n".join(
        f"  - {{name: {n}, persona: 'A dinner guest who likes to talk.', location: dining room}}"
        for n in NAMES
    )
    timeline = "\n".join(
        f"  - {{at: {t}, event: {{type: say, who: {NAMES[(t + 1) % 4]}, text: '{REMARKS[t % 4]}'}}}}"
        for t in range(1, TURNS + 1)
    )
    return f"""
title: A very long dinner
seed: 5
stage: {{backend: llama, n_ctx: 4096, temperature: 0.7, max_tokens: 8}}
world:
  locations: [dining room, kitchen]
  containers: {{sideboard: {{in: dining room}}}}
  objects: {{wine: {{in: sideboard}}}}
cast:
{cast}
timeline:
{timeline}
max_turns: {TURNS}
"""


def test_thousand_turns_finish_with_trimming() -> None:
    scenario = parse_scenario(long_scene(), "long.yaml").scenario
    stage = LlamaStage(resolve_model("default"), n_ctx=4096, n_threads=2, n_seq_max=12)
    try:
        sim = Simulation(scenario, stage)
        assert sim.run() == "completed"
    finally:
        stage.close()
    assert isinstance(sim.events[-1], RunEnded) and sim.events[-1].reason == "completed"
    assert len([e for e in sim.events if isinstance(e, TurnEnded)]) == TURNS
    trims = [e for e in sim.events if isinstance(e, ContextTrimmed)]
    assert len(trims) > 20
    # Dropped spans were shifted out of the KV cache, not decoded again.
    assert stage.counters.extra.get("shifted_tokens", 0) > 0
