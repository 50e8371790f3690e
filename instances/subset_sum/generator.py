"""Seeded random subset-sum instances, and their parameters."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from exactprune.instances.errors import InputError
from exactprune.instances.limits import MAX_ENTRIES, check_entries
from exactprune.instances.params import as_number, is_integer, param
from exactprune.instances.subset_sum.instance import SubsetSumInstance


@dataclass(frozen=True, kw_only=True)
class SubsetSumParams:
    """Parameters of `generate_subset_sum` (the CLI's ``generate subset-sum`` flags, sweep keys)."""

    n: int = param(help="number of values", minimum=1, maximum=MAX_ENTRIES)
    seed: int = param(0, help="random seed", minimum=0)
    low: float = param(-1.0, help="values ~ Uniform[low, high]")
    high: float = param(1.0, help="values ~ Uniform[low, high]")
    target: float | None = param(None, help="the target (default: drawn from Uniform[low, high])")


def generate_subset_sum(
    n: int,
    seed: int = 0,
    low: float = -1.0,
    high: float = 1.0,
    target: float | None = None,
) -> SubsetSumInstance:
    """n values i.i.d. Uniform[low, high]; target Uniform[low, high] unless given.

    The values are drawn first, then the target, from `numpy.random.default_rng(seed)`,
    so the same (n, seed, low, high) always gives the same values whatever the target.
    """
    if not is_integer(n) or n < 1:
        raise InputError(f"n must be a positive integer, got {n!r}")
    n = int(n)
    check_entries(n, f"n = {n} values")
    low, high = as_number(low, "low"), as_number(high, "high")
    if target is not None:
        target = as_number(target, "target")
    if not (np.isfinite(low) and np.isfinite(high)) or not low < high:
        raise InputError(f"need finite low < high, got low={low}, high={high}")
    if not is_integer(seed) or seed < 0:
        raise InputError(f"seed must be a non-negative integer, got {seed!r}")
    seed = int(seed)
    rng = np.random.default_rng(seed)
    if np.isfinite(high - low):
        values = rng.uniform(low, high, size=n)
        drawn_target = float(rng.uniform(low, high))
    else:  # high − low overflows (e.g. ±1e308): draw on half the range and double (exact)
        values = 2.0 * rng.uniform(low / 2, high / 2, size=n)
        drawn_target = 2.0 * float(rng.uniform(low / 2, high / 2))
    params = {"n": n, "seed": seed, "low": low, "high": high, "target": target}
    return SubsetSumInstance(
        values=values,
        target=drawn_target if target is None else float(target),
        generator={"name": "subset_sum_uniform", **params},
    )


def subset_sum_file_numbers(n: int, **_: Any) -> int:
    """Numbers an instance file of `generate_subset_sum(n, ...)` holds (the catalog's
    `file_numbers`): the n values and the target."""
    return n + 1
