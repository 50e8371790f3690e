"""Weight pruning as a big-M MILP over the first-layer mask itself (formulation "bigm").

Variables: M_ij ∈ {0,1} (the mask, n×d, C-order); per unit i and point k the pre-activation
a_ik = Σ_j W_ij x_kj M_ij is linear in M, and u_ik = relu(a_ik) is modelled exactly with
bounds that follow from the signs of the fixed weights and points — never a made-up constant:
    amin_ik = Σ_j min(0, W_ij x_kj) <= a_ik <= amax_ik = Σ_j max(0, W_ij x_kj)
- amax_ik <= 0: the unit is off at x_k whatever the mask (u_ik = 0, no variable);
- amin_ik >= 0: the unit is on whatever the mask (u_ik = a_ik, no variable);
- otherwise u_ik ∈ [0, amax_ik] and a binary δ_ik:
    u >= a,   u <= a − amin·(1 − δ),   u <= amax·δ
  (δ = 1: u = a >= 0; δ = 0: u = 0 >= a).
The output is h_k = Σ_i v_i u_ik, and the error rows are those of the selection model
(`error_rows.add_error_rows`), with the exact bounds hmin_k = Σ_i min(0, v_i·amax⁺_ik),
hmax_k = Σ_i max(0, v_i·amax⁺_ik). Valid for any d (no 2^d dictionary), but with n·K binaries
δ and a weak relaxation it is much slower than the dictionary for small d.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from exactprune.formulations.base import BuiltModel, mask_values
from exactprune.formulations.linear import MilpModel
from exactprune.formulations.pruning.error_rows import (
    ModelBuilder,
    add_error_rows,
    h_values,
    point_subset,
)
from exactprune.instances.errors import InputError
from exactprune.instances.pruning.evaluate import reduce_errors


def bigm_model(instance: Any, points: Any = None, t_max: float | None = None) -> BuiltModel:
    """The big-M MILP of a weight_pruning instance on the point indices `points`, with its maps.

    `start(mask)` sets M to the mask, u_ik = relu(a_ik) and δ_ik = [a_ik > 0] from the masked
    pre-activations, then every error variable; `mask(values)` reads M (n×d).
    """
    if instance.kind != "weight_pruning":
        raise InputError("the bigm formulation is for weight_pruning instances")
    if instance.norm not in ("linf", "l1"):
        raise InputError(f"the MILP formulations support norms linf and l1, not {instance.norm}")
    net = instance.network
    W, v, X = net.hidden_weights, net.output_weights, instance.points
    n, d = W.shape
    P = point_subset(X.shape[0], points)
    f = instance.target_values()[P]
    b = ModelBuilder()
    mask_vars = [b.var(f"M_{i}_{j}", 0.0, 1.0, True) for i in range(n) for j in range(d)]
    units: list[tuple[int, int, int, int]] = []  # (u, delta, unit i, point k)
    hmin = np.zeros(len(P))
    hmax = np.zeros(len(P))
    h_rows = []
    for a, k in enumerate(P):
        prod = W * X[k]  # (n, d): W_ij x_kj
        amin = np.minimum(prod, 0.0).sum(axis=1)
        amax = np.maximum(prod, 0.0).sum(axis=1)
        idx: list[int] = []
        coef: list[float] = []
        for i in range(n):
            if v[i] == 0.0 or amax[i] <= 0.0:
                continue
            a_idx = [mask_vars[i * d + j] for j in range(d) if prod[i, j] != 0.0]
            a_coef = [float(prod[i, j]) for j in range(d) if prod[i, j] != 0.0]
            if amin[i] >= 0.0:
                idx += a_idx
                coef += [float(v[i]) * c for c in a_coef]
            else:
                u = b.var(f"u_{i}_{k}", 0.0, float(amax[i]), False)
                delta = b.var(f"delta_{i}_{k}", 0.0, 1.0, True)
                # u − a >= 0
                b.row([u, *a_idx], [1.0, *[-c for c in a_coef]], 0.0, np.inf, f"relu_ge_{i}_{k}")
                # u − a − amin·δ <= −amin
                b.row([u, *a_idx, delta], [1.0, *[-c for c in a_coef], -float(amin[i])],
                      -np.inf, -float(amin[i]), f"relu_le_{i}_{k}")
                b.row([u, delta], [1.0, -float(amax[i])], -np.inf, 0.0, f"relu_on_{i}_{k}")
                units.append((u, delta, i, int(k)))
                idx.append(u)
                coef.append(float(v[i]))
            contrib = float(v[i]) * float(amax[i])
            hmin[a] += min(0.0, contrib)
            hmax[a] += max(0.0, contrib)
        h_rows.append((idx, coef))
    part = add_error_rows(b, P, h_rows, f, hmin, hmax, net.output_activation, instance.norm,
                          t_max)
    model = b.model(mask_vars, "weight_pruning_bigm", mask_shape=(n, d))

    def start(mask: Any) -> np.ndarray:
        m = instance.check_mask(mask)
        values = np.zeros(model.n_vars)
        values[mask_vars] = mask_values(m)
        for u, delta, i, k in units:
            pre = float(np.dot(W[i] * m[i], X[k]))
            values[u] = max(0.0, pre)
            values[delta] = 1.0 if pre > 0 else 0.0
        part.values(h_values(h_rows, values), model.lower, model.upper, values)
        return values

    return BuiltModel(model, start, model.mask_from_values)


def bigm_milp(instance: Any, points: Any = None, t_max: float | None = None) -> MilpModel:
    """The MilpModel of `bigm_model` (without the maps)."""
    return bigm_model(instance, points, t_max).model


class WeightMasks:
    """The big-M formulation's choice: the weight mask itself, flattened (n·d,) in C order.

    It stands in for `Selection` in the exact pruning loop (solvers/pruning/exact.py), which
    needs only the map between choices and masks, the per-point errors and the target: the
    dictionary that `Selection` builds has 2^d − 1 columns per unit and is refused above
    d = MAX_DICTIONARY_D, the very case big-M is for.
    """

    def __init__(self, instance: Any) -> None:
        if instance.kind != "weight_pruning":
            raise InputError("the bigm formulation is for weight_pruning instances")
        net = instance.network
        self.W = np.asarray(net.hidden_weights, dtype=np.float64)
        self.v = np.asarray(net.output_weights, dtype=np.float64)
        self.X = np.asarray(instance.points, dtype=np.float64)
        self.target = instance.target_values()
        self.output_activation = net.output_activation
        self.norm = instance.norm
        self.kind = instance.kind
        self.n_units, self.d = self.W.shape

    @property
    def n_columns(self) -> int:
        return self.n_units * self.d

    @property
    def n_points(self) -> int:
        return int(self.X.shape[0])

    def mask_from_choice(self, y: np.ndarray) -> np.ndarray:
        """The (n, d) bool keep-mask of a 0/1 choice y (n·d,)."""
        return (np.asarray(y) > 0.5).reshape(self.n_units, self.d)

    def choice_from_mask(self, mask: Any) -> np.ndarray:
        return np.asarray(mask, dtype=bool).reshape(-1).copy()

    def errors(self, y: np.ndarray) -> np.ndarray:
        """|g_k − f_k| for every point (float64; the instance re-evaluates the final mask)."""
        kept = self.W * self.mask_from_choice(y)
        h = np.maximum(self.X @ kept.T, 0.0) @ self.v
        g = np.maximum(h, 0.0) if self.output_activation == "relu" else h
        return np.abs(g - self.target)

    def error(self, y: np.ndarray) -> float:
        return float(reduce_errors(self.errors(y), self.norm))
