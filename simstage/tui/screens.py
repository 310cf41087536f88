"""Modal forms (speak as, inject an event), the help screen, and the scenario picker."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any, TypeVar

from rich.markup import escape
from textual.app import App, ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Footer, Input, Label, OptionList, Select, Static
from textual.widgets.option_list import Option

from simstage.scenario.models import EnterAction, ExitAction, MoveAction, Scenario
from simstage.world.actions import Action
from simstage.world.state import WorldState

_Result = TypeVar("_Result")


class _Form(ModalScreen[_Result | None]):
    """A modal form: its `ok` button runs `action_ok`; its other button or Escape returns None."""

    BINDINGS = [Binding("escape", "cancel", "cancel")]

    def action_ok(self) -> None:
        """Read the form and dismiss the screen with what it says (or say what is missing)."""
        raise NotImplementedError

    def on_button_pressed(self, event: Button.Pressed) -> None:
        if event.button.id == "ok":
            self.action_ok()
        else:
            self.dismiss(None)

    def action_cancel(self) -> None:
        self.dismiss(None)


class SpeakScreen(_Form[tuple[str, str]]):
    """Speak as a character: pick who, type the line; returns (who, line) or None."""

    def __init__(self, cast: Sequence[str], selected: str) -> None:
        super().__init__()
        self.cast = list(cast)
        self.selected = selected

    def compose(self) -> ComposeResult:
        with Vertical(classes="form"):
            yield Label("[b]Speak as[/]")
            yield Select(
                [(n, n) for n in self.cast], value=self.selected, allow_blank=False, id="who"
            )
            yield Input(placeholder="what they say (Enter to speak)", id="line")
            with Horizontal(classes="buttons"):
                yield Button("Speak", variant="primary", id="ok")
                yield Button("Cancel", id="cancel")

    def on_mount(self) -> None:
        self.query_one("#line", Input).focus()

    def action_ok(self) -> None:
        """Speak the typed line as the picked character."""
        line = self.query_one("#line", Input).value.strip()
        if not line:
            self.notify("type a line first", severity="warning")
            return
        self.dismiss((str(self.query_one("#who", Select).value), line))

    def on_input_submitted(self, event: Input.Submitted) -> None:
        self.action_ok()


class InjectScreen(_Form[Action]):
    """Inject a world event: someone leaves or enters, or moves an object."""

    def __init__(self, scenario: Scenario, world: WorldState, selected: str) -> None:
        super().__init__()
        self.scenario = scenario
        self.world = world
        self.selected = selected

    def compose(self) -> ComposeResult:
        kinds = [
            ("leaves (exit)", "exit"),
            ("comes in (enter)", "enter"),
            ("moves an object", "move"),
        ]
        objects = list(self.world.object_container)
        with Vertical(classes="form"):
            yield Label("[b]Inject a world event[/]")
            yield Select(kinds, value="exit", allow_blank=False, id="kind")
            yield Select(
                [(n, n) for n in self.scenario.cast_names],
                value=self.selected,
                allow_blank=False,
                id="who",
            )
            yield Select(
                [(o, o) for o in objects], value=objects[0] if objects else Select.NULL, id="object"
            )
            yield Select(self._targets("exit"), allow_blank=False, id="to")
            with Horizontal(classes="buttons"):
                yield Button("Apply", variant="primary", id="ok")
                yield Button("Cancel", id="cancel")

    def _targets(self, kind: str) -> list[tuple[str, str]]:
        if kind == "move":
            return [(c, c) for c in self.world.container_location]
        here = self.world.character_location.get(self.selected)
        places = [p for p in self.world.locations if p != here] or list(self.world.locations)
        return [(p, p) for p in places]

    def on_mount(self) -> None:
        self.query_one("#object", Select).display = False

    def on_select_changed(self, event: Select.Changed) -> None:
        if event.select.id == "kind":
            kind = str(event.value)
            self.query_one("#object", Select).display = kind == "move"
            self.query_one("#to", Select).set_options(self._targets(kind))
        elif event.select.id == "who":
            self.selected = str(event.value)
            kind = str(self.query_one("#kind", Select).value)
            if kind != "move":
                self.query_one("#to", Select).set_options(self._targets(kind))

    def action_ok(self) -> None:
        """Build the action from the form and close."""
        kind = str(self.query_one("#kind", Select).value)
        who = str(self.query_one("#who", Select).value)
        to = self.query_one("#to", Select).value
        if to is Select.NULL:
            self.notify("pick where", severity="warning")
            return
        action: Action
        if kind == "exit":
            action = ExitAction(type="exit", who=who, to=str(to))
        elif kind == "enter":
            action = EnterAction(type="enter", who=who, to=str(to))
        else:
            obj = self.query_one("#object", Select).value
            action = MoveAction(type="move", who=who, object=str(obj), to=str(to))
        self.dismiss(action)


class HelpScreen(ModalScreen[None]):
    """Every key the app answers to."""

    BINDINGS = [Binding("escape,q,question_mark", "close", "close")]

    def __init__(self, keys: Sequence[tuple[str, str]]) -> None:
        super().__init__()
        self.keys = keys

    def compose(self) -> ComposeResult:
        lines = ["[b]simstage keys[/]", ""]
        lines += [f"  [b cyan]{escape(key):>10}[/]  {escape(what)}" for key, what in self.keys]
        lines += ["", "  [dim]ctrl+p: command palette (every action) · escape: close[/]"]
        yield Static("\n".join(lines), classes="form", id="help")

    def action_close(self) -> None:
        self.dismiss(None)


def scenario_candidates(folders: Sequence[Path]) -> list[Path]:
    """Scenario files (.yaml/.yml) in `folders`, each once, sorted per folder."""
    seen: set[Path] = set()
    found: list[Path] = []
    for folder in folders:
        if not folder.is_dir():
            continue
        for path in sorted(folder.iterdir()):
            if path.suffix in (".yaml", ".yml") and path.resolve() not in seen:
                seen.add(path.resolve())
                found.append(path)
    return found


class PickerApp(App[Path | None]):
    """Pick a scenario to play; the app returns its path (None if the user quits)."""

    TITLE = "simstage"
    BINDINGS = [Binding("q,escape", "quit_picker", "quit")]
    CSS = "OptionList { height: 1fr; } #intro { padding: 1 2; }"

    def __init__(self, paths: Sequence[Path]) -> None:
        super().__init__()
        self.paths = list(paths)

    def compose(self) -> ComposeResult:
        yield Static("[b]simstage[/] — pick a scenario to play (Enter), q to quit", id="intro")
        options: list[Any] = []
        for index, path in enumerate(self.paths):
            options.append(Option(f"{path.stem}  [dim]{escape(str(path))}[/]", id=str(index)))
        if not options:
            options.append(Option("no scenario files here or in scenarios/", disabled=True))
        yield OptionList(*options)
        yield Footer()

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        if event.option.id is not None:
            self.exit(self.paths[int(event.option.id)])

    def action_quit_picker(self) -> None:
        self.exit(None)
