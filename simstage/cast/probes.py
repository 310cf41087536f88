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


FACT_ANSWER_PREFIX = "The answer is: "
"""Where the answer to a question about a fact begins (yes, no, don't know)."""


def _minds(asked: str | None, chain: Sequence[str]) -> list[str]:
    """The chain's minds after the asked one, repeated neighbours dropped, the asked one as "you"."""
    out: list[str] = []
    previous = asked
    for name in chain:
        if name != previous:
            out.append(name)
            previous = name
    return ["you" if name == asked else name for name in out]


def _verb(head: str) -> str:
    return "Do" if head == "you" else "Does"


def fact_question(asked: str, said: str, through: Sequence[str] = ()) -> str:
    """The question for a probe about a fact: "Is it true that …?", or along a chain
    "Does Margot think Felix thinks it is true that …?"; yes, no or don't know.

    Args:
        asked: the character asked.
        said: the fact's sentence as it reads after "that" (`simstage.world.actions.clause`).
        through: (B, C) for what B thinks C thinks.
    """
    minds = _minds(asked, through)
    if not minds:
        return f"Is it true that {said}? Yes, no, or don't know?"
    head, rest = minds[0], minds[1:]
    return (
        f"{_verb(head)} {head} think{_thinks(rest)} it is true that {said}? Yes, no, or don't know?"
    )


def who_knows_question(asked: str | None, said: str, name: str, through: Sequence[str] = ()) -> str:
    """The question about one cast member of a who-knows probe: "Does Felix know whether …?",
    or along a chain "Does Margot think Felix knows whether …?"; yes or no.

    Args:
        asked: the character asked; None for the narrator.
        said: the fact's sentence as it reads after "that".
        name: the cast member asked about.
        through: (B, ...) for who B thinks knows.
    """
    minds = _minds(asked, [*through, name])
    if not minds:
        return f"Do you know whether {said}? Yes or no?"
    *outer, last = minds
    knows = "know" if last == "you" else "knows"
    if not outer:
        return f"{_verb(last)} {last} know whether {said}? Yes or no?"
    head, rest = outer[0], outer[1:]
    return f"{_verb(head)} {head} think{_thinks(rest)} {last} {knows} whether {said}? Yes or no?"
