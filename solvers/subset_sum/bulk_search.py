"""The int64 meet-in-the-middle searches behind `bulk.solve_many`: sorted half-sum tables
and nearest-sum matching, for many instances at once.

Each value row is split into a low half A (the first n_A values) and a high half B. For a set
of allowed kept counts, a search returns per instance the smallest integer error I1 and the
second smallest I2 over all masks in the set (two different masks), and the winning mask. Two
ways to match residuals z − a against B sums:

- `SharedSearch` (many targets of one row): B's subset sums are sorted once and the residuals
  of all targets are located with one `np.searchsorted` per chunk of targets;
- `RowSearch` (a batch of rows with their own values): the sorted subset sums of each half are
  built by Horowitz–Sahni doubling (each step a stable sort of two sorted runs, i.e. a merge)
  for all rows of the batch at once, and each row's sorted residuals are located in its B sums
  by `np.searchsorted` (sorted keys walk the small table in order). n_A = N//2 − 1 up to
  N = SMALL_SPLIT_N (a residual costs more than a table entry), N//2 above.

The nearest B sum of each residual is its predecessor or successor in sorted order (tables carry
±GUARD sentinels), so the minimum over (residual, side) pairs is I1. I2 is the second smallest
of the same pairs and of the next B entry beyond the winner on its side: any other mask is at
least as far as one of these candidates, each a real mask different from the winner, so I2 is
the true second-best. Levels with at most BRUTE_MAX subsets are enumerated outright, larger ones
are split into (A kept, B kept) pairs. The integers come from `bulk`'s power-of-two scaling,
which keeps every sum, residual and difference below 2^60 in magnitude.
"""

from __future__ import annotations

import functools
import math
import time
from dataclasses import dataclass
from itertools import combinations

import numpy as np

from exactprune.solvers.subset_sum.mitm import popcounts, sorted_subset_sums, subset_sums

NONE = np.int64(2**62)
"""The distance of a missing neighbour (above every real distance, below int64 overflow)."""
GUARD = np.int64(2**61)
"""Table guards ±GUARD: at distance > 2^60 from every key, farther than any real sum."""
BRUTE_MAX = 2048
"""Levels with at most this many subsets per instance are enumerated outright."""
ROW_BYTES_FACTOR = 96
"""Bytes per subset sum of both halves held while one batch of rows is searched."""
SMALL_SPLIT_N = 24
"""Up to this N the per-row A half gets one value less than half: a key costs about four
times a table entry (search + reduce vs merge), measured on 2 cores."""


# -- per-instance rows: sorted half sums ----------------------------------------------------------


def _sums_rows(x: np.ndarray) -> np.ndarray:
    """All subset sums of each row of x (R, h): (R, 2^h), column j = the sum for bitmask j."""
    r, h = x.shape
    out = np.zeros((r, 2**h), dtype=np.int64)
    for i in range(h):
        np.add(out[:, : 2**i], x[:, i : i + 1], out=out[:, 2**i : 2 ** (i + 1)])
    return out


def _sorted_sums_rows(x: np.ndarray, pad: bool = False) -> np.ndarray:
    """Each row's subset sums in ascending order (R, 2^h), with ±GUARD columns around them if
    `pad`: doubling in one buffer, each step a stable sort of two sorted runs (a merge)."""
    r, h = x.shape
    g = int(pad)
    out = np.zeros((r, 2**h + 2 * g), dtype=np.int64)
    if pad:
        out[:, 0], out[:, -1] = -GUARD, GUARD
    m = 1
    for i in range(h):
        np.add(out[:, g : g + m], x[:, i : i + 1], out=out[:, g + m : g + 2 * m])
        m *= 2
        out[:, g : g + m].sort(axis=1, kind="stable")
    return out


def _sorted_levels_rows(x: np.ndarray) -> list[np.ndarray]:
    """Per kept count c, each row's sums of the c-subsets, ascending: (R, C(h, c)) each."""
    levels = [np.zeros((x.shape[0], 1), dtype=np.int64)]
    for i in range(x.shape[1]):
        v = x[:, i : i + 1]
        grown = [levels[0]]
        for c in range(1, i + 1):
            merged = np.concatenate([levels[c], levels[c - 1] + v], axis=1)
            merged.sort(axis=1, kind="stable")
            grown.append(merged)
        grown.append(levels[i] + v)
        levels = grown
    return levels


def _pad(table: np.ndarray) -> np.ndarray:
    """Sorted sums with a guard of −GUARD before and +GUARD after (along the last axis), so
    that every key has a predecessor and a successor; guards are farther than any real sum."""
    guard = np.full((*table.shape[:-1], 1), GUARD, dtype=np.int64)
    return np.concatenate([-guard, table, guard], axis=-1)


def _row_positions(padded: np.ndarray, keys: np.ndarray) -> np.ndarray:
    """Per row, how many padded table entries are <= each key: padded (R, L + 2) sorted rows,
    keys (R, M) sorted rows (sorted keys let searchsorted walk the small table in order)."""
    pos = np.empty(keys.shape, dtype=np.int64)
    for i in range(keys.shape[0]):
        pos[i] = np.searchsorted(padded[i], keys[i], side="right")
    return pos


# -- matching residuals against a sorted table --------------------------------------------------


@dataclass
class Match:
    """Per instance: best and second-best integer error over a set of masks, and the winner.

    pair: which (A part, B part) pair of the searcher won (-1: none); col: the winning key's
    column; pos: the winning entry's position in the pair's padded B table; key, bval: the
    winning key (z − a) and B sum.
    """

    best: np.ndarray
    second: np.ndarray
    pair: np.ndarray
    col: np.ndarray
    pos: np.ndarray
    key: np.ndarray
    bval: np.ndarray

    @classmethod
    def empty(cls, r: int) -> Match:
        full = np.full(r, NONE, dtype=np.int64)
        zeros = np.zeros(r, dtype=np.int64)
        return cls(full, full.copy(), np.full(r, -1), zeros, zeros, zeros, zeros)

    def combine(self, other: Match) -> Match:
        """The match over the union of both mask sets (disjoint sets of masks)."""
        take = other.best < self.best
        second = np.minimum(np.maximum(self.best, other.best),
                            np.minimum(self.second, other.second))
        return Match(np.where(take, other.best, self.best), second,
                      *(np.where(take, getattr(other, f), getattr(self, f))
                        for f in ("pair", "col", "pos", "key", "bval")))

    def rows(self, sel: np.ndarray) -> Match:
        return Match(*(getattr(self, f)[sel] for f in
                        ("best", "second", "pair", "col", "pos", "key", "bval")))


def _nearest(keys: np.ndarray, pos: np.ndarray, flat: np.ndarray, start: np.ndarray | int,
             pair: int) -> Match:
    """Best and second-best |key − b| per row over all (key, b) combinations.

    keys (R, M); pos (R, M): padded-table entries <= key (1 .. L + 1); flat: the padded
    table(s), row i starting at start[i] (start 0 for a shared table). The second-best is the
    second smallest of {|key − predecessor|, |key − successor|} over all keys, and of the next
    entry beyond the winner on its side.
    """
    r = np.arange(keys.shape[0])
    at = pos + start
    d_lo = keys - flat[at - 1]
    d_hi = flat[at] - keys
    d_min = np.minimum(d_lo, d_hi)
    j = d_min.argmin(axis=1)
    best = d_min[r, j]
    lo_j, hi_j = d_lo[r, j], d_hi[r, j]
    d_min[r, j] = NONE
    second = np.minimum(d_min.min(axis=1), np.maximum(lo_j, hi_j))
    lower = lo_j <= hi_j
    winner = at[r, j] - lower
    key = keys[r, j]
    far = flat[np.where(lower, winner - 1, winner + 1)]
    second = np.minimum(second, np.abs(key - far))
    row_start = start[:, 0] if isinstance(start, np.ndarray) else start
    return Match(best, second, np.full(r.size, pair), j, winner - row_start, key, flat[winner])


def _row_nearest(padded: np.ndarray, keys: np.ndarray, pair: int) -> Match:
    """`_nearest` for per-row padded tables (R, L + 2) and sorted keys (R, M)."""
    start = (np.arange(keys.shape[0], dtype=np.int64) * padded.shape[1])[:, None]
    return _nearest(keys, _row_positions(padded, keys), padded.ravel(), start, pair)


def levels_pairs(n_a: int, n_b: int, lo: int, hi: int) -> list[tuple[int, int, int]]:
    """(A kept count, B kept range lo..hi) pairs covering the masks keeping lo..hi values."""
    out = []
    for ca in range(max(0, lo - n_b), min(hi, n_a) + 1):
        b_lo, b_hi = max(lo - ca, 0), min(hi - ca, n_b)
        if b_lo <= b_hi:
            out.append((ca, b_lo, b_hi))
    return out


@functools.lru_cache(maxsize=64)
def _combo_masks(n: int, k: int) -> np.ndarray:
    """The masks (C(n, k), n) bool of all k-subsets of n values, lexicographic."""
    idx = np.array(list(combinations(range(n), k)), dtype=np.int64).reshape(math.comb(n, k), k)
    masks = np.zeros((idx.shape[0], n), dtype=bool)
    np.put_along_axis(masks, idx, True, axis=1)
    masks.setflags(write=False)
    return masks


def row_split(n: int) -> int:
    """n_A for per-row searches: one value less than half up to SMALL_SPLIT_N."""
    return max(0, n // 2 - (1 if n <= SMALL_SPLIT_N else 0))


def bits(index: np.ndarray, width: int) -> np.ndarray:
    """Bit matrix (R, width) of integer bitmasks (R,)."""
    return ((index[:, None] >> np.arange(width)) & 1).astype(bool)


class RowSearch:
    """Searches for a batch of instances with their own value rows: X (R, N), Z (R,) int64."""

    def __init__(self, x: np.ndarray, z: np.ndarray) -> None:
        self.n = x.shape[1]
        self.n_a = row_split(self.n)
        self.n_b = self.n - self.n_a
        self.x, self.z = x, z
        self.pairs: list[tuple[int, int, int, int]] = []  # (a_lo, a_hi, b_lo, b_hi); a_lo<0: brute
        self._full: tuple[np.ndarray, np.ndarray] | None = None
        self._levels: tuple[np.ndarray, list[np.ndarray], list[np.ndarray]] | None = None
        self._padded_levels: dict[int, np.ndarray] = {}

    def search(self, rows: np.ndarray, lo: int, hi: int) -> Match:
        """Best/second-best over the masks keeping lo..hi values, for the given rows."""
        hi = min(hi, self.n)
        if lo == 0 and hi == self.n:
            return self._search_full(rows)
        if lo == hi and math.comb(self.n, lo) <= BRUTE_MAX:
            return self._search_brute(rows, lo)
        match = Match.empty(rows.size)
        for ca, b_lo, b_hi in levels_pairs(self.n_a, self.n_b, lo, hi):
            match = match.combine(self._search_pair(rows, ca, b_lo, b_hi))
        return match

    def _pair_id(self, pair: tuple[int, int, int, int]) -> int:
        self.pairs.append(pair)
        return len(self.pairs) - 1

    def _search_full(self, rows: np.ndarray) -> Match:
        if self._full is None:
            self._full = (_sorted_sums_rows(self.x[:, : self.n_a]),
                          _sorted_sums_rows(self.x[:, self.n_a :], pad=True))
        a_sorted, b_padded = self._full
        if rows.size < self.z.size:
            a_sorted, b_padded = a_sorted[rows], b_padded[rows]
        keys = self.z[rows, None] - a_sorted[:, ::-1]
        pair = self._pair_id((0, self.n_a, 0, self.n_b))
        return _row_nearest(b_padded, keys, pair)

    def _level_tables(self, rows: np.ndarray) -> tuple[np.ndarray, list[np.ndarray],
                                                      list[np.ndarray]]:
        """Sorted per-level half sums (B levels unpadded), built once for the first rows asked;
        later calls ask for subsets of them."""
        if self._levels is None:
            self._levels = (rows, _sorted_levels_rows(self.x[rows, : self.n_a]),
                            _sorted_levels_rows(self.x[rows, self.n_a :]))
        return self._levels

    def _b_table(self, b_lo: int, b_hi: int, b_levels: list[np.ndarray]) -> np.ndarray:
        """The padded sorted sums of the B masks keeping b_lo..b_hi values (single levels are
        cached: the sparsest scan asks for them again at later levels)."""
        if b_lo == b_hi:
            if b_lo not in self._padded_levels:
                self._padded_levels[b_lo] = _pad(b_levels[b_lo])
            return self._padded_levels[b_lo]
        merged = np.concatenate(b_levels[b_lo : b_hi + 1], axis=1)
        merged.sort(axis=1, kind="stable")
        return _pad(merged)

    def _search_pair(self, rows: np.ndarray, ca: int, b_lo: int, b_hi: int) -> Match:
        built_rows, a_levels, b_levels = self._level_tables(rows)
        at = np.searchsorted(built_rows, rows)
        keys = self.z[rows, None] - a_levels[ca][at, ::-1]
        pair = self._pair_id((ca, ca, b_lo, b_hi))
        return _row_nearest(self._b_table(b_lo, b_hi, b_levels)[at], keys, pair)

    def _search_brute(self, rows: np.ndarray, k: int) -> Match:
        """Every k-subset of every row: sums (R, C(N, k)) by one integer matrix product."""
        masks = _combo_masks(self.n, k)
        sums = self.x[rows] @ masks.T.astype(np.int64)
        d = np.abs(self.z[rows, None] - sums)
        r = np.arange(rows.size)
        i = d.argmin(axis=1)
        best = d[r, i]
        d[r, i] = NONE
        pair = self._pair_id((-1, k, 0, 0))
        zeros = np.zeros(rows.size, dtype=np.int64)
        return Match(best, d.min(axis=1), np.full(rows.size, pair), i, zeros, zeros, zeros)

    def masks(self, rows: np.ndarray, match: Match) -> np.ndarray:
        """The winning masks (R, N) bool of `match` for `rows`."""
        out = np.zeros((rows.size, self.n), dtype=bool)
        for pair_id in np.unique(match.pair):
            sel = np.flatnonzero(match.pair == pair_id)
            a_lo, a_hi, b_lo, b_hi = self.pairs[pair_id]
            if a_lo < 0:
                out[sel] = _combo_masks(self.n, a_hi)[match.col[sel]]
                continue
            r = rows[sel]
            a_idx = self._index_of(self.x[r, : self.n_a], self.z[r] - match.key[sel], a_lo, a_hi)
            b_idx = self._index_of(self.x[r, self.n_a :], match.bval[sel], b_lo, b_hi)
            out[sel, : self.n_a] = bits(a_idx, self.n_a)
            out[sel, self.n_a :] = bits(b_idx, self.n_b)
        return out

    @staticmethod
    def _index_of(x: np.ndarray, value: np.ndarray, lo: int, hi: int) -> np.ndarray:
        """The bitmask whose sum is `value` and kept count in lo..hi, per row (unique there)."""
        ok = _sums_rows(x) == value[:, None]
        if lo > 0 or hi < x.shape[1]:
            pc = popcounts(x.shape[1])
            ok &= (pc >= lo) & (pc <= hi)
        return ok.argmax(axis=1).astype(np.int64)


class SharedSearch:
    """Searches for many targets of one value row: sorted tables, `np.searchsorted`.

    x (N,), z (T,) int64. Small sparsest levels sort the sums of all C(N, k) subsets once; other
    searches split the row and sort the 2^n_B subset sums of its high part (built on first use).
    """

    def __init__(self, x: np.ndarray, z: np.ndarray, n_b: int, chunk_bytes: float) -> None:
        self.n = x.shape[0]
        self.n_b = n_b
        self.n_a = self.n - n_b
        self.x, self.z = x, z
        self.a_sums = subset_sums(x[: self.n_a])
        self.a_pc = popcounts(self.n_a)
        self.chunk_bytes = chunk_bytes
        self.pairs: list[tuple[np.ndarray | None, np.ndarray]] = []
        """(A bitmasks by key column, B bitmasks by table position) of a split pair, or
        (None, the subsets' masks by table position) of an enumerated level."""
        self._b: tuple[np.ndarray, np.ndarray, np.ndarray] | None = None
        self._levels: dict[tuple[int, int], tuple[np.ndarray, np.ndarray]] = {}
        self._pair_ids: dict[tuple[int, ...], int] = {}
        self._level_sums: dict[int, np.ndarray] = {}
        self.build_s = 0.0
        """Seconds spent building sorted tables (once per group, not per target)."""
        self.deadline: float | None = None
        """A perf_counter value: building the half table past it raises `OutOfTime`."""
        """The pair id of each (A count or -1, B lo, B hi) or (-2, k) searched so far, so that
        the targets of a group can be searched a chunk at a time (`bulk`'s time limit)
        without a new copy of the sorted A keys per chunk."""

    def _table(self, b_lo: int, b_hi: int) -> tuple[np.ndarray, np.ndarray]:
        """The padded sorted B sums keeping b_lo..b_hi values, and their bitmasks (single
        levels cached: together they are one more copy of the table)."""
        if self._b is None:
            start = time.perf_counter()
            b_sums, b_idx = sorted_subset_sums(self.x[self.n_a :], self.deadline)
            self._b = (_pad(b_sums), b_idx, popcounts(self.n_b)[b_idx])
            self.build_s += time.perf_counter() - start
        b_sums, b_idx, b_pc = self._b
        if (b_lo, b_hi) == (0, self.n_b):
            return b_sums, b_idx
        if (b_lo, b_hi) in self._levels:
            return self._levels[(b_lo, b_hi)]
        sel = (b_pc >= b_lo) & (b_pc <= b_hi)
        table = (_pad(b_sums[1:-1][sel]), b_idx[sel])
        if b_lo == b_hi:
            self._levels[(b_lo, b_hi)] = table
        return table

    def search(self, rows: np.ndarray, lo: int, hi: int) -> Match:
        """Best/second-best over the masks keeping lo..hi values, for the given targets."""
        hi = min(hi, self.n)
        if lo == hi and math.comb(self.n, lo) <= BRUTE_MAX:
            return self._search_level(rows, lo)
        if lo == 0 and hi == self.n:
            parts = [(-1, 0, self.n_b)]
        else:
            parts = levels_pairs(self.n_a, self.n_b, lo, hi)
        match = Match.empty(rows.size)
        for ca, b_lo, b_hi in parts:
            table, t_idx = self._table(b_lo, b_hi)
            pair = self._pair_ids.get((ca, b_lo, b_hi))
            if pair is None:
                a_idx = (np.arange(self.a_sums.size) if ca < 0
                         else np.flatnonzero(self.a_pc == ca))
                a_idx = a_idx[np.argsort(-self.a_sums[a_idx], kind="stable")]
                self.pairs.append((a_idx, t_idx))
                pair = self._pair_ids[(ca, b_lo, b_hi)] = len(self.pairs) - 1
            a_idx = self.pairs[pair][0]
            assert a_idx is not None
            match = match.combine(self._match(rows, self.a_sums[a_idx], table, pair))
        return match

    def _search_level(self, rows: np.ndarray, k: int) -> Match:
        pair = self._pair_ids.get((-2, k))
        if pair is None:
            start = time.perf_counter()
            masks = _combo_masks(self.n, k)
            sums = masks.astype(np.int64) @ self.x
            order = np.argsort(sums, kind="stable")
            self.pairs.append((None, masks[order]))
            self._level_sums[k] = _pad(sums[order])
            pair = self._pair_ids[(-2, k)] = len(self.pairs) - 1
            self.build_s += time.perf_counter() - start
        return self._match(rows, np.zeros(1, dtype=np.int64), self._level_sums[k], pair)

    def _match(self, rows: np.ndarray, a_desc: np.ndarray, table: np.ndarray,
               pair: int) -> Match:
        step = max(1, int(self.chunk_bytes // (ROW_BYTES_FACTOR * max(a_desc.size, 1))))
        parts = []
        for start in range(0, rows.size, step):
            keys = self.z[rows[start : start + step], None] - a_desc[None, :]
            pos = np.searchsorted(table, keys, side="right")
            parts.append(_nearest(keys, pos, table, 0, pair))
        if not parts:
            return Match.empty(0)
        return Match(*(np.concatenate([getattr(p, f) for p in parts]) for f in
                        ("best", "second", "pair", "col", "pos", "key", "bval")))

    def masks(self, rows: np.ndarray, match: Match) -> np.ndarray:
        """The winning masks (R, N) bool of `match` for `rows`."""
        out = np.zeros((rows.size, self.n), dtype=bool)
        for pair_id in np.unique(match.pair):
            sel = np.flatnonzero(match.pair == pair_id)
            a_idx, table_masks = self.pairs[pair_id]
            if a_idx is None:
                out[sel] = table_masks[match.pos[sel] - 1]
                continue
            out[sel, : self.n_a] = bits(a_idx[match.col[sel]], self.n_a)
            out[sel, self.n_a :] = bits(table_masks[match.pos[sel] - 1], self.n_b)
        return out
