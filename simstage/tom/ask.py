"""Asking a stage the questions of a ToM benchmark, through the probe machinery.

Each question is a multiple choice put to the model like a belief probe: the
story told so far and the question, then the options scored after the probe's
answer prefix (`choose`). Questions go to the stage a few at a time, each in a
fork of one empty sequence, so a batching stage decodes them together and no
question sees another.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

from simstage.cast.probes import ANSWER_PREFIX
from simstage.stage.abilities import batching
from simstage.stage.base import ChooseJob, ClosableStage, Message, Stage
from simstage.tom.stories import Scored, summarise

INSTRUCTIONS = (
    "You read a short story, then answer one question about it. "
    "Answer with one of the places listed."
)
BATCH = 4
"""Questions sent to the stage together."""


@dataclass
class StageAnswers:
    """What a stage answered: by question index, out of the `asked` questions meant for it."""

    model: str
    asked: int
    answers: dict[int, str | None] = field(default_factory=dict)

    @property
    def interrupted(self) -> bool:
        """Whether asking stopped (Ctrl-C) before every question was answered."""
        return len(self.answers) < self.asked


def question_messages(item: Scored) -> list[Message]:
    """What the model reads for one question."""
    listed = ", ".join(item.options)
    return [
        Message("system", INSTRUCTIONS),
        Message("user", f"{item.context}\n\nQuestion: {item.question}\nPlaces: {listed}."),
    ]


def ask_stage(
    stage: Stage, scored: Sequence[Scored], *, batch: int = BATCH
) -> Iterator[tuple[int, str | None]]:
    """Yield (index, the stage's answer) for each question, a batch at a time.

    A question without options gets None without asking. Stopping early (Ctrl-C
    while the caller iterates) keeps what was yielded; the stage's sequence is
    dropped either way.
    """
    asked = []
    for i, item in enumerate(scored):
        if item.options:
            asked.append(i)
        else:
            yield i, None
    base = stage.open_sequence()
    try:
        for start in range(0, len(asked), batch):
            group = asked[start : start + batch]
            jobs: list[ChooseJob] = [
                (base, question_messages(scored[i]), list(scored[i].options), ANSWER_PREFIX)
                for i in group
            ]
            for i, choice in zip(group, batching(stage).choose_many(jobs), strict=True):
                yield i, scored[i].options[choice]
    finally:
        stage.drop(base)


def spread(kinds: Sequence[str], limit: int | None) -> list[int]:
    """`limit` question indices spread over the file, every question type in its share (all without a limit).

    Benchmark files are sorted by type, or cycle through types (ToMi's original
    files repeat each story once per question type), so neither the first N nor
    every k-th question keeps the mix. Each type gets its share of `limit`
    (largest remainders round up), taken evenly over that type's questions.

    Args:
        kinds: each question's type, in file order.
        limit: how many to ask.
    """
    total = len(kinds)
    if limit is None or limit >= total:
        return list(range(total))
    by_kind: dict[str, list[int]] = {}
    for index, kind in enumerate(kinds):
        by_kind.setdefault(kind, []).append(index)
    shares = {kind: len(indices) * limit / total for kind, indices in by_kind.items()}
    quota = {kind: int(share) for kind, share in shares.items()}
    left = limit - sum(quota.values())
    for kind in sorted(shares, key=lambda k: shares[k] - quota[k], reverse=True)[:left]:
        quota[kind] += 1
    chosen: list[int] = []
    for kind, indices in by_kind.items():
        chosen += [indices[(i * len(indices)) // quota[kind]] for i in range(quota[kind])]
    return sorted(chosen)


def stage_summary(scored: Sequence[Scored], answers: dict[int, str | None]) -> dict[str, Any]:
    """`{"n", "accuracy", "by_type"}` of the stage's answers, by question index."""
    as_stage = [
        Scored(
            scored[i].story,
            scored[i].line,
            scored[i].question,
            scored[i].qtype,
            scored[i].expected,
            answer,
        )
        for i, answer in sorted(answers.items())
    ]
    return summarise(as_stage)


def question_stage(
    backend: str, model: str, *, api_base: str | None = None, threads: int | None = None
) -> ClosableStage:
    """The stage `eval --stage` asks: greedy, an 8,192-token window, room for a batch of forks.

    Raises:
        StageError: the stage cannot start (unknown backend, missing model, no server).
    """
    from simstage.stage import LlamaStageConfig, config_for, make_stage

    greedy = LlamaStageConfig.model_validate({"model": model, "n_ctx": 8192, "temperature": 0.0})
    config = config_for(greedy, backend, api_base=api_base)
    return make_stage(config, n_seq_max=2 * BATCH + 4, n_threads=threads)


def ask_questions(
    stage: Stage,
    scored: Sequence[Scored],
    limit: int | None = None,
    answered: Callable[[int, int], None] = lambda done, total: None,
) -> StageAnswers:
    """Ask `stage` `limit` of the questions (`spread` over the file; all without a limit).

    `answered(done, total)` is called before the first question and after each answer.
    Ctrl-C stops asking and keeps the answers so far (`interrupted`); the stage stays open.
    """
    indices = spread([item.qtype for item in scored], limit)
    asked = [scored[i] for i in indices]
    result = StageAnswers(model=stage.describe().model, asked=len(asked))
    try:
        answered(0, len(asked))
        for position, answer in ask_stage(stage, asked):
            result.answers[indices[position]] = answer
            answered(len(result.answers), len(asked))
    except KeyboardInterrupt:
        pass
    return result


def wrong_answers(scored: Sequence[Scored], answers: dict[int, str | None]) -> str:
    """Every wrong answer, the tracker's or the model's, as JSON lines."""
    wrong = []
    for index, item in enumerate(scored):
        model = answers.get(index)
        if item.correct and (index not in answers or model == item.expected):
            continue
        record: dict[str, Any] = {
            "story": item.story, "line": item.line, "type": item.qtype,
            "question": item.question, "expected": item.expected,
            "tracker": item.answer, "text": item.story_text,
        }  # fmt: skip
        if item.copy:
            record["copy"] = item.copy
        if index in answers:
            record["stage"] = model
        wrong.append(json.dumps(record) + "\n")
    return "".join(wrong)
