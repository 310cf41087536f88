"""Resolve an intended action against the world: a witnessed event, or a recorded rejection.

Perception lives here: each resolved event lists exactly who perceived it.
"""

from __future__ import annotations

from simstage.events import Claimed, Entered, Exited, Moved, Origin, Rejected, Said, Told
from simstage.scenario.models import (
    ClaimAction,
    EnterAction,
    ExitAction,
    MoveAction,
    SayAction,
    TellAction,
)
from simstage.world.state import WorldState

Action = EnterAction | ExitAction | MoveAction | SayAction | TellAction | ClaimAction
ResolvedEvent = Entered | Exited | Moved | Said | Told | Claimed | Rejected


class _Refused(Exception):
    pass


def _require(condition: bool, reason: str) -> None:
    if not condition:
        raise _Refused(reason)


def resolve(world: WorldState, action: Action, turn: int, origin: Origin = "stage") -> ResolvedEvent:
    """Turn an intended action into the event it causes, without changing `world`.

    Args:
        world: the current world.
        action: what a character means to do.
        turn: the current turn.
        origin: what produced the action.

    Returns:
        The witnessed event, or a `Rejected` event giving the reason.
    """
    try:
        return _resolve(world, action, turn, origin)
    except _Refused as refusal:
        return Rejected(
            turn=turn,
            who=action.who,
            origin=origin,
            action=action.model_dump(by_alias=True),
            reason=str(refusal),
        )


def _resolve(world: WorldState, action: Action, turn: int, origin: Origin) -> ResolvedEvent:
    who = action.who
    _require(who in world.character_location, f"there is no character {who!r}")
    here = world.character_location[who]
    present = world.present(here)
    if isinstance(action, (EnterAction, ExitAction)):
        _require(action.to in world.locations, f"there is no location {action.to!r}")
        _require(action.to != here, f"{who} is already in the {here}")
        if isinstance(action, ExitAction):
            return Exited(turn=turn, origin=origin, who=who, to=action.to, frm=here, witnesses=present)
        arriving_to = world.present(action.to)
        return Entered(
            turn=turn,
            origin=origin,
            who=who,
            to=action.to,
            frm=here,
            witnesses=(*arriving_to, who),
            sees=world.visible_objects(action.to),
        )
    if isinstance(action, MoveAction):
        _require(action.object in world.object_container, f"there is no object {action.object!r}")
        _require(action.to in world.container_location, f"there is no container {action.to!r}")
        _require(
            world.object_location(action.object) == here,
            f"the {action.object} {world.be(action.object)} not in the {here}, where {who} is",
        )
        _require(
            world.container_location[action.to] == here,
            f"the {action.to} is not in the {here}, where {who} is",
        )
        frm = world.object_container[action.object]
        _require(frm != action.to, f"the {action.object} {world.be(action.object)} already in the {action.to}")
        return Moved(
            turn=turn, origin=origin, who=who, object=action.object, frm=frm, to=action.to,
            witnesses=present,
        )
    if isinstance(action, SayAction):
        return Said(turn=turn, origin=origin, who=who, text=action.text, witnesses=present)
    if isinstance(action, TellAction):
        _require(action.to in world.character_location, f"there is no character {action.to!r}")
        _require(action.to != who, f"{who} cannot tell themself")
        _require(action.to in present, f"{action.to} is not in the {here} with {who}")
        return Told(
            turn=turn, origin=origin, who=who, to=action.to, text=action.text,
            witnesses=(who, action.to),
        )
    if isinstance(action, ClaimAction):
        _require(action.object in world.object_container, f"there is no object {action.object!r}")
        _require(action.container in world.container_location, f"there is no container {action.container!r}")
        text = action.text or f"The {action.object} {world.be(action.object)} in the {action.container}."
        return Claimed(
            turn=turn, origin=origin, who=who, object=action.object, container=action.container,
            text=text, true=world.object_container[action.object] == action.container,
            witnesses=present,
        )
    raise _Refused(f"unknown action {type(action).__name__}")
