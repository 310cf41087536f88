"""Plural object names (`plural: true`): "the keys are" in probes, rejections and opening lines."""

from __future__ import annotations

from simstage.cast.probes import probe_question
from simstage.cast.prompt import opening_observations
from simstage.engine import Simulation
from simstage.events import ProbeAnswered, Rejected
from simstage.scenario import load_scenario, parse_scenario
from simstage.scenario.models import ClaimAction, MoveAction
from simstage.stage.scripted import ScriptedStage
from simstage.world.actions import resolve
from simstage.world.state import WorldState
from tests.conftest import SCENARIOS

KITCHEN = """title: kitchen
world:
  locations: [kitchen, garage]
  containers: {coat: {in: kitchen}, drawer: {in: kitchen}, toolbox: {in: garage}}
  objects: {keys: {in: coat, plural: true}, glass: {in: drawer}, papers: {in: toolbox}}
cast:
  - {name: Ben, persona: p, location: kitchen}
  - {name: Cara, persona: p, location: kitchen}
"""


def test_probe_questions_agree_with_a_plural_object_in_both_styles() -> None:
    assert probe_question("Cara", "keys", plural=True) == "Where do you think the keys are?"
    assert probe_question("Dana", "keys", ["Cara", "Ben"], plural=True) == (
        "Where does Cara think Ben thinks the keys are?"
    )
    assert probe_question("Cara", "keys", ["Ben"], "indirect", plural=True) == (
        "Ben goes to fetch the keys. Which container will Ben open first?"
    )


def test_singular_objects_read_exactly_as_before() -> None:
    # What the model saw in logs recorded before `plural` existed; `replay --verify` depends on it.
    assert probe_question("Sally", "marble") == "Where do you think the marble is?"
    assert probe_question("Anne", "marble", ["Sally"]) == "Where does Sally think the marble is?"
    assert probe_question("Anne", "papers") == "Where do you think the papers is?"  # not guessed
    assert probe_question("Sally", "marble", style="indirect") == (
        "You go to fetch the marble. Which container do you open first?"
    )


def test_rejections_claims_and_opening_lines_agree() -> None:
    scenario = parse_scenario(KITCHEN, "kitchen.yaml").scenario
    world = WorldState.initial(scenario)
    already = resolve(world, MoveAction(type="move", who="Ben", object="keys", to="coat"), 1)
    assert isinstance(already, Rejected) and already.reason == "the keys are already in the coat"
    away = resolve(world, MoveAction(type="move", who="Ben", object="papers", to="coat"), 1)
    assert (
        isinstance(away, Rejected)
        and away.reason == "the papers is not in the kitchen, where Ben is"
    )
    glass = resolve(world, MoveAction(type="move", who="Ben", object="glass", to="drawer"), 1)
    assert isinstance(glass, Rejected) and glass.reason == "the glass is already in the drawer"
    claim = resolve(
        world, ClaimAction(type="claim", who="Ben", object="keys", container="drawer"), 1
    )
    assert claim.text == "The keys are in the drawer."  # type: ignore[union-attr]
    assert "The keys are in the coat." in opening_observations(scenario, "Cara")
    assert "The glass is in the drawer." in opening_observations(scenario, "Cara")


def test_false_claim_asks_where_the_keys_are() -> None:
    scenario = load_scenario(SCENARIOS / "false-claim.yaml").scenario
    simulation = Simulation(scenario, ScriptedStage())
    simulation.run()
    questions = [e.question for e in simulation.events if isinstance(e, ProbeAnswered)]
    assert questions == [
        "Where do you think the keys are?",
        "Where do you think the keys are?",
        "Where does Cara think the keys are?",
    ]
