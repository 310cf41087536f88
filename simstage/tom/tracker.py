"""The symbolic theory-of-mind tracker: nested beliefs as a pure fold over events.

A belief "A thinks B thinks C thinks the marble is in the box" is held by `A`
along the chain `(B, C)`. Everything that can change such a belief is an event
that all of A, B and C witnessed (everyone present knows who else is present),
so the fold records, per object, one entry per informative event with the set
of its witnesses as a bitmask, and a query walks that object's entries back to
the newest one whose witnesses include every member of the chain. The fold is
linear in the number of events whatever the order; a query costs at most one
pass over the entries of one object.

Rules:

- at the start each character knows where the objects in its own location
  are, and the characters there with it know that it knows;
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
- `say` and `tell` lines are heard by their witnesses, nested the same way.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from itertools import product
from typing import Any, Literal

from simstage.events import Claimed, Entered, Exited, Moved, Said, Told
from simstage.scenario.models import Scenario
from simstage.world.state import WorldState

Source = Literal["initial", "witnessed", "told", "claimed", "inferred"]
MAX_ORDER = 4

_SEEN, _CLAIM, _ABSENT = 0, 1, 2


@dataclass(frozen=True)
class Belief:
    """Where a character thinks (along a chain of others' minds) an object is."""

    holder: str
    """A, who holds the belief."""
    chain: tuple[str, ...]
    """(B, C): "where A thinks B thinks C thinks the object is"; (): A's own belief."""
    object: str
    """The object the belief is about."""
    container: str | None
    """The believed container; None: the holder knows only where it is not."""
    source: Source
    """How the belief was formed."""
    turn: int
    """The turn the belief was formed."""
    true: bool
    """Whether `container` is where the object really is at the state's turn."""
    lie_by: str | None = None
    """Set when the belief comes from a false claim: who lied."""

    @property
    def order(self) -> int:
        """1 for A's own belief, 2 for "A thinks B thinks", and so on."""
        return len(self.chain) + 1


@dataclass(slots=True)
class _Entry:
    """One informative event about one object, as the fold stores it."""

    index: int
    mask: int
    turn: int
    kind: int
    container: str | None
    source: Source
    speaker: str | None = None
    believers: int = 0
    true: bool = True


@dataclass(frozen=True, slots=True)
class _Found:
    container: str | None
    source: Source
    turn: int
    lie_by: str | None
    index: int


TrustSpec = str | Mapping[str, Sequence[str]]


class BeliefTracker:
    """Folds events one at a time; `state()` gives the beliefs so far.

    Args:
        scenario: the scene (cast, world, and its `tom` settings).
        order: deepest belief order kept (1: own beliefs, 2: "A thinks B thinks"...);
            default: the scenario's `tom.order`.
        trust: overrides the scenario's `tom.trust` ("all", "none", or whom each
            character trusts). It may be changed between events.
    """

    def __init__(self, scenario: Scenario, *, order: int | None = None, trust: TrustSpec | None = None):
        self.scenario = scenario
        self.order = scenario.tom.order if order is None else order
        if not 0 <= self.order <= MAX_ORDER:
            raise ValueError(f"order must be between 0 and {MAX_ORDER}, not {self.order}")
        self.trust: TrustSpec = scenario.tom.trust if trust is None else trust
        self.characters: tuple[str, ...] = tuple(scenario.cast_names)
        self.bits: dict[str, int] = {name: 1 << i for i, name in enumerate(self.characters)}
        self.objects: tuple[str, ...] = tuple(scenario.world.objects)
        self.world = WorldState.initial(scenario)
        self.turn = 0
        self._entries: dict[str, list[_Entry]] = {obj: [] for obj in self.objects}
        self._speech: list[tuple[int, int, str]] = []
        self._last_with: dict[tuple[str, str], int] = {}
        self._count = 0
        for location in self.world.locations:
            here = self._mask(self.world.present(location))
            if not here:
                continue
            for obj, container in self.world.object_container.items():
                if self.world.container_location[container] == location:
                    self._add(obj, _Entry(-1, here, 0, _SEEN, container, "initial"))

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
            self._add(event.object, _Entry(index, self._mask(event.witnesses), event.turn, _SEEN, event.to, "witnessed"))
        elif isinstance(event, Entered):
            self._entered(event, index)
        elif isinstance(event, Exited):
            world = self.world
            for obj, container in world.object_container.items():
                if world.container_location[container] == event.frm:
                    self._last_with[(event.who, obj)] = index
        elif isinstance(event, Claimed):
            self._claimed(event, index)
        elif isinstance(event, (Said, Told)):
            self._speech.append((self._mask(event.witnesses), event.turn, event.text))
        self.world.apply(event)

    def _add(self, obj: str, entry: _Entry) -> None:
        entries = self._entries.get(obj)
        if entries is None:
            return
        entries.append(entry)
        if entry.kind != _CLAIM:
            for name, bit in self.bits.items():
                if entry.mask & bit:
                    self._last_with[(name, obj)] = entry.index

    def _entered(self, event: Entered, index: int) -> None:
        mask = self._mask(event.witnesses)
        for obj, container in event.sees.items():
            self._add(obj, _Entry(index, mask, event.turn, _SEEN, container, "witnessed"))
        world = self.world
        open_here = [
            c for c, where in world.container_location.items() if where == event.to and world.container_open[c]
        ]
        for obj in self.objects:
            if obj in event.sees:
                continue
            for container in open_here:
                self._add(obj, _Entry(index, mask, event.turn, _ABSENT, container, "inferred"))

    def _claimed(self, event: Claimed, index: int) -> None:
        mask = self._mask(event.witnesses)
        self._speech.append((mask, event.turn, event.text))
        speaker = event.who
        location = self.world.character_location.get(speaker)
        present = self._mask(self.world.present(location)) if location else mask
        private = bool(present & ~mask)
        believers = 0
        for listener in event.witnesses:
            if listener == speaker or listener not in self.bits or not self.trusts(listener, speaker):
                continue
            own = self._find(event.object, (listener,), self.bits[listener], len(self._entries.get(event.object, ())))
            if own is None or own.container == event.container or self._may_know_more(speaker, listener, event.object):
                believers |= self.bits[listener]
        self._add(
            event.object,
            _Entry(
                index, mask, event.turn, _CLAIM, event.container, "told" if private else "claimed",
                speaker=speaker, believers=believers, true=event.true,
            ),
        )

    def _may_know_more(self, speaker: str, listener: str, obj: str) -> bool:
        """Whether `speaker` was with `obj` (saw it, or left its room) later than `listener` was."""
        mine = self._last_with.get((listener, obj))
        theirs = self._last_with.get((speaker, obj))
        return mine is None or (theirs is not None and theirs > mine)

    # -- queries ----------------------------------------------------------------

    def _find(self, obj: str, full: tuple[str, ...], mask: int, stop: int) -> _Found | None:
        entries = self._entries.get(obj)
        if not entries:
            return None
        position = min(stop, len(entries)) - 1
        while position >= 0:
            entry = entries[position]
            if entry.mask & mask == mask:
                if entry.kind == _SEEN:
                    return _Found(entry.container, entry.source, entry.turn, None, entry.index)
                if entry.kind == _CLAIM:
                    if self._accepts(entry, full):
                        lie_by = None if entry.true else entry.speaker
                        return _Found(entry.container, entry.source, entry.turn, lie_by, entry.index)
                else:
                    earlier = self._find(obj, full, mask, position)
                    if earlier is not None and earlier.container == entry.container:
                        return _Found(None, "inferred", entry.turn, None, entry.index)
                    return earlier
            position -= 1
        return None

    def _accepts(self, entry: _Entry, full: tuple[str, ...]) -> bool:
        last = full[-1]
        if self.bits.get(last, 0) & entry.believers:
            return True
        return last == entry.speaker and len(full) >= 2 and bool(self.bits.get(full[-2], 0) & entry.believers)

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
        )


def _normalise(holder: str, chain: Sequence[str]) -> tuple[str, ...]:
    """Drop repeated neighbours: "A thinks A thinks" is "A thinks"."""
    out: list[str] = [holder]
    for name in chain:
        if name != out[-1]:
            out.append(name)
    return tuple(out)


@dataclass
class BeliefState:
    """Every character's beliefs, nested up to `order`, at one point of a run."""

    turn: int
    """The turn of the last event folded."""
    order: int
    """Deepest order kept (1: own beliefs, 2: "A thinks B thinks", ...)."""
    characters: tuple[str, ...]
    """The cast."""
    objects: tuple[str, ...]
    """The objects of the world."""
    reality: dict[str, str]
    """Where each object really is."""
    _tracker: BeliefTracker = field(repr=False)
    _stops: dict[str, int] = field(repr=False)
    _speech: int = field(repr=False)

    def where(self, holder: str, obj: str, chain: Sequence[str] = ()) -> Belief | None:
        """Where `holder` thinks (along `chain`) `obj` is.

        Args:
            holder: the character holding the belief.
            obj: the object.
            chain: (B, C) for "where `holder` thinks B thinks C thinks"; () for its own belief.

        Returns:
            The belief, or None when there is none (never informed, unknown names,
            or an order beyond the state's).
        """
        tracker = self._tracker
        if holder not in tracker.bits or obj not in self._stops:
            return None
        full = _normalise(holder, chain)
        if len(full) > self.order or any(name not in tracker.bits for name in full):
            return None
        found = tracker._find(obj, full, tracker._mask(full), self._stops[obj])
        if found is None:
            return None
        return Belief(
            holder=holder,
            chain=full[1:],
            object=obj,
            container=found.container,
            source=found.source,
            turn=found.turn,
            true=found.container is not None and found.container == self.reality.get(obj),
            lie_by=found.lie_by,
        )

    def chains(self, holder: str) -> Iterator[tuple[str, ...]]:
        """Every chain `holder` can hold a belief along, up to the state's order."""
        for depth in range(self.order):
            for chain in product(self.characters, repeat=depth):
                previous = holder
                ok = True
                for name in chain:
                    if name == previous:
                        ok = False
                        break
                    previous = name
                if ok:
                    yield chain

    def beliefs(self) -> Iterator[Belief]:
        """Every belief, every order up to the state's order."""
        for holder in self.characters:
            for chain in self.chains(holder):
                for obj in self.objects:
                    belief = self.where(holder, obj, chain)
                    if belief is not None:
                        yield belief

    def false_beliefs(self) -> list[Belief]:
        """Beliefs that name a container where the object is not."""
        return [b for b in self.beliefs() if b.container is not None and not b.true]

    def heard(self, holder: str, chain: Sequence[str] = ()) -> list[str]:
        """Lines (say, tell, claim) that `holder` thinks (along `chain`) were heard, oldest first."""
        tracker = self._tracker
        full = _normalise(holder, chain)
        if any(name not in tracker.bits for name in full):
            return []
        mask = tracker._mask(full)
        return [text for seen, _, text in tracker._speech[: self._speech] if seen & mask == mask]


def fold_beliefs(
    scenario: Scenario,
    events: Iterable[Any],
    *,
    order: int | None = None,
    upto_turn: int | None = None,
    trust: TrustSpec | None = None,
) -> BeliefState:
    """The beliefs after `events`.

    Args:
        scenario: the scene the events belong to.
        events: the run's events, in order (bookkeeping events are ignored).
        order: deepest order kept (default: the scenario's `tom.order`, 2 unless set).
        upto_turn: fold only events of this turn and earlier.
        trust: overrides the scenario's `tom.trust`.

    Returns:
        The belief state.

    Raises:
        ValueError: `order` is outside 0..4.
    """
    tracker = BeliefTracker(scenario, order=order, trust=trust)
    for event in events:
        if upto_turn is not None and getattr(event, "turn", 0) > upto_turn:
            break
        tracker.apply(event)
    if upto_turn is not None:
        tracker.turn = upto_turn
    return tracker.state()
