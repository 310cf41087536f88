"""The belief matrix in the TUI: one object across the cast to the scene's order, live and in replay."""

from __future__ import annotations

from pathlib import Path

import pytest

from simstage.tui import make_replay_app
from simstage.tui.matrix import BeliefMatrix
from simstage.tui.views import matrix_view
from tests.tui.helpers import wait_idle, write_finished_run

FOUR = Path(__file__).resolve().parents[1] / "data" / "four-order3.yaml"
SIZES = [pytest.param((120, 40), id="120x40"), pytest.param((80, 24), id="80x24")]


def cells(table: BeliefMatrix, label: str) -> list[str]:
    return [str(getattr(value, "plain", value)) for value in table.get_row(label)]


async def test_m_shows_the_matrix_which_follows_the_scrubber_and_o_picks_the_object(
    tmp_path,
) -> None:
    app = make_replay_app(write_finished_run(tmp_path / "four.jsonl", str(FOUR)))
    async with app.run_test(size=(80, 24)) as pilot:
        table = app.query_one(BeliefMatrix)
        assert not table.display
        await pilot.press("m")
        assert table.display and not app.query_one("#main").display and table.has_focus
        # 4 holders, each with 1 + 3 + 3·3 chains at order 3.
        assert table.row_count == 52 and app.turn == 8
        assert "the papers · turn 8 · order 3" in str(table.border_title)
        assert cells(table, "Priya") == ["Priya", "safe", "witnessed t2", ""]
        # Reed's false claim at turn 6 fooled Cole, who answered the probe otherwise (scripted stage).
        assert cells(table, "Cole") == [
            "Cole",
            "bookcase",
            "claimed t6",
            "✗ false lie: Reed ≠ said desk drawer ",
        ]
        assert (
            cells(table, "Mara › Cole")[1] == "bookcase"
            and cells(table, "Priya › Cole")[1] == "desk drawer"
        )
        await pilot.press("left")  # ←/→ scrub the replay from the matrix too
        assert app.turn == 7 and "turn 7" in str(table.border_title)
        await pilot.press("home")
        await pilot.press("left", "left", "left", "left", "left")
        assert app.turn == 2
        assert cells(table, "Reed")[1] == "safe" and "Δ changed" in cells(table, "Reed")[3]
        assert "✗ false" in cells(table, "Cole")[3]  # Cole was out when Reed moved the papers
        await pilot.press("o")
        assert "the key" in str(table.border_title) and cells(table, "Cole") == [
            "Cole",
            "bookcase",
            "initial t0",
            "",
        ]
        await pilot.press("m")
        assert not table.display and app.query_one("#main").display


async def test_the_matrix_updates_live(live_app) -> None:
    app = live_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("m")
        table = app.query_one(BeliefMatrix)
        assert "turn 0" in str(table.border_title) and cells(table, "Sally")[1] == "basket"
        for _ in range(3):
            await pilot.press("n")
            await wait_idle(pilot)
        # Anne moved the marble at turn 3, while Sally was out.
        assert "turn 3" in str(table.border_title)
        assert cells(table, "Anne")[1] == "box" and "Δ changed" in cells(table, "Anne")[3]
        assert cells(table, "Sally")[1] == "basket" and "✗ false" in cells(table, "Sally")[3]


def test_the_view_is_the_tom_matrix_for_one_object(tmp_path) -> None:
    from simstage.run.log import read_runlog
    from simstage.scenario import load_scenario

    log = read_runlog(write_finished_run(tmp_path / "four.jsonl", str(FOUR)))
    view = matrix_view(load_scenario(FOUR).scenario, log.events, 8, "papers")
    assert view.order == 3 and len(view.lines) == 52 and view.lines[0].label == "Priya"
    assert [line.label for line in view.lines[:3]] == ["Priya", "Priya › Reed", "Priya › Cole"]


class TestMatrixSnapshots:
    """The matrix of the papers at the last turn of the 4-character, order-3 scene."""

    @pytest.mark.parametrize("size", SIZES)
    def test_matrix_replay(self, snap_compare, tmp_path, monkeypatch, size) -> None:
        monkeypatch.chdir(tmp_path)
        app = make_replay_app(write_finished_run(Path("four.jsonl"), str(FOUR)))
        assert snap_compare(app, terminal_size=size, press=["m"])
