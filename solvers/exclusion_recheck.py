"""The certificate rule of the exact mask problems, and the exclusion re-check that certifies an
optimum whose gap is only the engine's tolerance slack.

Shared by the pruning kinds (solvers/pruning/exact.py) and neuron selection
(solvers/neuron_selection/exact.py): both minimise an error over 0/1 mask variables with a
floating-point engine whose proven bound is only good to its slack T (tolerances, CP-SAT's
integer rounding). When the error is small, or T is large, T alone can keep bound and incumbent
further apart than the rule allows; `exclusion_recheck` then evaluates the few masks within T of
the optimum one by one, so that T no longer matters (docs/numerics.md).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

REL_CERTIFY = 1e-5
ABS_CERTIFY = 1e-12
MAX_RECHECK_MASKS = 64
"""The exclusion re-check gives up after evaluating this many masks."""


def certifiable(error: float, lower: float) -> bool:
    """The certificate's rule: a proven lower bound within max(1e-5·error, 1e-12) of it."""
    return error - lower <= max(REL_CERTIFY * error, ABS_CERTIFY)


@dataclass
class CappedOutcome:
    """One solve of a mask problem below an error cap.

    status: "optimal" | "infeasible" | "time_limit" | "error"; y: the best 0/1 vector of mask
    variables found (or None); lower: a rigorous lower bound on the optimum of what was solved
    (real units), or None; slack: the tolerance already subtracted from the engine's bound.
    """

    status: str
    y: np.ndarray | None
    lower: float | None
    slack: float
    notes: list[str]


CappedSolve = Callable[[float, float | None, Sequence[np.ndarray]], CappedOutcome]
"""solve(cap, time_limit_s, exclude): the best mask with error below `cap`, every 0/1 vector
in `exclude` cut off by a no-good."""


@dataclass
class Recheck:
    """What `exclusion_recheck` found: the best vector y and its evaluated error; lower, a
    rigorous lower bound on every vector's error (None if none was proven); certified (lower
    within the certificate's rule of the error); checked, masks evaluated; timed_out, stopped
    by the deadline or the engine's time limit."""

    y: np.ndarray
    error: float
    lower: float | None
    certified: bool
    checked: int
    notes: list[str]
    timed_out: bool = False


def exclusion_recheck(solve: CappedSolve, inc_y: np.ndarray, slack: float,
                      evaluate: Callable[[np.ndarray], float], eval_tol: float,
                      deadline: float | None) -> Recheck:
    """Certify an optimum whose gap is only the engine's slack T by excluding masks until T no
    longer matters.

    The engine proved (bound − T) for all masks, with the incumbent inside [bound − T, bound +
    T]: too wide to certify a tiny error. So it is asked again for the best mask with error below
    cap = err(inc) + 2·T + 2·eval_tol, every mask already evaluated cut off by a no-good. Its
    answer is evaluated from the mask (the incumbent improves when it is better) and excluded in
    turn; its bound − T is a lower bound for every mask not yet evaluated ("infeasible": the cap
    − T is). Once that bound is within the rule of the incumbent, the incumbent is certified:
    every evaluated mask is no better and every other one is not better by more than the rule.
    This is the subset-sum exclusion certificate (docs/numerics.md) repeated until the window of
    width ~T around the optimum is empty. Gives up at the deadline (`time.perf_counter()`
    seconds) or after MAX_RECHECK_MASKS.
    """
    best_y, best_err = np.asarray(inc_y, dtype=bool), float(evaluate(inc_y))
    seen = [best_y]
    bound = None  # max over the solves of (bound − T): valid for the masks not yet seen

    def done(note: str, timed_out: bool = False) -> Recheck:
        # seen masks have error >= best_err, the others >= bound: min of the two is proven
        lower = None if bound is None else min(bound, best_err)
        ok = lower is not None and certifiable(best_err, lower)
        return Recheck(best_y, best_err, lower, ok, len(seen), [note], timed_out and not ok)

    while len(seen) <= MAX_RECHECK_MASKS:
        remaining = None if deadline is None else deadline - time.perf_counter()
        if remaining is not None and remaining <= 0.05:
            return done(f"exclusion re-check stopped by the time limit after {len(seen)} masks",
                        timed_out=True)
        cap = best_err + 2.0 * slack + 2.0 * eval_tol
        out = solve(cap, remaining, seen)
        slack = max(slack, out.slack)
        if out.status not in ("optimal", "infeasible"):
            return done(f"exclusion re-check stopped ({out.status}) after {len(seen)} masks",
                        timed_out=out.status == "time_limit")
        if out.lower is not None:
            bound = out.lower if bound is None else max(bound, out.lower)
        if out.y is not None:
            err = float(evaluate(out.y))
            seen.append(np.asarray(out.y, dtype=bool))
            if err < best_err:
                best_y, best_err = seen[-1], err
        if bound is not None and certifiable(best_err, min(bound, best_err)):
            return done(f"exclusion re-check: {len(seen)} mask(s) within the engine's slack "
                        f"{slack:.3g} of the optimum evaluated and excluded; every other mask "
                        f"has error >= {bound:.6g}")
        if out.y is None:
            return done(f"exclusion re-check: the cap left nothing, but its bound {bound!r} is "
                        "not within the certificate's rule")
    return done(f"exclusion re-check gave up: more than {MAX_RECHECK_MASKS} masks within the "
                f"engine's slack {slack:.3g} of the optimum")
