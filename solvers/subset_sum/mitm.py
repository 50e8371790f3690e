"""Exact subset-sum by meet-in-the-middle (Horowitz–Sahni), vectorised with numpy.

The values are first scaled to int64 (`integer_scaling`): for float data such as Uniform[-1,1]
draws the scaling is lossless, so every subset sum below is exact and the optimum is certified
with tolerance 0. When it is lossy, every mask whose scaled error lies within the scaling's error
window of the best is re-checked in exact rational arithmetic, which again certifies exactly.

Split: the last n_B values form a table of 2^n_B subset sums, sorted once; the first n_A values
are enumerated in blocks of at most 2^20 sums, and each block is matched against the table with
`searchsorted`. n_B is capped by the memory budget, so larger n costs time, not memory.
With a cardinality budget or the sparsest goal, the table and blocks are split by popcount and
the best error is tracked per number kept (the whole error-versus-kept profile in one pass).
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass
from fractions import Fraction

import numpy as np

from exactprune.instances.errors import InputError
from exactprune.instances.scaling import IntegerScaling, float_floor, integer_scaling
from exactprune.instances.subset_sum import SubsetSumInstance
from exactprune.solvers.clock import Clock, passed
from exactprune.solvers.result import Goal, Objective, RawSolution, SolveOptions, Status

BLOCK_BITS = 20
TABLE_BYTES_PER_ENTRY = 48  # sums, order, sorted copy, popcounts and sort temporaries
BLOCK_BYTES_PER_ENTRY = 96  # block sums, match positions, neighbours, errors, temporaries
TABLE_SHARE, BLOCK_SHARE = 0.5, 0.35
"""Shares of memory_limit_gb for the sorted table and one block (the rest: the high-part sums
and small arrays). The budget bounds the peak memory of the work, measured as the process's
peak RSS above its level before the solve (tests/test_reliability.py)."""
MIN_BLOCK_BITS = 8
MAX_WORK_BITS = 44  # refuse beyond ~2^44 matched sums: days of work
MAX_CANDIDATES = 200_000
PIECE = 1 << 16
"""A-sums matched per step of pass 1, between two looks at the deadline."""
DEFAULT_MEMORY_GB = 4.0


def subset_sums(values: np.ndarray) -> np.ndarray:
    """All 2^k subset sums of int64 `values` (shape (k,)); entry j is the sum for bitmask j."""
    sums = np.zeros(1, dtype=np.int64)
    for v in values:
        sums = np.concatenate([sums, sums + np.int64(v)])
    return sums


class OutOfTime(Exception):
    """The deadline passed while building a table or re-checking candidates."""


class TableOutOfTime(OutOfTime):
    """The sorted table would not be built before the deadline, projected from its first
    2^`built_bits` sums (each merge doubles the table and costs in proportion to it)."""

    def __init__(self, built_bits: int) -> None:
        super().__init__(built_bits)
        self.built_bits = built_bits


MERGE_CHUNK = 1 << 20
"""Entries placed per step of a merge, between two looks at the deadline."""
TABLE_TIME_SHARE = 0.5
"""Above CORE_SIZE values, the share of the time limit the sorted table may take; past it mitm
hands the rest to core_search (n = 62, 0.5 s: the build at times used the whole limit, and the
greedy mask, 4.8e-3, came back where core_search alone reaches 1e-11; hunt 196 L1). Under a
limit core_search's first rounds are over fewer values than 40 (from `heuristics.FIRST_CORE`,
as the time left allows; docs/benchmarks/subset-sum-short-limits.md, subset-sum-core-ramp.md)."""
PROJECT_FROM_BITS = 22
"""Table size (log2) from which the build projects its end and gives up at once when that
lies past the deadline: the time so far is then merges, not overhead (n = 62, 2 s: the build
ran out the limit and left the greedy mask, 1.3e-2, where core_search reaches 4e-14)."""


def _check(deadline: float | None) -> None:
    if passed(deadline):
        raise OutOfTime


def sorted_subset_sums(values: np.ndarray, deadline: float | None = None
                       ) -> tuple[np.ndarray, np.ndarray]:
    """All subset sums of int64 `values` in ascending order, with their bitmasks.

    Built as in Horowitz-Sahni: merging the sorted sums with themselves shifted by the next
    value, faster than one big sort. The merge places each run's entries by binary search in
    the other (ties: the unshifted run first, as a stable sort of the two runs would), in
    chunks, and raises OutOfTime once `deadline` (a time.perf_counter() value) has passed, and
    TableOutOfTime as soon as the build's projected end lies past it.
    """
    sums = np.zeros(1, dtype=np.int64)
    masks = np.zeros(1, dtype=np.int64)
    started = time.perf_counter()
    for bit, v in enumerate(values):
        _check(deadline)
        if deadline is not None and bit >= PROJECT_FROM_BITS:
            now = time.perf_counter()
            if now + (now - started) * (2.0 ** (len(values) - bit) - 1) > deadline:
                raise TableOutOfTime(bit)
        shifted = sums + np.int64(v)
        m = len(sums)
        out_sums = np.empty(2 * m, dtype=np.int64)
        out_masks = np.empty(2 * m, dtype=np.int64)
        for lo in range(0, m, MERGE_CHUNK):
            hi = min(m, lo + MERGE_CHUNK)
            at = np.arange(lo, hi)
            pos_a = np.searchsorted(shifted, sums[lo:hi], side="left") + at
            pos_b = np.searchsorted(sums, shifted[lo:hi], side="right") + at
            out_sums[pos_a], out_masks[pos_a] = sums[lo:hi], masks[lo:hi]
            out_sums[pos_b], out_masks[pos_b] = shifted[lo:hi], masks[lo:hi] | np.int64(1 << bit)
            if hi < m:
                _check(deadline)
        sums, masks = out_sums, out_masks
    return sums, masks


def popcounts(k: int) -> np.ndarray:
    """Number of set bits of 0 .. 2^k − 1 (uint8, shape (2^k,))."""
    counts = np.zeros(1, dtype=np.uint8)
    for _ in range(k):
        counts = np.concatenate([counts, counts + 1])
    return counts


def _budget_bits(memory_limit_gb: float, share: float, bytes_per_entry: float) -> int:
    """floor(log2(entries)) of `share` of the budget at `bytes_per_entry`, in logarithms: a
    budget near the float64 maximum (valid input) must not overflow."""
    return math.floor(math.log2(max(memory_limit_gb, 1e-12))
                      + math.log2(share * 2**30 / bytes_per_entry))


def table_bits(n: int, memory_limit_gb: float) -> int:
    """How many values go into the sorted table: half of n, capped by half the budget."""
    cap = _budget_bits(memory_limit_gb, TABLE_SHARE, TABLE_BYTES_PER_ENTRY)
    return max(0, min((n + 1) // 2, cap))


def block_bits(n_a: int, memory_limit_gb: float) -> int:
    """How many of the enumerated values form one block: at most BLOCK_BITS, and the block's
    arrays within the rest of the budget."""
    cap = _budget_bits(memory_limit_gb, BLOCK_SHARE, BLOCK_BYTES_PER_ENTRY)
    return max(0, min(n_a, BLOCK_BITS, cap))


@dataclass
class _Best:
    """Best scaled error found for one group (a number kept, or everything)."""

    units: int
    a_index: int
    b_index: int


class _Table:
    """The sorted subset sums of the table half, split into groups by popcount if asked."""

    def __init__(self, values: np.ndarray, by_count: bool, deadline: float | None = None
                 ) -> None:
        k = len(values)
        sums, masks = sorted_subset_sums(values, deadline)
        if not by_count:
            self.groups: dict[int, tuple[np.ndarray, np.ndarray]] = {-1: (sums, masks)}
            return
        # Split the sorted sums by the number of values kept; a stable partition keeps each
        # group sorted (ties by bitmask, as a stable sort of each group alone would). One
        # radix sort of the uint8 counts instead of an argsort per group, between looks at
        # the deadline (n = 62 with max_kept and a 0.1 s limit took 1.5 s).
        _check(deadline)
        counts = np.bitwise_count(masks).astype(np.uint8)
        order = np.argsort(counts, kind="stable")
        _check(deadline)
        sums, masks, counts = sums[order], masks[order], counts[order]
        edges = np.searchsorted(counts, np.arange(k + 2))
        self.groups = {c: (sums[edges[c]:edges[c + 1]], masks[edges[c]:edges[c + 1]])
                       for c in range(k + 1)}


def _nearest(table_sums: np.ndarray, wanted: np.ndarray) -> tuple[int, int, int]:
    """The wanted sum closest to a table entry: (wanted index, table position, distance).

    The wanted sums are sorted first: `searchsorted` with sorted keys walks the table almost
    linearly (about 10x faster than random keys on tables larger than the cache).
    """
    order = np.argsort(wanted)
    keys = wanted[order]
    pos = np.searchsorted(table_sums, keys)
    hi = np.minimum(pos, len(table_sums) - 1)
    lo = np.maximum(pos - 1, 0)
    d_hi = np.abs(table_sums[hi] - keys)
    d_lo = np.abs(table_sums[lo] - keys)
    use_lo = d_lo <= d_hi
    dist = np.where(use_lo, d_lo, d_hi)
    j = int(np.argmin(dist))
    return int(order[j]), int(lo[j] if use_lo[j] else hi[j]), int(dist[j])


MAX_N = 62
"""Largest n: the int64 subset-sum tables hold sums of at most 62 scaled values."""


def refuse(instance: SubsetSumInstance, goal: Goal | None = None) -> str | None:
    """Why mitm cannot take this instance (above MAX_N values), or None."""
    if instance.n > MAX_N:
        return f"it handles n <= {MAX_N}, got n = {instance.n}"
    return None


class MitmSearch:
    """One meet-in-the-middle run over an instance's scaled values.

    mode: "all" (one group: plain min error), "budget" (one group: at most max_kept kept) or
    "profile" (one group per number kept, for the sparsest goal).
    """

    def __init__(
        self,
        instance: SubsetSumInstance,
        mode: str,
        max_kept: int | None,
        memory_limit_gb: float,
        deadline: float | None,
        table_deadline: float | None = None,
    ) -> None:
        """`table_deadline` (default `deadline`): when the sorted table must be built by."""
        self.instance = instance
        self.mode = mode
        self.max_kept = max_kept
        self.deadline = deadline
        n = instance.n
        why = refuse(instance)
        if why:
            raise InputError(f"mitm: {why}")
        self.scaling: IntegerScaling = integer_scaling(instance.values, instance.target)
        self.n_b = table_bits(n, memory_limit_gb)
        self.n_a = n - self.n_b
        if self.n_a > MAX_WORK_BITS - 0 or (self.n_a - BLOCK_BITS) + self.n_b > MAX_WORK_BITS:
            raise InputError(
                f"n = {n} with a {memory_limit_gb} GB memory budget needs 2^{self.n_a} x "
                f"2^{self.n_b} work: beyond meet-in-the-middle (raise memory_limit_gb or "
                "use a MILP backend for a bound)"
            )
        self.low_bits = block_bits(self.n_a, memory_limit_gb)
        self.high_bits = self.n_a - self.low_bits
        high_bytes = 9 * 2**self.high_bits
        if (self.low_bits < min(self.n_a, MIN_BLOCK_BITS)
                or high_bytes > (1 - TABLE_SHARE - BLOCK_SHARE) * memory_limit_gb * 2**30):
            raise InputError(f"a memory budget of {memory_limit_gb:g} GB is too small for "
                             f"n = {n} (the enumerated half needs 2^{self.high_bits} block "
                             "starts); raise memory_limit_gb")
        x = self.scaling.values
        self.a_low = subset_sums(x[: self.low_bits])
        self.a_high = subset_sums(x[self.low_bits : self.n_a])
        by_count = mode != "all"
        self.low_counts = popcounts(self.low_bits) if by_count else None
        self.high_counts = popcounts(self.high_bits) if by_count else None
        self.table = _Table(x[self.n_a :], by_count,  # may raise OutOfTime
                            deadline if table_deadline is None else table_deadline)
        self.blocks_done = 0
        self.timed_out = False

    # -- group bookkeeping ---------------------------------------------------------------
    def _pairs(self, count_a: int) -> list[tuple[int, int]]:
        """(table group, result group) pairs to match for A-sums keeping `count_a` values."""
        if self.mode == "all":
            return [(-1, 0)]
        out = []
        for count_b in self.table.groups:
            total = count_a + count_b
            if self.mode == "budget":
                if self.max_kept is None or total <= self.max_kept:
                    out.append((count_b, 0))
            else:
                out.append((count_b, total))
        return out

    def _block(self, high: int) -> tuple[np.ndarray, np.ndarray | None]:
        sums = self.a_low + self.a_high[high]
        counts = None
        if self.low_counts is not None and self.high_counts is not None:
            counts = self.low_counts + self.high_counts[high]
        return sums, counts

    def _a_slices(self, counts: np.ndarray | None) -> list[tuple[int, np.ndarray | None]]:
        if counts is None:
            return [(0, None)]
        return [(int(c), np.flatnonzero(counts == c)) for c in np.unique(counts)]

    def _out_of_time(self) -> bool:
        return passed(self.deadline)

    # -- pass 1: best scaled error per group -------------------------------------------------
    def best_units(self) -> dict[int, _Best]:
        z = np.int64(self.scaling.target)
        best: dict[int, _Best] = {}
        for high in range(len(self.a_high)):
            block_sums, block_counts = self._block(high)
            # A block is matched in pieces, so that a short time limit is kept after the
            # first piece, which gives the incumbent (one 2^20 block took 0.2 s at n = 40).
            for start in range(0, len(block_sums), PIECE):
                if (high or start) and self._out_of_time():
                    self.timed_out = True
                    return best
                sums = block_sums[start : start + PIECE]
                counts = None if block_counts is None else block_counts[start : start + PIECE]
                for count_a, rows in self._a_slices(counts):
                    a_sums = sums if rows is None else sums[rows]
                    wanted = z - a_sums
                    for tgroup, rgroup in self._pairs(count_a):
                        t_sums, t_index = self.table.groups[tgroup]
                        if len(t_sums) == 0:
                            continue
                        j, pos, units = _nearest(t_sums, wanted)
                        if rgroup not in best or units < best[rgroup].units:
                            a_idx = start + (j if rows is None else int(rows[j]))
                            a_index = a_idx + (high << self.low_bits)
                            best[rgroup] = _Best(units, a_index, int(t_index[pos]))
            self.blocks_done += 1
        return best

    # -- pass 2 (lossy scaling only): every mask inside the error window -------------------
    def candidates(self, windows: dict[int, int]) -> dict[int, list[tuple[int, int]]]:
        """All (a_index, b_index) with scaled error <= windows[group], per group."""
        z = np.int64(self.scaling.target)
        found: dict[int, list[tuple[int, int]]] = {g: [] for g in windows}
        total = 0
        for high in range(len(self.a_high)):
            _check(self.deadline)
            sums, counts = self._block(high)
            for count_a, rows in self._a_slices(counts):
                a_sums = sums if rows is None else sums[rows]
                wanted = z - a_sums
                for tgroup, rgroup in self._pairs(count_a):
                    if rgroup not in windows:
                        continue
                    t_sums, t_index = self.table.groups[tgroup]
                    w = np.int64(windows[rgroup])
                    lo = np.searchsorted(t_sums, wanted - w, side="left")
                    hi = np.searchsorted(t_sums, wanted + w, side="right")
                    for j in np.flatnonzero(hi > lo):
                        a_idx = int(j) if rows is None else int(rows[j])
                        for p in range(int(lo[j]), int(hi[j])):
                            found[rgroup].append((a_idx + (high << self.low_bits),
                                                  int(t_index[p])))
                            total += 1
                            if total > MAX_CANDIDATES:
                                raise _TooManyCandidates
        return found

    def mask(self, a_index: int, b_index: int) -> np.ndarray:
        """The keep-mask (bool, shape (n,)) of an (A bitmask, table bitmask) pair."""
        n_a, n_b = self.n_a, self.n_b
        bits_a = (a_index >> np.arange(n_a)) & 1 if n_a else np.zeros(0, dtype=np.int64)
        bits_b = (b_index >> np.arange(n_b)) & 1 if n_b else np.zeros(0, dtype=np.int64)
        return np.concatenate([bits_a, bits_b]).astype(bool)


class _TooManyCandidates(Exception):
    pass


def exact_best(
    search: MitmSearch, best: dict[int, _Best]
) -> tuple[dict[int, tuple[Fraction, np.ndarray]], list[str], bool]:
    """Exact best (error, mask) per group; certified False if the window was too crowded.
    Raises OutOfTime once the search's deadline has passed (checked every 256 masks)."""
    inst = search.instance
    if search.scaling.lossless:
        out = {}
        for g, b in best.items():
            mask = search.mask(b.a_index, b.b_index)
            out[g] = (inst.exact_error(mask), mask)
        return out, [], True
    n = inst.n
    windows = {g: b.units + n + 1 for g, b in best.items()}
    try:
        cands = search.candidates(windows)
    except _TooManyCandidates:
        out = {}
        for g, b in best.items():
            mask = search.mask(b.a_index, b.b_index)
            out[g] = (inst.exact_error(mask), mask)
        note = (f"more than {MAX_CANDIDATES} masks inside the scaling window: exact re-check "
                "skipped, optimum within the scaling error only")
        return out, [note], False
    out = {}
    checked = 0
    for g, pairs in cands.items():
        best_pair: tuple[Fraction, np.ndarray] | None = None
        for a_index, b_index in pairs:
            if checked % 256 == 0:  # 200,000 rational errors take seconds (hunt 54 F3)
                _check(search.deadline)
            mask = search.mask(a_index, b_index)
            err = inst.exact_error(mask)
            checked += 1
            if best_pair is None or err < best_pair[0]:
                best_pair = (err, mask)
        assert best_pair is not None  # the pass-1 best is always inside its own window
        out[g] = best_pair
    note = f"lossy scaling: {checked} masks inside the rounding window re-checked exactly"
    return out, [note], True


def _beyond_reach(instance: SubsetSumInstance, goal: Goal) -> RawSolution | None:
    """The answer of a sparsest goal whose eps the empty mask meets (it keeps nothing), and
    the answer when the target lies beyond every sum of at most max_kept values
    (`bulk_exact.beyond_reach`, exact): the mask of the values farthest out on its side is
    optimal, and a sparsest goal whose eps that mask misses is infeasible. A lossy scaling
    with such a target (subnormal values, target -1) crowded the rounding window and left the
    trivial optimum uncertified, and the sparsest goal in `error` (hunt 114 L2)."""
    from exactprune.solvers.subset_sum.bulk_exact import beyond_reach

    x, n = np.asarray(instance.values, dtype=np.float64), instance.n
    sparsest = goal.objective is Objective.SPARSEST
    if sparsest and abs(Fraction(float(instance.target))) <= Fraction(goal.eps):
        # the empty mask is within eps: nothing keeps fewer (the crowded window left it
        # `feasible`; hunt 115 L3)
        return RawSolution(Status.OPTIMAL, mask=np.zeros(n, dtype=bool), bound=0.0,
                           certified=True, tolerance=0.0,
                           notes=[f"the empty mask is within eps = {goal.eps!r} of the target"])
    hi = n if sparsest or goal.max_kept is None else min(goal.max_kept, n)
    mask = beyond_reach(x, float(instance.target), 0, hi)
    if mask is None:
        return None
    err = abs(sum((Fraction(float(v)) for v in x[mask]), Fraction(0))
              - Fraction(float(instance.target)))
    note = (f"every sum of at most {hi} values lies on one side of the target (or at it): the "
            f"closest keeps the {int(mask.sum())} values farthest out on that side (exact)")
    if not sparsest:
        return RawSolution(Status.OPTIMAL, mask=mask, bound=float_floor(err), certified=True,
                           tolerance=0.0, notes=[note])
    if err > Fraction(goal.eps):
        return RawSolution(Status.INFEASIBLE, certified=True, tolerance=0.0,
                           notes=[note, f"no subset has error <= {goal.eps!r}"])
    return None


def _without_table(instance: SubsetSumInstance, goal: Goal, opts: SolveOptions, clock: Clock,
                   stop: OutOfTime) -> RawSolution:
    """The answer when the sorted table is not built in time: no mask for the sparsest goal;
    for min_error core_search's best mask in the time left where its cores are smaller than
    the instance (the table's first sums say nothing about the optimum), else the greedy mask
    (microseconds: the best a limit this short buys)."""
    from exactprune.solvers.subset_sum.heuristics import (
        CORE_SIZE,
        core_search,
        fitting_warm_start,
        greedy_mask,
        kept_budget,
        ranking_values,
    )

    if isinstance(stop, TableOutOfTime):
        note = (f"the sorted table would not be built within the time limit (projected from "
                f"its first 2^{stop.built_bits} sums)")
    else:
        note = "time limit while building the sorted table"
    if goal.objective is Objective.SPARSEST:
        return RawSolution(Status.TIME_LIMIT, notes=[f"{note}: no mask"])
    if instance.n > CORE_SIZE:  # core_search's rounds solve cores of CORE_SIZE values by mitm
        start, _ = fitting_warm_start(kept_budget(instance, goal), opts)
        found = core_search(instance, goal, clock, opts.seed, rounds=None, start=start)
        rounds = found.rounds
        return RawSolution(
            Status.TIME_LIMIT, mask=found.mask, stats={"core_search_rounds": rounds},
            notes=[f"{note}: core_search's best mask in the time left is returned ({rounds} "
                   f"round{'s' * (rounds != 1)} of mitm over random cores of "
                   f"{found.cores_text()})"])
    x, z = ranking_values(instance)
    return RawSolution(Status.TIME_LIMIT, mask=greedy_mask(x, z, kept_budget(instance, goal)),
                       notes=[f"{note}: the greedy mask is returned"])


def run_mitm(instance: SubsetSumInstance, goal: Goal, opts: SolveOptions) -> RawSolution:
    """Exact meet-in-the-middle for min_error (with optional max_kept) and sparsest goals.

    Option memory_limit_gb (default 4.0): budget for the peak memory of the work (the sorted
    table gets half of it; beyond it the table shrinks and the rest is enumerated in blocks).
    A warm start within max_kept is what a run that ends without a proof returns where it is
    better than what the run found (and core_search's start where the table is not built in
    time); a certified optimum needs none.
    """
    from exactprune.solvers.subset_sum.heuristics import (
        fitting_warm_start,
        kept_budget,
        no_worse_than_start,
    )

    raw = _run_mitm(instance, goal, opts)
    _, verdict = fitting_warm_start(kept_budget(instance, goal), opts)
    if verdict.get("warm_start") == "rejected":
        raw.notes.append("warm start rejected: it keeps more than max_kept")
    raw.stats.update(verdict)
    return no_worse_than_start(instance, goal, opts, raw, "mitm")


def _run_mitm(instance: SubsetSumInstance, goal: Goal, opts: SolveOptions) -> RawSolution:
    """`run_mitm` without the warm start's last word."""
    memory_limit_gb = float(opts.extra.get("memory_limit_gb", DEFAULT_MEMORY_GB))
    far = _beyond_reach(instance, goal)
    if far is not None:
        return far
    if goal.objective is Objective.SPARSEST:
        mode = "profile"
    elif goal.max_kept is not None and goal.max_kept < instance.n:
        mode = "budget"
    else:
        mode = "all"
    from exactprune.solvers.subset_sum.heuristics import CORE_SIZE

    clock = Clock(opts.time_limit)
    table_deadline = clock.deadline
    if clock.deadline is not None and instance.n > CORE_SIZE:
        # the enumerated half matches at least as many sums against the table as it holds, so a
        # table not built by then leaves mitm no chance to finish; core_search gets the rest
        table_deadline = clock.deadline - (1 - TABLE_TIME_SHARE) * float(opts.time_limit)
    try:
        search = MitmSearch(instance, mode, goal.max_kept, memory_limit_gb, clock.deadline,
                            table_deadline)
    except OutOfTime as stop:
        return _without_table(instance, goal, opts, clock, stop)
    best = search.best_units()
    scaling = search.scaling
    stats = {"table_bits": search.n_b, "enumerated_bits": search.n_a,
             "scale_exponent": scaling.exponent, "lossless_scaling": scaling.lossless,
             "blocks": search.blocks_done}
    notes = [scaling.describe()]
    stopped = search.timed_out
    if stopped:
        notes.append(f"time limit after {search.blocks_done} of {len(search.a_high)} blocks")
    else:
        try:
            exact, more_notes, certified = exact_best(search, best)
        except OutOfTime:
            stopped = True
            notes.append("time limit while re-checking the masks inside the rounding window "
                         "exactly: the best scaled match is returned unchecked")
    if stopped:
        if goal.objective is Objective.SPARSEST:
            return RawSolution(Status.TIME_LIMIT, notes=notes, stats=stats)
        b = best.get(0)
        mask = None if b is None else search.mask(b.a_index, b.b_index)
        return RawSolution(Status.TIME_LIMIT, mask=mask, notes=notes, stats=stats)
    notes.extend(more_notes)
    if goal.objective is Objective.SPARSEST:
        eps = Fraction(goal.eps)
        feasible = sorted(k for k, (err, _) in exact.items() if err <= eps)
        if not feasible and not certified:
            # the best scaled match of each count is outside eps, but the window held too
            # many masks to compare exactly: a mask within eps may exist (hunt 48: error 0
            # at count 1 beside eps = 1e-33, reported "infeasible")
            notes.append(f"no mask within {goal.eps!r} among the best scaled matches; "
                         "infeasibility not proven (cpsat may decide it)")
            return RawSolution(Status.ERROR, notes=notes, stats=stats)
        if not feasible:
            notes.append(f"no subset has error <= {goal.eps!r}")
            return RawSolution(Status.INFEASIBLE, certified=True, tolerance=0.0,
                               notes=notes, stats=stats)
        k = feasible[0]
        status = Status.OPTIMAL if certified else Status.FEASIBLE
        return RawSolution(status, mask=exact[k][1], bound=float(k) if certified else None,
                           certified=certified, tolerance=0.0, notes=notes, stats=stats)
    err, mask = exact[0]
    if certified:
        return RawSolution(Status.OPTIMAL, mask=mask, bound=float_floor(err), certified=True,
                           tolerance=0.0, notes=notes, stats=stats)
    slack = scaling.to_real(instance.n + 1)
    return RawSolution(Status.FEASIBLE, mask=mask,
                       bound=max(0.0, float_floor(err - Fraction(slack))),
                       notes=notes, stats=stats)
