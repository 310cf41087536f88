"""`secrets`: a keeper tells a fact, truly or not, aloud or privately; some miss it, some overhear it.

Everyone starts in one room; only the keeper knows whether the fact holds. Turn by
turn someone may leave for the other room or come back, someone outside may start
watching the room unseen (a secret watcher), someone in it may stop paying
attention for the turn (a distracted witness), and then the keeper states the fact,
or lies about it, aloud to the room or privately to one listener. After a turn of
talk the probes ask, at orders 1 to K, whether each thinks (along a chain of
others' minds) the fact holds (yes, no, don't know), and at orders 2 to K who each
thinks knows. `simstage.generate.fact_account` gives the intended answers.

Its controls: the answers yes, no and don't know each make a third of the fact
probes (their options are always in that order, so this is the answer's position),
with half of them false beliefs (a value reality contradicts; "don't know" is no
belief, as the tracker counts it), the rest split between don't know (a third) and
true beliefs; at orders 2 and above a false belief or a don't-know also differs
from the answer one order down (ExploreToM's filter). The fact holds in half the
probes, and the shares are kept apart for a fact that holds and one that does not,
so each order's yes and no are a third each too. Who-knows probes are half false
beliefs (the set differs from who really knows) at each order, each of those a set
that also differs from the one the order below names (the filter again), so neither
answering who really knows nor the lower order's set scores much over half.

A story is drawn, then its probes picked; deep orders rarely have every kind at
once, so each scene keeps the best of up to `BEST_OF` stories: the first whose
every probe is of the kind the set lacks most, or else the one whose probes lag
least behind it. With a single statement no story has a false belief at order 3
or above that passes the filter (whoever is thought to have heard the lie is
thought to have heard it with everyone else), so such a set cannot balance there:
`--check` says so.
"""

from __future__ import annotations

import itertools
import math
import random
from dataclasses import dataclass
from fractions import Fraction
from typing import Any, Literal

from pydantic import Field

from simstage.events import FACT_OPTIONS
from simstage.generate import names
from simstage.generate.controls import Balance, fact_kind
from simstage.generate.core import (
    CastMember,
    Family,
    GenerateError,
    IntendedProbe,
    SceneOptions,
    fact_label,
    knowers_label,
)
from simstage.generate.fact_account import FactAccount
from simstage.generate.text import member_entry, probe_entry

FACTS = (
    ("forged", "The will was forged"),
    ("engaged", "The heir is secretly engaged"),
    ("bankrupt", "The family business is bankrupt"),
    ("stolen", "The painting in the hall was stolen"),
    ("adopted", "The youngest cousin was adopted"),
    ("poisoned", "The old gardener was poisoned"),
    ("moving", "The landlord is selling the house"),
    ("fired", "The cook has been dismissed"),
)
"""(name, sentence) of the facts a story may turn on."""

BEST_OF = 200
"""Stories drawn for one scene at most; the first that gives every probe the kind the set lacks
most is kept, or else the one that falls shortest."""
SHARES = {"wrong": Fraction(1, 2), "unknown": Fraction(1, 3), "right": Fraction(1, 6)}
"""What each fact probe's answer should be, as shares of the set's fact probes at each order
(counted apart for a fact that holds and one that does not). Exact fractions: stories whose
probes fall equally short compare equal, and the earlier is kept."""


class SecretsOptions(SceneOptions):
    """Options of the `secrets` family."""

    order: int = Field(2, ge=1, le=4)
    """Deepest belief order probed: fact probes at every order from 1, who-knows from 2."""
    characters: int = Field(4, ge=3, le=12)
    """How many characters: the keeper and the others."""
    probes: int = Field(2, ge=1, le=8)
    """Fact probes per order in each scene (and one who-knows probe per order from 2)."""
    statements: int = Field(2, ge=1, le=6)
    """How many times the keeper speaks of the fact (one turn each)."""
    lies: float = Field(0.5, ge=0.0, le=1.0)
    """The chance that a statement is a lie."""
    private: float = Field(0.4, ge=0.0, le=1.0)
    """The chance that a statement is private, to one listener."""
    watchers: float = Field(0.5, ge=0.0, le=1.0)
    """The chance, each turn, that someone outside starts watching the room unseen."""
    distracted: float = Field(0.4, ge=0.0, le=1.0)
    """The chance, each turn, that someone in the room misses what happens there."""


def _story(
    rng: random.Random, options: SecretsOptions, truth: bool
) -> tuple[dict[str, Any], FactAccount, int]:
    """One story's world, cast and timeline (as scenario data, probes to come), its account, and its last turn."""
    cast = rng.sample(names.CHARACTERS, options.characters)
    room, elsewhere = rng.sample(names.ROOMS, 2)
    fact, sentence = rng.choice(FACTS)
    keeper = rng.choice(cast)
    others = [name for name in cast if name != keeper]
    account = FactAccount(truth, keeper, cast)
    inside, watching = set(cast), set[str]()
    timeline: list[dict[str, Any]] = []
    for turn in range(1, options.statements + 1):

        def happen(event: dict[str, Any], turn: int = turn) -> None:
            timeline.append({"at": turn, "event": event})

        outside = [name for name in others if name not in inside]
        if outside and rng.random() < 0.4:
            back = rng.choice(outside)
            inside.add(back)
            watching.discard(back)
            happen({"type": "enter", "who": back, "to": room})
        elif len(inside) > 2 and rng.random() < 0.5:
            gone = rng.choice(sorted(inside - {keeper}, key=cast.index))
            inside.discard(gone)
            happen({"type": "exit", "who": gone, "to": elsewhere})
        unseen = [name for name in others if name not in inside and name not in watching]
        if unseen and rng.random() < options.watchers:
            watcher = rng.choice(unseen)
            watching.add(watcher)
            happen({"type": "peek", "who": watcher, "into": room})
        listeners = [name for name in others if name in inside]
        absent: set[str] = set()
        if listeners and rng.random() < options.distracted:
            absent.add(rng.choice(listeners))
            happen({"type": "distract", "who": next(iter(absent)), "turns": 1})
        value = truth if rng.random() >= options.lies else not truth
        event: dict[str, Any] = {"type": "assert", "who": keeper, "fact": fact, "holds": value}
        if listeners and rng.random() < options.private:
            listener = rng.choice(listeners)
            event["to"] = listener
            account.said(value, {listener} - absent, {listener})
        else:
            account.said(value, (inside - absent) | watching, inside)
        happen(event)
        if watching and rng.random() < 0.3:
            stops = rng.choice(sorted(watching, key=cast.index))
            watching.discard(stops)
            happen({"type": "stop_peek", "who": stops})
    turns = options.statements + 1  # a turn of talk after the last statement, then the probes
    persona = {name: rng.choice(names.PERSONAS) for name in cast}
    members = [
        CastMember(
            name,
            persona[name],
            (f"Decide who should hear whether {sentence[0].lower() + sentence[1:]}.",)
            if name == keeper
            else ("Find out the family's secrets.",),
        )
        for name in cast
    ]
    data: dict[str, Any] = {
        "title": f"What {keeper} knows",
        "description": (
            f"A generated secrets scene: {keeper} alone knows whether {sentence[0].lower() + sentence[1:]}, and"
            f" speaks of it, truly or not, aloud or privately, while others leave, watch the {room} unseen,"
            f" or miss what is said. Probes ask who believes what, to order {options.order}, and who knows."
        ),
        "world": {
            "locations": [room, elsewhere],
            "facts": {fact: {"text": sentence, "true": truth}},
        },
        "cast": [
            {
                **member_entry(member, room),
                **({"knows": {fact: truth}} if member.name == keeper else {}),
            }
            for member in members
        ],
        "puppeteer": {"kind": "round_robin"},
        "timeline": timeline,
    }
    return data, account, turns


@dataclass(frozen=True)
class _Probed:
    """What a scene's probes ask about: the story's account of its fact, the fact, and the turn
    they are asked at (the story's last)."""

    account: FactAccount
    fact: str
    turn: int


def _probe(
    kind: Literal["fact", "who_knows"],
    probed: _Probed,
    chain: tuple[str, ...],
    answer: str,
    reality: str,
    lower: str,
    false_belief: bool,
) -> IntendedProbe:
    """A fact probe (order: the chain's length) or a who-knows probe (one deeper) with its answers."""
    offered = list(FACT_OPTIONS) if kind == "fact" else []
    return IntendedProbe(
        kind=kind, at=probed.turn, ask=chain[0], about=probed.fact, through=list(chain[1:]), style="direct",
        order=len(chain) + (kind == "who_knows"), answer=answer, reality=reality, lower=lower,
        false_belief=false_belief, filtered=answer not in (reality, lower), options=offered,
        position=offered.index(answer) if offered else -1,
    )  # fmt: skip


def _fact_probes(
    probed: _Probed,
    options: SecretsOptions,
    balance: Balance,
    rng: random.Random,
    bound: Fraction | float,
) -> tuple[list[IntendedProbe], Fraction] | None:
    """The fact probes, each of the kind of answer (`SHARES`) the set lacks most that the story has,
    and what falling short cost: for each probe, how far the kind it got lags behind the kind the
    set lacked most (0: every probe got the kind wanted). None when an order has no chain to ask,
    or when fewer chains pass the filter than the probes asked, or as soon as the cost reaches
    `bound` (another story already does as well)."""
    account = probed.account
    reality = fact_label(account.truth)
    pending = balance.counts.copy()
    probes, cost = [], Fraction(0)
    for order in range(1, options.order + 1):
        pool: dict[str, list[tuple[tuple[str, ...], str, str]]] = {}
        for chain in itertools.permutations(account.cast, order):
            answer = fact_label(account.belief(chain))
            lower = fact_label(account.belief(chain[:-1])) if order > 1 else reality
            kind = fact_kind(answer, reality)
            if order > 1 and kind != "right" and answer == lower:
                continue  # fails ExploreToM's filter: never asked
            pool.setdefault(kind, []).append((chain, answer, lower))
        cell = ("fact", order, reality)
        for _ in range(options.probes):
            asked = sum(pending[(*cell, k)] for k in SHARES) + 1
            lag = {k: SHARES[k] * asked - pending[(*cell, k)] for k in SHARES}
            ranked = sorted(SHARES, key=lambda k: lag[k], reverse=True)
            kind = next((k for k in ranked if pool.get(k)), "")
            if not kind:
                return None
            cost += lag[ranked[0]] - lag[kind]
            chain, answer, lower = pool[kind].pop(rng.randrange(len(pool[kind])))
            pending[(*cell, kind)] += 1
            probes.append(_probe("fact", probed, chain, answer, reality, lower, kind == "wrong"))
        if cost >= bound:
            return None
    return probes, cost


def _who_knows_probes(
    probed: _Probed, options: SecretsOptions, balance: Balance, rng: random.Random
) -> tuple[list[IntendedProbe], Fraction]:
    """One who-knows probe per order from 2, asked along a chain one shorter: a false belief (passing
    ExploreToM's filter) or a true one, as the set lacks, and what falling short cost (how far the
    set's split lags where the story has only the other kind; 1 for a false belief that fails the filter)."""
    account = probed.account
    really = knowers_label(account.knowers())
    probes, cost = [], Fraction(0)
    for order in range(2, options.order + 1):
        split: dict[bool, list[tuple[tuple[str, ...], str, str]]] = {True: [], False: []}
        for chain in itertools.permutations(account.cast, order - 1):
            answer = knowers_label(account.thought_knowers(chain))
            lower = knowers_label(account.thought_knowers(chain[:-1])) if len(chain) > 1 else really
            split[answer != really].append((chain, answer, lower))
        falses, trues = balance.counts[("who", order, True)], balance.counts[("who", order, False)]
        want_false = falses < trues or (falses == trues and rng.random() < 0.5)
        if not split[want_false]:
            cost += abs(falses - trues)
            want_false = not want_false
        pool = split[want_false]
        # A false belief also differs from the order below (ExploreToM's filter).
        if want_false:
            passing = [found for found in pool if found[1] != found[2]]
            cost += 0 if passing else 1
            pool = passing or pool
        chain, answer, lower = rng.choice(pool)
        probes.append(_probe("who_knows", probed, chain, answer, really, lower, answer != really))
    return probes, cost


def compose(
    rng: random.Random, options: SecretsOptions, balance: Balance, slack: int
) -> tuple[list[IntendedProbe], dict[str, Any]] | None:
    """One scene: its probes with their intended answers, and its scenario data.

    The fact holds or not as the set's fact probes have seen least so far. Up to `BEST_OF`
    stories are drawn; the first whose probes are each of the kind the set lacks most is kept,
    or else the one that falls shortest of that (the earliest among equals). `slack` is not
    used: the draws are this function's own, so it never returns None.

    Raises:
        GenerateError: none of the stories drawn has the fact probes asked for at every order.
    """
    held = [balance.counts[("reality", label)] for label in FACT_OPTIONS[:2]]
    truth = held[0] < held[1] or (held[0] == held[1] and rng.random() < 0.5)
    best: tuple[Fraction, list[IntendedProbe], dict[str, Any], int] | None = None
    for _ in range(BEST_OF):
        data, account, turns = _story(rng, options, truth)
        probed = _Probed(account, next(iter(data["world"]["facts"])), turns)
        facts = _fact_probes(probed, options, balance, rng, math.inf if best is None else best[0])
        if facts is None:
            continue  # no chain to ask at some order, or no better than the best so far
        who, lag = _who_knows_probes(probed, options, balance, rng)
        cost = facts[1] + lag
        if best is None or cost < best[0]:
            best = (cost, facts[0] + who, data, turns)
        if cost <= 0:
            break
    if best is None:
        raise GenerateError(
            f"secrets: none of {BEST_OF} stories drawn has {options.probes} fact"
            f" probe{'s' if options.probes > 1 else ''} at every order"
            f" up to {options.order} (above order 1, a wrong or don't-know answer must differ from the"
            " order below); give fewer --probes, more --statements or --characters, or a lower --private"
        )
    _, probes, data, turns = best
    data["tom"] = {"order": max(2, options.order)}
    data["probes"] = [probe_entry(probe) for probe in probes]
    data["max_turns"] = turns
    data = {
        "title": data.pop("title"),
        "description": data.pop("description"),
        "seed": rng.randrange(1, 1_000_000),
        **data,
    }
    return probes, data


FAMILY = Family(
    name="secrets",
    summary="a keeper tells a fact, truly or not, aloud or privately; watchers overhear, the distracted miss it",
    options=SecretsOptions,
    compose=compose,
)
