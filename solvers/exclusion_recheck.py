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

import math
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from exactprune.formulations.linear import PartialMask

REL_CERTIFY = 1e-5
ABS_CERTIFY_EVAL_TOLS = 5.0
"""The certificate's absolute room, in evaluation tolerances. Two evaluated errors closer than
2·eval_tol cannot be ordered in float64, and a family of exact ties is floored at its evaluated
error less 2·eval_tol (`worst_entry_family`), which must stay within half the room for the
re-check to exclude it whole: 5 leaves half an eval_tol for rounding. (A flat 1e-12 before: a
mask of error 3e-13 was certified where one of error 1e-16 exists; hunt 61 M1.)"""
MAX_RECHECK_MASKS = 64
"""The exclusion re-check gives up after evaluating this many masks."""


def certificate_room(error: float, eval_tol: float) -> float:
    """How far below `error` a proven lower bound may sit for the error to be certified:
    max(1e-5·error, 5·eval_tol), eval_tol the instance's evaluation tolerance (same units)."""
    return max(REL_CERTIFY * error, ABS_CERTIFY_EVAL_TOLS * eval_tol)


def certifiable(error: float, lower: float, eval_tol: float) -> bool:
    """The certificate's rule: a proven lower bound within `certificate_room` of the error."""
    return error - lower <= certificate_room(error, eval_tol)


ZERO_LOSS_NOTE = ("no engine run: the incumbent's error is within the certificate's room of "
                  "0, the least any error can be")
"""The note of an incumbent certified by the trivial bound 0 alone (`certifiable(error, 0, ...)`)
before any engine runs."""


def bound_refuted(lower: float | None, error: float, eval_tol: float) -> bool:
    """An engine's lower bound (its slack already taken off) above, by more than evaluation
    rounding, the evaluated error of a mask it must hold for (the mask the engine returned, or
    an incumbent inside its cap): the engine's answer contradicts itself and proves nothing.
    HiGHS answered `optimal` with bound 1.018 beside its own mask of error 3e-10, and that bound
    certified a wrong optimum (neuron selection, l1; hunt 113 H1)."""
    return lower is not None and lower > error + 2.0 * eval_tol


CAPPED_STATUSES = ("optimal", "infeasible", "time_limit", "stopped")
"""An engine's statuses a capped solve keeps (any other is "error")."""


@dataclass
class CappedOutcome:
    """One solve of a mask problem below an error cap.

    status: "optimal" | "infeasible" | "time_limit" | "stopped" (the engine ended without a
    proof and without hitting a limit, e.g. CBC's second look disagreeing) | "error"; y: the
    best 0/1 vector of mask variables found (or None); lower: a rigorous lower bound on the
    optimum of what was solved (real units), or None; slack: the tolerance already subtracted
    from the engine's bound.
    """

    status: str
    y: np.ndarray | None
    lower: float | None
    slack: float
    notes: list[str]


CappedSolve = Callable[[float, float | None, Sequence[Any]], CappedOutcome]
"""solve(cap, time_limit_s, exclude): the best mask with error below `cap`, every 0/1 vector
(or `PartialMask` family) in `exclude` cut off by a no-good."""

Family = Callable[[np.ndarray, float], tuple[np.ndarray, float] | None]
"""family(y, target) -> (fixed, floor) or None: the positions `fixed` (bool, like y) such that
every 0/1 vector agreeing with y on them has an evaluated error >= floor (rigorously: in the
units of `evaluate`, like every error the re-check compares), with floor >= target; None when
no such set is known. E.g. for the pruning kinds: the columns that
can be non-zero at one point whose error under y is >= target (solvers/pruning/exact.py)."""


def worst_entry_family(low: np.ndarray, live: np.ndarray) -> tuple[np.ndarray, float]:
    """A linf family from one mask's per-entry floors `low` (its evaluated |residual| at each
    point / entry minus 2·eval_tol, shape (P,)) and `live` (P, columns: which columns can be
    non-zero there): the worst entry, among ties the one with the fewest live columns, gives
    (its live columns, its floor). Every mask agreeing on those columns has the same exact
    residual there, hence an evaluated linf error >= the floor."""
    worst = np.flatnonzero(low == low.max())
    k = int(worst[np.argmin(live[worst].sum(axis=1))])
    return live[k].copy(), float(low[k])


@dataclass
class Recheck:
    """What `exclusion_recheck` found: the best vector y and its evaluated error; lower, a
    rigorous lower bound on every vector's error (None if none was proven); certified (lower
    within the certificate's rule of the error); checked, masks evaluated; families, how many
    of their no-goods cut off a whole family (`Family`); timed_out, stopped by the deadline or
    the engine's time limit; capped, stopped by MAX_RECHECK_MASKS (the result's limit is then
    ``exclusion_cap``, not "none": the solve did not finish)."""

    y: np.ndarray
    error: float
    lower: float | None
    certified: bool
    checked: int
    notes: list[str]
    timed_out: bool = False
    families: int = 0
    capped: bool = False


def exclusion_recheck(solve: CappedSolve, inc_y: np.ndarray, slack: float,
                      evaluate: Callable[[np.ndarray], float], eval_tol: float,
                      deadline: float | None, family: Family | None = None) -> Recheck:
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

    With `family`, each evaluated mask's no-good cuts off its whole family instead (every mask
    that agrees with it where the family is fixed, all proven no better than the rule allows):
    exact ties — masks that differ only in units inactive at the worst point — are then
    excluded at once rather than one solve each (weight pruning n = 32: 25 re-solves in 159 s
    became 1 in 8.5 s, docs/numerics.md). A family that fixes nothing bounds every mask: its
    floor is a lower bound outright.
    """
    best_y, best_err = np.asarray(inc_y, dtype=bool), float(evaluate(inc_y))
    seen: list[Any] = []
    families = 0
    floor = math.inf  # min over the excluded families of their floors
    bound = None  # max over the solves of (bound − T): valid for the masks not yet excluded

    def exclude(y: np.ndarray, err: float) -> None:
        nonlocal families, floor, bound
        # half the certificate's room: a family's floor alone never blocks the certificate
        target = best_err - 0.5 * certificate_room(best_err, eval_tol)
        # a vector that is no mask (an engine's integrality tolerance: `evaluate` gives inf)
        # is cut off alone: a family is built from a mask (hunt 113 M1)
        fam = None if family is None or not math.isfinite(err) else family(y, target)
        if fam is None:
            seen.append(y)
            return
        fixed, fam_floor = np.asarray(fam[0], dtype=bool), float(fam[1])
        if not fixed.any():  # every mask is in the family
            bound = fam_floor if bound is None else max(bound, fam_floor)
            return
        seen.append(PartialMask(y, fixed))
        families += 1
        floor = min(floor, fam_floor)

    def proven() -> float | None:
        # excluded masks have error >= min(best_err, floor), the others >= bound
        return None if bound is None else min(bound, best_err, floor)

    def certified() -> bool:
        lower = proven()
        return lower is not None and certifiable(best_err, lower, eval_tol)

    def done(note: str, timed_out: bool = False, capped: bool = False) -> Recheck:
        lower, ok = proven(), certified()
        return Recheck(best_y, best_err, lower, ok, checked, [note], timed_out and not ok,
                       families, capped and not ok)

    exclude(best_y, best_err)
    checked = 1
    while not certified():
        if checked > MAX_RECHECK_MASKS:
            return done(f"exclusion re-check gave up: more than {MAX_RECHECK_MASKS} masks "
                        f"within the engine's slack {slack:.3g} of the optimum", capped=True)
        remaining = None if deadline is None else deadline - time.perf_counter()
        if remaining is not None and remaining <= 0.05:
            return done(f"exclusion re-check stopped by the time limit after {checked} masks",
                        timed_out=True)
        cap = best_err + 2.0 * slack + 2.0 * eval_tol
        out = solve(cap, remaining, seen)
        slack = max(slack, out.slack)
        if out.status not in ("optimal", "infeasible"):
            return done(f"exclusion re-check stopped ({out.status}) after {checked} masks",
                        timed_out=out.status == "time_limit")
        if out.y is not None:
            y = np.asarray(out.y, dtype=bool)
            err = float(evaluate(y))
            checked += 1
            if err < best_err:
                best_y, best_err = y, err
            if bound_refuted(out.lower, err, eval_tol):
                return done(f"exclusion re-check stopped after {checked} masks: the engine's "
                            f"bound {out.lower:.6g} is above the error {err:.6g} of the mask it "
                            "returned, so its answer proves nothing")
        if out.lower is not None:
            bound = out.lower if bound is None else max(bound, out.lower)
        if out.y is not None:
            exclude(y, err)
        elif not certified():
            return done(f"exclusion re-check: the cap left nothing, but its bound {bound!r} is "
                        "not within the certificate's rule")
    whole = f" ({families} of them with their whole family)" if families else ""
    # "other" read as every mask but the evaluated ones, where each family's ties lie outside
    # the bound too, at least their floor (hunt 120 L1)
    outside = "every mask outside the excluded families" if families else "every other mask"
    return done(f"exclusion re-check: {checked} mask(s) within the engine's slack {slack:.3g} "
                f"of the optimum evaluated and excluded{whole}; {outside} has error >= "
                f"{bound:.6g}")
