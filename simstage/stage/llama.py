"""In-process llama.cpp: one context, one KV sequence per character.

Each sequence remembers the tokens it holds. A new prompt is tokenized whole and
compared with them: the common prefix stays in the KV cache and only the rest is
decoded, so a character's turn costs only what it has not seen yet. Forks copy a
sequence's cells (bookkeeping only, with a unified KV cache); probes and
candidates run on forks that are dropped afterwards. Several sequences that
need tokens at once share one `llama_batch`.

This uses llama-cpp-python's low-level API; the package version is pinned.
"""

from __future__ import annotations

import codecs
import ctypes
import logging
import os
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np

from simstage.stage.base import Message, Sampling, ScoreJob, StageBase, StageCounters, StageError
from simstage.stage.chat import Screenplay, select_renderer
from simstage.stage.cpu import apply_overrides, cpu_flags, model_param_overrides
from simstage.stage.models import file_sha256
from simstage.stage.sampler import TokenSampler
from simstage.stage.scoring import ScoreRequest, common_prefix, score_requests, split_request
from simstage.stage.templates import ChatTemplate, describe_template

_BACKEND_READY = False


@dataclass(frozen=True)
class SequenceSnapshot:
    """A saved sequence: its tokens and llama.cpp's serialized KV state for them."""

    tokens: list[int]
    state: bytes


def _llama() -> Any:
    global _BACKEND_READY
    import llama_cpp

    if not _BACKEND_READY:
        logging.getLogger("llama-cpp-python").setLevel(logging.CRITICAL)
        llama_cpp.llama_backend_init()
        _BACKEND_READY = True
    return llama_cpp


class LlamaStage(StageBase):
    """The in-process stage.

    Args:
        model_path: a GGUF file.
        model_name: the name the scenario used (recorded in the run log).
        n_ctx: context size in tokens, shared by all sequences (unified KV cache).
        n_threads: CPU threads; default: all cores.
        n_gpu_layers: layers offloaded to a GPU (-1: all) on a CUDA build.
        n_seq_max: most sequences alive at once (characters + forks).
        n_batch: most tokens per `llama_decode` call.
        allow_amx: use ggml's AMX buffer type on a CPU with AMX (off by default:
            it crashes there, llama.cpp #20824; see `stage/cpu.py`).
        load_overrides: `llama_model_params` fields to set instead of what this CPU
            asks for (the bench measures what the AMX setting costs with it).
        chat_template: the stage option of that name (see `stage/chat.py`); by
            default the GGUF's own template, or a screenplay where it has none.

    Raises:
        StageError: the model cannot be loaded or the context cannot be made.
    """

    backend = "llama"
    SUPPORTS_GRAMMAR = True
    SUPPORTS_SEQUENCES = True
    SUPPORTS_BATCHING = True
    plays_screenplay = False
    """Set from the model: True where it has no chat template (see `stage/chat.py`)."""

    def __init__(
        self,
        model_path: str | Path,
        *,
        model_name: str | None = None,
        n_ctx: int = 4096,
        n_threads: int | None = None,
        n_gpu_layers: int = 0,
        n_seq_max: int = 16,
        n_batch: int = 512,
        allow_amx: bool = False,
        load_overrides: dict[str, Any] | None = None,
        chat_template: str | None = None,
        vocab_only: bool = False,
    ):
        lc = _llama()
        self._lc = lc
        self.model_path = Path(model_path)
        self.model_name = model_name or str(model_path)
        self.n_threads = n_threads or os.cpu_count() or 1
        if load_overrides is None:
            load_overrides = model_param_overrides(cpu_flags(), allow_amx=allow_amx)
        self.load_overrides = load_overrides
        mparams = apply_overrides(lc.llama_model_default_params(), self.load_overrides)
        mparams.n_gpu_layers = n_gpu_layers
        mparams.vocab_only = vocab_only
        self._model = lc.llama_model_load_from_file(str(self.model_path).encode(), mparams)
        if not self._model:
            raise StageError(f"cannot load model {self.model_path} (corrupt or unsupported GGUF)")
        self._vocab = lc.llama_model_get_vocab(self._model)
        self.n_vocab = lc.llama_vocab_n_tokens(self._vocab)
        try:
            self.chat_format: ChatTemplate = self._renderer(chat_template)
        except StageError:
            lc.llama_model_free(self._model)
            self._model = None
            raise
        self.plays_screenplay = isinstance(self.chat_format, Screenplay)
        self._ctx = None
        if vocab_only:  # `simstage prompt --tokens`: a tokenizer, no context
            return
        cparams = lc.llama_context_default_params()
        cparams.n_ctx = n_ctx
        cparams.n_batch = n_batch
        cparams.n_ubatch = n_batch
        cparams.n_seq_max = n_seq_max
        cparams.n_threads = self.n_threads
        cparams.n_threads_batch = self.n_threads
        cparams.kv_unified = True
        self._ctx = lc.llama_init_from_model(self._model, cparams)
        if not self._ctx:
            lc.llama_model_free(self._model)
            self._model = None
            raise StageError(f"cannot create a llama.cpp context of {n_ctx} tokens")
        self.n_ctx = lc.llama_n_ctx(self._ctx)
        self.context_window = self.n_ctx
        self.n_batch = n_batch
        self.n_seq_max = n_seq_max
        self._mem = lc.llama_get_memory(self._ctx)
        self._can_shift = bool(lc.llama_memory_can_shift(self._mem))
        self._batch = lc.llama_batch_init(n_batch, 0, 1)
        self._free_seqs = list(range(n_seq_max - 1, -1, -1))
        self._cache: dict[int, list[int]] = {}
        """Tokens held in KV, per live sequence (position = index)."""
        self._calls = 0
        self.counters = StageCounters()

    def _renderer(self, option: str | None) -> ChatTemplate:
        lc = self._lc
        template = lc.llama_model_chat_template(self._model, None)
        text = template.decode("utf-8", errors="replace") if template else None
        special = {}
        for name, token in (("bos", lc.llama_vocab_bos(self._vocab)), ("eos", lc.llama_vocab_eos(self._vocab))):
            special[name] = self.piece(token, special=True).decode("utf-8", errors="replace") if token >= 0 else ""
        self._bos_text = special["bos"]
        return select_renderer(
            text, option=option, bos_token=special["bos"], eos_token=special["eos"], model_path=self.model_path
        )

    # -- bookkeeping -------------------------------------------------------

    def describe(self) -> dict[str, Any]:
        return {
            "backend": "llama",
            "model": self.model_name,
            "model_file": self.model_path.name,
            "model_sha256": file_sha256(self.model_path),
            **describe_template(self.chat_format),
            "load_params": dict(self.load_overrides),
        }

    def open_sequence(self) -> int:
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
            self._lc.llama_memory_seq_cp(self._mem, seq, child, 0, len(tokens))
        self._cache[child] = list(tokens)
        return child

    def drop(self, seq: int) -> None:
        if seq in self._cache:
            self._lc.llama_memory_seq_rm(self._mem, seq, -1, -1)
            del self._cache[seq]
            self._free_seqs.append(seq)

    def save_sequence(self, seq: int) -> SequenceSnapshot:
        """The KV state of one sequence, as bytes, with the tokens it holds."""
        lc = self._lc
        size = lc.llama_state_seq_get_size(self._ctx, seq)
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
        if not self._lc.llama_state_seq_set_data(self._ctx, data, len(snapshot.state), seq):
            self.drop(seq)
            raise StageError("cannot restore the sequence snapshot (another model, or the context is full)")
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

    def close(self) -> None:
        lc = self._lc
        if getattr(self, "_ctx", None):
            lc.llama_batch_free(self._batch)
            lc.llama_free(self._ctx)
            self._ctx = None
        if getattr(self, "_model", None):
            lc.llama_model_free(self._model)
            self._model = None

    def __del__(self) -> None:  # pragma: no cover - best effort
        try:
            self.close()
        except Exception:
            pass

    # -- tokens ------------------------------------------------------------

    def tokenize(self, text: str, add_special: bool = True) -> list[int]:
        """Tokens of `text`, special tokens parsed (chat markup is text here)."""
        lc = self._lc
        data = text.encode("utf-8")
        size = len(data) + 8
        buf = (lc.llama_token * size)()
        n = lc.llama_tokenize(self._vocab, data, len(data), buf, size, add_special, True)
        if n < 0:
            size = -n
            buf = (lc.llama_token * size)()
            n = lc.llama_tokenize(self._vocab, data, len(data), buf, size, add_special, True)
        return list(buf[:n])

    def piece(self, token: int, special: bool = False) -> bytes:
        """The bytes a token stands for (with `special`, control tokens as their text)."""
        buf = ctypes.create_string_buffer(64)
        n = self._lc.llama_token_to_piece(self._vocab, token, buf, 64, 0, special)
        if n < 0:
            buf = ctypes.create_string_buffer(-n)
            n = self._lc.llama_token_to_piece(self._vocab, token, buf, -n, 0, special)
        return buf.raw[:n]

    def prompt_text(self, messages: Sequence[Message], prefix: str = "") -> str:
        """The text of the prompt for the assistant's next reply, as the model's template renders it."""
        return self.chat_format.render(messages, prefix)

    def prompt_tokens(self, messages: Sequence[Message], prefix: str = "") -> list[int]:
        """The tokens of the prompt for the assistant's next reply."""
        text = self.prompt_text(messages, prefix)
        # A template that writes the BOS itself must not get a second one from the tokenizer.
        return self.tokenize(text, add_special=not (self._bos_text and text.startswith(self._bos_text)))

    # -- decoding ----------------------------------------------------------

    def decode(self, items: Sequence[tuple[int, int, int, bool]]) -> dict[int, np.ndarray]:
        """Decode (token, position, seq, want_logits) items, in batches of `n_batch`.

        Returns:
            Logits (a copy) for each item index that asked for them.

        Raises:
            StageError: the KV cache is full.
        """
        lc = self._lc
        out: dict[int, np.ndarray] = {}
        batch = self._batch
        for start in range(0, len(items), self.n_batch):
            chunk = items[start : start + self.n_batch]
            seqs = set()
            for i, (token, pos, seq, logits) in enumerate(chunk):
                batch.token[i] = token
                batch.pos[i] = pos
                batch.n_seq_id[i] = 1
                batch.seq_id[i][0] = seq
                batch.logits[i] = logits
                seqs.add(seq)
            batch.n_tokens = len(chunk)
            status = lc.llama_decode(self._ctx, batch)
            if status == 1:
                raise StageError(
                    f"the context of {self.n_ctx} tokens is full; raise stage.n_ctx in the scenario"
                )
            if status != 0:
                raise StageError(f"llama_decode failed (status {status})")
            self.counters.decode_calls += 1
            if len(seqs) > 1:
                self.counters.batched_calls += 1
            for i, (_, _, _, logits) in enumerate(chunk):
                if logits:
                    ptr = lc.llama_get_logits_ith(self._ctx, i)
                    out[start + i] = np.ctypeslib.as_array(ptr, shape=(self.n_vocab,)).copy()
        return out

    def sync(self, seq: int, tokens: Sequence[int]) -> None:
        """Make `seq` hold exactly `tokens`, keeping the common prefix, with logits for the last.

        Afterwards the last decoded item (batch index `self._last_index`) has the logits.
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
                self._lc.llama_memory_seq_rm(self._mem, seq, keep, -1)
                del cached[keep:]
            keep = self._borrow_prefix(seq, tokens, keep)
            new = tokens[keep:]
            for offset, token in enumerate(new):
                items.append((token, keep + offset, seq, offset == len(new) - 1))
            self._decoded[seq] = len(cached)
            cached.extend(new)
            self.counters.prompt_tokens += len(new)
        self._last_logits = self.decode(items)
        self._last_items = items
        # Map each sequence to the logits of its last prompt token.
        self._seq_logits: dict[int, np.ndarray] = {}
        for index, logits in self._last_logits.items():
            self._seq_logits[items[index][2]] = logits

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
                lc.llama_memory_seq_rm(self._mem, seq, keep, int(q))
                lc.llama_memory_seq_add(self._mem, seq, int(q), -1, keep - int(q))
                del cached[keep : int(q)]
                self.counters.extra["shifted_tokens"] = self.counters.extra.get("shifted_tokens", 0) + n
                return keep + n
        return keep

    def count_tokens(self, messages: Sequence[Message]) -> int:
        """How many tokens the prompt for `messages` takes."""
        return len(self.prompt_tokens(messages))

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
        self._lc.llama_memory_seq_cp(self._mem, donor, seq, keep, best)
        self._cache[seq].extend(tokens[keep:best])
        self.counters.extra["borrowed_tokens"] = self.counters.extra.get("borrowed_tokens", 0) + best - keep
        return best

    # -- the Stage protocol --------------------------------------------------

    def generate(self, seq: int, messages: Sequence[Message], sampling: Sampling) -> Iterator[str]:
        return self.generate_tokens(seq, self.prompt_tokens(messages), sampling)

    def generate_tokens(
        self, seq: int, prompt: Sequence[int], sampling: Sampling, *, block_eog: bool = False
    ) -> Iterator[str]:
        """Stream a continuation of `prompt` on `seq` (text chunks, UTF-8 safe)."""
        lc = self._lc
        self.sync(seq, prompt)
        logits = self._seq_logits[seq]
        sampler = TokenSampler(lc, self._vocab, self.n_vocab, sampling)
        eog = self._eog_tokens() if block_eog else None
        decoder = codecs.getincrementaldecoder("utf-8")(errors="replace")
        cached = self._cache[seq]
        try:
            for _ in range(sampling.max_tokens):
                token = sampler.sample(logits, eog)
                if lc.llama_vocab_is_eog(self._vocab, token):
                    break
                self.counters.generated_tokens += 1
                text = decoder.decode(self.piece(token))
                pos = len(cached)
                cached.append(token)
                logits = self.decode([(token, pos, seq, True)])[0]
                if text:
                    yield text
            tail = decoder.decode(b"", final=True)
            if tail:
                yield tail
        finally:
            sampler.free()

    def generate_candidates(
        self, seq: int, messages: Sequence[Message], sampling: Sampling, n: int
    ) -> list[str]:
        """`n` independent replies to the same prompt, decoded together.

        The prompt is decoded once into a fork of `seq`; each candidate samples on
        its own fork with its own seeded sampler chain, and every step decodes
        one token for all live candidates in a single `llama_batch`. `seq` is left
        unchanged and all forks are dropped.
        """
        lc = self._lc
        prompt = self.prompt_tokens(messages)
        base = self.fork(seq)
        forks: list[int] = []
        chains: list[Any] = []
        try:
            self.sync(base, prompt)
            first = self._seq_logits[base]
            forks = [self.fork(base) for _ in range(n)]
            chains = [
                TokenSampler(lc, self._vocab, self.n_vocab, replace(sampling, seed=sampling.seed + i))
                for i in range(n)
            ]
            decoders = [codecs.getincrementaldecoder("utf-8")(errors="replace") for _ in range(n)]
            texts: list[list[str]] = [[] for _ in range(n)]
            logits = [first] * n
            alive = list(range(n))
            for _ in range(sampling.max_tokens):
                items: list[tuple[int, int, int, bool]] = []
                owners: list[int] = []
                for i in alive:
                    token = chains[i].sample(logits[i])
                    if lc.llama_vocab_is_eog(self._vocab, token):
                        continue
                    self.counters.generated_tokens += 1
                    texts[i].append(decoders[i].decode(self.piece(token)))
                    cache = self._cache[forks[i]]
                    items.append((token, len(cache), forks[i], True))
                    cache.append(token)
                    owners.append(i)
                if not items:
                    break
                out = self.decode(items)
                for k, i in enumerate(owners):
                    logits[i] = out[k]
                alive = owners
            return ["".join(parts) + decoder.decode(b"", final=True) for parts, decoder in zip(texts, decoders)]
        finally:
            for chain in chains:
                chain.free()
            for fork in forks:
                self.drop(fork)
            self.drop(base)

    def _eog_tokens(self) -> list[int]:
        if getattr(self, "_eog", None) is None:
            self._eog = [t for t in range(self.n_vocab) if self._lc.llama_vocab_is_eog(self._vocab, t)]
        return self._eog

    def score_requests(self, requests: Sequence[ScoreRequest]) -> list[list[float]]:
        """Score every continuation of every request, sharing batches across requests.

        Each request's sequence is left as it was: its prompt is decoded into a
        fork, each continuation into a fork of that fork, and all forks are dropped.
        """
        return score_requests(self, requests)

    def score_many(self, seq: int, jobs: Sequence[ScoreJob]) -> list[list[float]]:
        """`score` for several (messages, continuations) jobs on forks of `seq`, in shared batches."""
        return self.score_requests([self._request(seq, messages, "", conts) for messages, conts in jobs])

    def choose_many(
        self, jobs: Sequence[tuple[int, Sequence[Message], Sequence[str], str]]
    ) -> list[int]:
        """`choose` for several (seq, messages, options, prefix) jobs in shared batches."""
        requests = [self._request(seq, messages, prefix, options) for seq, messages, options, prefix in jobs]
        return [int(np.argmax(scores)) for scores in self.score_requests(requests)]

    def _request(
        self, seq: int, messages: Sequence[Message], prefix: str, options: Sequence[str]
    ) -> ScoreRequest:
        if not options:
            raise ValueError("choose needs at least one option")
        prompt = self.prompt_tokens(messages, prefix)
        fulls = [self.prompt_tokens(messages, prefix + option) for option in options]
        return split_request(seq, prompt, fulls)

    def choose(
        self, seq: int, messages: Sequence[Message], options: Sequence[str], prefix: str = ""
    ) -> int:
        return self.choose_many([(seq, messages, options, prefix)])[0]

    def score(
        self, seq: int, messages: Sequence[Message], continuation: str, prefix: str = ""
    ) -> float:
        return self.score_requests([self._request(seq, messages, prefix, [continuation])])[0][0]
