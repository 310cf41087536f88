"""Perception in the world: who witnesses an event, secret watchers, distracted witnesses."""

from __future__ import annotations

import json

from simstage.events import (
    Asserted,
    Distracted,
    Entered,
    Exited,
    Moved,
    Peeked,
    PeekStopped,
    Rejected,
    Said,
    Told,
    event_from_json,
    event_to_json,
)
from simstage.scenario.models import SayAction, TellAction
from simstage.world.actions import resolve, statement_text
from simstage.world.state import WorldState, fold_world
from tests.unit.facts_scene import (
    distract,
    enter,
    exit_,
    move,
    peek,
    play,
    scene,
    state_,
    stop_peek,
)


def test_a_secret_watcher_witnesses_what_happens_where_it_watches() -> None:
    scenario = scene()
    peeked, moved, said, told, left = play(
        scenario,
        [
            (1, peek("Dee", "hall")),
            (2, move("Ann", "chest")),
            (3, state_("Ann", "debt", True)),
            (4, state_("Ann", "fake", True, to="Bob")),
            (5, exit_("Cy", "study")),
        ],
    )
    assert (
        isinstance(peeked, Peeked)
        and peeked.witnesses == ("Dee",)
        and peeked.sees == {"key": "tray"}
    )
    assert (
        isinstance(moved, Moved)
        and moved.witnesses == ("Ann", "Bob", "Cy", "Dee")
        and moved.watchers == ("Dee",)
    )
    assert (
        isinstance(said, Asserted) and said.watchers == ("Dee",) and said.to is None and said.true
    )
    assert (
        isinstance(told, Asserted)
        and told.witnesses == ("Ann", "Bob")
        and told.watchers == ()
        and not told.true
    )
    assert (
        isinstance(left, Exited)
        and left.witnesses == ("Ann", "Bob", "Cy", "Dee")
        and left.watchers == ("Dee",)
    )


def test_watching_ends_when_the_watcher_moves_or_stops() -> None:
    scenario = scene()
    events = play(
        scenario, [(1, peek("Dee", "hall")), (2, stop_peek("Dee")), (3, move("Ann", "chest"))]
    )
    assert isinstance(events[1], PeekStopped) and events[1].into == "hall"
    assert events[2].witnesses == ("Ann", "Bob", "Cy") and events[2].watchers == ()
    events = play(
        scenario,
        [
            (1, peek("Bob", "study")),
            (2, SayAction(type="say", who="Dee", text="hm")),
            (3, exit_("Bob", "garden")),
            (4, SayAction(type="say", who="Dee", text="hm")),
        ],
    )
    assert events[1].witnesses == ("Dee", "Bob") and events[1].watchers == ("Bob",)
    assert fold_world(scenario, events).watching == {}
    assert events[3].witnesses == ("Dee",) and events[3].watchers == ()
    # Entering the room it watched: it is simply there.
    events = play(
        scenario, [(1, peek("Dee", "hall")), (2, enter("Dee", "hall")), (3, move("Ann", "chest"))]
    )
    assert isinstance(events[1], Entered) and events[1].witnesses == ("Ann", "Bob", "Cy", "Dee")
    assert events[1].watchers == () and events[2].watchers == ()


def test_peeks_that_make_no_sense_are_refused() -> None:
    scenario = scene()
    world = WorldState.initial(scenario)
    assert "only watch another location" in resolve(world, peek("Ann", "hall"), 1).reason  # type: ignore[union-attr]
    assert "no location" in resolve(world, peek("Ann", "attic"), 1).reason  # type: ignore[union-attr]
    assert "not watching" in resolve(world, stop_peek("Ann"), 1).reason  # type: ignore[union-attr]
    world.apply(resolve(world, peek("Dee", "hall"), 1))
    assert "already watching" in resolve(world, peek("Dee", "hall"), 2).reason  # type: ignore[union-attr]
    assert isinstance(resolve(world, state_("Ann", "nothing", True), 2), Rejected)
    assert "not in the hall" in resolve(world, state_("Ann", "debt", True, to="Dee"), 2).reason  # type: ignore[union-attr]


def test_a_distracted_witness_misses_events_for_its_turns_only_and_never_its_own() -> None:
    scenario = scene()
    events = play(
        scenario,
        [
            (1, distract("Bob", turns=2)),
            (1, move("Ann", "chest")),
            (2, SayAction(type="say", who="Bob", text="hm")),
            (2, TellAction(type="tell", who="Ann", to="Bob", text="psst")),
            (3, move("Ann", "tray")),
        ],
    )
    distracted, moved, own, told, later = events
    assert (
        isinstance(distracted, Distracted) and distracted.until == 2 and distracted.witnesses == ()
    )
    assert moved.witnesses == ("Ann", "Cy") and moved.distracted == ("Bob",)
    assert isinstance(own, Said) and own.witnesses == ("Ann", "Bob", "Cy") and own.distracted == ()
    assert isinstance(told, Told) and told.witnesses == ("Ann",) and told.distracted == ("Bob",)
    assert later.witnesses == ("Ann", "Bob", "Cy") and later.distracted == ()


def test_events_without_watchers_or_distraction_keep_their_old_json_shape() -> None:
    (moved,) = play(scene(), [(1, move("Ann", "chest"))])
    data = json.loads(event_to_json(moved))
    assert list(data) == ["turn", "origin", "witnesses", "type", "who", "object", "frm", "to"]
    old = '{"turn":1,"origin":"stage","witnesses":["Ann"],"type":"say","who":"Ann","text":"hi"}'
    assert event_to_json(event_from_json(old)) == old
    (watched,) = play(scene(), [(1, distract("Bob"))])
    assert event_from_json(event_to_json(watched)) == watched
    _, seen = play(scene(), [(1, peek("Dee", "hall")), (2, move("Ann", "chest"))])
    assert (
        json.loads(event_to_json(seen))["watchers"] == ["Dee"]
        and event_from_json(event_to_json(seen)) == seen
    )


def test_a_statement_says_the_facts_sentence_or_its_negation() -> None:
    assert statement_text("Felix owes Edwin money", True) == "Felix owes Edwin money."
    assert (
        statement_text("Felix owes Edwin money.", False)
        == "It is not true that Felix owes Edwin money."
    )
    assert statement_text("The ring is a fake", False) == "It is not true that the ring is a fake."
    (said,) = play(scene(), [(1, state_("Ann", "fake", False))])
    assert said.text == "It is not true that the ring is a fake." and said.true


def test_the_world_fold_keeps_watchers_and_distractions_and_copies_them() -> None:
    scenario = scene()
    events = play(scenario, [(1, peek("Dee", "hall")), (2, distract("Cy", turns=3))])
    world = fold_world(scenario, events)
    assert world.watching == {"Dee": "hall"} and world.distracted_until == {"Cy": 4}
    assert (
        world.watchers_of("hall") == ("Dee",)
        and world.is_distracted("Cy", 4)
        and not world.is_distracted("Cy", 5)
    )
    copy = world.copy()
    copy.watching.clear()
    assert world.watching == {"Dee": "hall"}


def test_prompts_show_what_each_one_perceived_the_watcher_unseen_the_distracted_nothing() -> None:
    from simstage.cast.prompt import character_messages, opening_observations, system_message

    scenario = scene(
        knows={"Ann": {"debt": {"holds": True, "with": ["Bob"]}}, "Cy": {"fake": False}}
    )
    events = play(
        scenario,
        [
            (1, peek("Dee", "hall")),
            (1, distract("Bob")),
            (1, move("Ann", "chest")),
            (1, state_("Ann", "fake", True)),
            (2, state_("Cy", "debt", False, to="Bob")),
            (2, stop_peek("Dee")),
        ],
    )
    dee = character_messages(scenario, "Dee", events)[-1].content
    assert "Unseen, you start watching the hall. You see the key in the tray." in dee
    assert "(Unseen, you watch) Ann moves the key from the tray to the chest." in dee
    assert (
        '(Unseen, you watch) Ann says: "The ring is a fake."' in dee
        and "You stop watching the hall." in dee
    )
    assert "Cy tells" not in dee
    bob = character_messages(scenario, "Bob", events)[-1].content
    assert "moves the key" not in bob and "ring is a fake" not in bob
    assert 'Cy tells you privately: "It is not true that Felix owes Edwin money."' in bob
    assert (
        "You know that Felix owes Edwin money. Ann knows it too, and you all know that."
        in opening_observations(scenario, "Bob")
    )
    assert "You know that it is not true that the ring is a fake." in opening_observations(
        scenario, "Cy"
    )
    assert not any("Felix" in line for line in opening_observations(scenario, "Dee"))
    system = system_message(scenario, "Dee").content
    assert 'debt ("Felix owes Edwin money")' in system and '"type": "assert"' in system
