"""A small solver-neutral mixed-integer linear model, and converters to PuLP, HiGHS and OR-Tools.

`MilpModel` is plain data (numpy arrays): variables with bounds, integrality flags and objective
coefficients, a sparse row-wise constraint matrix with lower/upper row bounds (±inf for a missing
side), and `mask_variables`, the indices of the binaries that form the keep-mask (in mask order,
C-order when the mask is multi-dimensional). Every problem kind builds one of these
(formulations/*_milp.py) and every MILP backend solves any of them, so a new kind needs a
builder, not a new backend.

`SolverTolerances` records the tolerances a backend ran with; `tolerance_slack` turns them into
an absolute slack on the objective (see its docstring), which the numerics policy needs to turn
a solver's dual bound into a rigorous lower bound.

Converters: `to_pulp` (also used to export MPS / LP files), `to_highs` (highspy native API,
`passModel`) and `to_ortools` (a `pywraplp.Solver`, e.g. SCIP). The solver libraries are imported
lazily, so this module imports without them.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from typing import Any, Protocol

import numpy as np

from exactprune.instances.errors import InputError

INF = math.inf

# PuLP 3 deprecates PULP_CBC_CMD. Our `cbc` runs its bundled binary through COIN_CMD, which does
# not warn; `--solver pulp_PULP_CBC_CMD` still makes one. One narrow filter for the process, set
# here once: `catch_warnings` around each call is not thread-safe, and CBC solves in threads
# left "ignore every warning" installed for good (hunt 22).
warnings.filterwarnings("ignore", message="PULP_CBC_CMD is deprecated",
                        category=DeprecationWarning)


@dataclass(frozen=True, eq=False)
class PartialMask:
    """A family of 0/1 assignments of the mask variables: those equal to `values` wherever
    `fixed` is True (both (n_mask,) bool). A no-good on it cuts off the whole family, e.g. every
    mask that keeps the same units as `values` among those active at one point
    (solvers/exclusion_recheck.py)."""

    values: np.ndarray
    fixed: np.ndarray

    @staticmethod
    def fixed_terms(mask: Any, size: int) -> tuple[np.ndarray, np.ndarray]:
        """(positions, their 0/1 values) that a no-good on `mask` (a 0/1 vector of `size`
        entries, or a `PartialMask`) fixes: every position of a plain vector."""
        values, fixed = (mask.values, mask.fixed) if isinstance(mask, PartialMask) else (
            mask, None)
        bits = np.asarray(values, dtype=bool).reshape(-1)
        if bits.shape != (size,):
            raise ValueError("mask does not match the mask variables")
        keep = np.ones(size, dtype=bool) if fixed is None else \
            np.asarray(fixed, dtype=bool).reshape(-1)
        if keep.shape != bits.shape:
            raise ValueError("the fixed positions do not match the mask variables")
        positions = np.flatnonzero(keep)
        return positions, bits[positions]

    @staticmethod
    def cuts_off(mask: Any, assignment: Any) -> bool:
        """Whether the no-good on `mask` (`fixed_terms`) cuts off the 0/1 vector `assignment`."""
        a = np.asarray(assignment, dtype=bool).reshape(-1)
        positions, bits = PartialMask.fixed_terms(mask, len(a))
        return bool(np.array_equal(a[positions], bits))

    def contains(self, assignment: Any) -> bool:
        """Whether the 0/1 vector `assignment` belongs to the family."""
        a = np.asarray(assignment, dtype=bool).reshape(-1)
        return bool(np.array_equal(a[self.fixed], np.asarray(self.values, dtype=bool)[self.fixed]))


class GoalLike(Protocol):
    """What a model builder needs of a goal (duck-typed: `exactprune.solvers.result.Goal`).

    objective: "min_error" or "sparsest" (a str or a StrEnum); max_kept: int or None;
    eps: float or None. Declared here because formulations may not import solvers.
    """

    objective: Any
    max_kept: int | None
    eps: float | None


def _float_vector(raw: Any, size: int, name: str) -> np.ndarray:
    arr = np.array(raw, dtype=np.float64).reshape(-1)
    if arr.shape != (size,):
        raise InputError(f"MilpModel.{name} must have length {size}, got {arr.shape[0]}")
    if np.any(np.isnan(arr)):
        raise InputError(f"MilpModel.{name} contains NaN")
    arr.setflags(write=False)
    return arr


@dataclass(frozen=True, eq=False)
class MilpModel:
    """A mixed-integer linear program over a keep-mask, in solver-neutral form.

    Variables j = 0..n_vars−1: `var_names[j]`, bounds `lower[j] <= v_j <= upper[j]` (±inf allowed),
    `integer[j]` (bool), objective coefficient `objective[j]`; the objective is
    `objective·v + objective_offset`, minimised (`sense == "min"`) or maximised ("max").
    Rows r = 0..n_rows−1 in CSR form: the entries of row r are
    `row_index[row_starts[r]:row_starts[r+1]]` (variable indices) with coefficients
    `row_value[...]`, and `row_lower[r] <= a_r·v <= row_upper[r]` (±inf for a missing side).
    `mask_variables`: indices of the binary variables forming the keep-mask, in mask order;
    `mask_shape`: the mask's shape (default: one dimension).
    """

    var_names: tuple[str, ...]
    lower: np.ndarray
    upper: np.ndarray
    integer: np.ndarray
    objective: np.ndarray
    row_starts: np.ndarray
    row_index: np.ndarray
    row_value: np.ndarray
    row_lower: np.ndarray
    row_upper: np.ndarray
    row_names: tuple[str, ...]
    mask_variables: tuple[int, ...]
    sense: str = "min"
    objective_offset: float = 0.0
    name: str = "exactprune"
    mask_shape: tuple[int, ...] | None = None

    def __post_init__(self) -> None:
        n = len(self.var_names)
        object.__setattr__(self, "var_names", tuple(str(s) for s in self.var_names))
        object.__setattr__(self, "row_names", tuple(str(s) for s in self.row_names))
        for name in ("lower", "upper", "objective"):
            object.__setattr__(self, name, _float_vector(getattr(self, name), n, name))
        integer = np.array(self.integer, dtype=bool).reshape(-1)
        if integer.shape != (n,):
            raise InputError(f"MilpModel.integer must have length {n}")
        integer.setflags(write=False)
        object.__setattr__(self, "integer", integer)
        if np.any(self.lower > self.upper):
            raise InputError("MilpModel: a variable has lower bound > upper bound")
        if not np.all(np.isfinite(self.objective)):
            raise InputError("MilpModel: objective coefficients must be finite")
        m = len(self.row_names)
        starts = np.array(self.row_starts, dtype=np.int64).reshape(-1)
        if starts.shape != (m + 1,) or starts[0] != 0 or np.any(np.diff(starts) < 0):
            raise InputError(f"MilpModel.row_starts must be non-decreasing, length {m + 1}")
        index = np.array(self.row_index, dtype=np.int64).reshape(-1)
        value = np.array(self.row_value, dtype=np.float64).reshape(-1)
        if index.shape != value.shape or index.shape[0] != starts[-1]:
            raise InputError("MilpModel: row_index / row_value / row_starts do not match")
        if index.size and (index.min() < 0 or index.max() >= n):
            raise InputError("MilpModel: row_index refers to a variable that does not exist")
        if not np.all(np.isfinite(value)):
            raise InputError("MilpModel: constraint coefficients must be finite")
        for r in range(m):
            seg = index[starts[r]:starts[r + 1]]
            if np.unique(seg).shape[0] != seg.shape[0]:
                raise InputError(f"MilpModel: row {r} names a variable twice")
        for arr in (starts, index, value):
            arr.setflags(write=False)
        object.__setattr__(self, "row_starts", starts)
        object.__setattr__(self, "row_index", index)
        object.__setattr__(self, "row_value", value)
        object.__setattr__(self, "row_lower", _float_vector(self.row_lower, m, "row_lower"))
        object.__setattr__(self, "row_upper", _float_vector(self.row_upper, m, "row_upper"))
        if np.any(self.row_lower > self.row_upper):
            raise InputError("MilpModel: a row has lower bound > upper bound")
        if self.sense not in ("min", "max"):
            raise InputError(f"MilpModel.sense must be 'min' or 'max', got {self.sense!r}")
        if not math.isfinite(float(self.objective_offset)):
            raise InputError("MilpModel.objective_offset must be finite")
        object.__setattr__(self, "objective_offset", float(self.objective_offset))
        mv = tuple(int(j) for j in self.mask_variables)
        for j in mv:
            if not (0 <= j < n) or not self.integer[j] or self.lower[j] < 0 or self.upper[j] > 1:
                raise InputError(f"MilpModel: mask variable {j} is not a binary variable")
        object.__setattr__(self, "mask_variables", mv)
        shape = (len(mv),) if self.mask_shape is None else tuple(int(d) for d in self.mask_shape)
        if math.prod(shape) != len(mv):
            raise InputError(f"MilpModel.mask_shape {shape} does not hold {len(mv)} variables")
        object.__setattr__(self, "mask_shape", shape)
        if len(set(self.var_names)) != n:
            raise InputError("MilpModel: variable names must be unique")

    @classmethod
    def from_rows(
        cls,
        var_names: Sequence[str],
        lower: Any,
        upper: Any,
        integer: Any,
        objective: Any,
        rows: Iterable[tuple[Sequence[int], Sequence[float], float, float, str]],
        mask_variables: Sequence[int],
        **kwargs: Any,
    ) -> MilpModel:
        """Build a model from rows given as (indices, coefficients, lower, upper, name)."""
        starts = [0]
        index: list[int] = []
        value: list[float] = []
        lo: list[float] = []
        hi: list[float] = []
        names: list[str] = []
        for idx, coef, rlo, rhi, rname in rows:
            if len(idx) != len(coef):
                raise InputError(f"row {rname!r}: indices and coefficients differ in length")
            index.extend(int(i) for i in idx)
            value.extend(float(c) for c in coef)
            starts.append(len(index))
            lo.append(float(rlo))
            hi.append(float(rhi))
            names.append(rname)
        return cls(
            var_names=tuple(var_names), lower=lower, upper=upper, integer=integer,
            objective=objective, row_starts=starts, row_index=index, row_value=value,
            row_lower=lo, row_upper=hi, row_names=tuple(names),
            mask_variables=tuple(mask_variables), **kwargs,
        )

    @property
    def n_vars(self) -> int:
        return len(self.var_names)

    @property
    def n_rows(self) -> int:
        return len(self.row_names)

    @property
    def n_nonzeros(self) -> int:
        return int(self.row_index.shape[0])

    def row(self, r: int) -> tuple[np.ndarray, np.ndarray]:
        """(variable indices, coefficients) of row r."""
        a, b = int(self.row_starts[r]), int(self.row_starts[r + 1])
        return self.row_index[a:b], self.row_value[a:b]

    def with_rows(
        self, rows: Iterable[tuple[Sequence[int], Sequence[float], float, float, str]]
    ) -> MilpModel:
        """A copy with extra rows appended (same variables, objective and mask)."""
        starts = list(self.row_starts.tolist())
        index = list(self.row_index.tolist())
        value = list(self.row_value.tolist())
        lo = list(self.row_lower.tolist())
        hi = list(self.row_upper.tolist())
        names = list(self.row_names)
        for idx, coef, rlo, rhi, rname in rows:
            index.extend(int(i) for i in idx)
            value.extend(float(c) for c in coef)
            starts.append(len(index))
            lo.append(float(rlo))
            hi.append(float(rhi))
            names.append(rname)
        return replace(self, row_starts=starts, row_index=index, row_value=value,
                       row_lower=lo, row_upper=hi, row_names=tuple(names))

    def mask_from_values(self, values: Any) -> np.ndarray:
        """The keep-mask (bool, `mask_shape`) read from a solver's variable values (> 0.5)."""
        v = np.asarray(values, dtype=np.float64).reshape(-1)
        if v.shape != (self.n_vars,):
            raise ValueError(f"expected {self.n_vars} variable values, got {v.shape}")
        bits = v[list(self.mask_variables)] > 0.5
        return bits.reshape(self.mask_shape)

    def no_good_row(
        self, mask: Any, name: str
    ) -> tuple[list[int], list[float], float, float, str]:
        """The row cutting off the assignment `mask` of the mask variables (a 0/1 vector, or a
        `PartialMask`: then every assignment that agrees with it where it is fixed).

        Σ_{i: m_i=1} (1 − v_i) + Σ_{i: m_i=0} v_i >= 1 over the fixed i, written as
        Σ_{i: m_i=0} v_i − Σ_{i: m_i=1} v_i >= 1 − |{i: m_i=1}|. Every other 0/1 assignment
        satisfies it exactly; each cut-off one violates it by 1. A partial mask that fixes
        nothing gives the empty row 0 >= 1: everything is cut off.
        """
        positions, bits = PartialMask.fixed_terms(mask, len(self.mask_variables))
        idx = [int(self.mask_variables[i]) for i in positions]
        coef = [-1.0 if b else 1.0 for b in bits]
        return idx, coef, 1.0 - float(bits.sum()), INF, name

    def exclude_masks(self, masks: Iterable[Any], prefix: str = "nogood") -> MilpModel:
        """A copy with one no-good row per mask or `PartialMask` (see `no_good_row`)."""
        return self.with_rows(self.no_good_row(m, f"{prefix}_{k}") for k, m in enumerate(masks))

    def objective_value(self, values: Any) -> float:
        """objective·v + offset for the variable values `values` (float64)."""
        v = np.asarray(values, dtype=np.float64).reshape(-1)
        return math.fsum((self.objective * v).tolist()) + self.objective_offset


@dataclass(frozen=True)
class SolverTolerances:
    """The tolerances a MILP backend ran with, all absolute unless stated (objective units for
    gaps and cutoffs).

    feasibility: accepted row / bound violation; optimality: accepted dual infeasibility of
    LP solutions; integrality: accepted |v − round(v)| of an integer variable; abs_gap, rel_gap:
    stopping gaps; cutoff: how much better than the incumbent a node must be to survive
    (CBC's cutoff increment, HiGHS's feastol margin); epsilon: the solver's zero / comparison
    tolerance; coefficient_rel: relative rounding of the data on the way to the solver (e.g. the
    13 significant digits PuLP writes to MPS); small_coefficient: coefficients below this are
    dropped by the solver; other: anything else worth recording (name -> value).
    """

    feasibility: float
    optimality: float
    integrality: float
    abs_gap: float = 0.0
    rel_gap: float = 0.0
    cutoff: float = 0.0
    epsilon: float = 0.0
    coefficient_rel: float = 0.0
    small_coefficient: float = 0.0
    other: dict[str, float] = field(default_factory=dict)

    def to_json(self) -> dict[str, float]:
        out = {k: float(getattr(self, k)) for k in (
            "feasibility", "optimality", "integrality", "abs_gap", "rel_gap", "cutoff",
            "epsilon", "coefficient_rel", "small_coefficient")}
        out.update({k: float(v) for k, v in self.other.items()})
        return out


def tolerance_slack(
    tol: SolverTolerances,
    *,
    dual_norm: float,
    row_scale: float,
    box_size: float,
    integer_scale: float,
    data_scale: float,
    n_entries: int,
    objective_scale: float = 0.0,
    include_feasibility: bool = True,
    safety: float = 10.0,
) -> float:
    """An absolute slack T such that (solver's dual bound) − T is a rigorous lower bound.

    Terms (each an upper estimate of how far one tolerance can move a dual bound or prune a
    node wrongly), summed and multiplied by `safety` (10 = conservative):
      feasibility · dual_norm · row_scale   rows violated by up to feasibility (relative to
                                            a row scale; dual_norm bounds Σ|row duals|)
      optimality · box_size                 dual infeasibility times the size of the box
                                            (Σ of variable ranges) weakens LP bounds
      integrality · integer_scale           near-integral values accepted as integral
                                            (integer_scale = Σ|coefficient| over them)
      abs_gap + cutoff + epsilon            pruning thresholds
      rel_gap · objective_scale             relative gap
      coefficient_rel · data_scale          data rounded on the way to the solver
      small_coefficient · n_entries · 2     coefficients dropped as zero
    include_feasibility=False drops the first term, for objectives where the solver's tolerant
    feasible region is a relaxation whose bound is valid as it is (e.g. the count objective).
    """
    terms = (
        (tol.feasibility * dual_norm * row_scale if include_feasibility else 0.0)
        + tol.optimality * box_size
        + tol.integrality * integer_scale
        + tol.abs_gap + tol.cutoff + tol.epsilon
        + tol.rel_gap * objective_scale
        + tol.coefficient_rel * data_scale
        + tol.small_coefficient * n_entries * 2.0
    )
    return safety * terms


# --------------------------------------------------------------------------------------------
# PuLP


def _pulp() -> Any:
    import pulp

    return pulp


def _pulp_bound(x: float) -> float | None:
    return None if math.isinf(x) else float(x)


def _pulp_expr(pulp: Any, pairs: list[tuple[Any, float]], constant: float = 0.0) -> Any:
    """An LpAffineExpression from (variable, coefficient) pairs, for PuLP 3.x and 4.x."""
    cls = pulp.LpAffineExpression
    if hasattr(cls, "from_list"):  # PuLP >= 4
        expr = cls.from_list(pairs)
        return expr + constant if constant else expr
    return cls(pairs, constant=constant)


def to_pulp_with_vars(model: MilpModel) -> tuple[Any, list[Any]]:
    """(pulp.LpProblem, its variables in model order). Works with PuLP 3.x and 4.x.

    Ranged rows become two PuLP constraints (`name_lo`, `name_hi`); equality rows one; rows
    free on both sides are skipped. Binary variables (integer with bounds [0,1]) are LpBinary.
    """
    pulp = _pulp()
    sense = pulp.LpMinimize if model.sense == "min" else pulp.LpMaximize
    prob = pulp.LpProblem(model.name, sense)
    variables: list[Any] = []
    for j, vname in enumerate(model.var_names):
        lo, hi = model.lower[j], model.upper[j]
        if model.integer[j] and lo == 0.0 and hi == 1.0:
            cat, lo_b, hi_b = pulp.LpBinary, 0, 1
        else:
            cat = pulp.LpInteger if model.integer[j] else pulp.LpContinuous
            lo_b, hi_b = _pulp_bound(lo), _pulp_bound(hi)
        if hasattr(prob, "add_variable"):  # PuLP >= 3.3.1; the only way in 4.x
            var = prob.add_variable(vname, lowBound=lo_b, upBound=hi_b, cat=cat)
        else:  # pragma: no cover - older PuLP
            var = pulp.LpVariable(vname, lowBound=lo_b, upBound=hi_b, cat=cat)
        variables.append(var)
    obj_pairs = [(variables[j], float(c)) for j, c in enumerate(model.objective) if c != 0.0]
    prob.setObjective(_pulp_expr(pulp, obj_pairs, model.objective_offset))
    for r, rname in enumerate(model.row_names):
        idx, coef = model.row(r)
        pairs = [(variables[int(j)], float(c)) for j, c in zip(idx, coef, strict=True)]
        lo, hi = float(model.row_lower[r]), float(model.row_upper[r])
        if math.isinf(lo) and math.isinf(hi):
            continue
        if lo == hi:
            prob.addConstraint(_pulp_expr(pulp, pairs) == lo, rname)
            continue
        if not math.isinf(lo):
            name = rname if math.isinf(hi) else f"{rname}_lo"
            prob.addConstraint(_pulp_expr(pulp, pairs) >= lo, name)
        if not math.isinf(hi):
            name = rname if math.isinf(lo) else f"{rname}_hi"
            prob.addConstraint(_pulp_expr(pulp, pairs) <= hi, name)
    return prob, variables


def to_pulp(model: MilpModel) -> Any:
    """The model as a `pulp.LpProblem` (for CBC, and for writing MPS / LP files)."""
    return to_pulp_with_vars(model)[0]


# --------------------------------------------------------------------------------------------
# HiGHS (highspy, native API)


def to_highs(model: MilpModel, highs: Any = None) -> Any:
    """Load the model into a `highspy.Highs` (a new one unless `highs` is given) via passModel.

    Returns the Highs object. Infinite bounds map to HiGHS's infinity; names are passed too.
    Raises RuntimeError if HiGHS rejects the model.
    """
    import highspy

    h = highspy.Highs() if highs is None else highs
    inf = float(h.getInfinity()) if hasattr(h, "getInfinity") else highspy.kHighsInf

    def clip(a: np.ndarray) -> np.ndarray:
        return np.clip(np.asarray(a, dtype=np.float64), -inf, inf)

    lp = highspy.HighsLp()
    lp.num_col_ = model.n_vars
    lp.num_row_ = model.n_rows
    lp.col_cost_ = np.asarray(model.objective, dtype=np.float64)
    lp.col_lower_ = clip(model.lower)
    lp.col_upper_ = clip(model.upper)
    lp.row_lower_ = clip(model.row_lower)
    lp.row_upper_ = clip(model.row_upper)
    lp.offset_ = float(model.objective_offset)
    lp.sense_ = highspy.ObjSense.kMinimize if model.sense == "min" else highspy.ObjSense.kMaximize
    matrix = lp.a_matrix_
    matrix.format_ = highspy.MatrixFormat.kRowwise
    matrix.num_col_ = model.n_vars
    matrix.num_row_ = model.n_rows
    matrix.start_ = np.asarray(model.row_starts, dtype=np.int32)
    matrix.index_ = np.asarray(model.row_index, dtype=np.int32)
    matrix.value_ = np.asarray(model.row_value, dtype=np.float64)
    lp.a_matrix_ = matrix
    lp.integrality_ = [
        highspy.HighsVarType.kInteger if b else highspy.HighsVarType.kContinuous
        for b in model.integer
    ]
    lp.col_names_ = list(model.var_names)
    lp.row_names_ = list(model.row_names)
    lp.model_name_ = model.name
    status = h.passModel(lp)
    if status == highspy.HighsStatus.kError:
        raise RuntimeError("HiGHS rejected the model (passModel returned an error)")
    return h


# --------------------------------------------------------------------------------------------
# OR-Tools linear solver wrapper (pywraplp: SCIP, CBC, ...)


def to_ortools(model: MilpModel, solver: Any) -> list[Any]:
    """Add the model's variables, rows and objective to a `pywraplp.Solver`; return the
    variables in model order. Ranged rows stay one constraint (pywraplp supports them)."""
    inf = solver.infinity()

    def b(x: float) -> float:
        return -inf if x == -INF else inf if x == INF else float(x)

    variables = [
        solver.Var(b(model.lower[j]), b(model.upper[j]), bool(model.integer[j]), name)
        for j, name in enumerate(model.var_names)
    ]
    for r, rname in enumerate(model.row_names):
        ct = solver.Constraint(b(model.row_lower[r]), b(model.row_upper[r]), rname)
        idx, coef = model.row(r)
        for j, c in zip(idx, coef, strict=True):
            ct.SetCoefficient(variables[int(j)], float(c))
    obj = solver.Objective()
    for j, c in enumerate(model.objective):
        if c != 0.0:
            obj.SetCoefficient(variables[j], float(c))
    obj.SetOffset(float(model.objective_offset))
    if model.sense == "min":
        obj.SetMinimization()
    else:
        obj.SetMaximization()
    return variables
