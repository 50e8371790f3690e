"""Exhaustive search over every neuron or weight mask: the oracle for small pruning instances.

Deliberately independent of the formulations: errors come from the instance's own vectorised
evaluator (`instance.errors`, plain forward passes of the masked nets, no column dictionary, no
MILP) for blocks of masks. Limited to 2^20 masks (neuron pruning n <= 20, weight pruning
n·d <= 20). The batch errors differ from `evaluate` by at most the evaluation tolerance plus
K·u·error (numpy sums), so two masks can be misordered only when their errors differ by less
than twice that: the optimum is certified with that tolerance (stated in the result).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from exactprune.instances.errors import InputError
from exactprune.solvers.clock import Clock
from exactprune.solvers.result import Goal, RawSolution, SolveOptions, Status

MAX_BITS = 20
BLOCK = 1 << 12


def run_pruning_bruteforce(instance: Any, goal: Goal, opts: SolveOptions) -> RawSolution:
    """Enumerate all masks (at most 2^20); optional max_kept counts kept mask entries."""
    size = instance.mask_size
    if size > MAX_BITS:
        raise InputError(f"bruteforce enumerates 2^{size} masks: above its limit of 2^{MAX_BITS}"
                         f" (mask size {size})")
    clock = Clock(opts.time_limit)
    total = 1 << size
    best_err, best_index = np.inf, -1
    shifts = np.arange(size, dtype=np.int64)
    for start in range(0, total, BLOCK):
        if start and clock.expired():
            mask = None if best_index < 0 else ((best_index >> shifts) & 1).astype(bool)
            if mask is not None:
                mask = mask.reshape(instance.mask_shape)
            return RawSolution(Status.TIME_LIMIT, mask=mask,
                               notes=[f"time limit after {start} of {total} masks"])
        idx = np.arange(start, min(start + BLOCK, total), dtype=np.int64)
        bits = ((idx[:, None] >> shifts) & 1).astype(np.float64)
        err = instance.errors(bits.reshape(-1, *instance.mask_shape))
        if goal.max_kept is not None:
            err = np.where(bits.sum(axis=1) <= goal.max_kept, err, np.inf)
        j = int(np.argmin(err))
        if err[j] < best_err:
            best_err, best_index = float(err[j]), int(idx[j])
    mask = ((best_index >> shifts) & 1).astype(bool).reshape(instance.mask_shape)
    err = instance.evaluate(mask)
    # per sum term u·error, or the 2^-1074 step of subnormal results: 2^-53 · 2^-1021 (a flat
    # 1e-300 made certificates on subnormal errors 24 % loose; hunt 37 L2)
    # the batch winner's exact error is within 2·(eval_tol + rounding) of the optimum's, and
    # the reported objective, evaluated again, one eval_tol further (hunt 127 L1: 2·eval_tol)
    tol = (3.0 * instance.evaluation_tolerance()
           + 2.0 * (instance.num_points + 2) * 2.0**-53 * (err + 2.0**-1021))
    return RawSolution(Status.OPTIMAL, mask=mask, bound=max(0.0, err - tol), certified=True,
                       tolerance=tol,
                       notes=[f"exhaustive over {total} masks; float64 errors, certified "
                              f"within 3x the evaluation tolerance and the batch's rounding "
                              f"({tol:.2g})"])
