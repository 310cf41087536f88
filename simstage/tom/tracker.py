"""The symbolic theory-of-mind tracker: nested beliefs as a pure fold over events.

A belief "A thinks B thinks C thinks the marble is in the box" is held by `A`
along the chain `(B, C)`. Everything that can change such a belief is an event
that all of A, B and C witnessed (everyone present knows who else is present),
so the fold records, per object, one entry per informative event with the set
of its witnesses as a bitmask, and a query walks that object's entries back to
the newest one whose witnesses include every member of the chain (and that the
rule set lets change that chain). The fold is linear in the number of events
whatever the order; a query costs at most one pass over the entries of one object.

Rules (`default`; `simstage.tom.rules` names where `tomi` and `hitom` differ):

- at the start each character knows where the objects in its own location
  are, and the characters there with it know that it knows;
- a cast entry's `knows` gives it, at the start, a belief about an object out
  of its sight (`{ring: jewellery box}`), shared as common knowledge with the
  characters in its `with` (each believes it, and each thinks the others do,
  to any depth); without `with` nobody else thinks it knows. Such a belief
  counts as having been with the object at the start (for the claim rule
  below), and may be false;
- a move, and what an entering character sees in open containers, is known to
  every witness, nested to any depth among witnesses;
- entering a room and finding an open container empty that one believed held
  the object leaves no belief (source `inferred`); closed containers keep a
  false belief alive;
- a claim (public, or private when only speaker and listener witness it)
  changes a listener's belief only if the listener trusts the speaker (the
  scenario's `tom.trust`) and cannot tell it is a lie: a listener who was with
  the object (saw it, or left the room it is in) at least as recently as the
  speaker keeps its own belief (Hi-ToM's exit-order rule). Who believed a claim is common
  knowledge among its witnesses; a believer also thinks the speaker believes
  what it said. A believed false claim is a false belief with `lie_by` set;
- `say` and `tell` lines are heard by their witnesses, nested the same way;
- a secret watcher perceives what happens in the location it watches, and nobody
  knows it did; a distracted character perceives nothing, and everyone thinks it
  did (`simstage.world.perception`). So each entry holds two bitmasks: who perceived
  it and its public audience, and a chain sees it when its holder perceived it and
  the rest of the chain is in the audience. A claim's public believers are worked
  out as if every member of the audience had heard it;
- facts follow their own rules (`simstage.tom.facts`).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from simstage.events import Asserted, Claimed, Entered, Exited, Moved, Peeked, Said, Told
from simstage.scenario.models import Scenario
from simstage.tom.beliefs import MAX_ORDER, Belief, BeliefState, normalise_chain
from simstage.tom.entries import ABSENT, CLAIM, SEEN, Entry, Found, newest
from simstage.tom.facts import FactBelief, FactLedger
from simstage.tom.rules import RuleSet, rule_set
from simstage.world.state import WorldState

__all__ = [
    "MAX_ORDER",
    "Belief",
    "BeliefState",
    "BeliefTracker",
    "FactBelief",
    "fold_beliefs",
    "normalise_chain",
]

TrustSpec = str | Mapping[str, Sequence[str]]


class BeliefTracker:
    """Folds events one at a time; `state()` gives the beliefs so far.

    Args:
        scenario: the scene (cast, world, and its `tom` settings).
        order: deepest belief order kept (1: own beliefs, 2: "A thinks B thinks"...);
            default: the scenario's `tom.order`.
        trust: overrides the scenario's `tom.trust` ("all", "none", or whom each
            character trusts). It may be changed between events.
        rules: the rule set's name (`default`, `tomi`, `hitom`); default: the scenario's `tom.rules`.

    Raises:
        ValueError: `order` outside 0..4, or an unknown rule set.
    """

    def __init__(
        self,
        scenario: Scenario,
        *,
        order: int | None = None,
        trust: TrustSpec | None = None,
        rules: str | None = None,
    ):
        self.scenario = scenario
        self.order = scenario.tom.order if order is None else order
        if not 0 <= self.order <= MAX_ORDER:
            raise ValueError(f"order must be between 0 and {MAX_ORDER}, not {self.order}")
        self.trust: TrustSpec = scenario.tom.trust if trust is None else trust
        self.rules: RuleSet = rule_set(scenario.tom.rules if rules is None else rules)
        self.characters: tuple[str, ...] = tuple(scenario.cast_names)
        self.bits: dict[str, int] = {name: 1 << i for i, name in enumerate(self.characters)}
        self.objects: tuple[str, ...] = tuple(scenario.world.objects)
        self.world = WorldState.initial(scenario)
        self.facts = FactLedger(
            self.characters,
            self.bits,
            dict(self.world.facts),
            self.trusts,
            [(fact, value, group) for _, fact, value, group in scenario.fact_knowledge()],
        )
        self.turn = 0
        self._entries: dict[str, list[Entry]] = {obj: [] for obj in self.objects}
        self._speech: list[tuple[int, int, int, str]] = []
        """Lines heard: (who heard, its audience, turn, text)."""
        self._last_with: dict[tuple[str, str], int] = {}
        # When each character came into the room it is in (before any event: cast order).
        self._arrived: dict[str, tuple[int, int]] = {
            name: (-1, i) for i, name in enumerate(self.characters)
        }
        self._count = 0
        for location in self.world.locations:
            here = self._mask(self.world.present(location))
            if not here:
                continue
            for obj, container in self.world.object_container.items():
                if self.world.container_location[container] == location:
                    self._add(obj, Entry(-1, here, 0, SEEN, container, "initial", public=here))
        for _, obj, container, group in scenario.knowledge():
            group_mask = self._mask(group)
            self._add(obj, Entry(-1, group_mask, 0, SEEN, container, "initial", public=group_mask))

    # -- folding ---------------------------------------------------------------

    def _mask(self, names: Iterable[str]) -> int:
        mask = 0
        for name in names:
            mask |= self.bits.get(name, 0)
        return mask

    def trusts(self, listener: str, speaker: str) -> bool:
        """Whether `listener` trusts what `speaker` says, by the trust settings."""
        if self.trust == "all":
            return True
        if self.trust == "none" or isinstance(self.trust, str):
            return False
        trusted = self.trust.get(listener)
        return True if trusted is None else speaker in trusted

    def apply(self, event: Any) -> None:
        """Advance by one event; events that carry no information are ignored."""
        index = self._count
        self._count += 1
        turn = getattr(event, "turn", None)
        if isinstance(turn, int):
            self.turn = max(self.turn, turn)
        if isinstance(event, Moved):
            mask = self._mask(event.witnesses)
            entry = Entry(
                index,
                mask,
                event.turn,
                SEEN,
                event.to,
                "witnessed",
                public=self._public(event, mask),
            )
            if self.rules.move_chains == "arrival_order":
                entry.ranks = self._ranks(event.witnesses, event.who)
            self._add(event.object, entry)
        elif isinstance(event, (Entered, Peeked)):
            self._entered(event, index)
        elif isinstance(event, Exited):
            self._arrived[event.who] = (index, 0)
            world = self.world
            for obj, container in world.object_container.items():
                if world.container_location[container] == event.frm:
                    self._last_with[(event.who, obj)] = index
        elif isinstance(event, Claimed):
            self._claimed(event, index)
        elif isinstance(event, (Said, Told, Asserted)):
            mask = self._mask(event.witnesses)
            self._speech.append((mask, self._public(event, mask), event.turn, event.text))
        if isinstance(event, Asserted):
            self.facts.stated(
                event.fact,
                event.who,
                event.holds,
                event.turn,
                witnesses=event.witnesses,
                watchers=event.watchers,
                distracted=event.distracted,
                private=event.to is not None,
            )
        self.world.apply(event)

    def _public(
        self, event: Moved | Entered | Peeked | Said | Told | Claimed | Asserted, mask: int
    ) -> int:
        """The event's audience (who everyone thinks perceived it), from `mask`, who perceived it."""
        if not event.watchers and not event.distracted:
            return mask
        return (mask & ~self._mask(event.watchers)) | self._mask(event.distracted)

    def _add(self, obj: str, entry: Entry) -> None:
        entries = self._entries.get(obj)
        if entries is None:
            return
        entries.append(entry)
        if entry.kind != CLAIM:
            for name, bit in self.bits.items():
                if entry.mask & bit:
                    self._last_with[(name, obj)] = entry.index

    def _ranks(self, witnesses: Sequence[str], mover: str) -> dict[str, int]:
        """Witnesses numbered in the order they came into the room, the mover last."""
        others = sorted(
            (w for w in witnesses if w != mover and w in self._arrived),
            key=self._arrived.__getitem__,
        )
        return {name: rank for rank, name in enumerate([*others, mover])}

    def _entered(self, event: Entered | Peeked, index: int) -> None:
        """Someone comes into a room (or starts watching one) and sees what lies open there."""
        mask = self._mask(event.witnesses)
        public = self._public(event, mask)
        world = self.world
        if isinstance(event, Peeked):
            # Nobody knows the watcher looked; it knows those there see what lies open.
            room, public = event.into, self._mask(world.present(event.into))
        else:
            room = event.to
            if event.frm != event.to:
                self._arrived[event.who] = (index, 0)
        sees = dict(event.sees)
        if self.rules.see_everything:
            for obj, container in world.object_container.items():
                if world.container_location[container] == room:
                    sees.setdefault(obj, container)
        for obj, container in sees.items():
            self._add(
                obj, Entry(index, mask, event.turn, SEEN, container, "witnessed", public=public)
            )
        if not self.rules.infer_absence:
            return
        open_here = [
            c
            for c, where in world.container_location.items()
            if where == room and world.container_open[c]
        ]
        for obj in self.objects:
            if obj in sees:
                continue
            for container in open_here:
                self._add(
                    obj,
                    Entry(index, mask, event.turn, ABSENT, container, "inferred", public=public),
                )

    def _claimed(self, event: Claimed, index: int) -> None:
        mask = self._mask(event.witnesses)
        public = self._public(event, mask)
        self._speech.append((mask, public, event.turn, event.text))
        speaker = event.who
        location = self.world.character_location.get(speaker)
        present = self._mask(self.world.present(location)) if location else public
        private = bool(present & ~public)
        believers = public_believers = 0
        for listener in dict.fromkeys([*event.witnesses, *event.distracted]):
            if (
                listener == speaker
                or listener not in self.bits
                or not self._believes(listener, speaker, event)
            ):
                continue
            bit = self.bits[listener]
            believers |= bit & mask
            public_believers |= bit & public
        self._add(
            event.object,
            Entry(
                index,
                mask,
                event.turn,
                CLAIM,
                event.container,
                "told" if private else "claimed",
                speaker=speaker,
                believers=believers,
                true=event.true,
                public=public,
                public_believers=public_believers,
            ),
        )

    def _believes(self, listener: str, speaker: str, event: Claimed) -> bool:
        """Whether `listener`, hearing `event`, believes it (by the rule set's claim rule)."""
        if not self.trusts(listener, speaker):
            return False
        if self._may_know_more(speaker, listener, event.object):
            return True
        if not self.rules.believe_when_agreeing:
            return False
        own = self.find(event.object, (listener,), len(self._entries.get(event.object, ())))
        return own is None or own.container == event.container

    def _may_know_more(self, speaker: str, listener: str, obj: str) -> bool:
        """Whether `speaker` was with `obj` (saw it, or left its room) later than `listener` was."""
        mine = self._last_with.get((listener, obj))
        theirs = self._last_with.get((speaker, obj))
        return mine is None or (theirs is not None and theirs > mine)

    # -- queries ----------------------------------------------------------------

    def find(self, obj: str, full: tuple[str, ...], stop: int) -> Found | None:
        """The newest entry of `obj`'s first `stop` that sets the belief along `full` (holder first)."""
        holder, rest = self.bits.get(full[0], 0), self._mask(full[1:])
        return newest(self._entries.get(obj, ()), full, holder, rest, stop, self.bits, self.rules)

    def heard(self, full: tuple[str, ...], stop: int) -> list[str]:
        """Lines among the first `stop` that every member of `full` heard, oldest first."""
        holder, rest = self.bits.get(full[0], 0), self._mask(full[1:])
        return [
            text
            for seen, public, _, text in self._speech[:stop]
            if seen & holder and public & rest == rest
        ]

    def state(self) -> BeliefState:
        """The beliefs after the events folded so far (a snapshot: later events do not change it)."""
        return BeliefState(
            turn=self.turn,
            order=self.order,
            characters=self.characters,
            objects=self.objects,
            reality=dict(self.world.object_container),
            _tracker=self,
            _stops={obj: len(entries) for obj, entries in self._entries.items()},
            _speech=len(self._speech),
            facts=tuple(self.facts.truth),
            fact_truth=self.facts.truth,
            _fact_stops=self.facts.stops(),
        )


def fold_beliefs(
    scenario: Scenario,
    events: Iterable[Any],
    *,
    order: int | None = None,
    upto_turn: int | None = None,
    trust: TrustSpec | None = None,
    rules: str | None = None,
) -> BeliefState:
    """The beliefs after `events`.

    Args:
        scenario: the scene the events belong to.
        events: the run's events, in order (bookkeeping events are ignored).
        order: deepest order kept (default: the scenario's `tom.order`, 2 unless set).
        upto_turn: fold only events of this turn and earlier.
        trust: overrides the scenario's `tom.trust`.
        rules: overrides the scenario's `tom.rules` (`default`, `tomi`, `hitom`).

    Returns:
        The belief state.

    Raises:
        ValueError: `order` is outside 0..4, or `rules` names no rule set.
    """
    tracker = BeliefTracker(scenario, order=order, trust=trust, rules=rules)
    for event in events:
        if upto_turn is not None and getattr(event, "turn", 0) > upto_turn:
            break
        tracker.apply(event)
    if upto_turn is not None:
        tracker.turn = upto_turn
    return tracker.state()
