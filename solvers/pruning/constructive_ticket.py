"""The constructive lottery ticket of Pensia et al. (2020) for weight pruning (never certified).

A random two-layer ReLU net approximates a single neuron relu(w*·x) when each unit keeps one
input weight and, per input coordinate and sign, a subset of units sums to w*_j: 2d subset-sum
problems, here solved exactly by meet-in-the-middle (`mitm`). Registered as the weight-pruning
backend `ticket`; `run_ticket` says what the construction guarantees and what it does not.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from exactprune.instances.errors import InputError
from exactprune.solvers.clock import Clock
from exactprune.solvers.pruning.heuristics import int_option
from exactprune.solvers.pruning.residual_model import WEIGHT
from exactprune.solvers.result import Goal, RawSolution, SolveOptions, Status

TRIALS = 20
"""Balanced assignments tried when the option `trials` is unset."""


def option_refusal(instance: Any, goal: Goal, options: Mapping[str, Any]) -> str | None:
    """Why these parsed options cannot run together, or None (the backend's
    `refuse_options`): `trials` with assignment=mod, which has a single assignment (the option
    was taken and ignored; hunt 104 L1)."""
    if options.get("assignment") == "mod" and options.get("trials") is not None:
        return ("trials counts balanced assignments: assignment=mod has a single one "
                "(leave trials out or use assignment=balanced)")
    return None


def _ticket_target(instance: Any) -> np.ndarray:
    """w* with target(x) = relu(w*·x), or InputError."""
    t = instance.target
    if t.n != 1 or t.output_activation != "identity":
        raise InputError("ticket needs a single-neuron target relu(w*·x) (one hidden unit, "
                         "identity output)")
    u = float(t.output_weights[0])
    if u < 0:
        raise InputError("ticket needs a target u·relu(a·x) with u >= 0 (a ReLU neuron)")
    return u * np.asarray(t.hidden_weights[0], dtype=np.float64)


def ticket_assignment(W: np.ndarray, v: np.ndarray, how: str = "balanced",
                      order: np.ndarray | None = None) -> np.ndarray:
    """The input coordinate each unit serves (−1: none), shape (n,).

    The 2d subset-sum problems are (j, +) over units with W_ij > 0 and (j, −) over W_ij < 0.
    "mod": unit i serves i mod d. "balanced": units taken in `order` (default: index order)
    each go to the problem (among their d options, W_ij != 0 and v_i != 0) that currently has
    the fewest values, ties to the lower j, so all 2d problems get about n/(2d) values (more
    values, smaller subset-sum error).
    """
    n, d = W.shape
    out = np.full(n, -1, dtype=np.int64)
    if how == "mod":
        for i in range(n):
            j = i % d
            if W[i, j] != 0.0 and v[i] != 0.0:
                out[i] = j
        return out
    if how != "balanced":
        raise InputError(f"unknown ticket assignment {how!r} (known: balanced, mod)")
    counts = np.zeros((d, 2), dtype=np.int64)
    for i in (range(n) if order is None else order):
        i = int(i)
        if v[i] == 0.0:
            continue
        options = [(counts[j, int(W[i, j] < 0)], j) for j in range(d) if W[i, j] != 0.0]
        if not options:
            continue
        _, j = min(options)
        out[i] = j
        counts[j, int(W[i, j] < 0)] += 1
    return out


@dataclass
class _Ticket:
    """One construction: mask (n, d), per-problem subset-sum errors, the predicted bound
    max_k Σ_j max(e+_j, e−_j)·|x_kj|, and whether every subset sum was solved to optimality."""

    assignment: np.ndarray
    mask: np.ndarray
    sub_errors: dict[str, float]
    predicted: float
    all_optimal: bool


def _ticket_once(instance: Any, w_star: np.ndarray, assign: np.ndarray, max_values: int,
                 budgets: list[int | None], clock: Clock) -> _Ticket:
    """Solve the 2d subset sums of one assignment exactly (mitm) and build the mask."""
    from exactprune.instances.subset_sum import SubsetSumInstance
    from exactprune.solvers.dispatch import solve

    W = np.asarray(instance.network.hidden_weights, dtype=np.float64)
    v = np.asarray(instance.network.output_weights, dtype=np.float64)
    n, d = W.shape
    mask = np.zeros((n, d), dtype=bool)
    sub_errors: dict[str, float] = {}
    per_coord = np.zeros(d)
    all_optimal = True
    problems = [(j, sign) for j in range(d) for sign in (1, -1)]
    for p, (j, sign) in enumerate(problems):
        units = np.flatnonzero((assign == j) & (np.sign(W[:, j]) == sign))[:max_values]
        target = float(w_star[j]) if sign > 0 else -float(w_star[j])
        key = f"{j}{'+' if sign > 0 else '-'}"
        err = abs(target)  # the empty subset
        remaining = clock.remaining()
        if units.size and (remaining is None or remaining > 0):
            values = v[units] * np.abs(W[units, j])
            res = solve(SubsetSumInstance(values=values, target=target), "mitm",
                        time_limit=None if remaining is None else max(remaining, 1e-3),
                        max_kept=budgets[p])
            if res.mask is not None and float(res.error) <= err:
                mask[units[res.mask], j] = True
                err = float(res.error)
            all_optimal &= res.status == "optimal"
        elif units.size:
            all_optimal = False
        sub_errors[key] = err
        per_coord[j] = max(per_coord[j], err)
    predicted = float((np.abs(np.asarray(instance.points)) @ per_coord).max())
    return _Ticket(assign, mask, sub_errors, predicted, all_optimal)


def run_ticket(instance: Any, goal: Goal, opts: SolveOptions) -> RawSolution:
    """Pensia et al.'s construction for a single neuron relu(w*·x) by weight pruning.

    Since w*·x = Σ_j [w*_j relu(x_j) − w*_j relu(−x_j)], each unit i kept with the single input
    j computes v_i·relu(W_ij x_j) = v_i W_ij relu(x_j) if W_ij > 0, v_i |W_ij| relu(−x_j) if
    W_ij < 0. Units are assigned to coordinates (`ticket_assignment`), and for each coordinate
    two subset-sum problems are solved exactly by meet-in-the-middle: values v_i W_ij
    (W_ij > 0) with target w*_j, values v_i |W_ij| (W_ij < 0) with target −w*_j. The mask
    keeps weight (i, j) of the chosen units. With subset-sum errors e+_j, e−_j the
    pre-activation is within Σ_j max(e+_j, e−_j)·|x_j| of w*·x (relu(x_j) and relu(−x_j) are
    never both nonzero), and with a relu output, relu being 1-Lipschitz, so is the output:
    that bound is reported as stats["predicted_linf"]. With an identity output the sum
    approximates w*·x, not relu(w*·x): the mask is returned, but no bound is predicted
    (predicted_linf None; said in the notes).

    A subset sum fails when its values cannot reach the target (e.g. too few values of the
    target's sign), so `trials` assignments are tried (default 20): the balanced rule in index
    order, then in seeded random unit orders (opts.seed); the one with the smallest error on
    the points (the instance's own evaluate) wins, ties to the earlier.

    Extra options: assignment ("balanced", default, or "mod": unit i serves i mod d, a single
    trial); trials (balanced only; default TRIALS); max_values (default 32): at most this
    many values per subset-sum problem (the first in unit order; the rest stay cut), which
    keeps each meet-in-the-middle solve to about 2^16 x 2^16. With max_kept, the budget is
    split evenly over the 2d problems (each solved with its own cardinality limit).
    """
    if instance.kind != WEIGHT:
        raise InputError("ticket is a weight-pruning construction (each unit keeps one input "
                         "weight); it does not apply to neuron_pruning")
    w_star = _ticket_target(instance)
    how = opts.extra.get("assignment", "balanced")
    if how not in ("balanced", "mod"):
        raise InputError(f"unknown ticket assignment {how!r} (known: balanced, mod)")
    max_values = int_option(opts, "max_values", 32, 1)
    trials = (int_option(opts, "trials", None, 1) or TRIALS) if how == "balanced" else 1
    W = np.asarray(instance.network.hidden_weights, dtype=np.float64)
    v = np.asarray(instance.network.output_weights, dtype=np.float64)
    n, d = W.shape
    clock = Clock(opts.time_limit)
    n_problems = 2 * d
    budgets: list[int | None] = [None] * n_problems
    if goal.max_kept is not None:
        base, extra = divmod(int(goal.max_kept), n_problems)
        budgets = [base + (1 if p < extra else 0) for p in range(n_problems)]
    rng = np.random.default_rng(opts.seed)
    best: _Ticket | None = None
    best_err = np.inf
    done = 0
    for t in range(trials):
        if t and clock.expired():
            break
        order = None if t == 0 else rng.permutation(n)
        tk = _ticket_once(instance, w_star, ticket_assignment(W, v, how, order), max_values,
                          budgets, clock)
        err = instance.evaluate(tk.mask)
        done += 1
        if err < best_err:
            best, best_err = tk, err
    assert best is not None
    relu = instance.network.output_activation == "relu"
    notes = [f"constructive ticket: best of {done} assignments, {n_problems} subset-sum "
             "problems each, solved by mitm"
             + ("" if best.all_optimal else " (not all to optimality: time limit)")
             + (f"; predicted sup error over the points <= {best.predicted:.3g} "
                "(relu output, up to float64 rounding)" if relu else "")]
    if not relu:  # no bound is predicted: it held 0.237 where the mask's error was 0.91
        notes.append("identity output: the construction approximates w*·x, not relu(w*·x); "
                     "its error guarantee needs a relu output, so none is predicted")
    if done < trials:
        notes.append("time limit reached: stopped early")
    stopped = done < trials or not best.all_optimal
    return RawSolution(Status.TIME_LIMIT if stopped else Status.FEASIBLE, mask=best.mask,
                       notes=notes,
                       stats={"subset_sum_errors": best.sub_errors,
                              "predicted_linf": best.predicted if relu else None,
                              "assignment_rule": str(how),
                              "assignment": best.assignment.tolist(), "trials": done})


__all__ = ["run_ticket", "ticket_assignment"]
