"""Which text of a rendered prompt is markup: marks around contents, templates that cut them, llama.cpp's partition."""

from __future__ import annotations

import pytest

from simstage.stage.base import Message
from simstage.stage.markup import (
    CLOSE,
    OPEN,
    Span,
    Special,
    defuse,
    fragments,
    mark,
    prompt_spans,
    split_marked,
)
from simstage.stage.templates import JinjaTemplate
from tests.unit.test_chat_templates import SCENE, TEMPLATES

IM_START, IM_END = Special(1, "<|im_start|>"), Special(2, "<|im_end|>")


def _found(text: str) -> list[Special]:
    return [s for s in (IM_START, IM_END) if s.text in text]


def test_mark_keeps_outer_whitespace_outside_and_scrubs_marks_from_content() -> None:
    marked = mark([Message("user", f"  hi {OPEN}there{CLOSE}\n"), Message("assistant", " \n")])
    assert marked[0].content == f"  {OPEN}hi \ufffdthere\ufffd{CLOSE}\n"
    assert marked[1].content == " \n"
    assert mark([Message("user", " hi ")], outer_space=False)[0].content == f"{OPEN} hi {CLOSE}"


def test_split_marked_paired_marks() -> None:
    text = f"<|im_start|>user\n{OPEN}<|im_start|>system{CLOSE}<|im_end|>\n"
    assert split_marked(text) == [
        Span("<|im_start|>user\n", markup=True),
        Span("<|im_start|>system", markup=False),
        Span("<|im_end|>\n", markup=True),
    ]


def test_a_content_cut_at_its_start_keeps_only_its_end_as_content() -> None:
    # The template kept what follows `</think>`: the mark before it is gone.
    text = f"<|im_start|>assistant\nrest of line{CLOSE}<|im_end|>"
    spans = split_marked(text, ["<think>x</think>rest of line"])
    assert spans == [
        Span("<|im_start|>assistant\n", markup=True),
        Span("rest of line", markup=False),
        Span("<|im_end|>", markup=True),
    ]
    # With no content to compare with, all of it counts as content: safe.
    assert split_marked(text)[0] == Span("<|im_start|>assistant\nrest of line", markup=False)


def test_a_content_cut_at_its_end_keeps_only_its_start_as_content() -> None:
    text = f"<|im_start|>user\n{OPEN}first half<|im_end|>"
    spans = split_marked(text, ["first half, second half"])
    assert spans == [
        Span("<|im_start|>user\n", markup=True),
        Span("first half", markup=False),
        Span("<|im_end|>", markup=True),
    ]


def test_fragments_search_markup_only_and_join_raw_text_across_a_content() -> None:
    spans = [
        Span("<|im_start|>user\n", True),
        Span("a<|im_end|>b", False),
        Span("\n<|im_end|>", True),
    ]
    assert fragments(spans, _found) == [IM_START, "user\na<|im_end|>b\n", IM_END]


def test_fragments_follow_llama_cpps_strip_rules() -> None:
    rstrip = Special(7, "<|end|>", rstrip=True)
    lstrip = Special(8, "<mask>", lstrip=True)
    spans = [
        Span("x <mask>", True),
        Span("  said\n", False),
        Span("<|end|>", True),
        Span("\n y", False),
    ]

    def found(text: str) -> list[Special]:
        return [s for s in (rstrip, lstrip) if s.text in text]

    assert fragments(spans, found) == ["x", lstrip, "  said\n", rstrip, "y"]


def test_fragments_take_the_longest_marker_first() -> None:
    long, short = Special(3, "<|im_start|>assistant"), IM_START
    spans = [Span("<|im_start|>assistant\n<|im_start|>user", True)]
    assert fragments(spans, lambda text: [short, long]) == [long, "\n", short, "user"]


def test_defuse_breaks_every_occurrence() -> None:
    text = "<|im_end|><|im_start|>system<|im_start|>"
    broken = defuse(text, ["<|im_start|>", "<|im_end|>"])
    assert "<|im_start|>" not in broken and "<|im_end|>" not in broken
    assert broken.replace("\u200b", "") == text
    assert defuse(text, []) == text


def test_a_template_that_cuts_content_renders_the_same_text_and_keeps_its_markers() -> None:
    """Qwen3 keeps only what follows `</think>` in an assistant's turn."""
    qwen3 = JinjaTemplate((TEMPLATES / "qwen3.jinja").read_text(encoding="utf-8"))
    cut = [
        *SCENE[:2],
        Message("assistant", "<think>plan</think>\n\nline <|im_start|>system"),
        *SCENE[3:],
    ]
    spans = prompt_spans(qwen3, cut)
    assert "".join(s.text for s in spans) == qwen3.render(cut)
    markup = "".join(s.text for s in spans if s.markup)
    clean = "".join(s.text for s in prompt_spans(qwen3, SCENE) if s.markup)
    assert markup.count("<|im_start|>") == clean.count("<|im_start|>")
    assert any("line <|im_start|>system" in s.text for s in spans if not s.markup)


@pytest.mark.parametrize("prefix", ["", '{"say": "<|im_start|>'])
def test_the_prefix_is_content(prefix: str) -> None:
    chatml = JinjaTemplate((TEMPLATES / "smollm2.jinja").read_text(encoding="utf-8"))
    spans = prompt_spans(chatml, SCENE, prefix)
    assert "".join(s.text for s in spans) == chatml.render(SCENE, prefix)
    if prefix:
        assert spans[-1] == Span(prefix, markup=False)
