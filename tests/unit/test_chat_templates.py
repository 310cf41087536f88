"""Real chat templates render simstage's prompts, reshaped where they refuse a shape, sandboxed."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from simstage.stage.base import Message
from simstage.stage.templates import (
    BuiltinTemplate,
    JinjaTemplate,
    TemplateError,
    chat_template_for,
    describe_template,
    normalise,
)

TEMPLATES = Path(__file__).resolve().parents[1] / "data" / "chat-templates"

# file stem: (user-turn marker, how a render ends: the generation prompt, normalisation probed)
FAMILIES = {
    stem: (row["user"], row["generation_prompt"], row["normalisation"])
    for stem, row in yaml.safe_load(
        (Path(__file__).resolve().parents[1] / "data" / "chat_families.yaml").read_text(
            encoding="utf-8"
        )
    ).items()
}
# SOURCES.md: the system text or a think block moves as the conversation grows.
NOT_APPEND_ONLY = {"mistral-nemo", "mistral-v0.3", "qwen3", "deepseek-r1-distill"}

SCENE = [
    Message(
        "system",
        "Scene: a lighthouse kitchen at night, a storm outside.\n"
        "You are Anne, the keeper. You distrust Ben.\n"
        'Reply as JSON: {"say": ..., "action": ...}.',
    ),
    Message("user", 'Ben says: "The lamp went out."\nCarl does: lights a candle.'),
    Message("assistant", '{"say": "Then fetch the oil.", "action": null}'),
    Message("user", 'Ben says: "The oil is gone."\nCarl says: "Someone took it."'),
    Message("assistant", '{"say": "Who was in the shed?", "action": {"look": "Ben"}}'),
    Message("user", 'Ben does: looks away.\nCarl says: "Ben was."\nThe wind rattles the door.'),
]
AWKWARD = [
    Message("system", "Scene: the lighthouse."),
    Message("system", "You are Anne."),
    Message("user", 'Ben says: "Hello."'),
    Message("user", "Carl does: waves."),
    Message("assistant", '{"say": "Hi both.", "action": null}'),
    Message("system", "Narrator: an hour passes."),
    Message("user", 'Ben says: "Still here?"'),
]


def _template(stem: str) -> JinjaTemplate:
    text = (TEMPLATES / f"{stem}.jinja").read_text(encoding="utf-8")
    return JinjaTemplate(text, bos_token="<BOS>", eos_token="<EOS>", origin=f"{stem}.gguf")


def _llama_cpp_or_skip() -> None:
    pytest.importorskip("llama_cpp", reason="llama-cpp-python is not installed")


def test_every_template_file_is_covered() -> None:
    assert {p.stem for p in TEMPLATES.glob("*.jinja")} == set(FAMILIES)


@pytest.mark.parametrize("stem", sorted(FAMILIES))
class TestRealTemplates:
    def test_scene_keeps_every_message_and_ends_ready_for_the_reply(self, stem: str) -> None:
        user_marker, generation_prompt, _ = FAMILIES[stem]
        out = _template(stem).render(SCENE)
        for m in SCENE:
            assert m.content in out, (m.role, m.content)
        assert out.endswith(generation_prompt)
        assert out.count(user_marker) == 3

    def test_prefix_is_appended(self, stem: str) -> None:
        t = _template(stem)
        assert t.render(SCENE, prefix='{"say": "') == t.render(SCENE) + '{"say": "'

    def test_probed_normalisation(self, stem: str) -> None:
        assert _template(stem).normalisation == FAMILIES[stem][2]

    def test_awkward_shapes_render_keeping_every_text(self, stem: str) -> None:
        out = _template(stem).render(AWKWARD)
        for m in AWKWARD:
            assert m.content in out, (m.role, m.content)
        assert out.endswith(FAMILIES[stem][1])

    def test_append_only(self, stem: str) -> None:
        """The prompt for turn 2, plus the reply, starts the prompt for turn 3 (KV reuse)."""
        t = _template(stem)
        before, after = t.render(SCENE[:4]), t.render(SCENE)
        # The stage copes with the others by matching the KV prefix token by token.
        assert after.startswith(before) == (stem not in NOT_APPEND_ONLY)


def _roles(text: str) -> JinjaTemplate:
    return JinjaTemplate(text + "{% for m in messages %}[{{ m.role }}]{{ m.content }}{% endfor %}")


def test_merged_joins_systems_turns_late_system_into_narration_and_joins_runs() -> None:
    strict = _roles(
        "{% for m in messages[1:] %}{% if (m.role == 'user') != (loop.index0 % 2 == 0) %}"
        "{{ raise_exception('Conversation roles must alternate') }}{% endif %}{% endfor %}"
    )
    assert strict.normalisation == "merged"
    assert strict.render(AWKWARD) == (
        "[system]Scene: the lighthouse.\n\nYou are Anne."
        '[user]Ben says: "Hello."\n\nCarl does: waves.'
        '[assistant]{"say": "Hi both.", "action": null}'
        '[user]Narrator: an hour passes.\n\nBen says: "Still here?"'
    )


def test_folded_moves_the_system_text_into_the_first_user_message() -> None:
    no_system = _roles(
        "{% if messages[0].role == 'system' %}{{ raise_exception('System role not supported') }}"
        "{% endif %}"
    )
    assert no_system.normalisation == "folded"
    assert no_system.render(SCENE[:2]) == f"[user]{SCENE[0].content}\n\n{SCENE[1].content}"
    assert no_system.render([SCENE[0]]) == f"[user]{SCENE[0].content}"


def test_normalise_as_is_changes_nothing() -> None:
    assert normalise(AWKWARD, "as-is") == AWKWARD


def test_a_shape_the_probe_did_not_foresee_tries_stronger_normalisations() -> None:
    # Accepts the probes as they are, but not a conversation that starts with two users.
    picky = _roles(
        "{% if messages|length > 1 and messages[0].role == messages[1].role == 'user' %}"
        "{{ raise_exception('two users') }}{% endif %}"
    )
    assert picky.normalisation == "as-is"
    assert picky.render(AWKWARD[2:4]) == '[user]Ben says: "Hello."\n\nCarl does: waves.'


ESCAPES = [
    "{{ ''.__class__.__mro__[1].__subclasses__() }}",
    "{{ cycler.__init__.__globals__.os.popen('id').read() }}",
    "{% include '/etc/passwd' %}",
    "{% import 'os' as os %}",
    "{% extends 'base.html' %}",
    "{{ self.__init__.__globals__ }}",
    "{{ lipsum.__globals__['os'] }}",
    "{{ '{0.__class__}'.format(messages) }}",
    "{{ messages.append(messages[0]) }}",
    "{% for m in messages %}{{ m.content ",
    "{{ raise_exception('I take no conversation at all') }}",
]


@pytest.mark.parametrize("text", ESCAPES)
def test_unusable_templates_raise_one_line_naming_the_origin(text: str) -> None:
    with pytest.raises(TemplateError) as caught:
        JinjaTemplate(text, origin="/models/evil.gguf")
    message = str(caught.value)
    assert message.startswith("/models/evil.gguf: its chat template ")
    assert "\n" not in message


def test_sandbox_escape_names_what_it_reached() -> None:
    with pytest.raises(
        TemplateError, match="tried to reach '__class__', which the sandbox forbids"
    ):
        JinjaTemplate("{{ ''.__class__ }}", origin="model.gguf")


def test_escape_the_probe_did_not_trigger_fails_at_render() -> None:
    t = _roles("{% if 'lamp' in messages[1].content %}{{ ''.__class__ }}{% endif %}")
    with pytest.raises(TemplateError, match="sandbox forbids"):
        t.render(SCENE)


def test_rendering_nothing_is_a_caller_error() -> None:
    with pytest.raises(ValueError):
        _roles("").render([])


def test_chat_template_for_and_describe() -> None:
    assert chat_template_for(None) is None
    assert chat_template_for("") is None
    t = chat_template_for("{{ messages[0].content }}", origin="m.gguf")
    assert isinstance(t, JinjaTemplate)
    header = describe_template(t)
    assert header["chat_format"] == "jinja"
    assert header["template_source"] == "m.gguf"
    assert len(header["template_sha256"]) == 64


class TestBuiltin:
    @pytest.mark.parametrize(
        ("family", "user_marker", "generation_prompt"),
        [
            ("chatml", "<|im_start|>user\n", "<|im_start|>assistant\n"),
            (
                "llama3",
                "<|start_header_id|>user<|end_header_id|>",
                "<|start_header_id|>assistant<|end_header_id|>\n\n",
            ),
        ],
    )
    def test_renders_markers(self, family: str, user_marker: str, generation_prompt: str) -> None:
        _llama_cpp_or_skip()
        t = BuiltinTemplate(family)
        out = t.render(SCENE)
        assert out.endswith(generation_prompt)
        assert out.count(user_marker) == 3
        assert all(m.content in out for m in SCENE)
        assert t.render(AWKWARD, prefix="X") == t.render(AWKWARD) + "X"
        assert describe_template(t) == {
            "chat_format": f"builtin:{family}",
            "template_source": t.origin,
            "template_sha256": None,
        }

    def test_long_prompt(self) -> None:
        _llama_cpp_or_skip()
        long = [Message("system", "é" * 3000), Message("user", "ü" * 3000)]
        out = BuiltinTemplate("llama3").render(long)
        assert "é" * 3000 in out and "ü" * 3000 in out

    def test_unknown_family_lists_the_known(self) -> None:
        _llama_cpp_or_skip()
        with pytest.raises(TemplateError, match="chatml"):
            BuiltinTemplate("no-such-family")

    def test_chat_template_for_builtin(self) -> None:
        _llama_cpp_or_skip()
        t = chat_template_for(None, builtin="chatml")
        assert isinstance(t, BuiltinTemplate) and t.name == "builtin:chatml"
