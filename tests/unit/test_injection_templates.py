"""A hostile chat template is bounded: it cannot hang a render or grow without end; `{% generation %}` renders."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from simstage.stage import templates
from simstage.stage.base import Message
from simstage.stage.template_sandbox import RenderBudget
from simstage.stage.templates import JinjaTemplate, TemplateError
from tests.conftest import SCENARIOS
from tests.unit.test_chat_templates import AWKWARD, SCENE, TEMPLATES

# Small budgets keep every test short; the default is seconds and megabytes.
TIGHT = RenderBudget(seconds=0.2, chars=100_000)
ECHO = "{% for m in messages %}[{{ m.role }}]{{ m.content }}{% endfor %}"

HANGS = {
    "nested ranges": "{% for i in range(99999) %}{% for j in range(99999) %}{% endfor %}{% endfor %}",
    "a buffered block": "{% set x %}{% for i in range(99999) %}{% for j in range(99) %}y{% endfor %}{% endfor %}{% endset %}",
    "loops over long strings": "{% for c in 'x' * 99999 %}{% for d in 'y' * 99999 %}{% endfor %}{% endfor %}",
}
GROWS = {
    "nested output": "{% for i in range(99999) %}{% for j in range(99999) %}xxxxxxxxxx{% endfor %}{% endfor %}",
    "repetition": "{{ 'x' * 10**10 }}",
    "repetition, int first": "{{ 10**10 * messages[0].content }}",
    "a list repeated": "{{ (['x' * 40000] * 1000) | length }}",
    "a power": "{{ 2 ** 1000000000 }}",
    "doubling with ~": "{% set ns = namespace(s='ab') %}{% for i in range(64) %}{% set ns.s = ns.s ~ ns.s %}{% endfor %}",
    "doubling with +": "{% set ns = namespace(s='ab') %}{% for i in range(64) %}{% set ns.s = ns.s + ns.s %}{% endfor %}",
    "a padding filter": "{{ 'x' | center(10**10) }}",
    "a padding method": "{{ 'x'.ljust(10**10) }}",
    "a printf width": "{{ '%9999999999s' % 'x' }}",
    "a format width": "{{ '{:>9999999999}'.format(1) }}",
    "a format filter": "{{ '%99999999s' | format('x') }}",
    "a growing replace": "{% set ns = namespace(s='abcdefgh') %}{% for i in range(20) %}{% set ns.s = ns.s | replace('a', ns.s) %}{% endfor %}",
    "a long join": "{{ ['x' * 60000, 'y' * 60000] | join }}",
    "a macro's output": "{% macro f() %}{% for i in range(99999) %}zzzzzzzzz{% endfor %}{% endmacro %}{{ f() }}",
}


@pytest.mark.parametrize("hostile", HANGS.values(), ids=HANGS.keys())
def test_a_template_that_hangs_is_stopped_by_its_time_budget(hostile: str) -> None:
    with pytest.raises(
        TemplateError, match=r"^evil\.gguf: its chat template ran past its time budget \(0\.2 s\)"
    ):
        JinjaTemplate(hostile + ECHO, origin="evil.gguf", budget=TIGHT)


@pytest.mark.parametrize("hostile", GROWS.values(), ids=GROWS.keys())
def test_a_template_that_grows_is_stopped_by_its_size_budget(hostile: str) -> None:
    with pytest.raises(
        TemplateError, match=r"^evil\.gguf: its chat template grew past 100000 characters"
    ):
        JinjaTemplate(hostile + ECHO, origin="evil.gguf", budget=TIGHT)


def test_a_budget_the_probe_did_not_trigger_stops_a_render() -> None:
    t = JinjaTemplate(
        "{% if 'lamp' in messages[1].content %}{% for i in range(99999) %}{{ 'x' * 9 }}{% endfor %}{% endif %}"
        + ECHO,
        origin="evil.gguf",
        budget=TIGHT,
    )
    assert "[user]" in t.render(AWKWARD)
    with pytest.raises(TemplateError, match="grew past 100000 characters"):
        t.render(SCENE)


def test_what_real_templates_do_stays_within_the_budget() -> None:
    """Every real template renders a long scene inside a budget far below the default."""
    scene = SCENE + [*SCENE[1:]] * 20
    for path in sorted(TEMPLATES.glob("*.jinja")):
        t = JinjaTemplate(path.read_text(encoding="utf-8"), bos_token="<s>", eos_token="</s>", origin=path.name,
                          budget=RenderBudget(seconds=1.0, chars=100_000))  # fmt: skip
        assert SCENE[-1].content in t.render(scene), path.name


def test_an_over_budget_template_is_one_line_and_exit_2_from_prompt(
    tmp_path: Path, monkeypatch
) -> None:
    pytest.importorskip("llama_cpp", reason="the llama stage renders templates")
    from simstage.cli import main

    (tmp_path / "hang.jinja").write_text(HANGS["nested ranges"] + ECHO, encoding="utf-8")
    text = (SCENARIOS / "sally-anne.yaml").read_text(encoding="utf-8")
    scenario = tmp_path / "sally.yaml"
    scenario.write_text(
        text.replace(
            "stage: {backend: llama,", "stage: {chat_template: hang.jinja, backend: llama,"
        )
    )
    monkeypatch.setattr(templates, "RENDER_BUDGET", TIGHT)
    result = CliRunner().invoke(main, ["prompt", str(scenario), "--as", "Sally", "--tokens"])
    assert result.exit_code == 2, result.output
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "hang.jinja" in lines[0] and "time budget" in lines[0], result.stderr
    assert "Traceback" not in result.output


# A ChatML-like template, and the same with the assistant's turns in transformers' generation tags.
CHATML = (
    "{% for m in messages %}<|im_start|>{{ m.role }}\n"
    "{% if m.role == 'assistant' %}{{ m.content }}{% else %}{{ m.content }}{% endif %}<|im_end|>\n"
    "{% endfor %}{% if add_generation_prompt %}<|im_start|>assistant\n{% endif %}"
)
TAGGED = CHATML.replace(
    "{% if m.role == 'assistant' %}{{ m.content }}",
    "{% if m.role == 'assistant' %}{% generation %}{% set said = m.content %}{{ said }}{% endgeneration %}",
)


def test_generation_tags_render_their_body() -> None:
    assert "{% generation %}" in TAGGED
    plain, tagged = JinjaTemplate(CHATML), JinjaTemplate(TAGGED)
    assert tagged.normalisation == plain.normalisation
    for chat in (SCENE, AWKWARD):
        assert tagged.render(chat) == plain.render(chat)
        assert all(m.content in tagged.render(chat) for m in chat)


def test_an_unclosed_generation_tag_is_a_syntax_error() -> None:
    with pytest.raises(TemplateError, match="syntax error on line 1"):
        JinjaTemplate("{% generation %}{{ messages[0].content }}", origin="m.gguf")


def test_loop_controls_work_as_in_transformers() -> None:
    first_two = JinjaTemplate(
        "{% for m in messages %}{% if loop.index > 2 %}{% break %}{% endif %}"
        "{% if m.role == 'system' %}{% continue %}{% endif %}[{{ m.role }}]{{ m.content }}{% endfor %}"
    )
    assert first_two.render(SCENE) == f"[user]{SCENE[1].content}"


def test_tojson_writes_json_as_transformers_does() -> None:
    # jinja2's own tojson escapes <, >, & and ' for HTML and sorts the keys; transformers writes
    # plain JSON in the keys' order and takes json.dumps' options.
    chat = [Message("user", "<b>it's Zoë & me</b>")]
    plain = JinjaTemplate("{{ messages[0] | tojson }}")
    assert plain.render(chat) == '{"role": "user", "content": "<b>it\'s Zoë & me</b>"}'
    options = JinjaTemplate(
        "{{ messages[0] | tojson(indent=2, separators=(',', ': '), sort_keys=true) }}"
    )
    assert options.render(chat) == json.dumps(
        {"role": "user", "content": chat[0].content}, indent=2, sort_keys=True, ensure_ascii=False
    )


def test_tojson_refuses_a_huge_indent() -> None:
    with pytest.raises(TemplateError, match="tojson"):
        JinjaTemplate("{{ messages | tojson(indent=10**6) }}", origin="m.gguf")


def test_tojson_counts_its_indentation_before_writing_it() -> None:
    # A list nested 900 deep, indented 256 a level: about 100 million characters of
    # indentation, which json.dumps built (half a gigabyte) before the size budget saw it.
    import tracemalloc

    deep = (
        "{% set ns = namespace(x=[]) %}{% for i in range(900) %}{% set ns.x = [ns.x] %}"
        "{% endfor %}{{ ns.x | tojson(indent=256) }}"
    )
    tracemalloc.start()
    try:
        with pytest.raises(TemplateError, match="grew past"):
            JinjaTemplate(deep, origin="m.gguf")
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 64 * 2**20
    shallow = JinjaTemplate("{{ messages[0] | tojson(indent=4) }}")
    assert (
        shallow.render([Message("user", "hi")]) == '{\n    "role": "user",\n    "content": "hi"\n}'
    )
