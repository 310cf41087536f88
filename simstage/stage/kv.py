"""One llama.cpp context, one KV sequence per character: the bookkeeping of what each sequence holds.

Each sequence remembers the tokens it holds. A new prompt is tokenized whole and
compared with them: the common prefix stays in the KV cache and only the rest is
decoded, so a character's turn costs only what it has not seen yet. A prompt
that left out a span (a trimmed context) shifts the cache instead of decoding
again; a long prefix another sequence already decoded is copied from it
(`llama_memory_seq_cp`, bookkeeping only with a unified KV cache). Several
sequences that need tokens at once share one `llama_batch`.
"""

from __future__ import annotations

import ctypes
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from simstage.stage.base import StageCounters, StageError

INVARIANT_UBATCH = 32
"""The largest ubatch whose logits, on llama.cpp's CPU kernels with flash attention, do not
depend on where a sequence's cells lie in the KV cache nor on the other tokens of the batch
(measured: larger ubatches differ by up to 0.8 in a logit). One-token batches take another
kernel path, so a batch-invariant stage never decodes one alone."""


def invariant_chunks(n: int, size: int = INVARIANT_UBATCH) -> list[tuple[int, int]]:
    """(start, end) spans of at most `size` items covering `n`, none of one item unless `n` is 1."""
    spans = [(start, min(n, start + size)) for start in range(0, n, size)]
    if len(spans) > 1 and spans[-1][1] - spans[-1][0] == 1:
        (a, b), (_, d) = spans[-2], spans[-1]
        spans[-2:] = [(a, b - 1), (b - 1, d)]
    return spans


def common_prefix(a: Sequence[int], b: Sequence[int]) -> int:
    """Length of the longest common prefix of two token lists."""
    n = min(len(a), len(b))
    i = 0
    while i < n and a[i] == b[i]:
        i += 1
    return i


@dataclass(frozen=True)
class SequenceSnapshot:
    """A saved sequence: its tokens and llama.cpp's serialized KV state for them."""

    tokens: list[int]
    state: bytes


class SequenceCache:
    """The sequences of one llama.cpp context (a mixin of `LlamaStage`, which sets the fields below)."""

    _lc: Any
    _vocab: Any
    _ctx: Any
    _mem: Any
    _batch: Any
    _cache: dict[int, list[int]]
    _free_seqs: list[int]
    _can_shift: bool
    _kv_lock: threading.RLock
    """Held by every call that touches the context: runs batched together share it (`batch.py`)."""
    n_ctx: int
    n_batch: int
    n_seq_max: int
    n_vocab: int
    counters: StageCounters
    latent: Any = None
    """The context's `LatentCapture`, where it was made with one."""
    _scratch: int | None = None
    """The sequence of a lone token's companion, in batch-invariant decoding (`invariant_chunks`)."""

    def open_sequence(self) -> int:
        with self._kv_lock:
            if not self._free_seqs:
                raise StageError(f"all {self.n_seq_max} sequences are in use")
            seq = self._free_seqs.pop()
            self._lc.llama_memory_seq_rm(self._mem, seq, -1, -1)
        self._cache[seq] = []
        return seq

    def fork(self, seq: int, upto: int | None = None) -> int:
        """A new sequence holding the first `upto` tokens of `seq` (all by default)."""
        child = self.open_sequence()
        tokens = self._cache[seq] if upto is None else self._cache[seq][:upto]
        if tokens:
            with self._kv_lock:
                self._lc.llama_memory_seq_cp(self._mem, seq, child, 0, len(tokens))
        self._cache[child] = list(tokens)
        return child

    def drop(self, seq: int) -> None:
        if seq in self._cache:
            with self._kv_lock:
                self._lc.llama_memory_seq_rm(self._mem, seq, -1, -1)
                self._free_seqs.append(seq)
            del self._cache[seq]

    def state_size(self, seq: int) -> int:
        """Bytes of one sequence's KV state (what `save_sequence` copies)."""
        with self._kv_lock:
            return int(self._lc.llama_state_seq_get_size(self._ctx, seq))

    def save_sequence(self, seq: int) -> SequenceSnapshot:
        """The KV state of one sequence, as bytes, with the tokens it holds."""
        lc = self._lc
        with self._kv_lock:
            size = self.state_size(seq)
            buffer = (ctypes.c_uint8 * size)()
            written = lc.llama_state_seq_get_data(self._ctx, buffer, size, seq)
        return SequenceSnapshot(tokens=list(self._cache[seq]), state=bytes(buffer[:written]))

    def restore_sequence(self, snapshot: SequenceSnapshot) -> int:
        """A new sequence holding a saved state: nothing is decoded again.

        Raises:
            StageError: the state does not fit this context (another model, or no room).
        """
        seq = self.open_sequence()
        data = (ctypes.c_uint8 * len(snapshot.state)).from_buffer_copy(snapshot.state)
        with self._kv_lock:
            restored = self._lc.llama_state_seq_set_data(self._ctx, data, len(snapshot.state), seq)
        if not restored:
            self.drop(seq)
            raise StageError(
                "cannot restore the sequence snapshot (another model, or the context is full)"
            )
        self._cache[seq] = list(snapshot.tokens)
        return seq

    def free_sequences(self) -> int:
        """How many more sequences can be opened now."""
        return len(self._free_seqs)

    def seq_logits(self, seq: int) -> np.ndarray:
        """Logits after the last token of `seq`'s most recent `sync`."""
        return self._seq_logits[seq]

    def kv_length(self, seq: int) -> int:
        """Tokens the sequence holds."""
        return len(self._cache[seq])

    def decode(self, items: Sequence[tuple[int, int, int, bool]]) -> dict[int, np.ndarray]:
        """Decode (token, position, seq, want_logits) items, in batches of `n_batch`.

        Returns:
            Logits (a copy) for each item index that asked for them.

        Raises:
            StageError: the KV cache is full.
        """
        out, calls, batched = self.decode_batch(items)
        self.counters.decode_calls += calls
        self.counters.batched_calls += batched
        return out

    def decode_batch(
        self, items: Sequence[tuple[int, int, int, bool]]
    ) -> tuple[dict[int, np.ndarray], int, int]:
        """`decode` without the counters: (logits by item index, `llama_decode` calls, calls
        that carried more than one sequence)."""
        lc = self._lc
        out: dict[int, np.ndarray] = {}
        batch = self._batch
        calls = batched = 0
        scratch = self._scratch
        if scratch is None:
            spans = [
                (a, min(len(items), a + self.n_batch)) for a in range(0, len(items), self.n_batch)
            ]
        else:
            spans = invariant_chunks(len(items), self.n_batch)
        with self._kv_lock:
            for start, end in spans:
                chunk = list(items[start:end])
                seqs = {seq for _, _, seq, _ in chunk}
                if scratch is not None and len(chunk) == 1:
                    chunk.append((0, 0, scratch, False))  # the companion of a lone token
                for i, (token, pos, seq, logits) in enumerate(chunk):
                    batch.token[i] = token
                    batch.pos[i] = pos
                    batch.n_seq_id[i] = 1
                    batch.seq_id[i][0] = seq
                    batch.logits[i] = logits
                batch.n_tokens = len(chunk)
                latent = self.latent
                if latent is not None and latent.expecting:
                    latent.arm(chunk)
                status = lc.llama_decode(self._ctx, batch)
                if latent is not None:
                    latent.disarm()
                if scratch is not None:
                    lc.llama_memory_seq_rm(self._mem, scratch, -1, -1)
                if status == 1:
                    raise StageError(
                        f"the context of {self.n_ctx} tokens is full; raise stage.n_ctx in the scenario"
                    )
                if status != 0:
                    raise StageError(f"llama_decode failed (status {status})")
                calls += 1
                batched += len(seqs) > 1
                for i in range(end - start):
                    if chunk[i][3]:
                        ptr = lc.llama_get_logits_ith(self._ctx, i)
                        out[start + i] = np.ctypeslib.as_array(ptr, shape=(self.n_vocab,)).copy()
        return out, calls, batched

    def sync(self, seq: int, tokens: Sequence[int]) -> None:
        """Make `seq` hold exactly `tokens`, keeping the common prefix, with logits for the last.

        Afterwards `seq_logits(seq)` gives the logits after its last token.
        """
        self.sync_many([(seq, tokens)])

    def sync_many(self, work: Sequence[tuple[int, Sequence[int]]]) -> None:
        """`sync` several sequences in shared batches."""
        items: list[tuple[int, int, int, bool]] = []
        # Tokens listed for this batch are not in the KV cache until it is decoded:
        # other sequences may borrow only what was decoded before.
        self._decoded = {seq: len(tokens) for seq, tokens in self._cache.items()}
        for seq, tokens in work:
            if not tokens:
                raise StageError("empty prompt")
            cached = self._cache[seq]
            keep = common_prefix(cached, tokens)
            keep = self._shift_out_dropped(seq, tokens, keep)
            keep = min(keep, len(tokens) - 1)  # re-decode the last token for its logits
            if keep < len(cached):
                with self._kv_lock:
                    self._lc.llama_memory_seq_rm(self._mem, seq, keep, -1)
                del cached[keep:]
            keep = self._borrow_prefix(seq, tokens, keep)
            new = tokens[keep:]
            for offset, token in enumerate(new):
                items.append((token, keep + offset, seq, offset == len(new) - 1))
            self._decoded[seq] = len(cached)
            cached.extend(new)
            self.counters.prompt_tokens += len(new)
        # Map each sequence to the logits of its last prompt token.
        self._seq_logits = {items[index][2]: logits for index, logits in self.decode(items).items()}

    def _shift_out_dropped(self, seq: int, tokens: Sequence[int], keep: int) -> int:
        """Handle a prompt that left out a span of what `seq` holds (a trimmed context).

        If `tokens` continues, after the common prefix, with a later part of the
        cache, that span is removed from the KV cache and the rest is shifted
        back (`llama_memory_seq_rm` + `llama_memory_seq_add`), so nothing is decoded again.
        """
        cached = self._cache[seq]
        if len(cached) - keep < 64 or keep >= len(tokens) or not self._can_shift:
            return keep
        first = tokens[keep]
        cache_arr = np.asarray(cached, dtype=np.int64)
        want = np.asarray(tokens[keep:], dtype=np.int64)
        for q in np.flatnonzero(cache_arr[keep + 1 :] == first) + keep + 1:
            tail = cache_arr[q:]
            n = min(len(tail), len(want))
            if n >= 16 and np.array_equal(tail[:n], want[:n]) and n == len(tail):
                lc = self._lc
                with self._kv_lock:
                    lc.llama_memory_seq_rm(self._mem, seq, keep, int(q))
                    lc.llama_memory_seq_add(self._mem, seq, int(q), -1, keep - int(q))
                del cached[keep : int(q)]
                self.counters.extra["shifted_tokens"] = (
                    self.counters.extra.get("shifted_tokens", 0) + n
                )
                return keep + n
        return keep

    def _borrow_prefix(self, seq: int, tokens: Sequence[int], keep: int) -> int:
        """Copy a longer prefix of `tokens` from another live sequence, if one has it.

        This is how the shared scene prefix is decoded once: the first character
        decodes it, the others get its KV cells by `llama_memory_seq_cp`
        (bookkeeping only, with a unified KV cache).
        """
        best, donor = keep, None
        limit = len(tokens) - 1
        decoded = getattr(self, "_decoded", {})
        for other, other_tokens in self._cache.items():
            ready = min(len(other_tokens), decoded.get(other, len(other_tokens)))
            if other == seq or ready <= best:
                continue
            shared = min(common_prefix(other_tokens[:ready], tokens), limit)
            if shared > best:
                best, donor = shared, other
        if donor is None or best - keep < 16:
            return keep
        with self._kv_lock:
            self._lc.llama_memory_seq_cp(self._mem, donor, seq, keep, best)
        self._cache[seq].extend(tokens[keep:best])
        self.counters.extra["borrowed_tokens"] = (
            self.counters.extra.get("borrowed_tokens", 0) + best - keep
        )
        return best
