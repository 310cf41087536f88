"""The narrator's views, as the model reads them: what an onlooker of the whole scene saw in
public, and the whole story, private lines included, for the narrator of a who-knows probe.

The director and the bare stage read the public view. It is the model's own text, kept
apart from the display (`render.py`), so a cosmetic change to the transcript never
changes what the model sees (nor breaks `replay --verify`).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from simstage.events import Asserted
from simstage.scenario.models import Scenario
from simstage.stage.base import Message
from simstage.world.actions import clause

PUBLIC_LINES: dict[str, str] = {
    "enter": "{who} enters the {to}.",
    "exit": "{who} leaves the {frm} for the {to}.",
    "move": "{who} moves the {object} from the {frm} to the {to}.",
    "say": "{who}: {text}",
    "claim": "{who} claims: {text}",
    "assert": "{who}: {text}",
}
"""The line of each world event anyone in the room could see, by the `type` its log entry
names (a statement only when public)."""

STORY_LINES: dict[str, str] = {
    **{kind: line for kind, line in PUBLIC_LINES.items() if kind != "say"},
    "tell": '{who} tells {to} privately: "{text}"',
    "claim": '{who} claims: "{text}"',
    "peek": "{who} starts watching the {into} unseen; nobody knows.",
    "stop_peek": "{who} stops watching the {into}.",
    "distract": "{who} stops paying attention until the end of turn {until}; nobody notices.",
}
"""The narrator's line of each world event, private ones included, by its `type`. Small talk
(`say`) is left out: it changes no belief the tracker keeps, and the story must fit beside the
cast's contexts."""

NARRATOR_INSTRUCTIONS = (
    "You are the narrator of the scene. You saw everything that happened, private words and "
    "unseen watchers included, and you know what is true. Answer the question with yes or no."
)


def public_line(event: Any) -> str | None:
    """A world event anyone in the room could see, in the third person; None for any other."""
    if isinstance(event, Asserted) and event.to is not None:
        return None
    template = PUBLIC_LINES.get(getattr(event, "type", ""))
    return None if template is None else template.format_map(vars(event))


def public_transcript(events: Sequence[Any], limit: int = 30) -> str:
    """The last `limit` public lines of the scene."""
    lines = [line for event in events if (line := public_line(event))]
    text = "\n".join(lines[-limit:])
    return text or "(Nothing has happened yet.)"


def _names(names: Sequence[str]) -> str:
    if len(names) <= 1:
        return "".join(names)
    return ", ".join(names[:-1]) + " and " + names[-1]


def story_opening(scenario: Scenario) -> list[str]:
    """What the narrator knows as the scene opens: who is where, what is where, what is true,
    and what each character knows or believes."""
    world = scenario.world
    lines = []
    for place in world.locations:
        here = [member.name for member in scenario.cast if member.location == place]
        if here:
            lines.append(f"{_names(here)} {'is' if len(here) == 1 else 'are'} in the {place}.")
    for obj, config in world.objects.items():
        be = "are" if config.plural else "is"
        lines.append(
            f"The {obj} {be} in the {config.in_} (in the {world.containers[config.in_].in_})."
        )
    for fact in world.facts.values():
        lines.append(f"It is {'true' if fact.true else 'not true'} that {clause(fact.text)}.")
    for _, obj, container, group in scenario.knowledge():
        lines.append(f"{_group(group)} that the {obj} is in the {container}.")
    for _, name, holds, group in scenario.fact_knowledge():
        said = clause(world.facts[name].text)
        lines.append(
            f"{_group(group, 'believe')} that {said if holds else 'it is not true that ' + said}."
        )
    return lines


def _group(group: Sequence[str], verb: str = "know") -> str:
    """ "Felix knows", or "Margot and Iris know, and know that each other know,"."""
    if len(group) == 1:
        return f"{group[0]} {verb}s"
    return f"{_names(group)} {verb}, and know that each other {verb},"


def story_line(event: Any) -> str | None:
    """One world event as the narrator tells it; None for what is not part of the story."""
    if isinstance(event, Asserted):
        if event.to is not None:
            return f'{event.who} tells {event.to} privately: "{event.text}"'
        return f'{event.who} says: "{event.text}"'
    template = STORY_LINES.get(getattr(event, "type", ""))
    return None if template is None else template.format_map(vars(event))


def story_messages(
    scenario: Scenario, events: Iterable[Any], question: str | None, *, screenplay: bool = False
) -> list[Message]:
    """The whole story so far and a question, as the narrator reads them.

    Args:
        scenario: the scene.
        events: the run's events so far.
        question: what the narrator is asked; None for the story alone (every question's
            prompt begins with it, so a stage can decode it once and fork it).
        screenplay: for a base model: one line a message, the question as a stage direction.
    """
    lines = story_opening(scenario)
    turn = 0
    for event in events:
        line = story_line(event)
        if line is None:
            continue
        if event.turn != turn:
            turn = event.turn
            lines.append(f"Turn {turn}.")
        lines.append(line)
    intro = f'The scene "{scenario.title}". The characters: {", ".join(scenario.cast_names)}.'
    if screenplay:
        asked = (
            []
            if question is None
            else [Message("user", f'[Someone asks the narrator: "{question}"]')]
        )
        return [
            Message("system", f"{intro}\n{NARRATOR_INSTRUCTIONS}\n"),
            *(Message("user", f"[{line}]") for line in lines),
            *asked,
        ]
    story = "The story so far:\n" + "\n".join(lines)
    return [
        Message("system", f"{intro}\n{NARRATOR_INSTRUCTIONS}"),
        Message("user", story if question is None else f"{story}\n\nQuestion: {question}"),
    ]
