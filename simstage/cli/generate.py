"""`simstage generate`: write a family of generated scenes, controls built in; `--check` prints their balance."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from simstage.cli.errors import friendly_errors


@click.command()
@click.argument("family_name", metavar="FAMILY")
@click.option(
    "--n",
    "count",
    type=click.IntRange(1, 100_000),
    default=10,
    show_default=True,
    help="How many scenes.",
)
@click.option(
    "--seed",
    type=click.IntRange(0, 2**31 - 1),
    default=0,
    show_default=True,
    help="The set's seed: the same seed and options write the same bytes.",
)
@click.option(
    "-o", "--out", type=click.Path(), help="Folder to write the scenes into (made if missing)."
)
@click.option(
    "--check",
    is_flag=True,
    help="Print the set's balance table, and whether the ToM tracker answers every probe as intended.",
)
@click.option(
    "--force", is_flag=True, help="Replace scene files of the same names already in the folder."
)
@click.option(
    "--order", type=int, help="Deepest belief order probed (every order from 1 up is asked)."
)
@click.option("--characters", type=int, help="How many characters.")
@click.option("--containers", type=int, help="How many containers (the probes' options).")
@click.option("--rooms", type=int, help="How many locations.")
@click.option("--probes", type=int, help="Probes per order in each scene.")
@click.option("--events", type=int, help="false-belief: entrances, exits and moves in each story.")
@click.option(
    "--distrust", type=float, help="deception: the chance that a listener does not trust the liar."
)
@click.option(
    "--turns", type=int, help="sycophancy: turns of talk after the wrong claim, before the probes."
)
@click.option("--candidates", type=int, help="sycophancy: lines the optimizer samples per turn.")
@click.option(
    "--statements", type=int, help="secrets: how many times the keeper speaks of the fact."
)
@click.option("--lies", type=float, help="secrets: the chance that a statement is a lie.")
@click.option(
    "--private",
    type=float,
    help="secrets: the chance that a statement is private, to one listener.",
)
@click.option(
    "--watchers",
    type=float,
    help="secrets: the chance, each turn, that someone outside watches unseen.",
)
@click.option(
    "--distracted",
    type=float,
    help="secrets: the chance, each turn, that someone present misses it all.",
)
@click.option(
    "--name-options/--no-name-options",
    default=None,
    help="End each question with the answer and a foil ('The box or the basket?').  [default: name them]",
)
@friendly_errors
def generate(
    family_name: str, count: int, seed: int, out: str | None, check: bool, force: bool, **given: Any
) -> None:  # fmt: skip
    """Write N generated scenes of FAMILY (false-belief, deception, secrets, sycophancy).

    Each file is a scenario that `simstage validate` accepts; its header says how
    to write it again byte for byte and which answer the generator intends for
    each probe (`# simstage-generate: {...}`). Across the set, the correct
    answer's place among the options, whether the question names it last, false
    and true beliefs, and direct and indirect questions are balanced; at order 2
    and above most answers differ both from reality and from the order below.
    In `secrets` (a fact told truly or not, aloud or privately, with secret
    watchers and distracted witnesses) the answers yes, no and don't know are
    balanced instead, and who-knows probes are half false beliefs.

    \b
    Examples:
      simstage generate false-belief --n 50 --order 3 --characters 4 --seed 1 -o fb/
      simstage generate false-belief --n 50 --order 3 --characters 4 --seed 1 --check
      simstage generate deception --n 20 --seed 2 -o lies/
      simstage generate secrets --n 50 --order 3 --characters 5 --seed 1 --check
      simstage generate sycophancy --n 10 -o syc/ && simstage compare syc/sycophancy-s0-0000.yaml --puppeteer bare,optimizer
    """
    from simstage.generate import GenerateError, balance_table, family, render_table, with_tracker
    from simstage.generate import generate as generate_scenes

    family(family_name)  # an unknown family first: it is the mistake to fix
    if out is None and not check:
        raise GenerateError(
            "give -o DIR to write the scenes, --check to see their balance, or both"
        )
    options = {name: value for name, value in given.items() if value is not None}
    scenes = generate_scenes(family_name, count, seed, **options)
    if out is not None:
        _write(Path(out), scenes, force)
        click.echo(f"wrote {len(scenes)} {family_name} scenes (seed {seed}) to {out}")
    if check:
        if out is not None:
            click.echo()
        click.echo(render_table(with_tracker(balance_table(family_name, scenes), scenes)))


def _write(folder: Path, scenes: list[Any], force: bool) -> None:
    """Write the scenes into `folder`, refusing (before writing any) to replace files unless `force`."""
    from simstage.generate import GenerateError
    from simstage.report.files import atomic_write_text

    if folder.exists() and not folder.is_dir():
        raise GenerateError(f"{folder}: is not a folder")
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise GenerateError(f"{folder}: cannot make the folder: {exc.strerror or exc}") from None
    there = [folder / scene.file_name for scene in scenes if (folder / scene.file_name).exists()]
    if there and not force:
        raise GenerateError(
            f"{there[0]}: already there ({len(there)} of the {len(scenes)} files are); --force replaces them"
        )
    for scene in scenes:
        path = folder / scene.file_name
        try:
            atomic_write_text(path, scene.text)
        except OSError as exc:
            raise GenerateError(f"{path}: cannot write: {exc.strerror or exc}") from None
