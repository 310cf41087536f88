"""The stage section is a union keyed on `backend`: each backend's options, llama when none is named."""

from __future__ import annotations

import pytest

from simstage.scenario import ScenarioError, parse_scenario, scenario_json_schema
from simstage.stage import StageError
from simstage.stage.config import (
    LitellmStageConfig,
    LlamaStageConfig,
    ScriptedStageConfig,
    config_for,
)
from tests.conftest import SCENARIOS

SALLY = (SCENARIOS / "sally-anne.yaml").read_text(encoding="utf-8")
SECTION = "stage: {backend: llama, model: default,"


def with_stage(section: str) -> str:
    assert SECTION in SALLY
    return SALLY.replace(SECTION, section, 1)


def located(text: str) -> tuple[int, str, str]:
    with pytest.raises(ScenarioError) as caught:
        parse_scenario(text, "scene.yaml")
    problem = caught.value.problems[0]
    return problem.line, problem.field, problem.message


def line_of(text: str, needle: str) -> int:
    return next(number for number, row in enumerate(text.splitlines(), 1) if needle in row)


@pytest.mark.parametrize(
    ("section", "kind"),
    [
        ("stage: {model: default,", LlamaStageConfig),
        (SECTION, LlamaStageConfig),
        ("stage: {backend: litellm, model: openai/m, api_base: 'http://h/v1',", LitellmStageConfig),
        (
            "stage: {backend: scripted, amx: true, api_base: 'http://h/v1', model: default,",
            ScriptedStageConfig,
        ),
    ],
)
def test_each_backend_reads_its_own_model(section: str, kind: type) -> None:
    stage = parse_scenario(with_stage(section), "scene.yaml").scenario.stage
    assert type(stage) is kind and stage.temperature == 0.7 and stage.max_tokens == 100


def test_a_scenario_without_a_stage_section_plays_on_the_llama_stage() -> None:
    text = "\n".join(row for row in SALLY.splitlines() if not row.startswith("stage:"))
    assert isinstance(parse_scenario(text, "scene.yaml").scenario.stage, LlamaStageConfig)


@pytest.mark.parametrize(
    ("section", "needle", "field", "message"),
    [
        (
            "stage: {backend: llama, api_base: 'http://h/v1', model: default,",
            "api_base",
            "stage.api_base",
            "Extra inputs",
        ),
        (
            "stage: {backend: litellm, amx: true, model: openai/m,",
            "amx",
            "stage.amx",
            "Extra inputs",
        ),
        (
            "stage: {backend: nope, model: default,",
            "nope",
            "stage.backend",
            "Input should be 'llama', 'litellm' or 'scripted'",
        ),
        (
            "stage: {model: default, n_ctx: 3,",
            "n_ctx",
            "stage.n_ctx",
            "greater than or equal to 256",
        ),
    ],
)
def test_an_option_of_another_backend_is_located(
    section: str, needle: str, field: str, message: str
) -> None:
    text = with_stage(section)
    line, where, said = located(text)
    assert (line, where) == (line_of(text, needle), field) and message in said


def test_switching_backend_keeps_the_shared_options_and_resets_the_rest() -> None:
    llama = LlamaStageConfig.model_validate(
        {"model": "openai/m", "n_ctx": 2048, "amx": True, "temperature": 0.2}
    )
    remote = config_for(llama, "litellm", api_base="http://h/v1")
    assert isinstance(remote, LitellmStageConfig)
    assert (remote.model, remote.n_ctx, remote.temperature, remote.api_base) == (
        "openai/m",
        2048,
        0.2,
        "http://h/v1",
    )
    assert config_for(llama) is llama and config_for(llama, "llama", api_base=None) is llama
    back = config_for(remote, "llama")
    assert isinstance(back, LlamaStageConfig) and not back.amx and back.n_ctx == 2048
    with pytest.raises(
        StageError, match=r"unknown stage backend 'nope' \(valid: llama, litellm, scripted\)"
    ):
        config_for(llama, "nope")
    with pytest.raises(StageError, match="stage.api_base: not an option of the llama stage"):
        config_for(llama, api_base="http://h/v1")


def test_the_schema_tells_the_backends_apart_and_every_scenario_fits_it() -> None:
    jsonschema = pytest.importorskip("jsonschema")
    import yaml

    whole = scenario_json_schema()
    schema = {"$defs": whole["$defs"], **whole["properties"]["stage"]}  # the stage section's
    refs = [option["$ref"] for option in schema["oneOf"]]
    assert refs == [f"#/$defs/{name}StageConfig" for name in ("Llama", "Litellm", "Scripted")]
    for path in sorted(SCENARIOS.glob("*.yaml")):
        jsonschema.validate(yaml.safe_load(path.read_text(encoding="utf-8"))["stage"], schema)
    for section in [
        "stage: {model: default,",
        "stage: {backend: scripted, amx: true, model: default,",
    ]:
        jsonschema.validate(yaml.safe_load(with_stage(section))["stage"], schema)
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(
            yaml.safe_load(with_stage("stage: {api_base: x, model: default,"))["stage"], schema
        )
