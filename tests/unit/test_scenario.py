"""Scenario files: every shipped scenario loads; broken ones are located by line and column."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from click.testing import CliRunner

from simstage.cli import main
from simstage.scenario import ScenarioError, load_scenario, parse_scenario, scenario_json_schema

ROOT = Path(__file__).resolve().parents[2]
BROKEN = ROOT / "tests" / "data" / "broken"
LINE = re.compile(r"^(?P<file>[^:]+):(?P<line>\d+):(?P<col>\d+): (?P<rest>.+)$")


@pytest.mark.parametrize("path", sorted((ROOT / "scenarios").glob("*.yaml")), ids=lambda p: p.name)
def test_every_shipped_scenario_is_valid(path: Path) -> None:
    loaded = load_scenario(path)
    assert loaded.scenario.cast
    assert len(loaded.sha256) == 64


EXPECTED = {
    "bad-yaml.yaml": (4, None, "YAML syntax"),
    "unknown-field.yaml": (8, "cast.0.mood", "Extra inputs are not permitted"),
    "unknown-character.yaml": (7, "timeline.0.event.who", "unknown character 'Bob'"),
    "missing-container.yaml": (7, "world.objects.marble.in", "unknown container 'box'"),
    "wrong-type.yaml": (6, "max_turns", "valid integer"),
}


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_broken_scenario_is_located(name: str) -> None:
    line, field, message = EXPECTED[name]
    with pytest.raises(ScenarioError) as caught:
        load_scenario(BROKEN / name)
    problem = caught.value.problems[0]
    assert problem.line == line
    assert problem.column >= 1
    if field:
        assert problem.field == field
    assert message in problem.message


def test_validate_prints_file_line_col_and_exits_2() -> None:
    result = CliRunner().invoke(main, ["validate", str(BROKEN)])
    assert result.exit_code == 2
    assert "Traceback" not in result.output
    lines = [line for line in result.output.splitlines() if LINE.match(line)]
    files = {Path(LINE.match(line)["file"]).name for line in lines}
    assert files == set(EXPECTED)


def test_validate_all_good_exits_0() -> None:
    result = CliRunner().invoke(main, ["validate", str(ROOT / "scenarios")])
    assert result.exit_code == 0, result.output
    assert "valid" in result.output


def test_validate_missing_file_is_a_clear_error() -> None:
    result = CliRunner().invoke(main, ["validate", "no/such/file.yaml"])
    assert result.exit_code == 2
    assert "no/such/file.yaml:1:1:" in result.output
    assert "Traceback" not in result.output


def test_schema_is_json_with_every_top_level_field() -> None:
    result = CliRunner().invoke(main, ["schema"])
    assert result.exit_code == 0
    schema = json.loads(result.output)
    for field in (
        "title",
        "world",
        "cast",
        "timeline",
        "probes",
        "max_turns",
        "stage",
        "puppeteer",
    ):
        assert field in schema["properties"]
    assert schema == scenario_json_schema()
    # Field docstrings reach the schema, so editors can show them.
    assert schema["properties"]["max_turns"]["description"]


def test_cross_checks() -> None:
    text = """
title: t
world:
  locations: [room, room]
  containers: {box: {in: attic}}
  objects: {}
cast:
  - {name: A, persona: p, location: room}
  - {name: A, persona: p, location: cellar}
probes:
  - {at: 9, ask: B, about: ball, through: [C]}
max_turns: 3
"""
    with pytest.raises(ScenarioError) as caught:
        parse_scenario(text, "x.yaml")
    messages = [f"{p.field}: {p.message}" for p in caught.value.problems]
    assert any("duplicate location" in m for m in messages)
    assert any(m.startswith("world.containers.box.in: unknown location 'attic'") for m in messages)
    assert any(m.startswith("cast.1.name: duplicate character") for m in messages)
    assert any(m.startswith("cast.1.location: unknown location 'cellar'") for m in messages)
    assert any(m.startswith("probes.0.at: turn 9 is beyond max_turns") for m in messages)
    assert any(m.startswith("probes.0.ask: unknown character 'B'") for m in messages)
    assert any(m.startswith("probes.0.about: unknown object 'ball'") for m in messages)
    assert any(m.startswith("probes.0.through.0: unknown character 'C'") for m in messages)


@pytest.mark.parametrize("text", ["", "- a list\n", "just a string\n", "{a: [1, 2}\n"])
def test_non_mapping_or_garbage_is_a_located_error(text: str) -> None:
    with pytest.raises(ScenarioError) as caught:
        parse_scenario(text, "g.yaml")
    assert str(caught.value).startswith("g.yaml:")
