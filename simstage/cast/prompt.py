"""A character's prompt, built only from its persona and what it witnessed.

The prompt is a chat: the system message sets the character; each user message
lists what the character perceived since its last turn; each assistant message
is the character's own previous turn, verbatim. Later events only append
messages, so the stage can keep the character's KV cache between turns.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import TypedDict, Unpack

from simstage import events
from simstage.scenario.models import Scenario
from simstage.stage.base import Message
from simstage.world.actions import clause
from simstage.world.state import WorldState

REPLY_FORMAT = (
    'Each turn, reply with one JSON object: {"say": "<your words, spoken aloud>", '
    '"action": null or one action}. Actions: '
    '{"type": "move", "object": ..., "to": <container>} moves an object in your room; '
    '{"type": "exit", "to": <location>} and {"type": "enter", "to": <location>} change rooms; '
    '{"type": "tell", "to": <name>, "text": ...} whispers to one person in your room; '
    '{"type": "claim", "object": ..., "container": ...} announces where an object is.'
)


def scene_preamble(scenario: Scenario) -> str:
    """The part of every character's system message that is the same for all of them.

    It comes first, so the stage decodes it once and shares it between sequences.
    """
    world = scenario.world
    lines = [f'This is the scene "{scenario.title}".']
    # The description is for the person running the scene (it may tell the plot); never prompt it.
    lines.append("The characters: " + ", ".join(scenario.cast_names) + ".")
    lines.append(f"Places: {', '.join(world.locations)}.")
    if world.containers:
        where = ", ".join(f"the {c} (in the {cfg.in_})" for c, cfg in world.containers.items())
        lines.append(f"Containers: {where}.")
    lines.append(REPLY_FORMAT)
    if world.facts:
        facts = ", ".join(f'{name} ("{fact.text}")' for name, fact in world.facts.items())
        lines.append(
            f"Things that may or may not be true, by name: {facts}. "
            '{"type": "assert", "fact": <name>, "holds": true or false} says aloud whether one is true; '
            'add "to": <name> to say it to one person in your room alone.'
        )
    lines.append("Stay in character. Keep your line short.")
    return "\n".join(lines)


def system_message(scenario: Scenario, name: str) -> Message:
    """The shared scene preamble, then who this character is, what it wants and hides."""
    member = scenario.character(name)
    lines = [scene_preamble(scenario), f"You are {name}. {member.persona}"]
    if member.style:
        lines.append(f"How you talk: {member.style}")
    if member.goals:
        lines.append("Your goals: " + " ".join(member.goals))
    if member.secrets:
        lines.append("Your secrets (only you know them): " + " ".join(member.secrets))
    return Message("system", "\n".join(lines))


def opening_observations(scenario: Scenario, name: str) -> list[str]:
    """What the character knows as the scene opens: its room, who is there, what is where."""
    world = WorldState.initial(scenario)
    here = world.character_location[name]
    others = [who for who in world.present(here) if who != name]
    lines = [
        f"The scene opens. You are in the {here}" + (f" with {_names(others)}." if others else ".")
    ]
    for obj, container in world.object_container.items():
        if world.container_location[container] == here:
            lines.append(f"The {obj} {world.be(obj)} in the {container}.")
    for obj, container, sharers in known_at_start(scenario, name):
        knows = "knows" if len(sharers) == 1 else "know"
        shared = f" {_names(sharers)} {knows} it too, and you all know that." if sharers else ""
        lines.append(f"You know that the {obj} {world.be(obj)} in the {container}.{shared}")
    for _, fact, holds, group in scenario.fact_knowledge():
        if name not in group:
            continue
        fellows = [other for other in group if other != name]
        knows = "knows" if len(fellows) == 1 else "know"
        shared = f" {_names(fellows)} {knows} it too, and you all know that." if fellows else ""
        said = clause(world.fact_text[fact])
        lines.append(f"You know that {said if holds else 'it is not true that ' + said}.{shared}")
    return lines


def known_at_start(scenario: Scenario, name: str) -> list[tuple[str, str, tuple[str, ...]]]:
    """What the cast's `knows` gives `name` at the start: (object, container, who else shares it)."""
    return [
        (obj, container, tuple(other for other in group if other != name))
        for _, obj, container, group in scenario.knowledge()
        if name in group
    ]


def _names(names: Sequence[str]) -> str:
    if len(names) <= 1:
        return "".join(names)
    return ", ".join(names[:-1]) + " and " + names[-1]


def describe(event: object, me: str) -> str | None:
    """One witnessed event as `me` perceived it; None for what is not shown."""
    line = _describe(event, me)
    # The world names the watchers of what they may see (the public events where they watch).
    if line and isinstance(event, events.Witnessed) and me in event.watchers:
        return f"(Unseen, you watch) {line}"
    return line


def _describe(event: object, me: str) -> str | None:
    if isinstance(event, events.Entered):
        if event.who == me:
            seen = " ".join(f"You see the {o} in the {c}." for o, c in event.sees.items())
            return f"You enter the {event.to}." + (f" {seen}" if seen else "")
        return f"{event.who} enters the {event.to}."
    if isinstance(event, events.Exited):
        if event.who == me:
            return f"You leave the {event.frm} for the {event.to}."
        return f"{event.who} leaves the {event.frm}."
    if isinstance(event, events.Moved):
        actor = "You" if event.who == me else event.who
        verb = "move" if event.who == me else "moves"
        return f"{actor} {verb} the {event.object} from the {event.frm} to the {event.to}."
    if isinstance(event, events.Said):
        if event.who == me:
            return None if event.origin == "stage" else f'You say: "{event.text}"'
        return f'{event.who} says: "{event.text}"'
    if isinstance(event, events.Told):
        if event.who == me:
            return (
                None
                if event.origin == "stage"
                else f'You tell {event.to} privately: "{event.text}"'
            )
        return f'{event.who} tells you privately: "{event.text}"'
    if isinstance(event, events.Claimed):
        if event.who == me and event.origin == "stage":
            return None
        actor = "You" if event.who == me else event.who
        return f'{actor} {"claim" if event.who == me else "claims"}: "{event.text}"'
    if isinstance(event, events.Asserted):
        if event.who == me:
            if event.origin == "stage":
                return None
            return (
                f'You tell {event.to} privately: "{event.text}"'
                if event.to
                else f'You say: "{event.text}"'
            )
        return (
            f'{event.who} tells you privately: "{event.text}"'
            if event.to
            else f'{event.who} says: "{event.text}"'
        )
    if isinstance(event, events.Peeked) and event.who == me:
        seen = "".join(f" You see the {o} in the {c}." for o, c in event.sees.items())
        return f"Unseen, you start watching the {event.into}.{seen}"
    if isinstance(event, events.PeekStopped) and event.who == me:
        return f"You stop watching the {event.into}."
    if isinstance(event, events.Rejected) and event.who == me:
        return f"(What you tried did not happen: {event.reason}.)"
    if isinstance(event, events.DirectionGiven) and event.to == me:
        return f"(A direction for you alone: {event.text})"
    return None


def perceived(event: object, me: str) -> bool:
    """Whether `me` perceived the event at all."""
    if isinstance(event, events.Rejected):
        return event.who == me
    if isinstance(event, events.DirectionGiven):
        return event.to == me
    witnesses = getattr(event, "witnesses", None)
    return witnesses is not None and me in witnesses


def _where(name: str, location: str, present: Sequence[str]) -> str:
    others = [who for who in present if who != name]
    return f"You are in the {location}" + (f" with {_names(others)}." if others else ", alone.")


class Asking(TypedDict, total=False):
    """What turns a character's prompt into a private probe's (`character_messages`)."""

    question: str | None
    """A probe question to ask instead of giving the turn."""
    location: str | None
    """With `question`, where the character is now."""
    present: Sequence[str]
    """With `question`, who is in the room with it now."""


class PromptFold:
    """One character's prompt as a fold over the run's events, fed one event at a time.

    It keeps the finished (heard, own line) exchanges and the lines perceived since
    the character's last turn, so a prompt costs what happened since it was last
    brought up to date, not the whole run.

    Args:
        scenario: the scene.
        name: the character.
    """

    def __init__(self, scenario: Scenario, name: str):
        self.name = name
        self.folded = 0
        """How many of the run's events this fold has taken in."""
        self._exchanges: list[Message] = [system_message(scenario, name)]
        self._pending: list[str] = opening_observations(scenario, name)
        self._dropped = 0

    def add(self, event: object) -> None:
        """Take in the run's next event."""
        name = self.name
        self.folded += 1
        if isinstance(event, events.ContextTrimmed) and event.who == name:
            self._dropped += event.dropped
        elif isinstance(event, events.TurnStarted) and event.speaker == name:
            where = _where(name, event.location, event.present)
            self._pending.append(f"Turn {event.turn}. {where} It is your turn.")
        elif isinstance(event, events.TurnEnded) and event.speaker == name:
            self._exchanges.append(Message("user", _user_block(self._pending)))
            self._exchanges.append(Message("assistant", event.raw))
            self._pending = []
        elif perceived(event, name):
            line = describe(event, name)
            if line:
                self._pending.append(line)

    def messages(
        self,
        *,
        question: str | None = None,
        location: str | None = None,
        present: Sequence[str] = (),
    ) -> list[Message]:
        """The prompt after the events taken in so far (see `character_messages`)."""
        pending = self._pending
        if question is not None:
            where = _where(self.name, location or "", present) if location else ""
            pending = [*pending, f"{where} Answer truthfully, as {self.name}: {question}".strip()]
        return drop_exchanges(
            [*self._exchanges, Message("user", _user_block(pending))], self._dropped
        )


class CastPrompts:
    """Every character's `PromptFold` over one run's events, each brought up to date when asked.

    The engine asks for a prompt every turn; each character's fold takes in only the
    events it has not seen yet, so a turn's prompt costs the same at turn 1,000 as at
    turn 10 (`character_messages` walks every event, once).

    Args:
        scenario: the scene.
    """

    def __init__(self, scenario: Scenario):
        self.scenario = scenario
        self._folds: dict[str, PromptFold] = {}

    def messages(
        self, name: str, events: Sequence[object], **asking: Unpack[Asking]
    ) -> list[Message]:
        """`character_messages(scenario, name, events, ...)`, from `name`'s fold.

        `events` is the run's event list, which only ever grows: the same list (or
        a longer copy of it) at every call.
        """
        fold = self._folds.get(name)
        if fold is None:
            fold = self._folds[name] = PromptFold(self.scenario, name)
        for index in range(fold.folded, len(events)):
            fold.add(events[index])
        return fold.messages(**asking)


def character_messages(
    scenario: Scenario, name: str, events: Iterable[object], **asking: Unpack[Asking]
) -> list[Message]:
    """The prompt for `name`'s current turn, or with `question`, for a private probe.

    Args:
        scenario: the scene.
        name: the character.
        events: the run's events so far (for a turn, up to its `TurnStarted`);
            only those `name` perceived are used.
        asking: a probe's `question`, and the character's `location` and who is `present`
            (`Asking`).
    """
    fold = PromptFold(scenario, name)
    for event in events:
        fold.add(event)
    return fold.messages(**asking)


def drop_exchanges(messages: list[Message], count: int) -> list[Message]:
    """Leave out the `count` oldest (heard, own line) exchanges; keep the system message and the open turn."""
    exchanges = (len(messages) - 2) // 2
    count = min(count, exchanges)
    return [messages[0], *messages[1 + 2 * count :]] if count else messages


def exchanges_in(messages: Sequence[Message]) -> int:
    """How many complete (heard, own line) exchanges a prompt holds."""
    return (len(messages) - 2) // 2


def _user_block(lines: Sequence[str]) -> str:
    return "\n".join(lines) if lines else "Nothing you noticed happened."
