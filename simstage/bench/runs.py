"""`simstage bench --runs N`: the same seeded runs played batched in one context and one after another.

Each run is the bench scene (`scene.py`) with its own seed: a cast taking
turns, fixed-length greedy lines with EOS blocked, so both ways do the same
work. One after another: each run alone on a plain context sized for one run
(`sweep --concurrency 1`). Batched: N runs at once on lanes of one context sized
for N (`batch.py`), their decode work in shared batches. For the largest N each
run is also played alone on a batch-invariant context, and `identical_alone`
counts the batched runs whose every line equals it.
"""

from __future__ import annotations

import resource
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from simstage.bench.scene import SceneScript
from simstage.stage.base import Sampling
from simstage.stage.batch import LlamaLane, SharedLlama


def run_sizes(most: int) -> list[int]:
    """1, 2, 4, … up to `most`, and `most` itself."""
    sizes, n = [], 1
    while n < most:
        sizes.append(n)
        n *= 2
    return [*sizes, most]


def play_scene_run(
    lane: LlamaLane, characters: int, turns: int, line_tokens: int, seed: int
) -> dict[str, Any]:
    """One bench run on `lane`: its lines and the KV bytes its sequences held at the end."""
    script = SceneScript(characters, seed)
    seqs = {name: lane.open_sequence() for name in script.names}
    greedy = Sampling(temperature=0.0, max_tokens=line_tokens)
    for turn in range(turns):
        name = script.speaker(turn)
        tokens = lane.prompt_tokens(script.messages(name))
        line = "".join(lane.generate_tokens(seqs[name], tokens, greedy, block_eog=True))
        script.lines.append((name, line))
    kv_bytes = sum(lane.state_size(seq) for seq in seqs.values())
    return {"lines": [line for _, line in script.lines], "kv_bytes": kv_bytes,
            "tokens": lane.counters.prompt_tokens + lane.counters.generated_tokens}  # fmt: skip


def _on_lanes(
    shared: SharedLlama, seeds: list[int], play: Callable[[LlamaLane, int], dict[str, Any]]
) -> tuple[list[dict[str, Any]], float]:
    """Play one run per seed at once, each on its own lane and thread."""
    lanes = [
        shared.lane() for _ in seeds
    ]  # all join before any decodes: the first batch waits for all
    results: list[dict[str, Any] | BaseException] = [{} for _ in seeds]

    def go(i: int) -> None:
        try:
            results[i] = play(lanes[i], seeds[i])
        except BaseException as exc:
            results[i] = exc
        finally:
            lanes[i].close()

    started = time.perf_counter()
    threads = [
        threading.Thread(target=go, args=(i,), name=f"bench-run-{i}") for i in range(len(seeds))
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    wall = time.perf_counter() - started
    for result in results:
        if isinstance(result, BaseException):
            raise result
    return results, wall  # type: ignore[return-value]


def measure_runs(
    model: Path,
    *,
    most: int,
    characters: int,
    turns: int,
    line_tokens: int,
    threads: int,
    n_ctx: int,
    n_gpu_layers: int = 0,
    amx: bool = False,
    tick: Callable[[], None] = lambda: None,
) -> dict[str, Any]:
    """Batched against one after another for N = 1, 2, 4, … `most`; `tick` after each run."""
    options = dict(
        model_name=model.name, run_ctx=n_ctx, sequences=characters + 2, n_threads=threads,
        n_gpu_layers=n_gpu_layers, allow_amx=amx,
    )  # fmt: skip

    def play(lane: LlamaLane, seed: int) -> dict[str, Any]:
        result = play_scene_run(lane, characters, turns, line_tokens, seed)
        tick()
        return result

    alone = SharedLlama(model, runs=1, batch_invariant=False, **options)  # type: ignore[arg-type]
    rows = []
    try:
        for n in run_sizes(most):
            seeds = list(range(n))
            sequential: list[dict[str, Any]] = []
            started = time.perf_counter()
            for seed in seeds:
                sequential.extend(_on_lanes(alone, [seed], play)[0])
            sequential_s = time.perf_counter() - started
            shared = SharedLlama(model, runs=n, **options)  # type: ignore[arg-type]
            try:
                batched, batched_s = _on_lanes(shared, seeds, play)
                per_batch = shared.decoder.tickets / max(1, shared.decoder.decodes)
            finally:
                shared.close()
            tokens = sum(run["tokens"] for run in batched)
            rows.append({
                "runs": n,
                "sequential_s": round(sequential_s, 3),
                "batched_s": round(batched_s, 3),
                "runs_per_hour_sequential": round(3600 * n / sequential_s, 1),
                "runs_per_hour_batched": round(3600 * n / batched_s, 1),
                "runs_speedup": round(sequential_s / batched_s, 3),
                "tokens_per_s_sequential": round(tokens / sequential_s, 1),
                "tokens_per_s_batched": round(tokens / batched_s, 1),
                "lanes_per_decode": round(per_batch, 2),
                "kv_mib_per_run": round(max(run["kv_bytes"] for run in batched) / 2**20, 1),
            })  # fmt: skip
        invariant = SharedLlama(model, runs=1, **options)  # type: ignore[arg-type]
        try:
            solo = [_on_lanes(invariant, [seed], play)[0][0] for seed in range(most)]
        finally:
            invariant.close()
        rows[-1]["identical_alone"] = sum(
            a["lines"] == b["lines"] for a, b in zip(solo, batched, strict=False)
        )
    finally:
        alone.close()
    return {
        "model": model.name,
        "characters": characters,
        "turns": turns,
        "line_tokens": line_tokens,
        "threads": threads,
        "runs_speedup": rows[-1]["runs_speedup"],
        "by_runs": rows,
        "peak_rss_mib": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
    }
