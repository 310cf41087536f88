"""Pydantic models of a scenario file.

Every model forbids unknown fields so a typo is an error, not a silent default.
Cross-references between names (a character's location, an object's container)
are checked separately in :mod:`simstage.scenario.checks`, where each problem
can carry the exact path of the field at fault.
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field, model_validator

from simstage.scenario.actions import (
    AssertAction,
    ClaimAction,
    DistractAction,
    EnterAction,
    ExitAction,
    MoveAction,
    PeekAction,
    SayAction,
    ScriptedAction,
    StopPeekAction,
    TellAction,
)
from simstage.scenario.latent import LatentConfig
from simstage.scenario.latent import StrictModel as _Strict
from simstage.scenario.probes import ProbeConfig, left_out
from simstage.stage.config import (
    LitellmStageConfig,
    LlamaStageConfig,
    ScriptedStageConfig,
    StageConfig,
)

__all__ = [  # actions, probes and the stage section live in `.actions`, `.probes`, `simstage.stage.config`
    "AssertAction",
    "CardCastEntry",
    "CastMemberConfig",
    "CharacterConfig",
    "ClaimAction",
    "ContainerConfig",
    "DistractAction",
    "EnterAction",
    "ExitAction",
    "FactConfig",
    "KnowsConfig",
    "KnowsFactConfig",
    "LatentConfig",
    "LitellmStageConfig",
    "LlamaStageConfig",
    "MoveAction",
    "ObjectConfig",
    "PeekAction",
    "ProbeConfig",
    "PuppeteerConfig",
    "SayAction",
    "Scenario",
    "ScriptedAction",
    "ScriptedStageConfig",
    "StageConfig",
    "StopPeekAction",
    "TellAction",
    "TimelineEntry",
    "TomConfig",
    "WorldConfig",
]


class ContainerConfig(_Strict):
    """A container that can hold objects."""

    in_: str = Field(alias="in")
    """The location the container stands in."""
    open: bool = False
    """Whether someone entering the room sees what is inside (a closed box keeps a false belief alive)."""


class ObjectConfig(_Strict):
    """A movable object."""

    in_: str = Field(alias="in")
    """The container the object starts in."""
    plural: bool = False
    """Whether the name is plural (`keys`, `papers`): probe questions and rejection reasons then
    say "the keys are". Not guessed from the name (glass, compass, news): set it; a log
    recorded before this field keeps its wording, so `replay --verify` still matches it."""


class KnowsConfig(_Strict):
    """Where a character knows an object is at the start, and who knows that it knows."""

    in_: str = Field(alias="in")
    """The container the character believes the object is in (another than the object's own
    starts a false belief)."""
    with_: list[str] = Field(default_factory=list, alias="with")
    """Characters who share the knowledge: each of them believes it too, and the group has it
    as common knowledge ("Felix thinks Margot thinks it is in the box", to any depth). Empty:
    only the character knows, and nobody thinks it does."""


class FactConfig(_Strict):
    """A named proposition of the scene: a secret, a debt, an intention. Nothing changes it."""

    text: str = Field(min_length=1, max_length=500)
    """The sentence that states it ("Felix owes Edwin a great deal of money")."""
    true: bool
    """Whether it holds."""

    @model_validator(mode="before")
    @classmethod
    def _yaml_true_key(cls, data: object) -> object:
        """YAML reads the key `true` as a boolean: take it as the field's name."""
        if isinstance(data, dict) and True in data and "true" not in data:
            data = {("true" if key is True else key): value for key, value in data.items()}
        return data


class KnowsFactConfig(_Strict):
    """What a character believes of a fact at the start, and who knows that it does."""

    holds: bool
    """The value believed: true, the fact holds; false, it does not (a false belief when the
    fact is otherwise)."""
    with_: list[str] = Field(default_factory=list, alias="with")
    """Characters who share the belief, as common knowledge in the group (as for objects)."""


class WorldConfig(_Strict):
    """The places and things of the scene."""

    locations: list[str] = Field(min_length=1)
    """Names of the locations; characters move between them."""
    containers: dict[str, ContainerConfig] = Field(default_factory=dict)
    """Containers by name, each standing in a location."""
    objects: dict[str, ObjectConfig] = Field(default_factory=dict)
    """Objects by name, each starting in a container."""
    facts: dict[str, FactConfig] = Field(default_factory=dict)
    """Facts by name: propositions characters can know, believe wrongly and state
    (`{debt: {text: "Felix owes Edwin money", true: true}}`)."""


NAME_PATTERN = r"^[^\s].*[^\s]$|^[^\s]$"
"""A character's name: no white space at either end."""


class CastMemberConfig(_Strict):
    """What a cast entry says of its character, whether written out or read from a card.

    A character (`CharacterConfig`) must give its name and persona; a card entry
    (`CardCastEntry`) may leave them to the card, which also gives a style, a first line and
    secrets.
    """

    name: str | None = Field(None, min_length=1, max_length=64, pattern=NAME_PATTERN)
    """The character's name (default: the card's)."""
    persona: str | None = Field(None, min_length=1, max_length=4000)
    """Who the character is (default: the card's description and personality)."""
    location: str
    """Where the character is when the scene opens."""
    goals: list[str] = Field(default_factory=list)
    """What the character wants."""
    secrets: list[str] = Field(default_factory=list)
    """What the character knows and keeps to itself."""
    style: str | None = None
    """How the character talks (terse, florid, formal...)."""
    tom_depth: int | None = Field(None, ge=0, le=4)
    """How many levels of 'she thinks that he thinks' this character tracks (default: the tracker's)."""
    first_line: str | None = Field(None, min_length=1, max_length=2000)
    """What the character says aloud at the start of turn 1 (a character card's greeting); it is
    played as a scripted `say` after the timeline's own turn-1 events, heard by everyone present."""
    knows: dict[str, str | bool | KnowsConfig | KnowsFactConfig] = Field(default_factory=dict)
    """What the character knows at the start about objects out of its sight: object name to
    container (`{ring: jewellery box}`: only it knows), or to `{in: container, with: [names]}`
    (it and those named know, and know that each other know). Objects in its own room are
    seen, not listed here. A fact's name maps to the value believed (`{debt: true}`), or to
    `{holds: false, with: [names]}`. Its opening lines tell the character what it knows."""


class CharacterConfig(CastMemberConfig):
    """One animatronic: a character the stage plays."""

    name: str = Field(min_length=1, max_length=64, pattern=NAME_PATTERN)
    """The character's name, unique in the cast."""
    persona: str = Field(min_length=1, max_length=4000)
    """Who the character is, in a sentence or a paragraph."""


class CardCastEntry(CastMemberConfig):
    """A cast member read from a character card (SillyTavern/TavernAI, spec V2 or V3).

    The loader reads the card and replaces the entry by a character: persona from the card's
    description and personality, `first_line` from its greeting, `style` from its example
    messages, `secrets` from its lorebook. Fields given here override the card's.
    """

    card: str = Field(min_length=1, max_length=1000)
    """Path of the card (.png or .json), relative to the scenario file. Paths inside a card are never followed."""
    secrets: list[str] = Field(default_factory=list)
    """What the character knows and keeps to itself, before the card's lorebook entries."""
    style: str | None = None
    """How the character talks (default: the card's example messages)."""
    first_line: str | None = Field(None, min_length=1, max_length=2000)
    """What the character says at the start of turn 1 (default: the card's greeting)."""
    knows: dict[str, str | bool | KnowsConfig | KnowsFactConfig] = Field(default_factory=dict)
    """What the character knows at the start about objects and facts (as a character's `knows`)."""


PuppeteerKind = Literal["bare", "round_robin", "scripted", "director", "optimizer", "human"]


class PuppeteerConfig(_Strict):
    """Who picks the next speaker, and what pressure acts on the lines."""

    kind: PuppeteerKind = "round_robin"
    """`bare`: the stage itself picks who speaks next; `round_robin`: the cast in turn, in the
    order listed; `scripted`: the names in `order`, cycling; `director`: a director played by the
    stage picks the speaker and whispers a stage direction to it; `optimizer`: best of
    `candidates` lines by the weighted `rewards`; `human`: the person at the keyboard."""
    order: list[str] = Field(default_factory=list)
    """For `scripted`: the speaking order (character names), repeated as needed."""
    candidates: int = Field(4, ge=1, le=32)
    """For `optimizer`: how many candidate lines to sample per turn (decoded in one batch)."""
    rewards: dict[str, float] = Field(default_factory=dict)
    """Reward names with their weights (`sycophancy`, `goal`, `deception`, `persona`, or a
    plugin's name). The optimizer maximises the weighted sum; metrics report each."""
    target: str | None = None
    """For the `sycophancy` reward: the character whose views the line should flatter or agree with."""
    optimize: list[str] | None = None
    """For `optimizer`: whose lines are picked by reward (default: every character's)."""
    metrics: bool = False
    """Record per-turn metrics (persona drift, voice collapse, rewards, flips) and a summary."""


class TimelineEntry(_Strict):
    """A scripted world event, applied at the start of a turn."""

    at: int = Field(ge=1)
    """The turn (1-based) at whose start the event happens."""
    event: ScriptedAction
    """The event."""


class TomConfig(_Strict):
    """How the theory-of-mind tracker reads the scene."""

    order: int = Field(2, ge=0, le=4)
    """Deepest belief order tracked: 1 is "A thinks", 2 is "A thinks B thinks", up to 4."""
    trust: Literal["all", "none"] | dict[str, list[str]] = "all"
    """Whose claims each character believes: `all`, `none`, or per character the names it trusts
    (a character left out of the mapping trusts everyone)."""
    rules: Literal["default", "tomi", "hitom"] = "default"
    """The tracker's rule set: `default` (simstage's rules), `tomi` (ToMi's generator: entrants see
    inside every container, beliefs are never erased) or `hitom` (Hi-ToM's generator: as `tomi`,
    moves update nested beliefs only in the order witnesses came in, claims follow its exit-order
    rule and change first- and second-order beliefs only). See `simstage.tom.rules`."""


class Scenario(_Strict):
    """A scene: its world, its cast, who steers, what happens, what is asked."""

    title: str = Field(min_length=1, max_length=200)
    """A short title."""
    description: str | None = None
    """What the scene is for, in prose."""
    seed: int = Field(0, ge=0, le=2**31 - 1)
    """Seed for the stage's sampler, so a run can be reproduced."""
    stage: StageConfig = LlamaStageConfig.model_validate({})
    """The model that plays every character."""
    world: WorldConfig
    """Locations, containers and objects."""
    cast: list[CharacterConfig] = Field(min_length=1, max_length=64)
    """The characters, in speaking order for round robin."""
    puppeteer: PuppeteerConfig = Field(default_factory=PuppeteerConfig)  # type: ignore[arg-type]
    """Who picks the next speaker."""
    timeline: list[TimelineEntry] = Field(default_factory=list)
    """Scripted world events at given turns."""
    probes: list[ProbeConfig] = Field(default_factory=list)
    """Belief questions at given turns."""
    max_turns: int = Field(8, ge=1, le=100_000)
    """How many turns the scene lasts."""
    tom: TomConfig = Field(default_factory=TomConfig)  # type: ignore[arg-type]
    """Settings of the theory-of-mind tracker (belief order, trust)."""
    latent: LatentConfig | None = None
    """Capture the stage's activations at each probe into a sidecar beside the run log (`--latent`)."""

    @model_validator(mode="before")
    @classmethod
    def _first_lines(cls, data: object) -> object:
        """Each cast member's `first_line` becomes a timeline `say` at turn 1, after the file's own entries."""
        if not isinstance(data, dict) or not isinstance(data.get("cast"), list):
            return data
        timeline = data.get("timeline", [])
        if not isinstance(timeline, list):
            return data
        added = []
        for member in data["cast"]:
            if not isinstance(member, dict):
                continue
            name, line = member.get("name"), member.get("first_line")
            if not (isinstance(name, str) and isinstance(line, str) and 0 < len(line) <= 2000):
                continue
            entry = {"at": 1, "event": {"type": "say", "who": name, "text": line}}
            if not any(_same_entry(existing, entry) for existing in timeline):
                added.append(entry)
        return {**data, "timeline": [*timeline, *added]} if added else data

    def character(self, name: str) -> CharacterConfig:
        """The cast member called `name`.

        Raises:
            KeyError: no such character.
        """
        for member in self.cast:
            if member.name == name:
                return member
        raise KeyError(name)

    def knowledge(self) -> list[tuple[str, str, str, tuple[str, ...]]]:
        """Every cast `knows` entry about an object as (knower, object, container, the group that
        shares it, knower first)."""
        out = []
        for member in self.cast:
            for obj, known in member.knows.items():
                if isinstance(known, (bool, KnowsFactConfig)):
                    continue
                container, shared = (
                    (known, []) if isinstance(known, str) else (known.in_, known.with_)
                )
                group = dict.fromkeys([member.name, *shared])
                out.append((member.name, obj, container, tuple(group)))
        return out

    def fact_knowledge(self) -> list[tuple[str, str, bool, tuple[str, ...]]]:
        """Every cast `knows` entry about a fact as (knower, fact, value believed, the group that
        shares it, knower first)."""
        out: list[tuple[str, str, bool, tuple[str, ...]]] = []
        for member in self.cast:
            for fact, known in member.knows.items():
                if isinstance(known, bool):
                    out.append((member.name, fact, known, (member.name,)))
                elif isinstance(known, KnowsFactConfig):
                    group = dict.fromkeys([member.name, *known.with_])
                    out.append((member.name, fact, known.holds, tuple(group)))
        return out

    def left_out(self, max_turns: int) -> str | None:
        """What a run of `max_turns` turns leaves out of the scene (probes, timeline entries), in
        words; None when nothing."""
        return left_out(self.probes, [entry.at for entry in self.timeline], max_turns)

    def probe_kind(self, probe: ProbeConfig) -> Literal["object", "fact", "who_knows"]:
        """What a probe asks: where an object is, whether a fact holds, or who knows a fact."""
        if probe.who_knows is not None:
            return "who_knows"
        return "fact" if probe.about in self.world.facts else "object"

    @property
    def cast_names(self) -> list[str]:
        """Names of the cast, in order."""
        return [member.name for member in self.cast]


def _same_entry(existing: object, entry: dict) -> bool:
    """Whether a timeline entry (dict or model) is already the given turn-1 `say`."""
    if isinstance(existing, TimelineEntry):
        existing = existing.model_dump(by_alias=True)
    if (
        not isinstance(existing, dict)
        or existing.get("at") != 1
        or not isinstance(existing.get("event"), dict)
    ):
        return False
    event = existing["event"]
    return all(event.get(key) == value for key, value in entry["event"].items())
