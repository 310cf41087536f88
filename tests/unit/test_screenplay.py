"""Base models play a screenplay: each character's own view, `Name:` lines, actions chosen among the world's."""

from __future__ import annotations

import json

from simstage.cast import screenplay
from simstage.cast.turn import parse_turn
from simstage.engine import Simulation
from simstage.events import (
    CandidateChosen,
    ParseFailed,
    ProbeAnswered,
    SpeakerChosen,
    TurnEnded,
    TurnMetrics,
)
from simstage.puppeteer.compare import with_puppeteer
from simstage.scenario import load_scenario
from simstage.stage.base import Message
from simstage.stage.chat import Screenplay
from simstage.stage.scripted import ScriptedStage
from simstage.world.state import WorldState
from tests.conftest import SCENARIOS


class BaseModel(ScriptedStage):
    """A scripted stage that says it plays a screenplay, rendering prompts as one would."""

    def __init__(self, lines=(), chooser=None):
        super().__init__(
            lines,
            fallback=lambda call, messages: f" Line {call + 1}.\nAnne: not mine",
            chooser=chooser,
            plays_screenplay=True,
        )
        self.rendered: list[str] = []
        self.choices: list[tuple[str, list[str]]] = []

    def generate(self, seq, messages, sampling):
        assert sampling.json_schema is None  # a base model speaks free text
        self.rendered.append(Screenplay("test").render(messages))
        return super().generate(seq, messages, sampling)

    def choose(self, seq, messages, options, prefix=""):
        self.choices.append((Screenplay("test").render(messages, prefix), list(options)))
        return super().choose(seq, messages, options, prefix)


def test_the_renderer_continues_an_open_line_and_starts_others_on_a_new_one():
    play = Screenplay("test")
    lines = [Message("system", "HEADER\n"), Message("user", "[The room.]")]
    assert play.render([*lines, Message("assistant", "Sally:")]) == "HEADER\n[The room.]\nSally:"
    assert play.render(lines, "Sally: The answer") == "HEADER\n[The room.]\nSally: The answer"


def test_a_screenplay_shows_only_what_the_character_witnessed(sally_anne):
    scenario = sally_anne.scenario
    sim = Simulation(scenario, ScriptedStage(), max_turns=4, metrics=False)
    sim.run()
    sally = "\n".join(
        m.content for m in screenplay.screenplay_messages(scenario, "Sally", sim.events)
    )
    anne = "\n".join(
        m.content for m in screenplay.screenplay_messages(scenario, "Anne", sim.events)
    )
    assert "moves the marble" in anne and "moves the marble" not in sally  # Sally was out
    assert "secret" in anne and "secret" not in sally
    assert "Anne: Line 2." not in sally and "Anne: Line 2." in anne  # said while Sally was out
    assert "Sally: Line 1." in sally and "Anne: Line 4." in sally
    # The cast list never looks like a line of dialogue.
    header = screenplay.header(scenario, "Sally")
    assert "- SALLY, A cheerful" in header and "\nSally:" not in header and "\nAnne:" not in header


def test_the_spoken_line_stops_at_the_end_of_the_line():
    assert screenplay.spoken_line(' "Where is it?"\nAnne: here') == "Where is it?"
    assert len(screenplay.spoken_line("x" * 500)) == 120


def test_action_options_are_what_the_world_allows(sally_anne):
    scenario = sally_anne.scenario
    world = WorldState.initial(scenario)
    options = screenplay.action_options(scenario, world, "Sally")
    assert options[0].action is None
    actions = [o.action for o in options[1:]]
    assert {"type": "move", "object": "marble", "to": "box"} in actions
    assert {"type": "exit", "to": "hallway"} in actions
    assert all(a["type"] in ("move", "exit") for a in actions)
    for option in options:  # each becomes a valid turn for the scene
        parse_turn(screenplay.screenplay_turn("Hi.", option.action), scenario, "Sally")


def test_the_engine_plays_a_screenplay_on_a_base_model(sally_anne):
    # Choose the move whenever offered: the world then records a move by the speaker.
    def chooser(messages, options):
        return next((i for i, o in enumerate(options) if "moves the marble" in o), 0)

    stage = BaseModel(chooser=chooser)
    sim = Simulation(sally_anne.scenario, stage, metrics=False)
    sim.run()
    turns = [e for e in sim.events if isinstance(e, TurnEnded)]
    assert len(turns) == 6 and not [e for e in sim.events if isinstance(e, ParseFailed)]
    first = json.loads(turns[0].raw)
    assert first == {"say": "Line 1.", "action": {"type": "move", "object": "marble", "to": "box"}}
    # Each turn continued the speaker's own `Name:`; the line ended at the newline.
    assert all(
        text.endswith(f"\n{t.speaker}:") for text, t in zip(stage.rendered, turns, strict=False)
    )
    probes = [e for e in sim.events if isinstance(e, ProbeAnswered)]
    assert len(probes) == 3
    asked = [text for text, options in stage.choices if options == ["basket", "box"]]
    assert len(asked) == 3 and all(
        "Someone asks" in text and text.endswith(": The answer is: the ") for text in asked
    )


def test_the_bare_stage_scores_the_next_name_line_on_a_base_model():
    scenario = with_puppeteer(load_scenario(SCENARIOS / "dinner-party.yaml").scenario, "bare")
    stage = BaseModel()
    sim = Simulation(scenario, stage, max_turns=2, metrics=False)
    sim.run()
    chosen = [e for e in sim.events if isinstance(e, SpeakerChosen)]
    assert len(chosen) == 2
    labels = [options for _, options in stage.choices if all(o.endswith(":") for o in options)]
    assert labels and all(label[:-1] in scenario.cast_names for label in labels[0])


def test_the_optimizer_plays_its_best_line_on_a_base_model_as_a_line_then_an_action():
    # The candidates continue past their line into the next speaker's, as a base model's do.
    scenario = load_scenario(SCENARIOS / "sycophancy.yaml").scenario
    stage = BaseModel()
    sim = Simulation(scenario, stage, max_turns=3, metrics=True)
    sim.run()
    assert not [e for e in sim.events if isinstance(e, ParseFailed)]
    optimised = set(scenario.puppeteer.optimize or scenario.cast_names)
    chosen = [e for e in sim.events if isinstance(e, CandidateChosen)]
    assert chosen, "the optimizer chose no candidate"
    turns = {e.turn: e for e in sim.events if isinstance(e, TurnEnded)}
    for choice in chosen:
        turn = json.loads(turns[choice.turn].raw)
        assert choice.speaker in optimised
        assert turn["say"] and "\n" not in turn["say"] and "Anne:" not in turn["say"]
        assert (
            "action" in turn
        )  # the stage direction chosen after the line, as for any base-model line
    rewarded = [e for e in sim.events if isinstance(e, TurnMetrics) and e.speaker in optimised]
    assert rewarded and all(e.rewards for e in rewarded)  # the chosen line was spoken and scored
