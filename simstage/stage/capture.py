"""Reading the residual stream while a probe decodes: llama.cpp's eval callback, armed per batch.

llama.cpp names block L's output `l_out-L` (after any control vector). A
context made with `cb_eval` asks the callback, node by node, whether it wants a
tensor's data; when it says yes, the graph is computed up to that node and the
callback is called again with the data ready. `LatentCapture` says yes only
while armed, and only for the chosen layers, so decodes outside a probe cost one
Python call per graph node and change nothing else.

The last block's output holds only the rows that asked for logits (llama.cpp
drops the others before it); every other block's holds a row per token.
"""

from __future__ import annotations

import ctypes
from collections.abc import Sequence
from typing import Any

import numpy as np

from simstage.stage import ggml

Key = tuple[int, int]
"""(sequence, position): the token whose residual stream is wanted."""


class LatentCapture:
    """The eval callback of one llama.cpp context, and what it read.

    Args:
        layers: the blocks to read (0-based).
        n_layer: the model's blocks.
        n_embd: the model's width.
    """

    def __init__(self, lc: Any, layers: Sequence[int], n_layer: int, n_embd: int):
        bad = [layer for layer in layers if not 0 <= layer < n_layer]
        if bad:
            raise ValueError(
                f"latent layers {bad} are out of range: the model has blocks 0-{n_layer - 1}"
            )
        self.layers = tuple(sorted(set(layers)))
        self.n_layer = n_layer
        self.n_embd = n_embd
        self._names = {f"l_out-{layer}": i for i, layer in enumerate(self.layers)}
        self._wanted: dict[Key, Any] = {}
        self._rows: dict[Any, tuple[int, int]] = {}
        self._n_tokens = 0
        self.found: dict[Any, np.ndarray] = {}
        self.steer: dict[int, np.ndarray] | None = None
        """Block → unit direction: while armed, the wanted tokens' residual stream loses its
        component along it (x ← x − (x·u)u), written back before the next block reads it."""
        self.error: BaseException | None = None
        self._row = (ctypes.c_float * n_embd)()
        self.callback = lc.ggml_backend_sched_eval_callback(self._on_tensor)

    def begin(self) -> None:
        """Start one read: forget what earlier reads found, and their error."""
        self.found = {}
        self.error = None

    def expect(self, wanted: dict[Key, Any] | None) -> None:
        """Read the tokens in `wanted` ((seq, pos) → label) into `found` whenever they are decoded; None: stop."""
        self._wanted = dict(wanted or {})

    @property
    def expecting(self) -> bool:
        return bool(self._wanted)

    def arm(self, chunk: Sequence[tuple[int, int, int, bool]]) -> None:
        """Before a `llama_decode` of `chunk`: find the wanted tokens' rows in it."""
        self._rows = {}
        outputs = 0
        for index, (_token, pos, seq, logits) in enumerate(chunk):
            label = self._wanted.get((seq, pos))
            if label is not None:
                self._rows[label] = (index, outputs)
            outputs += bool(logits)
        self._n_tokens = len(chunk)

    def disarm(self) -> None:
        self._rows = {}

    def _on_tensor(self, tensor: int, ask: bool, _user: Any) -> bool:
        if not self._rows:
            return not ask
        try:
            index = self._names.get(ggml.tensor_name(tensor))
            if ask:
                return index is not None
            if index is not None:
                self._read(tensor, index)
                direction = self.steer.get(self.layers[index]) if self.steer else None
                if direction is not None:
                    self._project_out(tensor, direction)
        except BaseException as exc:
            self.error = exc
        return True

    def _read(self, tensor: int, index: int) -> None:
        head = ggml.tensor_head(tensor)
        if head.type != ggml.GGML_TYPE_F32 or head.ne[0] != self.n_embd:
            raise ValueError(
                f"l_out tensor of type {head.type}, width {head.ne[0]}: expected f32 × {self.n_embd}"
            )
        whole = head.ne[1] == self._n_tokens
        for label, (token_row, output_row) in self._rows.items():
            ggml.copy_row(tensor, token_row if whole else output_row, self._row)
            vectors = self.found.setdefault(
                label, np.zeros((len(self.layers), self.n_embd), dtype=np.float32)
            )
            vectors[index] = np.ctypeslib.as_array(self._row)

    def _project_out(self, tensor: int, direction: np.ndarray) -> None:
        head = ggml.tensor_head(tensor)
        whole = head.ne[1] == self._n_tokens
        view = np.ctypeslib.as_array(self._row)
        for token_row, output_row in self._rows.values():
            row = token_row if whole else output_row
            ggml.copy_row(tensor, row, self._row)
            view -= np.float32(view @ direction) * direction.astype(np.float32)
            ggml.write_row(tensor, row, self._row)


def install_capture(
    lc: Any, model: Any, cparams: Any, layers: Sequence[int] | str
) -> LatentCapture:
    """A capture of `layers` (or `all`) of `model`, set as the eval callback of the context `cparams` will make.

    Raises:
        ValueError: a layer the model does not have.
    """
    n_layer = lc.llama_model_n_layer(model)
    chosen = range(n_layer) if isinstance(layers, str) else layers  # a string is only ever "all"
    capture = LatentCapture(lc, chosen, n_layer, lc.llama_model_n_embd(model))
    cparams.cb_eval = capture.callback
    cparams.cb_eval_user_data = None
    return capture


def choose_latent(
    stage: Any,
    capture: LatentCapture,
    requests: Sequence[Any],
    contrast: Sequence[Sequence[int]] | None = None,
) -> tuple[list[int], list[np.ndarray]]:
    """Score `requests` on `stage` and read the residual stream of each: (answers, vectors).

    vectors[i] is [layers, width] at the last token before request i's answer; with
    `contrast` (per request, the options completed to make its contrast pair) it is
    [1 + len(contrast[i]), layers, width]: that token, then the last token of the answer
    completed with each named option, in order.

    Raises:
        StageError: the capture failed, or an option adds no token to read.
    """
    from simstage.stage.base import StageError
    from simstage.stage.scoring import score_requests

    capture.begin()
    try:
        scores = score_requests(stage, requests, capture=capture, contrast=contrast)
    except ValueError as exc:
        raise StageError(f"latent capture failed: {exc}") from None
    found = capture.found
    keys: list[list[Any]] = [
        [i, *((i, c) for c in (contrast[i] if contrast else ()))] for i in range(len(requests))
    ]
    if capture.error is not None or any(key not in found for row in keys for key in row):
        raise StageError(f"latent capture failed: {capture.error or 'a probe token was not read'}")
    answers = [int(np.argmax(s)) for s in scores]
    if contrast is None:
        return answers, [found[i] for i in range(len(requests))]
    return answers, [np.stack([found[key] for key in row]) for row in keys]
