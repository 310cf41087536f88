"""Facts in the TUI: the belief matrix of a fact (`o` after the objects) and fact beliefs in the beliefs pane."""

from __future__ import annotations

from pathlib import Path

import pytest

from simstage.tui import make_replay_app
from simstage.tui.matrix import BeliefMatrix
from simstage.tui.views import belief_timeline, beliefs_view, matrix_view
from simstage.tui.widgets import BeliefsPane
from tests.tui.helpers import write_finished_run

FACTS = Path(__file__).resolve().parents[1] / "data" / "four-facts-order3.yaml"


def cells(table: BeliefMatrix, label: str) -> list[str]:
    return [str(getattr(value, "plain", value)) for value in table.get_row(label)]


def labels(table: BeliefMatrix) -> list[str]:
    return [str(getattr(column.label, "plain", column.label)) for column in table.columns.values()]


async def test_o_goes_on_from_the_objects_to_the_facts_and_back(tmp_path) -> None:
    app = make_replay_app(write_finished_run(tmp_path / "facts.jsonl", str(FACTS)))
    async with app.run_test(size=(100, 30)) as pilot:
        table = app.query_one(BeliefMatrix)
        await pilot.press("m")
        assert "the papers" in str(table.border_title) and labels(table)[1] == "thinks it is in"
        await pilot.press("o", "o")
        assert "fact forged · turn 8 · order 3" in str(table.border_title)
        assert labels(table)[1] == "thinks it is" and table.row_count == 52
        # Cole watched Mara lie unseen and believed her; the model, asked at turn 7, said yes.
        assert cells(table, "Cole") == [
            "Cole",
            "false",
            "overheard t3",
            "✗ wrong lie: Mara ≠ said yes ",
        ]
        assert cells(table, "Reed › Mara") == ["Reed › Mara", "true", "inferred t3", "lie: Mara "]
        assert cells(table, "Priya")[1:3] == ["–", ""]  # no belief
        await pilot.press("left", "left", "left")  # turn 5: Mara is distracted while Reed speaks
        await pilot.press("o")
        assert "fact sold · turn 5" in str(table.border_title)
        assert cells(table, "Reed › Mara") == [
            "Reed › Mara",
            "true",
            "claimed t5",
            "✗ wrong Δ changed",
        ]
        assert cells(table, "Mara")[1] == "false"
        await pilot.press("o")
        assert "the papers" in str(table.border_title) and labels(table)[1] == "thinks it is in"
        assert cells(table, "Cole")[1] == "safe"  # he watched Reed move them, unseen
        assert cells(table, "Mara › Cole")[1] == "desk drawer"  # nobody knows he watched


def test_the_matrix_view_of_a_fact_is_the_tom_matrix() -> None:
    from simstage.engine import Simulation
    from simstage.scenario import load_scenario
    from simstage.stage.scripted import ScriptedStage
    from simstage.tom.matrix import fact_matrix

    scenario = load_scenario(FACTS).scenario
    sim = Simulation(scenario, ScriptedStage())
    sim.run()
    view = matrix_view(scenario, sim.events, 8, "sold")
    assert view.kind == "fact" and view.order == 3 and len(view.lines) == 52
    cells_ = [c for c in fact_matrix(scenario, sim.events, turn=8) if c.fact == "sold"]
    assert [line.container for line in view.lines] == [
        None if c.value is None else str(c.value).lower() for c in cells_
    ]
    assert [line.true for line in view.lines] == [c.right for c in cells_]
    assert matrix_view(scenario, sim.events, 8, "papers").kind == "object"


def test_the_beliefs_pane_lists_fact_beliefs_after_the_objects_chain_by_chain(tmp_path) -> None:
    from simstage.run.log import read_runlog
    from simstage.scenario import load_scenario

    scenario = load_scenario(FACTS).scenario
    events = list(read_runlog(write_finished_run(tmp_path / "facts.jsonl", str(FACTS))).events)
    timeline = belief_timeline(scenario, events)
    view = beliefs_view(timeline, events, "Reed", 5)
    state = timeline.at(5)
    assert [(r.chain, r.fact, r.value) for r in view.facts] == sorted(
        ((b.chain, b.fact, b.value) for b in state.fact_beliefs() if b.holder == "Reed"),
        key=lambda r: (len(r[0]), r[0]),
    )
    sold = next(r for r in view.facts if r.chain == ("Mara",) and r.fact == "sold")
    assert (sold.value, sold.right, sold.source, sold.changed) == (True, False, "claimed", True)
    cole = next(
        r
        for r in beliefs_view(timeline, events, "Cole", 8).facts
        if r.chain == () and r.fact == "forged"
    )
    assert (cole.value, cole.lie_by, cole.probed, cole.answer) == (False, "Mara", "yes", "no")


async def test_the_beliefs_pane_shows_them(tmp_path) -> None:
    from textual.app import App

    from simstage.run.log import read_runlog
    from simstage.scenario import load_scenario

    scenario = load_scenario(FACTS).scenario
    events = list(read_runlog(write_finished_run(tmp_path / "facts.jsonl", str(FACTS))).events)
    view = beliefs_view(belief_timeline(scenario, events), events, "Cole", 8)

    class Pane(App[None]):
        def compose(self):  # type: ignore[no-untyped-def]
            yield BeliefsPane()

    async with Pane().run_test() as pilot:
        pane = pilot.app.query_one(BeliefsPane)
        pane.show(view)
        assert (
            "Cole believes | forged? false (wrong) model:yes ≠ lie by Mara ·overheard" in pane.plain
        )
        assert "Cole thinks Reed believes | sold? true (wrong) ·claimed" in pane.plain
        own = [
            line.split(" | ")[1].split(" ")[0]
            for line in pane.plain
            if line.startswith("Cole believes")
        ]
        assert own == ["key:", "papers:", "forged?", "sold?"]  # the objects, then the facts


class TestFactSnapshots:
    """A fact's matrix, and the beliefs pane with facts, at the last turn of the 4-character scene."""

    @pytest.mark.parametrize("size", [pytest.param((120, 40), id="120x40")])
    def test_fact_matrix_replay(self, snap_compare, tmp_path, monkeypatch, size) -> None:
        monkeypatch.chdir(tmp_path)
        app = make_replay_app(write_finished_run(Path("facts.jsonl"), str(FACTS)))
        assert snap_compare(app, terminal_size=size, press=["m", "o", "o"])

    @pytest.mark.parametrize("size", [pytest.param((120, 40), id="120x40")])
    def test_fact_beliefs_replay(self, snap_compare, tmp_path, monkeypatch, size) -> None:
        monkeypatch.chdir(tmp_path)
        app = make_replay_app(write_finished_run(Path("facts.jsonl"), str(FACTS)))
        assert snap_compare(app, terminal_size=size, press=["]", "]"])
