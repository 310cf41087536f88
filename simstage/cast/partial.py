"""A turn read while it is generated: the `say` words so far, and the action once it is whole.

A character's turn streams in as JSON (`{"say": "The keys are…", "action": …}`).
`PartialTurn` reads the chunks as they come, once each, and keeps the decoded
value of the top-level `say` string as far as it has got: escapes are decoded
(`\\n`, `\\"`, `\\u00e9`, surrogate pairs), and an escape cut off by the end of a
chunk waits for the next one, so the words shown never carry half an escape. The
`action` value is decoded as soon as it is complete. A reply that does not open
with `{` (a screenplay line, a model ignoring the format) is shown as it is.
"""

from __future__ import annotations

import json
from typing import Any

_ESCAPES = {'"': '"', "\\": "\\", "/": "/", "b": "\b", "f": "\f", "n": "\n", "r": "\r", "t": "\t"}
_DECODER = json.JSONDecoder()


class PartialTurn:
    """Reads a streamed turn one chunk at a time (`feed`); `say` and `action` are what is known so far."""

    def __init__(self) -> None:
        self.raw = ""
        """Everything fed so far."""
        self.say = ""
        """The `say` string decoded so far (for a reply that is not JSON: the text itself)."""
        self.action: dict[str, Any] | None = None
        """The `action` object, once the whole of it has arrived (a `null` action stays None)."""
        self._json: bool | None = None
        self._depth = 0
        self._in_string = False
        self._string = ""
        self._escape: str | None = None
        self._high: str | None = None
        self._role = ""
        self._key = ""
        self._expect_value = False
        self._action_at: int | None = None
        self._action_done = False

    @property
    def is_json(self) -> bool:
        """Whether the reply opened as a JSON object (False until its first character)."""
        return bool(self._json)

    def feed(self, chunk: str) -> PartialTurn:
        """Read the next chunk; returns self, so `PartialTurn().feed(raw)` reads a whole text."""
        start = len(self.raw)
        self.raw += chunk
        if self._json is None:
            stripped = self.raw.lstrip()
            if not stripped:
                return self
            self._json = stripped.startswith("{")
            start = len(self.raw) - len(stripped)
        if not self._json:
            self.say = self.raw.strip()
            return self
        for position in range(start, len(self.raw)):
            self._read(self.raw[position], position)
        if self._action_at is not None and not self._action_done:
            self._try_action()
        return self

    def _read(self, char: str, position: int) -> None:
        if self._in_string:
            self._read_in_string(char)
            return
        if self._expect_value and not char.isspace():
            self._expect_value = False
            if self._key == "action" and self._action_at is None:
                self._action_at = position
            if char == '"' and self._depth == 1:
                self._open_string("say" if self._key == "say" else "value")
                return
        if char == '"':
            self._open_string("key" if self._depth == 1 else "value")
        elif char in "{[":
            self._depth += 1
        elif char in "}]":
            self._depth -= 1
        elif char == ":" and self._depth == 1:
            self._expect_value = True

    def _open_string(self, role: str) -> None:
        self._in_string, self._role, self._string = True, role, ""

    def _read_in_string(self, char: str) -> None:
        if self._escape is not None:
            self._escape += char
            text = self._decode_escape(self._escape)
            if text is not None:
                self._escape = None
                self._emit(text)
            return
        if char == "\\":
            self._escape = ""
        elif char == '"':
            self._in_string = False
            if self._high is not None:
                self._emit_now("\ufffd")
                self._high = None
            if self._role == "key":
                self._key = self._string
        else:
            self._emit(char)

    def _decode_escape(self, escape: str) -> str | None:
        """The text of a complete escape (after the backslash); None while it is incomplete."""
        if escape[0] != "u":
            return _ESCAPES.get(escape, escape)
        if len(escape) < 5:
            return None
        try:
            return chr(int(escape[1:5], 16))
        except ValueError:
            return "\ufffd"

    def _emit(self, text: str) -> None:
        """Add decoded text, pairing a UTF-16 high surrogate with the low one after it."""
        code = ord(text) if len(text) == 1 else 0
        if self._high is not None:
            high, self._high = self._high, None
            if 0xDC00 <= code <= 0xDFFF:
                self._emit_now(chr(0x10000 + ((ord(high) - 0xD800) << 10) + (code - 0xDC00)))
                return
            self._emit_now("\ufffd")
        if 0xD800 <= code <= 0xDBFF:
            self._high = text
        else:
            self._emit_now("\ufffd" if 0xDC00 <= code <= 0xDFFF else text)

    def _emit_now(self, text: str) -> None:
        self._string += text
        if self._role == "say":
            self.say += text

    def _try_action(self) -> None:
        assert self._action_at is not None
        try:
            value, _ = _DECODER.raw_decode(self.raw, self._action_at)
        except ValueError:
            return
        self._action_done = True
        self.action = value if isinstance(value, dict) else None


def action_preview(action: dict[str, Any]) -> str:
    """An action as a short phrase for the streaming line ("move ring → desk drawer")."""
    kind = str(action.get("type", "?"))
    if kind == "move":
        return f"move {action.get('object')} → {action.get('to')}"
    if kind == "claim":
        return f"claim: {action.get('object')} in the {action.get('container')}"
    if kind == "tell":
        return f"tell {action.get('to')}: {action.get('text', '')}"
    if kind in ("enter", "exit"):
        return f"{kind} → {action.get('to')}"
    return kind
