"""The exact path of `bulk.solve_many`: instances whose float search is not conclusive.

Per instance: `integer_scaling` with EXACT_DENOMINATOR_BITS bits (lossless whenever the data
allow), the best integer error I* of the allowed masks, then every mask with integer error
within I* + w (w = kept bound + 1 when the scaling is lossy, else 0) is enumerated and compared
in exact rational arithmetic (Python integers over the common power-of-two denominator), with
the tie-break (exact error, kept, index). The true optimum and every mask tied with it lie
inside that window, so the choice is exact.
"""

from __future__ import annotations

from collections.abc import Iterable
from fractions import Fraction
from typing import Any

import numpy as np

from exactprune.instances.scaling import integer_scaling
from exactprune.solvers.clock import passed
from exactprune.solvers.subset_sum.bulk_search import NONE, bits, levels_pairs
from exactprune.solvers.subset_sum.mitm import (
    OutOfTime,
    popcounts,
    sorted_subset_sums,
    subset_sums,
)

EXACT_DENOMINATOR_BITS = 60
CANDIDATE_CHUNK = 1 << 18
"""Window (key, table entry) pairs enumerated per chunk."""


def _exact_ints(x: np.ndarray, z: float) -> tuple[list[int], int]:
    """x and z as Python integers over their common power-of-two denominator (exact)."""
    fr = [Fraction(float(v)) for v in x] + [Fraction(float(z))]
    shift = max(f.denominator.bit_length() - 1 for f in fr)
    ints = [f.numerator << (shift - (f.denominator.bit_length() - 1)) for f in fr]
    return ints[:-1], ints[-1]


def exact_error(x: np.ndarray, z: float, mask: np.ndarray) -> Fraction:
    """|x·m − z| of one mask (N,) bool, in exact rational arithmetic."""
    total = sum((Fraction(float(v)) for v in x[mask]), Fraction(0))
    return abs(total - Fraction(float(z)))


def _candidates(keys: np.ndarray, table: np.ndarray, bound: int
                ) -> Iterable[tuple[np.ndarray, np.ndarray]]:
    """(key index, table position) of every |key − table entry| <= bound, in chunks of about
    CANDIDATE_CHUNK pairs (whole keys)."""
    first = np.searchsorted(table, keys - bound, side="left")
    count = np.searchsorted(table, keys + bound, side="right") - first
    ends = np.cumsum(count)
    start = 0
    while start < keys.size:
        done = int(ends[start] - count[start])
        stop = max(start + 1, int(np.searchsorted(ends, done + CANDIDATE_CHUNK, side="right")))
        c = count[start:stop]
        if c.sum():
            key_idx = np.repeat(np.arange(start, stop), c)
            offsets = np.arange(c.sum()) - np.repeat(np.cumsum(c) - c, c)
            yield key_idx, np.repeat(first[start:stop], c) + offsets
        start = stop


def exact_best(x: np.ndarray, z: float, lo: int, hi: int, deadline: float | None = None
               ) -> tuple[np.ndarray, int]:
    """The exact best mask (N,) bool keeping lo..hi values: min (exact error, kept, index),
    and how many window masks were compared in exact rational arithmetic.

    60-bit integer scaling (lossless when the data allow), the best integer error I*, then
    every mask within I* + w compared exactly (w = hi + 1 when lossy, else 0). Raises
    `OutOfTime` once `deadline` (a perf_counter value) has passed: it is read while the half
    table is sorted and between chunks of window masks.
    """
    if passed(deadline):
        raise OutOfTime
    n = x.shape[0]
    hi = min(hi, n)
    beyond = beyond_reach(x, z, lo, hi)
    if beyond is not None:
        return beyond, 0
    sc = integer_scaling(x, z, bits=EXACT_DENOMINATOR_BITS)
    xi, zi = sc.values, np.int64(sc.target)
    n_a = n // 2
    a_sums, a_pc = subset_sums(xi[:n_a]), popcounts(n_a)
    b_sums, b_idx = sorted_subset_sums(xi[n_a:], deadline)
    b_all_pc = popcounts(n - n_a)  # by subset index (b_pc: in sorted order)
    b_pc = b_all_pc[b_idx]
    if sc.lossless:
        best = min(_min_distance(zi - a_sums[a_pc == ca], b_sums[(b_pc >= b_lo) & (b_pc <= b_hi)])
                   for ca, b_lo, b_hi in levels_pairs(n_a, n - n_a, lo, hi))
        index = _fewest_kept_lowest_index(zi - a_sums, a_pc, b_sums, b_idx, b_pc, best,
                                          (n_a, n - n_a), (lo, hi))
        return bits(np.array([index], dtype=np.int64), n)[0], 0
    parts = []
    for ca, b_lo, b_hi in levels_pairs(n_a, n - n_a, lo, hi):
        a_sel = np.flatnonzero(a_pc == ca)
        b_sel = (b_pc >= b_lo) & (b_pc <= b_hi)
        parts.append((a_sel, zi - a_sums[a_sel], b_sums[b_sel], b_idx[b_sel]))
    best = min(_min_distance(keys, table) for _, keys, table, _ in parts)
    bound = best + (0 if sc.lossless else hi + 1)
    exact = None if sc.lossless else _exact_ints(x, z)
    winner: tuple[Any, int, int] | None = None
    rechecks = 0
    for a_sel, keys, table, t_idx in parts:
        for k_i, t_pos in _candidates(keys, table, bound):
            if passed(deadline):
                raise OutOfTime
            index = a_sel[k_i] | (t_idx[t_pos] << n_a)
            kept = a_pc[a_sel[k_i]] + b_all_pc[t_idx[t_pos]]
            if exact is None:  # integer errors: the (error, kept, index) minimum in numpy
                err_i = np.abs(keys[k_i] - table[t_pos])
                first = np.lexsort((index, kept, err_i))[0]
                cand: tuple[Any, int, int] = (int(err_i[first]), int(kept[first]),
                                              int(index[first]))
            else:
                err = _exact_errors(bits(index, n), exact)
                rechecks += len(err)
                cand = min(zip(err, kept.tolist(), index.tolist(), strict=True))
            if winner is None or cand < winner:
                winner = cand
    if winner is None:
        raise RuntimeError("no mask inside the window of the best one")  # cannot happen
    return bits(np.array([winner[2]], dtype=np.int64), n)[0], rechecks


def _fewest_kept_lowest_index(keys: np.ndarray, a_pc: np.ndarray, b_sums: np.ndarray,
                              b_idx: np.ndarray, b_pc: np.ndarray, best: int,
                              halves: tuple[int, int], kept: tuple[int, int]) -> int:
    """The index of the mask with integer error `best` (the least) that keeps fewest values,
    then has the lowest index (B's index in the high bits, A's in the low), on lossless
    integers. `keys` = z − A's subset sums by A index; B's sums sorted, with their indices;
    `halves` = (n_A, n_B) values; `kept` = (lo, hi) allowed.

    Kept counts are tried from `lo` up, and each (A count, B count) pair is searched with
    sorted look-ups, so the cost is that of the meet-in-the-middle, not of the ties: listing
    every tied mask took 2^n on integer data (values −3..3: n = 34 in 24 s, n = 40 past 90 s;
    hunt 44 M1).
    """
    (n_a, n_b), (lo, hi) = halves, kept
    a_levels: dict[int, np.ndarray] = {}
    b_levels: dict[int, np.ndarray] = {}
    for k in range(lo, hi + 1):
        found: int | None = None
        for ca in range(max(0, k - n_b), min(k, n_a) + 1):
            a_sel = a_levels.setdefault(ca, np.flatnonzero(a_pc == ca))
            b_sel = b_levels.setdefault(k - ca, np.flatnonzero(b_pc == k - ca))
            if not (a_sel.size and b_sel.size):
                continue
            a_keys, table = keys[a_sel], b_sums[b_sel]
            hit = np.flatnonzero(np.isin(table, np.concatenate([a_keys - best, a_keys + best])))
            if not hit.size:
                continue
            j = b_sel[hit[np.argmin(b_idx[b_sel[hit]])]]  # the lowest B index tied
            match = (a_keys == b_sums[j] + best) | (a_keys == b_sums[j] - best)
            index = int(a_sel[match].min()) | (int(b_idx[j]) << n_a)
            found = index if found is None else min(found, index)
        if found is not None:
            return found
    raise RuntimeError("no mask at the least error")  # cannot happen: `best` is attained


def beyond_reach(x: np.ndarray, z: float, lo: int, hi: int) -> np.ndarray | None:
    """The optimum when z lies beyond every sum of at most `hi` values, else None: z >= the
    sum of the `hi` largest positive values (all of them when fewer; exactly) is best
    approached by keeping them and nothing else (every other allowed mask's sum is smaller or
    the same with a higher index, and zeros only add to the count kept); z <= the sum of the
    `hi` most negative values likewise. Only when that mask's count is at least `lo`. A target
    that dwarfs the values made every mask tie after scaling, and all 2^N of them were compared
    in rationals (N = 23: 11 s; hunt 19)."""
    target = Fraction(float(z))
    for sign, outside in ((1.0, lambda total: target >= total),
                          (-1.0, lambda total: target <= total)):
        side = np.flatnonzero(sign * x > 0)
        # at most hi kept: the hi values farthest out on this side (ties: lowest index, for
        # the lowest mask index) reach farthest; z beyond them is best approached by them
        # (a far target with max_kept compared every mask in rationals: n = 24 in 9 s;
        # hunt 44 M2)
        chosen = side[np.argsort(-sign * x[side], kind="stable")[:hi]]
        total = sum((Fraction(float(v)) for v in x[chosen]), Fraction(0))
        if lo <= chosen.size and outside(total):
            mask = np.zeros(x.shape[0], dtype=bool)
            mask[chosen] = True
            return mask
    return None


def _min_distance(keys: np.ndarray, table: np.ndarray) -> int:
    pos = np.searchsorted(table, keys, side="right")
    lo = np.where(pos > 0, keys - table[np.maximum(pos - 1, 0)], NONE)
    hi = np.where(pos < table.size, table[np.minimum(pos, table.size - 1)] - keys, NONE)
    return int(min(lo.min(), hi.min()))


def _exact_errors(masks: np.ndarray, exact: tuple[list[int], int]) -> list[int]:
    """|Σ X·m − Z| in exact integers (the common-denominator numerators), one per mask."""
    xs = np.array(exact[0], dtype=object)
    sums = np.where(masks, xs, 0).sum(axis=1)
    return [abs(int(s) - exact[1]) for s in sums]
