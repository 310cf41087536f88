"""Questions put to the stage at the end of a turn, and the activations read as it answered.

Only what was asked and what the model answered is logged, with reality beside it where
reality is a fact of the world (where an object was, whether a fact holds). What the
tracker says the asked character believes is a fold over the events
(`simstage.tom.metrics`), never stored, so a better tracker re-scores old logs.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field, SerializerFunctionWrapHandler, model_serializer, model_validator

from simstage.events.base import EventBase

FACT_OPTIONS = ("yes", "no", "don't know")
"""The answers to a probe about a fact, in this order."""
WHO_KNOWS_OPTIONS = ("yes", "no")
"""The answers to each name's question of a who-knows probe, in this order."""


class ProbeAnswered(EventBase):
    """A belief question put to a character in a private copy of its context.

    About an object (`kind` "object"): where the character thinks (along `through`) it is;
    the options are the world's containers. About a fact (`kind` "fact"): whether it thinks
    the fact holds; the options are `FACT_OPTIONS`, "don't know" meaning no belief.
    """

    type: Literal["probe"] = "probe"
    ask: str
    about: str
    """The object, or with `kind` "fact" the fact, asked about."""
    through: tuple[str, ...] = ()
    style: Literal["direct", "indirect"] = "direct"
    kind: Literal["object", "fact"] = "object"
    """What `about` names. Not logged for an object (logs before facts keep their shape)."""
    question: str
    options: tuple[str, ...]
    answer: str
    """The option the model chose: a container, or for a fact yes, no or don't know."""
    truth: str
    """Reality when asked: where the object was, or for a fact yes (it holds) or no."""

    @model_serializer(mode="wrap")
    def _without_object_kind(self, handler: SerializerFunctionWrapHandler) -> dict[str, Any]:
        data = handler(self)
        if self.kind == "object":
            data.pop("kind", None)
        return data  # type: ignore[no-any-return]


class WhoKnowsAnswered(EventBase):
    """A who-knows question: for each cast member, does it know whether the fact holds?

    Asked of a character (`ask`), along `through`: who it thinks (B thinks ...) knows.
    Asked of the narrator (`ask` None: the stage reading the whole scene, private lines
    included): who really knows. The model answers yes or no per name, each in its own fork.
    """

    type: Literal["who_knows"] = "who_knows"
    ask: str | None = None
    """The character asked; None: the narrator."""
    fact: str
    through: tuple[str, ...] = ()
    names: tuple[str, ...]
    """The cast members asked about, in cast order."""
    questions: tuple[str, ...]
    """The question asked about each of `names`."""
    answers: tuple[Literal["yes", "no"], ...]
    """The model's answer for each of `names`."""

    @model_validator(mode="after")
    def _one_answer_per_name(self) -> WhoKnowsAnswered:
        if not len(self.names) == len(self.questions) == len(self.answers):
            raise ValueError("names, questions and answers must be as many")
        return self

    @property
    def said(self) -> tuple[str, ...]:
        """The names the model answered yes for: who it says knows."""
        return tuple(
            name for name, answer in zip(self.names, self.answers, strict=True) if answer == "yes"
        )


class LatentCaptured(EventBase):
    """The residual stream the stage held as it was about to answer the probe just before this.

    The vectors are in the run's sidecar (`simstage.latent.store`): `len(layers) × dims`
    float32 (`1 + len(contrast)` such blocks with contrast pairs) at byte `offset`, with
    their `sha256`.
    """

    type: Literal["latent_captured"] = "latent_captured"
    ask: str
    about: str
    through: tuple[str, ...] = ()
    style: Literal["direct", "indirect"] = "direct"
    layers: tuple[int, ...]
    """The blocks whose output (`l_out-L`) was read, at the last token before the answer."""
    dims: int
    offset: int = Field(ge=0)
    sha256: str
    named_last: str | None = None
    """With `latent.name_options`: the container the question named last (a control label)."""
    contrast: tuple[str, ...] = ()
    """With `latent.contrast`: the containers the answer was completed with. The record then holds
    `1 + len(contrast)` blocks of `len(layers) × dims`: the token before the answer, then the last
    token of each completion, in this order."""
