"""Events that happen in the world: entrances, exits, moves, lines, claims, statements, watching."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field

from simstage.events.base import EventBase, Origin, Witnessed


class Passage(Witnessed):
    """A character went from one location to another: it entered one (`Entered`) or left one (`Exited`).

    A base for both kinds, never logged itself: each overrides `type` with its tag, which keeps
    the logged key order.
    """

    type: str
    who: str
    to: str
    """The location it went to."""
    frm: str
    """The location it came from."""


class Entered(Passage):
    """A character walked into a location and saw what lies open there."""

    type: Literal["enter"] = "enter"
    sees: dict[str, str] = Field(default_factory=dict)
    """Objects in open containers of the location, by object: container."""


class Exited(Passage):
    """A character left a location for another."""

    type: Literal["exit"] = "exit"


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


class Watching(Witnessed):
    """A secret watcher's watch over another location: it began (`Peeked`) or stopped (`PeekStopped`).

    A base for both kinds, never logged itself: each overrides `type` with its tag, which keeps
    the logged key order.
    """

    type: str
    who: str
    into: str
    """The location watched."""


class Peeked(Watching):
    """A character began watching another location unseen: a secret watcher, known only to itself."""

    type: Literal["peek"] = "peek"
    sees: dict[str, str] = Field(default_factory=dict)
    """Objects in open containers of the location watched, by object: container."""


class PeekStopped(Watching):
    """A secret watcher stopped watching (it also stops when it enters or leaves a location)."""

    type: Literal["stop_peek"] = "stop_peek"


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
