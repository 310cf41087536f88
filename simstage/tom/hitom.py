"""Hi-ToM stories (He et al., 2023) read into simstage scenes and answered by the tracker.

The file is JSON, `{"data": [...]}`, one record per question with its whole
story. Characters wait in the waiting_room (entering it is no observation) and
go there on leaving a room; containers are open, so whoever enters a room sees
what is where. "publicly claimed" is heard by everyone in the waiting room,
"privately told" by the listener only. Questions go from order 0 ("Where is
the X really?") to order 4.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from simstage.inputs import read_input
from simstage.tom.stories import (
    Benchmark,
    Question,
    Scored,
    StoryBuilder,
    StoryError,
    StoryStep,
    label_conflicts,
)

WAITING_ROOM = "waiting_room"
_NAME = r"([A-Z][\w-]*)"
_W = r"([\w-]+)"
_CHOICE = re.compile(r"(?:^|,)\s*[A-Z]{1,2}\.\s*([\w-]+)")
_ENTER = re.compile(rf"^((?:{_NAME}, )*{_NAME}(?: and {_NAME})?) entered the {_W}\.$")
_PATTERNS: list[tuple[str, re.Pattern[str]]] = [
    ("exit", re.compile(rf"^{_NAME} (?:exited|left|went out of) the {_W}\.$")),
    ("see", re.compile(rf"^The {_W} is in the {_W}\.$")),
    ("move", re.compile(rf"^{_NAME} moved the {_W} to the {_W}\.$")),
    ("public", re.compile(rf"^{_NAME} publicly claimed that (?:the )?{_W} is in the {_W}\.$")),
    (
        "private",
        re.compile(rf"^{_NAME} privately told {_NAME} that (?:the )?{_W} is in the {_W}\.$"),
    ),
    (
        "noise",
        re.compile(rf"^{_NAME} made no movements and stayed in the {_W} for \d+ minutes?\.$"),
    ),
    ("noise", re.compile(rf"^{_NAME} (?:likes|dislikes|loves|hates) the {_W}\.$")),
    ("noise", re.compile(rf"^{_NAME} (?:saw an? \w+|lost (?:his|her|their) \w+)\.$")),
]
_QUESTIONS = [
    re.compile(rf"^Where is the {_W} really\?$"),
    re.compile(rf"^Where does {_NAME} really think the {_W} is\?$"),
    re.compile(rf"^Where does {_NAME} think ((?:{_NAME} thinks )+)the {_W} is\?$"),
]
_LINE = re.compile(r"^\s*(\d+)\s+(.*?)\s*$")


def _parse_question(text: str) -> Question | None:
    text = text.strip()
    match = _QUESTIONS[0].match(text)
    if match:
        return Question("reality", match.group(1), text=text)
    match = _QUESTIONS[1].match(text)
    if match:
        return Question("belief", match.group(2), holder=match.group(1), text=text)
    match = _QUESTIONS[2].match(text)
    if match:
        chain = tuple(part for part in match.group(2).split(" thinks ") if part.strip())
        return Question("belief", match.groups()[-1], holder=match.group(1), chain=chain, text=text)
    return None


def story_steps(story: str, where: str, *, rules: str = "default") -> StoryBuilder:
    """A Hi-ToM story as a `StoryBuilder` (no question yet), answered under `rules`.

    Raises:
        StoryError: a line that is not a Hi-ToM statement (`where` names the record).
    """
    builder = StoryBuilder(where, start=WAITING_ROOM, open_containers=True, order=4, rules=rules)
    for index, raw in enumerate(story.splitlines(), start=1):
        if not raw.strip() or raw.strip() == "***":
            continue
        match = _LINE.match(raw)
        if match is None and not builder.steps:
            continue  # the prompt's instructions before the story
        if match is None:
            raise StoryError(f"{where}: story line {index}: not a numbered line: {raw[:80]!r}")
        body = match.group(2)
        enter = _ENTER.match(body)
        if enter:
            location = enter.groups()[-1]
            if location == WAITING_ROOM:
                continue
            names = re.split(r", | and ", enter.group(1))
            for name in names:
                builder.add(StoryStep("enter", index, who=name, location=location))
            continue
        for kind, pattern in _PATTERNS:
            found = pattern.match(body)
            if found is None:
                continue
            g = found.groups()
            if kind == "exit":
                builder.add(StoryStep("exit", index, who=g[0], location=g[1]))
            elif kind == "see":
                builder.add(StoryStep("see", index, object=g[0], container=g[1]))
            elif kind == "move":
                builder.add(StoryStep("move", index, who=g[0], object=g[1], container=g[2]))
            elif kind == "public":
                builder.add(StoryStep("claim", index, who=g[0], object=g[1], container=g[2]))
            elif kind == "private":
                builder.add(
                    StoryStep("claim", index, who=g[0], listener=g[1], object=g[2], container=g[3])
                )
            break
        else:
            raise StoryError(f"{where}: story line {index}: unknown statement: {body[:80]!r}")
    return builder


def _records(path: Path) -> list[dict[str, Any]]:
    name = str(path)
    try:
        data = json.loads(read_input(path).decode("utf-8"))
    except OSError as exc:
        raise StoryError(f"{name}: cannot read: {exc.strerror}") from None
    except (UnicodeDecodeError, ValueError) as exc:
        raise StoryError(f"{name}: not JSON: {str(exc).splitlines()[0][:120]}") from None
    records = data.get("data") if isinstance(data, dict) else data
    if not isinstance(records, list):
        raise StoryError(f'{name}: expected {{"data": [...]}} or a list of records')
    return records


def _choices(text: Any) -> tuple[str, ...]:
    """The record's choices, "A. blue_drawer, B. green_crate, ..." as names (empty when absent)."""
    if not isinstance(text, str):
        return ()
    return tuple(match.group(1) for match in _CHOICE.finditer(text))


def read_hitom(path: str | Path, *, rules: str = "default") -> Benchmark:
    """Read a Hi-ToM file, play every story, and score the tracker's answers.

    Question types are `order_N` (N = 0..4), with `_deception` appended for
    stories with claims and tells. The published file holds every story and
    question twice, once per prompting type (CoTP, VP), and the two copies do not
    always carry the same answer; the notes count those pairs, and the summary
    scores each copy apart.

    Args:
        path: the JSON file.
        rules: the tracker's rule set (`default`, `tomi`, `hitom`).

    Raises:
        StoryError: unreadable file or malformed record (the message names file and record).
    """
    name = str(path)
    scored: list[Scored] = []
    for number, record in enumerate(_records(Path(path))):
        where = f"{name}: record {number}"
        if not isinstance(record, dict) or not all(
            k in record for k in ("story", "question", "answer")
        ):
            raise StoryError(f"{where}: needs story, question and answer")
        question = _parse_question(str(record["question"]))
        if question is None:
            raise StoryError(f"{where}: unknown question: {str(record['question'])[:80]!r}")
        builder = story_steps(str(record["story"]), where, rules=rules)
        builder.add(StoryStep("question", 0, question=question))
        scene, _, answers = builder.play(where)
        order = record.get("question_order", question.order)
        qtype = f"order_{order}" + ("_deception" if record.get("deception") else "")
        scored.append(
            Scored(
                story=f"record {number}",
                line=0,
                question=question.text,
                qtype=qtype,
                expected=str(record["answer"]),
                answer=answers[-1].answer,
                story_text=str(record["story"]),
                context=str(record["story"]).strip(),
                options=_choices(record.get("choices")) or tuple(scene.world.containers),
                copy=str(record.get("prompting_type") or ""),
            )
        )
    pairs, conflicting = label_conflicts(scored)
    notes = []
    if conflicting:
        notes.append(
            f"{conflicting} of the {pairs} story-question pairs that the file holds more than once carry "
            "different answers in different copies: no rule set answers both copies of those"
        )
    return Benchmark(
        scored, notes=notes, facts={"repeated_pairs": pairs, "conflicting_pairs": conflicting}
    )
