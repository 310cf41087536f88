"""World actions: legality, witnesses, and rejections recorded as events."""

from __future__ import annotations

from simstage.events import Claimed, Entered, Exited, Moved, Rejected, Said, Told
from simstage.scenario import models as act
from simstage.scenario import parse_scenario
from simstage.world import WorldState, fold_world, resolve

SCENE = parse_scenario(
    """
title: w
world:
  locations: [room, hall]
  containers: {basket: {in: room}, box: {in: room}, chest: {in: hall, open: true}}
  objects: {marble: {in: basket}, coin: {in: chest}}
cast:
  - {name: Sally, persona: p, location: room}
  - {name: Anne, persona: p, location: room}
  - {name: Carl, persona: p, location: hall}
""",
).scenario


def world() -> WorldState:
    return WorldState.initial(SCENE)


def test_say_is_heard_by_everyone_in_the_room_only() -> None:
    event = resolve(world(), act.SayAction(type="say", who="Sally", text="hi"), 1)
    assert isinstance(event, Said)
    assert set(event.witnesses) == {"Sally", "Anne"}


def test_tell_is_private_and_needs_the_listener_present() -> None:
    event = resolve(world(), act.TellAction(type="tell", who="Sally", to="Anne", text="psst"), 1)
    assert isinstance(event, Told) and event.witnesses == ("Sally", "Anne")
    refused = resolve(world(), act.TellAction(type="tell", who="Sally", to="Carl", text="psst"), 1)
    assert isinstance(refused, Rejected)
    assert "Carl is not in the room" in refused.reason


def test_move_needs_object_and_container_in_the_actors_room() -> None:
    w = world()
    moved = resolve(w, act.MoveAction(type="move", who="Anne", object="marble", to="box"), 2)
    assert isinstance(moved, Moved) and moved.frm == "basket"
    assert set(moved.witnesses) == {"Sally", "Anne"}
    far = resolve(w, act.MoveAction(type="move", who="Carl", object="marble", to="chest"), 2)
    assert isinstance(far, Rejected) and "not in the hall" in far.reason
    same = resolve(w, act.MoveAction(type="move", who="Anne", object="marble", to="basket"), 2)
    assert isinstance(same, Rejected)


def test_exit_is_seen_by_the_room_left_and_enter_by_the_room_entered() -> None:
    w = world()
    left = resolve(w, act.ExitAction(type="exit", who="Sally", to="hall"), 1)
    assert isinstance(left, Exited) and set(left.witnesses) == {"Sally", "Anne"}
    w.apply(left)
    back = resolve(w, act.EnterAction(type="enter", who="Sally", to="room"), 2)
    assert isinstance(back, Entered) and set(back.witnesses) == {"Sally", "Anne"}
    # Closed containers hide their contents; the open chest shows its coin.
    assert back.sees == {}
    w.apply(back)
    into_hall = resolve(w, act.EnterAction(type="enter", who="Anne", to="hall"), 3)
    assert into_hall.sees == {"coin": "chest"} and set(into_hall.witnesses) == {"Carl", "Anne"}
    again = resolve(w, act.EnterAction(type="enter", who="Sally", to="room"), 4)
    assert isinstance(again, Rejected) and "already in the room" in again.reason


def test_claim_records_whether_it_is_true() -> None:
    lie = resolve(
        world(), act.ClaimAction(type="claim", who="Anne", object="marble", container="box"), 1
    )
    assert isinstance(lie, Claimed) and lie.true is False and lie.text
    truth = resolve(
        world(), act.ClaimAction(type="claim", who="Anne", object="marble", container="basket"), 1
    )
    assert truth.true is True


def test_world_is_a_fold_over_events() -> None:
    w = world()
    events = []
    for action in (
        act.ExitAction(type="exit", who="Sally", to="hall"),
        act.MoveAction(type="move", who="Anne", object="marble", to="box"),
        act.EnterAction(type="enter", who="Sally", to="room"),
    ):
        event = resolve(w, action, 1)
        w.apply(event)
        events.append(event)
    folded = fold_world(SCENE, events)
    assert folded.object_container == w.object_container == {"marble": "box", "coin": "chest"}
    assert folded.character_location["Sally"] == "room"
