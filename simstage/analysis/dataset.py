"""A latent dataset: every captured probe of some runs, joined with what the tracker says about it.

One row per `latent_captured` event. Its vectors (`X[row]`, [layers, dims] float32)
come from the run's sidecar; its labels from the `probe` event just before it and
the tracker's verdict on that probe (`simstage.tom.metrics.probe_verdicts`), folded
here from the log, never stored in it. Runs captured with `latent.contrast` also
give each row its contrast pair (`pairs[row]`, [2, layers, dims]: the answer
completed with each of the containers in its `contrast` label). The dataset saves
as one `.npz`: `X`, `layers`, `pairs` when any row has one, and the labels as JSON.

A probe about a fact gives a row too (`kind` "fact"): its label `fact` is the tracker's
answer (yes, no, don't know) and `has_belief` whether the asked character holds a
belief at all; `believed` is an object's only.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, BinaryIO, Literal, TypedDict, cast

import numpy as np

from simstage.analysis.results import DatasetSummary
from simstage.latent.store import LatentError

DATASET_FORMAT = 1


class ProbeLabels(TypedDict):
    """One row's labels: the captured probe, the tracker's verdict on it, and what the capture named."""

    run: str
    """The run's name: its log's file stem (with the folder where two share one)."""
    seed: int
    turn: int
    ask: str
    about: str
    through: list[str]
    order: int
    """1 + len(through): first-order, second-order, ..."""
    style: Literal["direct", "indirect"]
    kind: Literal["object", "fact"]
    """What the probe asked about: where an object is, or whether a fact holds."""
    believed: str | None
    """The tracker's container (None: the tracker has no answer, or the probe is about a fact)."""
    fact: str | None
    """A fact probe's tracker answer: yes, no, or don't know (no belief); None for an object."""
    has_belief: bool
    """Whether the tracker gives the asked character (along the chain) a belief at all."""
    truth: str
    """Where the object was, or for a fact yes (it holds) or no."""
    false_belief: bool | None
    """The belief differs from the truth (None: no belief)."""
    answer: str
    """The model's choice."""
    correct: bool | None
    """answer == the tracker's answer (None when an object probe has none)."""
    named_last: str | None
    """The container the question named last (with `latent.name_options`)."""
    contrast: list[str] | None
    """The two containers of the row's contrast pair (with `latent.contrast`)."""


COLUMNS = tuple(ProbeLabels.__annotations__)
"""The label columns, in the order docs/latent.md describes them."""


@dataclass
class LatentDataset:
    """Captured residual streams and their labels.

    Attributes:
        X: float32 [rows, len(layers), dims].
        layers: the blocks each row holds, in `X`'s order.
        labels: one `ProbeLabels` per row (the keys of `COLUMNS`).
        sources: the run logs the rows came from.
        pairs: float32 [rows, 2, len(layers), dims], NaN where a row has no contrast pair;
            None when none has.
    """

    X: np.ndarray
    layers: tuple[int, ...]
    labels: list[ProbeLabels]
    sources: list[str] = field(default_factory=list)
    pairs: np.ndarray | None = None

    def __len__(self) -> int:
        return len(self.labels)

    def summary(self) -> DatasetSummary:
        """How many probes and runs, which blocks, how wide."""
        return DatasetSummary(
            len(self), len(set(self.column("run"))), self.layers, int(self.X.shape[2])
        )

    def column(self, name: str) -> list[Any]:
        """One label for every row (`name` one of `COLUMNS`)."""
        return [cast("Mapping[str, Any]", row)[name] for row in self.labels]

    def layer_index(self, layer: int) -> int:
        """Where block `layer` lies in `X`'s second axis.

        Raises:
            LatentError: the dataset holds no such layer.
        """
        if layer not in self.layers:
            raise LatentError(
                f"layer {layer} was not captured (the dataset holds {_ranges(self.layers)})"
            )
        return self.layers.index(layer)

    def save(self, path: str | Path) -> None:
        """Write one `.npz` (no pickles) at `path`, atomically: `path` is either untouched or complete.

        Raises:
            OSError: the folder is missing or not writable, the disk is full, or
                `path` is a folder, a device or a FIFO (`write` writes to an open one).
        """
        from simstage.report.files import atomic_write_binary

        atomic_write_binary(path, self.write)

    def write(self, handle: BinaryIO) -> None:
        """Write the dataset as one `.npz` (no pickles) to an open binary file."""
        meta = {"format": DATASET_FORMAT, "labels": self.labels, "sources": self.sources}
        arrays: dict[str, Any] = {
            "X": self.X,
            "layers": np.asarray(self.layers, dtype=np.int64),
            "meta": np.asarray(json.dumps(meta)),
        }
        if self.pairs is not None:
            arrays["pairs"] = self.pairs
        np.savez_compressed(handle, **arrays)


def load_dataset(path: str | Path) -> LatentDataset:
    """Read a dataset written by `LatentDataset.save`.

    Raises:
        LatentError: the file is missing or not a simstage latent dataset.
    """
    try:
        with np.load(path, allow_pickle=False) as data:
            X, layers, meta = data["X"], data["layers"], json.loads(str(data["meta"]))
            pairs = data["pairs"] if "pairs" in data.files else None
    except FileNotFoundError:
        raise LatentError(f"{path}: no such file") from None
    except (OSError, ValueError, KeyError) as exc:
        raise LatentError(
            f"{path}: not a simstage latent dataset ({type(exc).__name__}: {exc})"
        ) from None
    if not isinstance(meta, dict) or meta.get("format") != DATASET_FORMAT:
        raise LatentError(f"{path}: unsupported latent dataset format")
    labels = [_upgraded(row) for row in meta["labels"]]
    if X.ndim != 3 or X.shape[0] != len(labels) or X.shape[1] != len(layers):
        raise LatentError(
            f"{path}: X of shape {X.shape} does not fit {len(labels)} rows of {len(layers)} layers"
        )
    if pairs is not None and pairs.shape != (X.shape[0], 2, *X.shape[1:]):
        raise LatentError(f"{path}: pairs of shape {pairs.shape} do not fit X of shape {X.shape}")
    return LatentDataset(
        X.astype(np.float32, copy=False),
        tuple(int(x) for x in layers),
        labels,
        list(meta.get("sources", [])),
        None if pairs is None else pairs.astype(np.float32, copy=False),
    )


def _upgraded(row: dict[str, Any]) -> ProbeLabels:
    """A row saved before fact probes: about an object, with a belief wherever it has a container."""
    row.setdefault("kind", "object")
    row.setdefault("fact", None)
    row.setdefault("has_belief", row.get("believed") is not None)
    return cast("ProbeLabels", row)


def refuse_log_name(path: str | Path) -> None:
    """Refuse a dataset named as a run log (`*.jsonl`): every command that reads a folder would take
    it for a broken log.

    Raises:
        LatentError: `path` ends in `.jsonl`.
    """
    if str(path).lower().endswith(".jsonl"):
        raise LatentError(
            f"{path}: .jsonl names a run log, and a dataset is an .npz; choose a name ending in .npz"
        )


def run_logs(paths: Iterable[str | Path]) -> list[Path]:
    """The run logs named: files as given, and every `*.jsonl` inside a folder (a sweep's).

    Raises:
        LatentError: a path does not exist, or a folder holds no run log.
    """
    logs: list[Path] = []
    for raw in paths:
        path = Path(raw)
        if path.is_dir():
            found = sorted(path.rglob("*.jsonl"))
            if not found:
                raise LatentError(f"{path}: the folder holds no run log (*.jsonl)")
            logs.extend(found)
        elif path.is_file():
            logs.append(path)
        else:
            raise LatentError(f"{path}: no such file or folder")
    if not logs:
        raise LatentError("no run logs given")
    return list(dict.fromkeys(logs))


def build_dataset(paths: Sequence[str | Path]) -> LatentDataset:
    """Every captured probe of the runs named (logs, or sweep folders), with its labels.

    Raises:
        LatentError: a missing path, a log that is not one or holds no capture, a sidecar
            record that is missing, cut short or differs from its sha256, or runs
            captured with different layers or widths.
    """
    labels: list[ProbeLabels] = []
    vectors: list[np.ndarray] = []
    pairs: list[np.ndarray | None] = []
    shape: tuple[tuple[int, ...], int, Path] | None = None
    logs = run_logs(paths)
    names = _run_names(logs)
    for log_path, name in zip(logs, names, strict=True):
        for event, row in _captures(log_path, name):
            if shape is None:
                shape = (tuple(event.layers), event.dims, log_path)
            elif (tuple(event.layers), event.dims) != shape[:2]:
                raise LatentError(
                    f"{log_path}: turn {event.turn} captured layers {_ranges(event.layers)} × {event.dims}, "
                    f"but {shape[2]} captured {_ranges(shape[0])} × {shape[1]}; build one dataset per setting"
                )
            record = _record(log_path, event)
            if not np.isfinite(record).all():
                raise LatentError(
                    f"{log_path}: the record of turn {event.turn} ({event.ask} about {event.about}) holds NaN or inf"
                )
            vectors.append(record[0] if event.contrast else record)
            pairs.append(record[1:] if len(event.contrast) == 2 else None)
            labels.append(row)
    assert shape is not None  # every log yields at least one capture, or _captures raises
    X = np.stack(vectors)
    stacked = None
    if any(pair is not None for pair in pairs):
        missing = np.full((2, *X.shape[1:]), np.nan, dtype=np.float32)
        stacked = np.stack([missing if pair is None else pair for pair in pairs])
    return LatentDataset(X, shape[0], labels, [str(p) for p in logs], stacked)


def _record(log_path: Path, event: Any) -> np.ndarray:
    from simstage.latent.store import read_record

    try:
        return read_record(log_path, event)
    except LatentError as exc:
        raise LatentError(
            f"{exc} (named by {log_path}, turn {event.turn}, {event.ask} about {event.about})"
        ) from None


def _captures(log_path: Path, name: str) -> list[tuple[Any, ProbeLabels]]:
    """(event, labels) for each capture of one run, each joined with the probe just before it."""
    from simstage.events import LatentCaptured, ProbeAnswered
    from simstage.run.log import RunLogError, logged_scenario, read_runlog
    from simstage.scenario import ScenarioError
    from simstage.tom.metrics import probe_verdicts

    try:
        log = read_runlog(log_path)
        scenario = logged_scenario(log.header).scenario
    except RunLogError as exc:
        raise LatentError(str(exc)) from None
    except ScenarioError as exc:
        raise LatentError(f"{log_path}: the header's scenario does not load ({exc})") from None
    verdicts = iter(probe_verdicts(scenario, log.events))
    rows: list[tuple[Any, ProbeLabels]] = []
    # Probes of this turn not yet matched: a capture follows its probe, perhaps after the
    # turn's other probes when the stage asks them in one batch.
    pending: list[tuple[ProbeAnswered, str | None]] = []
    for event in log.events:
        if pending and event.turn != pending[0][0].turn:
            pending = []
        if isinstance(event, ProbeAnswered):
            pending.append((event, next(verdicts).tracker))
        elif isinstance(event, LatentCaptured):
            match = next(
                (i for i, (probe, _) in enumerate(pending) if _key(probe) == _key(event)), None
            )
            if match is None:
                raise LatentError(
                    f"{log_path}: a latent_captured event (turn {event.turn}, {event.ask} about {event.about}) "
                    "follows no probe it belongs to"
                )
            probe, believed = pending.pop(match)
            rows.append((event, _labels(name, log.header.seed, probe, believed, event)))
    if not rows:
        raise LatentError(
            f"{log_path}: the run captured no activations (play it with --latent, on the llama stage)"
        )
    return rows


def _key(event: Any) -> tuple[Any, ...]:
    return (event.turn, event.ask, event.about, tuple(event.through), event.style)


def _labels(run: str, seed: int, probe: Any, tracker: str | None, capture: Any) -> ProbeLabels:
    from simstage.tom.metrics import FACT_ANSWERS

    fact = probe.kind == "fact"
    believed = None if fact else tracker
    held = tracker is not None and tracker != FACT_ANSWERS[None] if fact else tracker is not None
    return {
        "run": run, "seed": seed, "turn": probe.turn, "ask": probe.ask, "about": probe.about,
        "through": list(probe.through), "order": len(probe.through) + 1, "style": probe.style,
        "kind": probe.kind, "believed": believed, "fact": tracker if fact else None, "has_belief": held,
        "truth": probe.truth, "false_belief": tracker != probe.truth if held else None,
        "answer": probe.answer, "correct": None if tracker is None else probe.answer == tracker,
        "named_last": capture.named_last,
        "contrast": list(capture.contrast) if len(capture.contrast) == 2 else None,
    }  # fmt: skip


def _run_names(logs: Sequence[Path]) -> list[str]:
    """Each log's run name, its file stem; the parent folder too where two logs share a stem."""
    stems = [p.name.removesuffix(".jsonl") for p in logs]
    return [
        f"{p.parent.name}/{s}" if stems.count(s) > 1 else s
        for p, s in zip(logs, stems, strict=True)
    ]


def _ranges(layers: Sequence[int]) -> str:
    return (
        ",".join(str(x) for x in layers)
        if len(layers) <= 8
        else f"{layers[0]}..{layers[-1]} ({len(layers)})"
    )
