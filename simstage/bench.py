"""`simstage bench`: the same seeded scene played three ways, measured side by side.

- `naive`: every turn sends the speaker's whole prompt through llama-cpp-python's
  high-level `Llama` (one sequence, so each change of speaker re-processes
  most of the prompt);
- `simstage`: the multi-sequence stage (one KV sequence per character; each turn
  decodes only what that character has not seen);
- `ceiling`: raw prompt-processing and generation speed of the same model and
  threads on one sequence, llama-bench style, measured in-process.

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

from simstage.stage.base import Message, Sampling

NAMES = ("Ada", "Bram", "Cleo", "Dev", "Edda", "Finn", "Gus", "Hana", "Ines", "Jon", "Kai", "Lior")
PERSONAS = (
    "a retired sea captain who tells long stories",
    "a nervous accountant who worries about money",
    "a young painter who sees beauty everywhere",
    "a blunt chef who hates waste",
)


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


def bench_scenario(characters: int) -> Any:
    """The seeded bench scene: a dinner, `characters` guests, the real cast prompts."""
    from simstage.scenario.models import Scenario

    names = [NAMES[i % len(NAMES)] + ("" if i < len(NAMES) else str(i)) for i in range(characters)]
    return Scenario.model_validate(
        {
            "title": "A dinner that runs late",
            "seed": 1,
            "world": {
                "locations": ["dining room", "kitchen", "garden"],
                "containers": {"sideboard": {"in": "dining room"}, "pantry": {"in": "kitchen"}},
                "objects": {"wine": {"in": "pantry"}},
            },
            "cast": [
                {
                    "name": name,
                    "persona": f"{name} is {PERSONAS[i % len(PERSONAS)]}.",
                    "location": "dining room",
                    "goals": ["Be heard at the table.", "Find out who brought the wine."],
                }
                for i, name in enumerate(names)
            ],
            "max_turns": 100_000,
        }
    )


class SceneScript:
    """Who speaks when and what each character has heard: the prompts of the bench scene."""

    def __init__(self, characters: int):
        from simstage.cast.prompt import system_message

        self.scenario = bench_scenario(characters)
        self.names = self.scenario.cast_names
        self._system = {name: system_message(self.scenario, name) for name in self.names}
        self.lines: list[tuple[str, str]] = []

    def speaker(self, turn: int) -> str:
        return self.names[turn % len(self.names)]

    def messages(self, name: str) -> list[Message]:
        """The speaker's chat: system, then (heard since last turn, own line) pairs, then the open turn."""
        messages = [self._system[name]]
        heard: list[str] = []
        for speaker, line in self.lines:
            if speaker == name:
                messages.append(Message("user", "\n".join(heard) or "(silence)"))
                messages.append(Message("assistant", line))
                heard = []
            else:
                heard.append(f"{speaker} says: {line}")
        heard.append("It is your turn.")
        messages.append(Message("user", "\n".join(heard)))
        return messages


def _timed_scene(turns: int, script: SceneScript, play: Callable[[int, str, list[Message]], str], tick: Callable[[], None]) -> tuple[list[float], float]:
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
    model: Path, prompt_tokens: Callable[[list[Message]], list[int]], args: BenchArgs, tick: Callable[[], None]
) -> PathResult:
    """The usual approach: one `Llama`, the whole prompt every turn."""
    import llama_cpp

    from simstage.stage.cpu import cpu_safe_defaults

    with cpu_safe_defaults(allow_amx=args.amx):
        llm = llama_cpp.Llama(
            str(model), n_ctx=args.n_ctx, n_threads=args.threads, n_threads_batch=args.threads,
            n_gpu_layers=args.n_gpu_layers, n_batch=512, verbose=False, seed=0,
        )
    result = PathResult()
    eos = [t for t in range(llm.n_vocab()) if llama_cpp.llama_vocab_is_eog(llm._model.vocab, t)]
    bias = {t: float("-inf") for t in eos}
    script = SceneScript(args.characters)
    ctx = llm._ctx.ctx

    def play(turn: int, name: str, messages: list[Message]) -> str:
        tokens = prompt_tokens(messages)
        out = llm.create_completion(
            tokens, max_tokens=args.line_tokens, temperature=0.0, top_k=1, logit_bias=bias,
        )
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


def measure_ceiling(stage: Any, depth: int, pp_tokens: int = 512, tg_tokens: int = 64) -> dict[str, float]:
    """Raw speed on one sequence: prompt processing (pp) and generation (tg) at a given depth."""
    import numpy as np

    seq = stage.open_sequence()
    try:
        filler = [int(t) for t in np.random.default_rng(0).integers(100, 5000, size=depth + pp_tokens)]
        if depth:
            stage.sync(seq, filler[:depth])
        began = time.perf_counter()
        stage.decode([(tok, depth + i, seq, i == pp_tokens - 1) for i, tok in enumerate(filler[depth:])])
        pp = pp_tokens / (time.perf_counter() - began)
        stage.drop(seq)
        seq = stage.open_sequence()
        stage.sync(seq, filler[: depth + 1])
        token = filler[depth]
        began = time.perf_counter()
        for i in range(tg_tokens):
            logits = stage.decode([(token, depth + 1 + i, seq, True)])[0]
            token = int(np.argmax(logits))
        tg = tg_tokens / (time.perf_counter() - began)
    finally:
        stage.drop(seq)
    return {"pp_tps": round(pp, 2), "tg_tps": round(tg, 2), "depth": depth}


def measure_probes(stage: Any, args: BenchArgs, n: int = 4, repeats: int = 3) -> tuple[float, float]:
    """Speed-up of asking `n` characters one probe each in one batch vs one after another.

    Returns:
        (speed-up of `choose_many`, the same for raw `llama_decode` of the same
        token counts at the same depths: the most batching can give on this
        machine, with no Python around it). Each time is the best of `repeats`.
    """
    import numpy as np

    script = SceneScript(max(n, args.characters))
    for turn in range(min(args.turns, 8)):
        script.lines.append((script.speaker(turn), f"Line {turn} about the weather and the soup."))
    options = ["kitchen", "cellar", "garden", "attic"]
    jobs = []
    seqs = []
    for name in script.names[:n]:
        seq = stage.open_sequence()
        seqs.append(seq)
        messages = script.messages(name)
        stage.sync(seq, stage.prompt_tokens(messages))
        question = [*messages[:-1], Message("user", messages[-1].content + " Where is the wine?")]
        jobs.append((seq, question, options, "The wine is in the "))

    def best(run: Callable[[], None]) -> float:
        times = []
        for _ in range(repeats):
            began = time.perf_counter()
            run()
            times.append(time.perf_counter() - began)
        return min(times)

    try:
        sizes = []
        for job in jobs:  # warm-up, and how many prompt tokens each probe decodes
            before = stage.counters.prompt_tokens
            stage.choose_many([job])
            sizes.append(stage.counters.prompt_tokens - before)
        one_by_one = best(lambda: [stage.choose_many([job]) for job in jobs])
        batched = best(lambda: stage.choose_many(jobs))
        filler = [int(t) for t in np.random.default_rng(0).integers(100, 5000, size=max(sizes))]

        def raw(together: bool) -> None:
            forks = [stage.fork(seq) for seq in seqs]
            work = [
                [(tok, stage.kv_length(seq) + i, fork, i == size - 1) for i, tok in enumerate(filler[:size])]
                for seq, fork, size in zip(seqs, forks, sizes)
            ]
            try:
                if together:
                    stage.decode([item for items in work for item in items])
                else:
                    for items in work:
                        stage.decode(items)
            finally:
                for fork in forks:
                    stage.drop(fork)

        raw(True)
        ceiling = best(lambda: raw(False)) / best(lambda: raw(True))
    finally:
        for seq in seqs:
            stage.drop(seq)
    return one_by_one / batched, ceiling


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


def run_bench(args: BenchArgs, progress: Callable[[str, int], Callable[[], None]] | None = None) -> dict[str, Any]:
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
        path, model_name=args.model, n_ctx=args.n_ctx, n_threads=args.threads,
        n_gpu_layers=args.n_gpu_layers, n_seq_max=max(16, args.characters * 2 + 8),
        allow_amx=args.amx,
    )
    try:
        ours = run_simstage(stage, args, task("simstage", args.turns))
        tick = task("ceiling + probes", 2)
        depth = round(ours.prompt_tokens_evaluated / max(1, args.characters))
        ceiling = measure_ceiling(stage, depth=min(depth, args.n_ctx // 2))
        tick()
        probe_speedup, probe_ceiling = measure_probes(stage, args)
        tick()
    finally:
        stage.close()
    amx_cost = measure_amx_setting_cost(path, args, task("amx setting cost", 4))
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
        "prompt_tokens_ratio": round(naive.prompt_tokens_evaluated / max(1, ours.prompt_tokens_evaluated), 3),
        "prompt_overhead": round(ours.prompt_tokens_evaluated / max(1, ours.new_tokens), 3),
        "probe_batch_speedup": round(probe_speedup, 3),
        "probe_batch_ceiling": round(probe_ceiling, 3),
        "ceiling": ceiling,
        "generation_tps": round(gen_tps, 2),
        "efficiency": round(gen_tps / ceiling["tg_tps"], 3) if ceiling["tg_tps"] else 0.0,
        "amx_setting_cost": amx_cost,
    }


def measure_amx_setting_cost(
    path: Path, args: BenchArgs, tick: Callable[[], None], repeats: int = 2
) -> dict[str, Any]:
    """pp and tg of the model loaded as on a CPU with AMX (`use_extra_bufts=False`) ÷ as loaded here.

    Measured only on a CPU without AMX: where AMX is present, the other way crashes.
    The two loads alternate and each keeps its best of `repeats`.
    """
    from simstage.stage.cpu import cpu_flags, has_amx
    from simstage.stage.llama import LlamaStage

    if has_amx(cpu_flags()):
        return {"skipped": "this CPU has AMX: loading with extra buffer types would crash (llama.cpp #20824)"}
    best: dict[bool, dict[str, float]] = {}
    for _ in range(repeats):
        for avoided in (False, True):
            stage = LlamaStage(
                path, n_ctx=2048, n_threads=args.threads, n_seq_max=2,
                load_overrides={"use_extra_bufts": False} if avoided else {},
            )
            try:
                got = measure_ceiling(stage, depth=0)
            finally:
                stage.close()
            tick()
            old = best.get(avoided, {"pp_tps": 0.0, "tg_tps": 0.0})
            best[avoided] = {k: max(old[k], got[k]) for k in ("pp_tps", "tg_tps")}
    on, off = best[False], best[True]
    return {
        "extra_bufts_on": on,
        "extra_bufts_off": off,
        "pp_ratio": round(off["pp_tps"] / on["pp_tps"], 3) if on["pp_tps"] else 0.0,
        "tg_ratio": round(off["tg_tps"] / on["tg_tps"], 3) if on["tg_tps"] else 0.0,
    }


def run_naive_with_format(path: Path, args: BenchArgs, tick: Callable[[], None]) -> PathResult:
    """`run_naive` with the prompts the stage would decode: the model's own template, same tokens."""
    from simstage.stage.llama import LlamaStage

    vocab = LlamaStage(path, vocab_only=True, allow_amx=args.amx)
    try:
        return run_naive(path, vocab.prompt_tokens, args, tick)
    finally:
        vocab.close()
