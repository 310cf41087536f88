"""A synthetic scene for timing the tracker: many characters moving between rooms and objects."""

from __future__ import annotations

import random
import time
from dataclasses import dataclass
from typing import Any

from simstage.scenario.models import (
    ClaimAction,
    EnterAction,
    ExitAction,
    MoveAction,
    SayAction,
    Scenario,
)
from simstage.tom.tracker import fold_beliefs
from simstage.world.actions import resolve
from simstage.world.state import WorldState


def bench_scene(
    characters: int, events: int, *, rooms: int = 4, objects: int = 10, seed: int = 0
) -> tuple[Scenario, list[Any]]:
    """A scene of `characters` in `rooms` and at least `events` witnessed events (moves, comings and goings, talk)."""
    rng = random.Random(seed)
    locations = [f"room{i}" for i in range(rooms)]
    containers = {
        f"box{i}": {"in": locations[i % rooms], "open": i % 2 == 0} for i in range(rooms * 3)
    }
    names = list(containers)
    scenario = Scenario.model_validate(
        {
            "title": "tracker bench",
            "world": {
                "locations": locations,
                "containers": containers,
                "objects": {f"thing{i}": {"in": names[i % len(names)]} for i in range(objects)},
            },
            "cast": [
                {"name": f"C{i}", "persona": "x", "location": locations[i % rooms]}
                for i in range(characters)
            ],
            "max_turns": 100_000,
        }
    )
    world = WorldState.initial(scenario)
    out: list[Any] = []
    cast = scenario.cast_names
    turn = 0
    while len(out) < events:
        turn += 1
        who = rng.choice(cast)
        here = world.character_location[who]
        roll = rng.random()
        action: Any
        if roll < 0.25:
            to = rng.choice([loc for loc in locations if loc != here])
            action = (
                EnterAction(type="enter", who=who, to=to)
                if roll < 0.125
                else ExitAction(type="exit", who=who, to=to)
            )
        elif roll < 0.7:
            things = [
                o for o, c in world.object_container.items() if world.container_location[c] == here
            ]
            if not things:
                continue
            action = MoveAction(
                type="move",
                who=who,
                object=rng.choice(things),
                to=rng.choice(world.containers_in(here)),
            )
        elif roll < 0.8:
            action = ClaimAction(
                type="claim",
                who=who,
                object=rng.choice(list(world.object_container)),
                container=rng.choice(names),
                text=None,
            )
        else:
            action = SayAction(type="say", who=who, text="Hm.")
        event = resolve(world, action, turn)
        if event.type == "rejected":
            continue
        world.apply(event)
        out.append(event)
    return scenario, out


@dataclass(frozen=True)
class BenchResult:
    """Timings of one tracker bench."""

    characters: int
    order: int
    events: int
    fold_s: float
    queries: int
    query_s: float


def bench_tracker(
    characters: int = 20, order: int = 3, events: int = 10_000, *, seed: int = 0
) -> BenchResult:
    """Time folding `events` events, then every first-order and a sample of deeper beliefs."""
    scenario, stream = bench_scene(characters, events, seed=seed)
    start = time.perf_counter()
    state = fold_beliefs(scenario, stream, order=order)
    fold_s = time.perf_counter() - start
    rng = random.Random(seed)
    cast = scenario.cast_names
    queries = 0
    start = time.perf_counter()
    for holder in cast:
        for obj in state.objects:
            state.where(holder, obj)
            chain = rng.sample([c for c in cast if c != holder], max(0, order - 1))
            state.where(holder, obj, chain)
            queries += 2
    query_s = time.perf_counter() - start
    return BenchResult(characters, order, len(stream), fold_s, queries, query_s)
