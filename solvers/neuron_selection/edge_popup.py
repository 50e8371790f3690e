"""edge-popup (Ramanujan et al. 2020, "What's hidden in a randomly weighted neural network?") at
the unit level (heuristic, never certified).

Each unit has a real score s_i; the forward pass keeps the k units of largest |s_i|, as the
reference code does (`GetSubnet` on `scores.abs()`; ties to the lower index), c the 0/1 mask,
and predicts by the instance's linear rule (average or keep; under refit the average rule's, a
surrogate), residual R = A c − f (A = `instance.columns()` (m·C, N),
f = `instance.offset()`, both times the power of two that brings their largest entry to unit
size, which leaves g / max|g| as it is). The straight-through estimator passes the gradient of
the surrogate loss with respect to each mask entry, g = Aᵀ ∂L/∂R (N,), to |s| of *every* unit
(kept or not), and through the absolute value to the scores: s ← s − lr · sign(s) · g / max|g|
(a score pushed through 0 comes back up in |s|, where ranking by s itself dropped that unit
for good; hunt 90 L1). Normalising by max|g| makes lr scale-free (the largest |score| moves by
lr per step; scores start in [0, 1]).

Surrogate (`surrogate`): "squared" (default) mean R², gradient 2R/(m·C); "instance" the
instance's loss: squared as above, l1 its subgradient sign(R)/(m·C), linf sign(R_p) at one
entry p of largest |R_p| (the first).

Initial scores (`init`): "magnitude" (default) ||V_i||·||H[:, i]|| divided by its maximum,
plus a seeded jitter in [0, 0.01) that breaks ties; "uniform" seeded U[0, 1).

Every distinct top-k mask met in `iters` steps (and the initial one) is scored by
`instance.evaluate` under the instance's own loss and rule (so refit is handled: the gradient
is the average rule's, the score is refit's); the best is returned. edge-popup never takes a
unit twice (a valid mask with repeats too). The time limit is checked every step.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from exactprune.solvers.clock import Clock
from exactprune.solvers.neuron_selection.heuristics import magnitude_scores
from exactprune.solvers.result import Goal, Limit, RawSolution, SolveOptions, Status

ITERS = 300
LR = 0.05
JITTER = 0.01
SURROGATES: tuple[str, ...] = ("squared", "instance")
INITS: tuple[str, ...] = ("magnitude", "uniform")


def initial_scores(instance: Any, init: str, rng: np.random.Generator) -> np.ndarray:
    """Scores (N,) before the first step (see the module docstring)."""
    if init == "uniform":
        return rng.random(instance.n)
    return magnitude_scores(instance) + JITTER * rng.random(instance.n)


def unit_scaled(A: np.ndarray, f: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """A (P, N) and f (P,) times one power of two that brings their largest entry to [0.5, 1):
    the step reads only the gradient's direction (g / max|g|), which the scale leaves as it is
    (exactly, a power of two), and at data scales of 1e-170 or 1e155 the unscaled gradient
    under- or overflowed and no step was taken (hunt 60 M2)."""
    peak = max(float(np.max(np.abs(A), initial=0.0)), float(np.max(np.abs(f), initial=0.0)))
    if peak == 0.0:
        return A, f
    shift = math.frexp(peak)[1]
    return np.ldexp(A, -shift), np.ldexp(f, -shift)


def top_k(scores: np.ndarray, k: int) -> np.ndarray:
    """The bool mask (N,) of the k largest |scores|, ties to the lower index."""
    mask = np.zeros(scores.shape[0], dtype=bool)
    mask[np.argsort(-np.abs(scores), kind="stable")[:k]] = True
    return mask


def residual_gradient(R: np.ndarray, loss: str) -> np.ndarray:
    """∂L/∂R (m·C,) of the surrogate `loss` (squared, l1, linf) at the residual R (m·C,)."""
    size = R.shape[0]
    if loss == "squared":
        return (2.0 / size) * R
    if loss == "l1":
        return np.sign(R) / size
    g = np.zeros(size)
    p = int(np.argmax(np.abs(R)))
    g[p] = np.sign(R[p])
    return g


class _Seen:
    """Distinct masks scored by `instance.evaluate`, and the best of them."""

    def __init__(self, instance: Any) -> None:
        self.inst = instance
        self.keys: set[bytes] = set()
        self.mask: np.ndarray | None = None
        self.value = np.inf

    def offer(self, mask: np.ndarray) -> None:
        key = mask.tobytes()
        if key in self.keys:
            return
        self.keys.add(key)
        value = self.inst.evaluate(self.inst.check_mask(mask.astype(np.int64)))
        if value < self.value:
            self.mask, self.value = mask.copy(), value


def run_edge_popup(instance: Any, goal: Goal, opts: SolveOptions) -> RawSolution:
    """Top-k unit scores trained by the straight-through estimator (options iters, lr, init,
    surrogate)."""
    clock = Clock(opts.time_limit)
    iters = int(opts.extra.get("iters", ITERS))
    lr = float(opts.extra.get("lr", LR))
    init = str(opts.extra.get("init", "magnitude"))
    surrogate = str(opts.extra.get("surrogate", "squared"))
    loss = "squared" if surrogate == "squared" else instance.loss
    rng = np.random.default_rng(opts.seed)
    A, f = unit_scaled(instance.columns(), instance.offset())
    scores = initial_scores(instance, init, rng)
    seen = _Seen(instance)
    steps, limit = 0, Limit.NONE
    while True:
        mask = top_k(scores, instance.k)
        seen.offer(mask)
        if steps == iters:
            break
        if clock.expired():
            limit = Limit.TIME
            break
        g = A.T @ residual_gradient(A[:, mask].sum(axis=1) - f, loss)
        top = float(np.abs(g).max())
        if top == 0.0 or not np.isfinite(top):
            break
        with np.errstate(over="ignore", invalid="ignore"):  # a huge lr (numpy warned; hunt 31)
            # lr · (g / top), |g / top| <= 1: (lr / top) · g overflowed for lr = 1e308 and no
            # step was taken (hunt 90 L2)
            stepped = scores - lr * (g / top) * np.sign(scores)
        if not np.all(np.isfinite(stepped)):
            break  # scores beyond float64: no further top-k mask can be read from them
        scores = stepped
        steps += 1
    assert seen.mask is not None
    status = Status.TIME_LIMIT if limit is Limit.TIME else Status.FEASIBLE
    note = (f"edge-popup: {steps} steps (lr {lr:g}, init {init}, surrogate {loss}), "
            f"{len(seen.keys)} distinct top-k masks scored by the instance")
    if limit is Limit.TIME:
        note += "; stopped by the time limit"
    return RawSolution(status, mask=instance.check_mask(seen.mask.astype(np.int64)),
                       limit=limit, notes=[note],
                       stats={"steps": steps, "distinct_masks": len(seen.keys)})
