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


MAX_INSTANCE_NUMBERS = 2**24
"""Largest count of numbers `exactprune generate` writes into one instance file: as JSON (up to
~25 bytes a number) it stays within the 512 MiB instance files are read with
(`io.MAX_INPUT_BYTES`). A d = 4800, width 4800 net (23 M numbers) took 46 s and 3.7 GB to write
a 568 MB file that `solve` then refused (hunt 27). Checked by the catalog's `file_numbers`
before drawing, for files only: in memory (sweeps, the Python API) the array limits hold
(hunt 28)."""


def check_instance_numbers(count: int, what: str) -> None:
    """InputError when an instance of `count` numbers could not be read back from its file."""
    if count > MAX_INSTANCE_NUMBERS:
        shown = f"{count:,}" if count < 10**15 else f"about 10^{len(str(int(count))) - 1}"
        raise InputError(f"{what} holds {shown} numbers, above the {MAX_INSTANCE_NUMBERS:,} "
                         f"(2^24) an instance file of at most 512 MiB can carry")
