"""The panes. Each renders only what it is given; none reads the simulation or the stage."""

from __future__ import annotations

import io
from collections.abc import Sequence
from typing import Any

from rich.console import Console
from rich.markup import escape
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.message import Message
from textual.reactive import reactive
from textual.widget import Widget
from textual.widgets import RichLog, Static, Tree

from simstage.events import RunEnded, TurnEnded
from simstage.render import TranscriptPrinter, narrate, speaker_colours
from simstage.scenario.models import Scenario
from simstage.tom.metrics import VerdictFold
from simstage.tui.views import BeliefRow, BeliefsView, FactRow, PaneRow
from simstage.world.state import WorldState


class Transcript(Vertical):
    """The scene's lines: finished events above, the line being generated below."""

    def __init__(self, scenario: Scenario, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.scenario = scenario
        self._printer = TranscriptPrinter(Console(file=io.StringIO()), scenario, spinner=False)
        self.colours = speaker_colours(scenario.cast_names)
        self.plain: list[str] = []
        """The lines shown, as plain text (what tests and screen readers read)."""
        self._turn = -1
        self._verdicts = VerdictFold(scenario)
        """The tracker, folded as lines are added, for each probe's answer."""

    def compose(self) -> ComposeResult:
        yield RichLog(wrap=True, min_width=16, markup=False, highlight=False, id="lines")
        yield Static("", id="streaming")

    def clear(self) -> None:
        """Forget every line."""
        self.query_one("#lines", RichLog).clear()
        self.query_one("#streaming", Static).update("")
        self.plain = []
        self._turn = -1
        self._verdicts = VerdictFold(self.scenario)

    def show(self, events: Sequence[Any]) -> None:
        """Replace the transcript with these events."""
        self.clear()
        for event in events:
            self.add(event)

    def add(self, event: Any) -> None:
        """Append one event (bookkeeping events show nothing)."""
        verdict = self._verdicts.add(event)
        tracker = None if verdict is None else verdict.tracker
        kind = event.type
        if isinstance(event, TurnEnded):
            self.query_one("#streaming", Static).update("")
            return
        text = narrate(event, tracker)
        if text is None:
            return
        log = self.query_one("#lines", RichLog)
        turn = event.turn
        if turn != self._turn and not isinstance(event, RunEnded):
            self._turn = turn
            log.write(Text(f"── turn {turn} ──", style="dim"))
            self.plain.append(f"── turn {turn} ──")
        markup = self._printer.format(event, tracker)
        if kind == "tell":
            markup = "[reverse] private [/] " + markup
        log.write(Text.from_markup(markup))
        self.plain.append(("[private] " if kind == "tell" else "") + text)

    def stream(self, speaker: str, text: str, action: str | None = None) -> None:
        """Show the words `speaker` is saying, as far as they have got, and its action once parsed."""
        colour = self.colours.get(speaker, "white")
        line = Text.assemble((f"{speaker} ", f"bold {colour}"), ("… ", "dim"), (text, "italic"))
        if action:
            line.append(f"  [{action}]", style="dim")
        self.query_one("#streaming", Static).update(line)


class CastPane(Static):
    """Who is where (everyone, one line each); the selected character's persona, goals and secrets.

    Only the selected character is shown in full, so the whole cast and the
    objects fit even a small terminal; `[` and `]` change the selection.
    """

    def show(self, scenario: Scenario, world: WorldState, selected: str) -> None:
        """Render the cast as of `world`, with `selected` highlighted."""
        colours = speaker_colours(scenario.cast_names)
        lines: list[str] = []
        for member in scenario.cast:
            mark = "▶" if member.name == selected else " "
            where = world.character_location.get(member.name, "?")
            lines.append(
                f"{mark} [bold {colours[member.name]}]{escape(member.name)}[/] [dim]in the[/] {escape(where)}"
            )
            if member.name != selected:
                continue
            lines.append(f"   [dim]{escape(member.persona)}[/]")
            for goal in member.goals:
                lines.append(f"   [green]goal[/] {escape(goal)}")
        for obj, container in world.object_container.items():
            lines.append(
                f"[b]{escape(obj)}[/]: {escape(container)} ({escape(world.container_location[container])})"
            )
        secrets = scenario.character(selected).secrets if selected in scenario.cast_names else []
        if secrets:
            lines.append(f"[dim]{escape(selected)}'s secrets:[/]")
            lines += [f"   [red]🔒[/] {escape(secret)}" for secret in secrets]
        self.update("\n".join(lines))


def _chain_label(holder: str, chain: tuple[str, ...]) -> str:
    if not chain:
        return f"{holder} believes"
    return (
        f"{holder} thinks "
        + "".join(f"{who} thinks " for who in chain[:-1])
        + f"{chain[-1]} believes"
    )


class BeliefsPane(Tree[str]):
    """The selected character's beliefs: first order, then nested; objects, then facts; false ones in red."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__("beliefs", **kwargs)
        self.show_root = False
        self.guide_depth = 2
        self.plain: list[str] = []
        """The tree's leaves as plain text."""

    def show(self, view: BeliefsView) -> None:
        """Render a beliefs view."""
        self.clear()
        self.plain = []
        if view.unavailable:
            self.root.add_leaf(Text(view.unavailable, style="dim italic"))
            self.plain.append(view.unavailable)
            return
        if not view.rows and not view.facts:
            self.root.add_leaf(Text("no beliefs yet", style="dim"))
            return
        leaves: dict[tuple[str, ...], list[Text]] = {}
        for row in view.rows:
            leaves.setdefault(row.chain, []).append(_object_leaf(row))
        for fact in view.facts:
            leaves.setdefault(fact.chain, []).append(_fact_leaf(fact))
        for chain in sorted(leaves, key=lambda chain: (len(chain), chain)):
            group = self.root.add(_chain_label(view.holder, chain), expand=True)
            for label in leaves[chain]:
                group.add_leaf(label)
                self.plain.append(f"{_chain_label(view.holder, chain)} | {label.plain}")


def _object_leaf(row: BeliefRow) -> Text:
    """A belief about an object: "ring: box", red when false, with marks."""
    head = Text().append(f"{row.object}: ", style="bold")
    return _leaf(head, row.container or "?", row.true, "false", row, row.container)


def _fact_leaf(row: FactRow) -> Text:
    """A belief about a fact: "debt? true", red when wrong, with marks."""
    head = Text().append(f"{row.fact}? ", style="bold italic")
    return _leaf(head, str(row.value).lower(), row.right, "wrong", row, row.answer)


def _leaf(
    label: Text, value: str, right: bool, wrong: str, row: PaneRow, answer: str | None
) -> Text:
    """`label`, the believed `value` (red and marked `wrong` unless `right`), and the row's marks."""
    label.append(value, style="" if right else "bold red")
    if not right:
        label.append(f" ({wrong})", style="red")
    if row.changed:
        label.append(" ✱", style="bold yellow")
    if row.probed is not None:
        agree = row.probed == answer
        label.append(f" model:{row.probed}", style="blue")
        label.append(" ✓" if agree else " ≠", style="green" if agree else "yellow")
    if row.lie_by:
        label.append(f" lie by {row.lie_by}", style="yellow")
    label.append(f" ·{row.source}", style="dim")
    return label


class PuppeteerPane(Static):
    """What steers the stage: for round robin, the order and who speaks next."""

    def show(
        self, kind: str, order: Sequence[str], next_speaker: str | None, notes: Sequence[str] = ()
    ) -> None:
        """Render the puppeteer's state (`notes`: director notes or optimizer candidates)."""
        title = kind.replace("_", " ")
        parts = [f"[b]{escape(title)}[/]: " + " → ".join(escape(n) for n in order)]
        parts.append(
            f"next: [b]{escape(next_speaker)}[/]" if next_speaker else "[dim]scene over[/]"
        )
        parts += [f"[dim]•[/] {escape(note)}" for note in notes]
        self.update("\n".join(parts))


class StatusBar(Static):
    """Stage and model, tokens/s, turn, state, run log, KV use per character."""

    def show(
        self,
        *,
        backend: str,
        model: str,
        tokens_per_s: float | None,
        turn: int,
        max_turns: int,
        state: str,
        log_path: str,
        kv: dict[str, int] | None = None,
    ) -> None:
        """Render the status line."""
        rate = f"{tokens_per_s:.1f} tok/s" if tokens_per_s is not None else "— tok/s"
        parts = [
            f"[b]{escape(backend)}[/]:{escape(model)}",
            rate,
            f"turn {turn}/{max_turns}",
            f"[reverse] {escape(state)} [/]",
            f"log {escape(log_path)}",
        ]
        if kv:
            parts.append("KV " + " ".join(f"{escape(k)}:{v}" for k, v in kv.items()))
        self.update(" │ ".join(parts))


class TurnScrubber(Widget, can_focus=True):
    """A turn slider for replay: ←/→ one turn, Home/End to the ends."""

    BINDINGS = [
        Binding("left", "move(-1)", "earlier", show=False),
        Binding("right", "move(1)", "later", show=False),
        Binding("home", "jump(0)", "start", show=False),
        Binding("end", "jump(-1)", "end", show=False),
    ]

    turn: reactive[int] = reactive(0)

    class Changed(Message):
        """The scrubber moved to a turn."""

        def __init__(self, turn: int) -> None:
            super().__init__()
            self.turn = turn

    def __init__(self, last: int, turn: int | None = None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.last = last
        self.set_reactive(TurnScrubber.turn, last if turn is None else turn)

    def action_move(self, delta: int) -> None:
        """Move by `delta` turns."""
        self.turn = max(0, min(self.last, self.turn + delta))

    def action_jump(self, where: int) -> None:
        """Go to the first turn (0) or the last (-1)."""
        self.turn = self.last if where < 0 else 0

    def watch_turn(self, turn: int) -> None:
        self.post_message(self.Changed(turn))

    def on_click(self, event: Any) -> None:
        width = max(1, self.content_size.width - 12)
        self.turn = max(0, min(self.last, round((event.x - 1) * self.last / width)))

    def render(self) -> Text:
        width = max(4, self.content_size.width - 14)
        filled = 0 if self.last == 0 else round(width * self.turn / self.last)
        bar = Text("◀ ", style="dim")
        bar.append("━" * filled, style="bold cyan")
        bar.append("●", style="bold")
        bar.append("─" * (width - filled), style="dim")
        bar.append(f" ▶ {self.turn:>3}/{self.last}")
        return bar
