"""A battery's profile: what each model does, beside what trivial strategies would score on the same probes.

`battery_profile(folder)` reads a battery folder's finished runs (`profile_runs`)
and returns a `Profile`, a typed model whose `model_dump_json()` is what `simstage
report DIR --json` prints (`Profile.model_validate_json` reads it back). For each
model:

- ToM accuracy (the model's answer equals the tracker's) in cells of belief order
  × question style × false/true belief × kind (object or fact), each with 95%
  intervals bootstrapped over scenes (probes of one scene are not independent);
- beside it, on the same probes: chance (1/number of options) and the trivial
  baselines: answer reality, answer the lower order, answer the option the
  question names first, or last;
- direct vs indirect: how often the two styles give the same answer to the same question;
- puppeteers paired on the same scene, seed and style (optimizer vs bare: the
  sycophancy reward, persona drift, voice collapse);
- latent: per-layer probe accuracies where its runs captured activations.

And between models, paired differences of accuracy on identical scenes, seeds
and questions. The report page renders this; it computes nothing itself.
"""

from __future__ import annotations

import itertools
import json
from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from statistics import fmean
from typing import Any

from simstage.analysis.profile_runs import (
    ProbeRecord,
    Progress,
    RunRecord,
    finished_runs,
    latent_targets,
    run_values,
)
from simstage.analysis.profile_shape import (
    METHOD,
    Agreement,
    Cell,
    Estimate,
    LatentLayer,
    LatentTarget,
    ModelDifference,
    ModelProfile,
    Profile,
    PuppeteerDifference,
)  # fmt: skip
from simstage.stats import bootstrap_clusters

__all__ = [
    "METHOD", "Agreement", "Cell", "Estimate", "LatentLayer", "LatentTarget", "ModelDifference", "ModelProfile",
    "Profile", "PuppeteerDifference", "battery_profile",
]  # fmt: skip

BASELINES = ("reality", "lower", "first_named", "last_named")
"""The trivial strategies, each answering one field of the probe (`ProbeRecord`)."""


def battery_profile(
    folder: Path, *, latent: bool = True, progress: Progress = lambda _: None
) -> Profile:
    """The profile of the battery in `folder`, from its finished runs.

    Args:
        folder: a battery folder (`simstage battery --out`).
        latent: fit the latent probes where runs captured activations (slow: seconds per run).
        progress: told what is being read and fitted, a line at a time.

    Raises:
        SweepError: `folder` holds no readable battery plan.
    """
    described = read_battery_plan(folder)
    runs, warnings = finished_runs(folder, progress)
    # In the battery's order of puppeteers, so pairs read as written ("optimizer - bare").
    listed = next(
        (
            s.get("values")
            for s in described.get("sets") or []
            if isinstance(s, dict) and s.get("key") == "puppeteer"
        ),
        None,
    )
    rank = {str(value): index for index, value in enumerate(listed or [])}
    runs.sort(key=lambda run: rank.get(run.puppeteer, len(rank)))
    models = [str(m) for m in described.get("models") or []]
    models += sorted({run.model for run in runs} - set(models))
    profiles = []
    for model in models:
        own = [run for run in runs if run.model == model]
        profiles.append(model_profile(model, own, latent=latent, progress=progress))
    title = (
        described.get("title")
        or f"Battery {Path(str((described.get('battery') or {}).get('path', folder))).stem}"
    )
    planned = described.get("runs")
    return Profile(
        title=str(title), folder=str(folder), runs_planned=planned if isinstance(planned, int) else len(runs),
        runs_finished=len(runs), models=profiles, differences=model_differences(models, runs), warnings=warnings,
    )  # fmt: skip


def read_battery_plan(folder: Path) -> dict[str, Any]:
    """The `battery.json` of a battery folder.

    Raises:
        SweepError: missing, unreadable or not a battery's plan.
    """
    from simstage.battery.plan import BATTERY_FILE
    from simstage.sweep.plan import SweepError

    path = folder / BATTERY_FILE
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise SweepError(
            f"{folder}: not a battery folder ({BATTERY_FILE}: {exc.strerror or exc})"
        ) from None
    except ValueError as exc:
        raise SweepError(f"{path}: not JSON ({exc})") from None
    if not isinstance(data, dict) or data.get("kind") != "battery":
        raise SweepError(f"{path}: not a simstage battery plan")
    return data


def _estimate(by_scene: dict[str, list[float]]) -> Estimate | None:
    """The pooled mean of the values, with its interval bootstrapped over scenes."""
    scenes = [values for values in by_scene.values() if values]
    interval = bootstrap_clusters([sum(v) for v in scenes], [len(v) for v in scenes])
    if interval is None:
        return None
    return Estimate(
        value=interval.estimate,
        low=interval.low,
        high=interval.high,
        n=sum(len(v) for v in scenes),
        units=len(scenes),
    )


def rate(
    probes: Iterable[ProbeRecord], right: Callable[[ProbeRecord], bool | None]
) -> Estimate | None:
    """How often `right` holds over the probes it judges (None: it does not judge that probe)."""
    by_scene: dict[str, list[float]] = defaultdict(list)
    for probe in probes:
        verdict = right(probe)
        if verdict is not None:
            by_scene[probe.scene].append(float(verdict))
    return _estimate(by_scene)


def _baseline(name: str) -> Callable[[ProbeRecord], bool | None]:
    def right(probe: ProbeRecord) -> bool | None:
        answer = getattr(probe, name)
        return None if answer is None else answer == probe.tracker

    return right


def cell(
    probes: Sequence[ProbeRecord], order: int | None, style: str, belief: str, kind: str
) -> Cell | None:
    """The cell of the scored probes (the tracker has an answer) that match; None when none do."""
    accuracy = rate(probes, lambda p: p.answer == p.tracker)
    if accuracy is None:
        return None
    return Cell(
        order=order, style=style, belief=belief, kind=kind, accuracy=accuracy,  # type: ignore[arg-type]
        chance=fmean(1 / p.options for p in probes if p.options),
        baselines={name: rate(probes, _baseline(name)) for name in BASELINES},
    )  # fmt: skip


def cells(probes: Sequence[ProbeRecord]) -> list[Cell]:
    """Order × style × belief × kind, then order × belief (styles and kinds pooled), then order alone."""

    def belief_of(p: ProbeRecord) -> str:
        return "false" if p.false_belief else "true"

    groups: list[tuple[tuple[Any, ...], Callable[[ProbeRecord], tuple[Any, ...]]]] = [
        (("full",), lambda p: (p.order, p.style, belief_of(p), p.kind)),
        (("belief",), lambda p: (p.order, "all", belief_of(p), "all")),
        (("order",), lambda p: (p.order, "all", "all", "all")),
    ]
    out: list[Cell] = []
    for _, key in groups:
        grouped: dict[tuple[Any, ...], list[ProbeRecord]] = defaultdict(list)
        for probe in probes:
            grouped[key(probe)].append(probe)
        for (order, style, belief, kind), members in sorted(
            grouped.items(), key=lambda item: str(item[0])
        ):
            found = cell(members, order, style, belief, kind)
            if found is not None:
                out.append(found)
    return out


def model_profile(
    model: str,
    runs: Sequence[RunRecord],
    *,
    latent: bool = True,
    progress: Progress = lambda _: None,
) -> ModelProfile:
    """One model's profile from its finished runs."""
    probes = [p for run in runs for p in run.probes if p.tracker is not None]
    targets, note = latent_targets(model, runs, progress) if latent else ([], None)
    return ModelProfile(
        model=model, runs=len(runs), probes=len(probes), overall=rate(probes, lambda p: p.answer == p.tracker),
        cells=cells(probes), agreement=agreement(probes), puppeteers=puppeteer_differences(runs),
        latent=targets, latent_note=note,
    )  # fmt: skip


def agreement(probes: Sequence[ProbeRecord]) -> Agreement | None:
    """Direct vs indirect on the same questions; None when no question was asked both ways."""
    asked: dict[tuple[Any, ...], dict[str, ProbeRecord]] = defaultdict(dict)
    for probe in probes:
        asked[(probe.scene, probe.seed, probe.puppeteer, *probe.question(style=False))].setdefault(
            probe.style, probe
        )
    pairs = [(ways["direct"], ways["indirect"]) for ways in asked.values() if len(ways) == 2]

    def over_pairs(judge: Callable[[ProbeRecord, ProbeRecord], bool]) -> Estimate:
        by_scene: dict[str, list[float]] = defaultdict(list)
        for direct, indirect in pairs:
            by_scene[direct.scene].append(float(judge(direct, indirect)))
        found = _estimate(by_scene)
        assert found is not None
        return found

    if not pairs:
        return None
    return Agreement(
        pairs=len(pairs), same=over_pairs(lambda d, i: d.answer == i.answer),
        direct=over_pairs(lambda d, _: d.answer == d.tracker), indirect=over_pairs(lambda _, i: i.answer == i.tracker),
    )  # fmt: skip


def puppeteer_differences(runs: Sequence[RunRecord]) -> list[PuppeteerDifference]:
    """Each metric under each pair of puppeteers (in the order they appear), paired by scene, seed and style."""
    by_key: dict[tuple[Any, ...], dict[str, dict[str, float]]] = defaultdict(dict)
    kinds: list[str] = []
    for run in runs:
        if run.metrics is None:
            continue
        kinds.append(run.kind) if run.kind not in kinds else None
        by_key[(run.scene, run.seed, run.run_style)][run.kind] = run_values(run)
    out: list[PuppeteerDifference] = []
    for a, b in itertools.combinations(kinds, 2):
        paired = [
            (key[0], runs_[a], runs_[b])
            for key, runs_ in by_key.items()
            if a in runs_ and b in runs_
        ]
        metrics = sorted({name for _, x, y in paired for name in x if name in y})
        for metric in metrics:
            by_scene: dict[str, list[float]] = defaultdict(list)
            for scene, x, y in paired:
                if metric in x and metric in y:
                    by_scene[scene].append(x[metric] - y[metric])
            difference = _estimate(by_scene)
            if difference is None:
                continue
            kept = [(x[metric], y[metric]) for _, x, y in paired if metric in x and metric in y]
            out.append(PuppeteerDifference(
                metric=metric, a=a, b=b, mean_a=fmean(v for v, _ in kept), mean_b=fmean(v for _, v in kept),
                difference=difference,
            ))  # fmt: skip
    return out


def model_differences(models: Sequence[str], runs: Sequence[RunRecord]) -> list[ModelDifference]:
    """Accuracy of each pair of models on identical questions (same scene, seed, puppeteer, style), `a - b`."""
    answers: dict[str, dict[tuple[Any, ...], ProbeRecord]] = defaultdict(dict)
    for run in runs:
        for probe in run.probes:
            if probe.tracker is not None:
                answers[run.model][
                    (run.scene, run.seed, run.puppeteer, run.run_style, *probe.question())
                ] = probe
    out: list[ModelDifference] = []
    for a, b in itertools.combinations([m for m in models if m in answers], 2):
        shared = [(answers[a][key], answers[b][key]) for key in answers[a] if key in answers[b]]
        groups: dict[str, list[tuple[ProbeRecord, ProbeRecord]]] = defaultdict(list)
        for x, y in shared:
            groups["all"].append((x, y))
            if x.false_belief == y.false_belief:
                groups["false belief" if x.false_belief else "true belief"].append((x, y))
            groups[f"order {x.order}"].append((x, y))
        for group in sorted(groups, key=_group_rank):
            pairs = groups[group]
            by_scene: dict[str, list[float]] = defaultdict(list)
            for x, y in pairs:
                by_scene[x.scene].append(
                    float(x.answer == x.tracker) - float(y.answer == y.tracker)
                )
            difference = _estimate(by_scene)
            if difference is not None:
                out.append(ModelDifference(
                    a=a, b=b, group=group, accuracy_a=fmean(float(x.answer == x.tracker) for x, _ in pairs),
                    accuracy_b=fmean(float(y.answer == y.tracker) for _, y in pairs), difference=difference,
                ))  # fmt: skip
    return out


def _group_rank(group: str) -> tuple[int, str]:
    return ({"all": 0, "false belief": 1, "true belief": 2}.get(group, 3), group)
