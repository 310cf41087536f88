"""ToMi stories (bAbI format) read into simstage scenes and answered by the tracker.

A file holds stories of numbered lines; a line numbered 1 starts a new story.
Questions carry `<TAB>answer<TAB>supporting`. The sentences are those of ToMi's
generator (facebookresearch/ToMi, `tomi/actions.py`): entered, exited (left,
went out of), "is in" / "are in" for where characters are, "The X is in the
Y.", moved, looked in, told where, and filler ("Isla dislikes the hall").

The world is ToMi's: containers are open ("assume all containers are not
enclosed"), so whoever enters a room learns where everything in it is, and
whoever is present when "The pear is in the crate." is said sees it.

Two forms are read, and told apart by what the file says:

- the fixed form (Arodi & Cheung 2021, used by SymbolicToM) states each
  container's room ("The crate is in the pantry.");
- the original form, as shipped, never does, and ends filler lines without a
  full stop. ToMi's generator puts both containers of a story in the room its
  first two characters enter, where the object is announced with both there and
  moved (`oracle.set_containers(location, [container_1, container_2])`), so a
  container whose room is not stated stands in the room most characters are in
  when the story first says something is in it (a move target: the mover's room).

"The X is in the Y." places an object when X is something the story moves or
asks about (or Y is a container), and a container otherwise, so a name that is
both a room and a container ("pantry") keeps its object. An optional `.trace`
file beside the stories holds one comma-separated line per story whose last two
fields are the question type (e.g. `first_order_0_tom`) and the story type.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from simstage.inputs import read_input
from simstage.tom.stories import Benchmark, Question, Scored, StoryBuilder, StoryError, StoryStep

_NAME = r"([A-Z][\w-]*)"
_THING = r"([\w-]+(?: [\w-]+)*?)"
_PATTERNS: list[tuple[str, re.Pattern[str]]] = [
    ("enter", re.compile(rf"^{_NAME} entered the {_THING}\.$")),
    ("exit", re.compile(rf"^{_NAME} (?:exited|left|went out of) the {_THING}\.$")),
    ("place", re.compile(rf"^{_NAME} is in the {_THING}\.$")),
    ("place2", re.compile(rf"^{_NAME} and {_NAME} are in the {_THING}\.$")),
    ("move", re.compile(rf"^{_NAME} moved the {_THING} to the {_THING}\.$")),
    ("peek", re.compile(rf"^{_NAME} looked in the {_THING}\.$")),
    ("tell", re.compile(rf"^{_NAME} told {_NAME} where the {_THING} is\.$")),
    ("in", re.compile(rf"^The {_THING} is in the {_THING}\.$")),
    # ToMi's NoiseAction has no full stop; the fixed form adds one.
    ("noise", re.compile(rf"^{_NAME} (?:likes|dislikes|loves|hates) the {_THING}\.?$")),
]
_QUESTIONS: list[tuple[str, re.Pattern[str]]] = [
    ("first", re.compile(rf"^Where will {_NAME} look for the {_THING}\?$")),
    ("second", re.compile(rf"^Where does {_NAME} think that {_NAME} searches for the {_THING}\?$")),
    ("memory", re.compile(rf"^Where was the {_THING} at the beginning\?$")),
    ("reality", re.compile(rf"^Where is the {_THING} really\?$")),
]
_LINE = re.compile(r"^\s*(\d+)\s+(.*?)\s*$")

FIXED, ORIGINAL = "fixed", "original"


def _question(kind: str, groups: tuple[str, ...], text: str) -> Question:
    if kind == "first":
        return Question("belief", groups[1], holder=groups[0], text=text)
    if kind == "second":
        return Question("belief", groups[2], holder=groups[0], chain=(groups[1],), text=text)
    return Question("memory" if kind == "memory" else "reality", groups[0], text=text)


def _default_type(question: Question) -> str:
    if question.kind != "belief":
        return question.kind
    return "first_order" if question.order == 1 else "second_order"


@dataclass
class _Story:
    """One story as read: its steps, its "The X is in the Y." lines, questions and text."""

    name: str
    steps: list[StoryStep] = field(default_factory=list)
    expected: list[tuple[int, str, str, str]] = field(default_factory=list)
    lines: list[str] = field(default_factory=list)
    stated_rooms: int = 0
    noise_without_stop: int = 0


def _read_line(story: _Story, lineno: int, body: str, name: str) -> None:
    """Add one statement line to `story` ("The X is in the Y." is resolved later)."""
    for kind, pattern in _PATTERNS:
        match = pattern.match(body)
        if match is None:
            continue
        g = match.groups()
        if kind in ("enter", "exit", "place"):
            story.steps.append(StoryStep(kind, lineno, who=g[0], location=g[1]))  # type: ignore[arg-type]
        elif kind == "place2":
            story.steps.append(StoryStep("place", lineno, who=g[0], location=g[2]))
            story.steps.append(StoryStep("place", lineno, who=g[1], location=g[2]))
        elif kind == "move":
            story.steps.append(StoryStep("move", lineno, who=g[0], object=g[1], container=g[2]))
        elif kind == "peek":
            story.steps.append(StoryStep("peek", lineno, who=g[0], container=g[1]))
        elif kind == "tell":
            story.steps.append(StoryStep("claim", lineno, who=g[0], listener=g[1], object=g[2]))
        elif kind == "in":
            story.steps.append(StoryStep("see", lineno, object=g[0], container=g[1]))
        elif not body.endswith("."):
            story.noise_without_stop += 1
        return
    raise StoryError(f"{name}:{lineno}: unknown statement: {body[:80]!r}")


def _resolve(story: _Story) -> dict[str, str]:
    """Turn "The X is in the Y." into object sightings or container rooms; return the rooms.

    X is an object when the story moves it, tells of it or asks about it, or when
    Y is known as a container; otherwise X is a container and Y its room.
    """
    rooms = {s.location for s in story.steps if s.kind in ("enter", "exit", "place")}
    objects = {s.object for s in story.steps if s.kind in ("move", "claim")}
    objects |= {s.question.object for s in story.steps if s.kind == "question" and s.question}
    containers = {s.container for s in story.steps if s.kind in ("move", "peek")}
    containers |= {s.container for s in story.steps if s.kind == "see" and s.object in objects}
    stated: dict[str, str] = {}
    kept: list[StoryStep] = []
    for step in story.steps:
        if step.kind == "see" and step.object not in objects:
            placing = step.object in containers or (
                step.container not in containers and step.container in rooms
            )
            if placing:
                stated.setdefault(step.object, step.container)
                continue
        kept.append(step)
    story.steps = kept
    story.stated_rooms = len(stated)
    return {**_inferred_rooms(story.steps), **stated}


def _check_questions(story: _Story, name: str) -> None:
    """Every question asks about an object the story places (seen in, or moved to, a container)."""
    placed = {s.object for s in story.steps if s.kind in ("see", "move")}
    for step in story.steps:
        if step.kind == "question" and step.question and step.question.object not in placed:
            raise StoryError(
                f"{name}:{step.line}: the story never says where the {step.question.object} is"
            )


def _inferred_rooms(steps: list[StoryStep]) -> dict[str, str]:
    """Where ToMi's generator put each container: the mover's room, or where most characters are when it is named."""
    where: dict[str, str] = {}
    last = ""
    rooms: dict[str, str] = {}
    for step in steps:
        if step.kind in ("enter", "place"):
            where[step.who] = last = step.location
        elif step.kind == "exit":
            where.pop(step.who, None)
        elif step.kind in ("move", "peek") and step.who in where:
            rooms.setdefault(step.container, where[step.who])
        elif step.kind == "see" and where:
            crowd = Counter(where.values())
            rooms.setdefault(
                step.container, max(crowd, key=lambda room: (crowd[room], room == last))
            )
    return rooms


def read_tomi(path: str | Path, *, rules: str = "default") -> Benchmark:
    """Read a ToMi file (fixed or original form), play every story, and score the tracker's answers.

    Args:
        path: the stories (bAbI format); a `.trace` file beside it gives question types.
        rules: the tracker's rule set (`default`, `tomi`, `hitom`).

    Returns:
        The scored questions; `facts["form"]` says which form the file is in.

    Raises:
        StoryError: unreadable file or a malformed line (the message names file and line).
    """
    name = str(path)
    try:
        text = read_input(path).decode("utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise StoryError(f"{name}: cannot read: {getattr(exc, 'strerror', None) or exc}") from None
    traces = _read_traces(Path(path))
    stories: list[_Story] = []
    previous = 0
    for lineno, raw in enumerate(text.splitlines(), start=1):
        if not raw.strip():
            continue
        match = _LINE.match(raw)
        if match is None:
            raise StoryError(f"{name}:{lineno}: not a numbered story line: {raw[:80]!r}")
        number, body = int(match.group(1)), match.group(2)
        if number == 1 or not stories:
            stories.append(_Story(f"{Path(name).name}#{len(stories) + 1}"))
        elif number <= previous:
            raise StoryError(
                f"{name}:{lineno}: line number {number} after {previous} (a story starts at 1)"
            )
        previous = number
        story = stories[-1]
        story.lines.append(f"{number} {body}")
        if "\t" not in body:
            _read_line(story, lineno, body, name)
            continue
        fields = body.split("\t")
        if len(fields) < 2 or not fields[1].strip():
            raise StoryError(f"{name}:{lineno}: question without an answer: {raw[:80]!r}")
        q_text, answer = fields[0].strip(), fields[1].strip()
        for kind, pattern in _QUESTIONS:
            q_match = pattern.match(q_text)
            if q_match:
                story.steps.append(
                    StoryStep(
                        "question", lineno, question=_question(kind, q_match.groups(), q_text)
                    )
                )
                told = "\n".join(line for line in story.lines if "\t" not in line)
                story.expected.append((lineno, q_text, answer, told))
                break
        else:
            raise StoryError(f"{name}:{lineno}: unknown question: {q_text[:80]!r}")
    if not stories:
        raise StoryError(f"{name}: no stories")
    scored: list[Scored] = []
    for index, story in enumerate(stories):
        rooms = _resolve(story)
        _check_questions(story, name)
        builder = StoryBuilder(
            story.name, open_containers=True, order=2, rules=rules, container_rooms=rooms
        )
        builder.steps = story.steps
        scene, _, answers = builder.play(name)
        trace = traces[index] if index < len(traces) else None
        options = tuple(scene.world.containers)
        for answered, (lineno, q_text, answer, told) in zip(answers, story.expected, strict=True):
            qtype = trace[0] if trace else _default_type(answered.question)
            scored.append(
                Scored(
                    story.name,
                    lineno,
                    q_text,
                    qtype,
                    answer,
                    answered.answer,
                    "\n".join(story.lines),
                    context=told,
                    options=options,
                )
            )
    stated = sum(story.stated_rooms for story in stories)
    form = FIXED if stated and not sum(story.noise_without_stop for story in stories) else ORIGINAL
    note = (
        "read as the fixed form: containers' rooms as the stories state them"
        if form == FIXED
        else "read as the original form: containers stand where ToMi's generator puts them "
        "(the room a story's characters are in when it first names them)"
    )
    return Benchmark(scored, notes=[note], facts={"form": form, "stories": len(stories)})


def _read_traces(path: Path) -> list[tuple[str, str]]:
    """(question type, story type) per story from the `.trace` file beside `path`, if any."""
    trace = path.with_suffix(".trace")
    if not trace.exists():
        return []
    out: list[tuple[str, str]] = []
    try:
        lines = read_input(trace).decode("utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as exc:
        raise StoryError(f"{trace}: cannot read: {exc}") from None
    for lineno, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        fields = [f.strip() for f in line.split(",")]
        if len(fields) < 2:
            raise StoryError(
                f"{trace}:{lineno}: a trace needs at least question type and story type"
            )
        out.append((fields[-2], fields[-1]))
    return out
