"""What the tracker answers: beliefs about objects and facts, and the state that holds every
character's beliefs at one point.

`BeliefState` is a snapshot of a `BeliefTracker`: its queries walk the tracker's
entries up to where the snapshot was taken, so later events do not change it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from itertools import product
from typing import TYPE_CHECKING, Protocol, TypeVar

from simstage.tom.entries import Found, Source
from simstage.tom.facts import FactBelief

if TYPE_CHECKING:
    from simstage.tom.facts import FactLedger


_B = TypeVar("_B")

MAX_ORDER = 4
"""The deepest belief order the tracker keeps ("A thinks B thinks C thinks D thinks")."""


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


def normalise_chain(holder: str, chain: Sequence[str]) -> tuple[str, ...]:
    """Drop repeated neighbours: "A thinks A thinks" is "A thinks"."""
    out: list[str] = [holder]
    for name in chain:
        if name != out[-1]:
            out.append(name)
    return tuple(out)


class TrackerView(Protocol):
    """What a `BeliefState` reads of the tracker it snapshots (`simstage.tom.tracker.BeliefTracker`)."""

    bits: dict[str, int]
    facts: FactLedger

    def find(self, obj: str, full: tuple[str, ...], stop: int) -> Found | None: ...

    def heard(self, full: tuple[str, ...], stop: int) -> list[str]: ...


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
    _tracker: TrackerView = field(repr=False)
    _stops: dict[str, int] = field(repr=False)
    _speech: int = field(repr=False)
    facts: tuple[str, ...] = ()
    """The facts of the world."""
    fact_truth: dict[str, bool] = field(default_factory=dict)
    """Whether each fact holds."""
    _fact_stops: dict[str, int] = field(default_factory=dict, repr=False)

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
        full = normalise_chain(holder, chain)
        if len(full) > self.order or any(name not in tracker.bits for name in full):
            return None
        found = tracker.find(obj, full, self._stops[obj])
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

    def fact_belief(self, holder: str, fact: str, chain: Sequence[str] = ()) -> FactBelief | None:
        """What `holder` thinks (along `chain`) of whether `fact` holds.

        Args:
            holder: the character holding the belief.
            fact: the fact's name.
            chain: (B, C) for "what `holder` thinks B thinks C believes"; () for its own belief.

        Returns:
            The belief, or None when there is none (the answer "don't know"; also for unknown
            names, or an order beyond the state's).
        """
        full = normalise_chain(holder, chain)
        if fact not in self._fact_stops or len(full) > self.order:
            return None
        return self._tracker.facts.belief(fact, full, self._fact_stops[fact])

    def fact_beliefs(self) -> Iterator[FactBelief]:
        """Every fact belief, every order up to the state's order."""
        return self._every(self.facts, self.fact_belief)

    def who_knows(
        self, fact: str, holder: str | None = None, chain: Sequence[str] = ()
    ) -> tuple[str, ...]:
        """Who knows whether `fact` holds, in cast order: really, or in a character's view.

        Args:
            fact: the fact's name.
            holder: None for the narrator's answer: who really knows (each character whose own
                belief is right). A character for who it thinks knows: itself when it has a
                belief, another when it thinks that one has a belief that is not the opposite
                of its own.
            chain: (B, ...) for who `holder` thinks B thinks knows, and so on.

        Returns:
            The names. A character's view reads one order deeper than its chain, whatever the
            state's order (at most 4 in all); an unknown fact or name, or a deeper one, gives ().
        """
        ledger, stop = self._tracker.facts, self._fact_stops.get(fact)
        if stop is None:
            return ()
        if holder is None:
            return ledger.knowers(fact, stop)
        full = normalise_chain(holder, chain)
        if len(full) >= MAX_ORDER or any(name not in self._tracker.bits for name in full):
            return ()
        return ledger.thought_knowers(fact, full, stop)

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

    def holder_chains(self) -> Iterator[tuple[str, tuple[str, ...]]]:
        """Every (holder, chain) a belief can be held along: each character, each of its chains."""
        for holder in self.characters:
            for chain in self.chains(holder):
                yield holder, chain

    def beliefs(self) -> Iterator[Belief]:
        """Every belief, every order up to the state's order."""
        return self._every(self.objects, self.where)

    def _every(
        self, about: Iterable[str], find: Callable[[str, str, Sequence[str]], _B | None]
    ) -> Iterator[_B]:
        """Every belief `find` (holder, object or fact, chain) gives, along every holder's chains."""
        for holder, chain in self.holder_chains():
            for name in about:
                belief = find(holder, name, chain)
                if belief is not None:
                    yield belief

    def false_beliefs(self) -> list[Belief]:
        """Beliefs that name a container where the object is not."""
        return [b for b in self.beliefs() if b.container is not None and not b.true]

    def heard(self, holder: str, chain: Sequence[str] = ()) -> list[str]:
        """Lines (say, tell, claim, assert) that `holder` thinks (along `chain`) were heard, oldest first."""
        tracker = self._tracker
        full = normalise_chain(holder, chain)
        if any(name not in tracker.bits for name in full):
            return []
        return tracker.heard(full, self._speech)
