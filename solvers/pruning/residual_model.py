"""The vectorised model behind the pruning heuristics (`heuristics.py`, `local_search.py`):
a mask's residuals, and the errors of many candidate masks at once.

With h(x_k) = Σ_i v_i relu((M_i ∘ w_i)·x_k) the sum before the output
activation, flipping one entry changes h by one column delta (K,), so the errors of all M
flips are the column norms of act_out(h + D) − f, D of shape (K, M). For neuron pruning D is
±v_i relu(w_i·x_k); for weight pruning it is v_i (relu(P_ki ± W_ij x_kj) − relu(P_ki)) with
P_ki = (M_i ∘ w_i)·x_k. Swaps of entries of different units add two columns; swaps inside one
unit (weight pruning) are evaluated exactly on their own. All norms (linf, l1, l2) are
supported; the search state is recomputed from the mask after every accepted move, so no
rounding drifts accumulate.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from exactprune.instances.pruning.evaluate import reduce_errors
from exactprune.instances.scaling import abs_parts, descending, norm_parts, product_parts
from exactprune.solvers.clock import Clock

NEURON = "neuron_pruning"
WEIGHT = "weight_pruning"
BOTH_KINDS = frozenset({NEURON, WEIGHT})

SURROGATE_SQUARINGS = 3
"""The linf tie-breaker is mean(|r|^p)^(1/p) with p = 2^SURROGATE_SQUARINGS = 8."""
CHUNK_ENTRIES = 1 << 21
"""Largest number of float64 entries in one temporary candidate block (16 MB)."""


# ------------------------------------------------------------------------------------------
# Vectorised model of the residuals


@dataclass
class State:
    """A mask and what it computes. flat: (M,) bool; pre: (K, n) pre-activations
    (M_i ∘ w_i)·x_k (weight pruning only, else None); contrib: (K, n) v_i·relu(pre);
    h: (K,) sum before the output activation."""

    flat: np.ndarray
    pre: np.ndarray | None
    contrib: np.ndarray
    h: np.ndarray

    @property
    def kept(self) -> int:
        return int(np.count_nonzero(self.flat))


class ResidualModel:
    """The instance as arrays, with vectorised errors of many candidate masks at once.

    Entries ("items") are indexed 0..M−1: unit i for neuron pruning, i·d + j for weight
    (i, j). `unit[t]` is the hidden unit of item t.
    """

    def __init__(self, instance: Any) -> None:
        net = instance.network
        self.kind = instance.kind
        self.X = np.asarray(instance.points, dtype=np.float64)
        self.W = np.asarray(net.hidden_weights, dtype=np.float64)
        self.v = np.asarray(net.output_weights, dtype=np.float64)
        self.f = np.asarray(instance.target_values(), dtype=np.float64)
        self.relu_out = net.output_activation == "relu"
        self.norm = instance.norm
        self.n, self.d = self.W.shape
        self.K = self.X.shape[0]
        self.shape = tuple(instance.mask_shape)
        if self.kind == NEURON:
            self.M = self.n
            self.unit = np.arange(self.n)
            self.columns = np.maximum(self.X @ self.W.T, 0.0) * self.v  # (K, n)
        else:
            self.M = self.n * self.d
            self.unit = np.repeat(np.arange(self.n), self.d)
            self.columns = None
            # XW[k, i, j] = W_ij x_kj: what weight (i, j) adds to unit i's pre-activation.
            self.XW = self.X[:, None, :] * self.W[None, :, :]  # (K, n, d)

    # -- masks and states ------------------------------------------------------------------
    def to_mask(self, flat: np.ndarray) -> np.ndarray:
        return np.asarray(flat, dtype=bool).reshape(self.shape).copy()

    def state(self, flat: np.ndarray) -> State:
        """Recompute everything from the mask (no accumulated rounding)."""
        flat = np.asarray(flat, dtype=bool).copy()
        if self.kind == NEURON:
            contrib = self.columns * flat
            pre = None
        else:
            m = flat.reshape(self.n, self.d)
            pre = self.X @ (self.W * m).T  # (K, n)
            contrib = np.maximum(pre, 0.0) * self.v
        return State(flat, pre, contrib, contrib.sum(axis=1))

    # -- errors -----------------------------------------------------------------------------
    def residuals(self, H: np.ndarray, points: np.ndarray | None = None) -> np.ndarray:
        """|act_out(H) − f| for H of shape (K,) or (K, m); with `points` (indices), H holds
        only those points' rows."""
        f = self.f if points is None else self.f[points]
        f = f if H.ndim == 1 else f[:, None]
        if self.relu_out:
            out = np.maximum(H, 0.0)
            np.subtract(out, f, out=out)
        else:
            out = H - f
        return np.abs(out, out=out)

    def reduce(self, A: np.ndarray) -> np.ndarray:
        """The norm of absolute residuals along axis 0: (K,) -> scalar, (K, m) -> (m,)."""
        return reduce_errors(A, self.norm, axis=0)

    def surrogate(self, A: np.ndarray) -> np.ndarray:
        """Smooth tie-breaker for linf: mean(|r|^p)^(1/p) scaled by the max (no overflow)."""
        mx = A.max(axis=0)
        safe = np.where(mx > 0, mx, 1.0)
        q = A / safe
        for _ in range(SURROGATE_SQUARINGS):
            q = q * q
        return mx * np.mean(q, axis=0) ** (1.0 / 2**SURROGATE_SQUARINGS)

    def pick(self, H: np.ndarray, ok: np.ndarray | None = None,
             ) -> tuple[int, tuple[float, float]]:
        """The best candidate column of H (K, m) among `ok` (bool (m,), default all):
        (index, (error, tie-breaker)), or (−1, (inf, inf)) if none is allowed.

        The order is the error, then (linf only) the smooth surrogate, which is computed only
        for the candidates tied with the best error (within a relative 1e-12)."""
        A = self.residuals(H)
        err = self.reduce(A)
        if ok is not None:
            err = np.where(ok, err, np.inf)
        return self.choose(err, lambda close: self.surrogate(A[:, close]))

    def choose(self, err: np.ndarray, ties: Callable[[np.ndarray], np.ndarray],
               ) -> tuple[int, tuple[float, float]]:
        """`pick`'s rule on candidate errors `err` (m,): the least error, then (linf only) the
        least tie-breaker `ties(close)` among the candidates `close` within a relative 1e-12
        of it; (−1, (inf, inf)) when no error is finite."""
        e0 = float(err.min()) if err.size else np.inf
        if not np.isfinite(e0):
            return -1, (np.inf, np.inf)
        close = np.flatnonzero(err <= e0 + 1e-12 * (abs(e0) + 1e-300))
        if self.norm != "linf":
            return int(close[0]), (e0, e0)
        tie = ties(close)
        j = int(np.argmin(tie))
        return int(close[j]), (float(err[close[j]]), float(tie[j]))

    def error(self, st: State) -> float:
        return float(self.reduce(self.residuals(st.h)))

    def score(self, st: State) -> tuple[float, float]:
        return self.pick(st.h[:, None])[1]

    # -- moves -------------------------------------------------------------------------------
    def flip_deltas(self, st: State) -> np.ndarray:
        """D (K, M): the change of h when item t alone is flipped."""
        if self.kind == NEURON:
            return np.where(st.flat, -self.columns, self.columns)
        sign = np.where(st.flat.reshape(self.n, self.d), -1.0, 1.0)
        new_pre = st.pre[:, :, None] + sign[None] * self.XW  # (K, n, d)
        D = np.maximum(new_pre, 0.0) * self.v[None, :, None] - st.contrib[:, :, None]
        return D.reshape(self.K, self.M)

    def item_deltas(self, st: State, items: np.ndarray,
                    points: np.ndarray | None = None) -> np.ndarray:
        """D (K, len(items)): the columns `items` of :meth:`flip_deltas`, the same numbers
        (the same operations on each entry) without the other columns; with `points`
        (indices), only those points' rows."""
        if self.kind == NEURON:
            cols = self.columns if points is None else self.columns[points]
            D = np.where(st.flat[items], -cols[:, items], cols[:, items])
        else:
            pre, XW, contrib = ((st.pre, self.XW, st.contrib) if points is None else
                                (st.pre[points], self.XW[points], st.contrib[points]))
            i, j = np.divmod(items, self.d)
            sign = np.where(st.flat[items], -1.0, 1.0)
            new_pre = pre[:, i] + sign * XW[:, i, j]
            D = np.maximum(new_pre, 0.0) * self.v[i] - contrib[:, i]
        return D

    def same_unit_pairs(self, st: State, swaps_only: bool) -> tuple[np.ndarray, np.ndarray]:
        """Weight pruning: every pair of flips inside one unit (items_a, items_b), whose
        deltas :meth:`same_unit_deltas` computes exactly (the two changes meet inside one
        relu, so their deltas do not add). swaps_only: only pairs of a kept and an unkept
        weight. Empty for neuron pruning."""
        empty = np.zeros(0, np.int64), np.zeros(0, np.int64)
        if self.kind == NEURON or self.d < 2:
            return empty
        m = st.flat.reshape(self.n, self.d)
        if swaps_only:
            ii, ja, jb = np.nonzero(m[:, :, None] & ~m[:, None, :])
        else:
            upper = np.triu(np.ones((self.d, self.d), dtype=bool), 1)
            ii, ja, jb = np.nonzero(np.broadcast_to(upper, (self.n, self.d, self.d)))
        return ii * self.d + ja, ii * self.d + jb

    def same_unit_deltas(self, st: State, items_a: np.ndarray, items_b: np.ndarray,
                         ) -> np.ndarray:
        """D (K, L): the change of h when the weights items_a[l] and items_b[l] of one unit
        are both flipped."""
        ii, ja = np.divmod(items_a, self.d)
        jb = items_b - ii * self.d
        sign = np.where(st.flat, -1.0, 1.0)
        new_pre = (st.pre[:, ii] + sign[items_a] * self.XW[:, ii, ja]
                   + sign[items_b] * self.XW[:, ii, jb])
        return np.maximum(new_pre, 0.0) * self.v[ii] - st.contrib[:, ii]


def better(a: tuple[float, float], b: tuple[float, float]) -> bool:
    """Score a strictly better than b: a lower error by more than a relative 1e-12, or an
    error not above b's (and within that margin) with a lower tie-breaker by more than a
    relative 1e-12. The error never increases along accepted moves, and rounding noise can
    never make the descent cycle."""
    if not np.isfinite(b[0]):
        return bool(np.isfinite(a[0]))
    if a[0] > b[0]:
        return False
    if a[0] < b[0] - 1e-12 * abs(b[0]):
        return True
    return a[1] < b[1] - 1e-12 * abs(b[1])


# ------------------------------------------------------------------------------------------
# Greedy moves


def best_flip(model: ResidualModel, st: State, allow_add: bool, allow_remove: bool,
              clock: Clock | None = None) -> tuple[int, tuple[float, float]] | None:
    """The best single flip among the allowed ones, and its score (None if none allowed).

    clock: read between blocks; out of time, the best among the flips evaluated so far (at
    least one block). One scan of a weight net of width 2,000, d = 50, K = 2,000 took 10 s
    (hunt 76)."""
    allowed = np.where(st.flat, allow_remove, allow_add)
    if not allowed.any():
        return None
    idx = np.flatnonzero(allowed)
    # in blocks of CHUNK_ENTRIES: the whole (K, M) deltas were 3.6 s and three 320 MB
    # temporaries a step at n = 20,000, K = 2,000 (hunt 71 M2). The choice is `pick`'s over
    # every allowed flip: the error, then for linf the surrogate among the ties.
    block = max(1, CHUNK_ENTRIES // model.K)

    def residuals(items: np.ndarray) -> np.ndarray:
        return model.residuals(st.h[:, None] + model.item_deltas(st, items))

    def blocks(items: np.ndarray, f: Callable[[np.ndarray], np.ndarray],
               timed: bool = False) -> np.ndarray:
        parts: list[np.ndarray] = []
        for a in range(0, len(items), block):
            if timed and parts and clock is not None and clock.expired():
                break
            parts.append(f(residuals(items[a:a + block])))
        return np.concatenate(parts)

    errors = blocks(idx, model.reduce, timed=True)
    idx = idx[:errors.size]
    b, score = model.choose(errors, lambda close: blocks(idx[close], model.surrogate))
    return int(idx[max(b, 0)]), score


def magnitude_parts(kind: str, W: np.ndarray, v: np.ndarray) -> np.ndarray:
    """Each mask entry's magnitude (flattened, C order) as `product_parts` rows (exponent,
    mantissa): |v_i|·||w_i||_2 for a unit (neuron pruning), |v_i|·|W_ij| for a weight. Exact in
    order at any data scale: plain products were inf for weights of 1e200 and 0 for 1e-200, so
    every unit tied and the first ones were kept (hunt 112 M1)."""
    W = np.asarray(W, dtype=np.float64)
    out = abs_parts(v)
    if kind == NEURON:
        return product_parts(out, norm_parts(W, axis=1))
    rows = tuple(np.repeat(a, W.shape[1]) for a in out)
    return product_parts(rows, abs_parts(W.ravel()))


def magnitude_ranking(kind: str, W: np.ndarray, v: np.ndarray) -> np.ndarray:
    """Mask entries (flattened, C order) by decreasing `magnitude_parts`, ties by index."""
    return descending(magnitude_parts(kind, W, v))


def magnitude_trim(model: ResidualModel, flat: np.ndarray, budget: int) -> np.ndarray:
    """`flat` with only its `budget` kept items of largest magnitude (ties by index) still
    kept."""
    kept = np.flatnonzero(flat)
    order = kept[descending(magnitude_parts(model.kind, model.W, model.v)[kept])]
    out = np.zeros_like(flat, dtype=bool)
    out[order[:budget]] = True
    return out


def flipped(model: ResidualModel, st: State, items: Any) -> State:
    flat = st.flat.copy()
    flat[items] = ~flat[items]
    return model.state(flat)


def greedy_add(model: ResidualModel, st: State, budget: int, clock: Clock) -> State:
    """Add the best item while it improves the score and the budget allows."""
    cur = model.score(st)
    while st.kept < budget and not clock.expired():
        best = best_flip(model, st, allow_add=True, allow_remove=False, clock=clock)
        if best is None or not better(best[1], cur):
            break
        st, cur = flipped(model, st, best[0]), best[1]
    return st


MAGNITUDE_TRIM_NOTE = "out of time over max_kept: the rest trimmed to the budget by magnitude"


def greedy_remove(model: ResidualModel, st: State, budget: int, clock: Clock,
                  force_only: bool = False, notes: list[str] | None = None) -> State:
    """Remove the best item while that improves the score, and always while over budget
    (then the least harmful removal). force_only: stop as soon as the budget holds. Out of
    time while over budget, the rest goes by magnitude at once (MAGNITUDE_TRIM_NOTE appended
    to `notes`)."""
    cur = model.score(st)
    while st.kept > 0:
        over = st.kept > budget
        if not over and (force_only or clock.expired()):
            break
        if over and clock.expired():
            # the rest of the way to the budget by magnitude, at once: one best removal per
            # step is O(M·K) each, and width 800 with max_kept 5 ran 34 s past a 0.5 s
            # limit (hunt 73)
            if notes is not None:
                notes.append(MAGNITUDE_TRIM_NOTE)
            return model.state(magnitude_trim(model, st.flat, budget))
        best = best_flip(model, st, allow_add=False, allow_remove=True, clock=clock)
        if best is None or not (over or better(best[1], cur)):
            break
        st, cur = flipped(model, st, best[0]), best[1]
    return st
