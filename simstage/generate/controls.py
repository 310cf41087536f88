"""The controls: which probes a story gets, how they are asked, and the order of the options.

They are kept online, scene by scene, so scene `i` depends only on the seed, the
options and the scenes before it, never on how many follow:

- at each order, false-belief probes make `false_share` of the probes: half at
  order 1; at order k >= 2 `FILTERED_SHARE`, a little over half, each passing
  ExploreToM's filter (its answer differs from reality and from the answer one
  order down); a true-belief probe cannot pass it, so the rest are true-belief
  probes, and both shortcuts score about the true share;
- direct and indirect questions, and whether the answer is the container the
  question names last, are half and half in each cell of order x false/true;
- the order of the options (the world's containers) puts the answer at each
  position equally often, overall, by order and by cell.
"""

from __future__ import annotations

import itertools
import random
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal

from simstage.generate.core import FamilyOptions, IntendedProbe, Story, fact_label

FILTERED_SHARE = 0.55
"""At order k >= 2, the share of probes that pass ExploreToM's filter (all of them false-belief probes)."""

Kind = Literal["false", "true"]


@dataclass(frozen=True)
class Candidate:
    """A chain a probe could ask along, with its answers."""

    chain: tuple[str, ...]
    answer: str
    lower: str
    reality: str

    @property
    def order(self) -> int:
        return len(self.chain)

    @property
    def kind(self) -> Kind | None:
        """`true`, `false` (passing ExploreToM's filter above order 1), or None (neither: never asked)."""
        if self.answer == self.reality:
            return "true"
        return "false" if self.order == 1 or self.answer != self.lower else None


def false_share(order: int) -> float:
    """The share of false-belief probes wanted at `order`."""
    return 0.5 if order == 1 else FILTERED_SHARE


class Balance:
    """The controls' counts so far over the set, to pick each new scene's probes against."""

    def __init__(self) -> None:
        self.counts: Counter[tuple[Any, ...]] = Counter()

    def false_count(self, order: int, count: int) -> int:
        """How many of the next `count` probes at `order` should be false-belief probes."""
        asked, false = self.counts[("probes", order)], self.counts[("false", order)]
        want = int(false_share(order) * (asked + count) + 0.5) - false
        return max(0, min(count, want))

    def add(self, probes: Sequence[IntendedProbe]) -> None:
        for probe in probes:
            if probe.kind == "fact":
                answered = fact_kind(probe.answer, probe.reality)
                self.counts[("fact", probe.order, probe.reality, answered)] += 1
                self.counts[("reality", probe.reality)] += 1
            elif probe.kind == "who_knows":
                self.counts[("who", probe.order, probe.false_belief)] += 1
            kind = "false" if probe.false_belief else "true"
            self.counts[("probes", probe.order)] += 1
            self.counts[(kind, probe.order)] += 1
            self.counts[("style", probe.order, kind, probe.style)] += 1
            if probe.named:
                self.counts[("last", probe.order, kind, probe.named_last == probe.answer)] += 1
            for cell in _cells(probe.order, kind):
                self.counts[("position", *cell, probe.position)] += 1


def fact_kind(answer: str, reality: str) -> str:
    """A fact probe's answer as the controls count it: `right`, `wrong`, or `unknown` (don't know)."""
    if answer == reality:
        return "right"
    return "unknown" if answer == fact_label(None) else "wrong"


def _cells(order: int, kind: str) -> tuple[tuple[Any, ...], ...]:
    return (("all",), ("order", order), ("cell", order, kind))


def _least(rng: random.Random, counts: dict[Any, int]) -> Any:
    """The choice seen least so far (choice -> count); a tie is drawn."""
    fewest = min(counts.values())
    return rng.choice([choice for choice, count in counts.items() if count == fewest])


def candidates(story: Story) -> list[Candidate]:
    """Every chain of the story with its answer, one order down, and reality."""
    ledger = story.ledger
    out = []
    for chain in story.chains:
        lower = ledger.answer(chain[:-1]) if len(chain) > 1 else ledger.reality
        out.append(Candidate(chain, ledger.answer(chain), lower, ledger.reality))
    return out


def pick(
    story: Story, options: FamilyOptions, balance: Balance, rng: random.Random, slack: int = 0
) -> list[Candidate] | None:
    """The story's probes, by order, false/true as the balance wants; None when the story lacks them.

    With `slack`, an order may take up to that many false-belief probes more or fewer than
    wanted (the closest the story allows): some stories cannot give the even split at every
    order at once, and the scenes after make up the difference.
    """
    by_kind: dict[tuple[int, Kind | None], list[Candidate]] = {}
    for candidate in candidates(story):
        by_kind.setdefault((candidate.order, candidate.kind), []).append(candidate)
    picked: list[Candidate] = []
    for order in range(1, options.order + 1):
        wanted = balance.false_count(order, options.probes)
        falses, trues = by_kind.get((order, "false"), []), by_kind.get((order, "true"), [])
        near = sorted(
            range(max(0, wanted - slack), min(options.probes, wanted + slack) + 1),
            key=lambda f: abs(f - wanted),
        )
        false = next(
            (f for f in near if len(falses) >= f and len(trues) >= options.probes - f), None
        )
        if false is None:
            return None
        picked += rng.sample(falses, false) + rng.sample(trues, options.probes - false)
    return picked


def _foil(candidate: Candidate, story: Story, rng: random.Random) -> str:
    """The container named beside the answer: the tempting wrong one, or one the story mentions."""
    for tempting in (candidate.reality, candidate.lower):
        if tempting != candidate.answer:
            return tempting
    mentioned = sorted({beat.container for beat in story.ledger.beats} - {candidate.answer})
    others = [c for c in story.containers if c != candidate.answer]
    return rng.choice(mentioned or others)


def _option_order(
    containers: Sequence[str], picked: Sequence[Candidate], balance: Balance, rng: random.Random
) -> list[str]:
    """The containers' order that puts this scene's answers where the set has had them least."""
    orders: list[tuple[str, ...]] = list(itertools.permutations(containers))
    rng.shuffle(orders)

    def cost(order: tuple[str, ...]) -> int:
        added: Counter[tuple[Any, ...]] = Counter()
        for candidate in picked:
            for cell in _cells(candidate.order, candidate.kind or "false"):
                added[(*cell, order.index(candidate.answer))] += 1
        # How much the sum of squared counts grows: least when the answers go where they have been least.
        return sum(
            extra * (2 * balance.counts[("position", *key)] + extra) for key, extra in added.items()
        )

    best = min(orders, key=cost)
    return list(best)


def intended_probes(
    story: Story,
    picked: Sequence[Candidate],
    options: FamilyOptions,
    balance: Balance,
    rng: random.Random,
) -> tuple[list[str], list[IntendedProbe]]:
    """The containers' order and each probe's style, naming and answers."""
    order = _option_order(story.containers, picked, balance, rng)
    pending = Balance()
    pending.counts = balance.counts.copy()
    probes: list[IntendedProbe] = []
    for candidate in picked:
        kind = candidate.kind or "false"
        style = _least(
            rng,
            {
                s: pending.counts[("style", candidate.order, kind, s)]
                for s in ("direct", "indirect")
            },
        )
        named: list[str] = []
        if options.name_options:
            foil = _foil(candidate, story, rng)
            last = _least(
                rng, {v: pending.counts[("last", candidate.order, kind, v)] for v in (True, False)}
            )
            named = [foil, candidate.answer] if last else [candidate.answer, foil]
        probe = IntendedProbe(
            at=story.probe_turn, ask=candidate.chain[0], about=story.object, through=list(candidate.chain[1:]),
            style=style, named=named, order=candidate.order, answer=candidate.answer,
            reality=candidate.reality, lower=candidate.lower, false_belief=candidate.answer != candidate.reality,
            filtered=candidate.answer not in (candidate.reality, candidate.lower), options=order,
            position=order.index(candidate.answer),
        )  # fmt: skip
        pending.add([probe])
        probes.append(probe)
    return order, probes
