"""The model's vocabulary, for `LlamaStage`: text to tokens and back, a prompt's tokens, the end tokens."""

from __future__ import annotations

import ctypes
from collections.abc import Sequence
from typing import Any

from simstage.stage.base import Message
from simstage.stage.markup import MarkupTokenizer
from simstage.stage.templates import ChatTemplate


class LlamaVocab:
    """The vocabulary of one loaded model (a mixin of `LlamaStage`, which sets the fields below)."""

    _lc: Any
    _vocab: Any
    _markup: MarkupTokenizer
    chat_format: ChatTemplate
    n_vocab: int

    def tokenize(self, text: str, add_special: bool = True, special: bool = False) -> list[int]:
        """Tokens of `text`; with `special`, control-token text becomes control tokens (markup only)."""
        lc = self._lc
        data = text.encode("utf-8")
        size = len(data) + 8
        buf = (lc.llama_token * size)()
        n = lc.llama_tokenize(self._vocab, data, len(data), buf, size, add_special, special)
        if n < 0:
            size = -n
            buf = (lc.llama_token * size)()
            n = lc.llama_tokenize(self._vocab, data, len(data), buf, size, add_special, special)
        return list(buf[:n])

    def piece(self, token: int, special: bool = False) -> bytes:
        """The bytes a token stands for (with `special`, control tokens as their text)."""
        buf = ctypes.create_string_buffer(64)
        n = self._lc.llama_token_to_piece(self._vocab, token, buf, 64, 0, special)
        if n < 0:
            buf = ctypes.create_string_buffer(-n)
            n = self._lc.llama_token_to_piece(self._vocab, token, buf, -n, 0, special)
        return buf.raw[:n]

    def prompt_text(self, messages: Sequence[Message], prefix: str = "") -> str:
        """The text of the prompt for the assistant's next reply, as the model's template renders it."""
        return "".join(span.text for span in self._markup.spans(self.chat_format, messages, prefix))

    def prompt_tokens(self, messages: Sequence[Message], prefix: str = "") -> list[int]:
        """The tokens of the prompt for the assistant's next reply: only the template's markers are special."""
        return self._markup.tokens(self._markup.spans(self.chat_format, messages, prefix))

    def count_tokens(self, messages: Sequence[Message]) -> int:
        """How many tokens the prompt for `messages` takes."""
        return len(self.prompt_tokens(messages))

    def _eog_tokens(self) -> list[int]:
        if getattr(self, "_eog", None) is None:
            self._eog = [
                t for t in range(self.n_vocab) if self._lc.llama_vocab_is_eog(self._vocab, t)
            ]
        return self._eog
