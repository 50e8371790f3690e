"""The error part of every pruning MILP: from h_k (the pruned net before its output activation,
a linear row per point) to the objective, and the values of its variables for a given h.

Given h_k at the points k ∈ P, the target f_k, the output activation (g_k = h_k or relu(h_k))
and exact bounds hmin_k <= h_k <= hmax_k over every admissible mask:

  linf:  min t,  t ∈ [tlow, cap]   (tlow = max(0, max_k −f_k) with a relu output: relu(h) − f
                                    >= −f; cap = min(error cap, t_max))
    identity:  up_k:    h_k − t <= f_k              down_k:  h_k + t >= f_k
    relu:      up_k:    h_k − t <= f_k              (relu(h) − f <= t: relu is convex, h >= relu(h)
                                                     is not needed, t >= −f is in tlow)
               where f_k > 0 the other side f_k − relu(h_k) <= t:
                 f_k > cap:  down_k: h_k + t >= f_k  (every solution must have relu(h_k) = h_k)
                 else, a binary z_k (z_k = 1: the unit of the output is on):
                   down_k:  h_k + t − M_k·z_k >= f_k − M_k     (z = 1: h + t >= f; z = 0:
                                                              h + t >= hmin, always true)
                   off_k:   t + f_k·z_k >= f_k                 (z = 0: t >= f)
                 with M_k = f_k − hmin_k >= 0. For h_k > 0 take z = 1 (error f − h); for h_k <= 0
                 take z = 0 (error f): the minimum over z is exactly |relu(h_k) − f_k|.
  l1 (mean absolute error):  min (1/|P|)·Σ s_k
    identity:  up_k: h_k − s_k <= f_k,  down_k: h_k + s_k >= f_k
    relu:      up_k: h_k − s_k <= f_k,  s_k >= max(0, −f_k) (bound);  where f_k > 0, r_k =
               relu(h_k) by   down_k: s_k + r_k >= f_k,   relu_lo_k: r_k − h_k + L_k·z_k <= L_k,
               relu_on_k: r_k − U_k·z_k <= 0,  r_k >= 0  (L_k = −hmin_k, U_k = hmax_k): r_k <= h_k
               when z = 1 and r_k = 0 when z = 0, so r_k <= relu(h_k) and the optimum takes r =
               relu(h).

Big-M values come from the exact interval bounds of h (no made-up constants). `add_error_rows`
returns an `ErrorPart` whose `values(h)` gives every error variable's value for the mask whose
h is given, so each model's `start(mask)` is complete and feasible.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from exactprune.formulations.linear import INF, MilpModel
from exactprune.instances.errors import InputError


class ModelBuilder:
    """Accumulates variables and rows for `MilpModel.from_rows`."""

    def __init__(self) -> None:
        self.names: list[str] = []
        self.lower: list[float] = []
        self.upper: list[float] = []
        self.integer: list[bool] = []
        self.cost: list[float] = []
        self.rows: list[tuple[list[int], list[float], float, float, str]] = []

    def var(self, name: str, lo: float, hi: float, is_int: bool, cost: float = 0.0) -> int:
        self.names.append(name)
        self.lower.append(lo)
        self.upper.append(hi)
        self.integer.append(is_int)
        self.cost.append(cost)
        return len(self.names) - 1

    def row(self, idx: list[int], coef: list[float], lo: float, hi: float, name: str) -> None:
        self.rows.append((idx, coef, lo, hi, name))

    def model(self, mask_variables: list[int], name: str,
              mask_shape: tuple[int, ...] | None = None) -> MilpModel:
        return MilpModel.from_rows(self.names, self.lower, self.upper, self.integer, self.cost,
                                   self.rows, mask_variables=mask_variables, name=name,
                                   mask_shape=mask_shape)


def error_cap(f: np.ndarray, hmin: np.ndarray, hmax: np.ndarray, relu: bool) -> float:
    """An upper bound on |g_k − f_k| over every choice and point (for variable bounds)."""
    if relu:
        cap = np.maximum(np.abs(np.maximum(hmax, 0.0) - f), np.abs(f))
    else:
        cap = np.maximum(np.abs(hmax - f), np.abs(hmin - f))
    return float(np.max(cap)) * (1 + 1e-12) + 1e-300


TINY_ROW = 2.0**-20
"""A residual row whose coefficients and target are all below this (the data at unit scale)
is scaled up by a power of two in the l1 models that take `row_exponents`: HiGHS, given rows of
~1e-10 beside rows of ~1, certified a neuron-selection start of loss 5.51 where 2.24e-9 exists
(hunt 120 H1; 10 of 40 seeds; 0 of 40 with the rows scaled)."""


def tiny_row_exponents(h_rows: list[tuple[list[int], list[float]]],
                       f: np.ndarray) -> np.ndarray:
    """Per row, the exponent e >= 0 that brings a row whose largest |coefficient| and |target|
    is below TINY_ROW to [1/2, 1) (a power of two: exact); 0 for the other rows."""
    out = np.zeros(len(h_rows), dtype=np.int64)
    for a, (_, coef) in enumerate(h_rows):
        big = max(max((abs(c) for c in coef), default=0.0), abs(float(f[a])))
        if 0.0 < big < TINY_ROW:
            out[a] = -math.frexp(big)[1]
    return out


def scale_rows(h_rows: list[tuple[list[int], list[float]]], exponents: np.ndarray,
               *arrays: np.ndarray) -> tuple[list[tuple[list[int], list[float]]],
                                             list[np.ndarray]]:
    """h_rows and per-row arrays (f, hmin, hmax) with row a scaled by 2^exponents[a]."""
    rows = [(idx, [math.ldexp(c, int(e)) for c in coef]) if e else (idx, coef)
            for (idx, coef), e in zip(h_rows, exponents, strict=True)]
    return rows, [np.ldexp(np.asarray(x, dtype=np.float64), exponents) for x in arrays]


def point_subset(n_points: int, points: object) -> np.ndarray:
    """The sorted point indices (all points when None); InputError when empty."""
    P = np.arange(n_points) if points is None else np.asarray(sorted(set(points)), dtype=int)
    if P.size == 0:
        raise InputError("a pruning MILP needs at least one point")
    return P


def _up(x: float) -> float:
    return math.nextafter(float(x), INF)


@dataclass
class ErrorPart:
    """The error variables of a model and how to set them for a given h (see `values`).

    norm, relu: the error's norm and output activation; f: target at the points (len(P),);
    t: the linf error variable; s, r, z: per point position a, the l1 error, relu(h) and
    activity variables (absent where not needed).
    """

    norm: str
    relu: bool
    f: np.ndarray
    t: int | None = None
    s: dict[int, int] = field(default_factory=dict)
    r: dict[int, int] = field(default_factory=dict)
    z: dict[int, int] = field(default_factory=dict)

    def values(self, h: np.ndarray, lower: np.ndarray, upper: np.ndarray,
               out: np.ndarray) -> None:
        """Write into `out` the value of every error variable for pre-activations h (len(P),).

        Errors are rounded up by one ulp so the rows hold in floating point; values are kept
        inside their bounds (a start whose error exceeds t's cap is then infeasible, as it
        should be: the cap excludes it)."""
        g = np.maximum(h, 0.0) if self.relu else h
        err = np.abs(g - self.f)
        for a, j in self.z.items():
            out[j] = 1.0 if h[a] > 0 else 0.0
        for a, j in self.r.items():
            out[j] = max(0.0, float(h[a]))
        for a, j in self.s.items():
            out[j] = max(_up(err[a]), lower[j])
        if self.t is not None:
            out[self.t] = min(max(_up(err.max()), lower[self.t]), upper[self.t])


def add_error_rows(b: ModelBuilder, points: np.ndarray,
                   h_rows: list[tuple[list[int], list[float]]], f: np.ndarray,
                   hmin: np.ndarray, hmax: np.ndarray, output_activation: str, norm: str,
                   t_max: float | None, row_exponents: np.ndarray | None = None) -> ErrorPart:
    """Add the error variables and rows (module docstring) for h given as linear rows.

    points: the point indices (for names); h_rows[a] = (variable indices, coefficients) of h at
    points[a]; f, hmin, hmax: target and exact bounds of h at those points.
    row_exponents (l1, identity output only): row a's h, f, hmin and hmax are given scaled by
    2^e_a (`tiny_row_exponents`), so its s_a is 2^e_a times the error there, and its cost
    2^-e_a / |P| keeps the objective the mean absolute error exactly.
    """
    relu = output_activation == "relu"
    part = ErrorPart(norm, relu, np.asarray(f, dtype=np.float64))
    err_cap = error_cap(f, hmin, hmax, relu)
    if norm == "linf":
        cap = err_cap if t_max is None else min(err_cap, float(t_max))
        neg = float(np.max(-f)) if relu and np.any(f < 0) else 0.0
        t = b.var("t", min(neg, cap), cap, False, 1.0)
        part.t = t
        for a, k in enumerate(points):
            idx, coef = h_rows[a]
            fk = float(f[a])
            b.row(idx + [t], coef + [-1.0], -INF, fk, f"up_{k}")
            if not relu or fk > cap:
                b.row(idx + [t], coef + [1.0], fk, INF, f"down_{k}")
            elif fk > 0.0:
                z = b.var(f"z_{k}", 0.0, 1.0, True)
                part.z[a] = z
                big_m = fk - float(hmin[a])
                b.row(idx + [t, z], coef + [1.0, -big_m], fk - big_m, INF, f"down_{k}")
                b.row([t, z], [1.0, fk], fk, INF, f"off_{k}")
        return part
    if norm != "l1":
        raise InputError(f"the MILP formulations support norms linf and l1, not {norm}")
    if row_exponents is not None and relu:
        raise ValueError("row_exponents scale the rows of an identity output only")
    w = 1.0 / len(points)
    for a, k in enumerate(points):
        idx, coef = h_rows[a]
        fk = float(f[a])
        cost = w if row_exponents is None else math.ldexp(w, -int(row_exponents[a]))
        s = b.var(f"s_{k}", max(0.0, -fk) if relu else 0.0, err_cap, False, cost)
        part.s[a] = s
        b.row(idx + [s], coef + [-1.0], -INF, fk, f"up_{k}")
        if not relu:
            b.row(idx + [s], coef + [1.0], fk, INF, f"down_{k}")
            continue
        if fk <= 0.0:
            continue
        big_l, big_u = max(0.0, -float(hmin[a])), max(0.0, float(hmax[a]))
        r = b.var(f"r_{k}", 0.0, big_u, False)
        z = b.var(f"z_{k}", 0.0, 1.0, True)
        part.r[a], part.z[a] = r, z
        b.row([s, r], [1.0, 1.0], fk, INF, f"down_{k}")  # s >= f − r
        b.row([r, *idx, z], [1.0, *[-c for c in coef], big_l], -INF, big_l, f"relu_lo_{k}")
        b.row([r, z], [1.0, -big_u], -INF, 0.0, f"relu_on_{k}")  # r <= U·z
    return part


def h_values(h_rows: list[tuple[list[int], list[float]]], values: np.ndarray) -> np.ndarray:
    """h at each point from the values of the variables its rows use."""
    return np.array([float(np.dot(np.asarray(coef, dtype=np.float64), values[idx]))
                     if idx else 0.0 for idx, coef in h_rows])
