"""Pilot tests of replay: the turn scrubber folds the log to any turn (no model)."""

from __future__ import annotations

import pytest

from simstage.tui import make_replay_app
from simstage.tui.widgets import TurnScrubber
from tests.tui.helpers import needs_tracker, write_finished_run


async def _scrub_to(pilot, turn: int) -> None:
    app = pilot.app
    await pilot.press("home")
    for _ in range(turn):
        await pilot.press("right")
    await pilot.pause()
    assert app.query_one(TurnScrubber).turn == turn == app.turn


async def _beliefs_at(app, pilot, turn: int) -> list[str]:
    """The beliefs pane's lines once the scrubber is at `turn`."""
    await _scrub_to(pilot, turn)
    return app.query_one("#beliefs").plain


async def test_scrubber_shows_the_world_and_transcript_at_a_turn(finished_run):
    app = make_replay_app(finished_run)
    async with app.run_test(size=(120, 40)) as pilot:
        assert app.turn == 6 and app.state == "replay"
        await _scrub_to(pilot, 3)
        lines = app.query_one("#transcript").plain
        assert "── turn 3 ──" in lines and "── turn 4 ──" not in lines
        assert "Anne moves the marble from the basket to the box." in lines
        cast = str(app.query_one("#cast").render())
        assert "Sally in the hallway" in cast and "marble: box" in cast
        await pilot.press("left")
        assert app.turn == 2
        assert "marble: basket" in str(app.query_one("#cast").render())
        await pilot.press("end")
        assert app.turn == 6


@needs_tracker
async def test_scrubber_shows_turn_3_beliefs(finished_run):
    app = make_replay_app(finished_run)
    async with app.run_test(size=(120, 40)) as pilot:
        sally = await _beliefs_at(app, pilot, 3)
        own = [leaf for leaf in sally if leaf.startswith("Sally believes |")]
        assert own and "marble: basket (false)" in own[0]
        await pilot.press("right_square_bracket")
        anne = app.query_one("#beliefs").plain
        assert any(
            leaf.startswith("Anne believes |") and "marble: box" in leaf and "✱" in leaf
            for leaf in anne
        )
        assert any(
            leaf.startswith("Anne thinks Sally believes |") and "basket (false)" in leaf
            for leaf in anne
        )
        anne = await _beliefs_at(app, pilot, 1)
        assert any(
            leaf.startswith("Anne believes |")
            and "marble: basket" in leaf
            and "(false)" not in leaf
            for leaf in anne
        )


@needs_tracker
async def test_probe_answers_show_beside_the_tracker(finished_run):
    app = make_replay_app(finished_run)
    async with app.run_test(size=(120, 40)) as pilot:
        sally = await _beliefs_at(app, pilot, 5)
        assert any(leaf.startswith("Sally believes |") and "model:basket" in leaf for leaf in sally)


async def test_an_interrupted_run_opens_and_live_controls_are_off(tmp_path):
    path = write_finished_run(tmp_path / "cut.jsonl", stop_after=3)
    with open(path, "a", encoding="utf-8") as handle:
        handle.write('{"turn": 3, "type": "sa')  # a line cut by a crash
    app = make_replay_app(path)
    assert app.warnings and "incomplete" in app.warnings[0]
    async with app.run_test(size=(120, 40)) as pilot:
        assert app.turn == 3
        await pilot.press("n", "s", "e")
        assert app.turn == 3 and app.screen is app.screen_stack[0]
        names = {name for name, _help, _action in app.palette_commands()}
        assert "Step one turn" not in names and "Later turn" in names
        await pilot.press("q")
    assert app.return_value is not None


async def test_export_writes_the_belief_graph_at_the_shown_turn(finished_run):
    pytest.importorskip("simstage.tom.graph", reason="simstage.tom's graph export is not there yet")
    app = make_replay_app(finished_run)
    async with app.run_test(size=(120, 40)) as pilot:
        await _scrub_to(pilot, 3)
        await pilot.press("x")
        await pilot.pause()
    written = finished_run.with_name("finished.beliefs-turn3.graphml")
    assert written.exists() and "<graphml" in written.read_text()
