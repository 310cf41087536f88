"""Cross-field checks: every name a scenario uses must name something it defines."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable

from simstage.scenario.knows_checks import check_knows
from simstage.scenario.models import ProbeConfig, Scenario
from simstage.scenario.problem import Loc, Problem
from simstage.terminal import UNPRINTABLE

# `Problem` and `Loc` (`simstage.scenario.problem`) are imported from here too.
__all__ = ["WHO_KNOWS_THROUGH", "Loc", "Problem", "check_references"]

WHO_KNOWS_THROUGH = 2
"""Longest chain of a who-knows probe: "does B think C thinks X knows" reads beliefs four minds deep."""


def check_references(scenario: Scenario) -> list[Problem]:
    """Find unknown or duplicate names and out-of-range turns.

    Args:
        scenario: a scenario that already passed field validation.

    Returns:
        The problems found, in file order; empty when the scenario is consistent.
    """
    problems: list[Problem] = _check_name_characters(scenario)
    world = scenario.world
    locations = set(world.locations)
    cast = scenario.cast_names

    def unknown(kind: str, name: str, known: list[str] | set[str]) -> str:
        choices = ", ".join(sorted(known)) or "none defined"
        return f"unknown {kind} {name!r} (known: {choices})"

    for name, count in Counter(world.locations).items():
        if count > 1:
            index = world.locations.index(name, world.locations.index(name) + 1)
            problems.append(Problem(("world", "locations", index), f"duplicate location {name!r}"))
    clash = set(world.containers) & set(world.objects)
    for name in sorted(clash):
        problems.append(
            Problem(("world", "objects", name), f"{name!r} is both a container and an object")
        )
    for name, container in world.containers.items():
        if container.in_ not in locations:
            problems.append(
                Problem(
                    ("world", "containers", name, "in"),
                    unknown("location", container.in_, locations),
                )
            )
    for name, obj in world.objects.items():
        if obj.in_ not in world.containers:
            problems.append(
                Problem(
                    ("world", "objects", name, "in"),
                    unknown("container", obj.in_, set(world.containers)),
                )
            )
    taken = {
        "location": locations,
        "container": set(world.containers),
        "object": set(world.objects),
    }
    taken["character"] = set(scenario.cast_names)
    for name in world.facts:
        for kind, names in taken.items():
            if name in names:
                problems.append(
                    Problem(
                        ("world", "facts", name),
                        f"{name!r} is both {'an' if kind == 'object' else 'a'} {kind} and a fact",
                    )
                )

    seen: set[str] = set()
    for index, member in enumerate(scenario.cast):
        if member.name in seen:
            problems.append(
                Problem(("cast", index, "name"), f"duplicate character {member.name!r}")
            )
        seen.add(member.name)
        if member.location not in locations:
            problems.append(
                Problem(
                    ("cast", index, "location"), unknown("location", member.location, locations)
                )
            )

    for index, entry in enumerate(scenario.timeline):
        base: Loc = ("timeline", index)
        if entry.at > scenario.max_turns:
            problems.append(
                Problem(
                    (*base, "at"), f"turn {entry.at} is beyond max_turns ({scenario.max_turns})"
                )
            )
        event = entry.event
        if event.who not in cast:
            problems.append(Problem((*base, "event", "who"), unknown("character", event.who, cast)))
        if event.type in ("enter", "exit") and event.to not in locations:
            problems.append(
                Problem((*base, "event", "to"), unknown("location", event.to, locations))
            )
        if event.type in ("tell", "assert") and event.to is not None and event.to not in cast:
            problems.append(Problem((*base, "event", "to"), unknown("character", event.to, cast)))
        if event.type == "assert" and event.fact not in world.facts:
            problems.append(
                Problem((*base, "event", "fact"), unknown("fact", event.fact, set(world.facts)))
            )
        if event.type == "peek" and event.into not in locations:
            problems.append(
                Problem((*base, "event", "into"), unknown("location", event.into, locations))
            )
        if event.type in ("move", "claim") and event.object not in world.objects:
            problems.append(
                Problem(
                    (*base, "event", "object"), unknown("object", event.object, set(world.objects))
                )
            )
        if event.type == "move" and event.to not in world.containers:
            problems.append(
                Problem(
                    (*base, "event", "to"), unknown("container", event.to, set(world.containers))
                )
            )
        if event.type == "claim" and event.container not in world.containers:
            problems.append(
                Problem(
                    (*base, "event", "container"),
                    unknown("container", event.container, set(world.containers)),
                )
            )

    for index, probe in enumerate(scenario.probes):
        problems.extend(_check_probe(scenario, probe, ("probes", index), unknown))
    problems.extend(check_knows(scenario, unknown))
    problems.extend(_check_puppeteer(scenario, unknown))
    trust = scenario.tom.trust
    if isinstance(trust, dict):
        for name, trusted in trust.items():
            if name not in cast:
                problems.append(Problem(("tom", "trust", name), unknown("character", name, cast)))
            for position, other in enumerate(trusted):
                if other not in cast:
                    problems.append(
                        Problem(("tom", "trust", name, position), unknown("character", other, cast))
                    )
    problems.extend(_check_stage(scenario))
    latent, containers = scenario.latent, len(scenario.world.containers)
    if latent is not None and latent.contrast and not latent.name_options and containers != 2:
        problems.append(Problem(("latent", "contrast"), f"contrast pairs need two candidate containers and the world has {containers}; set name_options: true (each question then names two)"))  # fmt: skip
    return problems


def _check_name_characters(scenario: Scenario) -> list[Problem]:
    """Names are printed everywhere (transcripts, prompts, errors): none may hold what a terminal obeys."""
    world = scenario.world
    named: list[tuple[Loc, str]] = [
        (("cast", i, "name"), m.name) for i, m in enumerate(scenario.cast)
    ]
    named += [(("world", "locations", i), name) for i, name in enumerate(world.locations)]
    named += [(("world", "containers", name), name) for name in world.containers]
    named += [(("world", "objects", name), name) for name in world.objects]
    named += [(("world", "facts", name), name) for name in world.facts]
    problems = []
    for loc, name in named:
        found = UNPRINTABLE.search(name)
        if found:
            problems.append(
                Problem(
                    loc,
                    f"name {name!r} holds U+{ord(found.group()):04X}: names may not hold "
                    "control characters or bidi overrides",
                )
            )
    return problems


def _check_probe(
    scenario: Scenario, probe: ProbeConfig, base: Loc, unknown: Callable[[str, str, list[str]], str]
) -> list[Problem]:
    """One probe: its turn, who is asked, what about (an object or a fact), the chain, the naming."""
    world, cast = scenario.world, scenario.cast_names
    problems: list[Problem] = []
    if probe.at > scenario.max_turns:
        problems.append(
            Problem((*base, "at"), f"turn {probe.at} is beyond max_turns ({scenario.max_turns})")
        )
    if probe.ask is None and probe.who_knows is None:
        problems.append(
            Problem(base, "a probe about an object or a fact asks a character: give `ask`")
        )
    elif probe.ask is not None and probe.ask not in cast:
        problems.append(Problem((*base, "ask"), unknown("character", probe.ask, cast)))
    if (
        probe.about is not None
        and probe.about not in world.objects
        and probe.about not in world.facts
    ):
        kind = "object or fact" if world.facts else "object"
        problems.append(
            Problem((*base, "about"), unknown(kind, probe.about, [*world.objects, *world.facts]))
        )
    if probe.who_knows is not None and probe.who_knows not in world.facts:
        problems.append(
            Problem((*base, "who_knows"), unknown("fact", probe.who_knows, list(world.facts)))
        )
    for position, name in enumerate(probe.through):
        if name not in cast:
            problems.append(Problem((*base, "through", position), unknown("character", name, cast)))
    kind = scenario.probe_kind(probe)
    if kind == "object":
        return problems + _check_named(probe.named, (*base, "named"), world.containers, unknown)
    what = "who knows a fact" if kind == "who_knows" else "about a fact"
    if probe.style != "direct":
        problems.append(
            Problem((*base, "style"), f"a probe {what} is direct (`indirect` asks which container)")
        )
    if probe.named:
        problems.append(Problem((*base, "named"), f"a probe {what} names no containers"))
    if kind == "who_knows" and probe.ask is None and probe.through:
        problems.append(
            Problem(
                (*base, "through"),
                "the narrator is asked who really knows: no `through` (ask a character)",
            )
        )
    elif kind == "who_knows" and len(probe.through) > WHO_KNOWS_THROUGH:
        problems.append(
            Problem(
                (*base, "through"),
                f"a who-knows probe goes through at most {WHO_KNOWS_THROUGH} characters",
            )
        )
    return problems


def _check_named(
    named: list[str], base: Loc, containers: dict, unknown: Callable[[str, str, list[str]], str]
) -> list[Problem]:
    """A probe's `named`: none, or two different containers of the world."""
    if not named:
        return []
    if len(named) != 2 or named[0] == named[1]:
        return [
            Problem(
                base,
                "name two different containers (the question ends 'The box or the basket?'), or none",
            )
        ]
    return [
        Problem((*base, position), unknown("container", name, list(containers)))
        for position, name in enumerate(named)
        if name not in containers
    ]


def _check_stage(scenario: Scenario) -> list[Problem]:
    """The `litellm` backend names a litellm model (`provider/name`), not a local one."""
    from simstage.stage.remote_faults import model_name_problem

    stage = scenario.stage
    problem = model_name_problem(stage.model) if stage.backend == "litellm" else None
    return [Problem(("stage", "model"), problem)] if problem else []


def _check_puppeteer(
    scenario: Scenario, unknown: Callable[[str, str, list[str]], str]
) -> list[Problem]:
    """Names in the puppeteer section: speaking order, reward names, target, optimised speakers."""
    from simstage.puppeteer.rewards import BUILTIN_REWARDS, reward_names

    config = scenario.puppeteer
    cast = scenario.cast_names
    problems: list[Problem] = []
    base: Loc = ("puppeteer",)
    if config.kind == "scripted" and not config.order:
        problems.append(
            Problem((*base, "kind"), "the scripted puppeteer needs an `order` of speakers")
        )
    for index, name in enumerate(config.order):
        if name not in cast:
            problems.append(Problem((*base, "order", index), unknown("character", name, cast)))
    for index, name in enumerate(config.optimize or []):
        if name not in cast:
            problems.append(Problem((*base, "optimize", index), unknown("character", name, cast)))
    if config.target is not None and config.target not in cast:
        problems.append(Problem((*base, "target"), unknown("character", config.target, cast)))
    # Plugins' names are read only when a name is not built in: listing entry points costs tens of ms.
    valid = list(BUILTIN_REWARDS) if set(config.rewards) <= set(BUILTIN_REWARDS) else reward_names()
    for name in config.rewards:
        if name not in valid:
            problems.append(
                Problem(
                    (*base, "rewards", name), f"unknown reward {name!r} (valid: {', '.join(valid)})"
                )
            )
    if "sycophancy" in config.rewards and config.target is None:
        problems.append(
            Problem((*base, "rewards", "sycophancy"), "the sycophancy reward needs a `target`")
        )
    if config.kind == "optimizer" and not config.rewards:
        problems.append(
            Problem((*base, "kind"), "the optimizer needs at least one reward in `rewards`")
        )
    return problems
