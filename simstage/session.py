"""Wiring a run together: scenario, stage, run log, subscribers; and verifying a log."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from rich.console import Console

from simstage.engine import Simulation
from simstage.render import TranscriptPrinter
from simstage.runlog import RunHeader, RunLog, RunLogError, RunLogWriter, StageInfo
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
    api_base: str | list[str] | None = None,
) -> Stage:
    """The stage for a scenario, with command-line overrides."""
    scenario = loaded.scenario
    config = scenario.stage
    if api_base is not None:
        config = config.model_copy(update={"api_base": api_base})
    return make_stage(
        config,
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
) -> Iterator[RunSession]:
    """Load, build the stage, open the run log; close everything on the way out.

    With `interactive`, the person at the keyboard is the puppeteer (stdin prompts).
    `scenario_path` may be a scenario already loaded (a sweep's variant of one).

    Raises:
        ScenarioError: the scenario is invalid.
        StageError: the stage cannot start.
    """
    if isinstance(scenario_path, LoadedScenario):
        loaded = scenario_path
    else:
        loaded = load_scenario(scenario_path)
    scenario = loaded.scenario
    stage = build_stage(loaded, backend=backend, model=model, threads=threads, api_base=api_base)
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
            yield RunSession(loaded, stage, simulation, writer, _printer(simulation, console))
    finally:
        stage.close()


def _printer(simulation: Simulation, console: Console | None) -> TranscriptPrinter | None:
    """A transcript printer subscribed to `simulation`, when there is a console to print on."""
    if console is None:
        return None
    printer = TranscriptPrinter(console, simulation.scenario.cast_names)
    simulation.subscribe(printer)
    return printer


def resumable_events(log: RunLog, scenario: Any) -> tuple[list[Any], str]:
    """The events a resumed run continues from, and how the run had stopped.

    The run's end marker goes, and so does every event of its last turn unless
    that turn finished (its line ended and all its probes were answered) before
    the scene's final turn: an unfinished turn is played again from its start.

    Raises:
        RunLogError: the run completed; there is nothing to resume.
    """
    events = list(log.events)
    previous = "cut off"
    while events and getattr(events[-1], "type", None) == "run_ended":
        end = events.pop()
        if end.reason == "completed":
            raise RunLogError(f"{log.path}: the run completed at turn {end.turn}; nothing to resume")
        previous = end.reason + (f": {end.message}" if end.message else "")
    last = max((getattr(e, "turn", 0) for e in events), default=0)
    if last == 0:
        return events, previous
    turn_events = [e for e in events if getattr(e, "turn", 0) == last]
    probes_due = sum(1 for probe in scenario.probes if probe.at == last)
    finished = (
        last < (log.header.max_turns or scenario.max_turns)
        and any(getattr(e, "type", None) == "turn_ended" for e in turn_events)
        and sum(1 for e in turn_events if getattr(e, "type", None) == "probe") >= probes_due
    )
    if not finished:
        events = [e for e in events if getattr(e, "turn", 0) != last]
    return events, previous


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


def _next_backup(path: Path) -> Path:
    for index in range(1, 10_000):
        candidate = path.with_name(f"{path.name}.before-resume-{index}")
        if not candidate.exists():
            return candidate
    raise StageError(f"too many backups of {path}")  # pragma: no cover


@contextmanager
def resume_run(
    path: str | Path,
    *,
    threads: int | None = None,
    max_turns: int | None = None,
    console: Console | None = None,
) -> Iterator[RunSession]:
    """Continue an interrupted or failed run, appending to its own log.

    The scenario, stage, seed and turn count come from the log's header. When
    events of an unfinished turn (or a cut last line) must be set aside, the log
    as it was is kept beside it as `RUN.jsonl.before-resume-N` first; the log
    itself is rewritten atomically, so a crash while resuming loses nothing.

    Raises:
        RunLogError: unreadable log, or a run that already completed.
        ScenarioError: the header's scenario is invalid.
        StageError: the stage cannot start.
    """
    from simstage.events import RunResumed
    from simstage.runlog import read_runlog

    path = Path(path)
    log = read_runlog(path)
    header = log.header
    loaded = parse_scenario(header.scenario_text, header.scenario_path)
    scenario = loaded.scenario
    events, previous = resumable_events(log, scenario)
    discarded = len(log.events) - len(events)
    stage = stage_for_log(log, loaded, threads=threads)
    try:
        backup = None
        if discarded or log.warnings:
            backup = _next_backup(path)
            backup.write_bytes(path.read_bytes())
            kept = path.with_name(path.name + ".resuming")
            with RunLogWriter(kept, header, overwrite=True) as rewrite:
                for event in events:
                    rewrite.append(event)
            os.replace(kept, path)
        turns = max_turns or header.max_turns
        try:
            writer = RunLogWriter(path, header, resume=True)
        except OSError as exc:
            raise RunLogError(f"{path}: cannot append: {exc.strerror}") from None
        with writer:
            simulation = Simulation(
                scenario, stage, seed=header.seed, max_turns=turns, sink=writer.append, events=events
            )
            simulation.emit(
                RunResumed(
                    turn=simulation.turn, previous=previous, discarded=discarded,
                    backup=str(backup) if backup else None,
                )
            )
            yield RunSession(loaded, stage, simulation, writer, _printer(simulation, console))
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
    stage = stage_for_log(log, loaded, threads=threads)
    try:
        original = [e for e in log.events if getattr(e, "type", None) not in ("run_ended", "run_resumed")]
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
