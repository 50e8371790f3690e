"""Subset-sum heuristics behind the same interface as the exact solvers (never certified).

greedy: repeatedly add the value that most reduces the error, until none does.
local_search: from random starts, best-improvement moves (flip one value, or swap a kept
  value for an unkept one) until a local optimum; restarts until the time or restart budget.
random: the best of many uniformly random masks.
All respect max_kept and are seeded (options.seed).
"""

from __future__ import annotations

import math

import numpy as np

from exactprune.instances.subset_sum import SubsetSumInstance
from exactprune.solvers.clock import Clock, passed
from exactprune.solvers.result import Goal, RawSolution, SolveOptions, Status

_QUIET_FLOATS = np.errstate(over="ignore", invalid="ignore", under="ignore")
"""The searches rank moves in float sums of `ranking_values` (scaled, so they cannot overflow;
values far below the largest may underflow there, which only blurs the ranking): the reported
error is the instance's own exact evaluation of the mask."""


def ranking_values(instance: SubsetSumInstance) -> tuple[np.ndarray, float]:
    """The values and target divided by a power of two at least max |x|, |z| (exact, unless
    the quotient underflows): sums of n of them stay within n in magnitude. Unscaled, values
    near 1e308 summed to inf and then NaN, and the descent never stopped."""
    top = max(float(np.max(np.abs(instance.values), initial=0.0)), abs(instance.target))
    exponent = math.frexp(top)[1] if top > 0 else 0
    return np.ldexp(instance.values, -exponent), math.ldexp(instance.target, -exponent)


def _budget(instance: SubsetSumInstance, goal: Goal) -> int:
    return instance.n if goal.max_kept is None else min(goal.max_kept, instance.n)


def greedy_mask(x: np.ndarray, z: float, budget: int,
                deadline: float | None = None) -> np.ndarray:
    """Forward selection: add the value that most reduces |s − z| while it improves (and
    until `deadline`, a time.perf_counter() value)."""
    mask = np.zeros(len(x), dtype=bool)
    s = 0.0
    while mask.sum() < budget:
        if passed(deadline):
            break
        cand = np.where(mask, np.inf, np.abs(s + x - z))
        i = int(np.argmin(cand))
        if not cand[i] < abs(s - z):
            break
        mask[i] = True
        s += float(x[i])
    return mask


@_QUIET_FLOATS
def run_greedy(instance: SubsetSumInstance, goal: Goal, opts: SolveOptions) -> RawSolution:
    x, z = ranking_values(instance)
    mask = greedy_mask(x, z, _budget(instance, goal), Clock(opts.time_limit).deadline)
    return RawSolution(Status.FEASIBLE, mask=mask, notes=["heuristic: greedy forward selection"])


def descend(x: np.ndarray, z: float, mask: np.ndarray, budget: int,
            deadline: float | None = None) -> np.ndarray:
    """Best-improvement local search with flip and swap moves, to a local optimum (or until
    `deadline`, a time.perf_counter() value)."""
    mask = mask.copy()
    s = float(x[mask].sum())
    while not passed(deadline):
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
    return mask


def _random_mask(rng: np.random.Generator, n: int, budget: int) -> np.ndarray:
    mask = rng.random(n) < 0.5
    if mask.sum() > budget:
        keep = rng.choice(np.flatnonzero(mask), size=budget, replace=False)
        mask[:] = False
        mask[keep] = True
    return mask


@_QUIET_FLOATS
def run_local_search(instance: SubsetSumInstance, goal: Goal, opts: SolveOptions) -> RawSolution:
    """extra options: restarts (default 50)."""
    x, z = ranking_values(instance)
    budget = _budget(instance, goal)
    rng = np.random.default_rng(opts.seed)
    restarts = int(opts.extra.get("restarts", 50))
    clock = Clock(opts.time_limit)
    starts = [greedy_mask(x, z, budget, clock.deadline)]
    stats: dict[str, object] = {}
    if opts.warm_start is not None:
        fits = int(opts.warm_start.sum()) <= budget
        stats["warm_start"] = "accepted" if fits else "rejected"
        if fits:
            starts.append(opts.warm_start.copy())
    best, best_err, done = None, np.inf, 0
    for r in range(restarts + len(starts)):
        if r and clock.expired():
            break
        start = starts[r] if r < len(starts) else _random_mask(rng, len(x), budget)
        mask = descend(x, z, start, budget, clock.deadline)
        err = abs(float(x[mask].sum()) - z)
        done += 1
        if err < best_err:
            best, best_err = mask, err
    notes = [f"heuristic: local search, {done} descents (flip and swap)"]
    if stats.get("warm_start") == "rejected":
        notes.append("warm start rejected: it keeps more than max_kept")
    return RawSolution(Status.FEASIBLE, mask=best, notes=notes,
                       stats={"descents": done, **stats})


@_QUIET_FLOATS
def run_random(instance: SubsetSumInstance, goal: Goal, opts: SolveOptions) -> RawSolution:
    """extra options: samples (default 10000)."""
    x, z = instance.values, instance.target
    budget = _budget(instance, goal)
    rng = np.random.default_rng(opts.seed)
    samples = int(opts.extra.get("samples", 10_000))
    clock = Clock(opts.time_limit)
    best, best_err, done = np.zeros(len(x), dtype=bool), abs(z), 0
    block = max(1, min(samples, (1 << 22) // max(1, len(x))))
    while done < samples:
        if done and clock.expired():
            break
        masks = rng.random((min(block, samples - done), len(x))) < 0.5
        if budget < len(x):
            for row in np.flatnonzero(masks.sum(axis=1) > budget):
                masks[row] = _random_mask(rng, len(x), budget)
        err = instance.errors(masks)
        k = int(np.argmin(err))
        if err[k] < best_err:
            best, best_err = masks[k], float(err[k])
        done += masks.shape[0]
    notes = [f"heuristic: best of {done} random masks"]
    if done < samples:
        notes.append("time limit reached: stopped early")
    return RawSolution(Status.TIME_LIMIT if done < samples else Status.FEASIBLE, mask=best,
                       notes=notes, stats={"samples": done})
