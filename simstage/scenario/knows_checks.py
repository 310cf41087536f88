"""Cross-field checks of the cast's `knows`: what each character knows at the start.

An object's place it cannot see, or a fact's value; shared `with` other
characters, known names only, one place (or value) per character and object.
"""

from __future__ import annotations

from collections.abc import Callable

from simstage.scenario.models import KnowsFactConfig, Scenario
from simstage.scenario.problem import Loc, Problem


def check_knows(scenario: Scenario, unknown: Callable[[str, str, list[str]], str]) -> list[Problem]:
    """Cast `knows`: known names, out of the knower's sight, one place per character and object.

    Args:
        scenario: a scenario that already passed field validation.
        unknown: the message for a name that names nothing: (kind, name, the known names).

    Returns:
        The problems found, in file order.
    """
    world = scenario.world
    cast = scenario.cast_names
    start = {member.name: member.location for member in scenario.cast}
    problems: list[Problem] = []
    given: dict[tuple[str, str], tuple[str, str]] = {}
    for index, member in enumerate(scenario.cast):
        for obj, known in member.knows.items():
            base: Loc = ("cast", index, "knows", obj)
            if obj in world.facts or isinstance(known, (bool, KnowsFactConfig)):
                problems.extend(
                    _check_knows_fact(scenario, member.name, obj, known, base, given, unknown)
                )
                continue
            container = known if isinstance(known, str) else known.in_
            at: Loc = base if isinstance(known, str) else (*base, "in")
            if obj not in world.objects:
                kind = "object or fact" if world.facts else "object"
                problems.append(Problem(base, unknown(kind, obj, [*world.objects, *world.facts])))
                continue
            if container not in world.containers:
                problems.append(
                    Problem(at, unknown("container", container, list(world.containers)))
                )
                continue
            shared = [] if isinstance(known, str) else known.with_
            for position, name in enumerate(shared):
                if name not in cast:
                    problems.append(
                        Problem((*base, "with", position), unknown("character", name, cast))
                    )
            real = world.objects[obj].in_
            room = world.containers[real].in_ if real in world.containers else None
            for name in dict.fromkeys([member.name, *shared]):
                if start.get(name) != room:
                    pass  # out of sight: `knows` is what it has
                elif name == member.name:
                    problems.append(
                        Problem(
                            base,
                            f"{name} sees the {obj} at the start; `knows` is for what it cannot see",
                        )
                    )
                elif container != real:
                    problems.append(
                        Problem(at, f"{name} sees the {obj} in the {real} at the start")
                    )
                if name not in cast:
                    continue
                earlier = given.setdefault((name, obj), (container, member.name))
                if earlier[0] != container:
                    problems.append(
                        Problem(
                            at,
                            f"{name} would know the {obj} is both in the {earlier[0]} "
                            f"({earlier[1]}'s `knows`) and in the {container}",
                        )
                    )
    return problems


def _check_knows_fact(
    scenario: Scenario,
    knower: str,
    fact: str,
    known: object,
    base: Loc,
    given: dict[tuple[str, str], tuple[str, str]],
    unknown: Callable[[str, str, list[str]], str],
) -> list[Problem]:
    """One cast `knows` entry about a fact: a known fact, a value, known names, one value per character."""
    facts = scenario.world.facts
    if fact not in facts:
        if fact in scenario.world.objects:
            return [Problem(base, f"{fact!r} is an object: give the container it is believed in")]
        return [Problem(base, unknown("fact", fact, list(facts)))]
    if not isinstance(known, (bool, KnowsFactConfig)):
        return [
            Problem(base, f"{fact!r} is a fact: give true or false, or {{holds: ..., with: [...]}}")
        ]
    holds, shared = (known, []) if isinstance(known, bool) else (known.holds, known.with_)
    at: Loc = base if isinstance(known, bool) else (*base, "holds")
    cast = scenario.cast_names
    problems = [
        Problem((*base, "with", position), unknown("character", name, cast))
        for position, name in enumerate(shared)
        if name not in cast
    ]
    for name in dict.fromkeys([knower, *shared]):
        if name not in cast:
            continue
        earlier = given.setdefault((name, fact), (str(holds), knower))
        if earlier[0] != str(holds):
            value = "holds" if holds else "does not hold"
            problems.append(
                Problem(
                    at,
                    f"{name} would believe both that {fact!r} {value} and the opposite ({earlier[1]}'s `knows`)",
                )
            )
    return problems
