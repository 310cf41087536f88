"""The simstage app: a live run (with controls) or a replay (with a turn scrubber).

Build it with `simstage.tui.factory.make_app` (live) or `make_replay_app` (a run
log); the CLI and the tests use the same factories.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from textual import work
from textual.app import App, ComposeResult
from textual.containers import Horizontal, Vertical
from textual.widgets import Footer
from textual.worker import Worker, WorkerState, get_current_worker

from simstage.events import RunEnded
from simstage.scenario.models import ProbeConfig, Scenario
from simstage.tui.keys import ACTIONS, KEY_BINDINGS, LIVE_ONLY
from simstage.tui.live import LiveRun
from simstage.tui.matrix import BeliefMatrix
from simstage.tui.messages import (
    EventRecorded,
    RunStateChanged,
    StageBusy,
    StageFailed,
    StageStats,
    Streaming,
)
from simstage.tui.palette import SimstageCommands
from simstage.tui.screens import HelpScreen, InjectScreen, SpeakScreen
from simstage.tui.views import belief_timeline, events_upto, last_turn, matrix_view, turn_view
from simstage.tui.widgets import (
    BeliefsPane,
    CastPane,
    PuppeteerPane,
    StatusBar,
    Transcript,
    TurnScrubber,
)
from simstage.world.actions import Action
from simstage.world.state import fold_world


class SimstageApp(App[str]):
    """One scene on screen: transcript, cast, beliefs, puppeteer, status.

    Args:
        scenario: the scene.
        live: the live run to control, or None for a replay.
        events: the recorded events (replay).
        backend: the stage backend's name, for the status bar.
        model: the model's name, for the status bar.
        log_path: the run log, for the status bar.
        max_turns: the run's length.
    """

    CSS_PATH = "simstage.tcss"
    COMMANDS = App.COMMANDS | {SimstageCommands}
    ENABLE_COMMAND_PALETTE = True
    BINDINGS = KEY_BINDINGS

    def __init__(
        self,
        scenario: Scenario,
        *,
        live: LiveRun | None = None,
        events: Sequence[Any] = (),
        backend: str = "",
        model: str = "",
        log_path: str = "",
        max_turns: int | None = None,
    ) -> None:
        super().__init__()
        self.scenario = scenario
        self.live = live
        self.events: list[Any] = list(events)
        self.beliefs = belief_timeline(scenario, self.events)
        """The tracker, fed each event once as it arrives (see `simstage.tom.timeline`)."""
        self.backend = backend
        self.model = model
        self.log_path = log_path
        self.max_turns = max_turns or scenario.max_turns
        self.selected = scenario.cast_names[0]
        self.selected_object: str | None = next(
            iter([*scenario.world.objects, *scenario.world.facts]), None
        )
        """The object (or fact) the belief matrix shows (`o` picks the next: the objects, then the facts)."""
        self.turn = last_turn(self.events)
        self.state = "paused" if live else "replay"
        self.tokens_per_s: float | None = None
        self.kv: dict[str, int] = {}
        self.quitting = False
        self.warnings: list[str] = []
        """Problems reading the run log (a cut last line), for the CLI to print."""
        self.title = scenario.title

    # -- layout ----------------------------------------------------------------

    def compose(self) -> ComposeResult:
        with Horizontal(id="main"):
            transcript = Transcript(self.scenario, id="transcript")
            transcript.border_title = f"{self.scenario.title} — transcript"
            yield transcript
            with Vertical(id="side"):
                cast_pane = CastPane(id="cast")
                cast_pane.border_title = "cast"
                yield cast_pane
                beliefs = BeliefsPane(id="beliefs")
                beliefs.border_title = "beliefs"
                yield beliefs
                puppeteer = PuppeteerPane(id="puppeteer")
                puppeteer.border_title = "puppeteer"
                yield puppeteer
        matrix = BeliefMatrix(id="matrix")
        matrix.display = False
        yield matrix
        if self.live is None:
            scrubber = TurnScrubber(self.turn, id="scrubber")
            scrubber.border_title = "turn (←/→)"
            yield scrubber
        yield StatusBar(id="status")
        yield Footer()

    def on_mount(self) -> None:
        if self.live is None:
            self.query_one(TurnScrubber).focus()
            self.query_one(Transcript).show(self.events)
        else:
            self.live.post = self.post_message
            self.stage_thread()
        self.refresh_panes()

    # -- the stage thread --------------------------------------------------------

    @work(thread=True, exclusive=True, exit_on_error=False, group="stage", name="stage")
    def stage_thread(self) -> None:
        """Own the simulation: run jobs and turns until stopped."""
        worker = get_current_worker()
        assert self.live is not None
        self.live.loop(lambda: worker.is_cancelled)

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        if event.worker.name == "stage" and event.state in (
            WorkerState.SUCCESS,
            WorkerState.ERROR,
            WorkerState.CANCELLED,
        ):
            if self.quitting:
                self.exit("interrupted")

    # -- messages from the stage thread -----------------------------------------

    def on_event_recorded(self, message: EventRecorded) -> None:
        event = message.event
        self.events.append(event)
        if self.beliefs is not None:
            self.beliefs.add(event)
        self.turn = max(self.turn, event.turn)
        self.query_one(Transcript).add(event)
        if isinstance(event, RunEnded):
            self.state = "ended" if event.reason != "completed" else "finished"
        self.refresh_panes(transcript=False)

    def on_streaming(self, message: Streaming) -> None:
        self.query_one(Transcript).stream(message.speaker, message.text, message.action)

    def on_stage_busy(self, message: StageBusy) -> None:
        if message.busy and message.label != "turn":
            self.state = message.label + "…"
        elif not message.busy and self.state.endswith("…"):
            self.state = "running" if self.live and self.live.running.is_set() else "paused"
        self.refresh_status()

    def on_stage_stats(self, message: StageStats) -> None:
        if message.tokens_per_s is not None:
            self.tokens_per_s = message.tokens_per_s
        self.kv = message.kv
        self.refresh_status()

    def on_run_state_changed(self, message: RunStateChanged) -> None:
        if message.log_path:
            self.log_path = message.log_path
            self.notify(f"forked: now writing {message.log_path}", title="fork")
        if message.state != "forked":
            self.state = message.state
        self.refresh_status()

    def on_stage_failed(self, message: StageFailed) -> None:
        self.state = "paused"
        self.notify(message.error, title="stage error", severity="error")
        self.refresh_status()

    # -- rendering ---------------------------------------------------------------

    def refresh_panes(self, transcript: bool = False) -> None:
        """Re-render the side panes (and, in replay, the transcript) at the shown turn."""
        view = turn_view(self.scenario, self.events, self.beliefs, self.turn, self.selected)
        if transcript:
            self.query_one(Transcript).show(view.events)
        self.query_one(CastPane).show(self.scenario, view.world, self.selected)
        beliefs = self.query_one(BeliefsPane)
        beliefs.border_title = f"{self.selected}'s beliefs · turn {self.turn}"
        beliefs.show(view.beliefs)
        names = self.scenario.cast_names
        upcoming = (
            None
            if self.turn >= self.max_turns or self.state == "ended"
            else names[self.turn % len(names)]
        )
        if self.live is None:
            upcoming = names[self.turn % len(names)] if self.turn < last_turn(self.events) else None
        self.query_one(PuppeteerPane).show(self.scenario.puppeteer.kind, names, upcoming)
        self.refresh_matrix()
        self.refresh_status()

    def refresh_matrix(self) -> None:
        """Re-render the belief matrix at the shown turn, when it is on screen."""
        matrix = self.query_one(BeliefMatrix)
        if matrix.display and self.selected_object is not None:
            matrix.show(matrix_view(self.scenario, self.events, self.turn, self.selected_object))

    def refresh_status(self) -> None:
        """Re-render the status bar."""
        self.query_one(StatusBar).show(
            backend=self.backend,
            model=self.model,
            tokens_per_s=self.tokens_per_s,
            turn=self.turn,
            max_turns=self.max_turns,
            state=self.state,
            log_path=self.log_path,
            kv=self.kv,
        )

    # -- actions -------------------------------------------------------------------

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action in LIVE_ONLY and self.live is None:
            return False
        if action == "scrub" and self.live is not None:
            return False
        return True

    def palette_commands(self) -> list[tuple[str, str, str]]:
        """(name, help, action) for each action that makes sense now."""
        commands = []
        for _key, action, name, help_text in ACTIONS:
            base = action.split("(")[0]
            if self.check_action(base, ()):
                commands.append((name, help_text, action))
        if self.live is None:
            commands.append(("Earlier turn", "move the replay back one turn", "scrub(-1)"))
        commands.append(("Previous character", "choose whose beliefs are shown", "select(-1)"))
        return commands

    def action_toggle_run(self) -> None:
        """Run turn after turn, or pause after the current one."""
        assert self.live is not None
        if self.live.running.is_set():
            self.live.pause()
            self.state = "paused"
        elif self.live.simulation.done:
            self.notify("the scene is over", severity="warning")
            return
        else:
            self.live.play()
            self.state = "running"
        self.refresh_status()

    def action_step(self) -> None:
        """Play exactly one turn (pauses a running scene)."""
        assert self.live is not None
        self.live.step()
        self.state = "paused"
        self.refresh_status()

    def action_speak(self) -> None:
        """Open the speak-as form."""

        def done(result: tuple[str, str] | None) -> None:
            if result is not None:
                self.speak_as(*result)

        self.push_screen(SpeakScreen(self.scenario.cast_names, self.selected), done)

    def speak_as(self, who: str, line: str) -> None:
        """Play a typed line as `who` (on the stage thread, in order with turns)."""
        assert self.live is not None
        raw = json.dumps({"say": line, "action": None})
        simulation = self.live.simulation
        self.live.submit("speaking", lambda: simulation.speak(who, raw=raw))

    def action_inject(self) -> None:
        """Open the world-event form."""
        world = fold_world(self.scenario, events_upto(self.events, self.turn))

        def done(result: Action | None) -> None:
            if result is not None:
                self.inject(result)

        self.push_screen(InjectScreen(self.scenario, world, self.selected), done)

    def inject(self, action: Action) -> None:
        """Apply a world event now, as a human did it."""
        assert self.live is not None
        simulation = self.live.simulation
        self.live.submit("event", lambda: simulation.act(action, origin="human"))

    def action_probe(self) -> None:
        """Ask the selected character where it thinks each object is, in private forks."""
        assert self.live is not None
        simulation = self.live.simulation
        who = self.selected
        objects = list(self.scenario.world.objects)

        def probe_all() -> None:
            for obj in objects:
                simulation.probe(ProbeConfig(at=max(1, simulation.turn), ask=who, about=obj))

        self.live.submit("probing", probe_all)

    def action_fork(self) -> None:
        """Continue the run in a new log from here."""
        assert self.live is not None
        self.live.pause()
        self.state = "paused"
        self.live.submit("forking", self.live.fork)

    def action_export(self) -> None:
        """Write the belief graph next to the run log (needs simstage.tom's exporter)."""
        from simstage.tui.export import export_beliefs

        try:
            message = export_beliefs(
                self.scenario, self.events, Path(self.log_path or "run.jsonl"), self.turn
            )
        except Exception as exc:
            self.notify(f"export failed: {exc}", severity="error")
            return
        self.notify(message, title="export")

    def action_matrix(self) -> None:
        """Show the belief matrix in place of the transcript and side panes, or hide it."""
        if self.selected_object is None:
            self.notify("the scene has no objects or facts", severity="warning")
            return
        matrix = self.query_one(BeliefMatrix)
        matrix.display = not matrix.display
        self.query_one("#main").display = not matrix.display
        if matrix.display:
            self.refresh_matrix()
            matrix.focus()
        elif self.live is None:
            self.query_one(TurnScrubber).focus()

    def action_next_object(self) -> None:
        """Show the next object (after the last, the facts) in the belief matrix."""
        objects = [*self.scenario.world.objects, *self.scenario.world.facts]
        if self.selected_object is not None:
            self.selected_object = objects[(objects.index(self.selected_object) + 1) % len(objects)]
            self.refresh_matrix()

    def action_select(self, delta: int) -> None:
        """Show the next (or previous) character's beliefs and secrets."""
        names = self.scenario.cast_names
        self.selected = names[(names.index(self.selected) + delta) % len(names)]
        self.refresh_panes()

    def action_scrub(self, delta: int) -> None:
        """Move the replay by `delta` turns."""
        self.query_one(TurnScrubber).action_move(delta)

    def on_turn_scrubber_changed(self, message: TurnScrubber.Changed) -> None:
        self.turn = message.turn
        self.refresh_panes(transcript=True)

    def action_help(self) -> None:
        """Show every key."""
        keys = [
            (key, help_text if not name else f"{name.lower()}: {help_text}")
            for key, _a, name, help_text in ACTIONS
        ]
        self.push_screen(HelpScreen(keys))

    async def action_quit(self) -> None:
        """Stop cleanly: end the turn, record the interruption, leave (twice: leave now)."""
        if self.live is None or self.quitting:
            self.exit(self.state)
            return
        self.quitting = True
        self.state = "stopping"
        self.refresh_status()
        self.live.stop()
        worker = next((w for w in self.workers if w.name == "stage"), None)
        if worker is None or worker.is_finished:
            self.exit("interrupted")
