"""Exact neuron and weight pruning: the selection MILP (or CP-SAT model), certified.

The model is the column-selection MILP of `formulations.pruning.selection` (weight pruning:
the dictionary of input sub-masks, or `formulation=bigm`; neuron pruning: one column per unit),
solved by a MILP engine of `solvers.milp_engines` (highs, cbc, scip) or by CP-SAT
(`solvers.pruning.cpsat`). The model's own `start(mask)` gives the engine a complete, feasible
start from the incumbent; the engine's verdict on it is `stats["warm_start"]`.
An incumbent (warm start, or a fixed amount of `prune_local_search`: `search_incumbent`)
caps the error variable, which removes nothing better. By default the model holds every point and
is solved once.
With `lazy=True` (linf only) points are generated lazily instead:
1. start from the incumbent's worst points and some evenly spaced ones;
2. solve on those points: the proven bound is a lower bound for the whole point set (a mask's
   max over a subset is at most its max over all points);
3. evaluate the new mask on every point, keep it if it beats the incumbent; stop when its worst
   point is already in the subset, otherwise add its worst points and repeat.
Measured slower on our benchmarks (the optimum over few points is much smaller, so the cap
prunes little), hence off by default.
The result is certified when incumbent − (bound − T) <= max(1e-5·incumbent, 5·eval_tol), where T is
the engine's tolerance slack; the certificate's tolerance (that gap plus the evaluation rounding)
is stated. When T alone blocks that (tiny errors), `exclusion_recheck` evaluates and excludes
the masks within T of the optimum until it does not; with the linf norm each no-good cuts off
a mask's whole family of exact ties at its worst point (`point_families`).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any

import numpy as np

from exactprune.formulations.linear import MilpModel, tolerance_slack
from exactprune.formulations.pruning.antipodal import antipodal_model, antipodal_refusal
from exactprune.formulations.pruning.bigm import WeightMasks, bigm_model
from exactprune.formulations.pruning.selection import (
    MAX_DICTIONARY_D,
    Selection,
    build_selection,
    dictionary_limit_message,
    past_dictionary,
    selection_model,
)
from exactprune.instances.errors import InputError
from exactprune.instances.network import gamma
from exactprune.solvers import registry
from exactprune.solvers.clock import NOT_STARTED, Clock, engine_limit
from exactprune.solvers.exclusion_recheck import (
    CAPPED_STATUSES,
    ZERO_LOSS_NOTE,
    CappedOutcome,
    CappedSolve,
    Family,
    bound_refuted,
    certifiable,
    exclusion_recheck,
    worst_entry_family,
)
from exactprune.solvers.result import Goal, Limit, RawSolution, SolveOptions, Status

INITIAL_POINTS = 32
POINTS_PER_ROUND = 6


def selection_slack(sel: Selection, model: MilpModel, tolerances: Any, err_cap: float,
                    dual_norm: float = 2.0) -> float:
    """Absolute slack T of the engine's dual bound on this model (objective units).

    The engine's tolerances make its feasible set a *relaxation* of ours (rows violated by up
    to the feasibility tolerance, near-integral values accepted), and the dual bound of a
    relaxation is a valid lower bound; so integrality does not enter. What can make a reported
    bound too high: dual infeasibility of node LPs (at most optimality tolerance × Σ variable
    ranges, the Lagrangian argument), rows of the objective's epigraph satisfied only up to the
    feasibility tolerance (scaled by 1 + max|f|, the row right-hand sides, with dual norm 2),
    and the stopping gaps, cutoff and zero tolerances. Summed, times a safety factor 2.
    The box is the model's own variable bounds, binaries included: each binary's reduced cost
    may be off by the optimality tolerance over its whole range 1 (until 2026-12-02 every
    range was capped at `err_cap`, which understated this term by 1/err_cap for the binaries).
    """
    ranges = model.upper - model.lower
    if not np.all(np.isfinite(ranges)):
        return math.inf  # an unbounded variable: no slack can be given, nothing certifies
    return tolerance_slack(
        tolerances,
        dual_norm=dual_norm,
        row_scale=1.0 + float(np.max(np.abs(sel.target))),
        box_size=float(np.sum(ranges)),
        integer_scale=0.0,
        data_scale=0.0,
        n_entries=0,
        objective_scale=err_cap,
        safety=2.0,
    )


# HiGHS certified a wrong optimum on a big-M weight model (cross audit case 62: 0.18717 where
# 0.18221 exists, for random seeds 41 and 62 of 140, presolve on or off; the dictionary model
# of the same instance right on every seed tried): `highs` does not offer big-M. Nor does
# `cbc`: on audit case 11138 (weight d = 3, n = 4, relu output, K = 16) CBC 2.10.3 certified
# 0.21440 where 0.20349 exists, on the big-M model capped at the incumbent's error, from the
# incumbent's start, for 8 of 40 random seeds (1 of 40 at CBC's default tolerances, 1 of 40
# without preprocessing), while SCIP, Gurobi and every engine on the dictionary model were right.
NO_BIGM_ENGINES = ("highs", "cbc", "cpsat")
"""Engines that do not take the big-M formulation (CP-SAT has its own model)."""
NO_ANTIPODAL_ENGINES = ("cbc",)
"""CBC certified a weight-pruning optimum 42x too large on the antipodal model of points
spanning 2^-56 .. 2^-32 where the other engines were right (hunt 107): not offered there."""


INCUMBENT_SEARCH: dict[str, Any] = {}
"""`prune_local_search` options of the incumbent search on masks of more than
`SMALL_MASK` entries: its whole default search (20 restarts, 100 large-neighbourhood rounds), a
fixed amount of work instead of the 2 s of wall clock it had, so the same instance, options
and seed give the same incumbent, hence the same exact run, on any machine. It takes 3.8-6.2 s
at neuron n = 128 (K = 256), 2.5-3.1 s at weight n = 48 (K = 128). Fewer restarts cost
quality: 5 restarts gave a 7.9x worse incumbent on weight n = 32, relu, seed 0, and there
(tiny errors) the engine needs a good one: SCIP took 10.1 s from the greedy mask against 1.6 s
from the whole search."""
SMALL_MASK = 32
SMALL_MASK_SEARCH: dict[str, Any] = {"restarts": 0, "kicks": 0, "lns_rounds": 0}
"""Greedy forward selection and one descent (~2 ms) for masks of at most `SMALL_MASK` entries:
there the engine certifies in 0.01-0.12 s from it, while the whole search alone took 0.4-0.95 s
(neuron n = 16, 32, K = 128; weight n = 8, 16, K = 64; both outputs; seeds 0, 1)."""
INCUMBENT_TIME_SHARE = 0.25
"""With a time limit the incumbent search may use at most this share of it; only then, when
the limit cuts it, can the incumbent depend on the machine's speed (said in the notes)."""


def search_incumbent(instance: Any, seed: int | None,
                     budget: float | None) -> tuple[np.ndarray | None, str]:
    """The exact backends' incumbent: the mask `prune_local_search` finds with
    `INCUMBENT_SEARCH` (`SMALL_MASK_SEARCH` on small masks; None if none), and where it comes
    from (said in the result's notes).

    budget: the exact solve's time limit in seconds (None: none), of which the search may use
    `INCUMBENT_TIME_SHARE`."""
    name = "prune_local_search"
    backend = registry.get_backend(name, instance.kind)
    # a share of a subnormal limit (5e-324 s) underflowed to 0.0, which SolveOptions refuses
    # as no positive time limit: the solve was refused (hunt 209 F2)
    limit = None if budget is None else INCUMBENT_TIME_SHARE * budget or budget
    small = instance.mask_size <= SMALL_MASK
    raw = backend.run(instance, Goal(), SolveOptions(
        time_limit=limit, seed=seed,
        extra=backend.parse_options(SMALL_MASK_SEARCH if small else INCUMBENT_SEARCH)))
    if raw.status is Status.TIME_LIMIT:
        name += " (cut short by the time limit: may differ between runs)"
    return raw.mask, name


def _initial_incumbent(instance: Any, sel: Selection, opts: SolveOptions,
                       budget: float | None) -> tuple[np.ndarray, str]:
    if opts.warm_start is not None:
        return sel.choice_from_mask(opts.warm_start), "warm start"
    mask, source = search_incumbent(instance, opts.seed, budget)
    if mask is None:
        return np.zeros(sel.n_columns, dtype=bool), "empty mask"
    return sel.choice_from_mask(mask), source


@dataclass
class PointSetOutcome(CappedOutcome):
    """One solve of the pruning problem restricted to a point subset (`CappedOutcome`; y is a
    column choice of `Selection`), with the engine's verdict on the start."""

    start: str | None = None
    """The engine's verdict on the start: accepted | rejected | not_supported | None."""
    start_reason: str | None = None
    started: bool = True
    """False when the time limit ran out before the engine was started (no round)."""


class MilpPointSetSolver:
    """Solves on a point set with a MILP engine of `solvers.milp_engines` (highs, cbc, scip)."""

    def __init__(self, engine: str, sel: Selection, opts: SolveOptions,
                 instance: Any = None, formulation: str = "dictionary") -> None:
        from exactprune.solvers.milp_engines import ENGINES

        self.engine, self.sel, self.opts = engine, sel, opts
        self.instance, self.formulation = instance, formulation
        self.tolerances = ENGINES[engine].tolerances()

    def solve(self, points: list[int], cap: float, start_y: np.ndarray | None,
              time_limit: float | None,
              exclude: Sequence[Any] = ()) -> PointSetOutcome:
        """Minimise the error on `points` below `cap`, from `start_y` (or no start), every
        column choice in `exclude` cut off by a no-good (dictionary and antipodal
        formulations, whose mask variables are the column choice)."""
        from exactprune.solvers.milp_engines import proven_lower_bound, solve_model

        clock = Clock(time_limit)  # building the model counts against the limit
        rounding = 0.0
        if self.formulation == "bigm":
            built = bigm_model(self.instance, points, t_max=cap)
        elif self.formulation == "antipodal":
            built, rounding = antipodal_model(self.sel, self.instance, points, t_max=cap)
        else:
            built = selection_model(self.sel, points, t_max=cap)
        model = built.model
        if exclude:
            model = model.exclude_masks(exclude)
        start = None if start_y is None else built.start(self.sel.mask_from_choice(start_y))
        opts = self.opts
        if self.formulation in ("bigm", "antipodal") and self.engine == "scip":
            # SCIP's linear presolve proved a wrong bound on a big-M model (audit case 8111)
            # and on an antipodal one (audit case 18758: the incumbent 0.0114 "optimal" below
            # a cap, optimum 0.0021, for 32 of 300 random seeds; 0 of 300 without it, and 0
            # of 300 on the same instance's selection model with it)
            opts = replace(opts, extra={**opts.extra, "linear_presolve": False})
        elif self.engine == "scip":
            # and its reductions cut the better masks off selection models with equal columns
            # capped at the start's error: the start came back "optimal", 5.56e-3 where
            # 2.29e-12 exists (hunt 116 H1: right without its dual reductions or without its
            # linear presolve), and 0.00244 where 8.36e-13 exists with the dual reductions
            # off alone (hunt 118 H1, a lazy round): both off (docs/pruning.md, the price)
            opts = replace(opts, extra={**opts.extra, "dual_reductions": False,
                                        "linear_presolve": False})
        if clock.expired():  # building took the whole limit: no engine run to wait for
            return PointSetOutcome("time_limit", None, None, 0.0, [NOT_STARTED], started=False)
        res = solve_model(self.engine, model, opts, time_limit=engine_limit(clock),
                          start=start)
        slack = selection_slack(self.sel, model, self.tolerances, cap,
                                dual_norm=4.0 if self.formulation == "antipodal" else 2.0)
        slack += 2.0 * rounding
        y = None
        if res.values is not None:
            y = self.sel.choice_from_mask(built.mask(res.values))
        lower = proven_lower_bound(res, model, slack, cap)
        status = res.status if res.status in CAPPED_STATUSES else "error"
        return PointSetOutcome(status, y, lower, slack, list(res.notes), res.start,
                               res.start_reason, started=res.started)


def capped_on(point_solver: Any, points: list[int]) -> CappedSolve:
    """`point_solver` on a fixed point set, as the re-check's solve(cap, time_limit, exclude)."""

    def solve(cap: float, time_limit: float | None,
              exclude: Sequence[Any]) -> CappedOutcome:
        return point_solver.solve(points, cap, None, time_limit, exclude)

    return solve


def provably_zero(sel: Selection, instance: Any) -> np.ndarray:
    """(K, N) bool: column c is exactly 0 at point k in real arithmetic.

    A column is v_i·relu(z) with z = Σ_{j∈s} W_ij x_kj over its kept inputs s; it is exactly
    0 when v_i = 0, when every term is 0, or when the float z is below −2γ_{d+1}·Σ|W_ij x_kj|
    (the dot product's rounding bound, doubled: then the real z is negative too). A column
    whose float value is 0 but whose z is within rounding of 0 is *not* provably 0.
    """
    net = instance.network
    W, v, X = net.hidden_weights, net.output_weights, instance.points
    if sel.n_columns == 0:
        return np.zeros((sel.n_points, 0), dtype=bool)
    kept = W[sel.group] * sel.subsets  # (N, d): the column's weights, 0 where cut
    z = X @ kept.T
    size = np.abs(X) @ np.abs(kept).T
    return (size == 0.0) | (z < -2.0 * gamma(sel.d + 1) * size) | (v[sel.group] == 0.0)


def point_families(sel: Selection, instance: Any, eval_tol: float) -> Family | None:
    """The exclusion re-check's families for the linf norm (None for l1).

    Masks that choose the same columns among those that can be non-zero at point k have
    the same h_k, hence the same error at k: for a mask y and a point k whose error under y
    is >= target, every such mask's evaluated linf error is >= y's error at k from the
    columns − 2·eval_tol (each of the two float evaluations errs by at most the instance's
    evaluation tolerance from the exact error at k, which the family shares). k is y's worst
    point (the fewest possibly non-zero columns among ties): a point of slightly smaller error
    might fix fewer columns, but its floor would loosen the certificate (measured: 2.4e-13
    instead of 1.6e-14 on a planted 4.8e-11 optimum).
    This is what the near-ties of the re-check are: on weight n = 32 (relu, seed 496508459)
    all 24 masks SCIP returned within its slack had exactly the optimum's error and differed
    from it only in columns that are 0 at its worst point."""
    if sel.norm != "linf":
        return None
    active = ~provably_zero(sel, instance)

    def family(y: np.ndarray, target: float) -> tuple[np.ndarray, float] | None:
        fixed, floor = worst_entry_family(sel.errors(y) - 2.0 * eval_tol, active)
        return None if floor < target else (fixed, floor)

    return family


def scip_cuts_default(instance: Any) -> bool:
    """Whether SCIP separates cutting planes when the option `cuts` is unset.

    Off, measured faster on the linf and the identity-output l1 models (the cuts barely lift
    the bound and slow every node: docs/benchmarks/pruning-levers-*-cuts.md); on for the l1
    error with a relu output, whose per-point big-M rows (s_k >= f_k - relu(h_k)) the cuts
    tighten: without them SCIP certified 7 of 10 weight n = 12 instances in 60 s instead of 9
    (pruning-levers-*-l1-cuts.md)."""
    return instance.norm == "l1" and instance.network.output_activation == "relu"


def point_set_solver(engine: str, sel: Selection, opts: SolveOptions, instance: Any,
                     formulation: str) -> Any:
    """The solver of the problem restricted to a point set, for `engine`."""
    if engine == "cpsat":
        from exactprune.solvers.pruning.cpsat import CpSatPointSetSolver

        return CpSatPointSetSolver(sel, opts)
    return MilpPointSetSolver(engine, sel, opts, instance, formulation)


UNIT_RANGE = (2.0**-10, 2.0**10)
"""Instances whose outputs' scale lies outside this range are scaled by a power of two first."""


def unit_scaling(instance: Any) -> int:
    """The exponent k that brings S = max_k (Σ_i |v_i||w_i·x_k| + |f(x_k)|), the scale of every
    output and error, into [0.5, 1) when S lies outside UNIT_RANGE (else 0): the engines'
    tolerances and the certificate's absolute floor then act at the data's own scale. For each
    of the net and the target, its output weights or else its hidden weights are multiplied by
    2^k (relu is positively homogeneous), which multiplies every output and error by exactly
    2^k; InputError when neither is exact (weights spanning beyond the float64 range)."""
    f = np.abs(instance.target_values())
    scale = float(np.max(instance.network.abs_bound(instance.points) + f))
    if scale == 0.0 or UNIT_RANGE[0] <= scale <= UNIT_RANGE[1]:
        return 0
    k = -math.frexp(scale)[1]
    for net in (instance.network, instance.target):
        if _scaled_net(net, k) is None:
            raise InputError(f"the exact pruning engines need the data at one scale: scaling "
                             f"by 2^{k} (outputs up to {scale:.3g}) is exact neither for the "
                             "output nor for the hidden weights")
    return k


def _exact_scale(a: np.ndarray, k: int) -> np.ndarray | None:
    with np.errstate(over="ignore", under="ignore"):
        b = np.ldexp(a, k)
    return b if np.all(np.isfinite(b)) and np.array_equal(np.ldexp(b, -k), a) else None


def _scaled_net(net: Any, k: int) -> Any:
    """`net` with its outputs multiplied by 2^k exactly, or None."""
    from exactprune.instances.network import TwoLayerNet

    v = _exact_scale(net.output_weights, k)
    if v is not None:
        return TwoLayerNet(net.hidden_weights, v, net.output_activation)
    w = _exact_scale(net.hidden_weights, k)
    if w is not None:
        return TwoLayerNet(w, net.output_weights, net.output_activation)
    return None


def refuse(instance: Any, goal: Goal) -> str | None:
    """Why the exact engines cannot take this instance (the l2 error; see `unit_scaling`), or
    None."""
    if instance.norm not in ("linf", "l1"):
        from exactprune.solvers.pruning import bruteforce

        use = ("bruteforce or a heuristic" if instance.mask_size <= bruteforce.MAX_BITS else
               f"a heuristic: bruteforce's limit is 2^{bruteforce.MAX_BITS} masks")
        return f"its models take the linf and l1 errors, not {instance.norm} (use {use})"
    try:
        unit_scaling(with_unit_rows(instance))
    except InputError as exc:
        return str(exc)
    return None


def _unit_rows_net(net: Any, points: np.ndarray) -> Any:
    """`net` with each hidden row scaled by a power of two into max |w_ij| in [0.5, 1), or
    its products with the points near 1 where those are far from it (`unit_rows`), and its
    output weight by the inverse: the same function bit for bit (relu is positively
    homogeneous), the same zero pattern; `net` itself when that is not exact or changes
    nothing."""
    from exactprune.instances.network import TwoLayerNet, unit_rows

    scaled = unit_rows(net.hidden_weights, net.output_weights, points)
    if scaled is None or np.array_equal(scaled[0], net.hidden_weights):
        return net
    return TwoLayerNet(scaled[0], scaled[1], net.output_activation)


def with_unit_rows(instance: Any) -> Any:
    """`instance` with the rows of both nets' hidden weights at unit size (`_unit_rows_net`):
    every column, output and error is unchanged, but the big-M formulation's rows (W x)
    and bounds no longer sit at the raw weights' scale — with hidden weights of 1e-12 SCIP and
    Gurobi certified wrong weight-pruning optima there, and weights of 1e8 gave `error`
    (hunt 30); nor at the points' scale (points of 2^-47, hunt 97). `unit_scaling` then
    scales the outputs."""
    net = _unit_rows_net(instance.network, instance.points)
    target = _unit_rows_net(instance.target, instance.points)
    if net is instance.network and target is instance.target:
        return instance
    return type(instance)(network=net, target=target, points=instance.points,
                          norm=instance.norm, domain=instance.domain)


def _scaled(instance: Any, k: int) -> Any:
    return type(instance)(network=_scaled_net(instance.network, k),
                          target=_scaled_net(instance.target, k), points=instance.points,
                          norm=instance.norm, domain=instance.domain)


def option_refusal(engine: str, instance: Any, goal: Goal,
                   options: Mapping[str, Any]) -> str | None:
    """Why these parsed options cannot run on this instance with `engine`, or None: antipodal
    pairs need the linf norm, an identity output and points closed under x -> -x; lazy point
    generation needs linf; initial_points needs lazy=true (it was taken and ignored; hunt 61
    L1). The backends' `refuse_options`, so that `check` (and a sweep's validation) sees it."""
    formulation = str(options.get("formulation", "dictionary"))
    lazy = bool(options.get("lazy", False))
    if formulation == "antipodal" and (instance.norm != "linf"
                                       or instance.network.output_activation != "identity"):
        return ("formulation=antipodal needs the linf norm and an identity output "
                f"(got {instance.norm}, {instance.network.output_activation})")
    if formulation == "antipodal" and antipodal_refusal(instance):
        return antipodal_refusal(instance)
    if formulation == "dictionary" and past_dictionary(instance) and engine in NO_BIGM_ENGINES:
        # refused when the model was built: a sweep's check let it through (hunt 107)
        return dictionary_limit_message(instance.d)
    if not lazy and options.get("initial_points") is not None:
        return ("initial_points sets lazy point generation's first round: it needs "
                "--option lazy=true")
    if lazy and instance.norm != "linf":
        return (f"lazy point generation needs the linf norm (the max over a point subset "
                f"bounds the max over all points), not {instance.norm}")
    return None


def run_pruning_exact(engine: str, instance: Any, goal: Goal, opts: SolveOptions) -> RawSolution:
    """Certified optimum with engine `engine`, on the instance scaled to unit scale when it is
    far from it (`unit_scaling`; bounds and tolerances are scaled back exactly), each hidden
    row at unit size first (`with_unit_rows`: the same exact errors).

    The certificate's float errors are those of the scaled data, but the result's objective is
    the float error of `instance` itself, which can be further from the exact error (products
    that underflow on the raw data, hunt 32): its evaluation tolerance is added to the
    certificate's."""
    original = instance
    instance = with_unit_rows(instance)
    k = unit_scaling(instance)
    if k == 0 and instance is original:
        return _run_pruning_exact(engine, instance, goal, opts)
    raw = _run_pruning_exact(engine, _scaled(instance, k) if k else instance, goal, opts)
    raw.for_raw_data(k, original)
    if k:
        # the notes' numbers read as the instance's own (incumbent 1.2e-9 where the objective
        # is 0.039; hunt 125 L1): said once, here
        raw.notes.insert(0, f"solved with the outputs scaled exactly by 2^{k} (errors scale "
                            "by it; the numbers in the notes below are in those scaled units, "
                            "the result's fields in the instance's own)")
        raw.stats["scale_exponent"] = k
    return raw


def _run_pruning_exact(engine: str, instance: Any, goal: Goal, opts: SolveOptions) -> RawSolution:
    """Certified optimum of a neuron/weight pruning instance with engine `engine`.

    Options (declared by the backends, solvers/pruning/__init__.py): formulation ("dictionary",
    the default, "bigm" (weight pruning), or "antipodal" (identity output, linf, points closed
    under x -> -x); MILP engines), lazy (bool, default False; linf
    only): lazy point generation; initial_points (lazy only; unset: 32); recheck (default True; not
    with bigm): the exclusion re-check when the engine's slack blocks the certificate
    (`exclusion_recheck`); recheck_families (default True): its no-goods cut off each
    evaluated mask's family of exact ties (`point_families`), not the mask alone; cuts (scip;
    None = `scip_cuts_default`). The start of the first solve
    (the warm start, else `search_incumbent`) is judged by the engine: stats.warm_start.
    """
    why = option_refusal(engine, instance, goal, opts.extra)
    if why:
        raise InputError(why)
    formulation = str(opts.extra.get("formulation", "dictionary"))
    lazy = bool(opts.extra.get("lazy", False))
    if engine == "scip" and opts.extra.get("cuts") is None:
        opts = replace(opts, extra={**opts.extra, "cuts": scip_cuts_default(instance)})
    if (formulation == "dictionary" and past_dictionary(instance)
            and engine not in NO_BIGM_ENGINES):
        # the dictionary has 2^d - 1 columns per unit: past its limit, big-M is the model
        formulation = "bigm"
        opts = replace(opts, extra={**opts.extra, "formulation": "bigm"})
        first_notes = [f"d = {instance.d} exceeds the dictionary's limit of "
                       f"{MAX_DICTIONARY_D}: the big-M formulation is used"]
    else:
        first_notes = []
    clock = Clock(opts.time_limit)
    sel = WeightMasks(instance) if formulation == "bigm" else build_selection(instance)
    point_solver = point_set_solver(engine, sel, opts, instance, formulation)
    inc_y, inc_source = _initial_incumbent(instance, sel, opts, opts.time_limit)
    inc_err = instance.evaluate(sel.mask_from_choice(inc_y))
    eval_tol = instance.evaluation_tolerance()
    K = sel.n_points
    if lazy:
        initial = min(int(opts.extra.get("initial_points") or INITIAL_POINTS), K)  # at most K
        worst = np.argsort(-sel.errors(inc_y))[: max(1, initial // 4)]
        spread = np.linspace(0, K, max(1, initial - len(worst)), endpoint=False).astype(int)
        points = set(worst.tolist()) | set(spread.tolist())
    else:
        points = set(range(K))
    lower = 0.0
    rounds = 0
    notes = [*first_notes, f"incumbent from {inc_source}: {inc_err:.6g}",
             f"big-M: {sel.n_columns} weights, {K} points" if formulation == "bigm"
             else f"antipodal pairs: {sel.n_columns} columns, {K} points"
             if formulation == "antipodal"  # the selection's columns, the rows per pair
             else f"selection: {sel.n_columns} columns, {K} points"]
    status = Status.FEASIBLE
    slack = 0.0
    start_verdict: tuple[str | None, str | None] | None = None
    stats_recheck: int | None = None
    recheck_families = 0
    recheck_capped = False
    if sel.n_columns > 0 and certifiable(inc_err, 0.0, eval_tol):
        # no error is below 0: no engine needed (a model capped at the 1e-12 of an error-0
        # incumbent is one CBC called infeasible in neuron selection; hunt 120 M1)
        notes.append(ZERO_LOSS_NOTE)
        status = Status.OPTIMAL
    elif sel.n_columns == 0:
        # no column is non-zero at any point: every mask is the empty choice, with one error
        lower = sel.error(inc_y)
        notes.append("no unit (or sub-mask) is active at any point: every mask has the same "
                     "predictions on the points, no search needed")
        if certifiable(inc_err, lower, eval_tol):
            status = Status.OPTIMAL
    while sel.n_columns > 0 and status is not Status.OPTIMAL:
        remaining = clock.remaining()
        if remaining is not None and remaining <= 0.05:
            status = Status.TIME_LIMIT
            break
        cap = inc_err * (1 + 1e-9) + 1e-12
        out = point_solver.solve(sorted(points), cap, inc_y, remaining)
        rounds += out.started  # a round the engine did not start has no verdict on the start
        slack = out.slack
        if start_verdict is None and out.started:
            start_verdict = (out.start, out.start_reason)
        err_y = math.inf
        if out.y is not None:
            err_y = instance.evaluate(sel.mask_from_choice(out.y))
        # the incumbent is inside the cap, and so is the engine's own mask, each with an error
        # on the points solved at most its error on all (linf): a bound above either is the
        # engine contradicting itself (hunt 113 H1)
        refuted = bound_refuted(out.lower, min(inc_err, err_y), eval_tol)
        if err_y < inc_err:
            inc_y, inc_err = out.y, err_y
        if refuted:
            notes.append(f"the engine's bound {out.lower:.6g} is above the error of a mask "
                         "inside its cap: its answer proves nothing")
            status = Status.ERROR
            break
        if out.lower is not None:
            lower = max(lower, out.lower)
        # the engine's own notes (e.g. CBC's second look without preprocessing), once each
        notes.extend(n for n in dict.fromkeys(out.notes) if n not in notes)
        if out.status not in ("optimal", "infeasible"):
            # "stopped": no limit hit, no proof (e.g. CBC's second look disagreeing): feasible
            status = {"time_limit": Status.TIME_LIMIT,
                      "stopped": Status.FEASIBLE}.get(out.status, Status.ERROR)
            if out.status == "stopped":
                notes.append("the engine stopped without a proof (no limit hit): not certified")
            break
        if certifiable(inc_err, lower, eval_tol):
            status = Status.OPTIMAL
            break
        if len(points) == K and opts.extra.get("recheck", True) and formulation != "bigm":
            # the gap is the engine's slack: exclude masks until it no longer matters
            check = exclusion_recheck(
                capped_on(point_solver, sorted(points)),
                inc_y, slack,
                lambda y: instance.evaluate(sel.mask_from_choice(y)), eval_tol, clock.deadline,
                family=point_families(sel, instance, eval_tol)
                if opts.extra.get("recheck_families", True) else None)
            inc_y, inc_err = check.y, check.error
            notes.extend(check.notes)
            stats_recheck = check.checked
            recheck_families = check.families
            if check.lower is not None:  # valid for every mask (see Recheck)
                lower = max(lower, check.lower)
            # the re-check's better mask may meet the certificate on the bound at hand where
            # the re-check itself gave up (above MAX_RECHECK_MASKS) or proved nothing more: an
            # exact 0 beside bound 0 was left `feasible`, "not certifiable" (hunt 194 M1)
            if check.certified or certifiable(inc_err, lower, eval_tol):
                if not check.certified:
                    notes.append(f"the re-check's best mask (error {inc_err:.6g}) is within "
                                 f"the certifiable tolerance of the bound {lower:.6g}")
                status = Status.OPTIMAL
                break
            if check.timed_out:
                status = Status.TIME_LIMIT
            recheck_capped = check.capped
        if len(points) == K and formulation == "bigm" and opts.extra.get("recheck", True):
            notes.append("exclusion re-check not run: it re-solves the column selection "
                         "formulation, not bigm")
        if not lazy or out.y is None or stats_recheck is not None:
            notes.append(f"engine optimum not certifiable: gap {inc_err - lower:.3g} above "
                         f"the certifiable tolerance (engine slack {slack:.3g})")
            break
        errs = sel.errors(out.y)
        on_subset = float(errs[sorted(points)].max())
        if float(errs.max()) <= on_subset * (1 + 1e-12) + 1e-15:
            # the new mask's worst point is already in the subset: more points cannot raise
            # the bound; what is left is the engine's tolerance, which the exclusion re-check
            # removes on the whole point set (lazy runs lost tiny certified optima without
            # it once the certificate's room became 5·eval_tol; hunt 62 M1)
            if opts.extra.get("recheck", True) and formulation != "bigm":
                notes.append(f"subset optimum holds on all points, but the gap "
                             f"{inc_err - lower:.3g} is the engine's slack: the next round "
                             f"solves on all {K} points, then runs the exclusion re-check")
                points.update(range(K))
                continue
            notes.append(f"subset optimum holds on all points, but the gap "
                         f"{inc_err - lower:.3g} exceeds the certifiable tolerance "
                         f"(engine slack {slack:.3g})")
            break
        fresh = [int(k) for k in np.argsort(-errs) if int(k) not in points
                 and errs[k] > on_subset]
        points.update(fresh[:POINTS_PER_ROUND])
    mask = sel.mask_from_choice(inc_y)
    stats = {"rounds": rounds, "points_used": len(points), "columns": sel.n_columns,
             "slack": slack, "engine": engine, "formulation": formulation,
             "warm_start_source": inc_source}
    if engine == "scip":
        stats["cuts"] = bool(opts.extra["cuts"])
    if stats_recheck is not None:
        stats["recheck_masks"] = stats_recheck
        stats["recheck_families"] = recheck_families
    if start_verdict is not None and start_verdict[0] is not None:
        stats["warm_start"] = start_verdict[0]
        if start_verdict[1]:
            notes.append(f"start ({inc_source}) {start_verdict[0]}: {start_verdict[1]}")
    notes.append(f"{rounds} solver rounds on {len(points)} of {K} points (lazy={lazy})")
    lower_bound = max(0.0, lower - eval_tol)
    if status is Status.OPTIMAL:
        tol = max(0.0, inc_err - lower) + 2 * eval_tol
        return RawSolution(Status.OPTIMAL, mask=mask, bound=lower_bound, certified=True,
                           tolerance=tol, notes=notes, stats=stats)
    return RawSolution(status, mask=mask, bound=lower_bound, notes=notes, stats=stats,
                       limit=Limit.EXCLUSION_CAP if recheck_capped else None)
