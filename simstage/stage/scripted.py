"""A deterministic stage for tests and demos: lines come from a list or a callback."""

from __future__ import annotations

import json
from collections import deque
from collections.abc import Callable, Iterable, Iterator, Sequence

from simstage.stage.abilities import Meter, Restart, TokenCounter
from simstage.stage.base import Message, Sampling, StageBase, StageCounters, StageDescription

LineSource = Callable[[int, Sequence[Message]], str]


def default_line(call: int, messages: Sequence[Message]) -> str:
    """A valid turn that says which call it is; used when nothing was enqueued."""
    return json.dumps({"say": f"Line {call + 1}.", "action": None})


class ScriptedStage(StageBase, TokenCounter, Meter, Restart):
    """Plays canned lines.

    Args:
        lines: turns to return, in order (raw text, usually JSON); when they run out,
            `fallback` makes the rest.
        fallback: makes a line from (call number, prompt).
        chooser: picks an option index from (prompt, options); default: the first.
        chunk: split each line into chunks of this many characters when streaming.
        delay: seconds to sleep per chunk (to test responsiveness against a slow stage).
        n_ctx: a pretend context window, in words.
        plays_screenplay: say it is a base model, so the cast writes screenplay prompts.
        record_prompts: keep every prompt in `prompts` (for tests); off for long runs, where
            each prompt holds the whole run so far and keeping them all grows with its square.
    """

    def __init__(
        self,
        lines: Iterable[str] = (),
        *,
        fallback: LineSource = default_line,
        chooser: Callable[[Sequence[Message], Sequence[str]], int] | None = None,
        chunk: int = 8,
        delay: float = 0.0,
        n_ctx: int | None = None,
        record_prompts: bool = True,
        plays_screenplay: bool = False,
    ):
        self._lines: deque[str] = deque(lines)
        self._fallback = fallback
        self._chooser = chooser
        self._chunk = max(1, chunk)
        self._delay = delay
        # The default line names the call it answers ("Line 12."): its answers depend on the calls before.
        self._description = StageDescription(
            backend="scripted", model="scripted", context_window=n_ctx, plays_screenplay=plays_screenplay,
            remembers_calls=True,
        )  # fmt: skip
        self._calls = 0
        self._next_seq = 0
        self.prompts: list[tuple[int, list[Message]]] = []
        """Every (sequence, prompt) that `generate` received: tests read what a character saw."""
        self._record = record_prompts
        self.counters = StageCounters()

    def enqueue(self, lines: Iterable[str]) -> None:
        """Add lines to play next."""
        self._lines.extend(lines)

    def describe(self) -> StageDescription:
        """A pretend context window (`n_ctx`, in words) exercises context trimming without a model."""
        return self._description

    def count_tokens(self, messages: Sequence[Message]) -> int:
        """Words, standing in for tokens."""
        return sum(len(m.content.split()) + 2 for m in messages)

    def restart(self) -> None:
        """Number calls and sequences from the first again (lines enqueued and prompts recorded stay)."""
        self._calls = 0
        self._next_seq = 0
        self.counters = StageCounters()

    def kv_length(self, seq: int) -> None:
        return None

    def open_sequence(self) -> int:
        self._next_seq += 1
        return self._next_seq - 1

    def fork(self, seq: int) -> int:
        return self.open_sequence()

    def drop(self, seq: int) -> None:
        return None

    def generate(self, seq: int, messages: Sequence[Message], sampling: Sampling) -> Iterator[str]:
        if self._record:
            self.prompts.append((seq, list(messages)))
        line = self._lines.popleft() if self._lines else self._fallback(self._calls, messages)
        self._calls += 1
        for start in range(0, len(line), self._chunk):
            if self._delay:
                import time

                time.sleep(self._delay)
            self.counters.generated_tokens += 1
            yield line[start : start + self._chunk]

    def choose(
        self, seq: int, messages: Sequence[Message], options: Sequence[str], prefix: str = ""
    ) -> int:
        if self._chooser is None:
            return 0
        return self._chooser(messages, options)

    def score(
        self, seq: int, messages: Sequence[Message], continuation: str, prefix: str = ""
    ) -> float:
        return -float(len(continuation))

    def close(self) -> None:
        return None
