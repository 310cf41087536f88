"""Which text a model continues: its own chat template, or a screenplay.

A GGUF with `tokenizer.chat_template` is prompted with it (`templates.py`, in
jinja2's sandbox). The stage option `chat_template` can name a llama.cpp
built-in family instead (for a GGUF that ships none), a `.jinja` file, or
`screenplay`. A model with no template at all is a base model: it plays a
screenplay, whose lines the cast writes (`cast/screenplay.py`).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from simstage.inputs import read_input
from simstage.stage.base import Message
from simstage.stage.templates import BuiltinTemplate, ChatTemplate, JinjaTemplate, TemplateError

SCREENPLAY = "screenplay"


class Screenplay:
    """Messages as lines of one text, for base models: no markup at all.

    A last message from the assistant is an open line (`Sally:`) the model
    continues; after any other, the reply starts on a new line.
    """

    name = SCREENPLAY
    sha256: str | None = None

    def __init__(self, origin: str):
        self.origin = origin

    def render(self, messages: Sequence[Message], prefix: str = "") -> str:
        """The screenplay text, then `prefix`."""
        text = "\n".join(m.content.rstrip("\n") for m in messages)
        if messages and messages[-1].role == "assistant":
            return text + prefix
        return text + "\n" + prefix


def template_option(option: str | None, base_dir: Path | None) -> str | None:
    """The `chat_template` option with a relative `.jinja` path looked up beside the scenario first."""
    if (
        option
        and option.endswith(".jinja")
        and base_dir is not None
        and (base_dir / option).is_file()
    ):
        return str(base_dir / option)
    return option


def select_renderer(
    template: str | None, *, option: str | None, bos_token: str, eos_token: str, model_path: Path
) -> ChatTemplate:
    """The renderer for a model, from its GGUF template and the stage's `chat_template` option.

    Args:
        template: the GGUF's `tokenizer.chat_template`, if any.
        option: `None` (the GGUF's own; a screenplay where it has none), `screenplay`,
            a path to a `.jinja` file, or a llama.cpp built-in family (`llama3`, `chatml`, ...).
        bos_token: the vocabulary's begin-of-sequence text.
        eos_token: the vocabulary's end-of-sequence text.
        model_path: the GGUF, named in errors.

    Raises:
        TemplateError: the template is unusable or hostile, or the family is unknown.
    """
    if option == SCREENPLAY:
        return Screenplay("stage.chat_template: screenplay")
    if option and option.endswith(".jinja"):
        path = Path(option).expanduser()
        try:
            # Newlines as a text-mode read gives them (\r\n and \r become \n).
            text = read_input(path).decode("utf-8").replace("\r\n", "\n").replace("\r", "\n")
        except (OSError, UnicodeDecodeError) as exc:
            raise TemplateError(f"cannot read chat template {path}: {exc}") from None
        return JinjaTemplate(text, bos_token=bos_token, eos_token=eos_token, origin=str(path))
    if option:
        return BuiltinTemplate(option)
    if template:
        origin = f"{model_path} (tokenizer.chat_template)"
        return JinjaTemplate(template, bos_token=bos_token, eos_token=eos_token, origin=origin)
    return Screenplay(f"{model_path.name} has no chat template (a base model)")
