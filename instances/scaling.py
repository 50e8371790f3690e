"""Exact integer scaling of real data: values x become integers X = round(x·2^p).

With a power-of-two scale, x·2^p is computed exactly in float64, so the only error is the
rounding to an integer. When every x·2^p is already an integer the scaling is *lossless* and
integer arithmetic on X is exact arithmetic on x. Otherwise each value moves by at most half a
unit, and a sum of k values plus the target moves by at most (k+1)/2 units (stated per result).
"""

from __future__ import annotations

import math
import sys
from dataclasses import dataclass
from fractions import Fraction

import numpy as np

from exactprune.instances.errors import InputError


def float_floor(q: Fraction) -> float:
    """The largest float64 <= q: a rational lower bound reported as a float stays a lower
    bound (Fraction -> float rounds to nearest, which can land above q)."""
    f = float(q)
    if Fraction(f) > q:
        f = math.nextafter(f, -math.inf)
    return f


def ldexp_down(x: float, k: int) -> float:
    """The largest float64 <= x·2^k: a lower bound scaled back stays one (math.ldexp rounds to
    nearest when the result is subnormal, which can land above the exact value; hunt 34)."""
    try:
        y = math.ldexp(x, k)
    except OverflowError:  # beyond float64: the largest float below, or -inf (hunt 36)
        return sys.float_info.max if x > 0 else -math.inf
    if not math.isfinite(y) or Fraction(y) <= Fraction(x) * Fraction(2) ** k:
        return y
    return math.nextafter(y, -math.inf)


def ldexp_up(x: float, k: int) -> float:
    """The smallest float64 >= x·2^k (for a tolerance or an upper bound scaled back)."""
    return -ldexp_down(-x, k)


def rounded_sum(terms: list[float]) -> float:
    """The exact sum of float64 terms, correctly rounded: math.fsum, or exact rationals when
    fsum's partial sums overflow (terms near 1e308); ±inf only when the sum itself is beyond
    float64."""
    try:
        return math.fsum(terms)
    except OverflowError:
        total = sum((Fraction(t) for t in terms), Fraction(0))
        try:
            return float(total)
        except OverflowError:  # (copysign would convert the Fraction, and overflow too)
            return math.inf if total > 0 else -math.inf


@dataclass(frozen=True)
class IntegerScaling:
    """Integers X (int64, shape (n,)) and Z with X ≈ x·2^exponent, Z ≈ z·2^exponent.

    lossless: every scaled value was already an integer (then integer sums are exact).
    abs_sum: Σ|X| + |Z| (a bound on every |Σ X·m − Z|).
    """

    values: np.ndarray
    target: int
    exponent: int
    lossless: bool
    abs_sum: int

    @property
    def unit(self) -> float:
        """The real value of one integer unit, 2^-exponent."""
        return math.ldexp(1.0, -self.exponent)

    def error_bound_units(self, kept: int) -> float:
        """Max |I(m) − 2^p·t(m)| in integer units for a mask keeping `kept` values."""
        return 0.0 if self.lossless else (kept + 1) / 2.0

    def to_real(self, units: int | float) -> float:
        """Integer units back to real units (exact for integers below 2^53)."""
        return math.ldexp(float(units), -self.exponent)

    def describe(self) -> str:
        if self.lossless:
            return f"integer scaling 2^{self.exponent} is lossless (every sum exact in int64)"
        return (
            f"integer scaling 2^{self.exponent} rounds each value by at most 2^{-self.exponent - 1}"
            f" (a mask keeping k values moves by at most (k+1)·2^{-self.exponent - 1})"
        )


def exact_abs_sum(values: np.ndarray) -> Fraction:
    """Σ|x| over float64 values, exactly: each |x| is m·2^e with an integer m < 2^53, the m of
    one e summed in int64 chunks (1,024 of them stay below 2^63) and the groups shifted
    together in Python ints. A Fraction sum of 300,000 values took 1.5 s (hunt 64 M3)."""
    mant, exp = np.frexp(np.abs(np.asarray(values, dtype=np.float64)).ravel())
    m = np.ldexp(mant, 53).astype(np.int64)  # exact: a float has at most 53 significant bits
    e = exp.astype(np.int64) - 53
    keep = m != 0
    m, e = m[keep], e[keep]
    if len(m) == 0:
        return Fraction(0)
    order = np.argsort(e, kind="stable")
    m, e = m[order], e[order]
    starts = np.flatnonzero(np.r_[True, e[1:] != e[:-1]])
    ends = np.r_[starts[1:], len(e)]
    e0 = int(e[0])
    total = 0
    for s, t in zip(starts.tolist(), ends.tolist(), strict=True):
        group = sum(int(m[i:min(i + 1024, t)].sum()) for i in range(s, t, 1024))
        total += group << (int(e[s]) - e0)
    return Fraction(total) * Fraction(2) ** e0


def exactness_exponents(values: np.ndarray) -> np.ndarray:
    """Per value the smallest p with x·2^p an integer (x = m·2^e with an odd m: p = −e); a very
    negative number for 0."""
    x = np.asarray(values, dtype=np.float64).ravel()
    mant, exp = np.frexp(np.abs(x))
    m = np.ldexp(mant, 53).astype(np.int64)
    low = m & -m  # the lowest set bit: 2^trailing zeros (0 for x == 0)
    trailing = np.frexp(low.astype(np.float64))[1].astype(np.int64) - 1
    out = 53 - exp.astype(np.int64) - trailing
    out[m == 0] = -(10**6)
    return out


def integer_scaling(values: np.ndarray, target: float, bits: int = 62) -> IntegerScaling:
    """Scale so that Σ|X| + |Z| < 2^bits, losslessly when the data allow it.

    The exponent is the smallest one that makes every scaled value an integer, when that
    fits in `bits`; otherwise the largest that fits (lossy, error stated by `error_bound_units`).
    Vectorised (`exact_abs_sum`, `exactness_exponents`); the same numbers as the element-wise
    Python it replaced (tests/test_scaling_vectorised.py keeps that as its oracle).
    """
    x = np.asarray(values, dtype=np.float64).ravel()
    z = float(target)
    n = len(x)
    if not (np.all(np.isfinite(x)) and math.isfinite(z)):  # the element-wise code raised
        raise InputError("integer scaling needs finite values and target")
    # Exact (a float sum of values near 1e308 would overflow although each fits).
    total = exact_abs_sum(x) + abs(Fraction(z))
    if total == 0:
        from exactprune.instances.network import immutable_copy

        return IntegerScaling(immutable_copy(np.zeros(n), np.int64), 0, 0, True, 0)
    if n + 1 >= 2**bits:  # no p makes room for the rounding: the loop below never ended
        raise InputError(f"{n} values cannot be scaled to integers within {bits} bits (their "
                         f"rounding alone needs {n + 1} units); use more bits")
    # Largest p with total·2^p + (n+1) < 2^bits (the +n+1 absorbs rounding up).
    p_max = bits - 1 - (total.numerator.bit_length() - total.denominator.bit_length())
    while total * Fraction(2) ** p_max + n + 1 >= 2**bits:
        p_max -= 1
    p_exact = int(exactness_exponents(np.append(x, z)).max())
    lossless = p_exact <= p_max
    p = p_exact if lossless else p_max
    # x·2^p rounds (to even) only below the normal range, as math.ldexp does; then to the
    # nearest integer, ties to even, as round() does; |X| < 2^bits <= 2^62: exact in int64
    ints = np.rint(np.ldexp(x, p)).astype(np.int64)
    z_int = round(math.ldexp(z, p))
    abs_sum = int(np.abs(ints).sum(dtype=np.int64)) + abs(z_int)
    # read-only for good, as the instance's own values: an instance caches its scaling, and
    # `exact_error` and `errors` read it (hunt 73 L2)
    from exactprune.instances.network import immutable_copy

    return IntegerScaling(immutable_copy(ints, np.int64), z_int, p, lossless, abs_sum)


# Magnitudes at any data scale: norms and their products as (mantissa, exponent) pairs, so
# that no square or product under- or overflows and ties between units stay exact.

ZERO_EXPONENT = -(1 << 20)
"""The exponent of a zero norm: below every float64's."""


def norm_parts(X: np.ndarray, axis: int) -> tuple[np.ndarray, np.ndarray]:
    """The 2-norms of X along `axis` as (mantissa, exponent): norm = mantissa·2^exponent,
    mantissa in [0.5, 1) (0 with ZERO_EXPONENT for a zero vector). Each vector is scaled by a
    power of two to unit size first, so no square under- or overflows (plain norms were 0 for
    activations of 1e-170 and inf for weights of 1e155: every unit tied; hunt 60 M2)."""
    X = np.asarray(X, dtype=np.float64)
    peak = np.max(np.abs(X), axis=axis, keepdims=True)
    shift = np.frexp(np.where(peak > 0, peak, 1.0))[1]
    unit = np.squeeze(np.linalg.norm(np.ldexp(X, -shift), axis=axis, keepdims=True), axis=axis)
    mant, exp = np.frexp(unit)
    exp = exp + np.squeeze(shift, axis=axis)
    return mant, np.where(mant > 0, exp, ZERO_EXPONENT)


def product_parts(a: tuple[np.ndarray, np.ndarray],
                  b: tuple[np.ndarray, np.ndarray]) -> np.ndarray:
    """The products of two norms given as `norm_parts`, as rows (exponent, mantissa) of an
    (N, 2) float array: product = mantissa·2^exponent, mantissa in [0.5, 1) (0 with
    ZERO_EXPONENT for a zero product). Ordered by exponent, then mantissa (`descending`), at any
    data scale, with equal products equal: a sum of logs split exact ties (hunt 62 M3), and one
    float key exponent + mantissa rounded products a few ulps apart together (hunt 63 M1)."""
    mant, exp = np.frexp(a[0] * b[0])
    exp = np.where(mant > 0, exp + a[1] + b[1], ZERO_EXPONENT)
    return np.stack([exp.astype(np.float64), mant], axis=1)


def descending(parts: np.ndarray) -> np.ndarray:
    """Positions of `product_parts` rows by decreasing product, ties by position."""
    return np.lexsort((np.arange(parts.shape[0]), -parts[:, 1], -parts[:, 0]))


def abs_parts(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """|x| elementwise as `norm_parts` gives norms: (mantissa, exponent), |x| = mantissa·2^exponent
    (0 with ZERO_EXPONENT for a zero), so that products of magnitudes order at any data scale."""
    mant, exp = np.frexp(np.abs(np.asarray(x, dtype=np.float64)))
    return mant, np.where(mant > 0, exp, ZERO_EXPONENT)
