"""Pruning heuristics for `neuron_pruning` and `weight_pruning` (never certified).

Every backend returns a keep-mask with status FEASIBLE and no bound; the dispatcher recomputes
its error with the instance's own `evaluate`. All are seeded by `opts.seed`, check
`opts.time_limit` inside their loops, and respect `goal.max_kept` (at most that many kept
units for neuron pruning, kept first-layer weights for weight pruning; counted as the number of
True entries of the mask, as the dispatcher counts them).

Backends (registry names):
  magnitude         rank units by |v_i|·||w_i||_2 (neuron) or weights by |v_i·W_ij| (weight),
                    then keep the best prefix of that ranking (every prefix length 0..M, or
                    0..max_kept, is evaluated; the shortest best prefix wins). Extra option
                    `k`: keep exactly the top k instead (the plain magnitude baseline).
  greedy_forward    start empty (or from the warm start), add the unit / weight that most
                    reduces the error while one does and the budget allows.
  greedy_backward   start full (or from the warm start) and remove the unit / weight whose
                    removal most reduces the error while one does; while the mask keeps more
                    than max_kept, the least harmful removal is made even if it worsens the
                    error (classic backward elimination: the budget decides the last steps,
                    not a magnitude ranking).
  prune_local_search
                    iterated local search, then large-neighbourhood search.
                    Descent (variable neighbourhood): take the best improving flip (one unit /
                    weight in or out; all M flips evaluated at once as h + delta columns);
                    when no flip improves, the best improving pair move (any two flips: a
                    swap, two in or two out, within the budget); stop at a local optimum.
                    For linf the descent orders moves by the max error, ties (within a
                    relative 1e-12) broken by a smooth surrogate mean(|r|^8)^(1/8), which
                    moves the search along the plateaus of the max without ever raising it;
                    pair moves are screened with an exact lower bound (their error on the 8
                    currently worst points) and evaluated in full in increasing bound order,
                    so the best pair is found without evaluating all of them.
                    Starts: the greedy_forward mask, the warm start (trimmed greedily if over
                    max_kept), then `restarts` seeded random masks (default 20). From each
                    start's local optimum, `kicks` perturbations (default 20): flip 2..M/16
                    entries (half of them among those acting on the current worst point),
                    descend, keep the result if it is not worse.
                    Then `lns_rounds` (default 100) exact re-optimisations of `lns_size`
                    entries (default 12, all 2^12 assignments enumerated, exact through each
                    unit's relu), chosen as units with similar kink directions, entries acting
                    on the worst points, or at random; each followed by a descent.
                    Stops early at the time limit. Measured: optimal on small instances
                    (n <= 16), but 1.1-2x the optimum on d = 2, K = 256 circle instances with
                    n = 64 (identity output, linf). The landscape has tiny basins: a descent
                    from the optimum with 3 random flips returns to it in only 1/3 of trials,
                    as expected from the problem's subset-sum core.
  random_search     the best of `samples` seeded random masks (default 2000): each sample
                    draws a keep probability p ~ Uniform(0, 1) then keeps each entry with
                    probability p (with max_kept: a uniform number kept in 0..max_kept, then a
                    uniform subset of that size). The warm start is one more candidate.
  ticket            the constructive lottery ticket of Pensia et al. (weight pruning only,
                    single-neuron target): solvers/pruning/constructive_ticket.py.

Vectorised evaluation: with h(x_k) = Σ_i v_i relu((M_i ∘ w_i)·x_k) the sum before the output
activation, flipping one entry changes h by one column delta (K,), so the errors of all M
flips are the column norms of act_out(h + D) − f, D of shape (K, M). For neuron pruning D is
±v_i relu(w_i·x_k); for weight pruning it is v_i (relu(P_ki ± W_ij x_kj) − relu(P_ki)) with
P_ki = (M_i ∘ w_i)·x_k. Swaps of entries of different units add two columns; swaps inside one
unit (weight pruning) are evaluated exactly on their own. All norms (linf, l1, l2) are
supported; the search state is recomputed from the mask after every accepted move, so no
rounding drifts accumulate.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from exactprune.instances.errors import InputError
from exactprune.instances.pruning.evaluate import reduce_errors
from exactprune.solvers.clock import Clock
from exactprune.solvers.result import Goal, RawSolution, SolveOptions, Status

NEURON = "neuron_pruning"
WEIGHT = "weight_pruning"
BOTH_KINDS = frozenset({NEURON, WEIGHT})

SURROGATE_SQUARINGS = 3
"""The linf tie-breaker is mean(|r|^p)^(1/p) with p = 2^SURROGATE_SQUARINGS = 8."""
SCREEN_POINTS = 8
"""Worst points used to screen swap candidates for linf (exact lower bound)."""
CHUNK_ENTRIES = 1 << 21
"""Largest number of float64 entries in one temporary candidate block (16 MB)."""
MAX_LNS_SIZE = 16
"""Largest `lns_size` option (2^16 assignments per re-optimisation)."""
LNS_BLOCK_BITS = 23
"""The large-neighbourhood step holds 2^size x K floats: size is cut to keep that <= 2^23."""


# ------------------------------------------------------------------------------------------
# Options and budgets


def int_option(opts: SolveOptions, name: str, default: int | None, low: int) -> int | None:
    """The extra option `name` as an int >= low (InputError otherwise)."""
    raw = opts.extra.get(name, default)
    if raw is None:
        return None
    if isinstance(raw, bool) or not isinstance(raw, int | np.integer):
        raise InputError(f"option {name} must be an integer, got {raw!r}")
    if raw < low:
        raise InputError(f"option {name} must be >= {low}, got {raw}")
    return int(raw)


def _check_kind(instance: Any, name: str) -> None:
    if getattr(instance, "kind", None) not in BOTH_KINDS:
        raise InputError(f"{name} solves neuron_pruning and weight_pruning instances, "
                         f"not {getattr(instance, 'kind', type(instance).__name__)!r}")


def _budget(instance: Any, goal: Goal) -> int:
    """Most entries a mask may keep (mask size without max_kept)."""
    size = int(instance.mask_size)
    return size if goal.max_kept is None else min(int(goal.max_kept), size)


# ------------------------------------------------------------------------------------------
# Vectorised model of the residuals


@dataclass
class _State:
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


class _ResidualModel:
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

    def state(self, flat: np.ndarray) -> _State:
        """Recompute everything from the mask (no accumulated rounding)."""
        flat = np.asarray(flat, dtype=bool).copy()
        if self.kind == NEURON:
            contrib = self.columns * flat
            pre = None
        else:
            m = flat.reshape(self.n, self.d)
            pre = self.X @ (self.W * m).T  # (K, n)
            contrib = np.maximum(pre, 0.0) * self.v
        return _State(flat, pre, contrib, contrib.sum(axis=1))

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
        e0 = float(err.min()) if err.size else np.inf
        if not np.isfinite(e0):
            return -1, (np.inf, np.inf)
        close = np.flatnonzero(err <= e0 + 1e-12 * (abs(e0) + 1e-300))
        if self.norm != "linf":
            return int(close[0]), (e0, e0)
        tie = self.surrogate(A[:, close])
        j = int(np.argmin(tie))
        return int(close[j]), (float(err[close[j]]), float(tie[j]))

    def error(self, st: _State) -> float:
        return float(self.reduce(self.residuals(st.h)))

    def score(self, st: _State) -> tuple[float, float]:
        return self.pick(st.h[:, None])[1]

    # -- moves -------------------------------------------------------------------------------
    def flip_deltas(self, st: _State) -> np.ndarray:
        """D (K, M): the change of h when item t alone is flipped."""
        if self.kind == NEURON:
            return np.where(st.flat, -self.columns, self.columns)
        sign = np.where(st.flat.reshape(self.n, self.d), -1.0, 1.0)
        new_pre = st.pre[:, :, None] + sign[None] * self.XW  # (K, n, d)
        D = np.maximum(new_pre, 0.0) * self.v[None, :, None] - st.contrib[:, :, None]
        return D.reshape(self.K, self.M)

    def same_unit_pairs(self, st: _State, swaps_only: bool,
                        ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Weight pruning: every pair of flips inside one unit, computed exactly (the two
        changes meet inside one relu, so their deltas do not add). swaps_only: only pairs of
        a kept and an unkept weight. Returns (items_a, items_b, deltas (K, L))."""
        empty = np.zeros(0, np.int64), np.zeros(0, np.int64), np.zeros((self.K, 0))
        if self.kind == NEURON or self.d < 2:
            return empty
        m = st.flat.reshape(self.n, self.d)
        if swaps_only:
            ii, ja, jb = np.nonzero(m[:, :, None] & ~m[:, None, :])
        else:
            upper = np.triu(np.ones((self.d, self.d), dtype=bool), 1)
            ii, ja, jb = np.nonzero(np.broadcast_to(upper, (self.n, self.d, self.d)))
        if ii.size == 0:
            return empty
        sign = np.where(m, -1.0, 1.0)
        new_pre = (st.pre[:, ii] + sign[ii, ja] * self.XW[:, ii, ja]
                   + sign[ii, jb] * self.XW[:, ii, jb])
        D = np.maximum(new_pre, 0.0) * self.v[ii] - st.contrib[:, ii]
        return ii * self.d + ja, ii * self.d + jb, D


def _better(a: tuple[float, float], b: tuple[float, float]) -> bool:
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


def _best_flip(model: _ResidualModel, st: _State, allow_add: bool, allow_remove: bool,
               ) -> tuple[int, tuple[float, float]] | None:
    """The best single flip among the allowed ones, and its score (None if none allowed)."""
    allowed = np.where(st.flat, allow_remove, allow_add)
    if not allowed.any():
        return None
    idx = np.flatnonzero(allowed)
    D = model.flip_deltas(st)[:, idx]
    b, sc = model.pick(st.h[:, None] + D)
    return int(idx[b]), sc


def _flip(model: _ResidualModel, st: _State, items: Any) -> _State:
    flat = st.flat.copy()
    flat[items] = ~flat[items]
    return model.state(flat)


def _forward(model: _ResidualModel, st: _State, budget: int, clock: Clock) -> _State:
    """Add the best item while it improves the score and the budget allows."""
    cur = model.score(st)
    while st.kept < budget and not clock.expired():
        best = _best_flip(model, st, allow_add=True, allow_remove=False)
        if best is None or not _better(best[1], cur):
            break
        st, cur = _flip(model, st, best[0]), best[1]
    return st


def _backward(model: _ResidualModel, st: _State, budget: int, clock: Clock,
              force_only: bool = False) -> _State:
    """Remove the best item while that improves the score, and always while over budget
    (then the least harmful removal). force_only: stop as soon as the budget holds."""
    cur = model.score(st)
    while st.kept > 0:
        over = st.kept > budget
        if not over and (force_only or clock.expired()):
            break
        best = _best_flip(model, st, allow_add=False, allow_remove=True)
        if best is None or not (over or _better(best[1], cur)):
            break
        st, cur = _flip(model, st, best[0]), best[1]
    return st


# ------------------------------------------------------------------------------------------
# Local search


def _best_pair(model: _ResidualModel, st: _State, cur: tuple[float, float], D: np.ndarray,
               budget: int, swaps_only: bool) -> tuple[int, int, tuple[float, float]] | None:
    """The best improving move that flips two entries, or None.

    swaps_only: one kept entry out and one unkept entry in (the count is unchanged);
    otherwise every pair (two in, two out, or a swap) whose count stays within `budget`.
    Pairs of entries of different units change h by D[:, a] + D[:, b]; pairs inside one unit
    (weight pruning) are computed exactly. For linf, a pair can only beat the current error e
    if it brings every one of the current worst points below e, so the error on those points
    (an exact lower bound) screens the candidates, and full evaluations run in increasing
    bound order until the bound exceeds the best found.
    """
    best: tuple[int, int, tuple[float, float]] | None = None
    best_score = cur
    change = np.where(st.flat, -1, 1)

    sa, sb, Ds = model.same_unit_pairs(st, swaps_only)
    if sa.size:
        ok = st.kept + change[sa] + change[sb] <= budget
        if ok.any():
            k, sc = model.pick(st.h[:, None] + Ds[:, ok])
            if _better(sc, best_score):
                best, best_score = (int(sa[ok][k]), int(sb[ok][k]), sc), sc
    if swaps_only:
        a_items, b_items = np.flatnonzero(st.flat), np.flatnonzero(~st.flat)
    else:
        a_items = b_items = np.arange(model.M)
    if a_items.size == 0 or b_items.size == 0:
        return best
    A, B = a_items.size, b_items.size
    valid = model.unit[a_items][:, None] != model.unit[b_items][None, :]  # (A, B)
    if not swaps_only:
        valid &= a_items[:, None] < b_items[None, :]
        valid &= st.kept + change[a_items][:, None] + change[b_items][None, :] <= budget
    Da, Db = D[:, a_items], D[:, b_items]

    if model.norm == "linf":
        r_now = model.residuals(st.h)
        s = min(SCREEN_POINTS, model.K)
        worst = np.argpartition(-r_now, s - 1)[:s]
        Hs = st.h[worst][:, None, None] + Da[worst][:, :, None] + Db[worst][:, None, :]
        lb = model.residuals(Hs.reshape(s, -1), worst).max(axis=0)
        lb[~valid.ravel()] = np.inf
        cand = np.flatnonzero(lb <= best_score[0] * (1 + 1e-12))
        if cand.size == 0:
            return best
        cand = cand[np.argsort(lb[cand], kind="stable")]
        max_step = max(1, CHUNK_ENTRIES // model.K)
        c0, step = 0, 64
        while c0 < cand.size:  # growing chunks: the best pair is usually among the first
            chunk = cand[c0:c0 + step]
            c0, step = c0 + step, min(2 * step, max_step)
            if lb[chunk[0]] > best_score[0] * (1 + 1e-12):
                break
            a, b = chunk // B, chunk % B
            k, sc = model.pick(st.h[:, None] + Da[:, a] + Db[:, b])
            if _better(sc, best_score):
                best, best_score = (int(a_items[a[k]]), int(b_items[b[k]]), sc), sc
        return best

    rows = max(1, CHUNK_ENTRIES // max(1, model.K * B))
    for a0 in range(0, A, rows):
        a1 = min(A, a0 + rows)
        ok = valid[a0:a1].ravel()
        if not ok.any():
            continue
        H = st.h[:, None, None] + Da[:, a0:a1, None] + Db[:, None, :]  # (K, a, B)
        k, sc = model.pick(H.reshape(model.K, -1), ok)
        if k < 0:
            continue
        if _better(sc, best_score):
            best = (int(a_items[a0 + k // B]), int(b_items[k % B]), sc)
            best_score = sc
    return best


def _descend(model: _ResidualModel, st: _State, budget: int, clock: Clock,
             counter: dict[str, int]) -> _State:
    """Variable-neighbourhood descent: best improving flip, else best improving swap."""
    cur = model.score(st)
    while not clock.expired():
        D = model.flip_deltas(st)
        allowed = np.where(st.flat, True, st.kept < budget)
        k, sc = model.pick(st.h[:, None] + D, allowed)
        counter["evaluations"] += model.M
        if k >= 0 and _better(sc, cur):
            st, cur = _flip(model, st, [k]), sc
            counter["moves"] += 1
            continue
        sw = _best_pair(model, st, cur, D, budget, swaps_only=False)
        counter["swap_scans"] += 1
        if sw is None:
            break
        st, cur = _flip(model, st, [sw[0], sw[1]]), sw[2]
        counter["moves"] += 1
    return st


def _random_flat(rng: np.random.Generator, size: int, budget: int) -> np.ndarray:
    """A random mask: keep probability p ~ U(0, 1), or (under a budget smaller than the
    mask) a uniform number kept in 0..budget and a uniform subset of that size."""
    if budget >= size:
        return rng.random(size) < rng.random()
    flat = np.zeros(size, dtype=bool)
    k = int(rng.integers(0, budget + 1))
    flat[rng.choice(size, size=k, replace=False)] = True
    return flat


def _kick(model: _ResidualModel, st: _State, rng: np.random.Generator, budget: int) -> _State:
    """Flip a few entries: 2..max(3, M/16) of them, about half among the entries whose flip
    changes h at the current worst point, then remove at random while over budget."""
    size = model.M
    r = int(rng.integers(2, max(3, size // 16) + 1))
    worst = int(np.argmax(model.residuals(st.h)))
    D = model.flip_deltas(st)
    relevant = np.flatnonzero(D[worst] != 0.0)
    picks: set[int] = set()
    n_rel = min(relevant.size, (r + 1) // 2)
    if n_rel:
        picks.update(int(t) for t in rng.choice(relevant, size=n_rel, replace=False))
    while len(picks) < min(r, size):
        picks.add(int(rng.integers(0, size)))
    flat = st.flat.copy()
    idx = np.fromiter(picks, dtype=np.int64)
    flat[idx] = ~flat[idx]
    over = int(flat.sum()) - budget
    if over > 0:
        kept = np.flatnonzero(flat)
        flat[rng.choice(kept, size=over, replace=False)] = False
    return model.state(flat)


# ------------------------------------------------------------------------------------------
# Large-neighbourhood search: exact re-optimisation of a few entries


def _unit_options(model: _ResidualModel, st: _State, unit: int, items: np.ndarray,
                  ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Every assignment of `items` (entries of one unit; the unit's other entries fixed).

    Returns (assignments (2^s, s) bool, contributions (K, 2^s) of the unit, kept counts of
    the items (2^s,)).
    """
    s = items.size
    assign = ((np.arange(1 << s)[:, None] >> np.arange(s)) & 1).astype(bool)
    if model.kind == NEURON:  # one item: the unit itself
        return assign, model.columns[:, [unit, unit]] * assign[:, 0], assign[:, 0].astype(int)
    js = items - unit * model.d
    cur = st.flat[items]
    base = st.pre[:, unit] - model.XW[:, unit, js] @ cur.astype(np.float64)
    pre = base[:, None] + model.XW[:, unit, js] @ assign.T.astype(np.float64)
    return assign, np.maximum(pre, 0.0) * model.v[unit], assign.sum(axis=1)


def _lns_step(model: _ResidualModel, st: _State, items: np.ndarray, budget: int,
              ) -> tuple[np.ndarray, tuple[float, float]] | None:
    """The best assignment of the entries `items` with the others fixed, by enumerating all
    2^len(items) of them (exact inside one unit: each unit's options are computed through its
    relu). Returns (new flat mask, score), or None if no assignment fits the budget."""
    items = np.unique(items)
    units = np.unique(model.unit[items])
    h = st.h - st.contrib[:, units].sum(axis=1)
    H = h[:, None]
    count = np.array([st.kept - int(st.flat[items].sum())])
    parts: list[tuple[np.ndarray, np.ndarray]] = []
    for u in units:
        its = items[model.unit[items] == u]
        assign, contrib, kept = _unit_options(model, st, int(u), its)
        H = (H[:, :, None] + contrib[:, None, :]).reshape(model.K, -1)
        count = (count[:, None] + kept[None, :]).ravel()
        parts.append((its, assign))
    k, sc = model.pick(H, count <= budget)
    if k < 0:
        return None
    flat = st.flat.copy()
    # decode k: the last unit varies fastest
    for its, assign in reversed(parts):
        k, a = divmod(k, assign.shape[0])
        flat[its] = assign[a]
    return flat, sc


def _lns_items(model: _ResidualModel, st: _State, rng: np.random.Generator, size: int,
               directions: np.ndarray) -> np.ndarray:
    """Entries to re-optimise together (about `size` of them), by one of three rules:
    units with kink directions close to a random unit's (|cos| of w_i, since the kinks of
    units with opposite directions coincide), entries acting on the current worst points, or
    uniformly random entries. Whole units are taken for weight pruning (d entries each)."""
    per = 1 if model.kind == NEURON else model.d
    n_units = max(1, size // per)
    rule = int(rng.integers(3))
    if rule == 0:
        c = int(rng.integers(model.n))
        sim = np.abs(directions @ directions[c]) + 0.15 * rng.random(model.n)
        units = np.argsort(-sim)[:n_units]
    elif rule == 1:
        r = model.residuals(st.h)
        top = np.argsort(-r)[: int(rng.integers(1, 6))]
        D = model.flip_deltas(st)
        score = np.abs(D[top]).sum(axis=0) * rng.random(model.M) ** 2
        if per > 1:
            score = score.reshape(model.n, per).sum(axis=1)
        units = np.argsort(-score)[:n_units]
    else:
        units = rng.choice(model.n, size=min(n_units, model.n), replace=False)
    if per == 1:
        return np.sort(units)
    items = (units[:, None] * per + np.arange(per)[None, :]).ravel()
    if items.size > size:  # d > size: part of one unit's weights
        items = rng.choice(items, size=size, replace=False)
    return np.sort(items)


def _directions(model: _ResidualModel) -> np.ndarray:
    norms = np.linalg.norm(model.W, axis=1)
    return model.W / np.where(norms > 0, norms, 1.0)[:, None]


# ------------------------------------------------------------------------------------------
# Backends


def _warm(model: _ResidualModel, opts: SolveOptions) -> np.ndarray | None:
    if opts.warm_start is None:
        return None
    ws = np.asarray(opts.warm_start, dtype=bool)
    if ws.shape != model.shape:
        raise InputError(f"warm start must have shape {model.shape}, got {ws.shape}")
    return ws.reshape(-1)


def _result(model: _ResidualModel, st: _State, what: str, notes: list[str] | None = None,
            stats: dict[str, Any] | None = None, stopped: bool = False) -> RawSolution:
    """The heuristic's mask; status time_limit when the time limit cut it short (`stopped`),
    as every kind's heuristics report it."""
    return RawSolution(Status.TIME_LIMIT if stopped else Status.FEASIBLE,
                       mask=model.to_mask(st.flat),
                       solver_objective=None,
                       notes=[f"heuristic: {what}", *(notes or [])], stats=dict(stats or {}))


def magnitude_order(instance: Any) -> np.ndarray:
    """Mask entries (flattened, C order) by decreasing magnitude score, ties by index.

    Neuron pruning: |v_i|·||w_i||_2; weight pruning: |v_i·W_ij|.
    """
    W = np.asarray(instance.network.hidden_weights)
    v = np.asarray(instance.network.output_weights)
    if instance.kind == NEURON:
        score = np.abs(v) * np.linalg.norm(W, axis=1)
    else:
        score = (np.abs(v)[:, None] * np.abs(W)).ravel()
    return np.argsort(-score, kind="stable")


def _prefix_errors(model: _ResidualModel, order: np.ndarray, upto: int,
                   clock: Clock) -> np.ndarray:
    """Errors of the prefixes of length 0..upto of `order` (fewer if time runs out)."""
    errs = [model.error(model.state(np.zeros(model.M, dtype=bool)))]
    if model.kind == NEURON:
        block = max(1, CHUNK_ENTRIES // model.K)
        h = np.zeros(model.K)
        for s0 in range(0, upto, block):
            if clock.expired():
                break
            cols = model.columns[:, order[s0:min(upto, s0 + block)]]
            H = h[:, None] + np.cumsum(cols, axis=1)
            errs.extend(model.reduce(model.residuals(H)).tolist())
            h = H[:, -1].copy()
        return np.asarray(errs)
    pre = np.zeros((model.K, model.n))
    h = np.zeros(model.K)
    for t in order[:upto]:
        if clock.expired():
            break
        i, j = divmod(int(t), model.d)
        old = model.v[i] * np.maximum(pre[:, i], 0.0)
        pre[:, i] += model.XW[:, i, j]
        h = h + (model.v[i] * np.maximum(pre[:, i], 0.0) - old)
        errs.append(float(model.reduce(model.residuals(h))))
    return np.asarray(errs)


def run_magnitude(instance: Any, goal: Goal, opts: SolveOptions) -> RawSolution:
    """Magnitude pruning; extra option `k` keeps exactly the top k (k <= max_kept)."""
    _check_kind(instance, "magnitude")
    model = _ResidualModel(instance)
    budget = _budget(instance, goal)
    order = magnitude_order(instance)
    k = int_option(opts, "k", None, 0)
    if k is not None:
        if k > model.M:
            raise InputError(f"option k = {k} exceeds the mask size {model.M}")
        if k > budget:
            raise InputError(f"option k = {k} exceeds max_kept = {budget}")
        flat = np.zeros(model.M, dtype=bool)
        flat[order[:k]] = True
        return _result(model, model.state(flat), f"magnitude, top {k} kept")
    clock = Clock(opts.time_limit)
    errs = _prefix_errors(model, order, budget, clock)
    best = int(np.argmin(errs))  # first (shortest) best prefix
    flat = np.zeros(model.M, dtype=bool)
    flat[order[:best]] = True
    notes = [f"best of {errs.size} magnitude prefixes (lengths 0..{errs.size - 1}): "
             f"keeps the top {best}"]
    stopped = errs.size <= budget
    if stopped:
        notes.append("time limit reached before every prefix was evaluated")
    return _result(model, model.state(flat), "magnitude pruning", notes,
                   {"prefixes": int(errs.size), "k": best}, stopped)


def _start_state(model: _ResidualModel, opts: SolveOptions, default: np.ndarray, budget: int,
                 clock: Clock) -> tuple[_State, list[str]]:
    ws = _warm(model, opts)
    if ws is None:
        return model.state(default), []
    st = model.state(ws)
    notes = ["started from the warm start"]
    if st.kept > budget:
        st = _backward(model, st, budget, clock, force_only=True)
        notes.append("warm start over max_kept: greedily trimmed to the budget")
    return st, notes


def _greedy_forward_state(model: _ResidualModel, budget: int, clock: Clock,
                         start: _State | None = None) -> _State:
    """Forward selection from `start` (default: the empty mask)."""
    st = model.state(np.zeros(model.M, dtype=bool)) if start is None else start
    return _forward(model, st, budget, clock)


def run_greedy_forward(instance: Any, goal: Goal, opts: SolveOptions) -> RawSolution:
    """Greedy forward selection (start empty or from the warm start)."""
    _check_kind(instance, "greedy_forward")
    model = _ResidualModel(instance)
    budget = _budget(instance, goal)
    clock = Clock(opts.time_limit)
    st, notes = _start_state(model, opts, np.zeros(model.M, dtype=bool), budget, clock)
    st = _forward(model, st, budget, clock)
    stopped = clock.expired()
    if stopped:
        notes.append("time limit reached: stopped early")
    return _result(model, st, "greedy forward selection", notes, stopped=stopped)


def run_greedy_backward(instance: Any, goal: Goal, opts: SolveOptions) -> RawSolution:
    """Greedy backward elimination from the full mask (or the warm start)."""
    _check_kind(instance, "greedy_backward")
    model = _ResidualModel(instance)
    budget = _budget(instance, goal)
    clock = Clock(opts.time_limit)
    ws = _warm(model, opts)
    st = model.state(np.ones(model.M, dtype=bool) if ws is None else ws)
    notes = [] if ws is None else ["started from the warm start"]
    st = _backward(model, st, budget, clock)
    stopped = clock.expired()
    if stopped:
        # the budget always holds: the loop only stops early once it does
        notes.append("time limit reached: stopped early")
    return _result(model, st, "greedy backward elimination", notes, stopped=stopped)


def run_local_search(instance: Any, goal: Goal, opts: SolveOptions) -> RawSolution:
    """Iterated local search, then large-neighbourhood search (see the module docstring).

    Extra options: restarts (default 20), kicks (default 20), lns_rounds (default 100),
    lns_size (default 12, at most 16).
    """
    _check_kind(instance, "prune_local_search")
    restarts = int_option(opts, "restarts", 20, 0)
    kicks = int_option(opts, "kicks", 20, 0)
    lns_rounds = int_option(opts, "lns_rounds", 100, 0)
    lns_size = int_option(opts, "lns_size", 12, 1)
    if lns_size > MAX_LNS_SIZE:
        raise InputError(f"option lns_size enumerates 2^lns_size assignments: at most "
                         f"{MAX_LNS_SIZE}, got {lns_size}")
    model = _ResidualModel(instance)
    # memory: 2^size candidates times K points in one block
    lns_size = max(1, min(lns_size, LNS_BLOCK_BITS - int(np.ceil(np.log2(model.K)))))
    budget = _budget(instance, goal)
    clock = Clock(opts.time_limit)
    rng = np.random.default_rng(opts.seed)
    counter = {"evaluations": 0, "moves": 0, "swap_scans": 0, "descents": 0, "kicks": 0}

    starts: list[tuple[str, _State]] = []
    greedy = _greedy_forward_state(model, budget, clock)
    starts.append(("greedy", greedy))
    ws = _warm(model, opts)
    if ws is not None:
        st = model.state(ws)
        if st.kept > budget:
            st = _backward(model, st, budget, clock, force_only=True)
        starts.append(("warm start", st))

    best = greedy
    best_score = model.score(greedy)
    best_from = "greedy"
    done_starts = 0
    total = len(starts) + (restarts or 0)
    for r in range(total):
        if clock.expired():
            break
        label, st = starts[r] if r < len(starts) else (
            f"random start {r - len(starts)}", model.state(_random_flat(rng, model.M, budget)))
        cur = _descend(model, st, budget, clock, counter)
        counter["descents"] += 1
        cur_score = model.score(cur)
        for _ in range(kicks or 0):
            if clock.expired():
                break
            trial = _descend(model, _kick(model, cur, rng, budget), budget, clock, counter)
            counter["descents"] += 1
            counter["kicks"] += 1
            t_score = model.score(trial)
            if not _better(cur_score, t_score):  # accept if not worse
                cur, cur_score = trial, t_score
        done_starts += 1
        if _better(cur_score, best_score):
            best, best_score, best_from = cur, cur_score, label
    lns_done = 0
    if lns_rounds and model.M > 1:
        size = min(lns_size, model.M)
        directions = _directions(model)
        cur, cur_score = best, best_score
        for _ in range(lns_rounds):
            if clock.expired():
                break
            items = _lns_items(model, cur, rng, size, directions)
            out = _lns_step(model, cur, items, budget)
            lns_done += 1
            if out is None or _better(cur_score, out[1]):
                continue
            cur = _descend(model, model.state(out[0]), budget, clock, counter)
            cur_score = model.score(cur)  # accepted if not worse: moves along plateaus
            if _better(cur_score, best_score):
                best, best_score, best_from = cur, cur_score, "large-neighbourhood search"
    notes = [f"{done_starts} of {total} starts (greedy, warm start, random) with up to "
             f"{kicks} kicks each, then {lns_done} exact re-optimisations of "
             f"{lns_size} entries; best from {best_from}"]
    stopped = clock.expired()
    if stopped:
        notes.append("time limit reached: stopped early")
    return _result(model, best, "iterated local search (flip and swap moves)", notes,
                   {**counter, "starts": done_starts, "lns_rounds": lns_done}, stopped)


def run_random_search(instance: Any, goal: Goal, opts: SolveOptions) -> RawSolution:
    """Best of `samples` (default 2000) seeded random masks (and the warm start)."""
    _check_kind(instance, "random_search")
    samples = int_option(opts, "samples", 2000, 1)
    model = _ResidualModel(instance)
    budget = _budget(instance, goal)
    clock = Clock(opts.time_limit)
    rng = np.random.default_rng(opts.seed)
    ws = _warm(model, opts)
    best_flat = np.zeros(model.M, dtype=bool)
    best_err = model.error(model.state(best_flat))
    stats: dict[str, Any] = {}
    if ws is not None:
        stats["warm_start"] = "accepted" if int(ws.sum()) <= budget else "rejected"
    if ws is not None and int(ws.sum()) <= budget:
        e = model.error(model.state(ws))
        if e < best_err:
            best_flat, best_err = ws.copy(), e
    per_mask = model.K * model.n
    block = max(1, min(samples, CHUNK_ENTRIES // per_mask))
    done = 0
    while done < samples:
        if done and clock.expired():
            break
        b = min(block, samples - done)
        flats = np.stack([_random_flat(rng, model.M, budget) for _ in range(b)])
        err = instance.errors(flats.reshape(b, *model.shape))
        k = int(np.argmin(err))
        if err[k] < best_err:
            best_flat, best_err = flats[k].copy(), float(err[k])
        done += b
    notes = [f"best of {done} random masks"]
    if done < samples:
        notes.append("time limit reached: stopped early")
    if stats.get("warm_start") == "rejected":
        notes.append("warm start rejected: it keeps more than max_kept")
    return _result(model, model.state(best_flat), "random search", notes,
                   {"samples": done, **stats}, done < samples)


__all__ = [
    "Clock",
    "int_option",
    "magnitude_order",
    "run_greedy_backward",
    "run_greedy_forward",
    "run_local_search",
    "run_magnitude",
    "run_random_search",
]

