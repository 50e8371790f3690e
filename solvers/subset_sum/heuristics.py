"""Subset-sum heuristics behind the same interface as the exact solvers (never certified).

greedy: repeatedly add the value that most reduces the error, until none does.
local_search: from random starts, best-improvement moves (flip one value, or swap a kept
  value for an unkept one) until a local optimum; restarts until the time or restart budget.
random: the best of many uniformly random masks.
core_search: large-neighbourhood search whose neighbourhood is solved exactly: keep the
  incumbent on all values but a random core of `core`, and replace its choice on the core by
  mitm's exact optimum for the remaining target. Each round can only improve the incumbent, and
  above mitm's n <= 62 its masks are far better than the MILP engines' (their optima are about
  2^-core of the range, not 2^-n).
All respect max_kept and are seeded (options.seed).
"""

from __future__ import annotations

import dataclasses
import math
import time
from collections.abc import Callable
from fractions import Fraction
from typing import NamedTuple

import numpy as np

from exactprune.instances.errors import InputError
from exactprune.instances.scaling import rounded_sum
from exactprune.instances.subset_sum import SubsetSumInstance
from exactprune.solvers.clock import Clock, passed
from exactprune.solvers.result import Goal, Objective, RawSolution, SolveOptions, Status

_QUIET_FLOATS = np.errstate(over="ignore", invalid="ignore", under="ignore")
"""The searches rank moves in float sums of `ranking_values` (scaled, so they cannot overflow;
values far below the largest may underflow there, which only blurs the ranking): the reported
error is the instance's own exact evaluation of the mask."""


def ranking_values(instance: SubsetSumInstance) -> tuple[np.ndarray, float]:
    """The values and target divided by a power of two at least max |x|, |z| (exact, unless
    the quotient underflows): sums of n of them stay within n in magnitude. Unscaled, values
    near 1e308 summed to inf and then NaN, and the descent never stopped."""
    top = max(float(np.max(np.abs(instance.values), initial=0.0)), abs(instance.target))
    exponent = math.frexp(top)[1] if top > 0 else 0
    return np.ldexp(instance.values, -exponent), math.ldexp(instance.target, -exponent)


def kept_budget(instance: SubsetSumInstance, goal: Goal) -> int:
    """How many values a mask may keep: max_kept, at most n."""
    return instance.n if goal.max_kept is None else min(goal.max_kept, instance.n)


def greedy_mask(x: np.ndarray, z: float, budget: int,
                deadline: float | None = None) -> np.ndarray:
    """Forward selection: add the value that most reduces |s − z| while it improves (and
    until `deadline`, a time.perf_counter() value)."""
    return _greedy(x, z, budget, deadline)[0]


def _greedy(x: np.ndarray, z: float, budget: int,
            deadline: float | None) -> tuple[np.ndarray, bool]:
    """greedy_mask's search, and whether it ended by itself (budget full, or no value
    improves) rather than because the deadline passed while a value still improved."""
    mask = np.zeros(len(x), dtype=bool)
    s = 0.0
    while mask.sum() < budget:
        cand = np.where(mask, np.inf, np.abs(s + x - z))
        i = int(np.argmin(cand))
        if not cand[i] < abs(s - z):
            return mask, True
        if passed(deadline):
            return mask, False
        mask[i] = True
        s += float(x[i])
    return mask, True


GREEDY_CHUNK = 65_536
"""Instances per vectorised step of `greedy_masks` (its arrays: a few (chunk, N) float64)."""


@_QUIET_FLOATS
def greedy_masks(rows: np.ndarray, targets: np.ndarray) -> np.ndarray:
    """`greedy_mask` (no budget) on many instances at once: rows (B, N) float64, targets (B,);
    returns (B, N) bool, the mask greedy_mask gives each instance after `ranking_values`'
    scaling (each row and its target divided by one power of two: exact, and no sum
    overflows). What the bulk ticket gives the weights a time limit left unanswered."""
    rows = np.asarray(rows, dtype=float)
    targets = np.asarray(targets, dtype=float)
    b, n = rows.shape
    out = np.zeros((b, n), dtype=bool)
    for lo in range(0, b, GREEDY_CHUNK):
        hi = min(lo + GREEDY_CHUNK, b)
        top = np.maximum(np.max(np.abs(rows[lo:hi]), axis=1, initial=0.0),
                         np.abs(targets[lo:hi]))
        exponent = np.where(top > 0, np.frexp(top)[1], 0)
        x = np.ldexp(rows[lo:hi], -exponent[:, None])
        z = np.ldexp(targets[lo:hi], -exponent)
        mask = out[lo:hi]
        s = np.zeros(hi - lo)
        active = np.arange(hi - lo)
        while active.size:
            cand = np.where(mask[active], np.inf,
                            np.abs(s[active, None] + x[active] - z[active, None]))
            i = np.argmin(cand, axis=1)
            better = cand[np.arange(active.size), i] < np.abs(s[active] - z[active])
            active, i = active[better], i[better]
            mask[active, i] = True
            s[active] += x[active, i]
    return out


@_QUIET_FLOATS
def greedy_incumbent(instance: SubsetSumInstance, goal: Goal) -> np.ndarray:
    """The greedy mask (within max_kept): what an exact engine stopped before it found any
    mask returns, rather than none (it costs O(n^2) float operations)."""
    x, z = ranking_values(instance)
    return greedy_mask(x, z, kept_budget(instance, goal))


@_QUIET_FLOATS
def run_greedy(instance: SubsetSumInstance, goal: Goal, opts: SolveOptions) -> RawSolution:
    x, z = ranking_values(instance)
    budget = kept_budget(instance, goal)
    mask, finished = _greedy(x, z, budget, Clock(opts.time_limit).deadline)
    notes = ["heuristic: greedy forward selection"]
    if finished:
        return RawSolution(Status.FEASIBLE, mask=mask, notes=notes)
    notes.append("time limit reached: stopped before its natural end")
    return RawSolution(Status.TIME_LIMIT, mask=mask, notes=notes)


def descend(x: np.ndarray, z: float, mask: np.ndarray, budget: int,
            deadline: float | None = None) -> tuple[np.ndarray, bool]:
    """Best-improvement local search with flip and swap moves, to a local optimum (or until
    `deadline`, a time.perf_counter() value); returns the mask and whether it is a local
    optimum (False: the deadline cut the descent)."""
    mask = mask.copy()
    s = float(x[mask].sum())
    while not passed(deadline):
        cur = abs(s - z)
        kept = int(mask.sum())
        delta = np.where(mask, -x, x)
        flip_err = np.abs(s + delta - z)
        if kept >= budget:
            flip_err = np.where(mask, flip_err, np.inf)  # only removals allowed
        i_flip = int(np.argmin(flip_err))
        best_flip = float(flip_err[i_flip])
        best_swap, i_out, i_in = _best_swap(x, z, s, mask)
        if min(best_flip, best_swap) >= cur:
            return mask, True
        if best_flip <= best_swap:
            mask[i_flip] = ~mask[i_flip]
            s += float(delta[i_flip])
        else:
            mask[i_out], mask[i_in] = False, True
            s += float(x[i_in] - x[i_out])
    return mask, False


def _best_swap(x: np.ndarray, z: float, s: float, mask: np.ndarray) -> tuple[float, int, int]:
    """The swap (one kept value out, one unkept in) whose error |s − x_out + x_in − z| is
    least: (error, i_out, i_in), (inf, -1, -1) when there is none.

    The signed error ((s − x_out) + x_in) − z, rounded as the error is, never decreases as
    x_in grows (rounding is monotone), so for each kept value the least error sits next to
    its sign change in the sorted unkept values: found by a binary search of every kept value
    at once, and the two values beside it evaluated. O(n log n) time and O(n) memory per
    step; the whole (kept x unkept) matrix took 7 GB at n = 60,000 and ran 5 s past a 0.5 s
    limit at n = 20,000 (hunt 71 H1)."""
    out_idx = np.flatnonzero(mask)
    in_idx = np.flatnonzero(~mask)
    if not (len(out_idx) and len(in_idx)):
        return math.inf, -1, -1
    order = in_idx[np.argsort(x[in_idx], kind="stable")]
    xs = x[order]
    base = s - x[out_idx]
    lo = np.zeros(len(out_idx), dtype=np.int64)  # first sorted position with error >= 0
    hi = np.full(len(out_idx), len(xs), dtype=np.int64)
    while True:
        open_ = np.flatnonzero(lo < hi)
        if not len(open_):
            break
        mid = (lo[open_] + hi[open_]) // 2
        up = base[open_] + xs[mid] - z >= 0
        hi[open_[up]] = mid[up]
        lo[open_[~up]] = mid[~up] + 1
    cand = np.clip(lo[:, None] + np.array([-1, 0])[None, :], 0, len(xs) - 1)
    err = np.abs(base[:, None] + xs[cand] - z)
    k = int(np.argmin(err))
    row, col = divmod(k, 2)
    return float(err[row, col]), int(out_idx[row]), int(order[cand[row, col]])


def _random_mask(rng: np.random.Generator, n: int, budget: int) -> np.ndarray:
    mask = rng.random(n) < 0.5
    if mask.sum() > budget:
        keep = rng.choice(np.flatnonzero(mask), size=budget, replace=False)
        mask[:] = False
        mask[keep] = True
    return mask


@_QUIET_FLOATS
def run_local_search(instance: SubsetSumInstance, goal: Goal, opts: SolveOptions) -> RawSolution:
    """extra options: restarts (default 50)."""
    x, z = ranking_values(instance)
    budget = kept_budget(instance, goal)
    rng = np.random.default_rng(opts.seed)
    restarts = int(opts.extra.get("restarts", 50))
    clock = Clock(opts.time_limit)
    starts = [greedy_mask(x, z, budget, clock.deadline)]
    warm, stats = fitting_warm_start(budget, opts)
    if warm is not None:
        starts.append(warm.copy())
    # the starts compete before any descent: a limit that ends first still returns the best
    # of them (an accepted warm start was dropped for the greedy mask, 270,000x worse)
    best = min(starts, key=instance.exact_error)
    best_err, done, cut = abs(float(x[best].sum()) - z), 0, False
    planned = restarts + len(starts)
    for r in range(planned):
        if r and clock.expired():
            cut = True
            break
        start = starts[r] if r < len(starts) else _random_mask(rng, len(x), budget)
        mask, finished = descend(x, z, start, budget, clock.deadline)
        cut = cut or not finished
        err = abs(float(x[mask].sum()) - z)
        done += 1
        if err < best_err:
            best, best_err = mask, err
    notes = [f"heuristic: local search, {done} descents (flip and swap)"]
    if stats.get("warm_start") == "rejected":
        notes.append("warm start rejected: it keeps more than max_kept")
    if cut:
        notes.append(f"time limit reached: {done} of {planned} descents run")
    return RawSolution(Status.TIME_LIMIT if cut else Status.FEASIBLE, mask=best, notes=notes,
                       stats={"descents": done, **stats})


def fitting_warm_start(budget: int, opts: SolveOptions
                        ) -> tuple[np.ndarray | None, dict[str, object]]:
    """The warm start if it keeps at most `budget` values (else None), and the stats verdict
    (`warm_start`: accepted | rejected; nothing without a warm start)."""
    if opts.warm_start is None:
        return None, {}
    fits = int(opts.warm_start.sum()) <= budget
    return (opts.warm_start if fits else None), {"warm_start": "accepted" if fits else "rejected"}


@_QUIET_FLOATS
def run_random(instance: SubsetSumInstance, goal: Goal, opts: SolveOptions) -> RawSolution:
    """extra options: samples (default 10000)."""
    x, z = instance.values, instance.target
    budget = kept_budget(instance, goal)
    rng = np.random.default_rng(opts.seed)
    # masks over max_kept are redrawn from a stream of their own: drawn from `rng` between
    # blocks, they made the masks depend on where blocks end, and so on the clock (hunt 45 F2)
    redraw = np.random.default_rng(np.random.SeedSequence(opts.seed).spawn(1)[0])
    samples = int(opts.extra.get("samples", 10_000))
    clock = Clock(opts.time_limit)
    best, best_err, done = np.zeros(len(x), dtype=bool), abs(z), 0
    most = max(1, min(samples, (1 << 22) // max(1, len(x))))
    # blocks that grow as the time left allows: the first of 2^22 / n masks ran whatever the
    # limit (0.01 s took 0.2 s at n = 3000, over 1 s on lossy data; hunt 42)
    block = min(16, most)
    while done < samples:
        if done and clock.expired():
            break
        started = time.perf_counter()
        masks = rng.random((min(block, samples - done), len(x))) < 0.5
        if budget < len(x):
            for row in np.flatnonzero(masks.sum(axis=1) > budget):
                masks[row] = _random_mask(redraw, len(x), budget)
        err = instance.errors(masks)
        k = int(np.argmin(err))
        if err[k] < best_err:
            best, best_err = masks[k], float(err[k])
        done += masks.shape[0]
        block = clock.fitting(min(2 * block, most),
                              (time.perf_counter() - started) / masks.shape[0])
    notes = [f"heuristic: best of {done} random masks"]
    if done < samples:
        notes.append("time limit reached: stopped early")
    return RawSolution(Status.TIME_LIMIT if done < samples else Status.FEASIBLE, mask=best,
                       notes=notes, stats={"samples": done})


CORE_SIZE = 40
"""Values re-optimised exactly per core_search round: mitm over 2^20 half-sums, about 0.3 s."""
CORE_ROUNDS = 20
"""core_search rounds without a time limit (with one it runs until the limit)."""
MIN_ROUND_SECONDS = 1e-3
"""The least time a core_search round, or the engine after its start, is handed (a time limit
must be positive; mitm and the engines then stop at once with what they have)."""
FIRST_CORE = 30
"""Under a time limit (rounds until it ends) the first core_search round re-optimises this many
values (a few milliseconds: 2^15 half-sums, enough for its time to project the next round's),
and each next one as many as `_next_core` projects to fit. With every round at 40 values a
limit shorter than one round returned the greedy mask after overrunning; from 24 values, the
projection (its time mostly fixed costs) kept later rounds below 40 where 40 fitted
(docs/benchmarks/subset-sum-core-ramp.md)."""


def _next_core(size: int, seconds: float, left: float, core: int) -> int:
    """The next round's core under a time limit: the most values, at most `core` and never
    fewer than the last round's `size`, whose round projects to fit in the time `left` from the
    last one (`size` values in `seconds`), two more values doubling the half-sums (and the
    time) a round enumerates; the last round's fixed costs make the projection err on the long
    side."""
    steps = math.floor(2 * math.log2(max(left, 1e-9) / max(seconds, 1e-6)))
    return max(size, min(core, size + steps))


class CoreSearch(NamedTuple):
    """What `core_search` found: the best mask, the rounds run, whether the clock cut the
    search short, the smallest and largest core a round re-optimised, and the rounds skipped
    (their remaining target beyond float64)."""

    mask: np.ndarray
    rounds: int
    cut: bool
    cores: tuple[int, int]
    skipped: int = 0

    def cores_text(self) -> str:
        """The cores' size in words: "40 values" or "30 to 40 values", and the rounds skipped
        (their remaining target beyond float64: said on every path; hunt 205 L2)."""
        low, high = self.cores
        text = f"{high} values" if low == high else f"{low} to {high} values"
        if self.skipped:
            text += (f"; {self.skipped} more round{'s' * (self.skipped != 1)} skipped: the "
                     "target left for the core exceeds float64")
        return text


def core_search(instance: SubsetSumInstance, goal: Goal, clock: Clock, seed: int,
                core: int = CORE_SIZE, rounds: int | None = CORE_ROUNDS,
                start: np.ndarray | None = None, ramp: bool = True) -> CoreSearch:
    """The best mask of a core_search from `start` (default: the greedy mask), the number of
    rounds run, whether the clock cut the search short (a round's mitm stopped by it, or
    rounds left to run) and the cores' sizes. `rounds` None runs until the clock expires (it
    then needs a limit), its cores growing from FIRST_CORE to `core` as the time left allows
    (`ramp` False: every core of `core` values, as before 2026-12-07, for benchmarks)."""
    from exactprune.solvers.subset_sum import mitm  # mitm's search is the neighbourhood solver

    n = instance.n
    budget = kept_budget(instance, goal)
    x, z = ranking_values(instance)
    best = greedy_mask(x, z, budget, clock.deadline) if start is None else start.copy()
    best_err = instance.exact_error(best)
    rng = np.random.default_rng(seed)
    if core >= n:
        core, rounds = n, 1  # one round is mitm over every value: nothing left to improve
    ramp = ramp and rounds is None and clock.remaining() is not None
    size = min(core, FIRST_CORE) if ramp else core
    used: list[int] = []
    done = tried = skipped = 0  # rounds solved, tried, and skipped (their target beyond
    cut = False  # float64: they counted as solved in the notes; hunts 196, 202)
    floor = instance.error_floor  # no mask errs less: nothing left to improve there
    while ((rounds is None or tried < rounds) and not (tried and clock.expired())
           and best_err > floor):
        tried += 1
        began = time.perf_counter()
        idx = np.sort(rng.choice(n, size=size, replace=False))
        rest = np.ones(n, dtype=bool)
        rest[idx] = False
        # the remaining target, correctly rounded (a Fraction sum of every fixed value was
        # most of a round at n = 300,000: hunt 71 M1); beyond float64 the round is skipped
        remaining = rounded_sum([instance.target, *(-instance.values[best & rest]).tolist()])
        room = budget - int(np.count_nonzero(best & rest))
        try:
            sub = SubsetSumInstance(values=instance.values[idx], target=remaining)
        except InputError:
            skipped += 1
            continue
        used.append(size)
        sub_goal = Goal(max_kept=room if room < size else None)
        left = clock.remaining()  # the first round runs even on an expired clock
        raw = mitm.run_mitm(sub, sub_goal, SolveOptions(
            time_limit=None if left is None else max(left, MIN_ROUND_SECONDS), seed=seed))
        done += 1
        cut = raw.status is Status.TIME_LIMIT
        if raw.mask is None:
            break  # out of time inside the round
        cand = best.copy()
        cand[idx] = raw.mask
        err = instance.exact_error(cand)
        if err < best_err:
            best, best_err = cand, err
        if cut:
            break
        left = clock.remaining()
        if ramp and left is not None:  # the next core: the largest that fits
            size = _next_core(size, time.perf_counter() - began, left, core)
    cut = cut or (best_err > floor and clock.expired() and (rounds is None or tried < rounds))
    return CoreSearch(best, done, cut, (min(used), max(used)) if used else (size, size),
                      skipped)


@_QUIET_FLOATS
def run_core_search(instance: SubsetSumInstance, goal: Goal,
                    opts: SolveOptions) -> RawSolution:
    """extra options: core (default 40), rounds (default 20 without a time limit; with one,
    rounds until the limit unless set)."""
    core = int(opts.extra.get("core", CORE_SIZE))
    rounds = opts.extra.get("rounds")
    if rounds is None and opts.time_limit is None:
        rounds = CORE_ROUNDS
    start, stats = fitting_warm_start(kept_budget(instance, goal), opts)
    clock = Clock(opts.time_limit)
    planned = None if rounds is None else int(rounds)
    found = core_search(instance, goal, clock, opts.seed, core, planned, start)
    mask, done, cut = found.mask, found.rounds, found.cut
    notes = [f"heuristic: {done} rounds of an exact mitm over a random core of "
             f"{found.cores_text()}; the incumbent fixed on the others"]
    if stats.get("warm_start") == "rejected":
        notes.append("warm start rejected: it keeps more than max_kept")
    return RawSolution(Status.TIME_LIMIT if cut else Status.FEASIBLE, mask=mask, notes=notes,
                       stats={"rounds": done, **stats})


CORE_START_SHARE = 0.5
"""Share of the time limit the exact engines' core_search start takes above mitm's limit. With
a quarter (10 s, n = 63, 80, 100, 3 seeds each) SCIP and CP-SAT never improved the start in the
rest of the time, and core_search alone did better: docs/benchmarks/subset-sum-large-n.md."""


def wants_core_start(instance: SubsetSumInstance, goal: Goal) -> bool:
    """Above mitm's n <= 62 no method certifies optima of these sizes, and the MILP and CP-SAT
    engines' own incumbents are poor (n = 63, 4 s: SCIP 2.7e-6, CP-SAT 6.3e-7, core_search
    1.7e-13), so without a warm start they start from core_search."""
    from exactprune.solvers.subset_sum import mitm

    return goal.objective is not Objective.SPARSEST and instance.n > mitm.MAX_N


def with_core_start(instance: SubsetSumInstance, goal: Goal, opts: SolveOptions
                    ) -> tuple[SolveOptions, Callable[[RawSolution], RawSolution]]:
    """The exact engines' options with a core_search warm start when `wants_core_start` (run
    for CORE_START_SHARE of the time limit, which is shortened by the time it took; CORE_ROUNDS
    rounds without a limit), and a function that records it in the engine's result. A warm
    start over max_kept is rejected, and core_search runs as without one (it ran no start at
    all: 1.9e-6 against 1.2e-8 at n = 80, hunt 192 L2)."""
    fitting, _ = fitting_warm_start(kept_budget(instance, goal), opts)
    rejected = opts.warm_start is not None and fitting is None
    if fitting is not None or not wants_core_start(instance, goal):
        return opts, lambda raw: raw
    t0 = time.perf_counter()
    limit = None if opts.time_limit is None else CORE_START_SHARE * opts.time_limit
    found = core_search(instance, goal, Clock(limit), opts.seed,
                        rounds=CORE_ROUNDS if limit is None else None)
    mask = found.mask
    left = None if opts.time_limit is None else max(
        MIN_ROUND_SECONDS, opts.time_limit - (time.perf_counter() - t0))
    note = (f"warm start from core_search ({found.rounds} rounds, mitm over random cores of "
            f"{found.cores_text()}): mitm itself handles n <= 62 only")

    def record(raw: RawSolution) -> RawSolution:
        raw.notes.insert(0, note)
        if rejected:
            raw.notes.insert(0, "warm start rejected: it keeps more than max_kept")
            raw.stats["warm_start"] = "rejected"
        raw.stats["warm_start_source"] = "core_search"
        return raw

    return dataclasses.replace(opts, warm_start=mask, time_limit=left), record


def start_at_floor(instance: SubsetSumInstance, goal: Goal,
                   opts: SolveOptions) -> RawSolution | None:
    """The exact engines' answer without a search when their start (core_search's, or the
    user's) already attains `error_floor` within the budget: no mask errs less, and `solve`
    certifies it as such. SCIP and HiGHS, whose tolerances cannot prove such an optimum
    (2^-21 on values k/2^20), searched the rest of the limit, and without one forever."""
    start, _ = fitting_warm_start(kept_budget(instance, goal), opts)
    if (start is None or goal.objective is Objective.SPARSEST
            or instance.exact_error(start) != instance.error_floor):
        return None
    return RawSolution(Status.FEASIBLE, mask=np.asarray(start, dtype=bool).copy(),
                       notes=["the start's error is the least any mask can have (see below): "
                              "the engine was not run"], stats={"warm_start": "accepted"})


def no_worse_than_start(instance: SubsetSumInstance, goal: Goal, opts: SolveOptions,
                        raw: RawSolution, engine: str) -> RawSolution:
    """The engine's answer, or the start it was given where that is better and within the goal,
    uncertified, with a note; the bound stands (it bounds the optimum, whichever mask is
    returned). CP-SAT on a lossy scaling left the hint for masks of scaled error 0 whose exact
    errors are far worse (values 2^0..2^69, scale 2^-11: 947.5 beside a start of 1/2), and a
    sparsest goal ended with no mask beside a start within eps (hunt 192 M1, M2); mitm cut by
    its time limit returned a mask far worse than the start (hunt 196 L2)."""
    start, _ = fitting_warm_start(kept_budget(instance, goal), opts)
    if raw.certified or start is None:
        return raw
    start = np.asarray(start, dtype=bool)
    exact = instance.exact_error(start)
    if goal.objective is Objective.SPARSEST:
        if exact > Fraction(goal.eps):
            return raw
        better = (raw.mask is None or instance.exact_error(raw.mask) > Fraction(goal.eps)
                  or instance.kept(start) < instance.kept(raw.mask))
    else:
        better = raw.mask is None or exact < instance.exact_error(raw.mask)
    if not better:
        return raw
    theirs = ("no mask" if raw.mask is None else
              f"{instance.kept(raw.mask)} kept" if goal.objective is Objective.SPARSEST else
              f"error {float(instance.exact_error(raw.mask))!r}")
    mine = (f"{instance.kept(start)} kept" if goal.objective is Objective.SPARSEST
            else f"error {float(exact)!r}")
    status = Status.FEASIBLE if raw.status in (Status.ERROR, Status.INFEASIBLE) else raw.status
    return dataclasses.replace(
        raw, status=status, mask=start.copy(), certified=False, tolerance=None,
        notes=[*raw.notes, f"the start ({mine}) is better than {engine}'s answer ({theirs}): "
                           "returned instead"])
