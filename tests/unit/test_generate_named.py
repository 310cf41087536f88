"""A probe may name two containers at the end of its question (`named:`), the control the generator balances."""

from __future__ import annotations

import pytest

from simstage.cast.probes import probe_question
from simstage.engine import Simulation
from simstage.events import ProbeAnswered
from simstage.scenario import ScenarioError, parse_scenario
from simstage.stage.scripted import ScriptedStage

SCENE = """\
title: named
world:
  locations: [room, hallway]
  containers: {basket: {in: room}, box: {in: room}, crate: {in: room}}
  objects: {marble: {in: basket}}
cast:
  - {name: Sally, persona: A child., location: room}
  - {name: Anne, persona: A child., location: room}
probes:
  - {at: 1, ask: Sally, about: marble, named: [box, basket]}
  - {at: 1, ask: Anne, about: marble, through: [Sally], style: indirect, named: [crate, box]}
  - {at: 1, ask: Anne, about: marble}
max_turns: 1
"""


def test_the_question_ends_with_the_two_containers_in_the_order_given() -> None:
    assert probe_question("Sally", "marble", named=("box", "basket")) == (
        "Where do you think the marble is? The box or the basket?"
    )
    assert probe_question("Anne", "marble", ["Sally"], "indirect", named=("crate", "box")) == (
        "Sally goes to fetch the marble. Which container will Sally open first? The crate or the box?"
    )


def test_a_played_probe_asks_the_named_question_and_the_options_stay_every_container() -> None:
    sim = Simulation(parse_scenario(SCENE).scenario, ScriptedStage())
    sim.run()
    asked = [e for e in sim.events if isinstance(e, ProbeAnswered)]
    assert [p.question.endswith("The box or the basket?") for p in asked] == [True, False, False]
    assert asked[1].question.endswith("The crate or the box?")
    assert asked[2].question == "Where do you think the marble is?"
    assert {p.options for p in asked} == {("basket", "box", "crate")}


@pytest.mark.parametrize(
    ("named", "message"),
    [
        ("[box, cupboard]", "cupboard"),
        ("[box]", "two"),
        ("[box, box]", "two different"),
    ],
)
def test_validate_wants_two_different_containers_of_the_world(named: str, message: str) -> None:
    text = SCENE.replace("named: [box, basket]", f"named: {named}")
    with pytest.raises(ScenarioError) as caught:
        parse_scenario(text, "scene.yaml")
    problems = [str(p) for p in caught.value.problems]
    assert any("probes.0.named" in p and message in p for p in problems), problems
    assert all(p.startswith("scene.yaml:10:") for p in problems if "probes.0.named" in p), problems
