"""In-process llama.cpp: one context, one KV sequence per character.

The KV bookkeeping (what each sequence holds, decoding only what it has not seen,
forks, snapshots, shared batches) is `kv.py`'s `SequenceCache`, and its tokens
`vocab.py`'s `LlamaVocab`; this module loads the model and its chat template, and
generates, chooses and scores. Probes and candidates run on forks that are dropped afterwards.

This uses llama-cpp-python's low-level API; the package version is pinned.
"""

from __future__ import annotations

import codecs
import logging
import os
import threading
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any, TypeVar

import numpy as np

from simstage.stage import abilities
from simstage.stage.base import (
    ChooseJob,
    Message,
    Sampling,
    ScoreJob,
    StageBase,
    StageCounters,
    StageDescription,
    StageError,
)  # fmt: skip
from simstage.stage.chat import Screenplay, select_renderer
from simstage.stage.cpu import apply_overrides, cpu_flags, model_param_overrides
from simstage.stage.kv import INVARIANT_UBATCH, SequenceCache
from simstage.stage.markup import MarkupTokenizer
from simstage.stage.models import file_sha256
from simstage.stage.sampler import TokenSampler, sample_candidates
from simstage.stage.scoring import ScoreRequest, score_requests, split_request
from simstage.stage.templates import ChatTemplate, describe_template
from simstage.stage.vocab import LlamaVocab

_BACKEND_READY = False
A = TypeVar("A")


def _llama() -> Any:
    global _BACKEND_READY
    import llama_cpp

    if not _BACKEND_READY:
        logging.getLogger("llama-cpp-python").setLevel(logging.CRITICAL)
        llama_cpp.llama_backend_init()
        _BACKEND_READY = True
    return llama_cpp


class LlamaStage(
    SequenceCache,
    LlamaVocab,
    StageBase,
    abilities.Batching,
    abilities.LatentReader,
    abilities.TokenCounter,
    abilities.PromptRenderer,
    abilities.Meter,
    abilities.Restart,
):
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
        batch_invariant: decode in ubatches of 2 to 32 tokens (see `kv.py`), so that a
            sequence's logits do not depend on what else the batch or the KV cache
            holds: runs played many at once (`batch.py`) equal the same runs played alone.
        latent_layers: read these blocks' (or `all`) residual stream when asked (`choose_many_latent`),
            through llama.cpp's eval callback (`simstage/stage/capture.py`); None: no callback, and
            no `LatentReader` ability.

    Raises:
        StageError: the model cannot be loaded or the context cannot be made.
    """

    together = True
    """`choose_many`, `score_many` and `generate_candidates` share `llama_batch`es."""
    plays_screenplay = False
    """Set from the model: True where it has no chat template (see `stage/chat.py`)."""
    _description: StageDescription | None = None

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
        batch_invariant: bool = False,
        latent_layers: Sequence[int] | str | None = None,
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
        self._markup = MarkupTokenizer(lc, self._vocab, self.tokenize)
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
        self.batch_invariant = batch_invariant
        if batch_invariant:
            n_batch = INVARIANT_UBATCH
        cparams.n_batch = n_batch
        cparams.n_ubatch = n_batch
        if batch_invariant:  # llama.cpp reserves an output row per sequence, and asserts it fits
            cparams.n_outputs_max = max(n_batch, n_seq_max)
        cparams.n_seq_max = n_seq_max
        cparams.n_threads = self.n_threads
        cparams.n_threads_batch = self.n_threads
        cparams.kv_unified = True
        self.latent = None
        if latent_layers is not None:
            from simstage.stage.capture import install_capture

            try:
                self.latent = install_capture(lc, self._model, cparams, latent_layers)
            except ValueError as exc:
                lc.llama_model_free(self._model)
                self._model = None
                raise StageError(str(exc)) from None
        self._ctx = lc.llama_init_from_model(self._model, cparams)
        if not self._ctx:
            lc.llama_model_free(self._model)
            self._model = None
            raise StageError(f"cannot create a llama.cpp context of {n_ctx} tokens")
        self.n_ctx = lc.llama_n_ctx(self._ctx)
        self.n_batch = n_batch
        self.n_seq_max = n_seq_max
        self._mem = lc.llama_get_memory(self._ctx)
        self._can_shift = bool(lc.llama_memory_can_shift(self._mem))
        self._batch = lc.llama_batch_init(n_batch, 0, 1)
        self._free_seqs = list(range(n_seq_max - 1, -1, -1))
        self._kv_lock = threading.RLock()
        self._scratch = self._free_seqs.pop(0) if batch_invariant else None
        self._cache: dict[int, list[int]] = {}
        """Tokens held in KV, per live sequence (position = index)."""
        self._calls = 0
        self.counters = StageCounters()

    def _renderer(self, option: str | None) -> ChatTemplate:
        lc = self._lc
        template = lc.llama_model_chat_template(self._model, None)
        text = template.decode("utf-8", errors="replace") if template else None
        special = {}
        for name, token in (
            ("bos", lc.llama_vocab_bos(self._vocab)),
            ("eos", lc.llama_vocab_eos(self._vocab)),
        ):
            special[name] = (
                self.piece(token, special=True).decode("utf-8", errors="replace")
                if token >= 0
                else ""
            )
        return select_renderer(
            text,
            option=option,
            bos_token=special["bos"],
            eos_token=special["eos"],
            model_path=self.model_path,
        )

    # -- bookkeeping -------------------------------------------------------

    def describe(self) -> StageDescription:
        """Each character's KV cache remembers calls: the same history decoded in other batches gives
        slightly other logits, so a resumed run rebuilds it by playing its kept events again."""
        if self._description is None:
            self._description = StageDescription(
                backend="llama", model=self.model_name, model_file=self.model_path.name,
                model_sha256=file_sha256(self.model_path), **describe_template(self.chat_format),
                load_params=dict(self.load_overrides),
                decode="batch-invariant" if getattr(self, "batch_invariant", False) else None,
                plays_screenplay=self.plays_screenplay, context_window=getattr(self, "n_ctx", None),
                grammar=True, remembers_calls=True,
            )  # fmt: skip
        return self._description

    def ability(self, kind: type[A]) -> A | None:
        """Batching, token counting, prompt rendering, counters; latent reading where made with `latent_layers`."""
        if kind is abilities.LatentReader and self.latent is None:
            return None
        return super().ability(kind)

    @property
    def layers(self) -> tuple[int, ...]:
        """The blocks `choose_many_latent` reads (empty: none)."""
        return self.latent.layers if self.latent is not None else ()

    def restart(self) -> None:
        """Clear the whole KV cache and hand out sequences from the first again, as a new context does."""
        with self._kv_lock:
            self._lc.llama_memory_clear(self._mem, True)
            self._free_seqs = list(range(self.n_seq_max - 1, -1, -1))
            self._scratch = self._free_seqs.pop(0) if self._scratch is not None else None
        self._cache.clear()
        self._seq_logits = {}
        self._decoded = {}
        self._calls = 0
        self.counters = StageCounters()

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
        """`n` independent replies to the same prompt, decoded together (`sampler.sample_candidates`)."""
        return sample_candidates(self, self.piece, seq, self.prompt_tokens(messages), sampling, n)

    def score_requests(self, requests: Sequence[ScoreRequest]) -> list[list[float]]:
        """Score every continuation of every request, sharing batches across requests.

        Each request's sequence is left as it was: its prompt is decoded into a
        fork, each continuation into a fork of that fork, and all forks are dropped.
        """
        return score_requests(self, requests)

    def score_many(self, seq: int, jobs: Sequence[ScoreJob]) -> list[list[float]]:
        """`score` for several (messages, continuations) jobs on forks of `seq`, in shared batches."""
        return self.score_requests(
            [self._request(seq, messages, "", conts) for messages, conts in jobs]
        )

    def choose_many(
        self, jobs: Sequence[tuple[int, Sequence[Message], Sequence[str], str]]
    ) -> list[int]:
        """`choose` for several (seq, messages, options, prefix) jobs in shared batches."""
        requests = [
            self._request(seq, messages, prefix, options) for seq, messages, options, prefix in jobs
        ]
        return [int(np.argmax(scores)) for scores in self.score_requests(requests)]

    def _request(
        self, seq: int, messages: Sequence[Message], prefix: str, options: Sequence[str]
    ) -> ScoreRequest:
        if not options:
            raise ValueError("choose needs at least one option")
        prompt = self.prompt_tokens(messages, prefix)
        fulls = [self.prompt_tokens(messages, prefix + option) for option in options]
        return split_request(seq, prompt, fulls)

    def choose_many_latent(
        self,
        jobs: Sequence[ChooseJob],
        contrast: abilities.Contrast = None,
        steer: abilities.Steering = None,
    ) -> abilities.LatentChoices:
        """`choose_many`, and per job the residual stream read by `simstage.stage.capture.choose_latent`.

        Raises:
            StageError: the stage was made without `latent_layers`, or the capture failed.
        """
        if self.latent is None:
            raise StageError("this stage was started without latent capture")
        from simstage.stage.capture import choose_latent

        requests = [
            self._request(seq, messages, prefix, options) for seq, messages, options, prefix in jobs
        ]
        self.latent.steer = dict(steer) if steer else None
        try:
            return choose_latent(self, self.latent, requests, contrast)
        finally:
            self.latent.steer = None

    def choose(
        self, seq: int, messages: Sequence[Message], options: Sequence[str], prefix: str = ""
    ) -> int:
        return self.choose_many([(seq, messages, options, prefix)])[0]

    def score(
        self, seq: int, messages: Sequence[Message], continuation: str, prefix: str = ""
    ) -> float:
        return self.score_requests([self._request(seq, messages, prefix, [continuation])])[0][0]
