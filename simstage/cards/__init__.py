"""Character cards (SillyTavern/TavernAI V1, V2, V3) as cast members, read as untrusted input."""

from __future__ import annotations

from simstage.cards.card import Card, LoreEntry, card_from_bytes, card_from_json, read_card
from simstage.cards.cast import card_cast_entry, card_cast_fields
from simstage.cards.errors import CardError
from simstage.cards.png import png_text_chunks

__all__ = [
    "Card",
    "CardError",
    "LoreEntry",
    "card_cast_entry",
    "card_cast_fields",
    "card_from_bytes",
    "card_from_json",
    "png_text_chunks",
    "read_card",
]
