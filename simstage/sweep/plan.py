"""A sweep's plan: seeds, `--set` variants, their product, run ids (the folder: `sweep/folder.py`).

Every variant is the scenario file with some values replaced, dumped back to YAML
and validated like any scenario, so each run log's header holds the exact scenario
that run played (replay and `replay --verify` stay honest). All of it is checked
before the first run starts.
"""

from __future__ import annotations

import copy
import hashlib
import itertools
import json
import re
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import yaml

from simstage import __version__
from simstage.errors import SimstageError
from simstage.scenario import LoadedScenario, ScenarioError, load_scenario, parse_scenario
from simstage.scenario.loader import PYYAML_FAILURES

PLAN_FORMAT = 1
MAX_RUNS = 100_000
"""Most runs one sweep may plan (a typo such as 1-1000000 fails at once)."""
PLAN_FILE = "sweep.json"
ROWS = "rows"
LOCK_FILE = ".sweep.lock"
_SEED_PART = re.compile(r"^\s*(\d+)\s*(?:-\s*(\d+)\s*)?$")
_UNSAFE = re.compile(r"[^A-Za-z0-9._=+-]+")
_MAX_ID = 150


class SweepError(SimstageError, ValueError):
    """Bad sweep input or a folder that holds another sweep; the message is what to print."""


@dataclass(frozen=True)
class Setting:
    """One `--set KEY=V1,V2,...`: a dotted path into the scenario and the values it takes."""

    key: str
    values: tuple[Any, ...]

    @property
    def parts(self) -> list[str]:
        """The path's steps (dict keys, or list indices as digits)."""
        return self.key.split(".")


@dataclass(frozen=True)
class Variant:
    """The scenario with one value of each setting applied, validated."""

    settings: tuple[tuple[str, Any], ...]
    loaded: LoadedScenario
    slug: str
    """The variant's part of run ids and file names."""

    @property
    def label(self) -> str:
        """`key=value, key=value` for tables and plots (`scenario as written` when nothing is set)."""
        if not self.settings:
            return "scenario as written"
        return ", ".join(f"{key}={value_text(value)}" for key, value in self.settings)

    @property
    def backend(self) -> str:
        """The stage backend the variant plays on."""
        return self.loaded.scenario.stage.backend


@dataclass(frozen=True)
class PlannedRun:
    """One run of the sweep: a variant and a seed."""

    run_id: str
    variant: Variant
    seed: int

    @property
    def settings(self) -> dict[str, Any]:
        """The varied settings of this run, by key."""
        return dict(self.variant.settings)


@dataclass
class SweepPlan:
    """Every run of a sweep, in order: variants (in `--set` order) times seeds."""

    scenario_path: str
    scenario_sha256: str
    sets: list[Setting]
    seeds: list[int]
    max_turns: int | None
    variants: list[Variant] = field(default_factory=list)
    runs: list[PlannedRun] = field(default_factory=list)

    @property
    def keys(self) -> list[str]:
        """The varied settings' keys, in `--set` order."""
        return [setting.key for setting in self.sets]

    def identity(self) -> dict[str, Any]:
        """What makes two plans the same sweep (the scenario's content, not where it lies)."""
        return {
            "scenario_sha256": self.scenario_sha256,
            "sets": [{"key": s.key, "values": list(s.values)} for s in self.sets],
            "seeds": self.seeds,
            "max_turns": self.max_turns,
        }

    def describe(self) -> dict[str, Any]:
        """The content of `sweep.json`."""
        return {
            "format": PLAN_FORMAT,
            "simstage": __version__,
            "created": datetime.now(UTC).isoformat(timespec="seconds"),
            "scenario": {"path": self.scenario_path, "sha256": self.scenario_sha256},
            "sets": [{"key": s.key, "values": list(s.values)} for s in self.sets],
            "seeds": self.seeds,
            "max_turns": self.max_turns,
            "runs": len(self.runs),
        }


def parse_seeds(text: str) -> list[int]:
    """`1-100`, `7`, or `1,2,5-7` as a list of seeds (in order, each once).

    Raises:
        SweepError: not a seed list, an empty range, or more than MAX_RUNS seeds.
    """
    seeds: list[int] = []
    seen: set[int] = set()
    for part in text.split(","):
        if not part.strip():
            continue
        match = _SEED_PART.match(part)
        if match is None:
            raise SweepError(
                f"--seeds: {part.strip()!r} is not a seed or a range (e.g. 1-100 or 1,2,5-7)"
            )
        low = int(match.group(1))
        high = int(match.group(2)) if match.group(2) is not None else low
        if high < low:
            raise SweepError(f"--seeds: {part.strip()!r} is an empty range")
        if high - low >= MAX_RUNS or len(seeds) + high - low >= MAX_RUNS:
            raise SweepError(f"--seeds: more than {MAX_RUNS} seeds")
        for seed in range(low, high + 1):
            if seed not in seen:
                seen.add(seed)
                seeds.append(seed)
    if not seeds:
        raise SweepError("--seeds: no seeds given (e.g. 1-100 or 1,2,5-7)")
    return seeds


def _plain(value: Any) -> bool:
    """Whether a YAML value is plain data (it goes to JSON: sweep.json, rows, tables)."""
    if value is None or isinstance(value, str | int | float | bool):
        return True
    if isinstance(value, list):
        return all(_plain(item) for item in value)
    if isinstance(value, dict):
        return all(isinstance(k, str) and _plain(v) for k, v in value.items())
    return False


def _load_value(text: str, where: str) -> Any:
    try:
        return yaml.safe_load(text)
    except PYYAML_FAILURES as exc:
        reason = getattr(exc, "problem", None) or (str(exc).splitlines() or [type(exc).__name__])[0]
        raise SweepError(f"{where}: {text!r} is not a YAML value ({reason})") from None


def parse_set(text: str) -> Setting:
    """`KEY=V1,V2,...` as a setting; each value is read as YAML (`0.3` a number, `bare` a string).

    Values that hold commas go in a YAML list: `KEY=[a value, another]`.

    Raises:
        SweepError: no `=`, an empty key or value, a repeated value, or a value that is not plain data.
    """
    where = f"--set {text}"
    key, equals, raw = text.partition("=")
    key = key.strip()
    if not equals or not key:
        raise SweepError(f"{where}: expected KEY=V1,V2,... (e.g. puppeteer.kind=bare,optimizer)")
    if any(not part.strip() or part != part.strip() for part in key.split(".")):
        raise SweepError(
            f"{where}: {key!r} is not a dotted path such as stage.temperature or cast.0.persona"
        )
    if key == "seed":
        raise SweepError(f"{where}: seeds come from --seeds, not --set")
    raw = raw.strip()
    if raw.startswith("["):
        values = _load_value(raw, where)
        if not isinstance(values, list):
            raise SweepError(f"{where}: {raw!r} is not a YAML list")
    else:
        pieces = [piece.strip() for piece in raw.split(",")]
        if any(not piece for piece in pieces):
            raise SweepError(f"{where}: empty value (write null for none)")
        values = [_load_value(piece, where) for piece in pieces]
    if not values:
        raise SweepError(f"{where}: no values")
    seen: set[str] = set()
    for value in values:
        if not _plain(value):
            raise SweepError(f"{where}: {value!r} is not plain YAML data (quote it)")
        marker = json.dumps(value, sort_keys=True)
        if marker in seen:
            raise SweepError(f"{where}: the value {value_text(value)} is given twice")
        seen.add(marker)
    return Setting(key=key, values=tuple(values))


def check_sets(sets: list[Setting]) -> None:
    """Refuse a key set twice, or one key inside another (`stage` and `stage.temperature`).

    Raises:
        SweepError: the keys overlap.
    """
    for first, second in itertools.combinations(sets, 2):
        short, long = sorted((first.parts, second.parts), key=len)
        if long[: len(short)] == short:
            raise SweepError(f"--set {first.key} and --set {second.key} overlap; set each key once")


def value_text(value: Any) -> str:
    """A value as it appears in labels and run ids (strings bare, the rest as compact JSON)."""
    if isinstance(value, str):
        return value
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def apply_setting(data: dict[str, Any], key: str, value: Any) -> None:
    """Set `value` at the dotted `key` of YAML data; missing mapping keys are created.

    Keys the scenario does not know are left for validation to refuse, so the message
    is the same one a hand-edited file would get.

    Raises:
        SweepError: the path runs through a value that is not a mapping or a list, or
            past the end of a list.
    """
    parts = key.split(".")
    node: Any = data
    for depth, part in enumerate(parts):
        last = depth == len(parts) - 1
        where = ".".join(parts[:depth]) or "the scenario"
        if isinstance(node, list):
            if not part.isdigit():
                raise SweepError(f"{key}: {where} is a list; index it by number (e.g. {where}.0)")
            index = int(part)
            if index >= len(node):
                raise SweepError(
                    f"{key}: {where} has {len(node)} entries (indices 0-{len(node) - 1})"
                )
            if last:
                node[index] = value
            else:
                node = node[index]
        elif isinstance(node, dict):
            if last:
                node[part] = value
            else:
                if node.get(part) is None:
                    node[part] = {}
                node = node[part]
        else:
            raise SweepError(f"{key}: {where} is {value_text(node)!r}, not a mapping or a list")


def variant_text(base: dict[str, Any], settings: tuple[tuple[str, Any], ...]) -> str:
    """The scenario YAML with `settings` applied."""
    data = copy.deepcopy(base)
    for key, value in settings:
        apply_setting(data, key, value)
    return yaml.safe_dump(data, sort_keys=False, allow_unicode=True, width=100)


def _slug(settings: tuple[tuple[str, Any], ...]) -> str:
    raw = "__".join(f"{key}={value_text(value)}" for key, value in settings)
    slug = _UNSAFE.sub("_", raw).strip("_") or "variant"
    if slug[0] in ".-":
        slug = "_" + slug
    if len(slug) > _MAX_ID:
        slug = slug[: _MAX_ID - 9] + "-" + _digest(raw)
    return slug


def _digest(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:8]


def _validate(
    base: dict[str, Any], settings: tuple[tuple[str, Any], ...], path: str, base_dir: Path
) -> LoadedScenario:
    """The variant validated; problems as one `simstage:` line each, naming the settings."""
    what = ", ".join(f"{key}={value_text(value)}" for key, value in settings)
    try:
        text = variant_text(base, settings)
        return parse_scenario(text, path, base_dir=base_dir)
    except SweepError as exc:
        raise SweepError(f"--set {exc}") from None
    except ScenarioError as exc:
        lines = [f"--set {what}: {_problem(p)}" for p in exc.problems]
        raise SweepError("\n".join(lines)) from None


def _problem(problem: Any) -> str:
    # The line and column point into the dumped variant, not the user's file: leave them out.
    return f"{problem.field}: {problem.message}" if problem.field else problem.message


def make_plan(
    scenario_path: str | Path, sets: list[Setting], seeds: list[int], max_turns: int | None = None
) -> SweepPlan:
    """Load the scenario, build and validate every variant, and list the runs.

    Raises:
        ScenarioError: the scenario file itself is missing or invalid.
        SweepError: a setting or a combination of settings makes an invalid scenario,
            or the sweep has more than MAX_RUNS runs.
    """
    check_sets(sets)
    loaded = load_scenario(scenario_path)
    path = str(scenario_path)
    base_dir = Path(scenario_path).parent
    plan = SweepPlan(path, loaded.sha256, list(sets), list(seeds), max_turns)
    total = len(seeds)
    for setting in sets:
        total *= len(setting.values)
    if total > MAX_RUNS:
        raise SweepError(f"the sweep has {total} runs; at most {MAX_RUNS}")
    if not sets:
        plan.variants = [Variant((), loaded, "")]
    else:
        base = yaml.safe_load(loaded.text)
        # Each value alone first, so a bad one is named by itself; then every combination.
        for setting in sets:
            for value in setting.values:
                _validate(base, ((setting.key, value),), path, base_dir)
        combos = itertools.product(*[[(s.key, v) for v in s.values] for s in sets])
        plan.variants = [
            Variant(combo, _validate(base, combo, path, base_dir), _slug(combo)) for combo in combos
        ]
        _disambiguate(plan)
    plan.runs = [
        PlannedRun(f"{variant.slug}__seed{seed}" if variant.slug else f"seed{seed}", variant, seed)
        for variant in plan.variants
        for seed in seeds
    ]
    return plan


def _disambiguate(plan: SweepPlan) -> None:
    """Give variants whose slugs collide (after sanitising, or by case alone) a digest suffix."""
    counts: dict[str, int] = {}
    for variant in plan.variants:
        counts[variant.slug.lower()] = counts.get(variant.slug.lower(), 0) + 1
    plan.variants = [
        variant
        if counts[variant.slug.lower()] == 1
        else Variant(
            variant.settings,
            variant.loaded,
            f"{variant.slug}-{_digest(json.dumps(variant.settings))}",
        )
        for variant in plan.variants
    ]


def seeds_text(seeds: Any) -> str:
    """Seeds as short ranges: `1-5,9`."""
    if not isinstance(seeds, list) or not all(isinstance(s, int) for s in seeds):
        return "?"
    parts: list[str] = []
    index = 0
    while index < len(seeds):
        end = index
        while end + 1 < len(seeds) and seeds[end + 1] == seeds[end] + 1:
            end += 1
        parts.append(str(seeds[index]) if end == index else f"{seeds[index]}-{seeds[end]}")
        index = end + 1
    return ",".join(parts)
