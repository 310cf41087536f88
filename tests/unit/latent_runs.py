"""Synthetic captured runs for the latent tests: real scenes, real events, planted vectors.

Each run plays a variant of sally-anne on the scripted stage (the marble starts in
the basket or the box; Anne moves it or not), so the believed container and whether
the belief is false vary across runs. After each probe a `LatentCaptured` event
is written with Gaussian vectors from `LatentStore`; a planted label adds
±`strength` along one fixed unit direction at one layer.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from simstage.engine import Simulation
from simstage.events import LatentCaptured, ProbeAnswered
from simstage.latent.store import LatentStore
from simstage.run.log import RunLogWriter
from simstage.run.open import make_header
from simstage.scenario import parse_scenario
from simstage.stage.scripted import ScriptedStage
from simstage.tom.metrics import probe_verdicts
from tests.conftest import SCENARIOS

LAYERS = (1, 3, 5)
DIMS = 16


@dataclass(frozen=True)
class Plant:
    """Plant `column == positive` as +strength (else -strength) along one direction at `layer`."""

    column: str
    positive: object
    layer: int = 3
    strength: float = 3.0


def variant(seed: int) -> str:
    """Sally-anne with the marble's start and Anne's move drawn from `seed`."""
    rng = random.Random(seed)
    start, other = rng.sample(["basket", "box"], 2)
    text = (SCENARIOS / "sally-anne.yaml").read_text(encoding="utf-8")
    text = text.replace("seed: 7", f"seed: {seed}").replace(
        "marble: {in: basket}", f"marble: {{in: {start}}}"
    )
    move = "  - {at: 3, event: {type: move, who: Anne, object: marble, to: box}}\n"
    return text.replace(move, move.replace("to: box", f"to: {other}") if rng.random() < 0.5 else "")


def direction(dims: int = DIMS) -> np.ndarray:
    """The planted unit direction."""
    vector = np.random.default_rng(12345).standard_normal(dims)
    return vector / np.linalg.norm(vector)


def play_scripted(loaded: Any, seed: int) -> tuple[random.Random, ScriptedStage, list]:
    """Play a variant on a scripted stage that answers probes at random (seeded); its events.

    Returns the random source too: the caller draws its labels from it after the run.
    """
    rng = random.Random(seed * 7919)
    stage = ScriptedStage(chooser=lambda messages, options: rng.randrange(len(options)))
    events: list = []
    Simulation(loaded.scenario, stage, sink=events.append).run()
    return rng, stage, events


def write_run(
    path: Path,
    seed: int,
    plant: Plant | None = None,
    dims: int = DIMS,
    contrast: Plant | None = None,
) -> Path:
    """Play one variant, then log it with a capture after each probe; the log's path.

    With `contrast`, each capture also holds a contrast pair (basket, box): the completion
    whose container is `labels[contrast.column]` gets +strength along the planted direction
    at its layer, the other -strength, and every first completion a constant offset.
    """
    loaded = parse_scenario(variant(seed), f"synthetic-{seed}.yaml")
    rng, stage, events = play_scripted(loaded, seed)
    believed = iter(v.tracker for v in probe_verdicts(loaded.scenario, events))
    header = make_header(loaded, stage, loaded.scenario.seed, loaded.scenario.max_turns)
    noise = np.random.default_rng(seed)
    store = LatentStore(path)
    with RunLogWriter(path, header, overwrite=True) as writer:
        for event in events:
            writer.append(event)
            if not isinstance(event, ProbeAnswered):
                continue
            tracker = next(believed)
            named_last = rng.choice(["basket", "box"])
            labels = {
                "named_last": named_last, "believed": tracker,
                "false_belief": None if tracker is None else tracker != event.truth,
            }  # fmt: skip
            vectors = noise.standard_normal((len(LAYERS), dims)).astype(np.float32)
            if plant is not None:
                sign = 1.0 if labels[plant.column] == plant.positive else -1.0
                vectors[LAYERS.index(plant.layer)] += sign * plant.strength * direction(dims)
            pair: tuple[str, ...] = ()
            if contrast is not None:
                pair = ("basket", "box")
                completions = noise.standard_normal((2, len(LAYERS), dims)).astype(np.float32)
                at = LAYERS.index(contrast.layer)
                for side, container in enumerate(pair):
                    sign = 1.0 if labels[contrast.column] == container else -1.0
                    completions[side, at] += sign * contrast.strength * direction(dims)
                completions[0] += 5.0
                vectors = np.concatenate([vectors[None], completions])
            offset, digest = store.append(vectors)
            writer.append(
                LatentCaptured(
                    turn=event.turn, ask=event.ask, about=event.about, through=event.through, style=event.style,
                    layers=LAYERS, dims=dims, offset=offset, sha256=digest, named_last=named_last, contrast=pair,
                )
            )  # fmt: skip
    return path


def write_sweep(
    folder: Path,
    runs: int = 20,
    plant: Plant | None = None,
    dims: int = DIMS,
    contrast: Plant | None = None,
) -> Path:
    """`runs` captured runs in one folder, as a sweep leaves them."""
    (folder / "rows").mkdir(parents=True, exist_ok=True)
    for seed in range(runs):
        write_run(folder / f"run-{seed:03d}.jsonl", seed, plant, dims, contrast)
    return folder
