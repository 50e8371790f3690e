"""Exact neuron selection with a MILP engine (highs, cbc, scip, gurobi) or CP-SAT: loss l1 or
linf, rule average or keep (linear in the mask), with or without repeats.

MILP: the model of `formulations.neuron_selection` (linf: capped by the incumbent's loss, which
removes nothing better; l1: not capped, its bound holds all the same), started from the
incumbent (the warm start, else greedy forward selection). Certificate, as in
solvers/pruning/exact.py: the engine's bound minus the slack T of its tolerances
(`formulations.linear.tolerance_slack`, dual norm 2, rows scaled by 1 + max|f|, the box of the
error variables, safety 2) minus the evaluation tolerance (the model's float64 coefficients A
versus the exact ones) is a rigorous lower bound L; the result is certified when incumbent − L
<= max(1e-5·incumbent, 5·eval_tol), with tolerance that gap plus twice the evaluation tolerance.
When the engine finished and only its slack T blocks that (tiny losses, or Gurobi's 1e-9
tolerances on l1), solvers/exclusion_recheck.py evaluates and cuts off the masks within T of the
optimum until it does not (option recheck, default true); otherwise status feasible with L as
the bound. Data far from unit scale (max |f| + k·max|A| outside [2^-10, 2^10]) is first scaled
by a power of two 2^e (output weights, bias, targets: exact, checked), which scales l1 and linf
by exactly 2^e.

CP-SAT: A and f scaled by 2^p (p: the largest |h| + |f| below 2^30) and rounded to int64. Each
coefficient moves by at most 1/2 unit and Σ_i c_i = k, so every residual, hence the max (linf)
and the mean (l1), moves by at most (k + 1)/2 units: an integer bound B gives the real lower
bound (B − (k + 1)/2)·2^-p minus the evaluation tolerance. Certified under the same rule, with
the same exclusion re-check when the rounding slack (~k·2^-30 of the data's scale) is what
blocks it (a CP-SAT no-good is a clause over the MILP's mask variables: y_i, or the binary
digits of count i).
Presolve is off and the range is 2^30, not the 2^40 of solvers/pruning/cpsat.py: with 2^38 to
2^40 and presolve on, OR-Tools 9.15 certified a wrong optimum (the incumbent) on a trained-net
instance of tests/test_neuron_selection.py (teacher, seed 0, linf); 2^30 or presolve off each
gave the right one.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from fractions import Fraction
from typing import Any

import numpy as np

from exactprune.formulations.linear import PartialMask, tolerance_slack
from exactprune.formulations.neuron_selection import (
    bits_of_mask,
    count_bits,
    h_bounds,
    mask_of_bits,
    milp_refusal,
    selection_model,
)
from exactprune.formulations.pruning.error_rows import error_cap
from exactprune.instances.errors import InputError
from exactprune.instances.scaling import float_floor, ldexp_down, ldexp_up
from exactprune.solvers.clock import NOT_STARTED, Clock
from exactprune.solvers.exclusion_recheck import (
    CAPPED_STATUSES,
    ZERO_LOSS_NOTE,
    CappedOutcome,
    Family,
    bound_refuted,
    certifiable,
    exclusion_recheck,
    worst_entry_family,
)
from exactprune.solvers.result import Goal, Limit, RawSolution, SolveOptions, Status

UNIT_RANGE = (2.0**-10, 2.0**10)
RANGE_BITS = 30
SCIP_LINEAR_PRESOLVE = False
"""SCIP's linear-constraint presolve, at our tolerances, certified a wrong optimum on a capped
selection model (neuron-selection audit case 917: data at scale 1e-6, targets predicted to
1e-10), as on pruning's big-M models (milp_engines.SCIP_NO_LINEAR_PRESOLVE); so it is off here.
The price: benchmarks/presolve_price.py --engine scip."""


TINY_ROWS_SCALED = frozenset({"highs"})
"""The engines that get the l1 model with its tiny rows scaled to unit size
(`selection_model(scale_tiny_rows=True)`): HiGHS certified a wrong optimum on them as they were
(hunt 120 H1); SCIP lost a certificate on them scaled (a refuted bound; hunt 123 M1)."""


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


def model_refusal(instance: Any) -> str | None:
    """Why the MILP/CP-SAT model cannot take this instance (the rule or loss, or data no power
    of two brings to unit size exactly), or None; `refuse` adds who takes it."""
    why = milp_refusal(instance)
    if why:
        return why
    try:
        unit_scaled(instance)
    except InputError as exc:  # it named no backend, where bnb and bruteforce take it
        return str(exc)  # (hunt 136 L3)
    return None


def refuse(instance: Any, goal: Goal) -> str | None:
    """Why the MILP/CP-SAT backends cannot take this instance, or None; a model they cannot
    build names the backends that take the instance (a fixed "use bruteforce or bnb" named
    both where bnb refuses repeats and bruteforce its size; hunt 135 L1)."""
    why = model_refusal(instance)
    if not why:
        return None
    from exactprune.solvers.registry import backends_taking

    takers = backends_taking(instance, goal, ("bruteforce", "bnb"))
    return f"{why}; use {' or '.join(takers)}" if takers else (
        f"{why}; no exact backend takes it at this size (a heuristic gives a mask, "
        "uncertified)")


def incumbent(instance: Any, opts: SolveOptions, deadline: float | None = None
              ) -> tuple[np.ndarray, str]:
    """The warm start, else greedy forward selection's mask (within `deadline`, a
    perf_counter value: cut short, completed by magnitude)."""
    if opts.warm_start is not None:
        return instance.check_mask(opts.warm_start), "warm start"
    from exactprune.solvers.neuron_selection.heuristics import (
        greedy_cut_short,
        greedy_forward_within,
    )

    mask, steps = greedy_forward_within(instance, deadline)
    if steps < instance.k:
        return mask, greedy_cut_short(steps, instance.k)
    return mask, "greedy_forward_selection"


def _proven(lower: float, eval_tol: float) -> float:
    """The proven bound on the exact loss from an engine's lower bound on the float model:
    minus the evaluation tolerance, and >= 0 (every loss is >= 0 in real arithmetic)."""
    return max(0.0, lower - eval_tol)


def _certificate(instance: Any, mask: np.ndarray, lower: float | None, finished: bool,
                 limit_hit: bool, notes: list[str], stats: dict[str, Any],
                 engine_failed: bool = False) -> RawSolution:
    err = instance.evaluate(mask)
    eval_tol = instance.evaluation_tolerance()
    if lower is None:
        # an engine that failed (Gurobi's licence refusing the model) is an error with the
        # incumbent, as in pruning, not a `feasible` that reads like a finished search
        status = (Status.ERROR if engine_failed else
                  Status.TIME_LIMIT if limit_hit else Status.FEASIBLE)
        return RawSolution(status, mask=mask, notes=notes, stats=stats)
    lower = bound = _proven(lower, eval_tol)
    if finished and certifiable(err, lower, eval_tol):
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


@dataclass
class _Capped:
    """One capped solve: the outcome the re-check reads, and what the result reports of it."""

    outcome: CappedOutcome
    notes: list[str]
    stats: dict[str, Any]


BelowSolve = Callable[[Any, float, float | None, Sequence[Any], np.ndarray | None], _Capped]
"""below(scaled, cap, time_limit_s, exclude, start_mask): the best mask of the unit-scaled
instance with loss below `cap`, the 0/1 mask-variable vectors (`bits_of_mask`) in `exclude`
cut off, started from `start_mask` (or None)."""


def _milp_below(engine: str, opts: SolveOptions) -> BelowSolve:
    """One solve of the selection MILP with `engine`, as a `BelowSolve`."""
    from exactprune.solvers.milp_engines import proven_lower_bound, solve_model

    engine_opts = opts
    if engine == "scip" and not SCIP_LINEAR_PRESOLVE:
        engine_opts = dataclasses.replace(opts, extra={**opts.extra, "linear_presolve": False})

    def below(scaled: Any, cap: float, time_limit: float | None, exclude: Sequence[Any],
              start: np.ndarray | None) -> _Capped:
        built = selection_model(scaled, t_max=cap, scale_tiny_rows=engine in TINY_ROWS_SCALED)
        model = built.model.exclude_masks(exclude) if exclude else built.model
        res = solve_model(engine, model, engine_opts, time_limit=time_limit,
                          start=None if start is None else built.start(start))
        slack = _milp_slack(engine, model, scaled)
        y = None
        if res.values is not None:
            y = np.asarray(res.values, dtype=np.float64)[list(model.mask_variables)] > 0.5
        status = res.status if res.status in CAPPED_STATUSES else "error"
        outcome = CappedOutcome(status, y, proven_lower_bound(res, model, slack, cap), slack,
                                list(res.notes))
        stats: dict[str, Any] = {"engine": engine, "slack": slack}
        if engine == "scip":  # the backend's option (default off); SCIP's own default is on
            stats["cuts"] = bool(opts.extra.get("cuts", True))
        if res.start is not None:
            stats["warm_start"] = res.start
        notes = [f"{engine}: {model.n_vars} variables, {model.n_rows} rows; slack {slack:.3g}",
                 *res.notes]
        return _Capped(outcome, notes, stats)

    return below


def _cpsat_below(opts: SolveOptions) -> BelowSolve:
    """One CP-SAT solve on integers scaled by 2^p, as a `BelowSolve` (module docstring)."""

    def below(scaled: Any, cap: float, time_limit: float | None, exclude: Sequence[Any],
              start: np.ndarray | None) -> _Capped:
        from ortools.sat.python import cp_model

        from exactprune.solvers.cpsat_engine import (
            INFEASIBLE_REFUTED,
            configured_solver,
            solve_cpsat,
        )

        A, f = scaled.columns(), scaled.offset()
        n, k, P = scaled.n, scaled.k, A.shape[0]
        ref = max(data_scale(scaled), 1e-300)
        p = RANGE_BITS - math.frexp(ref)[1]
        Ai = np.rint(np.ldexp(A, p)).astype(np.int64)
        fi = np.rint(np.ldexp(f, p)).astype(np.int64)
        units_slack = (k + 1) / 2.0
        slack = math.ldexp(units_slack, -p)
        model = cp_model.CpModel()
        # the MILP's mask variables (`bits_of_mask`): y_i, or the binary digits of count i
        n_bits = count_bits(k) if scaled.repeats else 1
        bits = [model.NewBoolVar(f"z_{i}_{j}") for i in range(n) for j in range(n_bits)]
        c = [sum((1 << j) * bits[i * n_bits + j] for j in range(n_bits)) for i in range(n)]
        model.Add(sum(c) == k)
        residuals = []
        for q in range(P):
            row = Ai[q]
            lo = int(k * row.min()) if scaled.repeats else int(np.sort(row)[:k].sum())
            hi = int(k * row.max()) if scaled.repeats else int(np.sort(row)[-k:].sum())
            r = model.NewIntVar(lo - int(fi[q]), hi - int(fi[q]), f"r_{q}")
            model.Add(r == sum(int(row[i]) * c[i] for i in np.flatnonzero(row)) - int(fi[q]))
            residuals.append((r, max(abs(lo - int(fi[q])), abs(hi - int(fi[q])))))
        # ceil: every mask with integer loss <= cap_units is kept, so nothing below cap is
        # lost; at most the largest possible loss (all-zero data has p ~ 1000: 2^1000 overflows)
        cap_units = min(int(math.ceil(math.ldexp(cap, p) + units_slack)) + 1,
                        max(big for _, big in residuals) + 1)
        if scaled.loss == "linf":
            t = model.NewIntVar(0, cap_units, "t")
            for r, _ in residuals:
                model.Add(r <= t)
                model.Add(-r <= t)
            model.Minimize(t)
            n_pts = 1
        else:
            abs_vars = []
            for q, (r, big) in enumerate(residuals):
                a = model.NewIntVar(0, big, f"a_{q}")
                model.AddAbsEquality(a, r)
                abs_vars.append(a)
            model.Add(sum(abs_vars) <= cap_units * P)
            model.Minimize(sum(abs_vars))
            n_pts = P
        for no_good in exclude:
            positions, values = PartialMask.fixed_terms(no_good, len(bits))
            model.AddBoolOr([bits[j].Not() if v else bits[j]
                             for j, v in zip(positions, values, strict=True)])
        if start is not None:
            for var, v in zip(bits, bits_of_mask(scaled, start), strict=True):
                model.AddHint(var, bool(v))
        solver = configured_solver(opts, time_limit, presolve=False)
        code = solve_cpsat(solver, model)
        notes = [f"CP-SAT on integers scaled by 2^{p}; rounding moves the loss by at most "
                 f"{slack:.3g}"]
        stats: dict[str, Any] = {"engine": "cpsat", "slack": slack, "integer_scale_exponent": p}
        if code == cp_model.MODEL_INVALID:
            notes.append(f"model invalid: {model.Validate()}")
            return _Capped(CappedOutcome("error", None, None, slack, notes), notes, stats)
        y = None
        if code in (cp_model.OPTIMAL, cp_model.FEASIBLE):
            y = np.array([solver.BooleanValue(v) for v in bits], dtype=bool)
        lower = None
        if code == cp_model.INFEASIBLE and start is not None:
            start_bits = [bool(b) for b in bits_of_mask(scaled, start)]
            counts = [sum(start_bits[i * n_bits + j] << j for j in range(n_bits))
                      for i in range(n)]
            # the start's exact integer residuals (Python ints: no overflow)
            res_start = [sum(int(Ai[q, i]) * counts[i] for i in range(n) if counts[i])
                         - int(fi[q]) for q in range(P)]
            loss_units = (max(map(abs, res_start)) if scaled.loss == "linf"
                          else sum(map(abs, res_start)))
            inside = sum(counts) == k and loss_units <= (
                cap_units if scaled.loss == "linf" else cap_units * P)
            cut = any(PartialMask.cuts_off(no_good, start_bits) for no_good in exclude)
            if inside and not cut:  # refuted by a point in hand, as in pruning (hunt 231 F1)
                notes.append(INFEASIBLE_REFUTED)
                return _Capped(CappedOutcome("error", None, None, slack, notes), notes, stats)
        if code == cp_model.INFEASIBLE:  # every mask left has integer loss > cap_units
            lower = float_floor(Fraction(cap) - Fraction(ldexp_up(units_slack, -p)))
        elif math.isfinite(solver.BestObjectiveBound()):
            # in rationals, rounded down: B / n_pts − slack in floats could sit an ulp above
            # (hunt 127 L2)
            lower = ldexp_down(float_floor(Fraction(solver.BestObjectiveBound()) / n_pts
                                           - Fraction(units_slack)), -p)
        status = {cp_model.OPTIMAL: "optimal", cp_model.INFEASIBLE: "infeasible"}.get(
            code, "time_limit")
        return _Capped(CappedOutcome(status, y, lower, slack, []), notes, stats)

    return below


def selection_families(scaled: Any, eval_tol: float) -> Family:
    """The exclusion re-check's families of exact ties (solvers/exclusion_recheck.py `Family`).

    Unit i contributes (N/k)·H[s, i]·c_i·V[i, o] to residual entry (s, o): exactly 0, in real
    arithmetic, when H[s, i] or V[i, o] is 0 in the data. Masks that agree on the counts of the
    units live at an entry have the same residual there. linf: for y's worst entry, every such
    mask's exact loss is >= y's exact residual there, so its evaluated loss >= y's − 2·eval_tol
    (each evaluation errs by at most eval_tol). l1: masks that agree on every unit live
    anywhere (dead units: a zero activation column, e.g. a unit relu never fires on these
    samples) have the same exact loss. With repeats every binary digit of a live unit's count
    is fixed."""
    H, V = scaled.hidden, scaled.output_weights
    live = ((H != 0.0)[:, :, None] & (V != 0.0)[None, :, :]).transpose(0, 2, 1).reshape(
        scaled.m * scaled.outputs, scaled.n)  # rows as `columns()`: entry p = s·C + o
    n_bits = count_bits(scaled.k) if scaled.repeats else 1
    anywhere = live.any(axis=0)

    def family(bits: np.ndarray, target: float) -> tuple[np.ndarray, float] | None:
        mask = scaled.check_mask(mask_of_bits(scaled, bits))
        if scaled.loss == "linf":
            units, floor = worst_entry_family(
                np.abs(scaled.residuals(mask)).reshape(-1) - 2.0 * eval_tol, live)
        else:
            units, floor = anywhere, scaled.evaluate(mask) - 2.0 * eval_tol
        if floor < target:
            return None
        return np.repeat(units, n_bits), floor

    return family


def _run_capped(below: BelowSolve, instance: Any, goal: Goal,
                opts: SolveOptions) -> RawSolution:
    """Certified optimum from capped solves (`below`): the first capped at the incumbent's
    loss, then, when only the engine's slack blocks the certificate, the exclusion re-check."""
    why = refuse(instance, goal)
    if why:
        raise InputError(why)
    clock = Clock(opts.time_limit)
    inc, source = incumbent(instance, opts, clock.deadline)
    scaled, e = unit_scaled(instance)
    inc_err = scaled.evaluate(inc)
    if certifiable(inc_err, 0.0, scaled.evaluation_tolerance()):
        # no loss is below 0: no engine needed (CBC called the model capped at the 1e-12 of a
        # loss-0 incumbent infeasible, and the solve ended in `error`; hunt 120 M1)
        notes = [f"incumbent from {source}: {instance.evaluate(inc):.6g}", ZERO_LOSS_NOTE]
        raw = _certificate(scaled, inc, 0.0, True, False, notes, {"warm_start_source": source})
        return _unscale(raw, instance, e)
    cap = inc_err * (1 + 1e-9) + 1e-12
    if clock.expired():  # the incumbent took the whole limit: no engine run (hunt 24)
        notes = [f"incumbent from {source}: {instance.evaluate(inc):.6g}", NOT_STARTED]
        raw = _certificate(scaled, inc, None, False, True, notes,
                           {"warm_start_source": source}, engine_failed=False)
        return _unscale(raw, instance, e)
    remaining = None if clock.deadline is None else max(0.05, clock.remaining())
    first = below(scaled, cap, remaining, (), inc)
    out = first.outcome

    def evaluate(bits: np.ndarray) -> float:
        try:
            return scaled.evaluate(scaled.check_mask(mask_of_bits(scaled, bits)))
        except InputError:  # not a k-selection (the engine's integrality tolerance)
            return math.inf

    mask = inc
    if out.y is not None and evaluate(out.y) < inc_err:
        mask = scaled.check_mask(mask_of_bits(scaled, out.y))
    lower, finished = out.lower, out.status in ("optimal", "infeasible")
    limit_hit, capped = out.status == "time_limit", False
    notes = [f"incumbent from {source}: {instance.evaluate(inc):.6g}", *first.notes]
    stats: dict[str, Any] = {**first.stats, "warm_start_source": source}
    err = scaled.evaluate(mask)
    eval_tol = scaled.evaluation_tolerance()
    failed = out.status == "error"
    # the incumbent is inside the cap, and so is the engine's own mask: a bound above either
    # is the engine contradicting itself (hunt 113 H1)
    if bound_refuted(lower, min(inc_err, math.inf if out.y is None else evaluate(out.y)),
                     eval_tol):
        notes.append(f"the engine's bound {lower:.6g} is above the error of a mask inside its "
                     "cap: its answer proves nothing")
        lower, finished, failed = None, False, True
    if (finished and lower is not None and not certifiable(err, _proven(lower, eval_tol), eval_tol)
            and opts.extra.get("recheck", True)):
        # the gap is the engine's slack: exclude masks until it no longer matters
        check = exclusion_recheck(
            lambda cap_, limit, seen: below(scaled, cap_, limit, seen, None).outcome,
            bits_of_mask(scaled, mask), out.slack, evaluate, eval_tol, clock.deadline,
            family=selection_families(scaled, eval_tol)
            if opts.extra.get("recheck_families", True) else None)
        mask = scaled.check_mask(mask_of_bits(scaled, check.y))
        if check.lower is not None:
            lower = max(lower, check.lower)
        finished, limit_hit = not check.timed_out, check.timed_out
        capped = check.capped
        notes.extend(check.notes)
        stats["recheck_masks"] = check.checked
        stats["recheck_families"] = check.families
    if e:
        notes.insert(0, f"solved with V, b, T scaled exactly by 2^{e} (losses scale by it; the "
                        "numbers in the notes below are in those scaled units, the result's "
                        "fields in the instance's own)")
        stats["scale_exponent"] = e
    raw = _certificate(scaled, mask, lower, finished, limit_hit, notes, stats,
                       engine_failed=failed)
    if capped and raw.status is not Status.OPTIMAL:  # stopped by the re-check's cap
        raw.limit = Limit.EXCLUSION_CAP
    return _unscale(raw, instance, e)


def run_milp(engine: str, instance: Any, goal: Goal, opts: SolveOptions) -> RawSolution:
    """Certified optimum with the MILP engine `engine` (see the module docstring)."""
    return _run_capped(_milp_below(engine, opts), instance, goal, opts)


def run_cpsat(instance: Any, goal: Goal, opts: SolveOptions) -> RawSolution:
    """Certified optimum with CP-SAT on scaled integers (see the module docstring)."""
    return _run_capped(_cpsat_below(opts), instance, goal, opts)


def _unscale(raw: RawSolution, instance: Any, e: int) -> RawSolution:
    """The certificate made on the data scaled by 2^e, for `instance` itself
    (`RawSolution.for_raw_data`: tolerance 0 was certified 2^-1075 off the optimum; hunt 34)."""
    return raw.for_raw_data(e, instance) if e else raw
