"""`battery_fixed_cost`: what a run costs beyond its scene (load + preamble), in a battery and alone.

The same N seeded runs of one small generated scene are played twice, each in child
processes so that everything a user waits for is counted (the interpreter, imports,
the model's load, the run): once as N separate `simstage run` processes, once as one
`simstage battery` process that loads the model once and restarts it between runs.
A separate run pays the fixed cost every time, the battery once, so

    fixed cost per run = (separate total - battery total) / (N - 1)

and `ratio` = separate total / battery total. `same_runs` counts the runs whose
events are the same both ways (a restarted stage plays as a fresh one).
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

BATTERY_RUNS = 4
"""Runs the figure plays each way."""
SCENE = {"order": 1, "characters": 2, "events": 2, "probes": 1}
"""The generated false-belief scene played: two characters, two events, one probe."""
LINE_TOKENS = 8


def measure_battery_fixed_cost(
    model: str = "default",
    *,
    runs: int = BATTERY_RUNS,
    threads: int | None = None,
    tick: Any = lambda: None,
) -> dict[str, Any]:
    """Time `runs` seeded runs as separate `simstage run` processes and as one `simstage battery`.

    Args:
        model: an embedded model's name or a GGUF path.
        runs: runs each way (at least 2).
        threads: CPU threads for the llama stage.
        tick: called after each process.

    Raises:
        StageError: a child process failed (its last line of stderr says why).
    """
    import yaml

    from simstage.battery.file import parse_battery
    from simstage.battery.plan import make_battery_plan
    from simstage.run.log import read_runlog

    runs = max(2, runs)
    with tempfile.TemporaryDirectory(prefix="simstage-bench-battery-") as scratch:
        folder = Path(scratch)
        battery = {
            "models": [model],
            "scenes": [{"family": "false-belief", "n": 1, "seed": 1, "options": SCENE}],
            "seeds": f"1-{runs}",
            "stage": {"max_tokens": LINE_TOKENS, "n_ctx": 1024, "temperature": 0.0},
        }
        text = yaml.safe_dump(battery, sort_keys=False)
        (folder / "bench.yaml").write_text(text, encoding="utf-8")
        plan = make_battery_plan(parse_battery(text, str(folder / "bench.yaml")))
        scene = folder / "scene.yaml"
        scene.write_text(plan.runs[0].variant.loaded.text, encoding="utf-8")
        more = ["--threads", str(threads)] if threads else []
        alone: list[float] = []
        for run in plan.runs:
            out = folder / "alone" / f"{run.run_id}.jsonl"
            alone.append(_timed([
                "run", str(scene), "--headless", "--seed", str(run.seed), "--out", str(out), *more,
            ]))  # fmt: skip
            tick()
        together = _timed(
            ["battery", str(folder / "bench.yaml"), "--out", str(folder / "battery"), *more]
        )
        tick()
        same = sum(
            _events(read_runlog(folder / "battery" / f"{run.run_id}.jsonl"))
            == _events(read_runlog(folder / "alone" / f"{run.run_id}.jsonl"))
            for run in plan.runs
        )
    separate = sum(alone)
    return {
        "runs": runs,
        "separate_s": round(separate, 3),
        "battery_s": round(together, 3),
        "fixed_cost_per_run_s": round((separate - together) / (runs - 1), 3),
        "ratio": round(separate / together, 3) if together else 0.0,
        "same_runs": same,
    }


def _events(log: Any) -> list[dict[str, Any]]:
    return [
        event.model_dump() for event in log.events if event.type not in ("run_ended", "run_resumed")
    ]


def _timed(arguments: list[str]) -> float:
    """Seconds a `simstage` child process takes, start to exit."""
    from simstage.stage.base import StageError

    started = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-m", "simstage", *arguments], capture_output=True, text=True, check=False
    )
    seconds = time.perf_counter() - started
    if done.returncode != 0:
        last = (done.stderr.strip().splitlines() or ["?"])[-1]
        raise StageError(f"bench: simstage {arguments[0]} failed: {last}")
    return seconds
