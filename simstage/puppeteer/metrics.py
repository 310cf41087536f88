"""Metrics of how a puppeteer shapes a scene: per turn (`TurnMetrics`, measured by the stage
and recorded), summarised over the run (`RunMetrics`, a fold computed where it is read).

- persona fit: log-probability of a line under the speaker's own persona prompt
  minus under a neutral speaker, per word; its fall from a character's first
  half of lines to its second half is the character's *persona drift*;
- voice collapse: mean pairwise word-set (Jaccard) similarity of the characters'
  recent lines, across characters: 0 is distinct voices, 1 is one voice;
- rewards: the scenario's named rewards, scored on the line actually spoken;
- reward gain: with the optimizer, chosen minus mean candidate reward;
- flips: a line that fits a neutral speaker better than the persona, right
  after one of the same character that fitted the persona.

The summary is a pure fold over the events, like everything else.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from itertools import combinations
from statistics import fmean
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from simstage.events import CandidateChosen, Claimed, Said, Told, TurnMetrics
from simstage.puppeteer.base import Scene
from simstage.puppeteer.rewards import JUDGE_SEQUENCE, Candidate, RewardContext, score_candidates
from simstage.stage.abilities import batching
from simstage.stage.base import Message


class RunMetrics(BaseModel):
    """Metrics summarised over the whole run, folded from its `TurnMetrics` (never stored)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    turn: int = 0
    """The last turn summarised."""
    puppeteer: str
    persona_drift: dict[str, float] = Field(default_factory=dict)
    """Per character: mean persona fit of its first half of lines minus its second half
    (positive: the character drifted away from its persona)."""
    persona_fit: dict[str, float] = Field(default_factory=dict)
    """Per character: mean persona fit of its lines."""
    voice_collapse: float | None = None
    """Mean of the per-turn voice collapse."""
    rewards: dict[str, float] = Field(default_factory=dict)
    """Mean of each named reward over the lines it applied to."""
    reward_gain: float | None = None
    """Mean optimizer gain (None without the optimizer)."""
    flips: dict[str, int] = Field(default_factory=dict)
    """Per character: how many abrupt turns against its persona."""


RECENT_LINES = 3
"""Lines per character that voice collapse compares."""
_WORD = re.compile(r"[a-z']+")


def spoken_line(events: Sequence[Any], speaker: str, turn: int) -> str | None:
    """What `speaker` said aloud at `turn` (say, tell or claim), or None."""
    parts = [
        e.text
        for e in events
        if isinstance(e, (Said, Told, Claimed)) and e.turn == turn and e.who == speaker
    ]
    return " ".join(parts) if parts else None


def word_set(text: str) -> frozenset[str]:
    """The lower-case words of a line."""
    return frozenset(_WORD.findall(text.lower()))


def voice_collapse(events: Sequence[Any], recent: int = RECENT_LINES) -> float | None:
    """Mean Jaccard similarity of recent lines between different characters (None: fewer than two voices)."""
    lines: dict[str, list[frozenset[str]]] = {}
    for event in events:
        if isinstance(event, (Said, Told, Claimed)) and event.origin == "stage":
            lines.setdefault(event.who, []).append(word_set(event.text))
    recent_lines = [
        (who, words) for who, said in lines.items() for words in said[-recent:] if words
    ]
    pairs = [(a, b) for (p, a), (q, b) in combinations(recent_lines, 2) if p != q]
    if not pairs:
        return None
    return fmean(len(a & b) / len(a | b) for a, b in pairs)


def persona_fit(scene: Scene, speaker: str, line: str) -> float:
    """log P(line | the speaker's persona) - log P(line | a neutral speaker), per word."""
    from simstage.cast.prompt import scene_preamble, system_message

    scenario = scene.scenario
    ask = Message("user", "Say your next line.")
    neutral = Message("system", scene_preamble(scenario) + "\nYou are a person in this scene.")
    own, other = batching(scene.stage).score_many(
        scene.sequence(JUDGE_SEQUENCE),
        [([system_message(scenario, speaker), ask], [line]), ([neutral, ask], [line])],
    )
    return (own[0] - other[0]) / max(1, len(line.split()))


class SceneMetrics:
    """Emits a `TurnMetrics` after each turn and a `RunMetrics` at the end (an engine helper)."""

    def after_turn(self, scene: Scene, speaker: str) -> TurnMetrics:
        """Score the line `speaker` just spoke and record it."""
        events = scene.events
        turn = scene.turn
        line = spoken_line(events, speaker, turn)
        chosen = next(
            (e for e in reversed(events) if isinstance(e, CandidateChosen) and e.turn == turn),
            None,
        )
        fit = None
        rewards: dict[str, float] = {}
        if line is not None:
            fit = persona_fit(scene, speaker, line)
            if chosen is not None:
                rewards = dict(chosen.scores)
            elif scene.scenario.puppeteer.rewards:
                said = Candidate(raw="", say=line)
                scores, _ = score_candidates(
                    RewardContext(scene, speaker), [said], scene.scenario.puppeteer.rewards
                )
                rewards = scores[0]
        previous = next(
            (
                e.persona_fit
                for e in reversed(events)
                if isinstance(e, TurnMetrics) and e.speaker == speaker and e.persona_fit is not None
            ),
            None,
        )
        flip = fit is not None and previous is not None and fit < 0 < previous
        return scene.emit(
            TurnMetrics(
                turn=turn,
                speaker=speaker,
                persona_fit=fit,
                voice_collapse=voice_collapse(events),
                rewards=rewards,
                reward_gain=None if chosen is None else chosen.gain,
                flip=flip,
            )
        )


def summarise(events: Sequence[Any], puppeteer: str, turn: int) -> RunMetrics:
    """The run's metrics from its `TurnMetrics` events."""
    per_turn = [e for e in events if isinstance(e, TurnMetrics)]
    fits: dict[str, list[float]] = {}
    flips: dict[str, int] = {}
    rewards: dict[str, list[float]] = {}
    for metric in per_turn:
        flips.setdefault(metric.speaker, 0)
        if metric.persona_fit is not None:
            fits.setdefault(metric.speaker, []).append(metric.persona_fit)
        flips[metric.speaker] += int(metric.flip)
        for name, value in metric.rewards.items():
            rewards.setdefault(name, []).append(value)
    drift = {}
    for who, values in fits.items():
        if len(values) >= 2:
            half = len(values) // 2
            drift[who] = fmean(values[:half]) - fmean(values[half:])
    collapse = [m.voice_collapse for m in per_turn if m.voice_collapse is not None]
    gains = [m.reward_gain for m in per_turn if m.reward_gain is not None]
    return RunMetrics(
        turn=turn,
        puppeteer=puppeteer,
        persona_drift=drift,
        persona_fit={who: fmean(values) for who, values in fits.items()},
        voice_collapse=fmean(collapse) if collapse else None,
        rewards={name: fmean(values) for name, values in rewards.items()},
        reward_gain=fmean(gains) if gains else None,
        flips=flips,
    )


def run_metrics(events: Sequence[Any], puppeteer: str) -> RunMetrics | None:
    """The run's summary where it recorded per-turn metrics; None where metrics were off."""
    if not any(isinstance(e, TurnMetrics) for e in events):
        return None
    return summarise(events, puppeteer, max((e.turn for e in events), default=0))
