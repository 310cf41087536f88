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


def _variant(title: str, kind: str, **fields: Any) -> Any:
    """One kind of action in a reply: `type` is `kind`, and no other keys are allowed."""
    return create_model(
        title, __config__=ConfigDict(extra="forbid"), type=_required(_literal([kind])), **fields
    )


@lru_cache(maxsize=256)
def _reply_model(
    locations: tuple[str, ...],
    objects: tuple[str, ...],
    containers: tuple[str, ...],
    others: tuple[str, ...],
    facts: tuple[str, ...] = (),
) -> type[BaseModel]:
    places = _required(_literal(list(locations)))
    variants: list[Any] = [
        _variant("Exit", "exit", to=places),
        _variant("Enter", "enter", to=places),
    ]
    if objects and containers:
        things, boxes = _required(_literal(list(objects))), _required(_literal(list(containers)))
        variants.append(_variant("Move", "move", object=things, to=boxes))
        variants.append(_variant("Claim", "claim", object=things, container=boxes))
    if others:
        listeners = _required(_literal(list(others)))
        text = (str, Field(min_length=1, max_length=MAX_ASIDE_CHARS))
        variants.append(_variant("Tell", "tell", to=listeners, text=text))
    if facts:
        # A statement about one of the scene's facts: public, or (with `to`) private.
        names, holds = _required(_literal(list(facts))), _required(bool)
        variants.append(_variant("Assert", "assert", fact=names, holds=holds))
        if others:
            variants.append(_variant("AssertTo", "assert", to=listeners, fact=names, holds=holds))
    action_type: Any = None
    for variant in variants:
        action_type = variant if action_type is None else action_type | variant
    return create_model(
        "Turn",
        __config__=ConfigDict(extra="forbid"),
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
