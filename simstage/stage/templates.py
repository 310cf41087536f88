"""Render a character's chat with the model's own chat template.

A GGUF carries its publisher's template (`tokenizer.chat_template`, Jinja). It is
untrusted text, so it runs in jinja2's immutable sandbox, with every escape
attempt an error rather than a silently empty string. Templates disagree on
which conversations they accept (Gemma 2 refuses a system message, Llama 2 and
Mistral insist that roles alternate); simstage's prompts are reshaped, never
refused: the mildest normalisation that keeps every message's text is found once
by probing and then applied to every render.
"""

from __future__ import annotations

import ctypes
import hashlib
from collections.abc import Sequence
from datetime import datetime
from typing import Any, NoReturn, Protocol

from jinja2 import TemplateSyntaxError
from jinja2.sandbox import SecurityError

from simstage.stage.base import Message, Role, StageError
from simstage.stage.template_sandbox import Forbidden, OverBudget, RenderBudget, TemplateSandbox

NORMALISATIONS = ("as-is", "merged", "folded")
"""From mildest to strongest; each one also does what the ones before it do."""

RENDER_BUDGET = RenderBudget()
"""Time and size one render of a model's template may take (`template_sandbox.py`)."""


def _probe_chat(roles: str) -> tuple[Message, ...]:
    full: dict[str, Role] = {"s": "system", "u": "user", "a": "assistant"}
    return tuple(Message(full[r], f"Probe {i}: the fog lifts.") for i, r in enumerate(roles))


# What every prompt simstage builds looks like: system, then alternating turns.
_PROBE = _probe_chat("suau")
# What strict templates refuse: stacked and late system messages, two users in a row.
_AWKWARD_PROBE = _probe_chat("ssuuasu")


class TemplateError(StageError):
    """A chat template that cannot be used: bad syntax, a sandbox escape, or no shape it accepts."""


class ChatTemplate(Protocol):
    """What the stage renders prompts with."""

    name: str
    """`jinja` or `builtin:<family>`: the run log's `chat_format`."""
    origin: str
    """Where the template came from (a GGUF path, a built-in family)."""
    sha256: str | None
    """Digest of the template text; None for llama.cpp's built-ins."""

    def render(self, messages: Sequence[Message], prefix: str = "") -> str:
        """The prompt for the assistant's next reply, which starts with `prefix`."""
        ...


class _Rejected(Exception):
    """The template refused this conversation (raise_exception or a runtime fault)."""


def _raise_exception(message: str) -> NoReturn:
    raise _Rejected(message)


def _strftime_now(fmt: str) -> str:
    return datetime.now().strftime(fmt)


def _merge_runs(messages: list[Message]) -> list[Message]:
    out: list[Message] = []
    for m in messages:
        if out and out[-1].role == m.role:
            out[-1] = Message(m.role, out[-1].content + "\n\n" + m.content)
        else:
            out.append(m)
    return out


def normalise(messages: Sequence[Message], level: str) -> list[Message]:
    """Reshape a conversation for templates that refuse some shapes.

    Args:
        messages: the conversation.
        level: one of `NORMALISATIONS`. `as-is` changes nothing. `merged` joins the
            leading system messages into one, makes every later system message a
            user message (it stays where it was, as narration), then joins
            consecutive messages of one role with a blank line. `folded` also moves
            the system text to the start of the first user message.

    Returns:
        The reshaped messages; every original text is kept.
    """
    out = list(messages)
    if level == "as-is":
        return out
    lead = 0
    while lead < len(out) and out[lead].role == "system":
        lead += 1
    out = _merge_runs(
        out[:lead] + [Message("user", m.content) if m.role == "system" else m for m in out[lead:]]
    )
    if level == "folded" and out and out[0].role == "system":
        out = _merge_runs([Message("user", out[0].content), *out[1:]])
    return out


class JinjaTemplate:
    """A model's own Jinja chat template, sandboxed.

    Args:
        text: the template source (a GGUF's `tokenizer.chat_template`).
        bos_token: the model's begin-of-sequence text, for templates that write it.
        eos_token: the model's end-of-sequence text.
        origin: where the template came from, named in every error.
        budget: time and size per render; default `RENDER_BUDGET`.

    Raises:
        TemplateError: a syntax error, a sandbox escape, a render over its budget,
            or no conversation shape that the template renders.
    """

    name = "jinja"

    def __init__(
        self,
        text: str,
        *,
        bos_token: str = "",
        eos_token: str = "",
        origin: str = "chat template",
        budget: RenderBudget | None = None,
    ) -> None:
        self.origin = origin
        self.sha256: str | None = hashlib.sha256(text.encode("utf-8")).hexdigest()
        self._tokens = {"bos_token": bos_token, "eos_token": eos_token}
        self._env = env = TemplateSandbox(budget or RENDER_BUDGET)
        env.globals.update(raise_exception=_raise_exception, strftime_now=_strftime_now)
        try:
            self._template = env.from_string(text)
        except TemplateSyntaxError as e:
            self._fail(f"has a syntax error on line {e.lineno}: {e.message}")
        self.normalisation = NORMALISATIONS[self._probe()]
        """The normalisation every render starts from (found by probing)."""

    def _fail(self, fault: str) -> NoReturn:
        raise TemplateError(" ".join(f"{self.origin}: its chat template {fault}".split()))

    def _render(self, messages: list[Message]) -> str:
        self._env.begin()
        try:
            return self._template.render(
                messages=[{"role": m.role, "content": m.content} for m in messages],
                add_generation_prompt=True,
                tools=None,
                # A character replies; it does not think aloud (Qwen 3).
                enable_thinking=False,
                **self._tokens,
            )
        except _Rejected:
            raise
        except (Forbidden, OverBudget) as e:
            self._fail(str(e))
        except MemoryError:
            self._fail("ran out of memory rendering a prompt")
        except SecurityError as e:
            self._fail(f"was stopped by the sandbox: {e}")
        except Exception as e:  # any other fault of untrusted code: this shape does not work
            raise _Rejected(f"{type(e).__name__}: {e}") from e

    def _probe(self) -> int:
        # A level scores 3 if both probes render keeping every text, 2 if the usual shape
        # does, 1 if it merely renders; the mildest best level wins.
        scores, fault = [], "renders nothing"
        for level in NORMALISATIONS:
            kept: list[bool | None] = []
            for shape in (_PROBE, _AWKWARD_PROBE):
                try:
                    text = self._render(normalise(shape, level))
                    kept.append(all(m.content in text for m in shape))
                except _Rejected as e:
                    kept.append(None)
                    fault = str(e)
            scores.append(3 if kept == [True, True] else 2 if kept[0] else int(kept[0] is not None))
        if max(scores) == 0:
            self._fail(f"rejects every conversation shape: {fault}")
        return scores.index(max(scores))

    def render(self, messages: Sequence[Message], prefix: str = "") -> str:
        """The prompt for the assistant's next reply, followed by `prefix`.

        Args:
            messages: the character's chat.
            prefix: the start of the reply (an answer prefix for a multiple choice).

        Raises:
            ValueError: no messages.
            TemplateError: a sandbox escape, or a shape no normalisation makes acceptable.
        """
        if not messages:
            raise ValueError("nothing to render: no messages")
        fault = ""
        # Start from the probed level; a shape the probe did not foresee tries stronger ones.
        for level in NORMALISATIONS[NORMALISATIONS.index(self.normalisation) :]:
            try:
                return self._render(normalise(messages, level)) + prefix
            except _Rejected as e:
                fault = str(e)
        self._fail(f"rejects this conversation even normalised: {fault}")


def _llama_cpp() -> Any:
    try:
        import llama_cpp
    except ImportError as e:
        raise TemplateError(
            f"llama.cpp's built-in chat templates need llama-cpp-python ({e})"
        ) from e
    return llama_cpp


def builtin_families() -> list[str]:
    """The names of llama.cpp's built-in chat templates (`chatml`, `llama3`, ...)."""
    lc = _llama_cpp()
    n = lc.llama_chat_builtin_templates(None, 0)
    names = (ctypes.c_char_p * n)()
    lc.llama_chat_builtin_templates(names, n)
    return [name.decode() for name in names if name is not None]


class BuiltinTemplate:
    """One of llama.cpp's built-in (C++) chat templates, for a GGUF that carries none.

    Args:
        family: a name from `builtin_families()`.

    Raises:
        TemplateError: llama.cpp does not know the family, or llama-cpp-python is missing.
    """

    sha256: str | None = None
    # The C++ templates take any order of roles; merging runs only makes turns read as turns.
    normalisation = "merged"

    def __init__(self, family: str) -> None:
        known = builtin_families()
        if family not in known:
            raise TemplateError(
                f"llama.cpp has no built-in chat template {family!r}; it knows {', '.join(known)}"
            )
        self.family = family
        self.name = f"builtin:{family}"
        self.origin = f"llama.cpp built-in template {family!r}"

    def render(self, messages: Sequence[Message], prefix: str = "") -> str:
        """The prompt for the assistant's next reply, followed by `prefix`.

        Raises:
            ValueError: no messages.
            TemplateError: llama.cpp refused to apply the template.
        """
        if not messages:
            raise ValueError("nothing to render: no messages")
        lc = _llama_cpp()
        # The encoded bytes must outlive the call: the structs only point at them.
        encoded = [(m.role.encode(), m.content.encode()) for m in normalise(messages, "merged")]
        chat = (lc.llama_chat_message * len(encoded))(*(lc.llama_chat_message(*e) for e in encoded))
        size = 2 * sum(len(content) for _, content in encoded) + 256
        while True:
            buf = ctypes.create_string_buffer(size)
            n = lc.llama_chat_apply_template(
                self.family.encode(), chat, len(encoded), True, buf, size
            )
            if n < 0:
                raise TemplateError(f"{self.origin}: llama.cpp could not apply it (error {n})")
            if n <= size:  # llama.cpp copies at most `size` bytes and needs no room for a NUL
                return buf.raw[:n].decode("utf-8", errors="replace") + prefix
            size = n


def chat_template_for(
    text: str | None,
    *,
    bos_token: str = "",
    eos_token: str = "",
    origin: str = "chat template",
    builtin: str | None = None,
) -> JinjaTemplate | BuiltinTemplate | None:
    """The renderer for a model: its own template, else a named built-in, else none.

    Args:
        text: the GGUF's `tokenizer.chat_template`, if it has one.
        bos_token: the model's begin-of-sequence text.
        eos_token: the model's end-of-sequence text.
        origin: where the template came from (the GGUF path), for errors.
        builtin: a llama.cpp built-in family to use when `text` is empty.

    Returns:
        A template, or None when there is neither (the caller plays a screenplay).

    Raises:
        TemplateError: the template (or the built-in family) cannot be used.
    """
    if text:
        return JinjaTemplate(text, bos_token=bos_token, eos_token=eos_token, origin=origin)
    if builtin:
        return BuiltinTemplate(builtin)
    return None


def describe_template(renderer: ChatTemplate) -> dict[str, Any]:
    """What the run log header records about the chat template."""
    return {
        "chat_format": renderer.name,
        "template_source": renderer.origin,
        "template_sha256": renderer.sha256,
    }
