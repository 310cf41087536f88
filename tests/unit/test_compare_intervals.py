"""`simstage compare` reports each mean with its bootstrap interval over seeds, and paired differences."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from simstage.cli import main
from simstage.puppeteer.compare import comparison_pairs, paired_differences
from tests.conftest import SCENARIOS, compare_json


def _table(values_a: dict[int, float], values_b: dict[int, float]) -> dict:
    def entry(values: dict[int, float]) -> dict:
        return {
            "per_seed": [
                {"seed": seed, "values": {"tom_accuracy": value}} for seed, value in values.items()
            ]
        }

    return {"bare": entry(values_a), "director": entry(values_b)}


def test_paired_difference_by_hand() -> None:
    # Seed by seed director - bare: 0.5, 0.0, 0.5 -> mean 1/3; the resample means of three values
    # {0, 0.5, 0.5} put the 2.5th percentile at 0 and the 97.5th at 0.5 (see test_stats).
    table = _table({1: 0.25, 2: 0.5, 3: 0.25, 4: 0.75}, {1: 0.75, 2: 0.5, 3: 0.75})
    (row,) = paired_differences(table, [("bare", "director")])
    assert row["a"] == "bare" and row["b"] == "director" and row["metric"] == "tom_accuracy"
    assert row["n"] == 3 and row["estimate"] == pytest.approx(1 / 3)
    assert (row["low"], row["high"]) == pytest.approx((0.0, 0.5))
    assert row["method"] == "95% bootstrap over seeds"


def test_pairs_differ_in_one_thing() -> None:
    assert comparison_pairs(["bare", "director", "optimizer"]) == [
        ("bare", "director"),
        ("bare", "optimizer"),
    ]
    pairs = comparison_pairs(["bare", "director"], ["m1", "m2"])
    assert set(pairs) == {
        ("bare on m1", "director on m1"),
        ("bare on m2", "director on m2"),
        ("bare on m1", "bare on m2"),
        ("director on m1", "director on m2"),
    }
    assert comparison_pairs(["bare"]) == []


def test_compare_json_carries_intervals_and_paired_differences() -> None:
    data = compare_json("sally-anne.yaml", "bare,round_robin", "1-3")
    assert data["method"] == "95% bootstrap over seeds"
    for entry in data["puppeteers"].values():
        tom = entry["intervals"]["tom_accuracy"]
        assert tom["n"] == 3 and tom["low"] <= entry["metrics"]["tom_accuracy"] <= tom["high"]
        assert [row["seed"] for row in entry["per_seed"]] == [1, 2, 3]
        assert all("tom_accuracy" in row["values"] for row in entry["per_seed"])
    pairs = {(row["a"], row["b"], row["metric"]) for row in data["paired"]}
    assert ("bare", "round_robin", "tom_accuracy") in pairs


def test_compare_models_pairs_by_model_and_by_puppeteer() -> None:
    args = [
        "compare",
        str(SCENARIOS / "sally-anne.yaml"),
        "--stage",
        "scripted",
        "--puppeteer",
        "bare,round_robin",
        "--seeds",
        "1-2",
        "--model",
        "default,other",
        "--json",
    ]
    data = json.loads(CliRunner().invoke(main, args).output)
    pairs = {(row["a"], row["b"]) for row in data["paired"]}
    assert ("bare on default", "bare on other") in pairs
    assert ("bare on other", "round_robin on other") in pairs


def test_compare_table_names_the_method() -> None:
    args = [
        "compare",
        str(SCENARIOS / "sally-anne.yaml"),
        "--stage",
        "scripted",
        "--puppeteer",
        "bare,round_robin",
        "--seeds",
        "1-3",
    ]
    result = CliRunner(env={"COLUMNS": "200"}).invoke(main, args)
    assert result.exit_code == 0, result.output
    assert "95% bootstrap over seeds" in result.output
    assert "paired by seed" in result.output and "round_robin − bare" in result.output
    assert "1.000 [1.000, 1.000]" in result.output
