"""Statements, watching, distraction and fact probes: transcript lines, the model's own text, run logs."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest
from click.testing import CliRunner
from rich.console import Console

from simstage.cast.narrator import public_line, story_line
from simstage.cast.screenplay import action_options, direction, opening
from simstage.cli import main
from simstage.engine import Simulation
from simstage.events import (
    Asserted,
    Distracted,
    Moved,
    Peeked,
    PeekStopped,
    ProbeAnswered,
    WhoKnowsAnswered,
)
from simstage.render import TranscriptPrinter, narrate
from simstage.run.log import RunLogError, read_runlog
from simstage.stage.scripted import ScriptedStage
from simstage.world.state import WorldState
from tests.unit.test_fact_probes import SCENE, scene

PUBLIC = Asserted(
    turn=2,
    who="Bob",
    fact="fake",
    holds=True,
    text="The ring is a fake.",
    true=False,
    witnesses=("Ann", "Bob"),
)
PRIVATE = Asserted(
    turn=1,
    who="Ann",
    fact="debt",
    holds=True,
    to="Bob",
    text="Felix owes Edwin money.",
    true=True,
    witnesses=("Ann", "Bob"),
)


def test_the_transcript_shows_statements_watching_and_distraction() -> None:
    assert narrate(PUBLIC) == "Bob states: The ring is a fake. [fake: holds]"
    assert narrate(PRIVATE) == "Ann → Bob (privately) states: Felix owes Edwin money. [debt: holds]"
    assert (
        narrate(Peeked(turn=1, who="Cy", into="hall", witnesses=("Cy",)))
        == "Cy secretly watches the hall."
    )
    assert (
        narrate(PeekStopped(turn=2, who="Cy", into="hall", witnesses=("Cy",)))
        == "Cy stops watching the hall."
    )
    assert (
        narrate(Distracted(turn=1, who="Bob", until=2))
        == "Bob stops paying attention (until turn 2)."
    )
    move = Moved(
        turn=1,
        who="Ann",
        object="ring",
        frm="box",
        to="chest",
        witnesses=("Ann", "Cy"),
        watchers=("Cy",),
        distracted=("Bob",),
    )
    assert narrate(move) == (
        "Ann moves the ring from the box to the chest. [watched unseen by Cy] [not paying attention: Bob]"
    )


def test_fact_and_who_knows_answers_show_the_tracker_beside_reality() -> None:
    probe = ProbeAnswered(
        turn=2, ask="Cy", about="debt", kind="fact", question="Is it true that Felix owes Edwin money?",
        options=("yes", "no", "don't know"), answer="yes", truth="yes",
    )  # fmt: skip
    assert narrate(probe, "don't know") == (
        "Cy is asked: Is it true that Felix owes Edwin money? → yes (really: yes, tracker: don't know)"
    )
    who = WhoKnowsAnswered(
        turn=2,
        ask=None,
        fact="debt",
        names=("Ann", "Bob", "Cy"),
        questions=("q",) * 3,
        answers=("yes", "no", "yes"),
    )
    assert (
        narrate(who, ("Ann", "Bob"))
        == "the narrator is asked who knows whether debt holds → Ann, Cy (tracker: Ann, Bob)"
    )
    asked = who.model_copy(update={"ask": "Bob", "through": ("Ann",)})
    assert (
        narrate(asked, ())
        == "Bob is asked who Ann thinks knows whether debt holds → Ann, Cy (tracker: nobody)"
    )


def test_the_printer_marks_fact_answers_against_the_tracker_and_ends_with_scores_by_kind() -> None:
    console = Console(file=io.StringIO(), width=400, color_system=None)
    printer = TranscriptPrinter(console, scene(), spinner=False)
    simulation = Simulation(scene(), ScriptedStage())
    simulation.subscribe(printer)
    simulation.run()
    out = console.file.getvalue()  # type: ignore[attr-defined]
    assert "Ann → Bob (privately) states: Felix owes Edwin money." in out
    assert (
        "Cy is asked: Is it true that Felix owes Edwin money? Yes, no, or don't know? → yes (really: yes, tracker: don't know) ≠"
        in out
    )
    assert (
        "Bob is asked: Is it true that Felix owes Edwin money? Yes, no, or don't know? → yes (really: yes, tracker: yes) ✓"
        in out
    )
    assert (
        "the narrator is asked who knows whether debt holds → Ann, Bob, Cy (tracker: Ann, Bob) ≠"
        in out
    )
    summary = " ".join(out.split())
    assert "ToM: model agrees with the tracker on 5/11" in summary
    assert (
        "facts: 4/5 (80% [" in summary
        and "who knows: 0/5 (0% [" in summary
        and "who-knows F1: 0.42" in summary
    )


def test_the_models_own_text_shows_statements_and_fact_knowledge() -> None:
    assert public_line(PUBLIC) == "Bob: The ring is a fake." and public_line(PRIVATE) is None
    assert story_line(PRIVATE) == 'Ann tells Bob privately: "Felix owes Edwin money."'
    assert direction(PRIVATE, "Bob") == '[Ann whispers to Bob: "Felix owes Edwin money."]'
    assert direction(PUBLIC, "Ann") == "Bob: The ring is a fake."
    watched = PUBLIC.model_copy(update={"witnesses": ("Ann", "Bob", "Cy"), "watchers": ("Cy",)})
    assert direction(watched, "Cy") == "[Unseen, Cy watches from afar: Bob: The ring is a fake.]"
    assert (
        direction(Peeked(turn=1, who="Cy", into="hall", witnesses=("Cy",)), "Cy")
        == "[Unseen, Cy starts watching the hall.]"
    )
    assert "Ann knows that Felix owes Edwin money." in opening(scene(), "Ann")
    assert "Felix owes Edwin money" not in opening(scene(), "Bob")
    options = action_options(scene(), WorldState.initial(scene()), "Bob")
    said = [o for o in options if o.action and o.action["type"] == "assert"]
    assert [(o.action["fact"], o.action["holds"]) for o in said if o.action] == [
        ("debt", True),
        ("debt", False),
        ("fake", True),
        ("fake", False),
    ]
    assert said[3].text == '[Bob says: "It is not true that the ring is a fake."]'


@pytest.fixture
def logged(tmp_path: Path) -> Path:
    path = tmp_path / "facts.yaml"
    path.write_text(SCENE, encoding="utf-8")
    out = tmp_path / "run.jsonl"
    result = CliRunner().invoke(
        main, ["run", str(path), "--headless", "--stage", "scripted", "--out", str(out)]
    )
    assert result.exit_code == 0, result.output
    return out


def test_a_run_with_fact_probes_replays_and_verifies(logged: Path) -> None:
    result = CliRunner().invoke(main, ["replay", str(logged), "--verify"])
    assert result.exit_code == 0, result.output
    assert "verify: match" in result.output
    kinds = [
        json.loads(line).get("type") for line in logged.read_text(encoding="utf-8").splitlines()
    ]
    assert (
        kinds.count("who_knows") == 5 and kinds.count("probe") == 6 and kinds.count("assert") == 2
    )


@pytest.mark.parametrize(
    ("kind", "old", "new", "named"),
    [
        ("assert", '"fact":"debt"', '"fact":"loan"', "unknown fact 'loan'"),
        ("assert", '"to":"Bob"', '"to":"Zed"', "unknown character 'Zed'"),
        ("probe", '"about":"fake"', '"about":"ring"', "unknown fact 'ring'"),
        ("who_knows", '"fact":"debt"', '"fact":"box"', "unknown fact 'box'"),
        ("who_knows", '"names":["Ann",', '"names":["Zed",', "unknown character 'Zed'"),
    ],
)
def test_a_hostile_log_naming_unknown_things_is_one_clear_error(
    logged: Path, kind: str, old: str, new: str, named: str
) -> None:
    lines = logged.read_text(encoding="utf-8").splitlines()
    index = next(i for i, line in enumerate(lines) if f'"type":"{kind}"' in line and old in line)
    lines[index] = lines[index].replace(old, new, 1)
    logged.write_text("\n".join(lines) + "\n", encoding="utf-8")
    with pytest.raises(RunLogError, match=f"{logged}:{index + 1}: event '{kind}' names {named}"):
        read_runlog(logged)
    result = CliRunner().invoke(main, ["replay", str(logged)])
    assert result.exit_code == 2 and "Traceback" not in result.output


def test_an_object_probe_the_tracker_holds_no_belief_about_says_so() -> None:
    # Before, the line showed no tracker and no mark, and the score silently left it out.
    probe = ProbeAnswered(
        turn=3, ask="Ann", about="ring", through=("Dee",), question="Where does Dee think the ring is?",
        options=("box", "chest"), answer="box", truth="chest",
    )  # fmt: skip
    assert narrate(probe, None) == (
        "Ann is asked: Where does Dee think the ring is? → box "
        "(really: chest, tracker: no belief, no mark)"
    )
    assert narrate(probe, "box").endswith("(really: chest, tracker: box)")
