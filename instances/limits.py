"""Size limits checked before anything is allocated (a bad size is one InputError line)."""

from __future__ import annotations

from exactprune.instances.errors import InputError

MAX_ENTRIES = 2**26
"""Largest number of float64 entries of one array an instance implies (512 MiB): subset-sum
values, a network's weights, its points, and the K x n activations every evaluation forms."""


def check_entries(count: int, what: str) -> None:
    """InputError when `count` entries exceed MAX_ENTRIES."""
    if count > MAX_ENTRIES:
        shown = f"{count:,}" if count < 10**15 else f"about 10^{len(str(int(count))) - 1}"
        raise InputError(f"{what} needs {shown} entries, above the limit of {MAX_ENTRIES:,} "
                         f"(2^26, 512 MiB of float64)")
