"""The app's keys: the bindings, and the table the help screen and the command palette read."""

from __future__ import annotations

from textual.binding import Binding

LIVE = "live"
"""Marks an action that needs a live run (a replay has no stage)."""

_TABLE: list[tuple[str, str, str, str, str]] = [
    # (key shown in help, action, palette name, help, LIVE or "" for any run, live or replayed)
    (
        "space",
        "toggle_run",
        "Run / pause",
        "play turns one after another, or pause after this turn",
        LIVE,
    ),
    ("n", "step", "Step one turn", "play exactly one turn", LIVE),
    ("s", "speak", "Speak as a character", "type a line for a character", LIVE),
    ("e", "inject", "Inject a world event", "someone leaves or comes in, an object moves", LIVE),
    ("p", "probe", "Probe the selected character", "ask where it thinks each object is", LIVE),
    ("f", "fork", "Fork the run here", "continue in a new run log from this turn", LIVE),
    ("x", "export", "Export the belief graph", "write the tracker's beliefs as a graph", ""),
    (
        "m",
        "matrix",
        "Belief matrix",
        "show or hide where everyone thinks the selected object is",
        "",
    ),
    ("o", "next_object", "Next object", "choose the object (or fact) the belief matrix shows", ""),
    ("[ ]", "select(1)", "Next character", "choose whose beliefs and secrets are shown", ""),
    ("←/→", "scrub(1)", "Later turn", "move the replay one turn (replay only)", ""),
    ("?", "help", "Help", "list every key", ""),
    ("q", "quit", "Quit", "stop cleanly; the run log records the interruption", ""),
]

ACTIONS = [(key, action, name, help_text) for key, action, name, help_text, _ in _TABLE]
"""Every action as (key, action, palette name, help), as the help screen and the palette list them."""
LIVE_ONLY = {action for _key, action, _name, _help, needs in _TABLE if needs == LIVE}

KEY_BINDINGS: list[Binding | tuple[str, str] | tuple[str, str, str]] = [
    Binding("space", "toggle_run", "run/pause"),
    Binding("n", "step", "step"),
    Binding("s", "speak", "speak as"),
    Binding("e", "inject", "event"),
    Binding("p", "probe", "probe"),
    Binding("f", "fork", "fork", show=False),
    Binding("x", "export", "export", show=False),
    Binding("m", "matrix", "matrix"),
    Binding("o", "next_object", "object", show=False),
    Binding("left_square_bracket", "select(-1)", "prev", show=False),
    Binding("right_square_bracket", "select(1)", "character"),
    Binding("question_mark", "help", "help"),
    Binding("q", "quit", "quit"),
    Binding("ctrl+c", "quit", "quit", show=False, priority=True),
]
