"""Exhaustive search over every neuron or weight mask: the oracle for small pruning instances.

Deliberately independent of the formulations: predictions are computed by plain forward passes
of the masked network for blocks of masks (no column dictionary, no MILP). Limited to 2^20 masks
(neuron pruning n <= 20, weight pruning n·d <= 20). The float64 errors of two masks can be
misordered only when they differ by less than twice the instance's `evaluation_tolerance()`,
so the optimum is certified with that tolerance (stated in the result).
"""

from __future__ import annotations

import time
from typing import Any

import numpy as np

from exactprune.instances.errors import InputError
from exactprune.solvers.result import Goal, RawSolution, SolveOptions, Status

MAX_BITS = 20
BLOCK = 1 << 12


def _norm(err: np.ndarray, norm: str) -> np.ndarray:
    """Row-wise norm of a (masks, K) array of residuals."""
    a = np.abs(err)
    if norm == "linf":
        return a.max(axis=1)
    if norm == "l1":
        return a.mean(axis=1)
    return np.sqrt((a * a).mean(axis=1))


def _block_errors(instance: Any, bits: np.ndarray, f: np.ndarray) -> np.ndarray:
    """Errors of a block of masks; bits has shape (B, mask_size)."""
    net = instance.network
    W, v, X = net.hidden_weights, net.output_weights, instance.points
    n, d = W.shape
    if instance.kind == "neuron_pruning":
        act = np.maximum(X @ W.T, 0.0)  # (K, n)
        h = (bits * v) @ act.T  # (B, K)
    else:
        masked = bits.reshape(-1, n, d) * W  # (B, n, d)
        pre = np.einsum("bnd,kd->bkn", masked, X)
        h = np.maximum(pre, 0.0) @ v  # (B, K)
    g = np.maximum(h, 0.0) if net.output_activation == "relu" else h
    return _norm(g - f, instance.norm)


def run_pruning_bruteforce(instance: Any, goal: Goal, opts: SolveOptions) -> RawSolution:
    """Enumerate all masks (at most 2^20); optional max_kept counts kept mask entries."""
    size = instance.mask_size
    if size > MAX_BITS:
        raise InputError(f"bruteforce enumerates 2^{size} masks: above its limit of 2^{MAX_BITS}"
                         f" (mask size {size})")
    deadline = None if opts.time_limit is None else time.perf_counter() + opts.time_limit
    f = instance.target_values()
    total = 1 << size
    best_err, best_index = np.inf, -1
    shifts = np.arange(size, dtype=np.int64)
    for start in range(0, total, BLOCK):
        if start and deadline is not None and time.perf_counter() > deadline:
            mask = None if best_index < 0 else ((best_index >> shifts) & 1).astype(bool)
            if mask is not None:
                mask = mask.reshape(instance.mask_shape)
            return RawSolution(Status.TIME_LIMIT, mask=mask,
                               notes=[f"time limit after {start} of {total} masks"])
        idx = np.arange(start, min(start + BLOCK, total), dtype=np.int64)
        bits = ((idx[:, None] >> shifts) & 1).astype(np.float64)
        err = _block_errors(instance, bits, f)
        if goal.max_kept is not None:
            err = np.where(bits.sum(axis=1) <= goal.max_kept, err, np.inf)
        j = int(np.argmin(err))
        if err[j] < best_err:
            best_err, best_index = float(err[j]), int(idx[j])
    mask = ((best_index >> shifts) & 1).astype(bool).reshape(instance.mask_shape)
    tol = 2.0 * instance.evaluation_tolerance()
    err = instance.evaluate(mask)
    return RawSolution(Status.OPTIMAL, mask=mask, bound=max(0.0, err - tol), certified=True,
                       tolerance=tol,
                       notes=[f"exhaustive over {total} masks; float64 errors, certified "
                              f"within 2x the evaluation tolerance ({tol:.2g})"])
