"""Who a mind thinks knows whether a fact holds: the rule of a who-knows probe, in one place.

A definition, not an inference: the tracker (`tom.facts`) and the generator's own
account (`generate.fact_account`) each work out beliefs in their own way, then both
read who-knows answers off those beliefs by this rule, so the two stay independent
where it matters (what each mind believes) and cannot differ in what the question means.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable


def thought_knowers(
    names: Iterable[str], mind: str, mine: bool | None, theirs: Callable[[str], bool | None]
) -> tuple[str, ...]:
    """Who `mind` thinks knows whether the fact holds, in the order of `names`.

    Args:
        names: every character.
        mind: the mind at the end of the chain asked.
        mine: its own belief (None: it does not know).
        theirs: what it thinks another's belief is (None: it thinks that one does not know).

    The mind itself knows when it has a belief; another, when the mind thinks it has a
    belief and that belief is not the opposite of the mind's own.
    """
    out = []
    for name in names:
        if name == mind:
            if mine is not None:
                out.append(name)
            continue
        belief = theirs(name)
        if belief is not None and (mine is None or belief == mine):
            out.append(name)
    return tuple(out)
