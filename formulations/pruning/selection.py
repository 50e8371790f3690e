"""Pruning of a bias-free two-layer ReLU net as *column selection*, and its MILP.

Before the output activation the pruned net is linear in a choice of columns:
    h_k = Σ_c C[k, c] · y_c,   y ∈ {0,1}^N,   at most one chosen column per group,
where C[k, c] is what column c contributes at point k:
- neuron pruning: one column per hidden unit, C[k, i] = v_i·relu(w_i·x_k), groups = units
  (singletons: no group rows are needed);
- weight pruning, *dictionary* formulation: per unit i one column for every non-empty subset s
  of its inputs, C[k, (i, s)] = v_i·relu(Σ_{j∈s} W_ij·x_kj); group i holds the 2^d − 1 columns
  of unit i (a unit keeps one input sub-mask or none). The keep-mask is M[i, j] = 1 iff the
  chosen column of unit i contains j. Exact because the net is bias-free: a unit with inputs s
  computes exactly that column, and cutting all inputs is the same as cutting the unit.
  Linear in y with an identity output, so no big-M at all. Columns that are identically zero
  on the points, or repeat a smaller subset of the same unit, are dropped (they never help).
The prediction is g_k = act_out(h_k) and the target f_k; the error is the norm of g − f.

MILP (`selection_model`), over a subset P of the points: variables y_c (the column choice)
and the error part of formulations/pruning/error_rows.py (h_k = Σ_c C[k, c]·y_c is a linear row);
groups: Σ_{c∈G} y_c <= 1 for every group with more than one column.
t_max is a known upper bound on the optimum (the error of an incumbent): it only removes
solutions worse than the incumbent, so the optimum is unchanged.
The optimum over a subset P of the points is a lower bound on the optimum over all points
(every mask's max over P is at most its max over all points): the basis of lazy point generation.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from typing import Any

import numpy as np

from exactprune.formulations.base import BuiltModel
from exactprune.formulations.linear import INF, MilpModel
from exactprune.formulations.pruning.error_rows import (
    ModelBuilder,
    add_error_rows,
    h_values,
    point_subset,
)
from exactprune.instances.errors import InputError
from exactprune.instances.pruning.evaluate import reduce_errors

MAX_DICTIONARY_D = 10


def dictionary_limit_message(d: int) -> str:
    """The refusal of the dictionary past its limit (the model's, and the engines' check of
    those without big-M)."""
    return (f"the dictionary formulation enumerates 2^d - 1 input sub-masks per unit: d = {d} "
            f"exceeds its limit of {MAX_DICTIONARY_D} (scip and gurobi solve it with the big-M "
            "formulation)")


def past_dictionary(instance: Any) -> bool:
    """Whether `instance` is weight pruning with d > MAX_DICTIONARY_D, where the dictionary's
    2^d - 1 columns per unit stop and big-M is the model (the engines, `auto` and `export`
    decide by this one rule)."""
    return getattr(instance, "kind", None) == "weight_pruning" and instance.d > MAX_DICTIONARY_D


@dataclass(frozen=True, eq=False)
class Selection:
    """Pruning as column selection (see the module docstring).

    columns: (K, N) float64 contribution of each column at each point, before act_out;
    group: (N,) int, the unit of each column; subsets: (N, d) bool, the inputs each column keeps;
    target: (K,) f at the points; output_activation: "identity" | "relu"; norm: "linf" | "l1";
    kind: "neuron_pruning" (mask over units) or "weight_pruning" (mask over weights);
    n_units: n; d: input dimension.
    """

    columns: np.ndarray
    group: np.ndarray
    subsets: np.ndarray
    target: np.ndarray
    output_activation: str
    norm: str
    kind: str
    n_units: int
    d: int
    subset_column: np.ndarray | None = None
    """weight pruning: (n, 2^d) int, the column realising unit i with input bitmask b
    (bit j = input j kept), or −1 when that sub-mask contributes nothing on the points."""

    @property
    def n_columns(self) -> int:
        return int(self.columns.shape[1])

    @property
    def n_points(self) -> int:
        return int(self.columns.shape[0])

    def column_names(self) -> list[str]:
        """The model's name of each column, so that an outside solver's answer maps back to a
        mask without us: y_<unit> (neuron pruning), y_<unit>_<inputs kept, one 0/1 per input in
        input order> (weight pruning: y_3_101 is unit 3 with inputs 0 and 2)."""
        if self.kind == "neuron_pruning":
            return [f"y_{int(i)}" for i in self.group]
        return [f"y_{int(i)}_{''.join('1' if k else '0' for k in keep)}"
                for i, keep in zip(self.group, self.subsets, strict=True)]

    def mask_from_choice(self, y: np.ndarray) -> np.ndarray:
        """The instance's keep-mask for a 0/1 column choice y (N,)."""
        chosen = np.flatnonzero(np.asarray(y) > 0.5)
        if self.kind == "neuron_pruning":
            mask = np.zeros(self.n_units, dtype=bool)
            mask[self.group[chosen]] = True
            return mask
        mask = np.zeros((self.n_units, self.d), dtype=bool)
        for c in chosen:
            mask[self.group[c]] |= self.subsets[c]
        return mask

    def choice_from_mask(self, mask: Any) -> np.ndarray:
        """The column choice (N,) bool that realises `mask` (columns dropped as useless map to
        'none'; the result has the same predictions on the points)."""
        m = np.asarray(mask, dtype=bool)
        y = np.zeros(self.n_columns, dtype=bool)
        if self.kind == "neuron_pruning":
            y[m[self.group]] = True
            return y
        assert self.subset_column is not None
        bits = (m.astype(np.int64) << np.arange(self.d)).sum(axis=1)
        cols = self.subset_column[np.arange(self.n_units), bits]
        y[cols[cols >= 0]] = True
        return y

    def h_bounds(self) -> tuple[np.ndarray, np.ndarray]:
        """(hmin, hmax), each (K,): exact bounds of h_k over every admissible choice."""
        K = self.n_points
        if self.n_columns == 0:  # no unit contributes anything on the points
            return np.zeros(K), np.zeros(K)
        order = np.argsort(self.group, kind="stable")
        g_sorted = self.group[order]
        starts = np.flatnonzero(np.r_[True, g_sorted[1:] != g_sorted[:-1]])
        cols = self.columns[:, order]
        gmin = np.minimum.reduceat(cols, starts, axis=1)
        gmax = np.maximum.reduceat(cols, starts, axis=1)
        hmin = np.minimum(gmin, 0.0).sum(axis=1)
        hmax = np.maximum(gmax, 0.0).sum(axis=1)
        return hmin, hmax

    def predictions(self, y: np.ndarray) -> np.ndarray:
        h = self.columns @ np.asarray(y, dtype=np.float64)
        return np.maximum(h, 0.0) if self.output_activation == "relu" else h

    def errors(self, y: np.ndarray) -> np.ndarray:
        """|g_k − f_k| for every point (float64; the instance re-evaluates the final mask)."""
        return np.abs(self.predictions(y) - self.target)

    def error(self, y: np.ndarray) -> float:
        """The norm of `errors(y)` (the instance's `evaluate` is the reported number)."""
        return float(reduce_errors(self.errors(y), self.norm))


def _relu(z: np.ndarray) -> np.ndarray:
    return np.maximum(z, 0.0)


def build_selection(instance: Any, formulation: str = "dictionary") -> Selection:
    """The column-selection form of a neuron_pruning or weight_pruning instance.

    formulation: "dictionary" (weight pruning) — the only one that is a selection; neuron
    pruning ignores it.
    """
    if instance.norm not in ("linf", "l1"):
        raise InputError(f"the MILP formulations support norms linf and l1, not {instance.norm}")
    net = instance.network
    W, v, X = net.hidden_weights, net.output_weights, instance.points
    n, d = W.shape
    f = instance.target_values()
    if instance.kind == "neuron_pruning":
        cols = _relu(X @ W.T) * v
        return Selection(cols, np.arange(n), np.ones((n, d), dtype=bool), f,
                         net.output_activation, instance.norm, instance.kind, n, d)
    if instance.kind != "weight_pruning":
        raise InputError(f"no selection form for kind {instance.kind!r}")
    if d > MAX_DICTIONARY_D:
        raise InputError(dictionary_limit_message(d))
    subsets = [np.array(s, dtype=bool) for s in itertools.product((0, 1), repeat=d) if any(s)]
    subsets.sort(key=lambda s: (int(s.sum()), tuple(~s)))  # smaller subsets first
    col_list, groups, subs = [], [], []
    subset_column = np.full((n, 1 << d), -1, dtype=np.int64)
    for i in range(n):
        # identical columns by their bytes (-0.0 made +0.0 first, as array_equal sees them):
        # comparing each with every earlier one was (2^d)^2 / 2 comparisons per unit, 24 s of
        # model build for a 0.2 s limit at d = 10 (hunt 11)
        seen: dict[bytes, int] = {}
        for s in subsets:
            bits = int((s.astype(np.int64) << np.arange(d)).sum())
            if v[i] == 0.0 or not np.any(W[i, s] != 0.0):
                continue
            col = v[i] * _relu(X[:, s] @ W[i, s])
            if not np.any(col != 0.0):
                continue
            key = (col + 0.0).tobytes()
            if key in seen:
                subset_column[i, bits] = seen[key]
                continue
            seen[key] = len(col_list)
            subset_column[i, bits] = len(col_list)
            col_list.append(col)
            groups.append(i)
            subs.append(s)
    K = X.shape[0]
    cols = np.array(col_list).T if col_list else np.zeros((K, 0))
    return Selection(cols, np.array(groups, dtype=np.int64),
                     np.array(subs, dtype=bool).reshape(-1, d), f, net.output_activation,
                     instance.norm, instance.kind, n, d, subset_column)


def add_group_rows(b: ModelBuilder, group: np.ndarray) -> None:
    """Σ_{c∈G} y_c <= 1 for every group G of more than one column (columns are y_0..)."""
    order = np.argsort(group, kind="stable")
    g_sorted = group[order]
    for g in np.unique(g_sorted):
        members = order[g_sorted == g]
        if len(members) > 1:
            b.row(members.tolist(), [1.0] * len(members), -INF, 1.0, f"unit_{g}")


def selection_model(sel: Selection, points: Any = None,
                    t_max: float | None = None) -> BuiltModel:
    """The MILP of `sel` restricted to the point indices `points` (default: all), with its maps.

    Variables: the columns' y (mask_variables, in column order, named by `column_names`), then
    t (linf) or s_k (l1), then z_k / r_k where the relu output needs them. `start(mask)` sets y
    to the mask's column choice and every error variable from the mask's h; `mask(values)` maps
    the chosen columns back to the instance's keep-mask.
    """
    P = point_subset(sel.n_points, points)
    N = sel.n_columns
    C = sel.columns[P]
    hmin, hmax = sel.h_bounds()
    b = ModelBuilder()
    for name in sel.column_names():
        b.var(name, 0.0, 1.0, True)
    h_rows = []
    for a in range(len(P)):
        nz = np.flatnonzero(C[a] != 0.0)
        h_rows.append((nz.tolist(), C[a, nz].tolist()))
    part = add_error_rows(b, P, h_rows, sel.target[P], hmin[P], hmax[P], sel.output_activation,
                          sel.norm, t_max)
    add_group_rows(b, sel.group)
    model = b.model(list(range(N)), f"{sel.kind}_selection")

    def start(mask: Any) -> np.ndarray:
        values = np.zeros(model.n_vars)
        values[:N] = sel.choice_from_mask(mask)
        part.values(h_values(h_rows, values), model.lower, model.upper, values)
        return values

    def to_mask(values: Any) -> np.ndarray:
        return sel.mask_from_choice(np.asarray(values, dtype=np.float64)[:N] > 0.5)

    return BuiltModel(model, start, to_mask)


def selection_milp(sel: Selection, points: Any = None, t_max: float | None = None) -> MilpModel:
    """The MilpModel of `selection_model` (without the maps)."""
    return selection_model(sel, points, t_max).model
