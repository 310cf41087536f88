"""The optimizer: best-of-N by reward, the way RLHF-style pressure shapes a line.

Each turn the speaker's N candidate turns are sampled together
(`stage.generate_candidates`, one `llama_batch` per step on the llama stage),
every candidate is scored by the scenario's weighted rewards, and the best
one is played as the speaker's turn. Every candidate with its scores, and the
choice, are events.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from typing import Any

from simstage.events import CandidateChosen, CandidateScored
from simstage.puppeteer.base import default_speaker
from simstage.puppeteer.rewards import RewardContext, parse_candidate, score_candidates
from simstage.scenario.models import PuppeteerConfig, Scenario
from simstage.stage.base import Message, Sampling
from simstage.world.state import WorldState


class Optimizer:
    """Speakers in turn (round robin); each optimised speaker's line is the best of N.

    Args:
        config: the scenario's puppeteer settings (`candidates`, `rewards`, `optimize`).
    """

    kind = "optimizer"

    def __init__(self, config: PuppeteerConfig) -> None:
        self.config = config
        self._simulation: Any = None

    def attach(self, simulation: Any) -> None:
        """Remember the simulation: its stage samples and judges, its log records."""
        self._simulation = simulation

    def next_speaker(
        self, scenario: Scenario, world: WorldState, events: Sequence[object], turn: int
    ) -> str:
        return default_speaker(scenario, turn)

    def compose(
        self, simulation: Any, speaker: str, messages: Sequence[Message], sampling: Sampling
    ) -> str | None:
        """The best of N candidate turns for `speaker` (None: not optimised, the stage generates)."""
        if self.config.optimize is not None and speaker not in self.config.optimize:
            return None
        stage = simulation.stage
        n = self.config.candidates
        seq = simulation.sequence(speaker)
        generate_candidates = getattr(stage, "generate_candidates", None)
        if generate_candidates is not None:
            raws = list(generate_candidates(seq, messages, sampling, n))
        else:  # a stage without batching: one after another, seeds as the batch would use
            raws = [
                "".join(stage.generate(seq, messages, replace(sampling, seed=sampling.seed + i)))
                for i in range(n)
            ]
        candidates = [parse_candidate(raw, simulation.scenario, speaker) for raw in raws]
        context = RewardContext(simulation, speaker)
        scores, totals = score_candidates(context, candidates, self.config.rewards)
        turn = simulation.turn
        for index, (candidate, score, total) in enumerate(zip(candidates, scores, totals)):
            simulation.emit(
                CandidateScored(
                    turn=turn, speaker=speaker, index=index, raw=candidate.raw, scores=score, total=total
                )
            )
        # A turn that does not parse is never preferred over one that does.
        eligible = [i for i, c in enumerate(candidates) if c.parsed] or list(range(len(candidates)))
        best = max(eligible, key=lambda i: (totals[i], -i))
        simulation.emit(
            CandidateChosen(
                turn=turn, speaker=speaker, index=best, total=totals[best],
                mean=sum(totals) / len(totals), scores=scores[best],
            )
        )
        return candidates[best].raw
