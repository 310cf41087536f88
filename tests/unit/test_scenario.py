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


def test_a_field_is_located_at_its_key_at_the_top_and_inside_a_timeline_event(
    tmp_path: Path,
) -> None:
    # Before, a field inside a timeline event (whose path holds the union's tag, `distract`)
    # pointed at its value, and a top-level one at its key.
    path = tmp_path / "bad.yaml"
    path.write_text(
        "title: x\n"
        "world:\n"
        "  locations: [room]\n"
        "  containers: {box: {in: room}}\n"
        "  objects: {ball: {in: box}}\n"
        "cast:\n"
        "  - {name: Ann, persona: p, location: room}\n"
        "timeline:\n"
        "  - {at: 1, event: {type: distract, who: Ann, turns: many}}\n"
        "  - {at: 2, event: {type: move, who: Ann, object: ball, to: box, extra: 1}}\n"
        "max_turns: three\n",
        encoding="utf-8",
    )
    with pytest.raises(ScenarioError) as caught:
        load_scenario(path)
    text = path.read_text(encoding="utf-8").splitlines()
    found = {p.field: (p.line, p.column) for p in caught.value.problems}
    for field, key in [
        ("timeline.0.event.distract.turns", "turns"),
        ("timeline.1.event.move.extra", "extra"),
        ("max_turns", "max_turns"),
    ]:
        line, column = found[field]
        assert text[line - 1][column - 1 :].startswith(f"{key}:"), (field, line, column)
