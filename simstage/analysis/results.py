"""What the analysis floor returns: typed results of probes, CCS, ablation and re-asking.

Each result is a frozen dataclass read by attribute; `to_json()` gives the JSON
that `simstage latent fit --json` and `ablate --json` print: a `Record`'s fields,
in order, each as its own JSON (a nested result's, an interval's dict, a tuple as a
list). The report and the CLI render these; they compute nothing themselves.
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields
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


def _value(value: Any) -> Any:
    """A field's JSON: an interval's dict, a nested result's own JSON, a tuple as a list."""
    if isinstance(value, Interval):
        return value.as_dict()
    if isinstance(value, Record):
        return value.to_json()
    if isinstance(value, tuple | list):
        return [_value(item) for item in value]
    if isinstance(value, dict):
        return {key: _value(item) for key, item in value.items()}
    return value


@dataclass(frozen=True)
class Record:
    """A result whose JSON is its fields, in field order, each as `_value` writes it."""

    def to_json(self) -> Json:
        """JSON-ready, the keys in field order."""
        return _fields(self)


def _fields(record: Record, *leave_out: str) -> Json:
    """`record`'s fields as JSON, in order, but those named in `leave_out`."""
    return {
        entry.name: _value(getattr(record, entry.name))
        for entry in fields(record)
        if entry.name not in leave_out
    }


@dataclass(frozen=True)
class Skipped(Record):
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
class TargetSummary(Record):
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


@dataclass(frozen=True)
class Behaviour(Record):
    """The model's answers against the tracker's belief on the probed rows, by question style."""

    all: Accuracy | None
    direct: Accuracy | None
    indirect: Accuracy | None

    def by_style(self) -> tuple[tuple[Style, Accuracy | None], ...]:
        """(style, accuracy) for all, direct and indirect questions."""
        return (("all", self.all), ("direct", self.direct), ("indirect", self.indirect))


@dataclass(frozen=True)
class LayerFit(Record):
    """The three probes' out-of-fold accuracy at one block (None: not scored there)."""

    layer: int
    mean_diff: Accuracy | None
    logistic: Accuracy | None
    ccs: Accuracy | None
    """None where CCS does not apply (see `FitResult.ccs`)."""

    def cell(self, kind: str) -> Accuracy | None:
        """The accuracy of probe `kind` (`mean_diff`, `logistic` or `ccs`)."""
        return {"mean_diff": self.mean_diff, "logistic": self.logistic, "ccs": self.ccs}[kind]


@dataclass(frozen=True)
class CcsRows(Record):
    """The rows CCS was scored on: each with a contrast pair and a label that is one of its containers."""

    rows: int
    n_runs: int
    first_true: float
    """Share of rows whose label is the pair's first container."""
    chance: float
    """CCS's own chance: the larger of `first_true` and its complement."""
    method: str


@dataclass(frozen=True)
class FitResult(Record):
    """`probes.fit`: per-layer accuracies of the three probes, with what they were scored on."""

    summary: TargetSummary
    layers: tuple[LayerFit, ...]
    behaviour: Behaviour
    ccs: CcsRows | Skipped
    """The rows CCS was scored on, or why it was not fitted."""
    seconds: float

    def to_json(self) -> Json:
        """The JSON of `simstage latent fit --json`: the summary's keys, then layers, behaviour, ccs, seconds."""
        return {**self.summary.to_json(), **_fields(self, "summary")}


@dataclass(frozen=True)
class Changed(Record):
    """How often re-asking changed the answer under one steering, and to what."""

    changed: float
    """Share of re-asked probes whose answer differs from the unsteered one."""
    toward: dict[str, int]
    """The new answers and their counts, most common first."""


@dataclass(frozen=True)
class LayerReasked(Record):
    """Re-asking with one block's direction projected out, against a random direction there."""

    layer: int
    n: int
    """Probes re-asked."""
    direction: Changed
    random: Changed


@dataclass(frozen=True)
class Reasked:
    """One run's probes asked again: the answers as logged, and under each steering."""

    logged: tuple[str, ...]
    """The answers in the log, as many as were re-asked."""
    asked: dict[str, list[str]]
    """Per steering (`baseline`: none; `direction@L`, `random@L`), the answers in probe order."""


@dataclass(frozen=True)
class BehaviourAblation(Record):
    """`behaviour.behaviour_ablation`: per block, how often directions steer the answers."""

    n_runs: int
    baseline_matches_log: bool
    """Whether the unsteered re-asking gave the logged answers (the replay is faithful)."""
    layers: tuple[LayerReasked, ...]


@dataclass(frozen=True)
class LayerAblation(Record):
    """Logistic accuracy at one block before and after a direction is projected out."""

    layer: int
    before: Accuracy | None
    after: Accuracy | None
    """The mean-difference direction fitted on the train rows projected out (the majority, by construction)."""
    held_out: Accuracy | None
    """The direction fitted on half the train rows, the probe on the other half."""
    random: Accuracy | None
    """A random direction projected out (the control)."""


@dataclass(frozen=True)
class AblationResult(Record):
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
        result = {**self.summary.to_json(), **_fields(self, "summary")}
        if self.reasked is None:
            del result["reasked"]
        return result
