"""`false-belief`: characters come and go from a room while the object is moved between containers.

Everyone starts in the object's room and sees where it is. Each timeline event is
an exit to another room, an entrance back, or a move by someone present; the
containers are closed, so a character who comes back keeps the belief it left
with. Probes ask every order from 1 to `order`, along chains of different
characters, at the end of the last event's turn.
"""

from __future__ import annotations

import random

from pydantic import Field

from simstage.generate import names
from simstage.generate.core import CastMember, Family, FamilyOptions, Setting, Story
from simstage.generate.ledger import Ledger


class FalseBeliefOptions(FamilyOptions):
    """Options of the `false-belief` family."""

    events: int = Field(8, ge=2, le=60)
    """Entrances, exits and moves in each story (one per turn)."""


def story(rng: random.Random, options: FalseBeliefOptions) -> Story:
    """One story: `events` exits, entrances and moves, drawn at random."""
    setting = Setting.draw(rng, options)
    cast, rooms, room, containers = setting.cast, setting.rooms, setting.room, setting.containers
    thing, start = setting.thing, setting.start
    ledger = Ledger(start, cast)
    where = dict.fromkeys(cast, room)
    timeline: list[tuple[int, dict]] = []
    for turn in range(1, options.events + 1):
        here = [name for name in cast if where[name] == room]
        away = [name for name in cast if where[name] != room]
        # Someone always stays to move the object; exits and moves twice as likely as entrances.
        kinds = (
            ["move", "move"]
            + (["exit", "exit"] if len(here) > 1 else [])
            + (["enter"] if away else [])
        )
        kind = rng.choice(kinds)
        if kind == "move":
            who = rng.choice(here)
            to = rng.choice([c for c in containers if c != ledger.reality])
            ledger.seen(to, here)
            event = {"type": "move", "who": who, "object": thing, "to": to}
        elif kind == "exit":
            who = rng.choice(here)
            where[who] = rng.choice(rooms[1:])
            ledger.left(who)
            event = {"type": "exit", "who": who, "to": where[who]}
        else:
            who = rng.choice(away)
            where[who] = room
            event = {"type": "enter", "who": who, "to": room}
        timeline.append((turn, event))
    members = [CastMember(name, rng.choice(names.PERSONAS)) for name in cast]
    return setting.story(
        f"Where is the {thing}?",
        f"A generated false-belief scene: {len(cast)} characters come and go from the {room} while the"
        f" {thing} is moved between closed containers. Probes ask orders 1 to {options.order}.",
        members, timeline, ledger, order=options.order, turns=options.events,
    )  # fmt: skip


FAMILY = Family(
    name="false-belief",
    summary="characters come and go while an object is moved; probes at orders 1..K, direct and indirect",
    options=FalseBeliefOptions,
    story=story,
)
