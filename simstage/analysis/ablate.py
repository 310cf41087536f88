"""Ablation in the information sense: does one mean-difference direction hold all a linear probe finds?

Per layer and per fold of the split by run (`probes.run_folds`): the mean-difference
direction is fitted on the train runs, projected out of every row (rank one,
x − (x·u)u with u its unit vector), and a fresh logistic probe is fitted on the
projected train rows and scored on the projected test rows. Beside it, the same
with a random unit direction (the control; a projection removes a line, so only
the direction matters, not its norm). Accuracies are out of fold, bootstrapped over
runs, as in `probes.fit`.

Caveat, by construction: for a binary target the projection makes the train
rows' class means equal, and the logistic loss's gradient at w = 0 is
proportional to that difference, so the fresh probe's optimum is w = 0 (it
predicts the train majority): `after` falls to the `majority` baseline whatever
the data. It is not evidence for or against the one-direction claim. That is
`held_out`: the direction fitted on one half of the train rows (a seeded split of
rows, not of runs), projected out, and the fresh probe fitted on the other half
and scored on the test runs; well above chance there means other directions
still carry the label. The
behavioural sense (re-asking the probes with the
direction written back into the stage) is `simstage.analysis.behaviour`; `directions`
gives it the directions fitted on all rows.
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence

import numpy as np

from simstage.analysis.dataset import LatentDataset
from simstage.analysis.probes import (
    FOLDS,
    chosen_layers,
    mean_difference,
    predict_logistic,
    problem,
    targeted,
)
from simstage.analysis.results import AblationResult, LayerAblation
from simstage.latent.store import LatentError

Directions = Mapping[int, np.ndarray]
"""Per block, a direction in the residual stream (`directions`: the unit mean difference)."""


def random_unit(dims: int, rng: np.random.Generator) -> np.ndarray:
    """A random unit direction: the control of both senses of ablation."""
    vector = rng.standard_normal(dims)
    return vector / np.linalg.norm(vector)


def project_out(X: np.ndarray, direction: np.ndarray) -> np.ndarray:
    """`X` with the line along `direction` removed from every row."""
    unit = direction / np.linalg.norm(direction)
    return X - np.outer(X @ unit, unit)


def _binary(y: np.ndarray, target: str) -> None:
    if len(np.unique(y)) != 2:
        raise LatentError(
            f"ablation needs a binary target; {target} has {len(np.unique(y))} classes here"
        )


def directions(
    dataset: LatentDataset, layers: Sequence[int] | None = None, target: str = "false_belief"
) -> Directions:
    """Per layer, the unit mean-difference direction fitted on every labelled row (for re-asking).

    Raises:
        LatentError: an unknown target or layer, or a target that is not binary.
    """
    keep, y, _, _ = targeted(dataset, target)
    _binary(y, target)
    result: dict[int, np.ndarray] = {}
    for layer in chosen_layers(dataset, layers):
        fitted = mean_difference(dataset.X[keep, dataset.layer_index(layer)].astype(np.float64), y)
        assert fitted is not None  # two classes, checked above
        result[layer] = fitted[0] / np.linalg.norm(fitted[0])
    return result


def ablate(
    dataset: LatentDataset, layers: Sequence[int] | None = None, target: str = "false_belief", seed: int = 0,
    folds: int = FOLDS,
) -> AblationResult:  # fmt: skip
    """Logistic accuracy per layer before and after projecting out the mean difference, and a random control.

    Args:
        dataset, layers, folds: as in `probes.fit`.
        target: a binary target (`false_belief`, `named_last`, `has_belief`, or `container` or `fact` with
            two classes).
        seed: the split's seed and the random directions'.

    Returns:
        The rows' summary (target, n, dropped, n_runs, split, chance, ...) and per layer
        the accuracy `before`, `after` (direction projected out), `held_out` and `random`
        (control); `to_json()` is what `simstage latent ablate --json` prints.

    Raises:
        LatentError: an unknown target or layer, a target that is not binary, or fewer than two runs.
    """
    started = time.perf_counter()
    rows = problem(dataset, layers, target, seed, folds)
    _binary(rows.y, target)
    rng = np.random.default_rng(seed)
    per_layer = []
    for layer in rows.layers:
        X = rows.features(dataset, layer)
        control_unit = random_unit(X.shape[1], rng)

        def after(train: np.ndarray, labels: np.ndarray, test: np.ndarray) -> np.ndarray:
            fitted = mean_difference(train, labels)
            if fitted is None:  # one class in this fold's train rows: nothing to remove
                return predict_logistic(train, labels, test)
            return predict_logistic(
                project_out(train, fitted[0]), labels, project_out(test, fitted[0])
            )

        def held_out(train: np.ndarray, labels: np.ndarray, test: np.ndarray) -> np.ndarray:
            # The direction from one half of the train rows, the fresh probe from the other half:
            # what the one-direction claim is about (in-sample, `after` is w = 0 by construction).
            order = np.random.default_rng(seed).permutation(len(train))
            half_a, half_b = order[: len(order) // 2], order[len(order) // 2 :]
            fitted = mean_difference(train[half_a], labels[half_a])
            if fitted is None or len(np.unique(labels[half_b])) < 2:
                return predict_logistic(train, labels, test)
            return predict_logistic(
                project_out(train[half_b], fitted[0]), labels[half_b], project_out(test, fitted[0])
            )

        def control(
            train: np.ndarray, labels: np.ndarray, test: np.ndarray, unit: np.ndarray = control_unit
        ) -> np.ndarray:
            return predict_logistic(project_out(train, unit), labels, project_out(test, unit))

        per_layer.append(
            LayerAblation(
                layer=layer,
                before=rows.score(X, predict_logistic),
                after=rows.score(X, after),
                held_out=rows.score(X, held_out),
                random=rows.score(X, control),
            )
        )
    return AblationResult(
        summary=rows.summary(), probe="logistic (standardised), fitted afresh on the projected rows",
        layers=tuple(per_layer), behaviour="simstage.analysis.behaviour (re-asks the probes on the stage; not run here)",
        seconds=round(time.perf_counter() - started, 3),
    )  # fmt: skip
