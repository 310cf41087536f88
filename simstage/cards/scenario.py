"""Card entries in a scenario's cast (`- {card: sally.png, location: room}`), resolved to characters.

The loader calls :func:`resolve_card_entries` on the raw YAML data before
validation; each card entry becomes a plain character mapping, so the rest of
simstage only ever sees characters. Paths are relative to the scenario file
and must name a .png or .json file.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from simstage.cards.card import read_card
from simstage.cards.cast import card_cast_fields, card_name
from simstage.cards.errors import CardError
from simstage.scenario.models import CardCastEntry

CARD_SUFFIXES = (".png", ".json")


@dataclass(frozen=True)
class CardProblem:
    """A problem with a card entry, at a path of keys and indices in the scenario."""

    loc: tuple[str | int, ...]
    message: str


def resolve_card_entries(
    data: dict[str, Any], base_dir: Path | None
) -> tuple[dict[str, Any], list[CardProblem], bool]:
    """Replace each card entry of `data["cast"]` by the character it describes.

    Args:
        data: the scenario as loaded from YAML (not changed).
        base_dir: the scenario file's folder; None when the text did not come from a file
            (a run log's header), where card entries are refused rather than read.

    Returns:
        (the data with card entries resolved, the problems found, whether any card was read).
    """
    cast = data.get("cast")
    if not isinstance(cast, list) or not any(isinstance(m, dict) and "card" in m for m in cast):
        return data, [], False
    problems: list[CardProblem] = []
    resolved: list[Any] = []
    for index, member in enumerate(cast):
        if not (isinstance(member, dict) and "card" in member):
            resolved.append(member)
            continue
        try:
            entry = CardCastEntry.model_validate(member)
        except ValidationError as exc:
            for error in exc.errors():
                problems.append(CardProblem(("cast", index, *error["loc"]), error["msg"]))
            resolved.append(member)
            continue
        except RecursionError:
            problems.append(CardProblem(("cast", index), "nesting too deep"))
            resolved.append(member)
            continue
        where = ("cast", index, "card")
        if base_dir is None:
            problems.append(CardProblem(where, "card entries are only read from scenario files"))
            resolved.append(member)
            continue
        path = base_dir / entry.card
        if path.suffix.lower() not in CARD_SUFFIXES:
            problems.append(
                CardProblem(where, f"a card must be a .png or .json file, not {entry.card!r}")
            )
            resolved.append(member)
            continue
        try:
            card = read_card(path)
        except CardError as exc:
            problems.append(CardProblem(where, str(exc)))
            resolved.append(member)
            continue
        resolved.append(_merge(entry, card_cast_fields(card, entry.name or card_name(card))))
    return {**data, "cast": resolved}, problems, True


def _merge(entry: CardCastEntry, fields: dict[str, Any]) -> dict[str, Any]:
    """The character: the card's fields, overridden (or, for secrets, extended) by the entry's."""
    member: dict[str, Any] = {"name": fields["name"], "persona": entry.persona or fields["persona"]}
    member["location"] = entry.location
    if entry.goals:
        member["goals"] = list(entry.goals)
    secrets = [*entry.secrets, *fields.get("secrets", [])]
    if secrets:
        member["secrets"] = secrets
    style = entry.style or fields.get("style")
    if style:
        member["style"] = style
    if entry.tom_depth is not None:
        member["tom_depth"] = entry.tom_depth
    if entry.knows:
        member["knows"] = {
            obj: k if isinstance(k, (str, bool)) else k.model_dump(by_alias=True)
            for obj, k in entry.knows.items()
        }
    first_line = entry.first_line or fields.get("first_line")
    if first_line:
        member["first_line"] = first_line
    return member
