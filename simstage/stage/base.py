"""The Stage protocol: the one model that plays every character.

Small on purpose (DESIGN.md): `generate` streams a continuation, `choose` picks
one of a few strings, `score` gives a continuation's log-probability, and
sequence handles (`open_sequence`, `fork`, `drop`) let a stage keep one context
per character. Optional abilities are class flags, not methods that raise.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
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


@runtime_checkable
class Stage(Protocol):
    """The model side of simstage, as the engine sees it."""

    backend: str
    """Registry name of the backend: `llama`, `litellm`, `scripted`."""
    SUPPORTS_GRAMMAR: bool
    """Whether `Sampling.json_schema` is enforced during generation."""
    SUPPORTS_SEQUENCES: bool
    """Whether sequences keep state between calls (so forks are cheap)."""
    plays_screenplay: bool
    """Whether the model is a base model that continues a screenplay (`Name: line`)
    rather than a chat; the cast then writes screenplay prompts (`cast/screenplay.py`)."""
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

    def close(self) -> None:
        """Release the model."""
        ...


ChooseJob = tuple[int, Sequence[Message], Sequence[str], str]
"""(sequence, messages, options, answer prefix): one multiple-choice question to a stage."""


def choose_all(stage: Stage, jobs: Sequence[ChooseJob]) -> list[int]:
    """The chosen option's index for each job: in shared batches where the stage has
    `choose_many`, one `choose` after another where it has only the protocol."""
    choose_many = getattr(stage, "choose_many", None)
    if choose_many is not None:
        return list(choose_many(jobs))
    return [stage.choose(seq, messages, options, prefix=prefix) for seq, messages, options, prefix in jobs]


class StageError(Exception):
    """A stage that cannot start or answer: a missing model file, an unreachable server."""
