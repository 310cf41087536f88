"""Contrast-consistent search (Burns et al. 2022): an unsupervised linear probe on contrast pairs.

Each captured probe with a contrast pair holds two residual streams: the answer
completed with the first container of its pair (x⁺) and with the second (x⁻).
CCS fits p(x) = σ(θ·x + b) so that p(x⁺) and p(x⁻) are consistent (they sum to
one) and confident (the smaller is near zero), without labels:

    L = mean[(p(x⁺) − (1 − p(x⁻)))²] + mean[min(p(x⁺), p(x⁻))²] + λ‖θ‖²

Each side is normalised on its own (centred, scaled per dimension, with the
training rows' statistics), so the probe cannot read which completion it is
looking at. The fit keeps the lowest loss of a few seeded restarts. A pair's
score is ½(p(x⁺) + 1 − p(x⁻)); above ½ it says the first container is the true
completion. CCS cannot tell truth from its negation, so the sign is set on the
training rows with their labels (one bit of supervision) and applied unchanged
to the test rows.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

RESTARTS = 10
DECAY = 0.01
MAX_ITER = 400


@dataclass(frozen=True)
class CcsProbe:
    """A fitted CCS probe with its normalisation and sign."""

    theta: np.ndarray
    bias: float
    centre: tuple[np.ndarray, np.ndarray]
    scale: tuple[np.ndarray, np.ndarray]
    flip: bool
    loss: float

    def score(self, pos: np.ndarray, neg: np.ndarray) -> np.ndarray:
        """½(p(x⁺) + 1 − p(x⁻)) for each pair, after the sign."""
        p_pos = _sigmoid(self._normal(pos, 0) @ self.theta + self.bias)
        p_neg = _sigmoid(self._normal(neg, 1) @ self.theta + self.bias)
        score = 0.5 * (p_pos + 1.0 - p_neg)
        return 1.0 - score if self.flip else score

    def predict(self, pos: np.ndarray, neg: np.ndarray) -> np.ndarray:
        """True where the first container of the pair is the probe's answer."""
        return self.score(pos, neg) > 0.5

    def _normal(self, x: np.ndarray, side: int) -> np.ndarray:
        return (x - self.centre[side]) / self.scale[side]


def _sigmoid(z: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-np.clip(z, -60.0, 60.0)))


def _loss(
    params: np.ndarray, pos: np.ndarray, neg: np.ndarray, decay: float
) -> tuple[float, np.ndarray]:
    """CCS loss and its gradient in (θ, b)."""
    theta, bias = params[:-1], params[-1]
    p_pos, p_neg = _sigmoid(pos @ theta + bias), _sigmoid(neg @ theta + bias)
    n = len(pos)
    gap = p_pos + p_neg - 1.0
    low = np.minimum(p_pos, p_neg)
    pos_low = p_pos <= p_neg
    loss = float(np.mean(gap**2) + np.mean(low**2) + decay * theta @ theta)
    # d/dz of each term, through σ' = p(1 − p).
    d_pos = (2 * gap + 2 * low * pos_low) * p_pos * (1 - p_pos) / n
    d_neg = (2 * gap + 2 * low * ~pos_low) * p_neg * (1 - p_neg) / n
    grad = np.empty_like(params)
    grad[:-1] = pos.T @ d_pos + neg.T @ d_neg + 2 * decay * theta
    grad[-1] = d_pos.sum() + d_neg.sum()
    return loss, grad


def fit_ccs(
    pos: np.ndarray, neg: np.ndarray, truth: np.ndarray, seed: int = 0,
    restarts: int = RESTARTS, decay: float = DECAY,
) -> CcsProbe:  # fmt: skip
    """Fit CCS on training pairs; `truth` (first container true) only sets the sign.

    Args:
        pos: [n, d] the completions with each pair's first container.
        neg: [n, d] the completions with its second.
        truth: [n] bool, whether the first container is the label.
        seed: seeds the restarts' starting points.
    """
    from scipy.optimize import minimize

    centre = (pos.mean(axis=0), neg.mean(axis=0))
    scale = (pos.std(axis=0) + 1e-6, neg.std(axis=0) + 1e-6)
    a, b = (pos - centre[0]) / scale[0], (neg - centre[1]) / scale[1]
    rng = np.random.default_rng(seed)
    best: tuple[float, np.ndarray] | None = None
    for _ in range(restarts):
        start = np.append(rng.standard_normal(pos.shape[1]) / np.sqrt(pos.shape[1]), 0.0)
        result = minimize(
            _loss,
            start,
            args=(a, b, decay),
            jac=True,
            method="L-BFGS-B",
            options={"maxiter": MAX_ITER},
        )
        if best is None or result.fun < best[0]:
            best = (float(result.fun), result.x)
    assert best is not None
    probe = CcsProbe(best[1][:-1], float(best[1][-1]), centre, scale, False, best[0])
    flip = bool(np.mean(probe.predict(pos, neg) == truth) < 0.5)
    return CcsProbe(probe.theta, probe.bias, centre, scale, flip, best[0])
