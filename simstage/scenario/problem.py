"""A problem found in a scenario: what is wrong, at a path of keys and indices (`Loc`)."""

from __future__ import annotations

from dataclasses import dataclass

Loc = tuple[str | int, ...]


@dataclass(frozen=True)
class Problem:
    """One thing wrong with a scenario, at a path of keys and indices."""

    loc: Loc
    message: str
