"""Subset-sum as a MILP (`MilpModel`), the tolerance slack of its bound, and start values.

min_error goal (optionally with a budget k = max_kept):
    variables  m_i ∈ {0,1} (i = 0..n−1, the keep-mask; names m_0..m_{n−1}),
               e ∈ [0, U] continuous (the error, variable name "err"; U = 1 + 2(Σ|x_i| + |z|),
               never binding)
    minimise   e
    rows       over:   Σ x_i m_i − e <= z        (e >= Σ x_i m_i − z)
               under:  Σ x_i m_i + e >= z        (e >= z − Σ x_i m_i)
               budget: Σ m_i <= k                (only with max_kept)
    At an optimum e = |Σ x_i m_i − z|, so the optimum is the best error.

sparsest goal (error tolerance eps):
    variables  m_i ∈ {0,1}
    minimise   Σ m_i
    rows       window: z − eps − δ <= Σ x_i m_i <= z + eps + δ   (bounds rounded outwards, so
                                                         the row never excludes a mask whose
                                                         exact error is <= eps)
    δ = `window_margin` (default 0). Exported (`exact_window`), the window is exact: the row
    above when z ± eps are floats, else Σ x_i m_i − dev = z with dev ∈ [−eps, eps], a continuous
    variable (every number then a float of the instance). The solvers get δ > 0
    (`sparsest_window_margin`): masks on the window's edge are then inside by more than the
    engines' tolerances and rounding, so no presolve step working at those tolerances can cut
    them off; masks inside the margin but outside eps are excluded by the caller.

Equal values (break_symmetry=True, what CBC, HiGHS and SCIP get; Gurobi and exports leave it
off, `solvers.subset_sum.milp.GUROBI_SYMMETRY_ROWS`): masks that keep
the same number of each group of equal nonzero values have the same exact sum, so only one of
them needs to be in the model. Rows order each group, m_a >= m_b for consecutive members a < b
(names order_0..), leaving the mask that keeps the group's first members; zeros change no sum,
and keeping one never helps a goal (it only spends the budget or the count), so their m_i are
fixed at 0 (`canonical_mask`). The model's optimum is the problem's, and each mask's error is
its canonical mask's, so bounds and exclusion certificates keep their meaning. Without this a
no-good row excluded one mask of a class of equal ones, and when the best mask keeps part of a
group the exclusion rounds never separated it from its copies (min_error stayed `feasible`;
sparsest ended in `error` on 12 copies of 0.1), and the tree searched every copy.

The solver sees these numbers with tolerances (DESIGN.md, numerics policy); `subset_sum_slack`
turns a backend's `SolverTolerances` into the absolute slack T of the objective.
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Sequence
from fractions import Fraction
from typing import Any

import numpy as np

from exactprune.formulations.base import BuiltModel
from exactprune.formulations.linear import (
    INF,
    GoalLike,
    MilpModel,
    SolverTolerances,
    tolerance_slack,
)
from exactprune.instances.errors import InputError
from exactprune.instances.subset_sum.instance import SubsetSumInstance


def _objective_name(goal: GoalLike | None) -> str:
    if goal is None:
        return "min_error"
    name = str(getattr(goal, "objective", "min_error"))
    if name not in ("min_error", "sparsest"):
        raise InputError(f"unknown objective {name!r} for a subset-sum MILP")
    return name


def _float_toward(q: Fraction, direction: float) -> float:
    """q rounded towards `direction` (±inf): q itself when it is a float, else the nearest float
    beyond it; ±inf beyond the float64 range. The window row's bound: it excludes no mask within
    eps, and holds exactly those when z ± eps are floats (written one ulp wider, an exported
    window admitted a mask whose error exceeds eps); when they are not, the float window is
    wider than the problem's by less than an ulp, which the engines' exclusion check covers and
    an export avoids (`exact_window`)."""
    try:
        f = float(q)
    except OverflowError:
        return math.inf if q > 0 else -math.inf
    exact = Fraction(f) if math.isfinite(f) else None
    if exact is None or exact == q or (exact > q) == (direction > 0):
        return f
    return math.nextafter(f, direction)


def _window_is_exact(x: list[float], z: float, half: Fraction, lo: float, hi: float) -> bool:
    """Whether the float row lo <= Σ x_i m_i <= hi admits exactly the masks within `half` of z:
    each end is z ∓ half itself, or no subset sum reaches beyond it (the largest sum is at most
    z + half, the smallest at least z − half: then the rounded end, ±inf when z ± half is beyond
    the floats, admits nothing more; hunt 84 M3 found the exact form's rhs of 1e308 there,
    which HiGHS cannot read, where the row was exact)."""
    top, bottom = Fraction(z) + half, Fraction(z) - half

    def reaches_past(values: list[float], end: float, exact_end: Fraction, sign: int) -> bool:
        if math.isfinite(end) and Fraction(end) == exact_end:
            return False
        try:  # fsum is the sum correctly rounded: beyond the float end, the sum is too
            rounded = math.fsum(values)
        except OverflowError:
            rounded = sign * math.inf
        if math.isfinite(end) and sign * rounded > sign * end:
            return True  # (the common case, without the Fractions: 7 s for 10^6 values)
        return sign * sum((Fraction(v) for v in values), Fraction(0)) > sign * exact_end

    return not reaches_past([v for v in x if v > 0], hi, top, 1) and \
        not reaches_past([v for v in x if v < 0], lo, bottom, -1)


def sparsest_window_margin(instance: SubsetSumInstance, eps: float,
                           tol: SolverTolerances) -> float:
    """δ for the sparsest window row of a solver with tolerances `tol`: 10 × (feasibility ×
    max(1, |z| + eps) + data rounding × (Σ|x_i| + |z| + eps)), the most the engine's arithmetic
    may move a mask's row activity against its bounds, times 10 for safety.

    Why: SCIP's linear presolve (subset-sum audit case 8689 and the band stress in
    docs/numerics.md), CBC's preprocessing and Gurobi's presolve excluded masks lying on the exact
    window's edge, or deep inside it, when the values span many magnitudes: wrong certified
    counts and wrong infeasibility. The caller excludes masks found inside the margin but
    outside eps by no-good rows, so the margin costs only those re-solves."""
    z = abs(float(instance.target))
    s = math.fsum(np.abs(instance.values).tolist())
    return 10.0 * (tol.feasibility * max(1.0, z + eps) + tol.coefficient_rel * (s + z + eps))


def error_upper_bound(instance: SubsetSumInstance) -> float:
    """U = 1 + 2(Σ|x_i| + |z|): far above the error of every mask (at most Σ|x_i| + |z|);
    +inf (no bound) when that sum is beyond float64, as for values near 1e308."""
    try:
        total = math.fsum([*np.abs(instance.values).tolist(), abs(instance.target)])
    except OverflowError:
        return math.inf
    return 1.0 + 2.0 * total if total < 2.0**1021 else math.inf


def equal_value_groups(values: Any) -> list[np.ndarray]:
    """The groups of two or more equal nonzero values, each as its indices in ascending order;
    groups ordered by value."""
    x = np.asarray(values, dtype=np.float64).reshape(-1)
    order = np.argsort(x, kind="stable")  # stable: equal values keep ascending indices
    order = order[x[order] != 0.0]
    starts = np.flatnonzero(np.r_[True, x[order][1:] != x[order][:-1]])
    ends = np.r_[starts[1:], order.size]
    return [order[a:b] for a, b in zip(starts.tolist(), ends.tolist(), strict=True) if b - a >= 2]


def canonical_mask(values: Any, mask: Any) -> np.ndarray:
    """`mask` without its zeros and keeping, of each group of equal values, as many as `mask`
    keeps but the first ones: the same exact sum, no more kept, and the one mask of its class
    that the symmetry rows admit."""
    out = np.array(mask, dtype=bool, copy=True).reshape(-1)
    out[np.asarray(values).reshape(-1) == 0.0] = False
    for group in equal_value_groups(values):
        kept = int(out[group].sum())
        out[group] = np.arange(group.size) < kept
    return out


def mask_outside(values: Any, excluded: Sequence[Any], max_kept: int | None) -> np.ndarray | None:
    """A mask that a subset-sum model with no-good rows on `excluded` still admits, or None
    when there is none: canonical (`canonical_mask`: it satisfies the symmetry rows when the
    model has them), keeping at most `max_kept` values (None: any number), and equal to none of
    `excluded`. An engine's "infeasible" for that model is refuted by it (no other constraint
    cuts a mask off a min_error model). Masks go by size, and at most len(excluded) + 1 are
    built: each is a count per class of equal values (`_class_counts`)."""
    x = np.asarray(values, dtype=np.float64).reshape(-1)
    seen = {np.asarray(m, dtype=bool).reshape(-1).tobytes() for m in excluded}
    classes: dict[float, list[int]] = {}  # each distinct nonzero value: its indices, ascending
    for i in np.flatnonzero(x != 0.0).tolist():
        classes.setdefault(float(x[i]), []).append(i)
    members = list(classes.values())
    most = sum(len(m) for m in members)
    if max_kept is not None:
        most = min(most, max_kept)
    for size in range(most + 1):
        for counts in _class_counts([len(m) for m in members], size):
            mask = np.zeros(x.size, dtype=bool)
            for g, c in counts:
                mask[members[g][:c]] = True
            if mask.tobytes() not in seen:
                return mask
    return None


def _class_counts(sizes: list[int], total: int) -> Iterator[list[tuple[int, int]]]:
    """Every way to keep `total` values, c_g <= sizes[g] of class g, as its (g, c_g) with
    c_g > 0, depth first without dead ends (each class's count leaves a total the later
    classes can hold) and without a stack deeper than the classes (hunt 234 L2: multisets of
    classes, filtered by size, walked C(2g, g) of them for 2^g masks)."""
    room = [0] * (len(sizes) + 1)  # room[g]: how many values classes g.. hold
    for g in range(len(sizes) - 1, -1, -1):
        room[g] = room[g + 1] + sizes[g]
    if total > room[0]:
        return

    def choices(g: int, left: int) -> Iterator[int]:
        return iter(range(min(sizes[g], left), max(0, left - room[g + 1]) - 1, -1))

    if total == 0:
        yield []
        return
    path: list[tuple[int, int]] = []  # the chosen (class, count) with count > 0
    stack = [(0, total, choices(0, total))]  # (class, values left before it, its counts)
    while stack:
        g, left, it = stack[-1]
        while path and path[-1][0] >= g:  # forget this class's earlier choice
            path.pop()
        c = next(it, None)
        if c is None:
            stack.pop()
            continue
        if c:
            path.append((g, c))
        if left - c == 0:  # the later classes keep nothing
            yield list(path)
            continue
        stack.append((g + 1, left - c, choices(g + 1, left - c)))


def order_pairs(values: Any) -> list[tuple[int, int]]:
    """(a, b) for consecutive members a < b of each group of equal nonzero values: keeping b
    requires keeping a (the MILP's order rows, CP-SAT's implications)."""
    return [(a, b) for group in equal_value_groups(values)
            for a, b in zip(group[:-1].tolist(), group[1:].tolist(), strict=True)]


def _symmetry_rows(values: Any) -> list[tuple[list[int], list[float], float, float, str]]:
    return [([a, b], [1.0, -1.0], 0.0, INF, f"order_{k}")
            for k, (a, b) in enumerate(order_pairs(values))]


def subset_sum_model(instance: SubsetSumInstance, goal: GoalLike | None = None,
                     window_margin: float = 0.0, break_symmetry: bool = False,
                     exact_window: bool = False) -> MilpModel:
    """The MILP of `instance` for `goal` (min_error, optionally max_kept; or sparsest with eps,
    its window widened by `window_margin` >= 0 on both sides); with `break_symmetry`, rows
    ordering each group of equal values and zeros fixed out (module docstring).

    exact_window (sparsest, margin 0; what `export` writes): when z ± eps are
    not both floats, the window is written exactly as Σ x_i m_i − dev = z with dev ∈ [−eps, eps]
    (every number a float of the instance) instead of the float window rounded outward, which
    can admit a mask whose error exceeds eps by less than an ulp of z (hunt 83).

    Variable order: m_0..m_{n−1} (the mask, `mask_variables`), then err for min_error, or dev
    for an exact window (a variable named `e` would read as an exponent in LP files).
    """
    n = instance.n
    order_rows = _symmetry_rows(instance.values) if break_symmetry else []
    x = [float(v) for v in instance.values]
    z = float(instance.target)
    mask_idx = list(range(n))
    names = [f"m_{i}" for i in range(n)]
    objective = _objective_name(goal)
    upper = np.ones(n)
    if break_symmetry:
        upper[np.asarray(instance.values) == 0.0] = 0.0  # a zero is never worth keeping
    if objective == "sparsest":
        eps = getattr(goal, "eps", None)
        if eps is None or not math.isfinite(float(eps)) or float(eps) < 0:
            raise InputError("the sparsest objective needs a finite eps >= 0")
        eps = float(eps)
        if not (math.isfinite(window_margin) and window_margin >= 0):
            raise InputError(f"window_margin must be finite and >= 0, got {window_margin!r}")
        half = Fraction(eps) + Fraction(window_margin)
        lo = _float_toward(Fraction(z) - half, -INF)
        hi = _float_toward(Fraction(z) + half, INF)
        if exact_window and window_margin == 0 and not _window_is_exact(x, z, half, lo, hi):
            dev = n
            return MilpModel.from_rows(
                var_names=[*names, "dev"],
                lower=np.array([*np.zeros(n), -eps]),
                upper=np.array([*upper, eps]),
                integer=np.array([True] * n + [False]),
                objective=np.array([*np.ones(n), 0.0]),
                rows=[([*mask_idx, dev], [*x, -1.0], z, z, "window"), *order_rows],
                mask_variables=mask_idx,
                name="subset_sum_sparsest",
            )
        return MilpModel.from_rows(
            var_names=names,
            lower=np.zeros(n),
            upper=upper,
            integer=np.ones(n, dtype=bool),
            objective=np.ones(n),
            rows=[(mask_idx, x, lo, hi, "window"), *order_rows],
            mask_variables=mask_idx,
            name="subset_sum_sparsest",
        )
    e = n
    rows: list[tuple[list[int], list[float], float, float, str]] = [
        ([*mask_idx, e], [*x, -1.0], -INF, z, "over"),
        ([*mask_idx, e], [*x, 1.0], z, INF, "under"),
    ]
    max_kept = getattr(goal, "max_kept", None) if goal is not None else None
    if max_kept is not None:
        rows.append((mask_idx, [1.0] * n, -INF, float(max_kept), "budget"))
    rows.extend(order_rows)
    objective_coef = np.zeros(n + 1)
    objective_coef[e] = 1.0
    return MilpModel.from_rows(
        var_names=[*names, "err"],
        lower=np.zeros(n + 1),
        upper=np.array([*upper.tolist(), error_upper_bound(instance)]),
        integer=np.array([True] * n + [False]),
        objective=objective_coef,
        rows=rows,
        mask_variables=mask_idx,
        name="subset_sum_min_error",
    )


def subset_sum_slack(
    instance: SubsetSumInstance, goal: GoalLike | None, tol: SolverTolerances,
    break_symmetry: bool = False,
) -> float:
    """The absolute slack T of the objective for a solver running with tolerances `tol`, on the
    model built with the same `break_symmetry`.

    With S = Σ|x_i|, Z = |z|, n values (see `tolerance_slack` for the terms, safety factor 10):
    min_error: row duals sum to at most 2 (+ max|x_i| for the budget row), rows scaled by
      1 + S + Z, box size n + U (the m_i and e ranges), integrality acts through S. The
      symmetry rows add g(g−1)/2 · (|x_g| + the budget's dual) per group of g equal values: in
      a basic dual solution an order row's dual grows along its chain by at most one member's
      reduced cost per step (|x_g| times a dual of the error rows, which sum to at most 1, plus
      the budget's), from 0 at the chain's end.
    sparsest: the count objective; a tolerant feasible region is a relaxation, so feasibility
      does not enter; box size n, integrality acts through n. The caller rounds the count
      bound up to an integer after subtracting max(T, 1e-6).
    """
    x = np.abs(instance.values)
    s = math.fsum(x.tolist())
    z = abs(instance.target)
    n = instance.n
    if _objective_name(goal) == "sparsest":
        return tolerance_slack(
            tol, dual_norm=0.0, row_scale=0.0, box_size=float(n), integer_scale=float(n),
            data_scale=0.0, n_entries=n, objective_scale=float(n), include_feasibility=False,
        )
    budget = goal is not None and getattr(goal, "max_kept", None) is not None
    budget_dual = float(x.max()) if budget and n else 0.0
    order_duals = 0.0
    if break_symmetry:
        order_duals = math.fsum(g.size * (g.size - 1) / 2 * (float(x[g[0]]) + budget_dual)
                                for g in equal_value_groups(instance.values))
    return tolerance_slack(
        tol,
        dual_norm=2.0 + budget_dual + order_duals,
        row_scale=1.0 + s + z,
        box_size=n + error_upper_bound(instance),
        integer_scale=s,
        data_scale=s + z,
        n_entries=3 * n + 2,
        objective_scale=s + z,
    )


def subset_sum_start_values(
    instance: SubsetSumInstance, goal: GoalLike | None, mask: Any,
    break_symmetry: bool = False,
) -> np.ndarray:
    """Values of every model variable for the keep-mask `mask` (a MIP start / hint); with
    `break_symmetry`, for its `canonical_mask` (same error and count), which the symmetry rows
    admit.

    For min_error, e is the mask's error rounded up by one ulp, so the start is feasible.
    """
    m = instance.check_mask(mask).astype(np.float64)
    if break_symmetry:
        m = canonical_mask(instance.values, m).astype(np.float64)
    if _objective_name(goal) == "sparsest":
        return m  # (an exact window's dev is not given: the engines never get that model)
    err = math.nextafter(float(instance.evaluate(m.astype(bool))), INF)
    return np.array([*m.tolist(), err])


def build_subset_sum(instance: SubsetSumInstance, goal: GoalLike | None = None,
                     window_margin: float = 0.0, break_symmetry: bool = False,
                     exact_window: bool = False) -> BuiltModel:
    """The model with its mask maps: `start` is `subset_sum_start_values` (every variable),
    `mask` reads m_0..m_{n−1}."""
    model = subset_sum_model(instance, goal, window_margin, break_symmetry, exact_window)
    return BuiltModel(model,
                      start=lambda mask: subset_sum_start_values(instance, goal, mask,
                                                                 break_symmetry),
                      mask=model.mask_from_values)
