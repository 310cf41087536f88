"""The cast sees only what it witnessed; the engine turns every outcome into an event."""

from __future__ import annotations

import itertools
import json

import pytest

from simstage.cast import character_messages, parse_turn, turn_schema
from simstage.cast.turn import TurnParseError
from simstage.engine import Simulation
from simstage.events import (
    ParseFailed,
    ProbeAnswered,
    Rejected,
    RunEnded,
    Said,
    Told,
    WhoKnowsAnswered,
)
from simstage.scenario import load_scenario
from simstage.stage.scripted import ScriptedStage
from tests.conftest import SCENARIOS, say


def test_sally_does_not_see_the_move_she_missed(sally_anne) -> None:
    stage = ScriptedStage()
    sim = Simulation(sally_anne.scenario, stage)
    sim.run()
    # Sally's prompts: turn 1, 3 (hallway, during the move) and 5 (after she returns).
    sally_prompts = [msgs for seq, msgs in stage.prompts if seq == sim.sequence("Sally")]
    assert len(sally_prompts) == 3
    after_return = "\n".join(m.content for m in sally_prompts[-1])
    assert (
        "box"
        not in after_return.replace("(in the room)", "").split("Containers:")[1].split("\n", 1)[1]
    )
    assert "moves the marble" not in after_return
    assert "You enter the room." in after_return
    anne_prompts = [msgs for seq, msgs in stage.prompts if seq == sim.sequence("Anne")]
    assert any("move the marble from the basket to the box" in m.content for m in anne_prompts[-1])


def test_prompts_are_append_only(sally_anne) -> None:
    stage = ScriptedStage()
    sim = Simulation(sally_anne.scenario, stage)
    sim.run()
    for name in ("Sally", "Anne"):
        prompts = [msgs for seq, msgs in stage.prompts if seq == sim.sequence(name)]
        for earlier, later in itertools.pairwise(prompts):
            # Everything but the last (open) user message is kept verbatim.
            assert later[: len(earlier) - 1] == earlier[:-1]
            assert later[len(earlier) - 1].content.startswith(earlier[-1].content)


@pytest.mark.parametrize("path", sorted(SCENARIOS.glob("*.yaml")), ids=lambda p: p.name)
def test_every_scenario_plays_on_the_scripted_stage(path) -> None:
    loaded = load_scenario(path)
    sim = Simulation(loaded.scenario, ScriptedStage())
    assert sim.run() == "completed"
    assert isinstance(sim.events[-1], RunEnded)
    assert sim.turn == loaded.scenario.max_turns
    probes = [e for e in sim.events if isinstance(e, (ProbeAnswered, WhoKnowsAnswered))]
    assert len(probes) == len(loaded.scenario.probes)
    timeline = [e for e in sim.events if getattr(e, "origin", None) == "timeline"]
    assert len(timeline) == len(loaded.scenario.timeline)


def test_private_tell_reaches_only_the_listener() -> None:
    loaded = load_scenario(SCENARIOS / "dinner-party.yaml")
    stage = ScriptedStage()
    sim = Simulation(loaded.scenario, stage)
    sim.run()
    told = [e for e in sim.events if isinstance(e, Told)]
    assert told and all(set(e.witnesses) == {e.who, e.to} for e in told)
    secret = "I saw you at the pawnbroker's"
    for name in ("Margot", "Edwin"):
        prompts = [m for seq, m in stage.prompts if seq == sim.sequence(name)]
        assert all(secret not in msg.content for msgs in prompts for msg in msgs)
    felix = [m for seq, m in stage.prompts if seq == sim.sequence("Felix")]
    assert any(secret in msg.content for msgs in felix for msg in msgs)


def test_bad_turns_are_recorded_not_fatal(sally_anne) -> None:
    lines = [
        "this is not json",
        say("I'll hide it!", {"type": "move", "object": "marble", "to": "box"}),
        say("Tell her", {"type": "tell", "to": "Nobody", "text": "x"}),
    ]
    sim = Simulation(sally_anne.scenario, ScriptedStage(lines), max_turns=3)
    sim.run()
    kinds = [e.type for e in sim.events]
    assert "parse_failed" in kinds
    # Turn 2: Sally has left, so Anne's move is legal; turn 3: a tell to an unknown name fails to parse.
    failures = [e for e in sim.events if isinstance(e, ParseFailed)]
    assert len(failures) == 2
    assert sim.world.object_container["marble"] == "box"


def test_illegal_action_is_rejected_with_a_reason(sally_anne) -> None:
    # Turn 1: Sally tries to move the marble into the basket it is already in.
    lines = [say("Mine!", {"type": "move", "object": "marble", "to": "basket"})]
    sim = Simulation(sally_anne.scenario, ScriptedStage(lines), max_turns=1)
    sim.run()
    rejected = [e for e in sim.events if isinstance(e, Rejected)]
    assert len(rejected) == 1 and "already in the basket" in rejected[0].reason
    assert any(isinstance(e, Said) and e.text == "Mine!" for e in sim.events)


def test_turn_schema_and_parse_agree(sally_anne) -> None:
    scenario = sally_anne.scenario
    schema = turn_schema(scenario, "Anne")
    assert set(schema["properties"]) == {"say", "action"}
    turn = parse_turn(
        say("ok", {"type": "move", "object": "marble", "to": "box"}), scenario, "Anne"
    )
    assert turn.action is not None and turn.action.who == "Anne" and turn.action.to == "box"
    with pytest.raises(TurnParseError):
        parse_turn(say("ok", {"type": "move", "object": "sofa", "to": "box"}), scenario, "Anne")
    with pytest.raises(TurnParseError):
        parse_turn(json.dumps({"say": "x"}), scenario, "Anne")


def test_ctrl_c_ends_the_run_cleanly(sally_anne) -> None:
    def explode(call, messages):
        if call == 2:
            raise KeyboardInterrupt
        return say(f"line {call}")

    written = []
    sim = Simulation(sally_anne.scenario, ScriptedStage(fallback=explode), sink=written.append)
    assert sim.run() == "interrupted"
    assert isinstance(written[-1], RunEnded) and written[-1].reason == "interrupted"


def test_messages_only_hold_what_the_character_perceived(sally_anne) -> None:
    sim = Simulation(sally_anne.scenario, ScriptedStage(), max_turns=3)
    sim.run()
    sally = character_messages(sally_anne.scenario, "Sally", sim.events)
    text = "\n".join(m.content for m in sally)
    assert "Anne moves" not in text
