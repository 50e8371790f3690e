"""Certified upper bounds on the sup error of a two-layer bias-free ReLU net over a domain.

The model is g(x) = act_g(sum_i v_i relu(w_i . x)) with hidden weights W (n, d) (already masked:
cut weights are 0) and output weights v (n,); the target is f(x) = act_f(sum_j u_j relu(a_j . x))
with A (m, d), u (m,); act in {"identity", "relu"}. No biases, so the error e = g - f is
positively homogeneous of degree 1: e(t x) = t e(x) for t >= 0.

`sup_error` returns a `SupError` whose `value` is a rigorous upper bound on sup_{x in D} |e(x)|
(the upper end of the certified bracket [optimum over a point set, sup over the domain]) and whose
`attained_at`/`lower` give a point of D and the error there (so `lower <= sup <= value`).

Domains and methods
-------------------
- d = 1 ("sphere" = {-1, +1}, "cube" = [-1, 1]): e is linear on [0, 1] and on [-1, 0] with
  e(0) = 0, so the sup is max(|e(-1)|, |e(+1)|). Both are computed in exact rational arithmetic
  (`fractions.Fraction` of the float64 data) and `value` is that rational rounded *up* to a float:
  exact, no allowance.
- d = 2, "sphere" (the unit circle): exact kink enumeration, see `_circle`. Between consecutive
  kinks of g and f the error is a piecewise sinusoid; its sup is attained at a kink, a zero of an
  output-relu argument, or a stationary point. The maximum of |e| over all these candidates is the
  sup up to float rounding; `value` adds a derived rounding allowance (stated in `note`).
- d >= 2, "cube" [-1, 1]^d: two MILPs (max g - f and max f - g) with exact big-M ReLU encodings,
  solved by HiGHS with gap 0; big-M values come from interval bounds (|w . x| <= ||w||_1 on the
  cube). `value` is the solver's dual bound plus a derived tolerance slack (stated in `note`,
  formula in `_direction_slack`). A time-out still gives a valid (looser) bound, exact=False.
- d >= 3, "sphere": spherical branch and bound over the cube's facets (`sphere_sup`): cells
  whose rigorous bound is within 1e-6 relative of the best error found at a sphere point are
  closed, the others split; exact to that tolerance (plus a rounding allowance) when every
  cell closes, else (time limit, cell budget) the open cells' bounds are included and exact is
  False unless within 1e-5. (Before 2026-12-02: the cube value, loose by up to sqrt(d).)
- "gaussian" (inputs on all of R^d): by homogeneity the sup is +inf unless e == 0 everywhere.
  We return value = inf (lower = inf and exact when the sphere method's witness has e != 0 in
  exact rational arithmetic, which proves the sup is infinite; a float error there can be pure
  rounding); value = 0 only when e == 0 is proved. For a finite number use domain="sphere"
  (the error normalised by |x|).
- Every domain: when both nets have the same pre-activation (decided exactly, units of one
  direction merged in rationals) and the same output activation, or a pre-activation that is a
  nonnegative combination of relus (so the output relu changes nothing), e == 0 and value = 0
  exactly (method "identical-functions"), with no allowance.

Why it matters: a published curve of [lower, upper] brackets is only honest if `value` is never
below the true sup; every allowance here errs on the large side and is documented.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from fractions import Fraction
from typing import Any

import numpy as np

from exactprune.instances.errors import InputError
from exactprune.instances.io import json_infinity
from exactprune.instances.network import check_exact_ints, int_entries, net_outputs, unit_rows
from exactprune.instances.params import as_flag, as_number
from exactprune.instances.scaling import ldexp_up
from exactprune.solvers.clock import Clock

ACTIVATIONS = ("identity", "relu")
DOMAINS = ("sphere", "cube", "gaussian")

_U = 2.0**-53  # unit roundoff of float64
EXACT_RTOL = 1e-5
"""A bound counts as exact (the sup known) only within this of the best error found: a stopped
sphere search, or a cube MILP whose tolerance slack is larger (the numerics policy's 1e-5)."""
_TWO_PI = 2.0 * math.pi
# Angular resolution (radians) within which every computed kink / zero / stationary angle is
# guaranteed to lie from the true one: atan2 and sin/cos are accurate to a few ulps (<= 4 even in
# SIMD builds), one addition of +-pi/2 and one reduction mod 2*pi add a few ulps of 2*pi (4u each);
# the sum is below 40u, and we use 256u for margin.
_DELTA = 256.0 * _U
# Tolerances handed to HiGHS; the slack formula in `_direction_slack` reads the values back.
_HIGHS_TOL = 1e-9
_CHUNK = 4096  # rows per block when evaluating the error at many points


@dataclass(frozen=True)
class SupError:
    """A certified upper bound on sup_{x in D} |g(x) - f(x)|, with a witness point.

    value: rigorous upper bound on the sup (float; +inf if nothing finite could be certified).
    attained_at: a point of D (shape (d,)) where the error is (nearly) maximal, or None.
    lower: |g - f| evaluated in float64 at `attained_at` (a lower estimate of the sup; accurate
        to the float evaluation error, about (n + m) * 2^-53 * (sum|v_i| ||w_i||_1 + ...)).
    exact: True when value - lower is only the stated rounding/tolerance slack and, for the
        sphere's search and the cube's MILPs, within EXACT_RTOL of lower (the sup is known to
        that precision); False for time-outs and searches stopped short of it.
    method: short machine-readable name of the method used.
    note: human-readable account of the certificate (allowances, tolerances, caveats).
    slack: the allowance added to the computed optimum to make `value` rigorous (0 if none).
    """

    value: float
    attained_at: np.ndarray | None = field(compare=False)
    lower: float
    exact: bool
    method: str
    note: str
    slack: float = 0.0

    def to_dict(self) -> dict[str, Any]:
        """JSON-friendly dict (the point as a list, infinities as the strings 'inf')."""
        return {
            "value": json_infinity(self.value),
            "attained_at": None if self.attained_at is None else self.attained_at.tolist(),
            "lower": json_infinity(self.lower),
            "exact": self.exact,
            "method": self.method,
            "note": self.note,
            "slack": self.slack,
        }


# ----------------------------------------------------------------------------- input handling


def _as_net(W: Any, v: Any, act: str, name: str) -> tuple[np.ndarray, np.ndarray, str]:
    """Validate one network's arrays; return float64 copies with dead units dropped.

    A unit is dead (contributes 0 everywhere) when its input weights are all 0 or its output
    weight is 0; dropping it changes neither the function nor the certificate.
    """
    if act not in ACTIVATIONS:
        raise InputError(f"{name}: unknown activation {act!r} (use identity or relu)")
    try:
        raw_W, raw_v = np.asarray(W), np.asarray(v)
    except (TypeError, ValueError) as exc:
        raise InputError(f"{name}: weights must be numeric arrays ({exc})") from None
    for arr in (raw_W, raw_v):  # complex would be truncated to its real part: never certify that
        if arr.dtype.kind not in "iuf":
            raise InputError(f"{name}: weights must be real numbers, got dtype {arr.dtype}")
    for arr, what in ((raw_W, "hidden weights"), (raw_v, "output weights")):
        # int64 2^53 + 1 became the float 2^53, and a net that differs from its target by it
        # was certified identical (hunt 72 M1); instances refuse it the same way
        check_exact_ints(int_entries(arr), f"{name}: {what}")
    W = np.array(raw_W, dtype=np.float64)
    v = np.array(raw_v, dtype=np.float64)
    if W.ndim != 2:
        raise InputError(f"{name}: hidden weights must be a 2-D array (n, d), got shape {W.shape}")
    if v.ndim != 1 or v.shape[0] != W.shape[0]:
        raise InputError(
            f"{name}: output weights must have shape ({W.shape[0]},), got {v.shape}"
        )
    if not (np.all(np.isfinite(W)) and np.all(np.isfinite(v))):
        raise InputError(f"{name}: weights must be finite (no NaN/inf)")
    alive = np.any(W != 0.0, axis=1) & (v != 0.0)
    return W[alive], v[alive], act


_forward = net_outputs  # the one forward pass (instances/network.py)


def error_at(
    W: Any, v: Any, act_g: str, A: Any, u: Any, act_f: str, X: Any
) -> np.ndarray:
    """The signed error g(x) - f(x) at each row of X (k, d), float64, evaluated in blocks."""
    Wg, vg, act_g = _as_net(W, v, act_g, "network")
    Wf, vf, act_f = _as_net(A, u, act_f, "target")
    X = np.atleast_2d(np.asarray(X, dtype=np.float64))
    return _error(Wg, vg, act_g, Wf, vf, act_f, X)


def _error(
    Wg: np.ndarray, vg: np.ndarray, act_g: str, Wf: np.ndarray, vf: np.ndarray, act_f: str,
    X: np.ndarray,
) -> np.ndarray:
    out = np.empty(X.shape[0])
    for start in range(0, X.shape[0], _CHUNK):
        Xc = X[start:start + _CHUNK]
        out[start:start + _CHUNK] = _forward(Wg, vg, act_g, Xc) - _forward(Wf, vf, act_f, Xc)
    return out


def _k1(*nets: tuple[np.ndarray, np.ndarray]) -> float:
    """sum over units of |v_i| * ||w_i||_1 (all nets), rounded up by a relative 1e-12.

    It bounds the Lipschitz constant of e in the sup-norm of x, |e| on the cube, and the scale of
    every rounding error in the evaluation.
    """
    total = 0.0
    for W, v in nets:
        if W.shape[0]:
            total += math.fsum(np.abs(v) * np.abs(W).sum(axis=1))
    return total * (1.0 + 1e-12)


def _round_up(x: float) -> float:
    return float(np.nextafter(x, math.inf)) if math.isfinite(x) else x


# ----------------------------------------------------------------------------- public entry


def sup_error(
    W: Any,
    v: Any,
    act_g: str,
    A: Any,
    u: Any,
    act_f: str,
    domain: str,
    *,
    time_limit: float | None = None,
    monotone_relax: bool = True,
) -> SupError:
    """Certified upper bound on sup_{x in domain} |g(x) - f(x)| (see the module docstring).

    W (n, d), v (n,): the (masked) network; A (m, d), u (m,): the target; act_*: "identity" or
    "relu"; domain: "sphere" (unit sphere; the circle for d = 2; {-1, 1} for d = 1), "cube"
    ([-1, 1]^d) or "gaussian" (all of R^d). time_limit: seconds for the cube's MILPs (shared by
    the two directions) or the sphere's branch and bound (d >= 3); None = no limit.
    monotone_relax: drop the binary of each ReLU whose value the objective wants small (its
    convex hull is then exact); False uses the full big-M encoding everywhere (same optimum,
    for cross-checks).
    Raises InputError for bad input; a solver time-out or failure is reported in the result.
    """
    Wg, vg, act_g = _as_net(W, v, act_g, "network")
    Wf, vf, act_f = _as_net(A, u, act_f, "target")
    d_g, d_f = np.shape(W)[1], np.shape(A)[1]
    if d_g != d_f:
        raise InputError(f"network has input dimension {d_g} but target has {d_f}")
    d = int(d_g)
    if d < 1:
        raise InputError("input dimension must be >= 1")
    if domain not in DOMAINS:
        raise InputError(f"unknown domain {domain!r} (use one of {', '.join(DOMAINS)})")
    if time_limit is not None:
        time_limit = as_number(time_limit, "time_limit", exact=False)
        if not time_limit > 0:
            raise InputError(f"time_limit must be > 0 seconds, got {time_limit!r}")
    monotone_relax = as_flag(monotone_relax, "monotone_relax")
    # each row of W to unit size by a power of two, its output weight by the inverse: the same
    # function bit for bit (relu is positively homogeneous), but no intermediate overflows
    # (rows of 1e200 under outputs of 1e-200 gave a bound of inf called exact; hunt 31)
    g, f = unit_rows(Wg, vg), unit_rows(Wf, vf)
    if g is None or f is None:
        # a row that cannot be scaled exactly spans beyond float64 (1e300 beside 5e-324, or
        # an output weight that would underflow): on the raw data the circle's bound came out
        # below the sup and was called exact, the norms underflowed to 0 in d > 10, and d = 3
        # overflowed (hunt 34); inf is the one honest bound
        which = "network" if g is None else "target"
        return SupError(value=math.inf, attained_at=None, lower=0.0, exact=False,
                        method="none", slack=math.inf,
                        note=f"no finite bound: a unit of the {which} spans beyond float64's "
                             f"range (its row cannot be brought to unit size by a power of "
                             f"two without losing bits), where the float64 bounds do not hold")
    (Wg, vg), (Wf, vf) = g, f
    nets = (Wg, vg, act_g, Wf, vf, act_f)
    return _finite_claims(_sup_error(nets, d, domain, time_limit, monotone_relax))


def _finite_claims(res: SupError) -> SupError:
    """The policy of `exact` for every method but the Gaussian domain's proofs of an unbounded
    error: no claim rests on an overflow (a bound or slack
    that is not finite is not exact, and a witness whose error overflowed float64 gives no
    lower estimate: 0, with a note), and the slack is at most EXACT_RTOL of the error found (a
    net equal to its target up to rounding, error 1e-16, was `exact` with an allowance 400
    times that; hunt 31)."""
    if res.method.startswith("gaussian") and res.value == res.lower == math.inf:
        return res  # over all of R^d an error that is not identically 0 is proved unbounded
    finite = math.isfinite(res.value) and math.isfinite(res.slack) and math.isfinite(res.lower)
    tight = res.slack <= EXACT_RTOL * res.lower
    if finite and res.lower >= 0.0 and (tight or not res.exact):
        return res
    notes = [res.note]
    lower = res.lower
    if not math.isfinite(lower) or not lower >= 0.0:  # an error is never negative (hunt 32)
        lower = 0.0
        notes.append("no finite error at any witness: no lower estimate")
    if res.exact and not finite:
        notes.append("not exact: the bound or its slack is not finite")
    elif res.exact:
        share = res.slack / res.lower if res.lower > 0 else math.inf
        notes.append(f"not exact: the allowance is {share:.2g} of the error found, more than "
                     f"{EXACT_RTOL:g}")
    return SupError(value=res.value, attained_at=res.attained_at, lower=lower, exact=False,
                    method=res.method, note="; ".join(notes), slack=res.slack)


def _sup_error(nets: tuple[np.ndarray, np.ndarray, str, np.ndarray, np.ndarray, str], d: int,
               domain: str, time_limit: float | None, monotone_relax: bool) -> SupError:
    """`sup_error` on checked nets (the dispatch by domain and dimension)."""
    Wg, vg, act_g, Wf, vf, act_f = nets
    if Wg.shape[0] == 0 and Wf.shape[0] == 0:
        return SupError(0.0, _axis(d), 0.0, True, "trivial",
                        "both networks have no live unit: the error is identically 0")
    if _identically_zero(nets):
        return SupError(0.0, _axis(d), 0.0, True, "identical-functions",
                        "the two networks compute the same function (equal pre-activations, "
                        "decided in exact rational arithmetic by merging units of the same "
                        "direction, and equal output activations or a pre-activation that is "
                        "never negative): the error is identically 0")
    if domain == "gaussian":
        return _gaussian(nets, d, time_limit)
    if d == 1:
        return _one_dim(*nets, domain)
    if d == 2 and domain == "sphere":
        return _at_unit_scale(_circle, nets)
    if domain == "cube":
        return _cube_at_unit_scale(nets, d, time_limit, monotone_relax)
    return _sphere_at_unit_scale(nets, time_limit)


# ----------------------------------------------------------------------------- d >= 3 sphere


SPHERE_BNB_MAX_D = 10
"""Above this input dimension the sphere's branch and bound is not run: it splits every cell
of a cube facet into 2^(d-1) (d = 12 asked for 768 MiB per batch, d = 16 for 15 GiB, d = 200
took the machine's memory; hunt 23), so the sup gets the one-line bound of `_sphere_by_norms`."""

SPHERE_SAMPLES = 4096
"""Random sphere points (seeded) tried for the witness of `_sphere_by_norms`."""


def _sphere(
    Wg: np.ndarray, vg: np.ndarray, act_g: str, Wf: np.ndarray, vf: np.ndarray, act_f: str,
    time_limit: float | None,
) -> SupError:
    """The sup over the unit sphere in d >= 3 by spherical branch and bound (`sphere_sup`), or
    above SPHERE_BNB_MAX_D by `_sphere_by_norms`."""
    d = Wg.shape[1] if Wg.shape[0] else Wf.shape[1]
    if d > SPHERE_BNB_MAX_D:
        return _sphere_by_norms(Wg, vg, act_g, Wf, vf, act_f)
    from exactprune.solvers.pruning.sphere_sup import sphere_sup  # it builds on this module

    return sphere_sup(Wg, vg, act_g, Wf, vf, act_f, time_limit=time_limit)


def norm_weighted_sum(W: np.ndarray, v: np.ndarray) -> float:
    """sum |v_i| |w_i|_2 over a net's units (float, before any rounding allowance): what
    bounds its output on the unit sphere."""
    return math.fsum(np.abs(v) * np.linalg.norm(W, axis=1))


def _sphere_by_norms(
    Wg: np.ndarray, vg: np.ndarray, act_g: str, Wf: np.ndarray, vf: np.ndarray, act_f: str,
) -> SupError:
    """A valid, not tight, bound on the sup over the unit sphere for any d: on it
    0 <= relu(w . x) <= |w|_2, and a relu output moves no value further, so
    |g - f| <= K2 = sum |v_i| |w_i|_2 over both nets (rounded up for the norms' and sums'
    float error); the witness is the best of the axis points and SPHERE_SAMPLES seeded random
    points."""
    d = Wg.shape[1] if Wg.shape[0] else Wf.shape[1]
    n_units = Wg.shape[0] + Wf.shape[0]
    k2 = norm_weighted_sum(Wg, vg) + norm_weighted_sum(Wf, vf)
    value = _round_up(k2 * (1.0 + 4.0 * (d + n_units + 4) * _U))
    X = _sample_sphere(d)
    err = np.abs(_error(Wg, vg, act_g, Wf, vf, act_f, X))
    k = int(np.argmax(err))
    return SupError(
        value=value, attained_at=X[k].copy(), lower=float(err[k]), exact=False,
        method="sphere-norm-bound",
        note=f"d = {d} unit sphere, above the {SPHERE_BNB_MAX_D} dimensions the branch and "
             f"bound runs in (it splits each cell into 2^(d-1)): bounded by K2 = sum |v_i| "
             f"|w_i|_2 = {k2:.6g} over both nets (not tight); the best of {X.shape[0]} "
             "sphere points (axes and seeded random ones) gives the lower end")


PROBE_ENTRIES = 1 << 22
"""Most float64 entries (32 MB) of the sphere points a witness search or a probe takes at
once: the 2d axis points alone are 2d^2 entries (d = 20,000 asked for 3 GB and exited 1 under
a 4 GB cap, d = 300,000 for 671 GB; hunt 72 M2)."""


def _axis(d: int) -> np.ndarray:
    """The first unit vector of R^d (a witness of the error 0)."""
    x = np.zeros(d)
    x[0] = 1.0
    return x


def _probe_points(d: int, random: int) -> np.ndarray:
    """The 2d axis points ±e_j while they fit in PROBE_ENTRIES, and up to `random` seeded
    normal points (as many as fit), (m, d); at least one point."""
    axes = (np.vstack([np.eye(d), -np.eye(d)]) if 2 * d * d <= PROBE_ENTRIES // 2
            else np.empty((0, d)))
    room = max(1, (PROBE_ENTRIES - axes.size) // d)
    X = np.random.default_rng(0).standard_normal((min(random, room), d))
    return np.vstack([axes, X])


def _sample_sphere(d: int) -> np.ndarray:
    """The axis points and SPHERE_SAMPLES seeded random points of the unit sphere, (m, d), as
    many as PROBE_ENTRIES allow (a witness: fewer points only lower the lower end)."""
    X = _probe_points(d, SPHERE_SAMPLES)
    return X / np.linalg.norm(X, axis=1, keepdims=True)


# ----------------------------------------------------------------------------- d = 1


def _one_dim(
    Wg: np.ndarray, vg: np.ndarray, act_g: str, Wf: np.ndarray, vf: np.ndarray, act_f: str,
    domain: str,
) -> SupError:
    """Exact sup for d = 1: max(|e(-1)|, |e(+1)|), in rational arithmetic."""

    def out(W: np.ndarray, v: np.ndarray, act: str, x: int) -> Fraction:
        s = Fraction(0)
        for wi, vi in zip(W[:, 0].tolist(), v.tolist(), strict=True):
            pre = Fraction(wi) * x
            if pre > 0:
                s += Fraction(vi) * pre
        return max(s, Fraction(0)) if act == "relu" else s

    errs = {x: abs(out(Wg, vg, act_g, x) - out(Wf, vf, act_f, x)) for x in (1, -1)}
    x_best = max(errs, key=lambda x: errs[x])
    best = errs[x_best]
    value = float(best)
    if Fraction(value) < best:
        value = _round_up(value)
    where = "{-1, +1}" if domain == "sphere" else "[-1, 1] (the error is linear on each half)"
    return SupError(
        value=value, attained_at=np.array([float(x_best)]), lower=float(best), exact=True,
        method="exact-1d-rational",
        note=f"d = 1: sup over {where} is max(|e(-1)|, |e(1)|), computed exactly with "
             "fractions and rounded up",
    )


# ----------------------------------------------------------------------------- d = 2 circle


_SMALLEST_SUBNORMAL = math.ldexp(1.0, -1074)


def _circle(
    Wg: np.ndarray, vg: np.ndarray, act_g: str, Wf: np.ndarray, vf: np.ndarray, act_f: str,
) -> SupError:
    """Exact sup of |e| on the unit circle by kink enumeration.

    With x = (cos t, sin t), relu(w_i . x) has kinks at t = phi_i +- pi/2 (phi_i = atan2(w_i)).
    Between consecutive unit kinks (of g and f together) the inner sums are sinusoids
    s(t) = c_s . x(t), r(t) = c_r . x(t) with fixed coefficients; the error is one of s - r,
    s, -r, 0 on sub-pieces split by the zeros of s (if act_g = relu) and of r (if act_f = relu).
    So the sup of |e| is attained at a unit kink, a zero of s or r, or a stationary point
    (alpha, alpha + pi, alpha = atan2 of the coefficients) of s - r, s or r. We evaluate e at all
    of them (a superset is harmless: every candidate is a genuine circle point).

    Rounding allowance (added to the max, stated in the note), with K1 = sum |v_i| ||w_i||_1
    over both nets, N = n + m, u = 2^-53: (a) float evaluation of e at a float point, and the
    error of the computed cos/sin: <= (N + 4) u K1 + 8 u K1; (b) coefficient rounding of the
    piece sinusoids: each |s - s_hat| <= (N + 1) u K1, counted twice; (c) every computed angle is
    within DELTA = 256 u of the true one and e is K1-Lipschitz in the angle: 4 DELTA K1 (kinks,
    candidates, and the piece ends). Pieces narrower than 4 DELTA are covered by their end kinks
    through (c) and get no stationary candidates (their active set is not reliable). A piece's
    active set is read at its midpoint, which lies >= DELTA from every true kink, where the float
    sign of w . x is correct since DELTA ||w||_2 (2/pi) > 20 u ||w||_1. We use the rounded-up
    total allowance = u K1 (8 N + 2048) >= (a) + (b) + (c). Below the normal range a product
    is off by up to 2^-1075 absolutely, not relatively, and so is the allowance's own product:
    (8 N + 64) 2^-1074 more covers both (outputs near 2^-1056 left the sup up to 4.7 steps of
    2^-1074 below the true one, marked exact: hunt 72 H1). `_sup_error` runs the circle at unit
    scale, where this term is nothing; it counts when the nets cannot be scaled exactly.
    """
    kinks = [_unit_kinks(Wg), _unit_kinks(Wf)]
    theta_k = np.unique(np.mod(np.concatenate(kinks), _TWO_PI))
    nxt = np.append(theta_k[1:], theta_k[0] + _TWO_PI)
    width = nxt - theta_k
    wide = width >= 4.0 * _DELTA
    mids = theta_k[wide] + 0.5 * width[wide]
    Xm = np.column_stack([np.cos(mids), np.sin(mids)])
    cs = _piece_coeffs(Wg, vg, Xm)
    cr = _piece_coeffs(Wf, vf, Xm)
    cands = [theta_k]
    for c in (cs, cr, cs - cr):
        alpha = np.arctan2(c[:, 1], c[:, 0])
        cands += [alpha, alpha + math.pi]  # stationary points (max and min)
    for c, act in ((cs, act_g), (cr, act_f)):
        if act == "relu":
            alpha = np.arctan2(c[:, 1], c[:, 0])
            cands += [alpha + 0.5 * math.pi, alpha - 0.5 * math.pi]  # zeros of the sinusoid
    theta = np.concatenate(cands)
    X = np.column_stack([np.cos(theta), np.sin(theta)])
    err = np.abs(_error(Wg, vg, act_g, Wf, vf, act_f, X))
    k = int(np.argmax(err))
    lower = float(err[k])
    n_units = Wg.shape[0] + Wf.shape[0]
    k1 = _k1((Wg, vg), (Wf, vf))
    allowance = _round_up(k1 * _U * (8.0 * n_units + 2048.0) * (1.0 + 1e-9)
                          + (8.0 * n_units + 64.0) * _SMALLEST_SUBNORMAL)
    value = _round_up(lower + allowance)
    return SupError(
        value=value, attained_at=X[k].copy(), lower=lower, exact=True,
        method="exact-circle-kinks",
        note=(f"d = 2 unit circle: max of |e| over {theta.size} candidate angles (unit kinks, "
              "output-relu zeros, stationary points of each piece) plus a rounding allowance "
              f"{allowance:.3g} = 2^-53 * K1 * (8 N + 2048) + (8 N + 64) * 2^-1074, "
              f"K1 = sum|v_i| ||w_i||_1 = {k1:.6g}, "
              f"N = {n_units} live units"),
        slack=allowance,
    )


def _unit_kinks(W: np.ndarray) -> np.ndarray:
    """Angles where w_i . (cos t, sin t) = 0 for each (nonzero) row: phi_i +- pi/2."""
    if W.shape[0] == 0:
        return np.empty(0)
    phi = np.arctan2(W[:, 1], W[:, 0])
    return np.concatenate([phi + 0.5 * math.pi, phi - 0.5 * math.pi])


def _piece_coeffs(W: np.ndarray, v: np.ndarray, Xm: np.ndarray) -> np.ndarray:
    """Coefficients (P, 2) of the inner sum sum_{i active at Xm[p]} v_i w_i on each piece."""
    if W.shape[0] == 0:
        return np.zeros((Xm.shape[0], 2))
    out = np.empty((Xm.shape[0], 2))
    for start in range(0, Xm.shape[0], _CHUNK):
        active = (Xm[start:start + _CHUNK] @ W.T) > 0.0
        out[start:start + _CHUNK] = (active * v) @ W
    return out


# ----------------------------------------------------------------------------- gaussian


GAUSSIAN_WITNESS_TRIES = 16
"""Sampled sphere points (those of largest float error) checked in exact arithmetic for a
witness e != 0 before the gaussian domain runs the sphere's branch and bound (hunt 25: near
an exact copy that search ran for minutes to find what a sample shows at once)."""


def _gaussian(
    nets: tuple[np.ndarray, np.ndarray, str, np.ndarray, np.ndarray, str], d: int,
    time_limit: float | None,
) -> SupError:
    """Sup over R^d: +inf unless e == 0 (1-homogeneity).

    e != 0 is proved only by a point where e, evaluated in exact rational arithmetic, is not 0
    (the float error there can be rounding noise: a net whose units are the target's in another
    order has float errors ~1e-16 and e == 0). e == 0 is proved by `_identically_zero` or by a
    sphere bound of exactly 0 (d = 1)."""
    Wg, vg, act_g, Wf, vf, act_f = nets
    base = ("the error is positively 1-homogeneous, so its sup over R^d is infinite unless it "
            "vanishes; use domain='sphere' for the error normalised by |x|. ")
    if d >= 3:  # a sampled witness first: the sphere's search cannot close where e is tiny
        X = _sample_sphere(d)
        err = np.abs(_error(*nets, X))
        for k in np.argsort(err)[::-1][:GAUSSIAN_WITNESS_TRIES]:
            if err[k] > 0.0 and exact_error_at(nets, X[k]) != 0:
                return SupError(math.inf, X[k].copy(), math.inf, True, "gaussian-homogeneity",
                                base + "e != 0 at attained_at (a sampled sphere point, in "
                                "exact rational arithmetic), so e(t x) -> inf.")
    if d == 1:
        sph = _one_dim(*nets, "sphere")
    elif d == 2:
        sph = _circle(*nets)
    else:
        sph = _sphere(*nets, time_limit)
    if sph.value == 0.0:
        return SupError(0.0, sph.attained_at, 0.0, True, "gaussian-homogeneity",
                        base + "Here the sphere bound is exactly 0, so e == 0 on R^d.")
    if sph.attained_at is not None:
        e_exact = exact_error_at(nets, sph.attained_at)
        if e_exact != 0:
            return SupError(math.inf, sph.attained_at, math.inf, True, "gaussian-homogeneity",
                            base + f"e = {float(e_exact):.6g} != 0 at attained_at (in exact "
                            "rational arithmetic), so e(t x) -> inf.")
    return SupError(math.inf, None, 0.0, False, "gaussian-homogeneity",
                    base + f"No point with e != 0 in exact arithmetic was found, but the sphere "
                    f"bound {sph.value:.3g} does not prove e == 0; inf is the only certified "
                    "bound.")


# ----------------------------------------------------------------------------- exact zero test


def direction_key(w: np.ndarray) -> tuple[tuple[Fraction, ...], Fraction]:
    """(w / max_j |w_j|, max_j |w_j|) in exact rationals of the float64 row w (nonzero): rows
    that are positive multiples of each other share the key, so their units
    relu(w . x) = scale relu(key . x) lie on one hyperplane and merge exactly."""
    exact = [Fraction(float(x)) for x in w]
    scale = max(abs(x) for x in exact)
    return tuple(x / scale for x in exact), scale


def _exact_units(W: np.ndarray, v: np.ndarray, sign: int,
                 into: dict[tuple[Fraction, ...], Fraction]) -> None:
    """Add sign * sum_i v_i relu(w_i . x) to `into` as {direction key: coefficient}, exactly
    (`direction_key`; the coefficient is v_i times the row's scale)."""
    for w, vi in zip(W, v, strict=True):
        key, scale = direction_key(w)
        into[key] = into.get(key, Fraction(0)) + sign * Fraction(float(vi)) * scale


def _same_pre_activation(Wg: np.ndarray, vg: np.ndarray, Wf: np.ndarray, vf: np.ndarray
                         ) -> bool:
    """True iff sum_i vg_i relu(wg_i . x) == sum_j vf_j relu(wf_j . x) for every x in R^d, decided
    in exact rational arithmetic on the float64 data (live units only).

    The difference is sum_r c_r relu(r . x) over distinct directions r. Its gradient jumps by
    (c_r + c_-r) r across the hyperplane r . x = 0 (no other hyperplane covers it), so it is 0
    only if c_-r = -c_r for every r; then each pair is c_r (r . x), linear, and the sum of those
    linear parts must vanish."""
    terms: dict[tuple[Fraction, ...], Fraction] = {}
    _exact_units(Wg, vg, 1, terms)
    _exact_units(Wf, vf, -1, terms)
    d = Wg.shape[1] if Wg.shape[0] else Wf.shape[1]
    linear = [Fraction(0)] * d
    seen: set[tuple[Fraction, ...]] = set()
    for key, c in terms.items():
        if key in seen or c == 0:
            continue
        opposite = tuple(-x for x in key)
        if c + terms.get(opposite, Fraction(0)) != 0:
            return False
        seen.add(opposite)
        linear = [acc + c * x for acc, x in zip(linear, key, strict=True)]
    return all(x == 0 for x in linear)


def _identically_zero(nets: tuple[np.ndarray, np.ndarray, str, np.ndarray, np.ndarray, str]
                      ) -> bool:
    """A sufficient test for e == 0 on R^d, exact: equal pre-activations h, and either equal
    output activations or an h that is never negative (relu(h) == h; proved when every unit of
    one direction merged with the others has a coefficient >= 0: a net that contains the target
    neuron, with an identity output, against the target's relu). False means "not proved", not
    "e != 0" (two relu outputs of pre-activations that are never positive are both 0, for
    example)."""
    Wg, vg, act_g, Wf, vf, act_f = nets
    d = Wg.shape[1] if Wg.shape[0] else Wf.shape[1]
    probes = _probe_points(d, 8)  # only a shortcut: the decision below is exact
    if np.max(np.abs(_error(*nets, probes))) > 1e-6 * _k1((Wg, vg), (Wf, vf)):
        return False  # far above any rounding: not the same function (skips the rationals)
    if not _same_pre_activation(Wg, vg, Wf, vf):
        return False
    if act_g == act_f:
        return True
    for W, v in ((Wg, vg), (Wf, vf)):  # the same h: either form may show h >= 0
        merged: dict[tuple[Fraction, ...], Fraction] = {}
        _exact_units(W, v, 1, merged)
        if all(c >= 0 for c in merged.values()):
            return True
    return False


def exact_error_at(nets: tuple[np.ndarray, np.ndarray, str, np.ndarray, np.ndarray, str],
                 x: np.ndarray) -> Fraction:
    """e(x) = g(x) - f(x) in exact rational arithmetic at the float64 point x."""
    xs = [Fraction(float(t)) for t in x]

    def out(W: np.ndarray, v: np.ndarray, act: str) -> Fraction:
        h = Fraction(0)
        for w, vi in zip(W, v, strict=True):
            z = sum((Fraction(float(a)) * b for a, b in zip(w, xs, strict=True)), Fraction(0))
            if z > 0:
                h += Fraction(float(vi)) * z
        return max(h, Fraction(0)) if act == "relu" else h

    Wg, vg, act_g, Wf, vf, act_f = nets
    return out(Wg, vg, act_g) - out(Wf, vf, act_f)


# ----------------------------------------------------------------------------- cube MILP


@dataclass
class _Model:
    """Column/row lists of a HiGHS model under construction (rows are sparse dicts)."""

    lb: list[float] = field(default_factory=list)
    ub: list[float] = field(default_factory=list)
    cost: list[float] = field(default_factory=list)
    integer: list[bool] = field(default_factory=list)
    rows: list[tuple[float, float, dict[int, float]]] = field(default_factory=list)

    def col(self, lb: float, ub: float, cost: float = 0.0, integer: bool = False) -> int:
        self.lb.append(lb)
        self.ub.append(ub)
        self.cost.append(cost)
        self.integer.append(integer)
        return len(self.lb) - 1

    def row(self, lo: float, hi: float, coefs: dict[int, float]) -> None:
        self.rows.append((lo, hi, coefs))


@dataclass
class _NetCols:
    """Where one network lives in the model, to build a MIP start and the slack."""

    h: list[int]
    delta_h: dict[int, int]  # unit -> binary column
    y: int | None
    delta_y: int | None
    s_lo: float
    s_hi: float
    out_zero: bool  # output relu with s_hi <= 0: the output is identically 0


def _add_net(
    mdl: _Model, x_cols: list[int], W: np.ndarray, v: np.ndarray, act: str, sigma: float,
    monotone_relax: bool,
) -> _NetCols:
    """Encode sigma * net(x) into the objective, exactly (see `_milp_cube`)."""
    M = np.abs(W).sum(axis=1)  # interval bound: |w . x| <= ||w||_1 on the cube
    s_lo = float(-math.fsum(-(v * M)[v < 0]))
    s_hi = float(math.fsum((v * M)[v > 0]))
    # Rounding of s_lo/s_hi: widen by a relative 1e-12 (they are sums of <= n products).
    s_lo -= 1e-12 * abs(s_lo)
    s_hi += 1e-12 * abs(s_hi)
    nc = _NetCols(h=[], delta_h={}, y=None, delta_y=None, s_lo=s_lo, s_hi=s_hi, out_zero=False)
    if act == "relu" and s_hi <= 0.0:
        nc.out_zero = True
        return nc
    output_is_sum = act == "identity" or s_lo >= 0.0
    for i in range(W.shape[0]):
        w = W[i]
        Mi = float(M[i]) * (1.0 + 1e-12)
        hi = mdl.col(0.0, Mi, sigma * float(v[i]) if output_is_sum else 0.0)
        nc.h.append(hi)
        lin = {x_cols[k]: -float(w[k]) for k in range(w.size) if w[k] != 0.0}
        mdl.row(0.0, math.inf, {hi: 1.0, **lin})  # h >= w . x
        if sigma * v[i] > 0 or not monotone_relax:
            di = mdl.col(0.0, 1.0, integer=True)
            nc.delta_h[i] = di
            mdl.row(-math.inf, Mi, {hi: 1.0, **lin, di: Mi})  # h <= w.x + M (1 - delta)
            mdl.row(-math.inf, 0.0, {hi: 1.0, di: -Mi})  # h <= M delta
    if output_is_sum:
        return nc
    y = mdl.col(0.0, s_hi, sigma)
    nc.y = y
    s_terms = {nc.h[i]: -float(v[i]) for i in range(W.shape[0])}
    mdl.row(0.0, math.inf, {y: 1.0, **s_terms})  # y >= s
    if sigma > 0 or not monotone_relax:
        dy = mdl.col(0.0, 1.0, integer=True)
        nc.delta_y = dy
        mdl.row(-math.inf, -s_lo, {y: 1.0, **s_terms, dy: -s_lo})  # y <= s - s_lo (1 - delta)
        mdl.row(-math.inf, 0.0, {y: 1.0, dy: -s_hi})  # y <= s_hi delta
    return nc


def _direction_slack(W: np.ndarray, v: np.ndarray, act: str, nc: _NetCols,
                     tau_p: float, tau_i: float) -> float:
    """Objective gain the solver's tolerances can buy through one network (first order).

    A point accepted by HiGHS may violate each row and bound by tau_p (absolute; scaling is off)
    and integrality by tau_i. Then x may leave the cube by tau_p, moving w . x by ||w||_1 tau_p;
    a binary-encoded h_i may exceed relu(w . x) by M_i tau_i + tau_p, a relaxed h_i may fall below
    it by tau_p; so each unit is off by at most e_i = M_i (tau_i + tau_p) + tau_p and the inner sum
    by sum |v_i| e_i. An output relu y is off by at most max(-s_lo, s_hi) tau_i + tau_p more.
    """
    if nc.out_zero:
        return 0.0
    M = np.abs(W).sum(axis=1)
    total = math.fsum(np.abs(v) * (M * (tau_i + tau_p) + tau_p))
    if nc.y is not None:
        total += max(-nc.s_lo, nc.s_hi) * tau_i + tau_p
    return total


def _mip_start(mdl: _Model, x_cols: list[int], parts: list[tuple[_NetCols, np.ndarray,
               np.ndarray]], x: np.ndarray) -> np.ndarray:
    """A full feasible column vector for the point x (relus evaluated exactly as encoded)."""
    col = np.zeros(len(mdl.lb))
    col[x_cols] = x
    for nc, W, v in parts:
        if nc.out_zero:
            continue
        pre = W @ x
        h = np.maximum(pre, 0.0)
        col[nc.h] = np.minimum(h, np.array(mdl.ub)[nc.h])
        for i, di in nc.delta_h.items():
            col[di] = 1.0 if pre[i] > 0 else 0.0
        if nc.y is not None:
            s = float(h @ v)
            col[nc.y] = min(max(s, 0.0), mdl.ub[nc.y])
            if nc.delta_y is not None:
                col[nc.delta_y] = 1.0 if s > 0 else 0.0
    return col


def _candidate_points(d: int, rng: np.random.Generator) -> np.ndarray:
    """Points of the cube for the MIP start: vertices (d <= 10) and random boundary points."""
    pts = [rng.uniform(-1.0, 1.0, size=(512, d))]
    face = rng.integers(0, d, size=512)
    pts[0][np.arange(512), face] = rng.choice([-1.0, 1.0], size=512)
    if d <= 10:
        grid = np.array(np.meshgrid(*[[-1.0, 1.0]] * d, indexing="ij")).reshape(d, -1).T
        pts.append(grid)
    return np.concatenate(pts)


def _trivial_bound(W: np.ndarray, v: np.ndarray, act: str) -> tuple[float, float]:
    """Interval [lo, hi] of a network's output over the cube (rigorous, rounded outward)."""
    if W.shape[0] == 0:
        return 0.0, 0.0
    Mv = v * np.abs(W).sum(axis=1)
    lo = math.fsum(Mv[v < 0]) * (1 + 1e-12) if np.any(v < 0) else 0.0
    hi = math.fsum(Mv[v > 0]) * (1 + 1e-12) if np.any(v > 0) else 0.0
    if act == "relu":
        lo, hi = max(lo, 0.0), max(hi, 0.0)
    return lo, hi


def _powers_of_two_exact(x: np.ndarray, k: np.ndarray | int) -> np.ndarray | None:
    """x * 2^k entrywise, or None when that is not exact (overflow, or bits lost to
    subnormals)."""
    with np.errstate(over="ignore"):
        y = np.ldexp(x, k)
        back = np.ldexp(y, -np.asarray(k))
    return y if np.all(np.isfinite(y)) and np.array_equal(back, x) else None


def _cube_at_unit_scale(nets: tuple[np.ndarray, np.ndarray, str, np.ndarray, np.ndarray, str],
                        d: int, time_limit: float | None, monotone_relax: bool) -> SupError:
    """`_milp_cube` at unit scale (`_at_unit_scale`). HiGHS's tolerances are absolute: on nets
    of scale 1e-8 their slack (~3e-8) exceeded the error itself while the result said exact
    (hunt 25), and with weights of 1e8 its dual bound came out 0.1 % below the true sup, still
    said exact (hunt 28)."""
    return _at_unit_scale(lambda *n: _milp_cube(*n, d, time_limit, monotone_relax), nets)


def _sphere_at_unit_scale(nets: tuple[np.ndarray, np.ndarray, str, np.ndarray, np.ndarray, str],
                          time_limit: float | None) -> SupError:
    """`_sphere` at unit scale (`_at_unit_scale`): with outputs near 1e200 the branch and
    bound's squares overflowed, its witnesses were NaN and it returned lower = -1 with numpy's
    warnings (hunt 32)."""
    return _at_unit_scale(lambda *n: _sphere(*n, time_limit), nets)


def _at_unit_scale(solve: Callable[..., SupError],
                   nets: tuple[np.ndarray, np.ndarray, str, np.ndarray, np.ndarray, str]
                   ) -> SupError:
    """`solve(Wg, vg, act_g, Wf, vf, act_f)` on the same functions scaled exactly by powers of
    two so that every row of W is of unit size (max |w_ij| in [0.5, 1)) and K1 = sum |v_i|
    ||w_i||_1 in [1, 64), the result scaled back (and its witness re-evaluated on the nets as
    given). Unscaled when a scaling is not exact (overflow, subnormals)."""
    Wg, vg, act_g, Wf, vf, act_f = nets
    g, f = unit_rows(Wg, vg), unit_rows(Wf, vf)
    if g is None or f is None:
        return solve(*nets)
    k1 = _k1(g, f)
    # outputs by 2^k into K1 in [1, 64): above 1 the slack's max(1, |bound|) term is relative,
    # and a K1 of a few units (the tests' 8 to 16) kept a slack near 1e-7 of it
    e1 = math.frexp(k1)[1] if k1 > 0 else 1  # k1 in [2^(e1-1), 2^e1)
    k = 1 - e1 if e1 < 1 else (6 - e1 if e1 > 6 else 0)
    vg2, vf2 = _powers_of_two_exact(g[1], k), _powers_of_two_exact(f[1], k)
    if vg2 is None or vf2 is None:
        return solve(*nets)
    res = solve(g[0], vg2, act_g, f[0], vf2, act_f)
    if k == 0 and all(a is b for a, b in ((g[0], Wg), (f[0], Wf))):
        return res

    lower = float(np.max(np.abs(_error(*nets, res.attained_at[None, :])))) \
        if res.attained_at is not None else max(math.ldexp(res.lower, -k), 0.0)
    value = ldexp_up(res.value, -k)
    if lower > value:  # the witness re-evaluated on the data as given: rounding differs
        value = lower
    return SupError(value=value, attained_at=res.attained_at, lower=lower, exact=res.exact,
                    method=res.method,
                    note=res.note + f"; solved on the nets scaled exactly by powers of two "
                    f"(rows of unit size, outputs by 2^{k}), the bounds scaled back",
                    slack=ldexp_up(res.slack, -k))


def _milp_cube(
    Wg: np.ndarray, vg: np.ndarray, act_g: str, Wf: np.ndarray, vf: np.ndarray, act_f: str,
    d: int, time_limit: float | None, monotone_relax: bool,
) -> SupError:
    """sup over [-1, 1]^d of |g - f| by two MILPs (max g - f, max f - g) with HiGHS.

    Encoding of h = relu(w . x), x in the cube, M = ||w||_1 (so w . x in [-M, M]):
    h in [0, M], h >= w . x, and, when the objective wants h large, a binary delta with
    h <= w . x + M (1 - delta), h <= M delta. When the objective wants h small (its sign times
    its output weight is negative, relu outputs being monotone) the binary is dropped: the
    maximiser pushes h down to max(0, w . x) anyway, so the optimum is unchanged (standard
    convex-hull argument). The output relu is encoded the same way with the interval
    [s_lo, s_hi] of the inner sum (s_lo = sum_{v<0} v_i M_i, s_hi = sum_{v>0} v_i M_i).
    The certified value per direction is min(HiGHS dual bound + slack, interval bound), where
    slack = `_direction_slack` for both nets + a dual-feasibility term tau_d * sum_j max|bound_j|
    (Neumaier-Shcherbina style: reduced costs off by tau_d move the LP bound by at most that)
    + tau_i * max(1, |bound|) for node pruning, all times 2 as a safety factor for effects not
    modelled (presolve, cuts).
    """
    import highspy

    rng = np.random.default_rng(0)
    pts = _candidate_points(d, rng)
    e_pts = _error(Wg, vg, act_g, Wf, vf, act_f, pts)
    clock = Clock(time_limit)
    g_lo, g_hi = _trivial_bound(Wg, vg, act_g)
    f_lo, f_hi = _trivial_bound(Wf, vf, act_f)
    k1 = _k1((Wg, vg), (Wf, vf))
    round_pad = k1 * _U * (Wg.shape[0] + Wf.shape[0] + 8)

    best_val, best_x, best_low, all_opt = -math.inf, None, -math.inf, True
    slack_max, notes = 0.0, []
    for sigma in (1.0, -1.0):
        trivial = (g_hi - f_lo if sigma > 0 else f_hi - g_lo) + round_pad
        mdl = _Model()
        x_cols = [mdl.col(-1.0, 1.0) for _ in range(d)]
        ncg = _add_net(mdl, x_cols, Wg, vg, act_g, sigma, monotone_relax)
        ncf = _add_net(mdl, x_cols, Wf, vf, act_f, -sigma, monotone_relax)
        # Best sampled point for this direction: a MIP start and a fallback lower bound.
        k = int(np.argmax(sigma * e_pts))
        x0, low0 = pts[k], float(sigma * e_pts[k])
        remaining = None if clock.deadline is None else max(clock.remaining(), 0.05)
        h = _new_highs(highspy)
        for opt, val in (("mip_rel_gap", 0.0), ("mip_abs_gap", 0.0),
                         ("primal_feasibility_tolerance", _HIGHS_TOL),
                         ("dual_feasibility_tolerance", _HIGHS_TOL),
                         ("mip_feasibility_tolerance", _HIGHS_TOL),
                         ("simplex_scale_strategy", 0), ("random_seed", 0)):
            h.setOptionValue(opt, val)
        if remaining is not None:
            h.setOptionValue("time_limit", float(remaining))
        _pass_model(h, highspy, mdl)
        sol = highspy.HighsSolution()
        sol.col_value = _mip_start(mdl, x_cols, [(ncg, Wg, vg), (ncf, Wf, vf)], x0).tolist()
        sol.value_valid = True
        h.setSolution(sol)
        h.run()
        status = h.getModelStatus()
        info = h.getInfo()
        dual = float(info.mip_dual_bound)
        tau_p = max(_opt(h, "primal_feasibility_tolerance"), _opt(h, "mip_feasibility_tolerance"))
        tau_i = _opt(h, "mip_feasibility_tolerance")
        tau_d = _opt(h, "dual_feasibility_tolerance")
        col_mag = math.fsum(max(abs(a), abs(b)) for a, b in zip(mdl.lb, mdl.ub, strict=True))
        slack = 2.0 * (_direction_slack(Wg, vg, act_g, ncg, tau_p, tau_i)
                       + _direction_slack(Wf, vf, act_f, ncf, tau_p, tau_i)
                       + tau_d * col_mag
                       + tau_i * max(1.0, abs(dual) if math.isfinite(dual) else 1.0)
                       + round_pad)
        optimal = status == highspy.HighsModelStatus.kOptimal
        x_sol = None
        if info.primal_solution_status == 2:  # feasible point available
            x_sol = np.clip(np.array(h.getSolution().col_value)[x_cols], -1.0, 1.0)
        low, x_dir = low0, x0
        if x_sol is not None:
            low_sol = float(sigma * _error(Wg, vg, act_g, Wf, vf, act_f, x_sol[None, :])[0])
            if low_sol >= low:
                low, x_dir = low_sol, x_sol
        if math.isfinite(dual) and status in (highspy.HighsModelStatus.kOptimal,
                                              highspy.HighsModelStatus.kTimeLimit,
                                              highspy.HighsModelStatus.kInterrupt,
                                              highspy.HighsModelStatus.kSolutionLimit,
                                              highspy.HighsModelStatus.kIterationLimit):
            val = min(_round_up(dual + slack), trivial)
        else:
            val = trivial
            optimal = False
            notes.append(f"direction {'+' if sigma > 0 else '-'}: HiGHS status "
                         f"{h.modelStatusToString(status)}, fell back to the interval bound")
        if low > val:
            # A realised error above the certified bound means the tolerance model failed.
            notes.append(f"direction {'+' if sigma > 0 else '-'}: realised error {low:.6g} above "
                         f"bound {val:.6g}; value raised to it and NOT exact")
            val, optimal = low, False
        if not optimal:
            all_opt = False
            if status == highspy.HighsModelStatus.kTimeLimit:
                notes.append(f"direction {'+' if sigma > 0 else '-'}: time limit, dual bound "
                             f"{dual:.6g} (gap {info.mip_gap:.3g})")
        slack_max = max(slack_max, slack)
        best_val = max(best_val, val)
        if low > best_low:
            best_low, best_x = low, x_dir
    best_val = max(best_val, 0.0)
    best_low = max(best_low, 0.0)
    if all_opt and slack_max > EXACT_RTOL * best_low:
        all_opt = False  # certified, but the tolerances' share is more than the policy's 1e-5
        share = slack_max / best_low if best_low > 0 else math.inf
        notes.append(f"not exact: the tolerance slack is {share:.2g} of the error found, more "
                     f"than {EXACT_RTOL:g}")
    return SupError(
        value=best_val, attained_at=None if best_x is None else np.asarray(best_x, dtype=float),
        lower=best_low, exact=all_opt, method="milp-highs-cube",
        note=("cube [-1,1]^d: max of HiGHS dual bounds of max(g-f) and max(f-g) (gap 0, "
              f"tolerances {_HIGHS_TOL:g}, scaling off) plus a tolerance slack <= {slack_max:.3g} "
              "(2 x [sum |v_i| (M_i (tau_i + tau_p) + tau_p) + output-relu M tau_i + tau_d "
              "sum_j max|bound_j| + tau_i max(1, |bound|) + rounding]), capped by the interval "
              "bound; big-M from interval bounds M_i = ||w_i||_1"
              + ("; " + "; ".join(notes) if notes else "")),
        slack=slack_max,
    )




def _new_highs(highspy: Any) -> Any:
    """A silent Highs object (the first construction in a process prints a banner, which
    `new_highs` sends nowhere)."""
    from exactprune.solvers.milp_engines.highs import new_highs

    h = new_highs(highspy)
    h.setOptionValue("output_flag", False)
    return h


def _opt(h: Any, name: str) -> float:
    got = h.getOptionValue(name)
    return float(got[1] if isinstance(got, tuple) else got)


def _pass_model(h: Any, highspy: Any, mdl: _Model) -> None:
    """Hand the model to HiGHS as a row-wise HighsLp, maximising."""
    lp = highspy.HighsLp()
    lp.num_col_ = len(mdl.lb)
    lp.num_row_ = len(mdl.rows)
    lp.col_cost_ = np.array(mdl.cost)
    lp.col_lower_ = np.array(mdl.lb)
    lp.col_upper_ = np.array(mdl.ub)
    lp.row_lower_ = np.array([r[0] for r in mdl.rows])
    lp.row_upper_ = np.array([r[1] for r in mdl.rows])
    lp.sense_ = highspy.ObjSense.kMaximize
    start, index, value = [0], [], []
    for _, _, coefs in mdl.rows:
        for j, a in sorted(coefs.items()):
            index.append(j)
            value.append(a)
        start.append(len(index))
    lp.a_matrix_.format_ = highspy.MatrixFormat.kRowwise
    lp.a_matrix_.num_col_ = lp.num_col_
    lp.a_matrix_.num_row_ = lp.num_row_
    lp.a_matrix_.start_ = np.array(start, dtype=np.int32)
    lp.a_matrix_.index_ = np.array(index, dtype=np.int32)
    lp.a_matrix_.value_ = np.array(value)
    lp.integrality_ = [highspy.HighsVarType.kInteger if b else highspy.HighsVarType.kContinuous
                       for b in mdl.integer]
    h.passModel(lp)
