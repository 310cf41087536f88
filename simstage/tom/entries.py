"""The object entries the ToM tracker's fold stores, and what a query finds among them."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

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
