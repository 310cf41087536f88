"""The optimizer: best-of-N by reward, the way RLHF-style pressure shapes a line.

Each turn the speaker's N candidate turns are sampled together
(`stage.generate_candidates`, one `llama_batch` per step on the llama stage),
every candidate is scored by the scenario's weighted rewards, and the best
one is played as the speaker's turn. Every candidate with its scores, and the
choice, are events. On a base model (a screenplay) each candidate is its first
line, as a streamed line is cut, and the chosen line then gets its stage
direction as any base-model line does.
"""

from __future__ import annotations

from collections.abc import Sequence

from simstage.cast import screenplay
from simstage.events import CandidateChosen, CandidateScored
from simstage.puppeteer.base import PuppeteerBase, Scene, default_speaker
from simstage.puppeteer.rewards import RewardContext, parse_candidate, score_candidates
from simstage.scenario.models import PuppeteerConfig
from simstage.stage.abilities import batching
from simstage.stage.base import Message, Sampling


class Optimizer(PuppeteerBase):
    """Speakers in turn (round robin); each optimised speaker's line is the best of N.

    Args:
        config: the scenario's puppeteer settings (`candidates`, `rewards`, `optimize`).
    """

    kind = "optimizer"

    def __init__(self, config: PuppeteerConfig) -> None:
        self.config = config

    def next_speaker(self, scene: Scene) -> str:
        return default_speaker(scene.scenario, scene.turn)

    def compose(
        self, scene: Scene, speaker: str, messages: Sequence[Message], sampling: Sampling
    ) -> str | None:
        """The best of N candidate turns for `speaker` (None: not optimised, the stage generates)."""
        if self.config.optimize is not None and speaker not in self.config.optimize:
            return None
        seq = scene.sequence(speaker)
        raws = batching(scene.stage).generate_candidates(
            seq, messages, sampling, self.config.candidates
        )
        on_screenplay = scene.stage.describe().plays_screenplay
        if on_screenplay:
            # A base model's continuations: each one's line, as a streamed line is cut.
            raws = [
                screenplay.screenplay_turn(screenplay.spoken_line(r.strip()), None) for r in raws
            ]
        candidates = [parse_candidate(raw, scene.scenario, speaker) for raw in raws]
        scores, totals = score_candidates(
            RewardContext(scene, speaker), candidates, self.config.rewards
        )
        turn = scene.turn
        for index, (candidate, score, total) in enumerate(
            zip(candidates, scores, totals, strict=False)
        ):
            scene.emit(
                CandidateScored(
                    turn=turn,
                    speaker=speaker,
                    index=index,
                    raw=candidate.raw,
                    scores=score,
                    total=total,
                )
            )
        # A turn that does not parse is never preferred over one that does.
        eligible = [i for i, c in enumerate(candidates) if c.parsed] or list(range(len(candidates)))
        best = max(eligible, key=lambda i: (totals[i], -i))
        scene.emit(
            CandidateChosen(
                turn=turn,
                speaker=speaker,
                index=best,
                total=totals[best],
                mean=sum(totals) / len(totals),
                scores=scores[best],
            )
        )
        if on_screenplay:  # the chosen line gets its stage direction, as any base-model line does
            return screenplay.directed_turn(
                scene.stage,
                seq,
                messages,
                scene.scenario,
                scene.world,
                speaker,
                candidates[best].say,
            )
        return candidates[best].raw
