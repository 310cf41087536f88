"""The transcript marks a probe answer against the tracker (what the ToM score counts), not reality."""

from __future__ import annotations

from io import StringIO

from rich.console import Console

from simstage.events import ProbeAnswered
from simstage.render import TranscriptPrinter


def _printer(sally_anne) -> TranscriptPrinter:
    console = Console(file=StringIO(), width=200, color_system=None)
    return TranscriptPrinter(console, sally_anne.scenario, spinner=False)


def _probe(answer: str) -> ProbeAnswered:
    # Sally left before Anne moved the marble: reality is the box, Sally's belief the basket.
    return ProbeAnswered(
        turn=5,
        ask="Sally",
        about="marble",
        question="Where is the marble?",
        options=("basket", "box"),
        answer=answer,
        truth="box",
    )


def test_the_false_belief_answer_is_marked_right_and_reality_is_shown_beside(sally_anne) -> None:
    line = _printer(sally_anne).format(_probe("basket"), tracker="basket")
    assert "✓" in line and "≠" not in line
    assert "really: box" in line and "tracker: basket" in line


def test_the_answer_that_names_reality_fails_the_false_belief_test(sally_anne) -> None:
    line = _printer(sally_anne).format(_probe("box"), tracker="basket")
    assert "≠" in line and "✓" not in line
    assert "really: box" in line


def test_no_mark_without_a_tracker_answer(sally_anne) -> None:
    line = _printer(sally_anne).format(_probe("box"))
    assert "✓" not in line and "≠" not in line
