"""Render chat messages into the text a model continues.

Rendering is append-only: adding messages only ever appends text, so a
character's sequence can keep its KV cache from one turn to the next.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from simstage.stage.base import Message


@dataclass(frozen=True)
class ChatFormat:
    """How one model family lays out a conversation."""

    name: str
    open_role: str
    """Text before a message; `{role}` is replaced by the role."""
    close: str
    """Text after a message's content."""
    assistant_role: str = "assistant"
    """What the format calls the model's own turns."""

    def _open(self, role: str) -> str:
        return self.open_role.format(role=self.assistant_role if role == "assistant" else role)

    def render(self, messages: Sequence[Message], prefix: str = "") -> str:
        """The prompt for the assistant's next reply, which starts with `prefix`."""
        parts = [self._open(m.role) + m.content + self.close for m in messages]
        parts.append(self._open("assistant") + prefix)
        return "".join(parts)


CHATML = ChatFormat("chatml", "<|im_start|>{role}\n", "<|im_end|>\n")
GEMMA = ChatFormat("gemma", "<start_of_turn>{role}\n", "<end_of_turn>\n", "model")
PLAIN = ChatFormat("plain", "", "\n\n")
"""For base models without a chat template: messages are paragraphs."""


def detect_chat_format(template: str | None) -> ChatFormat:
    """Pick the format that matches a GGUF's `tokenizer.chat_template`."""
    if not template:
        return PLAIN
    if "<|im_start|>" in template:
        return CHATML
    if "<start_of_turn>" in template:
        return GEMMA
    return PLAIN
