"""The base of every event: a frozen model with a turn; world events add who perceived them."""

from __future__ import annotations

from typing import Any, Literal, TypedDict

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    SerializerFunctionWrapHandler,
    model_serializer,
)

Origin = Literal["stage", "timeline", "human"]


class Act(TypedDict):
    """What every character's act in the world names, as keyword arguments to its event: when,
    what produced it, and who did it (`Moved(**act, object=..., frm=..., to=...)`)."""

    turn: int
    origin: Origin
    who: str


class EventBase(BaseModel):
    """What every event has: its turn; frozen, and no field but its own."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    turn: int = Field(ge=0)
    """The turn during which the event happened (0: before the first turn)."""


class Witnessed(EventBase):
    """An event that happens in the world: what made it, and who perceived it."""

    origin: Origin = "stage"
    """What produced the event: the stage (a character's turn), the timeline, or a human."""
    witnesses: tuple[str, ...] = ()
    """The characters who perceived the event, the actor included (secret watchers too)."""
    watchers: tuple[str, ...] = ()
    """Secret watchers among `witnesses` (from another location; nobody knows). Not logged when empty."""
    distracted: tuple[str, ...] = ()
    """Present, not paying attention: not `witnesses`, though all think so. Not logged when empty."""

    @model_serializer(mode="wrap")
    def _without_empty_perception(self, handler: SerializerFunctionWrapHandler) -> dict[str, Any]:
        # Logs written before watchers and distracted witnesses keep their exact shape.
        data = handler(self)
        if not self.watchers:
            data.pop("watchers", None)
        if not self.distracted:
            data.pop("distracted", None)
        return data  # type: ignore[no-any-return]
