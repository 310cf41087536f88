"""The object entries the ToM tracker's fold stores, and what a query finds among them."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Literal

from simstage.tom.rules import RuleSet

Source = Literal["initial", "witnessed", "told", "claimed", "inferred"]
"""How a belief about an object was formed."""

SEEN, CLAIM, ABSENT = 0, 1, 2
"""Entry kinds: the object seen somewhere, a claim about it, an open container found without it."""


@dataclass(slots=True)
class Entry:
    """One informative event about one object, as the fold stores it."""

    index: int
    mask: int
    """Who perceived it."""
    turn: int
    kind: int
    container: str | None
    source: Source
    speaker: str | None = None
    believers: int = 0
    true: bool = True
    ranks: dict[str, int] | None = None
    """With `arrival_order` move chains: each witness's place in the order they came in, the mover last."""
    public: int = 0
    """Who everyone thinks perceived it: the audience (secret watchers left out, the distracted in)."""
    public_believers: int = 0
    """A claim's believers among the audience, each judged as if it had heard it."""


@dataclass(frozen=True, slots=True)
class Found:
    """What a query found: the belief's container (None: only where it is not) and its origin."""

    container: str | None
    source: Source
    turn: int
    lie_by: str | None
    index: int


def ascending(ranks: dict[str, int], full: tuple[str, ...]) -> bool:
    """Whether the chain's members follow each other in `ranks`' order (a one-name chain always does)."""
    previous = -1
    for name in full:
        rank = ranks.get(name, -1)
        if rank <= previous:
            return False
        previous = rank
    return True


def newest(
    entries: Sequence[Entry],
    full: tuple[str, ...],
    holder: int,
    rest: int,
    stop: int,
    bits: Mapping[str, int],
    rules: RuleSet,
) -> Found | None:
    """The newest of the first `stop` entries of one object that sets the belief along `full`.

    Args:
        entries: the object's entries, oldest first.
        full: the chain, holder first.
        holder: the holder's bit.
        rest: the bits of the rest of the chain, or'd together.
        stop: how many entries count (those the fold had stored at the snapshot).
        bits: each character's bit.
        rules: the rule set (its claim rule).
    """
    position = min(stop, len(entries)) - 1
    while position >= 0:
        entry = entries[position]
        if entry.mask & holder and entry.public & rest == rest:
            if entry.kind == SEEN:
                if entry.ranks is None or ascending(entry.ranks, full):
                    return Found(entry.container, entry.source, entry.turn, None, entry.index)
            elif entry.kind == CLAIM:
                if accepts(entry, full, bits, rules):
                    lie_by = None if entry.true else entry.speaker
                    return Found(entry.container, entry.source, entry.turn, lie_by, entry.index)
            else:
                earlier = newest(entries, full, holder, rest, position, bits, rules)
                if earlier is not None and earlier.container == entry.container:
                    return Found(None, "inferred", entry.turn, None, entry.index)
                return earlier
        position -= 1
    return None


def accepts(entry: Entry, full: tuple[str, ...], bits: Mapping[str, int], rules: RuleSet) -> bool:
    """Whether a claim sets the belief along `full` (every member of `full` witnessed it)."""
    bit = bits.get
    # The holder's own belief follows who really believed; a mind it models, who is thought to.
    believers = entry.believers if len(full) == 1 else entry.public_believers
    if rules.claims == "first_and_second":
        if len(full) == 1:
            return bool(bit(full[0], 0) & believers)
        if len(full) == 2:
            holder, other = full
            return holder == entry.speaker or (
                other == entry.speaker and bool(bit(holder, 0) & entry.believers)
            )
        return False
    last = full[-1]
    if bit(last, 0) & believers:
        return True
    before = entry.believers if len(full) == 2 else entry.public_believers
    return last == entry.speaker and len(full) >= 2 and bool(bit(full[-2], 0) & before)
