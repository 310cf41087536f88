"""A battery folder's finished runs, read back from their logs: each probe with the answers beside it.

Everything is folded from each run's own events, never taken from the generator's
header: on a live model a character's own action can move the object, so reality,
the tracker's answer and the lower-order answer are those of the run as it played.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from statistics import fmean
from typing import Any

from simstage.analysis.profile_shape import Estimate, LatentLayer, LatentTarget
from simstage.events import ProbeAnswered, WhoKnowsAnswered
from simstage.generate.core import knowers_label
from simstage.puppeteer.metrics import RunMetrics, run_metrics
from simstage.scenario.models import Scenario
from simstage.tom.beliefs import BeliefState
from simstage.tom.metrics import FACT_ANSWERS, ProbeVerdict, verdict_of

Progress = Callable[[str], None]


@dataclass(frozen=True)
class ProbeRecord:
    """One probe of one run, with the tracker's answer and each trivial strategy's answer."""

    model: str
    scene: str
    seed: int
    puppeteer: str
    """The run's puppeteer setting (`as-written`, `bare`, ...)."""
    run_style: str
    """The run's style setting (`as-written`, `direct`, `indirect`, `both`)."""
    turn: int
    ask: str
    about: str
    through: tuple[str, ...]
    style: str
    """How this question was asked (`direct`, `indirect`)."""
    kind: str
    """`object`, `fact`, or `who_knows` (its answers: the names, as `knowers_label` writes them;
    a narrator's who-knows probe, asked of no character, is not recorded)."""
    answer: str
    """The model's answer."""
    tracker: str | None
    """The tracker's answer (None: no belief; such a probe is not scored)."""
    reality: str
    lower: str | None
    """The answer one order down (order 1: reality)."""
    first_named: str | None
    """The option the question names first (None: it names none)."""
    last_named: str | None
    options: int
    """How many options the model chose among."""
    occurrence: int
    """How many times this same question came before it in its run (0: the first)."""

    @property
    def order(self) -> int:
        """The belief order asked (a who-knows probe reads one deeper than its chain)."""
        return len(self.through) + (2 if self.kind == "who_knows" else 1)

    @property
    def false_belief(self) -> bool:
        """Whether the tracker's answer is a belief reality contradicts (a fact's "don't know" is no
        belief, as `simstage.tom.metrics` counts it)."""
        if self.tracker is None or (self.kind == "fact" and self.tracker == FACT_ANSWERS[None]):
            return False
        return self.tracker != self.reality

    def question(self, *, style: bool = True) -> tuple[Any, ...]:
        """What identifies the question within its scene and seed (`style`: how it was asked, too)."""
        asked = (self.turn, self.ask, self.about, self.through, self.kind, self.occurrence)
        return (*asked, self.style) if style else asked


@dataclass(frozen=True)
class RunRecord:
    """One finished run: its settings, its probes, and its puppeteer metrics where it recorded them."""

    run_id: str
    model: str
    scene: str
    seed: int
    puppeteer: str
    run_style: str
    kind: str
    """The puppeteer that played it (`as-written` resolved to the scene's own)."""
    probes: tuple[ProbeRecord, ...]
    metrics: RunMetrics | None
    log: Path


def finished_runs(
    folder: Path, progress: Progress = lambda _: None
) -> tuple[list[RunRecord], list[str]]:
    """Every finished run of the battery in `folder` (a row and a whole log), in run id order.

    Returns:
        The runs, and a warning for each row that could not be read.
    """
    from simstage.errors import SimstageError
    from simstage.run.log import logged_scenario, read_runlog
    from simstage.sweep.plan import ROWS
    from simstage.sweep.table import log_problem

    warnings: list[str] = []
    rows = sorted((folder / ROWS).glob("*.json"))
    progress(f"profile: reading {len(rows)} runs")
    runs: list[RunRecord] = []
    for row_file in rows:
        try:
            row = json.loads(row_file.read_text(encoding="utf-8"))
            settings = row["settings"]
            log = folder / str(row["log"])
        except (OSError, ValueError, KeyError, TypeError):
            warnings.append(f"{row_file}: not a readable result row; skipped")
            continue
        problem = log_problem(log) if log.is_file() else f"{log}: missing"
        if problem is not None:
            warnings.append(f"{problem}; the run is left out")
            continue
        try:
            runlog = read_runlog(log)
            scenario = logged_scenario(runlog.header).scenario
        except SimstageError as exc:
            warnings.append(f"{log}: {str(exc).splitlines()[0]}; the run is left out")
            continue
        runs.append(_record(row, settings, log, scenario, runlog.events, runlog.header.seed))
    return runs, warnings


def _record(
    row: dict[str, Any],
    settings: dict[str, Any],
    log: Path,
    scenario: Scenario,
    events: list[Any],
    seed: int,
) -> RunRecord:
    model, scene = str(settings.get("model")), str(settings.get("scene"))
    puppeteer, run_style = (
        str(settings.get("puppeteer", "as-written")),
        str(settings.get("style", "as-written")),
    )
    probes = probe_records(
        scenario,
        events,
        model=model,
        scene=scene,
        seed=seed,
        puppeteer=puppeteer,
        run_style=run_style,
    )
    kind = scenario.puppeteer.kind
    return RunRecord(
        str(row.get("run_id")), model, scene, seed, puppeteer, run_style, kind, tuple(probes),
        run_metrics(events, kind), log,
    )  # fmt: skip


def probe_records(scenario: Scenario, events: list[Any], **run: Any) -> list[ProbeRecord]:
    """A run's probes about objects and facts, and who-knows probes asked of characters, in log order,
    each with the answers folded at its moment."""
    from simstage.tom.timeline import BeliefTimeline

    named = {
        (probe.at, probe.ask, probe.about, tuple(probe.through), probe.style): list(probe.named)
        for probe in scenario.probes
    }
    timeline = BeliefTimeline(scenario)
    seen: Counter[tuple[Any, ...]] = Counter()
    records: list[ProbeRecord] = []
    for event in events:
        if isinstance(event, WhoKnowsAnswered):
            if event.ask is not None:
                records.append(who_knows_record(timeline.now(), event, seen, **run))
            continue
        if not isinstance(event, ProbeAnswered):
            timeline.add(event)
            continue
        state = timeline.now()
        verdict = verdict_of(state, event)
        assert isinstance(verdict, ProbeVerdict)
        names = (
            named.get((event.turn, event.ask, event.about, tuple(event.through), event.style)) or []
        )
        key = (event.turn, event.ask, event.about, tuple(event.through), event.kind, event.style)
        occurrence = _occurrence(seen, key)
        records.append(ProbeRecord(
            turn=event.turn, ask=event.ask, about=event.about, through=tuple(event.through), style=event.style,
            kind=event.kind, answer=event.answer, tracker=verdict.tracker, reality=event.truth,
            lower=lower_answer(state, event), first_named=names[0] if names else None,
            last_named=names[-1] if names else None, options=len(event.options), occurrence=occurrence, **run,
        ))  # fmt: skip
    return records


def _occurrence(seen: Counter[tuple[Any, ...]], key: tuple[Any, ...]) -> int:
    """How many times the question `key` came before in its run (and count this one)."""
    seen[key] += 1
    return seen[key] - 1


def who_knows_record(
    state: BeliefState, event: WhoKnowsAnswered, seen: Counter[tuple[Any, ...]], **run: Any
) -> ProbeRecord:
    """A who-knows probe asked of a character, as a record: its answer is the set of names, right
    only when exactly the tracker's; chance, guessing each name yes or no, is 1 in 2^names."""
    key = (event.turn, event.ask, event.fact, tuple(event.through), "who_knows", "direct")
    occurrence = _occurrence(seen, key)
    really = state.who_knows(event.fact)
    chain = event.through[:-1]
    return ProbeRecord(
        turn=event.turn, ask=str(event.ask), about=event.fact, through=tuple(event.through), style="direct",
        kind="who_knows", answer=knowers_label(event.said),
        tracker=knowers_label(state.who_knows(event.fact, event.ask, event.through)),
        reality=knowers_label(really),
        lower=knowers_label(state.who_knows(event.fact, event.ask, chain) if event.through else really),
        first_named=None, last_named=None, options=2 ** len(event.names), occurrence=occurrence, **run,
    )  # fmt: skip


def lower_answer(state: BeliefState, event: ProbeAnswered) -> str | None:
    """The answer one order down: the same chain without its last mind (order 1: reality)."""
    if not event.through:
        return event.truth
    chain = event.through[:-1]
    if event.kind == "fact":
        fact = state.fact_belief(event.ask, event.about, chain)
        return FACT_ANSWERS[None if fact is None else fact.value]
    belief = state.where(event.ask, event.about, chain)
    return None if belief is None else belief.container


def run_values(run: RunRecord) -> dict[str, float]:
    """A run's puppeteer metrics, flat: each reward, persona drift and fit (mean over characters), voice
    collapse, reward gain."""
    metrics = run.metrics
    if metrics is None:
        return {}
    values = {f"reward.{name}": value for name, value in metrics.rewards.items()}
    if metrics.persona_drift:
        values["persona_drift"] = fmean(metrics.persona_drift.values())
    if metrics.persona_fit:
        values["persona_fit"] = fmean(metrics.persona_fit.values())
    if metrics.voice_collapse is not None:
        values["voice_collapse"] = metrics.voice_collapse
    if metrics.reward_gain is not None:
        values["reward_gain"] = metrics.reward_gain
    return values


def latent_targets(
    model: str, runs: Sequence[RunRecord], progress: Progress
) -> tuple[list[LatentTarget], str | None]:
    """The latent probes fitted on the model's runs that captured activations (none: nothing to fit)."""
    from simstage.analysis.results import Skipped
    from simstage.analysis.sweep_latent import latent_of_logs
    from simstage.latent.store import sidecar_path

    logs = [run.log for run in runs if sidecar_path(run.log).exists()]
    if not logs:
        return [], None
    found = latent_of_logs(logs, lambda line: progress(f"{model}: {line}"))
    if found is None:
        return [], None
    if isinstance(found.dataset, Skipped):
        return [], found.dataset.reason
    targets = []
    for target, result in found.targets:
        if isinstance(result, Skipped):
            targets.append(LatentTarget(target=target, skipped=result.reason))
            continue
        behaviour = result.behaviour.all
        targets.append(LatentTarget(
            target=target, probes=result.summary.n, chance=result.summary.chance,
            behaviour=behaviour.estimate if behaviour is not None else None,
            layers=[LatentLayer(layer=entry.layer, **{kind: _accuracy(entry.cell(kind)) for kind in ("mean_diff", "logistic", "ccs")})
                    for entry in result.layers],
        ))  # fmt: skip
    return targets, None


def _accuracy(cell: Any) -> Estimate | None:
    """A latent probe's accuracy (bootstrapped over runs there) in the profile's shape."""
    if cell is None:
        return None
    return Estimate(value=cell.estimate, low=cell.low, high=cell.high, n=cell.rows, units=cell.n)
