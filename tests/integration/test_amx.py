"""On a CPU with AMX, the embedded model decodes a 64-token batch (llama.cpp #20824 avoided).

Before the fix this segfaulted in `ggml_backend_amx_mul_mat` at the first
multi-token decode; it runs only where the CPU has AMX.
"""

from __future__ import annotations

import numpy as np
import pytest

from simstage.stage.cpu import cpu_flags, has_amx

pytestmark = [
    pytest.mark.model,
    pytest.mark.skipif(
        not has_amx(cpu_flags()), reason="this CPU has no AMX (no amx_* flag in /proc/cpuinfo)"
    ),
]


def test_a_64_token_batch_decodes_on_an_amx_cpu():
    from simstage.stage.llama import LlamaStage
    from simstage.stage.models import resolve_model

    stage = LlamaStage(resolve_model("default"), n_ctx=1024, n_threads=2, n_seq_max=2)
    try:
        assert stage.load_overrides == {"use_extra_bufts": False}
        seq = stage.open_sequence()
        tokens = stage.tokenize("The marble is in the basket. " * 12)[:64]
        assert len(tokens) == 64
        out = stage.decode([(tok, i, seq, i == 63) for i, tok in enumerate(tokens)])
        logits = out[63]
        assert logits.shape == (stage.n_vocab,)
        assert np.isfinite(logits).all()
    finally:
        stage.close()
