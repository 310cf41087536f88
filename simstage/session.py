"""Wiring a run together: scenario, stage, run log, subscribers; and verifying a log."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from rich.console import Console

from simstage.engine import Simulation
from simstage.render import TranscriptPrinter
from simstage.runlog import RunHeader, RunLog, RunLogWriter, StageInfo
from simstage.scenario import LoadedScenario, load_scenario, parse_scenario
from simstage.stage import Stage, StageError, make_stage

SPARE_SEQUENCES = 24
"""Sequences beyond one per character: probes, their options, candidates, forks."""


@dataclass
class RunSession:
    """A live run: its simulation, log writer and printer."""

    loaded: LoadedScenario
    stage: Stage
    simulation: Simulation
    writer: RunLogWriter
    printer: TranscriptPrinter | None


def build_stage(
    loaded: LoadedScenario,
    *,
    backend: str | None = None,
    model: str | None = None,
    threads: int | None = None,
) -> Stage:
    """The stage for a scenario, with command-line overrides."""
    scenario = loaded.scenario
    return make_stage(
        scenario.stage,
        backend=backend,
        model=model,
        base_dir=Path(loaded.path).parent,
        n_seq_max=min(256, len(scenario.cast) + SPARE_SEQUENCES),
        n_threads=threads,
    )


def make_header(loaded: LoadedScenario, stage: Stage, seed: int, max_turns: int) -> RunHeader:
    """The run log header for a run of `loaded` on `stage`."""
    config = loaded.scenario.stage
    return RunHeader(
        scenario_path=loaded.path,
        scenario_sha256=loaded.sha256,
        scenario_text=loaded.text,
        stage=StageInfo(**stage.describe()),
        seed=seed,
        sampling={
            "temperature": config.temperature,
            "top_p": config.top_p,
            "max_tokens": config.max_tokens,
            "n_ctx": config.n_ctx,
        },
        max_turns=max_turns,
    )


def open_runlog(
    loaded: LoadedScenario,
    stage: Stage,
    out: str | Path,
    *,
    seed: int | None = None,
    max_turns: int | None = None,
    overwrite: bool = False,
) -> tuple[RunLogWriter, int, int]:
    """Write a run's header and return the open writer, with the run's seed and turn count.

    Raises:
        StageError: the run log exists (without `overwrite`) or cannot be written.
    """
    scenario = loaded.scenario
    run_seed = scenario.seed if seed is None else seed
    turns = max_turns or scenario.max_turns
    header = make_header(loaded, stage, run_seed, turns)
    try:
        writer = RunLogWriter(out, header, overwrite=overwrite)
    except FileExistsError:
        raise StageError(f"{out} exists; choose another --out or pass --force") from None
    except OSError as exc:
        raise StageError(f"cannot write run log {out}: {exc.strerror}") from None
    return writer, run_seed, turns


@contextmanager
def open_run(
    scenario_path: str | Path,
    out: Path,
    *,
    backend: str | None = None,
    model: str | None = None,
    seed: int | None = None,
    max_turns: int | None = None,
    threads: int | None = None,
    overwrite: bool = False,
    console: Console | None = None,
    interactive: bool = False,
) -> Iterator[RunSession]:
    """Load, build the stage, open the run log; close everything on the way out.

    With `interactive`, the person at the keyboard is the puppeteer (stdin prompts).

    Raises:
        ScenarioError: the scenario is invalid.
        StageError: the stage cannot start.
    """
    loaded = load_scenario(scenario_path)
    scenario = loaded.scenario
    stage = build_stage(loaded, backend=backend, model=model, threads=threads)
    try:
        writer, run_seed, turns = open_runlog(
            loaded, stage, out, seed=seed, max_turns=max_turns, overwrite=overwrite
        )
        with writer:
            puppeteer = None
            if interactive:
                from simstage.puppeteer.human import HumanPuppeteer

                puppeteer = HumanPuppeteer()
            simulation = Simulation(
                scenario, stage, seed=run_seed, max_turns=turns, sink=writer.append, puppeteer=puppeteer
            )
            printer = None
            if console is not None:
                printer = TranscriptPrinter(console, scenario.cast_names)
                simulation.subscribe(printer)
            yield RunSession(loaded, stage, simulation, writer, printer)
    finally:
        stage.close()


@dataclass(frozen=True)
class VerifyReport:
    """Whether a re-run reproduced a log."""

    matched: bool
    compared: int
    message: str


def _comparable(event: Any) -> dict[str, Any]:
    return event.model_dump()


def verify_run(log: RunLog, *, threads: int | None = None, console: Console | None = None) -> VerifyReport:
    """Re-run a logged scene with the same model and seed and compare every event.

    Raises:
        StageError: the model is missing or is not the one the log names.
    """
    header = log.header
    loaded = parse_scenario(header.scenario_text, header.scenario_path)
    backend = header.stage.backend
    stage = build_stage(loaded, backend=backend, model=header.stage.model, threads=threads)
    try:
        described = stage.describe()
        expected_sha = header.stage.model_sha256
        if expected_sha and described.get("model_sha256") != expected_sha:
            raise StageError(
                f"the model {header.stage.model!r} here is not the one the run used "
                f"(sha256 {described.get('model_sha256', '?')[:12]}… vs {expected_sha[:12]}…)"
            )
        original = [e for e in log.events if getattr(e, "type", None) != "run_ended"]
        simulation = Simulation(loaded.scenario, stage, seed=header.seed, max_turns=header.max_turns)
        if console is not None:
            console.print(f"[dim]verifying: re-running {len(original)} events on the {backend} stage…[/]")
        while not simulation.done and len(simulation.events) < len(original):
            simulation.step()
        replayed = simulation.events
        for index, expected in enumerate(original):
            if index >= len(replayed):
                return VerifyReport(
                    False, index, f"verify: MISMATCH — the re-run stopped after {index} events"
                )
            if _comparable(expected) != _comparable(replayed[index]):
                return VerifyReport(
                    False,
                    index,
                    f"verify: MISMATCH at event {index + 1} (log line {index + 2}):\n"
                    f"  logged:   {expected.model_dump_json()}\n"
                    f"  re-run:   {replayed[index].model_dump_json()}",
                )
        return VerifyReport(True, len(original), f"verify: match ({len(original)} events)")
    finally:
        stage.close()
