"""A battery on the embedded model: two runs on one loaded stage, each log `replay --verify`s on a fresh one.

Shape and ranges only: what the model says is its own business; that a run played on a
restarted stage is the run a fresh stage plays is not.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from simstage.analysis.profile import battery_profile
from simstage.cli import main
from simstage.run.log import read_runlog
from simstage.run.verify import verify_run

pytestmark = pytest.mark.model

BATTERY = """\
models: [default]
scenes:
  - {family: false-belief, n: 1, seed: 1, options: {order: 1, characters: 2, events: 2, probes: 1}}
styles: [both]
seeds: [1, 2]
stage: {max_tokens: 12, n_ctx: 1024}
"""


def test_two_runs_on_one_loaded_model_both_verify(tmp_path: Path) -> None:
    path = tmp_path / "tiny.yaml"
    path.write_text(BATTERY, encoding="utf-8")
    out = tmp_path / "out"
    result = CliRunner().invoke(main, ["battery", str(path), "--out", str(out), "--threads", "2"])
    assert result.exit_code == 0, result.output
    assert "1 model load for 2 runs" in result.output
    logs = sorted(out.glob("*.jsonl"))
    assert [log.name for log in logs] == [
        f"default__false-belief-s1-0000__both__seed{seed}.jsonl" for seed in (1, 2)
    ]
    for log in logs:
        runlog = read_runlog(log)
        assert runlog.ended and runlog.header.stage.model == "default"
        assert (
            sum(event.type == "probe" for event in runlog.events) == 2
        )  # asked directly and indirectly
        report = verify_run(runlog, threads=2)
        assert report.matched, f"{log.name}: {report.message}"
    rows = [
        json.loads(row.read_text(encoding="utf-8")) for row in sorted((out / "rows").glob("*.json"))
    ]
    assert all(row["generated_tokens"] > 0 for row in rows)
    profile = battery_profile(out, latent=False)
    (model,) = profile.models
    assert model.runs == 2 and model.probes <= 4
    if model.overall is not None:
        assert 0.0 <= model.overall.value <= 1.0


def test_the_bench_figure_plays_the_same_runs_both_ways() -> None:
    """`simstage bench --battery`'s figure: its shape and that both ways played the same runs (no timing asserted)."""
    from simstage.bench.battery import measure_battery_fixed_cost

    figure = measure_battery_fixed_cost("default", runs=2, threads=2)
    assert set(figure) == {
        "runs",
        "separate_s",
        "battery_s",
        "fixed_cost_per_run_s",
        "ratio",
        "same_runs",
    }
    assert figure["runs"] == figure["same_runs"] == 2
    assert figure["separate_s"] > 0 and figure["battery_s"] > 0 and figure["ratio"] > 0
