"""Iterative magnitude pruning with rewinding (Frankle & Carbin 2019) at the unit level, on the
output layer (heuristic, never certified).

The instance holds the trained hidden activations H (m, N) but not the first layer's inputs,
so IMP runs on the output layer over these fixed features: the "initialisation" w0 is the
trained output weights V (N, C) and bias b (C,) (zero when the instance has none, and then
never trained). With S the surviving units (all N at first), one round is:

1. rewind: W = w0[S], b = b0;
2. train W (and b when the instance has a bias) by `iters` steps of full-batch gradient
   descent on the squared loss mean((P − T)²) of the subnetwork P = s·H[:, S] W + b with s =
   `instance.selection_scale(|S|)`: N/|S| under the average rule (so at the rewind point it is
   exactly what the instance scores for S; refit trains the same way), 1 under keep (the
   surviving weights as they are: Frankle & Carbin's subnetwork). The step is lr / L, L =
   (2/(m·C))·σ_max([s·H[:, S], 1])² the
   Lipschitz constant of the gradient, so `lr` is scale-free and any lr in (0, 2) descends
   (the step is computed with the features at unit scale, so it exists at any data scale);
3. score each unit by ||W_i||_2 · ||H[:, i]||_2 and prune max(1, floor(prune_fraction·|S|))
   units with the smallest scores (never below k; ties keep the lower index).

Rounds repeat until k units survive; the answer is their 0/1 mask (IMP never takes a unit
twice, which is a valid mask with repeats too). IMP only *selects* units: the trained weights
are discarded and the instance's rule (average, keep or refit) and loss score the mask, like every
backend's. prune_fraction = 1 is one-shot magnitude pruning after one training run. At the time
limit the current round's scores (or, before any training, the trained weights' magnitudes)
prune straight to k.

The first layer is not retrained: the kind fixes it (H is part of the instance, and the
evaluator scores units by H), so retraining fc1 would change the units being selected.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from exactprune.instances.scaling import descending, norm_parts, product_parts
from exactprune.solvers.clock import Clock, passed
from exactprune.solvers.result import Goal, Limit, RawSolution, SolveOptions, Status

PRUNE_FRACTION = 0.2
ITERS = 100
LR = 1.0
CHECK_EVERY = 16
"""Training steps between time-limit checks."""


class _TimeUp(Exception):
    """The deadline passed during training."""


def train_output_layer(H: np.ndarray, T: np.ndarray, W: np.ndarray, b: np.ndarray | None,
                       scale: float, iters: int, lr: float, deadline: float | None
                       ) -> tuple[np.ndarray, np.ndarray | None]:
    """Full-batch GD on mean((scale·H W + b − T)²): H (m, s), T (m, C), W (s, C), b (C,) or
    None (not trained). Returns the trained (W, b); raises _TimeUp at the deadline."""
    m, C = T.shape
    if iters == 0:
        return W, b
    if passed(deadline):  # the step size below takes a while on large H (hunt 42)
        raise _TimeUp
    X = scale * H
    Xa = X if b is None else np.hstack([X, np.ones((m, 1))])
    peak = float(np.max(np.abs(Xa), initial=0.0))
    if peak == 0.0:
        return W, b
    # The step (lr / L)·Xᵀ(2/(mC))R = (lr / σ²)·XᵀR is taken with X at unit scale,
    # X = 2^shift·U, σ = 2^shift·σ_U: (lr / σ_U²)·2^-shift·UᵀR, so σ² neither under- nor
    # overflows (activations of 2^-540 took no step at all; hunt 60 M2) and, without an output
    # bias, data scaled by powers of two train to the same W, scaled.
    shift = math.frexp(peak)[1]
    U = np.ldexp(X, -shift)
    sigma_u = _spectral_norm(U if b is None else np.ldexp(Xa, -shift))
    if not sigma_u > 0.0:
        return W, b
    step = lr / (sigma_u * sigma_u)
    W = W.copy()
    b = None if b is None else b.copy()
    for t in range(iters):
        if t % CHECK_EVERY == 0 and passed(deadline):
            raise _TimeUp
        with np.errstate(over="ignore", invalid="ignore"):
            R = X @ W - T if b is None else X @ W + b - T  # (m, C)
            W_next = W - step * np.ldexp(U.T @ R, -shift)
            b_next = None if b is None else b - step * np.ldexp(R.sum(axis=0), -2 * shift)
        if not (np.all(np.isfinite(W_next))
                and (b_next is None or np.all(np.isfinite(b_next)))):
            break  # weights beyond float64: keep the last finite step
        W, b = W_next, b_next
    return W, b


def _spectral_norm(A: np.ndarray) -> float:
    """The largest singular value of A (rows, cols): from the eigenvalues of the smaller Gram
    matrix, about 2.5 times faster than an SVD on a 3000 x 1000 A (the step size of every IMP
    round; hunt 42), and equal to it within float64 rounding."""
    if A.size == 0:
        return 0.0
    peak = float(np.max(np.abs(A)))
    if not math.isfinite(peak) or peak == 0.0:
        return float(np.linalg.norm(A, 2))
    shift = math.frexp(peak)[1]  # A at unit scale: its Gram matrix neither under- nor
    unit = np.ldexp(A, -shift)  # overflows (20 % off at entries of 1e-160; hunt 43)
    gram = unit.T @ unit if unit.shape[0] >= unit.shape[1] else unit @ unit.T
    top = float(np.linalg.eigvalsh(gram)[-1])
    if not (math.isfinite(top) and top > 0):
        return float(np.linalg.norm(A, 2))
    return math.ldexp(math.sqrt(top), shift)


def unit_scores(W: np.ndarray, act: tuple[np.ndarray, np.ndarray]) -> np.ndarray:
    """||W_i||_2 · ||H[:, i]||_2 per surviving unit as `product_parts` rows (exponent,
    mantissa), exact at any data scale (hunt 60 M2): W (s, C), act the `norm_parts` of H's
    columns (s,) -> (s, 2)."""
    return product_parts(norm_parts(W, axis=1), act)


def keep_top(units: np.ndarray, scores: np.ndarray, keep: int) -> np.ndarray:
    """The `keep` units (sorted indices) of largest score (`unit_scores` rows), ties to the
    lower index."""
    return np.sort(units[descending(scores)[:keep]])


def prune_count(size: int, k: int, fraction: float) -> int:
    """Units pruned from `size` survivors: max(1, floor(fraction·size)), at most size − k."""
    return min(size - k, max(1, math.floor(fraction * size)))


def run_imp(instance: Any, goal: Goal, opts: SolveOptions) -> RawSolution:
    """IMP with rewinding on the output layer (options prune_fraction, iters, lr)."""
    clock = Clock(opts.time_limit)
    fraction = float(opts.extra.get("prune_fraction", PRUNE_FRACTION))
    iters = int(opts.extra.get("iters", ITERS))
    lr = float(opts.extra.get("lr", LR))
    H, T, n, k = instance.hidden, instance.targets, instance.n, instance.k
    w0 = instance.output_weights
    b0 = None if instance.output_bias is None else instance.output_bias
    act = norm_parts(H, axis=0)  # (N,) mantissas and exponents
    units = np.arange(n)
    scores = unit_scores(w0, act)  # (N, 2): the latest score of every unit
    sizes = [n]
    limit = Limit.NONE
    while units.size > k:
        try:
            W, _ = train_output_layer(H[:, units], T, w0[units], b0,
                                      instance.selection_scale(units.size), iters, lr,
                                      clock.deadline)
        except _TimeUp:
            limit = Limit.TIME
            units = keep_top(units, scores[units], k)
            break
        scores[units] = unit_scores(W, (act[0][units], act[1][units]))
        keep = units.size - prune_count(units.size, k, fraction)
        units = keep_top(units, scores[units], keep)
        sizes.append(int(units.size))
    mask = instance.mask_of_units(units)
    status = Status.TIME_LIMIT if limit is Limit.TIME else Status.FEASIBLE
    note = (f"IMP with rewinding on the output layer: {len(sizes) - 1} rounds, survivors "
            f"{' -> '.join(map(str, sizes))} (prune_fraction {fraction:g}, {iters} GD steps, "
            f"lr {lr:g}/L); the instance's rule scores the k survivors")
    if limit is Limit.TIME:
        note += "; time limit: pruned to k by the last scores"
    return RawSolution(status, mask=mask, limit=limit, stats={"rounds": len(sizes) - 1,
                                                               "survivors": sizes},
                       notes=[note])
