"""Beliefs about facts: statements public and private, trust, hearsay, lies, initial knowledge.

Each test checks the exact (holder, chain) -> value at orders 1-3 against the rules in
README's "Beliefs: the ToM tracker" (True: the fact holds, False: it does not, None: no belief).
The scene (tests/unit/facts_scene.py): Ann, Bob and Cy in the hall, Dee in the study;
`debt` holds, `fake` does not; everyone trusts everyone unless a test says otherwise.
"""

from __future__ import annotations

import pytest

from tests.unit.facts_scene import beliefs, enter, exit_, scene, state_, value


def check(state, fact: str, expected: dict[tuple[str, ...], bool | None]) -> None:
    got = {full: value(state, fact, *full) for full in expected}
    assert got == expected


def test_a_public_statement_is_heard_by_everyone_present_and_they_know_it() -> None:
    state = beliefs(scene(), [(1, state_("Ann", "debt", True))])
    check(
        state,
        "debt",
        {
            ("Ann",): None,  # asserting what it has no belief about changes nothing of its own
            ("Bob",): True,
            ("Cy",): True,
            ("Dee",): None,
            ("Ann", "Bob"): True,
            ("Bob", "Ann"): True,
            ("Bob", "Cy"): True,
            ("Cy", "Ann"): True,
            ("Ann", "Dee"): None,
            ("Dee", "Ann"): None,
            ("Bob", "Dee"): None,
            ("Ann", "Bob", "Cy"): True,
            ("Bob", "Cy", "Ann"): True,
            ("Ann", "Bob", "Ann"): True,
            ("Cy", "Bob", "Dee"): None,
            ("Dee", "Bob", "Ann"): None,
        },
    )
    bob = state.fact_belief("Bob", "debt")
    assert bob is not None and (bob.source, bob.turn, bob.right, bob.lie_by, bob.order) == (
        "claimed",
        1,
        True,
        None,
        1,
    )
    assert state.fact_belief("Bob", "debt", ["Ann"]).source == "claimed"  # type: ignore[union-attr]
    assert value(state, "fake", "Bob") is None


def test_a_private_statement_is_known_to_its_two_parties_only() -> None:
    state = beliefs(scene(), [(1, state_("Ann", "debt", True, to="Bob"))])
    check(
        state,
        "debt",
        {
            ("Bob",): True,
            ("Ann",): None,
            ("Cy",): None,
            ("Dee",): None,
            ("Ann", "Bob"): True,
            ("Bob", "Ann"): True,
            ("Cy", "Bob"): None,
            ("Cy", "Ann"): None,
            ("Bob", "Cy"): None,
            ("Ann", "Cy"): None,
            ("Ann", "Bob", "Ann"): True,
            ("Bob", "Ann", "Bob"): True,
            ("Cy", "Ann", "Bob"): None,
            ("Ann", "Bob", "Cy"): None,
        },
    )
    assert state.fact_belief("Bob", "debt").source == "told"  # type: ignore[union-attr]
    assert state.fact_belief("Ann", "debt", ["Bob"]).source == "told"  # type: ignore[union-attr]
    assert state.heard("Bob") == ["Felix owes Edwin money."] and state.heard("Cy") == []


def test_trust_is_needed_to_adopt_and_is_common_knowledge() -> None:
    scenario = scene(trust={"Bob": ["Cy"]})
    state = beliefs(scenario, [(1, state_("Ann", "debt", True))])
    check(
        state,
        "debt",
        {
            ("Bob",): None,
            ("Cy",): True,
            ("Bob", "Ann"): True,  # Bob does not believe it, but knows Ann said it
            ("Ann", "Bob"): None,
            ("Cy", "Bob"): None,
            ("Ann", "Cy"): True,
            ("Bob", "Cy"): True,
            ("Cy", "Bob", "Ann"): True,
            ("Ann", "Cy", "Bob"): None,
            ("Bob", "Cy", "Ann"): True,
        },
    )
    # Bob trusts Cy: Cy's word is adopted, and everyone present knows it.
    state = beliefs(scenario, [(1, state_("Ann", "debt", True)), (2, state_("Cy", "debt", True))])
    check(
        state,
        "debt",
        {("Bob",): True, ("Ann", "Bob"): True, ("Cy", "Bob"): True, ("Ann", "Cy", "Bob"): True},
    )
    assert state.fact_belief("Bob", "debt").turn == 2  # type: ignore[union-attr]
    distrust = beliefs(scene(trust="none"), [(1, state_("Ann", "debt", True))])
    check(
        distrust, "debt", {("Bob",): None, ("Cy",): None, ("Bob", "Ann"): True, ("Cy", "Bob"): None}
    )


def test_hearsay_gives_way_to_newer_hearsay_but_a_belief_held_from_the_start_is_kept() -> None:
    scenario = scene(knows={"Bob": {"debt": False}})
    steps = [
        (1, state_("Ann", "debt", True)),
        (2, enter("Dee", "hall")),
        (3, state_("Dee", "debt", False)),
    ]
    first = beliefs(scenario, steps[:1])
    check(
        first,
        "debt",
        {
            ("Bob",): False,  # initial: kept
            ("Cy",): True,
            ("Ann", "Bob"): True,  # Ann does not know Bob's own belief: she thinks he took her word
            ("Bob", "Cy"): True,
            ("Cy", "Bob", "Ann"): True,
        },
    )
    assert first.fact_belief("Bob", "debt").source == "initial"  # type: ignore[union-attr]
    later = beliefs(scenario, steps)
    check(
        later,
        "debt",
        {
            ("Bob",): False,
            ("Cy",): False,
            ("Ann",): False,
            ("Dee",): None,
            ("Cy", "Bob"): False,
            ("Dee", "Cy"): False,
            ("Ann", "Bob", "Cy"): False,
            ("Dee", "Bob", "Ann"): False,
        },
    )
    cy = later.fact_belief("Cy", "debt")
    assert cy is not None and (cy.source, cy.turn, cy.right, cy.lie_by) == (
        "claimed",
        3,
        False,
        None,
    )
    assert later.fact_belief("Bob", "debt").turn == 0  # type: ignore[union-attr]


def test_a_lie_is_adopted_by_who_cannot_tell_and_marked() -> None:
    state = beliefs(scene(knows={"Ann": {"debt": True}}), [(1, state_("Ann", "debt", False))])
    check(
        state,
        "debt",
        {
            ("Ann",): True,
            ("Bob",): False,
            ("Cy",): False,
            ("Dee",): None,
            ("Bob", "Ann"): False,
            ("Ann", "Bob"): False,
            ("Cy", "Bob"): False,
            ("Cy", "Bob", "Ann"): False,
            ("Ann", "Bob", "Ann"): False,
            ("Ann", "Bob", "Cy"): False,
        },
    )
    for full in [("Bob",), ("Bob", "Ann"), ("Ann", "Bob"), ("Cy", "Bob", "Ann")]:
        belief = state.fact_belief(full[0], "debt", full[1:])
        assert belief is not None and belief.lie_by == "Ann" and not belief.right
    assert state.fact_belief("Ann", "debt").lie_by is None  # type: ignore[union-attr]


def test_a_lie_is_seen_through_by_who_saw_the_speaker_learn_the_opposite() -> None:
    scenario = scene(knows={"Ann": {"debt": {"holds": True, "with": ["Bob"]}}})
    state = beliefs(scenario, [(1, state_("Ann", "debt", False))])
    check(
        state,
        "debt",
        {
            ("Bob",): True,
            ("Cy",): False,
            ("Bob", "Ann"): True,  # Bob takes it as Ann's lie: she believes it holds
            ("Cy", "Ann"): False,
            ("Ann", "Bob"): True,
            ("Bob", "Cy"): False,
            ("Cy", "Bob"): False,
            ("Ann", "Bob", "Ann"): True,
            ("Bob", "Ann", "Bob"): True,
            ("Cy", "Bob", "Ann"): False,
        },
    )
    seen = state.fact_belief("Bob", "debt", ["Ann"])
    assert seen is not None and (seen.source, seen.turn, seen.lie_by, seen.right) == (
        "inferred",
        1,
        "Ann",
        True,
    )
    assert state.fact_belief("Ann", "debt", ["Bob", "Ann"]).lie_by == "Ann"  # type: ignore[union-attr]
    assert state.fact_belief("Ann", "debt", ["Bob"]).lie_by is None  # type: ignore[union-attr]


def test_a_listener_who_sees_through_a_lie_does_not_adopt_it_even_over_hearsay() -> None:
    steps = [
        (1, state_("Cy", "debt", True)),
        (2, enter("Dee", "hall")),
        (2, state_("Ann", "debt", False)),
    ]
    state = beliefs(scene(), steps)
    check(
        state,
        "debt",
        {
            ("Bob",): True,  # Bob saw Ann learn it holds (from Cy): he keeps his belief
            ("Cy",): None,  # Cy asserted it with no belief, and sees through Ann too
            ("Dee",): False,  # Dee came in after Cy spoke: she takes Ann's word
            ("Bob", "Ann"): True,
            ("Cy", "Ann"): True,
            ("Dee", "Ann"): False,
            ("Bob", "Dee"): False,
            ("Dee", "Bob"): False,
            ("Bob", "Cy", "Ann"): True,
        },
    )
    assert state.fact_belief("Dee", "debt").lie_by == "Ann"  # type: ignore[union-attr]
    assert state.fact_belief("Bob", "debt", ["Ann"]).source == "inferred"  # type: ignore[union-attr]


def test_changing_ones_story_is_not_taken_for_a_lie() -> None:
    state = beliefs(scene(), [(1, state_("Ann", "debt", True)), (2, state_("Ann", "debt", False))])
    check(
        state,
        "debt",
        {("Ann",): None, ("Bob",): False, ("Bob", "Ann"): False, ("Cy", "Bob", "Ann"): False},
    )
    assert state.fact_belief("Bob", "debt", ["Ann"]).source == "claimed"  # type: ignore[union-attr]


def test_common_knowledge_from_the_start_to_any_depth_and_private_knowledge() -> None:
    scenario = scene(
        knows={"Ann": {"debt": {"holds": True, "with": ["Bob"]}}, "Cy": {"fake": True}}
    )
    state = beliefs(scenario, [])
    check(
        state,
        "debt",
        {
            ("Ann",): True,
            ("Bob",): True,
            ("Ann", "Bob"): True,
            ("Bob", "Ann"): True,
            ("Ann", "Bob", "Ann"): True,
            ("Bob", "Ann", "Bob"): True,
            ("Cy",): None,
            ("Ann", "Cy"): None,
            ("Cy", "Ann"): None,
            ("Ann", "Bob", "Cy"): None,
        },
    )
    check(
        state,
        "fake",
        {("Cy",): True, ("Ann", "Cy"): None, ("Cy", "Ann"): None, ("Cy", "Ann", "Cy"): None},
    )
    ann = state.fact_belief("Ann", "debt", ["Bob"])
    assert ann is not None and (ann.source, ann.turn, ann.right) == ("initial", 0, True)
    assert state.fact_belief("Cy", "fake").right is False  # type: ignore[union-attr]


def test_an_initial_false_belief_is_wrong_from_the_start_and_kept_against_hearsay() -> None:
    scenario = scene(knows={"Bob": {"debt": {"holds": False, "with": ["Cy"]}}})
    start = beliefs(scenario, [])
    check(
        start,
        "debt",
        {("Bob",): False, ("Cy", "Bob"): False, ("Bob", "Cy", "Bob"): False, ("Ann", "Bob"): None},
    )
    assert start.fact_belief("Bob", "debt").right is False  # type: ignore[union-attr]
    assert {(b.holder, b.chain) for b in start.fact_beliefs() if not b.right} == {
        ("Bob", ()),
        ("Cy", ()),
        ("Bob", ("Cy",)),
        ("Cy", ("Bob",)),
        ("Bob", ("Cy", "Bob")),
        ("Cy", ("Bob", "Cy")),
    }
    state = beliefs(scenario, [(1, state_("Ann", "debt", True))])
    check(
        state,
        "debt",
        {
            ("Bob",): False,
            ("Cy",): False,
            ("Ann", "Bob"): True,  # Ann knows nothing of their belief
            ("Bob", "Cy"): False,
            ("Cy", "Bob", "Ann"): True,
            ("Ann",): None,
        },
    )


def test_beliefs_deeper_than_the_order_are_not_given() -> None:
    state = beliefs(scene(order=2), [(1, state_("Ann", "debt", True))])
    assert value(state, "debt", "Ann", "Bob") is True
    assert state.fact_belief("Ann", "debt", ["Bob", "Cy"]) is None
    assert (
        state.fact_belief("Ann", "nothing") is None and state.fact_belief("Nobody", "debt") is None
    )
    assert state.facts == ("debt", "fake") and state.fact_truth == {"debt": True, "fake": False}


def test_a_snapshot_does_not_change_with_later_statements() -> None:
    from simstage.tom.tracker import BeliefTracker
    from tests.unit.facts_scene import play

    scenario = scene()
    tracker = BeliefTracker(scenario)
    events = play(
        scenario,
        [
            (1, state_("Ann", "debt", True)),
            (2, enter("Dee", "hall")),
            (3, state_("Dee", "debt", False)),
        ],
    )
    tracker.apply(events[0])
    before = tracker.state()
    tracker.apply(events[1])
    tracker.apply(events[2])
    assert value(before, "debt", "Bob") is True and value(tracker.state(), "debt", "Bob") is False


@pytest.mark.parametrize(
    ("holder", "chain", "expected"),
    [
        (None, (), ("Ann", "Bob")),  # the narrator: whose own belief is right
        ("Ann", (), ("Ann", "Bob", "Cy")),  # Ann thinks Cy took Bob's word
        ("Cy", (), ("Cy", "Dee")),  # Cy thinks Bob wrong, and Dee (whom she told) right
        ("Dee", (), ("Cy", "Dee")),
        ("Ann", ("Bob",), ("Ann", "Bob", "Cy")),
        ("Cy", ("Dee",), ("Cy", "Dee")),
    ],
)
def test_who_knows_really_and_in_each_view(
    holder: str | None, chain: tuple[str, ...], expected: tuple[str, ...]
) -> None:
    scenario = scene(
        knows={"Ann": {"debt": {"holds": True, "with": ["Bob"]}}, "Cy": {"debt": False}}
    )
    steps = [
        (1, exit_("Cy", "study")),
        (2, state_("Cy", "debt", False, to="Dee")),
        (3, state_("Ann", "debt", True)),
        (4, enter("Cy", "hall")),
        (5, state_("Bob", "debt", True)),
    ]
    state = beliefs(scenario, steps)
    assert state.who_knows("debt", holder, chain) == expected


def test_who_knows_before_anyone_speaks_and_for_unknown_names() -> None:
    state = beliefs(scene(knows={"Ann": {"debt": {"holds": True, "with": ["Bob"]}}}), [])
    assert state.who_knows("debt") == ("Ann", "Bob")
    assert state.who_knows("debt", "Cy") == () and state.who_knows("debt", "Bob") == ("Ann", "Bob")
    assert state.who_knows("nothing") == () and state.who_knows("debt", "Nobody") == ()
    assert state.who_knows("debt", "Ann", ["Bob", "Ann", "Bob"]) == ()  # deeper than four minds
