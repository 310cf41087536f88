"""Events as lines of a transcript, for the terminal (rich) and any other front end."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from rich.console import Console
from rich.markup import escape
from rich.status import Status

from simstage.world.state import WorldState

PALETTE = ("cyan", "magenta", "green", "yellow", "bright_blue", "bright_red", "bright_cyan", "orange1")


def speaker_colours(names: Sequence[str]) -> dict[str, str]:
    """A stable colour per character, by cast order."""
    return {name: PALETTE[index % len(PALETTE)] for index, name in enumerate(names)}


def narrate(event: Any) -> str | None:
    """A third-person line of plain text for a world event; None for bookkeeping events."""
    kind = getattr(event, "type", None)
    if kind == "enter":
        return f"{event.who} enters the {event.to}."
    if kind == "exit":
        return f"{event.who} leaves the {event.frm} for the {event.to}."
    if kind == "move":
        return f"{event.who} moves the {event.object} from the {event.frm} to the {event.to}."
    if kind == "say":
        return f"{event.who}: {event.text}"
    if kind == "tell":
        return f"{event.who} → {event.to} (privately): {event.text}"
    if kind == "claim":
        return f"{event.who} claims: {event.text}"
    if kind == "rejected":
        return f"{event.who} could not {event.action.get('type', 'act')}: {event.reason}"
    if kind == "parse_failed":
        return f"{event.who}'s turn did not parse ({event.error})"
    if kind == "probe":
        tracker = "" if getattr(event, "tracker", None) is None else f", tracker: {event.tracker}"
        return f"{event.ask} is asked: {event.question} → {event.answer} (really: {event.truth}{tracker})"
    if kind == "tom_metrics":
        return tom_metrics_line(event)
    if kind == "run_ended":
        return f"run {event.reason}" + (f": {event.message}" if event.message else "")
    if kind == "run_resumed":
        return f"run resumed (it had stopped: {event.previous})"
    if kind in PUPPETEER_EVENTS:
        return puppeteer_line(event)
    return None


PUPPETEER_EVENTS = ("speaker_chosen", "direction", "candidate", "candidate_chosen", "turn_metrics", "run_metrics")


def _num(value: float | None, digits: int = 2) -> str:
    return "–" if value is None else f"{value:.{digits}f}"


def puppeteer_line(event: Any) -> str:
    """A puppeteer's or a metric's event in one line of plain text."""
    kind = event.type
    if kind == "speaker_chosen":
        among = f" (among {', '.join(event.options)})" if event.options else ""
        return f"{event.by} gives the floor to {event.speaker}{among}"
    if kind == "direction":
        return f"direction to {event.to}: {event.text}"
    if kind == "candidate":
        scores = ", ".join(f"{k} {v:.2f}" for k, v in event.scores.items())
        return f"candidate {event.index} for {event.speaker} [{scores}; total {event.total:.2f}]: {event.raw}"
    if kind == "candidate_chosen":
        return (
            f"optimizer keeps candidate {event.index} for {event.speaker}: "
            f"{event.total:.2f} vs mean {event.mean:.2f} (gain {event.gain:+.2f})"
        )
    if kind == "turn_metrics":
        rewards = "".join(f", {k} {v:.2f}" for k, v in event.rewards.items())
        flip = ", FLIP" if event.flip else ""
        return (
            f"metrics {event.speaker}: persona fit {_num(event.persona_fit)}, "
            f"voice collapse {_num(event.voice_collapse)}{rewards}"
            + (f", reward gain {event.reward_gain:+.2f}" if event.reward_gain is not None else "")
            + flip
        )
    parts = []
    parts.append("persona drift " + (", ".join(f"{k} {v:+.2f}" for k, v in event.persona_drift.items()) or "–"))
    parts.append(f"voice collapse {_num(event.voice_collapse)}")
    parts += [f"{k} {v:.2f}" for k, v in event.rewards.items()]
    if event.reward_gain is not None:
        parts.append(f"reward gain {event.reward_gain:+.2f}")
    parts.append("flips " + (", ".join(f"{k} {v}" for k, v in event.flips.items()) or "–"))
    return f"run metrics ({event.puppeteer}): " + "; ".join(parts)


def _score(score: Any) -> str:
    if not score.n:
        return "–"
    return f"{score.agreed}/{score.n} ({score.accuracy:.0%})"


def tom_metrics_line(event: Any) -> str:
    """A `tom_metrics` event in one line: model vs tracker, by order and style, false beliefs, reality."""
    parts = [f"ToM: model agrees with the tracker on {_score(event.overall)}"]
    parts += [f"order {order}: {_score(score)}" for order, score in event.by_order.items()]
    parts += [f"{style}: {_score(score)}" for style, score in event.by_style.items()]
    parts.append(f"false beliefs: {_score(event.false_belief)}")
    parts.append(f"vs reality: {_score(event.reality)}")
    return "; ".join(parts)


class TranscriptPrinter:
    """Prints a run's events as they happen (a `Simulation` subscriber).

    Args:
        console: where to print.
        cast: character names, for colours.
        spinner: show a spinner while a character's line is generated.
    """

    def __init__(self, console: Console, cast: Sequence[str], *, spinner: bool = True):
        self.console = console
        self.colours = speaker_colours(cast)
        self._turn = -1
        self._status: Status | None = None
        self._spinner = spinner and console.is_terminal

    def _name(self, name: str) -> str:
        return f"[bold {self.colours.get(name, 'white')}]{escape(name)}[/]"

    def on_token(self, speaker: str, text: str) -> None:
        return None

    def on_event(self, event: Any) -> None:
        kind = getattr(event, "type", None)
        turn = getattr(event, "turn", 0)
        if kind == "turn_started":
            if self._spinner:
                self._status = self.console.status(f"{event.speaker} is thinking…")
                self._status.start()
            return
        if kind == "turn_ended":
            if self._status is not None:
                self._status.stop()
                self._status = None
            return
        if turn != self._turn and kind not in ("run_ended", "run_resumed"):
            self._turn = turn
            self.console.rule(f"[dim]turn {turn}[/]", style="dim")
        self.console.print(self.format(event), highlight=False)

    def format(self, event: Any) -> str:
        """One event as rich markup."""
        kind = getattr(event, "type", None)
        line = escape(narrate(event) or "")
        if kind == "say":
            return f"{self._name(event.who)}: {escape(event.text)}"
        if kind == "tell":
            return (
                f"{self._name(event.who)} [dim]→[/] {self._name(event.to)} "
                f"[italic dim](privately)[/]: {escape(event.text)}"
            )
        if kind == "claim":
            verdict = "" if event.true else " [red](false)[/]"
            return f"{self._name(event.who)} [bold]claims[/]: {escape(event.text)}{verdict}"
        if kind in ("enter", "exit", "move"):
            origin = " [dim](scripted)[/]" if event.origin == "timeline" else ""
            return f"[italic]* {line}[/]{origin}"
        if kind in ("rejected", "parse_failed"):
            return f"[dim red]✗ {line}[/]"
        if kind == "probe":
            mark = "[green]✓[/]" if event.answer == event.truth else "[yellow]≠[/]"
            return f"[blue]?[/] {line} {mark}"
        if kind == "tom_metrics":
            return f"[bold blue]{line}[/]"
        if kind == "direction":
            return f"[italic magenta]» {line}[/]"
        if kind in ("candidate", "speaker_chosen", "turn_metrics"):
            return f"[dim]{line}[/]"
        if kind in ("candidate_chosen", "run_metrics"):
            return f"[bold]{line}[/]"
        if kind in ("run_ended", "run_resumed"):
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
        f"The {obj} is in the {container} ({world.container_location[container]})."
        for obj, container in world.object_container.items()
    ]
    return lines
