"""A small scene with facts for the fact and perception tests, and a way to play actions on it."""

from __future__ import annotations

from typing import Any

import yaml

from simstage.events import Rejected
from simstage.scenario import parse_scenario
from simstage.scenario.models import (
    AssertAction,
    ClaimAction,
    DistractAction,
    EnterAction,
    ExitAction,
    MoveAction,
    PeekAction,
    Scenario,
    StopPeekAction,
)
from simstage.tom.beliefs import BeliefState
from simstage.tom.tracker import fold_beliefs
from simstage.world.actions import Action, resolve
from simstage.world.state import WorldState

CAST = ("Ann", "Bob", "Cy", "Dee")


def scene(
    knows: dict[str, dict[str, Any]] | None = None, trust: Any = "all", order: int = 3
) -> Scenario:
    """Ann, Bob and Cy in the hall (a tray, open, holding the key; a chest); Dee in the study; a garden.

    `debt` holds, `fake` does not.
    """
    knows = knows or {}
    data = {
        "title": "facts",
        "world": {
            "locations": ["hall", "study", "garden"],
            "containers": {
                "tray": {"in": "hall", "open": True},
                "chest": {"in": "hall"},
                "shelf": {"in": "study"},
            },
            "objects": {"key": {"in": "tray"}},
            "facts": {
                "debt": {"text": "Felix owes Edwin money", "true": True},
                "fake": {"text": "The ring is a fake", "true": False},
            },
        },
        "cast": [
            {
                "name": name,
                "persona": "p",
                "location": "study" if name == "Dee" else "hall",
                **({"knows": knows[name]} if name in knows else {}),
            }
            for name in CAST
        ],
        "tom": {"order": order, "trust": trust},
        "max_turns": 30,
    }
    return parse_scenario(yaml.safe_dump(data, sort_keys=False), "facts.yaml").scenario


def state_(who: str, fact: str, holds: bool, to: str | None = None) -> AssertAction:
    return AssertAction(type="assert", who=who, fact=fact, holds=holds, to=to)


def move(who: str, to: str, obj: str = "key") -> MoveAction:
    return MoveAction(type="move", who=who, object=obj, to=to)


def claim(who: str, container: str, obj: str = "key") -> ClaimAction:
    return ClaimAction(type="claim", who=who, object=obj, container=container)


def peek(who: str, into: str) -> PeekAction:
    return PeekAction(type="peek", who=who, into=into)


def stop_peek(who: str) -> StopPeekAction:
    return StopPeekAction(type="stop_peek", who=who)


def distract(who: str, turns: int = 1) -> DistractAction:
    return DistractAction(type="distract", who=who, turns=turns)


def enter(who: str, to: str) -> EnterAction:
    return EnterAction(type="enter", who=who, to=to)


def exit_(who: str, to: str) -> ExitAction:
    return ExitAction(type="exit", who=who, to=to)


def play(scenario: Scenario, steps: list[tuple[int, Action]]) -> list[Any]:
    """Resolve each (turn, action) against the world in order, as the timeline does; none may be refused."""
    world = WorldState.initial(scenario)
    events = []
    for turn, action in steps:
        event = resolve(world, action, turn, "timeline")
        assert not isinstance(event, Rejected), event
        world.apply(event)
        events.append(event)
    return events


def beliefs(scenario: Scenario, steps: list[tuple[int, Action]]) -> BeliefState:
    return fold_beliefs(scenario, play(scenario, steps))


def value(state: BeliefState, fact: str, holder: str, *chain: str) -> bool | None:
    """What `holder` thinks (along `chain`) of `fact`: True, False, or None (no belief)."""
    belief = state.fact_belief(holder, fact, chain)
    return None if belief is None else belief.value


def where(state: BeliefState, holder: str, *chain: str, obj: str = "key") -> str | None:
    belief = state.where(holder, obj, chain)
    return None if belief is None else belief.container
