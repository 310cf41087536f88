"""The Textual TUI: the only package of simstage that imports textual.

`make_app` builds a live app, `make_replay_app` one over a run log; both are
used by the CLI (`simstage tui`, `simstage replay --tui`) and by the tests.
"""

from __future__ import annotations

from simstage.tui.app import SimstageApp
from simstage.tui.factory import make_app, make_replay_app

__all__ = ["SimstageApp", "make_app", "make_replay_app"]
