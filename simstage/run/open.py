"""Opening a run: the stage for a scenario, the log header, the log, the simulation and its printer."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from rich.console import Console

from simstage.engine import Simulation
from simstage.render import TranscriptPrinter
from simstage.latent.store import LatentStore
from simstage.run.log import RunHeader, RunLog, RunLogWriter, StageInfo, with_latent
from simstage.scenario import LoadedScenario, load_scenario
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
    api_base: str | list[str] | None = None,
) -> Stage:
    """The stage for a scenario, with command-line overrides."""
    scenario = loaded.scenario
    config = scenario.stage
    if api_base is not None:
        config = config.model_copy(update={"api_base": api_base})
    latent = scenario.latent.layers if scenario.latent is not None else None
    return make_stage(
        config,
        latent_layers=latent,
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
        latent=loaded.scenario.latent.model_dump() if loaded.scenario.latent is not None else None,
    )


class LogSink:
    """Where a simulation's events go: the current run log (a fork swaps in a new one)."""

    def __init__(self, writer: RunLogWriter):
        self.writer = writer

    def __call__(self, event: Any) -> None:
        self.writer.append(event)


def new_run(
    loaded: LoadedScenario,
    stage: Stage,
    out: str | Path,
    *,
    seed: int | None = None,
    max_turns: int | None = None,
    overwrite: bool = False,
    puppeteer: Any = None,
) -> tuple[LogSink, Simulation]:
    """Write a new run's log header and build its simulation, which writes every event there.

    Close `sink.writer` when the run is over.

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
    sink = LogSink(writer)
    store = LatentStore(out) if scenario.latent is not None else None
    simulation = Simulation(
        scenario, stage, seed=run_seed, max_turns=turns, sink=sink, puppeteer=puppeteer, latent_store=store
    )
    return sink, simulation


@contextmanager
def open_run(
    scenario_path: str | Path | LoadedScenario,
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
    api_base: str | None = None,
    latent: bool = False,
) -> Iterator[RunSession]:
    """Load, build the stage, open the run log; close everything on the way out.

    With `interactive`, the person at the keyboard is the puppeteer (stdin prompts); with
    `latent`, the stage's activations at each probe are captured (`simstage/latent/`).
    `scenario_path` may be a scenario already loaded (a sweep's variant of one).

    Raises:
        ScenarioError: the scenario is invalid.
        StageError: the stage cannot start.
    """
    if isinstance(scenario_path, LoadedScenario):
        loaded = scenario_path
    else:
        loaded = load_scenario(scenario_path)
    if latent:
        loaded = with_latent(loaded)
    stage = build_stage(loaded, backend=backend, model=model, threads=threads, api_base=api_base)
    try:
        puppeteer = None
        if interactive:
            from simstage.puppeteer.human import HumanPuppeteer

            puppeteer = HumanPuppeteer()
        sink, simulation = new_run(
            loaded, stage, out, seed=seed, max_turns=max_turns, overwrite=overwrite, puppeteer=puppeteer
        )
        with sink.writer:
            yield RunSession(loaded, stage, simulation, sink.writer, printer_for(simulation, console))
    finally:
        stage.close()


def printer_for(simulation: Simulation, console: Console | None) -> TranscriptPrinter | None:
    """A transcript printer subscribed to `simulation`, when there is a console to print on."""
    if console is None:
        return None
    printer = TranscriptPrinter(console, simulation.scenario)
    simulation.subscribe(printer)
    return printer


def stage_for_log(log: RunLog, loaded: LoadedScenario, *, threads: int | None = None) -> Stage:
    """The stage a logged run played on (backend, model, server from its header), to play it again.

    Raises:
        StageError: the stage cannot start, or its model file is not the one the run used.
    """
    played = log.header.stage
    stage = build_stage(
        loaded, backend=played.backend, model=played.model, threads=threads, api_base=played.api_base
    )
    here = stage.describe().get("model_sha256")
    if played.model_sha256 and here != played.model_sha256:
        stage.close()
        raise StageError(
            f"{log.path}: the model {played.model!r} here is not the one the run used "
            f"(sha256 {(here or '?')[:12]}… vs {played.model_sha256[:12]}…)"
        )
    return stage
