"""A battery's plan: its scenes (generated or read), every run's scenario, and the run ids.

A run is one scene on one model under one puppeteer and one probe style, with one
seed. Its scenario is the scene's YAML with the model's `stage:` section, the
puppeteer and the style applied, validated like any scenario, so its run log's
header holds exactly what it played (`replay --verify` stays honest). Runs are in
model order: every run of a model plays on one loaded stage (`battery/player.py`).

The plan is a `SweepPlan` whose settings are the battery's axes (model, family,
scene, puppeteer, style), so the sweep's folder, lock, rows and tables serve it.
"""

from __future__ import annotations

import copy
import math
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import yaml

from simstage import __version__
from simstage.battery.file import AS_WRITTEN, Battery, BatteryError, LoadedBattery, Loc, ModelEntry
from simstage.battery.scenes import SCENES, BatteryScene, collect_scenes
from simstage.scenario import ScenarioError, parse_scenario
from simstage.sweep.plan import (
    MAX_RUNS,
    PlannedRun,
    Setting,
    SweepError,
    SweepPlan,
    Variant,
    parse_seeds,
    seeds_text,
)

BATTERY_FILE = "battery.json"
"""The plan a battery folder holds (a sweep's holds `sweep.json`)."""
BATTERY_FORMAT = 1
KEYS = ("model", "family", "scene", "puppeteer", "style")
"""A run's settings: the table's columns after the run id."""


@dataclass
class BatteryPlan(SweepPlan):
    """Every run of a battery, model by model, with the scenes it plays."""

    loaded: LoadedBattery | None = None
    scenes: list[BatteryScene] = field(default_factory=list)
    models: list[str] = field(default_factory=list)

    def identity(self) -> dict[str, Any]:
        """What makes two plans the same battery: its file's text, its scenes' texts, seeds and turns."""
        return {
            "battery_sha256": self.scenario_sha256,
            "scenes": {scene.name: scene.sha256 for scene in self.scenes},
            "seeds": self.seeds,
            "max_turns": self.max_turns,
        }

    def describe(self) -> dict[str, Any]:
        """The content of `battery.json`: the battery's text too, so the folder stands alone."""
        assert self.loaded is not None
        return {
            "format": BATTERY_FORMAT,
            "kind": "battery",
            "simstage": __version__,
            "created": datetime.now(UTC).isoformat(timespec="seconds"),
            "battery": {
                "path": self.scenario_path,
                "sha256": self.scenario_sha256,
                "text": self.loaded.text,
            },
            "title": self.loaded.battery.title,
            "models": self.models,
            "scenes": {scene.name: scene.sha256 for scene in self.scenes},
            "families": {scene.name: scene.family for scene in self.scenes},
            "sets": [{"key": s.key, "values": list(s.values)} for s in self.sets],
            "seeds": self.seeds,
            "max_turns": self.max_turns,
            "runs": len(self.runs),
        }

    def shape(self) -> str:
        """How the runs multiply up, in words: `2 models × 30 scene-puppeteer pairs × 1 seed`.

        An axis (puppeteers, styles) of which every scene plays as many is a factor of its own
        (left out at one); one that differs from scene to scene is counted with the scenes.
        """
        assert self.loaded is not None
        battery = self.loaded.battery
        counts = {
            key: [len(_axis(battery, scene, f"{key}s")) for scene in self.scenes]
            for key in ("puppeteer", "style")
        }
        own = [key for key, each in counts.items() if len(set(each)) > 1]
        if own:
            plays = sum(
                math.prod(counts[key][index] for key in own) for index in range(len(self.scenes))
            )
            scenes = f"{plays} scene-{'-'.join(own)} {'pairs' if len(own) == 1 else 'triples'}"
        else:
            scenes = _many(len(self.scenes), "scene")
        shared = [
            _many(each[0], key)
            for key, each in counts.items()
            if key not in own and each and each[0] > 1
        ]
        return " × ".join(
            [_many(len(self.models), "model"), scenes, *shared, _many(len(self.seeds), "seed")]
        )

    def differences(self, before: dict[str, Any]) -> list[str]:
        """How the battery a folder holds (its `battery.json`) differs from this one (empty: the same)."""
        found = []
        if (before.get("battery") or {}).get("sha256") != self.scenario_sha256:
            found.append("the battery file differs from the one it ran")
        listed = before.get("scenes")
        scenes: dict[str, Any] = listed if isinstance(listed, dict) else {}
        changed = [s.name for s in self.scenes if s.name in scenes and scenes[s.name] != s.sha256]
        if changed:
            found.append(
                f"scene {changed[0]} differs from the one it played (the generator or the file changed)"
            )
        if before.get("seeds") != self.seeds:
            found.append(
                f"seeds there: {seeds_text(before.get('seeds'))}; here: {seeds_text(self.seeds)}"
            )
        if before.get("max_turns") != self.max_turns:
            found.append(f"max_turns there: {before.get('max_turns')}; here: {self.max_turns}")
        return found


def make_battery_plan(loaded: LoadedBattery) -> BatteryPlan:
    """The battery's scenes and runs, every run's scenario validated, before anything plays.

    Raises:
        BatteryError: a problem of the battery itself, located in its file.
        ScenarioError: a scenario file it lists is invalid (located in that file).
    """
    battery = loaded.battery
    seeds = _seeds(loaded)
    scenes = collect_scenes(loaded)
    runs_total = (
        len(battery.models)
        * len(seeds)
        * sum(
            len(_axis(battery, scene, "puppeteers")) * len(_axis(battery, scene, "styles"))
            for scene in scenes
        )
    )
    if runs_total > MAX_RUNS:
        raise loaded.error((), f"the battery has {runs_total} runs; at most {MAX_RUNS}")
    plan = BatteryPlan(
        loaded.path, loaded.sha256, [], seeds, battery.max_turns, loaded=loaded, scenes=scenes,
        models=[model.label for model in battery.models],
    )  # fmt: skip
    blamed: dict[tuple[Loc, str], list[str]] = {}
    for index, model in enumerate(battery.models):
        _check_model(loaded, index, model)
        for scene in scenes:
            base = yaml.safe_load(scene.text)
            for puppeteer in _axis(battery, scene, "puppeteers"):
                for style in _axis(battery, scene, "styles"):
                    settings = (("model", model.label), ("family", scene.family or "file"), ("scene", scene.name),
                                ("puppeteer", puppeteer), ("style", style))  # fmt: skip
                    try:
                        variant_loaded = _variant(
                            loaded, index, model, scene, base, puppeteer, style
                        )
                    except _Blamed as exc:
                        for where in exc.blamed:
                            blamed.setdefault(where, []).append(scene.name)
                        continue
                    slug = "__".join(
                        [model.label, scene.name]
                        + [v for v in (puppeteer, style) if v != AS_WRITTEN]
                    )
                    plan.variants.append(Variant(settings, variant_loaded, slug))
    if blamed:
        raise BatteryError(
            [
                loaded.problem(loc, _scenes_named(text, names))
                for (loc, text), names in blamed.items()
            ]
        )
    plan.sets = [
        Setting(key, tuple(dict.fromkeys(dict(v.settings)[key] for v in plan.variants)))
        for key in KEYS
    ]
    plan.runs = [
        PlannedRun(f"{v.slug}__seed{seed}", v, seed) for v in plan.variants for seed in seeds
    ]
    return plan


class _Blamed(Exception):
    """A run's scenario is invalid: each problem as (where in the battery, what), its scene not named."""

    def __init__(self, blamed: list[tuple[Loc, str]]):
        self.blamed = blamed


def _scenes_named(text: str, names: list[str]) -> str:
    unique = list(dict.fromkeys(names))
    more = f" and {len(unique) - 1} more" if len(unique) > 1 else ""
    return f"{text} (scene {unique[0]}{more})"


def _many(count: int, thing: str) -> str:
    return f"{count} {thing}{'' if count == 1 else 's'}"


def _seeds(loaded: LoadedBattery) -> list[int]:
    seeds = loaded.battery.seeds
    try:
        return parse_seeds(seeds if isinstance(seeds, str) else ",".join(str(s) for s in seeds))
    except SweepError as exc:
        raise loaded.error(("seeds",), str(exc).removeprefix("--seeds: ")) from None


def _axis(battery: Battery, scene: BatteryScene, name: str) -> list[str]:
    """The scene's puppeteers or styles: its entry's own, else the battery's."""
    own = getattr(battery.scenes[scene.entry], name)
    return list(own if own is not None else getattr(battery, name))


def _axis_loc(battery: Battery, scene: BatteryScene, name: str) -> Loc:
    """Where the scene's puppeteers or styles are written."""
    return (
        ("scenes", scene.entry, name)
        if getattr(battery.scenes[scene.entry], name) is not None
        else (name,)
    )


def _variant(
    loaded: LoadedBattery, index: int, model: ModelEntry, scene: BatteryScene, base: dict[str, Any],
    puppeteer: str, style: str,
) -> Any:  # fmt: skip
    """The scene as one run plays it (model, puppeteer, style, latent applied), validated."""
    battery = loaded.battery
    data = copy.deepcopy(base)
    data["stage"] = {
        **battery.stage,
        "backend": model.backend,
        "model": _model_path(loaded, model),
        **model.stage,
    }
    if puppeteer != AS_WRITTEN:
        steered = dict(data.get("puppeteer") or {})
        needs = {"optimizer": "rewards", "scripted": "order"}.get(puppeteer)
        if needs and not steered.get(needs):
            message = f"the {puppeteer} puppeteer needs `puppeteer.{needs}`, which the scene lacks"
            raise _Blamed([(_axis_loc(battery, scene, "puppeteers"), message)])
        data["puppeteer"] = {**steered, "kind": puppeteer, "metrics": True}
    if style != AS_WRITTEN:
        data["probes"] = restyled(data, style)
    if battery.latent is not None:
        data["latent"] = battery.latent
    text = yaml.safe_dump(data, sort_keys=False, allow_unicode=True, width=100)
    try:
        return parse_scenario(text, f"{SCENES}/{scene.file_name}")
    except ScenarioError as exc:
        raise _Blamed(
            [_blame(loaded, index, model, scene, problem) for problem in exc.problems]
        ) from None


def _check_model(loaded: LoadedBattery, index: int, model: ModelEntry) -> None:
    """Refuse, before anything plays, a llama model that is neither embedded nor a file."""
    from simstage.stage.models import EMBEDDED, GEMMA_NAMES

    if model.backend != "llama" or model.model in EMBEDDED or model.model in GEMMA_NAMES:
        return
    if not Path(_model_path(loaded, model)).expanduser().is_file():
        known = ", ".join([*EMBEDDED, *GEMMA_NAMES])
        message = f"model file not found: {model.model} (a GGUF path, relative to the battery file, or one of: {known})"
        raise loaded.error(("models", index, "model"), message)


def _model_path(loaded: LoadedBattery, model: ModelEntry) -> str:
    """The model as the stage is told it: a GGUF path relative to the battery file made absolute."""
    if model.backend != "llama" or Path(model.model).is_absolute():
        return model.model
    beside = loaded.folder / model.model
    return str(beside.resolve()) if beside.is_file() else model.model


def _blame(
    loaded: LoadedBattery, index: int, model: ModelEntry, scene: BatteryScene, problem: Any
) -> tuple[Loc, str]:
    """Where in the battery a problem of a run's scenario comes from, and what it is."""
    field_name = problem.field or ""
    parts = field_name.split(".")
    battery = loaded.battery
    loc: Loc
    if parts[0] == "stage":
        key = parts[1] if len(parts) > 1 else ""
        loc = (
            ("models", index, "stage", key)
            if key in model.stage
            else ("stage", key)
            if key in battery.stage
            else ("models", index)
        )
    elif parts[0] == "puppeteer":
        loc = _axis_loc(battery, scene, "puppeteers")
    elif parts[0] == "latent":
        loc = ("latent",)
    else:
        loc = ("scenes", scene.entry)
    return (
        loc,
        f"on {model.label}: {field_name}: {problem.message}"
        if field_name
        else f"on {model.label}: {problem.message}",
    )


def restyled(data: dict[str, Any], style: str) -> list[dict[str, Any]]:
    """The scene's probes with every question about an object asked `style`-ly (`both`: each asked both ways).

    Facts and who-knows questions are asked directly only, so they are kept as they are.
    """
    objects = set((data.get("world") or {}).get("objects") or {})
    probes: list[dict[str, Any]] = []
    for probe in data.get("probes") or []:
        about_object = probe.get("about") in objects and probe.get("who_knows") is None
        if not about_object:
            probes.append(probe)
        elif style == "both":
            for each in ("direct", "indirect"):
                asked = copy.deepcopy({**probe, "style": each})
                if asked not in probes:
                    probes.append(asked)
        else:
            probes.append(copy.deepcopy({**probe, "style": style}))
    return probes
