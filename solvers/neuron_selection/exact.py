"""Exact neuron selection with a MILP engine (highs, cbc, scip, gurobi) or CP-SAT: loss l1 or
linf, rule average, with or without repeats.

MILP: the model of `formulations.neuron_selection` (capped by the incumbent's loss, which
removes nothing better), started from the incumbent (the warm start, else greedy forward
selection). Certificate, as in solvers/pruning/exact.py: the engine's bound minus the slack T
of its tolerances (`formulations.linear.tolerance_slack`, dual norm 2, rows scaled by
1 + max|f|, the box of the error variables, safety 2) minus the evaluation tolerance (the
model's float64 coefficients A versus the exact ones) is a rigorous lower bound L; the result is
certified when incumbent − L <= max(1e-5·incumbent, 1e-12), with tolerance that gap plus twice
the evaluation tolerance. When the engine finished and only its slack T blocks that (tiny
losses, or Gurobi's 1e-9 tolerances on l1), solvers/exclusion_recheck.py evaluates and cuts off
the masks within T of the optimum until it does not (option recheck, default true); otherwise
status feasible with L as the bound.
Data far from unit scale (max |f| + k·max|A| outside [2^-10, 2^10]) is first scaled by a power of
two 2^e (output weights, bias, targets: exact, checked), which scales l1 and linf by exactly 2^e.

CP-SAT: A and f scaled by 2^p (p: the largest |h| + |f| below 2^30) and rounded to int64. Each
coefficient moves by at most 1/2 unit and Σ_i c_i = k, so every residual, hence the max (linf)
and the mean (l1), moves by at most (k + 1)/2 units: an integer bound B gives the real lower
bound (B − (k + 1)/2)·2^-p minus the evaluation tolerance. Certified under the same rule.
Presolve is off and the range is 2^30, not the 2^40 of solvers/pruning/cpsat.py: with 2^38 to
2^40 and presolve on, OR-Tools 9.15 certified a wrong optimum (the incumbent) on a trained-net
instance of tests/test_neuron_selection.py (teacher, seed 0, linf); 2^30 or presolve off each
gave the right one.
"""

from __future__ import annotations

import dataclasses
import math
import time
from collections.abc import Sequence
from typing import Any

import numpy as np

from exactprune.formulations.linear import tolerance_slack
from exactprune.formulations.neuron_selection import (
    bits_of_mask,
    h_bounds,
    mask_of_bits,
    milp_refusal,
    selection_model,
)
from exactprune.formulations.pruning.error_rows import error_cap
from exactprune.instances.errors import InputError
from exactprune.solvers.exclusion_recheck import CappedOutcome, certifiable, exclusion_recheck
from exactprune.solvers.result import Goal, RawSolution, SolveOptions, Status

UNIT_RANGE = (2.0**-10, 2.0**10)
RANGE_BITS = 30


def data_scale(instance: Any) -> float:
    """max_p |f_p| + k·max_i |A_pi|: the scale of every residual."""
    A = instance.columns()
    return float(np.max(np.abs(instance.offset()) + instance.k * np.abs(A).max(axis=1)))


def _exact_scale(a: np.ndarray | None, e: int) -> np.ndarray | None:
    if a is None:
        return None
    with np.errstate(over="ignore", under="ignore"):
        b = np.ldexp(a, e)
    if not (np.all(np.isfinite(b)) and np.array_equal(np.ldexp(b, -e), a)):
        raise InputError(f"the exact engines need the data at unit scale: scaling by 2^{e} is "
                         "not exact for these output weights / targets")
    return b


def unit_scaled(instance: Any) -> tuple[Any, int]:
    """(instance with V, b, T scaled by 2^e exactly, e); e = 0 when already at unit scale."""
    scale = data_scale(instance)
    if scale == 0.0 or UNIT_RANGE[0] <= scale <= UNIT_RANGE[1]:
        return instance, 0
    e = -math.frexp(scale)[1]
    return dataclasses.replace(
        instance, output_weights=_exact_scale(instance.output_weights, e),
        output_bias=_exact_scale(instance.output_bias, e),
        targets=_exact_scale(instance.targets, e)), e


def refuse(instance: Any, goal: Goal) -> str | None:
    """Why the MILP/CP-SAT backends cannot take this instance, or None."""
    why = milp_refusal(instance)
    if why:
        return why
    try:
        unit_scaled(instance)
    except InputError as exc:
        return str(exc)
    return None


def incumbent(instance: Any, opts: SolveOptions) -> tuple[np.ndarray, str]:
    """The warm start, else greedy forward selection's mask."""
    if opts.warm_start is not None:
        return instance.check_mask(opts.warm_start), "warm start"
    from exactprune.solvers.neuron_selection.heuristics import greedy_forward

    return greedy_forward(instance), "greedy_forward_selection"


def _certificate(instance: Any, mask: np.ndarray, lower: float | None, finished: bool,
                 limit_hit: bool, notes: list[str], stats: dict[str, Any]) -> RawSolution:
    err = instance.evaluate(mask)
    eval_tol = instance.evaluation_tolerance()
    if lower is None:
        status = Status.TIME_LIMIT if limit_hit else Status.FEASIBLE
        return RawSolution(status, mask=mask, notes=notes, stats=stats)
    lower -= eval_tol
    bound = max(0.0, lower)
    if finished and certifiable(err, lower):
        tol = max(0.0, err - lower) + 2 * eval_tol
        return RawSolution(Status.OPTIMAL, mask=mask, bound=bound, certified=True,
                           tolerance=tol, notes=notes, stats=stats)
    if finished:
        notes.append(f"engine optimum not certifiable: gap {err - lower:.3g} above the "
                     "certifiable tolerance")
    status = Status.TIME_LIMIT if limit_hit else Status.FEASIBLE
    return RawSolution(status, mask=mask, bound=bound, notes=notes, stats=stats)


def _milp_slack(engine: str, model: Any, scaled: Any) -> float:
    """The slack T of `engine`'s bound on the selection MILP `model` of `scaled` (module
    docstring)."""
    from exactprune.solvers.milp_engines import ENGINES

    A, f = scaled.columns(), scaled.offset()
    hmin, hmax = h_bounds(A, scaled.k, scaled.repeats)
    ecap = error_cap(f, hmin, hmax, False)
    ranges = model.upper - model.lower  # binaries over their whole range (pruning's slack)
    if not np.all(np.isfinite(ranges)):
        return math.inf
    return tolerance_slack(ENGINES[engine].tolerances(), dual_norm=2.0,
                           row_scale=1.0 + float(np.max(np.abs(f))),
                           box_size=float(np.sum(ranges)), integer_scale=0.0, data_scale=0.0,
                           n_entries=0, objective_scale=ecap, safety=2.0)


def _solve_below(engine: str, scaled: Any, opts: SolveOptions, cap: float,
                 time_limit: float | None, exclude: Sequence[np.ndarray] = (),
                 start: np.ndarray | None = None) -> tuple[CappedOutcome, Any, Any]:
    """One solve of the selection MILP capped at `cap`, the 0/1 mask-variable vectors in
    `exclude` cut off, started from the mask `start`: (outcome, the engine's raw result,
    the model)."""
    from exactprune.solvers.milp_engines import proven_lower_bound, solve_model

    built = selection_model(scaled, t_max=cap)
    model = built.model.exclude_masks(exclude) if exclude else built.model
    res = solve_model(engine, model, opts, time_limit=time_limit,
                      start=None if start is None else built.start(start))
    slack = _milp_slack(engine, model, scaled)
    y = None
    if res.values is not None:
        y = np.asarray(res.values, dtype=np.float64)[list(model.mask_variables)] > 0.5
    status = res.status if res.status in ("optimal", "infeasible") else (
        "time_limit" if res.status in ("time_limit", "stopped") else "error")
    outcome = CappedOutcome(status, y, proven_lower_bound(res, model, slack, cap), slack,
                            list(res.notes))
    return outcome, res, model


def run_milp(engine: str, instance: Any, goal: Goal, opts: SolveOptions) -> RawSolution:
    """Certified optimum with the MILP engine `engine` (see the module docstring)."""
    why = refuse(instance, goal)
    if why:
        raise InputError(why)
    start_time = time.perf_counter()
    deadline = None if opts.time_limit is None else start_time + opts.time_limit
    inc, source = incumbent(instance, opts)
    scaled, e = unit_scaled(instance)
    inc_err = scaled.evaluate(inc)
    cap = inc_err * (1 + 1e-9) + 1e-12
    remaining = None if deadline is None else max(0.05, deadline - time.perf_counter())
    out, res, model = _solve_below(engine, scaled, opts, cap, remaining, start=inc)

    def evaluate(bits: np.ndarray) -> float:
        try:
            return scaled.evaluate(scaled.check_mask(mask_of_bits(scaled, bits)))
        except InputError:  # not a k-selection (the engine's integrality tolerance)
            return math.inf

    mask = inc
    if out.y is not None and evaluate(out.y) < inc_err:
        mask = scaled.check_mask(mask_of_bits(scaled, out.y))
    lower, finished = out.lower, out.status in ("optimal", "infeasible")
    limit_hit = out.status == "time_limit"
    notes = [f"incumbent from {source}: {instance.evaluate(inc):.6g}",
             f"{engine}: {model.n_vars} variables, {model.n_rows} rows; slack {out.slack:.3g}",
             *res.notes]
    stats: dict[str, Any] = {"engine": engine, "slack": out.slack, "warm_start_source": source}
    err = scaled.evaluate(mask)
    eval_tol = scaled.evaluation_tolerance()
    if (finished and lower is not None and not certifiable(err, lower - eval_tol)
            and opts.extra.get("recheck", True)):
        # the gap is the engine's slack: exclude masks until it no longer matters
        check = exclusion_recheck(
            lambda cap_, limit, seen: _solve_below(engine, scaled, opts, cap_, limit, seen)[0],
            bits_of_mask(scaled, mask), out.slack, evaluate, eval_tol, deadline)
        mask = scaled.check_mask(mask_of_bits(scaled, check.y))
        if check.lower is not None:
            lower = max(lower, check.lower)
        finished, limit_hit = not check.timed_out, check.timed_out
        notes.extend(check.notes)
        stats["recheck_masks"] = check.checked
    if engine == "scip":  # the backend's option (default off); SCIP's own default is on
        stats["cuts"] = bool(opts.extra.get("cuts", True))
    if res.start is not None:
        stats["warm_start"] = res.start
    if e:
        notes.insert(0, f"solved with V, b, T scaled exactly by 2^{e} (losses scale by it)")
        stats["scale_exponent"] = e
    raw = _certificate(scaled, mask, lower, finished, limit_hit, notes, stats)
    return _unscale(raw, instance, e)


def _unscale(raw: RawSolution, instance: Any, e: int) -> RawSolution:
    if e:
        if raw.bound is not None:
            raw.bound = math.ldexp(raw.bound, -e)
        if raw.tolerance is not None:
            raw.tolerance = math.ldexp(raw.tolerance, -e)
    return raw


def run_cpsat(instance: Any, goal: Goal, opts: SolveOptions) -> RawSolution:
    """Certified optimum with CP-SAT on scaled integers (see the module docstring)."""
    from ortools.sat.python import cp_model

    from exactprune.solvers.cpsat_engine import configured_solver

    why = milp_refusal(instance)
    if why:
        raise InputError(why)
    inc, source = incumbent(instance, opts)
    inc_err = instance.evaluate(inc)
    A, f = instance.columns(), instance.offset()
    n, k, P = instance.n, instance.k, A.shape[0]
    ref = max(data_scale(instance), 1e-300)
    p = RANGE_BITS - math.frexp(ref)[1]
    Ai = np.rint(np.ldexp(A, p)).astype(np.int64)
    fi = np.rint(np.ldexp(f, p)).astype(np.int64)
    units_slack = (k + 1) / 2.0
    model = cp_model.CpModel()
    hi_c = k if instance.repeats else 1
    c = [model.NewIntVar(0, hi_c, f"c_{i}") for i in range(n)]
    model.Add(sum(c) == k)
    cap_units = int(math.ceil(math.ldexp(inc_err, p) + units_slack)) + 1
    errs = []
    for q in range(P):
        row = Ai[q]
        lo = int(k * row.min()) if instance.repeats else int(np.sort(row)[:k].sum())
        hi = int(k * row.max()) if instance.repeats else int(np.sort(row)[-k:].sum())
        nz = np.flatnonzero(row)
        r = model.NewIntVar(lo - int(fi[q]), hi - int(fi[q]), f"r_{q}")
        model.Add(r == sum(int(row[i]) * c[i] for i in nz) - int(fi[q]))
        errs.append((r, max(abs(lo - int(fi[q])), abs(hi - int(fi[q])))))
    if instance.loss == "linf":
        t = model.NewIntVar(0, cap_units, "t")
        for r, _ in errs:
            model.Add(r <= t)
            model.Add(-r <= t)
        model.Minimize(t)
        n_pts = 1
    else:
        abs_vars = []
        for q, (r, big) in enumerate(errs):
            a = model.NewIntVar(0, big, f"a_{q}")
            model.AddAbsEquality(a, r)
            abs_vars.append(a)
        model.Add(sum(abs_vars) <= cap_units * P)
        model.Minimize(sum(abs_vars))
        n_pts = P
    start = np.asarray(inc, dtype=np.int64)
    for i in range(n):
        model.AddHint(c[i], int(start[i]))
    solver = configured_solver(opts, opts.time_limit, presolve=False)
    code = solver.Solve(model)
    notes = [f"incumbent from {source}: {inc_err:.6g}",
             f"CP-SAT on integers scaled by 2^{p}; rounding moves the loss by at most "
             f"{math.ldexp(units_slack, -p):.3g}"]
    stats: dict[str, Any] = {"scale_exponent": p, "warm_start_source": source}
    if code == cp_model.MODEL_INVALID:
        return RawSolution(Status.ERROR, notes=notes + [f"model invalid: {model.Validate()}"])
    mask = inc
    if code in (cp_model.OPTIMAL, cp_model.FEASIBLE):
        cand = instance.check_mask(np.array([solver.Value(v) for v in c], dtype=np.int64))
        if instance.evaluate(cand) < inc_err:
            mask = cand
    lower = None
    if code == cp_model.INFEASIBLE:
        lower = inc_err - math.ldexp(units_slack, -p)
    elif math.isfinite(solver.BestObjectiveBound()):
        lower = math.ldexp(solver.BestObjectiveBound() / n_pts - units_slack, -p)
    finished = code in (cp_model.OPTIMAL, cp_model.INFEASIBLE)
    return _certificate(instance, mask, lower, finished, not finished, notes, stats)
