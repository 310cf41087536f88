"""Events of a run's course: turns, parse failures, trimmed contexts, its end, and the puppeteer's."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from simstage.events.base import EventBase


class TurnStarted(EventBase):
    """The puppeteer gave the floor to a character."""

    type: Literal["turn_started"] = "turn_started"
    speaker: str
    location: str
    """Where the speaker is as its turn starts."""
    present: tuple[str, ...] = ()
    """Who is in the room with the speaker (it can see them)."""


class TurnEnded(EventBase):
    """The speaker's whole turn as the stage produced it, before parsing."""

    type: Literal["turn_ended"] = "turn_ended"
    speaker: str
    raw: str
    """The generated text, exactly; the speaker's own context replays it verbatim."""
    tokens: int = 0
    """How many tokens the stage generated for the turn."""


class ParseFailed(EventBase):
    """A character's turn that did not parse as a turn; recorded, not fatal."""

    type: Literal["parse_failed"] = "parse_failed"
    who: str
    raw: str
    error: str


class ContextTrimmed(EventBase):
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


class RunEnded(EventBase):
    """The run stopped: it completed, was interrupted, or failed."""

    type: Literal["run_ended"] = "run_ended"
    reason: Literal["completed", "interrupted", "error"]
    message: str = ""


class RunResumed(EventBase):
    """`simstage run --resume` continued the run after an interruption or a failure."""

    type: Literal["run_resumed"] = "run_resumed"
    previous: str
    """How the run had stopped: `error: …`, `interrupted`, or `cut off`."""
    discarded: int = 0
    """Events of the unfinished last turn set aside (the turn is played again)."""
    backup: str | None = None
    """Where the log as it was before resuming was kept, when anything was set aside."""


class SpeakerChosen(EventBase):
    """A puppeteer (the bare stage, a director, a human, a script) gave the floor to a character."""

    type: Literal["speaker_chosen"] = "speaker_chosen"
    by: str
    """The puppeteer kind that chose (`bare`, `director`, `human`, `scripted`...)."""
    speaker: str
    options: tuple[str, ...] = ()
    """The names it chose among (empty when it did not choose among names)."""


class DirectionGiven(EventBase):
    """A director's one-line stage direction; only the character it is for perceives it."""

    type: Literal["direction"] = "direction"
    to: str
    """The character the direction is for (the next speaker)."""
    text: str


class CandidateEvent(EventBase):
    """One of the candidate turns the optimizer sampled for the speaker: scored, or chosen.

    A base for both kinds, never logged itself: each overrides `type` with its tag, which keeps
    the logged key order.
    """

    type: str
    speaker: str
    index: int = Field(ge=0)
    """Which candidate, in the order they were sampled (from 0)."""


class CandidateScored(CandidateEvent):
    """One candidate line the optimizer sampled for the speaker, with its reward scores."""

    type: Literal["candidate"] = "candidate"
    raw: str
    """The candidate turn exactly as generated."""
    scores: dict[str, float] = Field(default_factory=dict)
    """Each named reward's score of this candidate."""
    total: float
    """The weighted sum of `scores`."""


class CandidateChosen(CandidateEvent):
    """The candidate the optimizer kept; the engine plays it as the speaker's turn."""

    type: Literal["candidate_chosen"] = "candidate_chosen"
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


class TurnMetrics(EventBase):
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
