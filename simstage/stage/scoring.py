"""Log-probability scoring on the llama stage: many requests, shared batches, forks only."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from simstage.stage.kv import SequenceCache, common_prefix


@dataclass(frozen=True)
class ScoreRequest:
    """Score `continuations` (token lists) after `prompt`, in a fork of `seq`."""

    seq: int
    prompt: list[int]
    continuations: list[list[int]]


def split_request(seq: int, prompt: Sequence[int], fulls: Sequence[Sequence[int]]) -> ScoreRequest:
    """Split each full tokenization (`prompt + option`) into a shared prompt and its own tail.

    Tokenizing an option together with the prompt can merge tokens across the
    join, so the shared part is the longest prefix common to all of them.
    """
    shared = min([len(prompt)] + [common_prefix(prompt, full) for full in fulls])
    shared = max(1, shared)
    return ScoreRequest(seq, list(prompt[:shared]), [list(full[shared:]) for full in fulls])


def log_prob(logits: np.ndarray, token: int) -> float:
    """log softmax(logits)[token]."""
    top = float(np.max(logits))
    return float(logits[token] - top - np.log(np.sum(np.exp(logits - top))))


def score_requests(
    stage: SequenceCache,
    requests: Sequence[ScoreRequest],
    *,
    capture: Any = None,
    contrast: Sequence[Sequence[int]] | None = None,
) -> list[list[float]]:
    """Score all continuations of all requests; leaves every request's `seq` untouched.

    With `capture` (a `LatentCapture`), request i's last prompt token is read into
    `capture.found[i]`; with `contrast` too (per request, continuation indices), each
    named continuation is then decoded whole and its last token read into
    `capture.found[(i, c)]` (`read_completions`), after every score is known.
    """
    bases: list[int] = []
    forks: list[int] = []
    try:
        for request in requests:
            bases.append(stage.fork(request.seq))
        if capture is not None:
            capture.expect(
                {
                    (base, len(r.prompt) - 1): i
                    for i, (base, r) in enumerate(zip(bases, requests, strict=False))
                }
            )
        try:
            stage.sync_many(
                [(base, request.prompt) for base, request in zip(bases, requests, strict=False)]
            )
        finally:
            if capture is not None:
                capture.expect(None)
        base_logits = [stage.seq_logits(base) for base in bases]
        scores = [[0.0] * len(request.continuations) for request in requests]
        pending = [
            (r, c) for r, request in enumerate(requests) for c in range(len(request.continuations))
        ]
        while pending:
            room = max(1, stage.free_sequences())
            group, pending = pending[:room], pending[room:]
            items: list[tuple[int, int, int, bool]] = []
            spans: list[tuple[int, int, int]] = []
            for r, c in group:
                cont = requests[r].continuations[c]
                start = len(items)
                if len(cont) > 1:
                    child = stage.fork(bases[r])
                    forks.append(child)
                    base_len = len(requests[r].prompt)
                    for offset, token in enumerate(cont[:-1]):
                        items.append((token, base_len + offset, child, True))
                    stage.counters.prompt_tokens += len(cont) - 1
                spans.append((r, c, start))
            logits = stage.decode(items) if items else {}
            for r, c, start in spans:
                cont = requests[r].continuations[c]
                total = log_prob(base_logits[r], cont[0]) if cont else 0.0
                for offset in range(1, len(cont)):
                    total += log_prob(logits[start + offset - 1], cont[offset])
                scores[r][c] = total
            for child in forks:
                stage.drop(child)
            forks.clear()
        if capture is not None and contrast is not None:
            read_completions(stage, requests, bases, contrast, capture)
        return scores
    finally:
        for child in forks:
            stage.drop(child)
        for base in bases:
            stage.drop(base)


def read_completions(
    stage: SequenceCache,
    requests: Sequence[ScoreRequest],
    bases: Sequence[int],
    contrast: Sequence[Sequence[int]],
    capture: Any,
) -> None:
    """Decode continuation c of request r whole on a fork of its prompt; read its last token into `capture.found[(r, c)]`.

    The residual stream there is the model reading the answer completed with that
    option: a contrast pair, for CCS. Reading stops at the first failed read (`capture.error`).
    """
    if capture.error is not None:
        return
    pending = [(r, c) for r, picks in enumerate(contrast) for c in picks]
    forks: list[int] = []
    try:
        while pending:
            room = max(1, stage.free_sequences())
            group, pending = pending[:room], pending[room:]
            items: list[tuple[int, int, int, bool]] = []
            wanted: dict[tuple[int, int], tuple[int, int]] = {}
            for r, c in group:
                cont = requests[r].continuations[c]
                if not cont:
                    raise ValueError(f"option {c} adds no token to the prompt: nothing to read")
                child = stage.fork(bases[r])
                forks.append(child)
                start = len(requests[r].prompt)
                items.extend(
                    (token, start + k, child, k == len(cont) - 1) for k, token in enumerate(cont)
                )
                wanted[(child, start + len(cont) - 1)] = (r, c)
            stage.counters.prompt_tokens += len(items)
            capture.expect(wanted)
            try:
                stage.decode(items)
            finally:
                capture.expect(None)
            if capture.error is not None:
                return  # the forks go below
            for child in forks:
                stage.drop(child)
            forks.clear()
    finally:
        for child in forks:
            stage.drop(child)
