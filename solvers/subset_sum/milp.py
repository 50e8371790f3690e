"""Subset-sum by MILP (`cbc`, `highs`, `scip`), certified against the engines' tolerances.

The model is formulations/subset_sum/milp.py; the engines are solvers/milp_engines/.

The slack T (numerics policy, DESIGN.md). Optima of random subset-sum are ~2^-n, below MIP
tolerances, so a solver's "optimal" is not trusted as is. From the tolerances actually in
effect, `MilpProblem.slack` computes T: 10 × (feasibility × Σ|row duals| × row scale
+ dual tolerance × box size + integrality tolerance × Σ|x| + gaps + cutoff + epsilon
+ data rounding), see `formulations.linear.tolerance_slack` and
`formulations.subset_sum.milp.subset_sum_slack`. A rigorous lower bound is max(0, L − T) for a
solver's dual bound L. For n = 12 values in [-1, 1], T is about 6e-7 (cbc, scip) and 6e-8
(highs); for n = 30 about 1.2e-6 and 1.2e-7. Certification therefore needs the next-best
masks to be more than T worse than the best. Measured on Uniform[-1,1] draws (20 seeds), the
second-best mask is more than T away for cbc/scip in 17/20 instances at n = 20, 5/20 at n = 22,
0/20 at n = 24 (highs: 19, 16, 11 of 20); in practice the branch-and-bound time limits first
(a few seconds certify n <= 16; n = 20 takes 5-65 s).

Equal values: CBC, HiGHS and SCIP get the model with `break_symmetry` (rows ordering each group
of equal values, zeros fixed out: one mask per class of masks with the same exact sum), so a
no-good row excludes a whole class; the exclusion rounds exclude canonical masks. Gurobi gets
the plain model (`GUROBI_SYMMETRY_ROWS`).

Certification, min_error:
  * a mask with exact error 0 is optimal;
  * exclusion certificate: solve again with a no-good row excluding exactly the found mask m
    (and any further masks found in later rounds, at most `exclusion_rounds`, default 4), in
    the remaining time; the new dual bound L2 bounds every other mask, so L2 − T >= t(m)
    (exact rational error) proves m optimal, with tolerance 0. If a round finds a better mask it
    becomes the incumbent (never lost).
  * a bound proven when a solver stopped (time limit) is used the same way;
  * a solver bound above an exactly evaluated mask's error by more than T is inconsistent: no
    certificate from that solve.
  Otherwise: feasible (or time_limit) with bound max(0, L − T), and a note giving T and the gap.
Certification, sparsest (count objective): the solver gets the window widened by a margin δ
(`sparsest_window_margin`: ten times what its tolerances and data rounding can move a row
activity), so its tolerant feasible region is a relaxation with room to spare, and its count
bound L is valid: k = ceil(L − max(T, 1e-6)). With the exact window, masks on its edge were cut
off by CBC's preprocessing and Gurobi's presolve (wrong infeasibility and counts on values
spanning magnitudes, docs/numerics.md); SCIP runs without linear presolve, which cut off masks
deep inside it, and CBC without preprocessing, which did too. Certified when the mask
satisfies |x·m − z| <= eps exactly and keeps k values. A solver mask that violates eps exactly
(accepted within the solver's tolerance) is excluded by a no-good row and the model solved
again (at most `exclusion_rounds` times); excluding exactly-infeasible masks keeps the model a
relaxation, so every round's bound stays valid. "Infeasible" from the solver means the
relaxation, hence the problem, is infeasible: certified infeasible.
Options in `SolveOptions.extra`: exclusion_rounds (int, default 4).
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable
from fractions import Fraction
from typing import Any

import numpy as np

from exactprune.formulations.base import BuiltModel
from exactprune.formulations.subset_sum.milp import (
    build_subset_sum,
    canonical_mask,
    mask_outside,
    sparsest_window_margin,
    subset_sum_slack,
)
from exactprune.instances.errors import InputError
from exactprune.instances.params import Param, is_integer
from exactprune.instances.scaling import exact_abs_sum, float_floor
from exactprune.instances.subset_sum import SubsetSumInstance
from exactprune.solvers.clock import Clock, engine_limit
from exactprune.solvers.milp_engines import ENGINES, EngineResult, solve_model
from exactprune.solvers.result import (
    CLAIM_REFUTED,
    Goal,
    Limit,
    Objective,
    RawSolution,
    SolveOptions,
    Status,
)
from exactprune.solvers.subset_sum.heuristics import (
    greedy_incumbent,
    start_at_floor,
    with_core_start,
)

MIN_SOLVE_SECONDS = 0.05
SCIP_DUAL_REDUCTIONS = False
"""SCIP's dual reductions, at our tolerances, cut off the optimum of models whose values span
many magnitudes (subset-sum audit cases 686, 2356: "optimal" 5.3e-7 where 7e-13 exists), so
they are off here (`milp_engines.SCIP_NO_DUAL_REDUCTIONS`)."""
SCIP_LINEAR_PRESOLVE = False
"""SCIP's linear-constraint presolve, at our tolerances, cut off masks deep inside the sparsest
window when values span magnitudes (x = 3.1e-9, 8.5e-9, 0.68: count 2 "optimal" where 1 is
within eps; right with `constraints/linear/maxprerounds = 0`, docs/numerics.md), as it did on
pruning's big-M models; off here (`milp_engines.SCIP_NO_LINEAR_PRESOLVE`)."""
CBC_SPARSEST_PREPROCESS = False
"""CBC's preprocessing cut off masks deep inside the sparsest window on values of two scales
(`audit --edge` case 5143: count 3 certified where 2 values meet eps; right without it, at any
margin), so sparsest goals run CBC without it (`milp_engines.cbc`, keyword preprocess)."""
GUROBI_SPARSEST_PRESOLVE = False
"""Gurobi 13's presolve (its aggregation) certified a sparsest goal infeasible although one
value meets eps, on values of two scales, with the margin-widened window (`audit --edge` case
19725: x = -1.3e-8, 0.765, -0.647, eps 0.2250716988; right with `Presolve = 0`, `Aggregate =
0` or `NumericFocus = 3`), so sparsest goals run Gurobi without presolve, as CBC without its
preprocessing."""
GUROBI_SYMMETRY_ROWS = False
"""Gurobi 13.0.3 certified wrong min_error optima on models with the symmetry rows (hunt 78:
x = 0.1008 ×2, 0.1903 ×3, 0.2608, z = 0.7422: "optimal" 0.0303 with bound 0.0303, where
7.4e-7 exists; the same in plain gurobipy at our tolerances, right without the rows; presolve
off alone did not fix every case), so it solves the plain model, as before 2026-12-05: honest
(`feasible`) where copies of the best mask tie."""
GUROBI_NUMERIC_FOCUS = 3
"""Gurobi 13.0.3 proved bounds above the optimum on subset-sum models with one no-good row,
at its default numerics (hunt 179 H1: 0.306, 0.968, -0.423, 0.888, 0.584, -0.276, -0.419,
-0.518, 0.903, 0.493, 0.364, -0.366 with z = 0.3060005363036909: the mask {0.584, -0.276,
0.364, -0.366} excluded, "every other mask >= 0.000999" beside 0.306 alone at 5.4e-7, so a
wrong certified optimum; a bound of 0.155 above the optimum 0.0754 under max_kept = 4 on
values of two scales); right with `NumericFocus = 3` on every seed tried, so subset-sum runs
Gurobi with it."""
DEFAULT_EXCLUSION_ROUNDS = 4
COUNT_BOUND_SLACK = 1e-6

OPTIONS = (Param("exclusion_rounds", "int", DEFAULT_EXCLUSION_ROUNDS,
                 "re-solves with no-good rows to certify against the tolerances (0: none; "
                 "then the engine's bound less its slack must reach the error, which it "
                 "rarely does: 1 of 24 small solves)", minimum=0),)
SCIP_CUTS = Param("cuts", "bool", False,
                  "SCIP's cutting planes (separation); off by default: measured 1.5-3x faster "
                  "on every instance, same optima (docs/benchmarks/subset-sum-scip-cuts.md)")


# --------------------------------------------------------------------------------------------
# Certification


def _round_stats(k: int, res: EngineResult) -> dict[str, Any]:
    return {"round": k, "status": res.status, "solver_objective": res.objective,
            "solver_bound": res.bound, "nodes": res.nodes, "seconds": round(res.seconds, 4)}


def _exclusion_rounds(opts: SolveOptions) -> int:
    raw = opts.extra.get("exclusion_rounds", DEFAULT_EXCLUSION_ROUNDS)
    if not is_integer(raw) or raw < 0:
        raise InputError(f"exclusion_rounds must be an integer >= 0, got {raw!r}")
    return int(raw)


def checked_warm_start(instance: Any, goal: Goal, opts: SolveOptions, notes: list[str],
                       stats: dict[str, Any]) -> np.ndarray | None:
    """The warm start if it satisfies the goal's constraints exactly; else None (rejected,
    with a note and stats["warm_start"]). Shared by the MILP engines and cpsat."""
    if opts.warm_start is None:
        return None
    mask = np.asarray(opts.warm_start, dtype=bool)
    why = None
    if goal.objective is Objective.SPARSEST:
        if instance.exact_error(mask) > Fraction(goal.eps):
            why = "its error exceeds eps"
    elif goal.max_kept is not None and int(mask.sum()) > goal.max_kept:
        why = "it keeps more than max_kept"
    if why is not None:
        notes.append(f"warm start rejected: {why}")
        stats["warm_start"] = "rejected"
        return None
    return mask


def sparsest_mask_in_hand(instance: Any, goal: Goal, warm: np.ndarray | None
                          ) -> tuple[np.ndarray, str] | None:
    """A mask within eps exactly among those in hand without a search — the warm start, the
    empty mask, the greedy mask — with what it is, or None. Any of them refutes an engine's
    "no mask is within eps" (hunt 234 L1: without a start, an injected answer was certified
    beside an empty mask within eps)."""
    eps = Fraction(goal.eps)
    for mask, what in ((warm, "the start given to it"),
                       (np.zeros(instance.n, dtype=bool), "the empty mask"),
                       (greedy_incumbent(instance, goal), "the greedy mask")):
        if mask is not None and instance.exact_error(mask) <= eps:
            return np.asarray(mask, dtype=bool), what
    return None


def exclusion_refuted(engine: str, excluded: int, left: np.ndarray) -> str:
    """The note of an exclusion solve's "infeasible" that `mask_outside`'s mask `left` refutes."""
    return (f"{engine} said no mask is left besides the {excluded} excluded, yet another "
            f"(keeping {int(left.sum())} values) is: {CLAIM_REFUTED}")


def refuted_by_mask_in_hand(engine: str, what: str) -> str:
    """The note of a sparsest "no mask within eps" that `sparsest_mask_in_hand`'s `what`
    refutes."""
    return f"{engine} said no mask is within the band, but {what} is within eps: {CLAIM_REFUTED}"


def _judge_start(res: EngineResult, notes: list[str], stats: dict[str, Any]) -> None:
    if res.start is not None and "warm_start" not in stats:
        stats["warm_start"] = res.start
        if res.start_reason:
            notes.append(f"warm start {res.start}: {res.start_reason}")


UNIT_RANGE = (2.0**-10, 2.0**10)
"""Data whose largest magnitude lies outside this range are scaled by a power of two first."""


def unit_scaling(instance: SubsetSumInstance) -> int:
    """The exponent k such that 2^k·max(|x|, |z|) lies in [0.5, 1) when the largest magnitude
    is outside UNIT_RANGE (else 0); InputError when that scaling is not exact (the data span
    beyond the float64 range of one scale: tiny values would underflow)."""
    big = max(float(np.abs(instance.values).max()), abs(instance.target))
    if big == 0.0 or UNIT_RANGE[0] <= big <= UNIT_RANGE[1]:
        return 0
    k = -math.frexp(big)[1]
    vals = np.ldexp(instance.values, k)
    z = math.ldexp(instance.target, k)
    if not (np.array_equal(np.ldexp(vals, -k), instance.values)
            and math.ldexp(z, -k) == instance.target):
        raise InputError("the MILP engines need the data at one scale: scaling the values by "
                         f"2^{k} (largest magnitude {big:.3g}) is not exact for the smallest "
                         "(they span beyond the float64 range); use mitm or cpsat")
    return k


def refuse(instance: SubsetSumInstance, goal: Goal) -> str | None:
    """Why the MILP backends cannot take this instance (see `unit_scaling`), or None."""
    try:
        unit_scaling(instance)
    except InputError as exc:
        return str(exc)
    return None


def refuser(engine: str) -> Callable[[SubsetSumInstance, Goal], str | None]:
    """`refuse`, and for an engine that drops small coefficients (HiGHS: small_matrix_value)
    also values below that size, or below its feasibility tolerance, after the exact unit
    scaling. Dropping one is not a
    relaxation (the sparsest window row then excludes masks within eps: HiGHS called such
    instances infeasible), and HiGHS without presolve mishandles the columns left with no
    coefficient (an exclusion solve's bound 8.4e-7 above the next mask: wrong certified
    optima; subset-sum audit cases 3, 11, 605, ..., docs/numerics.md)."""

    def check(instance: SubsetSumInstance, goal: Goal) -> str | None:
        why = refuse(instance, goal)
        if why:
            return why
        tol = ENGINES[engine].tolerances()
        if tol.small_coefficient > 0:
            # below its feasibility tolerance a value is switched on or off within it, too:
            # near-ties case 901 (8.4e-12 beside 0.89) had an exclusion solve bound the
            # optimum by the target itself, 1.6e-5 above it (a wrong certified optimum)
            small = max(tol.small_coefficient, tol.feasibility)
            x = np.abs(np.ldexp(instance.values, unit_scaling(instance)))
            tiny = x[(x > 0) & (x < small)]
            if tiny.size:
                return (f"{ENGINES[engine].label} cannot tell values below {small:g} from 0 "
                        f"(it drops coefficients below {tol.small_coefficient:g} and is "
                        f"feasible within {tol.feasibility:g}), and {tiny.size} value(s) are "
                        f"that small at unit scale (down to {float(tiny.min()):.3g}): its "
                        "answers would be unreliable; use mitm, cpsat or scip")
        return None

    return check


def run_milp(engine: str, instance: Any, goal: Goal, opts: SolveOptions) -> RawSolution:
    """Solve `instance` for `goal` with a MILP engine and certify under the numerics policy.

    Data far from unit scale (largest magnitude outside 2^±10) are first scaled exactly by a
    power of two, which multiplies every error by it and changes no mask's rank, so the
    engines' absolute tolerances act at the data's own scale (HiGHS refuses coefficients above
    1e15, SCIP treats 1e20 as infinite); bounds are scaled back exactly."""
    opts, started = with_core_start(instance, goal, opts)
    raw = start_at_floor(instance, goal, opts) or _run_scaled(engine, instance, goal, opts)
    return started(raw)


def _run_scaled(engine: str, instance: Any, goal: Goal, opts: SolveOptions) -> RawSolution:
    if goal.objective is Objective.SPARSEST and abs(instance.target) <= goal.eps:
        # keeping nothing errs by |target| <= eps: no count is below 0. Such an eps can be
        # far above the data's scale, and scaling it with them overflowed (hunt 64 L4)
        return RawSolution(Status.OPTIMAL, mask=np.zeros(instance.n, dtype=bool), bound=0.0,
                           certified=True, tolerance=0.0,
                           notes=["the empty mask is within eps (|target| <= eps): nothing "
                                  "kept, optimal without a solve"])
    k = unit_scaling(instance)
    if k == 0:
        return _run_milp(engine, instance, goal, opts)
    scaled = SubsetSumInstance(values=np.ldexp(instance.values, k),
                               target=math.ldexp(instance.target, k))
    scaled_goal = goal
    if goal.eps is not None:
        eps = math.ldexp(goal.eps, k)
        if math.ldexp(eps, -k) != goal.eps:
            raise InputError(f"eps = {goal.eps!r} cannot be scaled exactly with the data (by "
                             f"2^{k}) for the MILP engines; use mitm or cpsat")
        scaled_goal = Goal(objective=goal.objective, eps=eps)
    raw = _run_milp(engine, scaled, scaled_goal, opts)
    count = goal.objective is Objective.SPARSEST
    if raw.bound is not None and not count:
        raw.bound = math.ldexp(raw.bound, -k)
    if raw.tolerance is not None and not count:
        raw.tolerance = math.ldexp(raw.tolerance, -k)
    if raw.solver_objective is not None and not count:
        try:
            raw.solver_objective = math.ldexp(raw.solver_objective, -k)
        except OverflowError:
            # the solver's own number (a note, never used) can pass float64's top where the
            # optimum does not (data at 1.8e308; hunt 186 M1)
            raw.notes.append(f"the solver's own objective, {raw.solver_objective!r} in the "
                             f"scaled units, is beyond float64's range unscaled (not used)")
            raw.solver_objective = None
    raw.notes.insert(0, f"solved on the data scaled exactly by 2^{k} (errors scale by it; the "
                        "numbers in the notes below are in those scaled units, the result's "
                        "fields in the instance's own)")
    raw.stats["scale_exponent"] = k
    return raw


def _run_milp(engine: str, instance: Any, goal: Goal, opts: SolveOptions) -> RawSolution:
    if engine == "scip":
        opts = dataclasses.replace(opts, extra={
            **opts.extra, "dual_reductions": SCIP_DUAL_REDUCTIONS,
            "linear_presolve": SCIP_LINEAR_PRESOLVE})
    tol = ENGINES[engine].tolerances()
    margin = 0.0
    if goal.objective is Objective.SPARSEST:
        assert goal.eps is not None
        margin = sparsest_window_margin(instance, goal.eps, tol)
        if engine == "cbc":
            opts = dataclasses.replace(opts, extra={
                **opts.extra, "preprocess": CBC_SPARSEST_PREPROCESS})
        if engine == "gurobi":
            opts = dataclasses.replace(opts, extra={
                **opts.extra, "presolve": GUROBI_SPARSEST_PRESOLVE})
    if engine == "gurobi":
        opts = dataclasses.replace(opts, extra={
            **opts.extra, "numeric_focus": GUROBI_NUMERIC_FOCUS})
    symmetry_rows = engine != "gurobi" or GUROBI_SYMMETRY_ROWS
    built = build_subset_sum(instance, goal, window_margin=margin, break_symmetry=symmetry_rows)
    model = built.model
    slack = float(subset_sum_slack(instance, goal, tol, break_symmetry=symmetry_rows))
    notes: list[str] = []
    stats: dict[str, Any] = {"slack_T": slack, "tolerances": tol.to_json(), "rounds": [],
                             "variables": model.n_vars, "rows": model.n_rows,
                             "symmetry_rows": symmetry_rows}
    if margin:
        stats["window_margin"] = margin
        notes.append(f"the solver's window is eps + {margin:.3g} on each side, so masks on the "
                     f"edge lie inside it by more than its tolerances; masks it finds outside "
                     f"eps are excluded")
    if engine == "scip":  # the backend's option (default off); SCIP's own default is on
        stats["cuts"] = bool(opts.extra.get("cuts", SCIP_CUTS.default))
    clock = Clock(opts.time_limit)
    warm = checked_warm_start(instance, goal, opts, notes, stats)
    start = None if warm is None else built.start(warm)
    if goal.objective is Objective.SPARSEST:
        return _run_sparsest(engine, instance, goal, opts, built, slack, clock,
                             warm, start, notes, stats)

    def excluded_form(mask: np.ndarray) -> np.ndarray:
        """The mask a no-good row must cut: its class's one admitted mask under the rows."""
        return canonical_mask(instance.values, mask) if symmetry_rows else mask

    return _run_min_error(engine, instance, goal, opts, built, slack, clock, warm,
                          start, notes, stats, excluded_form)


def _range_bound(instance: Any) -> Fraction:
    """Every subset sum lies in [sum of the negative values, sum of the positive ones], so no
    mask's error is below the target's exact distance from that interval. It is the whole answer
    when the target lies outside it or every value is 0, where the LP bound minus the slack
    cannot certify."""
    x = np.asarray(instance.values, dtype=np.float64)
    low = -exact_abs_sum(x[x < 0])  # exact, vectorised (a Fraction sum: 1.56 s at n = 1e5)
    high = exact_abs_sum(x[x > 0])
    target = Fraction(float(instance.target))
    return max(Fraction(0), low - target, target - high)


def _run_min_error(engine: str, instance: Any, goal: Goal, opts: SolveOptions,
                   built: BuiltModel, slack: float, clock: Clock,
                   warm: np.ndarray | None, start: np.ndarray | None, notes: list[str],
                   stats: dict[str, Any],
                   excluded_form: Callable[[np.ndarray], np.ndarray]) -> RawSolution:
    model = built.model
    rounds = _exclusion_rounds(opts)
    slack_q = Fraction(slack)
    # Every mask seen, with its exact error and the solver's objective for it (None for the
    # warm start): the incumbent is the best of them.
    seen: list[tuple[Fraction, np.ndarray, float | None]] = []
    if warm is not None:
        seen.append((instance.exact_error(warm), warm, None))

    def best() -> tuple[Fraction, np.ndarray, float | None] | None:
        return min(seen, key=lambda p: p[0]) if seen else None

    def add(mask: np.ndarray, solver_obj: float | None) -> Fraction:
        err = instance.exact_error(mask)
        if not any(np.array_equal(mask, m) for _, m, _ in seen):
            seen.append((err, mask, solver_obj))
        return err

    lower = _range_bound(instance)  # rigorous lower bound on the optimum so far

    def result(status: Status, certified: bool = False) -> RawSolution:
        if status is Status.TIME_LIMIT and not seen:  # stopped before any mask: greedy's
            add(greedy_incumbent(instance, goal), None)
            notes.append("incumbent: the greedy mask (the solver found none in time)")
        b = best()
        mask = None if b is None else b[1]
        solver_objective = None if b is None else b[2]
        if certified and b is not None:
            bound = float_floor(b[0])
            tolerance = 0.0
        else:
            bound = float_floor(lower)
            tolerance = None
            if b is not None:
                gap = b[0] - lower
                notes.append(
                    f"not certified: exact error {float(b[0]):.6g}, rigorous bound "
                    f"{float(lower):.6g} (solver bound minus slack T = {slack:.3g}), "
                    f"gap {float(gap):.3g}")
        return RawSolution(status, mask=mask, bound=bound, certified=certified,
                           tolerance=tolerance, solver_objective=solver_objective,
                           notes=notes, stats=stats)

    # Round 0: the plain model.
    if clock.expired(MIN_SOLVE_SECONDS):
        notes.append("no time left to start the solver")
        return result(Status.TIME_LIMIT)
    res = solve_model(engine, model, opts, clock.remaining(), start)
    _judge_start(res, notes, stats)
    stats["rounds"].append(_round_stats(0, res))
    stats["nodes"] = res.nodes
    notes.extend(res.notes)
    err0 = None
    if res.values is not None:
        err0 = add(built.mask(res.values), res.objective)
    b = best()
    if b is not None and b[0] == 0:
        notes.append("exact error 0: optimal")
        return result(Status.OPTIMAL, certified=True)
    if b is not None and lower >= b[0]:
        notes.append("the mask's exact error is the target's distance from the range of subset "
                     "sums [sum of the negative values, sum of the positive ones]: optimal")
        return result(Status.OPTIMAL, certified=True)
    if res.status == "error":
        return result(Status.FEASIBLE if seen else Status.ERROR)
    if res.status == "infeasible":
        notes.append("solver claims the min_error model is infeasible, but the empty mask is "
                     "feasible: solver failure")
        return result(Status.FEASIBLE if seen else Status.ERROR)
    if res.bound is not None:
        proven = Fraction(res.bound) - slack_q  # every mask has error >= proven
        if err0 is not None and proven > err0:
            notes.append(f"solver bound {res.bound!r} exceeds the exact error of its own mask "
                         f"by more than T: bound dropped, no certificate")
            return result(Status.FEASIBLE)
        lower = max(lower, proven)
        if b is not None and lower >= b[0]:
            notes.append(f"the solver's bound minus T = {slack:.3g} reaches the exact error")
            return result(Status.OPTIMAL, certified=True)
    if res.status in ("time_limit", "stopped"):
        notes.append(f"solver stopped ({res.status}) before proving optimality")
        return result(Status.TIME_LIMIT if res.status == "time_limit" else Status.FEASIBLE)
    assert b is not None and res.values is not None
    # Exclusion rounds: no-good rows for every mask seen; the new bound covers all others.
    excluded: list[np.ndarray] = []
    for k in range(1, rounds + 1):
        for _, m, _ in seen:
            m = excluded_form(m)
            if not any(np.array_equal(m, e) for e in excluded):
                excluded.append(m)
        if clock.expired(MIN_SOLVE_SECONDS):
            notes.append("time limit reached before the exclusion certificate")
            return result(Status.TIME_LIMIT)
        cut_model = model.exclude_masks(excluded)
        res = solve_model(engine, cut_model, opts, clock.remaining(), None)
        stats["rounds"].append(_round_stats(k, res))
        notes.extend(res.notes)
        if res.status == "infeasible":
            left = mask_outside(instance.values, excluded, goal.max_kept)
            if left is not None:  # a point of the cut model in hand: the claim is refuted
                notes.append(exclusion_refuted("the solver", len(excluded), left))
                return result(Status.FEASIBLE)
            notes.append(f"exclusion certificate: no mask other than the {len(excluded)} "
                         f"excluded one(s) is feasible")
            return result(Status.OPTIMAL, certified=True)
        if res.status == "error":
            notes.append("exclusion solve failed")
            return result(Status.FEASIBLE)
        new_err = None
        if res.values is not None:
            new_err = add(built.mask(res.values), res.objective)
        if res.bound is None:
            notes.append("exclusion solve gave no bound")
            return result(Status.TIME_LIMIT if res.status == "time_limit" else Status.FEASIBLE)
        rest = Fraction(res.bound) - slack_q  # bound on every mask not excluded
        if new_err is not None and rest > new_err:
            notes.append(f"exclusion solve bound {res.bound!r} exceeds the exact error of its "
                         f"own mask by more than T: no certificate")
            return result(Status.FEASIBLE)
        excluded_best = min(e for e, m, _ in seen
                            if any(np.array_equal(excluded_form(m), x) for x in excluded))
        lower = max(lower, min(excluded_best, max(rest, Fraction(0))))
        best_err = min(e for e, _, _ in seen)
        if rest >= best_err and res.status == "optimal":
            notes.append(
                f"exclusion certificate: every mask outside the classes of those evaluated "
                f"(masks keeping the same values) has error >= {float(rest):.6g} "
                f"(solver bound {res.bound!r} − T {slack:.3g}) >= {float(best_err):.6g}")
            return result(Status.OPTIMAL, certified=True)
        if rest >= best_err:  # a bound proven before the time limit is still a proof
            notes.append(f"exclusion certificate from the bound at the stop: every other "
                         f"mask has error >= {float(rest):.6g}")
            return result(Status.OPTIMAL, certified=True)
        if res.status != "optimal":
            notes.append(f"exclusion solve stopped ({res.status})")
            return result(Status.TIME_LIMIT if res.status == "time_limit" else Status.FEASIBLE)
    notes.append(f"{rounds} exclusion rounds did not separate the best mask from the others "
                 f"by more than T = {slack:.3g}")
    out = result(Status.FEASIBLE)
    out.limit = Limit.EXCLUSION_CAP
    return out


def _run_sparsest(engine: str, instance: Any, goal: Goal, opts: SolveOptions,
                  built: BuiltModel, slack: float, clock: Clock,
                  warm: np.ndarray | None, start: np.ndarray | None, notes: list[str],
                  stats: dict[str, Any]) -> RawSolution:
    model = built.model
    eps = Fraction(goal.eps)
    rounds = _exclusion_rounds(opts)
    good: list[np.ndarray] = [] if warm is None else [warm]  # masks within eps exactly
    bad: list[np.ndarray] = []  # solver masks outside eps exactly (excluded by no-good rows)
    count_bound: int | None = None
    solver_objective: float | None = None
    margin = max(slack, COUNT_BOUND_SLACK)

    def result(status: Status) -> RawSolution:
        mask = min(good, key=lambda m: int(m.sum())) if good else None
        bound = None if count_bound is None else float(count_bound)
        certified = False
        if mask is not None and count_bound is not None:
            kept = int(mask.sum())
            if kept < count_bound:
                notes.append(f"solver count bound {count_bound} exceeds the count {kept} of a "
                             f"mask within eps: bound dropped")
                bound = None
            elif kept == count_bound and status is not Status.ERROR:
                certified = True
                notes.append(f"count {kept} equals the solver's count bound rounded up "
                             f"(after subtracting {margin:.3g}); the mask is within eps exactly")
                status = Status.OPTIMAL
        if not certified:
            if mask is None and status in (Status.OPTIMAL, Status.FEASIBLE):
                notes.append("no mask within eps exactly was found, and infeasibility was not "
                             "proven")
                status = Status.ERROR
            elif status is Status.OPTIMAL:
                status = Status.FEASIBLE
            if mask is not None:
                notes.append(f"not certified: {int(mask.sum())} kept, count bound {bound}")
        return RawSolution(status, mask=mask, bound=bound, certified=certified,
                           tolerance=0.0 if certified else None,
                           solver_objective=solver_objective, notes=notes, stats=stats)

    for k in range(rounds + 1):
        if clock.expired(MIN_SOLVE_SECONDS):
            notes.append("time limit reached")
            return result(Status.TIME_LIMIT)
        current = model.exclude_masks(bad) if bad else model
        res = solve_model(engine, current, opts, clock.remaining(), start if k == 0 else None)
        _judge_start(res, notes, stats)
        stats["rounds"].append(_round_stats(k, res))
        stats["nodes"] = res.nodes
        notes.extend(res.notes)
        if res.objective is not None:
            solver_objective = res.objective
        if res.status == "infeasible":
            if not good:  # the empty or the greedy mask may be in hand (hunt 234 L1)
                in_hand = sparsest_mask_in_hand(instance, goal, None)
                if in_hand is not None:
                    good.append(in_hand[0])
            if good:
                notes.append("solver claims infeasibility but a known mask is within eps: "
                             "solver claim rejected")
                return result(Status.FEASIBLE)
            if engine == "cbc" and CBC_SPARSEST_SECOND_LOOK:
                # CBC's root cuts proved a window infeasible that holds a mask of 9 values
                # spanning 7 orders of magnitude (preprocessing off; hunt 30): its claim gets
                # a second look, exact, where one is cheap, and is no certificate elsewhere
                found = _exact_sparsest(instance, goal, clock)
                if found is _OUT_OF_TIME:
                    notes.append("CBC says no mask is within eps; the time limit ran out "
                                 "during the exact check of that claim (solve_many)")
                    return result(Status.TIME_LIMIT)
                if found is _NOT_CHECKED:
                    notes.append("CBC says no mask is within eps; not taken as a certificate "
                                 "above n = 40, the exact check's limit (its cuts have proved "
                                 "such windows infeasible wrongly): solve with scip or cpsat "
                                 "to certify it")
                    return result(Status.ERROR)
                if found is not None:
                    good.append(found)
                    notes.append("CBC says no mask is within eps, but the exact check "
                                 "(solve_many) found the fewest kept within eps: claim rejected")
                    count_bound = int(found.sum())  # the exact sparsest count
                    return result(Status.OPTIMAL)
                notes.append("CBC's infeasibility confirmed by the exact check (solve_many)")
            why = "its tolerant model (a relaxation)"
            if bad:
                why += f", with {len(bad)} mask(s) outside eps excluded,"
            notes.append(f"infeasible: {why} has no solution, so no mask has error <= eps")
            return RawSolution(Status.INFEASIBLE, certified=True, tolerance=0.0,
                               notes=notes, stats=stats)
        if res.status == "error":
            return result(Status.ERROR if not good else Status.FEASIBLE)
        if res.bound is not None:
            kb = max(0, math.ceil(res.bound - margin))
            count_bound = kb if count_bound is None else max(count_bound, kb)
        if res.values is not None:
            mask = built.mask(res.values)
            err = instance.exact_error(mask)
            if err <= eps:
                good.append(mask)
            else:
                bad.append(mask)
                # eps named with its value: on scaled data both are scaled (hunt 32)
                notes.append(f"solver's mask has exact error {float(err):.17g} > eps = "
                             f"{float(eps):.17g} (within its tolerance): excluded, solving "
                             f"again")
                if res.status == "optimal":
                    continue
        if res.status == "time_limit":
            return result(Status.TIME_LIMIT)
        if res.status == "stopped":
            return result(Status.FEASIBLE)
        return result(Status.OPTIMAL)
    notes.append(f"{rounds} rounds kept returning masks just outside eps")
    out = result(Status.FEASIBLE)
    out.limit = Limit.EXCLUSION_CAP
    return out


# --------------------------------------------------------------------------------------------
# Registration


def runner(engine: str) -> Callable[[Any, Goal, SolveOptions], RawSolution]:
    """The run function of the subset-sum backend of MILP engine `engine`."""

    def run(instance: Any, goal: Goal, opts: SolveOptions) -> RawSolution:
        return run_milp(engine, instance, goal, opts)

    run.__name__ = f"run_{engine}"
    return run


CBC_SPARSEST_SECOND_LOOK = True
"""Whether CBC's "no mask within eps" gets the exact second look of `_exact_sparsest` (tests
turn it off to show the cases it catches)."""

_NOT_CHECKED = object()
"""`_exact_sparsest`'s answer above the exact bulk solver's size."""
_OUT_OF_TIME = object()
"""`_exact_sparsest`'s answer when the solve's time limit ran out during it."""


def _exact_sparsest(instance: Any, goal: Goal, clock: Clock) -> Any:
    """The fewest-kept mask within eps by exact enumeration (`solve_many`, meet in the middle
    in exact arithmetic), None when no mask is within eps, `_NOT_CHECKED` above its n = 40
    (`bulk.MAX_N`), or `_OUT_OF_TIME` when `clock` runs out first."""
    from exactprune.solvers.subset_sum.bulk import MAX_N, solve_many

    if instance.n > MAX_N:
        return _NOT_CHECKED
    try:
        out = solve_many(np.asarray(instance.values, dtype=np.float64),
                         np.array([float(instance.target)]), objective="sparsest",
                         eps=float(goal.eps), time_limit=engine_limit(clock))
    except InputError:  # more than its memory budget: no second look
        return _NOT_CHECKED
    if out.status[0] == "time_limit":
        return _OUT_OF_TIME
    return None if out.status[0] == "infeasible" else out.masks[0].copy()
