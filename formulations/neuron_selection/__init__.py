"""Neuron selection as a MILP (loss l1 or linf, rule average or keep).

The residual is linear in the mask: R = A c − f with A = s·[vec(H[:, i] V[i])]_i (m·C, N), s
= N/k (average) or 1 (keep),
and f = vec(T − b) (`NeuronSelectionInstance.columns` / `offset`). Variables:
- without repeats: y_i binary (the mask), Σ_i y_i = k;
- with repeats: counts c_i = Σ_b 2^b·z_ib, z_ib binary (the mask variables, shape (N, B),
  B = bits of k), Σ_i c_i = k (which also caps each c_i at k);
then the error part of formulations/pruning/error_rows.py with an identity output on the rows
h_p = A_p·c: linf min t with −t <= h_p − f_p <= t; l1 min (1/mC)·Σ_p s_p with s_p >= ±(h_p − f_p).
l1, for HiGHS (`scale_tiny_rows`): a row whose coefficients and target are all below 2^-20
(samples of tiny activations) is scaled by a power of two 2^e_p to unit size, s_p standing for
2^e_p times its error, at cost 2^-e_p/mC (exact; `error_rows.tiny_row_exponents`): HiGHS
certified a wrong optimum on such rows as they were (hunt 120 H1). The other engines, and
`export`, get the rows as they are: SCIP, given the scaled rows, answered a re-check solve
with a bound above its own mask (costs of ~1e-11, below its epsilon; hunt 123 M1), and was
right on them as they are.
Interval bounds of h_p (for the error variables' caps) are exact: the sum of the k smallest /
largest A_pi (repeats: k·min, k·max).
`t_max` (an incumbent's loss) only removes worse solutions. The squared loss and the refit rule
are not linear in the mask: refused with one line.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from exactprune.formulations.base import BuiltModel, Formulation
from exactprune.formulations.pruning.error_rows import (
    ModelBuilder,
    add_error_rows,
    h_values,
    scale_rows,
    tiny_row_exponents,
)
from exactprune.instances.errors import InputError


def milp_refusal(instance: Any) -> str | None:
    """Why the MILP cannot model this instance (squared loss, refit rule), or None. The
    backends' refusal adds which backends take it (`solvers/neuron_selection/exact.py`)."""
    if not instance.linear_rule:
        return ("the MILP models the rules average and keep only (refit is a least-squares "
                "fit, not linear in the mask)")
    if instance.loss not in ("l1", "linf"):
        return f"the MILP models losses l1 and linf, not {instance.loss}"
    return None


def count_bits(k: int) -> int:
    """Bits B of the binary expansion of a count 0..k."""
    return max(1, int(k).bit_length())


def h_bounds(A: np.ndarray, k: int, repeats: bool) -> tuple[np.ndarray, np.ndarray]:
    """Exact (hmin, hmax) of A c over every mask: k smallest / largest entries per row, or
    k·min / k·max with repeats."""
    if repeats:
        return k * A.min(axis=1), k * A.max(axis=1)
    s = np.sort(A, axis=1)
    return s[:, :k].sum(axis=1), s[:, -k:].sum(axis=1)


def selection_model(instance: Any, t_max: float | None = None,
                    scale_tiny_rows: bool = False) -> BuiltModel:
    """The MILP above, with `start(mask)` (every variable, feasible) and `mask(values)`;
    `scale_tiny_rows` (l1): the rows of tiny samples scaled to unit size (module docstring)."""
    why = milp_refusal(instance)
    if why:
        raise InputError(why)
    A, f = instance.columns(), instance.offset()
    n, k, repeats = instance.n, instance.k, instance.repeats
    b = ModelBuilder()
    bits = count_bits(k) if repeats else 1
    weight = [float(1 << j) for j in range(bits)]
    var = np.array([[b.var(f"z_{i}_{j}" if repeats else f"y_{i}", 0.0, 1.0, True)
                     for j in range(bits)] for i in range(n)], dtype=np.int64)
    flat = var.reshape(-1).tolist()
    b.row(flat, weight * n, float(k), float(k), "select_k")
    h_rows = []
    for p in range(A.shape[0]):
        nz = np.flatnonzero(A[p] != 0.0)
        idx = var[nz].reshape(-1).tolist()
        coef = (A[p, nz][:, None] * np.array(weight)[None, :]).reshape(-1).tolist()
        h_rows.append((idx, coef))
    hmin, hmax = h_bounds(A, k, repeats)
    exponents = None
    if scale_tiny_rows and instance.loss == "l1":  # rows far below the rest, exactly
        exponents = tiny_row_exponents(h_rows, f)
        h_rows, (f, hmin, hmax) = scale_rows(h_rows, exponents, f, hmin, hmax)
    part = add_error_rows(b, np.arange(A.shape[0]), h_rows, f, hmin, hmax, "identity",
                          instance.loss, t_max, row_exponents=exponents)
    model = b.model(flat, "neuron_selection", mask_shape=(n, bits) if repeats else None)

    def start(mask: Any) -> np.ndarray:
        values = np.zeros(model.n_vars)
        values[var.reshape(-1)] = bits_of_mask(instance, instance.check_mask(mask))
        part.values(h_values(h_rows, values), model.lower, model.upper, values)
        return values

    def to_mask(values: Any) -> np.ndarray:
        return mask_of_bits(instance, np.rint(np.asarray(values, dtype=np.float64)[var]))

    return BuiltModel(model, start, to_mask)


def mask_of_bits(instance: Any, bits: Any) -> np.ndarray:
    """The mask (bool, or counts with repeats) of 0/1 values of the model's mask variables in
    their order: y_i, or the binary digits z_ij of count i, unit-major."""
    if not instance.repeats:
        return np.asarray(bits).reshape(-1) > 0.5
    digits = (np.asarray(bits).reshape(instance.n, -1) > 0.5).astype(np.int64)
    return digits @ (1 << np.arange(digits.shape[1]))


def bits_of_mask(instance: Any, mask: Any) -> np.ndarray:
    """The model's 0/1 mask variables (bool, in their order) for `mask`; inverse of
    `mask_of_bits`."""
    if not instance.repeats:
        return np.asarray(mask, dtype=bool).reshape(-1)
    digits = np.arange(count_bits(instance.k))
    return ((np.asarray(mask, dtype=np.int64)[:, None] >> digits) & 1).astype(bool).reshape(-1)


def _build(instance: Any, goal: Any = None) -> BuiltModel:
    return selection_model(instance)


FORMULATIONS = (
    Formulation("selection", "neuron_selection",
                "one binary per unit (repeats: binary digits of a count), sum = k; l1/linf "
                "error rows of the linear residual (average or keep rule)", _build),
)
DEFAULT_FORMULATION = "selection"
