"""Sweep rows carry ToM scores by style and order and the probes' chance level; the summary and the
plot give each mean over seeds with its 95% bootstrap interval, the chance line, and the split."""

from __future__ import annotations

import csv
import json
import random
from pathlib import Path

import pytest
from click.testing import CliRunner

from simstage.cli import main
from simstage.stats import bootstrap_mean
from simstage.sweep.plan import make_plan, parse_set
from simstage.sweep.plot import panels, terminal_charts, write_png
from simstage.sweep.table import summary_table

SALLY = Path(__file__).resolve().parents[2] / "scenarios" / "sally-anne.yaml"


def _sweep(out: Path, *extra: str) -> None:
    result = CliRunner().invoke(
        main,
        [
            "sweep",
            str(SALLY),
            "--seeds",
            "1-3",
            "--set",
            "stage.backend=scripted",
            "--set",
            "puppeteer.kind=round_robin,bare",
            "--out",
            str(out),
            *extra,
        ],
    )
    assert result.exit_code == 0, result.output


def test_rows_carry_the_split_the_chance_and_a_wilson_interval(tmp_path: Path) -> None:
    out = tmp_path / "out"
    _sweep(out)
    row = json.loads(next((out / "rows").glob("*.json")).read_text())
    # sally-anne asks two direct probes (orders 1 and 2) and one indirect, over two containers.
    assert row["tom_by_style"] == {
        "direct": {"n": 2, "agreed": 2, "accuracy": 1.0},
        "indirect": {"n": 1, "agreed": 1, "accuracy": 1.0},
    }
    assert set(row["tom_by_order"]) == {"1", "2"} and row["tom_chance"] == 0.5
    # 3 of 3: Wilson's lower end is 1 / (1 + z^2/3) = 3 / (3 + z^2) = 3 / 6.8415 = 0.4385.
    assert (
        row["tom_accuracy_low"] == pytest.approx(0.4385, abs=1e-4)
        and row["tom_accuracy_high"] == 1.0
    )
    with (out / "results.csv").open() as handle:
        table = list(csv.DictReader(handle))
    assert {"tom.style.direct", "tom.style.direct.n", "tom.order.2", "tom_chance"} <= set(table[0])
    assert table[0]["tom.style.indirect.n"] == "1"


def test_summary_has_a_bootstrap_interval_per_variant(tmp_path: Path) -> None:
    out = tmp_path / "out"
    _sweep(out)
    with (out / "summary.csv").open() as handle:
        summary = list(csv.DictReader(handle))
    assert [line["puppeteer.kind"] for line in summary] == ["round_robin", "bare"]
    for line in summary:
        assert line["runs"] == "3" and line["method"] == "95% bootstrap over seeds"
        assert float(line["tom_accuracy"]) == 1.0 and line["tom_accuracy.runs"] == "3"
        assert float(line["tom_chance"]) == 0.5 and "tom.style.indirect.low" in line


def synthetic_rows(plan, seed: int = 1) -> dict:  # type: ignore[no-untyped-def]
    """Rows with made-up scores that vary by seed (the scripted stage always answers alike)."""
    rng = random.Random(seed)
    rows = {}
    for run in plan.runs:
        kind = dict(run.variant.settings)["puppeteer.kind"]
        base = {"bare": 0.3, "round_robin": 0.8}[kind]

        def score(p: float, n: int) -> dict:
            agreed = sum(rng.random() < p for _ in range(n))
            return {"n": n, "agreed": agreed, "accuracy": agreed / n}

        direct, indirect = score(base + 0.1, 4), score(base - 0.1, 2)
        rows[run.run_id] = {
            "run_id": run.run_id,
            "settings": dict(run.variant.settings),
            "seed": run.seed,
            "tom_accuracy": (direct["agreed"] + indirect["agreed"]) / 6,
            "tom_false_belief": score(base, 3)["accuracy"],
            "tom_chance": 1 / 3,
            "tom_by_style": {"direct": direct, "indirect": indirect},
            "tom_by_order": {"1": score(base + 0.1, 4), "2": score(base - 0.1, 2)},
            "voice_collapse": rng.random() / 2,
            "rewards": {"goal": rng.random()},
        }
    return rows


def test_panels_split_by_style_and_order_with_chance_and_intervals(tmp_path: Path) -> None:
    plan = make_plan(
        str(SALLY), [parse_set("puppeteer.kind=bare,round_robin")], list(range(1, 13)), None
    )
    rows = synthetic_rows(plan)
    charts = {panel.key: panel for panel in panels(plan, rows)}
    assert list(charts) == ["tom", "tom_style", "tom_order", "voice_collapse", "reward.goal"]
    assert [s.label for s in charts["tom"].series] == ["all probes", "false-belief probes"]
    assert [s.label for s in charts["tom_style"].series] == ["direct", "indirect"]
    assert [s.label for s in charts["tom_order"].series] == ["order 1", "order 2"]
    assert charts["tom_style"].chance == {
        "bare": pytest.approx(1 / 3),
        "round_robin": pytest.approx(1 / 3),
    }
    assert charts["voice_collapse"].chance == {}
    # Each point is the bootstrap interval over that variant's seeds.
    point = charts["tom_style"].series[1].points[0]
    values = [
        row["tom_by_style"]["indirect"]["accuracy"]
        for row in rows.values()
        if row["settings"]["puppeteer.kind"] == "bare"
    ]
    expected = bootstrap_mean(values)
    assert expected is not None and point.n == 12
    assert (point.mean, point.low, point.high) == (expected.estimate, expected.low, expected.high)
    assert point.low is not None and point.low < point.mean < point.high  # type: ignore[operator]
    names, table = summary_table(plan, rows)
    assert "tom.order.2.high" in names and table[0]["tom.order.2"] == pytest.approx(
        charts["tom_order"].series[1].points[0].mean
    )


def test_png_and_terminal_name_the_interval(tmp_path: Path) -> None:
    pytest.importorskip("matplotlib")
    pytest.importorskip("plotext")
    plan = make_plan(
        str(SALLY), [parse_set("puppeteer.kind=bare,round_robin")], list(range(1, 13)), None
    )
    charts = panels(plan, synthetic_rows(plan))
    png = write_png(tmp_path / "plot.png", plan, charts)
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and png.stat().st_size > 20_000
    text = terminal_charts(plan, charts, 120)
    assert "mean over seeds [95% bootstrap over seeds]" in text
    assert "ToM accuracy by probe style; chance 0.33" in text
    assert "bare · indirect (" in text and "round_robin · order 2 (" in text


def test_rows_from_before_the_split_still_plot(tmp_path: Path) -> None:
    plan = make_plan(str(SALLY), [parse_set("puppeteer.kind=bare,round_robin")], [1, 2], None)
    rows = {
        run.run_id: {
            "run_id": run.run_id,
            "settings": dict(run.variant.settings),
            "seed": run.seed,
            "tom_accuracy": 0.5,
            "tom_false_belief": 0.0,
        }
        for run in plan.runs
    }
    charts = panels(plan, rows)
    assert [panel.key for panel in charts] == ["tom"] and charts[0].chance == {}
    one = make_plan(str(SALLY), [parse_set("puppeteer.kind=bare")], [1], None)
    single = panels(one, {r.run_id: {"settings": {}, "tom_accuracy": 0.5} for r in one.runs})
    assert single[0].series[0].points[0].low is None
    assert "(0.50, n=1)" in terminal_charts(one, single, 100)
