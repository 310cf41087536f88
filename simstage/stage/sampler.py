"""Sampling a token from logits: a seeded llama.cpp sampler chain, with an optional grammar.

The grammar is checked the way llama.cpp's own common sampler does it: sample
from the unconstrained chain first, test only that token against the grammar,
and filter the whole vocabulary through the grammar only when the token is
invalid. A JSON grammar over a 49k vocabulary otherwise halves generation speed.
"""

from __future__ import annotations

import codecs
import ctypes
import json
from collections.abc import Callable, Sequence
from dataclasses import replace
from typing import Any

import numpy as np

from simstage.stage.base import Sampling, StageError
from simstage.stage.kv import SequenceCache


class TokenSampler:
    """One generation's sampler: chain (top-p, temperature, seeded dist, or greedy) + grammar."""

    def __init__(self, lc: Any, vocab: Any, n_vocab: int, sampling: Sampling):
        self._lc = lc
        self._n_vocab = n_vocab
        self._grammar = None
        if sampling.json_schema is not None:
            grammar = lc.llama_sampler_init_grammar(
                vocab, gbnf(sampling.json_schema).encode(), b"root"
            )
            if not grammar:
                raise StageError("the JSON schema could not be turned into a grammar")
            self._grammar = grammar
        chain = lc.llama_sampler_chain_init(lc.llama_sampler_chain_default_params())
        if sampling.temperature <= 0:
            lc.llama_sampler_chain_add(chain, lc.llama_sampler_init_greedy())
        else:
            lc.llama_sampler_chain_add(chain, lc.llama_sampler_init_top_p(sampling.top_p, 1))
            lc.llama_sampler_chain_add(chain, lc.llama_sampler_init_temp(sampling.temperature))
            lc.llama_sampler_chain_add(
                chain, lc.llama_sampler_init_dist(sampling.seed & 0xFFFFFFFF)
            )
        self._chain = chain
        self._buf = (lc.llama_token_data * n_vocab)()
        self._view = np.ctypeslib.as_array(self._buf)
        self._ids = np.arange(n_vocab, dtype=np.int32)
        self._one = (lc.llama_token_data * 1)()
        self.resampled = 0
        """Tokens the grammar rejected, so the whole vocabulary was filtered."""

    def _array(self, logits: np.ndarray) -> Any:
        self._view["id"] = self._ids
        self._view["logit"] = logits
        self._view["p"] = 0.0
        return self._lc.llama_token_data_array(
            data=ctypes.cast(self._buf, self._lc.llama_token_data_p),
            size=self._n_vocab,
            selected=-1,
            sorted=False,
        )

    def _allowed(self, token: int, logit: float) -> bool:
        lc = self._lc
        self._one[0].id = token
        self._one[0].logit = logit
        self._one[0].p = 0.0
        single = lc.llama_token_data_array(
            data=ctypes.cast(self._one, lc.llama_token_data_p),
            size=1,
            selected=-1,
            sorted=False,
        )
        lc.llama_sampler_apply(self._grammar, ctypes.byref(single))
        return bool(np.isfinite(self._one[0].logit))

    def sample(self, logits: np.ndarray, eog: list[int] | None = None) -> int:
        """A token from `logits`; tokens in `eog` are never chosen when given."""
        lc = self._lc
        if eog:
            logits = logits.copy()
            logits[eog] = -np.inf
        arr = self._array(logits)
        lc.llama_sampler_apply(self._chain, ctypes.byref(arr))
        token = int(arr.data[arr.selected].id)
        if self._grammar is not None and not self._allowed(token, float(logits[token])):
            self.resampled += 1
            arr = self._array(logits)
            lc.llama_sampler_apply(self._grammar, ctypes.byref(arr))
            lc.llama_sampler_apply(self._chain, ctypes.byref(arr))
            token = int(arr.data[arr.selected].id)
        if self._grammar is not None:
            lc.llama_sampler_accept(self._grammar, token)
        lc.llama_sampler_accept(self._chain, token)
        return token

    def free(self) -> None:
        """Release the llama.cpp samplers."""
        if self._chain is not None:
            self._lc.llama_sampler_free(self._chain)
            self._chain = None
        if self._grammar is not None:
            self._lc.llama_sampler_free(self._grammar)
            self._grammar = None


_GRAMMARS: dict[str, str] = {}


def gbnf(schema: dict[str, Any]) -> str:
    """The GBNF grammar for a JSON schema, properties in declared order (cached)."""
    from llama_cpp.llama_grammar import json_schema_to_gbnf

    key = json.dumps(schema)
    if key not in _GRAMMARS:
        _GRAMMARS[key] = json_schema_to_gbnf(key, prop_order=_declared_order(schema))
    return _GRAMMARS[key]


def _declared_order(schema: Any) -> list[str]:
    """Property names in the order the schema declares them (the grammar keeps it)."""
    order: list[str] = []

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            for name in node.get("properties", {}):
                if name not in order:
                    order.append(name)
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(schema)
    return order


def sample_candidates(
    stage: SequenceCache,
    piece: Callable[[int], bytes],
    seq: int,
    prompt: Sequence[int],
    sampling: Sampling,
    n: int,
) -> list[str]:
    """`n` independent replies to the same prompt, decoded together (`piece`: a token's bytes).

    The prompt is decoded once into a fork of `seq`; each candidate samples on
    its own fork with its own seeded sampler chain, and every step decodes
    one token for all live candidates in a single `llama_batch`. `seq` is left
    unchanged and all forks are dropped.
    """
    lc = stage._lc
    base = stage.fork(seq)
    forks: list[int] = []
    chains: list[Any] = []
    try:
        stage.sync(base, prompt)
        first = stage.seq_logits(base)
        forks = [stage.fork(base) for _ in range(n)]
        chains = [
            TokenSampler(lc, stage._vocab, stage.n_vocab, replace(sampling, seed=sampling.seed + i))
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
                if lc.llama_vocab_is_eog(stage._vocab, token):
                    continue
                stage.counters.generated_tokens += 1
                texts[i].append(decoders[i].decode(piece(token)))
                cache = stage._cache[forks[i]]
                items.append((token, len(cache), forks[i], True))
                cache.append(token)
                owners.append(i)
            if not items:
                break
            out = stage.decode(items)
            for k, i in enumerate(owners):
                logits[i] = out[k]
            alive = owners
        return [
            "".join(parts) + decoder.decode(b"", final=True)
            for parts, decoder in zip(texts, decoders, strict=True)
        ]
    finally:
        for chain in chains:
            chain.free()
        for fork in forks:
            stage.drop(fork)
        stage.drop(base)
