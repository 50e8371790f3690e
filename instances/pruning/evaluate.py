"""The one evaluator of neuron and weight pruning: a network's output and a mask's error.

Every backend, heuristic and certificate computes the pruned net and its error through these
functions, so there is one definition of what a mask's error is:

- `net_outputs(W, v, act, X)`: act(Σ_i v_i relu(w_i·x)) at the rows of X (K, d) -> (K,);
- `batch_outputs(W, v, act, X, masks, kind)`: the same for a batch of masks, (B, K), without
  materialising B networks (neuron masks: one matrix product; weight masks: masked
  pre-activations);
- `reduce_errors(A, norm, axis)`: the norm of absolute residuals A along `axis` (linf: max;
  l1: mean; l2: root mean square), vectorised;
- `exact_norm(r, norm)`: the same for one residual vector, with math.fsum (correctly rounded
  sums), used by `evaluate`.

Instances expose them as `errors(masks)` (vectorised, float64, for search) and `evaluate(mask)`
(one mask, the number every result reports).
"""

from __future__ import annotations

import math

import numpy as np

from exactprune.instances.network import net_outputs

__all__ = ["batch_outputs", "exact_norm", "net_outputs", "reduce_errors"]

NEURON = "neuron_pruning"
WEIGHT = "weight_pruning"
BATCH_ENTRIES = 1 << 22
"""Largest number of float64 entries of one temporary (B, K, n) block (32 MB)."""


def batch_outputs(W: np.ndarray, v: np.ndarray, act: str, X: np.ndarray, masks: np.ndarray,
                  kind: str) -> np.ndarray:
    """Outputs of the pruned nets for a batch of masks: (B, K).

    masks: (B, n) unit masks (kind neuron_pruning) or (B, n, d) weight masks (weight_pruning),
    0/1 or bool. Cut weights and units contribute exact zeros, as in the pruned net.
    """
    m = np.asarray(masks, dtype=np.float64)
    B = m.shape[0]
    if kind == NEURON:
        h = m @ (np.maximum(X @ W.T, 0.0) * v).T  # (B, K)
    else:
        n, d = W.shape
        K = X.shape[0]
        h = np.empty((B, K))
        step = max(1, BATCH_ENTRIES // max(1, K * n))
        for s in range(0, B, step):
            masked = m[s:s + step].reshape(-1, n, d) * W  # (b, n, d)
            pre = np.einsum("bnd,kd->bkn", masked, X)
            h[s:s + step] = np.maximum(pre, 0.0) @ v
    return np.maximum(h, 0.0) if act == "relu" else h


def reduce_errors(A: np.ndarray, norm: str, axis: int = -1) -> np.ndarray:
    """The norm of the absolute residuals A along `axis` (linf max, l1 mean, l2 RMS). l2 squares
    each residual vector scaled by a power of two to a largest entry in [0.5, 1), then scales
    the root back: unscaled squares of residuals below ~1e-162 were 0, and every mask read 0
    (hunt 112 M2)."""
    if norm == "linf":
        return A.max(axis=axis)
    if norm == "l1":
        return A.mean(axis=axis)
    peak = A.max(axis=axis, keepdims=True)
    shift = np.frexp(np.where(peak > 0, peak, 1.0))[1]
    B = np.ldexp(A, -shift)
    return np.ldexp(np.sqrt((B * B).mean(axis=axis)), np.squeeze(shift, axis=axis))


def exact_norm(r: np.ndarray, norm: str) -> float:
    """The norm of one residual vector (K,), sums correctly rounded (math.fsum): only the
    residuals carry rounding error. l2 squares the residuals scaled by a power of two to a
    largest entry in [0.5, 1), as `reduce_errors` does."""
    a = np.abs(np.asarray(r, dtype=np.float64))
    if norm == "linf":
        return float(a.max())
    if norm == "l1":
        return math.fsum(a.tolist()) / a.shape[0]
    peak = float(a.max())
    if peak == 0.0:
        return 0.0
    shift = math.frexp(peak)[1]
    b = np.ldexp(a, -shift)
    return math.ldexp(math.sqrt(math.fsum((b * b).tolist()) / a.shape[0]), shift)
