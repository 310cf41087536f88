"""Events that happen in the world: entrances, exits, moves, lines, claims, statements, watching."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field

from simstage.events.base import EventBase, Origin, Witnessed


class Entered(Witnessed):
    """A character walked into a location and saw what lies open there."""

    type: Literal["enter"] = "enter"
    who: str
    to: str
    frm: str
    sees: dict[str, str] = Field(default_factory=dict)
    """Objects in open containers of the location, by object: container."""


class Exited(Witnessed):
    """A character left a location for another."""

    type: Literal["exit"] = "exit"
    who: str
    to: str
    frm: str


class Moved(Witnessed):
    """A character moved an object from one container to another."""

    type: Literal["move"] = "move"
    who: str
    object: str
    frm: str
    to: str


class Said(Witnessed):
    """A line spoken aloud, heard by everyone in the speaker's location."""

    type: Literal["say"] = "say"
    who: str
    text: str


class Told(Witnessed):
    """A private line, heard by one listener only."""

    type: Literal["tell"] = "tell"
    who: str
    to: str
    text: str


class Claimed(Witnessed):
    """A public statement that an object is in a container; `true` says whether it was."""

    type: Literal["claim"] = "claim"
    who: str
    object: str
    container: str
    text: str
    true: bool


class Asserted(Witnessed):
    """A statement that a fact holds, or not: public, or private to `to` (a lie is folded, not stored)."""

    type: Literal["assert"] = "assert"
    who: str
    fact: str
    holds: bool
    """What was asserted: true, the fact holds; false, it does not."""
    to: str | None = None
    """The only listener of a private statement; None: public, heard by everyone present."""
    text: str
    true: bool
    """Whether what was asserted is so (`holds` equals the fact's truth)."""


class Peeked(Witnessed):
    """A character began watching another location unseen: a secret watcher, known only to itself."""

    type: Literal["peek"] = "peek"
    who: str
    into: str
    sees: dict[str, str] = Field(default_factory=dict)
    """Objects in open containers of the location watched, by object: container."""


class PeekStopped(Witnessed):
    """A secret watcher stopped watching (it also stops when it enters or leaves a location)."""

    type: Literal["stop_peek"] = "stop_peek"
    who: str
    into: str
    """The location it had been watching."""


class Distracted(Witnessed):
    """A character stopped paying attention until the end of turn `until`; nobody noticed."""

    type: Literal["distract"] = "distract"
    who: str
    until: int = Field(ge=0)
    """The last turn of the distraction."""


class Rejected(EventBase):
    """An action that the world refused, with the reason; the run goes on."""

    type: Literal["rejected"] = "rejected"
    who: str
    origin: Origin = "stage"
    action: dict[str, Any]
    reason: str
