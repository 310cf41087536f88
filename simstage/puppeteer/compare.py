"""Play one scenario under several puppeteers and seeds; gather each run's metrics."""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from statistics import fmean
from typing import Any

from simstage.events import RunMetrics, TomMetrics
from simstage.scenario.models import Scenario

COMPARABLE = ("bare", "round_robin", "scripted", "director", "optimizer")
"""Puppeteers that play without a person at the keyboard."""


def parse_seeds(text: str) -> list[int]:
    """`1-5`, `3`, or `1,4,9` (ranges and commas mix) as a list of seeds.

    Raises:
        ValueError: not a seed list.
    """
    seeds: list[int] = []
    for part in text.split(","):
        part = part.strip()
        if not part:
            continue
        low, dash, high = part.partition("-")
        if dash:
            start, end = int(low), int(high)
            if end < start:
                raise ValueError(f"empty seed range {part!r}")
            seeds.extend(range(start, end + 1))
        else:
            seeds.append(int(part))
    if not seeds:
        raise ValueError("no seeds given")
    return seeds


def with_puppeteer(scenario: Scenario, kind: str) -> Scenario:
    """The scenario steered by `kind` (its other puppeteer settings kept), metrics on.

    Raises:
        ValueError: a kind that cannot run unattended or lacks its settings.
    """
    if kind not in COMPARABLE:
        raise ValueError(f"cannot compare puppeteer {kind!r} (valid: {', '.join(COMPARABLE)})")
    config = scenario.puppeteer
    if kind == "scripted" and not config.order:
        raise ValueError("the scripted puppeteer needs `puppeteer.order` in the scenario")
    if kind == "optimizer" and not config.rewards:
        raise ValueError("the optimizer needs `puppeteer.rewards` in the scenario")
    steered = config.model_copy(update={"kind": kind, "metrics": True})
    return scenario.model_copy(update={"puppeteer": steered})


@dataclass
class RunResult:
    """One run's summary."""

    puppeteer: str
    seed: int
    metrics: RunMetrics | None
    tom: TomMetrics | None
    seconds: float
    batched_calls: int
    lines: list[str] = field(default_factory=list)


def play(scenario: Scenario, stage: Any, kind: str, seed: int, max_turns: int | None = None) -> RunResult:
    """One run of `scenario` under `kind` on `stage` (its sequences are released afterwards)."""
    from simstage.engine import Simulation
    from simstage.render import narrate

    steered = with_puppeteer(scenario, kind)
    before = stage.counters.batched_calls
    started = time.perf_counter()
    simulation = Simulation(steered, stage, seed=seed, max_turns=max_turns, metrics=True)
    try:
        simulation.run()
    finally:
        simulation.release_sequences()
    events = simulation.events
    return RunResult(
        puppeteer=kind,
        seed=seed,
        metrics=next((e for e in events if isinstance(e, RunMetrics)), None),
        tom=next((e for e in events if isinstance(e, TomMetrics)), None),
        seconds=time.perf_counter() - started,
        batched_calls=stage.counters.batched_calls - before,
        lines=[line for e in events if getattr(e, "type", None) in ("say", "claim") and (line := narrate(e))],
    )


def _mean(values: Sequence[float | None]) -> float | None:
    present = [v for v in values if v is not None]
    return fmean(present) if present else None


def summarise_runs(results: Sequence[RunResult]) -> dict[str, float | None]:
    """Means over runs (one puppeteer's seeds) of each metric, flat, by metric name."""
    metrics = [r.metrics for r in results if r.metrics is not None]
    out: dict[str, float | None] = {}
    names = sorted({name for m in metrics for name in m.rewards})
    for name in names:
        out[name] = _mean([m.rewards.get(name) for m in metrics])
    out["persona_fit"] = _mean([_mean(list(m.persona_fit.values())) for m in metrics])
    out["persona_drift"] = _mean([_mean(list(m.persona_drift.values())) for m in metrics])
    out["voice_collapse"] = _mean([m.voice_collapse for m in metrics])
    out["reward_gain"] = _mean([m.reward_gain for m in metrics])
    out["flips"] = _mean([float(sum(m.flips.values())) for m in metrics])
    toms = [r.tom for r in results if r.tom is not None]
    if toms:
        out["tom_accuracy"] = _mean([t.overall.accuracy for t in toms])
        out["tom_false_belief"] = _mean([t.false_belief.accuracy for t in toms])
    out["seconds"] = _mean([r.seconds for r in results])
    out["batched_calls"] = _mean([float(r.batched_calls) for r in results])
    return out


def compare(
    scenario: Scenario, stage: Any, kinds: Sequence[str], seeds: Sequence[int], max_turns: int | None = None
) -> dict[str, Any]:
    """Every (puppeteer, seed) run, and per puppeteer the means of its metrics.

    Returns:
        `{"scenario", "seeds", "puppeteers": {kind: {"runs", "metrics", "per_seed"}}}`, JSON-ready.
    """
    for kind in kinds:
        with_puppeteer(scenario, kind)  # fail before any run
    table: dict[str, Any] = {}
    for kind in kinds:
        results = [play(scenario, stage, kind, seed, max_turns) for seed in seeds]
        table[kind] = {
            "runs": len(results),
            "metrics": summarise_runs(results),
            "per_seed": [
                {
                    "seed": r.seed,
                    "metrics": None if r.metrics is None else r.metrics.model_dump(exclude={"type", "turn"}),
                    "tom_accuracy": None if r.tom is None else r.tom.overall.accuracy,
                    "batched_calls": r.batched_calls,
                    "lines": r.lines,
                }
                for r in results
            ],
        }
    return {"scenario": scenario.title, "seeds": list(seeds), "puppeteers": table}
