"""Wall-clock budgets of the solvers, on `time.perf_counter()`.

Every backend turns `SolveOptions.time_limit` (seconds; None = no limit) into one `Clock` at the
start of its solve; helpers handed a raw deadline (a perf_counter value, as the public
`greedy_forward` and `greedy_mask` take) test it with `passed`.
"""

from __future__ import annotations

import time


def passed(deadline: float | None) -> bool:
    """True once `time.perf_counter()` is beyond `deadline` (never for None)."""
    return deadline is not None and time.perf_counter() > deadline


class Clock:
    """A budget of `limit` seconds from now (None = no limit)."""

    def __init__(self, limit: float | None) -> None:
        self.deadline = None if limit is None else time.perf_counter() + limit

    def expired(self, margin: float = 0.0) -> bool:
        """True when fewer than `margin` seconds are left (past the deadline for margin 0)."""
        return self.deadline is not None and time.perf_counter() > self.deadline - margin

    def remaining(self) -> float | None:
        """Seconds left, >= 0 (None without a limit)."""
        if self.deadline is None:
            return None
        return max(self.deadline - time.perf_counter(), 0.0)

    def fitting(self, wanted: int, per_item: float) -> int:
        """`wanted` items of `per_item` seconds each, or as many as the time left allows (at
        least 1): how search loops size their next chunk of work so that one chunk does not
        run far past the limit."""
        left = self.remaining()
        if left is None or not per_item > 0 or left / per_item >= wanted:  # inf: no int of it
            return wanted
        return max(1, int(left / per_item))


MIN_ENGINE_SECONDS = 0.05
"""The least time an engine is handed (an engine given 0 may refuse it or run unlimited)."""


def engine_limit(clock: Clock) -> float | None:
    """The time limit to hand an engine from what `clock` has left: None without a limit,
    else at least MIN_ENGINE_SECONDS. Work done since the clock started (building the model)
    counts: a weight-pruning dictionary model took 2 s to build, and a 2 s limit ran 5-10 s
    (hunt 20)."""
    left = clock.remaining()
    return None if left is None else max(left, MIN_ENGINE_SECONDS)


def left_after_building(time_limit: float | None, entered: float) -> float | None:
    """What is left of an engine's `time_limit` once it has converted the model into its own
    (started at perf_counter `entered`): None without a limit, 0.0 when the conversion took it
    all (then the engine is not started: `NOT_STARTED`). OR-Tools' SCIP and gurobipy take the
    model one coefficient at a time, seconds on models of millions of nonzeros, and a limit set
    before that ran over by as much (hunt 20)."""
    if time_limit is None:
        return None
    return max(time_limit - (time.perf_counter() - entered), 0.0)


NOT_STARTED = ("the time limit ran out before the solve (building the incumbent or the model "
               "took it): the engine was not started")
