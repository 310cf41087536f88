"""The actions of a scene: what a timeline entry scripts and what a character may do on its turn.

Each resolves against the world (`simstage.world.actions.resolve`) into a witnessed event,
or a recorded rejection. `peek`, `stop_peek` and `distract` are timeline-only.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field

from simstage.scenario.latent import StrictModel as _Strict

__all__ = [
    "Action",
    "AssertAction",
    "ClaimAction",
    "DistractAction",
    "EnterAction",
    "ExitAction",
    "MoveAction",
    "PeekAction",
    "SayAction",
    "ScriptedAction",
    "StopPeekAction",
    "TellAction",
]


class EnterAction(_Strict):
    """A character walks into a location."""

    type: Literal["enter"]
    who: str
    """The character who enters."""
    to: str
    """The location entered."""


class ExitAction(_Strict):
    """A character leaves for another location."""

    type: Literal["exit"]
    who: str
    """The character who leaves."""
    to: str
    """The location the character goes to."""


class MoveAction(_Strict):
    """A character moves an object into a container in the same location."""

    type: Literal["move"]
    who: str
    """The character who moves the object."""
    object: str
    """The object moved."""
    to: str
    """The container it is put in."""


class SayAction(_Strict):
    """A line spoken aloud: everyone in the same location hears it."""

    type: Literal["say"]
    who: str
    """The speaker."""
    text: str = Field(min_length=1, max_length=2000)
    """What is said."""


class TellAction(_Strict):
    """A private line to one listener in the same location."""

    type: Literal["tell"]
    who: str
    """The speaker."""
    to: str
    """The only listener."""
    text: str = Field(min_length=1, max_length=2000)
    """What is said."""


class ClaimAction(_Strict):
    """A public statement that an object is in a container (true or not)."""

    type: Literal["claim"]
    who: str
    """The character making the claim."""
    object: str
    """The object the claim is about."""
    container: str
    """Where the speaker says the object is."""
    text: str | None = Field(None, max_length=2000)
    """The words used; generated from the claim when left out."""


class AssertAction(_Strict):
    """A statement that a fact of the world holds, or does not (true or not, believed or not).

    Public (everyone in the speaker's location hears it) or, with `to`, private to one
    listener in the same location.
    """

    type: Literal["assert"]
    who: str
    """The speaker."""
    fact: str
    """The fact (a name in `world.facts`) the statement is about."""
    holds: bool
    """What the speaker asserts: true, the fact holds; false, it does not."""
    to: str | None = None
    """The only listener, for a private statement; unset, everyone present hears it."""
    text: str | None = Field(None, min_length=1, max_length=2000)
    """The words used; generated from the fact's sentence when left out."""


class PeekAction(_Strict):
    """A character starts watching another location unseen: a secret watcher.

    It witnesses everything public there (moves, entrances, exits, lines, claims and
    statements) as if present, and knows who else witnessed; nobody knows it did. It
    lasts until the watcher enters or leaves a location, peeks elsewhere, or stops.
    """

    type: Literal["peek"]
    who: str
    """The watcher."""
    into: str
    """The location watched (not the watcher's own)."""


class StopPeekAction(_Strict):
    """A secret watcher stops watching."""

    type: Literal["stop_peek"]
    who: str
    """The watcher."""


class DistractAction(_Strict):
    """A character stops paying attention for a while: a distracted witness.

    For `turns` turns, this one included, it witnesses nothing it does not do itself,
    while everyone still thinks it witnessed what happened where it is.
    """

    type: Literal["distract"]
    who: str
    """The character distracted."""
    turns: int = Field(1, ge=1, le=100_000)
    """How many turns it lasts, counting the turn it starts."""


Action = (
    EnterAction
    | ExitAction
    | MoveAction
    | SayAction
    | TellAction
    | ClaimAction
    | AssertAction
    | PeekAction
    | StopPeekAction
    | DistractAction
)
"""Any action a character can take: the engine resolves it against the world."""

ScriptedAction = Annotated[Action, Field(discriminator="type")]
"""Any action a timeline entry can script."""
