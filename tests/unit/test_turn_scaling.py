"""A turn costs the same at turn 1,000 as at turn 10: nothing per turn grows with the run.

The structural causes are checked, not the wall clock (machines are noisy; `simstage bench
--scaling` reports the measured figure): the reply schema's models are made once per
character, not each turn, and a prompt is brought up to date from the events its character
has not seen yet, not rebuilt from the whole run.
"""

from __future__ import annotations

from pydantic import create_model as pydantic_create_model

import simstage.cast.prompt as prompt_module
import simstage.cast.turn as turn_module
from simstage.cast.prompt import character_messages
from simstage.engine import Simulation
from simstage.events import ProbeAnswered, TurnStarted
from simstage.scenario import load_scenario
from simstage.stage import make_stage
from simstage.stage.scripted import ScriptedStage
from tests.conftest import SCENARIOS


def test_reply_models_are_made_a_bounded_number_of_times(sally_anne, monkeypatch) -> None:
    made = []

    def counting(*args, **kwargs):
        made.append(args[0])
        return pydantic_create_model(*args, **kwargs)

    monkeypatch.setattr(turn_module, "create_model", counting)
    sim = Simulation(sally_anne.scenario, ScriptedStage(), max_turns=200)
    for _ in range(10):
        sim.step()
    early = len(made)
    sim.run()
    assert sim.turn == 200
    # Turns 11 to 200 (each parsed, each with its schema) make no new model.
    assert len(made) == early


def test_a_turns_prompt_walks_only_the_events_since_the_last(monkeypatch) -> None:
    loaded = load_scenario(SCENARIOS / "dinner-party.yaml")
    looked = {"n": 0}

    def counting(event, me):
        looked["n"] += 1
        return original(event, me)

    original = prompt_module.perceived
    monkeypatch.setattr(prompt_module, "perceived", counting)
    sim = Simulation(loaded.scenario, ScriptedStage(), max_turns=160)
    sim.run()
    # Each character looks at each event at most once over the whole run (turn
    # prompts and probes alike); rebuilding every prompt from the start looks at
    # every earlier event again each turn, which grows with the square of the run.
    assert looked["n"] <= len(sim.events) * len(loaded.scenario.cast)


def test_the_kept_prompt_equals_the_prompt_built_from_every_event() -> None:
    """The run's incremental prompts (turns, trims, probes) are exactly the one-pass fold's."""
    loaded = load_scenario(SCENARIOS / "dinner-party.yaml")
    scenario = loaded.scenario
    stage = ScriptedStage(n_ctx=900)  # small: the run trims every character's context
    sim = Simulation(scenario, stage, max_turns=40)
    sim.run()
    assert any(e.type == "context_trimmed" for e in sim.events)
    starts = [i for i, e in enumerate(sim.events) if isinstance(e, TurnStarted)]
    assert len(stage.prompts) == len(starts) == 40
    for (seq, got), start in zip(stage.prompts, starts, strict=False):
        speaker = sim.events[start].speaker
        assert seq == sim.sequence(speaker)
        # What the speaker had seen: up to its turn start, and any trim recorded for that turn.
        upto = (
            sim.events[: start + 1]
            + [
                e
                for e in sim.events[start + 1 :]
                if e.type == "context_trimmed"
                and e.turn == sim.events[start].turn
                and e.who == speaker
            ][:1]
        )
        assert got == character_messages(scenario, speaker, upto)
    # A probe asked now gets the same prompt from the kept fold as from every event.
    for name in scenario.cast_names:
        here = sim.world.character_location[name]
        present = sim.world.present(here)
        kept = sim.cast.messages(
            name, sim.events, question="Where is the ring?", location=here, present=present
        )
        whole = character_messages(
            scenario,
            name,
            sim.events,
            question="Where is the ring?",
            location=here,
            present=present,
        )
        assert kept == whole
    assert any(isinstance(e, ProbeAnswered) for e in sim.events)


def test_a_run_on_the_stage_the_command_line_makes_keeps_no_prompts(sally_anne) -> None:
    stage = make_stage(sally_anne.scenario.stage, backend="scripted")
    sim = Simulation(sally_anne.scenario, stage, max_turns=30)
    sim.run()
    assert sim.turn == 30
    # Every prompt holds the whole run so far; keeping each one grows with the square of the run.
    assert stage.prompts == []


def test_the_scaling_figure_measures_a_run_in_a_child_process_of_its_own() -> None:
    from simstage.bench.figures import _scaling_run

    run = _scaling_run(30, 3)
    assert run["turns"] == 30
    assert run["seconds"] > 0 and 5 < run["rss_mb"] < 2048
