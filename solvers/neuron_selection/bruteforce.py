"""Exhaustive search over every k-subset (or k-multiset with repeats; under refit, where counts
do not matter, every support of at most k units): the oracle.

Independent of the formulations: losses come from the instance's vectorised evaluator
(`instance.errors`, A c − f for blocks of count vectors; refit: `evaluate` per subset).
Limits: MAX_SUBSETS candidates (linear rules), MAX_REFIT_SUBSETS (refit: one lstsq each).
Linear rules (average, keep): the batch losses differ from `evaluate` by at most the evaluation
tolerance plus (mC + 2)·u·loss (numpy sums), so two masks can be misordered only when their losses
differ by less than twice that: the optimum is certified with that tolerance (stated). Refit: the
batch *is* `evaluate`, so the minimum is exact over the float64 losses evaluate reports; the stated
tolerance is the instance's (estimated) refit tolerance, and it is certified only when every
least-squares design is well conditioned (MAX_REFIT_CONDITION).
"""

from __future__ import annotations

import itertools
import math
from typing import Any

import numpy as np

from exactprune.instances.errors import InputError
from exactprune.instances.neuron_selection.instance import MAX_REFIT_CONDITION
from exactprune.solvers.clock import Clock
from exactprune.solvers.result import Goal, RawSolution, SolveOptions, Status

MAX_SUBSETS = 1 << 21
MAX_REFIT_SUBSETS = 1 << 15
BLOCK = 1 << 12
BLOCK_ENTRIES = 1 << 22
"""Average rule: a block's residual matrix holds at most this many entries (masks × m·C), so
the clock is read every ~0.1 s (4,096 masks of m·C = 20,000 took 3.4 s and 1.3 GB)."""
REFIT_BLOCK_ENTRIES = 1 << 15
"""Refit: masks × m·C per block (one least squares and one SVD per mask; 4,096 masks at
m = 1,000 took 10 s past a 0.5 s limit; hunt 60 M1)."""


def block_rows(instance: Any) -> int:
    """Masks per block: at most BLOCK, fewer when each costs m·C entries or a least squares."""
    size = max(1, instance.m * instance.outputs)
    per_block = REFIT_BLOCK_ENTRIES if instance.rule == "refit" else BLOCK_ENTRIES
    return max(1, min(BLOCK, per_block // size))


def _supports_only(instance: Any) -> bool:
    """Refit with repeats: the loss depends only on which units are kept (the counts do not
    enter the least squares), so the supports of 1..k units are enumerated, not the
    multisets (N = k = 10: 1,023 supports against 92,378 multisets)."""
    return bool(instance.repeats) and instance.rule == "refit"


def candidate_count(instance: Any) -> int:
    """Number of masks: C(N, k); with repeats C(N + k − 1, k), or under refit the supports
    sum_{s <= k} C(N, s)."""
    n, k = instance.n, instance.k
    if _supports_only(instance):
        return sum(math.comb(n, s) for s in range(1, min(n, k) + 1))
    return math.comb(n + k - 1, k) if instance.repeats else math.comb(n, k)


def refuse(instance: Any, goal: Goal) -> str | None:
    """The size limit, as one line (None when within it)."""
    total = candidate_count(instance)
    limit = MAX_REFIT_SUBSETS if instance.rule == "refit" else MAX_SUBSETS
    if total > limit:
        what = ("supports" if _supports_only(instance) else
                "multisets" if instance.repeats else "subsets")
        return (f"it enumerates {total:,} {what} of k = {instance.k} of N = {instance.n} "
                f"units: above its limit of {limit:,} ({instance.rule} rule)")
    return None


def _blocks(instance: Any) -> Any:
    """Count matrices (B, N) float64 over every mask, `block_rows` rows at a time."""
    n, k = instance.n, instance.k
    if _supports_only(instance):  # each support with its k − s spare counts on its first unit
        combos = (c + (c[0],) * (k - s) for s in range(1, min(n, k) + 1)
                  for c in itertools.combinations(range(n), s))
    elif instance.repeats:
        combos = itertools.combinations_with_replacement(range(n), k)
    else:
        combos = itertools.combinations(range(n), k)
    rows = block_rows(instance)
    while True:
        chunk = list(itertools.islice(combos, rows))
        if not chunk:
            return
        idx = np.array(chunk, dtype=np.int64).reshape(len(chunk), k)
        counts = np.zeros((len(chunk), n))
        np.add.at(counts, (np.repeat(np.arange(len(chunk)), k), idx.reshape(-1)), 1.0)
        yield counts


def run_bruteforce(instance: Any, goal: Goal, opts: SolveOptions) -> RawSolution:
    """Minimise over every mask (within `refuse`'s limit); time limit checked per block."""
    why = refuse(instance, goal)
    if why:
        raise InputError(f"bruteforce {why}")
    clock = Clock(opts.time_limit)
    total = candidate_count(instance)
    best_err, best = np.inf, None
    done = 0
    worst_cond = 0.0  # refit: the largest condition number of a least-squares design
    nonfinite = 0  # masks whose float64 loss is not finite: nothing is proven about them
    for counts in _blocks(instance):
        if done and clock.expired():
            return RawSolution(Status.TIME_LIMIT, mask=_mask(instance, best),
                               stats={"masks": done},
                               notes=[f"time limit after {done:,} of {total:,} masks"])
        if instance.rule == "refit":
            worst_cond = max(worst_cond, *(instance.refit_condition(row) for row in counts))
        err = instance.errors(counts)
        if not np.all(np.isfinite(err)):  # argmin took a NaN and the block was passed over
            nonfinite += int(np.sum(~np.isfinite(err)))  # (hunt 130 H2)
            err = np.where(np.isfinite(err), err, np.inf)
        j = int(np.argmin(err))
        if err[j] < best_err:
            best_err, best = float(err[j]), counts[j].copy()
        done += len(counts)
    mask = _mask(instance, best)
    if nonfinite:
        why = (f"{nonfinite:,} of the {total:,} masks have a loss float64 cannot hold (NaN or "
               "inf), so nothing is proven about them")
        if mask is None:
            return RawSolution(Status.ERROR, notes=[f"exhaustive, but {why}"],
                               stats={"masks": done})
        return RawSolution(Status.FEASIBLE, mask=mask, stats={"masks": done},
                           notes=[f"exhaustive over {total:,} masks, but not certified: {why}"])
    err = instance.evaluate(mask)
    eval_tol = instance.evaluation_tolerance()
    if instance.rule == "refit":
        tol = eval_tol
        if not worst_cond <= MAX_REFIT_CONDITION:
            return RawSolution(Status.FEASIBLE, mask=mask, notes=[
                f"exhaustive over {total:,} masks, but not certified: a refit's least-squares "
                f"design has condition number {worst_cond:.3g} (above {MAX_REFIT_CONDITION:g}), "
                "so its float64 loss may be off by more than the stated tolerance"])
    else:
        size = instance.m * instance.outputs
        # u·loss per term, or subnormals' 2^-1074 step (2^-53 · 2^-1021; hunt 37 L2)
        # twice for the batch's misordering, once more for the objective evaluated again
        # (hunt 127 L1: 2·eval_tol)
        tol = 3.0 * eval_tol + 2.0 * (size + 2) * 2.0**-53 * (err + 2.0**-1021)
    return RawSolution(Status.OPTIMAL, mask=mask, bound=max(0.0, err - tol), certified=True,
                       tolerance=tol,
                       notes=[f"exhaustive over {total:,} masks; float64 losses, certified "
                              f"within {tol:.2g}" + (
                                  " (refit: the least-squares solves themselves are not "
                                  "bounded, so this is an estimate; docs/neuron_selection.md)"
                                  if instance.rule == "refit" else "")])


def _mask(instance: Any, counts: np.ndarray | None) -> np.ndarray | None:
    return None if counts is None else instance.check_mask(np.rint(counts).astype(np.int64))
