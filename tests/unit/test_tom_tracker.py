"""The symbolic ToM tracker: nested beliefs folded from witnessed events."""

from __future__ import annotations

from itertools import pairwise, product
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from simstage.engine import Simulation
from simstage.events import Claimed, Entered, Exited, Moved, Said, Told
from simstage.scenario import ScenarioError, load_scenario, parse_scenario
from simstage.scenario.models import EnterAction, ExitAction, MoveAction, Scenario
from simstage.stage.scripted import ScriptedStage
from simstage.tom.tracker import BeliefTracker, fold_beliefs
from simstage.world.actions import resolve
from simstage.world.state import WorldState

ROOT = Path(__file__).resolve().parents[2]


def played(name: str) -> tuple[Scenario, list]:
    scenario = load_scenario(ROOT / "scenarios" / f"{name}.yaml").scenario
    simulation = Simulation(scenario, ScriptedStage())
    simulation.run()
    return scenario, simulation.events


def test_sally_anne_after_the_move() -> None:
    scenario, events = played("sally-anne")
    state = fold_beliefs(scenario, events)
    sally = state.where("Sally", "marble")
    assert sally is not None and sally.container == "basket" and not sally.true
    assert sally.source == "initial"
    anne = state.where("Anne", "marble")
    assert anne is not None and anne.container == "box" and anne.true and anne.source == "witnessed"
    nested = state.where("Anne", "marble", ["Sally"])
    assert nested is not None and nested.container == "basket" and nested.chain == ("Sally",)
    assert {(b.holder, b.chain) for b in state.false_beliefs()} == {
        ("Sally", ()),
        ("Sally", ("Anne",)),
        ("Anne", ("Sally",)),
    }


def test_before_the_move_everyone_is_right() -> None:
    scenario, events = played("sally-anne")
    state = fold_beliefs(scenario, events, upto_turn=2)
    assert state.turn == 2
    assert state.false_beliefs() == []
    assert state.where("Sally", "marble", ["Anne"]).container == "basket"  # type: ignore[union-attr]


def test_false_claim_is_believed_by_who_missed_the_move_only() -> None:
    scenario, events = played("false-claim")
    state = fold_beliefs(scenario, events)
    cara = state.where("Cara", "keys")
    assert (
        cara is not None
        and cara.container == "coat"
        and cara.lie_by == "Ben"
        and cara.source == "claimed"
    )
    dana = state.where("Dana", "keys")
    assert dana is not None and dana.container == "drawer" and dana.lie_by is None
    # Dana knows Cara swallowed the lie; Ben knows it too.
    assert state.where("Dana", "keys", ["Cara"]).lie_by == "Ben"  # type: ignore[union-attr]
    assert state.where("Ben", "keys", ["Cara"]).container == "coat"  # type: ignore[union-attr]
    assert state.where("Ben", "keys").container == "drawer"  # type: ignore[union-attr]


def test_trust_none_keeps_beliefs() -> None:
    scenario, events = played("false-claim")
    distrustful = scenario.model_copy(
        update={"tom": scenario.tom.model_copy(update={"trust": "none"})}
    )
    assert fold_beliefs(distrustful, events).where("Cara", "keys").container == "coat"  # type: ignore[union-attr]
    assert fold_beliefs(distrustful, events).where("Cara", "keys").source == "initial"  # type: ignore[union-attr]
    state = fold_beliefs(scenario, events, trust={"Cara": ["Dana"]})
    assert state.where("Cara", "keys").source == "initial"  # type: ignore[union-attr]


ROOMS = """
title: rooms
world:
  locations: [hall, study]
  containers:
    tray: {in: hall, open: true}
    chest: {in: hall}
    shelf: {in: study, open: true}
  objects:
    key: {in: tray}
    coin: {in: chest}
cast:
  - {name: Ann, persona: a, location: hall}
  - {name: Bob, persona: b, location: hall}
  - {name: Cy, persona: c, location: study}
max_turns: 10
"""


def rooms() -> Scenario:
    return parse_scenario(ROOMS, "rooms.yaml").scenario


def while_bob_is_out(key_to: str, coin_to: str, sees: dict[str, str]) -> list:
    """Bob leaves the hall; Ann moves the key and the coin; Bob comes back and sees `sees`."""
    return [
        Exited(turn=1, who="Bob", to="study", frm="hall", witnesses=("Ann", "Bob")),
        Moved(turn=2, who="Ann", object="key", frm="tray", to=key_to, witnesses=("Ann",)),
        Moved(turn=2, who="Ann", object="coin", frm="chest", to=coin_to, witnesses=("Ann",)),
        Entered(turn=3, who="Bob", to="hall", frm="study", sees=sees, witnesses=("Ann", "Bob")),
    ]


def test_initial_knowledge_is_local_and_shared() -> None:
    state = fold_beliefs(rooms(), [])
    assert state.where("Ann", "coin").container == "chest"  # type: ignore[union-attr]
    assert state.where("Ann", "key", ["Bob"]).source == "initial"  # type: ignore[union-attr]
    assert state.where("Cy", "key") is None
    assert state.where("Ann", "key", ["Cy"]) is None


def test_open_container_is_seen_on_entering_closed_is_not() -> None:
    scenario = rooms()
    events = while_bob_is_out(key_to="chest", coin_to="tray", sees={"coin": "tray"})
    state = fold_beliefs(scenario, events)
    coin = state.where("Bob", "coin")
    assert coin is not None and coin.container == "tray" and coin.true and coin.turn == 3
    assert state.where("Ann", "coin", ["Bob"]).container == "tray"  # type: ignore[union-attr]
    # The key left the open tray: Bob sees it gone but cannot know where it is.
    key = state.where("Bob", "key")
    assert key is not None and key.container is None and key.source == "inferred"
    assert key not in state.false_beliefs()


def test_private_tell_is_known_to_the_two_only() -> None:
    scenario = rooms()
    events = [
        Said(turn=1, who="Ann", text="Hello all.", witnesses=("Ann", "Bob")),
        Told(turn=2, who="Ann", to="Bob", text="A secret.", witnesses=("Ann", "Bob")),
        Claimed(
            turn=3,
            who="Ann",
            object="coin",
            container="tray",
            text="Coin's in the tray.",
            true=False,
            witnesses=("Ann", "Bob"),
        ),
    ]
    state = fold_beliefs(scenario, events)
    assert state.heard("Bob") == ["Hello all.", "A secret.", "Coin's in the tray."]
    assert state.heard("Ann", ["Bob"]) == ["Hello all.", "A secret.", "Coin's in the tray."]
    assert state.heard("Cy") == []
    assert state.heard("Bob", ["Cy"]) == []
    # Bob saw the coin in the chest together with Ann, and has been with her since: he knows better.
    assert state.where("Bob", "coin").container == "chest"  # type: ignore[union-attr]


def test_orders_are_limited() -> None:
    scenario, events = played("sally-anne")
    first = fold_beliefs(scenario, events, order=1)
    assert first.where("Anne", "marble", ["Sally"]) is None
    assert all(b.order == 1 for b in first.beliefs())
    third = fold_beliefs(scenario, events, order=3)
    deep = third.where("Sally", "marble", ["Anne", "Sally"])
    assert deep is not None and deep.container == "basket"
    assert max(b.order for b in third.beliefs()) == 3
    with pytest.raises(ValueError):
        fold_beliefs(scenario, events, order=5)


def test_tom_section_is_validated() -> None:
    text = ROOMS + "tom: {order: 3, trust: {Ann: [Bob, Zed], Qux: [Ann]}}\n"
    with pytest.raises(ScenarioError) as caught:
        parse_scenario(text, "rooms.yaml")
    messages = " ".join(p.message for p in caught.value.problems)
    assert "'Zed'" in messages and "'Qux'" in messages
    with pytest.raises(ScenarioError):
        parse_scenario(ROOMS + "tom: {order: 5}\n", "rooms.yaml")
    assert (
        parse_scenario(ROOMS + "tom: {order: 3, trust: none}\n", "r.yaml").scenario.tom.order == 3
    )


# -- rule sets ------------------------------------------------------------------------


def test_tomi_rules_see_inside_closed_containers_and_never_erase() -> None:
    scenario = rooms()
    events = while_bob_is_out(key_to="shelf", coin_to="chest", sees={})
    tomi = fold_beliefs(scenario, events, rules="tomi")
    # ToMi's containers are not enclosed: Bob learns the coin is in the (closed) chest ...
    assert tomi.where("Bob", "coin").container == "chest"  # type: ignore[union-attr]
    assert tomi.where("Ann", "coin", ["Bob"]).turn == 3  # type: ignore[union-attr]
    # ... and keeps his belief about the key, which ToMi never erases.
    assert tomi.where("Bob", "key").container == "tray"  # type: ignore[union-attr]
    default = fold_beliefs(scenario, events)
    assert default.where("Bob", "key").source == "inferred"  # type: ignore[union-attr]
    assert default.where("Bob", "coin").turn == 0  # type: ignore[union-attr]


HITOM_ROOM = (
    """
title: hitom
world:
  locations: [waiting_room, den]
  containers: {box: {in: den, open: true}, jar: {in: den, open: true}, tin: {in: den, open: true}}
  objects: {fig: {in: box}}
cast:
"""
    + "".join(f"  - {{name: {n}, persona: {n.lower()}, location: waiting_room}}\n" for n in "ABCD")
    + "max_turns: 20\ntom: {order: 4, rules: hitom}\n"
)


def hitom_chapter() -> tuple[Scenario, list]:
    """Hi-ToM's chapter: A, B, C enter the den in that order; each moves the fig, then leaves."""
    scenario = parse_scenario(HITOM_ROOM, "hitom.yaml").scenario
    world = WorldState.initial(scenario)
    events: list = []

    def add(event) -> None:  # type: ignore[no-untyped-def]
        events.append(event)
        world.apply(event)

    for turn, who in enumerate("ABC", start=1):
        add(
            Entered(
                turn=turn,
                who=who,
                to="den",
                frm="waiting_room",
                sees=world.visible_objects("den"),
                witnesses=(*world.present("den"), who),
            )
        )
    for turn, (who, to) in enumerate((("A", "jar"), ("B", "tin"), ("C", "box")), start=4):
        add(
            Moved(
                turn=turn,
                who=who,
                object="fig",
                frm=world.object_container["fig"],
                to=to,
                witnesses=world.present("den"),
            )
        )
        add(
            Exited(turn=turn, who=who, to="waiting_room", frm="den", witnesses=world.present("den"))
        )
    return scenario, events


def test_hitom_moves_update_chains_in_the_order_witnesses_came_in() -> None:
    scenario, events = hitom_chapter()
    state = fold_beliefs(scenario, events)  # the scenario says rules: hitom
    # B watched A's move; "B thinks A thinks" follows it (the mover counts last) ...
    assert state.where("B", "fig", ["A"]).container == "jar"  # type: ignore[union-attr]
    # ... but A, who came in before B, is not updated on "A thinks B thinks": B still "thinks" box.
    assert state.where("A", "fig", ["B"]).container == "box"  # type: ignore[union-attr]
    # C, who stays on after B, follows B's move on "C thinks B thinks"; the mover B does not on "B thinks C thinks".
    assert state.where("C", "fig", ["B"]).container == "tin"  # type: ignore[union-attr]
    assert state.where("B", "fig", ["C"]).container == "jar"  # type: ignore[union-attr]
    # Everyone's own belief follows what it saw, whatever the rules.
    assert [state.where(n, "fig").container for n in "ABC"] == ["jar", "tin", "box"]  # type: ignore[union-attr]
    default = fold_beliefs(scenario, events, rules="default")
    assert default.where("A", "fig", ["B"]).container == "jar"  # type: ignore[union-attr]


def test_hitom_claims_follow_the_exit_order_and_stop_at_second_order() -> None:
    scenario, events = hitom_chapter()
    everyone = ("A", "B", "C", "D")
    claim = Claimed(
        turn=9,
        who="B",
        object="fig",
        container="tin",
        text="The fig is in the tin.",
        true=False,
        witnesses=everyone,
    )
    state = fold_beliefs(scenario, [*events, claim])
    # A left before B, D was never there: they believe B; C left after B and does not.
    assert [state.where(n, "fig").container for n in "ACD"] == ["tin", "box", "tin"]  # type: ignore[union-attr]
    assert state.where("A", "fig", ["B"]).container == "tin"  # type: ignore[union-attr]
    # The speaker thinks every listener believes it, C included.
    assert state.where("B", "fig", ["C"]).container == "tin"  # type: ignore[union-attr]
    # Nobody else learns who believed, and nothing deeper changes.
    assert state.where("C", "fig", ["A"]).container == "jar"  # type: ignore[union-attr]
    assert state.where("D", "fig", ["A", "B"]) is None
    assert state.where("A", "fig", ["B", "C"]).container == "box"  # type: ignore[union-attr]
    default = fold_beliefs(scenario, [*events, claim], rules="default")
    assert default.where("C", "fig", ["A"]).container == "tin"  # type: ignore[union-attr]
    private = Claimed(
        turn=9,
        who="A",
        object="fig",
        container="jar",
        text="It is in the jar.",
        true=False,
        witnesses=("A", "C"),
    )
    told = fold_beliefs(scenario, [*events, private])
    # C left after A: C does not believe A, but A thinks C does.
    assert told.where("C", "fig").container == "box"  # type: ignore[union-attr]
    assert told.where("A", "fig", ["C"]).container == "jar"  # type: ignore[union-attr]


def test_rules_are_a_scenario_setting() -> None:
    assert rooms().tom.rules == "default"
    assert parse_scenario(ROOMS + "tom: {rules: tomi}\n", "r.yaml").scenario.tom.rules == "tomi"
    with pytest.raises(ScenarioError) as caught:
        parse_scenario(ROOMS + "tom: {rules: babi}\n", "rooms.yaml")
    assert "rules" in str(caught.value.problems[0])
    with pytest.raises(ValueError, match="valid: default, tomi, hitom"):
        fold_beliefs(rooms(), [], rules="babi")


# -- a naive reference: every chain of witnesses updated eagerly -------------------


def naive(
    scenario: Scenario, events: list, order: int, rules: str = "default"
) -> dict[tuple[tuple[str, ...], str], str]:
    """Every chain updated eagerly; `tomi`/`hitom`: entrants see inside every container,
    `hitom`: a move updates only chains that follow the order the witnesses came in, the mover last."""
    world = WorldState.initial(scenario)
    names = scenario.cast_names
    beliefs: dict[tuple[tuple[str, ...], str], str] = {}
    came_in = {name: (-1, i) for i, name in enumerate(names)}

    def chains(group: tuple[str, ...]):
        for depth in range(1, order + 1):
            for chain in product(group, repeat=depth):
                if all(a != b for a, b in pairwise(chain)):
                    yield chain

    for location in world.locations:
        here = world.present(location)
        for obj, container in world.object_container.items():
            if world.container_location[container] == location:
                for chain in chains(here):
                    beliefs[(chain, obj)] = container
    for index, event in enumerate(events):
        if isinstance(event, Moved):
            others = sorted((w for w in event.witnesses if w != event.who), key=came_in.__getitem__)
            rank = {name: i for i, name in enumerate([*others, event.who])}
            for chain in chains(event.witnesses):
                ordered = all(rank[a] < rank[b] for a, b in pairwise(chain))
                if rules != "hitom" or ordered:
                    beliefs[(chain, event.object)] = event.to
        elif isinstance(event, Entered):
            sees = dict(event.sees)
            if rules != "default":
                sees.update(
                    {
                        o: c
                        for o, c in world.object_container.items()
                        if world.container_location[c] == event.to
                    }
                )
            for obj, container in sees.items():
                for chain in chains(event.witnesses):
                    beliefs[(chain, obj)] = container
        if isinstance(event, (Entered, Exited)):
            came_in[event.who] = (index, 0)
        world.apply(event)
    assert {c for chain, _ in beliefs for c in chain} <= set(names)
    return beliefs


SCENE = """
title: scene
world:
  locations: [a, b, c]
  containers: {x: {in: a}, y: {in: a}, z: {in: b}, w: {in: b}, v: {in: c}}
  objects: {o1: {in: x}, o2: {in: z}}
cast:
  - {name: P, persona: p, location: a}
  - {name: Q, persona: q, location: a}
  - {name: R, persona: r, location: b}
  - {name: S, persona: s, location: c}
max_turns: 100
"""

step = st.tuples(
    st.sampled_from(["enter", "exit", "move"]),
    st.sampled_from(["P", "Q", "R", "S"]),
    st.sampled_from(["a", "b", "c"]),
    st.sampled_from(["o1", "o2"]),
    st.sampled_from(["x", "y", "z", "w", "v"]),
)


@settings(max_examples=150, deadline=None)
@given(st.lists(step, max_size=30), st.sampled_from(["default", "tomi", "hitom"]))
def test_tracker_matches_eager_reference_on_closed_containers(steps: list, rules: str) -> None:
    scenario = parse_scenario(SCENE, "scene.yaml").scenario
    world = WorldState.initial(scenario)
    events = []
    for turn, (kind, who, location, obj, container) in enumerate(steps, start=1):
        if kind == "enter":
            action = EnterAction(type="enter", who=who, to=location)
        elif kind == "exit":
            action = ExitAction(type="exit", who=who, to=location)
        else:
            action = MoveAction(type="move", who=who, object=obj, to=container)
        event = resolve(world, action, turn)
        if event.type != "rejected":
            events.append(event)
            world.apply(event)
    reference = naive(scenario, events, order=3, rules=rules)
    state = fold_beliefs(scenario, events, order=3, rules=rules)
    got = {((b.holder, *b.chain), b.object): b.container for b in state.beliefs()}
    assert got == reference
    for (chain, obj), container in reference.items():
        assert state.where(chain[0], obj, chain[1:]).true == (
            container == world.object_container[obj]
        )  # type: ignore[union-attr]


def test_tracker_folds_incrementally_like_a_batch() -> None:
    scenario, events = played("false-claim")
    tracker = BeliefTracker(scenario)
    snapshots = []
    for event in events:
        tracker.apply(event)
        snapshots.append(sorted(map(repr, tracker.state().beliefs())))
    assert snapshots[-1] == sorted(map(repr, fold_beliefs(scenario, events).beliefs()))
    assert snapshots[0] != snapshots[-1]
