"""How a batch-invariant llama stage cuts a decode into ubatches (`stage/kv.py`)."""

from __future__ import annotations

from simstage.stage.kv import invariant_chunks


def test_invariant_chunks_never_leave_a_token_alone() -> None:
    assert invariant_chunks(1) == [(0, 1)]
    for n in range(2, 200):
        spans = invariant_chunks(n, 32)
        assert spans[0][0] == 0 and spans[-1][1] == n
        assert all(a < b and b - a <= 32 and b - a >= 2 for a, b in spans)
        assert all(spans[i][1] == spans[i + 1][0] for i in range(len(spans) - 1))
