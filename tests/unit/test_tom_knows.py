"""A cast entry's `knows`: beliefs about objects out of sight at the start, shared with its `with`."""

from __future__ import annotations

import pytest
from click.testing import CliRunner

from simstage.cast.prompt import opening_observations
from simstage.cast.screenplay import opening
from simstage.cli.root import main
from simstage.engine import Simulation
from simstage.scenario import ScenarioError, load_scenario, parse_scenario
from simstage.stage.scripted import ScriptedStage
from simstage.tom.metrics import probe_verdicts, tom_metrics
from simstage.tom.tracker import fold_beliefs
from tests.conftest import SCENARIOS

HOUSE = """title: house
world:
  locations: [hall, study]
  containers: {box: {in: study}, drawer: {in: study}, shelf: {in: hall}}
  objects: {ring: {in: box}, cup: {in: shelf}}
cast:
  - {name: Ann, persona: p, location: hall, knows: {ring: {in: box, with: [Bob]}}}
  - {name: Bob, persona: p, location: hall}
  - {name: Cy, persona: p, location: hall, knows: {ring: box}}
  - {name: Dee, persona: p, location: study}
tom: {order: 3}
"""


def test_dinner_party_scores_every_probe_on_the_scripted_stage() -> None:
    scenario = load_scenario(SCENARIOS / "dinner-party.yaml").scenario
    simulation = Simulation(scenario, ScriptedStage())
    simulation.run()
    verdicts = [v for v in probe_verdicts(scenario, simulation.events) if v.probe.kind == "object"]
    assert len(verdicts) == sum(scenario.probe_kind(p) == "object" for p in scenario.probes) == 3
    assert all(v.tracker is not None for v in verdicts)
    metrics = tom_metrics(scenario, simulation.events)
    assert metrics is not None and metrics.overall.n == len(scenario.probes)
    # Felix moved the ring alone: Margot still thinks it is in the jewellery box, and he knows she does.
    assert [v.tracker for v in verdicts] == ["jewellery box", "jewellery box", "jewellery box"]


def test_knows_is_common_knowledge_in_its_group_and_private_without_with() -> None:
    scenario = parse_scenario(HOUSE, "house.yaml").scenario
    state = fold_beliefs(scenario, [])
    for holder, chain in [
        ("Ann", ()),
        ("Bob", ()),
        ("Ann", ("Bob",)),
        ("Bob", ("Ann",)),
        ("Ann", ("Bob", "Ann")),
    ]:
        belief = state.where(holder, "ring", chain)
        assert (
            belief is not None
            and belief.container == "box"
            and belief.source == "initial"
            and belief.true
        )
    assert state.where("Cy", "ring").container == "box"  # type: ignore[union-attr]
    # Nobody thinks Cy knows, and Cy thinks nobody else knows; the room rule still holds for the cup.
    assert state.where("Ann", "ring", ["Cy"]) is None and state.where("Cy", "ring", ["Ann"]) is None
    assert state.where("Cy", "cup", ["Ann"]).container == "shelf"  # type: ignore[union-attr]
    assert (
        state.where("Dee", "ring", ["Ann"]) is None
        and state.where("Dee", "ring").container == "box"
    )  # type: ignore[union-attr]


def test_a_false_knows_is_a_false_belief_from_the_start() -> None:
    scenario = parse_scenario(HOUSE.replace("{ring: box}", "{ring: drawer}"), "house.yaml").scenario
    cy = fold_beliefs(scenario, []).where("Cy", "ring")
    assert cy is not None and cy.container == "drawer" and not cy.true


def test_the_prompt_tells_the_knowers_what_they_know() -> None:
    scenario = parse_scenario(HOUSE, "house.yaml").scenario
    assert (
        "You know that the ring is in the box. Bob knows it too, and you all know that."
        in opening_observations(scenario, "Ann")
    )
    assert (
        "You know that the ring is in the box. Ann knows it too, and you all know that."
        in opening_observations(scenario, "Bob")
    )
    assert "You know that the ring is in the box." in opening_observations(scenario, "Cy")
    assert not any("know" in line for line in opening_observations(scenario, "Dee"))
    assert "Cy knows that the ring is in the box." in opening(scenario, "Cy")
    assert "Bob and Ann know that the ring is in the box." in opening(scenario, "Bob")


@pytest.mark.parametrize(
    ("old", "new", "line", "message"),
    [
        ("{ring: box}", "{rung: box}", 9, "cast.2.knows.rung: unknown object 'rung'"),
        ("{ring: box}", "{ring: bin}", 9, "cast.2.knows.ring: unknown container 'bin'"),
        ("with: [Bob]", "with: [Bo]", 7, "cast.0.knows.ring.with.0: unknown character 'Bo'"),
        ("{ring: box}", "{cup: shelf}", 9, "cast.2.knows.cup: Cy sees the cup at the start"),
        (
            "{ring: box}}",
            "{ring: drawer}}\n  - {name: Eve, persona: p, location: hall, knows: {ring: {in: box, with: [Cy]}}}",
            10,
            "cast.3.knows.ring.in: Cy would know the ring is both in the drawer",
        ),
        (
            "{in: box, with: [Bob]}",
            "{in: drawer, with: [Dee]}",
            7,
            "cast.0.knows.ring.in: Dee sees the ring in the box",
        ),
    ],
)
def test_bad_knows_is_located(old: str, new: str, line: int, message: str) -> None:
    text = HOUSE.replace(old, new)
    with pytest.raises(ScenarioError) as caught:
        parse_scenario(text, "house.yaml")
    located = [f"{p.line} {p.field}: {p.message}" for p in caught.value.problems]
    assert any(entry.startswith(f"{line} {message}") for entry in located), located


def test_validate_names_file_and_line_for_bad_knows(tmp_path) -> None:
    path = tmp_path / "house.yaml"
    path.write_text(HOUSE.replace("{ring: box}", "{ring: bin}"))
    result = CliRunner().invoke(main, ["validate", str(path)])
    assert result.exit_code == 2
    assert f"{path}:9:" in result.output and "unknown container 'bin'" in result.output
    assert '"knows"' in CliRunner().invoke(main, ["schema"]).output
