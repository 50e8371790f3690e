"""Local search for neuron selection (heuristic, never certified): best-improvement swaps with
seeded kicks and random restarts.

Moves: one kept unit out, one other unit in (with repeats: one count of a kept unit moved to
any other unit, so a unit may reach a count of 2 or more). A descent evaluates every move of
the current mask and takes the best one while it improves the loss by more than a relative
1e-12 (so rounding cannot make it cycle); it stops at a swap-local optimum.

Evaluation of the moves: under the linear rules (average, keep) the residual is linear in the
mask,
R(c) = A c − f with A = `instance.columns()` (m·C, N) and f = `instance.offset()`, so for a
kept unit i the N candidate residuals R − A_i + A_j are one (N, m·C) array and their losses one
`batch_losses` call. For the squared loss the Gram matrix G = AᵀA (N, N) gives every move at
once in O(k·N): ||R − A_i + A_j||² = ||R||² − 2r_i + G_ii + 2(r_j − G_ij) + G_jj with r = AᵀR;
the chosen move is re-checked on its residual (cancellation), and when the re-check shows no
improvement the step falls back to the direct evaluation, unless the identity minus a
worst-case rounding margin already shows that no move improves (the usual end of a descent).
Up to MAX_GRAM_UNITS units (G takes N² floats). Under refit the moved masks go
through `instance.errors` (one least-squares fit each: slow, but exact for the rule).

Search: round 0 descends from the warm start, else from greedy forward selection's mask (the
magnitude heuristic's when the time limit stops greedy); each
of the `kicks` kicks applies `kick_size` seeded random swaps to the round's best mask and
descends again, keeping the result when it is better; rounds 1..`restarts` do the same from a
seeded random mask. The best local optimum by `instance.evaluate` is returned (never worse than
the start). The time limit is checked before every kept unit's moves.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from exactprune.instances.network import UNIT_ROUNDOFF
from exactprune.instances.neuron_selection.instance import batch_losses
from exactprune.solvers.clock import Clock, passed
from exactprune.solvers.neuron_selection.heuristics import (
    greedy_cut_short,
    greedy_forward_within,
)
from exactprune.solvers.result import Goal, Limit, RawSolution, SolveOptions, Status

RESTARTS = 2
KICKS = 5
KICK_SIZE = 2
MAX_GRAM_UNITS = 1024
"""The Gram shortcut (squared loss) is used up to this many units."""
REL_IMPROVEMENT = 1e-12
"""A move must lower the batch loss by more than this fraction of it."""


REFIT_CHUNK = 16
"""Swap moves evaluated at once under the refit rule (each one a least-squares fit)."""


class _TimeUp(Exception):
    """The deadline passed during a descent (carries nothing: the caller keeps its best)."""


class _Moves:
    """Batch losses of the swap neighbours of a count vector (see the module docstring)."""

    def __init__(self, instance: Any, deadline: float | None) -> None:
        self.inst = instance
        self.deadline = deadline
        self.linear = instance.linear_rule
        self.uses_gram = (self.linear and instance.loss == "squared"
                          and instance.n <= MAX_GRAM_UNITS)
        self._gram: np.ndarray | None = None
        if self.linear:
            self.AT = np.ascontiguousarray(instance.columns().T)  # (N, m·C)
            self.f = instance.offset()  # (m·C,)

    @property
    def gram(self) -> np.ndarray:
        """A^T A (N, N), built at its first use after a clock check: at N = 1000 and
        m·C = 6000 it takes about 0.3 s, which a short limit must not wait for up front."""
        if self._gram is None:
            self.check_time()
            self._gram = self.AT @ self.AT.T
        return self._gram

    @property
    def columns(self) -> np.ndarray | None:
        """A (m·C, N) as `instance.columns()` gives it (a view; linear rule), else None."""
        return self.AT.T if self.linear else None

    def loss(self, counts: np.ndarray) -> float:
        """Batch loss of one count vector (N,) (the same numpy sums as the moves)."""
        return float(self.inst.errors(counts[None, :].astype(np.float64), self.columns)[0])

    def out_losses(self, counts: np.ndarray, R: np.ndarray | None, i: int,
                   js: np.ndarray) -> np.ndarray:
        """Losses (len(js),) of counts − e_i + e_j for every j in js; R = A c − f (linear)."""
        if self.linear:
            assert R is not None
            return batch_losses((R - self.AT[i])[None, :] + self.AT[js], self.inst.loss)
        M = np.repeat(counts[None, :].astype(np.float64), len(js), axis=0)
        M[:, i] -= 1.0
        M[np.arange(len(js)), js] += 1.0
        # one least-squares fit per move (refit rule): in chunks, the clock read between
        # them (a whole batch ran 0.97 s on a 0.2 s limit; hunt 21)
        out = np.empty(len(js))
        for at in range(0, len(js), REFIT_CHUNK):
            if at:
                self.check_time()
            out[at:at + REFIT_CHUNK] = self.inst.errors(M[at:at + REFIT_CHUNK])
        return out

    def check_time(self) -> None:
        if passed(self.deadline):
            raise _TimeUp


def _allowed(counts: np.ndarray, repeats: bool) -> np.ndarray:
    """(N, N) bool: the swap i -> j exists (i kept, j != i, j not kept without repeats)."""
    ok = (counts > 0)[:, None] & ~np.eye(counts.shape[0], dtype=bool)
    return ok if repeats else ok & (counts == 0)[None, :]


def _gram_move(moves: _Moves, counts: np.ndarray, repeats: bool, R: np.ndarray, cur: float
               ) -> tuple[tuple[float, int, int] | None, bool]:
    """The best swap by the Gram identity (squared loss), its loss re-computed on the moved
    residual (None when no swap exists), and whether the identity proves, with a worst-case
    rounding margin, that no swap lowers the loss below `cur` by the required margin."""
    moves.check_time()
    G, r = moves.gram, moves.AT @ R
    d = np.diag(G)
    total = (float(R @ R) - 2 * r + d)[:, None] + 2 * (r[None, :] - G) + d[None, :]
    total = np.where(_allowed(counts, repeats), total, np.inf)
    flat = int(np.argmin(total))  # row-major: lowest out unit, then lowest in unit
    if not np.isfinite(total.flat[flat]):
        return None, True
    i, j = divmod(flat, counts.shape[0])
    moved = (R - moves.AT[i] + moves.AT[j])[None, :]
    pick = (float(batch_losses(moved, moves.inst.loss)[0]), i, j)
    size = R.shape[0]
    norm = np.sqrt(d)
    margin = 4 * (size + 8) * UNIT_ROUNDOFF * (float(np.sqrt(R @ R)) + norm[:, None]
                                               + norm[None, :]) ** 2
    needed = (cur - REL_IMPROVEMENT * abs(cur)) * size
    return pick, bool(np.min(total - margin) >= needed)


def _best_move(moves: _Moves, counts: np.ndarray, repeats: bool, cur: float = np.inf
               ) -> tuple[float, int, int] | None:
    """(loss, out unit, in unit) of the best swap, or None when no swap exists. Ties go to the
    lowest out unit, then the lowest in unit. With a Gram matrix its pick is taken when it
    improves on `cur` or no swap can; else every move is evaluated directly."""
    n = counts.shape[0]
    R = (moves.AT.T @ counts.astype(np.float64) - moves.f) if moves.linear else None
    if moves.uses_gram and R is not None:
        pick, settled = _gram_move(moves, counts, repeats, R, cur)
        if pick is None or settled or pick[0] < cur - REL_IMPROVEMENT * abs(cur):
            return pick
    ins_all = np.arange(n) if repeats else np.flatnonzero(counts == 0)
    best: tuple[float, int, int] | None = None
    for i in np.flatnonzero(counts > 0):
        moves.check_time()
        js = ins_all[ins_all != i]
        if js.size == 0:
            continue
        losses = moves.out_losses(counts, R, int(i), js)
        j = int(np.argmin(losses))
        if best is None or losses[j] < best[0]:
            best = (float(losses[j]), int(i), int(js[j]))
    return best


def descend(moves: _Moves, counts: np.ndarray, repeats: bool) -> tuple[np.ndarray, int]:
    """Best-improvement swaps from `counts` (N,) int64 until none improves: (counts, moves
    taken). Raises _TimeUp at the deadline."""
    counts = counts.copy()
    cur = moves.loss(counts)
    taken = 0
    while True:
        best = _best_move(moves, counts, repeats, cur)
        if best is None or not best[0] < cur - REL_IMPROVEMENT * abs(cur):
            return counts, taken
        cur, i, j = best
        counts[i] -= 1
        counts[j] += 1
        taken += 1


def kick(counts: np.ndarray, size: int, repeats: bool, rng: np.random.Generator) -> np.ndarray:
    """`size` seeded random swaps of `counts` (N,) int64 (a copy; skipped where none exists),
    at most k·N of them: more only redraw the mask again (kick_size = 1e6 made a 1 s solve
    take 15 s, as the time limit is checked between kicks)."""
    counts = counts.copy()
    n = counts.shape[0]
    for _ in range(min(size, int(counts.sum()) * n)):
        outs = np.flatnonzero(counts > 0)
        i = int(rng.choice(outs))
        ins = np.arange(n) if repeats else np.flatnonzero(counts == 0)
        ins = ins[ins != i]
        if ins.size == 0:
            break
        j = int(rng.choice(ins))
        counts[i] -= 1
        counts[j] += 1
    return counts


def random_counts(n: int, k: int, repeats: bool, rng: np.random.Generator) -> np.ndarray:
    """A seeded random mask as int64 counts (N,): k distinct units, or k draws with replacement."""
    idx = rng.integers(0, n, size=k) if repeats else rng.permutation(n)[:k]
    return np.bincount(idx, minlength=n).astype(np.int64)


class _Best:
    """The best mask so far by `instance.evaluate`."""

    def __init__(self, instance: Any, counts: np.ndarray) -> None:
        self.inst = instance
        self.counts = counts.copy()
        self.value = instance.evaluate(instance.check_mask(counts))
        self.start_value = self.value

    def offer(self, counts: np.ndarray) -> bool:
        value = self.inst.evaluate(self.inst.check_mask(counts))
        if value < self.value:
            self.counts, self.value = counts.copy(), value
            return True
        return False


def _start(instance: Any, opts: SolveOptions, moves: _Moves) -> tuple[np.ndarray, str]:
    """The first mask as int64 counts (N,) and where it came from: the warm start, or greedy
    forward selection (stopped by the deadline: its units so far, the rest by magnitude)."""
    if opts.warm_start is not None:
        return np.asarray(instance.check_mask(opts.warm_start), dtype=np.int64), "warm start"
    mask, steps = greedy_forward_within(instance, moves.deadline, columns=moves.columns)
    if steps < instance.k:
        return np.asarray(mask, dtype=np.int64), greedy_cut_short(steps, instance.k)
    return np.asarray(mask, dtype=np.int64), "greedy_forward_selection"


def _round(moves: _Moves, best: _Best, base: np.ndarray, kicks: int, kick_size: int,
           rng: np.random.Generator, stats: dict[str, int]) -> None:
    """One descent from `base`, then `kicks` kicked descents from the round's best."""
    repeats = bool(moves.inst.repeats)
    here, taken = descend(moves, base, repeats)
    stats["descents"] += 1
    stats["moves"] += taken
    best.offer(here)
    here_value = moves.inst.evaluate(moves.inst.check_mask(here))
    for _ in range(kicks):
        trial, taken = descend(moves, kick(here, kick_size, repeats, rng), repeats)
        stats["descents"] += 1
        stats["moves"] += taken
        best.offer(trial)
        value = moves.inst.evaluate(moves.inst.check_mask(trial))
        if value < here_value:
            here, here_value = trial, value


def run_local_search(instance: Any, goal: Goal, opts: SolveOptions) -> RawSolution:
    """Swap local search with kicks and restarts (options restarts, kicks, kick_size)."""
    clock = Clock(opts.time_limit)
    restarts = int(opts.extra.get("restarts", RESTARTS))
    kicks = int(opts.extra.get("kicks", KICKS))
    kick_size = int(opts.extra.get("kick_size", KICK_SIZE))
    rng = np.random.default_rng(opts.seed)
    moves = _Moves(instance, clock.deadline)
    start, origin = _start(instance, opts, moves)
    best = _Best(instance, start)
    stats = {"descents": 0, "moves": 0, "rounds": 0}
    limit = Limit.NONE
    try:
        for r in range(restarts + 1):
            base = start if r == 0 else random_counts(instance.n, instance.k,
                                                      instance.repeats, rng)
            _round(moves, best, base, kicks, kick_size, rng, stats)
            stats["rounds"] += 1
    except _TimeUp:
        limit = Limit.TIME
    status = Status.TIME_LIMIT if limit is Limit.TIME else Status.FEASIBLE
    note = (f"local search from {origin} (loss {best.start_value:.6g}): {stats['moves']} swaps "
            f"in {stats['descents']} descents, {stats['rounds']} of {restarts + 1} rounds "
            f"(kicks {kicks} of size {kick_size})")
    if limit is Limit.TIME:
        note += "; stopped by the time limit"
    return RawSolution(status, mask=instance.check_mask(best.counts), limit=limit,
                       stats={**stats, "start": origin, "start_loss": best.start_value},
                       notes=[note])
