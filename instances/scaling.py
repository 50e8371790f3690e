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


def _exponent_for_exactness(x: float) -> int:
    """Smallest p such that x·2^p is an integer (x finite); very negative for x == 0."""
    if x == 0.0:
        return -(10**6)
    mantissa, exp = math.frexp(abs(x))  # x = mantissa·2^exp, mantissa in [0.5, 1)
    m_int = int(math.ldexp(mantissa, 53))  # exact 53-bit integer
    trailing = (m_int & -m_int).bit_length() - 1
    return 53 - exp - trailing


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


def integer_scaling(values: np.ndarray, target: float, bits: int = 62) -> IntegerScaling:
    """Scale so that Σ|X| + |Z| < 2^bits, losslessly when the data allow it.

    The exponent is the smallest one that makes every scaled value an integer, when that
    fits in `bits`; otherwise the largest that fits (lossy, error stated by `error_bound_units`).
    """
    xs = [float(v) for v in np.asarray(values, dtype=np.float64)]
    n = len(xs)
    # Exact (a float sum of values near 1e308 would overflow although each fits).
    total = sum((Fraction(abs(v)) for v in xs), Fraction(abs(float(target))))
    if total == 0:
        return IntegerScaling(np.zeros(n, dtype=np.int64), 0, 0, True, 0)
    # Largest p with total·2^p + (n+1) < 2^bits (the +n+1 absorbs rounding up).
    p_max = bits - 1 - (total.numerator.bit_length() - total.denominator.bit_length())
    while total * Fraction(2) ** p_max + n + 1 >= 2**bits:
        p_max -= 1
    p_exact = max(_exponent_for_exactness(v) for v in [*xs, float(target)])
    lossless = p_exact <= p_max
    p = p_exact if lossless else p_max
    ints = [round(math.ldexp(v, p)) for v in xs]
    z_int = round(math.ldexp(float(target), p))
    abs_sum = sum(abs(i) for i in ints) + abs(z_int)
    return IntegerScaling(np.array(ints, dtype=np.int64), z_int, p, lossless, abs_sum)
