"""The sup of |g - f| over the unit sphere in d >= 3, certified by spherical branch and bound.

g(x) = act_g(sum_i v_i relu(w_i . x)) and f(x) = act_f(sum_j u_j relu(a_j . x)) as in
`sup_error` (bias-free, act in {identity, relu}). The circle (d = 2) has an exact kink
enumeration; in d >= 3 the kinks are hyperplanes, and this module bounds the sup instead.

Cells. The sphere is covered by the central projections of the 2d facets of the cube [-1, 1]^d,
each facet split into 2^(d-1) equal sub-squares per level. A cell's image on the sphere is
geodesically convex and lies in the cap C(x0, rho) = {x : |x| = 1, x . x0 >= cos rho}, x0 the
normalised centre and cos rho the smallest cosine between x0 and a normalised corner (a convex
spherical polygon's farthest point from x0 is a corner).

Bound on a cap. For a vector c, write a = c . x0 and b = |c - a x0|: over the cap, c . x ranges
over [a cos rho - b sin rho, a cos rho + b sin rho], or reaches +-|c| when +-c's direction lies
in the cap. Each unit whose pre-activation range has one sign is linear (or zero) on the cap;
so on the cap the error is a linear function c . x (the active units of both nets, when the
output relus do not switch on it) plus the few units whose kink crosses the cap, each within
v_i [0, max w_i . x]. A cap no unit crosses gets the exact range of c . x, attained at a real
point. Cells whose bound is within `rtol` of the largest error found at a real point (cell
centres and the linear parts' maximisers, evaluated by the one forward pass) are closed; the
others are split. The bound shrinks with the cell except next to the kinks, where it shrinks
linearly, and the error falls off linearly from a kink too, so few cells are split there.
A small cap crossed by one hyperplane gets its exact sup in closed form (`_one_crossing`); one
crossed by two gets, on each sign region, a dual certificate (`_dual_bound`: for any
multipliers mu >= 0, |l + mu_0 x0 + sum mu_j n_j| - mu_0 cos rho bounds l . x over the region,
by weak duality over the ball, so the bound is valid whatever mu is and tight, the exact sup,
when mu is the optimum's, taken in closed form per active set). Without it, cells next to the
curve where two kinks meet could not close where the error falls off quadratically along it.
With a relu output the same certificate runs per piece (`_output_regions`): on a sign region of
at most two crossing units the inner sums are linear, and each relu output's zero set splits
the region once more, so the error is linear on every piece.

Rigour. `value` is the largest bound of any closed (or, when time runs out, open) cell plus a
rounding allowance: every computed range is a sum of at most N + 2 terms, each within a few
(d + 4) ulps of |v_i| |w_i| (the caps are widened by 8 d ulps, units deemed one-signed within
their rounding only move the error by that rounding), so u K2 (16 d + 4 N + 128), with
K2 = sum |v_i| |w_i|_2 over both nets and u = 2^-53, covers it. `exact` is True when every cell
closed (value <= (1 + rtol) lower + allowance, the sup known to that precision), or when the
search stopped (time limit, too many open cells) with value <= (1 + EXACT_RTOL) lower +
allowance; the note gives the relative gap of a stopped search.
"""

from __future__ import annotations

import itertools
import math
import time
from dataclasses import dataclass
from fractions import Fraction

import numpy as np

from exactprune.solvers.pruning.sup_error import (
    _U,
    EXACT_RTOL,
    SupError,
    _error,
    _round_up,
    direction_key,
    norm_weighted_sum,
)

_MIN_SIZE = 2.0**-40  # facet coordinates finer than this are not split (float resolution)
_BATCH = 4096


def _cap_ranges(C: np.ndarray, X0: np.ndarray, cos_r: np.ndarray, sin_r: np.ndarray,
                norms: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Range of c . x over each cap for vectors C (k, N, d) (or (N, d), shared by every cap).

    Returns (lo, hi, argmin, argmax): lo/hi (k, N) and the unit vectors (k, N, d) attaining them.
    """
    if C.ndim == 2:
        C = C[None]
    a = np.einsum("knd,kd->kn", C, X0)
    P = C - a[..., None] * X0[:, None, :]
    b = np.linalg.norm(P, axis=-1)
    cr, sr = cos_r[:, None], sin_r[:, None]
    inside_hi = a >= cr * norms
    inside_lo = -a >= cr * norms
    hi = np.where(inside_hi, norms, a * cr + b * sr)
    lo = np.where(inside_lo, -norms, a * cr - b * sr)
    with np.errstate(invalid="ignore", divide="ignore"):
        dirc = np.where(norms[..., None] > 0, C / norms[..., None], X0[:, None, :])
        side = np.where(b[..., None] > 0, P / b[..., None], 0.0)
    rim = cr[..., None] * X0[:, None, :]
    arg_hi = np.where(inside_hi[..., None], dirc, rim + sr[..., None] * side)
    arg_lo = np.where(inside_lo[..., None], -dirc, rim - sr[..., None] * side)
    return lo, hi, arg_lo, arg_hi


class _Facets:
    """Cells of the cube's facets: axis (k,), sign (k,), low corner (k, d-1), size (k,)."""

    def __init__(self, d: int) -> None:
        self.d = d
        self.others = np.array([[j for j in range(d) if j != a] for a in range(d)])
        self.bits = np.array(list(itertools.product((0.0, 1.0), repeat=d - 1)))

    def points(self, axis: np.ndarray, sign: np.ndarray, coords: np.ndarray) -> np.ndarray:
        """Cube points (k, ..., d) of facet coordinates (k, ..., d-1) on facets (axis, sign)."""
        out = np.empty((*coords.shape[:-1], self.d))
        mid = (1,) * (coords.ndim - 2)
        for a in range(self.d):
            on = axis == a
            if not np.any(on):
                continue
            block = np.empty((int(on.sum()), *coords.shape[1:-1], self.d))
            block[..., self.others[a]] = coords[on]
            block[..., a] = sign[on].reshape(-1, *mid)
            out[on] = block
        return out

    def caps(self, axis: np.ndarray, sign: np.ndarray, low: np.ndarray, size: np.ndarray
             ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(x0 (k, d), cos rho (k,), sin rho (k,)) of caps covering the cells, widened for
        rounding."""
        centre = self.points(axis, sign, low + 0.5 * size[:, None])
        X0 = centre / np.linalg.norm(centre, axis=1, keepdims=True)
        corners = self.points(axis, sign, low[:, None, :] + size[:, None, None] * self.bits)
        corners /= np.linalg.norm(corners, axis=2, keepdims=True)
        # the angle through the chord 2 sin(rho / 2), accurate for small caps too
        chord = np.linalg.norm(corners - X0[:, None, :], axis=2).max(axis=1) + 8.0 * self.d * _U
        chord = np.minimum(chord, 2.0)
        cos_r = 1.0 - 0.5 * chord * chord - 4.0 * _U
        sin_r = chord * np.sqrt(np.maximum(0.0, 1.0 - 0.25 * chord * chord)) * (1.0 + 8.0 * _U)
        return X0, cos_r, np.minimum(sin_r, 1.0)

    def split(self, axis: np.ndarray, sign: np.ndarray, low: np.ndarray, size: np.ndarray
              ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        m = self.bits.shape[0]
        half = 0.5 * size
        low2 = (low[:, None, :] + half[:, None, None] * self.bits).reshape(-1, self.d - 1)
        return np.repeat(axis, m), np.repeat(sign, m), low2, np.repeat(half, m)

    def roots(self, levels: int) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        axis = np.repeat(np.arange(self.d), 2)
        sign = np.tile([-1.0, 1.0], self.d)
        cells = (axis, sign, -np.ones((2 * self.d, self.d - 1)), np.full(2 * self.d, 2.0))
        for _ in range(levels):
            cells = self.split(*cells)
        return cells


@dataclass(frozen=True)
class _Units:
    """The units of both nets grouped by direction: unit i of a net is coef_i relu(r . x) with
    r its group's representative row; rows that are positive multiples of each other (found in
    rational arithmetic) share a group, so units on the same hyperplane cancel exactly (an
    identical target and net give 0, and a weight-pruned net's units on a coordinate axis are
    one term)."""

    rows: np.ndarray  # (M, d) representatives
    norms: np.ndarray  # (M,)
    coef_g: np.ndarray  # (M,) sum of v_i lambda_i over the net's units in the group
    coef_f: np.ndarray  # (M,) the same over the target's units

    @staticmethod
    def group(Wg: np.ndarray, vg: np.ndarray, Wf: np.ndarray, vf: np.ndarray) -> _Units:
        keys: dict[tuple[Fraction, ...], int] = {}
        rows: list[np.ndarray] = []
        scales: list[Fraction] = []
        coefs: list[list[float]] = []
        for which, (W, v) in enumerate(((Wg, vg), (Wf, vf))):
            for w, vi in zip(W, v, strict=True):
                key, scale = direction_key(w)
                if key not in keys:
                    keys[key] = len(rows)
                    rows.append(w)
                    scales.append(scale)
                    coefs.append([0.0, 0.0])
                g = keys[key]  # w = (scale / scales[g]) rows[g], exactly
                coefs[g][which] += float(vi) * float(scale / scales[g])
        R = np.array(rows, dtype=np.float64).reshape(-1, Wg.shape[1] if Wg.size else Wf.shape[1])
        C = np.array(coefs, dtype=np.float64).reshape(-1, 2)
        return _Units(R, np.linalg.norm(R, axis=1), C[:, 0], C[:, 1])


def _sup_on_half_cap(L: np.ndarray, S: np.ndarray, X0: np.ndarray, cos_r: np.ndarray,
                     sin_r: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(sup of l . x over the cap and the half-space s . x >= 0, a point attaining it), rows
    (k, d) of L and S. Where l . x is positive its superlevel sets are caps, so when the cap's
    own maximiser is outside the half-space the sup is on the hyperplane s . x = 0, whose
    intersection with the cap is a cap of the great sphere s^perp: centre x0's projection
    p0 / |p0|, cos rho' = cos rho / |p0|, sin rho' = sqrt(sin^2 rho - t^2) / |p0|, t = x0 . s/|s|
    (that form keeps small caps accurate)."""
    ln = np.linalg.norm(L, axis=1)
    _, hi, _, arg = _cap_ranges(L[:, None, :], X0, cos_r, sin_r, ln[:, None])
    hi, arg = hi[:, 0], arg[:, 0]
    inside = (np.einsum("kd,kd->k", arg, S) >= 0.0) | (hi <= 0.0)
    sh = S / np.linalg.norm(S, axis=1, keepdims=True)
    t = np.einsum("kd,kd->k", X0, sh)
    P0 = X0 - t[:, None] * sh
    pn = np.linalg.norm(P0, axis=1)
    p0 = P0 / pn[:, None]
    cos2 = np.minimum(cos_r / pn, 1.0)
    sin2 = np.sqrt(np.maximum(0.0, (sin_r - np.abs(t)) * (sin_r + np.abs(t)))) / pn
    LG = L - np.einsum("kd,kd->k", L, sh)[:, None] * sh
    _, hi2, _, arg2 = _cap_ranges(LG[:, None, :], p0, cos2, sin2,
                                  np.linalg.norm(LG, axis=1)[:, None])
    return np.where(inside, hi, hi2[:, 0]), np.where(inside[:, None], arg, arg2[:, 0])


def _one_crossing(lin_c: np.ndarray, R: np.ndarray, kappa: np.ndarray, X0: np.ndarray,
                  cos_r: np.ndarray, sin_r: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The exact sup of |c . x + kappa relu(r . x)| over each cap (rows (k, d) of c and r):
    (c + kappa r) . x on r . x >= 0 and c . x on r . x <= 0, each side's sup of +- the
    linear function; returns (sup (k,), the 4 candidate points (4k, d))."""
    up = lin_c + kappa[:, None] * R
    sups, pts = [], []
    for L, S in ((up, R), (-up, R), (lin_c, -R), (-lin_c, -R)):
        v, x = _sup_on_half_cap(L, S, X0, cos_r, sin_r)
        sups.append(v)
        pts.append(x)
    return np.maximum(np.max(sups, axis=0), 0.0), np.concatenate(pts)


def _dual_bound(L: np.ndarray, X0: np.ndarray, cos_r: np.ndarray, N: np.ndarray
                ) -> tuple[np.ndarray, np.ndarray]:
    """A rigorous upper bound on max l . x over {|x| = 1, x . x0 >= cos rho, n_j . x >= 0} for
    rows (k, d) of L and X0 and half-space normals N (k, m, d), and the point w / |w| it
    points at.

    Weak duality: for every mu >= 0 and every such x (even inside the ball),
    l . x <= (l + mu_0 x0 + sum_j mu_j n_j) . x - mu_0 cos rho <= |w| - mu_0 cos rho, so any mu
    gives a valid bound; mu only decides how tight it is. The bound is evaluated with its
    rounding added (w is a sum of m + 2 products). mu is taken, per active set A of the m + 1
    constraints, at the stationary point of |l + M_A mu| - c_A . mu (closed form: with G =
    M_A^T M_A, beta = G^-1 M_A^T l, l_perp = l - M_A beta and q = c_A^T G^-1 c_A < 1, it is
    r G^-1 c_A - beta with r = |l_perp| / sqrt(1 - q)), clipped at 0; the least bound over the
    active sets is kept. At the optimum's active set it is the exact max whenever that max is
    positive (the ball's maximiser is then on the sphere). A region shown empty (a Farkas
    direction mu = G^-1 c_A >= 0 with |M_A mu| < c_A . mu) gets -inf."""
    k, d = L.shape
    M = np.concatenate([X0[:, None, :], N], axis=1)  # (k, m + 1, d)
    m1 = M.shape[1]
    c = np.zeros((k, m1))
    c[:, 0] = cos_r
    mnorm = np.linalg.norm(M, axis=2)
    gamma = 4.0 * (m1 + 4) * _U

    def evaluate(mu: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        w = L + np.einsum("kj,kjd->kd", mu, M)
        nrm = np.linalg.norm(w, axis=1)
        size = np.linalg.norm(L, axis=1) + np.einsum("kj,kj->k", mu, mnorm)
        cap_term = mu[:, 0] * cos_r
        # the sum's own rounding is relative to its terms, not to the (cancelled) result
        ub = nrm * (1.0 + (d + 4) * _U) + gamma * size - cap_term \
            + 8 * _U * (nrm + size + np.abs(cap_term))
        with np.errstate(invalid="ignore", divide="ignore"):
            pt = np.where(nrm[:, None] > 0, w / nrm[:, None], X0)
        return ub, pt

    best, point = evaluate(np.zeros((k, m1)))
    for size_a in range(1, m1 + 1):
        for A in itertools.combinations(range(m1), size_a):
            MA = M[:, A, :]  # (k, a, d)
            G = np.einsum("kad,kbd->kab", MA, MA)
            Ginv = np.linalg.pinv(G)
            cA = c[:, A]
            beta = np.einsum("kab,kbd,kd->ka", Ginv, MA, L)
            lperp = L - np.einsum("ka,kad->kd", beta, MA)
            gc = np.einsum("kab,kb->ka", Ginv, cA)
            q = np.einsum("ka,ka->k", cA, gc)
            with np.errstate(invalid="ignore", divide="ignore", over="ignore"):
                r = np.linalg.norm(lperp, axis=1) / np.sqrt(np.maximum(1.0 - q, 0.0))
                mu_a = np.where((q < 1.0)[:, None] & np.isfinite(r)[:, None],
                                r[:, None] * gc - beta, 0.0)
            mu = np.zeros((k, m1))
            mu[:, A] = np.maximum(np.nan_to_num(mu_a, nan=0.0, posinf=0.0, neginf=0.0), 0.0)
            ub, pt = evaluate(mu)
            better = ub < best
            best = np.where(better, ub, best)
            point = np.where(better[:, None], pt, point)
            if 0 in A:  # Farkas: the region is empty if |M_A nu| < c_A . nu for some nu >= 0
                nu = np.where(np.all(gc >= 0, axis=1)[:, None], gc, 0.0)
                w = np.einsum("ka,kad->kd", nu, MA)
                lhs = np.linalg.norm(w, axis=1) * (1.0 + (d + 4) * _U) \
                    + gamma * np.einsum("ka,ka->k", nu, mnorm[:, A]) * (1.0 + 4 * _U)
                rhs = np.einsum("ka,ka->k", cA, nu) * (1.0 - 4 * _U)
                best = np.where((rhs > lhs) & (rhs > 0), -np.inf, best)
    return best, point


def _output_regions(Cg: np.ndarray, Cf: np.ndarray, act_g: str, act_f: str,
                    R: np.ndarray, kg: np.ndarray, kf: np.ndarray, X0: np.ndarray,
                    cos_r: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """A rigorous bound on |act_g(s_g) - act_f(s_f)| over each cap, where s_g = Cg . x +
    sum_j kg_j relu(r_j . x) (and s_f likewise) with the c <= 2 crossing hyperplanes r_j = R[:, j]:
    on each sign region of the r_j both inner sums are linear, a . x and b . x, and a relu output
    splits the region once more at its zero set (a . x >= 0: a . x; a . x <= 0: 0), so e is
    linear on every piece and `_dual_bound` bounds +- it there, with the output's half-space
    among the constraints. This is what the 1-Lipschitz bound |s_g - s_f| misses where an output
    relu is off. The pieces' normals a, b are float sums like every range here, their rounding
    within the module's allowance. Returns (bound (k,), candidate points (k', d))."""
    k, c = R.shape[0], R.shape[1]
    Ls, Ns, X0s, cs = [], [], [], []
    for signs in itertools.product((0.0, 1.0), repeat=c):
        a, b = Cg.copy(), Cf.copy()
        unit_normals = []
        for j, sj in enumerate(signs):
            a += (sj * kg[:, j])[:, None] * R[:, j]
            b += (sj * kf[:, j])[:, None] * R[:, j]
            unit_normals.append((2 * sj - 1) * R[:, j])
        pieces_g = [(a, a)] if act_g == "relu" else [(a, None)]
        pieces_f = [(b, b)] if act_f == "relu" else [(b, None)]
        if act_g == "relu":
            pieces_g.append((np.zeros_like(a), -a))
        if act_f == "relu":
            pieces_f.append((np.zeros_like(b), -b))
        for (lg, ng), (lf, nf) in itertools.product(pieces_g, pieces_f):
            normals = unit_normals + [n for n in (ng, nf) if n is not None]
            N = np.stack(normals, axis=1) if normals else np.zeros((k, 0, X0.shape[1]))
            L = lg - lf
            for sign in (1.0, -1.0):
                Ls.append(sign * L)
                Ns.append(N)
                X0s.append(X0)
                cs.append(cos_r)
    by_m: dict[int, list[int]] = {}  # one batch per number of constraints
    for i, N in enumerate(Ns):
        by_m.setdefault(N.shape[1], []).append(i)
    bound = np.zeros(k)
    pts = []
    for idx in by_m.values():
        b, x = _dual_bound(np.concatenate([Ls[i] for i in idx]),
                           np.concatenate([X0s[i] for i in idx]),
                           np.concatenate([cs[i] for i in idx]),
                           np.concatenate([Ns[i] for i in idx]))
        bound = np.maximum(bound, b.reshape(len(idx), k).max(axis=0))
        pts.append(x)
    return bound, np.concatenate(pts)


def _crossing_sums(coef: np.ndarray, crossing: np.ndarray, hi: np.ndarray
                   ) -> tuple[np.ndarray, np.ndarray]:
    """(pos, neg) (k,): the crossing units' sum of coef relu(r . x) lies in [neg, pos]."""
    contrib = np.where(crossing, coef * hi, 0.0)
    return np.where(contrib > 0, contrib, 0.0).sum(axis=1), \
        np.where(contrib < 0, contrib, 0.0).sum(axis=1)


def sphere_sup(Wg: np.ndarray, vg: np.ndarray, act_g: str, Wf: np.ndarray, vf: np.ndarray,
               act_f: str, *, time_limit: float | None = None, rtol: float = 1e-6,
               max_cells: int = 2_000_000) -> SupError:
    """Bound sup |g - f| over the unit sphere (d >= 3) as the module docstring says; the
    arguments are `sup_error`'s, validated there (live units only). Stops at `time_limit`
    seconds or when more than `max_cells` cells are open (then value covers the open cells)."""
    t0 = time.perf_counter()
    d = Wg.shape[1] if Wg.shape[0] else Wf.shape[1]
    fac = _Facets(d)
    units = _Units.group(Wg, vg, Wf, vf)
    k2 = (norm_weighted_sum(Wg, vg) + norm_weighted_sum(Wf, vf)) * (1 + 1e-12)
    n_units = Wg.shape[0] + Wf.shape[0]
    allowance = k2 * _U * (16.0 * d + 4.0 * n_units + 128.0) * (1 + 1e-9)

    best, best_x = -1.0, None
    closed = 0.0  # largest bound of a closed cell
    cells = fac.roots(2 if d <= 4 else 1)
    # a bound on every cell of the current level: its parents' largest bound (|e| <= K2 on
    # the whole sphere for the roots); what covers the cells a stop leaves unbounded
    covering = k2
    processed, levels, stopped = 0, 0, None

    def out_of_time() -> bool:
        return time_limit is not None and time.perf_counter() - t0 > time_limit

    while cells[0].size:
        ubs, cands = [], []
        for s in range(0, cells[0].size, _BATCH):
            if s and out_of_time():  # one level can hold 2 M cells: minutes (hunt 25)
                break
            part = tuple(c[s:s + _BATCH] for c in cells)
            ub, pts = _bound_cells(fac, part, units, act_g, act_f, best * (1.0 + rtol))
            ubs.append(ub)
            cands.append(pts)
        ub = np.concatenate(ubs)
        ub[np.isnan(ub)] = math.inf  # a bound that failed to compute bounds nothing
        pts = np.concatenate(cands)
        err = np.abs(_error(Wg, vg, act_g, Wf, vf, act_f, pts))
        k = int(np.argmax(err))
        if err[k] > best:
            best, best_x = float(err[k]), pts[k].copy()
        processed += ub.size
        if ub.size < cells[0].size:  # the level was cut short: its parents' bound covers it
            stopped = "the time limit"
            closed = max(closed, covering)
            break
        levels += 1
        done = ub <= best * (1.0 + rtol)
        tiny = cells[3] <= _MIN_SIZE
        shut = done | tiny
        if np.any(shut):
            closed = max(closed, float(ub[shut].max()))
        keep = ~shut
        if np.any(tiny & ~done):
            stopped = stopped or "cells at the float resolution of the facet coordinates"
        if not np.any(keep):
            cells = (cells[0][:0],) * 4
            break
        covering = float(ub[keep].max())
        timed_out = out_of_time()
        children = int(keep.sum()) * fac.bits.shape[0]  # counted before they are built
        if timed_out or children > max_cells:
            stopped = ("the time limit" if timed_out
                       else f"more than {max_cells} open cells")
            closed = max(closed, covering)
            break
        cells = fac.split(*(c[keep] for c in cells))
    value = _round_up(max(closed, best) + allowance)
    gap = max(closed, best) - best
    exact = stopped is None or gap <= EXACT_RTOL * best
    note = (f"d = {d} unit sphere: spherical branch and bound over the cube's facets, "
            f"{processed} cells in {levels} levels; closed within rtol {rtol:g} of the best "
            f"error found at a sphere point, plus a rounding allowance {allowance:.3g} = "
            f"2^-53 K2 (16 d + 4 N + 128), K2 = sum |v_i| |w_i|_2 = {k2:.6g}, N = {n_units}")
    if stopped:
        note += (f"; stopped at {stopped}: value covers the open cells' bounds, "
                 f"{gap / best if best > 0 else math.inf:.2g} relative above the best error")
    return SupError(value=value, attained_at=best_x, lower=best, exact=exact,
                    method="sphere-branch-and-bound", note=note, slack=allowance)


def _bound_cells(fac: _Facets, cells: tuple[np.ndarray, ...], units: _Units, act_g: str,
                 act_f: str, close_at: float = -1.0) -> tuple[np.ndarray, np.ndarray]:
    """(bound (k,) on |e| over each cell's cap, sphere points (3k, d) worth evaluating).

    close_at: cells whose cheaper bounds are already at most this (they will close) skip the
    dual certificates."""
    X0, cos_r, sin_r = fac.caps(*cells)
    k, d = X0.shape
    lo, hi, _, _ = _cap_ranges(units.rows, X0, cos_r, sin_r, units.norms)
    active, crossing = lo >= 0.0, (lo < 0.0) & (hi > 0.0)
    inner = []  # per net: linear part, crossing range, and how its output activation acts
    for coef, act in ((units.coef_g, act_g), (units.coef_f, act_f)):
        c = (active * coef) @ units.rows
        p, q = _crossing_sums(coef, crossing, hi)
        clo, chi, _, _ = _cap_ranges(c[:, None, :], X0, cos_r, sin_r,
                                     np.linalg.norm(c, axis=1)[:, None])
        s_lo, s_hi = clo[:, 0] + q, chi[:, 0] + p
        linear = np.ones(k, dtype=bool) if act == "identity" else s_lo >= 0.0
        zero = np.zeros(k, dtype=bool) if act == "identity" else s_hi <= 0.0
        inner.append((c, p, q, s_hi, linear, ~linear & ~zero))
    (cg, pg, qg, hg, lin_g, sw_g), (cf, pf, qf, hf, lin_f, sw_f) = inner
    both = lin_g & lin_f  # e = (c_g - c_f) . x + the crossing units of both, merged
    pj, qj = _crossing_sums(units.coef_g - units.coef_f, crossing, hi)
    lin_c = np.where(lin_g[:, None], cg, 0.0) - np.where(lin_f[:, None], cf, 0.0)
    pos = np.where(both, pj, np.where(lin_g, pg, 0.0) - np.where(lin_f, qf, 0.0))
    neg = np.where(both, qj, np.where(lin_g, qg, 0.0) - np.where(lin_f, pf, 0.0))
    pos = pos + np.where(sw_g, hg, 0.0)  # a switching output relu: relu(s) in [0, s_hi]
    neg = neg - np.where(sw_f, hf, 0.0)
    ln = np.linalg.norm(lin_c, axis=1)
    elo, ehi, arg_lo, arg_hi = _cap_ranges(lin_c[:, None, :], X0, cos_r, sin_r, ln[:, None])
    bound = np.maximum(ehi[:, 0] + pos, -(elo[:, 0] + neg))
    relu_both = act_g == "relu" and act_f == "relu"
    if relu_both:  # relu is 1-Lipschitz: |e| <= |s_g - s_f|
        jc = cg - cf
        jlo, jhi, _, _ = _cap_ranges(jc[:, None, :], X0, cos_r, sin_r,
                                     np.linalg.norm(jc, axis=1)[:, None])
        bound = np.minimum(bound, np.maximum(jhi[:, 0] + pj, -(jlo[:, 0] + qj)))
    pts = [X0, arg_hi[:, 0], arg_lo[:, 0]]
    # one hyperplane crossing a small cap: the sup of the joint (or, both outputs relu, the
    # inner sums' difference) is computed exactly, so cells on a kink ridge close at once
    kappa = units.coef_g - units.coef_f
    joint_cross = crossing & (kappa != 0.0)
    one = (joint_cross.sum(axis=1) == 1) & (both | relu_both) & (sin_r < 0.5)
    if np.any(one):
        j = np.argmax(joint_cross[one], axis=1)
        sup1, pts1 = _one_crossing((cg - cf)[one], units.rows[j], kappa[j], X0[one],
                                   cos_r[one], sin_r[one])
        bound[one] = np.minimum(bound[one], sup1)
        pts.append(pts1)
    # two hyperplanes crossing a small cap: a dual certificate per sign region
    two = (joint_cross.sum(axis=1) == 2) & (both | relu_both) & (sin_r < 0.5) \
        & (bound > close_at)
    if np.any(two):
        order = np.argsort(~joint_cross[two], axis=1, kind="stable")[:, :2]
        # the joint (or the inner sums' difference) is linear plus two merged units: the
        # pieces' certificate with no output relu to split at
        sup2, pts2 = _output_regions((cg - cf)[two], np.zeros((int(two.sum()), d)),
                                     "identity", "identity", units.rows[order], kappa[order],
                                     np.zeros(order.shape), X0[two], cos_r[two])
        bound[two] = np.minimum(bound[two], sup2)
        pts.append(pts2)
    # an output relu (or two) on a cap crossed by at most two units: its zero set joins the
    # constraints of each sign region's dual certificate
    relu_any = act_g == "relu" or act_f == "relu"
    unit_cross = crossing & ((units.coef_g != 0.0) | (units.coef_f != 0.0))
    regions = (relu_any & (unit_cross.sum(axis=1) <= 2) & (sin_r < 0.5)
               & (bound > close_at) & ~both)
    if np.any(regions):
        sel = np.flatnonzero(regions)
        c = int(unit_cross[sel].sum(axis=1).max())
        order = np.argsort(~unit_cross[sel], axis=1, kind="stable")[:, :c]
        take = np.take_along_axis(unit_cross[sel], order, axis=1)  # False: no unit there
        R = units.rows[order] * take[:, :, None]
        kg = units.coef_g[order] * take
        kf = units.coef_f[order] * take
        sup_r, pts_r = _output_regions(cg[sel], cf[sel], act_g, act_f, R, kg, kf, X0[sel],
                                       cos_r[sel])
        bound[sel] = np.minimum(bound[sel], sup_r)
        pts.append(pts_r)
    # no unit crosses, one output relu switches: its zero set is the one hyperplane
    still = ~unit_cross.any(axis=1)
    still &= sin_r < 0.5
    for sel, lin, R, sign in ((sw_g & lin_f & still, -cf, cg, 1.0),
                              (sw_f & lin_g & still, cg, cf, -1.0)):
        if np.any(sel):
            sup1, pts1 = _one_crossing(lin[sel], R[sel], np.full(int(sel.sum()), sign),
                                       X0[sel], cos_r[sel], sin_r[sel])
            bound[sel] = np.minimum(bound[sel], sup1)
            pts.append(pts1)
    pts = np.concatenate(pts)
    pts /= np.linalg.norm(pts, axis=1, keepdims=True)
    return bound, pts
