"""What the tracker answers: beliefs, and the state that holds every character's beliefs at one point.

`BeliefState` is a snapshot of a `BeliefTracker`: its queries walk the tracker's
entries up to where the snapshot was taken, so later events do not change it.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from itertools import product
from typing import TYPE_CHECKING, Literal

if TYPE_CHECKING:
    from simstage.tom.tracker import BeliefTracker

Source = Literal["initial", "witnessed", "told", "claimed", "inferred"]


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
        full = normalise_chain(holder, chain)
        if any(name not in tracker.bits for name in full):
            return []
        return tracker.heard(full, self._speech)
