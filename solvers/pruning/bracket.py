"""Certified error brackets: what a mask (and the optimum) achieve over the whole domain.

For a pruning instance with point set S drawn from a domain D and a keep-mask m:
- `points_error`: the mask's error over S (instance.evaluate);
- `upper`: a rigorous upper bound on sup_{x∈D} |g_m(x) − f(x)| (solvers.sup_error: exact on
  d = 1 and on the circle, a MILP bound on the cube — called exact when the MILPs are solved
  and their tolerance slack is at most 1e-5 of the error (sup_error.EXACT_RTOL; hunt 51 saw
  1.3e-6 above the true sup) — and a spherical branch and bound — exact to 1e-6 relative —
  for the sphere in d >= 3). It bounds the best achievable sup error too, since m is one
  admissible mask;
- `lower`: a proven lower bound on the best achievable *sup* error over D: the optimum over S
  (or any proven lower bound on it, e.g. a solver's `bound`), because every mask's sup over S is
  at most its sup over D. Only meaningful for the linf norm (sup error).
The honest form of "verifying a width bound" is a curve of [lower, upper] against width.
"""

from __future__ import annotations

import math
import sys
from dataclasses import asdict, dataclass, field
from fractions import Fraction
from typing import Any

import numpy as np

from exactprune.instances.errors import InputError
from exactprune.instances.io import json_infinity
from exactprune.instances.params import as_number
from exactprune.instances.scaling import float_floor


@dataclass(frozen=True)
class Bracket:
    """lower <= best achievable sup error over the domain <= upper (see the module docstring).

    points_error: the mask's error on the instance's points; upper_exact: the upper value is
    the exact sup (up to stated rounding) rather than a looser bound; upper_method: how it was
    computed; attained_at: where the mask's error is (nearly) maximal.
    """

    lower: float | None
    upper: float | None
    points_error: float
    upper_exact: bool
    upper_method: str
    domain: str | None
    norm: str
    attained_at: list[float] | None = None
    notes: list[str] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        """The fields as JSON values; a proved infinite upper end (gaussian domain) is the
        string "inf", as in SupError.to_dict: null means "no upper bound" (no domain)."""
        data = asdict(self)
        if self.upper is not None:
            data["upper"] = json_infinity(self.upper)
        return data


def _largest_norm_up(points: np.ndarray) -> float:
    """A float >= max_k ||x_k||_2, exact up to rounding upward: the squared norms of the
    candidates (float norms within 1e-9 of the largest) in exact rationals."""
    norms = np.linalg.norm(points, axis=1)
    top = float(norms.max())
    best = max(sum((Fraction(float(v)) ** 2 for v in points[k]), Fraction(0))
               for k in np.flatnonzero(norms >= top * (1 - 1e-9)))
    r = math.sqrt(float(best))
    while Fraction(r) ** 2 < best:
        r = math.nextafter(r, math.inf)
    return r


def _lower_on_the_sphere(r: float, lower: float, notes: list[str]) -> float:
    """A lower bound over the points is one over the unit sphere only after dividing by the
    largest point norm `r` (|e(r·x)| = r·|e(x)| for these bias-free nets): sphere points may
    be off norm 1 by SPHERE_TOL, and 1 + 9e-13 times the optimum is not a bound on it."""
    if r <= 1.0 or lower <= 0.0:
        return lower
    scaled = float_floor(Fraction(lower) / Fraction(r))
    notes.append(f"lower bound divided by the largest point norm {r!r} (points off the unit "
                 "sphere by rounding)")
    return scaled


EXACT_ERROR_WORK = 200_000
"""K × (n·d of the net + n·d of the target + 1) up to which certify_bracket evaluates a mask
exactly (about 1.8 s at the limit with one unit a point, the slowest shape measured)."""


def exact_evaluation_affordable(instance: Any) -> bool:
    """Whether exact_points_error_floor on `instance` stays within EXACT_ERROR_WORK."""
    work = len(instance.points) * (instance.network.hidden_weights.size
                                   + instance.target.hidden_weights.size + 1)
    return work <= EXACT_ERROR_WORK


def exact_points_error_floor(instance: Any, mask: Any) -> float:
    """The largest float64 <= the mask's exact error on the instance's points: each point's
    error in rational arithmetic on the float64 data (`sup_error.exact_error_at`; the float
    evaluator may err either way by up to `evaluation_tolerance`). For the rare bound that
    lies above the float error; K × n × d rational products."""
    from exactprune.solvers.pruning.sup_error import exact_error_at

    net, tgt = instance.pruned_network(mask), instance.target
    nets = (net.hidden_weights, net.output_weights, net.output_activation,
            tgt.hidden_weights, tgt.output_weights, tgt.output_activation)
    residuals = [abs(exact_error_at(nets, x))
                 for x in np.asarray(instance.points, dtype=np.float64)]
    if instance.norm == "linf":
        value = max(residuals)
    elif instance.norm == "l1":
        value = sum(residuals, Fraction(0)) / len(residuals)
    else:
        value = _sqrt_floor(sum((r * r for r in residuals), Fraction(0)) / len(residuals))
    try:
        return float_floor(value)
    except OverflowError:  # beyond float64: its largest number is below it
        return sys.float_info.max


def _sqrt_floor(q: Fraction) -> Fraction:
    """A rational at most √q within 2^-70 relative: an integer square root at 70 bits, never
    the float of q, which overflows beyond ~1e308 and loses bits below ~1e-308 (the root of
    an l2 error of 1e198 was read as 1.8e308, which kept a bound above it; hunt 168 H1)."""
    if q <= 0:
        return Fraction(0)
    bits = q.numerator.bit_length() - q.denominator.bit_length()
    shift = 70 - bits // 2  # √(q·4^shift) has about 70 bits
    scaled = q * Fraction(4) ** shift if shift >= 0 else q / Fraction(4) ** -shift
    root = math.isqrt(scaled.numerator // scaled.denominator)  # <= √(q·4^shift)
    return Fraction(root) / Fraction(2) ** shift if shift >= 0 else \
        Fraction(root * 2 ** -shift)


def certify_bracket(instance: Any, mask: Any, lower: float | None = None,
                    time_limit: float | None = None) -> Bracket:
    """The bracket for `mask` on a neuron/weight pruning instance.

    lower: a proven lower bound on the optimum over the points (the `bound` of a result of
    this instance solved for min_error without max_kept: a bound under max_kept bounds only
    that constrained optimum), or None.
    time_limit: seconds for the cube MILP (d >= 2 cube) or the sphere's branch and bound
    (d >= 3).
    """
    from exactprune.solvers.pruning.sup_error import sup_error

    kind = getattr(instance, "kind", None)
    if kind not in ("neuron_pruning", "weight_pruning"):
        # the type, not the value: a dict of an instance's JSON filled the line (hunt 72 L3)
        what = f"kind {kind!r}" if kind is not None else f"a {type(instance).__name__}"
        raise InputError(f"brackets are defined for pruning instances (load a file with "
                         f"load_instance), not {what}")
    if lower is not None:
        lower = as_number(lower, "the lower bound")
        if not math.isfinite(lower):
            raise InputError(f"the lower bound must be a finite number, got {lower!r}")
        lower = max(lower, 0.0)  # no error is negative: 0 is the stronger lower end, as
        # certify reports it (the API printed -1.0 where the CLI said 0; hunt 66 L5)
    m = instance.check_mask(mask)
    points_error = float(instance.evaluate(m))
    notes: list[str] = []
    if instance.norm != "linf" and lower is not None:
        # the mean (l1) and the root mean square (l2) of |r_k| are at most max_k |r_k|, itself at
        # most the sup over the domain: a bound on the best of them bounds the best sup error
        # from below too (weaker; it was left out, hunt 164 L1)
        notes.append(f"norm {instance.norm}: the lower end is the bound on the best "
                     f"{instance.norm} error over the points, which is at most the max error "
                     "over them: a valid, weaker lower end for the sup error")
    allowed = instance.evaluation_tolerance()
    if lower is not None and lower > points_error + allowed:
        raise InputError(f"the given lower bound {lower} exceeds the mask's own error "
                         f"{points_error} on the points by more than its evaluation "
                         f"tolerance {allowed:.3g}: it cannot be a valid bound")
    if lower is not None and lower > points_error - allowed:
        # the mask's exact error lies within the evaluation tolerance of its float error, on
        # either side: a certificate's bound above the float error may be valid (products
        # that underflow; exactprune's own results were refused so, hunt 37 M1), and one at
        # or just below it may lie above the exact error (hunt 170 M1: a bound equal to the
        # float error, above the exact optimum). Lowering a lower bound keeps it one:
        # not to the float error (hunt 167 L1: one ulp above the optimum) but to the exact
        # error of the mask, rounded down; rationals cost ~7 µs a product (the target's
        # too, hunt 168 M1): beyond EXACT_ERROR_WORK, the float error less the tolerance
        affordable = exact_evaluation_affordable(instance)
        exact = exact_points_error_floor(instance, m) if affordable else \
            max(0.0, math.nextafter(points_error - allowed, 0.0))
        head = (f"the lower bound {lower!r} lies within the evaluation tolerance "
                f"{allowed:.3g} of the mask's float error on the points")
        # the note names the number it gives (hunt 173 L1: "the exact error" for the float
        # error less the tolerance, where the exact evaluation is beyond EXACT_ERROR_WORK)
        what = ("the mask's exact error rounded down" if affordable else
                f"the float error less the tolerance (no exact evaluation: points × weights "
                f"above {EXACT_ERROR_WORK:,})")
        if exact < lower:
            notes.append(f"{head}: lowered to {what}, {exact!r}")
            lower = exact
        else:
            notes.append(f"{head}: kept, {what} is at least as large")
    # the points' largest norm (sphere points are off 1 by up to SPHERE_TOL; the error of these
    # bias-free nets scales with it): for the lower end, and the check of the upper one
    reach = (_largest_norm_up(np.asarray(instance.points, dtype=np.float64))
             if instance.domain == "sphere" else 1.0)
    if lower is not None and instance.domain == "sphere":
        lower = _lower_on_the_sphere(reach, lower, notes)
    if instance.domain is None:
        # the field was named nowhere a user of a hand-written instance could find it (hunt 122)
        notes.append("the instance has no domain (user points): no upper bound over a domain; "
                     "an instance file's \"domain\" field (sphere, cube or gaussian) names "
                     "the domain its points sample")
        return Bracket(lower, None, points_error, False, "none", None, instance.norm,
                       notes=notes)
    net = instance.pruned_network(m)
    tgt = instance.target
    sup = sup_error(net.hidden_weights, net.output_weights, net.output_activation,
                    tgt.hidden_weights, tgt.output_weights, tgt.output_activation,
                    instance.domain, time_limit=time_limit)
    notes.append(sup.note)
    at = None if sup.attained_at is None else np.asarray(sup.attained_at).tolist()
    upper = float(sup.value)
    # the points' errors bound the sup only after dividing by their norms: 1 + 9e-13 times the
    # sup on a sphere point was read as outside the domain (hunt 224 L1)
    if instance.norm == "linf" and \
            upper * max(reach, 1.0) < points_error - instance.evaluation_tolerance():
        notes.append("sup over the domain is below the error on the points: points outside "
                     "the domain?")
    return Bracket(lower, upper, points_error, bool(sup.exact), sup.method, instance.domain,
                   instance.norm, at, notes)
