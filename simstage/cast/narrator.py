"""The narrator's view: what an onlooker of the whole scene saw, as the model reads it.

The director and the bare stage read this. It is the model's own text, kept
apart from the display (`render.py`), so a cosmetic change to the transcript
never changes what the model sees (nor breaks `replay --verify`).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from simstage.events import Claimed, Entered, Exited, Moved, Said


def public_line(event: Any) -> str | None:
    """A world event anyone in the room could see, in the third person; None for any other."""
    if isinstance(event, Entered):
        return f"{event.who} enters the {event.to}."
    if isinstance(event, Exited):
        return f"{event.who} leaves the {event.frm} for the {event.to}."
    if isinstance(event, Moved):
        return f"{event.who} moves the {event.object} from the {event.frm} to the {event.to}."
    if isinstance(event, Said):
        return f"{event.who}: {event.text}"
    if isinstance(event, Claimed):
        return f"{event.who} claims: {event.text}"
    return None


def public_transcript(events: Sequence[Any], limit: int = 30) -> str:
    """The last `limit` public lines of the scene."""
    lines = [line for event in events if (line := public_line(event))]
    text = "\n".join(lines[-limit:])
    return text or "(Nothing has happened yet.)"
