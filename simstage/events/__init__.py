"""The event types: the single source of truth of a run.

World state, beliefs, metrics and the transcript are folds over a list of these.
Every event is frozen and serialises to one JSON object with a `type` tag. Events
hold observations only: what the tracker derives (its answer to a probe, the ToM
score) and run summaries are computed where they are read, so a better tracker
re-scores old logs.

The types live in submodules (`base`, `world`, `probes`, `run`); import them from here.
"""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import BaseModel, Field, TypeAdapter

from simstage.events.base import Act, EventBase, Origin, Witnessed
from simstage.events.probes import (
    FACT_OPTIONS,
    WHO_KNOWS_OPTIONS,
    LatentCaptured,
    ProbeAnswered,
    WhoKnowsAnswered,
)
from simstage.events.run import (
    CandidateChosen,
    CandidateScored,
    ContextTrimmed,
    DirectionGiven,
    ParseFailed,
    RunEnded,
    RunResumed,
    SpeakerChosen,
    TurnEnded,
    TurnMetrics,
    TurnStarted,
)
from simstage.events.world import (
    Asserted,
    Claimed,
    Distracted,
    Entered,
    Exited,
    Moved,
    Peeked,
    PeekStopped,
    Rejected,
    Said,
    Told,
)

__all__ = [
    "EVENT_ADAPTER",
    "FACT_OPTIONS",
    "WHO_KNOWS_OPTIONS",
    "Act",
    "Asserted",
    "CandidateChosen",
    "CandidateScored",
    "Claimed",
    "ContextTrimmed",
    "DirectionGiven",
    "Distracted",
    "Entered",
    "Event",
    "EventBase",
    "Exited",
    "LatentCaptured",
    "Moved",
    "Origin",
    "ParseFailed",
    "PeekStopped",
    "Peeked",
    "ProbeAnswered",
    "Rejected",
    "ResolvedEvent",
    "RunEnded",
    "RunResumed",
    "Said",
    "SpeakerChosen",
    "Told",
    "TurnEnded",
    "TurnMetrics",
    "TurnStarted",
    "WhoKnowsAnswered",
    "Witnessed",
    "WorldEvent",
    "event_from_dict",
    "event_from_json",
    "event_to_json",
]

WorldEvent = (
    Entered | Exited | Moved | Said | Told | Claimed | Asserted | Peeked | PeekStopped | Distracted
)
"""Events that happen in the world and have witnesses (a distraction has none)."""

ResolvedEvent = WorldEvent | Rejected
"""What resolving an action gives: a world event, or the recorded rejection."""

Event = Annotated[
    TurnStarted
    | TurnEnded
    | ResolvedEvent
    | ParseFailed
    | ProbeAnswered
    | WhoKnowsAnswered
    | LatentCaptured
    | ContextTrimmed
    | RunEnded
    | RunResumed
    | SpeakerChosen
    | DirectionGiven
    | CandidateScored
    | CandidateChosen
    | TurnMetrics,
    Field(discriminator="type"),
]

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
