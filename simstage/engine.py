"""The Simulation: one engine loop for the TUI and headless runs.

Each turn: scripted timeline events for the turn are applied; the puppeteer
picks a speaker; the cast builds that character's prompt from what it
witnessed; the stage generates its turn; the world resolves the action and
records who witnessed it; probes set for the turn are asked in private forks.
Every outcome is an event, appended to the run log and passed to subscribers.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any, Protocol

from simstage.asking import Asking, ask_probes
from simstage.cast import screenplay
from simstage.cast.prompt import CastPrompts, drop_exchanges, exchanges_in
from simstage.cast.turn import TurnParseError, parse_turn, turn_schema
from simstage.events import (
    ContextTrimmed,
    LatentCaptured,
    ParseFailed,
    ProbeAnswered,
    RunEnded,
    TurnEnded,
    TurnStarted,
    WhoKnowsAnswered,
)
from simstage.latent.probing import plan_for
from simstage.puppeteer import Puppeteer, make_puppeteer
from simstage.puppeteer.base import Scene
from simstage.scenario.models import ProbeConfig, SayAction, Scenario
from simstage.stage.abilities import TokenCounter, counters
from simstage.stage.base import Sampling, Stage, StageError
from simstage.world.actions import Action, resolve
from simstage.world.state import WorldState, fold_world


class RunCancelled(Exception):
    """The run's cancel token was set while a line was being generated (the user stopped it)."""


class Subscriber(Protocol):
    """Anything that wants to hear about a run as it happens."""

    def on_event(self, event: Any) -> None:
        """Called after each event is recorded."""

    def on_token(self, speaker: str, text: str) -> None:
        """Called for each chunk of a line while it is generated."""


class EventCallback:
    """A subscriber that hands each event to a function and ignores tokens."""

    def __init__(self, function: Callable[[Any], None]):
        self._function = function

    def on_event(self, event: Any) -> None:
        self._function(event)

    def on_token(self, speaker: str, text: str) -> None:
        return None


class Simulation:
    """Plays a scenario on a stage, one turn per `step()`.

    Args:
        scenario: the scene.
        stage: the model that plays every character.
        seed: overrides the scenario's seed.
        max_turns: overrides the scenario's `max_turns`.
        sink: receives each event first (a `RunLogWriter`'s `append`), before subscribers.
        events: events of an earlier run to continue from (resume, fork).
        puppeteer: overrides the scenario's puppeteer.
        metrics: record per-turn and run metrics (default: the scenario's `puppeteer.metrics`).
        latent_store: where the stage's activations at each probe go, when the scenario asks
            for them (`latent:`) and the stage can read them (`simstage/stage/capture.py`).
        sequences: stage sequences already holding each seat's context (`run/resume.py`).
    """

    def __init__(
        self,
        scenario: Scenario,
        stage: Stage,
        *,
        seed: int | None = None,
        max_turns: int | None = None,
        sink: Callable[[Any], None] | None = None,
        events: Iterable[Any] = (),
        puppeteer: Puppeteer | None = None,
        metrics: bool | None = None,
        latent_store: Any = None,
        sequences: Mapping[str, int] | None = None,
    ):
        self.scenario = scenario
        self.stage = stage
        self.seed = scenario.seed if seed is None else seed
        self.max_turns = max_turns or scenario.max_turns
        self.events: list[Any] = [e for e in events if not isinstance(e, RunEnded)]
        self.world: WorldState = fold_world(scenario, self.events)
        self.cast = CastPrompts(scenario)
        """Each character's prompt, kept up to date with `events` (a turn costs what happened since)."""
        self.turn = max((e.turn for e in self.events), default=0)
        self.puppeteer = puppeteer or make_puppeteer(scenario.puppeteer)
        self.metrics: Any = None
        if scenario.puppeteer.metrics if metrics is None else metrics:
            from simstage.puppeteer.metrics import SceneMetrics

            self.metrics = SceneMetrics()
        self._sink = sink
        self.latent = plan_for(scenario, stage, latent_store)
        self._subscribers: list[Subscriber] = []
        self._sequences: dict[str, int] = dict(sequences or {})
        self.finished = False
        self.cancel = threading.Event()
        """Set from any thread to end the run: the line being generated stops at its next chunk."""
        self.sampling = Sampling(
            temperature=scenario.stage.temperature,
            top_p=scenario.stage.top_p,
            max_tokens=scenario.stage.max_tokens,
        )

    # -- subscribers -------------------------------------------------------

    def subscribe(self, subscriber: Subscriber) -> None:
        """Hear every later event and token (`EventCallback(function)` for events only)."""
        self._subscribers.append(subscriber)

    def emit(self, event: Any) -> Any:
        """Record an event: run log first, then the world, then subscribers."""
        if self._sink is not None:
            self._sink(event)
        self.events.append(event)
        self.world.apply(event)
        for subscriber in self._subscribers:
            subscriber.on_event(event)
        return event

    def _token(self, speaker: str, text: str) -> None:
        # Every generated chunk passes here: the place to honour the cancel token.
        if self.cancel.is_set():
            raise RunCancelled
        for subscriber in self._subscribers:
            subscriber.on_token(speaker, text)

    # -- the loop ------------------------------------------------------------

    @property
    def done(self) -> bool:
        """Whether the scene has played all its turns (or ended)."""
        return self.finished or self.turn >= self.max_turns

    def sequence(self, name: str) -> int:
        """The stage sequence that holds `name`'s context."""
        if name not in self._sequences:
            self._sequences[name] = self.stage.open_sequence()
        return self._sequences[name]

    def act(self, action: Action, origin: str = "human") -> Any:
        """Apply an action now (a timeline event, or one a human injects)."""
        return self.emit(resolve(self.world, action, self.turn, origin))  # type: ignore[arg-type]

    def step(self) -> list[Any]:
        """Play one turn and return the events it produced."""
        if self.done:
            return []
        start = len(self.events)
        turn = self.begin_turn()
        speaker = self.puppeteer.next_speaker(self.scene())
        if speaker is None:  # the puppeteer (a human) ended the scene
            self.finish("completed", "the puppeteer ended the scene")
            return self.events[start:]
        self.speak(speaker)
        if self.metrics is not None:
            self.metrics.after_turn(self.scene(), speaker)
        self.probe_many([probe for probe in self.scenario.probes if probe.at == turn])
        return self.events[start:]

    def scene(self) -> Scene:
        """The view of the run a puppeteer, reward or metric gets: never the simulation itself."""
        return Scene(
            scenario=self.scenario,
            events=self.events,
            world=self.world,
            turn=self.turn,
            seed=self.seed,
            sampling=self.sampling,
            stage=self.stage,
            sequence=self.sequence,
            emit=self.emit,
            act=self.act,
        )

    def begin_turn(self) -> int:
        """Start the next turn: what the scenario's timeline scripts for it happens first."""
        self.turn += 1
        for entry in self.scenario.timeline:
            if entry.at == self.turn:
                self.emit(resolve(self.world, entry.event, self.turn, "timeline"))  # type: ignore[arg-type]
        return self.turn

    def speak(self, speaker: str, raw: str | None = None) -> None:
        """Give `speaker` the floor: the stage generates its turn, or `raw` is used as it."""
        here = self.world.character_location[speaker]
        self.emit(
            TurnStarted(
                turn=self.turn, speaker=speaker, location=here, present=self.world.present(here)
            )
        )
        tokens = 0
        on_screenplay = self.stage.describe().plays_screenplay
        if raw is None:
            messages = self._fit_context(speaker)
            sampling = Sampling(
                temperature=self.sampling.temperature,
                top_p=self.sampling.top_p,
                max_tokens=self.sampling.max_tokens,
                seed=(self.seed * 1_000_003 + self.turn) & 0x7FFFFFFF,
                # A base model speaks free text; its action is then chosen among the world's.
                json_schema=None if on_screenplay else turn_schema(self.scenario, speaker),
            )
            meter = counters(self.stage)
            before = meter.generated_tokens
            # A puppeteer may write the turn itself (best of N candidates, a human's line).
            raw = self.puppeteer.compose(self.scene(), speaker, messages, sampling)
            if raw is not None:
                self._token(speaker, raw)
            elif on_screenplay:
                seq = self.sequence(speaker)
                line = screenplay.play_line(
                    self.stage, seq, messages, sampling, lambda c: self._token(speaker, c)
                )
                raw = screenplay.directed_turn(
                    self.stage, seq, messages, self.scenario, self.world, speaker, line
                )
            else:
                chunks: list[str] = []
                for chunk in self.stage.generate(self.sequence(speaker), messages, sampling):
                    chunks.append(chunk)
                    self._token(speaker, chunk)
                raw = "".join(chunks)
            tokens = meter.generated_tokens - before
        self.emit(TurnEnded(turn=self.turn, speaker=speaker, raw=raw, tokens=tokens))
        try:
            turn = parse_turn(raw, self.scenario, speaker)
        except TurnParseError as exc:
            self.emit(ParseFailed(turn=self.turn, who=speaker, raw=raw, error=str(exc)))
            return
        if turn.say:
            self.emit(
                resolve(self.world, SayAction(type="say", who=speaker, text=turn.say), self.turn)
            )
        if turn.action is not None:
            self.emit(resolve(self.world, turn.action, self.turn))

    def context_budget(self) -> int | None:
        """Tokens one character's sequence may use: an equal share of the stage's window.

        One share more than the cast is kept free for probes, candidates and forks.
        A stage whose every request gets the whole window (a remote server) does not
        share it (`StageDescription.shares_window`).
        """
        described = self.stage.describe()
        window = described.context_window
        if not window:
            return None
        if not described.shares_window:
            return int(window)
        return int(window) // (len(self.scenario.cast) + 1)

    def _prompt(self, speaker: str, dropped: int = 0) -> list[Any]:
        """The speaker's prompt for its turn, leaving out `dropped` more of its oldest exchanges
        (a chat) or lines (a screenplay) than the run has trimmed already."""
        if self.stage.describe().plays_screenplay:
            return screenplay.turn_messages(self.scenario, speaker, self.events, dropped)
        return drop_exchanges(self.cast.messages(speaker, self.events), dropped)

    def _fit_context(self, speaker: str) -> list[Any]:
        """The speaker's prompt, its oldest exchanges dropped when it nears its share; recorded."""
        messages = self._prompt(speaker)
        budget = self.context_budget()
        counter = self.stage.ability(TokenCounter)
        if budget is None or counter is None:
            return messages
        reserve = self.sampling.max_tokens
        before = counter.count_tokens(messages)
        if before is None or before + reserve <= budget:
            return messages
        # Trim well below the budget, so trimming (and its KV shift) is occasional.
        target = int(budget * 0.6)
        available = (
            screenplay.lines_in(messages)
            if self.stage.describe().plays_screenplay
            else exchanges_in(messages)
        )
        dropped, after = 0, before
        while dropped < available and after + reserve > target:
            dropped += 1
            after = counter.count_tokens(self._prompt(speaker, dropped)) or 0
        if dropped == 0:
            return messages
        self.emit(
            ContextTrimmed(
                turn=self.turn,
                who=speaker,
                dropped=dropped,
                tokens_before=before,
                tokens_after=after,
                budget=budget,
            )
        )
        return self._prompt(speaker)

    def probe(self, probe: ProbeConfig) -> ProbeAnswered | WhoKnowsAnswered:
        """Ask a belief question: of a character in a private fork of its context, or of the narrator."""
        return self.probe_many([probe])[0]

    def probe_many(self, probes: Sequence[ProbeConfig]) -> list[ProbeAnswered | WhoKnowsAnswered]:
        """Ask several belief questions at once; a batching stage decodes them together (`asking.py`).

        Each question runs on a fork of its seat's sequence, so asking never changes
        what anyone remembers.
        """
        asking = Asking(
            scenario=self.scenario, stage=self.stage, world=self.world, events=self.events, cast=self.cast,
            sequence=self.sequence, turn=self.turn, seed=self.seed, latent=self.latent,
        )  # fmt: skip
        return [
            event
            for event in map(self.emit, ask_probes(asking, probes))
            if not isinstance(event, LatentCaptured)
        ]

    def held_sequences(self) -> dict[str, int]:
        """The stage sequence of each seat (character, director, judge) this run holds."""
        return dict(self._sequences)

    def release_sequences(self) -> None:
        """Drop every stage sequence this run opened (characters, judge, director)."""
        for seq in self._sequences.values():
            self.stage.drop(seq)
        self._sequences.clear()

    def finish(self, reason: str = "completed", message: str = "") -> None:
        """Record the end of the run."""
        if not self.finished:
            self.emit(RunEnded(turn=self.turn, reason=reason, message=message))  # type: ignore[arg-type]
            self.finished = True

    def run(self, stop: threading.Event | None = None, stopped: str = "stopped by the user") -> str:
        """Play every remaining turn; Ctrl-C (or `stop`, checked between turns) ends the run cleanly.

        Args:
            stop: set from another thread to end the run after its current turn.
            stopped: the message recorded when `stop` ends the run.

        Returns:
            `completed`, or `interrupted` after Ctrl-C or `stop` (the log is intact).

        Raises:
            StageError: the stage failed (a server went away); the run's end is
                recorded as an error first, so the log can be resumed.
        """
        try:
            while not self.done:
                if stop is not None and stop.is_set():
                    self.finish("interrupted", stopped)
                    return "interrupted"
                self.step()
        except KeyboardInterrupt:
            self.finish("interrupted", "stopped by the user")
            return "interrupted"
        except RunCancelled:
            self.finish("interrupted", stopped)
            return "interrupted"
        except StageError as exc:
            # The log records why the run stopped; `simstage run --resume` continues it.
            self.finish("error", str(exc))
            raise
        self.finish("completed")
        return "completed"
