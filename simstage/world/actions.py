"""Resolve an intended action against the world: a witnessed event, or a recorded rejection.

Each resolved event lists exactly who perceived it (`simstage.world.perception`).
"""

from __future__ import annotations

from typing import TypedDict

from simstage import events
from simstage.scenario import actions
from simstage.scenario.actions import Action
from simstage.world.perception import Perception, perceive, perceive_private
from simstage.world.state import WorldState

_NOT_A = (
    "The",
    "A",
    "An",
    "It",
    "There",
    "This",
    "That",
    "These",
    "Those",
    "Someone",
    "Nobody",
    "Everyone",
)


class _Refused(Exception):
    pass


def _require(condition: bool, reason: str) -> None:
    if not condition:
        raise _Refused(reason)


def resolve(
    world: WorldState, action: Action, turn: int, origin: events.Origin = "stage"
) -> events.ResolvedEvent:
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
        return events.Rejected(
            turn=turn,
            who=action.who,
            origin=origin,
            action=action.model_dump(by_alias=True),
            reason=str(refusal),
        )


class _Seen(TypedDict):
    witnesses: tuple[str, ...]
    watchers: tuple[str, ...]
    distracted: tuple[str, ...]


def _seen(p: Perception) -> _Seen:
    """An event's perception fields."""
    return {"witnesses": p.witnesses, "watchers": p.watchers, "distracted": p.distracted}


def _resolve(
    world: WorldState, action: Action, turn: int, origin: events.Origin
) -> events.ResolvedEvent:
    who = action.who
    _require(who in world.character_location, f"there is no character {who!r}")
    here = world.character_location[who]
    act: events.Act = {"turn": turn, "origin": origin, "who": who}
    if isinstance(action, (actions.EnterAction, actions.ExitAction)):
        _require(action.to in world.locations, f"there is no location {action.to!r}")
        _require(action.to != here, f"{who} is already in the {here}")
        if isinstance(action, actions.ExitAction):
            seen = perceive(world, here, who, turn)
            return events.Exited(**act, to=action.to, frm=here, **_seen(seen))
        seen = perceive(world, action.to, who, turn, (*world.present(action.to), who))
        return events.Entered(
            **act,
            to=action.to,
            frm=here,
            sees=world.visible_objects(action.to),
            **_seen(seen),
        )
    if isinstance(action, actions.MoveAction):
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
        _require(
            frm != action.to,
            f"the {action.object} {world.be(action.object)} already in the {action.to}",
        )
        return events.Moved(
            **act,
            object=action.object,
            frm=frm,
            to=action.to,
            **_seen(perceive(world, here, who, turn)),
        )
    if isinstance(action, actions.SayAction):
        return events.Said(
            **act,
            text=action.text,
            **_seen(perceive(world, here, who, turn)),
        )
    if isinstance(action, actions.TellAction):
        _listener(world, who, action.to, here)
        return events.Told(
            **act,
            to=action.to,
            text=action.text,
            **_seen(perceive_private(world, who, action.to, turn)),
        )
    if isinstance(action, actions.ClaimAction):
        _require(action.object in world.object_container, f"there is no object {action.object!r}")
        _require(
            action.container in world.container_location,
            f"there is no container {action.container!r}",
        )
        text = (
            action.text
            or f"The {action.object} {world.be(action.object)} in the {action.container}."
        )
        return events.Claimed(
            **act,
            object=action.object,
            container=action.container,
            text=text,
            true=world.object_container[action.object] == action.container,
            **_seen(perceive(world, here, who, turn)),
        )
    if isinstance(action, actions.AssertAction):
        _require(action.fact in world.facts, f"there is no fact {action.fact!r}")
        if action.to is None:
            seen = perceive(world, here, who, turn)
        else:
            _listener(world, who, action.to, here)
            seen = perceive_private(world, who, action.to, turn)
        return events.Asserted(
            **act,
            fact=action.fact,
            holds=action.holds,
            to=action.to,
            text=action.text or statement_text(world.fact_text[action.fact], action.holds),
            true=world.facts[action.fact] == action.holds,
            **_seen(seen),
        )
    if isinstance(action, actions.PeekAction):
        _require(action.into in world.locations, f"there is no location {action.into!r}")
        _require(action.into != here, f"{who} is in the {here}: it can only watch another location")
        _require(
            world.watching.get(who) != action.into, f"{who} is already watching the {action.into}"
        )
        return events.Peeked(
            **act,
            into=action.into,
            sees=world.visible_objects(action.into),
            witnesses=(who,),
        )
    if isinstance(action, actions.StopPeekAction):
        _require(who in world.watching, f"{who} is not watching anywhere")
        return events.PeekStopped(**act, into=world.watching[who], witnesses=(who,))
    if isinstance(action, actions.DistractAction):
        return events.Distracted(**act, until=turn + action.turns - 1)
    raise _Refused(f"unknown action {type(action).__name__}")


def _listener(world: WorldState, who: str, to: str, here: str) -> None:
    """Refuse a private line to nobody, to oneself, or to someone elsewhere."""
    _require(to in world.character_location, f"there is no character {to!r}")
    _require(to != who, f"{who} cannot tell themself")
    _require(world.character_location[to] == here, f"{to} is not in the {here} with {who}")


def statement_text(sentence: str, holds: bool) -> str:
    """The words of a statement that a fact holds (its sentence) or does not."""
    if holds:
        return sentence.strip().rstrip(".!") + "."
    return f"It is not true that {clause(sentence)}."


def clause(sentence: str) -> str:
    """A fact's sentence as it reads after "that": no full stop, a leading article in lower case."""
    sentence = sentence.strip().rstrip(".!")
    first, _, rest = sentence.partition(" ")
    if first in _NOT_A:
        return f"{first.lower()} {rest}" if rest else first.lower()
    return sentence
