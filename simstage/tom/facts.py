"""Beliefs about facts: who believes a fact holds, who thinks who believes it, and who knows.

A fact (`world.facts`) never changes; beliefs about it come from initial knowledge
(`knows`) and from statements (`assert` events). The tracker keeps, per fact, one
entry per such source with two sets of characters as bitmasks: who perceived it
(`mask`) and who everyone thinks perceived it (`public`: the audience present,
distracted members included, secret watchers not). A chain "A thinks B thinks C"
sees an entry when A perceived it and B and C are in its public audience.

The belief along a chain is the chain's last mind's own update rules applied, in
order, to the entries the chain sees, starting from no belief; trust is common
knowledge. Every rule reads only the beliefs of the chain itself and of the chain one
mind deeper (the listener's model of the speaker), so the fold keeps, per fact and
chain, its belief after each entry, extended as entries arrive; a snapshot reads it
at its own count of entries. The rules (docs/beliefs.md, "The tracker's rules"):

- initial knowledge sets the belief (source `initial`), as common knowledge in its group;
- a listener adopts an asserted value when it trusts the speaker (as the trust settings
  stood when it was said), holds no belief yet or holds one from hearsay (`told`,
  `overheard`, `claimed`, or known only from its own statement), and does not take the
  statement for a lie (below); an `initial` belief is kept;
- a speaker's own statement never changes its own belief; a mind modelling the speaker
  thinks it believes what it said, unless the model saw it learn the opposite (initial
  knowledge or a statement it heard): then it takes it as a lie (source `inferred`,
  `lie_by` the speaker) and keeps the opposite;
- `lie_by` on a belief adopted from a statement names the speaker when it lied: it
  believed the opposite of what it said (asserting what one has no belief about is
  not a lie).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Literal

from simstage.tom import knowing

__all__ = ["FactBelief", "FactLedger", "FactSource"]

FactSource = Literal["initial", "told", "overheard", "claimed", "inferred"]
"""How a fact belief formed, by how its holder came by it: known at the start; a private
statement; a statement it watched unseen (a secret watcher); a public statement; a lie
seen through."""

_Heard = Literal["told", "overheard", "claimed"]
_Basis = Literal["initial", "told", "overheard", "claimed", "asserted"]
_HEARSAY: frozenset[str] = frozenset({"told", "overheard", "claimed", "asserted"})
_DEEPEST = 5
"""Longest chain whose beliefs a listener's lie check reads (a listener at the end of a chain of
four minds checks its model of the speaker, five deep); deeper, a trusting listener adopts."""


@dataclass(frozen=True)
class FactBelief:
    """What a character thinks (along a chain of others' minds) about whether a fact holds."""

    holder: str
    """A, who holds the belief."""
    chain: tuple[str, ...]
    """(B, C): "A thinks B thinks C believes the fact holds"; (): A's own belief."""
    fact: str
    """The fact (a name in `world.facts`)."""
    value: bool
    """True: the fact is believed to hold; False: believed not to hold."""
    source: FactSource
    """How the belief formed."""
    turn: int
    """The turn it formed (0: the start)."""
    right: bool
    """Whether `value` is the fact's truth."""
    lie_by: str | None = None
    """Who lied, when the belief rests on a lie: adopted from a statement its speaker
    believed false, or a lie seen through (then the belief is the opposite of what was said)."""

    @property
    def order(self) -> int:
        """1 for A's own belief, 2 for "A thinks B thinks", and so on."""
        return len(self.chain) + 1


@dataclass(frozen=True, slots=True)
class _Entry:
    """Initial knowledge (`speaker` None) or one statement about one fact."""

    turn: int
    mask: int
    """Who perceived it."""
    public: int
    """Who everyone thinks perceived it (the audience)."""
    watchers: int
    """Secret watchers among `mask`."""
    value: bool
    speaker: str | None = None
    private: bool = False
    lie: bool = False
    """The speaker believed the opposite as it spoke."""
    trusting: int = 0
    """Who trusted the speaker when it spoke."""


@dataclass(frozen=True, slots=True)
class _Held:
    """A belief along one chain as the fold carries it."""

    value: bool
    source: FactSource
    turn: int
    lie_by: str | None
    basis: _Basis
    """How the chain's last mind itself came by it (what its own update rule looks at)."""


class FactLedger:
    """The fact entries of one tracker, and the fold that reads beliefs from them.

    Args:
        characters: the cast, in order.
        bits: each character's bit.
        truth: whether each fact holds.
        trusts: `trusts(listener, speaker)`, the tracker's trust settings (read at each query).
        knowledge: the cast's initial fact knowledge: (fact, value, group sharing it).
    """

    def __init__(
        self,
        characters: tuple[str, ...],
        bits: dict[str, int],
        truth: dict[str, bool],
        trusts: Callable[[str, str], bool],
        knowledge: Iterable[tuple[str, bool, tuple[str, ...]]] = (),
    ):
        self.characters = characters
        self.bits = bits
        self.truth = truth
        self.trusts = trusts
        self.entries: dict[str, list[_Entry]] = {fact: [] for fact in truth}
        self._folds: dict[tuple[str, tuple[str, ...]], list[_Held | None]] = {}
        """Per (fact, chain): the chain's belief after each count of entries (index 0: before any)."""
        for fact, value, group in knowledge:
            if fact in self.entries:
                mask = self._mask(group)
                self.entries[fact].append(_Entry(0, mask, mask, 0, value))

    def _mask(self, names: Iterable[str]) -> int:
        mask = 0
        for name in names:
            mask |= self.bits.get(name, 0)
        return mask

    def stated(
        self,
        fact: str,
        speaker: str,
        value: bool,
        turn: int,
        *,
        witnesses: Iterable[str],
        watchers: Iterable[str] = (),
        distracted: Iterable[str] = (),
        private: bool = False,
    ) -> None:
        """Fold one statement: `speaker` asserted that `fact` holds (`value`) or not."""
        entries = self.entries.get(fact)
        if entries is None or speaker not in self.bits:
            return
        mask, secret = self._mask(witnesses), self._mask(watchers)
        own = self._held(fact, (speaker,), len(entries))
        trusting = self._mask(name for name in self.characters if self.trusts(name, speaker))
        entries.append(
            _Entry(
                turn,
                mask,
                (mask & ~secret) | self._mask(distracted),
                secret,
                value,
                speaker,
                private,
                lie=own is not None and own.value != value,
                trusting=trusting,
            )
        )

    def stops(self) -> dict[str, int]:
        """How many entries each fact has now (a snapshot's limits)."""
        return {fact: len(entries) for fact, entries in self.entries.items()}

    def belief(self, fact: str, full: tuple[str, ...], stop: int) -> FactBelief | None:
        """The belief along `full` (holder first) from the first `stop` entries of `fact`; None: none."""
        if fact not in self.entries or any(name not in self.bits for name in full):
            return None
        held = self._held(fact, full, stop)
        if held is None:
            return None
        return FactBelief(
            holder=full[0],
            chain=full[1:],
            fact=fact,
            value=held.value,
            source=held.source,
            turn=held.turn,
            right=held.value == self.truth[fact],
            lie_by=held.lie_by,
        )

    def _held(self, fact: str, full: tuple[str, ...], stop: int) -> _Held | None:
        """The belief along `full` after the first `stop` entries, folding only what is not folded yet."""
        entries = self.entries[fact]
        stop = min(stop, len(entries))
        fold = self._folds.setdefault((fact, full), [None])
        if len(fold) > stop:
            return fold[stop]
        hbit, rest = self.bits[full[0]], self._mask(full[1:])
        for position in range(len(fold) - 1, stop):
            held = fold[position]
            entry = entries[position]
            if entry.mask & hbit and entry.public & rest == rest:
                held = self._step(fact, full, held, entry, position) or held
            fold.append(held)
        return fold[stop]

    def _step(
        self, fact: str, full: tuple[str, ...], held: _Held | None, entry: _Entry, position: int
    ) -> _Held | None:
        """The chain's last mind's belief after one entry it is thought to have perceived (None: unchanged)."""
        speaker = entry.speaker
        if speaker is None:
            return _Held(entry.value, "initial", entry.turn, None, "initial")
        if held is not None and held.value == entry.value:
            return None  # a statement never changes a belief that already agrees with it
        # How the holder came by it: a private statement, a public one, or one it watched unseen.
        heard: _Heard = (
            "overheard"
            if entry.watchers & self.bits[full[0]]
            else "told"
            if entry.private
            else "claimed"
        )
        lie_by = speaker if entry.lie else None
        last, depth = full[-1], len(full) - 1
        if last == speaker:
            if depth == 0:
                return None  # one's own statement never changes one's own belief
            if held is None or held.basis == "asserted":
                return _Held(entry.value, heard, entry.turn, lie_by, "asserted")
            return _Held(
                held.value, "inferred", entry.turn, speaker, held.basis
            )  # a lie seen through
        if held is not None and held.basis not in _HEARSAY:
            return None
        if not entry.trusting & self.bits[last] or self._sees_through(
            fact, (*full, speaker), entry, position
        ):
            return None
        return _Held(entry.value, heard, entry.turn, lie_by, heard)

    def _sees_through(
        self, fact: str, model: tuple[str, ...], entry: _Entry, position: int
    ) -> bool:
        """Whether a listener takes a statement for a lie: its model of the speaker (`model`, the chain
        one deeper) saw the speaker learn the opposite before it spoke."""
        if len(model) > _DEEPEST:
            return False
        seen = self._held(fact, model, position)
        return seen is not None and seen.basis != "asserted" and seen.value != entry.value

    def knowers(self, fact: str, stop: int) -> tuple[str, ...]:
        """Who really knows whether `fact` holds: each character whose own belief is right."""
        out = []
        for name in self.characters:
            belief = self.belief(fact, (name,), stop)
            if belief is not None and belief.right:
                out.append(name)
        return tuple(out)

    def thought_knowers(self, fact: str, full: tuple[str, ...], stop: int) -> tuple[str, ...]:
        """Who the mind at the end of `full` thinks knows whether `fact` holds (`tom.knowing`'s rule)."""
        mine = self.belief(fact, full, stop)

        def theirs(name: str) -> bool | None:
            belief = self.belief(fact, (*full, name), stop)
            return None if belief is None else belief.value

        return knowing.thought_knowers(
            self.characters, full[-1], None if mine is None else mine.value, theirs
        )
