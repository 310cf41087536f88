"""Events as lines of a transcript, for the terminal (rich) and any other front end."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from typing import Any

from rich.console import Console
from rich.markup import escape
from rich.status import Status

from simstage.events import (
    Asserted,
    CandidateChosen,
    CandidateScored,
    Claimed,
    DirectionGiven,
    Distracted,
    Entered,
    Exited,
    Moved,
    ParseFailed,
    Peeked,
    PeekStopped,
    ProbeAnswered,
    Rejected,
    RunEnded,
    RunResumed,
    Said,
    SpeakerChosen,
    Told,
    TurnEnded,
    TurnMetrics,
    TurnStarted,
    WhoKnowsAnswered,
    Witnessed,
)
from simstage.scenario.models import Scenario
from simstage.terminal import printable
from simstage.tom.metrics import Verdict, agrees
from simstage.world.state import WorldState

PALETTE = (
    "cyan",
    "magenta",
    "green",
    "yellow",
    "bright_blue",
    "bright_red",
    "bright_cyan",
    "orange1",
)


def speaker_colours(names: Sequence[str]) -> dict[str, str]:
    """A stable colour per character, by cast order."""
    return {name: PALETTE[index % len(PALETTE)] for index, name in enumerate(names)}


LINES: dict[type, str] = {
    Entered: "{who} enters the {to}.",
    Exited: "{who} leaves the {frm} for the {to}.",
    Moved: "{who} moves the {object} from the {frm} to the {to}.",
    Said: "{who}: {text}",
    Told: "{who} → {to} (privately): {text}",
    Claimed: "{who} claims: {text}",
    Peeked: "{who} secretly watches the {into}.",
    PeekStopped: "{who} stops watching the {into}.",
    Distracted: "{who} stops paying attention (until turn {until}).",
    Rejected: "{who} could not {verb}: {reason}",
    ParseFailed: "{who}'s turn did not parse ({error})",
    RunResumed: "run resumed (it had stopped: {previous})",
    SpeakerChosen: "{by} gives the floor to {speaker}{among}",
    DirectionGiven: "direction to {to}: {text}",
}
"""The display line of each event type (the model's own text is `cast/`'s, never this)."""
PUPPETEER_EVENTS = (SpeakerChosen, DirectionGiven, CandidateScored, CandidateChosen, TurnMetrics)


Tracker = str | tuple[str, ...] | None
"""The tracker's answer to a probe: a container or yes / no / don't know (None: no belief about
an object); for a who-knows probe, the names."""


def narrate(event: Any, tracker: Tracker = None) -> str | None:
    """A third-person line of plain text for an event; None for bookkeeping events.

    Args:
        event: any event.
        tracker: for a probe, the tracker's answer (`simstage.tom.metrics`), shown beside the model's.
    """
    line = _line(event, tracker)
    if line is None:
        return line
    return line + "".join(f" [{note}]" for note in _unnoticed(event, str))


def _unnoticed(event: Any, name: Callable[[str], str]) -> list[str]:
    """Who watched a witnessed event unseen, and who missed it (each name written by `name`)."""
    if not isinstance(event, Witnessed):
        return []
    notes = [("watched unseen by", event.watchers), ("not paying attention:", event.distracted)]
    return [f"{what} {', '.join(map(name, who))}" for what, who in notes if who]


def _line(event: Any, tracker: Tracker) -> str | None:
    if isinstance(event, Asserted):
        to = "" if event.to is None else f" → {event.to} (privately)"
        return f"{event.who}{to} states: {event.text} [{_holds(event)}]"
    if isinstance(event, WhoKnowsAnswered):
        return who_knows_line(event, tracker)
    template = LINES.get(type(event))
    if template is not None:
        extra = {
            "verb": event.action.get("type", "act") if isinstance(event, Rejected) else "",
            "among": f" (among {', '.join(event.options)})"
            if isinstance(event, SpeakerChosen) and event.options
            else "",
        }
        return template.format_map({**vars(event), **extra})
    if isinstance(event, ProbeAnswered):
        # Every caller folds the tracker for a probe: None is no belief, and nothing to score.
        beside = ", tracker: no belief, no mark" if tracker is None else f", tracker: {tracker}"
        return f"{event.ask} is asked: {event.question} → {event.answer} (really: {event.truth}{beside})"
    if isinstance(event, RunEnded):
        return f"run {event.reason}" + (f": {event.message}" if event.message else "")
    if isinstance(event, PUPPETEER_EVENTS):
        return puppeteer_line(event)
    return None


def _holds(event: Asserted) -> str:
    """What a statement says of its fact."""
    return f"{event.fact}: {'holds' if event.holds else 'does not hold'}"


def _listed(names: Sequence[str]) -> str:
    return ", ".join(names) or "nobody"


def who_knows_line(event: WhoKnowsAnswered, tracker: Tracker = None) -> str:
    """A who-knows probe in one line: who is asked, the model's set, and the tracker's beside it."""
    chain = "".join(f" {name} thinks" for name in event.through)
    asked = "the narrator is asked" if event.ask is None else f"{event.ask} is asked"
    beside = "" if not isinstance(tracker, tuple) else f" (tracker: {_listed(tracker)})"
    return f"{asked} who{chain} knows whether {event.fact} holds → {_listed(event.said)}{beside}"


def _num(value: float | None, digits: int = 2) -> str:
    return "–" if value is None else f"{value:.{digits}f}"


def puppeteer_line(event: Any) -> str:
    """A candidate's, a choice's or a metric's line of plain text."""
    if isinstance(event, CandidateScored):
        scores = ", ".join(f"{k} {v:.2f}" for k, v in event.scores.items())
        return f"candidate {event.index} for {event.speaker} [{scores}; total {event.total:.2f}]: {event.raw}"
    if isinstance(event, CandidateChosen):
        return (
            f"optimizer keeps candidate {event.index} for {event.speaker}: "
            f"{event.total:.2f} vs mean {event.mean:.2f} (gain {event.gain:+.2f})"
        )
    if isinstance(event, TurnMetrics):
        rewards = "".join(f", {k} {v:.2f}" for k, v in event.rewards.items())
        flip = ", FLIP" if event.flip else ""
        return (
            f"metrics {event.speaker}: persona fit {_num(event.persona_fit)}, "
            f"voice collapse {_num(event.voice_collapse)}{rewards}"
            + (f", reward gain {event.reward_gain:+.2f}" if event.reward_gain is not None else "")
            + flip
        )
    return run_metrics_line(event)


def run_metrics_line(event: Any) -> str:
    """A run's puppeteer metrics (`RunMetrics`) in one line."""
    parts = []
    parts.append(
        "persona drift "
        + (", ".join(f"{k} {v:+.2f}" for k, v in event.persona_drift.items()) or "–")
    )
    parts.append(f"voice collapse {_num(event.voice_collapse)}")
    parts += [f"{k} {v:.2f}" for k, v in event.rewards.items()]
    if event.reward_gain is not None:
        parts.append(f"reward gain {event.reward_gain:+.2f}")
    parts.append("flips " + (", ".join(f"{k} {v}" for k, v in event.flips.items()) or "–"))
    return f"run metrics ({event.puppeteer}): " + "; ".join(parts)


def _score(score: Any) -> str:
    """`3/4 (75%)`, with the 95% Wilson interval when the group holds several probes."""
    if not score.n:
        return "–"
    interval = score.interval
    bounds = (
        f" [{interval.low:.0%}–{interval.high:.0%}]" if score.n > 1 and interval is not None else ""
    )
    return f"{score.agreed}/{score.n} ({score.accuracy:.0%}{bounds})"


KIND_NAMES = {"object": "objects", "fact": "facts", "who_knows": "who knows"}


def tom_metrics_line(event: Any) -> str:
    """A run's ToM score (`TomMetrics`) in one line: model vs tracker, by order, style and kind,
    false beliefs, reality; each group with its count and 95% Wilson interval."""
    parts = [f"ToM: model agrees with the tracker on {_score(event.overall)}"]
    parts += [f"order {order}: {_score(score)}" for order, score in event.by_order.items()]
    parts += [f"{style}: {_score(score)}" for style, score in event.by_style.items()]
    parts += [
        f"{KIND_NAMES.get(kind, kind)}: {_score(score)}" for kind, score in event.by_kind.items()
    ]
    if event.who_knows_f1 is not None:
        parts.append(f"who-knows F1: {event.who_knows_f1:.2f}")
    parts.append(f"false beliefs: {_score(event.false_belief)}")
    parts.append(f"vs reality: {_score(event.reality)}")
    return "; ".join(parts)


def shown(text: str) -> str:
    """Text from data as rich markup that prints it as it is: markup escaped, control characters shown."""
    return escape(printable(text))


class TranscriptPrinter:
    """Prints a run's events as they happen (a `Simulation` subscriber), or a log's as it replays.

    It folds the tracker as the events pass, so each probe shows the tracker's
    answer beside the model's, and a completed run ends with its ToM score and,
    where metrics were recorded, its puppeteer metrics. Text from the scenario,
    the model or the log is printed through `shown`: never as markup, and never
    a control sequence the terminal would obey.

    Args:
        console: where to print.
        scenario: the scene (cast colours, the tracker's rules).
        spinner: show a spinner while a character's line is generated.
    """

    def __init__(self, console: Console, scenario: Scenario, *, spinner: bool = True):
        from simstage.tom.metrics import VerdictFold

        self.console = console
        self.scenario = scenario
        self.colours = speaker_colours(scenario.cast_names)
        self.verdicts = VerdictFold(scenario)
        self._turn_metrics: list[TurnMetrics] = []
        self._turn = -1
        self._status: Status | None = None
        self._spinner = spinner and console.is_terminal

    def _name(self, name: str) -> str:
        return f"[bold {self.colours.get(name, 'white')}]{shown(name)}[/]"

    def catch_up(self, events: Iterable[Any]) -> None:
        """Fold, without printing, the events a run had before this printer joined it (a resumed
        run's): its probe marks and score then read the whole run, as `replay` does."""
        for event in events:
            self._fold(event)
            self._turn = getattr(event, "turn", self._turn)

    def _fold(self, event: Any) -> Verdict | None:
        """Fold one event into the probe verdicts and the turn metrics; a probe's verdict."""
        if isinstance(event, TurnMetrics):
            self._turn_metrics.append(event)
        return self.verdicts.add(event)

    def on_token(self, speaker: str, text: str) -> None:
        return None

    def on_event(self, event: Any) -> None:
        verdict = self._fold(event)
        if isinstance(event, TurnStarted):
            if self._spinner:
                self._status = self.console.status(f"{shown(event.speaker)} is thinking…")
                self._status.start()
            return
        if isinstance(event, TurnEnded):
            if self._status is not None:
                self._status.stop()
                self._status = None
            return
        if isinstance(event, RunEnded) and event.reason == "completed":
            self._summary()
        if event.turn != self._turn and not isinstance(event, (RunEnded, RunResumed)):
            self._turn = event.turn
            self.console.rule(f"[dim]turn {event.turn}[/]", style="dim")
        self.console.print(
            self.format(event, None if verdict is None else verdict.tracker), highlight=False
        )

    def _summary(self) -> None:
        """The run's ToM score and puppeteer metrics, folded from what was printed."""
        from simstage.puppeteer.metrics import run_metrics
        from simstage.tom.metrics import score_verdicts

        metrics = run_metrics(self._turn_metrics, self.scenario.puppeteer.kind)
        if metrics is not None:
            self.console.print(f"[bold]{shown(run_metrics_line(metrics))}[/]", highlight=False)
        score = score_verdicts(self.verdicts.verdicts)
        if score is not None:
            self.console.print(f"[bold blue]{shown(tom_metrics_line(score))}[/]", highlight=False)

    def format(self, event: Any, tracker: Tracker = None) -> str:
        """One event as rich markup (`tracker`: for a probe, the tracker's answer)."""
        line = self._format(event, tracker)
        return line + "".join(f" [dim]({note})[/]" for note in _unnoticed(event, self._name))

    def _format(self, event: Any, tracker: Tracker) -> str:
        line = shown(_line(event, tracker) or "")  # watchers and inattention: marked by `format`
        if isinstance(event, Said):
            return f"{self._name(event.who)}: {shown(event.text)}"
        if isinstance(event, Told):
            return (
                f"{self._name(event.who)} [dim]→[/] {self._name(event.to)} "
                f"[italic dim](privately)[/]: {shown(event.text)}"
            )
        if isinstance(event, Claimed):
            verdict = "" if event.true else " [red](false)[/]"
            return f"{self._name(event.who)} [bold]claims[/]: {shown(event.text)}{verdict}"
        if isinstance(event, Asserted):
            to = (
                ""
                if event.to is None
                else f" [dim]→[/] {self._name(event.to)} [italic dim](privately)[/]"
            )
            verdict = "" if event.true else " [red](false)[/]"
            holds = f"[dim]\\[{shown(_holds(event))}][/]"
            return (
                f"{self._name(event.who)}{to} [bold]states[/]: {shown(event.text)} {holds}{verdict}"
            )
        if isinstance(event, (Entered, Exited, Moved, Peeked, PeekStopped, Distracted)):
            origin = " [dim](scripted)[/]" if event.origin == "timeline" else ""
            return f"[italic]* {line}[/]{origin}"
        if isinstance(event, (Rejected, ParseFailed)):
            return f"[dim red]✗ {line}[/]"
        if isinstance(event, (ProbeAnswered, WhoKnowsAnswered)):
            # The mark compares the model's answer with the tracker's (what the ToM score
            # counts), never with reality: reality is shown plainly in the line itself.
            if tracker is None or isinstance(event, WhoKnowsAnswered) != isinstance(tracker, tuple):
                return f"[blue]?[/] {line}"
            mark = "[green]✓[/]" if agrees(event, tracker) else "[yellow]≠[/]"
            return f"[blue]?[/] {line} {mark}"
        if isinstance(event, DirectionGiven):
            return f"[italic magenta]» {line}[/]"
        if isinstance(event, (CandidateScored, SpeakerChosen, TurnMetrics)):
            return f"[dim]{line}[/]"
        if isinstance(event, CandidateChosen):
            return f"[bold]{line}[/]"
        if isinstance(event, (RunEnded, RunResumed)):
            return f"[dim]— {line} —[/]"
        return line

    def close(self) -> None:
        """Stop the spinner if one is running."""
        if self._status is not None:
            self._status.stop()
            self._status = None


def world_summary(world: WorldState) -> list[str]:
    """Where everyone and everything is, one line each."""
    lines = [f"{who} is in the {where}." for who, where in world.character_location.items()]
    lines += [
        f"The {obj} {world.be(obj)} in the {container} ({world.container_location[container]})."
        for obj, container in world.object_container.items()
    ]
    return lines
