"""Character cards (SillyTavern/TavernAI, spec V1, V2 and V3) read as untrusted data.

A card is JSON, alone in a .json file or base64-encoded in a PNG text chunk
(`ccv3` for V3, `chara` for V2/V1; tEXt, zTXt or iTXt). Reading one never
follows a path, URL or asset named inside it, never evaluates anything, and
bounds every size: the file, each PNG chunk, the decompressed text, JSON
nesting, each field and the lorebook.
"""

from __future__ import annotations

import base64
import binascii
import json
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from simstage.cards.errors import CardError
from simstage.cards.png import PNG_SIGNATURE, png_text_chunks
from simstage.inputs import read_input
from simstage.terminal import UNPRINTABLE

MAX_CARD_FILE_BYTES = 32_000_000
"""Largest card file read (PNG cards carry an image; the JSON is a small part of it)."""
MAX_JSON_BYTES = 4_000_000
"""Largest card JSON, after base64 decoding."""
MAX_JSON_DEPTH = 32
"""Deepest nesting of arrays and objects in a card's JSON."""
MAX_FIELD_CHARS = 100_000
"""Longest text field accepted; longer is refused as hostile rather than clipped."""
MAX_LORE_ENTRIES = 256
"""Most lorebook entries read."""
CARD_KEYWORDS = ("ccv3", "chara")
"""PNG text-chunk keywords that hold a card, most preferred first."""


@dataclass(frozen=True)
class LoreEntry:
    """One lorebook (`character_book`) entry: what the character knows, and the words that recall it."""

    content: str
    keys: tuple[str, ...] = ()
    name: str = ""


@dataclass(frozen=True)
class Card:
    """The fields of a character card that simstage uses, as plain text."""

    name: str
    spec: str
    """`chara_card_v3`, `chara_card_v2`, or `v1` (no spec field)."""
    description: str = ""
    personality: str = ""
    scenario: str = ""
    first_mes: str = ""
    mes_example: str = ""
    lore: tuple[LoreEntry, ...] = field(default_factory=tuple)


def clean_text(text: str) -> str:
    """Text with control characters and bidi overrides removed, newlines normalised, NFC."""
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    return unicodedata.normalize("NFC", UNPRINTABLE.sub("", text)).strip()


def _depth(value: Any) -> int:
    """Deepest nesting of lists and dicts, without recursion."""
    deepest = 0
    stack: list[tuple[Any, int]] = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, dict | list):
            deepest = max(deepest, depth)
            if deepest > MAX_JSON_DEPTH:
                return deepest
            children = item.values() if isinstance(item, dict) else item
            stack.extend((child, depth + 1) for child in children)
    return deepest


def _loads(raw: bytes, name: str) -> dict[str, Any]:
    if len(raw) > MAX_JSON_BYTES:
        raise CardError(f"{name}: the card's JSON is larger than {MAX_JSON_BYTES} bytes")
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise CardError(
            f"{name}: the card's JSON is not UTF-8 ({exc.reason} at byte {exc.start})"
        ) from None
    try:
        data = json.loads(text)
    except RecursionError:
        raise CardError(
            f"{name}: the card's JSON nests deeper than {MAX_JSON_DEPTH} levels"
        ) from None
    except ValueError as exc:
        raise CardError(
            f"{name}: the card is not valid JSON ({str(exc).splitlines()[0][:120]})"
        ) from None
    if _depth(data) > MAX_JSON_DEPTH:
        raise CardError(f"{name}: the card's JSON nests deeper than {MAX_JSON_DEPTH} levels")
    if not isinstance(data, dict):
        raise CardError(f"{name}: a card must be a JSON object, this is a {type(data).__name__}")
    return data


def _text(data: dict[str, Any], key: str, name: str, *, required: bool = False) -> str:
    value = data.get(key)
    if value is None:
        if required:
            raise CardError(f"{name}: the card has no {key!r}")
        return ""
    if not isinstance(value, str):
        raise CardError(f"{name}: the card's {key!r} must be text, not {type(value).__name__}")
    if len(value) > MAX_FIELD_CHARS:
        raise CardError(f"{name}: the card's {key!r} is longer than {MAX_FIELD_CHARS} characters")
    return clean_text(value)


def _lore(data: dict[str, Any], name: str) -> tuple[LoreEntry, ...]:
    book = data.get("character_book")
    if book is None:
        return ()
    if not isinstance(book, dict):
        raise CardError(f"{name}: the card's 'character_book' must be an object")
    entries = book.get("entries", [])
    if isinstance(entries, dict):  # some editors store entries keyed by id
        entries = list(entries.values())
    if not isinstance(entries, list):
        raise CardError(f"{name}: the card's 'character_book.entries' must be a list")
    if len(entries) > MAX_LORE_ENTRIES:
        raise CardError(f"{name}: the card's lorebook has more than {MAX_LORE_ENTRIES} entries")
    found: list[LoreEntry] = []
    for index, entry in enumerate(entries):
        where = f"character_book.entries[{index}]"
        if not isinstance(entry, dict):
            raise CardError(f"{name}: {where} must be an object")
        if entry.get("enabled", True) is False:
            continue
        content = _text(entry, "content", f"{name}: {where}")
        keys = entry.get("keys", [])
        if not isinstance(keys, list) or not all(isinstance(k, str) for k in keys):
            raise CardError(f"{name}: {where}.keys must be a list of text")
        label = entry.get("name") or entry.get("comment") or ""
        if content:
            found.append(
                LoreEntry(
                    content=content,
                    keys=tuple(clean_text(k)[:200] for k in keys[:32]),
                    name=clean_text(label)[:200] if isinstance(label, str) else "",
                )
            )
    return tuple(found)


def card_from_json(data: dict[str, Any], name: str = "<card>") -> Card:
    """A card from its parsed JSON (V3, V2, or V1 with the fields at the top level).

    Raises:
        CardError: an unknown spec, missing or mistyped fields, or fields past the limits.
    """
    spec = data.get("spec")
    if spec in ("chara_card_v2", "chara_card_v3"):
        body = data.get("data")
        if not isinstance(body, dict):
            raise CardError(
                f"{name}: a {spec} card keeps its fields under 'data', which is missing"
            )
    elif spec is None and "name" in data:
        body, spec = data, "v1"
    else:
        shown = str(spec)[:40] if spec is not None else "none"
        raise CardError(
            f"{name}: not a character card (spec {shown!r}; expected chara_card_v2 or chara_card_v3)"
        )
    card_name = " ".join(_text(body, "name", name, required=True).split())
    if not card_name:
        raise CardError(f"{name}: the card's name is empty")
    return Card(
        name=card_name,
        spec=str(spec),
        description=_text(body, "description", name),
        personality=_text(body, "personality", name),
        scenario=_text(body, "scenario", name),
        first_mes=_text(body, "first_mes", name),
        mes_example=_text(body, "mes_example", name),
        lore=_lore(body, name),
    )


def _decode_chunk(raw: bytes, name: str, keyword: str) -> bytes:
    stripped = raw.strip()
    if stripped.startswith(b"{"):  # a few tools store the JSON itself, not base64
        return stripped
    try:
        return base64.b64decode(b"".join(stripped.split()), validate=True)
    except (binascii.Error, ValueError):
        raise CardError(f"{name}: the {keyword!r} text chunk is not valid base64") from None


def card_from_bytes(data: bytes, name: str = "<card>") -> Card:
    """A card from a file's bytes: a PNG with a card chunk, or JSON.

    Raises:
        CardError: too large, not a PNG or JSON, a PNG without a card, or a broken card.
    """
    if len(data) > MAX_CARD_FILE_BYTES:
        raise CardError(f"{name}: file is larger than {MAX_CARD_FILE_BYTES} bytes")
    if data.startswith(PNG_SIGNATURE):
        chunks = png_text_chunks(data, name, CARD_KEYWORDS)
        for keyword in CARD_KEYWORDS:
            if keyword in chunks:
                return card_from_json(
                    _loads(_decode_chunk(chunks[keyword], name, keyword), name), name
                )
        raise CardError(
            f"{name}: this PNG holds no character card (no 'chara' or 'ccv3' text chunk)"
        )
    return card_from_json(_loads(data, name), name)


def read_card(path: str | Path) -> Card:
    """Read a card file (.png or .json).

    Raises:
        CardError: unreadable, too large, or not a usable card.
    """
    name = str(path)
    try:
        data = read_input(path, MAX_CARD_FILE_BYTES)
    except OSError as exc:
        raise CardError(f"{name}: cannot read: {exc.strerror or exc}") from None
    return card_from_bytes(data, name)
