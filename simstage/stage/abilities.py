"""A stage's optional abilities: objects a caller asks for by type, `stage.ability(Batching)`.

Each class here is the ability's interface; a stage that has it offers an object of
that type (often itself: it lists the ability among its bases), and `None` where it
has not. Every stage batches in the plain way: `batching(stage)` gives the stage's
own `Batching`, or `OneByOne` over the core protocol.

The owner thread (`owner.py`) wraps each ability with methods, so a call on the
ability runs on the thread that owns the model too.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import replace
from typing import Any

from simstage.stage.base import ChooseJob, Message, Sampling, ScoreJob, Stage, StageCounters


class Batching:
    """Several questions in one call."""

    together: bool = False
    """Whether the work is decoded together (shared batches) rather than one call after another."""

    def choose_many(self, jobs: Sequence[ChooseJob]) -> list[int]:
        """`choose` for several (seq, messages, options, prefix) jobs."""
        raise NotImplementedError

    def score_many(self, seq: int, jobs: Sequence[ScoreJob]) -> list[list[float]]:
        """`score` of each continuation of each job, on forks of `seq` (left unchanged)."""
        raise NotImplementedError

    def generate_candidates(
        self, seq: int, messages: Sequence[Message], sampling: Sampling, n: int
    ) -> list[str]:
        """`n` independent replies to the same prompt; candidate i samples with seed + i."""
        raise NotImplementedError


class OneByOne(Batching):
    """Batching as plain loops over a stage's core methods: what a stage without its own gets."""

    def __init__(self, stage: Stage):
        self._stage = stage

    def choose_many(self, jobs: Sequence[ChooseJob]) -> list[int]:
        return [
            self._stage.choose(seq, messages, options, prefix)
            for seq, messages, options, prefix in jobs
        ]

    def score_many(self, seq: int, jobs: Sequence[ScoreJob]) -> list[list[float]]:
        stage = self._stage
        return [
            [stage.score(seq, messages, text) for text in continuations]
            for messages, continuations in jobs
        ]

    def generate_candidates(
        self, seq: int, messages: Sequence[Message], sampling: Sampling, n: int
    ) -> list[str]:
        """One `generate` after another, seeded as a batch would be."""
        stage = self._stage
        return [
            "".join(stage.generate(seq, messages, replace(sampling, seed=sampling.seed + i)))
            for i in range(n)
        ]


Contrast = Sequence[Sequence[int]] | None
"""Per job, the option indices whose completed answers are read too (None: no answer's)."""
Steering = Mapping[int, Any] | None
"""Block → unit direction: the probe tokens' residual stream loses its component along it at that
block (None: unsteered)."""
LatentChoices = tuple[list[int], list[Any]]
"""Each job's chosen option, and the residual stream read for it."""


class LatentReader:
    """Reading the residual stream while probes are asked, and steering it (the llama stage made with
    `latent_layers`; `simstage/stage/capture.py`)."""

    @property
    def layers(self) -> tuple[int, ...]:
        """The blocks read."""
        raise NotImplementedError

    def choose_many_latent(
        self, jobs: Sequence[ChooseJob], contrast: Contrast = None, steer: Steering = None
    ) -> LatentChoices:
        """`choose_many`, and per job the residual stream [layers, width] at the last token before
        the answer; with `contrast` (per job, option indices), [1 + k, layers, width]: also the last
        token of the answer completed with each. With `steer` (block → unit direction), the probe
        tokens' residual stream loses its component along it at that block (for this call only)."""
        raise NotImplementedError


class WrappingLatentReader(LatentReader):
    """A `LatentReader` over another (`inner`), reading the same blocks: the owner thread's, or
    one that asks again under other steerings."""

    def __init__(self, inner: LatentReader):
        self._inner = inner

    @property
    def layers(self) -> tuple[int, ...]:
        return self._inner.layers


class TokenCounter:
    """Counting tokens: what a prompt takes, what a sequence holds."""

    def count_tokens(self, messages: Sequence[Message]) -> int | None:
        """Tokens the prompt for `messages` takes (None: the stage cannot tell)."""
        raise NotImplementedError

    def kv_length(self, seq: int) -> int | None:
        """Tokens sequence `seq` holds (None: the stage keeps no state)."""
        raise NotImplementedError


class PromptRenderer:
    """The prompt as the model's own template renders it: text and tokens (`simstage prompt`)."""

    def prompt_text(self, messages: Sequence[Message], prefix: str = "") -> str:
        """The text of the prompt for the assistant's next reply."""
        raise NotImplementedError

    def prompt_tokens(self, messages: Sequence[Message], prefix: str = "") -> list[int]:
        """The tokens of that prompt (only the template's own markers are special)."""
        raise NotImplementedError


class Restart:
    """Starting over: the stage as it was just loaded, only the model kept.

    A battery plays many runs on one loaded model (`simstage/battery/player.py`); restarted
    between them, each run answers as it would on a fresh stage, so its log `replay --verify`s.
    """

    def restart(self) -> None:
        """Drop every sequence, forget every call and zero the counters."""
        raise NotImplementedError


class Meter:
    """What the stage has done (`StageCounters`): benchmarks, sweeps and the status bar read it."""

    counters: StageCounters


def batching(stage: Stage) -> Batching:
    """The stage's own `Batching`, or `OneByOne` over its core methods."""
    return stage.ability(Batching) or OneByOne(stage)


def counters(stage: Stage) -> StageCounters:
    """The stage's counters (zeros, kept nowhere, for a stage that counts nothing)."""
    meter = stage.ability(Meter)
    return meter.counters if meter is not None else StageCounters()
