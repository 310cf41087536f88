"""A character card as a scenario cast entry.

The mapping: persona = description + personality; first_line = first_mes (spoken
at the start of turn 1); style = mes_example (how the character talks); secrets =
the enabled lorebook entries (what only this character knows). The card's own
`scenario` describes a different scene, so it is not used. `{{char}}`/`<BOT>`
become the character's name and `{{user}}`/`<USER>` "the others" (a simstage scene
has no user). Text is clipped to the scenario model's limits.
"""

from __future__ import annotations

import re
from typing import Any

from simstage.cards.card import Card

PERSONA_CHARS = 4000
"""The scenario model's longest persona."""
LINE_CHARS = 2000
"""The scenario model's longest spoken line."""
STYLE_CHARS = 1500
SECRET_CHARS = 1000
MAX_SECRETS = 32
NAME_CHARS = 64

_CHAR = re.compile(r"\{\{\s*char\s*\}\}|<BOT>", re.IGNORECASE)
_USER = re.compile(r"\{\{\s*user\s*\}\}|<USER>", re.IGNORECASE)


def _clip(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def fill_macros(text: str, name: str) -> str:
    """Replace the card macros for the character and the user."""
    return _USER.sub("the others", _CHAR.sub(lambda _: name, text))


def card_name(card: Card) -> str:
    """The card's name within the cast's name limit."""
    return card.name[:NAME_CHARS].strip()


def card_cast_fields(card: Card, name: str | None = None) -> dict[str, Any]:
    """The cast-entry fields a card provides (no `location`: the scene decides where).

    Args:
        card: the card.
        name: the name the character goes by (default: the card's); macros use it.

    Returns:
        A dict with `name`, `persona`, and where the card has them `first_line`, `style`, `secrets`.
    """
    name = name or card_name(card)
    parts = [card.description, f"Personality: {card.personality}" if card.personality else ""]
    persona = (
        fill_macros("\n\n".join(p for p in parts if p), name) or f"{name}, from a character card."
    )
    fields: dict[str, Any] = {"name": name, "persona": _clip(persona, PERSONA_CHARS)}
    if card.first_mes:
        fields["first_line"] = _clip(fill_macros(card.first_mes, name), LINE_CHARS)
    if card.mes_example:
        fields["style"] = _clip(fill_macros(card.mes_example, name), STYLE_CHARS)
    secrets = [
        _clip(fill_macros(entry.content, name), SECRET_CHARS) for entry in card.lore[:MAX_SECRETS]
    ]
    if secrets:
        fields["secrets"] = secrets
    return fields


def card_cast_entry(card: Card, location: str) -> dict[str, Any]:
    """A whole cast entry for a card, standing in `location`."""
    fields = card_cast_fields(card)
    entry: dict[str, Any] = {
        "name": fields.pop("name"),
        "persona": fields.pop("persona"),
        "location": location,
    }
    entry.update(fields)
    return entry
