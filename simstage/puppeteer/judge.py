"""The stage as a judge: log-probabilities of Yes and No, batched where the stage can.

`stage.score_many` puts every (prompt, continuation) pair of one call in shared
batches on the llama stage; other stages score them one after another.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

from simstage.stage.abilities import batching
from simstage.stage.base import Message, Stage

JUDGE_SYSTEM = "You judge lines of dialogue. Answer Yes or No."


def yes_probability(stage: Stage, seq: int, questions: Sequence[str]) -> list[float]:
    """P(Yes) / (P(Yes) + P(No)) for each yes/no question put to the stage as judge."""
    jobs = [
        ([Message("system", JUDGE_SYSTEM), Message("user", question)], ("Yes", "No"))
        for question in questions
    ]
    out = []
    for yes, no in batching(stage).score_many(seq, jobs):
        top = max(yes, no)
        p_yes, p_no = math.exp(yes - top), math.exp(no - top)
        out.append(p_yes / (p_yes + p_no))
    return out
