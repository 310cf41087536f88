"""The stage as a judge: log-probabilities of continuations, batched where the stage can.

On the llama stage every (prompt, continuation) pair of one call goes through
`score_requests`, so the prompts and continuations share batches; any other
stage is asked `score` once per pair.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

from simstage.stage.base import Message

JUDGE_SYSTEM = "You judge lines of dialogue. Answer Yes or No."


def score_many(stage: Any, seq: int, jobs: Sequence[tuple[Sequence[Message], Sequence[str]]]) -> list[list[float]]:
    """Log-probability of each continuation after each prompt, on forks of `seq`.

    Args:
        stage: any Stage.
        seq: the sequence to fork from (left unchanged).
        jobs: (messages, continuations) pairs.

    Returns:
        Per job, the log-probability of each of its continuations.
    """
    if not jobs:
        return []
    if hasattr(stage, "score_requests") and hasattr(stage, "prompt_tokens"):
        from simstage.stage.scoring import split_request

        requests = [
            split_request(
                seq,
                stage.prompt_tokens(messages),
                [stage.prompt_tokens(messages, text) for text in continuations],
            )
            for messages, continuations in jobs
        ]
        return [list(scores) for scores in stage.score_requests(requests)]
    return [[stage.score(seq, messages, text) for text in continuations] for messages, continuations in jobs]


def yes_probability(stage: Any, seq: int, questions: Sequence[str]) -> list[float]:
    """P(Yes) / (P(Yes) + P(No)) for each yes/no question put to the stage as judge."""
    jobs = [
        ([Message("system", JUDGE_SYSTEM), Message("user", question)], ("Yes", "No"))
        for question in questions
    ]
    out = []
    for yes, no in score_many(stage, seq, jobs):
        top = max(yes, no)
        p_yes, p_no = math.exp(yes - top), math.exp(no - top)
        out.append(p_yes / (p_yes + p_no))
    return out
