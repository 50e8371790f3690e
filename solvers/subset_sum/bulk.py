"""Exact subset-sum for many independent instances at once, vectorised across instances.

`solve_many` answers B instances (x_g, z_b) — one row of N float64 values per group g, one
target per instance — for the objectives "closest" (min |x·m − z|, optionally with at most
`max_kept` kept) and "sparsest" (fewest kept with |x·m − z| <= eps). Every answer is the exact
optimum of the rational data (each float64 is a rational), with a deterministic choice among
exact ties: fewer kept first, then the lowest mask index, where the index of a mask m is
Σ_i m_i·2^i (value 0 is the least significant bit).

Search (int64, meet-in-the-middle; `bulk_search`). Each value row is split into two halves and
the residuals z − a of the low half's sums are matched against the high half's sorted sums:
one table shared by a group with at least SHARED_MIN_TARGETS targets, or per-row tables built
for a batch of rows at once. For a set of allowed kept counts the search gives per instance the
smallest scaled error I1, the true second smallest I2 (another mask) and the winning mask.
Sparsest scans kept counts k = 0, 1, 2, ... for the instances not yet resolved.

Certificate. Values and targets of a group are multiplied by one power of two 2^p (exact in
float64) with (N + 1)·2^(p + e) <= 2^59, e the largest binade exponent of the row (|x| < 2^e;
in a shared group, targets with |z| >= 2^e are solved as rows of their own), and rounded to
integers X, Z: every sum, residual and difference stays below 2^60 in magnitude. The scaling
is lossless for an instance when every x·2^p and z·2^p is already an integer; then
I(m) = |Σ X·m − Z| is exactly 2^p·|x·m − z| and the window w below is 0. Otherwise each
rounding moves by at most 1/2, so |I(m) − 2^p·t(m)| <= (k_m + 1)/2 for the exact error t(m)
of a mask keeping k_m values, and two masks keeping at most K values compare correctly unless
their integer errors are within w = K + 1 of each other.

- closest: if I2 > I1 + w, every other mask has exact error > t(winner): the winner is the
  unique exact optimum. Otherwise the instance goes to the exact path (below).
- sparsest, level k (w = (k + 1) if lossy): if 2·I1 − w > eps·2^(p+1) (an integer comparison
  against the floor of eps·2^(p+1), exact in float64), no mask of level k is within eps. If
  I2 > I1 + w, the winner is the exact best of its level, and it is within eps when
  2·I1 + w <= eps·2^(p+1), or else by an exact rational check (counted in
  stats["exact_rechecks"]). Ambiguous levels go to the exact path.
- exact path (per instance, `bulk_exact`): 60-bit integer scaling (lossless whenever the data
  allow), then every mask within the integer window of the best one compared in exact
  rational arithmetic (each counted in stats["exact_rechecks"]), with the tie-break (exact
  error, kept, index).

The reported error of each mask is `math.fsum` of its kept values and −z (correctly rounded),
which is what `SubsetSumInstance.evaluate` returns, bit for bit.

Time limit: the work is cut into chunks of targets sized by the time left, and instances not
answered when it runs out get status "time_limit"; every answer given is still exact.
"""

from __future__ import annotations

import contextlib
import math
import multiprocessing
import os
import time
from collections.abc import Iterator
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field
from fractions import Fraction
from typing import Any

import numpy as np

from exactprune.instances.errors import InputError
from exactprune.instances.masks import INTEGER_KINDS, REAL_KINDS, no_masked_entries
from exactprune.instances.network import check_exact_floats, check_exact_ints
from exactprune.instances.params import as_flag, as_number, clipped, is_integer
from exactprune.instances.scaling import rounded_sum
from exactprune.invocation import spawn_blocker
from exactprune.solvers.clock import Clock
from exactprune.solvers.subset_sum.bulk_exact import exact_best, exact_error
from exactprune.solvers.subset_sum.bulk_search import (
    BRUTE_MAX,
    ROW_BYTES_FACTOR,
    RowSearch,
    SharedSearch,
    row_split,
)
from exactprune.solvers.subset_sum.mitm import OutOfTime
from exactprune.termination import exit_with_parent

MAX_N = 40
KEY_BITS = 59
"""Σ|X| + |Z| <= 2^KEY_BITS: sums, residuals, differences and guard distances fit in int64."""
EPS_CAP = 2.0**62
ZERO_EXP = -2000
"""frexp exponent used for zeros (below every float64 exponent)."""
SHARED_MIN_TARGETS = 24
"""Groups with at least this many targets share one sorted table (searchsorted path)."""
MAX_BATCH_ROWS = 512
WORK_SHARE = 0.6
"""Share of memory_limit_gb for the arrays of one batch (the rest: inputs and outputs)."""
MEMORY_LIMIT_CAP_GB = 2.0**40
"""A larger memory_limit_gb means no limit and is read as this (1e300 GB overflowed the byte
counts to inf: an OverflowError, exit 1; hunt 26)."""
PARALLEL_MIN_SECONDS = 2.0
"""With less time left than this, jobs > 1 solves in this process: spawning the workers and
importing the solver in them takes about half a second of the limit."""
PARALLEL_MIN_WORK = 2.0**26
"""jobs > 1 starts worker processes for closest only above this many (row instance ×
2^(N/2)) entries: about 10 s of single-process work."""

OPTIMAL, INFEASIBLE, TIME_LIMIT = "optimal", "infeasible", "time_limit"
FIRST_CHUNK = 1
"""Targets in the first chunk of a group or of the row batches under a time limit; later
chunks double while the time left allows (`Clock.fitting`)."""


@dataclass(frozen=True)
class BulkResult:
    """Answers for B instances.

    masks: (B, N) bool, the chosen subset (all False where infeasible or not reached);
    errors: (B,) float64, |x·m − z| correctly rounded (nan where infeasible or not reached);
    kept: (B,) int64 (0 there); status: (B,) str, "optimal", "infeasible" or "time_limit"
    (not answered when the time limit ran out); stats: wall time, counts, methods per phase.
    """

    masks: np.ndarray
    errors: np.ndarray
    kept: np.ndarray
    status: np.ndarray
    stats: dict[str, Any]


@dataclass(frozen=True)
class _Problem:
    """Validated input: values (G, N) float64, targets (B,), groups (B,) int64 in [0, G)."""

    values: np.ndarray
    targets: np.ndarray
    groups: np.ndarray
    sparsest: bool
    eps: float | None
    max_kept: int | None
    memory_limit_gb: float

    @property
    def n(self) -> int:
        return int(self.values.shape[1])

    @property
    def kmax(self) -> int:
        """Most values a mask may keep."""
        return self.n if self.max_kept is None else min(self.max_kept, self.n)

    @property
    def work_bytes(self) -> float:
        return WORK_SHARE * self.memory_limit_gb * 2**30


# -- validation ---------------------------------------------------------------------------------


def _real_array(raw: Any, name: str) -> np.ndarray:
    # np.asarray reads masked entries as values; one with none masked is its data, as the
    # instances take it (hunt 147 L3)
    no_masked_entries(raw, name)
    if isinstance(raw, np.ma.MaskedArray):
        raw = np.ma.getdata(raw)
    try:
        arr = np.asarray(raw)
    except (ValueError, TypeError):
        raise InputError(f"{name} must be a rectangular array of numbers") from None
    if arr.dtype == object and all(
            is_integer(x) or isinstance(x, float) for x in arr.ravel().tolist()):
        # Python ints beyond int64 make an object array: checked exact, as the instances do
        # ("got dtype object"; hunt 147 L3)
        check_exact_ints(arr.ravel().tolist(), name)
        try:
            arr = arr.astype(np.float64)
        except OverflowError:
            raise InputError(f"{name} contains a number beyond the float64 range") from None
    if arr.dtype.kind not in REAL_KINDS:  # not bool, complex, timedelta64 (hunt 144 L1)
        raise InputError(f"{name} must be real numbers, got dtype {arr.dtype}")
    check_exact_floats(arr, name)
    floats = arr.astype(np.float64)
    # integers from 2^53 on may not be float64 numbers: check them (>=: 2^53 + 1 rounds to
    # 2^53 itself, which a strict > let through; hunt 19)
    if np.any(np.abs(floats) >= 2.0**53):
        exact = arr if isinstance(raw, np.ndarray) else np.asarray(raw, dtype=object)
        check_exact_ints(exact.ravel().tolist(), name)
    if not np.all(np.isfinite(floats)):
        raise InputError(f"{name} contains NaN or infinite values")
    return floats


def check_time_limit(time_limit: Any) -> float | None:
    """Seconds > 0 (finite), or None; as `SolveOptions` reads it."""
    if time_limit is None:
        return None
    tl = as_number(time_limit, "time_limit", exact=False)
    if not math.isfinite(tl) or tl <= 0:
        raise InputError(f"time_limit must be a positive number of seconds, got "
                         f"{clipped(repr(time_limit))}")
    return float(tl)


def _objective(objective: Any) -> bool:
    """True for sparsest, False for closest ("min_error" is accepted as closest)."""
    if not isinstance(objective, str):
        raise InputError(f"objective must be closest or sparsest, got {objective!r}")
    if objective in ("closest", "min_error"):
        return False
    if objective == "sparsest":
        return True
    raise InputError(f"unknown objective {objective!r} (use closest or sparsest)")


def _groups(raw: Any, values: np.ndarray, b: int, shared: bool) -> np.ndarray:
    g = values.shape[0]
    if raw is None:
        if shared:
            return np.zeros(b, dtype=np.int64)
        if g == b:
            return np.arange(b, dtype=np.int64)
        raise InputError(f"values has {g} rows but there are {b} targets: pass groups")
    no_masked_entries(raw, "groups")  # none masked: its data, as values (hunt 149 L1)
    if isinstance(raw, np.ma.MaskedArray):
        raw = np.ma.getdata(raw)
    try:
        arr = np.asarray(raw)
    except (ValueError, TypeError):
        raise InputError(f"groups must be a list of {b} integers") from None
    if arr.shape != (b,):
        raise InputError(f"groups must have shape ({b},), got {arr.shape}")
    if b == 0:  # numpy reads [] as float64: an empty batch's groups (hunt 165 L5)
        return np.zeros(0, dtype=np.int64)
    items = (np.asarray(raw, dtype=object) if not isinstance(raw, np.ndarray) else arr).tolist()
    if arr.dtype.kind not in INTEGER_KINDS and items and all(is_integer(x) for x in items):
        # Python ints beyond int64 (an object array, or floats where numpy made them so): the
        # one out of range is named (not "got dtype object"; hunts 149 L1, 150 L1)
        outside = [x for x in items if not 0 <= x < g]
        if outside:
            raise InputError(f"groups must lie in [0, {g}), got {outside[0]}")
        arr = np.array(items, dtype=np.int64)
    if arr.dtype.kind not in INTEGER_KINDS:
        raise InputError(f"groups must be integers, got dtype {arr.dtype}")
    if b and (arr.min() < 0 or arr.max() >= g):
        raise InputError(f"groups must lie in [0, {g}), got [{arr.min()}, {arr.max()}]")
    return arr.astype(np.int64)


def _check_budget(values: np.ndarray, b: int, n: int, memory_limit_gb: float) -> None:
    budget = memory_limit_gb * 2**30
    io_bytes = values.nbytes + b * (n + 48)
    if io_bytes > budget:
        raise InputError(f"{b} instances of n = {n} need {io_bytes / 2**30:.3g} GB for inputs and "
                         f"answers, beyond memory_limit_gb = {memory_limit_gb:g}")
    one_row = _one_row_bytes(n)
    if one_row > WORK_SHARE * budget:
        raise InputError(f"n = {n} needs {one_row / 2**30:.3g} GB per instance, beyond "
                         f"memory_limit_gb = {memory_limit_gb:g}")


def _one_row_bytes(n: int) -> float:
    """The working memory of one instance's search (its two half tables)."""
    return ROW_BYTES_FACTOR * (2 ** (n // 2) + 2 ** (n - n // 2))


def _validate(values: Any, targets: Any, groups: Any, objective: Any, eps: Any, max_kept: Any,
              memory_limit_gb: Any) -> _Problem:
    sparsest = _objective(objective)
    vals = _real_array(values, "values")
    tgts = _real_array(targets, "targets")
    if tgts.ndim != 1:
        raise InputError(f"targets must be one-dimensional, got shape {tgts.shape}")
    if vals.ndim not in (1, 2):
        raise InputError(f"values must have shape (N,) or (G, N), got {vals.shape}")
    shared = vals.ndim == 1
    vals = vals.reshape(1, -1) if shared else vals
    n = vals.shape[1]
    if n < 1 or n > MAX_N:
        raise InputError(f"N must be between 1 and {MAX_N}, got {n}")
    if vals.shape[0] < 1 and tgts.shape[0] > 0:  # no rows and no targets: an empty batch,
        raise InputError("values must have at least one row")  # as with shared values
    if sparsest:
        if eps is None:
            raise InputError("the sparsest objective needs eps")
        if isinstance(eps, bool) or not isinstance(eps, int | float | np.integer | np.floating):
            raise InputError(f"eps must be a number, got {eps!r}")
        try:
            finite = math.isfinite(float(eps))
        except OverflowError:  # an int beyond float64
            finite = False
        if not finite or eps < 0:
            raise InputError(f"eps must be a finite number >= 0, got {clipped(repr(eps))}")
        eps = as_number(eps, "eps")  # a long double float64 cannot hold: refused (hunt 114 L1)
    elif eps is not None:
        raise InputError("eps applies to the sparsest objective only")
    if max_kept is not None and (not is_integer(max_kept) or max_kept < 0):
        raise InputError(f"max_kept must be an integer >= 0, got {max_kept!r}")
    memory_limit_gb = as_number(memory_limit_gb, "memory_limit_gb", exact=False)
    if not memory_limit_gb > 0 or not math.isfinite(memory_limit_gb):
        raise InputError(f"memory_limit_gb must be a positive number, got {memory_limit_gb!r}")
    grp = _groups(groups, vals, tgts.shape[0], shared)
    memory = min(float(memory_limit_gb), MEMORY_LIMIT_CAP_GB)
    _check_budget(vals, tgts.shape[0], n, memory)
    return _Problem(vals, tgts, grp, sparsest, None if eps is None else float(eps),
                    None if max_kept is None else int(max_kept), memory)


# -- scaling ------------------------------------------------------------------------------------


def _exponents(v: np.ndarray) -> np.ndarray:
    """e with |v| < 2^e elementwise (ZERO_EXP for zeros)."""
    _, e = np.frexp(v)
    return np.where(v == 0, ZERO_EXP, e).astype(np.int64)


def _exponent(n: int, e_max: np.ndarray) -> np.ndarray:
    """The scale exponent p with (n + 1)·2^(e_max + p) <= 2^KEY_BITS."""
    return KEY_BITS - e_max - math.ceil(math.log2(n + 1))


def _to_int(v: np.ndarray, p: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """round(v·2^p) as int64 and whether it is exact, elementwise (p broadcast against v)."""
    with np.errstate(over="ignore", under="ignore"):
        scaled = np.ldexp(v, p)
    ints = np.rint(scaled)
    exact = (ints == scaled) & ((scaled != 0) | (v == 0))
    return ints.astype(np.int64), exact


def _eps_bound(eps: float | None, p: np.ndarray) -> np.ndarray:
    """floor(eps·2^(p+1)) capped at 2^62 (int64); ldexp is exact in the normal range, and a
    subnormal or capped value keeps every comparison with the integers below 2^61 exact."""
    if eps is None:
        return np.zeros_like(p)
    with np.errstate(over="ignore", under="ignore"):
        e2 = np.ldexp(np.float64(eps), p + 1)
    return np.floor(np.minimum(e2, EPS_CAP)).astype(np.int64)


# -- counters and the exact path -----------------------------------------------------------------


@dataclass
class _Counters:
    exact_rechecks: int = 0
    exact_path: int = 0
    lossy: int = 0
    method: dict[str, str] = field(default_factory=dict)
    phase_s: dict[str, float] = field(default_factory=dict)

    def timed(self, phase: str, start: float) -> None:
        self.phase_s[phase] = self.phase_s.get(phase, 0.0) + time.perf_counter() - start


def _exact_instance(prob: _Problem, b: int, start_level: int, counters: _Counters,
                    deadline: float | None) -> np.ndarray | None:
    """The exact answer for instance b (sparsest: from level start_level on); None if none.
    Raises OutOfTime once `deadline` has passed."""
    x, z = prob.values[prob.groups[b]], float(prob.targets[b])
    counters.exact_path += 1
    if not prob.sparsest:
        mask, rechecks = exact_best(x, z, 0, prob.kmax, deadline)
        counters.exact_rechecks += rechecks
        return mask
    eps = Fraction(prob.eps)
    for k in range(start_level, prob.kmax + 1):
        mask, rechecks = exact_best(x, z, k, k, deadline)
        counters.exact_rechecks += rechecks
        if exact_error(x, z, mask) <= eps:
            return mask
    return None


# -- drivers ----------------------------------------------------------------------------------


@dataclass
class _Answers:
    """Masks and status codes (0 open, 1 optimal, 2 infeasible) for every instance, plus the
    instances sent to the exact path, with the sparsest level to start from. An instance
    still open at the end was not reached within the time limit."""

    masks: np.ndarray
    code: np.ndarray
    exact_queue: list[tuple[int, int]] = field(default_factory=list)

    def solved(self, ids: np.ndarray, masks: np.ndarray) -> None:
        self.masks[ids] = masks
        self.code[ids] = 1


@dataclass
class _Batch:
    """A searcher with the global ids of its instances and their scaling facts."""

    search: RowSearch | SharedSearch
    ids: np.ndarray
    lossy: np.ndarray
    eps2: np.ndarray


def _closest(batch: _Batch, kmax: int, answers: _Answers, rows: np.ndarray) -> None:
    match = batch.search.search(rows, 0, kmax)
    window = (kmax + 1) * batch.lossy[rows]
    clean = match.second > match.best + window
    answers.solved(batch.ids[rows[clean]], batch.search.masks(rows[clean], match.rows(clean)))
    answers.exact_queue.extend((int(b), 0) for b in batch.ids[rows[~clean]])


def _sparsest(batch: _Batch, prob: _Problem, answers: _Answers, counters: _Counters,
              rows: np.ndarray, clock: Clock) -> None:
    for k in range(prob.kmax + 1):
        if rows.size == 0:
            return
        if k and clock.expired():  # the rows left stay open
            return
        match = batch.search.search(rows, k, k)
        w = (k + 1) * batch.lossy[rows]
        e2 = batch.eps2[rows]
        beyond = 2 * match.best - w > e2
        clean = ~beyond & (match.second > match.best + w)
        ambiguous = ~beyond & ~clean
        answers.exact_queue.extend((int(b), k) for b in batch.ids[rows[ambiguous]])
        sure = clean & (2 * match.best + w <= e2)
        unsure = clean & ~sure
        cand = np.flatnonzero(sure | unsure)
        masks = batch.search.masks(rows[cand], match.rows(cand))
        ok = sure[cand].copy()
        for j in np.flatnonzero(unsure[cand]):
            b = int(batch.ids[rows[cand[j]]])
            counters.exact_rechecks += 1
            ok[j] = exact_error(prob.values[prob.groups[b]], float(prob.targets[b]),
                                 masks[j]) <= Fraction(prob.eps)
        answers.solved(batch.ids[rows[cand[ok]]], masks[ok])
        keep = beyond.copy()
        keep[cand[~ok]] = True
        rows = rows[keep]
    answers.code[batch.ids[rows]] = 2


def _run_batch(batch: _Batch, prob: _Problem, answers: _Answers, counters: _Counters,
               rows: np.ndarray, clock: Clock) -> None:
    """Search the batch's instances `rows` (positions in batch.ids)."""
    if prob.sparsest:
        _sparsest(batch, prob, answers, counters, rows, clock)
    else:
        _closest(batch, prob.kmax, answers, rows)


def _run_in_chunks(batch: _Batch, prob: _Problem, answers: _Answers, counters: _Counters,
                   clock: Clock, bar: Any) -> None:
    """Search a batch whole without a time limit; under one, a chunk of its targets at a time
    (FIRST_CHUNK, then doubling while the time left allows), looking at the clock between
    chunks: a shared group of 1,000 targets at N = 40 is a minute of work."""
    rows = np.arange(batch.ids.size)
    if clock.deadline is None:
        _run_batch(batch, prob, answers, counters, rows, clock)
        _advance(bar, rows.size)
        return
    if isinstance(batch.search, SharedSearch):  # its half table: seconds from N = 32 on
        batch.search.deadline = clock.deadline
    done, size, per_row = 0, FIRST_CHUNK, 0.0
    while done < rows.size:
        if clock.expired():
            return
        if done:
            size = clock.fitting(2 * size, per_row)
        chunk = rows[done : done + size]
        start, built = time.perf_counter(), getattr(batch.search, "build_s", 0.0)
        try:
            _run_batch(batch, prob, answers, counters, chunk, clock)
        except OutOfTime:  # building the group's table: its targets stay open
            return
        # the group's sorted tables are built once: not a cost of each target
        searched = time.perf_counter() - start - (getattr(batch.search, "build_s", 0.0) - built)
        per_row = max(searched, 0.0) / chunk.size
        done += chunk.size
        _advance(bar, chunk.size)


def _shared_split(n: int, count: int, budget: float) -> int:
    """n_B for a shared table: balance sorting 2^n_B sums against count·2^n_A searches."""
    n_b = math.ceil((n + math.log2(max(count, 1))) / 2)
    cap = int(math.log2(max(budget / 64, 2)))
    return max(min(n_b, n, cap), min((n + 1) // 2, cap), 0)


def _shared_batch(prob: _Problem, group: int, ids: np.ndarray) -> _Batch:
    x = prob.values[group]
    e_max = int(_exponents(x).max())
    p = np.int64(_exponent(prob.n, np.int64(e_max)))
    xi, x_exact = _to_int(x, p)
    zi, z_exact = _to_int(prob.targets[ids], p)
    n_b = _shared_split(prob.n, ids.size, prob.work_bytes / 2)
    search = SharedSearch(xi, zi, n_b, prob.work_bytes / 2)
    lossy = (~(z_exact & x_exact.all())).astype(np.int64)
    return _Batch(search, ids, lossy, np.full(ids.size, _eps_bound(prob.eps, p)))


def _row_batch(prob: _Problem, ids: np.ndarray) -> _Batch:
    x = prob.values[prob.groups[ids]]
    z = prob.targets[ids]
    e_max = np.maximum(_exponents(x).max(axis=1), _exponents(z))
    p = _exponent(prob.n, e_max)
    xi, x_exact = _to_int(x, p[:, None])
    zi, z_exact = _to_int(z, p)
    lossy = (~(z_exact & x_exact.all(axis=1))).astype(np.int64)
    return _Batch(RowSearch(xi, zi), ids, lossy, _eps_bound(prob.eps, p))


def _row_batch_size(prob: _Problem) -> int:
    """Rows per batch: the batch's arrays within the work share of the memory budget."""
    n_a = row_split(prob.n)
    per_row = ROW_BYTES_FACTOR * (2**n_a + 2 ** (prob.n - n_a))
    if prob.sparsest or prob.kmax < prob.n:
        per_row *= 2
        per_row += 24 * max(math.comb(prob.n, k) * (k + 3) for k in range(prob.n + 1)
                            if math.comb(prob.n, k) <= BRUTE_MAX)
    return int(max(1, min(MAX_BATCH_ROWS, prob.work_bytes // per_row)))


def _plan(prob: _Problem) -> tuple[list[tuple[int, np.ndarray]], np.ndarray]:
    """Shared groups (with the ids of their targets inside the group's range) and the ids
    solved as rows of their own."""
    # only the groups large enough to share a table are split (np.split into a million
    # one-target groups took 4.8 s)
    in_shared = (np.bincount(prob.groups) >= SHARED_MIN_TARGETS)[prob.groups]
    rows: list[np.ndarray] = [np.flatnonzero(~in_shared)]
    big = np.flatnonzero(in_shared)
    order = big[np.argsort(prob.groups[big], kind="stable")]
    bounds = np.flatnonzero(np.diff(prob.groups[order])) + 1
    shared: list[tuple[int, np.ndarray]] = []
    for ids in np.split(order, bounds) if order.size else []:
        g = int(prob.groups[ids[0]])
        e_max = int(_exponents(prob.values[g]).max())
        fits = _exponents(prob.targets[ids]) <= e_max
        shared.append((g, ids[fits]))
        rows.append(ids[~fits])
    return shared, np.sort(np.concatenate(rows))


@contextlib.contextmanager
def _progress(enabled: bool, total: int, desc: str) -> Iterator[Any]:
    """A tqdm bar over `total` instances (None when disabled or nothing to do)."""
    if not enabled or total == 0:
        yield None
        return
    from tqdm import tqdm

    with tqdm(total=total, desc=desc, unit="instance") as bar:
        yield bar


def _advance(bar: Any, count: int) -> None:
    if bar is not None:
        bar.update(count)


def _solve_all(prob: _Problem, progress: bool, clock: Clock
               ) -> tuple[np.ndarray, np.ndarray, _Counters]:
    """Masks (B, N) and codes (B,) for every instance, single process; instances not reached
    before the clock's deadline keep code 0."""
    b = prob.targets.shape[0]
    answers = _Answers(np.zeros((b, prob.n), dtype=bool), np.zeros(b, dtype=np.int8))
    counters = _Counters()
    shared, row_ids = _plan(prob)
    start = time.perf_counter()
    with _progress(progress, sum(ids.size for _, ids in shared), "shared groups") as bar:
        for g, ids in shared:
            if ids.size and not clock.expired():
                batch = _shared_batch(prob, g, ids)
                counters.lossy += int(batch.lossy.sum())
                _run_in_chunks(batch, prob, answers, counters, clock, bar)
    counters.timed("shared", start)
    start = time.perf_counter()
    cap = _row_batch_size(prob)
    size = cap if clock.deadline is None else min(cap, FIRST_CHUNK)
    with _progress(progress, row_ids.size, "row batches") as bar:
        done, per_row = 0, 0.0
        while done < row_ids.size and not clock.expired():
            if done and clock.deadline is not None:  # batches no longer than the time left
                size = clock.fitting(min(2 * size, cap), per_row)
            ids = row_ids[done : done + size]
            t_batch = time.perf_counter()
            batch = _row_batch(prob, ids)
            counters.lossy += int(batch.lossy.sum())
            _run_batch(batch, prob, answers, counters, np.arange(ids.size), clock)
            per_row = (time.perf_counter() - t_batch) / ids.size
            done += ids.size
            _advance(bar, ids.size)
    counters.timed("rows", start)
    start = time.perf_counter()
    with _progress(progress, len(answers.exact_queue), "exact path") as bar:
        for bid, level in answers.exact_queue:
            if clock.expired():
                break
            try:
                mask = _exact_instance(prob, bid, level, counters, clock.deadline)
            except OutOfTime:
                break
            if mask is None:
                answers.code[bid] = 2
            else:
                answers.solved(np.array([bid]), mask[None, :])
            _advance(bar, 1)
    counters.timed("exact", start)
    counters.method.update(_methods(prob, shared, row_ids))
    return answers.masks, answers.code, counters


def _methods(prob: _Problem, shared: list[tuple[int, np.ndarray]],
             row_ids: np.ndarray) -> dict[str, str]:
    level = ("levels k = 0, 1, ... (C(N, k) <= "
             f"{BRUTE_MAX} enumerated, larger split by kept count)" if prob.sparsest
             else "all kept counts" if prob.kmax == prob.n
             else f"kept <= {prob.kmax}, split by kept count")
    out = {}
    if shared:
        out["shared"] = (f"{len(shared)} groups, {sum(ids.size for _, ids in shared)} targets: "
                         f"one sorted B table per group + searchsorted; {level}")
    if row_ids.size:
        out["rows"] = (f"{row_ids.size} instances: per-row sorted halves (n_A = "
                       f"{row_split(prob.n)}) built by merges, searchsorted per row; {level}")
    out["exact"] = "60-bit integer scaling, window masks compared in exact rational arithmetic"
    return out


# -- errors, parallel, public entry -----------------------------------------------------------


def _float_errors(prob: _Problem, masks: np.ndarray, solved: np.ndarray) -> np.ndarray:
    """|x·m − z| correctly rounded (math.fsum of −z and the kept values, exact rational on
    overflow) per instance, nan where unsolved: what `SubsetSumInstance.evaluate` returns."""
    out = np.full(prob.targets.shape[0], np.nan)
    step = 1 << 15
    for start in np.arange(0, prob.targets.shape[0], step):
        ids = np.flatnonzero(solved[start : start + step]) + start
        if ids.size == 0:  # a chunk of infeasible instances: nothing to sum
            continue
        addends = np.concatenate([-prob.targets[ids, None], prob.values[prob.groups[ids]]], 1)
        chosen = np.concatenate([np.ones((ids.size, 1), dtype=bool), masks[ids]], axis=1)
        flat = addends[chosen].tolist()
        ends = np.cumsum(chosen.sum(axis=1)).tolist()
        out[ids] = [abs(rounded_sum(flat[a:e])) for a, e in zip([0, *ends[:-1]], ends, strict=True)]
    return out


def _worker(args: tuple[np.ndarray, np.ndarray, np.ndarray, str, float | None, int | None,
                        float, float | None]) -> tuple[np.ndarray, np.ndarray, dict[str, Any]]:
    values, targets, groups, objective, eps, max_kept, memory, deadline = args
    time_limit = None
    if deadline is not None:  # a wall-clock deadline: the process's start-up counts
        time_limit = deadline - time.time()
        if time_limit <= 0:
            b = targets.shape[0]
            return (np.zeros((b, values.shape[1]), dtype=bool), np.zeros(b, dtype=np.int8),
                    {"exact_rechecks": 0, "exact_path_instances": 0,
                     "lossy_scaled_instances": 0, "method": {}, "phase_time_s": {}})
    res = solve_many(values, targets, groups=groups, objective=objective, eps=eps,
                     max_kept=max_kept, memory_limit_gb=memory, time_limit=time_limit)
    code = np.select([res.status == OPTIMAL, res.status == INFEASIBLE], [1, 2], 0)
    return res.masks, code.astype(np.int8), res.stats


def _worker_init(parent_pid: int) -> None:
    """A worker exits when its parent dies: after a SIGTERM of the script calling
    `solve_many(jobs=2)` both workers (and multiprocessing's resource tracker) slept on for
    good, orphans (hunt 213 M1)."""
    exit_with_parent(parent_pid, interval=0.5)


def _solve_parallel(prob: _Problem, jobs: int, clock: Clock
                    ) -> tuple[np.ndarray, np.ndarray, _Counters]:
    """Split the instances (ordered by group) into `jobs` parts solved by spawned processes,
    each until `clock`'s deadline, handed over on the wall clock (`time.time()`, which all
    processes share): a worker's start-up, about half a second, is part of the limit (handed
    the time left, workers ran 0.6 s past a 0.1 s limit; hunt 50)."""
    order = np.argsort(prob.groups, kind="stable")
    parts = [p for p in np.array_split(order, jobs) if p.size]
    tasks = []
    for ids in parts:
        used, local = np.unique(prob.groups[ids], return_inverse=True)
        tasks.append((prob.values[used], prob.targets[ids], local.astype(np.int64),
                      "sparsest" if prob.sparsest else "closest", prob.eps, prob.max_kept,
                      prob.memory_limit_gb / len(parts), None))
    b = prob.targets.shape[0]
    masks = np.zeros((b, prob.n), dtype=bool)
    code = np.zeros(b, dtype=np.int8)
    counters = _Counters()
    ctx = multiprocessing.get_context("spawn")
    with _stopped_at_once(ProcessPoolExecutor(
            max_workers=len(parts), mp_context=ctx, initializer=_worker_init,
            initargs=(os.getpid(),))) as pool:
        if clock.deadline is not None:
            deadline = time.time() + (clock.remaining() or 0.0)
            tasks = [(*t[:-1], deadline) for t in tasks]
        for ids, (m, part_code, stats) in zip(parts, pool.map(_worker, tasks), strict=True):
            masks[ids] = m
            code[ids] = part_code
            counters.exact_rechecks += stats["exact_rechecks"]
            counters.exact_path += stats["exact_path_instances"]
            counters.lossy += stats["lossy_scaled_instances"]
            counters.method.update({k: f"{v} (one of {len(parts)} workers)"
                                    for k, v in stats["method"].items()})
            for k, v in stats["phase_time_s"].items():
                counters.phase_s[k] = max(counters.phase_s.get(k, 0.0), v)
    return masks, code, counters


@contextlib.contextmanager
def _stopped_at_once(pool: ProcessPoolExecutor) -> Iterator[ProcessPoolExecutor]:
    """`pool`, shut down on leaving; on an exception (a Ctrl-C sent to this process alone)
    its workers are terminated first: the executor's own exit waited for their whole share
    (9.9 s after the signal; hunt 213 L1)."""
    try:
        yield pool
    except BaseException as exc:
        for proc in list((getattr(pool, "_processes", None) or {}).values()):
            with contextlib.suppress(Exception):
                proc.terminate()
        pool.shutdown(wait=False, cancel_futures=True)
        if isinstance(exc, BrokenProcessPool):  # said what to do (hunt 215 note)
            raise RuntimeError("a worker process of solve_many died before its share was "
                               "solved (killed by a signal, out of memory?); run again with "
                               "jobs=1 or a smaller memory_limit_gb") from exc
        raise
    pool.shutdown()


def _parallel_pays(prob: _Problem) -> bool:
    """Worker processes pay for the per-row closest search (measured 38.7 s -> 23.4 s for
    397,000 rows of N = 21 on 2 cores); shared groups and the sparsest scan finish in a few
    seconds, less than starting and feeding the workers costs."""
    if prob.sparsest:
        return False
    _, row_ids = _plan(prob)
    return row_ids.size * 2.0 ** (prob.n / 2) >= PARALLEL_MIN_WORK


def solve_many(values: Any, targets: Any, *, groups: Any = None, objective: str = "closest",
               eps: float | None = None, max_kept: int | None = None,
               memory_limit_gb: float = 2.0, jobs: int = 1, progress: bool = False,
               time_limit: float | None = None) -> BulkResult:
    """Solve B independent subset-sum instances exactly.

    values: (G, N) float64 rows, or (N,) shared by every target; targets: (B,) float64;
    groups: (B,) ints in [0, G) naming each target's row (default: all share a 1-D row, or
    row b for target b when G == B). objective "closest" (also "min_error", the name
    `solve` gives it) minimises |x·m − z| (at most max_kept kept if given); "sparsest"
    minimises the number kept subject to |x·m − z| <= eps (exactly), infeasible when no
    subset with at most max_kept values is within eps. Exact ties are broken by fewer kept
    (closest) or smaller error (sparsest), then by the lowest mask index Σ m_i·2^i.
    memory_limit_gb bounds the arrays of each batch (larger runs are batched; InputError when
    one instance or the answers alone do not fit).
    jobs > 1 splits large runs across spawned processes (scripts must then call this under
    ``if __name__ == "__main__":``; a script read from standard input, which the processes
    cannot re-run, and a call in a multiprocessing Pool's worker, which may start none, are
    solved in this process, stats["jobs_note"] saying so). progress shows
    a tqdm bar per phase (single process).
    time_limit (seconds, None = none): instances not answered when it runs out get status
    "time_limit" (the others stay exact); the clock is read between chunks of targets, sparsest
    levels and exact-path instances, so one chunk may run past it (stats["time_limit_s"]).
    Raises InputError (one line) on bad input.
    """
    start = time.perf_counter()
    limit = check_time_limit(time_limit)
    clock = Clock(limit)
    prob = _validate(values, targets, groups, objective, eps, max_kept, memory_limit_gb)
    jobs = as_number(jobs, "jobs", integer=True)
    progress = as_flag(progress, "progress")
    if jobs < 1:
        raise InputError(f"jobs must be an integer >= 1, got {jobs!r}")
    b = prob.targets.shape[0]
    # each worker gets memory_limit_gb / workers: no more workers than leave one instance's
    # search room (jobs=2 refused a run that jobs=1 solves, naming half the budget; hunt 44)
    jobs = min(jobs, max(1, int(WORK_SHARE * prob.memory_limit_gb * 2**30
                                // _one_row_bytes(prob.n))))
    parallel = jobs > 1 and b >= 2 * jobs and _parallel_pays(prob) and (
        clock.deadline is None or clock.remaining() > PARALLEL_MIN_SECONDS)
    in_process = spawn_blocker() if parallel else None  # the same answers, in this process
    if parallel and in_process is None:
        masks, code, counters = _solve_parallel(prob, jobs, clock)
        used_jobs = jobs
    else:
        masks, code, counters = _solve_all(prob, progress, clock)
        used_jobs = 1
    solved = code == 1
    t_err = time.perf_counter()
    errors = _float_errors(prob, masks, solved)
    counters.timed("errors", t_err)
    stats = {
        "wall_time_s": time.perf_counter() - start,
        "instances": b,
        "n": prob.n,
        "groups": int(prob.values.shape[0]),
        "objective": "sparsest" if prob.sparsest else "closest",
        "eps": prob.eps,
        "max_kept": prob.max_kept,
        "optimal": int(solved.sum()),
        "infeasible": int((code == 2).sum()),
        "time_limit": int((code == 0).sum()),
        "time_limit_s": limit,
        "exact_rechecks": counters.exact_rechecks,
        "exact_path_instances": counters.exact_path,
        "lossy_scaled_instances": counters.lossy,
        "jobs": used_jobs,
        **({"jobs_note": f"solved in this process: {in_process}"} if in_process else {}),
        "method": counters.method,
        "phase_time_s": counters.phase_s,
    }
    status = np.select([solved, code == 2], [OPTIMAL, INFEASIBLE], TIME_LIMIT)
    return BulkResult(masks, errors, masks.sum(axis=1).astype(np.int64), status, stats)
