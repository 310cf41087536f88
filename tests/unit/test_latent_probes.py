"""`simstage.analysis.probes` and `ablate`: planted labels are found, random ones are not, runs never straddle the split."""

from __future__ import annotations

import time

import numpy as np
import pytest

from simstage.analysis import probes
from simstage.analysis.ablate import ablate, directions, project_out
from simstage.analysis.dataset import LatentDataset, build_dataset
from simstage.analysis.probes import fit, predict_mean_difference, run_folds
from simstage.analysis.results import AblationResult, FitResult, Skipped
from simstage.latent.store import LatentError
from tests.unit.latent_runs import Plant, direction, write_sweep


@pytest.fixture(scope="module")
def planted(tmp_path_factory: pytest.TempPathFactory) -> LatentDataset:
    """20 runs × 3 probes; `named_last` planted at layer 3, nothing at layers 1 and 5."""
    return build_dataset(
        [write_sweep(tmp_path_factory.mktemp("planted"), 20, Plant("named_last", "box", layer=3))]
    )


@pytest.fixture(scope="module")
def unplanted(tmp_path_factory: pytest.TempPathFactory) -> LatentDataset:
    return build_dataset([write_sweep(tmp_path_factory.mktemp("unplanted"), 20)])


def by_layer(result: FitResult | AblationResult) -> dict:
    return {entry.layer: entry for entry in result.layers}


def test_a_planted_label_is_decoded_at_its_layer_only(planted: LatentDataset) -> None:
    started = time.perf_counter()
    result = fit(planted, target="named_last")
    assert time.perf_counter() - started < 30
    layers = by_layer(result)
    for kind in ("mean_diff", "logistic"):
        assert layers[3].cell(kind).estimate >= 0.9
        assert (
            layers[3].cell(kind).low is not None
            and layers[3].cell(kind).method == "95% bootstrap over runs"
        )
        assert layers[1].cell(kind).estimate < 0.75 and layers[5].cell(kind).estimate < 0.75
    summary = result.summary
    assert summary.n == 60 and summary.n_runs == 20 and summary.dropped == 0
    assert 0.5 <= summary.chance < 0.7
    assert isinstance(result.ccs, Skipped) and "no contrast pairs" in result.ccs.reason
    assert layers[3].ccs is None
    assert "group 5-fold over runs" in summary.split


def test_a_random_label_stays_near_chance(unplanted: LatentDataset) -> None:
    result = fit(unplanted, target="named_last")
    for entry in result.layers:
        for kind in ("mean_diff", "logistic"):
            assert entry.cell(kind).estimate < 0.75
            assert entry.cell(kind).low < 0.6


def test_no_run_is_on_both_sides_of_the_split(
    planted: LatentDataset, monkeypatch: pytest.MonkeyPatch
) -> None:
    runs = np.array(planted.column("run"))
    seen: list[int] = []
    real = probes.out_of_fold

    def checked(X, y, folds, predictor):
        for train, test in folds:
            assert not set(runs[train]) & set(runs[test]), "a run in both train and test"
        tested = np.concatenate([test for _, test in folds])
        assert sorted(tested) == list(range(len(y)))  # every row tested exactly once
        seen.append(len(folds))
        return real(X, y, folds, predictor)

    monkeypatch.setattr(probes, "out_of_fold", checked)
    fit(planted, target="named_last")
    assert seen and all(k == 5 for k in seen)


def test_run_folds_are_seeded_and_need_two_runs() -> None:
    runs = [f"r{i // 3}" for i in range(30)]
    assert [t.tolist() for _, t in run_folds(runs, 5, 1)] == [
        t.tolist() for _, t in run_folds(runs, 5, 1)
    ]
    assert [t.tolist() for _, t in run_folds(runs, 5, 1)] != [
        t.tolist() for _, t in run_folds(runs, 5, 2)
    ]
    assert len(run_folds(runs[:6], 5)) == 2  # two runs: two folds
    with pytest.raises(LatentError, match="at least two"):
        run_folds(["only"] * 4)


def test_a_label_that_names_the_run_does_not_leak_across_the_split() -> None:
    """Each run has its own offset and one label: a split within runs would read it off; by run, not."""
    rng = np.random.default_rng(0)
    runs = [f"run-{i}" for i in range(20) for _ in range(3)]
    offsets = {run: rng.standard_normal(8) * 4 for run in set(runs)}
    label = {run: bool(rng.random() < 0.5) for run in set(runs)}
    X = np.stack([offsets[r] + rng.standard_normal(8) for r in runs])[:, None, :].astype(np.float32)
    labels = [
        {"run": r, "false_belief": label[r], "correct": None, "style": "direct"} for r in runs
    ]
    result = fit(LatentDataset(X, (0,), labels), target="false_belief")
    assert result.layers[0].logistic.estimate < 0.75
    assert result.behaviour.all is None


def test_rows_without_a_label_are_dropped_and_counted(planted: LatentDataset) -> None:
    labels = [dict(row) for row in planted.labels]
    for row in labels[:7]:
        row["believed"] = None
    result = fit(LatentDataset(planted.X, planted.layers, labels), target="container", layers=[3])
    assert result.summary.dropped == 7 and result.summary.n == 53
    assert [entry.layer for entry in result.layers] == [3]


def test_behaviour_is_the_answers_against_the_tracker(planted: LatentDataset) -> None:
    result = fit(planted, target="container")
    for style in ("direct", "indirect"):
        per_run: dict[str, list[bool]] = {}
        for row in planted.labels:
            if row["style"] == style:
                per_run.setdefault(row["run"], []).append(row["correct"])
        expected = np.mean([np.mean(v) for v in per_run.values()])
        assert dict(result.behaviour.by_style())[style].estimate == pytest.approx(expected)
    assert result.behaviour.direct.rows == 40 and result.behaviour.indirect.rows == 20


def test_more_classes_go_to_the_nearest_mean() -> None:
    rng = np.random.default_rng(1)
    centres = {"a": np.array([5.0, 0]), "b": np.array([0, 5.0]), "c": np.array([-5.0, -5])}
    y = np.array([c for c in "abc" for _ in range(20)])
    X = np.stack([centres[c] + rng.standard_normal(2) for c in y])
    assert (predict_mean_difference(X, y, X) == y).mean() > 0.95


def test_bad_targets_and_layers_are_errors(planted: LatentDataset) -> None:
    with pytest.raises(LatentError, match="unknown target"):
        fit(planted, target="mood")
    with pytest.raises(LatentError, match="layer 9 was not captured"):
        fit(planted, layers=[9])
    one_class = [dict(row, named_last="box") for row in planted.labels]
    with pytest.raises(LatentError, match="1 class"):
        fit(LatentDataset(planted.X, planted.layers, one_class), target="named_last")


def test_ablation_removes_a_planted_rank_one_signal_and_the_random_control_does_not(
    planted: LatentDataset,
) -> None:
    result = ablate(planted, target="named_last")
    at3 = by_layer(result)[3]
    assert at3.before.estimate >= 0.9
    assert at3.after.estimate <= result.summary.chance + 0.1
    # Fitted on other rows, the one planted direction is still all there is to find.
    assert at3.held_out.estimate <= result.summary.chance + 0.2
    assert at3.random.estimate >= 0.9
    assert "simstage.analysis.behaviour" in result.behaviour and result.reasked is None


def test_directions_find_the_planted_one(planted: LatentDataset) -> None:
    found = directions(planted, [3], target="named_last")[3]
    assert abs(found @ direction()) > 0.9 and np.linalg.norm(found) == pytest.approx(1)


def test_project_out_leaves_nothing_along_the_direction() -> None:
    X = np.random.default_rng(2).standard_normal((10, 6))
    d = np.arange(1.0, 7.0)
    assert np.allclose(project_out(X, d) @ d, 0)


def test_ablation_needs_a_binary_target(planted: LatentDataset) -> None:
    labels = [dict(row, named_last=["a", "b", "c"][i % 3]) for i, row in enumerate(planted.labels)]
    with pytest.raises(LatentError, match="binary"):
        ablate(LatentDataset(planted.X, planted.layers, labels), target="named_last")
