"""The belief matrix view: one object (or fact) across the whole cast, rows holder › chain, to the scene's order."""

from __future__ import annotations

from rich.text import Text
from textual.binding import Binding
from textual.widgets import DataTable

from simstage.tui.views import MatrixLine, MatrixView

COLUMNS = (
    ("belief", "holder › chain"),
    ("container", "thinks it is in"),
    ("source", "how"),
    ("marks", "marks"),
)
FACT_COLUMNS = (
    ("belief", "holder › chain"),
    ("container", "thinks it is"),
    ("source", "how"),
    ("marks", "marks"),
)
"""The columns when a fact is shown: its cells are true or false."""


def matrix_cells(line: MatrixLine, fact: bool = False) -> tuple[Text, Text, Text, Text]:
    """A row's cells: the label, the container or (`fact`) true or false, red when wrong, how and
    when it formed, and marks."""
    if line.container is None:
        container = Text("–", style="dim")
    else:
        container = Text(line.container, style="bold red" if line.true is False else "")
    if line.changed:
        container.stylize("reverse")
    source = Text(f"{line.source} t{line.formed}" if line.source else "", style="dim")
    marks = Text()
    if line.true is False:
        marks.append("✗ wrong " if fact else "✗ false ", style="red")
    if line.lie_by:
        marks.append(f"lie: {line.lie_by} ", style="red")
    if line.probe_answer is not None:
        marks.append(f"≠ said {line.probe_answer} ", style="magenta")
    if line.changed:
        marks.append("Δ changed", style="yellow")
    return Text(line.label), container, source, marks


class BeliefMatrix(DataTable):
    """Where everyone thinks the selected object is, or whether the fact holds (renders a `MatrixView`;
    scrolls; ←/→ scrub a replay)."""

    BINDINGS = [
        Binding("left", "app.scrub(-1)", "earlier", show=False),
        Binding("right", "app.scrub(1)", "later", show=False),
    ]

    def __init__(self, **kwargs: object) -> None:
        super().__init__(cursor_type="row", zebra_stripes=True, **kwargs)  # type: ignore[arg-type]
        self._rows: list[str] = []
        self._kind = "object"

    def on_mount(self) -> None:
        for key, label in COLUMNS:
            self.add_column(label, key=key)

    def _columns_for(self, kind: str) -> None:
        """Relabel the columns for an object's matrix or a fact's (the rows go too)."""
        if kind == self._kind:
            return
        self.clear(columns=True)
        for key, label in FACT_COLUMNS if kind == "fact" else COLUMNS:
            self.add_column(label, key=key)
        self._rows = []
        self._kind = kind

    def show(self, view: MatrixView) -> None:
        """Render `view`: cells are updated in place while the rows stay the same, so the scroll stays."""
        what = f"fact {view.object}" if view.kind == "fact" else f"the {view.object}"
        self.border_title = f"belief matrix · {what} · turn {view.turn} · order {view.order}"
        self.border_subtitle = "o object · m close"
        self._columns_for(view.kind)
        fact = view.kind == "fact"
        if view.unavailable is not None:
            self.clear()
            self._rows = []
            self.add_row(Text(view.unavailable), Text(""), Text(""), Text(""))
            return
        labels = [line.label for line in view.lines]
        if labels != self._rows:
            self.clear()
            for line in view.lines:
                self.add_row(*matrix_cells(line, fact), key=line.label)
            self._rows = labels
            return
        for line in view.lines:
            for (key, _), value in zip(COLUMNS, matrix_cells(line, fact), strict=True):
                self.update_cell(line.label, key, value)
