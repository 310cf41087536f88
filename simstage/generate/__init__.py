"""Generated families of scenes with their controls built in (`simstage generate`).

    from simstage.generate import generate
    scenes = generate("false-belief", n=50, seed=1, order=3, characters=4)
    scenes[0].file_name, scenes[0].text          # the scenario file
    scenes[0].probes[0].answer, .lower, .reality # what the generator intends, and the baselines' answers

Each family is one module with a `FAMILY` (`simstage.generate.core.Family`): its
options and how it writes one story; `core` turns stories into balanced probes
and `text` into files. A new family is one more module and one more entry in
`FAMILIES`.
"""

from __future__ import annotations

from typing import Any

from simstage.generate import deception, false_belief, secrets, sycophancy
from simstage.generate.check import BalanceTable, balance_table, render_table, with_tracker
from simstage.generate.core import (
    GENERATOR_VERSION,
    Family,
    FamilyOptions,
    GeneratedScene,
    GenerateError,
    IntendedProbe,
    SceneHeader,
)
from simstage.generate.scenes import family_options, generate_set
from simstage.generate.text import read_header

__all__ = [
    "FAMILIES", "GENERATOR_VERSION", "BalanceTable", "Family", "FamilyOptions", "GenerateError",
    "GeneratedScene", "IntendedProbe", "SceneHeader", "balance_table", "family", "generate", "read_header",
    "render_table", "with_tracker",
]  # fmt: skip

FAMILIES: dict[str, Family] = {
    module.FAMILY.name: module.FAMILY for module in (false_belief, deception, secrets, sycophancy)
}
"""Every family, by name."""


def family(name: str) -> Family:
    """The family called `name`.

    Raises:
        GenerateError: no such family (the message lists them).
    """
    try:
        return FAMILIES[name]
    except KeyError:
        raise GenerateError(f"no scene family {name!r} (families: {', '.join(FAMILIES)})") from None


def generate(name: str, n: int, seed: int, **options: Any) -> list[GeneratedScene]:
    """`n` scenes of a family, the same bytes for the same seed and options.

    Args:
        name: the family (`false-belief`, `deception`, `secrets`, `sycophancy`).
        n: how many scenes.
        seed: the set's seed.
        options: the family's options (`order`, `characters`, ...); the rest keep their defaults.

    Returns:
        The scenes, in order; the first `k` are the same whatever `n` is.

    Raises:
        GenerateError: an unknown family or option, a value out of range, or options no story satisfies.
    """
    chosen = family(name)
    return generate_set(chosen, n, seed, family_options(chosen, options))
