"""Belief questions put to a character, first order and higher."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal

ANSWER_PREFIX = "The answer is: the "


def _thinks(chain: Sequence[str]) -> str:
    """' B thinks C thinks' for a chain, with 'you' conjugated."""
    return "".join(f" {who} {'think' if who == 'you' else 'thinks'}" for who in chain)


def probe_question(
    asked: str,
    obj: str,
    through: Sequence[str] = (),
    style: Literal["direct", "indirect"] = "direct",
    *,
    plural: bool = False,
    named: Sequence[str] = (),
) -> str:
    """The question for a probe.

    `through=[B, C]` asks the character where B thinks C thinks the object is.
    A name in the chain equal to the asked character becomes "you"; a `plural`
    object is asked about with "are" ("Where do you think the keys are?").
    `named=(first, last)` ends the question with the two containers in that
    order ("... The box or the basket?").
    """
    question = _question(asked, obj, through, style, plural)
    return naming(question, named[0], named[1]) if named else question


def naming(question: str, first: str, last: str) -> str:
    """The question with two containers named at its end, `last` named last."""
    return f"{question} The {first} or the {last}?"


def _question(
    asked: str, obj: str, through: Sequence[str], style: Literal["direct", "indirect"], plural: bool
) -> str:
    be = "are" if plural else "is"
    chain = ["you" if name == asked else name for name in through]
    if style == "direct":
        if not chain:
            return f"Where do you think the {obj} {be}?"
        head, rest = chain[0], chain[1:]
        verb = "do" if head == "you" else "does"
        return f"Where {verb} {head} think{_thinks(rest)} the {obj} {be}?"
    if not chain:
        return f"You go to fetch the {obj}. Which container do you open first?"
    *outer, seeker = chain
    goes = "You go" if seeker == "you" else f"{seeker} goes"
    if not outer:
        return f"{goes} to fetch the {obj}. Which container will {seeker} open first?"
    head, rest = outer[0], outer[1:]
    verb = "do" if head == "you" else "does"
    return (
        f"{goes} to fetch the {obj}. "
        f"Which container {verb} {head} think{_thinks(rest)} {seeker} will open first?"
    )
