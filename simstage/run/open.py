"""Opening a run, the one way every path does it: the stage for a scenario, the log header, the
simulation on a new log, a continued log or in memory, and its printer.

`open_simulation` is the only place a `Simulation` is built (a test holds it to that), and with
it the activation store beside the log and the check that a new log's path is free: a run feature
is added here once for the headless run, the TUI, resume, verify, sweeps, compare and prompt.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from rich.console import Console

from simstage.engine import Simulation
from simstage.latent.store import LatentStore
from simstage.puppeteer import Puppeteer
from simstage.render import TranscriptPrinter
from simstage.run.log import RunHeader, RunLog, RunLogError, RunLogWriter, StageInfo, with_latent
from simstage.scenario import LoadedScenario, load_scenario
from simstage.scenario.models import Scenario
from simstage.stage import ClosableStage, Stage, StageError, config_for, make_stage

SPARE_SEQUENCES = 24
"""Sequences beyond one per character: probes, their options, candidates, forks."""


def build_stage(
    loaded: LoadedScenario,
    *,
    backend: str | None = None,
    model: str | None = None,
    threads: int | None = None,
    api_base: str | list[str] | None = None,
    vocab_only: bool = False,
) -> ClosableStage:
    """The stage for a scenario, with command-line overrides (`vocab_only`: its tokenizer and template only)."""
    scenario = loaded.scenario
    config = scenario.stage
    if api_base is not None:  # a server: an option of the litellm stage, so switch to it first
        config = config_for(config, backend, api_base=api_base)
    latent = scenario.latent.layers if scenario.latent is not None and not vocab_only else None
    return make_stage(
        config,
        latent_layers=latent,
        backend=backend,
        model=model,
        base_dir=Path(loaded.path).parent,
        n_seq_max=min(256, len(scenario.cast) + SPARE_SEQUENCES),
        n_threads=threads,
        vocab_only=vocab_only,
    )


def make_header(loaded: LoadedScenario, stage: Stage, seed: int, max_turns: int) -> RunHeader:
    """The run log header for a run of `loaded` on `stage`."""
    config = loaded.scenario.stage
    return RunHeader(
        scenario_path=loaded.path,
        scenario_sha256=loaded.sha256,
        scenario_text=loaded.text,
        stage=StageInfo(**stage.describe().recorded()),
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


def claim_log(path: Path, *, overwrite: bool = False) -> None:
    """Refuse a new run log's path that is taken (unless `overwrite`), before anything slow starts.

    Raises:
        StageError: `path` exists and `overwrite` is off.
    """
    if not overwrite and (path.exists() or path.is_symlink()):
        raise StageError(_taken(path))


def _taken(path: Path) -> str:
    return f"{path} exists; choose another --out or pass --force to overwrite it"


@dataclass(frozen=True)
class LogFile:
    """A run log the events go to, one line each, after `header`."""

    path: Path
    header: RunHeader
    """The run's header: the simulation takes its seed and turn count from it."""
    how: Literal["new", "overwrite", "append"] = "new"
    """`new` refuses a file that exists; `append` continues a log that holds `kept` events (resume)."""
    kept: int = 0


class LogSink:
    """Where a simulation's events go: the current run log (a fork swaps in a new one)."""

    def __init__(self, writer: RunLogWriter):
        self.writer = writer

    def __call__(self, event: Any) -> None:
        self.writer.append(event)


@dataclass(frozen=True)
class OpenedSimulation:
    """A simulation, and the run log it writes to (None: in memory)."""

    simulation: Simulation
    sink: LogSink | None


def _writer(log: LogFile) -> RunLogWriter:
    try:
        return RunLogWriter(
            log.path,
            log.header,
            overwrite=log.how == "overwrite",
            resume=log.how == "append",
            kept=log.kept,
        )
    except FileExistsError:
        raise StageError(_taken(log.path)) from None
    except OSError as exc:
        if log.how == "append":
            raise RunLogError(f"{log.path}: cannot append: {exc.strerror}") from None
        raise StageError(f"cannot write run log {log.path}: {exc.strerror}") from None


def open_simulation(
    scenario: Scenario,
    stage: Stage,
    *,
    log: LogFile | None = None,
    seed: int | None = None,
    max_turns: int | None = None,
    puppeteer: Puppeteer | None = None,
    events: Iterable[Any] = (),
    sequences: Mapping[str, int] | None = None,
    metrics: bool | None = None,
    latent: bool = True,
) -> OpenedSimulation:
    """A simulation of `scenario` on `stage`, writing to `log` or kept in memory.

    Args:
        scenario: the scene (with a log, the one its header holds).
        stage: the model.
        log: the run log (its writer is open; close `sink.writer` when the run is over).
            Without one, the events stay in the simulation.
        seed: overrides the scenario's seed (in memory only: a log's header says it).
        max_turns: overrides the scenario's `max_turns` (in memory only, as `seed`).
        puppeteer: overrides the scenario's puppeteer.
        events: an earlier run's events to continue from.
        sequences: stage sequences already holding each seat's context (`run/resume.py`).
        metrics: record puppeteer metrics (default: the scenario's `puppeteer.metrics`).
        latent: capture activations where the scenario asks for them: to the sidecar beside
            the log (a new log's starts afresh), or in memory digests only (`replay --verify`).

    Raises:
        StageError: a new log exists (`how="new"`) or cannot be written.
        RunLogError: a log to append to cannot be opened.
        ValueError: `seed` or `max_turns` given with a log.
    """
    if log is not None and (seed is not None or max_turns is not None):
        raise ValueError("a run log's header gives the seed and turn count")
    writer = _writer(log) if log is not None else None
    try:
        store = None
        if latent and scenario.latent is not None:
            store = LatentStore(log.path if log else None, fresh=log is None or log.how != "append")
        sink = LogSink(writer) if writer is not None else None
        simulation = Simulation(
            scenario, stage, seed=log.header.seed if log else seed,
            max_turns=log.header.max_turns if log else max_turns, sink=sink, events=events,
            puppeteer=puppeteer, metrics=metrics, latent_store=store, sequences=sequences,
        )  # fmt: skip
    except BaseException:
        if writer is not None:
            writer.close()
        raise
    return OpenedSimulation(simulation, sink)


@dataclass
class RunSession:
    """A live run: its scenario, stage, simulation, log and printer."""

    loaded: LoadedScenario
    stage: ClosableStage
    simulation: Simulation
    sink: LogSink
    printer: TranscriptPrinter | None = None

    @property
    def writer(self) -> RunLogWriter:
        """The run log being written."""
        return self.sink.writer


def new_run(
    loaded: LoadedScenario,
    stage: ClosableStage,
    out: str | Path,
    *,
    seed: int | None = None,
    max_turns: int | None = None,
    overwrite: bool = False,
    puppeteer: Puppeteer | None = None,
) -> RunSession:
    """Write a new run's log header and open its simulation, which writes every event there.

    Close `session.writer` when the run is over.

    Raises:
        StageError: the run log exists (without `overwrite`) or cannot be written.
    """
    scenario = loaded.scenario
    run_seed = scenario.seed if seed is None else seed
    header = make_header(loaded, stage, run_seed, max_turns or scenario.max_turns)
    log = LogFile(Path(out), header, "overwrite" if overwrite else "new")
    opened = open_simulation(scenario, stage, log=log, puppeteer=puppeteer)
    assert opened.sink is not None
    return RunSession(loaded, stage, opened.simulation, opened.sink)


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
    """Check the log's path is free, load, build the stage, open the run log; close everything on the way out.

    With `interactive`, the person at the keyboard is the puppeteer (stdin prompts); with
    `latent`, the stage's activations at each probe are captured (`simstage/stage/capture.py`).
    `scenario_path` may be a scenario already loaded (a sweep's variant of one).

    Raises:
        ScenarioError: the scenario is invalid.
        StageError: the run log exists (without `overwrite`), or the stage cannot start.
    """
    claim_log(Path(out), overwrite=overwrite)
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
        session = new_run(
            loaded,
            stage,
            out,
            seed=seed,
            max_turns=max_turns,
            overwrite=overwrite,
            puppeteer=puppeteer,
        )
        try:
            session.printer = printer_for(session.simulation, console)
            yield session
        finally:
            session.writer.close()  # the log the run ends in (a fork swaps it)
    finally:
        stage.close()


def printer_for(simulation: Simulation, console: Console | None) -> TranscriptPrinter | None:
    """A transcript printer subscribed to `simulation`, when there is a console to print on."""
    if console is None:
        return None
    printer = TranscriptPrinter(console, simulation.scenario)
    printer.catch_up(simulation.events)  # a resumed run's events so far
    simulation.subscribe(printer)
    return printer


def stage_for_log(
    log: RunLog, loaded: LoadedScenario, *, threads: int | None = None
) -> ClosableStage:
    """The stage a logged run played on (backend, model, server from its header), to play it again.

    Raises:
        StageError: the stage cannot start, or its model file is not the one the run used.
    """
    played = log.header.stage
    stage = build_stage(
        loaded,
        backend=played.backend,
        model=played.model,
        threads=threads,
        api_base=played.api_base,
    )
    here = stage.describe().model_sha256
    if played.model_sha256 and here != played.model_sha256:
        stage.close()
        raise StageError(
            f"{log.path}: the model {played.model!r} here is not the one the run used "
            f"(sha256 {(here or '?')[:12]}… vs {played.model_sha256[:12]}…)"
        )
    return stage
