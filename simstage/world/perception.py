"""Perception: who witnesses an event, who secretly watches it, and who misses it.

Everyone in a location witnesses what happens there in public, and knows the others
there did: that group is the event's public audience. Two cases make what a
character knows part from what the others think it knows:

- a **secret watcher** (a `peek` into another location) witnesses everything public
  there as if present, and knows the audience did; nobody knows it watched;
- a **distracted** character (a `distract`, for some turns) is in the audience but
  witnesses nothing; everyone still thinks it did.

The actor always perceives its own action. A private line or statement has an
audience of two: the speaker and its listener (who may be distracted); watchers
never hear it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from simstage.world.state import WorldState

__all__ = ["Perception", "perceive", "perceive_private"]


@dataclass(frozen=True)
class Perception:
    """Who perceived one event, as the event records it."""

    witnesses: tuple[str, ...]
    """Who perceived it: the attentive audience, then the secret watchers."""
    watchers: tuple[str, ...] = ()
    """Secret watchers (among `witnesses`): nobody else knows they perceived it."""
    distracted: tuple[str, ...] = ()
    """The audience's inattentive members (not among `witnesses`): everyone thinks they perceived it."""

    @property
    def audience(self) -> tuple[str, ...]:
        """Who everyone in the room thinks perceived it: the witnesses present and the distracted."""
        return tuple(w for w in self.witnesses if w not in self.watchers) + self.distracted


def perceive(
    world: WorldState, location: str, actor: str, turn: int, audience: Sequence[str] | None = None
) -> Perception:
    """Who perceives a public event in `location` during `turn`.

    Args:
        world: the world before the event.
        location: where it happens.
        actor: who does it (always perceives it).
        turn: the current turn (distractions are per turn).
        audience: who is there (default: everyone in `location`, in cast order).
    """
    present = tuple(world.present(location) if audience is None else audience)
    distracted = tuple(who for who in present if who != actor and world.is_distracted(who, turn))
    watchers = tuple(
        who
        for who in world.watchers_of(location)
        if who not in present and not world.is_distracted(who, turn)
    )
    attentive = tuple(who for who in present if who not in distracted)
    return Perception(attentive + watchers, watchers, distracted)


def perceive_private(world: WorldState, speaker: str, listener: str, turn: int) -> Perception:
    """Who perceives a private line from `speaker` to `listener` (a distracted listener misses it)."""
    if world.is_distracted(listener, turn):
        return Perception((speaker,), (), (listener,))
    return Perception((speaker, listener))
