"""The tracker's choices where the rules leave a case open, as docs/beliefs.md states them.

Each test checks exact (holder, chain) -> belief on the scene of tests/unit/facts_scene.py:
Ann, Bob and Cy in the hall (the key in the open tray, a closed chest), Dee in the study;
`debt` holds.
"""

from __future__ import annotations

from simstage.tom.beliefs import BeliefState
from tests.unit.facts_scene import (
    beliefs,
    distract,
    enter,
    exit_,
    move,
    peek,
    scene,
    state_,
    value,
    where,
)


def facts(state: BeliefState, expected: dict[tuple[str, ...], bool | None]) -> None:
    assert {full: value(state, "debt", *full) for full in expected} == expected


def test_a_belief_known_only_from_the_speakers_words_gives_way_to_a_trusted_statement() -> None:
    # Ann tells Bob privately that the debt holds; then Cy, who did not hear it, says aloud
    # that it does not. Bob knows Ann's belief only from her words: hearsay, which Cy's
    # statement replaces (and Bob's own, told, too).
    state = beliefs(
        scene(), [(1, state_("Ann", "debt", True, to="Bob")), (2, state_("Cy", "debt", False))]
    )
    facts(
        state,
        {
            ("Ann",): False,  # she had no belief of her own
            ("Bob",): False,
            ("Bob", "Ann"): False,  # known only from her own words: hearsay, replaced
            ("Ann", "Bob", "Ann"): False,
            ("Cy", "Ann"): False,  # Cy knows of no tell
        },
    )
    bob_ann = state.fact_belief("Bob", "debt", ["Ann"])
    assert bob_ann is not None and (bob_ann.source, bob_ann.turn) == ("claimed", 2)
    # Before Cy spoke, Bob's model of Ann was her own private word.
    told = beliefs(scene(), [(1, state_("Ann", "debt", True, to="Bob"))])
    assert told.fact_belief("Bob", "debt", ["Ann"]).source == "told"  # type: ignore[union-attr]


def test_a_lie_seen_through_with_initial_knowledge_is_kept_against_hearsay() -> None:
    # Everyone in the hall knows from the start that Bob knows the debt holds; Bob says it
    # does not: a lie they see through, as firm as the initial knowledge behind it.
    knows = {"Bob": {"debt": {"holds": True, "with": ["Ann", "Cy"]}}}
    state = beliefs(
        scene(knows=knows),
        [(1, state_("Bob", "debt", False)), (2, state_("Cy", "debt", False))],
    )
    ann_bob = state.fact_belief("Ann", "debt", ["Bob"])
    assert ann_bob is not None and (ann_bob.value, ann_bob.source, ann_bob.lie_by) == (
        True,
        "inferred",
        "Bob",
    )


def test_a_distraction_misses_only_what_comes_after_it_in_its_turn() -> None:
    state = beliefs(
        scene(), [(1, state_("Ann", "debt", True)), (1, distract("Bob")), (1, move("Ann", "chest"))]
    )
    facts(state, {("Bob",): True, ("Cy", "Bob"): True})
    assert where(state, "Bob") == "tray" and where(state, "Cy", "Bob") == "chest"


def test_a_distracted_entrant_sees_what_lies_open_and_a_distracted_watcher_sees_nothing() -> None:
    # Bob leaves; Ann puts the key in the closed chest while he is away. He comes back
    # distracted: his own entrance still shows him the open tray, empty.
    state = beliefs(
        scene(),
        [
            (1, exit_("Bob", "garden")),
            (2, move("Ann", "chest")),
            (3, distract("Bob")),
            (3, enter("Bob", "hall")),
        ],
    )
    bob = state.where("Bob", "key")
    assert bob is not None and (bob.container, bob.source, bob.turn) == (None, "inferred", 3)
    state = beliefs(
        scene(), [(1, exit_("Bob", "garden")), (2, distract("Bob")), (2, enter("Bob", "hall"))]
    )
    bob = state.where("Bob", "key")
    assert bob is not None and (bob.container, bob.source, bob.turn) == ("tray", "witnessed", 2)
    # Dee watches the hall unseen, distracted: she misses the move and the statement.
    state = beliefs(
        scene(),
        [
            (1, peek("Dee", "hall")),
            (2, distract("Dee")),
            (2, move("Ann", "chest")),
            (2, state_("Ann", "debt", True)),
        ],
    )
    assert where(state, "Dee") == "tray"
    facts(state, {("Dee",): None, ("Ann", "Dee"): None})


def test_a_name_left_out_of_a_trust_map_trusts_everyone() -> None:
    state = beliefs(scene(trust={"Bob": []}), [(1, state_("Ann", "debt", True))])
    facts(state, {("Bob",): None, ("Cy",): True, ("Ann", "Bob"): None, ("Ann", "Cy"): True})


def test_right_compares_a_nested_belief_with_the_fact_not_with_the_mind_modelled() -> None:
    # Bob is distracted while Ann says the debt holds: he has no belief, but Cy thinks he does.
    state = beliefs(scene(), [(1, distract("Bob")), (1, state_("Ann", "debt", True))])
    assert value(state, "debt", "Bob") is None
    cy_bob = state.fact_belief("Cy", "debt", ["Bob"])
    assert cy_bob is not None and cy_bob.value is True and cy_bob.right is True
