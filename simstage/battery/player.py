"""One load per model: every run of a model plays on one loaded stage, restarted between runs.

Loading a model costs seconds (an 8B GGUF, tens of them); a battery's runs come
model by model, so each model is loaded at its first run and closed after its
last. Between two runs the stage is restarted (`Restart`: every sequence
dropped, the stage as it was just loaded), so each run plays exactly as it would
on a fresh stage and its log `replay --verify`s. A stage that remembers calls and
cannot be restarted is loaded afresh for each run instead.
"""

from __future__ import annotations

import threading
from pathlib import Path

from simstage.run.open import build_stage
from simstage.scenario import LoadedScenario
from simstage.stage.abilities import Restart
from simstage.stage.base import ClosableStage
from simstage.sweep.plan import PlannedRun, SweepPlan
from simstage.sweep.runner import RunOutcome, play_run


class LoadedModels:
    """The stage of the model playing now: loaded at its first run, restarted between its runs.

    Args:
        plan: the battery's plan (each run's `model` setting names its model).
        threads: CPU threads for the llama stage.
    """

    def __init__(self, plan: SweepPlan, *, threads: int | None = None):
        self.threads = threads
        self._largest: dict[str, LoadedScenario] = {}
        for run in plan.runs:
            model = str(run.settings["model"])
            kept = self._largest.get(model)
            # The stage keeps a sequence per character and spares: size it for the largest cast.
            if kept is None or len(run.variant.loaded.scenario.cast) > len(kept.scenario.cast):
                self._largest[model] = run.variant.loaded
        self._model: str | None = None
        self._stage: ClosableStage | None = None
        self.loads = 0
        """Stages loaded so far."""
        self.restarts = 0
        """Runs that played on a stage restarted after an earlier run."""
        self._lock = threading.Lock()

    def stage_for(self, run: PlannedRun) -> ClosableStage:
        """The loaded stage of `run`'s model, as it was just loaded.

        Raises:
            StageError: the model cannot be loaded.
        """
        model = str(run.settings["model"])
        with self._lock:
            stage = self._stage
            if stage is not None and self._model == model:
                restart = stage.ability(Restart)
                if restart is not None:
                    restart.restart()
                    self.restarts += 1
                    return stage
                if not stage.describe().remembers_calls:
                    self.restarts += 1
                    return stage
            self._close()
            stage = build_stage(self._largest[model], threads=self.threads)
            self._stage, self._model = stage, model
            self.loads += 1
            return stage

    def _close(self) -> None:
        if self._stage is not None:
            stage, self._stage, self._model = self._stage, None, None
            stage.close()

    def close(self) -> None:
        """Close the stage loaded now, if any."""
        with self._lock:
            self._close()


def play_on_loaded(
    models: LoadedModels,
    run: PlannedRun,
    out: Path,
    stop: threading.Event,
    *,
    max_turns: int | None = None,
) -> RunOutcome:
    """Play one run of a battery on its model's loaded stage (`play_run` with that stage)."""
    return play_run(run, out, stop, max_turns=max_turns, loaded_stage=models.stage_for)
