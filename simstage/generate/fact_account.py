"""The generator's own account of one fact in a `secrets` story: who heard what, and who thinks who did.

The `secrets` family writes its story statement by statement into a `FactAccount`,
which gives the answer the generator intends for any chain of minds and who knows.
Like `simstage.generate.ledger` for objects, it is written from the story's side for
the few beats such stories are made of, not from the tracker's; the tests hold the
two to the same answers on thousands of scenes.

The stories: one character, the keeper, knows at the start whether the fact holds,
and nobody else knows that it does. Only the keeper speaks of it, truly or not,
aloud to everyone in its room or privately to one listener. Everyone trusts everyone.

- Hearing: a statement is heard by its audience: everyone in the room for one said
  aloud (a distracted one among them hears nothing; a secret watcher outside hears it
  too), the speaker and one listener for a private one (the listener hears nothing
  when distracted; a watcher never does). Everyone in the room thinks everyone in
  the room heard it; nobody thinks a watcher did.
- Believing: a listener believes what it last heard; the keeper believes what it
  knew at the start, whatever it says; anyone thinks the keeper believes what it
  said (nobody saw what the keeper knew).
- "A thinks B thinks C" is answered by the latest statement that A heard with B
  and C in its audience, as A sees it (the keeper's own belief, asked of the
  keeper, by what it knew); when there is none, A thinks that C does not know.
- Who knows: really, each character whose belief is right. In the view at the
  end of a chain: the mind itself when it has a belief, and each other character
  it thinks has a belief that is not the opposite of its own.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from simstage.tom import knowing

__all__ = ["FactAccount", "Statement"]


@dataclass(frozen=True)
class Statement:
    """One statement about the fact (or, with no speaker, what the keeper knew at the start)."""

    value: bool
    """What it says: the fact holds (True) or not."""
    heard: frozenset[str]
    """Who heard it (the speaker always does)."""
    audience: frozenset[str]
    """Who everyone present thinks heard it."""
    speaker: str | None = None


class FactAccount:
    """The statements about one fact, oldest first.

    Args:
        truth: whether the fact holds.
        keeper: the one who knows it at the start.
        cast: every character, in cast order.
    """

    def __init__(self, truth: bool, keeper: str, cast: Sequence[str]):
        self.truth = truth
        self.keeper = keeper
        self.cast = tuple(cast)
        self._statements = [Statement(truth, frozenset({keeper}), frozenset({keeper}))]
        self._beliefs: dict[tuple[str, ...], bool | None] = {}
        """`belief`'s answers since the last statement (probes ask thousands of chains)."""

    @property
    def statements(self) -> tuple[Statement, ...]:
        """The statements so far, oldest first (the keeper's own knowledge first); only `said` adds one."""
        return tuple(self._statements)

    def said(self, value: bool, heard: Iterable[str], audience: Iterable[str]) -> Statement:
        """The keeper says the fact holds (`value`) or not, `heard` by some, thought heard by `audience`."""
        statement = Statement(
            value,
            frozenset(heard) | {self.keeper},
            frozenset(audience) | {self.keeper},
            self.keeper,
        )
        self._statements.append(statement)
        self._beliefs.clear()
        return statement

    def belief(self, chain: Sequence[str]) -> bool | None:
        """What `chain[0]` thinks `chain[1]` thinks ... of whether the fact holds (None: no belief)."""
        key = tuple(chain)
        if key not in self._beliefs:
            self._beliefs[key] = self._belief(key)
        return self._beliefs[key]

    def _belief(self, chain: tuple[str, ...]) -> bool | None:
        first, rest = chain[0], set(chain[1:])
        for statement in reversed(self._statements):
            if first not in statement.heard or not rest <= statement.audience:
                continue
            if len(chain) == 1 and statement.speaker == first:
                continue  # one's own statement never changes one's own belief
            return statement.value
        return None

    def knowers(self) -> tuple[str, ...]:
        """Who really knows whether the fact holds: each character whose belief is right."""
        return tuple(name for name in self.cast if self.belief((name,)) == self.truth)

    def thought_knowers(self, chain: Sequence[str]) -> tuple[str, ...]:
        """Who the mind at the end of `chain` (holder first) thinks knows whether the fact holds
        (the rule of `simstage.tom.knowing`, read off this account's beliefs)."""
        return knowing.thought_knowers(
            self.cast, chain[-1], self.belief(chain), lambda name: self.belief((*chain, name))
        )
