"""`simstage validate` and `simstage schema`: check scenario files, print their JSON schema."""

from __future__ import annotations

import json
from pathlib import Path

import click

from simstage.cli.errors import EXIT_BAD_INPUT, fail, stderr_console


def _scenario_files(paths: tuple[str, ...]) -> list[Path]:
    files: list[Path] = []
    for raw in paths:
        path = Path(raw)
        if path.is_dir():
            files.extend(sorted(p for p in path.iterdir() if p.suffix in (".yaml", ".yml")))
        else:
            files.append(path)
    return files


@click.command()
@click.argument("paths", nargs=-1, required=True, type=click.Path())
def validate(paths: tuple[str, ...]) -> None:
    """Check scenario files (or every .yaml in a folder, not in its subfolders).

    Prints one line per problem as FILE:LINE:COL: field.path: message and exits
    with status 2 if any file has a problem; exits 0 when all are valid.
    """
    from simstage.scenario import ScenarioError, load_scenario
    from simstage.terminal import printable

    files = _scenario_files(paths)
    if not files:
        deeper = [raw for raw in paths if Path(raw).is_dir() and any(Path(raw).glob("*/*.y*ml"))]
        hint = (
            f" (subfolders are not searched: name them, e.g. {deeper[0].rstrip('/')}/*/)"
            if deeper
            else ""
        )
        fail("no scenario files found in " + ", ".join(paths) + hint)
    console = stderr_console()
    bad = 0
    for path in files:
        try:
            load_scenario(path)
        except ScenarioError as exc:
            bad += 1
            for problem in exc.problems:
                console.print(printable(str(problem)), markup=False)
    if bad:
        console.print(f"{bad} of {len(files)} scenario files have problems", markup=False)
        raise SystemExit(EXIT_BAD_INPUT)
    click.echo(f"{len(files)} scenario file{'s' if len(files) != 1 else ''} valid")


@click.command()
def schema() -> None:
    """Print the JSON schema of scenario files."""
    from simstage.scenario import scenario_json_schema

    click.echo(json.dumps(scenario_json_schema(), indent=2))
