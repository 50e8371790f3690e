"""Keep-masks of 0/1 entries, shared by the kinds whose masks are binary (subset_sum and the
pruning kinds): one check, so every kind refuses the same malformed masks with one line."""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Iterator
from typing import Any

import numpy as np

from exactprune.instances.errors import InputError

REAL_KINDS = "iuf"
"""numpy dtype kinds read as numbers: signed and unsigned integers and floats. np.number also
holds complex and timedelta64, which masks took as 0/1 (hunt 66 L3)."""

INTEGER_KINDS = "iu"
"""numpy dtype kinds read as integers: np.integer also holds timedelta64 (its unit dropped:
solve_many took durations in seconds and in milliseconds as the same numbers; hunt 144 L1)."""


def no_masked_entries(raw: Any, what: str) -> None:
    """InputError for a numpy masked array with masked entries: np.asarray drops the mask and
    keeps the hidden values (hunt 66 L3)."""
    if isinstance(raw, np.ma.MaskedArray) and np.ma.getmaskarray(raw).any():
        raise InputError(f"{what} has masked entries (a numpy masked array): fill them first, "
                         "e.g. with np.ma.filled")


def is_count(value: Any) -> bool:
    """Whether a mask entry read from a file is a count: False/True or a whole number from 0
    below 2^53 (repeat counts of neuron selection; 0/1 elsewhere)."""
    if isinstance(value, bool):
        return True
    if isinstance(value, int):  # (an int of 10**400 has no float: math.isfinite overflowed)
        return 0 <= value < 2**53
    return (isinstance(value, float) and math.isfinite(value) and value >= 0
            and value.is_integer() and value < 2**53)


def _is_bit(value: Any) -> bool:
    return isinstance(value, (bool, int, float)) and value in (0, 1)


def _entries(raw: Any) -> Iterator[Any]:
    """The entries of a mask as given (nested lists, tuples or arrays), as Python scalars: a
    string among numbers made numpy's array all strings, and the refusal named the valid
    first entry (hunt 220 L1)."""
    if isinstance(raw, np.ndarray):
        for entry in raw.ravel():
            yield entry.item() if isinstance(entry, np.generic) else entry
    elif isinstance(raw, (list, tuple)):
        for item in raw:
            yield from _entries(item)
    else:
        yield raw.item() if isinstance(raw, np.generic) else raw


def first_bad_entry(entries: Any, fits: Callable[[Any], bool]) -> str:
    """The first entry of the mask `entries` (as given: lists, tuples or an array) that `fits`
    refuses, as its JSON text, so a refusal names what it refused; past 40 characters cut
    with "..." (a 400-digit integer read as a 40-digit one; hunt 220 L2)."""
    for value in _entries(entries):
        if not fits(value):
            text = json.dumps(value, default=str)
            return text if len(text) <= 40 else f"{text[:37]}..."
    return "an entry of another type"


def binary_mask(mask: Any, shape: tuple[int, ...], kind: str) -> np.ndarray:
    """`mask` as a bool array of `shape`, or InputError: an object, a ragged list, the wrong
    shape, or an entry that is not 0, 1, False or True (JSON true/false as written by
    ``json.dump(bool_array.tolist())`` are accepted)."""
    if isinstance(mask, dict):
        raise InputError(f"a {kind} mask must be an array of shape {shape}, not an object "
                         "(use mask_from_json for JSON masks)")
    no_masked_entries(mask, f"a {kind} mask")
    try:
        arr = np.asarray(mask)
    except (ValueError, TypeError):
        raise InputError(f"a {kind} mask must be a rectangular array of 0/1") from None
    if arr.shape != shape:
        raise InputError(f"{kind} mask must have shape {shape}, got {arr.shape}")
    if arr.dtype != bool:
        if not (arr.dtype.kind in REAL_KINDS and np.all(np.isin(arr, (0, 1)))):
            raise InputError(f"{kind} mask entries must be 0 or 1, got "
                             f"{first_bad_entry(mask, _is_bit)}")
        arr = arr.astype(bool)
    return arr


def binary_masks(masks: Any, shape: tuple[int, ...], kind: str) -> np.ndarray:
    """A batch of masks (B, *shape) as a bool array, or InputError like :func:`binary_mask`:
    a ragged batch, the wrong shape, or an entry that is not 0/1 (``errors`` took 2, -1, 0.5
    and strings, and gave numbers for them; hunt 16)."""
    no_masked_entries(masks, f"{kind} masks")
    try:
        arr = np.asarray(masks)
    except (ValueError, TypeError):
        raise InputError(f"{kind} masks must be a rectangular array of 0/1") from None
    if arr.ndim != 1 + len(shape) or arr.shape[1:] != shape:
        raise InputError(f"masks must have shape (B, {', '.join(map(str, shape))}), got "
                         f"{arr.shape}")
    if arr.dtype != bool:
        if not (arr.dtype.kind in REAL_KINDS and np.all(np.isin(arr, (0, 1)))):
            raise InputError(f"{kind} mask entries must be 0 or 1, got "
                             f"{first_bad_entry(masks, _is_bit)}")
        arr = arr.astype(bool)
    return arr
