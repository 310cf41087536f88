"""`simstage bench`: the same seeded scene played three ways, measured side by side.

- `naive`: every turn sends the speaker's whole prompt through llama-cpp-python's
  high-level `Llama` (one sequence, so each change of speaker re-processes
  most of the prompt);
- `simstage`: the multi-sequence stage (one KV sequence per character; each turn
  decodes only what that character has not seen);
- `ceiling`: raw prompt-processing and generation speed of the same model and
  threads on one sequence, llama-bench style, measured in-process;
- `turn_scaling`: the engine alone (the scripted stage, no model) playing the
  bench scene for 2,000 and 4,000 turns, each in a child process of its own, so
  its time and peak memory are the run's: a turn must cost the same late in a
  run as early (time ratio near 2, memory nearly flat);
- `battery_fixed_cost`: the same seeded runs as separate `simstage run`
  processes and as one `simstage battery` (one load): the fixed cost per run
  (load + preamble) and the ratio (`bench/battery.py`).

Both scene paths build the same prompts, generate fixed-length lines with EOS
blocked, and sample greedily, so they do the same work but for what they reuse.
"""

from __future__ import annotations

import os
import statistics
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from simstage.bench.battery import BATTERY_RUNS, measure_battery_fixed_cost
from simstage.bench.ceiling import (
    measure_amx_setting_cost,
    measure_capture_overhead,
    measure_ceiling,
    measure_probes,
)
from simstage.bench.scene import SceneScript
from simstage.stage.base import Message, Sampling


@dataclass
class PathResult:
    """What one way of playing the scene cost."""

    prompt_tokens_evaluated: int = 0
    generated_tokens: int = 0
    wall_s: float = 0.0
    turn_p50_s: float = 0.0
    turn_p95_s: float = 0.0
    generation_s: float = 0.0
    new_tokens: int = 0
    """Prompt tokens that were really new to the speaking character (simstage only)."""
    lines: list[str] = field(default_factory=list)

    def summary(self) -> dict[str, Any]:
        data = asdict(self)
        data.pop("lines")
        data.pop("generation_s")
        if not self.new_tokens:
            data.pop("new_tokens")
        return {k: round(v, 4) if isinstance(v, float) else v for k, v in data.items()}


def _percentile(values: Sequence[float], q: float) -> float:
    ordered = sorted(values)
    if not ordered:
        return 0.0
    index = min(len(ordered) - 1, max(0, round(q * (len(ordered) - 1))))
    return ordered[index]


def _timed_scene(
    turns: int,
    script: SceneScript,
    play: Callable[[int, str, list[Message]], str],
    tick: Callable[[], None],
) -> tuple[list[float], float]:
    times: list[float] = []
    start = time.perf_counter()
    for turn in range(turns):
        name = script.speaker(turn)
        began = time.perf_counter()
        line = play(turn, name, script.messages(name))
        times.append(time.perf_counter() - began)
        script.lines.append((name, line))
        tick()
    return times, time.perf_counter() - start


def run_naive(
    model: Path,
    prompt_tokens: Callable[[list[Message]], list[int]],
    args: BenchArgs,
    tick: Callable[[], None],
) -> PathResult:
    """The usual approach: one `Llama`, the whole prompt every turn."""
    import llama_cpp

    from simstage.stage.cpu import cpu_safe_defaults

    with cpu_safe_defaults(allow_amx=args.amx):
        llm = llama_cpp.Llama(
            str(model),
            n_ctx=args.n_ctx,
            n_threads=args.threads,
            n_threads_batch=args.threads,
            n_gpu_layers=args.n_gpu_layers,
            n_batch=512,
            verbose=False,
            seed=0,
        )
    result = PathResult()
    eos = [t for t in range(llm.n_vocab()) if llama_cpp.llama_vocab_is_eog(llm._model.vocab, t)]
    bias = {t: float("-inf") for t in eos}
    script = SceneScript(args.characters)
    ctx = llm._ctx.ctx

    def play(turn: int, name: str, messages: list[Message]) -> str:
        tokens = prompt_tokens(messages)
        out = llm.create_completion(
            tokens,
            max_tokens=args.line_tokens,
            temperature=0.0,
            top_k=1,
            logit_bias=bias,
        )
        assert isinstance(out, dict), "a completion without stream=True is one response"
        return out["choices"][0]["text"]

    llama_cpp.llama_perf_context_reset(ctx)
    times, wall = _timed_scene(args.turns, script, play, tick)
    perf = llama_cpp.llama_perf_context(ctx)
    result.generated_tokens = args.turns * args.line_tokens
    result.prompt_tokens_evaluated = perf.n_p_eval + perf.n_eval - result.generated_tokens
    result.wall_s = wall
    result.turn_p50_s = statistics.median(times)
    result.turn_p95_s = _percentile(times, 0.95)
    result.lines = [line for _, line in script.lines]
    llm.close()
    return result


def run_simstage(stage: Any, args: BenchArgs, tick: Callable[[], None]) -> PathResult:
    """The simstage design: one sequence per character, only unseen tokens decoded."""
    script = SceneScript(args.characters)
    seqs = {name: stage.open_sequence() for name in script.names}
    greedy = Sampling(temperature=0.0, max_tokens=args.line_tokens)
    result = PathResult()
    before = stage.counters.prompt_tokens
    generation = 0.0
    seen: dict[str, int] = {}

    def play(turn: int, name: str, messages: list[Message]) -> str:
        nonlocal generation
        tokens = stage.prompt_tokens(messages)
        # Tokens new to this character: past what its previous prompt and line covered.
        result.new_tokens += len(tokens) - seen.get(name, 0)
        stream = stage.generate_tokens(seqs[name], tokens, greedy, block_eog=True)
        chunks = [next(stream)]
        began = time.perf_counter()
        chunks.extend(stream)
        generation += time.perf_counter() - began
        seen[name] = stage.kv_length(seqs[name])
        return "".join(chunks)

    times, wall = _timed_scene(args.turns, script, play, tick)
    result.prompt_tokens_evaluated = stage.counters.prompt_tokens - before
    result.generated_tokens = args.turns * args.line_tokens
    result.wall_s = wall
    result.generation_s = generation
    result.turn_p50_s = statistics.median(times)
    result.turn_p95_s = _percentile(times, 0.95)
    result.lines = [line for _, line in script.lines]
    for seq in seqs.values():
        stage.drop(seq)
    return result


@dataclass
class BenchArgs:
    """Options of `simstage bench`."""

    model: str = "default"
    characters: int = 4
    turns: int = 40
    line_tokens: int = 24
    threads: int = field(default_factory=lambda: os.cpu_count() or 1)
    n_gpu_layers: int = 0
    n_ctx: int = 8192
    amx: bool = False
    """Use ggml's AMX buffer type on a CPU with AMX (crashes there today: llama.cpp #20824)."""


def run_bench(
    args: BenchArgs, progress: Callable[[str, int], Callable[[], None]] | None = None
) -> dict[str, Any]:
    """Run the three measurements and return the report (see `simstage bench --help`).

    Args:
        args: the options.
        progress: called with (task name, total steps); returns a function to call per step.
    """
    from simstage.stage.llama import LlamaStage
    from simstage.stage.models import resolve_model

    def task(name: str, total: int) -> Callable[[], None]:
        return progress(name, total) if progress else (lambda: None)

    path = resolve_model(args.model)
    naive = run_naive_with_format(path, args, task("naive", args.turns))
    stage = LlamaStage(
        path,
        model_name=args.model,
        n_ctx=args.n_ctx,
        n_threads=args.threads,
        n_gpu_layers=args.n_gpu_layers,
        n_seq_max=max(16, args.characters * 2 + 8),
        allow_amx=args.amx,
    )
    try:
        ours = run_simstage(stage, args, task("simstage", args.turns))
        tick = task("ceiling + probes", 2)
        depth = round(ours.prompt_tokens_evaluated / max(1, args.characters))
        ceiling = measure_ceiling(stage, depth=min(depth, args.n_ctx // 2))
        tick()
        probe_speedup, probe_ceiling = measure_probes(stage, args.characters, args.turns)
        tick()
    finally:
        stage.close()
    amx_cost = measure_amx_setting_cost(path, args.threads, task("amx setting cost", 4))
    tick = task("latent capture cost", 1)
    capture_cost = measure_capture_overhead(path, args.threads, args.characters)
    tick()
    scaling = measure_turn_scaling(tick=task("turn scaling", len(SCALING_TURNS) * 3))
    fixed_cost = measure_battery_fixed_cost(
        args.model, threads=args.threads, tick=task("battery fixed cost", BATTERY_RUNS + 1)
    )
    # The first token of each line is sampled from the prompt's logits, not timed as generation.
    gen_tps = (ours.generated_tokens - args.turns) / ours.generation_s if ours.generation_s else 0.0
    return {
        "model": path.name,
        "characters": args.characters,
        "turns": args.turns,
        "line_tokens": args.line_tokens,
        "threads": args.threads,
        "naive": naive.summary(),
        "simstage": ours.summary(),
        "same_lines": naive.lines == ours.lines,
        "wall_ratio": round(naive.wall_s / ours.wall_s, 3),
        "prompt_tokens_ratio": round(
            naive.prompt_tokens_evaluated / max(1, ours.prompt_tokens_evaluated), 3
        ),
        "prompt_overhead": round(ours.prompt_tokens_evaluated / max(1, ours.new_tokens), 3),
        "probe_batch_speedup": round(probe_speedup, 3),
        "probe_batch_ceiling": round(probe_ceiling, 3),
        "ceiling": ceiling,
        "generation_tps": round(gen_tps, 2),
        "efficiency": round(gen_tps / ceiling["tg_tps"], 3) if ceiling["tg_tps"] else 0.0,
        "amx_setting_cost": amx_cost,
        "latent_capture_overhead": capture_cost,
        "turn_scaling": scaling,
        "battery_fixed_cost": fixed_cost,
    }


SCALING_TURNS = (2000, 4000)
"""The run lengths `turn_scaling` compares."""

_SCALING_CHILD = """
import json, resource, sys, tempfile, time
from simstage.engine import EventCallback
from simstage.run.open import open_simulation
from simstage.bench.scene import bench_scenario
from simstage.stage.scripted import ScriptedStage
turns, characters = int(sys.argv[1]), int(sys.argv[2])
with tempfile.TemporaryFile("w") as log:
    sim = open_simulation(bench_scenario(characters), ScriptedStage(record_prompts=False),
                          max_turns=turns).simulation
    sim.subscribe(EventCallback(lambda event: log.write(event.model_dump_json() + "\\n")))
    began = time.perf_counter()
    sim.run()
    seconds = time.perf_counter() - began
print(json.dumps({"turns": sim.turn, "seconds": seconds,
                  "rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))
"""


def _scaling_run(turns: int, characters: int) -> dict[str, Any]:
    """One scripted run in a child process: its turns, seconds and peak RSS (MB)."""
    import json
    import subprocess
    import sys

    done = subprocess.run(
        [sys.executable, "-c", _SCALING_CHILD, str(turns), str(characters)],
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        from simstage.stage.base import StageError

        last = (done.stderr.strip().splitlines() or ["no output"])[-1]
        raise StageError(f"turn scaling: the {turns}-turn run failed: {last}")
    result: dict[str, Any] = json.loads(done.stdout)
    return result


def measure_turn_scaling(
    characters: int = 4, repeats: int = 3, tick: Callable[[], None] = lambda: None
) -> dict[str, Any]:
    """The engine's cost at 2,000 and 4,000 turns on the scripted stage (no model).

    Each run is a child process of its own (its peak RSS is the run's, not the
    bench's, which may hold a model); each length is played `repeats` times and
    its fastest time kept (the machine is shared).

    Returns:
        `{"characters", "turns", "seconds", "rss_mb", "time_ratio_4000_2000", "rss_mb_4000"}`.

    Raises:
        StageError: a child run failed.
    """
    seconds: list[float] = []
    rss: list[float] = []
    for turns in SCALING_TURNS:
        runs = []
        for _ in range(repeats):
            runs.append(_scaling_run(turns, characters))
            tick()
        seconds.append(min(run["seconds"] for run in runs))
        rss.append(max(run["rss_mb"] for run in runs))
    return {
        "characters": characters,
        "turns": list(SCALING_TURNS),
        "seconds": [round(s, 3) for s in seconds],
        "rss_mb": [round(r, 1) for r in rss],
        "time_ratio_4000_2000": round(seconds[1] / seconds[0], 3) if seconds[0] else 0.0,
        "rss_mb_4000": round(rss[1], 1),
    }


def run_naive_with_format(path: Path, args: BenchArgs, tick: Callable[[], None]) -> PathResult:
    """`run_naive` with the prompts the stage would decode: the model's own template, same tokens."""
    from simstage.stage.llama import LlamaStage

    vocab = LlamaStage(path, vocab_only=True, allow_amx=args.amx)
    try:
        return run_naive(path, vocab.prompt_tokens, args, tick)
    finally:
        vocab.close()


def run_bench_runs(
    args: BenchArgs, most: int, progress: Callable[[str, int], Callable[[], None]] | None = None
) -> dict[str, Any]:
    """`simstage bench --runs N`: batched runs against one after another (`bench_runs.py`)."""
    from simstage.bench.runs import measure_runs, run_sizes
    from simstage.stage.models import resolve_model

    path = resolve_model(args.model)
    total = 2 * sum(run_sizes(most)) + most
    tick = progress("runs", total) if progress else (lambda: None)
    return measure_runs(
        path, most=most, characters=args.characters, turns=args.turns, line_tokens=args.line_tokens,
        threads=args.threads, n_ctx=args.n_ctx, n_gpu_layers=args.n_gpu_layers, amx=args.amx, tick=tick,
    )  # fmt: skip
