"""The event types: the single source of truth of a run.

World state, beliefs, metrics and the transcript are folds over a list of these.
Every event is frozen and serialises to one JSON object with a `type` tag.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter

Origin = Literal["stage", "timeline", "human"]


class _Event(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    turn: int = Field(ge=0)
    """The turn during which the event happened (0: before the first turn)."""


class _Witnessed(_Event):
    origin: Origin = "stage"
    """What produced the event: the stage (a character's turn), the timeline, or a human."""
    witnesses: tuple[str, ...] = ()
    """The characters who perceived the event, the actor included."""


class TurnStarted(_Event):
    """The puppeteer gave the floor to a character."""

    type: Literal["turn_started"] = "turn_started"
    speaker: str
    location: str
    """Where the speaker is as its turn starts."""
    present: tuple[str, ...] = ()
    """Who is in the room with the speaker (it can see them)."""


class TurnEnded(_Event):
    """The speaker's whole turn as the stage produced it, before parsing."""

    type: Literal["turn_ended"] = "turn_ended"
    speaker: str
    raw: str
    """The generated text, exactly; the speaker's own context replays it verbatim."""
    tokens: int = 0
    """How many tokens the stage generated for the turn."""


class Entered(_Witnessed):
    """A character walked into a location and saw what lies open there."""

    type: Literal["enter"] = "enter"
    who: str
    to: str
    frm: str
    sees: dict[str, str] = Field(default_factory=dict)
    """Objects in open containers of the location, by object: container."""


class Exited(_Witnessed):
    """A character left a location for another."""

    type: Literal["exit"] = "exit"
    who: str
    to: str
    frm: str


class Moved(_Witnessed):
    """A character moved an object from one container to another."""

    type: Literal["move"] = "move"
    who: str
    object: str
    frm: str
    to: str


class Said(_Witnessed):
    """A line spoken aloud, heard by everyone in the speaker's location."""

    type: Literal["say"] = "say"
    who: str
    text: str


class Told(_Witnessed):
    """A private line, heard by one listener only."""

    type: Literal["tell"] = "tell"
    who: str
    to: str
    text: str


class Claimed(_Witnessed):
    """A public statement that an object is in a container; `true` says whether it was."""

    type: Literal["claim"] = "claim"
    who: str
    object: str
    container: str
    text: str
    true: bool


class Rejected(_Event):
    """An action that the world refused, with the reason; the run goes on."""

    type: Literal["rejected"] = "rejected"
    who: str
    origin: Origin = "stage"
    action: dict[str, Any]
    reason: str


class ParseFailed(_Event):
    """A character's turn that did not parse as a turn; recorded, not fatal."""

    type: Literal["parse_failed"] = "parse_failed"
    who: str
    raw: str
    error: str


class ProbeAnswered(_Event):
    """A belief question put to a character in a private copy of its context."""

    type: Literal["probe"] = "probe"
    ask: str
    about: str
    through: tuple[str, ...] = ()
    style: Literal["direct", "indirect"] = "direct"
    question: str
    options: tuple[str, ...]
    answer: str
    """The container the model chose."""
    truth: str
    """Where the object really was when asked."""
    tracker: str | None = None
    """Where the ToM tracker says the asked character believes (along `through`) the object is;
    None when the tracker holds no belief (and in logs written before the tracker existed)."""


class ProbeScore(BaseModel):
    """How often the model's probe answers agree with the ToM tracker, in one group of probes."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    n: int = 0
    """Probes in the group that the tracker could answer."""
    agreed: int = 0
    """Of those, how many the model answered as the tracker did."""
    accuracy: float | None = None
    """`agreed / n`; None when `n` is 0."""


class TomMetrics(_Event):
    """The model's probe answers scored against the ToM tracker, at the end of a run."""

    type: Literal["tom_metrics"] = "tom_metrics"
    overall: ProbeScore
    """Every probe the tracker could answer."""
    by_order: dict[str, ProbeScore] = Field(default_factory=dict)
    """By belief order ("1": "A thinks", "2": "A thinks B thinks", ...)."""
    by_style: dict[str, ProbeScore] = Field(default_factory=dict)
    """By question style (`direct`, `indirect`)."""
    false_belief: ProbeScore = Field(default_factory=ProbeScore)
    """Probes where the tracker's belief is false (it differs from where the object really is)."""
    reality: ProbeScore = Field(default_factory=ProbeScore)
    """The model's answers against where the object really was (not against the tracker)."""


class ContextTrimmed(_Event):
    """A character's context neared its share of the stage's window: its oldest exchanges were dropped.

    The system message (scene and persona) is always kept. Prompts are folds over
    events, so every later prompt of `who` leaves out the same exchanges.
    """

    type: Literal["context_trimmed"] = "context_trimmed"
    who: str
    dropped: int
    """Oldest exchanges (what it heard, then its own line) dropped this time."""
    tokens_before: int
    tokens_after: int
    budget: int
    """Tokens this character's sequence may use."""


class RunEnded(_Event):
    """The run stopped: it completed, was interrupted, or failed."""

    type: Literal["run_ended"] = "run_ended"
    reason: Literal["completed", "interrupted", "error"]
    message: str = ""


Event = Annotated[
    TurnStarted
    | TurnEnded
    | Entered
    | Exited
    | Moved
    | Said
    | Told
    | Claimed
    | Rejected
    | ParseFailed
    | ProbeAnswered
    | TomMetrics
    | ContextTrimmed
    | RunEnded,
    Field(discriminator="type"),
]

WorldEvent = Entered | Exited | Moved | Said | Told | Claimed
"""Events that happen in the world and have witnesses."""

EVENT_ADAPTER: TypeAdapter[Event] = TypeAdapter(Event)


def event_to_json(event: BaseModel) -> str:
    """One event as one line of JSON (no newline)."""
    return event.model_dump_json()


def event_from_json(line: str | bytes) -> Event:
    """Parse one line of JSON into an event.

    Raises:
        pydantic.ValidationError: the line is not a valid event.
    """
    return EVENT_ADAPTER.validate_json(line)


def event_from_dict(data: dict[str, Any]) -> Event:
    """Build an event from a plain dict (as read from JSON)."""
    return EVENT_ADAPTER.validate_python(data)
