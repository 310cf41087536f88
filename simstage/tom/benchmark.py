"""A benchmark file answered: each question scored against the dataset's answer, and the summary.

`summarise` gives accuracy with its 95% Wilson interval, overall, by question
type and, with several copies of the dataset, by copy; `label_conflicts` counts
the questions a dataset answers two ways.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from simstage.stats import WILSON, wilson


@dataclass
class Scored:
    """One answered question, scored against the dataset's answer."""

    story: str
    line: int
    question: str
    qtype: str
    expected: str
    answer: str | None
    story_text: str = ""
    context: str = ""
    """The story as told up to the question (no questions, no answers): what a model reads."""
    options: tuple[str, ...] = ()
    """The answers a model may choose from (the dataset's choices, or the story's containers)."""
    copy: str = ""
    """Which copy of the dataset the question belongs to, when it holds several (Hi-ToM's prompting type)."""

    @property
    def correct(self) -> bool:
        """Whether the tracker's answer is the dataset's."""
        return self.answer == self.expected


@dataclass
class Benchmark:
    """A benchmark file read and answered: the scored questions and what a reader should know."""

    scored: list[Scored]
    notes: list[str] = field(default_factory=list)
    """Lines to print under the figures (how the file was read, what in it no rule set can answer)."""
    facts: dict[str, Any] = field(default_factory=dict)
    """The same, JSON-ready (e.g. `{"form": "original"}`)."""


def _score(n: int, right: int) -> dict[str, Any]:
    interval = wilson(right, n)
    return {
        "n": n,
        "accuracy": right / n if n else 0.0,
        "interval": None if interval is None else [interval.low, interval.high],
    }


def summarise(scored: list[Scored]) -> dict[str, Any]:
    """`{"n", "accuracy", "interval", "method", "by_type": {type: {"n", "accuracy", "interval"}}}`.

    Accuracy is a fraction; `interval` its 95% Wilson interval (`method` names it).
    With several copies of the dataset, `by_copy` scores each copy the same way,
    and `by_type_copy` each type within each copy.
    """
    tables: dict[str, dict[Any, list[int]]] = {"by_type": {}, "by_copy": {}, "by_type_copy": {}}
    for item in scored:
        for table, key in (
            ("by_type", item.qtype),
            ("by_copy", item.copy),
            ("by_type_copy", (item.qtype, item.copy)),
        ):
            counts = tables[table].setdefault(key, [0, 0])
            counts[0] += 1
            counts[1] += item.correct
    right = sum(item.correct for item in scored)
    summary = {
        **_score(len(scored), right),
        "method": WILSON,
        "by_type": {qtype: _score(n, ok) for qtype, (n, ok) in sorted(tables["by_type"].items())},
    }
    if len(tables["by_copy"]) > 1:
        summary["by_copy"] = {
            copy: _score(n, ok) for copy, (n, ok) in sorted(tables["by_copy"].items())
        }
        nested: dict[str, dict[str, Any]] = {}
        for (qtype, copy), (n, ok) in sorted(tables["by_type_copy"].items()):
            nested.setdefault(qtype, {})[copy] = _score(n, ok)
        summary["by_type_copy"] = nested
    return summary


def label_conflicts(scored: list[Scored]) -> tuple[int, int]:
    """(pairs, conflicting): story-question pairs that occur more than once, and those whose answers differ.

    Stories are compared by their numbered lines, so copies that differ only in
    the instructions around the story count as one.
    """
    answers: dict[tuple[str, str], set[str]] = {}
    counts: dict[tuple[str, str], int] = {}
    for item in scored:
        body = "\n".join(line for line in item.story_text.splitlines() if line[:1].isdigit())
        key = (body, item.question)
        answers.setdefault(key, set()).add(item.expected)
        counts[key] = counts.get(key, 0) + 1
    repeated = [key for key, count in counts.items() if count > 1]
    return len(repeated), sum(1 for key in repeated if len(answers[key]) > 1)
