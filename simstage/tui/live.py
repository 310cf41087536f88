"""The live side of the TUI: one stage thread owns the simulation and takes jobs from a queue.

Nothing here touches widgets. The stage thread reports through `post` (the
app's thread-safe `post_message`); the UI thread only submits jobs and flips
the run/pause/stop flags, so the simulation is never touched by two threads.
"""

from __future__ import annotations

import queue
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from simstage.engine import Simulation
from simstage.events import RunEnded
from simstage.runlog import RunLogWriter
from simstage.scenario import LoadedScenario
from simstage.session import make_header, open_runlog
from simstage.stage import Stage, StageError
from simstage.tui.messages import (
    EventRecorded,
    RunStateChanged,
    StageBusy,
    StageFailed,
    StageStats,
    Streaming,
)

Post = Callable[[Any], Any]


class StopRequested(Exception):
    """Raised inside a generation when the user quits, to end the turn early."""


class LogSink:
    """The run log the simulation writes to; a fork swaps in a new one."""

    def __init__(self, writer: RunLogWriter):
        self.writer = writer

    def __call__(self, event: Any) -> None:
        self.writer.append(event)


@dataclass
class Job:
    """Work for the stage thread, with a label for the status bar."""

    label: str
    run: Callable[[], Any]


class _Bridge:
    """Simulation subscriber that forwards events and partial lines as messages."""

    def __init__(self, live: LiveRun):
        self.live = live
        self._speaker = ""
        self._text = ""

    def on_event(self, event: Any) -> None:
        if getattr(event, "type", None) == "turn_started":
            self._speaker, self._text = event.speaker, ""
        self.live.post(EventRecorded(event))

    def on_token(self, speaker: str, text: str) -> None:
        if self.live.stopping.is_set():
            raise StopRequested
        if speaker != self._speaker:
            self._speaker, self._text = speaker, ""
        self._text += text
        self.live.post(Streaming(speaker, self._text))


class LiveRun:
    """A live run: the simulation, its run log, and the stage thread's job queue.

    Args:
        loaded: the scenario.
        stage: the model.
        simulation: plays the scenario; its sink must be `sink`.
        sink: the run log the simulation writes to.
    """

    def __init__(self, loaded: LoadedScenario, stage: Stage, simulation: Simulation, sink: LogSink):
        self.loaded = loaded
        self.stage = stage
        self.simulation = simulation
        self.sink = sink
        self.jobs: queue.Queue[Job] = queue.Queue()
        self.running = threading.Event()
        self.stopping = threading.Event()
        self.busy = False
        self.loop_done = threading.Event()
        self.started = False
        self._finish_lock = threading.Lock()
        self.post: Post = lambda message: None
        self.simulation.subscribe(_Bridge(self))

    @property
    def log_path(self) -> Path:
        """The run log being written."""
        return self.sink.writer.path

    def submit(self, label: str, run: Callable[[], Any]) -> None:
        """Queue work for the stage thread."""
        self.jobs.put(Job(label, run))

    def loop(self, cancelled: Callable[[], bool]) -> None:
        """The stage thread: run queued jobs, and turns while running, until stopped."""
        self.started = True
        try:
            while not (self.stopping.is_set() or cancelled()):
                try:
                    job = self.jobs.get(timeout=0.02)
                except queue.Empty:
                    if not self.running.is_set():
                        continue
                    if self.simulation.done:
                        self.running.clear()
                        self.simulation.finish("completed")
                        self.post(RunStateChanged("finished"))
                        continue
                    job = Job("turn", self.simulation.step)
                self._run(job)
        finally:
            self.finish("interrupted")
            self.loop_done.set()

    def _run(self, job: Job) -> None:
        self.busy = True
        self.post(StageBusy(True, job.label))
        before = self.stage.counters.generated_tokens
        started = time.perf_counter()
        try:
            job.run()
        except StopRequested:
            return
        except StageError as exc:
            self.running.clear()
            self.post(StageFailed(str(exc)))
        except Exception as exc:  # noqa: BLE001 - one bad job must not kill the stage thread
            self.running.clear()
            self.post(StageFailed(f"{type(exc).__name__}: {exc}"))
        finally:
            self.busy = False
        tokens = self.stage.counters.generated_tokens - before
        elapsed = time.perf_counter() - started
        rate = None
        if self.stage.backend != "scripted" and tokens and elapsed > 0:
            rate = tokens / elapsed
        self.post(StageStats(rate, self.kv_use()))
        self.post(StageBusy(False))

    def kv_use(self) -> dict[str, int]:
        """Tokens held per character's sequence, where the stage can tell (stage thread only)."""
        use: dict[str, int] = {}
        for name, seq in dict(self.simulation._sequences).items():  # noqa: SLF001
            try:
                held = self.stage.kv_length(seq)
            except Exception:  # noqa: BLE001 - a stat, never fatal
                continue
            if held is not None:
                use[name] = int(held)
        return use

    def fork(self) -> Path:
        """Continue this run in a new log holding every event so far (stage thread only).

        The old log records the end of the run with a note naming the fork.

        Returns:
            The new log's path.
        """
        old = self.sink.writer
        turn = self.simulation.turn
        stem = old.path.stem.split("-fork-")[0]
        index = 1
        while True:
            path = old.path.with_name(f"{stem}-fork-t{turn}-{index}.jsonl")
            if not path.exists():
                break
            index += 1
        header = old.header.model_copy(
            update={
                "forked_from": str(old.path),
                "created": datetime.now(UTC).isoformat(timespec="seconds"),
            }
        )
        new = RunLogWriter(path, header)
        for event in self.simulation.events:
            new.append(event)
        old.append(RunEnded(turn=turn, reason="interrupted", message=f"forked into {path}"))
        old.close()
        self.sink.writer = new
        self.post(RunStateChanged("forked", str(path)))
        return path

    def finish(self, reason: str) -> None:
        """Record the end of the run once (no-op if it has ended)."""
        with self._finish_lock:
            if self.simulation.finished:
                return
            try:
                self.simulation.finish(reason, "stopped by the user" if reason == "interrupted" else "")
            except Exception:  # noqa: BLE001 - the log may already be closed
                return

    def close(self, timeout: float = 30.0) -> None:
        """End the run (if still open) and close the log and the stage.

        Waits up to `timeout` seconds for the stage thread to finish its job.
        """
        self.stopping.set()
        if self.started:
            self.loop_done.wait(timeout)
        self.finish("interrupted")
        self.sink.writer.close()
        self.stage.close()


def open_live(
    loaded: LoadedScenario,
    stage: Stage,
    out: str | Path,
    *,
    seed: int | None = None,
    max_turns: int | None = None,
    overwrite: bool = False,
) -> LiveRun:
    """Open the run log and build the simulation for a live TUI run.

    Raises:
        StageError: the run log exists (without `overwrite`) or cannot be written.
    """
    writer, run_seed, turns = open_runlog(
        loaded, stage, out, seed=seed, max_turns=max_turns, overwrite=overwrite
    )
    sink = LogSink(writer)
    simulation = Simulation(loaded.scenario, stage, seed=run_seed, max_turns=turns, sink=sink)
    return LiveRun(loaded, stage, simulation, sink)
