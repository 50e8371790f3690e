"""Subset-sum's error floor: every subset sum is a multiple of what divides every value, so
no error is below the target's distance to the nearest such multiple, and a mask attaining
it is optimal whoever found it. The floor is checked against exhaustive enumeration over
Fractions (an independent oracle: no exactprune evaluation), the certificate against the
known optimum of planted grids far beyond enumeration."""

from __future__ import annotations

import itertools
import math
from fractions import Fraction

import numpy as np
import pytest
from conftest import fraction_oracle, planted_grid
from hypothesis import given, settings
from hypothesis import strategies as st

from exactprune.instances import SubsetSumInstance
from exactprune.solvers import solve
from exactprune.solvers.dispatch import finalize
from exactprune.solvers.result import Goal, RawSolution, SolveOptions, Status


@st.composite
def grid_data(draw: st.DrawFn) -> tuple[list[float], float]:
    """Values k·2^e for small k and a spread of exponents (sometimes one odd factor common to
    all, sometimes subnormal), and a target on, off or between their grids."""
    n = draw(st.integers(1, 9))
    factor = draw(st.sampled_from([1, 3, 5, 7]))
    spread = draw(st.sampled_from([0, 2, 30, 300]))
    base = draw(st.integers(-1074, 60)) if spread < 300 else draw(st.integers(-700, -400))
    values = [math.ldexp(draw(st.integers(-40, 40)) * factor,
                         base + draw(st.integers(0, spread))) for _ in range(n)]
    target = draw(st.one_of(
        st.floats(-5, 5, allow_nan=False),
        st.builds(lambda k, e: math.ldexp(k, e), st.integers(-300, 300),
                  st.integers(max(base - 3, -1074), base + 8)),
        st.builds(lambda m: m * 5e-324, st.integers(-50, 50))))
    return values, target


@settings(max_examples=400, deadline=None, derandomize=True)
@given(grid_data())
def test_floor_never_above_the_optimum_and_divides_every_value(data: tuple[list[float],
                                                                            float]) -> None:
    values, target = data
    inst = SubsetSumInstance(values=values, target=target)
    best = fraction_oracle(inst)
    grid, floor = inst.sum_grid, inst.error_floor
    assert floor <= min(best.values())
    if grid:
        assert all((Fraction(v) / grid).denominator == 1 for v in values)
        # the largest such number: the values' own gcd (over a common denominator)
        den = max(Fraction(v).denominator for v in values)
        assert grid == Fraction(math.gcd(*(int(Fraction(v) * den) for v in values)), den)
    else:
        assert all(v == 0 for v in values) and floor == abs(Fraction(target))


@settings(max_examples=200, deadline=None, derandomize=True)
@given(grid_data())
def test_solve_certifies_what_attains_the_floor_and_nothing_else(
        data: tuple[list[float], float]) -> None:
    """`finalize` certifies a mask at the floor, for min_error within max_kept only, with a
    bound at most the exact optimum; a mask above the floor keeps its backend's status."""
    values, target = data
    inst = SubsetSumInstance(values=values, target=target)
    best = fraction_oracle(inst)
    optimum = min(best.values())
    for mask in itertools.islice(itertools.product((False, True), repeat=len(values)), 64):
        m = np.array(mask)
        err = inst.exact_error(m)
        for goal in (Goal(), Goal(max_kept=int(m.sum())), Goal(max_kept=max(0, int(m.sum()) - 1)),
                     Goal(objective="sparsest", eps=float(err) if Fraction(float(err)) >= err
                          else math.nextafter(float(err), math.inf))):
            res = finalize(inst, goal, RawSolution(Status.FEASIBLE, mask=m), "x", None,
                           SolveOptions(), 0.0)
            within = goal.max_kept is None or m.sum() <= goal.max_kept
            if res.certified:
                assert goal.objective.value == "min_error" and within
                assert err == inst.error_floor == optimum
                assert res.status == "optimal" and Fraction(res.bound) <= optimum
            else:
                assert (err != inst.error_floor or goal.objective.value == "sparsest"
                        or not within)


@pytest.mark.parametrize("solver", ["scip", "highs", "cbc", "cpsat", "core_search"])
def test_engines_above_mitm_certify_a_planted_grid_optimum(solver: str) -> None:
    """Values k/2^20 at n = 300 and a target 2^-21 off a planted sum: SCIP and HiGHS ended
    every run at bound 0 (their tolerances cannot tell 2^-21 from 0) and CP-SAT spent half
    the limit on its core_search start first; core_search stops, and the engines take its
    start without a search, once the start attains the floor."""
    from exactprune.solvers.milp_engines import ENGINES

    if solver in ENGINES and not ENGINES[solver].available():
        pytest.skip(f"{solver} is not installed")
    inst, optimum, planted = planted_grid(300, 20, seed=7)
    assert inst.error_floor == optimum
    res = solve(inst, solver, time_limit=60, max_kept=int(planted.sum()))
    assert res.status == "optimal" and res.certified and res.limit == "none"
    assert inst.exact_error(res.mask) == optimum and Fraction(res.bound) == optimum
    assert res.kept <= int(planted.sum())


def test_a_user_start_at_the_floor_ends_the_search_and_one_over_budget_does_not() -> None:
    inst, optimum, planted = planted_grid(70, 12, seed=3)
    res = solve(inst, "scip", warm_start=planted, time_limit=30)
    assert res.certified and inst.exact_error(res.mask) == optimum
    assert any("the engine was not run" in note for note in res.notes)
    over = solve(inst, "scip", warm_start=planted, max_kept=int(planted.sum()) - 1,
                 time_limit=2)
    # the start is rejected (core_search runs instead, and may reach the floor within budget)
    assert over.stats["warm_start"] == "rejected" and over.kept <= int(planted.sum()) - 1
    assert not over.certified or inst.exact_error(over.mask) == optimum


def test_certify_confirms_a_floor_optimum_at_any_n() -> None:
    """`certify` re-checks with mitm up to n = 48 only: beyond, a certified claim at the floor
    (0 included) was "neither confirmed nor refused"; the floor confirms it at any n, refutes
    a bound above it, and a claim off the floor is still left open there."""
    from exactprune.solvers.subset_sum import certify

    inst, optimum, planted = planted_grid(70, 12, seed=5)
    res = solve(inst, "cpsat", warm_start=planted, time_limit=30)
    assert res.certified
    claim = res.to_json()
    out = certify(inst, res.mask, claim)
    assert out["optimum_verified"] is True and out["bound_consistent"] is True
    assert "without a re-check" in out["note"]
    assert Fraction(out["exact_error"]) == optimum
    above = dict(claim, bound=float(optimum) * 1.5)
    out = certify(inst, res.mask, above)
    assert out["bound_consistent"] is False
    worse = planted.copy()
    worse[np.flatnonzero(~planted)[0]] = True  # off the floor (the planted sum moves)
    assert inst.exact_error(worse) != optimum
    out = certify(inst, worse, dict(claim, bound=0.0))
    assert out["optimum_verified"] is None and "not re-checked" in out["note"]
    exact_zero = SubsetSumInstance(values=inst.values, target=float(
        sum(Fraction(v) for v in inst.values[planted].tolist())))
    out = certify(exact_zero, planted, dict(claim, bound=0.0, objective=0.0))
    assert out["optimum_verified"] is True


def test_the_floor_note_says_what_it_is_when_every_value_is_zero() -> None:
    """Every value 0: every mask errs by |target|, the floor; the note said "the nearest
    multiple of 0.0" (hunt 193 L1)."""
    from exactprune.solvers.subset_sum import certify

    inst = SubsetSumInstance(values=[0.0, -0.0, 0.0], target=5.0)
    res = solve(inst, "greedy")
    assert res.certified and res.objective == 5.0 and res.bound == 5.0
    assert "|target|, as every value is 0" in res.notes[-1] and "0.0" not in res.notes[-1]
    out = certify(inst, res.mask, res.to_json())
    assert out["optimum_verified"] is True and "|target|, as every value is 0" in out["note"]
    grid = solve(SubsetSumInstance(values=[0.5, 1.5], target=0.3), "greedy")
    assert "nearest multiple of 0.5, which every subset sum is" in grid.notes[-1]
