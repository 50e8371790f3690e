"""The selection MILP on antipodal point pairs (identity output, linf error).

On a point set closed under x -> -x (an even circle grid, a symmetric cube grid) a bias-free
ReLU net splits into an odd and an even part: relu(a) - relu(-a) = a and relu(a) + relu(-a) =
|a|. For a pair (x, -x) write the residuals r(x) = h(x) - f(x), r(-x) = h(-x) - f(-x), their even
part e = (r(x) + r(-x))/2 and odd part o = (r(x) - r(-x))/2; then

    max(|r(x)|, |r(-x)|) = |e| + |o|.

The odd part of the pruned net is *linear* in x: a column c of unit i keeping inputs s adds
v_i·Σ_{j∈s} W_ij·x_j to h(x) - h(-x), so o = x·z/2 - (f(x) - f(-x))/2 with d aggregate variables
z_j = Σ_c U[j, c]·y_c, U[j, c] = v_i·W_ij·[j ∈ s]. Per pair the model holds one even row (the
columns' even parts, n nonzeros) and four rows t >= ±e ± o with d + 2 nonzeros, against four
rows of n nonzeros in `selection_model` (two per point): about 3.5 times fewer nonzeros at
n = 128, d = 2. The LP relaxation is the same polytope projected (|e| + |o| is the max of the
two residuals exactly), so this is a lever on LP speed, not on the bound. Points without a
partner keep the rows of `selection_model`.

Numerics: the factorised odd part x·U·y differs from the columns' own (C(x) - C(-x))·y by float
rounding; `rounding` bounds that difference over every choice (computed from the data, with
margin), and the solver adds it to the certificate's slack.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from exactprune.formulations.base import BuiltModel
from exactprune.formulations.linear import INF
from exactprune.formulations.pruning.error_rows import ModelBuilder, error_cap, point_subset
from exactprune.formulations.pruning.selection import (
    MAX_DICTIONARY_D,
    Selection,
    add_group_rows,
    past_dictionary,
)
from exactprune.instances.errors import InputError

U_ROUND = 2.0**-53


def past_dictionary_refusal(instance: Any) -> str | None:
    """Why the antipodal formulation cannot model `instance`, when it is weight pruning past
    the dictionary's limit (it pairs the dictionary's columns); else None. Said in its own
    words: the dictionary's refusal spoke of a formulation the user had not named (hunt 102)."""
    if not past_dictionary(instance):
        return None
    return (f"formulation=antipodal pairs the dictionary's columns (2^d - 1 input sub-masks "
            f"per unit): d = {instance.d} exceeds their limit of {MAX_DICTIONARY_D}; past it "
            "the default formulation is big-M (scip and gurobi)")


MAX_PAIR_SPAN_LOG2 = 8
"""Most spread, in powers of two, between the points' sizes as the net reads them (below),
paired or not, that the formulation takes. Pairs whose sizes spanned 2^24 .. 2^60 made CBC,
HiGHS and SCIP certify wrong optima on its model (3x to 691x, hunts 107 and 109; the selection
model was right on each), and an unpaired point of 1e-8 beside unit pairs Gurobi (hunt 116)."""


def point_size_exponents(network: Any, points: np.ndarray, indices: list[int]) -> np.ndarray:
    """Per point of `indices` with a non-zero size, the power of two of its size as the net
    reads it: max over units i and inputs j of |v_i·w_ij·x_kj| (exponents added, so nothing
    over- or underflows). A coordinate no unit reads does not count: measuring the points
    alone let hunt 110 hide a spread of 2^24 behind a second coordinate of 2^29 that every
    weight ignored, and HiGHS certified 1.41x the optimum."""
    X = np.abs(np.asarray(points, dtype=np.float64)[list(indices)])  # (P, d)
    W, v = np.abs(network.hidden_weights), np.abs(network.output_weights)
    dead = np.int64(-(2**40))  # below any sum of two float64 exponents
    ew = np.frexp(W)[1].astype(np.int64) + np.frexp(v)[1].astype(np.int64)[:, None]
    col = np.where((W > 0) & (v > 0)[:, None], ew, dead).max(axis=0)  # (d,): max |v_i·w_ij|
    ex = np.frexp(X)[1].astype(np.int64)
    sizes = np.where((X > 0) & (col > dead)[None, :], ex + col[None, :], dead).max(axis=1)
    return sizes[sizes > dead]


def mixed_scale_refusal(network: Any, points: np.ndarray, indices: list[int]) -> str | None:
    """Why the antipodal formulation refuses these points: their sizes as the net reads them
    (`point_size_exponents`), paired or not, span more than 2^MAX_PAIR_SPAN_LOG2; else None.
    The pairs alone were measured until hunt 116: an unpaired point of 1e-8 beside a pair of
    unit size made Gurobi call a capped re-check model infeasible whose optimum it accepted as
    a start, and certify 29 times the optimum."""
    e = point_size_exponents(network, points, indices)
    if e.size and int(e.max() - e.min()) > MAX_PAIR_SPAN_LOG2:
        return (f"formulation=antipodal needs points of one scale: as the net reads them "
                f"(max |v_i·w_ij·x_j|) their sizes span about 2^{int(e.max() - e.min())}, "
                f"more than 2^{MAX_PAIR_SPAN_LOG2} (engines certified wrong optima on such "
                "models; the default formulation takes them)")
    return None


def antipodal_refusal(instance: Any) -> str | None:
    """Why the antipodal formulation cannot model `instance` (past the dictionary's d, no
    antipodal pair, points of mixed scale), or None: the one check the engines' option check
    and `export`'s build share (its linf / identity needs are the Selection's)."""
    why = past_dictionary_refusal(instance)
    if why:
        return why
    X = np.asarray(instance.points, dtype=np.float64)
    pairs, _ = antipodal_pairs(X, np.arange(len(X)))
    if not pairs:
        return ("formulation=antipodal needs points closed under x -> -x (e.g. an even circle "
                "grid); these points have no antipodal pair")
    return mixed_scale_refusal(instance.network, X, list(range(len(X))))


def antipodal_pairs(points: np.ndarray, subset: np.ndarray) -> tuple[list[tuple[int, int]],
                                                                      list[int]]:
    """Pairs (a, b) of indices in `subset` with points[b] == -points[a] exactly, and the
    indices of `subset` left unpaired (a point equal to its own negation, the origin, stays
    single)."""
    where: dict[bytes, list[int]] = {}
    for k in subset:
        where.setdefault((np.asarray(points[k], dtype=np.float64) + 0.0).tobytes(),
                         []).append(int(k))
    pairs: list[tuple[int, int]] = []
    used: set[int] = set()
    for k in subset:
        k = int(k)
        if k in used:
            continue
        neg = (-np.asarray(points[k], dtype=np.float64) + 0.0).tobytes()
        partners = [b for b in where.get(neg, []) if b not in used and b != k]
        if partners:
            pairs.append((k, partners[0]))
            used.update((k, partners[0]))
    singles = [int(k) for k in subset if int(k) not in used]
    return pairs, singles


def odd_coefficients(sel: Selection, network: Any) -> np.ndarray:
    """U (d, N): column c's contribution to h(x) - h(-x) is x·U[:, c]."""
    W, v = network.hidden_weights, network.output_weights
    return (v[sel.group][:, None] * W[sel.group] * sel.subsets).T.copy()


def column_scaled(U: np.ndarray, X: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """U (d, N) and the points X (K, d) with input j's odd aggregate z_j = U[j]·y measured in
    units of 2^-e_j and x_j in units of 2^e_j, 2^e_j the power of two of max_k |x_kj|: every
    product x_kj·U[j, c] is the same bit for bit, but the model's z rows and pair rows sit at
    unit size. On points of 2^-47 U held 2^47 and the pair rows 2^-47, and every engine ended
    in `error` (hunt 99 M3). Only inputs beyond 2^±4 are scaled, and only where the scaling is
    exact both ways (else e_j = 0)."""
    col = np.abs(X).max(axis=0) if X.size else np.zeros(X.shape[1])
    e = np.where(col > 0, np.frexp(np.where(col > 0, col, 1.0))[1], 0).astype(np.int64)
    e = np.where(np.abs(e) > 4, e, 0)  # points near unit size keep their model bit for bit
    with np.errstate(over="ignore", under="ignore"):
        Us, Xs = np.ldexp(U, e[:, None]), np.ldexp(X, -e[None, :])
        exact = (np.all(np.isfinite(Us) & (np.ldexp(Us, -e[:, None]) == U), axis=1)
                 & np.all(np.isfinite(Xs) & (np.ldexp(Xs, e[None, :]) == X), axis=0))
    e = np.where(exact, e, 0)
    return np.ldexp(U, e[:, None]), np.ldexp(X, -e[None, :])


def antipodal_model(sel: Selection, instance: Any, points: Any = None,
                    t_max: float | None = None) -> tuple[BuiltModel, float]:
    """The linf identity-output selection MILP on antipodal pairs, and its rounding bound.

    Variables: the column choice y (named as in `selection_model`), t, z_0..z_{d-1}, then
    one e per pair. Returns (BuiltModel, rounding): rounding bounds, over every choice, how far
    the model's error can differ from the columns' own error because of the factorised odd part.
    """
    if sel.output_activation != "identity" or sel.norm != "linf":
        raise InputError("the antipodal formulation needs an identity output and the linf norm "
                         f"(got {sel.output_activation}, {sel.norm})")
    X = np.asarray(instance.points, dtype=np.float64)
    P = point_subset(sel.n_points, points)
    pairs, singles = antipodal_pairs(X, P)
    if not pairs and points is None:  # a lazy round's subset may have none (hunt 107 M3)
        raise InputError("the antipodal formulation needs points closed under x -> -x; this "
                         "point set has no antipodal pair")
    C, f, N, d = sel.columns, sel.target, sel.n_columns, sel.d
    with np.errstate(over="ignore", invalid="ignore"):
        U = odd_coefficients(sel, instance.network)
    if not np.all(np.isfinite(U)):  # v_i·w_i of tiny points' scaled rows (hunt 107 M2)
        raise InputError("the antipodal formulation's odd aggregates v_i·w_i exceed float64 "
                         "at this instance's scale (the default formulation takes it)")
    U, X = column_scaled(U, X)
    hmin, hmax = sel.h_bounds()
    cap = error_cap(f[P], hmin[P], hmax[P], relu=False)
    if t_max is not None:
        cap = min(cap, float(t_max))
    b = ModelBuilder()
    for name in sel.column_names():
        b.var(name, 0.0, 1.0, True)
    t = b.var("t", 0.0, max(cap, 0.0), False, cost=1.0)
    z0 = len(b.names)
    zlo = np.minimum(U, 0.0).sum(axis=1)
    zhi = np.maximum(U, 0.0).sum(axis=1)
    for j in range(d):
        b.var(f"z_{j}", float(zlo[j]) - 1e-9 * (1 + abs(zlo[j])),
              float(zhi[j]) + 1e-9 * (1 + abs(zhi[j])), False)
        nz = np.flatnonzero(U[j])
        b.row([*nz.tolist(), z0 + j], [*U[j, nz].tolist(), -1.0], 0.0, 0.0, f"odd_{j}")
    rounding = 0.0
    e_vars = []
    for p, (a, a2) in enumerate(pairs):
        even = 0.5 * (C[a] + C[a2])
        F = 0.5 * (f[a] + f[a2])
        G = 0.5 * (f[a] - f[a2])
        elo = float(np.minimum(even, 0.0).sum()) - F
        ehi = float(np.maximum(even, 0.0).sum()) - F
        e = b.var(f"e_{p}", elo - 1e-9 * (1 + abs(elo)), ehi + 1e-9 * (1 + abs(ehi)), False)
        e_vars.append(e)
        nz = np.flatnonzero(even)
        b.row([*nz.tolist(), e], [*even[nz].tolist(), -1.0], F, F, f"even_{p}")
        half_x = 0.5 * X[a]
        zi = [z0 + j for j in range(d)]
        for s_e in (1.0, -1.0):
            for s_o in (1.0, -1.0):
                # t - s_e·e - s_o·(x·z/2) >= -s_o·G   (t >= s_e·e + s_o·o)
                b.row([t, e, *zi], [1.0, -s_e, *(-s_o * half_x).tolist()], -s_o * G, INF,
                      f"pair_{p}_{'p' if s_e > 0 else 'm'}{'p' if s_o > 0 else 'm'}")
        odd_true = 0.5 * (C[a] - C[a2])
        odd_fact = half_x @ U
        # the float dot product's error is relative to Σ_j |x_j·U_jc|, not to |odd_fact|,
        # which cancellation makes smaller (hunt 106: 9.8x over the old term per column)
        size = np.abs(half_x) @ np.abs(U)
        diff = np.abs(odd_fact - odd_true) + 2 * (d + 2) * U_ROUND * (size + np.abs(odd_true))
        even_round = 2 * U_ROUND * (np.abs(C[a]) + np.abs(C[a2]))
        rounding = max(rounding, float(np.sum(diff + even_round)))
    for k in singles:
        row = C[k]
        nz = np.flatnonzero(row)
        b.row([*nz.tolist(), t], [*row[nz].tolist(), -1.0], -INF, float(f[k]), f"up_{k}")
        b.row([*nz.tolist(), t], [*row[nz].tolist(), 1.0], float(f[k]), INF, f"down_{k}")
    add_group_rows(b, sel.group)
    model = b.model(list(range(N)), f"{sel.kind}_antipodal")

    def start(mask: Any) -> np.ndarray:
        values = np.zeros(model.n_vars)
        y = sel.choice_from_mask(mask).astype(np.float64)
        values[:N] = y
        values[z0:z0 + d] = np.clip(U @ y, model.lower[z0:z0 + d], model.upper[z0:z0 + d])
        err = 0.0
        for p, (a, a2) in enumerate(pairs):
            ev = float(0.5 * (C[a] + C[a2]) @ y) - 0.5 * (f[a] + f[a2])
            values[e_vars[p]] = min(max(ev, model.lower[e_vars[p]]), model.upper[e_vars[p]])
            od = float(0.5 * X[a] @ values[z0:z0 + d]) - 0.5 * (f[a] - f[a2])
            err = max(err, abs(ev) + abs(od))
        if singles:
            err = max(err, float(np.max(np.abs(C[singles] @ y - f[singles]))))
        values[t] = min(np.nextafter(err * (1 + 1e-12), INF), model.upper[t])
        return values

    def to_mask(values: Any) -> np.ndarray:
        return sel.mask_from_choice(np.asarray(values, dtype=np.float64)[:N] > 0.5)

    return BuiltModel(model, start, to_mask), rounding
