"""Exhaustive search over all 2^n masks: the independent oracle for small instances.

Deliberately a different numeric path from `mitm`: sums are float64 dot products (not scaled
integers), and every mask whose float error lies within the dot product's rounding bound of
the best is re-checked in exact rational arithmetic. Limited to n <= 22 (4 M masks).
"""

from __future__ import annotations

from fractions import Fraction

import numpy as np

from exactprune.instances.errors import InputError
from exactprune.instances.scaling import float_floor
from exactprune.instances.subset_sum import SubsetSumInstance
from exactprune.solvers.clock import Clock
from exactprune.solvers.result import Goal, Objective, RawSolution, SolveOptions, Status

MAX_N = 22
CHUNK_BITS = 16
MAX_CANDIDATES = 100_000


def _bits(start: int, count: int, n: int) -> np.ndarray:
    idx = np.arange(start, start + count, dtype=np.int64)
    return ((idx[:, None] >> np.arange(n, dtype=np.int64)) & 1).astype(bool)


def run_bruteforce(instance: SubsetSumInstance, goal: Goal, opts: SolveOptions) -> RawSolution:
    """Enumerate every mask; certify by exact re-check of all near-best masks."""
    n = instance.n
    if n > MAX_N:
        raise InputError(f"bruteforce enumerates 2^n masks: n = {n} exceeds its limit of "
                         f"{MAX_N} (use mitm)")
    z = instance.target
    # zeros never change a sum: masks that differ only there tie exactly, and every goal
    # prefers them off; enumerating the others alone keeps 2^zeros tied copies out
    live = np.flatnonzero(instance.values != 0.0)
    x = instance.values[live]
    n_live = len(live)
    # |computed − exact| for a dot product of n terms, then minus z: (n+2)·u·(Σ|x| + |z|).
    delta = (n + 3) * 2.0**-53 * (float(np.abs(x).sum()) + abs(z)) * 1.01 + 1e-300
    clock = Clock(opts.time_limit)
    profile = goal.objective is Objective.SPARSEST
    budget = goal.max_kept
    kept_candidates: dict[int, list[tuple[float, int]]] = {}
    best_float: dict[int, float] = {}
    total = 1 << n_live
    chunk = 1 << min(n_live, CHUNK_BITS)
    timed_out = False
    for start in range(0, total, chunk):
        if start and clock.expired():
            timed_out = True
            break
        bits = _bits(start, chunk, n_live)
        err = np.abs(bits.astype(np.float64) @ x - z)
        counts = bits.sum(axis=1)
        if profile:
            groups = counts
        else:
            groups = np.zeros(chunk, dtype=np.int64)
            if budget is not None:
                err = np.where(counts <= budget, err, np.inf)
        for g in np.unique(groups):
            sel = np.flatnonzero(groups == g)
            e = err[sel]
            m = float(e.min())
            if not np.isfinite(m):
                continue
            g = int(g)
            best = min(m, best_float.get(g, np.inf))
            best_float[g] = best
            near = sel[e <= best + 2 * delta]
            lst = kept_candidates.setdefault(g, [])
            lst.extend((float(err[i]), start + int(i)) for i in near)
            if len(lst) > MAX_CANDIDATES:  # drop those a later, better mask left behind
                lst[:] = [c for c in lst if c[0] <= best + 2 * delta]
                if len(lst) > MAX_CANDIDATES:
                    raise InputError(
                        f"bruteforce: more than {MAX_CANDIDATES:,} masks lie within the float64 "
                        f"rounding window (±{delta:.3g}) of the best, too many to certify "
                        "exactly (exact ties, or values of very different magnitudes): use mitm")
    notes = [f"exhaustive over {total if not timed_out else start} masks; float64 sums "
             f"re-checked exactly within ±{delta:.3g}"]
    if n_live < n:
        notes.append(f"{n - n_live} zero values left out (never kept: they change no sum)")

    def mask_of(index: int) -> np.ndarray:
        mask = np.zeros(n, dtype=bool)
        mask[live] = ((index >> np.arange(n_live)) & 1).astype(bool)
        return mask

    exact: dict[int, tuple[Fraction, np.ndarray]] = {}
    eps = Fraction(goal.eps) if profile else None
    checked = 0
    for g in sorted(kept_candidates):
        if timed_out:
            break
        if eps is not None:
            if any(err <= eps for err, _ in exact.values()):
                break  # a smaller count is within eps: larger ones cannot be the answer
            if Fraction(best_float[g]) - Fraction(delta) > eps:
                continue  # every mask of this count errs by more than eps (|float − exact| <= δ)
        limit = best_float[g] + 2 * delta
        for e, index in kept_candidates[g]:
            if e > limit:
                continue
            checked += 1
            # the clock every 256 exact errors: 2^19 of them ran 25 s past a 1 s limit (hunt 64)
            if checked % 256 == 0 and clock.expired():
                timed_out = True
                break
            mask = mask_of(index)
            err_exact = instance.exact_error(mask)
            if g not in exact or err_exact < exact[g][0]:
                exact[g] = (err_exact, mask)
    if timed_out:
        notes.append("time limit before every mask was enumerated and re-checked")
        if profile:
            within = sorted(k for k, (err, _) in exact.items() if err <= eps)
            mask = exact[within[0]][1] if within else None
        elif 0 in exact:
            mask = exact[0][1]
        else:  # the re-check was cut before its first look: the best float candidate
            mask = mask_of(min(kept_candidates[0])[1]) if kept_candidates.get(0) else None
        return RawSolution(Status.TIME_LIMIT, mask=mask, notes=notes)
    if profile:
        feasible = sorted(k for k, (err, _) in exact.items() if err <= eps)
        if not feasible:
            return RawSolution(Status.INFEASIBLE, certified=True, tolerance=0.0, notes=notes)
        k = feasible[0]
        return RawSolution(Status.OPTIMAL, mask=exact[k][1], bound=float(k), certified=True,
                           tolerance=0.0, notes=notes)
    err_exact, mask = exact[0]
    return RawSolution(Status.OPTIMAL, mask=mask, bound=float_floor(err_exact), certified=True,
                       tolerance=0.0, notes=notes)
