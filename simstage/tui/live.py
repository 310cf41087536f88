"""The live side of the TUI: a thin adapter over the run's step controller (`run/control.py`).

Nothing here touches widgets. The stage thread (the controller's loop) reports
through `post` (the app's thread-safe `post_message`); the UI thread only
submits jobs and plays, pauses, steps or stops, so the simulation is never
touched by two threads.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from simstage.cast.partial import PartialTurn, action_preview
from simstage.events import TurnStarted
from simstage.run.control import StepController
from simstage.run.fork import fork_log
from simstage.run.open import RunSession
from simstage.stage.abilities import TokenCounter
from simstage.tui import messages

Post = Callable[[Any], Any]


class _Bridge:
    """Simulation subscriber that forwards events, and the words of partial lines, as messages."""

    def __init__(self, live: LiveRun):
        self.live = live
        self._speaker = ""
        self._turn = PartialTurn()

    def on_event(self, event: Any) -> None:
        if isinstance(event, TurnStarted):
            self._speaker, self._turn = event.speaker, PartialTurn()
        self.live.post(messages.EventRecorded(event))

    def on_token(self, speaker: str, text: str) -> None:
        if speaker != self._speaker:
            self._speaker, self._turn = speaker, PartialTurn()
        turn = self._turn.feed(text)
        action = None if turn.action is None else action_preview(turn.action)
        self.live.post(messages.Streaming(speaker, turn.say, action))


class LiveRun(StepController):
    """A live TUI run: the step controller over an open run's simulation, reporting as app messages.

    Args:
        session: the run (`simstage.run.open`): its simulation writes to its sink's log.
    """

    def __init__(self, session: RunSession):
        super().__init__(session.simulation, session.stage)
        self._owned = session.stage
        self.loaded = session.loaded
        self.sink = session.sink
        self.post: Post = lambda message: None
        self.simulation.subscribe(_Bridge(self))

    @property
    def log_path(self) -> Path:
        """The run log being written."""
        return self.sink.writer.path

    def on_busy(self, busy: bool, label: str) -> None:
        self.post(messages.StageBusy(busy, label))

    def on_failed(self, message: str) -> None:
        self.post(messages.StageFailed(message))

    def on_finished(self) -> None:
        self.post(messages.RunStateChanged("finished"))

    def on_job_done(self, tokens: int, seconds: float) -> None:
        rate = None
        if self.stage.describe().backend != "scripted" and tokens and seconds > 0:
            rate = tokens / seconds
        self.post(messages.StageStats(rate, self.kv_use()))

    def kv_use(self) -> dict[str, int]:
        """Tokens held per character's sequence, where the stage can tell (stage thread only)."""
        use: dict[str, int] = {}
        counter = self.stage.ability(TokenCounter)
        if counter is None:
            return use
        for name, seq in dict(self.simulation._sequences).items():
            try:
                held = counter.kv_length(seq)
            except Exception:
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
        new = fork_log(self.sink.writer, self.simulation.events, self.simulation.turn)
        self.sink.writer = new
        self.post(messages.RunStateChanged("forked", str(new.path)))
        return new.path

    def close(self, timeout: float = 30.0) -> None:
        """End the run (if still open) and close the log and the stage.

        Waits up to `timeout` seconds for the stage thread to finish its job.
        """
        self.stop()
        if self.started:
            self.loop_done.wait(timeout)
        self.finish("interrupted")
        self.sink.writer.close()
        self._owned.close()
