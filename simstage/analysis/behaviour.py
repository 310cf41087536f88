"""Ablation in the behavioural sense: re-ask each captured probe with a direction projected out.

Each run log is played again as `replay --verify` plays it (same model, seed and
scenario). At every captured probe the stage answers as logged, then once more
per chosen block with the fitted direction projected out of the probe token's
residual stream there, and once with a random direction of the same norm (the
control). Probes are asked on private forks, so none of this changes the run.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import TypeVar

import numpy as np

from simstage.analysis.ablate import Directions, random_unit
from simstage.analysis.results import BehaviourAblation, Changed, LayerReasked, Reasked
from simstage.stage import Message, Sampling, Stage, StageDescription, StageError
from simstage.stage.abilities import (
    Contrast,
    LatentChoices,
    LatentReader,
    Steering,
    WrappingLatentReader,
)
from simstage.stage.base import ChooseJob

A = TypeVar("A")


class Reasking(WrappingLatentReader):
    """A stage's `LatentReader` that asks each batch again under every steering, and keeps the answers."""

    def __init__(self, reader: LatentReader, variants: dict[str, dict[int, np.ndarray]]):
        super().__init__(reader)
        self.variants = variants
        self.asked: dict[str, list[str]] = {name: [] for name in ["baseline", *variants]}

    def choose_many_latent(
        self, jobs: Sequence[ChooseJob], contrast: Contrast = None, steer: Steering = None
    ) -> LatentChoices:
        answers, vectors = self._inner.choose_many_latent(jobs, contrast, steer)
        self.asked["baseline"].extend(job[2][i] for job, i in zip(jobs, answers, strict=True))
        for name, variant in self.variants.items():
            other, _ = self._inner.choose_many_latent(jobs, steer=variant)
            self.asked[name].extend(job[2][i] for job, i in zip(jobs, other, strict=True))
        return answers, vectors


class AblatingStage:
    """A stage whose latent probes are also re-asked per steering: the stage's own, but for its
    `LatentReader` (a `Reasking`).

    Raises:
        StageError: the stage reads no activations (made without latent capture).
    """

    def __init__(self, stage: Stage, variants: dict[str, dict[int, np.ndarray]]):
        reader = stage.ability(LatentReader)
        if reader is None:
            raise StageError("behavioural ablation needs a stage made with latent capture")
        self._stage = stage
        self.reasking = Reasking(reader, variants)

    @property
    def asked(self) -> dict[str, list[str]]:
        """The answers per variant (`baseline`: unsteered), in the order asked."""
        return self.reasking.asked

    def describe(self) -> StageDescription:
        return self._stage.describe()

    def ability(self, kind: type[A]) -> A | None:
        if kind is LatentReader:
            return self.reasking if isinstance(self.reasking, kind) else None
        return self._stage.ability(kind)

    def open_sequence(self) -> int:
        return self._stage.open_sequence()

    def fork(self, seq: int) -> int:
        return self._stage.fork(seq)

    def drop(self, seq: int) -> None:
        self._stage.drop(seq)

    def generate(self, seq: int, messages: Sequence[Message], sampling: Sampling) -> Iterator[str]:
        return self._stage.generate(seq, messages, sampling)

    def choose(
        self, seq: int, messages: Sequence[Message], options: Sequence[str], prefix: str = ""
    ) -> int:
        return self._stage.choose(seq, messages, options, prefix)

    def score(
        self, seq: int, messages: Sequence[Message], continuation: str, prefix: str = ""
    ) -> float:
        return self._stage.score(seq, messages, continuation, prefix)


def reask(
    log_path: Path, variants: dict[str, dict[int, np.ndarray]], *, threads: int | None = None
) -> Reasked:
    """Play `log_path` again, re-asking its captured probes under each steering: the answers per variant.

    Raises:
        StageError: the run captured no activations, or its stage cannot be made again.
    """
    from simstage.run.log import logged_scenario, read_runlog
    from simstage.run.open import stage_for_log
    from simstage.run.verify import replay_events, reproducible

    log = read_runlog(log_path)
    loaded = logged_scenario(log.header)
    if loaded.scenario.latent is None:
        raise StageError(f"{log_path}: the run captured no activations (run it with --latent)")
    stage = stage_for_log(log, loaded, threads=threads)
    try:
        proxy = AblatingStage(stage, variants)
        original = reproducible(log)
        replay_events(log, loaded, proxy, len(original))
        logged = [e.answer for e in original if e.type == "probe"]
        return Reasked(tuple(logged[: len(proxy.asked["baseline"])]), proxy.asked)
    finally:
        stage.close()


def behaviour_ablation(
    logs: Sequence[Path],
    directions: Directions,
    *,
    seed: int = 0,
    threads: int | None = None,
    progress: Callable[[], None] | None = None,
) -> BehaviourAblation:
    """Per block: how often the answer changes with the direction projected out, and with a random one.

    Args:
        logs: the run logs to play again (captured with --latent).
        directions: per block, the direction to project out (any norm).
        seed: the random control directions' seed.
        threads: CPU threads of the stage.
        progress: called after each log.

    Raises:
        StageError: a run captured no activations, or its stage cannot be made again.
    """
    rng = np.random.default_rng(seed)
    units = {layer: d / np.linalg.norm(d) for layer, d in directions.items()}
    variants: dict[str, dict[int, np.ndarray]] = {}
    for layer, unit in units.items():
        variants[f"direction@{layer}"] = {layer: unit}
        variants[f"random@{layer}"] = {layer: random_unit(len(unit), rng)}
    asked: dict[str, list[str]] = {}
    logged: list[str] = []
    for path in logs:
        run = reask(Path(path), variants, threads=threads)
        logged.extend(run.logged)
        for name, answers in run.asked.items():
            asked.setdefault(name, []).extend(answers)
        if progress is not None:
            progress()
    baseline = asked.get("baseline", [])

    def changed(name: str) -> Changed:
        moved = [(a, b) for a, b in zip(baseline, asked.get(name, []), strict=False) if a != b]
        return Changed(
            round(len(moved) / max(1, len(baseline)), 4),
            dict(Counter(b for _, b in moved).most_common()),
        )

    return BehaviourAblation(
        n_runs=len(logs),
        baseline_matches_log=baseline == logged,
        layers=tuple(
            LayerReasked(
                layer, len(baseline), changed(f"direction@{layer}"), changed(f"random@{layer}")
            )
            for layer in units
        ),
    )
