"""A character's prompt as a screenplay, for base models (no chat template).

A base model has no assistant to instruct; it continues text. So each
character's sequence holds a screenplay of what that character witnessed: a
header with the scene and the cast, stage directions in brackets, and
`Name: line` for everything spoken. The character speaks by continuing after
its own `Name:` up to the end of the line; its action is then chosen by
log-probability among the stage directions the world allows (`action_options`),
so even a base model's turn is always a valid one. Lines only ever append, so
the stage keeps each sequence's KV cache between turns, as for chat prompts.

This is the model's own text: the display (`render.py`) is never reused here.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Generator, Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from simstage.cast.narrator import public_line
from simstage.cast.probes import ANSWER_PREFIX
from simstage.cast.prompt import known_at_start, perceived
from simstage.cast.turn import MAX_LINE_CHARS
from simstage.events import (
    Asserted,
    Claimed,
    ContextTrimmed,
    DirectionGiven,
    Entered,
    Peeked,
    PeekStopped,
    Rejected,
    Said,
    Told,
    Witnessed,
)
from simstage.scenario.models import Scenario
from simstage.stage.base import Message
from simstage.world.actions import clause, statement_text
from simstage.world.state import WorldState


def _names(names: Sequence[str]) -> str:
    if len(names) <= 1:
        return "".join(names)
    return ", ".join(names[:-1]) + " and " + names[-1]


def header(scenario: Scenario, name: str | None) -> str:
    """The title page: the scene, places and cast; with `name`, that character's own part."""
    world = scenario.world
    lines = [f'THE SCENE: "{scenario.title}"', f"PLACES: {', '.join(world.locations)}."]
    if world.containers:
        lines.append(
            "IN THEM: "
            + ", ".join(f"the {c} (in the {cfg.in_})" for c, cfg in world.containers.items())
            + "."
        )
    lines.append("CAST:")
    # Not `Name: text`, which is how a line of dialogue looks.
    for member in scenario.cast:
        if name is None or member.name == name:
            lines.append(f"- {member.name.upper()}, {member.persona}")
        else:
            lines.append(f"- {member.name.upper()}")
    if name is not None:
        member = scenario.character(name)
        if member.goals:
            lines.append(f"{name} wants: " + " ".join(member.goals))
        if member.secrets:
            lines.append(f"{name}'s secret, which only {name} knows: " + " ".join(member.secrets))
    return "\n".join(lines) + "\n"


def opening(scenario: Scenario, name: str) -> str:
    """The first stage direction: where the character is, who is there, what it sees."""
    world = WorldState.initial(scenario)
    here = world.character_location[name]
    present = world.present(here)
    parts = [f"The {here}.", f"{_names(present)} {'is' if len(present) == 1 else 'are'} here."]
    parts += [
        f"The {o} {world.be(o)} in the {c}."
        for o, c in world.object_container.items()
        if world.container_location[c] == here
    ]
    for o, c, others in known_at_start(scenario, name):
        parts.append(
            f"{_names([name, *others])} {'know' if others else 'knows'} that the {o} {world.be(o)} in the {c}."
        )
    for _, fact, holds, group in scenario.fact_knowledge():
        if name in group:
            said = clause(world.fact_text[fact])
            knows = "know" if len(group) > 1 else "knows"
            parts.append(
                f"{_names(list(group))} {knows} that {said if holds else 'it is not true that ' + said}."
            )
    return "[" + " ".join(parts) + "]"


OWN_LINES: dict[type, str] = {
    Said: "{who}: {text}",
    Claimed: "{who}: {text}",
    Asserted: "{who}: {text}",
    Told: '[{who} whispers to {to}: "{text}"]',
    Rejected: "[{who} cannot do that: {reason}.]",
    DirectionGiven: "[A direction for {to} alone: {text}]",
}
"""Screenplay lines of spoken words and of what only some characters perceive, by event type."""


def direction(event: object, me: str) -> str | None:
    """One witnessed event as a screenplay line; None for what a screenplay does not show.

    Spoken words are `Name: line`; what anyone in the room could see is the
    narrator's line in brackets, and what `me` saw on entering follows its entry.
    What `me` watched unseen from elsewhere is marked so.
    """
    line = _direction(event, me)
    if line is not None and isinstance(event, Witnessed) and me in event.watchers:
        return f"[Unseen, {me} watches from afar: {line.strip('[]')}]"
    return line


def _direction(event: object, me: str) -> str | None:
    if isinstance(event, Asserted) and event.to is not None:
        return f'[{event.who} whispers to {event.to}: "{event.text}"]'
    if isinstance(event, Peeked):
        return (
            f"[Unseen, {event.who} starts watching the {event.into}.]" if event.who == me else None
        )
    if isinstance(event, PeekStopped):
        return f"[{event.who} stops watching the {event.into}.]" if event.who == me else None
    template = OWN_LINES.get(type(event))
    if template is not None:
        return template.format_map(vars(event))
    seen = public_line(event)
    if seen is None:
        return None
    if isinstance(event, Entered) and event.who == me and event.sees:
        seen += " " + " ".join(f"The {o} is in the {c}." for o, c in event.sees.items())
    return f"[{seen}]"


def screenplay_messages(
    scenario: Scenario,
    name: str,
    events: Iterable[object],
    *,
    question: str | None = None,
    dropped: int = 0,
) -> list[Message]:
    """`name`'s screenplay so far, one line a message (the screenplay renderer joins them).

    Args:
        scenario: the scene.
        name: the character whose view this is; only what it perceived is shown.
        events: the run's events so far.
        question: a probe put to the character privately, as the last line.
        dropped: leave out this many more of the oldest lines (besides those the
            run's `ContextTrimmed` events for `name` already dropped).
    """
    lines: list[Message] = []
    for event in events:
        if isinstance(event, ContextTrimmed) and event.who == name:
            dropped += event.dropped
        elif perceived(event, name) and (line := direction(event, name)):
            lines.append(Message("user", line))
    messages = [Message("system", header(scenario, name)), Message("user", opening(scenario, name))]
    messages += lines[dropped:]
    if question is not None:
        messages.append(Message("user", f'[Someone asks {name} privately: "{question}"]'))
    return messages


def lines_in(messages: Sequence[Message]) -> int:
    """How many lines of a turn's screenplay could be dropped (not the header, opening or open line)."""
    return max(0, len(messages) - 3)


def turn_prefix(name: str) -> str:
    """Where a character's own line begins."""
    return f"{name}:"


def answer_prefix(name: str, prefix: str = ANSWER_PREFIX) -> str:
    """Where a character's answer to a probe begins (`prefix`: the answer's own start)."""
    return f"{name}: {prefix}"


def narrator_messages(scenario: Scenario, events: Iterable[Any]) -> list[Message]:
    """The public screenplay (who said and did what in anyone's sight), for choosing the next speaker."""
    messages = [Message("system", header(scenario, None))]
    for event in events:
        # What happened in someone's sight, but not whispers or what only one character noticed.
        if public_line(event) is not None and event.witnesses:
            line = direction(event, "")
            if line:
                messages.append(Message("user", line))
    return messages


@dataclass(frozen=True)
class ActionOption:
    """A stage direction a character may take after its line, and the action it stands for."""

    text: str
    action: dict[str, Any] | None


def action_options(scenario: Scenario, world: WorldState, name: str) -> list[ActionOption]:
    """Doing nothing more, then every move and exit the world allows `name` right now, then
    saying aloud that each fact holds, or not."""
    here = world.character_location[name]
    options = [ActionOption(f"[{name} stays put.]", None)]
    containers = [c for c, where in world.container_location.items() if where == here]
    for obj, container in world.object_container.items():
        if world.container_location[container] != here:
            continue
        for target in containers:
            if target != container:
                options.append(
                    ActionOption(
                        f"[{name} moves the {obj} from the {container} to the {target}.]",
                        {"type": "move", "object": obj, "to": target},
                    )
                )
    for place in scenario.world.locations:
        if place != here:
            options.append(
                ActionOption(
                    f"[{name} leaves the {here} for the {place}.]", {"type": "exit", "to": place}
                )
            )
    for fact, sentence in world.fact_text.items():
        for holds in (True, False):
            said = statement_text(sentence, holds)
            options.append(
                ActionOption(
                    f'[{name} says: "{said}"]', {"type": "assert", "fact": fact, "holds": holds}
                )
            )
    return options


def spoken_line(text: str) -> str:
    """The first line of a continuation, trimmed to a turn's length, without wrapping quotes."""
    line = text.split("\n", 1)[0].strip().strip('"').strip()
    return line[:MAX_LINE_CHARS]


def screenplay_turn(line: str, action: dict[str, Any] | None) -> str:
    """A screenplay turn as the JSON turn every other part reads (`cast.turn.parse_turn`)."""
    return json.dumps({"say": line, "action": action})


def play_line(
    stage: Any,
    seq: int,
    messages: Sequence[Message],
    sampling: Any,
    on_chunk: Callable[[str], None],
) -> str:
    """Stream a character's line: the continuation after its `Name:`, up to the end of the line.

    The stream is closed at the newline, so the stage stops decoding there.
    """
    stream = stage.generate(seq, messages, sampling)
    text = ""
    try:
        for chunk in stream:
            if "\n" in chunk and text.strip():
                head = chunk.split("\n", 1)[0]
                text += head
                if head:
                    on_chunk(head)
                break
            text += chunk
            on_chunk(chunk)
            if "\n" in text.strip():
                break
    finally:
        if isinstance(stream, Generator):  # stop the stage decoding past the line
            stream.close()
    return spoken_line(text.strip())


def turn_messages(
    scenario: Scenario, name: str, events: Iterable[object], dropped: int = 0
) -> list[Message]:
    """The screenplay that ends in `name`'s open line, for its turn."""
    return [
        *screenplay_messages(scenario, name, events, dropped=dropped),
        Message("assistant", turn_prefix(name)),
    ]


def directed_turn(
    stage: Any,
    seq: int,
    messages: Sequence[Message],
    scenario: Scenario,
    world: WorldState,
    name: str,
    line: str,
) -> str:
    """A base-model turn as the JSON turn: `line`, then the stage direction the model finds
    likeliest after it among those the world allows `name`."""
    options = action_options(scenario, world, name)
    return screenplay_turn(line, choose_action(stage, seq, messages, options, name, line))


def choose_action(
    stage: Any,
    seq: int,
    messages: Sequence[Message],
    options: Sequence[ActionOption],
    name: str,
    line: str,
) -> dict[str, Any] | None:
    """The stage direction the model finds likeliest after the character's line."""
    if len(options) == 1:
        return options[0].action
    spoken = [*messages[:-1], Message("user", f"{name}: {line}")]
    return options[stage.choose(seq, spoken, [o.text for o in options])].action
