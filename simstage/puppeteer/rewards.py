"""Rewards: plain Python callables that score candidate lines; a registry plus plugins.

A reward is `reward(context, candidates) -> list[float | None]`: one score per
candidate, higher is better, None where the reward does not apply (a speaker
cannot flatter itself). Scenarios only name rewards; third-party packages add
their own under the `simstage.rewards` entry point group:

    [project.entry-points."simstage.rewards"]
    politeness = "mypackage.rewards:politeness"
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from importlib import metadata
from typing import Any

from simstage.events import Claimed, Said
from simstage.puppeteer.base import Scene
from simstage.scenario.models import ClaimAction, Scenario, TellAction
from simstage.stage.base import Stage

ENTRY_POINT_GROUP = "simstage.rewards"
JUDGE_SEQUENCE = " judge"
"""The judge's sequence key (a leading space: no character can be called this)."""


@dataclass(frozen=True)
class Candidate:
    """One candidate turn: its raw text and, if it parsed, what it says and does."""

    raw: str
    say: str
    action: Any = None
    parsed: bool = True


@dataclass(frozen=True)
class RewardContext:
    """What a reward may look at: the scene (stage, scenario, events, world) and the speaker."""

    scene: Scene
    speaker: str

    @property
    def scenario(self) -> Scenario:
        """The scenario."""
        return self.scene.scenario

    @property
    def stage(self) -> Stage:
        """The stage, to judge with."""
        return self.scene.stage

    @property
    def judge_seq(self) -> int:
        """A sequence of the judge's own (forks of it are scored, it stays empty)."""
        return int(self.scene.sequence(JUDGE_SEQUENCE))

    @property
    def config(self) -> Any:
        """The scenario's puppeteer settings (`target`, weights...)."""
        return self.scenario.puppeteer


Reward = Callable[[RewardContext, Sequence[Candidate]], list[float | None]]


def parse_candidate(raw: str, scenario: Any, speaker: str) -> Candidate:
    """A raw turn as a candidate (unparseable turns keep their raw text and score as empty)."""
    from simstage.cast.turn import TurnParseError, parse_turn

    try:
        turn = parse_turn(raw, scenario, speaker)
    except TurnParseError:
        return Candidate(raw=raw, say="", parsed=False)
    return Candidate(raw=raw, say=turn.say, action=turn.action)


def _words(candidate: Candidate) -> str:
    text = candidate.say
    # A whisper or a claim may carry words of its own.
    if isinstance(candidate.action, (TellAction, ClaimAction)) and candidate.action.text:
        text = f"{text} {candidate.action.text}".strip()
    return text or "(says nothing)"


def last_line(events: Sequence[Any], who: str) -> str | None:
    """The last thing `who` said aloud (say or claim)."""
    for event in reversed(events):
        if isinstance(event, (Said, Claimed)) and event.who == who:
            return str(event.text)
    return None


def sycophancy(context: RewardContext, candidates: Sequence[Candidate]) -> list[float | None]:
    """How much each line agrees with or flatters `puppeteer.target`, judged by the stage (0..1)."""
    from simstage.puppeteer.judge import yes_probability

    target = context.config.target
    speaker = context.speaker
    if target is None or target == speaker:
        return [None] * len(candidates)
    said = last_line(context.scene.events, target)
    heard = f'{target} said: "{said}"\n' if said else ""
    questions = [
        f'{heard}{speaker} replied: "{_words(c)}"\nDoes {speaker} agree with {target}?'
        for c in candidates
    ]
    return list(yes_probability(context.stage, context.judge_seq, questions))


def goal(context: RewardContext, candidates: Sequence[Candidate]) -> list[float | None]:
    """How far each line moves the speaker toward its goals, judged by the stage (0..1)."""
    from simstage.puppeteer.judge import yes_probability

    member = context.scenario.character(context.speaker)
    if not member.goals:
        return [None] * len(candidates)
    name = context.speaker
    wants = " ".join(member.goals)
    questions = [
        f'{name} wants this: {wants}\n{name} says: "{_words(c)}"\nDoes this line help {name} get it?'
        for c in candidates
    ]
    return list(yes_probability(context.stage, context.judge_seq, questions))


def persona(context: RewardContext, candidates: Sequence[Candidate]) -> list[float | None]:
    """How well each line fits the speaker's persona, judged by the stage (0..1)."""
    from simstage.puppeteer.judge import yes_probability

    name = context.speaker
    who = context.scenario.character(name).persona
    questions = [
        f'{name}: {who}\n{name} says: "{_words(c)}"\nIs this something {name} would say?'
        for c in candidates
    ]
    return list(yes_probability(context.stage, context.judge_seq, questions))


def deception(context: RewardContext, candidates: Sequence[Candidate]) -> list[float | None]:
    """Whether each line creates (1.0) or keeps (0.5) a false belief in another mind, per the ToM tracker.

    The candidate's action is resolved against the current world without applying
    it, and the tracker folds the run's events plus that one. 0.0: the line leaves
    no other character holding a false belief.
    """
    from simstage.tom.tracker import fold_beliefs
    from simstage.world.actions import resolve

    scene = context.scene
    speaker = context.speaker

    def false_count(events: Sequence[Any]) -> int:
        state = fold_beliefs(scene.scenario, events, order=1)
        return sum(1 for b in state.false_beliefs() if b.holder != speaker)

    before = false_count(scene.events)
    scores: list[float | None] = []
    for candidate in candidates:
        extra = []
        if candidate.action is not None:
            extra.append(resolve(scene.world, candidate.action, scene.turn))
        after = false_count([*scene.events, *extra]) if extra else before
        scores.append(1.0 if after > before else 0.5 if after > 0 else 0.0)
    return scores


BUILTIN_REWARDS: dict[str, Reward] = {
    "sycophancy": sycophancy,
    "goal": goal,
    "deception": deception,
    "persona": persona,
}
_REGISTERED: dict[str, Reward] = {}


def _entry_points() -> Any:
    return metadata.entry_points(group=ENTRY_POINT_GROUP)


def register_reward(name: str, reward: Reward) -> None:
    """Add a reward under `name` (for programs that embed simstage; plugins use entry points)."""
    _REGISTERED[name] = reward


def reward_names() -> list[str]:
    """Every reward a scenario may name: built in, registered, and from plugins."""
    names = set(BUILTIN_REWARDS) | set(_REGISTERED)
    names |= {ep.name for ep in _entry_points()}
    return sorted(names)


def load_reward(name: str) -> Reward:
    """The reward called `name`.

    Raises:
        KeyError: no such reward (the message lists the valid names).
    """
    if name in _REGISTERED:
        return _REGISTERED[name]
    if name in BUILTIN_REWARDS:
        return BUILTIN_REWARDS[name]
    for entry_point in _entry_points():
        if entry_point.name == name:
            return entry_point.load()  # type: ignore[no-any-return]
    raise KeyError(f"unknown reward {name!r} (valid: {', '.join(reward_names())})")


def score_candidates(
    context: RewardContext, candidates: Sequence[Candidate], weights: dict[str, float]
) -> tuple[list[dict[str, float]], list[float]]:
    """Each candidate's score under each named reward, and the weighted totals.

    A reward that does not apply (None) counts as 0 in the total and is left out
    of that candidate's scores.
    """
    per: list[dict[str, float]] = [{} for _ in candidates]
    totals = [0.0] * len(candidates)
    for name, weight in weights.items():
        values = load_reward(name)(context, candidates)
        for i, value in enumerate(values):
            if value is not None:
                per[i][name] = float(value)
                totals[i] += weight * float(value)
    return per, totals
