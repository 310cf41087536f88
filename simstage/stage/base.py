"""The Stage protocol: the one model that plays every character.

Small on purpose: eight members. Six do the work: `generate` streams a
continuation, `choose` picks one of a few strings, `score` gives a
continuation's log-probability, and sequence handles (`open_sequence`, `fork`,
`drop`) let a stage keep one context per character. Two say what the stage is:
`describe` returns a frozen `StageDescription` (what the run header records, and
the stage's fixed traits: screenplay or chat, its window, whether the window is
shared), and `ability(kind)` hands over an optional ability as an object, or
None where the stage lacks it (`simstage/stage/abilities.py`: batching, latent
reading and steering, token counting, counters, prompt rendering).

Nothing is asked of a stage by attribute name: a caller that wants more than the
core asks for the ability by its type and gets a typed object. `close` is the
opener's (`ClosableStage`, used by `simstage/run/`); the engine sees `Stage`.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal, Protocol, TypeVar

from simstage.errors import SimstageError

Role = Literal["system", "user", "assistant"]
A = TypeVar("A")


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

RECORDED = (
    "backend", "model", "model_file", "model_sha256", "api_base", "chat_format", "template_source",
    "template_sha256", "load_params", "decode",
)  # fmt: skip
"""The description's fields the run log header records, in the order they were always written."""


@dataclass(frozen=True)
class StageDescription:
    """What a stage is: what the run log header records, and the traits the engine plays by.

    Fixed for the stage's life, so it may be read at every turn.
    """

    backend: str
    """Registry name of the backend: `llama`, `litellm`, `scripted`."""
    model: str
    """The model as the scenario or command line named it."""
    model_file: str | None = None
    """The GGUF's file name (local stages)."""
    model_sha256: str | None = None
    api_base: str | tuple[str, ...] | None = None
    """The server(s) (remote stages; never the API key)."""
    chat_format: str | None = None
    """How prompts are rendered: `jinja`, `builtin:<family>`, `screenplay`."""
    template_source: str | None = None
    template_sha256: str | None = None
    load_params: Mapping[str, Any] | None = None
    """`llama_model_params` changed from llama.cpp's defaults for this CPU."""
    decode: str | None = None
    """`batch-invariant` where logits do not depend on what else a batch holds."""
    plays_screenplay: bool = False
    """A base model that continues a screenplay (`Name: line`) rather than a chat: the cast
    then writes screenplay prompts (`cast/screenplay.py`)."""
    context_window: int | None = None
    """Tokens the stage's context holds (None: unknown; prompts are never trimmed)."""
    shares_window: bool = True
    """Whether all sequences share one `context_window` (llama.cpp's unified KV cache);
    False: each request gets the whole window (a remote server)."""
    grammar: bool = False
    """Whether `Sampling.json_schema` is enforced during generation."""
    remembers_calls: bool = False
    """Whether an answer depends on the calls answered before it, not only on its own prompt
    and seed (the scripted stage numbers its lines; the llama stage's KV cache, decoded in
    other batches, gives slightly other logits): a resumed run first plays its kept events
    again on such a stage, to bring it to where the run stopped."""

    def recorded(self) -> dict[str, Any]:
        """The fields the run log header records (`run/log.py`'s `StageInfo`), unset ones left out."""
        out: dict[str, Any] = {}
        for name in RECORDED:
            value = getattr(self, name)
            if value is None:
                continue
            if isinstance(value, tuple):
                value = list(value)
            elif isinstance(value, Mapping):
                value = dict(value)
            out[name] = value
        return out


class Stage(Protocol):
    """The model side of simstage, as the engine sees it: eight members, nothing more.

    Anything else a stage can do is an ability: `ability(Batching)`, `ability(LatentReader)`,
    ... (`simstage/stage/abilities.py`).
    """

    def describe(self) -> StageDescription:
        """What the stage is: recorded in the run log header, and its fixed traits."""
        ...

    def ability(self, kind: type[A]) -> A | None:
        """The stage's ability of type `kind`, or None where it has none."""
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


class ClosableStage(Stage, Protocol):
    """A stage as its opener holds it (`make_stage`, `simstage/run/`): it alone closes it."""

    def close(self) -> None:
        """Release the model."""
        ...


class StageBase:
    """The abilities a stage declares by its classes: `ability(kind)` is the stage itself where it is a `kind`.

    A stage class lists the abilities it has among its bases (`class ScriptedStage(StageBase,
    TokenCounter, Meter)`), so what it offers is written on its first line.
    """

    def ability(self, kind: type[A]) -> A | None:
        return self if isinstance(self, kind) else None


class StageError(SimstageError):
    """A stage that cannot start or answer: a missing model file, an unreachable server."""
