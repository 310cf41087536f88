"""A report stays a page one can open, whatever the cast and the order.

The chains of beliefs grow with the cube of the cast at order 3 (a 64-character
scene has 258,112); a page that carried them all weighed 59 MB. The page carries
at most `MAX_ROWS` chains and `MAX_CELLS` cells: the deepest order that fits, and
it says what it left out.
"""

from __future__ import annotations

from pathlib import Path

from simstage.engine import Simulation
from simstage.report import render_page
from simstage.report.belief_view import MAX_CELLS, MAX_DRAWN, MAX_ROWS, chain_count, page_extent
from simstage.scenario.models import Scenario
from simstage.stage.scripted import ScriptedStage
from tests.unit.test_report import belief_data

PAGE_BOUND = 4_000_000
"""Bytes a report of a few turns may take, whatever the cast (README: the report)."""


def crowd(characters: int, order: int = 3, turns: int = 6) -> Scenario:
    """A scene of `characters` people in one hall, one of whom misses a move; probes of order 1 and 3."""
    names = [f"C{i:02d}" for i in range(characters)]
    return Scenario.model_validate(
        {
            "title": f"A crowd of {characters}",
            "seed": 3,
            "stage": {"backend": "scripted"},
            "world": {
                "locations": ["hall", "yard"],
                "containers": {"box": {"in": "hall"}, "bag": {"in": "hall"}, "pot": {"in": "yard"}},
                "objects": {"key": {"in": "box"}, "coin": {"in": "bag"}},
            },
            "cast": [
                {"name": name, "persona": f"Guest {name}.", "location": "hall"} for name in names
            ],
            "tom": {"order": order},
            "timeline": [
                {"at": 2, "event": {"type": "exit", "who": names[0], "to": "yard"}},
                {"at": 3, "event": {"type": "move", "who": names[1], "object": "key", "to": "bag"}},
                {"at": 4, "event": {"type": "enter", "who": names[0], "to": "hall"}},
            ],
            "probes": [
                {"at": 4, "ask": names[0], "about": "key"},
                {"at": 4, "ask": names[1], "about": "key", "through": [names[0], names[2]]},
            ],
            "max_turns": turns,
        }
    )


def page(scenario: Scenario) -> str:
    sim = Simulation(scenario, ScriptedStage())
    sim.run()
    return render_page(scenario, sim.events)


def test_chains_are_counted_as_the_tracker_makes_them() -> None:
    from simstage.tom.tracker import fold_beliefs

    scenario = crowd(5)
    state = fold_beliefs(scenario, [], order=3)
    assert (
        chain_count(5, 3)
        == sum(1 for name in scenario.cast_names for _ in state.chains(name))
        == 5 * 21
    )
    assert chain_count(64, 3) == 258_112 and chain_count(1, 4) == 1


def test_a_small_cast_is_shown_whole() -> None:
    order, turns, note = page_extent(characters=12, objects=2, order=3, last=6)
    assert (order, turns, note) == (3, list(range(7)), None)


def test_a_large_cast_is_shown_to_the_deepest_order_that_fits() -> None:
    order, turns, note = page_extent(characters=64, objects=2, order=3, last=6)
    assert order == 2 and turns == list(range(7))
    assert chain_count(64, 2) <= MAX_ROWS and chain_count(64, 2) * 2 * 7 <= MAX_CELLS
    assert note is not None and "order 2 of 3" in note and "258,112" in note
    # Order 4, a long run: fewer turns before a shallower order, never fewer than the floor.
    order, turns, note = page_extent(characters=64, objects=2, order=4, last=5000)
    assert order == 2 and 12 <= len(turns) < 200 and turns[0] == 0 and turns[-1] == 5000
    assert chain_count(64, 2) * 2 * len(turns) <= MAX_CELLS


def test_a_24_character_order_3_report_stays_small_and_says_what_it_left_out() -> None:
    small, large = page(crowd(12)), page(crowd(24))
    data = belief_data(large)
    assert data["order"] == 2 and len(data["rows"]) == chain_count(24, 2)
    assert "order 2 of 3" in large
    assert len(large.encode()) < PAGE_BOUND
    # The cast doubled: every order-3 chain would make the page 8 times larger.
    assert len(large.encode()) < 4 * len(small.encode())
    # The 12-character page keeps order 3; its everyone view is too large to draw, a holder's is not.
    whole = belief_data(small)
    assert whole["order"] == 3 and len(whole["rows"]) == chain_count(12, 3) > MAX_DRAWN
    assert "minds" not in whole["views"]["|3"] and whole["views"]["|3"]["too_many"] == chain_count(
        12, 3
    )
    assert len(whole["views"]["C00|3"]["minds"]) == chain_count(12, 3) // 12


def test_the_page_draws_a_view_too_large_to_draw_as_a_note(tmp_path: Path) -> None:
    from tests.unit.test_report import CHROMIUM, chromium

    if CHROMIUM is None:
        import pytest

        pytest.skip("chromium is not installed")
    out = tmp_path / "crowd.html"
    out.write_text(page(crowd(12)))
    dom = chromium(["--dump-dom", f"{out.as_uri()}#turn=6&order=3"], tmp_path / "profile")
    assert dom.returncode == 0, dom.stderr[-2000:]
    text = dom.stdout.decode("utf-8")
    assert "too many to draw" in text and "pick one holder" in text
