"""Play one scenario under several puppeteers and seeds; gather each run's metrics, with intervals.

Means over seeds come with a 95% bootstrap interval over seeds, and columns
played on the same seeds are compared seed by seed: the mean difference with
its bootstrap interval (`paired_differences`).
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from statistics import fmean
from typing import Any

from simstage.events import Claimed, Said
from simstage.puppeteer.metrics import RunMetrics, run_metrics
from simstage.scenario.models import Scenario
from simstage.stage.abilities import counters
from simstage.stage.base import Stage
from simstage.stats import bootstrap_mean, bootstrap_method, paired_difference
from simstage.tom.metrics import TomMetrics, tom_metrics

COMPARABLE = ("bare", "round_robin", "scripted", "director", "optimizer")
"""Puppeteers that play without a person at the keyboard."""


def check_comparable(kind: str) -> None:
    """Refuse a puppeteer kind that `compare` cannot play unattended.

    Raises:
        ValueError: `kind` is not one of `COMPARABLE` (the message lists them).
    """
    if kind not in COMPARABLE:
        raise ValueError(f"cannot compare puppeteer {kind!r} (valid: {', '.join(COMPARABLE)})")


def with_puppeteer(scenario: Scenario, kind: str) -> Scenario:
    """The scenario steered by `kind` (its other puppeteer settings kept), metrics on.

    Raises:
        ValueError: a kind that cannot run unattended or lacks its settings.
    """
    check_comparable(kind)
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


def play(
    scenario: Scenario, stage: Stage, kind: str, seed: int, max_turns: int | None = None
) -> RunResult:
    """One run of `scenario` under `kind` on `stage` (its sequences are released afterwards)."""
    from simstage.render import narrate
    from simstage.run.open import open_simulation

    steered = with_puppeteer(scenario, kind)
    meter = counters(stage)
    before = meter.batched_calls
    started = time.perf_counter()
    opened = open_simulation(
        steered, stage, seed=seed, max_turns=max_turns, metrics=True, latent=False
    )
    simulation = opened.simulation
    try:
        simulation.run()
    finally:
        simulation.release_sequences()
    events = simulation.events
    return RunResult(
        puppeteer=kind,
        seed=seed,
        metrics=run_metrics(events, kind),
        tom=tom_metrics(steered, events),
        seconds=time.perf_counter() - started,
        batched_calls=meter.batched_calls - before,
        lines=[line for e in events if isinstance(e, (Said, Claimed)) and (line := narrate(e))],
    )


def _mean(values: Sequence[float | None]) -> float | None:
    present = [v for v in values if v is not None]
    return fmean(present) if present else None


def run_values(result: RunResult) -> dict[str, float | None]:
    """One run's metrics, flat, by metric name (None where the run has no such figure)."""
    out: dict[str, float | None] = dict.fromkeys(
        ("persona_fit", "persona_drift", "voice_collapse", "reward_gain", "flips")
    )
    metrics = result.metrics
    if metrics is not None:
        out.update(sorted(metrics.rewards.items()))
        out["persona_fit"] = _mean(list(metrics.persona_fit.values()))
        out["persona_drift"] = _mean(list(metrics.persona_drift.values()))
        out["voice_collapse"] = metrics.voice_collapse
        out["reward_gain"] = metrics.reward_gain
        out["flips"] = float(sum(metrics.flips.values()))
    if result.tom is not None:
        out.update(tom_values(result.tom))
    out["seconds"] = result.seconds
    out["batched_calls"] = float(result.batched_calls)
    return out


def tom_values(tom: TomMetrics) -> dict[str, float | None]:
    """A run's ToM scores, flat: overall, false beliefs, then by kind (`tom.kind.fact`, ...), order
    (`tom.order.2`) and style, the who-knows F1, and the number of probes scored (`tom_n`)."""
    out: dict[str, float | None] = {
        "tom_accuracy": tom.overall.accuracy, "tom_false_belief": tom.false_belief.accuracy,
    }  # fmt: skip
    for group, scores in (("kind", tom.by_kind), ("order", tom.by_order), ("style", tom.by_style)):
        out.update({f"tom.{group}.{key}": score.accuracy for key, score in scores.items()})
    if tom.who_knows_f1 is not None:
        out["tom.who_knows_f1"] = tom.who_knows_f1
    out["tom_n"] = float(tom.overall.n)
    return out


def _names(per_run: Sequence[dict[str, float | None]]) -> list[str]:
    """Metric names in a stable order: rewards first (sorted), then the fixed metrics as `run_values` lists
    them, the ToM groups (`tom.…`, sorted) among them."""
    fixed = [
        "persona_fit",
        "persona_drift",
        "voice_collapse",
        "reward_gain",
        "flips",
        "tom_accuracy",
        "tom_false_belief",
        "tom.",
        "tom_n",
        "seconds",
        "batched_calls",
    ]
    seen = {name for values in per_run for name in values}
    groups = sorted(name for name in seen if name.startswith("tom."))
    rewards = sorted(seen - set(fixed) - set(groups))
    return rewards + [
        name for entry in fixed for name in (groups if entry == "tom." else [entry]) if name in seen
    ]


def summarise_runs(results: Sequence[RunResult]) -> dict[str, float | None]:
    """Means over runs (one puppeteer's seeds) of each metric, flat, by metric name."""
    per_run = [run_values(r) for r in results]
    return {name: _mean([values.get(name) for values in per_run]) for name in _names(per_run)}


def intervals(results: Sequence[RunResult]) -> dict[str, dict[str, Any]]:
    """Per metric, its mean over seeds with a 95% bootstrap interval over seeds (JSON-ready)."""
    per_run = [run_values(r) for r in results]
    out: dict[str, dict[str, Any]] = {}
    for name in _names(per_run):
        interval = bootstrap_mean([v for values in per_run if (v := values.get(name)) is not None])
        if interval is not None:
            out[name] = interval.as_dict()
    return out


def comparison_pairs(
    kinds: Sequence[str], models: Sequence[str] | None = None
) -> list[tuple[str, str]]:
    """Which columns to compare, each pair differing in one thing: each puppeteer against the first,
    and with several models (columns "KIND on MODEL"), each model against the first for every puppeteer."""
    if not models or len(models) < 2:
        return [(kinds[0], kind) for kind in kinds[1:]]
    pairs = [
        (f"{kinds[0]} on {model}", f"{kind} on {model}") for model in models for kind in kinds[1:]
    ]
    pairs += [
        (f"{kind} on {models[0]}", f"{kind} on {model}") for kind in kinds for model in models[1:]
    ]
    return pairs


def paired_differences(
    table: dict[str, Any], pairs: Sequence[tuple[str, str]]
) -> list[dict[str, Any]]:
    """For each pair (A, B) and each metric both have: the mean over seeds of B - A, seed by seed,
    with its 95% bootstrap interval over seeds.

    Args:
        table: `compare()`'s `puppeteers` (each entry's `per_seed` carries `seed` and `values`).
        pairs: column keys to compare.
    """
    out: list[dict[str, Any]] = []
    for a, b in pairs:
        if a not in table or b not in table:
            continue
        by_seed = {
            key: {row["seed"]: row.get("values", {}) for row in table[key]["per_seed"]}
            for key in (a, b)
        }
        names = _names(list(by_seed[a].values()) + list(by_seed[b].values()))
        for name in names:
            diff = paired_difference(
                {seed: values.get(name) for seed, values in by_seed[b].items()},
                {seed: values.get(name) for seed, values in by_seed[a].items()},
            )
            if diff is not None:
                out.append({"a": a, "b": b, "metric": name, **diff.as_dict()})
    return out


def compare(
    scenario: Scenario,
    stage: Any,
    kinds: Sequence[str],
    seeds: Sequence[int],
    max_turns: int | None = None,
) -> dict[str, Any]:
    """Every (puppeteer, seed) run, and per puppeteer the means of its metrics with their intervals.

    Returns:
        `{"scenario", "seeds", "method", "puppeteers": {kind: {"runs", "metrics", "intervals", "per_seed"}}}`,
        JSON-ready; `method` names the intervals (a bootstrap over seeds).
    """
    for kind in kinds:
        with_puppeteer(scenario, kind)  # fail before any run
    table: dict[str, Any] = {}
    for kind in kinds:
        results = [play(scenario, stage, kind, seed, max_turns) for seed in seeds]
        table[kind] = {
            "runs": len(results),
            "metrics": summarise_runs(results),
            "intervals": intervals(results),
            "per_seed": [
                {
                    "seed": r.seed,
                    "metrics": None
                    if r.metrics is None
                    else r.metrics.model_dump(exclude={"type", "turn"}),
                    "tom_accuracy": None if r.tom is None else r.tom.overall.accuracy,
                    "tom": None if r.tom is None else r.tom.model_dump(),
                    "values": run_values(r),
                    "batched_calls": r.batched_calls,
                    "lines": r.lines,
                }
                for r in results
            ],
        }
    return {
        "scenario": scenario.title,
        "seeds": list(seeds),
        "method": bootstrap_method("seeds"),
        "puppeteers": table,
    }


def compare_models(
    loaded: Any,
    kinds: Sequence[str],
    seeds: Sequence[int],
    models: Sequence[str | None] = (None,),
    *,
    backend: str | None = None,
    threads: int | None = None,
    max_turns: int | None = None,
) -> dict[str, Any]:
    """`compare` on each model in turn (one loaded at a time), with the paired differences.

    With several models the columns read "PUPPETEER on MODEL" and `models` lists them; each
    puppeteer is compared with the first, on each model, and each model with the first.

    Raises:
        ValueError: a puppeteer that cannot run unattended or lacks its settings (before any stage starts).
        StageError: a model's stage cannot start.
    """
    from simstage.run.open import build_stage

    for kind in kinds:
        with_puppeteer(loaded.scenario, kind)
    result: dict[str, Any] = {}
    for name in models:
        stage = build_stage(loaded, backend=backend, model=name, threads=threads)
        try:
            one = compare(loaded.scenario, stage, kinds, seeds, max_turns)
        finally:
            stage.close()
        if len(models) > 1:
            one["puppeteers"] = {
                f"{kind} on {name}": entry for kind, entry in one["puppeteers"].items()
            }
        if result:
            result["puppeteers"].update(one["puppeteers"])
        else:
            result = one
    several = [str(name) for name in models] if len(models) > 1 else None
    if several:
        result["models"] = several
    result["paired"] = paired_differences(result["puppeteers"], comparison_pairs(kinds, several))
    return result
