"""OR-Tools CP-SAT backend for subset-sum, over explicitly scaled integers.

CP-SAT works on integers only, so the instance is first scaled by a power of two
(`integer_scaling`): X_i = round(x_i·2^p), Z = round(z·2^p). For float64 data such as
Uniform[-1,1] draws the scaling is *lossless* (every x_i·2^p is already an integer), integer sums
are exact sums of the data, and CP-SAT's OPTIMAL is an exact proof (tolerance 0).

Models (m_i in {0,1} keep-mask, I(m) = |Σ X_i·m_i − Z| in integer units of 2^-p):
- min_error: minimise an integer E with  Σ X m − E <= Z,  Σ X m + E >= Z  (so E >= I(m)),
  optionally Σ m <= max_kept.
- sparsest: minimise Σ m subject to  Z − W <= Σ X m <= Z + W, with W = floor(eps·2^p) when the
  scaling is lossless (then the band is exactly "error <= eps").

Scale size: `bits` (default 60) bounds Σ|X| + |Z| < 2^bits. CP-SAT rejects a model as
MODEL_INVALID when a variable domain leaves [-(2^63−1)/2, (2^63−1)/2] or a linear expression's
min/max activity can exceed that range. The widest expression here is Σ X m ± E with
E <= Σ|X| + |Z|, whose activity stays below 2^(bits+1); bits = 60 keeps a factor 2 of headroom
(61 is the limit). Measured (n = 16, 20, 1 worker): forcing smaller scales (bits 48, 36, 24)
did not make CP-SAT faster, so coefficients of size 2^52..2^60 cost nothing noticeable.

Lossy scaling (values not representable at the chosen scale, e.g. magnitudes spanning 1e-30..1):
every mask keeping k values satisfies |I(m) − 2^p·t(m)| <= (k+1)/2 (t = exact error). Then
- min_error uses an *exclusion certificate*: with S the masks found so far (their exact errors
  known) and L the proven minimum of I over all masks outside S (CP-SAT re-solved with a no-good
  clause per mask of S), every mask outside S has t >= (L − (k_max+1)/2)·2^-p; if that is >= the
  best exact error in S, the best mask of S is exactly optimal (tolerance 0). Otherwise another
  mask is excluded, up to `max_exclusions` (extra option, default 64); then the result is
  FEASIBLE with the valid bound min(best of S, (L − (k_max+1)/2)·2^-p). An INFEASIBLE re-solve
  ("no mask outside S") is believed only when `mask_outside` finds no mask left; one it finds
  refutes the claim (FEASIBLE, as above).
- sparsest solves the relaxed band W = floor(eps·2^p + (n+1)/2) (contains every mask with exact
  error <= eps, so its optimum is a valid lower bound); a returned mask is accepted only if its
  exact error is <= eps, otherwise it is cut off by a no-good clause and the model re-solved. All
  excluded masks are exactly infeasible, so the first accepted mask from an OPTIMAL solve is
  optimal, and INFEASIBLE after exclusions is a proof of infeasibility, unless a mask in hand
  (the warm start, the empty mask, the greedy mask: `sparsest_mask_in_hand`) is within eps
  exactly (it is in the band and never cut off): then the claim is refuted.

Repeated values: masks keeping as many of each group of equal values (and any zeros) have the
same integer sum, so the model keeps one mask per class, as the MILP engines' symmetry rows do
(`formulations.subset_sum.milp`): zeros are never kept and m_b => m_a for consecutive members
a < b of a group. The optimum is unchanged (every mask's error is its canonical mask's), a
no-good clause excludes a whole class, and the search no longer visits every copy (pooled
values, n = 24: time limit at 20 s before, docs/numerics.md).

CP-SAT presolve is OFF by default. OR-Tools 9.15 presolve certifies wrong optima on this very
model: with a cardinality constraint (max_kept) and coefficients around 2^32..2^52, the
linear-inclusion / at-most-one-and-linear reductions return OPTIMAL masks far from the optimum
(measured: 27 wrong of 10,800 seeded small solves against exhaustive enumeration; e.g.
X = [-1953814121314966, 3695212260712951, 2876133098086176, -1868760787313588],
Z = 3016096220192258, at most 2 kept: OPTIMAL 679116040520693, true 139963122106082).
This is google/or-tools issue #5293 (presolve_inclusion_work_limit = 0 avoids it); #5274 reports
a wrong INFEASIBLE from 9.15 presolve. Switching presolve off cost no measurable time on these
two-constraint models (n = 18..22), so we use the smallest code path; extra option presolve=True
turns it back on, still with presolve_inclusion_work_limit = 0.

CP-SAT certification: the objectives are integer, absolute_gap_limit and relative_gap_limit are
set to 0, and a mask is certified only when our own integer recomputation of its objective is
<= CP-SAT's proven integer lower bound (response.inner_objective_lower_bound), which is what
OPTIMAL means for an integer objective. Bounds are converted to real units rounding down.

Options: threads -> num_workers (default 1; one worker is deterministic for a given seed, with
more workers the search and even the returned optimal mask among ties can differ between runs);
seed -> random_seed; time_limit -> max_time_in_seconds for the whole solve, shared by the
certificate re-solves; verbose -> CP-SAT search log on stderr; warm_start -> AddHint.
extra: bits (scale size, <= 60), max_exclusions (lossy certificate re-solves), presolve
(default False, see above).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from fractions import Fraction
from typing import Any

import numpy as np

from exactprune.formulations.subset_sum.milp import canonical_mask, mask_outside, order_pairs
from exactprune.instances.errors import InputError
from exactprune.instances.params import Param, is_integer
from exactprune.instances.scaling import IntegerScaling, float_floor, integer_scaling
from exactprune.instances.subset_sum import SubsetSumInstance
from exactprune.solvers.clock import Clock
from exactprune.solvers.cpsat_engine import (
    capture_log,
    configured_solver,
    hint_verdict,
    solve_cpsat,
)
from exactprune.solvers.result import Goal, Limit, Objective, RawSolution, SolveOptions, Status
from exactprune.solvers.subset_sum.heuristics import (
    greedy_incumbent,
    no_worse_than_start,
    start_at_floor,
    with_core_start,
)
from exactprune.solvers.subset_sum.milp import (
    checked_warm_start,
    exclusion_refuted,
    refuted_by_mask_in_hand,
    sparsest_mask_in_hand,
)

DEFAULT_BITS = 60
MAX_BITS = 60
DEFAULT_MAX_EXCLUSIONS = 64

OPTIONS = (
    Param("bits", "int", DEFAULT_BITS, "scale size: sum |X| + |Z| < 2^bits", minimum=8,
          maximum=MAX_BITS),
    Param("max_exclusions", "int", DEFAULT_MAX_EXCLUSIONS,
          "lossy scaling: most masks cut off by no-good clauses", minimum=0),
    Param("presolve", "bool", False,
          "CP-SAT presolve (off: OR-Tools 9.15 presolve certifies wrong optima, or-tools#5293)"),
)


# -- small exact helpers -------------------------------------------------------------------------
def _units_to_real_floor(units: Fraction | int, exponent: int) -> float:
    """units·2^-exponent as a float rounded down (a rigorous lower bound in real units)."""
    return float_floor(Fraction(units) / Fraction(2) ** exponent)


def _scaled_error(scaling: IntegerScaling, mask: np.ndarray) -> int:
    """I(m) = |Σ X_i m_i − Z| in exact Python integers."""
    return abs(sum(int(v) for v in scaling.values[mask]) - int(scaling.target))


# -- the model ------------------------------------------------------------------------------------
def one_mask_per_class(model: Any, keep: list[Any], values: np.ndarray) -> None:
    """Constrain `keep` to one mask per class of equal sums, as the MILP engines' symmetry rows
    (module docstring): zeros never kept, each group of equal values kept from its first
    member (`canonical_mask`)."""
    for i in np.flatnonzero(values == 0.0).tolist():
        model.add(keep[i] == 0)
    for a, b in order_pairs(values):
        model.add_implication(keep[b], keep[a])


@dataclass
class _Outcome:
    """One CP-SAT solve: status name, mask (if any), proven integer lower bound, objective."""

    status: str
    mask: np.ndarray | None
    lower_bound: int | None
    objective: float | None
    message: str = ""


@dataclass
class _Run:
    """A CP-SAT model over the keep-mask, re-solvable after adding no-good cuts."""

    instance: SubsetSumInstance
    opts: SolveOptions
    clock: Clock
    model: Any = None
    keep: list[Any] = field(default_factory=list)
    stats: dict[str, Any] = field(default_factory=dict)
    hinted: bool = False

    def __post_init__(self) -> None:
        from ortools.sat.python import cp_model

        self.model = cp_model.CpModel()
        self.keep = [self.model.new_bool_var(f"m{i}") for i in range(self.instance.n)]
        one_mask_per_class(self.model, self.keep, self.instance.values)
        self.stats = {"solves": 0, "branches": 0, "conflicts": 0, "cpsat_wall_time_s": 0.0,
                      "no_good_cuts": 0}

    def hint(self, mask: np.ndarray | None, extra: tuple[Any, int] | None = None) -> None:
        """Hint the mask (and `extra` = (variable, value), e.g. the error variable), so that
        the hint is complete; a hint is judged (stats["warm_start"]) on the next solve."""
        self.model.clear_hints()
        self.hinted = mask is not None
        if mask is not None:  # its canonical mask: the same sum, and admitted by the model
            mask = canonical_mask(self.instance.values, mask)
            for var, bit in zip(self.keep, mask, strict=True):
                self.model.add_hint(var, bool(bit))
            if extra is not None:
                self.model.add_hint(*extra)

    def exclude(self, mask: np.ndarray) -> None:
        """No-good clause: at least one entry differs from `mask`."""
        self.model.add_bool_or(
            [var.Not() if bit else var for var, bit in zip(self.keep, mask, strict=True)]
        )
        self.stats["no_good_cuts"] += 1

    def time_left(self) -> float | None:
        return self.clock.remaining()

    def solve(self) -> _Outcome:

        left = self.time_left()
        if left is not None and left <= 0:
            return _Outcome("UNKNOWN", None, None, None, "no time left")
        # CP-SAT 9.15 presolve bugs (see module docstring): off by default here
        solver = configured_solver(self.opts, left, presolve=_presolve(self.opts))
        log = capture_log(solver, self.opts) if self.hinted else None
        status = solve_cpsat(solver, self.model)
        if log is not None and "warm_start" not in self.stats:
            verdict, reason = hint_verdict(log)
            if verdict is not None:  # no verdict line: CP-SAT stopped before judging it
                self.stats["warm_start"] = verdict
            if reason:
                self.stats["warm_start_reason"] = reason
        name = solver.status_name(status)
        resp = solver.response_proto
        self.stats["solves"] += 1
        self.stats["branches"] += int(resp.num_branches)
        self.stats["conflicts"] += int(resp.num_conflicts)
        self.stats["cpsat_wall_time_s"] += float(resp.wall_time)
        if name == "MODEL_INVALID":
            return _Outcome(name, None, None, None, self.model.validate() or "model invalid")
        mask = None
        objective = None
        if name in ("OPTIMAL", "FEASIBLE"):
            mask = np.array([bool(solver.boolean_value(v)) for v in self.keep], dtype=bool)
            objective = float(resp.objective_value)
        lower = None
        if name in ("OPTIMAL", "FEASIBLE", "UNKNOWN"):
            # The exact int64 bound on the objective expression (E or Σm, coefficient 1, no
            # offset); best_objective_bound is only its double image (off by up to 128 at 2^60).
            # Both objectives are >= 0, so a missing (very negative) bound becomes 0.
            lower = max(0, int(resp.inner_objective_lower_bound))
        return _Outcome(name, mask, lower, objective)


def _scale(instance: SubsetSumInstance, opts: SolveOptions) -> IntegerScaling:
    bits = opts.extra.get("bits", DEFAULT_BITS)
    if (not is_integer(bits)
            or not 8 <= bits <= MAX_BITS):
        raise InputError(f"cpsat option bits must be an integer in [8, {MAX_BITS}], got {bits!r}")
    return integer_scaling(instance.values, instance.target, bits=int(bits))


def _presolve(opts: SolveOptions) -> bool:
    flag = opts.extra.get("presolve", False)
    if not isinstance(flag, bool | np.bool_):
        raise InputError(f"cpsat option presolve must be true or false, got {flag!r}")
    return bool(flag)


def _max_exclusions(opts: SolveOptions) -> int:
    k = opts.extra.get("max_exclusions", DEFAULT_MAX_EXCLUSIONS)
    if not is_integer(k) or k < 0:
        raise InputError(f"cpsat option max_exclusions must be an integer >= 0, got {k!r}")
    return int(k)


def _error_range(scaling: IntegerScaling) -> int:
    """Largest possible I(m) over all masks (an upper bound for E)."""
    x = [int(v) for v in scaling.values]
    z = int(scaling.target)
    pos = sum(v for v in x if v > 0)
    neg = sum(v for v in x if v < 0)
    return max(pos - z, z - neg, 0)


def _base_notes(scaling: IntegerScaling, opts: SolveOptions) -> list[str]:
    notes = [scaling.describe()]
    if _presolve(opts):
        notes.append("CP-SAT presolve on at the user's request (inclusion reductions off)")
    workers = opts.threads or 1
    if workers > 1:
        notes.append(f"CP-SAT with {workers} workers: the search is not deterministic between runs")
    return notes


def _base_stats(scaling: IntegerScaling, bits: int) -> dict[str, Any]:
    return {"scale_exponent": scaling.exponent, "lossless_scaling": scaling.lossless,
            "scale_bits": bits}


# -- min_error ------------------------------------------------------------------------------------
def _run_min_error(instance: SubsetSumInstance, goal: Goal, opts: SolveOptions,
                   scaling: IntegerScaling, run: _Run, notes: list[str],
                   stats: dict[str, Any]) -> RawSolution:
    n = instance.n
    model = run.model
    x = [int(v) for v in scaling.values]
    z = int(scaling.target)
    err = model.new_int_var(0, _error_range(scaling), "E")
    total = sum(c * v for c, v in zip(x, run.keep, strict=True))
    model.add(total - err <= z)
    model.add(total + err >= z)
    k_max = n
    if goal.max_kept is not None and goal.max_kept < n:
        model.add(sum(run.keep) <= goal.max_kept)
        k_max = goal.max_kept
    model.minimize(err)
    # a start that breaks max_kept is rejected here, exactly, as the MILP engines do (CP-SAT
    # stopped by the limit before judging its hint had it reported "accepted")
    warm = checked_warm_start(instance, goal, opts, notes, stats)
    run.hint(warm, None if warm is None else (err, _scaled_error(scaling, warm)))
    p = scaling.exponent
    slack2 = 0 if scaling.lossless else k_max + 1  # twice the scaling slack, in units

    def real_bound(lower_units: int) -> float:
        return max(0.0, _units_to_real_floor(Fraction(2 * lower_units - slack2, 2), p))

    first = run.solve()
    stats["cpsat_status"] = first.status
    if first.status == "MODEL_INVALID":
        notes.append(f"CP-SAT rejected the model: {first.message}")
        return RawSolution(Status.ERROR, notes=notes, stats=stats)
    if first.status == "INFEASIBLE" or first.mask is None:
        if first.status == "INFEASIBLE":
            notes.append("CP-SAT reported INFEASIBLE, impossible for min_error (empty mask fits)")
            return RawSolution(Status.ERROR, notes=notes, stats=stats)
        notes.append("time limit before CP-SAT found a solution")
        bound = real_bound(first.lower_bound) if first.lower_bound is not None else None
        ws = warm if warm is not None else greedy_incumbent(instance, goal)
        notes.append("returning the warm start mask" if warm is not None else
                     "incumbent: the greedy mask")
        return RawSolution(Status.TIME_LIMIT, mask=ws, bound=bound, notes=notes, stats=stats)
    solver_objective = math.ldexp(first.objective, -p) if first.objective is not None else None
    mask = first.mask
    units = _scaled_error(scaling, mask)
    lower = first.lower_bound if first.lower_bound is not None else 0
    stats["objective_units"] = units
    stats["bound_units"] = lower
    if first.status != "OPTIMAL":
        notes.append("time limit: CP-SAT incumbent, optimality not proven")
        return RawSolution(Status.TIME_LIMIT, mask=mask, bound=real_bound(lower),
                           solver_objective=solver_objective, notes=notes, stats=stats)
    if units > lower:
        notes.append(f"CP-SAT claimed OPTIMAL but the mask's scaled error {units} exceeds its "
                     f"proven bound {lower}: not certified")
        return RawSolution(Status.FEASIBLE, mask=mask, bound=real_bound(lower),
                           solver_objective=solver_objective, notes=notes, stats=stats)
    if scaling.lossless:
        notes.append("certificate: CP-SAT OPTIMAL on exactly scaled integers (gap limits 0)")
        return RawSolution(Status.OPTIMAL, mask=mask, bound=real_bound(lower), certified=True,
                           tolerance=0.0, solver_objective=solver_objective, notes=notes,
                           stats=stats)
    return _exclusion_certificate(instance, scaling, run, mask, lower, k_max, opts,
                                  solver_objective, notes, stats)


def _exclusion_certificate(instance: SubsetSumInstance, scaling: IntegerScaling, run: _Run,
                           mask: np.ndarray, lower: int, k_max: int, opts: SolveOptions,
                           solver_objective: float | None, notes: list[str],
                           stats: dict[str, Any]) -> RawSolution:
    """Lossy min_error: exclude found masks until the rest provably cannot beat the best."""
    p = scaling.exponent
    scale = Fraction(2) ** p
    slack = Fraction(k_max + 1, 2)
    best_mask = mask
    best_err = instance.exact_error(mask)
    found = [mask]
    outside = Fraction(lower)  # proven minimum of I over every mask not yet excluded
    all_examined = False  # CP-SAT proved that no mask is left outside `found`
    limit = _max_exclusions(opts)
    stopped = ""  # why the certificate did not close: "time", "invalid", "refuted" or "cap"
    run.hint(None)
    while True:
        if all_examined or (outside - slack) / scale >= best_err:
            stats["exclusions"] = len(found) - 1
            notes.append(
                f"certificate: exclusion with {len(found) - 1} no-good re-solve(s): every other "
                f"mask has scaled error >= {'inf' if all_examined else outside}, minus "
                f"the scaling slack (k+1)/2 <= {slack} units still >= the best exact error"
            )
            bound = float_floor(best_err)
            return RawSolution(Status.OPTIMAL, mask=best_mask, bound=bound, certified=True,
                               tolerance=0.0, solver_objective=solver_objective, notes=notes,
                               stats=stats)
        if len(found) - 1 >= limit:
            stopped = "cap"
            break
        run.exclude(found[-1])
        nxt = run.solve()
        if nxt.status == "INFEASIBLE":
            left = mask_outside(instance.values, found, k_max)
            if left is None:
                all_examined = True
                continue
            # a point of the cut model in hand (exact): the claim is refuted, as the MILP
            # engines' exclusion answers are; trusted, it would certify the best mask found
            stopped = "refuted"
            notes.append(exclusion_refuted("CP-SAT", len(found), left))
            break
        if nxt.lower_bound is not None:
            outside = max(outside, Fraction(nxt.lower_bound))
        if nxt.mask is not None:
            found.append(nxt.mask)
            e = instance.exact_error(nxt.mask)
            if e < best_err:
                best_err, best_mask = e, nxt.mask
        if nxt.status != "OPTIMAL":
            stopped = "invalid" if nxt.status == "MODEL_INVALID" else "time"
            if stopped == "invalid":
                notes.append(f"CP-SAT rejected the exclusion model: {nxt.message}")
            break
    stats["exclusions"] = len(found) - 1
    bound_q = max(Fraction(0), min(best_err, (outside - slack) / scale))
    why = {"time": "time limit during the exclusion certificate",
           "invalid": "exclusion re-solve failed",
           "refuted": "exclusion re-solve refuted",
           "cap": f"exclusion certificate not closed after {limit} no-good re-solves "
                  "(many masks tie at this scale; raise max_exclusions)"}[stopped]
    notes.append(f"lossy scaling: {why}; bound accounts for the scaling slack (k+1)/2 units")
    status = Status.TIME_LIMIT if stopped == "time" else Status.FEASIBLE
    return RawSolution(status, mask=best_mask, bound=float_floor(bound_q),
                       solver_objective=solver_objective, notes=notes, stats=stats,
                       limit=Limit.EXCLUSION_CAP if stopped == "cap" else None)


# -- sparsest -------------------------------------------------------------------------------------
def _run_sparsest(instance: SubsetSumInstance, goal: Goal, opts: SolveOptions,
                  scaling: IntegerScaling, run: _Run, notes: list[str],
                  stats: dict[str, Any]) -> RawSolution:
    assert goal.eps is not None
    n = instance.n
    eps = Fraction(goal.eps)
    p = scaling.exponent
    scaled_eps = eps * Fraction(2) ** p
    if scaling.lossless:
        band = math.floor(scaled_eps)
    else:
        band = math.floor(scaled_eps + Fraction(n + 1, 2))
    stats["band_units"] = band if band <= 2**62 else f">2^62 (2^{band.bit_length() - 1}+)"
    model = run.model
    x = [int(v) for v in scaling.values]
    z = int(scaling.target)
    if band < _error_range(scaling):  # otherwise every mask is inside the band
        total = sum(c * v for c, v in zip(x, run.keep, strict=True))
        model.add(total <= z + band)
        model.add(total >= z - band)
    model.minimize(sum(run.keep))
    warm = checked_warm_start(instance, goal, opts, notes, stats)  # eps checked exactly
    run.hint(warm)
    if scaling.lossless:
        notes.append(f"band |ΣXm − Z| <= {band} units is exactly error <= eps")
    else:
        notes.append(f"lossy scaling: relaxed band {band} units = floor(eps·2^p + (n+1)/2); "
                     "masks re-checked exactly, infeasible ones cut off")

    def exactly_feasible(mask: np.ndarray | None) -> bool:
        return mask is not None and instance.exact_error(mask) <= eps

    limit = _max_exclusions(opts)
    cuts = 0
    solver_objective = None
    lower = 0
    while True:
        out = run.solve()
        stats.setdefault("cpsat_status", out.status)
        if solver_objective is None and out.objective is not None:
            solver_objective = out.objective
        if out.lower_bound is not None:
            lower = max(lower, out.lower_bound)
        if out.status == "MODEL_INVALID":
            notes.append(f"CP-SAT rejected the model: {out.message}")
            return RawSolution(Status.ERROR, notes=notes, stats=stats)
        if out.status == "INFEASIBLE":
            stats["exclusions"] = cuts
            # a mask within eps exactly is in the band and never cut off (hunt 234 L1: without
            # a start, an injected INFEASIBLE was certified beside an empty mask within eps)
            in_hand = sparsest_mask_in_hand(instance, goal, warm)
            if in_hand is not None:
                notes.append(refuted_by_mask_in_hand("CP-SAT", in_hand[1]))
                return RawSolution(Status.FEASIBLE, mask=in_hand[0], bound=float(lower),
                                   solver_objective=solver_objective, notes=notes, stats=stats)
            why = (f" after cutting off {cuts} mask(s) whose exact error exceeds eps"
                   if cuts else "")
            notes.append(f"certificate: CP-SAT proved no mask within the band{why}")
            return RawSolution(Status.INFEASIBLE, certified=True, tolerance=0.0, notes=notes,
                               stats=stats)
        if out.mask is None:  # UNKNOWN: no solution within the limit
            stats["exclusions"] = cuts
            notes.append("time limit before CP-SAT found a solution")
            ws = opts.warm_start if exactly_feasible(opts.warm_start) else None
            if ws is not None:
                notes.append("returning the warm start mask")
            return RawSolution(Status.TIME_LIMIT, mask=ws, bound=float(lower), notes=notes,
                               stats=stats)
        kept = int(out.mask.sum())
        feasible = exactly_feasible(out.mask)  # always true when lossless; checked anyway
        if out.status != "OPTIMAL":
            stats["exclusions"] = cuts
            notes.append("time limit: CP-SAT incumbent, optimality not proven")
            mask = out.mask if feasible else None
            if mask is None:
                notes.append("the incumbent of the relaxed band exceeds eps exactly: dropped")
            return RawSolution(Status.TIME_LIMIT, mask=mask, bound=float(lower),
                               solver_objective=solver_objective, notes=notes, stats=stats)
        if feasible:
            stats["exclusions"] = cuts
            if kept > lower:
                notes.append(f"CP-SAT claimed OPTIMAL with {kept} kept above its bound {lower}")
                return RawSolution(Status.FEASIBLE, mask=out.mask, bound=float(lower),
                                   solver_objective=solver_objective, notes=notes, stats=stats)
            notes.append("certificate: CP-SAT OPTIMAL (integer count, gap limits 0)"
                         + ("" if scaling.lossless else
                            f" on the relaxed band after {cuts} no-good cut(s)"))
            return RawSolution(Status.OPTIMAL, mask=out.mask, bound=float(kept), certified=True,
                               tolerance=0.0, solver_objective=solver_objective, notes=notes,
                               stats=stats)
        if cuts >= limit:
            stats["exclusions"] = cuts
            # cuts + 1 found: the last is not excluded (max_exclusions=0 said "0 masks";
            # hunt 104 L2)
            notes.append(f"{cuts + 1} mask(s) of the relaxed band exceeded eps exactly "
                         f"({cuts} excluded, max_exclusions = {limit}): stopped without a "
                         "feasible mask (raise max_exclusions); the bound from the relaxed band "
                         "is valid")
            return RawSolution(Status.ERROR, bound=float(lower), notes=notes, stats=stats,
                               limit=Limit.EXCLUSION_CAP)
        run.exclude(out.mask)
        cuts += 1
        run.hint(None)


# -- entry point ----------------------------------------------------------------------------------
def run_cpsat(instance: SubsetSumInstance, goal: Goal, opts: SolveOptions) -> RawSolution:
    """Solve a subset-sum goal with CP-SAT on scaled integers; certify as described above.

    The clock starts here, so the scaling, the core_search start and the model's variables
    count against the limit (the scaling's time was not counted: at n = 300,000 a 2 s limit
    ran 4.65 s, now 3.8 s; hunt 64 M3)."""
    clock = Clock(opts.time_limit)
    scaling = _scale(instance, opts)
    _max_exclusions(opts)  # validate early
    _presolve(opts)
    bits = int(opts.extra.get("bits", DEFAULT_BITS))
    opts, started = with_core_start(instance, goal, opts)
    if (done := start_at_floor(instance, goal, opts)) is not None:
        return started(done)
    run = _Run(instance, opts, clock)
    notes = _base_notes(scaling, opts)
    stats = _base_stats(scaling, bits)
    if goal.objective is Objective.SPARSEST:
        raw = _run_sparsest(instance, goal, opts, scaling, run, notes, stats)
    else:
        raw = _run_min_error(instance, goal, opts, scaling, run, notes, stats)
    raw.stats.update(run.stats)
    return started(no_worse_than_start(instance, goal, opts, raw, "CP-SAT"))


