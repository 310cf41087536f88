"""Facts in the belief matrix: a column per fact beside the objects, each cell the tracker's belief."""

from __future__ import annotations

import pytest

from simstage.engine import Simulation
from simstage.scenario import load_scenario
from simstage.stage.scripted import ScriptedStage
from simstage.tom.matrix import FactCell, belief_matrices, belief_matrix, fact_matrix, matrix_rows
from simstage.tom.timeline import BeliefTimeline
from tests.conftest import ROOT

FACTS = ROOT / "tests" / "data" / "four-facts-order3.yaml"


@pytest.fixture(scope="module")
def played() -> tuple:
    scenario = load_scenario(FACTS).scenario
    sim = Simulation(scenario, ScriptedStage())
    sim.run()
    return scenario, sim.events


def cell_at(cells: list[FactCell], turn: int, holder: str, fact: str, *chain: str) -> FactCell:
    return next(
        c for c in cells if (c.turn, c.holder, c.chain, c.fact) == (turn, holder, chain, fact)
    )


def test_every_fact_cell_is_the_trackers_belief_at_its_turn(played: tuple) -> None:
    scenario, events = played
    cells = fact_matrix(scenario, events)
    timeline = BeliefTimeline(scenario).extend(events)
    assert {c.turn for c in cells} == set(range(9))
    assert len(cells) == 9 * 52 * 2  # turns 0..8, 52 chains at order 3, 2 facts
    for cell in cells:
        belief = timeline.at(cell.turn).fact_belief(cell.holder, cell.fact, cell.chain)
        if belief is None:
            assert (cell.value, cell.right, cell.source, cell.formed, cell.answer) == (
                None,
                None,
                None,
                None,
                "don't know",
            )
        else:
            got = (cell.value, cell.right, cell.source, cell.formed, cell.lie_by)
            assert got == (belief.value, belief.right, belief.source, belief.turn, belief.lie_by)
    # The same rows as the object cells, and one fold gives both.
    assert matrix_rows(cells) == matrix_rows(belief_matrix(scenario, events))
    assert belief_matrices(scenario, events, turn=5) == (
        belief_matrix(scenario, events, turn=5),
        fact_matrix(scenario, events, turn=5),
    )


def test_fact_cells_show_the_lie_the_watcher_and_the_distracted_witness(played: tuple) -> None:
    scenario, events = played
    cells = fact_matrix(scenario, events)
    # Turn 3: Mara says aloud the papers are not forged, though Reed told her they are. Cole,
    # watching from the hall unseen, believes her (overheard, wrong, a lie by Mara); Reed, who
    # saw Mara learn the truth, takes it for her lie and keeps her believing it (inferred).
    cole = cell_at(cells, 3, "Cole", "forged")
    assert (cole.value, cole.right, cole.source, cole.lie_by, cole.changed) == (
        False,
        False,
        "overheard",
        "Mara",
        True,
    )
    reed = cell_at(cells, 3, "Reed", "forged", "Mara")
    assert (reed.value, reed.source, reed.lie_by, reed.changed) == (True, "inferred", "Mara", False)
    # Nobody knows Cole watched: Mara thinks Cole has no belief.
    assert cell_at(cells, 3, "Mara", "forged", "Cole").value is None
    # Turn 5: Mara is distracted while Reed says the house was sold: Reed thinks she heard it.
    assert cell_at(cells, 5, "Mara", "sold").value is False
    thought = cell_at(cells, 5, "Reed", "sold", "Mara")
    assert (thought.value, thought.right, thought.source, thought.changed) == (
        True,
        False,
        "claimed",
        True,
    )
    assert not cell_at(cells, 6, "Reed", "sold", "Mara").changed


def test_a_fact_probe_answer_shows_from_its_turn_and_is_compared_in_its_words(
    played: tuple,
) -> None:
    scenario, events = played
    cells = fact_matrix(scenario, events)
    probe = next(e for e in events if e.type == "probe" and e.kind == "fact" and e.ask == "Cole")
    assert cell_at(cells, 6, "Cole", "forged").probe_answer is None
    asked = cell_at(cells, 7, "Cole", "forged")
    assert asked.answer == "no" and asked.probe_answer == probe.answer
    assert asked.probe_disagrees == (probe.answer != "no")
    deep = next(e for e in events if e.type == "probe" and e.kind == "fact" and e.ask == "Reed")
    cell = cell_at(cells, 8, "Reed", "forged", "Mara", "Cole")
    assert cell.probe_answer == deep.answer and cell.answer == "don't know"
    # A fact probe never marks an object cell, nor an object probe a fact cell.
    assert all(
        c.probe_answer in (None, *scenario.world.containers)
        for c in belief_matrix(scenario, events)
    )
    assert {c.probe_answer for c in cells} <= {None, "yes", "no", "don't know"}


def test_the_reports_fact_data_is_the_matrix_and_the_who_knows_probes(played: tuple) -> None:
    from simstage.events import FACT_OPTIONS, WhoKnowsAnswered
    from simstage.report.belief_view import belief_data
    from simstage.report.fact_view import FACT_SOURCES

    scenario, events = played
    data = belief_data(scenario, events, [3, 8])
    assert data["facts"] == ["forged", "sold"] and data["truth"] == [True, False]
    assert data["fact_text"] == ["the papers are forged", "Reed sold the house"]
    rows = {(r[0], tuple(r[1])): i for i, r in enumerate(data["rows"])}
    for k, turn in enumerate([3, 8]):
        for cell in fact_matrix(scenario, events, turn=turn):
            packed = data["fcells"][k][data["facts"].index(cell.fact)][
                rows[(cell.holder, cell.chain)] * 6 :
            ][:6]
            value = -1 if cell.value is None else int(cell.value)
            source = -1 if cell.source is None else FACT_SOURCES.index(cell.source)
            answer = -1 if cell.probe_answer is None else FACT_OPTIONS.index(cell.probe_answer)
            liar = -1 if cell.lie_by is None else data["cast"].index(cell.lie_by)
            formed = -1 if cell.formed is None else cell.formed
            assert packed == [value, source, formed, liar, answer, int(cell.changed)]
    asked = [e for e in events if isinstance(e, WhoKnowsAnswered)]
    assert data["who_probes"] == [
        [e.turn, -1 if e.ask is None else rows[(e.ask, ())], data["facts"].index(e.fact), [data["cast"].index(n) for n in e.said]]
        for e in asked
    ]  # fmt: skip
    # Every view has a fact column beside its containers, as wide as its longest label.
    view = data["views"]["Reed|3"]
    assert view["fact"]["boxes"][0][0] == view["boxes"][0][0] and len(view["fact"]["names"]) == 4
    assert view["fact"]["width"] >= view["col"] + len("don't know") * 7


def test_facts_count_against_the_pages_bound() -> None:
    from simstage.report.belief_view import MAX_CELLS, chain_count, page_extent

    # 12 characters, 2 objects: order 3 fits; with 10 facts beside them it does not.
    order, turns, _ = page_extent(characters=12, objects=2, order=3, last=6)
    assert order == 3 and chain_count(12, 3) * 2 * len(turns) <= MAX_CELLS
    order, turns, note = page_extent(characters=12, objects=2 + 10, order=3, last=6)
    assert order == 2 and chain_count(12, 2) * 12 * len(turns) <= MAX_CELLS and note is not None


def test_a_page_of_a_crowd_with_facts_stays_inside_the_bound() -> None:
    from simstage.report import render_page
    from simstage.report.belief_view import MAX_CELLS
    from simstage.scenario.models import Scenario
    from tests.unit.test_report import belief_data as page_data
    from tests.unit.test_report_size import PAGE_BOUND, crowd

    base = crowd(24).model_dump(by_alias=True)
    base["world"]["facts"] = {
        f"secret{i}": {"text": f"Secret number {i} is out", "true": i % 2 == 0} for i in range(4)
    }
    base["cast"][0]["knows"] = {"secret0": True}
    base["timeline"].append(
        {"at": 3, "event": {"type": "assert", "who": "C00", "fact": "secret0", "holds": True}}
    )
    scenario = Scenario.model_validate(base)
    sim = Simulation(scenario, ScriptedStage())
    sim.run()
    html = render_page(scenario, sim.events)
    data = page_data(html)
    assert len(html.encode()) < PAGE_BOUND
    assert len(data["rows"]) * (2 + 4) * len(data["turns"]) <= MAX_CELLS
    assert len(data["fcells"][-1]) == 4 and len(data["fcells"][-1][0]) == 6 * len(data["rows"])
