"""Which text of a prompt is the template's markup, and which came from outside it.

Only a chat template's own markers may become special tokens. Everything a
message carries (a scenario's names and personas, a card, a model's line, a
human's) is tokenized as plain text, as llama.cpp's `parse_special=false` does:
a card whose greeting holds `<|im_start|>system` shows those characters to the
model, never a system turn.

The renderer sees each message's content between two Unicode noncharacters
(`mark`), so the rendered text says where every content went, whatever the
template did with it; `split_marked` cuts it into spans. Where a template cut a
content (Qwen3 keeps what follows `</think>`), one mark comes alone: the text
beside it that ends (or starts) a content is content, and anything in doubt
counts as content, never as markup. A template that cuts both marks off (a slice
from the middle) could pass content off as markup, so a prompt whose content
holds control-token text is rendered once more with those markers broken
(`defuse`); if the template's special tokens differ, the broken one is used.

`MarkupTokenizer` then tokenizes spans as llama.cpp tokenizes a whole text
(control tokens split out longest first, with their strip rules; the text between
them tokenized in one piece), except that control tokens are searched for in
markup only. A clean prompt gets exactly the tokens it got before.

The remote stage cannot choose how its server tokenizes, so `neutralise` breaks
anything shaped like a marker with a zero-width space (U+200B) after its first
character: the text reads the same, and no server's tokenizer matches it.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from simstage.stage.base import Message

OPEN, CLOSE = "\ufdd0", "\ufdd1"
"""Around each content while rendering: noncharacters, which no text people or models write holds."""

BREAK = "\u200b"
"""Put inside a marker to break it: a zero-width space."""

_SENTINELS = re.compile(f"([{OPEN}{CLOSE}])")
_ASCII_SPACE = " \t\n\v\f\r"  # what llama.cpp's strip rules (C isspace) remove

MARKER_SHAPES = re.compile(
    r"<\|[^<>|\s]{1,64}\|>"  # <|im_start|>, <|eot_id|>, <|START_OF_TURN_TOKEN|>
    r"|<｜[^<>｜]{1,64}｜>"  # DeepSeek's <｜User｜>
    r"|</?[A-Za-z_][\w.-]{0,63}>"  # <start_of_turn>, <s>, </s>, <bos>, <think>
    r"|<</?SYS>>"  # Llama 2
    r"|\[/?[A-Za-z_]\w{0,31}\]"  # [INST], [/INST], [SYSTEM_PROMPT], [gMASK]
)
"""What chat markers look like across model families (for a server whose vocabulary is unknown)."""


class Renderer(Protocol):
    """A chat template, a built-in or a screenplay (`ChatTemplate` in `templates.py`)."""

    def render(self, messages: Sequence[Message], prefix: str = "") -> str: ...


@dataclass(frozen=True)
class Span:
    """A stretch of a rendered prompt."""

    text: str
    markup: bool
    """True: the template's own text, whose markers are special tokens; False: content, plain text."""


@dataclass(frozen=True)
class Special:
    """A control token found in markup, with llama.cpp's whitespace rules for it."""

    token: int
    text: str
    lstrip: bool = False
    rstrip: bool = False


def mark(messages: Sequence[Message], outer_space: bool = True) -> list[Message]:
    """Each content between `OPEN` and `CLOSE`.

    With `outer_space`, a content's outer whitespace stays outside the marks, so a
    template's `| trim` still trims it; without, all of it is inside (for a
    template that strips whitespace after cutting a content).
    """
    out = []
    for m in messages:
        text = _scrub(m.content)
        core = text.strip() if outer_space else text
        if core:
            lead = len(text) - len(text.lstrip()) if outer_space else 0
            text = text[:lead] + OPEN + core + CLOSE + text[lead + len(core) :]
        out.append(Message(m.role, text))
    return out


def _scrub(text: str) -> str:
    return text.replace(OPEN, "\ufffd").replace(CLOSE, "\ufffd")


def split_marked(text: str, contents: Sequence[str] = ()) -> list[Span]:
    """Spans of a marked render: a stretch is markup only where no mark says it is content.

    A stretch is markup when it starts the text or follows a `CLOSE`, and ends the
    text or precedes an `OPEN`; between an `OPEN` and a `CLOSE` it is content.
    A mark without its pair means the template cut that content: beside a lone
    `CLOSE`, the longest end of the stretch that ends one of `contents` is
    content; after a lone `OPEN`, the longest start that starts one of them; the
    rest is markup. (With no `contents`, the whole stretch counts as content.)
    """
    parts = _SENTINELS.split(text)
    spans: list[Span] = []
    for i in range(0, len(parts), 2):
        stretch = parts[i]
        left = parts[i - 1] if i else CLOSE
        right = parts[i + 1] if i + 1 < len(parts) else OPEN
        if left == CLOSE and right == OPEN:
            spans.append(Span(stretch, markup=True))
        elif left == OPEN and right == CLOSE:
            spans.append(Span(stretch, markup=False))
        elif right == CLOSE:  # the end of a content whose start was cut off
            n = max(
                (_common_prefix(stretch[::-1], c[::-1]) for c in contents), default=len(stretch)
            )
            spans += [
                Span(stretch[: len(stretch) - n], markup=True),
                Span(stretch[len(stretch) - n :], markup=False),
            ]
        else:  # the start of a content whose end was cut off
            n = max((_common_prefix(stretch, c) for c in contents), default=len(stretch))
            spans += [Span(stretch[:n], markup=False), Span(stretch[n:], markup=True)]
    return [span for span in spans if span.text]


def _common_prefix(a: str, b: str) -> int:
    n = min(len(a), len(b))
    i = 0
    while i < n and a[i] == b[i]:
        i += 1
    return i


def _whole(marked: str, contents: set[str]) -> bool:
    """Whether every content came through whole: marks paired in order, each pair around a content."""
    parts = _SENTINELS.split(marked)
    marks = parts[1::2]
    if marks != [OPEN, CLOSE] * (len(marks) // 2):
        return False
    return all(parts[i] in contents for i in range(2, len(parts), 4))


def prompt_spans(renderer: Renderer, messages: Sequence[Message], prefix: str = "") -> list[Span]:
    """The prompt for the assistant's next reply, as spans; `prefix` (untrusted too) last.

    Where the template cut a content (its marks come unpaired), the marking that
    renders the same text as the plain messages is used.
    """
    outer = True
    marked = renderer.render(mark(messages))
    if not _whole(marked, {_scrub(m.content).strip() for m in messages}):
        plain = renderer.render(messages)
        if _SENTINELS.sub("", marked) != plain:
            inside = renderer.render(mark(messages, outer_space=False))
            if _SENTINELS.sub("", inside) == plain:
                marked, outer = inside, False
    contents = [_scrub(m.content).strip() if outer else _scrub(m.content) for m in messages]
    spans = split_marked(marked, [c for c in contents if c])
    return [*spans, Span(prefix, markup=False)] if prefix else spans


def defuse(text: str, markers: Iterable[str]) -> str:
    """`text` with every occurrence of `markers` broken by `BREAK` after its first character."""
    pattern = "|".join(re.escape(m) for m in sorted(set(markers), key=len, reverse=True) if m)
    if not pattern:
        return text
    found = re.compile(pattern)
    for _ in range(8):  # a break can only unmake matches; a few passes settle overlaps
        fixed = found.sub(lambda m: m.group(0)[0] + BREAK + m.group(0)[1:], text)
        if fixed == text:
            break
        text = fixed
    return text


def neutralise(text: str) -> str:
    """`text` with anything shaped like a chat marker broken (for a server that parses them)."""
    return MARKER_SHAPES.sub(lambda m: m.group(0)[0] + BREAK + m.group(0)[1:], text)


def fragments(
    spans: Sequence[Span], specials: Callable[[str], Sequence[Special]]
) -> list[str | Special]:
    """llama.cpp's partition of a text into raw text and control tokens, searching markup only.

    Args:
        spans: the prompt.
        specials: the control tokens llama.cpp finds in a span of markup.

    Returns:
        Raw text and control tokens, alternating; the raw text across a content's
        edges is one piece, as it is when llama.cpp tokenizes the whole text.
    """
    pieces: list[str | Special] = []
    for span in spans:
        parts: list[str | Special] = [span.text]
        if span.markup:
            # Longest first, each splitting every raw piece left to right, as llama.cpp does.
            for special in sorted(specials(span.text), key=lambda s: -len(s.text)):
                parts = [q for p in parts for q in _split(p, special)]
        for part in parts:
            if isinstance(part, str) and pieces and isinstance(pieces[-1], str):
                pieces[-1] += part
            elif part != "":
                pieces.append(part)
    for i, piece in enumerate(pieces):
        if isinstance(piece, Special):
            if piece.lstrip and i and isinstance(pieces[i - 1], str):
                pieces[i - 1] = str(pieces[i - 1]).rstrip(_ASCII_SPACE)
            if piece.rstrip and i + 1 < len(pieces) and isinstance(pieces[i + 1], str):
                pieces[i + 1] = str(pieces[i + 1]).lstrip(_ASCII_SPACE)
    return [p for p in pieces if p != ""]


def _split(part: str | Special, special: Special) -> list[str | Special]:
    if isinstance(part, Special) or special.text not in part:
        return [part]
    out: list[str | Special] = []
    for i, raw in enumerate(part.split(special.text)):
        if i:
            out.append(special)
        out.append(raw)
    return out


CACHED = 4096
"""Texts whose tokens a `MarkupTokenizer` remembers (all are forgotten when it is full)."""


class MarkupTokenizer:
    """Tokens of a prompt: the template's markers as control tokens, every other character as plain text.

    Args:
        lc: the llama_cpp module.
        vocab: the model's `llama_vocab`.
        tokenize: `(text, add_special, special) -> ids`, llama.cpp's tokenizer.
    """

    def __init__(
        self, lc: Any, vocab: Any, tokenize: Callable[[str, bool, bool], list[int]]
    ) -> None:
        self._lc, self._vocab, self._tokenize = lc, vocab, tokenize
        self._found: dict[str, tuple[Special, ...]] = {}
        self._plain: dict[str, list[int]] = {}
        bos, eos = lc.llama_vocab_bos(vocab), lc.llama_vocab_eos(vocab)
        self._bos_token = bos
        self._bos = [bos] if bos >= 0 and lc.llama_vocab_get_add_bos(vocab) else []
        self._eos = [eos] if eos >= 0 and lc.llama_vocab_get_add_eos(vocab) else []

    def specials(self, text: str) -> tuple[Special, ...]:
        """The control tokens llama.cpp finds in `text` when it parses special tokens (cached)."""
        found = self._found.get(text)
        if found is None:
            lc, vocab = self._lc, self._vocab
            ids = dict.fromkeys(self._tokenize(text, False, True))
            attrs = {t: lc.llama_vocab_get_attr(vocab, t) for t in ids}
            found = tuple(
                Special(t, lc.llama_vocab_get_text(vocab, t).decode("utf-8", errors="replace"),
                        bool(a & lc.LLAMA_TOKEN_ATTR_LSTRIP), bool(a & lc.LLAMA_TOKEN_ATTR_RSTRIP))
                for t, a in attrs.items()
                if a & (lc.LLAMA_TOKEN_ATTR_CONTROL | lc.LLAMA_TOKEN_ATTR_UNKNOWN)
            )  # fmt: skip
            if len(self._found) > CACHED:
                self._found.clear()
            self._found[text] = found
        return found

    def plain(self, text: str) -> list[int]:
        """Tokens of `text` with no special token parsed (cached: a growing prompt repeats its pieces)."""
        ids = self._plain.get(text)
        if ids is None:
            ids = self._tokenize(text, False, False)
            if len(self._plain) > CACHED:
                self._plain.clear()
            self._plain[text] = ids
        return ids

    def spans(
        self, renderer: Renderer, messages: Sequence[Message], prefix: str = ""
    ) -> list[Span]:
        """`prompt_spans`, rendered again with markers broken if a template cut content loose into markup."""
        spans = prompt_spans(renderer, messages, prefix)
        markers = {s.text for m in messages for s in self.specials(m.content)}
        if not markers:
            return spans
        safe = prompt_spans(
            renderer, [Message(m.role, defuse(m.content, markers)) for m in messages], prefix
        )
        return spans if self._markup_tokens(spans) == self._markup_tokens(safe) else safe

    def _markup_tokens(self, spans: Sequence[Span]) -> list[int]:
        return [p.token for p in fragments(spans, self.specials) if isinstance(p, Special)]

    def tokens(self, spans: Sequence[Span]) -> list[int]:
        """The prompt's tokens, with the vocabulary's BOS (and EOS) unless the markup writes its BOS."""
        pieces = fragments(spans, self.specials)
        own_bos = (
            bool(pieces) and isinstance(pieces[0], Special) and pieces[0].token == self._bos_token
        )
        out = [] if own_bos else list(self._bos)
        for piece in pieces:
            out.extend([piece.token] if isinstance(piece, Special) else self.plain(piece))
        return out if own_bos else out + self._eos
