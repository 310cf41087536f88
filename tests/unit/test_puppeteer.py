"""Puppeteer policies on the scripted stage: scripted order, bare stage, director, optimizer, human."""

from __future__ import annotations

import io
import itertools
import json
from collections.abc import Sequence

import pytest

from simstage.engine import Simulation
from simstage.events import (
    CandidateChosen,
    CandidateScored,
    DirectionGiven,
    Exited,
    RunEnded,
    Said,
    SpeakerChosen,
    TurnStarted,
)
from simstage.puppeteer import KINDS, make_puppeteer, rewards
from simstage.puppeteer.director import clean_direction
from simstage.puppeteer.human import HumanPuppeteer
from simstage.scenario import load_scenario, parse_scenario
from simstage.scenario.models import PuppeteerConfig
from simstage.stage.base import Message
from simstage.stage.scripted import ScriptedStage
from tests.conftest import SCENARIOS, say


def speakers(sim: Simulation) -> list[str]:
    return [e.speaker for e in sim.events if isinstance(e, TurnStarted)]


def steered(name: str, **puppeteer: object):
    """A shipped scenario with its puppeteer section replaced."""
    scenario = load_scenario(SCENARIOS / name).scenario
    return scenario.model_copy(update={"puppeteer": PuppeteerConfig(**puppeteer)})


def test_every_kind_is_made_by_the_factory() -> None:
    for kind in KINDS:
        config = PuppeteerConfig(kind=kind, order=["A"], rewards={"persona": 1.0})
        assert make_puppeteer(config).kind == kind


# -- scripted order ------------------------------------------------------------


def test_scripted_order_cycles_and_records_choices() -> None:
    scenario = steered("dinner-party.yaml", kind="scripted", order=["Felix", "Felix", "Iris"])
    sim = Simulation(scenario, ScriptedStage(), max_turns=7)
    sim.run()
    assert speakers(sim) == ["Felix", "Felix", "Iris", "Felix", "Felix", "Iris", "Felix"]
    chosen = [e for e in sim.events if isinstance(e, SpeakerChosen)]
    assert [(e.by, e.speaker) for e in chosen] == [("scripted", s) for s in speakers(sim)]


# -- bare stage -----------------------------------------------------------------


def test_bare_stage_lets_the_model_choose_from_the_public_transcript() -> None:
    seen: list[list[Message]] = []

    def chooser(messages: Sequence[Message], options: Sequence[str]) -> int:
        if messages[0].content.startswith("You are the narrator"):
            seen.append(list(messages))
        return len(options) - 1  # the last option offered

    scenario = steered("dinner-party.yaml", kind="bare")
    sim = Simulation(scenario, ScriptedStage(chooser=chooser))
    sim.run()
    chosen = [e for e in sim.events if isinstance(e, SpeakerChosen)]
    names = scenario.cast_names
    previous = None
    for event in chosen:
        # Offered: everyone but who just spoke; taken: what the stage chose (the last offered).
        assert event.options == tuple(n for n in names if n != previous)
        assert event.speaker == event.options[-1]
        previous = event.speaker
    assert speakers(sim) == [e.speaker for e in chosen]
    narrator = ["\n".join(m.content for m in msgs) for msgs in seen]
    assert len(narrator) == len(chosen)
    said = [e for e in sim.events if isinstance(e, Said)]
    assert said and f"{said[0].who}: {said[0].text}" in narrator[-1]
    # The narrator's view is public: private tells never reach it.
    assert all("pawnbroker" not in text for text in narrator)


# -- director -------------------------------------------------------------------


def director_fallback(call: int, messages: Sequence[Message]) -> str:
    if messages[0].content.startswith("You are the director"):
        return f'"Whisper number {call}, and look at the door."\nA second line that is dropped.'
    return say(f"Line {call}.")


def test_director_whispers_to_the_chosen_speaker_only() -> None:
    scenario = steered("dinner-party.yaml", kind="director")
    stage = ScriptedStage(fallback=director_fallback, chooser=lambda messages, options: 0)
    sim = Simulation(scenario, stage, max_turns=6)
    sim.run()
    directions = [e for e in sim.events if isinstance(e, DirectionGiven)]
    chosen = [e for e in sim.events if isinstance(e, SpeakerChosen)]
    assert len(directions) == len(chosen) == 6
    assert [d.to for d in directions] == [c.speaker for c in chosen] == speakers(sim)
    assert all(d.text.startswith("Whisper number") and "dropped" not in d.text for d in directions)
    for direction in directions:
        for name in scenario.cast_names:
            prompts = [m for seq, m in stage.prompts if seq == sim.sequence(name)]
            texts = "\n".join(msg.content for msgs in prompts for msg in msgs)
            assert (direction.text in texts) == (name == direction.to), (direction, name)
    # Directions only append to prompts: every character's KV cache stays reusable.
    for name in scenario.cast_names:
        prompts = [msgs for seq, msgs in stage.prompts if seq == sim.sequence(name)]
        for earlier, later in itertools.pairwise(prompts):
            assert later[: len(earlier) - 1] == earlier[:-1]
            assert later[len(earlier) - 1].content.startswith(earlier[-1].content)


def test_clean_direction_keeps_one_unquoted_line() -> None:
    assert clean_direction('\n  "Go to the door."  \nMore.') == "Go to the door."
    assert clean_direction("   \n") == ""
    assert len(clean_direction("x" * 500)) == 160


# -- optimizer ------------------------------------------------------------------


def exclaim(
    context: rewards.RewardContext, candidates: Sequence[rewards.Candidate]
) -> list[float | None]:
    return [float(c.raw.count("!")) for c in candidates]


def quiet(
    context: rewards.RewardContext, candidates: Sequence[rewards.Candidate]
) -> list[float | None]:
    return [-float(len(c.say)) if context.speaker == "Anne" else None for c in candidates]


@pytest.fixture
def test_rewards(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(rewards._REGISTERED, "exclaim", exclaim)
    monkeypatch.setitem(rewards._REGISTERED, "quiet", quiet)


def optimizer_scenario(extra: str) -> str:
    text = (SCENARIOS / "sally-anne.yaml").read_text()
    head, _, _ = text.partition("puppeteer:")
    rest = text.split("puppeteer:", 1)[1].split("\n", 1)[1]
    return f"{head}puppeteer: {{kind: optimizer, candidates: 3, {extra}}}\n{rest}"


def test_optimizer_plays_the_best_candidate_and_records_all(test_rewards: None) -> None:
    scenario = parse_scenario(optimizer_scenario("rewards: {exclaim: 1.0}")).scenario
    stage = ScriptedStage()
    turn1 = [say("Hello."), say("Hello!!"), say("Hi!")]
    stage.enqueue([*turn1, "not json !!!!!!", say("Anne!"), say("Fine.")])
    sim = Simulation(scenario, stage, max_turns=2)
    sim.run()
    scored = [e for e in sim.events if isinstance(e, CandidateScored)]
    chosen = [e for e in sim.events if isinstance(e, CandidateChosen)]
    assert [(e.turn, e.index) for e in scored] == [(1, 0), (1, 1), (1, 2), (2, 0), (2, 1), (2, 2)]
    assert [e.raw for e in scored[:3]] == turn1
    assert [e.total for e in scored[:3]] == [0.0, 2.0, 1.0]
    assert (chosen[0].index, chosen[0].total, chosen[0].mean) == (1, 2.0, 1.0)
    assert chosen[0].gain == pytest.approx(1.0)
    # Turn 2: the unparseable candidate scores highest but is never played.
    assert scored[3].total == 6.0 and chosen[1].index == 1
    said = [e.text for e in sim.events if isinstance(e, Said)]
    assert said == ["Hello!!", "Anne!"]
    # The chosen raw is the speaker's turn, replayed verbatim in its own context.
    ended = [e.raw for e in sim.events if getattr(e, "type", None) == "turn_ended"]
    assert ended == [say("Hello!!"), say("Anne!")]


def test_optimizer_weights_combine_and_optimize_names_speakers(test_rewards: None) -> None:
    text = optimizer_scenario("rewards: {exclaim: 2.0, quiet: 0.5}, optimize: [Anne]")
    scenario = parse_scenario(text).scenario
    stage = ScriptedStage([say("Sally speaks."), say("Yes!"), say("A long line!"), say("Hm.")])
    sim = Simulation(scenario, stage, max_turns=2)
    sim.run()
    scored = [e for e in sim.events if isinstance(e, CandidateScored)]
    assert {e.speaker for e in scored} == {"Anne"}  # Sally is not optimised: one plain line
    totals = [e.total for e in scored]
    assert totals == pytest.approx([2 - 0.5 * 4, 2 - 0.5 * 12, 0 - 0.5 * 3])
    assert [e.text for e in sim.events if isinstance(e, Said)] == ["Sally speaks.", "Yes!"]


# -- human ----------------------------------------------------------------------


def test_human_picks_speakers_writes_lines_and_injects_events(sally_anne) -> None:
    typed = (
        "\n@Sally\n!exit Anne hallway\n!jump Anne\n@Anne: Back in a moment!\nbogus\n@Nobody\nq\n"
    )
    out = io.StringIO()
    human = HumanPuppeteer(io.StringIO(typed), out)
    stage = ScriptedStage()
    sim = Simulation(sally_anne.scenario, stage, puppeteer=human)
    assert sim.run() == "completed"
    assert speakers(sim) == ["Sally", "Sally", "Anne"]
    assert [e.by for e in sim.events if isinstance(e, SpeakerChosen)] == ["human"] * 3
    exits = [e for e in sim.events if isinstance(e, Exited) and e.origin == "human"]
    assert [(e.who, e.to, e.turn) for e in exits] == [("Anne", "hallway", 3)]
    said = [e for e in sim.events if isinstance(e, Said)]
    assert said[-1].who == "Anne" and said[-1].text == "Back in a moment!"
    assert len(stage.prompts) == 2  # the human wrote turn 3's line; the stage wrote two
    end = sim.events[-1]
    assert isinstance(end, RunEnded) and end.turn == 4 and "ended the scene" in end.message
    shown = out.getvalue()
    assert (
        "not a world event" in shown
        and "not a command" in shown
        and "unknown character 'Nobody'" in shown
    )


def test_run_interactive_reads_stdin(tmp_path) -> None:
    from click.testing import CliRunner

    from simstage.cli import main
    from simstage.run.log import read_runlog

    out = tmp_path / "run.jsonl"
    result = CliRunner().invoke(
        main,
        [
            "run",
            str(SCENARIOS / "sally-anne.yaml"),
            "--stage",
            "scripted",
            "--interactive",
            "--out",
            str(out),
        ],
        input="@Anne: I will hide it.\n\n",
    )
    assert result.exit_code == 0, result.output
    log = read_runlog(out)
    said = [e for e in log.events if isinstance(e, Said)]
    assert [(e.who, e.text) for e in said] == [("Anne", "I will hide it."), ("Anne", "Line 1.")]
    assert "Anne: I will hide it." in result.output
    assert json.loads(json.dumps([e.model_dump() for e in log.events]))  # the log round-trips
