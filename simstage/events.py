"""The event types: the single source of truth of a run.

World state, beliefs, metrics and the transcript are folds over a list of these.
Every event is frozen and serialises to one JSON object with a `type` tag. Events
hold observations only: what the tracker derives (its answer to a probe, the ToM
score) and run summaries are computed where they are read, so a better tracker
re-scores old logs.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    SerializerFunctionWrapHandler,
    TypeAdapter,
    model_serializer,
)

Origin = Literal["stage", "timeline", "human"]


class _Event(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    turn: int = Field(ge=0)
    """The turn during which the event happened (0: before the first turn)."""


class _Witnessed(_Event):
    origin: Origin = "stage"
    """What produced the event: the stage (a character's turn), the timeline, or a human."""
    witnesses: tuple[str, ...] = ()
    """The characters who perceived the event, the actor included (secret watchers too)."""
    watchers: tuple[str, ...] = ()
    """Secret watchers among `witnesses` (from another location; nobody knows). Not logged when empty."""
    distracted: tuple[str, ...] = ()
    """Present, not paying attention: not `witnesses`, though all think so. Not logged when empty."""

    @model_serializer(mode="wrap")
    def _without_empty_perception(self, handler: SerializerFunctionWrapHandler) -> dict[str, Any]:
        # Logs written before watchers and distracted witnesses keep their exact shape.
        data = handler(self)
        if not self.watchers:
            data.pop("watchers", None)
        if not self.distracted:
            data.pop("distracted", None)
        return data  # type: ignore[no-any-return]


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


class Asserted(_Witnessed):
    """A statement that a fact holds, or not: public, or private to `to` (a lie is folded, not stored)."""

    type: Literal["assert"] = "assert"
    who: str
    fact: str
    holds: bool
    """What was asserted: true, the fact holds; false, it does not."""
    to: str | None = None
    """The only listener of a private statement; None: public, heard by everyone present."""
    text: str
    true: bool
    """Whether what was asserted is so (`holds` equals the fact's truth)."""


class Peeked(_Witnessed):
    """A character began watching another location unseen: a secret watcher, known only to itself."""

    type: Literal["peek"] = "peek"
    who: str
    into: str
    sees: dict[str, str] = Field(default_factory=dict)
    """Objects in open containers of the location watched, by object: container."""


class PeekStopped(_Witnessed):
    """A secret watcher stopped watching (it also stops when it enters or leaves a location)."""

    type: Literal["stop_peek"] = "stop_peek"
    who: str
    into: str
    """The location it had been watching."""


class Distracted(_Witnessed):
    """A character stopped paying attention until the end of turn `until`; nobody noticed."""

    type: Literal["distract"] = "distract"
    who: str
    until: int = Field(ge=0)
    """The last turn of the distraction."""


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
    """Where the object really was when asked. (What the tracker says the character believes
    is a fold over the events, `simstage.tom.metrics.probe_verdicts`, never stored.)"""


class LatentCaptured(_Event):
    """The residual stream the stage held as it was about to answer the probe just before this.

    The vectors are in the run's sidecar (`simstage.latent.store`): `len(layers) × dims`
    float32 (`1 + len(contrast)` such blocks with contrast pairs) at byte `offset`, with
    their `sha256`.
    """

    type: Literal["latent_captured"] = "latent_captured"
    ask: str
    about: str
    through: tuple[str, ...] = ()
    style: Literal["direct", "indirect"] = "direct"
    layers: tuple[int, ...]
    """The blocks whose output (`l_out-L`) was read, at the last token before the answer."""
    dims: int
    offset: int = Field(ge=0)
    sha256: str
    named_last: str | None = None
    """With `latent.name_options`: the container the question named last (a control label)."""
    contrast: tuple[str, ...] = ()
    """With `latent.contrast`: the containers the answer was completed with. The record then holds
    `1 + len(contrast)` blocks of `len(layers) × dims`: the token before the answer, then the last
    token of each completion, in this order."""


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


class RunResumed(_Event):
    """`simstage run --resume` continued the run after an interruption or a failure."""

    type: Literal["run_resumed"] = "run_resumed"
    previous: str
    """How the run had stopped: `error: …`, `interrupted`, or `cut off`."""
    discarded: int = 0
    """Events of the unfinished last turn set aside (the turn is played again)."""
    backup: str | None = None
    """Where the log as it was before resuming was kept, when anything was set aside."""


class SpeakerChosen(_Event):
    """A puppeteer (the bare stage, a director, a human, a script) gave the floor to a character."""

    type: Literal["speaker_chosen"] = "speaker_chosen"
    by: str
    """The puppeteer kind that chose (`bare`, `director`, `human`, `scripted`...)."""
    speaker: str
    options: tuple[str, ...] = ()
    """The names it chose among (empty when it did not choose among names)."""


class DirectionGiven(_Event):
    """A director's one-line stage direction; only the character it is for perceives it."""

    type: Literal["direction"] = "direction"
    to: str
    """The character the direction is for (the next speaker)."""
    text: str


class CandidateScored(_Event):
    """One candidate line the optimizer sampled for the speaker, with its reward scores."""

    type: Literal["candidate"] = "candidate"
    speaker: str
    index: int = Field(ge=0)
    raw: str
    """The candidate turn exactly as generated."""
    scores: dict[str, float] = Field(default_factory=dict)
    """Each named reward's score of this candidate."""
    total: float
    """The weighted sum of `scores`."""


class CandidateChosen(_Event):
    """The candidate the optimizer kept; the engine plays it as the speaker's turn."""

    type: Literal["candidate_chosen"] = "candidate_chosen"
    speaker: str
    index: int = Field(ge=0)
    total: float
    """The chosen candidate's weighted reward."""
    mean: float
    """The mean weighted reward over all candidates."""
    scores: dict[str, float] = Field(default_factory=dict)
    """The chosen candidate's score under each named reward."""

    @property
    def gain(self) -> float:
        """What choosing bought over a random candidate: chosen minus mean score."""
        return self.total - self.mean


class TurnMetrics(_Event):
    """Per-turn metrics of the line just spoken (when metrics are on)."""

    type: Literal["turn_metrics"] = "turn_metrics"
    speaker: str
    persona_fit: float | None = None
    """Log-probability of the line under the speaker's persona minus under a neutral
    speaker, per word; None when the turn had no line."""
    voice_collapse: float | None = None
    """Mean pairwise similarity of the characters' recent lines (0: distinct voices, 1: one voice)."""
    rewards: dict[str, float] = Field(default_factory=dict)
    """The scenario's named rewards, scored on the line actually spoken."""
    reward_gain: float | None = None
    """With the optimizer: chosen minus mean candidate reward."""
    flip: bool = False
    """The line fits a neutral speaker better than the persona, right after one that fit the persona."""


Event = Annotated[
    TurnStarted
    | TurnEnded
    | Entered
    | Exited
    | Moved
    | Said
    | Told
    | Claimed
    | Asserted
    | Peeked
    | PeekStopped
    | Distracted
    | Rejected
    | ParseFailed
    | ProbeAnswered
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

WorldEvent = Entered | Exited | Moved | Said | Told | Claimed | Asserted | Peeked | PeekStopped | Distracted
"""Events that happen in the world and have witnesses (a distraction has none)."""

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
