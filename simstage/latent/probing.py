"""What a run does with latent capture on: which probes to read, the control wording, the event.

The engine asks `plan_for` once; with a plan, its probes go through the stage's
`choose_many_latent`, each record goes to the run's sidecar, and a
`LatentCaptured` event follows the probe's `ProbeAnswered`. A probe about an object
or a fact is captured (a fact's contrast pair is its answers yes and no, and no
options are named: `phrase` and `contrast` are for objects); a who-knows probe,
one question per cast member, never is.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from simstage.cast.probes import naming
from simstage.events import LatentCaptured
from simstage.latent.store import LatentStore
from simstage.scenario.probes import ProbeConfig
from simstage.stage.abilities import LatentReader
from simstage.stage.base import Stage


@dataclass
class LatentPlan:
    """A run's capture: its settings and its sidecar."""

    config: Any
    """The scenario's `LatentConfig`."""
    probes: Sequence[Any]
    """The scenario's `probes:` (to tell which are captured)."""
    store: LatentStore

    def wants(self, probe: ProbeConfig) -> bool:
        """Whether `probe` (an entry of `probes:`, or one asked in the TUI) is captured."""
        if probe.who_knows is not None:
            return False
        if self.config.probes == "all":
            return True
        return any(
            probe is entry and i in self.config.probes for i, entry in enumerate(self.probes)
        )

    def phrase(
        self, question: str, containers: Sequence[str], seed: int, turn: int, index: int
    ) -> tuple[str, tuple[str, str] | None]:
        """The question, with two containers named in a seeded order when `name_options` is on (and that pair)."""
        if not self.config.name_options or len(containers) < 2:
            return question, None
        first, last = random.Random(f"latent:{seed}:{turn}:{index}").sample(list(containers), 2)
        return naming(question, first, last), (first, last)

    def contrast(
        self,
        containers: Sequence[str],
        wanted: Sequence[bool],
        named: Sequence[tuple[str, str] | None],
    ) -> list[list[int]] | None:
        """Per probe, the options completed for its contrast pair, in the world's order (None: no pairs).

        The pair is the two containers the question named, or the world's two; its order
        never follows the naming order, so `named_last` is not the pair's position.
        """
        if not self.config.contrast:
            return None
        return [
            sorted(containers.index(c) for c in (pair or containers[:2])) if want else []
            for want, pair in zip(wanted, named, strict=True)
        ]

    def record(
        self, probe: Any, turn: int, layers: Sequence[int], vectors: np.ndarray,
        named: tuple[str, str] | None, contrast: Sequence[str] = (),
    ) -> LatentCaptured:  # fmt: skip
        """Write one probe's vectors (and its contrast pair's) to the sidecar; the event that names them."""
        offset, digest = self.store.append(vectors)
        return LatentCaptured(
            turn=turn, ask=probe.ask, about=probe.about, through=tuple(probe.through), style=probe.style,
            layers=tuple(layers), dims=int(vectors.shape[-1]), offset=offset, sha256=digest,
            named_last=named[1] if named else None, contrast=tuple(contrast),
        )  # fmt: skip


def plan_for(scenario: Any, stage: Stage, store: LatentStore | None) -> LatentPlan | None:
    """The run's capture plan: None unless the scenario asks for it and the stage can read activations."""
    if scenario.latent is None or store is None or stage.ability(LatentReader) is None:
        return None
    return LatentPlan(scenario.latent, scenario.probes, store)
