"""ToMi stories (bAbI format) read into simstage scenes and answered by the tracker.

A file holds stories of numbered lines; a line numbered 1 starts a new story.
Questions carry `<TAB>answer<TAB>supporting`. Containers are closed, as in
ToMi: entering a room shows nothing; "The pear is in the crate." is seen by
everyone present. An optional `.trace` file beside the stories holds one
comma-separated line per story whose last two fields are the question type
(e.g. `first_order_0_tom`) and the story type.
"""

from __future__ import annotations

import re
from pathlib import Path

from simstage.tom.stories import Question, Scored, StoryBuilder, StoryError, StoryStep

_NAME = r"([A-Z][\w-]*)"
_THING = r"([\w-]+(?: [\w-]+)*?)"
_PATTERNS: list[tuple[str, re.Pattern[str]]] = [
    ("enter", re.compile(rf"^{_NAME} entered the {_THING}\.$")),
    ("exit", re.compile(rf"^{_NAME} exited the {_THING}\.$")),
    ("place", re.compile(rf"^{_NAME} is in the {_THING}\.$")),
    ("move", re.compile(rf"^{_NAME} moved the {_THING} to the {_THING}\.$")),
    ("see", re.compile(rf"^The {_THING} is in the {_THING}\.$")),
    ("noise", re.compile(rf"^{_NAME} (?:likes|dislikes|loves|hates) the {_THING}\.$")),
]
_QUESTIONS: list[tuple[str, re.Pattern[str]]] = [
    ("first", re.compile(rf"^Where will {_NAME} look for the {_THING}\?$")),
    ("second", re.compile(rf"^Where does {_NAME} think that {_NAME} searches for the {_THING}\?$")),
    ("memory", re.compile(rf"^Where was the {_THING} at the beginning\?$")),
    ("reality", re.compile(rf"^Where is the {_THING} really\?$")),
]
_LINE = re.compile(r"^\s*(\d+)\s+(.*?)\s*$")


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


def read_tomi(path: str | Path) -> list[Scored]:
    """Read a ToMi file, play every story, and score the tracker's answers.

    Raises:
        StoryError: unreadable file or a malformed line (the message names file and line).
    """
    name = str(path)
    try:
        text = Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise StoryError(f"{name}: cannot read: {getattr(exc, 'strerror', None) or exc}") from None
    traces = _read_traces(Path(path))
    stories: list[tuple[StoryBuilder, list[tuple[int, str, str, str]], list[str]]] = []
    for lineno, raw in enumerate(text.splitlines(), start=1):
        if not raw.strip():
            continue
        match = _LINE.match(raw)
        if match is None:
            raise StoryError(f"{name}:{lineno}: not a numbered story line: {raw[:80]!r}")
        number, body = int(match.group(1)), match.group(2)
        if number == 1 or not stories:
            stories.append((StoryBuilder(f"{Path(name).name}#{len(stories) + 1}"), [], []))
        builder, expected, lines = stories[-1]
        lines.append(f"{number} {body}")
        if "\t" in body:
            fields = body.split("\t")
            if len(fields) < 2 or not fields[1].strip():
                raise StoryError(f"{name}:{lineno}: question without an answer: {raw[:80]!r}")
            q_text, answer = fields[0].strip(), fields[1].strip()
            for kind, pattern in _QUESTIONS:
                q_match = pattern.match(q_text)
                if q_match:
                    question = _question(kind, q_match.groups(), q_text)
                    builder.add(StoryStep("question", lineno, question=question))
                    told = "\n".join(line for line in lines if "\t" not in line)
                    expected.append((lineno, q_text, answer, told))
                    break
            else:
                raise StoryError(f"{name}:{lineno}: unknown question: {q_text[:80]!r}")
            continue
        for kind, pattern in _PATTERNS:
            s_match = pattern.match(body)
            if s_match is None:
                continue
            g = s_match.groups()
            if kind == "enter" or kind == "place":
                builder.add(StoryStep(kind, lineno, who=g[0], location=g[1]))  # type: ignore[arg-type]
            elif kind == "exit":
                builder.add(StoryStep("exit", lineno, who=g[0], location=g[1]))
            elif kind == "move":
                builder.add(StoryStep("move", lineno, who=g[0], object=g[1], container=g[2]))
            elif kind == "see":
                builder.add(StoryStep("see", lineno, object=g[0], container=g[1]))
            break
        else:
            raise StoryError(f"{name}:{lineno}: unknown statement: {body[:80]!r}")
    scored: list[Scored] = []
    for index, (builder, expected, lines) in enumerate(stories):
        _fix_container_statements(builder)
        scene, _, answers = builder.play(name)
        trace = traces[index] if index < len(traces) else None
        options = tuple(scene.world.containers)
        for answered, (lineno, q_text, answer, told) in zip(answers, expected, strict=True):
            qtype = trace[0] if trace else _default_type(answered.question)
            scored.append(
                Scored(
                    builder.name, lineno, q_text, qtype, answer, answered.answer, "\n".join(lines),
                    context=told, options=options,
                )
            )
    return scored


def _fix_container_statements(builder: StoryBuilder) -> None:
    """"The crate is in the pantry." names a room, not a container: it places the crate."""
    rooms = {s.location for s in builder.steps if s.kind in ("enter", "place", "exit")}
    fixed: list[StoryStep] = []
    placed: dict[str, str] = {}
    for step in builder.steps:
        if step.kind == "see" and step.container in rooms:
            placed[step.object] = step.container
            continue
        fixed.append(step)
    builder.steps = [
        StoryStep("see", s.line, object=s.object, container=s.container, location=placed[s.container])
        if s.kind == "see" and s.container in placed
        else s
        for s in fixed
    ]


def _read_traces(path: Path) -> list[tuple[str, str]]:
    """(question type, story type) per story from the `.trace` file beside `path`, if any."""
    trace = path.with_suffix(".trace")
    if not trace.exists():
        return []
    out: list[tuple[str, str]] = []
    try:
        lines = trace.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as exc:
        raise StoryError(f"{trace}: cannot read: {exc}") from None
    for lineno, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        fields = [f.strip() for f in line.split(",")]
        if len(fields) < 2:
            raise StoryError(f"{trace}:{lineno}: a trace needs at least question type and story type")
        out.append((fields[-2], fields[-1]))
    return out
