"""Text from data (names, lines, titles, file names) made safe to print on a terminal.

A terminal acts on control characters: ESC starts a sequence that can clear
the screen, recolour it, retitle the window or plant a hyperlink (OSC 8); in
8-bit mode C1 characters (U+0080-U+009F) do the same, and BEL rings. A model's
line, a scenario's title or a forged run log can hold any of them, so what is
printed from data shows each one instead: C0 characters and DEL as their
Unicode control pictures (ESC as ␛, BEL as ␇, DEL as ␡), C1 characters and
the bidi overrides that reorder text on screen (U+202A-U+202E, U+2066-U+2069)
as a `\\x9b` or `\\u202e` escape. Newline and tab are kept: they are layout.
"""

from __future__ import annotations

import re

UNPRINTABLE = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")
"""What a terminal would obey rather than show: C0 (but newline and tab), DEL, C1, bidi overrides."""


def _shown(match: re.Match[str]) -> str:
    code = ord(match.group())
    if code < 0x20:
        return chr(0x2400 + code)
    if code == 0x7F:
        return "\u2421"
    if code <= 0x9F:
        return f"\\x{code:02x}"
    return f"\\u{code:04x}"


def printable(text: str) -> str:
    """`text` with every control character (but newline and tab) and bidi override shown, not obeyed."""
    return UNPRINTABLE.sub(_shown, text)
