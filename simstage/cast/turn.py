"""A character's turn: a spoken line plus an optional action, as JSON.

The reply schema is a pydantic model made per character, with the scene's own
names as the only allowed values, so a grammar built from its JSON schema keeps
even a tiny model to a valid turn. What still fails to parse is reported, not
raised past the engine.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, create_model

from simstage.errors import SimstageError
from simstage.scenario.models import (
    AssertAction,
    ClaimAction,
    EnterAction,
    ExitAction,
    MoveAction,
    Scenario,
    TellAction,
)
from simstage.world.actions import Action

MAX_LINE_CHARS = 120
MAX_ASIDE_CHARS = 90


class TurnParseError(SimstageError, ValueError):
    """A reply that is not a valid turn."""


@dataclass(frozen=True)
class Turn:
    """What a character does in its turn."""

    say: str
    action: Action | None


def _literal(values: list[str]) -> Any:
    return Literal[tuple(values)]  # type: ignore[valid-type]


def turn_model(scenario: Scenario, name: str) -> type[BaseModel]:
    """The pydantic model of `name`'s reply, restricted to the scene's names.

    Made once for each set of names and kept: making a model costs milliseconds,
    and a run asks for it at every turn.
    """
    world = scenario.world
    others = tuple(who for who in scenario.cast_names if who != name)
    return _reply_model(
        tuple(world.locations),
        tuple(world.objects),
        tuple(world.containers),
        others,
        tuple(world.facts),
    )


def _required(kind: Any) -> Any:
    """A required field of `create_model` (its type is built at run time, so typed as Any)."""
    return (kind, ...)


@lru_cache(maxsize=256)
def _reply_model(
    locations: tuple[str, ...],
    objects: tuple[str, ...],
    containers: tuple[str, ...],
    others: tuple[str, ...],
    facts: tuple[str, ...] = (),
) -> type[BaseModel]:
    config = ConfigDict(extra="forbid")
    variants: list[Any] = []
    places = _literal(list(locations))
    variants.append(
        create_model(
            "Exit", __config__=config, type=_required(Literal["exit"]), to=_required(places)
        )
    )
    variants.append(
        create_model(
            "Enter", __config__=config, type=_required(Literal["enter"]), to=_required(places)
        )
    )
    if objects and containers:
        things = _literal(list(objects))
        boxes = _literal(list(containers))
        variants.append(
            create_model(
                "Move",
                __config__=config,
                type=_required(Literal["move"]),
                object=_required(things),
                to=_required(boxes),
            )
        )
        variants.append(
            create_model(
                "Claim",
                __config__=config,
                type=_required(Literal["claim"]),
                object=_required(things),
                container=_required(boxes),
            )
        )
    if others:
        variants.append(
            create_model(
                "Tell",
                __config__=config,
                type=_required(Literal["tell"]),
                to=(_literal(list(others)), ...),
                text=(str, Field(min_length=1, max_length=MAX_ASIDE_CHARS)),
            )
        )
    if facts:
        # A statement about one of the scene's facts: public, or (with `to`) private.
        names = _literal(list(facts))
        variants.append(
            create_model(
                "Assert",
                __config__=config,
                type=_required(Literal["assert"]),
                fact=_required(names),
                holds=_required(bool),
            )
        )
        if others:
            variants.append(
                create_model(
                    "AssertTo",
                    __config__=config,
                    type=_required(Literal["assert"]),
                    to=(_literal(list(others)), ...),
                    fact=_required(names),
                    holds=_required(bool),
                )
            )
    action_type: Any = None
    for variant in variants:
        action_type = variant if action_type is None else action_type | variant
    return create_model(
        "Turn",
        __config__=config,
        say=(str, Field(max_length=MAX_LINE_CHARS)),
        action=_required(action_type | None),
    )


def turn_schema(scenario: Scenario, name: str) -> dict[str, Any]:
    """The JSON schema `name`'s reply must match (used as a generation grammar)."""
    # Kept as text, read into a fresh dict per call: a caller may change its own copy.
    return json.loads(_reply_schema(turn_model(scenario, name)))  # type: ignore[no-any-return]


@lru_cache(maxsize=256)
def _reply_schema(model: type[BaseModel]) -> str:
    return json.dumps(model.model_json_schema())


def parse_turn(raw: str, scenario: Scenario, name: str) -> Turn:
    """Read a reply as a turn.

    Raises:
        TurnParseError: not JSON, or not a valid turn for this scene.
    """
    text = raw.strip()
    if not text:
        raise TurnParseError("empty reply")
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise TurnParseError(f"not JSON ({exc.msg} at character {exc.pos})") from None
    try:
        parsed = turn_model(scenario, name).model_validate(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(step) for step in first["loc"])
        raise TurnParseError(f"{where}: {first['msg']}") from None
    reply: Any = parsed  # a model made at run time for this scene's names
    action: Action | None = None
    if reply.action is not None:
        fields = reply.action.model_dump()
        kind = fields["type"]
        models: dict[str, Any] = {
            "move": MoveAction,
            "exit": ExitAction,
            "enter": EnterAction,
            "tell": TellAction,
            "claim": ClaimAction,
            "assert": AssertAction,
        }
        action = models[kind].model_validate({**fields, "who": name})
    return Turn(say=reply.say.strip(), action=action)
