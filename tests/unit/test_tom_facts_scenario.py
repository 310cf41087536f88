"""Facts in scenario files: their names are checked with file and line like every other name."""

from __future__ import annotations

import pytest

from simstage.scenario import ScenarioError, parse_scenario, scenario_json_schema

SCENE = """title: facts
world:
  locations: [hall, study]
  containers: {box: {in: study}}
  objects: {ring: {in: box}}
  facts:
    debt: {text: "Felix owes Edwin money", true: true}
    plan: {text: "Felix means to keep the ring's loss from Margot", true: true}
cast:
  - {name: Ann, persona: p, location: hall, knows: {debt: {holds: true, with: [Bob]}}}
  - {name: Bob, persona: p, location: hall, knows: {plan: false, ring: box}}
timeline:
  - {at: 1, event: {type: assert, who: Ann, fact: debt, holds: true, to: Bob}}
  - {at: 2, event: {type: peek, who: Ann, into: study}}
  - {at: 2, event: {type: distract, who: Bob, turns: 2}}
  - {at: 3, event: {type: stop_peek, who: Ann}}
max_turns: 4
"""


def test_a_scene_with_facts_loads_with_its_knowledge() -> None:
    scenario = parse_scenario(SCENE, "facts.yaml").scenario
    assert scenario.world.facts["debt"].true and scenario.world.facts["plan"].text.startswith(
        "Felix means"
    )
    assert scenario.fact_knowledge() == [
        ("Ann", "debt", True, ("Ann", "Bob")),
        ("Bob", "plan", False, ("Bob",)),
    ]
    assert scenario.knowledge() == [("Bob", "ring", "box", ("Bob",))]
    assert [entry.event.type for entry in scenario.timeline] == [
        "assert",
        "peek",
        "distract",
        "stop_peek",
    ]


@pytest.mark.parametrize(
    ("old", "new", "line", "message"),
    [
        (
            "fact: debt, holds",
            "fact: dept, holds",
            13,
            "timeline.0.event.fact: unknown fact 'dept'",
        ),
        ("to: Bob}}", "to: Bo}}", 13, "timeline.0.event.to: unknown character 'Bo'"),
        ("into: study", "into: attic", 14, "timeline.1.event.into: unknown location 'attic'"),
        (
            "who: Bob, turns",
            "who: Bobby, turns",
            15,
            "timeline.2.event.who: unknown character 'Bobby'",
        ),
        (
            "knows: {plan: false",
            "knows: {plans: false",
            11,
            "cast.1.knows.plans: unknown fact 'plans'",
        ),
        ("with: [Bob]", "with: [Cy]", 10, "cast.0.knows.debt.with.0: unknown character 'Cy'"),
        ("knows: {plan: false", "knows: {plan: box", 11, "cast.1.knows.plan: 'plan' is a fact"),
        ("ring: box}", "ring: true}", 11, "cast.1.knows.ring: 'ring' is an object"),
        ("    plan: {", "    box: {", 8, "world.facts.box: 'box' is both a container and a fact"),
        ("    plan: {", "    hall: {", 8, "world.facts.hall: 'hall' is both a location and a fact"),
        (
            "knows: {plan: false",
            "knows: {debt: false",
            11,
            "cast.1.knows.debt: Bob would believe both",
        ),
        (
            "    plan: {",
            '    "pl\\x1bn": {',
            8,
            "world.facts.pl\x1bn: name 'pl\\x1bn' holds U+001B",
        ),
    ],
)
def test_bad_fact_names_are_located(old: str, new: str, line: int, message: str) -> None:
    text = SCENE.replace(old, new)
    assert text != SCENE
    with pytest.raises(ScenarioError) as caught:
        parse_scenario(text, "facts.yaml")
    located = [f"{p.line} {p.field}: {p.message}" for p in caught.value.problems]
    assert any(entry.startswith(f"{line} {message}") for entry in located), located


def test_a_fact_needs_its_sentence_and_truth_and_a_distraction_at_least_a_turn() -> None:
    for old, new in [
        (", true: true}\n    plan", "}\n    plan"),
        ("turns: 2", "turns: 0"),
        ('text: "Felix owes Edwin money", ', ""),
    ]:
        with pytest.raises(ScenarioError):
            parse_scenario(SCENE.replace(old, new), "facts.yaml")


def test_the_schema_documents_facts_and_the_new_actions() -> None:
    schema = str(scenario_json_schema())
    for word in (
        "FactConfig",
        "KnowsFactConfig",
        "AssertAction",
        "PeekAction",
        "StopPeekAction",
        "DistractAction",
    ):
        assert word in schema


def test_a_character_states_a_fact_in_its_json_turn_constrained_to_the_scenes_facts() -> None:
    from simstage.cast.turn import TurnParseError, parse_turn, turn_schema
    from simstage.scenario.models import AssertAction

    scenario = parse_scenario(SCENE, "facts.yaml").scenario
    turn = parse_turn(
        '{"say": "Well.", "action": {"type": "assert", "fact": "debt", "holds": false}}',
        scenario,
        "Ann",
    )
    assert turn.action == AssertAction(type="assert", who="Ann", fact="debt", holds=False)
    turn = parse_turn(
        '{"say": "", "action": {"type": "assert", "to": "Bob", "fact": "plan", "holds": true}}',
        scenario,
        "Ann",
    )
    assert turn.action == AssertAction(type="assert", who="Ann", fact="plan", holds=True, to="Bob")
    for bad in (
        '{"type": "assert", "fact": "debts", "holds": true}',
        '{"type": "assert", "to": "Ann", "fact": "debt", "holds": true}',
    ):
        with pytest.raises(TurnParseError):
            parse_turn(f'{{"say": "", "action": {bad}}}', scenario, "Ann")
    schema = str(turn_schema(scenario, "Ann"))
    assert "'debt', 'plan'" in schema and "holds" in schema
    # A scene without facts keeps its reply schema exactly.
    plain = parse_scenario(
        SCENE.split("  facts:")[0] + "cast: [{name: Ann, persona: p, location: hall}]\n",
        "plain.yaml",
    )
    assert "assert" not in str(turn_schema(plain.scenario, "Ann"))


def test_a_card_cast_entry_knows_facts_too(tmp_path) -> None:
    import json

    from simstage.scenario import load_scenario

    card = {
        "spec": "chara_card_v2",
        "spec_version": "2.0",
        "data": {"name": "Mira", "description": "A keeper."},
    }
    (tmp_path / "mira.json").write_text(json.dumps(card), encoding="utf-8")
    text = SCENE.replace(
        "  - {name: Bob, persona: p, location: hall, knows: {plan: false, ring: box}}",
        "  - {name: Bob, persona: p, location: hall}\n"
        "  - {card: mira.json, location: hall, knows: {plan: false, debt: {holds: true, with: [Ann]}}}",
    )
    (tmp_path / "facts.yaml").write_text(text, encoding="utf-8")
    scenario = load_scenario(tmp_path / "facts.yaml").scenario
    assert ("Mira", "plan", False, ("Mira",)) in scenario.fact_knowledge()
    assert ("Mira", "debt", True, ("Mira", "Ann")) in scenario.fact_knowledge()
