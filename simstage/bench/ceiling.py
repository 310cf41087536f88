"""The bench's raw measurements: llama.cpp's ceiling (pp, tg), probe batching, and the AMX setting's cost."""

from __future__ import annotations

import time
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import Any

from simstage.bench.scene import SceneScript
from simstage.stage.base import Message


def measure_ceiling(
    stage: Any, depth: int, pp_tokens: int = 512, tg_tokens: int = 64
) -> dict[str, float]:
    """Raw speed on one sequence: prompt processing (pp) and generation (tg) at a given depth."""
    import numpy as np

    seq = stage.open_sequence()
    try:
        filler = [
            int(t) for t in np.random.default_rng(0).integers(100, 5000, size=depth + pp_tokens)
        ]
        if depth:
            stage.sync(seq, filler[:depth])
        began = time.perf_counter()
        stage.decode(
            [(tok, depth + i, seq, i == pp_tokens - 1) for i, tok in enumerate(filler[depth:])]
        )
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


def probe_jobs(
    stage: Any, characters: int, lines: int, n: int | None = None
) -> tuple[list[Any], list[int]]:
    """The bench scene after `lines` lines: one open sequence per character (the first `n`), and
    a probe job for each ("Where is the wine?" among four rooms); (jobs, sequences)."""
    script = SceneScript(characters)
    for turn in range(lines):
        script.lines.append((script.speaker(turn), f"Line {turn} about the weather and the soup."))
    jobs, seqs = [], []
    for name in script.names[:n]:
        seq = stage.open_sequence()
        seqs.append(seq)
        messages = script.messages(name)
        stage.sync(seq, stage.prompt_tokens(messages))
        question = [*messages[:-1], Message("user", messages[-1].content + " Where is the wine?")]
        jobs.append(
            (seq, question, ["kitchen", "cellar", "garden", "attic"], "The wine is in the ")
        )
    return jobs, seqs


def best_time(run: Callable[[], Any], repeats: int) -> float:
    """The shortest of `repeats` timed calls of `run`, in seconds."""
    times = []
    for _ in range(repeats):
        began = time.perf_counter()
        run()
        times.append(time.perf_counter() - began)
    return min(times)


def measure_probes(
    stage: Any, characters: int, turns: int, n: int = 4, repeats: int = 3
) -> tuple[float, float]:
    """Speed-up of asking `n` characters one probe each in one batch vs one after another.

    Returns:
        (speed-up of `choose_many`, the same for raw `llama_decode` of the same
        token counts at the same depths: the most batching can give on this
        machine, with no Python around it). Each time is the best of `repeats`.
    """
    import numpy as np

    jobs, seqs = probe_jobs(stage, max(n, characters), min(turns, 8), n)

    def best(run: Callable[[], Any]) -> float:
        return best_time(run, repeats)

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
                [
                    (tok, stage.kv_length(seq) + i, fork, i == size - 1)
                    for i, tok in enumerate(filler[:size])
                ]
                for seq, fork, size in zip(seqs, forks, sizes, strict=False)
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


def measure_amx_setting_cost(
    path: Path, threads: int, tick: Callable[[], None], repeats: int = 2
) -> dict[str, Any]:
    """pp and tg of the model loaded as on a CPU with AMX (`use_extra_bufts=False`) ÷ as loaded here.

    Measured only on a CPU without AMX: where AMX is present, the other way crashes.
    The two loads alternate and each keeps its best of `repeats`.
    """
    from simstage.stage.cpu import cpu_flags, has_amx
    from simstage.stage.llama import LlamaStage

    if has_amx(cpu_flags()):
        return {
            "skipped": "this CPU has AMX: loading with extra buffer types would crash (llama.cpp #20824)"
        }
    best: dict[bool, dict[str, float]] = {}
    for _ in range(repeats):
        for avoided in (False, True):
            stage = LlamaStage(
                path,
                n_ctx=2048,
                n_threads=threads,
                n_seq_max=2,
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


def measure_capture_overhead(
    path: Any, threads: int, characters: int = 4, repeats: int = 3
) -> dict[str, Any]:
    """A probe with latent capture (every block) ÷ the same probe without, each on its own stage.

    Both stages play the same prompts; each time is the best of `repeats` rounds of
    one probe per character. Also: a generated token on the capturing stage ÷ one on
    the plain stage (the eval callback is asked about every node of every graph), and
    a probe that also reads its contrast pair (`latent.contrast`) ÷ a plain probe.
    """
    from simstage.stage.base import Sampling
    from simstage.stage.llama import LlamaStage

    timings: dict[str, float] = {}
    for kind, layers in (("plain", None), ("latent", "all")):
        stage = LlamaStage(path, n_ctx=4096, n_threads=threads, n_seq_max=16, latent_layers=layers)
        try:
            jobs, _ = probe_jobs(stage, characters, 8)
            asks: dict[str, Callable[[Any], Any]] = {
                kind: stage.choose_many_latent if layers else stage.choose_many
            }
            if layers:  # also with contrast pairs: two completions decoded and read per probe
                asks["contrast"] = partial(_with_contrast, stage)
            for name, ask in asks.items():
                ask(jobs[:1])  # warm-up
                timings[f"{name}_probe_s"] = best_time(
                    partial(_one_by_one, ask, jobs), repeats
                ) / len(jobs)
            began = time.perf_counter()
            tokens = list(
                stage.generate_tokens(
                    jobs[0][0],
                    stage.prompt_tokens(jobs[0][1]),
                    Sampling(temperature=0.0, max_tokens=32),
                    block_eog=True,
                )
            )
            timings[f"{kind}_token_s"] = (time.perf_counter() - began) / max(1, len(tokens))
        finally:
            stage.close()
    return {
        "probe_ratio": round(timings["latent_probe_s"] / timings["plain_probe_s"], 3),
        "contrast_ratio": round(timings["contrast_probe_s"] / timings["plain_probe_s"], 3),
        "token_ratio": round(timings["latent_token_s"] / timings["plain_token_s"], 3),
        **{key: round(value, 4) for key, value in timings.items()},
    }


def _with_contrast(stage: Any, batch: Any) -> Any:
    """Latent probes with their contrast pairs: two completions decoded and read per probe."""
    return stage.choose_many_latent(batch, [[0, 1]] * len(batch))


def _one_by_one(ask: Callable[[Any], Any], jobs: list[Any]) -> list[Any]:
    """Each job asked on its own."""
    return [ask([job]) for job in jobs]
