"""A scenario's probes: the questions put at the end of a turn (`probes:`)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal

from pydantic import Field, model_validator

from simstage.scenario.latent import StrictModel as _Strict

__all__ = ["ProbeConfig", "left_out"]


class ProbeConfig(_Strict):
    """A question put at the end of a turn: about an object or a fact, to a character in a private
    copy of its context; or who knows a fact, to a character or to the narrator."""

    at: int = Field(ge=1)
    """The turn at whose end the question is asked."""
    ask: str | None = None
    """The character asked. Left out only with `who_knows`: the narrator is asked (the stage
    reading the whole scene, private lines included), and the answer is who really knows."""
    about: str | None = None
    """The object asked about ("Where do you think the ring is?"), or a fact ("Is it true that …?",
    answered yes, no or don't know). Give `about` or `who_knows`."""
    who_knows: str | None = None
    """A fact: who knows whether it holds (each cast member asked about in turn, yes or no). Asked
    of a character, who it thinks (along `through`) knows; asked of the narrator, who really does."""
    through: list[str] = Field(default_factory=list)
    """For higher orders: 'where does <through[0]> think ... the object is?', 'does <through[0]>
    think ... it is true that …?', 'does <through[0]> think <name> knows whether …?'."""
    style: Literal["direct", "indirect"] = "direct"
    """`direct` asks where; `indirect` asks which container the character would open first (objects only)."""
    named: list[str] = Field(default_factory=list, max_length=2)
    """Two containers the question names at its end, in this order ("... The box or the basket?"):
    the one named last is a control label, so a probe of the answer can be told from one of the
    naming. Empty: the question names none (under `latent.name_options`, a captured question
    then names two in a seeded order). Objects only."""

    @model_validator(mode="after")
    def _about_or_who_knows(self) -> ProbeConfig:
        if (self.about is None) == (self.who_knows is None):
            raise ValueError(
                "a probe asks `about` an object or fact, or `who_knows` a fact: give one of them"
            )
        return self


def left_out(
    probes: Sequence[ProbeConfig], timeline_turns: Sequence[int], max_turns: int
) -> str | None:
    """What a run of `max_turns` leaves out of a scene, in words: its probes and timeline entries
    (at turns `timeline_turns`) past the last turn; None when it leaves out nothing."""
    parts = []
    for noun, turns in (("probe", [p.at for p in probes]), ("timeline event", timeline_turns)):
        late = [turn for turn in turns if turn > max_turns]
        if late:
            parts.append(f"{_count(len(late), noun)} ({_turns(sorted(set(late)))})")
    return " and ".join(parts) or None


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}" + ("" if n == 1 else "s")


def _turns(turns: list[int]) -> str:
    shown = ", ".join(str(t) for t in turns[:5]) + (", …" if len(turns) > 5 else "")
    return ("turn " if len(turns) == 1 else "turns ") + shown
