"""`integer_scaling`, vectorised (hunt 64 M3: its element-wise Fraction sum took seconds at
n = 300,000), against the element-wise Python it replaced, kept here as the oracle."""

from __future__ import annotations

import math
from fractions import Fraction

import numpy as np
from conftest import awkward_values
from hypothesis import given, settings
from hypothesis import strategies as st

from exactprune.instances.scaling import (
    exact_abs_sum,
    exactness_exponents,
    integer_scaling,
)


def _exponent(x: float) -> int:
    if x == 0.0:
        return -(10**6)
    mantissa, exp = math.frexp(abs(x))
    m_int = int(math.ldexp(mantissa, 53))
    return 53 - exp - ((m_int & -m_int).bit_length() - 1)


def reference(values: np.ndarray, target: float, bits: int) -> tuple:
    """The element-wise implementation (before 2026-12-05), field by field."""
    xs = [float(v) for v in values]
    n = len(xs)
    total = sum((Fraction(abs(v)) for v in xs), Fraction(abs(float(target))))
    if total == 0:
        return [0] * n, 0, 0, True, 0
    p_max = bits - 1 - (total.numerator.bit_length() - total.denominator.bit_length())
    while total * Fraction(2) ** p_max + n + 1 >= 2**bits:
        p_max -= 1
    p_exact = max(_exponent(v) for v in [*xs, float(target)])
    lossless = p_exact <= p_max
    p = p_exact if lossless else p_max
    ints = [round(math.ldexp(v, p)) for v in xs]
    z_int = round(math.ldexp(float(target), p))
    return ints, z_int, p, lossless, sum(abs(i) for i in ints) + abs(z_int)


finite = st.floats(allow_nan=False, allow_infinity=False, width=64)
scaled = st.builds(lambda m, e: math.ldexp(m, e), st.floats(-1, 1), st.integers(-1074, 60))
dyadic = st.builds(lambda k, e: math.ldexp(k, e), st.integers(-2**20, 2**20),
                   st.integers(-40, 10))


@settings(max_examples=400, deadline=None)
@given(st.lists(st.one_of(finite, scaled, dyadic, st.sampled_from([0.0, -0.0, 5e-324])),
                min_size=0, max_size=30),
       st.one_of(finite, scaled, dyadic), st.sampled_from([8, 30, 60, 62]))
def test_integer_scaling_is_the_element_wise_result(values: list[float], target: float,
                                                    bits: int) -> None:
    x = np.array(values, dtype=np.float64)
    total = sum((Fraction(abs(v)) for v in values), Fraction(0))
    assert exact_abs_sum(x) == total
    assert exactness_exponents(x).tolist() == [_exponent(v) for v in values]
    got = integer_scaling(x, target, bits=bits)
    ints, z_int, p, lossless, abs_sum = reference(x, target, bits)
    assert got.values.dtype == np.int64 and got.values.tolist() == ints
    assert (got.target, got.exponent, got.lossless, got.abs_sum) == (z_int, p, lossless,
                                                                      abs_sum)
    assert type(got.target) is int and type(got.abs_sum) is int


def test_many_values_of_one_exponent_sum_exactly() -> None:
    """2^20 values with 53-bit mantissas of one exponent: the int64 chunks must not overflow."""
    rng = np.random.default_rng(0)
    x = np.ldexp(rng.integers(2**52, 2**53, size=2**20).astype(np.float64), -53)
    assert exact_abs_sum(x) == sum((Fraction(v) for v in x.tolist()), Fraction(0))


def test_too_many_values_for_the_bits_is_refused_not_a_loop() -> None:
    """n + 1 >= 2^bits leaves no room for the rounding at any exponent, and the search for one
    never ended (cpsat with `--option bits=8` on 300 values hung; hunt 67)."""
    import pytest

    from exactprune import solve
    from exactprune.instances import InputError, generate_subset_sum

    x = np.random.default_rng(1).uniform(-1, 1, 300)
    with pytest.raises(InputError, match="300 values cannot be scaled to integers within 8 bits"):
        integer_scaling(x, 0.5, bits=8)
    assert integer_scaling(x[:200], 0.5, bits=8).abs_sum < 2**8
    with pytest.raises(InputError, match="within 8 bits"):
        solve(generate_subset_sum(300, seed=0), "cpsat", time_limit=5, bits=8)


def test_non_finite_data_is_refused() -> None:
    """The element-wise scaling raised on inf and NaN; the vectorised one returned a
    "lossless" scaling holding INT64_MIN (hunt 67 L1; every caller checks first)."""
    import pytest

    from exactprune.instances import InputError

    for values, target in (([1.0, math.inf], 0.5), ([1.0, math.nan], 0.5), ([1.0], math.inf)):
        with pytest.raises(InputError, match="finite"):
            integer_scaling(np.array(values), target)


def test_exact_error_is_the_rational_error() -> None:
    """`exact_error` takes the lossless integer scaling's int64 sum when there is one (a sum
    of Fractions cost core_search 0.5 s a round at n = 300,000; hunt 71 M1): the same
    rational as the Fraction sum, on lossless and lossy data of every scale."""
    from fractions import Fraction

    from exactprune.instances.subset_sum import SubsetSumInstance

    rng = np.random.default_rng(11)
    lossless = 0
    for t in range(600):
        n = int(rng.integers(1, 25))
        x = awkward_values(rng, n, ("uniform", "integers", "scales", "subnormal",
                                    "scaled_ties")[t % 5])
        z = float(rng.choice([rng.uniform(-1, 1), x.sum() / 2, 0.0, x[0]]))
        inst = SubsetSumInstance(values=x, target=z)
        lossless += inst.scaling.lossless
        for _ in range(4):
            mask = rng.random(n) < 0.5
            want = abs(sum((Fraction(float(v)) for v in x[mask]), Fraction(0)) - Fraction(z))
            assert inst.exact_error(mask) == want, (t, x.tolist(), z, mask.tolist())
    assert 200 < lossless < 600  # both paths were taken
