"""What the analysis floor returns: typed results of probes, CCS, ablation and re-asking.

Each result is a frozen dataclass read by attribute; `to_json()` gives the JSON
that `simstage latent fit --json` and `ablate --json` print (the same keys, in
the same order, as the fields). The report and the CLI render these; they
compute nothing themselves.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

from simstage.stats import Interval

Json = dict[str, Any]
"""A JSON object, as `json.dump` writes it."""
Style = Literal["all", "direct", "indirect"]


@dataclass(frozen=True)
class Accuracy(Interval):
    """An out-of-fold accuracy: the mean over runs with its bootstrap interval, and the rows scored."""

    rows: int
    """Rows (captured probes) behind the estimate; `n` counts their runs."""

    @classmethod
    def of(cls, interval: Interval | None, rows: int) -> Accuracy | None:
        """`interval` with its row count (None stays None: nothing was scored)."""
        if interval is None:
            return None
        return cls(
            interval.estimate, interval.low, interval.high, interval.n, interval.method, rows
        )

    def as_dict(self) -> Json:
        """JSON-ready: estimate, low, high, n, method, rows."""
        return {**super().as_dict(), "rows": self.rows}


def _json(cell: Accuracy | None) -> Json | None:
    return None if cell is None else cell.as_dict()


@dataclass(frozen=True)
class Skipped:
    """Why something was not computed (CCS on a target it does not apply to, a target with one class)."""

    reason: str

    def to_json(self) -> Json:
        """`{"skipped": reason}`."""
        return {"skipped": self.reason}


@dataclass(frozen=True)
class DatasetSummary:
    """How much a latent dataset holds."""

    probes: int
    """Rows: captured probes."""
    runs: int
    """Distinct runs the rows came from."""
    layers: tuple[int, ...]
    """The captured blocks, in order."""
    dims: int
    """The residual stream's width."""


@dataclass(frozen=True)
class TargetSummary:
    """What a probe or ablation result says about its rows: the target, its classes, the split and chance."""

    target: str
    column: str
    """The dataset column the target reads."""
    classes: tuple[str, ...]
    n: int
    """Rows with a label."""
    dropped: int
    """Rows left out for want of a label."""
    n_runs: int
    split: str
    """The split by run, in words."""
    accuracy: str
    """How an accuracy is computed, in words."""
    chance: float
    """The majority class's share of the labelled rows."""
    chance_method: str
    majority: Accuracy | None
    """Out-of-fold accuracy of the train rows' majority class: where a probe that found nothing lands."""

    def to_json(self) -> Json:
        """JSON-ready, the keys in field order."""
        return {
            "target": self.target, "column": self.column, "classes": list(self.classes), "n": self.n,
            "dropped": self.dropped, "n_runs": self.n_runs, "split": self.split, "accuracy": self.accuracy,
            "chance": self.chance, "chance_method": self.chance_method, "majority": _json(self.majority),
        }  # fmt: skip


@dataclass(frozen=True)
class Behaviour:
    """The model's answers against the tracker's belief on the probed rows, by question style."""

    all: Accuracy | None
    direct: Accuracy | None
    indirect: Accuracy | None

    def by_style(self) -> tuple[tuple[Style, Accuracy | None], ...]:
        """(style, accuracy) for all, direct and indirect questions."""
        return (("all", self.all), ("direct", self.direct), ("indirect", self.indirect))

    def to_json(self) -> Json:
        """`{style: accuracy or None}`."""
        return {style: _json(cell) for style, cell in self.by_style()}


@dataclass(frozen=True)
class LayerFit:
    """The three probes' out-of-fold accuracy at one block (None: not scored there)."""

    layer: int
    mean_diff: Accuracy | None
    logistic: Accuracy | None
    ccs: Accuracy | None
    """None where CCS does not apply (see `FitResult.ccs`)."""

    def cell(self, kind: str) -> Accuracy | None:
        """The accuracy of probe `kind` (`mean_diff`, `logistic` or `ccs`)."""
        return {"mean_diff": self.mean_diff, "logistic": self.logistic, "ccs": self.ccs}[kind]

    def to_json(self) -> Json:
        """JSON-ready: layer and each probe's accuracy."""
        return {
            "layer": self.layer,
            "mean_diff": _json(self.mean_diff),
            "logistic": _json(self.logistic),
            "ccs": _json(self.ccs),
        }


@dataclass(frozen=True)
class CcsRows:
    """The rows CCS was scored on: each with a contrast pair and a label that is one of its containers."""

    rows: int
    n_runs: int
    first_true: float
    """Share of rows whose label is the pair's first container."""
    chance: float
    """CCS's own chance: the larger of `first_true` and its complement."""
    method: str

    def to_json(self) -> Json:
        """JSON-ready, the keys in field order."""
        return {
            "rows": self.rows,
            "n_runs": self.n_runs,
            "first_true": self.first_true,
            "chance": self.chance,
            "method": self.method,
        }


@dataclass(frozen=True)
class FitResult:
    """`probes.fit`: per-layer accuracies of the three probes, with what they were scored on."""

    summary: TargetSummary
    layers: tuple[LayerFit, ...]
    behaviour: Behaviour
    ccs: CcsRows | Skipped
    """The rows CCS was scored on, or why it was not fitted."""
    seconds: float

    def to_json(self) -> Json:
        """The JSON of `simstage latent fit --json`: the summary's keys, then layers, behaviour, ccs, seconds."""
        return {
            **self.summary.to_json(), "layers": [entry.to_json() for entry in self.layers],
            "behaviour": self.behaviour.to_json(), "ccs": self.ccs.to_json(), "seconds": self.seconds,
        }  # fmt: skip


@dataclass(frozen=True)
class Changed:
    """How often re-asking changed the answer under one steering, and to what."""

    changed: float
    """Share of re-asked probes whose answer differs from the unsteered one."""
    toward: dict[str, int]
    """The new answers and their counts, most common first."""

    def to_json(self) -> Json:
        """JSON-ready: changed, toward."""
        return {"changed": self.changed, "toward": dict(self.toward)}


@dataclass(frozen=True)
class LayerReasked:
    """Re-asking with one block's direction projected out, against a random direction there."""

    layer: int
    n: int
    """Probes re-asked."""
    direction: Changed
    random: Changed

    def to_json(self) -> Json:
        """JSON-ready: layer, n, direction, random."""
        return {
            "layer": self.layer,
            "n": self.n,
            "direction": self.direction.to_json(),
            "random": self.random.to_json(),
        }


@dataclass(frozen=True)
class Reasked:
    """One run's probes asked again: the answers as logged, and under each steering."""

    logged: tuple[str, ...]
    """The answers in the log, as many as were re-asked."""
    asked: dict[str, list[str]]
    """Per steering (`baseline`: none; `direction@L`, `random@L`), the answers in probe order."""


@dataclass(frozen=True)
class BehaviourAblation:
    """`behaviour.behaviour_ablation`: per block, how often directions steer the answers."""

    n_runs: int
    baseline_matches_log: bool
    """Whether the unsteered re-asking gave the logged answers (the replay is faithful)."""
    layers: tuple[LayerReasked, ...]

    def to_json(self) -> Json:
        """JSON-ready: n_runs, baseline_matches_log, layers."""
        return {
            "n_runs": self.n_runs, "baseline_matches_log": self.baseline_matches_log,
            "layers": [row.to_json() for row in self.layers],
        }  # fmt: skip


@dataclass(frozen=True)
class LayerAblation:
    """Logistic accuracy at one block before and after a direction is projected out."""

    layer: int
    before: Accuracy | None
    after: Accuracy | None
    """The mean-difference direction fitted on the train rows projected out (the majority, by construction)."""
    held_out: Accuracy | None
    """The direction fitted on half the train rows, the probe on the other half."""
    random: Accuracy | None
    """A random direction projected out (the control)."""

    def to_json(self) -> Json:
        """JSON-ready: layer, before, after, held_out, random."""
        return {
            "layer": self.layer, "before": _json(self.before), "after": _json(self.after),
            "held_out": _json(self.held_out), "random": _json(self.random),
        }  # fmt: skip


@dataclass(frozen=True)
class AblationResult:
    """`ablate.ablate`, and the behavioural check when it was asked for."""

    summary: TargetSummary
    probe: str
    """The probe fitted afresh, in words."""
    layers: tuple[LayerAblation, ...]
    behaviour: str
    """Where the behavioural sense lives, in words."""
    seconds: float
    reasked: BehaviourAblation | None = field(default=None)
    """The behavioural sense (`--behaviour`), when it was run."""

    def to_json(self) -> Json:
        """The JSON of `simstage latent ablate --json` (`reasked` only when it was run)."""
        result = {
            **self.summary.to_json(), "probe": self.probe, "layers": [entry.to_json() for entry in self.layers],
            "behaviour": self.behaviour, "seconds": self.seconds,
        }  # fmt: skip
        if self.reasked is not None:
            result["reasked"] = self.reasked.to_json()
        return result
