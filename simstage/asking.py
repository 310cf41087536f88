"""Probes put to the stage at the end of a turn: each question's prompt, one batch for all, the events.

Every question runs on a fork of its seat's sequence (the asked character's, or the
narrator's), so asking never changes what anyone remembers. A probe about an object
offers the world's containers; about a fact, yes / no / don't know; a who-knows probe
asks yes or no about each cast member, each in its own fork. The forks of all of a
turn's probes go to the stage in one `choose_many`.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from simstage.cast import screenplay
from simstage.cast.narrator import story_messages
from simstage.cast.probes import (
    ANSWER_PREFIX,
    FACT_ANSWER_PREFIX,
    fact_question,
    probe_question,
    who_knows_question,
)
from simstage.cast.prompt import CastPrompts
from simstage.events import FACT_OPTIONS, WHO_KNOWS_OPTIONS, ProbeAnswered, WhoKnowsAnswered
from simstage.latent.probing import LatentPlan
from simstage.scenario.models import ProbeConfig, Scenario
from simstage.stage.abilities import LatentReader, batching
from simstage.stage.base import ChooseJob, Message, Sampling, Stage
from simstage.world.actions import clause
from simstage.world.state import WorldState

NARRATOR_SEQUENCE = " who-knows narrator"
"""The narrator's sequence key for who-knows probes (a leading space: no character is called this)."""


@dataclass(frozen=True)
class Asking:
    """What asking a turn's probes reads of the run."""

    scenario: Scenario
    stage: Stage
    world: WorldState
    events: Sequence[Any]
    cast: CastPrompts
    """Each character's prompt fold (a probe is its prompt plus the question)."""
    sequence: Callable[[str], int]
    """The stage sequence of a seat (a character, or `NARRATOR_SEQUENCE`)."""
    turn: int
    seed: int
    latent: LatentPlan | None = None


@dataclass
class _Probe:
    """One probe's questions: its place among the batch's jobs, and what the event needs."""

    config: ProbeConfig
    kind: str
    questions: list[str]
    options: tuple[str, ...]
    first: int
    """The index of its first job."""
    named: tuple[str, str] | None = None
    captured: bool = False


def ask_probes(asking: Asking, probes: Sequence[ProbeConfig]) -> list[Any]:
    """Ask every probe in one batch; the events to record, in order (a capture after its probe).

    Args:
        asking: what the questions read of the run.
        probes: the turn's probes.
    """
    if not probes:
        return []
    scenario, world = asking.scenario, asking.world
    reader = asking.stage.ability(LatentReader) if asking.latent is not None else None
    latent = asking.latent if reader is not None else None
    containers = tuple(scenario.world.containers)
    jobs: list[ChooseJob] = []
    asked: list[_Probe] = []
    for probe in probes:
        kind = scenario.probe_kind(probe)
        entry = _Probe(probe, kind, [], containers if kind == "object" else FACT_OPTIONS, len(jobs))
        if kind == "who_knows":
            entry.options = WHO_KNOWS_OPTIONS
            said = clause(world.fact_text[str(probe.who_knows)])
            for name in scenario.cast_names:
                question = who_knows_question(probe.ask, said, name, probe.through)
                entry.questions.append(question)
                jobs.append(_job(asking, probe.ask, question, entry.options, FACT_ANSWER_PREFIX))
        else:
            name, about = str(probe.ask), str(probe.about)
            entry.captured = latent is not None and latent.wants(probe)
            if kind == "fact":
                question = fact_question(name, clause(world.fact_text[about]), probe.through)
                prefix = FACT_ANSWER_PREFIX
            else:
                question = probe_question(
                    name,
                    about,
                    probe.through,
                    probe.style,
                    plural=about in world.plural,
                    named=probe.named,
                )
                entry.named = (probe.named[0], probe.named[1]) if probe.named else None
                if latent is not None and entry.captured and entry.named is None:
                    question, entry.named = latent.phrase(
                        question, containers, asking.seed, asking.turn, len(asked)
                    )
                prefix = ANSWER_PREFIX
            entry.questions.append(question)
            jobs.append(_job(asking, name, question, entry.options, prefix))
        asked.append(entry)
    if any(entry.kind == "who_knows" and entry.config.ask is None for entry in asked):
        _prime_narrator(asking)
    vectors: list[Any] = []
    pairs: list[list[int]] | None = None
    if latent is not None and reader is not None and any(entry.captured for entry in asked):
        pairs = _contrast(latent, asked, len(jobs), containers)
        answers, vectors = reader.choose_many_latent(jobs, pairs)
    else:
        answers = batching(asking.stage).choose_many(jobs)
    layers = reader.layers if reader is not None else ()
    out: list[Any] = []
    for entry in asked:
        out.append(_event(asking, entry, answers))
        if latent is not None and entry.captured:
            completed = [entry.options[c] for c in pairs[entry.first]] if pairs else []
            out.append(
                latent.record(
                    entry.config, asking.turn, layers, vectors[entry.first], entry.named, completed
                )
            )
    return out


def _prime_narrator(asking: Asking) -> None:
    """On a batching stage, decode the story into the narrator's seat once: each of its questions
    (one per cast member) then forks the story instead of decoding it again.

    The stage's `generate` with nothing to sample decodes the prompt only; a stage that does not
    batch (the scripted stage, a remote server) is not asked.
    """
    stage = asking.stage
    if not batching(stage).together:
        return
    story = story_messages(
        asking.scenario, asking.events, None, screenplay=stage.describe().plays_screenplay
    )
    nothing = Sampling(temperature=0.0, max_tokens=0)
    for _ in stage.generate(asking.sequence(NARRATOR_SEQUENCE), story, nothing):
        pass


def _job(
    asking: Asking, name: str | None, question: str, options: Sequence[str], prefix: str
) -> ChooseJob:
    """One question as a stage job: the asked seat's prompt with the question, and where the answer begins."""
    scenario, world, events = asking.scenario, asking.world, asking.events
    on_screenplay = asking.stage.describe().plays_screenplay
    messages: list[Message]
    if name is None:
        messages = story_messages(scenario, events, question, screenplay=on_screenplay)
        start = f"NARRATOR: {prefix}" if on_screenplay else prefix
        return (asking.sequence(NARRATOR_SEQUENCE), messages, list(options), start)
    if on_screenplay:
        messages = screenplay.screenplay_messages(scenario, name, events, question=question)
        return (
            asking.sequence(name),
            messages,
            list(options),
            screenplay.answer_prefix(name, prefix),
        )
    here = world.character_location[name]
    messages = asking.cast.messages(
        name, events, question=question, location=here, present=world.present(here)
    )
    return (asking.sequence(name), messages, list(options), prefix)


def _contrast(
    latent: LatentPlan, asked: Sequence[_Probe], jobs: int, containers: Sequence[str]
) -> list[list[int]] | None:
    """Per job, the options its answer is completed with for a contrast pair (None: no pairs)."""
    if not latent.config.contrast:
        return None
    pairs: list[list[int]] = [[] for _ in range(jobs)]
    for entry in asked:
        if not entry.captured:
            continue
        if entry.kind == "fact":
            pairs[entry.first] = [0, 1]  # yes, no
        else:
            found = latent.contrast(containers, [True], [entry.named])
            pairs[entry.first] = found[0] if found else []
    return pairs


def _event(
    asking: Asking, entry: _Probe, answers: Sequence[int]
) -> ProbeAnswered | WhoKnowsAnswered:
    """The observation of one probe: what was asked, what the model answered, reality where it is a fact."""
    probe, world = entry.config, asking.world
    if entry.kind == "who_knows":
        chosen = answers[entry.first : entry.first + len(entry.questions)]
        return WhoKnowsAnswered(
            turn=asking.turn, ask=probe.ask, fact=str(probe.who_knows), through=tuple(probe.through),
            names=tuple(asking.scenario.cast_names), questions=tuple(entry.questions),
            answers=tuple(WHO_KNOWS_OPTIONS[index] for index in chosen),  # type: ignore[misc]
        )  # fmt: skip
    about = str(probe.about)
    if entry.kind == "fact":
        truth = "yes" if world.facts[about] else "no"
    else:
        truth = world.object_container[about]
    return ProbeAnswered(
        turn=asking.turn, ask=str(probe.ask), about=about, through=tuple(probe.through), style=probe.style,
        kind="fact" if entry.kind == "fact" else "object", question=entry.questions[0], options=entry.options,
        answer=entry.options[answers[entry.first]], truth=truth,
    )  # fmt: skip
