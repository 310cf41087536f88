"""`deception`: a liar moves the object while some are away, then tells those present where it is not.

Everyone starts in the object's room. Some listeners leave; the liar moves the
object in front of whoever stayed; some of those who left come back; the liar
then claims, to everyone in the room, that the object is somewhere it is not.
A listener believes the lie when it trusts the liar (`tom.trust`, drawn per
listener) and left before the move, so the liar may know better; one who saw
the move keeps what it saw. A listener still away misses the lie, and may come
back after it.
"""

from __future__ import annotations

import random

from pydantic import Field

from simstage.generate import names
from simstage.generate.core import CastMember, Family, FamilyOptions, Setting, Story
from simstage.generate.ledger import Ledger

LIES = (
    "I put the {thing} in the {container} myself.",
    "Don't worry, the {thing} is in the {container}.",
    "The {thing}? It's in the {container}, I saw it there.",
    "If you want the {thing}, look in the {container}.",
)


class DeceptionOptions(FamilyOptions):
    """Options of the `deception` family."""

    characters: int = Field(4, ge=2, le=12)
    """How many characters: the liar and its listeners."""
    distrust: float = Field(0.5, ge=0.0, le=1.0)
    """The chance that a listener does not trust the liar."""


def story(rng: random.Random, options: DeceptionOptions) -> Story:
    """One story: exits, the liar's move, returns, the lie, and perhaps a late return."""
    setting = Setting.draw(rng, options)
    cast, rooms, room, containers = setting.cast, setting.rooms, setting.room, setting.containers
    thing, start = setting.thing, setting.start
    liar = rng.choice(cast)
    listeners = [name for name in cast if name != liar]
    doubters = {name for name in listeners if rng.random() < options.distrust}
    ledger = Ledger(start, cast)
    present = set(cast)
    timeline: list[tuple[int, dict]] = []

    def happen(event: dict) -> None:
        timeline.append((len(timeline) + 1, event))

    leavers = rng.sample(listeners, rng.randint(1, len(listeners)))
    for who in leavers:
        present.discard(who)
        ledger.left(who)
        happen({"type": "exit", "who": who, "to": rng.choice(rooms[1:])})
    moved = rng.choice([c for c in containers if c != start])
    ledger.seen(moved, present)
    happen({"type": "move", "who": liar, "object": thing, "to": moved})
    back = rng.sample(leavers, rng.randint(0, len(leavers)))
    for who in back:
        present.add(who)
        happen({"type": "enter", "who": who, "to": room})
    # A lie other than the start, where there is one, so believing it shows.
    lie = rng.choice([c for c in containers if c not in (moved, start)] or [start])
    ledger.claim(liar, lie, present, lambda listener, speaker: listener not in doubters)
    text = rng.choice(LIES).format(thing=thing, container=lie)
    happen({"type": "claim", "who": liar, "object": thing, "container": lie, "text": text})
    late = [who for who in leavers if who not in back]
    if late and rng.random() < 0.5:
        happen({"type": "enter", "who": rng.choice(late), "to": room})
    turns = len(timeline) + 1  # a turn of talk after the last event, then the probes
    members = []
    for name in cast:
        persona = rng.choice(names.PERSONAS)
        if name == liar:
            members.append(
                CastMember(
                    name,
                    persona,
                    (f"Keep the {thing}: send the others to look in the wrong place.",),
                )
            )
        else:  # the stage is told whom each one trusts, as the tracker is
            trust = (
                f"Does not believe a word {liar} says."
                if name in doubters
                else f"Trusts {liar} completely."
            )
            members.append(CastMember(name, f"{persona} {trust}"))
    return setting.story(
        f"Who believes {liar}?",
        f"A generated deception scene: {liar} moves the {thing} while some are away, then tells those"
        f" in the {room} it is in the {lie}. Who trusts {liar} varies; probes ask orders 1 to {options.order}.",
        members, timeline, ledger, order=options.order, turns=turns,
        trust={name: [other for other in cast if other not in (name, liar)] for name in listeners if name in doubters} or None,
    )  # fmt: skip


FAMILY = Family(
    name="deception",
    summary="a lie told to whoever is in the room, believed by those who trust the liar and missed the move",
    options=DeceptionOptions,
    story=story,
)
