"""Linear probes of a latent dataset, per layer, split by run, with bootstrap intervals over runs.

Three probes per layer:

- **mean difference**: binary, the direction mean(class 1) − mean(class 0) with
  the threshold at the midpoint of the two projected class means (fitted on
  train); more classes, the nearest class mean.
- **logistic**: scikit-learn's logistic regression on standardised features.
- **CCS** (`simstage.analysis.ccs`): unsupervised, on the contrast pairs of runs
  captured with `latent.contrast`, for targets that name one of the pair's
  options (`container`, `named_last`; `fact`, whose pair is yes and no); its sign
  is set on the train rows.

The split is a seeded group k-fold over runs (`run_folds`): the runs are shuffled
with the seed and dealt into k folds; each fold is tested once by probes fitted on
the other folds' runs, so no run is ever on both sides. Every row gets one
out-of-fold prediction; a probe's accuracy is the mean over runs of each run's
accuracy, with a percentile bootstrap over runs (`simstage.stats.bootstrap_mean`),
since the probes of one run share its story. CCS is scored on the rows that have a
pair and a label in it, by the same procedure (its own seeded group k-fold over
those rows' runs), against its own chance: the larger share of first or second.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np

from simstage.analysis.dataset import LatentDataset
from simstage.analysis.results import (
    Accuracy,
    Behaviour,
    CcsRows,
    FitResult,
    LayerFit,
    Skipped,
    TargetSummary,
)
from simstage.latent.store import LatentError
from simstage.stats import Interval, bootstrap_mean

Target = Literal["container", "false_belief", "named_last", "fact", "has_belief"]
TargetColumn = Literal["believed", "false_belief", "named_last", "fact", "has_belief"]
"""The `ProbeLabels` columns a target can read."""
TARGETS: dict[str, TargetColumn] = {
    "container": "believed",
    "false_belief": "false_belief",
    "named_last": "named_last",
    "fact": "fact",
    "has_belief": "has_belief",
}
"""Each target and the dataset column it reads: `fact` is the tracker's answer to a fact probe
(yes, no, don't know; object rows have none), `has_belief` whether the asked character holds a
belief at all (object and fact rows)."""
FACT_TARGETS = ("fact", "has_belief")
"""The targets a dataset without fact probes is not fitted on by default (`targets_for`)."""
CCS_TARGETS = ("container", "named_last", "fact")
"""The targets CCS can be asked for: their label is one of the pair's options."""
FOLDS = 5
Predictor = Callable[[np.ndarray, np.ndarray, np.ndarray], np.ndarray]
"""(train X, train y, test X) → predicted test y."""


def run_folds(
    runs: Sequence[str], k: int = FOLDS, seed: int = 0
) -> list[tuple[np.ndarray, np.ndarray]]:
    """(train rows, test rows) for each fold of a seeded group k-fold over runs.

    Args:
        runs: each row's run.
        k: folds; fewer when there are fewer runs.
        seed: shuffles the runs before they are dealt into folds.

    Raises:
        LatentError: fewer than two runs (nothing to test on that was not trained on).
    """
    names = sorted(set(runs))
    if len(names) < 2:
        raise LatentError(f"{len(names)} run(s): a split by run needs at least two")
    random.Random(seed).shuffle(names)
    fold_of = {name: i % min(k, len(names)) for i, name in enumerate(names)}
    folds = np.array([fold_of[run] for run in runs])
    return [
        (np.flatnonzero(folds != f), np.flatnonzero(folds == f)) for f in range(min(k, len(names)))
    ]


def mean_difference(train: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, float] | None:
    """The binary probe's (direction, threshold) on `train`; None unless y has exactly two classes."""
    classes = np.unique(y)
    if len(classes) != 2:
        return None
    low, high = (train[y == c].mean(axis=0) for c in classes)
    direction = high - low
    return direction, float((low @ direction + high @ direction) / 2)


def predict_mean_difference(train: np.ndarray, y: np.ndarray, test: np.ndarray) -> np.ndarray:
    """Mean-difference predictions: the binary threshold, or the nearest class mean."""
    classes = np.unique(y)
    if len(classes) == 1:
        return np.full(len(test), classes[0])
    fitted = mean_difference(train, y)
    if fitted is not None:
        direction, threshold = fitted
        return np.where(test @ direction > threshold, classes[1], classes[0])
    means = np.stack([train[y == c].mean(axis=0) for c in classes])
    distances = ((test[:, None, :] - means[None, :, :]) ** 2).sum(axis=2)
    return classes[distances.argmin(axis=1)]


def predict_logistic(train: np.ndarray, y: np.ndarray, test: np.ndarray) -> np.ndarray:
    """Logistic-regression predictions on features standardised on train."""
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    classes = np.unique(y)
    if len(classes) == 1:
        return np.full(len(test), classes[0])
    model = make_pipeline(StandardScaler(), LogisticRegression(max_iter=2000))
    return model.fit(train, y).predict(test)


def predict_majority(train: np.ndarray, y: np.ndarray, test: np.ndarray) -> np.ndarray:
    """The train rows' majority class for every test row (the baseline a probe with no signal falls to)."""
    classes, counts = np.unique(y, return_counts=True)
    return np.full(len(test), classes[counts.argmax()])


def run_accuracy(right: np.ndarray, runs: Sequence[str]) -> Interval | None:
    """Mean over runs of each run's share of `right`, bootstrapped over runs."""
    per_run: dict[str, list[bool]] = {}
    for ok, run in zip(right, runs, strict=True):
        per_run.setdefault(run, []).append(bool(ok))
    return bootstrap_mean([sum(v) / len(v) for v in per_run.values()], unit="runs")


def out_of_fold(
    X: np.ndarray,
    y: np.ndarray,
    folds: Sequence[tuple[np.ndarray, np.ndarray]],
    predictor: Predictor,
) -> np.ndarray:
    """Each row's prediction by `predictor` fitted on the folds it is not in."""
    predicted = np.empty(len(y), dtype=y.dtype)
    for train, test in folds:
        predicted[test] = predictor(X[train], y[train], X[test])
    return predicted


def targeted(dataset: LatentDataset, target: str) -> tuple[np.ndarray, np.ndarray, list[str], int]:
    """(kept rows, their labels as strings, their runs, rows dropped for a None label).

    Raises:
        LatentError: an unknown target, or fewer than two classes among the kept rows.
    """
    if target not in TARGETS:
        raise LatentError(f"unknown target {target!r}; choose one of {', '.join(TARGETS)}")
    values = dataset.column(TARGETS[target])
    keep = np.array([i for i, v in enumerate(values) if v is not None], dtype=int)
    y = np.array([str(values[i]) for i in keep])
    if len(set(y)) < 2:
        raise LatentError(
            f"target {target}: {len(keep)} rows with a label, {len(set(y))} class(es); a probe needs two or more"
        )
    runs = [dataset.labels[i]["run"] for i in keep]
    return keep, y, runs, len(values) - len(keep)


def targets_for(dataset: LatentDataset) -> list[str]:
    """The targets worth fitting on `dataset`: every one, less the fact targets when no row is a fact probe's."""
    facts = any(kind == "fact" for kind in dataset.column("kind"))
    return [target for target in TARGETS if facts or target not in FACT_TARGETS]


def chosen_layers(dataset: LatentDataset, layers: Sequence[int] | None) -> list[int]:
    """The layers asked for (all by default), each checked against the dataset."""
    chosen = list(dataset.layers) if not layers else list(layers)
    for layer in chosen:
        dataset.layer_index(layer)
    return chosen


def behaviour(dataset: LatentDataset, rows: np.ndarray) -> Behaviour:
    """The model's answers against the tracker on `rows`: all, direct, indirect (bootstrapped over runs)."""
    cells: dict[str, Accuracy | None] = {}
    for style in ("all", "direct", "indirect"):
        picked = [dataset.labels[i] for i in rows if dataset.labels[i]["correct"] is not None]
        picked = [row for row in picked if style == "all" or row["style"] == style]
        interval = run_accuracy(
            np.array([row["correct"] for row in picked], dtype=bool), [row["run"] for row in picked]
        )
        cells[style] = Accuracy.of(interval, len(picked))
    return Behaviour(cells["all"], cells["direct"], cells["indirect"])


@dataclass(frozen=True)
class Problem:
    """The rows a target labels, their classes and runs, and the split by run."""

    target: str
    layers: list[int]
    keep: np.ndarray
    """The dataset's rows that have a label."""
    y: np.ndarray
    runs: list[str]
    dropped: int
    split: list[tuple[np.ndarray, np.ndarray]]
    seed: int

    def features(self, dataset: LatentDataset, layer: int) -> np.ndarray:
        """The kept rows' vectors at `layer`, as float64."""
        return dataset.X[self.keep, dataset.layer_index(layer)].astype(np.float64)

    def score(self, X: np.ndarray, predictor: Predictor) -> Accuracy | None:
        """`predictor`'s out-of-fold accuracy, bootstrapped over runs."""
        right = out_of_fold(X, self.y, self.split, predictor) == self.y
        return Accuracy.of(run_accuracy(right, self.runs), len(self.y))

    def summary(self) -> TargetSummary:
        """What the result says about its rows: target, classes, n, dropped, runs, split, chance.

        `majority` is the out-of-fold accuracy of the train rows' majority class, where a
        probe that found nothing lands; it can sit below `chance` when a label is constant
        within runs (a fold's train majority is then often the test minority).
        """
        classes, counts = np.unique(self.y, return_counts=True)
        return TargetSummary(
            target=self.target, column=TARGETS[self.target], classes=tuple(classes.tolist()),
            n=len(self.y), dropped=self.dropped, n_runs=len(set(self.runs)),
            split=f"seeded group {len(self.split)}-fold over runs (seed {self.seed}): "
            "each run is tested once, by probes fitted on other runs",
            accuracy="mean over runs of each run's out-of-fold accuracy, 95% bootstrap over runs",
            chance=float(counts.max() / counts.sum()), chance_method="share of the majority class among the test rows",
            majority=self.score(np.zeros((len(self.y), 1)), predict_majority),
        )  # fmt: skip


def problem(
    dataset: LatentDataset, layers: Sequence[int] | None, target: str, seed: int, folds: int = FOLDS
) -> Problem:
    """The rows `target` labels at `layers`, split by run with `seed`.

    Raises:
        LatentError: an unknown target or layer, one class, or fewer than two runs.
    """
    chosen = chosen_layers(dataset, layers)
    keep, y, runs, dropped = targeted(dataset, target)
    return Problem(target, chosen, keep, y, runs, dropped, run_folds(runs, folds, seed), seed)


def fit(
    dataset: LatentDataset, layers: Sequence[int] | None = None, target: str = "container", seed: int = 0,
    folds: int = FOLDS,
) -> FitResult:  # fmt: skip
    """Fit the three probes at each layer (CCS where it applies) and score them out of fold.

    Args:
        dataset: the rows.
        layers: the blocks to probe (default: every captured one).
        target: `container` (the tracker's believed container), `false_belief`,
            `named_last` (the control label: which container the question named last), `fact`
            (the tracker's answer to a fact probe: yes, no, don't know) or `has_belief` (whether
            the asked character holds a belief at all).
        seed: the split's seed.
        folds: k of the group k-fold.

    Returns:
        `Problem.summary`, per-layer accuracies with intervals (`ccs` None where CCS does
        not apply), the behavioural accuracy, `ccs` (what its rows are, or why it was
        skipped), seconds; `to_json()` is what `simstage latent fit --json` prints.

    Raises:
        LatentError: an unknown target or layer, one class, or fewer than two runs.
    """
    started = time.perf_counter()
    rows = problem(dataset, layers, target, seed, folds)
    paired = paired_problem(dataset, target, seed, folds)
    per_layer = []
    for layer in rows.layers:
        X = rows.features(dataset, layer)
        per_layer.append(
            LayerFit(
                layer=layer,
                mean_diff=rows.score(X, predict_mean_difference),
                logistic=rows.score(X, predict_logistic),
                ccs=paired.score(dataset, layer) if isinstance(paired, Paired) else None,
            )
        )
    return FitResult(
        summary=rows.summary(), layers=tuple(per_layer), behaviour=behaviour(dataset, rows.keep),
        ccs=paired.summary() if isinstance(paired, Paired) else paired,
        seconds=round(time.perf_counter() - started, 3),
    )  # fmt: skip


@dataclass(frozen=True)
class Paired:
    """The rows CCS is scored on: each has a contrast pair and a label that is one of its two containers."""

    keep: np.ndarray
    truth: np.ndarray
    """Whether the pair's first container is the label."""
    runs: list[str]
    split: list[tuple[np.ndarray, np.ndarray]]
    seed: int

    def score(self, dataset: LatentDataset, layer: int) -> Accuracy | None:
        """CCS's out-of-fold accuracy at `layer`, bootstrapped over runs."""
        from simstage.analysis.ccs import fit_ccs

        assert dataset.pairs is not None
        pairs = dataset.pairs[self.keep, :, dataset.layer_index(layer)].astype(np.float64)
        predicted = np.empty(len(self.truth), dtype=bool)
        for f, (train, test) in enumerate(self.split):
            probe = fit_ccs(
                pairs[train, 0], pairs[train, 1], self.truth[train], seed=self.seed * 1000 + f
            )
            predicted[test] = probe.predict(pairs[test, 0], pairs[test, 1])
        return Accuracy.of(run_accuracy(predicted == self.truth, self.runs), len(self.truth))

    def summary(self) -> CcsRows:
        """What CCS was scored on: rows, runs, the first container's share and CCS's chance."""
        first = float(self.truth.mean())
        return CcsRows(
            rows=len(self.truth), n_runs=len(set(self.runs)), first_true=first, chance=max(first, 1.0 - first),
            method="contrast-consistent search on each probe's answer completed with either container "
            "of its pair; unsupervised, its sign set on the train rows; split by run as above",
        )  # fmt: skip


def paired_problem(
    dataset: LatentDataset, target: str, seed: int, folds: int = FOLDS
) -> Paired | Skipped:
    """The rows CCS can be scored on for `target`, or why there are none."""
    if target not in CCS_TARGETS:
        return Skipped(
            f"target {target} is not a choice between the pair's two containers (CCS applies to {', '.join(CCS_TARGETS)})"
        )
    if dataset.pairs is None:
        return Skipped("no contrast pairs in this dataset (capture with latent.contrast: true)")
    column = TARGETS[target]
    rows: list[tuple[int, bool]] = []
    for i, row in enumerate(dataset.labels):
        pair, label = row.get("contrast"), row[column]
        if isinstance(pair, list) and len(pair) == 2 and label in pair:
            rows.append((i, pair[0] == label))
    runs = [dataset.labels[i]["run"] for i, _ in rows]
    truth = np.array([t for _, t in rows], dtype=bool)
    if len(set(runs)) < 2 or len(set(truth.tolist())) < 2:
        return Skipped(
            f"{len(rows)} rows with a pair and a {target} label in it, over {len(set(runs))} run(s): CCS needs both answers and two runs"
        )
    keep = np.array([i for i, _ in rows], dtype=int)
    return Paired(keep, truth, runs, run_folds(runs, folds, seed), seed)
