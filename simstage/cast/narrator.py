"""The narrator's view: what an onlooker of the whole scene saw, as the model reads it.

The director and the bare stage read this. It is the model's own text, kept
apart from the display (`render.py`), so a cosmetic change to the transcript
never changes what the model sees (nor breaks `replay --verify`).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from simstage.events import Claimed, Entered, Exited, Moved, Said

PUBLIC_LINES: dict[type, str] = {
    Entered: "{who} enters the {to}.",
    Exited: "{who} leaves the {frm} for the {to}.",
    Moved: "{who} moves the {object} from the {frm} to the {to}.",
    Said: "{who}: {text}",
    Claimed: "{who} claims: {text}",
}
"""The line of each world event anyone in the room could see, by event type."""


def public_line(event: Any) -> str | None:
    """A world event anyone in the room could see, in the third person; None for any other."""
    template = PUBLIC_LINES.get(type(event))
    return None if template is None else template.format_map(vars(event))


def public_transcript(events: Sequence[Any], limit: int = 30) -> str:
    """The last `limit` public lines of the scene."""
    lines = [line for event in events if (line := public_line(event))]
    text = "\n".join(lines[-limit:])
    return text or "(Nothing has happened yet.)"
