"""Neuron-selection heuristics (never certified): greedy forward selection, magnitude, random.

- `greedy_forward_selection` (Ye et al. 2020): start empty; step s = 1..k adds the candidate
  unit that gives the lowest loss of the uniform average over the new subset, prediction
  (N/s)·Σ_{i∈S} H[:, i] V[i] + b with s the size after adding (the instance's loss; under the
  keep rule the kept units' sum Σ_{i∈S} H[:, i] V[i] + b, unscaled); under
  the refit rule, the lowest loss of the output layer refitted on the new subset (ranked by the
  average rule, as before 2026-12-06, it chose units worse than random there; hunt 128). Options:
  repeats (a unit may be added again; default: as the instance), candidates (a seeded sample
  of that many units per step; default all). Ties go to the lowest index.
- `magnitude`: units ranked by ||V[i]||_2 · ||H[:, i]||_2 (ties by index), top k; the norms
  are taken at unit scale and the products compared by exponent, then mantissa, so any data
  scale ranks the same.
- `random`: the best of `samples` seeded random subsets (repeats: k uniform draws with
  replacement).
"""

from __future__ import annotations

import time
from typing import Any

import numpy as np

from exactprune.instances.errors import InputError
from exactprune.instances.neuron_selection.instance import batch_losses
from exactprune.instances.scaling import descending, norm_parts, product_parts
from exactprune.solvers.clock import Clock, passed
from exactprune.solvers.result import Goal, Limit, RawSolution, SolveOptions, Status


def greedy_forward(instance: Any, repeats: bool | None = None, candidates: int | None = None,
                   seed: int = 0, deadline: float | None = None) -> np.ndarray:
    """The mask greedy forward selection ends with (see the module docstring). TimeoutError
    when `deadline` (a time.perf_counter() value) passes before step k."""
    counts, steps = _greedy_steps(instance, repeats, candidates, seed, deadline)
    if steps < instance.k:
        raise TimeoutError("greedy forward selection reached the deadline")
    return instance.check_mask(counts)


def greedy_forward_within(instance: Any, deadline: float | None, repeats: bool | None = None,
                          candidates: int | None = None, seed: int = 0,
                          columns: np.ndarray | None = None) -> tuple[np.ndarray, int]:
    """Greedy forward selection stopped at `deadline`: (mask, steps taken of k). Cut short, its
    units so far are kept and the rest of the k filled by magnitude (unused units first), so
    that a time limit still gives a mask of k units. `columns`: `instance.columns()` when the
    caller already holds it."""
    counts, steps = _greedy_steps(instance, repeats, candidates, seed, deadline, columns)
    missing = instance.k - steps
    if missing > 0:
        order = magnitude_order(instance)
        unused = [int(i) for i in order if counts[i] == 0]
        fill = (unused + [int(i) for i in order] * missing)[:missing]
        np.add.at(counts, fill, 1)
    return instance.check_mask(counts), steps


def greedy_cut_short(steps: int, k: int) -> str:
    """How a greedy forward selection stopped by the time limit is described."""
    return (f"greedy forward selection stopped by the time limit after {steps} of {k} steps, "
            "the rest by magnitude")


def _greedy_steps(instance: Any, repeats: bool | None, candidates: int | None, seed: int,
                  deadline: float | None, columns: np.ndarray | None = None
                  ) -> tuple[np.ndarray, int]:
    """Greedy forward selection's unit counts (N,) after its steps, and how many steps it took
    (k, or fewer when `deadline` passed)."""
    if repeats is None:
        repeats = instance.repeats
    if repeats and not instance.repeats:
        raise InputError("greedy_forward_selection: repeats=true needs an instance with "
                         "repeats (its masks are 0/1)")
    n, k = instance.n, instance.k
    A = instance.columns() if columns is None else columns
    G = A / instance.selection_scale()  # raw columns vec(H[:, i] V[i]), (mC, N)
    f = instance.offset()
    rng = np.random.default_rng(seed)
    counts = np.zeros(n, dtype=np.int64)
    total = np.zeros(G.shape[0])
    for s in range(1, k + 1):
        if passed(deadline):
            return counts, s - 1
        pool = np.arange(n) if repeats else np.flatnonzero(counts == 0)
        if candidates is not None and candidates < len(pool):
            pool = np.sort(rng.choice(pool, size=candidates, replace=False))
        if instance.rule == "refit":
            # ranked by the loss the subnetwork is scored with: the average rule's chose units
            # worse than random under refit (hunt 128 M1); one fit per candidate, so the clock
            # is read between them (a step ran 2.5 s past a 12 s limit; hunt 129 L1)
            losses = np.full(len(pool), np.inf)
            for a, i in enumerate(pool):
                if a and passed(deadline):
                    return counts, s - 1
                losses[a] = _partial_refit_loss(instance, counts, int(i))
            # fits equal within the refit's tolerance are ties, to the lowest index, not to
            # rounding noise of ~1e-32 once the fit is exact (hunt 129 L2)
            j = int(pool[int(np.flatnonzero(
                losses <= losses.min() + instance.evaluation_tolerance())[0])])
        else:
            R = instance.selection_scale(s) * (total[None, :] + G[:, pool].T) - f[None, :]
            j = int(pool[int(np.argmin(batch_losses(R, instance.loss)))])
        counts[j] += 1
        total = total + G[:, j]
    return counts, k


def _partial_refit_loss(instance: Any, counts: np.ndarray, add: int) -> float:
    """The refit loss of the units kept in `counts` and `add` (a partial selection: the output
    layer least-squares fitted on them, as `instance.refit` does for k units)."""
    kept = np.flatnonzero(counts > 0)
    if add not in kept:
        kept = np.sort(np.append(kept, add))
    P = instance.refit_units(kept)[2]
    return float(batch_losses((P - instance.targets)[None], instance.loss)[0])


def magnitude_order(instance: Any) -> np.ndarray:
    """The units by decreasing ||V[i]||·||H[:, i]||, ties by index (N,)."""
    return descending(product_parts(norm_parts(instance.output_weights, axis=1),
                                    norm_parts(instance.hidden, axis=0)))


def magnitude_scores(instance: Any) -> np.ndarray:
    """||V[i]||·||H[:, i]|| per unit divided by the largest, (N,) in [0, 1] (all 0 when every
    unit adds nothing); units 2^1074 below the largest read 0."""
    parts = product_parts(norm_parts(instance.output_weights, axis=1),
                          norm_parts(instance.hidden, axis=0))
    exp, mant = parts[:, 0].astype(np.int64), parts[:, 1]
    if not np.any(mant > 0):
        return np.zeros(mant.shape[0])
    scaled = np.where(mant > 0, np.ldexp(mant, np.maximum(exp - int(exp.max()), -1100)), 0.0)
    return scaled / scaled.max()


def run_greedy(instance: Any, goal: Goal, opts: SolveOptions) -> RawSolution:
    cand = opts.extra.get("candidates")
    mask, steps = greedy_forward_within(instance, Clock(opts.time_limit).deadline,
                                        opts.extra.get("repeats"), cand, opts.seed)
    ranked = ("the output layer refitted on the subset" if instance.rule == "refit" else
              "uniform average with the current subset size")
    notes = [f"greedy forward selection ({ranked}; "
             f"candidates {'all' if cand is None else cand})"]
    if steps < instance.k:
        notes.append(greedy_cut_short(steps, instance.k))
        return RawSolution(Status.TIME_LIMIT, mask=mask, limit=Limit.TIME, notes=notes)
    return RawSolution(Status.FEASIBLE, mask=mask, notes=notes)


def run_magnitude(instance: Any, goal: Goal, opts: SolveOptions) -> RawSolution:
    order = magnitude_order(instance)
    return RawSolution(Status.FEASIBLE, mask=instance.mask_of_units(order[: instance.k]),
                       notes=["top k units by ||output weights|| x ||activations||"])


def run_random(instance: Any, goal: Goal, opts: SolveOptions) -> RawSolution:
    samples = int(opts.extra.get("samples", 1000))
    clock = Clock(opts.time_limit)
    rng = np.random.default_rng(opts.seed)
    n, k = instance.n, instance.k
    best, best_err, done = None, np.inf, 0
    block = 256 if instance.rule == "refit" else 4096
    limit = Limit.NONE
    chunk = 1
    columns = instance.columns() if instance.linear_rule else None
    # drawn and evaluated in chunks growing from one mask to `block`, the clock read between
    # them: under the refit rule each mask is a least-squares fit, and a first block of 256
    # ran 3.2 s on a 0.2 s limit (hunt 21); drawing a block of 4096 subsets of 1000 units at
    # once took 0.25 s (hunt 42). The generator's stream is the same drawn in pieces, so the
    # masks drawn, and the result without a limit, are those of one piece.
    while done < samples:
        if done and clock.expired():
            limit = Limit.TIME
            break
        b = min(chunk, samples - done)
        started = time.perf_counter()
        if instance.repeats:
            idx = rng.integers(0, n, size=(b, k))
        else:
            idx = np.argsort(rng.random((b, n)), axis=1)[:, :k]
        counts = np.zeros((b, n))
        np.add.at(counts, (np.repeat(np.arange(b), k), idx.reshape(-1)), 1.0)
        err = instance.errors(counts, columns)
        j = int(np.argmin(err))
        if err[j] < best_err:
            best_err, best = float(err[j]), counts[j]
        done += b
        # no larger than the time left allows (a chunk of 2048 masks at N = 1000, m·C = 6000
        # ran 0.36 s past a 0.5 s limit)
        chunk = clock.fitting(min(2 * chunk, block), (time.perf_counter() - started) / b)
    assert best is not None
    mask = instance.check_mask(np.rint(best).astype(np.int64))
    status = Status.TIME_LIMIT if limit is Limit.TIME else Status.FEASIBLE
    what = "multisets" if instance.repeats else "subsets"
    return RawSolution(status, mask=mask, limit=limit,
                       notes=[f"best of {done} seeded random {what}"])
