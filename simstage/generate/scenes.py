"""A set of generated scenes: one seeded random stream, the controls kept scene by scene."""

from __future__ import annotations

import math
import random
from collections.abc import Iterator
from functools import partial
from typing import Any

from pydantic import ValidationError

from simstage.generate import core
from simstage.generate.controls import Balance, intended_probes, pick
from simstage.generate.text import scenario_data, scene_text

MAX_TRIES = 2000
"""Stories drawn for one scene before giving up (a story lacking the probes asked for is redrawn);
a family with its own `compose` is called up to this many times."""
SLACK_AFTER = 100
"""Draws after which the false/true split of one scene may stray by one more probe per order."""


def family_options(family: core.Family, given: dict[str, Any]) -> Any:
    """The family's options from those given (the rest at their defaults).

    Raises:
        GenerateError: an option the family does not take, or a value out of range.
    """
    known = set(family.options.model_fields)
    for name in given:
        if name not in known:
            takes = ", ".join(f"--{n.replace('_', '-')}" for n in family.options.model_fields)
            raise core.GenerateError(
                f"{family.name} takes no --{name.replace('_', '-')} (it takes {takes})"
            )
    try:
        options: Any = family.options.model_validate(given)
    except ValidationError as exc:
        first = exc.errors()[0]
        name = str(first["loc"][0]).replace("_", "-") if first["loc"] else ""
        raise core.GenerateError(f"{family.name}: --{name}: {first['msg']}") from None
    if options.order > options.characters:
        raise core.GenerateError(
            f"{family.name}: order {options.order} asks along chains of {options.order} different characters;"
            f" give --characters {options.order} or more"
        )
    for order in range(1, options.order + 1):
        chains = math.perm(options.characters, order)
        if options.probes > chains:
            raise core.GenerateError(
                f"{family.name}: {options.probes} probes at order {order} need as many chains of different"
                f" characters, and {options.characters} characters make {chains}; give fewer --probes"
            )
    family.check(options)
    return options


def iter_scenes(
    family: core.Family, seed: int, options: core.FamilyOptions
) -> Iterator[core.GeneratedScene]:
    """The set's scenes, one after another, for as long as asked.

    Scene `i` depends on the seed, the options and the scenes before it, so the
    first `n` are the same whatever `n` is asked for.

    Raises:
        GenerateError: no story within `MAX_TRIES` draws has the probes the options ask for.
    """
    rng = random.Random(seed)
    balance = Balance()
    dumped = options.model_dump()
    index = 0
    compose = family.compose or partial(_object_scene, family)
    while True:
        for draw in range(MAX_TRIES):
            made = compose(rng, options, balance, draw // SLACK_AFTER)
            if made is not None:
                break
        else:
            raise core.GenerateError(
                f"{family.name}: no story in {MAX_TRIES} draws has {options.probes} probes per order up to"
                f" order {options.order}, false and true as balanced; try more --characters or fewer --probes"
            )
        probes, data = made
        balance.add(probes)
        header = core.SceneHeader(
            version=core.GENERATOR_VERSION,
            family=family.name,
            seed=seed,
            index=index,
            options=dumped,
            probes=probes,
        )
        yield core.GeneratedScene(
            f"{family.name}-s{seed}-{index:04d}.yaml", scene_text(header, data), header
        )
        index += 1


def _object_scene(
    family: core.Family,
    rng: random.Random,
    options: core.FamilyOptions,
    balance: Balance,
    slack: int,
) -> tuple[list[core.IntendedProbe], dict[str, Any]] | None:
    """One scene of a family about an object: its story, the probes the controls pick, the file's data."""
    assert family.story is not None
    story = family.story(rng, options)
    picked = pick(story, options, balance, rng, slack=slack)
    if picked is None:
        return None
    order, probes = intended_probes(story, picked, options, balance, rng)
    return probes, scenario_data(story, order, probes, rng.randrange(1, 1_000_000))


def generate_set(
    family: core.Family, n: int, seed: int, options: core.FamilyOptions
) -> list[core.GeneratedScene]:
    """`n` scenes of the family (see `iter_scenes`)."""
    scenes = iter_scenes(family, seed, options)
    return [next(scenes) for _ in range(n)]
