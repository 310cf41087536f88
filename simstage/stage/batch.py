"""Many runs, one context: each run plays on its own lane, and their decode work shares one `llama_batch`.

A `SharedLlama` loads the model once, with a context sized for N runs. Each run
gets a `LlamaLane`: a llama stage with its own sequences, counters and token
budget (the context a run would have alone), so it behaves as if played alone.
Lanes never borrow each other's KV cells.

Every `llama_decode` runs on one thread, the `BatchedDecoder`'s: a lane hands it
its tokens (a prompt, one generated token, a probe's options) and waits. The
decoder gathers what the lanes ask for at about the same time, until every
active lane is waiting or `gather_s` has passed, and decodes it all in one
batch. One thread also means one OpenMP pool: several threads calling into
llama.cpp would each start their own and fight over the cores.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path

import numpy as np

from simstage.stage.abilities import Restart
from simstage.stage.base import A, StageCounters, StageDescription, StageError
from simstage.stage.llama import LlamaStage

Item = tuple[int, int, int, bool]
CTX_STEP = 256
"""llama.cpp rounds a context up to a multiple of this."""
GATHER_S = 0.004
"""How long the decoder waits for lanes still busy in Python before decoding what it has."""


class _Ticket:
    """One lane's request: its items, then the answer."""

    __slots__ = ("batched", "calls", "done", "error", "items", "out")

    def __init__(self, items: Sequence[Item]):
        self.items = items
        self.out: dict[int, np.ndarray] = {}
        self.calls = 0
        self.batched = 0
        self.error: BaseException | None = None
        self.done = False


class BatchedDecoder:
    """The one thread that decodes for every lane of a shared context."""

    def __init__(self, core: LlamaStage, *, gather_s: float = GATHER_S):
        self._core = core
        self._cv = threading.Condition()
        self._pending: list[_Ticket] = []
        self._active = 0
        self._closed = False
        self.gather_s = gather_s
        self.decodes = 0
        """Batches decoded."""
        self.tickets = 0
        """Lane requests served (tickets ÷ decodes: how many lanes a batch carried on average)."""
        self._thread = threading.Thread(target=self._serve, name="simstage-decode", daemon=True)
        self._thread.start()

    def join(self) -> None:
        """A lane starts: the decoder waits for it too."""
        with self._cv:
            self._active += 1

    def leave(self) -> None:
        """A lane is done: the decoder stops waiting for it."""
        with self._cv:
            self._active -= 1
            self._cv.notify_all()

    def submit(self, items: Sequence[Item]) -> tuple[dict[int, np.ndarray], int, int]:
        """Decode `items` in the next batch: (logits by item index, calls, calls with several sequences)."""
        ticket = _Ticket(items)
        with self._cv:
            if self._closed:
                raise StageError("the shared stage is closed")
            self._pending.append(ticket)
            self._cv.notify_all()
            while not ticket.done:
                self._cv.wait()
        if ticket.error is not None:
            raise ticket.error
        return ticket.out, ticket.calls, ticket.batched

    def _gather(self) -> list[_Ticket] | None:
        with self._cv:
            while not self._pending and not self._closed:
                self._cv.wait()
            if not self._pending:
                return None
            deadline = time.monotonic() + self.gather_s
            while len(self._pending) < self._active and not self._closed:
                left = deadline - time.monotonic()
                if left <= 0:
                    break
                self._cv.wait(left)
            tickets, self._pending = self._pending, []
            return tickets

    def _serve(self) -> None:
        while True:
            tickets = self._gather()
            if tickets is None:
                return
            self._decode(tickets)
            with self._cv:
                for ticket in tickets:
                    ticket.done = True
                self._cv.notify_all()

    def _decode(self, tickets: list[_Ticket]) -> None:
        items: list[Item] = []
        starts: list[int] = []
        for ticket in tickets:
            starts.append(len(items))
            items.extend(ticket.items)
        try:
            out, calls, batched = self._core.decode_batch(items)
        except BaseException as exc:
            for ticket in tickets:
                ticket.error = exc
            return
        self.decodes += 1
        self.tickets += len(tickets)
        for ticket, start in zip(tickets, starts, strict=False):
            ticket.calls, ticket.batched = calls, batched
            end = start + len(ticket.items)
            ticket.out = {
                index - start: logits for index, logits in out.items() if start <= index < end
            }

    def close(self) -> None:
        with self._cv:
            self._closed = True
            self._cv.notify_all()
        self._thread.join(timeout=10)


_SHARED = (
    "_lc",
    "_model",
    "_vocab",
    "n_vocab",
    "chat_format",
    "plays_screenplay",
    "_markup",
    "model_path",
    "model_name",
    "load_overrides",
    "n_threads",
    "_ctx",
    "_mem",
    "_can_shift",
    "n_batch",
    "n_seq_max",
    "_free_seqs",
    "_kv_lock",
    "batch_invariant",
    "_scratch",
)


class LlamaLane(LlamaStage):
    """One run's view of a shared context: its own sequences, counters and token budget.

    Use it from one thread (the run's). `close` drops the lane's sequences; the
    model stays loaded for the next run.
    """

    def __init__(self, shared: SharedLlama, n_ctx: int):
        self._shared = shared
        core = shared.core
        for name in _SHARED:
            setattr(self, name, getattr(core, name))
        self._eog = core._eog_tokens()
        self._cache = {}
        self.counters = StageCounters()
        self.n_ctx = n_ctx
        self._open = True
        shared.decoder.join()

    def decode(self, items: Sequence[Item]) -> dict[int, np.ndarray]:
        out, calls, batched = self._shared.decoder.submit(items)
        self.counters.decode_calls += calls
        self.counters.batched_calls += batched
        return out

    def describe(self) -> StageDescription:
        """The shared model's description; the window is the lane's own."""
        return replace(self._shared.description, context_window=self.n_ctx)

    def ability(self, kind: type[A]) -> A | None:
        """A llama stage's abilities but `Restart`: the context is every lane's."""
        return None if kind is Restart else super().ability(kind)

    def close(self) -> None:
        if not getattr(self, "_open", False):
            return
        self._open = False
        for seq in list(self._cache):
            self.drop(seq)
        self._shared.decoder.leave()


class SharedLlama:
    """One model and one context for up to `runs` runs at once, each on its own lane.

    Args:
        model_path, model_name, n_threads, n_gpu_layers, allow_amx, chat_template:
            as for `LlamaStage`.
        runs: most lanes at once.
        run_ctx: the context a run has alone (`stage.n_ctx`); the shared context holds `runs` of them.
        sequences: the sequences a run may hold at once (cast + spares for forks).
        batch_invariant: decode as `LlamaStage(batch_invariant=True)` does (False only for
            a one-run context that stands in for a plain stage: the bench's baseline).

    Raises:
        StageError: the model cannot be loaded or the context cannot be made.
    """

    def __init__(
        self,
        model_path: str | Path,
        *,
        runs: int,
        run_ctx: int,
        sequences: int,
        model_name: str | None = None,
        n_threads: int | None = None,
        n_gpu_layers: int = 0,
        allow_amx: bool = False,
        chat_template: str | None = None,
        gather_s: float = GATHER_S,
        batch_invariant: bool = True,
    ):
        self.runs = runs
        self.run_ctx = -(-run_ctx // CTX_STEP) * CTX_STEP  # what llama.cpp gives a run alone
        self.core = LlamaStage(
            model_path, model_name=model_name, n_ctx=runs * run_ctx, n_threads=n_threads,
            n_gpu_layers=n_gpu_layers, n_seq_max=min(256, runs * sequences),
            allow_amx=allow_amx, chat_template=chat_template, batch_invariant=batch_invariant,
        )  # fmt: skip
        self.description = self.core.describe()
        self.decoder = BatchedDecoder(self.core, gather_s=gather_s)

    def lane(self) -> LlamaLane:
        """A new lane (close it when its run is over)."""
        return LlamaLane(self, self.run_ctx)

    def close(self) -> None:
        self.decoder.close()
        self.core.close()
