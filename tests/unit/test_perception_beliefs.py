"""Secret watchers and distracted witnesses in the ToM tracker, for objects and for facts.

A watcher knows, and nobody thinks it does; a distracted witness does not know, and
everyone present thinks it does. Each test checks the exact (holder, chain) -> belief at
orders 1-3. The scene (tests/unit/facts_scene.py): Ann, Bob and Cy in the hall, where
the key lies in the open tray beside a closed chest; Dee in the study.
"""

from __future__ import annotations

from simstage.engine import Simulation
from simstage.scenario.models import TimelineEntry
from simstage.stage.scripted import ScriptedStage
from simstage.tom.tracker import fold_beliefs
from tests.unit.facts_scene import (
    beliefs,
    claim,
    distract,
    enter,
    exit_,
    move,
    peek,
    scene,
    state_,
    stop_peek,
    value,
    where,
)


def check_objects(state, expected: dict[tuple[str, ...], str | None]) -> None:
    assert {full: where(state, *full) for full in expected} == expected


def check_facts(state, fact: str, expected: dict[tuple[str, ...], bool | None]) -> None:
    assert {full: value(state, fact, *full) for full in expected} == expected


def test_a_secret_watcher_sees_a_move_and_nobody_thinks_it_did() -> None:
    scenario = scene(knows={"Dee": {"key": {"in": "tray", "with": ["Ann"]}}})
    state = beliefs(scenario, [(1, peek("Dee", "hall")), (2, move("Ann", "chest"))])
    check_objects(
        state,
        {
            ("Dee",): "chest",
            ("Ann",): "chest",
            ("Dee", "Ann"): "chest",
            ("Dee", "Bob"): "chest",
            ("Dee", "Bob", "Ann"): "chest",
            ("Dee", "Ann", "Bob"): "chest",
            ("Ann", "Dee"): "tray",  # wrong: Ann thinks Dee still believes what they both knew
            ("Bob", "Dee"): None,
            ("Dee", "Ann", "Dee"): "tray",
            ("Bob", "Ann", "Dee"): None,
            ("Ann", "Bob", "Dee"): None,
            ("Ann", "Bob"): "chest",
            ("Ann", "Dee", "Ann"): "tray",
        },
    )
    dee = state.where("Dee", "key")
    assert dee is not None and dee.source == "witnessed" and dee.turn == 2 and dee.true


def test_a_watcher_sees_what_lies_open_when_it_starts_and_stops_seeing_when_it_stops() -> None:
    scenario = scene()
    state = beliefs(scenario, [(1, peek("Dee", "hall"))])
    check_objects(
        state,
        {
            ("Dee",): "tray",
            ("Ann", "Dee"): None,
            ("Dee", "Ann"): "tray",
            ("Dee", "Ann", "Bob"): "tray",
        },
    )
    state = beliefs(
        scenario, [(1, peek("Dee", "hall")), (2, stop_peek("Dee")), (3, move("Ann", "chest"))]
    )
    check_objects(state, {("Dee",): "tray", ("Dee", "Ann"): "tray", ("Ann",): "chest"})
    state = beliefs(
        scenario, [(1, peek("Dee", "hall")), (2, enter("Dee", "garden")), (3, move("Ann", "chest"))]
    )
    assert where(state, "Dee") == "tray"


def test_a_watcher_sees_an_entrant_see_what_lies_open() -> None:
    scenario = scene()
    steps = [
        (1, exit_("Bob", "garden")),
        (2, peek("Dee", "hall")),
        (3, move("Ann", "chest")),
        (4, move("Ann", "tray")),
        (5, enter("Bob", "hall")),
    ]
    state = beliefs(scenario, steps)
    check_objects(
        state,
        {
            ("Bob",): "tray",
            ("Dee", "Bob"): "tray",
            ("Ann", "Bob"): "tray",
            ("Dee", "Bob", "Ann"): "tray",
            ("Bob", "Dee"): None,
            ("Ann", "Dee"): None,
        },
    )
    assert state.where("Dee", "key", ["Bob"]).turn == 5  # type: ignore[union-attr]
    # Without the watcher's peek, Dee knows nothing of it.
    state = beliefs(scenario, [step for step in steps if step[1].type != "peek"])
    check_objects(state, {("Dee",): None, ("Dee", "Bob"): None})


def test_a_watcher_overhears_a_public_statement_but_not_a_private_one() -> None:
    steps = [
        (1, peek("Dee", "hall")),
        (2, state_("Ann", "debt", True)),
        (3, state_("Ann", "fake", True, to="Bob")),
    ]
    state = beliefs(scene(), steps)
    check_facts(
        state,
        "debt",
        {
            ("Dee",): True,
            ("Dee", "Ann"): True,
            ("Dee", "Bob"): True,
            ("Dee", "Bob", "Ann"): True,
            ("Dee", "Ann", "Bob"): True,
            ("Ann", "Dee"): None,
            ("Bob", "Dee"): None,
            ("Dee", "Bob", "Dee"): None,
            ("Bob", "Dee", "Ann"): None,
            ("Bob",): True,
            ("Ann", "Bob", "Cy"): True,
        },
    )
    check_facts(state, "fake", {("Dee",): None, ("Bob",): True, ("Dee", "Bob"): None})
    assert state.fact_belief("Dee", "debt").source == "overheard"  # type: ignore[union-attr]
    assert state.fact_belief("Dee", "debt", ["Bob"]).source == "overheard"  # type: ignore[union-attr]
    assert state.fact_belief("Bob", "debt", ["Ann"]).source == "claimed"  # type: ignore[union-attr]
    assert state.heard("Dee") == ["Felix owes Edwin money."] and state.heard("Ann", ["Dee"]) == []


def test_a_distracted_witness_misses_a_move_that_everyone_thinks_it_saw() -> None:
    scenario = scene()
    state = beliefs(scenario, [(1, distract("Bob")), (1, move("Ann", "chest"))])
    check_objects(
        state,
        {
            ("Bob",): "tray",
            ("Ann",): "chest",
            ("Cy",): "chest",
            ("Ann", "Bob"): "chest",
            ("Cy", "Bob"): "chest",  # wrong: they think he saw it
            ("Cy", "Bob", "Ann"): "chest",
            ("Ann", "Cy", "Bob"): "chest",
            ("Bob", "Ann"): "tray",
            ("Bob", "Cy", "Ann"): "tray",
        },
    )
    assert state.where("Bob", "key").source == "initial"  # type: ignore[union-attr]
    # The distraction lasts its turns: at turn 2 Bob sees Ann put the key back.
    state = beliefs(
        scenario, [(1, distract("Bob")), (1, move("Ann", "chest")), (2, move("Ann", "tray"))]
    )
    bob = state.where("Bob", "key")
    assert bob is not None and bob.source == "witnessed" and bob.turn == 2


def test_a_distracted_listener_misses_a_claim_everyone_thinks_it_believed() -> None:
    scenario = scene()
    # Dee comes in after the move and finds the open tray empty: no belief, so she would take Ann's word.
    steps = [
        (1, move("Ann", "chest")),
        (2, enter("Dee", "hall")),
        (3, distract("Dee")),
        (3, claim("Ann", "chest")),
    ]
    state = beliefs(scenario, steps)
    check_objects(
        state,
        {
            ("Dee",): None,
            ("Bob", "Dee"): "chest",
            ("Ann", "Dee"): "chest",
            ("Bob", "Ann", "Dee"): "chest",
            ("Dee", "Ann"): None,
            ("Cy", "Dee", "Ann"): "chest",
        },
    )
    assert state.where("Bob", "key", ["Dee"]).source == "claimed"  # type: ignore[union-attr]
    attentive = beliefs(scenario, [step for step in steps if step[1].type != "distract"])
    check_objects(attentive, {("Dee",): "chest", ("Bob", "Dee"): "chest", ("Dee", "Ann"): "chest"})


def test_a_distracted_witness_misses_a_statement_that_everyone_thinks_it_heard() -> None:
    state = beliefs(scene(), [(1, distract("Bob")), (1, state_("Ann", "debt", True))])
    check_facts(
        state,
        "debt",
        {
            ("Bob",): None,
            ("Cy",): True,
            ("Ann", "Bob"): True,
            ("Cy", "Bob"): True,
            ("Cy", "Ann", "Bob"): True,
            ("Ann", "Bob", "Ann"): True,
            ("Bob", "Ann"): None,
            ("Bob", "Cy"): None,
            ("Bob", "Cy", "Ann"): None,
        },
    )
    private = beliefs(scene(), [(1, distract("Bob")), (1, state_("Ann", "debt", True, to="Bob"))])
    check_facts(
        private,
        "debt",
        {("Bob",): None, ("Ann", "Bob"): True, ("Ann", "Bob", "Ann"): True, ("Bob", "Ann"): None},
    )
    longer = beliefs(
        scene(),
        [
            (1, distract("Bob", 2)),
            (2, state_("Ann", "debt", True)),
            (3, state_("Ann", "fake", True)),
        ],
    )
    assert value(longer, "debt", "Bob") is None and value(longer, "fake", "Bob") is True


def test_a_timeline_plays_watchers_distractions_and_statements_on_the_engine() -> None:
    scenario = scene(knows={"Ann": {"debt": {"holds": True, "with": ["Bob"]}}})
    entries = [
        {"at": 1, "event": {"type": "peek", "who": "Dee", "into": "hall"}},
        {"at": 1, "event": {"type": "distract", "who": "Cy", "turns": 1}},
        {"at": 1, "event": {"type": "assert", "who": "Ann", "fact": "debt", "holds": False}},
        {"at": 2, "event": {"type": "move", "who": "Bob", "object": "key", "to": "chest"}},
    ]
    scenario = scenario.model_copy(
        update={"timeline": [TimelineEntry.model_validate(e) for e in entries], "max_turns": 2}
    )
    simulation = Simulation(scenario, ScriptedStage())
    simulation.run()
    state = fold_beliefs(scenario, simulation.events)
    check_facts(
        state,
        "debt",
        {
            ("Dee",): False,
            ("Cy",): None,
            ("Bob",): True,
            ("Ann", "Cy"): False,
            ("Bob", "Ann"): True,
        },
    )
    assert state.fact_belief("Dee", "debt").lie_by == "Ann"  # type: ignore[union-attr]
    check_objects(state, {("Dee",): "chest", ("Cy",): "chest", ("Ann", "Dee"): None})


WATCHED = """title: watched
world:
  locations: [hall, study]
  containers: {tray: {in: hall, open: true}, chest: {in: hall}}
  objects: {key: {in: tray}}
  facts: {debt: {text: "Felix owes Edwin money", true: true}}
cast:
  - {name: Ann, persona: p, location: hall, knows: {debt: true}}
  - {name: Bob, persona: p, location: hall}
  - {name: Dee, persona: p, location: study}
timeline:
  - {at: 1, event: {type: peek, who: Dee, into: hall}}
  - {at: 2, event: {type: distract, who: Bob, turns: 1}}
  - {at: 2, event: {type: move, who: Ann, object: key, to: chest}}
  - {at: 3, event: {type: assert, who: Ann, fact: debt, holds: false}}
  - {at: 3, event: {type: stop_peek, who: Dee}}
tom: {order: 3}
max_turns: 4
"""


def test_a_run_with_watchers_distraction_and_statements_is_logged_read_back_and_verified(
    tmp_path,
) -> None:
    from click.testing import CliRunner

    from simstage.cli import main
    from simstage.run.log import RunLogWriter, read_runlog
    from simstage.run.open import make_header
    from simstage.scenario import load_scenario

    path = tmp_path / "watched.yaml"
    path.write_text(WATCHED)
    loaded = load_scenario(path)
    stage, log_path = ScriptedStage(), tmp_path / "run.jsonl"
    with RunLogWriter(log_path, make_header(loaded, stage, 0, 4)) as writer:
        simulation = Simulation(loaded.scenario, stage, sink=writer.append)
        simulation.run()
    log = read_runlog(log_path)
    assert [e.model_dump() for e in log.events] == [e.model_dump() for e in simulation.events]
    state = fold_beliefs(loaded.scenario, log.events)
    check_objects(
        state, {("Dee",): "chest", ("Bob",): "tray", ("Ann", "Bob"): "chest", ("Ann", "Dee"): None}
    )
    check_facts(
        state,
        "debt",
        {("Ann",): True, ("Bob",): False, ("Dee",): False, ("Dee", "Bob", "Ann"): False},
    )
    result = CliRunner().invoke(main, ["replay", str(log_path), "--verify"])
    assert result.exit_code == 0 and "verify: match" in result.output, result.output


def test_a_character_states_a_fact_on_its_turn_and_the_tracker_folds_it() -> None:
    from simstage.events import Asserted
    from simstage.scenario import parse_scenario

    scenario = parse_scenario(WATCHED.split("timeline:")[0] + "max_turns: 2\n", "w.yaml").scenario
    stage = ScriptedStage()
    stage.enqueue(
        [
            '{"say": "Not at all.", "action": {"type": "assert", "fact": "debt", "holds": false}}',
            '{"say": "", "action": {"type": "assert", "to": "Ann", "fact": "debt", "holds": false}}',
        ]
    )
    simulation = Simulation(scenario, stage)
    simulation.run()
    said = [e for e in simulation.events if isinstance(e, Asserted)]
    assert [(e.who, e.to, e.holds, e.true) for e in said] == [
        ("Ann", None, False, False),
        ("Bob", "Ann", False, False),
    ]
    state = fold_beliefs(scenario, simulation.events)
    check_facts(
        state,
        "debt",
        {("Ann",): True, ("Bob",): False, ("Bob", "Ann"): False, ("Ann", "Bob"): False},
    )
    assert state.fact_belief("Bob", "debt").lie_by == "Ann"  # type: ignore[union-attr]
