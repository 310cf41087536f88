"""Runs played together as lanes of one llama.cpp context (`stage/batch.py`), on the embedded model.

No timing is asserted: `simstage bench --runs` reports the speed-up as a ratio.
What must hold on any machine: the report's shape, the fixed work, that the
decoder really batched the lanes, and that on a batch-invariant context a run
played with others is, line for line, the run played alone.
"""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from simstage.bench.runs import play_scene_run
from simstage.cli import main
from simstage.stage.batch import SharedLlama
from simstage.stage.models import resolve_model

pytestmark = pytest.mark.model


def _lanes_play(shared: SharedLlama, seeds: list[int], turns: int, tokens: int) -> list[list[str]]:
    from simstage.bench.runs import _on_lanes

    played, _ = _on_lanes(
        shared, seeds, lambda lane, seed: play_scene_run(lane, 3, turns, tokens, seed)
    )
    return [run["lines"] for run in played]


def test_batched_runs_equal_the_runs_played_alone() -> None:
    model = resolve_model("default")
    options = dict(model_name="default", run_ctx=2048, sequences=4, n_threads=2)
    together = SharedLlama(model, runs=3, **options)
    try:
        batched = _lanes_play(together, [0, 1, 2], turns=4, tokens=8)
        assert together.decoder.tickets / together.decoder.decodes > 1.5  # lanes shared batches
        assert (
            together.core.free_sequences() == together.core.n_seq_max - 1
        )  # lanes gave theirs back
    finally:
        together.close()
    alone = SharedLlama(model, runs=1, **options)
    try:
        solo = [_lanes_play(alone, [seed], turns=4, tokens=8)[0] for seed in (0, 1, 2)]
    finally:
        alone.close()
    assert all(len(lines) == 4 for lines in batched)
    assert batched == solo


def test_bench_runs_json_report() -> None:
    result = CliRunner().invoke(
        main,
        ["bench", "--runs", "2", "--turns", "2", "--characters", "2", "--line-tokens", "4",
         "--threads", "2", "--n-ctx", "2048", "--json"],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout.strip().splitlines()[-1])
    assert [row["runs"] for row in report["by_runs"]] == [1, 2]
    for row in report["by_runs"]:
        assert row["sequential_s"] > 0 and row["batched_s"] > 0
        assert row["runs_speedup"] == pytest.approx(
            row["sequential_s"] / row["batched_s"], rel=0.01
        )
        assert row["kv_mib_per_run"] > 0
        assert 1 <= row["lanes_per_decode"] <= row["runs"]
    assert report["runs_speedup"] == report["by_runs"][-1]["runs_speedup"]
    assert 0 <= report["by_runs"][-1]["identical_alone"] <= 2
