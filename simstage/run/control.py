"""The step controller: play, pause, step and stop a run on the one thread that owns it, UI-free.

Whoever drives a run (the TUI, a script) submits jobs and flips flags from its
own thread; the controller's `loop` runs on the owner thread and is the only
code that touches the simulation. `stop` sets the simulation's cancel token,
which the engine checks between generated chunks, so a long line ends at once.
Subclasses hear what happens through the `on_*` hooks (the TUI posts messages).
"""

from __future__ import annotations

import queue
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from simstage.engine import RunCancelled, Simulation
from simstage.stage import Stage, StageError
from simstage.stage.abilities import counters


@dataclass
class Job:
    """Work for the owner thread, with a label for a status line."""

    label: str
    run: Callable[[], Any]


class StepController:
    """Runs queued jobs, and turns while playing, until stopped.

    Args:
        simulation: the run; only the owner thread (the one in `loop`) touches it.
        stage: its stage (for token counts).
    """

    def __init__(self, simulation: Simulation, stage: Stage):
        self.simulation = simulation
        self.stage = stage
        self.jobs: queue.Queue[Job] = queue.Queue()
        self.running = threading.Event()
        self.stopping = threading.Event()
        self.busy = False
        self.loop_done = threading.Event()
        self.started = False
        self._finish_lock = threading.Lock()

    # -- from any thread ---------------------------------------------------

    def submit(self, label: str, run: Callable[[], Any]) -> None:
        """Queue work for the owner thread."""
        self.jobs.put(Job(label, run))

    def play(self) -> None:
        """Play turns one after another."""
        self.running.set()

    def pause(self) -> None:
        """Stop after the current turn."""
        self.running.clear()

    def step(self) -> None:
        """Pause, then play exactly one turn."""
        self.running.clear()
        self.submit("turn", self.simulation.step)

    def stop(self) -> None:
        """End the run: the current line is cut short and the loop returns."""
        self.running.clear()
        self.stopping.set()
        self.simulation.cancel.set()

    # -- the owner thread -----------------------------------------------------

    def loop(self, cancelled: Callable[[], bool] = lambda: False) -> None:
        """Run queued jobs, and turns while playing, until stopped (or `cancelled()`)."""
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
                        self.on_finished()
                        continue
                    job = Job("turn", self.simulation.step)
                self._run(job)
        finally:
            self.finish("interrupted")
            self.loop_done.set()

    def _run(self, job: Job) -> None:
        self.busy = True
        self.on_busy(True, job.label)
        meter = counters(self.stage)
        before = meter.generated_tokens
        started = time.perf_counter()
        try:
            job.run()
        except RunCancelled:
            return
        except StageError as exc:
            self.running.clear()
            self.on_failed(str(exc))
        except Exception as exc:
            self.running.clear()
            self.on_failed(f"{type(exc).__name__}: {exc}")
        finally:
            self.busy = False
        self.on_job_done(meter.generated_tokens - before, time.perf_counter() - started)
        self.on_busy(False, job.label)

    def finish(self, reason: str) -> None:
        """Record the end of the run once (no-op if it has ended)."""
        with self._finish_lock:
            if self.simulation.finished:
                return
            try:
                self.simulation.finish(
                    reason, "stopped by the user" if reason == "interrupted" else ""
                )
            except Exception:
                return

    # -- hooks -------------------------------------------------------------------

    def on_busy(self, busy: bool, label: str) -> None:
        """A job started or ended."""

    def on_failed(self, message: str) -> None:
        """A job failed; playing has paused."""

    def on_finished(self) -> None:
        """The scene played its last turn."""

    def on_job_done(self, tokens: int, seconds: float) -> None:
        """A job ended, having generated `tokens` in `seconds`."""
