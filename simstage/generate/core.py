"""What every family shares: its options, the story it writes, and the intended answers it leads to.

A family writes a `Story` (world, cast, timeline, and a `Ledger` of the object's
beats); `simstage.generate.controls` picks its probes under the balanced
controls, and `simstage.generate.text` writes the file. `IntendedProbe` and
`SceneHeader` are what a generated file records and `read_header` gives back.
"""

from __future__ import annotations

import itertools
import random
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, SerializerFunctionWrapHandler, model_serializer

from simstage.errors import SimstageError
from simstage.generate import names
from simstage.generate.ledger import Ledger
from simstage.tom.metrics import FACT_ANSWERS

GENERATOR_VERSION = 2
"""Bumped whenever the same seed and options would write different scenes."""


class GenerateError(SimstageError, ValueError):
    """Options no story can satisfy, or a header that cannot be read; the message says which."""


class SceneOptions(BaseModel):
    """What every family takes first (`simstage generate FAMILY --order ... --characters ...`);
    a family may draw them otherwise (its own defaults and bounds), in this place."""

    model_config = ConfigDict(extra="forbid", frozen=True, use_attribute_docstrings=True)

    order: int = Field(2, ge=1, le=4)
    """Deepest belief order probed: probes ask every order from 1 to this."""
    characters: int = Field(3, ge=2, le=12)
    """How many characters."""


class FamilyOptions(SceneOptions):
    """What every family about an object takes: its cast, containers, rooms and probes."""

    containers: int = Field(3, ge=2, le=5)
    """How many containers (the probes' options), all in the room where the object is."""
    rooms: int = Field(2, ge=2, le=4)
    """How many locations: the object's room and the rooms characters leave for."""
    probes: int = Field(2, ge=1, le=8)
    """Probes per order in each scene."""
    name_options: bool = True
    """End each question with two containers, the answer and a foil ("The box or the basket?"),
    the answer named last in half of them."""


NOBODY = "nobody"
"""A who-knows answer naming no one."""


def fact_label(value: bool | None) -> str:
    """A fact probe's answer for a belief: yes (the fact holds), no, or don't know (no belief)."""
    return FACT_ANSWERS[value]


def knowers_label(who: Sequence[str]) -> str:
    """A who-knows probe's answer: the names, in cast order, joined by commas (or "nobody")."""
    return ", ".join(who) or NOBODY


class IntendedProbe(BaseModel):
    """One probe of a generated scene and the answer the generator intends for it.

    About an object (`kind` object: the answers are containers), a fact (yes, no, don't
    know) or who knows a fact (the names, as `knowers_label` writes them).
    """

    model_config = ConfigDict(extra="forbid", frozen=True, use_attribute_docstrings=True)

    kind: Literal["object", "fact", "who_knows"] = "object"
    """What is asked: where an object is, whether a fact holds, or who knows whether it does
    (left out of the header for objects)."""
    at: int
    """The turn it is asked at."""
    ask: str
    """Who is asked."""
    about: str
    """The object, or the fact."""
    through: list[str] = Field(default_factory=list)
    """The chain of minds after the asked one (order 1: none)."""
    style: Literal["direct", "indirect"]
    """`direct` asks where; `indirect` which container would be opened first (objects only)."""
    named: list[str] = Field(default_factory=list)
    """The two containers the question names at its end, in order (empty: none)."""
    order: int
    """1 for the asked character's own belief, 2 for "A thinks B thinks", ...; a who-knows probe
    reads one order deeper than its chain ("who does A think knows" is order 2)."""
    answer: str
    """The answer the generator intends: the container (the belief along the chain); yes, no or
    don't know; or who knows."""
    reality: str
    """Where the object is when the probe is asked."""
    lower: str
    """The answer one order down: the same chain without its last mind (order 1: reality).
    Answering it is the "answer the lower order" baseline."""
    false_belief: bool
    """Whether `answer` differs from `reality`."""
    filtered: bool
    """Whether `answer` differs from both `lower` and `reality` (ExploreToM's filter)."""
    options: list[str]
    """The options the stage chooses among, in the order offered (the world's containers; yes, no,
    don't know); empty for who knows (asked name by name)."""
    position: int
    """Where `answer` stands among `options` (0-based; -1 without options)."""

    @model_serializer(mode="wrap")
    def _header_form(self, handler: SerializerFunctionWrapHandler) -> dict[str, Any]:
        data: dict[str, Any] = handler(self)
        if self.kind == "object":
            data.pop("kind", None)  # the headers of object families as they were before facts
        return data

    @property
    def named_last(self) -> str | None:
        """The container the question names last (None when it names none)."""
        return self.named[-1] if self.named else None


class SceneHeader(BaseModel):
    """What a generated file's `# simstage-generate:` line records: how to make it again, and its answers."""

    model_config = ConfigDict(extra="forbid", frozen=True, use_attribute_docstrings=True)

    version: int
    """`GENERATOR_VERSION` of the generator that wrote it."""
    family: str
    """The family's name."""
    seed: int
    """The set's seed."""
    index: int
    """The scene's place in its set (0-based): `--n index+1` writes it again, last."""
    options: dict[str, bool | int | float]
    """The family's options, every one spelled out."""
    probes: list[IntendedProbe]
    """The scene's probes, in the file's order, with their intended answers."""


@dataclass(frozen=True)
class GeneratedScene:
    """One generated scenario file: its name, its text, and what its header records."""

    file_name: str
    text: str
    header: SceneHeader

    @property
    def probes(self) -> list[IntendedProbe]:
        """The probes with their intended answers."""
        return self.header.probes


@dataclass(frozen=True)
class CastMember:
    """A character of a generated story (everyone starts in the object's room)."""

    name: str
    persona: str
    goals: tuple[str, ...] = ()
    style: str | None = None


@dataclass
class Story:
    """A family's story: everything of the scene except its probes and the order of its containers."""

    title: str
    description: str
    locations: list[str]
    """The object's room first."""
    containers: list[str]
    """The containers, all in the object's room (their order in the file is picked later)."""
    object: str
    start: str
    """The container the object starts in."""
    cast: list[CastMember]
    timeline: list[tuple[int, dict[str, Any]]]
    """(turn, event) in the order they happen."""
    ledger: Ledger
    chains: list[tuple[str, ...]]
    """Chains of minds (asked character first) the probes may ask along."""
    probe_turn: int
    max_turns: int
    puppeteer: dict[str, Any]
    trust: dict[str, list[str]] | None = None
    """`tom.trust`, when not everyone trusts everyone."""


@dataclass(frozen=True)
class Setting:
    """Where a story happens and who is in it: what every family draws first."""

    cast: list[str]
    rooms: list[str]
    """The object's room first."""
    containers: list[str]
    thing: str
    start: str
    """The container the object starts in."""

    @classmethod
    def draw(cls, rng: random.Random, options: FamilyOptions) -> Setting:
        """A setting of `options`' size, drawn from the name pools.

        Drawn in the same order for every family, so a seed writes the same scene again.
        """
        cast = rng.sample(names.CHARACTERS, options.characters)
        rooms = rng.sample(names.ROOMS, options.rooms)
        containers = rng.sample(names.CONTAINERS, options.containers)
        thing = rng.choice(names.OBJECTS)
        return cls(cast, rooms, containers, thing, rng.choice(containers))

    @property
    def room(self) -> str:
        """The object's room, where everyone starts."""
        return self.rooms[0]

    def story(
        self,
        title: str,
        description: str,
        members: list[CastMember],
        timeline: list[tuple[int, dict[str, Any]]],
        ledger: Ledger,
        *,
        order: int,
        turns: int,
        puppeteer: dict[str, Any] | None = None,
        trust: dict[str, list[str]] | None = None,
    ) -> Story:
        """The story told in this setting: `turns` long, probed at the end of its last turn along
        every chain of 1..`order` characters; played round robin unless `puppeteer` says otherwise."""
        return Story(
            title=title, description=description, locations=self.rooms, containers=self.containers,
            object=self.thing, start=self.start, cast=members, timeline=timeline, ledger=ledger,
            chains=distinct_chains(self.cast, order), probe_turn=turns, max_turns=turns,
            puppeteer=puppeteer or {"kind": "round_robin"}, trust=trust,
        )  # fmt: skip


Compose = Callable[
    [random.Random, Any, Any, int], "tuple[list[IntendedProbe], dict[str, Any]] | None"
]
"""(random stream, options, the set's `simstage.generate.controls.Balance` so far, slack) ->
(probes, scenario data), or None to be called again (up to `scenes.MAX_TRIES` times, `slack`
growing). A family that draws and weighs its own stories (`secrets`) ignores `slack`, and raises
`GenerateError` itself when none will do."""


@dataclass(frozen=True)
class Family:
    """A family of scenes: its name, its options, and how it writes one story."""

    name: str
    summary: str
    options: type[SceneOptions]
    """Its options: `order` and `characters` first, and `probes` (`FamilyOptions` for objects)."""
    story: Callable[[random.Random, Any], Story] | None = None
    """Writes one story about an object; the controls pick its probes (`simstage.generate.controls`)."""
    compose: Compose | None = None
    """Writes one whole scene instead (a family about facts): its probes and scenario data, or None
    when the story drawn lacks the probes asked for (it is called again; see `Compose`)."""
    check: Callable[[Any], None] = lambda options: None
    """Refuses options no story of the family can satisfy (raises GenerateError)."""


def distinct_chains(names: Sequence[str], order: int) -> list[tuple[str, ...]]:
    """Every chain of 1..`order` different characters (the asked one first)."""
    return [chain for k in range(1, order + 1) for chain in itertools.permutations(names, k)]
