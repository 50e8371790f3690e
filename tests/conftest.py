"""Shared fixtures: seeded subset-sum instances and the exhaustive oracle."""

from __future__ import annotations

from fractions import Fraction
from itertools import product

import numpy as np

from exactprune.instances import SubsetSumInstance


def fraction_oracle(inst: SubsetSumInstance, max_kept: int | None = None) -> dict[int, Fraction]:
    """Exact best error per number kept, by enumerating every mask in rational arithmetic.

    Independent of every backend (no floats at all): the reference for the oracles themselves.
    """
    xs = [Fraction(float(v)) for v in inst.values]
    z = Fraction(inst.target)
    best: dict[int, Fraction] = {}
    for bits in product((0, 1), repeat=inst.n):
        k = sum(bits)
        if max_kept is not None and k > max_kept:
            continue
        err = abs(sum((x for x, b in zip(xs, bits, strict=True) if b), Fraction(0)) - z)
        if k not in best or err < best[k]:
            best[k] = err
    return best


def random_instance(seed: int, n: int, low: float = -1.0, high: float = 1.0) -> SubsetSumInstance:
    from exactprune.instances import generate_subset_sum

    return generate_subset_sum(n, seed=seed, low=low, high=high)


def awkward_instance(seed: int, n: int) -> SubsetSumInstance:
    """Values spanning many magnitudes and with ties: exercises lossy scaling and near-ties."""
    rng = np.random.default_rng(10_000 + seed)
    mags = 10.0 ** rng.integers(-25, 1, size=n)
    values = rng.choice([-1.0, 1.0], size=n) * mags * rng.uniform(0.5, 1.0, size=n)
    values[: n // 3] = np.round(values[: n // 3], 1)  # some duplicates / short decimals
    return SubsetSumInstance(values=values, target=float(rng.uniform(-1, 1)) / 3)
