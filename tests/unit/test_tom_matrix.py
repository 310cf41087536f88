"""The belief matrix: a fold over the timeline, rows holder › chain, one cell per object per turn."""

from __future__ import annotations

from pathlib import Path

import pytest

from simstage.engine import Simulation
from simstage.scenario import load_scenario
from simstage.stage.scripted import ScriptedStage
from simstage.tom.matrix import (
    belief_matrix,
    chain_words,
    matrix_columns,
    matrix_grid,
    matrix_rows,
    row_label,
)
from simstage.tom.tracker import fold_beliefs
from tests.conftest import ROOT

FOUR = ROOT / "tests" / "data" / "four-order3.yaml"


@pytest.fixture(scope="module")
def four() -> tuple:
    loaded = load_scenario(FOUR)
    sim = Simulation(loaded.scenario, ScriptedStage())
    sim.run()
    return loaded.scenario, sim.events


def test_rows_are_every_chain_to_the_order_in_cast_order(four: tuple) -> None:
    scenario, events = four
    cells = belief_matrix(scenario, events, turn=8)
    rows = matrix_rows(cells)
    assert len(rows) == 4 * (
        1 + 3 + 9
    )  # order 3: own, 3 others, 3x3 chains with no repeated neighbour
    assert rows[:3] == [("Priya", ()), ("Priya", ("Reed",)), ("Priya", ("Cole",))]
    assert rows[-1] == ("Mara", ("Cole", "Mara"))  # cast order: Mara after Reed
    assert row_label("Priya", ("Reed", "Cole")) == "Priya › Reed › Cole"
    assert chain_words("Priya", ("Reed",)) == "Priya thinks Reed thinks"
    assert matrix_columns(cells) == ["papers", "key"]
    assert len(matrix_rows(belief_matrix(scenario, events, turn=8, order=1))) == 4


def test_cells_agree_with_the_tracker_and_mark_lies_changes_and_probes(four: tuple) -> None:
    scenario, events = four
    cells = belief_matrix(scenario, events)
    assert {c.turn for c in cells} == set(range(9))
    state = fold_beliefs(scenario, events, order=3)
    for cell in (c for c in cells if c.turn == 8):
        belief = state.where(cell.holder, cell.object, cell.chain)
        assert cell.container == (belief.container if belief else None)
    grid = matrix_grid(cells, 6)
    cole = grid[("Cole", ())]["papers"]
    assert (cole.container, cole.true, cole.lie_by, cole.source, cole.changed) == (
        "bookcase",
        False,
        "Reed",
        "claimed",
        True,
    )
    assert not matrix_grid(cells, 7)[("Cole", ())]["papers"].changed
    # Reed moved the papers at turn 2, while Cole was out: Cole's belief is false from then.
    assert matrix_grid(cells, 1)[("Cole", ())]["papers"].true is True
    assert matrix_grid(cells, 2)[("Cole", ())]["papers"].true is False
    assert matrix_grid(cells, 2)[("Reed", ())]["papers"].changed
    # Probes: the model's answer shows from the turn it was asked on.
    probe = next(e for e in events if getattr(e, "type", "") == "probe" and e.ask == "Priya")
    assert matrix_grid(cells, 7)[("Priya", ("Reed",))]["papers"].probe_answer is None
    asked = matrix_grid(cells, 8)[("Priya", ("Reed",))]["papers"]
    assert asked.probe_answer == probe.answer and asked.probe_disagrees == (
        probe.answer != asked.container
    )
    # One turn alone is the same as that turn of the whole run (its `changed` included).
    assert belief_matrix(scenario, events, turn=6) == [c for c in cells if c.turn == 6]


def test_export_csv_is_read_back_by_pandas(four: tuple, tmp_path: Path) -> None:
    pandas = pytest.importorskip("pandas")
    from click.testing import CliRunner

    from simstage.cli import main
    from simstage.run.log import RunLogWriter
    from simstage.run.open import make_header

    scenario, events = four
    loaded = load_scenario(FOUR)
    run = tmp_path / "run.jsonl"
    with RunLogWriter(
        run, make_header(loaded, ScriptedStage(), scenario.seed, scenario.max_turns)
    ) as writer:
        for event in events:
            writer.append(event)
    out = tmp_path / "beliefs.csv"
    result = CliRunner().invoke(main, ["export", str(run), "--format", "csv", "-o", str(out)])
    assert result.exit_code == 0, result.output
    frame = pandas.read_csv(out, keep_default_na=False)
    columns = [
        "turn",
        "holder",
        "chain",
        "object",
        "container",
        "true",
        "source",
        "lie_by",
        "fact",
        "value",
    ]
    assert list(frame.columns) == columns  # fact and value: empty on an object's row
    assert len(frame) == 9 * 52 * 2  # turns 0..8, 52 rows, 2 objects
    lie = frame[
        (frame.turn == 8)
        & (frame.holder == "Cole")
        & (frame.chain == "")
        & (frame.object == "papers")
    ]
    assert lie[["container", "true", "source", "lie_by"]].values.tolist() == [
        ["bookcase", False, "claimed", "Reed"]
    ]
    deep = frame[(frame.turn == 8) & (frame.chain == "Reed>Cole") & (frame.holder == "Priya")]
    assert set(deep.object) == {"papers", "key"}
    # One turn, stdout; bad input is one line and exit 2.
    one = CliRunner().invoke(
        main, ["export", str(run), "--format", "csv", "--turn", "3", "--order", "1"]
    )
    assert one.exit_code == 0 and one.output.count("\n") == 1 + 4 * 2
    past = CliRunner().invoke(main, ["export", str(run), "--format", "csv", "--turn", "99"])
    assert past.exit_code == 2 and "past the run's last turn" in past.output
    both = CliRunner().invoke(main, ["export", str(run), "--format", "csv", "--all-turns"])
    assert both.exit_code == 2 and "--all-turns" in both.output


def test_every_turn_is_every_turn_the_log_records(four: tuple) -> None:
    """A hostile log's turn numbers can reach 10^15: the long form holds the turns its events have, not a range to them."""
    scenario, events = four
    far = events[-1].model_copy(update={"turn": 10**15})
    cells = belief_matrix(scenario, [*events, far])
    assert {c.turn for c in cells} == set(range(9)) | {10**15}
    assert [c for c in cells if c.turn <= 8] == belief_matrix(scenario, events)
