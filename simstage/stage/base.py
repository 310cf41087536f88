"""The Stage protocol: the one model that plays every character.

Small on purpose (DESIGN.md): `generate` streams a continuation, `choose` picks
one of a few strings, `score` gives a continuation's log-probability, and
sequence handles (`open_sequence`, `fork`, `drop`) let a stage keep one context
per character. Optional abilities are class flags, not methods that raise.
"""

from __future__ import annotations

from simstage.errors import SimstageError

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field, replace
from typing import Any, Literal, Protocol, runtime_checkable

Role = Literal["system", "user", "assistant"]


@dataclass(frozen=True)
class Message:
    """One chat message of a prompt."""

    role: Role
    content: str


@dataclass(frozen=True)
class Sampling:
    """How to sample one generation."""

    temperature: float = 0.7
    top_p: float = 0.95
    max_tokens: int = 96
    seed: int = 0
    json_schema: dict[str, Any] | None = None
    """Constrain the output to JSON matching this schema, where the stage can."""


@dataclass
class StageCounters:
    """What a stage has done, for benchmarks and the status bar."""

    prompt_tokens: int = 0
    """Tokens decoded from prompts (what had to be processed, not what was reused)."""
    generated_tokens: int = 0
    decode_calls: int = 0
    batched_calls: int = 0
    """`llama_decode` calls that carried more than one sequence."""
    extra: dict[str, Any] = field(default_factory=dict)


ChooseJob = tuple[int, Sequence[Message], Sequence[str], str]
"""(sequence, messages, options, answer prefix): one multiple-choice question to a stage."""
ScoreJob = tuple[Sequence[Message], Sequence[str]]
"""(messages, continuations): log-probabilities of each continuation as the reply."""


@runtime_checkable
class Stage(Protocol):
    """The model side of simstage, as the engine sees it: every ability it uses is declared.

    The optional abilities have defaults in `StageBase` (loops over the required
    methods); a stage that does better overrides them and says so with a flag.
    """

    backend: str
    """Registry name of the backend: `llama`, `litellm`, `scripted`."""
    SUPPORTS_GRAMMAR: bool
    """Whether `Sampling.json_schema` is enforced during generation."""
    SUPPORTS_SEQUENCES: bool
    """Whether sequences keep state between calls (so forks are cheap)."""
    SUPPORTS_BATCHING: bool
    """Whether `choose_many`, `score_many` and `generate_candidates` decode their work together."""
    SUPPORTS_LATENT: bool
    """Whether `choose_many_latent` can read the residual stream (the llama stage made with
    `latent_layers`)."""
    latent_layers: tuple[int, ...]
    """The blocks `choose_many_latent` reads (empty: none)."""
    SHARES_WINDOW: bool
    """Whether all sequences share one `context_window` (llama.cpp's unified KV cache);
    False: each request gets the whole window (a remote server)."""
    plays_screenplay: bool
    """Whether the model is a base model that continues a screenplay (`Name: line`)
    rather than a chat; the cast then writes screenplay prompts (`cast/screenplay.py`)."""
    context_window: int | None
    """Tokens the stage's context holds (None: unknown; prompts are never trimmed)."""
    REMEMBERS_CALLS: bool
    """Whether an answer depends on the calls answered before it, not only on its own prompt
    and seed (the scripted stage numbers its lines; the llama stage's KV cache, decoded in
    other batches, gives slightly other logits): a resumed run first plays its kept events
    again on such a stage, to bring it to where the run stopped."""
    counters: StageCounters

    def describe(self) -> dict[str, Any]:
        """Backend, model name, model file and digest: what the run log header records."""
        ...

    def open_sequence(self) -> int:
        """A new, empty sequence handle."""
        ...

    def fork(self, seq: int) -> int:
        """A new sequence that starts as a copy of `seq`."""
        ...

    def drop(self, seq: int) -> None:
        """Forget a sequence and free what it holds."""
        ...

    def generate(self, seq: int, messages: Sequence[Message], sampling: Sampling) -> Iterator[str]:
        """Stream the assistant's reply to `messages` on sequence `seq`, chunk by chunk."""
        ...

    def choose(
        self, seq: int, messages: Sequence[Message], options: Sequence[str], prefix: str = ""
    ) -> int:
        """Index of the option the model finds likeliest as the reply (after `prefix`)."""
        ...

    def score(
        self, seq: int, messages: Sequence[Message], continuation: str, prefix: str = ""
    ) -> float:
        """Log-probability of `continuation` as the reply (after `prefix`)."""
        ...

    def choose_many(self, jobs: Sequence[ChooseJob]) -> list[int]:
        """`choose` for several (seq, messages, options, prefix) jobs."""
        ...

    def score_many(self, seq: int, jobs: Sequence[ScoreJob]) -> list[list[float]]:
        """`score` of each continuation of each job, on forks of `seq` (left unchanged)."""
        ...

    def generate_candidates(
        self, seq: int, messages: Sequence[Message], sampling: Sampling, n: int
    ) -> list[str]:
        """`n` independent replies to the same prompt; candidate i samples with seed + i."""
        ...

    def choose_many_latent(
        self, jobs: Sequence[ChooseJob], contrast: Sequence[Sequence[int]] | None = None
    ) -> tuple[list[int], list[Any]]:
        """`choose_many`, and per job the residual stream [layers, width] at the last token
        before the answer; with `contrast` (per job, option indices), [1 + k, layers, width]:
        also the last token of the answer completed with each (`simstage/stage/capture.py`)."""
        ...

    def count_tokens(self, messages: Sequence[Message]) -> int | None:
        """Tokens the prompt for `messages` takes (None: the stage cannot tell)."""
        ...

    def kv_length(self, seq: int) -> int | None:
        """Tokens sequence `seq` holds (None: the stage keeps no state)."""
        ...

    def close(self) -> None:
        """Release the model."""
        ...


class StageBase:
    """Defaults for a stage's optional abilities: plain loops over the required methods."""

    backend = "?"
    SUPPORTS_GRAMMAR = False
    SUPPORTS_SEQUENCES = False
    SUPPORTS_BATCHING = False
    SUPPORTS_LATENT = False
    latent_layers: tuple[int, ...] = ()
    SHARES_WINDOW = True
    plays_screenplay = False
    context_window: int | None = None
    REMEMBERS_CALLS = False

    def choose(
        self, seq: int, messages: Sequence[Message], options: Sequence[str], prefix: str = ""
    ) -> int:
        raise NotImplementedError

    def score(
        self, seq: int, messages: Sequence[Message], continuation: str, prefix: str = ""
    ) -> float:
        raise NotImplementedError

    def generate(self, seq: int, messages: Sequence[Message], sampling: Sampling) -> Iterator[str]:
        raise NotImplementedError

    def choose_many(self, jobs: Sequence[ChooseJob]) -> list[int]:
        """One `choose` after another."""
        return [self.choose(seq, messages, options, prefix) for seq, messages, options, prefix in jobs]

    def score_many(self, seq: int, jobs: Sequence[ScoreJob]) -> list[list[float]]:
        """One `score` after another."""
        return [[self.score(seq, messages, text) for text in continuations] for messages, continuations in jobs]

    def generate_candidates(
        self, seq: int, messages: Sequence[Message], sampling: Sampling, n: int
    ) -> list[str]:
        """One `generate` after another, seeded as a batch would be."""
        return ["".join(self.generate(seq, messages, replace(sampling, seed=sampling.seed + i))) for i in range(n)]

    def choose_many_latent(
        self, jobs: Sequence[ChooseJob], contrast: Sequence[Sequence[int]] | None = None
    ) -> tuple[list[int], list[Any]]:
        raise StageError(f"the {self.backend} stage cannot read activations (latent capture needs the llama stage)")

    def count_tokens(self, messages: Sequence[Message]) -> int | None:
        return None

    def kv_length(self, seq: int) -> int | None:
        return None


class StageError(SimstageError):
    """A stage that cannot start or answer: a missing model file, an unreachable server."""
