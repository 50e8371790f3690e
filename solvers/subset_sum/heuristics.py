"""Subset-sum heuristics behind the same interface as the exact solvers (never certified).

greedy: repeatedly add the value that most reduces the error, until none does.
local_search: from random starts, best-improvement moves (flip one value, or swap a kept
  value for an unkept one) until a local optimum; restarts until the time or restart budget.
random: the best of many uniformly random masks.
All respect max_kept and are seeded (options.seed).
"""

from __future__ import annotations

import time

import numpy as np

from exactprune.instances.subset_sum import SubsetSumInstance
from exactprune.solvers.result import Goal, RawSolution, SolveOptions, Status


def _budget(instance: SubsetSumInstance, goal: Goal) -> int:
    return instance.n if goal.max_kept is None else min(goal.max_kept, instance.n)


def greedy_mask(x: np.ndarray, z: float, budget: int) -> np.ndarray:
    """Forward selection: add the value that most reduces |s − z| while it improves."""
    mask = np.zeros(len(x), dtype=bool)
    s = 0.0
    while mask.sum() < budget:
        cand = np.where(mask, np.inf, np.abs(s + x - z))
        i = int(np.argmin(cand))
        if not cand[i] < abs(s - z):
            break
        mask[i] = True
        s += float(x[i])
    return mask


def run_greedy(instance: SubsetSumInstance, goal: Goal, opts: SolveOptions) -> RawSolution:
    mask = greedy_mask(instance.values, instance.target, _budget(instance, goal))
    return RawSolution(Status.FEASIBLE, mask=mask, notes=["heuristic: greedy forward selection"])


def descend(x: np.ndarray, z: float, mask: np.ndarray, budget: int) -> np.ndarray:
    """Best-improvement local search with flip and swap moves, to a local optimum."""
    mask = mask.copy()
    s = float(x[mask].sum())
    while True:
        cur = abs(s - z)
        kept = int(mask.sum())
        delta = np.where(mask, -x, x)
        flip_err = np.abs(s + delta - z)
        if kept >= budget:
            flip_err = np.where(mask, flip_err, np.inf)  # only removals allowed
        i_flip = int(np.argmin(flip_err))
        best_flip = float(flip_err[i_flip])
        out_idx = np.flatnonzero(mask)
        in_idx = np.flatnonzero(~mask)
        best_swap = np.inf
        if len(out_idx) and len(in_idx):
            swap_err = np.abs(s - x[out_idx][:, None] + x[in_idx][None, :] - z)
            k = int(np.argmin(swap_err))
            best_swap = float(swap_err.flat[k])
            i_out, i_in = out_idx[k // len(in_idx)], in_idx[k % len(in_idx)]
        if min(best_flip, best_swap) >= cur:
            return mask
        if best_flip <= best_swap:
            mask[i_flip] = ~mask[i_flip]
            s += float(delta[i_flip])
        else:
            mask[i_out], mask[i_in] = False, True
            s += float(x[i_in] - x[i_out])


def _random_mask(rng: np.random.Generator, n: int, budget: int) -> np.ndarray:
    mask = rng.random(n) < 0.5
    if mask.sum() > budget:
        keep = rng.choice(np.flatnonzero(mask), size=budget, replace=False)
        mask[:] = False
        mask[keep] = True
    return mask


def run_local_search(instance: SubsetSumInstance, goal: Goal, opts: SolveOptions) -> RawSolution:
    """extra options: restarts (default 50)."""
    x, z = instance.values, instance.target
    budget = _budget(instance, goal)
    rng = np.random.default_rng(opts.seed)
    restarts = int(opts.extra.get("restarts", 50))
    deadline = None if opts.time_limit is None else time.perf_counter() + opts.time_limit
    starts = [greedy_mask(x, z, budget)]
    if opts.warm_start is not None and opts.warm_start.sum() <= budget:
        starts.append(opts.warm_start.copy())
    best, best_err, done = None, np.inf, 0
    for r in range(restarts + len(starts)):
        if r and deadline is not None and time.perf_counter() > deadline:
            break
        start = starts[r] if r < len(starts) else _random_mask(rng, len(x), budget)
        mask = descend(x, z, start, budget)
        err = abs(float(x[mask].sum()) - z)
        done += 1
        if err < best_err:
            best, best_err = mask, err
    return RawSolution(Status.FEASIBLE, mask=best,
                       notes=[f"heuristic: local search, {done} descents (flip and swap)"],
                       stats={"descents": done})


def run_random(instance: SubsetSumInstance, goal: Goal, opts: SolveOptions) -> RawSolution:
    """extra options: samples (default 10000)."""
    x, z = instance.values, instance.target
    budget = _budget(instance, goal)
    rng = np.random.default_rng(opts.seed)
    samples = int(opts.extra.get("samples", 10_000))
    masks = rng.random((samples, len(x))) < 0.5
    if budget < len(x):
        over = masks.sum(axis=1) > budget
        for row in np.flatnonzero(over):
            masks[row] = _random_mask(rng, len(x), budget)
    err = np.abs(masks.astype(np.float64) @ x - z)
    best = masks[int(np.argmin(err))]
    return RawSolution(Status.FEASIBLE, mask=best,
                       notes=[f"heuristic: best of {samples} random masks"])
