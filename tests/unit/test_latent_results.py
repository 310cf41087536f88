"""`simstage.analysis.results`: the typed results keep the JSON that `latent fit/ablate --json` print, and re-asking adds up."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from simstage.analysis import behaviour
from simstage.analysis.ablate import ablate
from simstage.analysis.dataset import LatentDataset, build_dataset
from simstage.analysis.probes import fit
from simstage.analysis.results import Accuracy, Reasked
from simstage.stats import bootstrap_mean
from tests.unit.latent_runs import Plant, write_sweep

CELL = ["estimate", "low", "high", "n", "method", "rows"]
SUMMARY = [
    "target", "column", "classes", "n", "dropped", "n_runs", "split", "accuracy", "chance", "chance_method", "majority",
]  # fmt: skip


@pytest.fixture(scope="module")
def planted(tmp_path_factory: pytest.TempPathFactory) -> LatentDataset:
    return build_dataset(
        [write_sweep(tmp_path_factory.mktemp("runs"), 6, Plant("named_last", "box", layer=3))]
    )


def test_an_accuracy_is_an_interval_with_its_rows() -> None:
    interval = bootstrap_mean([0.5, 1.0, 0.75], unit="runs")
    assert interval is not None
    cell = Accuracy.of(interval, 9)
    assert cell is not None and cell.as_dict() == {**interval.as_dict(), "rows": 9}
    assert cell.text() == interval.text() and Accuracy.of(None, 0) is None


def test_fit_json_keeps_its_keys_in_order(planted: LatentDataset) -> None:
    result = fit(planted, layers=[1, 3], target="named_last")
    data = result.to_json()
    assert list(data) == [*SUMMARY, "layers", "behaviour", "ccs", "seconds"]
    assert data["classes"] == list(result.summary.classes) and list(data["majority"]) == CELL
    assert [list(entry) for entry in data["layers"]] == [
        ["layer", "mean_diff", "logistic", "ccs"]
    ] * 2
    assert list(data["layers"][1]["logistic"]) == CELL and data["layers"][1]["ccs"] is None
    assert data["layers"][1]["logistic"]["estimate"] == result.layers[1].logistic.estimate
    assert list(data["behaviour"]) == ["all", "direct", "indirect"]
    assert list(data["ccs"]) == ["skipped"] and "no contrast pairs" in data["ccs"]["skipped"]


def test_ablate_json_keeps_its_keys_in_order(planted: LatentDataset) -> None:
    data = ablate(planted, layers=[3], target="named_last").to_json()
    assert list(data) == [*SUMMARY, "probe", "layers", "behaviour", "seconds"]
    assert list(data["layers"][0]) == ["layer", "before", "after", "held_out", "random"]
    assert all(
        list(data["layers"][0][k]) == CELL for k in ("before", "after", "held_out", "random")
    )


def test_behaviour_ablation_counts_the_answers_that_moved(monkeypatch: pytest.MonkeyPatch) -> None:
    """Two runs re-asked (the stage stood in for): changed shares and their new answers, per block."""
    answers = {
        Path("a.jsonl"): Reasked(("box", "box"), {
            "baseline": ["box", "box"], "direction@3": ["basket", "box"], "random@3": ["box", "box"],
        }),
        Path("b.jsonl"): Reasked(("basket", "box"), {
            "baseline": ["basket", "basket"], "direction@3": ["box", "box"], "random@3": ["basket", "basket"],
        }),
    }  # fmt: skip
    monkeypatch.setattr(behaviour, "reask", lambda path, variants, threads=None: answers[path])
    ticks: list[None] = []
    result = behaviour.behaviour_ablation(
        list(answers), {3: np.ones(4)}, progress=lambda: ticks.append(None)
    )
    assert len(ticks) == 2 and result.n_runs == 2
    assert result.baseline_matches_log is False  # run b's second answer differs from its log
    (row,) = result.layers
    assert (row.layer, row.n) == (3, 4)
    assert row.direction.changed == 0.75 and row.direction.toward == {"box": 2, "basket": 1}
    assert row.random.changed == 0 and row.random.toward == {}
    assert result.to_json()["layers"][0]["direction"] == {
        "changed": 0.75,
        "toward": {"box": 2, "basket": 1},
    }
