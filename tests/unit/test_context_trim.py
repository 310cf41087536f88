"""Context limits: a character's oldest exchanges are dropped, recorded, and replayed the same way."""

from __future__ import annotations

from simstage.cast import character_messages
from simstage.engine import Simulation
from simstage.events import ContextTrimmed, RunEnded
from simstage.scenario import load_scenario
from simstage.stage.scripted import ScriptedStage
from tests.conftest import SCENARIOS


def test_long_run_trims_and_keeps_the_persona() -> None:
    loaded = load_scenario(SCENARIOS / "dinner-party.yaml")
    stage = ScriptedStage(n_ctx=2500)
    sim = Simulation(loaded.scenario, stage, max_turns=200)
    sim.run()
    assert isinstance(sim.events[-1], RunEnded) and sim.events[-1].reason == "completed"
    trims = [e for e in sim.events if isinstance(e, ContextTrimmed)]
    assert {t.who for t in trims} == set(loaded.scenario.cast_names)
    budget = sim.context_budget()
    assert budget is not None and all(
        t.budget == budget and t.tokens_after < t.tokens_before for t in trims
    )
    for _seq, messages in stage.prompts:
        assert messages[0].role == "system" and "You are" in messages[0].content
        assert stage.count_tokens(messages) + sim.sampling.max_tokens <= budget


def test_trimmed_prompts_are_a_fold_over_events() -> None:
    loaded = load_scenario(SCENARIOS / "dinner-party.yaml")
    stage = ScriptedStage(n_ctx=2500)
    sim = Simulation(loaded.scenario, stage, max_turns=60)
    sim.run()
    # Rebuilding Margot's last prompt from the events gives exactly what the stage got.
    seq = sim.sequence("Margot")
    last = [messages for s, messages in stage.prompts if s == seq][-1]
    index = max(
        i
        for i, e in enumerate(sim.events)
        if getattr(e, "type", "") == "turn_started" and e.speaker == "Margot"
    )
    upto = sim.events[: index + 1]
    upto += [
        e
        for e in sim.events[index + 1 :]
        if isinstance(e, ContextTrimmed) and e.turn == upto[-1].turn
    ]
    assert character_messages(loaded.scenario, "Margot", upto) == last
