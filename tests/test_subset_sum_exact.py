"""The exact subset-sum methods against independent oracles."""

from __future__ import annotations

import dataclasses
import math
from fractions import Fraction
from itertools import product

import numpy as np
import pytest
from conftest import awkward_instance, fraction_oracle, random_instance
from hypothesis import given, settings
from hypothesis import strategies as st

from exactprune.instances import InputError, SubsetSumInstance
from exactprune.instances.scaling import integer_scaling
from exactprune.solvers import solve


@pytest.mark.parametrize("seed", range(30))
def test_bruteforce_matches_rational_enumeration(seed: int) -> None:
    inst = random_instance(seed, n=1 + seed % 10)
    oracle = min(fraction_oracle(inst).values())
    res = solve(inst, "bruteforce")
    assert res.status == "optimal" and res.certified
    assert inst.exact_error(res.mask) == oracle


@pytest.mark.parametrize("seed", range(10))
def test_bruteforce_on_awkward_values(seed: int) -> None:
    inst = awkward_instance(seed, n=9)
    res = solve(inst, "bruteforce")
    assert inst.exact_error(res.mask) == min(fraction_oracle(inst).values())


@pytest.mark.parametrize("seed", range(12))
def test_bruteforce_with_many_zeros_and_ties(seed: int) -> None:
    """Zeros multiply every tie by 2^zeros (17 zeros and two tied masks were refused as "too
    many near-tied masks"); bruteforce leaves them out and keeps them off, still exact."""
    rng = np.random.default_rng(seed)
    live = rng.integers(-4, 5, size=5).astype(float)  # small integers: many exact ties
    zeros = 17 if seed < 3 else int(rng.integers(1, 7))
    values = np.concatenate([live, np.zeros(zeros)])
    rng.shuffle(values)
    target = float(rng.integers(-6, 7)) + 0.5 * (seed % 2)
    inst = SubsetSumInstance(values=values, target=target)
    profile = fraction_oracle(SubsetSumInstance(values=values[values != 0], target=target))
    res = solve(inst, "bruteforce")
    assert res.certified and inst.exact_error(res.mask) == min(profile.values())
    assert not res.mask[values == 0].any()
    res = solve(inst, "bruteforce", max_kept=1)
    assert inst.exact_error(res.mask) == min(e for k, e in profile.items() if k <= 1)
    eps = 0.5
    feasible = [k for k, e in profile.items() if e <= Fraction(eps)]
    res = solve(inst, "bruteforce", objective="sparsest", eps=eps)
    assert res.certified
    if feasible:
        assert res.status == "optimal" and res.kept == min(feasible)
    else:
        assert res.status == "infeasible"


@pytest.mark.parametrize("seed", range(60))
def test_bruteforce_sparsest_on_boundary_eps_and_awkward_values(seed: int) -> None:
    """bruteforce's sparsest goal skips the counts whose best float error is more than the
    rounding window above eps and stops at the first count within eps (hunt 64: re-checking
    every count took 25 s); eps exactly at a count's optimum, one ulp below it, and values
    spanning many magnitudes, against the rational enumeration."""
    inst = (awkward_instance(seed, n=4 + seed % 8) if seed % 2
            else random_instance(seed, 3 + seed % 9))
    profile = fraction_oracle(inst)
    optima = sorted(set(profile.values()))
    pick = float(optima[(seed // 2) % len(optima)])
    for eps in (pick, math.nextafter(pick, 0.0), 0.0, 1e-300):
        feasible = [k for k, e in profile.items() if e <= Fraction(eps)]
        res = solve(inst, "bruteforce", objective="sparsest", eps=eps)
        assert res.certified, res.notes
        if feasible:
            assert res.status == "optimal" and res.kept == min(feasible)
            assert inst.exact_error(res.mask) <= Fraction(eps)
        else:
            assert res.status == "infeasible"


def test_bruteforce_reads_the_clock_while_it_rechecks(monkeypatch: pytest.MonkeyPatch) -> None:
    """The exact re-check after the enumeration never read the clock: 18 copies of 0.1 ran 2.9 s
    on a 1 s limit, 19 copies with a sparsest goal 25 s (hunt 64). A clock that expires once the
    enumeration is done now stops the re-check within 256 exact errors, with the best float
    candidate's mask and an honest time_limit."""
    from exactprune.solvers.subset_sum import bruteforce

    readings = []

    class ExpiresAfterEnumeration:
        def __init__(self, limit: float | None) -> None:
            pass

        def expired(self) -> bool:
            readings.append(1)
            return len(readings) > 3  # 2^18 masks: chunks at 2^16, 2·2^16 and 3·2^16

    exact_errors = []
    original = SubsetSumInstance.exact_error

    def counted(self: SubsetSumInstance, mask: np.ndarray) -> Fraction:
        exact_errors.append(1)
        return original(self, mask)

    monkeypatch.setattr(bruteforce, "Clock", ExpiresAfterEnumeration)
    monkeypatch.setattr(SubsetSumInstance, "exact_error", counted)
    values = np.full(18, 0.1)
    values[-1] = math.nextafter(0.1, 1)  # 18 equal copies: 9 of them attain the error floor,
    inst = SubsetSumInstance(values=values, target=0.9)  # which certifies without the re-check
    res = solve(inst, "bruteforce", time_limit=60)
    assert res.status == "time_limit" and not res.certified and res.mask is not None
    assert len(exact_errors) <= 256 + 2  # and the result's own checks
    assert abs(res.objective) < 1e-15 and res.kept == 9


@pytest.mark.parametrize("seed", range(200))
def test_mitm_equals_bruteforce(seed: int) -> None:
    n = 1 + seed % 14
    inst = random_instance(seed, n)
    max_kept = None if seed % 3 else seed % (n + 1)
    a = solve(inst, "mitm", max_kept=max_kept)
    b = solve(inst, "bruteforce", max_kept=max_kept)
    assert a.certified and a.status == "optimal" and a.tolerance == 0.0
    assert inst.exact_error(a.mask) == inst.exact_error(b.mask)
    assert a.objective == b.objective
    if max_kept is not None:
        assert a.kept <= max_kept


@pytest.mark.parametrize("seed", range(20))
def test_mitm_lossy_scaling_is_still_exact(seed: int) -> None:
    inst = awkward_instance(seed, n=10)
    assert not integer_scaling(inst.values, inst.target).lossless
    res = solve(inst, "mitm")
    assert res.certified
    assert inst.exact_error(res.mask) == min(fraction_oracle(inst).values())


@pytest.mark.parametrize("seed", range(40))
def test_sparsest_matches_oracle(seed: int) -> None:
    n = 3 + seed % 9
    inst = random_instance(seed, n)
    profile = fraction_oracle(inst)
    eps = [1e-3, 1e-2, 0.05, 1e-9][seed % 4]
    feasible = [k for k, e in profile.items() if e <= Fraction(eps)]
    for solver in ("mitm", "bruteforce"):
        res = solve(inst, solver, objective="sparsest", eps=eps)
        assert res.certified
        if feasible:
            assert res.status == "optimal"
            assert res.objective == min(feasible) == res.kept
            assert inst.exact_error(res.mask) <= Fraction(eps)
        else:
            assert res.status == "infeasible" and res.mask is None


def test_mitm_splits_work_under_a_small_memory_budget() -> None:
    inst = random_instance(5, 26)
    whole = solve(inst, "mitm")
    split = solve(inst, "mitm", memory_limit_gb=1e-4)  # a 2^11 table: the rest enumerated
    assert split.stats["table_bits"] < whole.stats["table_bits"]
    assert split.objective == whole.objective and split.certified


def test_mitm_takes_any_finite_memory_budget() -> None:
    """A budget near the float64 maximum is valid input: it overflowed to inf (OverflowError,
    status error) from about 1e299 GB."""
    inst = random_instance(5, 26)
    huge = solve(inst, "mitm", memory_limit_gb=1.7e308)
    assert huge.certified and huge.objective == solve(inst, "mitm").objective


def test_mitm_time_limit_keeps_incumbent() -> None:
    inst = random_instance(1, 44)
    res = solve(inst, "mitm", time_limit=0.05, memory_limit_gb=0.01)
    assert res.status == "time_limit" and not res.certified
    assert res.mask is not None and res.objective == inst.evaluate(res.mask)


@settings(max_examples=60, deadline=None)
@given(values=st.lists(st.integers(-6, 6), max_size=11), chunk=st.integers(1, 5))
def test_sorted_subset_sums_is_a_stable_sort_of_every_sum(values: list[int], chunk: int) -> None:
    """The chunked binary-search merge gives exactly the order of a stable sort of all 2^k
    sums by bitmask (ties: smaller bitmask first), whatever the chunk size."""
    from exactprune.solvers.subset_sum import mitm

    x = np.array(values, dtype=np.int64)
    every = mitm.subset_sums(x)
    order = np.argsort(every, kind="stable")
    old = mitm.MERGE_CHUNK
    mitm.MERGE_CHUNK = chunk
    try:
        sums, masks = mitm.sorted_subset_sums(x)
    finally:
        mitm.MERGE_CHUNK = old
    assert sums.tolist() == every[order].tolist() and masks.tolist() == order.tolist()


def test_mitm_stops_in_the_table_build_and_in_the_exact_recheck() -> None:
    """The sorted table (seconds at n = 50) and the exact re-check of a lossy scaling's window
    used to run to their end whatever the time limit (n = 62, 2 s: 7.6 s). Both look at the
    deadline now: a past deadline stops the build, and the re-check with the pass-1 match."""
    import time

    from exactprune.solvers.result import Goal, SolveOptions
    from exactprune.solvers.subset_sum import mitm

    past = time.perf_counter() - 1.0
    with pytest.raises(mitm.OutOfTime):
        mitm.sorted_subset_sums(np.arange(1, 12, dtype=np.int64), deadline=past)
    with pytest.raises(mitm.OutOfTime):  # the table split by count (max_kept, sparsest) too
        mitm._Table(np.arange(1, 12, dtype=np.int64), True, deadline=past)
    inst = random_instance(2, 40)
    raw = mitm.run_mitm(inst, Goal(), SolveOptions(time_limit=1e-9))
    assert raw.status == "time_limit" and raw.mask is not None and not raw.certified
    assert "building the sorted table: the greedy mask" in raw.notes[0]
    kept = mitm.run_mitm(inst, Goal(max_kept=2), SolveOptions(time_limit=1e-9))
    assert kept.mask is not None and kept.mask.sum() <= 2
    sparse = mitm.run_mitm(inst, Goal(objective="sparsest", eps=0.1),
                           SolveOptions(time_limit=1e-9))
    assert sparse.status == "time_limit" and sparse.mask is None
    lossy = awkward_instance(3, 24)
    search = mitm.MitmSearch(lossy, "all", None, 4.0, None)
    assert not search.scaling.lossless
    best = search.best_units()
    search.deadline = past
    with pytest.raises(mitm.OutOfTime):
        mitm.exact_best(search, best)


def test_mitm_gives_up_a_table_it_cannot_build_in_time_for_core_search(monkeypatch) -> None:
    """Above 40 values a limit that ends in the table build left the greedy mask (n = 62,
    2 s: 1.3e-2, where core_search reaches 4e-14 in the same time; hunt 192 L3). The build
    now projects its end from its first sums and gives up at once when that lies past the
    deadline, and mitm returns core_search's best mask in the time left, within max_kept."""
    import time

    from exactprune.solvers.result import Goal, SolveOptions
    from exactprune.solvers.subset_sum import heuristics, mitm

    monkeypatch.setattr(mitm, "PROJECT_FROM_BITS", 2)  # project from 4 sums: at once
    with pytest.raises(mitm.TableOutOfTime) as stop:  # 2^26 sums in 30 s: not at a few us each
        mitm.sorted_subset_sums(np.arange(1, 27, dtype=np.int64),
                                deadline=time.perf_counter() + 30.0)
    assert stop.value.built_bits == 2
    inst = random_instance(5, 56)
    x, z = heuristics.ranking_values(inst)
    for max_kept in (None, 5):
        goal = Goal(max_kept=max_kept)
        greedy = heuristics.greedy_mask(x, z, heuristics.kept_budget(inst, goal))
        raw = mitm.run_mitm(inst, goal, SolveOptions(time_limit=0.3))
        assert raw.status == "time_limit" and not raw.certified and raw.mask is not None
        assert "would not be built within the time limit" in raw.notes[0]
        assert "core_search's best mask" in raw.notes[0]
        assert max_kept is None or raw.mask.sum() <= max_kept
        assert inst.exact_error(raw.mask) <= inst.exact_error(greedy)
    monkeypatch.setattr(mitm, "PROJECT_FROM_BITS", 64)  # a deadline already past: the same
    raw = mitm.run_mitm(inst, Goal(max_kept=5), SolveOptions(time_limit=1e-9))
    assert "time limit while building the sorted table: core_search" in raw.notes[0]
    assert raw.mask.sum() <= 5
    sparse = mitm.run_mitm(inst, Goal(objective="sparsest", eps=0.1),
                           SolveOptions(time_limit=1e-9))
    assert sparse.status == "time_limit" and sparse.mask is None


def test_mitm_builds_its_table_in_half_the_limit_above_40_values(monkeypatch) -> None:
    """The enumerated half matches at least as many sums as the table holds, so a table built
    after half the limit leaves mitm no chance to finish: above 40 values it must be built by
    then, and core_search gets the rest (n = 62, 0.2 s: the build ran the whole limit and the
    greedy mask came back; hunt 196 L1). At 40 values and below, the whole limit (no
    core_search to hand it to)."""
    import time

    from exactprune.solvers.result import Goal, SolveOptions
    from exactprune.solvers.subset_sum import mitm

    table_deadlines: list[float] = []

    def no_table(values, by_count, deadline=None):
        table_deadlines.append(deadline)
        raise mitm.OutOfTime

    monkeypatch.setattr(mitm, "_Table", no_table)
    for n, share in ((50, mitm.TABLE_TIME_SHARE), (40, 1.0)):
        table_deadlines.clear()  # (core_search's rounds build tables of their own after it)
        started = time.perf_counter()
        raw = mitm.run_mitm(random_instance(5, n), Goal(), SolveOptions(time_limit=0.4))
        assert 0.4 * share <= table_deadlines[0] - started < 0.4 * share + 0.1
        assert ("core_search" if n > 40 else "greedy") in raw.notes[0]


def test_mitm_cut_by_its_limit_returns_nothing_worse_than_its_start() -> None:
    """mitm took no warm start, so `auto` at n = 62 with 0.3 s dropped a start of 1.4e-12 for
    a mask of 4.0e-4 (hunt 196 L2). A start now seeds core_search where the table is not built
    in time, and a run without a proof returns it where it is better (sparsest: within eps and
    fewer kept); a certified optimum is the same with or without one."""
    from exactprune.solvers import solve

    inst = random_instance(7, 56)
    start = solve(inst, "core_search", options={"rounds": 2}).mask
    start_error = inst.exact_error(start)
    for solver in ("mitm", "auto"):
        res = solve(inst, solver, warm_start=start, time_limit=1e-9)
        assert res.solver == "mitm" and res.stats["warm_start"] == "accepted"
        assert not res.certified and inst.exact_error(res.mask) <= start_error
    eps = float(start_error) * 2
    sparse = solve(inst, "mitm", objective="sparsest", eps=eps, warm_start=start,
                   time_limit=1e-9)
    assert sparse.status == "time_limit" and not sparse.certified
    assert np.array_equal(sparse.mask, start) and "better than mitm's answer" in sparse.notes[-1]
    over = solve(inst, "mitm", max_kept=int(start.sum()) - 1, warm_start=start,
                 time_limit=1e-9)
    assert over.stats["warm_start"] == "rejected" and over.mask.sum() < start.sum()
    small = random_instance(8, 16)
    worst = np.ones(16, dtype=bool)
    with_start = solve(small, "mitm", warm_start=worst)
    assert with_start.certified and with_start.objective == solve(small, "mitm").objective


@pytest.mark.parametrize("mode, max_kept", [("all", None), ("budget", 20), ("profile", None)])
def test_mitm_first_block_stops_after_its_first_piece(mode: str, max_kept: int | None) -> None:
    """Pass 1 looked at the deadline only between blocks, so a limit that ran out after the
    table was built still matched a whole 2^20-sum block (n = 40, 0.1 s: 0.27 s). Blocks are
    matched in pieces now: past the deadline, only the first piece (the incumbent) is matched,
    and its best is the best over that piece."""
    import time

    from exactprune.solvers.subset_sum import mitm

    inst = random_instance(2, 40)
    search = mitm.MitmSearch(inst, mode, max_kept, 4.0, None)
    assert search.low_bits > 16  # one block holds several pieces
    search.deadline = time.perf_counter() - 1.0
    best = search.best_units()
    assert search.timed_out and search.blocks_done == 0 and best
    for b in best.values():
        assert b.a_index < mitm.PIECE
        mask = search.mask(b.a_index, b.b_index)
        if max_kept is not None:
            assert mask.sum() <= max_kept
    # the piece's best is its true best: the same search without a deadline, on one piece
    whole = mitm.MitmSearch(inst, mode, max_kept, 4.0, None)
    whole.a_low = whole.a_low[: mitm.PIECE]
    if whole.low_counts is not None:
        whole.low_counts = whole.low_counts[: mitm.PIECE]
    assert {g: b.units for g, b in whole.best_units().items()} == {
        g: b.units for g, b in best.items()}


def _crowded_lossy_instance() -> tuple[SubsetSumInstance, np.ndarray]:
    """Hunt 48: three values near 1 beside 19 of about 1e-30 (a lossy scaling whose rounding
    window holds more than mitm's 200,000 masks), the target one of the tiny values: one
    value meets it exactly. Returns the instance and that one-value mask."""
    rng = np.random.default_rng(0)
    tiny = list(rng.uniform(1, 2, 19) * 1e-30)
    inst = SubsetSumInstance(values=np.array([0.5, 0.25, -0.75, *tiny]), target=tiny[7])
    planted = np.zeros(inst.n, dtype=bool)
    planted[10] = True
    assert inst.exact_error(planted) == 0
    return inst, planted


def test_mitm_stops_its_exact_recheck_at_the_time_limit() -> None:
    """The exact re-check of a lossy window (131,072 masks here, about 5 s of rational errors)
    never read the clock: a 0.1 s limit ran 7 s, and auto's second method found no time left
    (hunt 54 F3). It stops now, with the best scaled match unchecked and a time-limit status."""
    rng = np.random.default_rng(1)
    tiny = list(rng.uniform(1, 2, 17) * 1e-30)
    inst = SubsetSumInstance(values=np.array([0.5, 0.25, -0.75, *tiny]), target=0.25)
    res = solve(inst, "mitm", time_limit=0.3)
    assert res.status == "time_limit" and not res.certified and res.limit == "time"
    assert any("time limit while re-checking" in n for n in res.notes), res.notes
    assert res.objective == inst.evaluate(res.mask)


def test_mitm_never_calls_an_unproven_sparsest_goal_infeasible() -> None:
    """With too many masks in its window to compare exactly, mitm said "infeasible" (exit 0,
    limit none) for eps = 1e-33 where one value meets the target exactly (hunt 48). It is an
    error now, saying infeasibility is not proven; and an uncertified "infeasible" from any
    backend becomes an error (dispatch)."""
    from exactprune.solvers.dispatch import finalize
    from exactprune.solvers.result import Goal, RawSolution, SolveOptions, Status

    inst, _ = _crowded_lossy_instance()
    res = solve(inst, "mitm", objective="sparsest", eps=1e-33)
    assert res.status == "error" and not res.certified and res.mask is None
    assert any("infeasibility not proven" in n for n in res.notes), res.notes
    other = solve(inst, "cpsat", objective="sparsest", eps=1e-33)
    assert other.certified and other.objective == 1  # the truth, for the record
    unproven = finalize(inst, Goal(objective="sparsest", eps=1e-33),
                        RawSolution(Status.INFEASIBLE, certified=False), "x", None,
                        SolveOptions(), 0.0)
    assert unproven.status == "error" and not unproven.certified


def test_certify_does_not_lean_on_an_uncertified_recheck() -> None:
    """`certify` re-solved with mitm and compared masks whatever mitm's status: on the
    crowded lossy instance it confirmed a claimed optimum of error 2.2e-30 where 0 exists,
    and refused the error-0 claim (hunt 48). An uncertified re-check now confirms and
    refuses nothing, and an exact error of 0 is optimal without one."""
    from exactprune.solvers.subset_sum import certify

    inst, planted = _crowded_lossy_instance()
    near = solve(inst, "mitm")
    assert not near.certified and inst.exact_error(near.mask) > 0
    wrong = certify(inst, near.mask, {"certified": True, "goal": {}})
    assert wrong["optimum_verified"] is None and "not certified" in wrong["note"]
    assert certify(inst, planted, {"certified": True, "goal": {}})["optimum_verified"] is True
    sparse = certify(inst, planted, {"certified": True,
                                     "goal": {"objective": "sparsest", "eps": 1e-33}})
    assert sparse["optimum_verified"] is None
    small = random_instance(3, 14)  # certified re-checks still decide
    best = solve(small, "mitm")
    assert certify(small, best.mask, {"certified": True, "goal": {}})["optimum_verified"]
    worse = best.mask.copy()
    worse[0] = not worse[0]
    assert certify(small, worse, {"certified": True, "goal": {}})["optimum_verified"] is False


def test_auto_tries_cpsat_where_mitm_cannot_prove() -> None:
    """On the crowded lossy instance auto's mitm proves nothing (a mask 2.2e-30 away for the
    plain goal, an error for the sparsest one) while CP-SAT certifies: auto runs CP-SAT second,
    with the time left, and says so. Where mitm proves its answer, auto stays with it."""
    inst, _ = _crowded_lossy_instance()
    plain = solve(inst, "auto")
    assert plain.solver == "cpsat" and plain.certified and plain.objective == 0.0
    assert inst.exact_error(plain.mask) == 0
    assert plain.notes[0] == "auto chose mitm" and "ran cpsat" in plain.notes[1]
    sparse = solve(inst, "auto", objective="sparsest", eps=1e-33)
    assert sparse.status == "optimal" and sparse.certified and sparse.objective == 1
    assert inst.exact_error(sparse.mask) <= Fraction(1e-33)
    limited = solve(inst, "auto", time_limit=30)
    assert limited.certified and limited.wall_time_s < 30
    # the caller's time limit and (no) warm start, not the second method's share (hunt 52)
    assert limited.options["time_limit"] == 30 and limited.options["warm_start"] is False
    # cpsat's own option reaches cpsat (it was dropped as mitm's "unused" one; hunt 52)
    given = solve(inst, "auto", time_limit=30, max_exclusions=7)
    assert given.solver == "cpsat" and given.options["max_exclusions"] == 7
    assert "ran cpsat with max_exclusions=7" in given.notes[1]
    # the first note said "left unused" of what cpsat then used (hunt 54 F7)
    assert given.notes[0].endswith("does not take max_exclusions: max_exclusions passed to "
                                   "cpsat"), given.notes[0]
    # an option neither takes stays "left unused" (all were said to be passed; hunt 56 L1)
    both = solve(inst, "auto", time_limit=30, max_exclusions=7, samples=5)
    assert both.solver == "cpsat" and "samples" not in both.options
    assert both.notes[0].endswith("does not take max_exclusions, samples: max_exclusions "
                                  "passed to cpsat, samples left unused"), both.notes[0]
    small = random_instance(2, 16)
    own = solve(small, "auto")
    assert own.solver == "mitm" and own.certified
    assert not any("ran cpsat" in n for n in own.notes)


def test_a_second_method_that_refuses_leaves_autos_first_result(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """A refusal of auto's second method (here bruteforce's, at run time: too many near-tied
    masks on the crowded instance) was raised to the caller, though the first method had an
    answer; the first result stands, with a note."""
    from exactprune.solvers import subset_sum

    inst, _ = _crowded_lossy_instance()
    with pytest.raises(InputError, match="rounding window .* too many to certify"):
        solve(inst, "bruteforce")  # the refusal, for the record
    monkeypatch.setattr(subset_sum, "auto_fallback", lambda *a: "bruteforce")
    res = solve(inst, "auto")
    assert res.solver == "mitm" and res.status == "feasible" and res.mask is not None
    assert "auto: bruteforce refused to run after mitm" in res.notes[-1]


def test_an_exact_error_of_zero_is_optimal_whoever_found_it() -> None:
    """CP-SAT returned the error-0 mask of the crowded lossy instance as merely feasible (hunt
    48): no error is below 0, so `solve` certifies it, for the min-error goal within max_kept
    only (a sparsest goal needs the least count, a mask over the budget is no answer)."""
    from exactprune.solvers.dispatch import finalize
    from exactprune.solvers.result import Goal, RawSolution, SolveOptions, Status

    inst, planted = _crowded_lossy_instance()
    res = solve(inst, "cpsat")
    assert res.status == "optimal" and res.certified and res.bound == 0.0 and res.gap == 0.0
    assert res.tolerance == 0.0 and res.limit == "none"

    def claim(goal: Goal, status: Status, mask: np.ndarray) -> object:
        return finalize(inst, goal, RawSolution(status, mask=mask), "x", None,
                        SolveOptions(), 0.0)

    for status in (Status.FEASIBLE, Status.TIME_LIMIT):
        assert claim(Goal(), status, planted).status == "optimal"
    assert claim(Goal(max_kept=1), Status.FEASIBLE, planted).certified
    two = planted.copy()
    two[0] = True  # error 0.5: nothing to certify
    assert claim(Goal(), Status.FEASIBLE, two).status == "feasible"
    assert claim(Goal(max_kept=0), Status.FEASIBLE, planted).status == "error"
    assert claim(Goal(objective="sparsest", eps=1e-33), Status.FEASIBLE,
                 planted).status == "feasible"


@pytest.mark.parametrize("objective", ["min_error", "max_kept", "sparsest"])
def test_certify_keeps_to_its_time_limit(objective: str) -> None:
    """certify took a time limit and never passed it to the mitm re-check: at n = 48 a
    certified claim took 40 s (max_kept) and 106 s (sparsest) on a limit of 1 s (hunt 64 M2).
    A re-check cut by the limit neither confirms nor refuses; without one it decides."""
    from exactprune.solvers.subset_sum import certify

    def goal_of(inst: SubsetSumInstance, mask: np.ndarray) -> dict:
        if objective == "max_kept":
            return {"max_kept": 12}
        if objective == "sparsest":  # eps just above this mask's error: the mask is within it
            return {"objective": "sparsest",
                    "eps": math.nextafter(float(inst.exact_error(mask)), math.inf)}
        return {}

    inst = random_instance(5, 40)
    mask = solve(inst, "greedy").mask
    # nearer than the empty mask: no claim mitm settles at once (an eps the empty mask meets
    # is answered by it; hunt 115 L3)
    assert inst.exact_error(mask) < abs(Fraction(inst.target))
    cut = certify(inst, mask, {"certified": True, "goal": goal_of(inst, mask)},
                  time_limit=1e-6)
    assert cut["optimum_verified"] is None and "ran out of its 1e-06 s" in cut["note"]
    small = random_instance(5, 12)
    best = solve(small, "mitm", max_kept=12 if objective == "max_kept" else None)
    claim = {"certified": True, "goal": goal_of(small, best.mask)}
    assert certify(small, best.mask, claim, time_limit=30)["optimum_verified"] is (
        objective != "sparsest" or best.kept == solve(
            small, "mitm", objective="sparsest", eps=claim["goal"]["eps"]).kept)


def test_certify_refuses_a_mask_that_breaks_its_own_goal() -> None:
    """A claim keeping 2 values under max_kept = 1 was confirmed (error 0, and error 1/8
    where the budget-1 optimum is 1/8 too: the re-check compared errors only), and a sparsest
    claim whose own mask is outside eps was neither confirmed nor refused (hunt 50)."""
    from exactprune.solvers.subset_sum import certify

    inst = SubsetSumInstance(values=np.array([0.5, 0.5, 1.0]), target=1.0)
    two = np.array([True, True, False])
    got = certify(inst, two, {"certified": True, "goal": {"max_kept": 1}})
    assert got["optimum_verified"] is False and "max_kept 1" in got["note"]
    assert certify(inst, np.array([False, False, True]),
                   {"certified": True, "goal": {"max_kept": 1}})["optimum_verified"] is True
    eighth = SubsetSumInstance(values=np.array([0.5, 0.375, 0.875]), target=1.0)
    assert solve(eighth, "mitm", max_kept=1).objective == 0.125
    over = certify(eighth, np.array([True, True, False]),
                   {"certified": True, "goal": {"max_kept": 1}})
    assert over["optimum_verified"] is False
    inst2, _ = _crowded_lossy_instance()
    far = np.zeros(inst2.n, dtype=bool)
    far[0] = True
    out = certify(inst2, far, {"certified": True,
                               "goal": {"objective": "sparsest", "eps": 1e-33}})
    assert out["optimum_verified"] is False and "exceeds eps" in out["note"]
    for bad in ({"objective": "sparsest"}, {"objective": "sparsest", "eps": "x"},
                {"objective": "sparsest", "eps": 10**400}, {"objective": "sparsest", "eps": True},
                {"max_kept": 1.5}, {"max_kept": -1}):
        with pytest.raises(InputError, match="the result's"):
            certify(inst, two, {"certified": True, "goal": bad})


@pytest.mark.parametrize("seed", range(4))
def test_certify_checks_the_bound_beside_a_mask_that_breaks_its_goal(seed: int) -> None:
    """A mask keeping more than max_kept (or erring beyond a sparsest goal's eps) bounds no
    optimum of its goal, and the claimed bound beside it was read by no check: 0.943 passed
    where the budget-2 optimum is 0.0229 (hunt 186 M2). The bound is checked against the
    re-check's optimum, the truth being the exact enumeration's."""
    from exactprune.solvers.subset_sum import certify

    inst = random_instance(seed, 10)
    all_kept = np.ones(inst.n, dtype=bool)
    budget = fraction_oracle(inst, max_kept=2)
    optimum = min(budget.values())
    above = float(optimum) * 4 + 1e-3
    goal = {"goal": {"max_kept": 2}}
    for certified in (False, True):
        got = certify(inst, all_kept, {"bound": above, "certified": certified, **goal})
        assert got["bound_consistent"] is False, got
        assert "max_kept 2" in got["note"] and "exceeds the optimum" in got["note"]
        assert got.get("optimum_verified") is (False if certified else None)
        fine = certify(inst, all_kept, {"bound": float(optimum), "certified": certified,
                                        **goal})
        assert fine.get("bound_consistent") is not False, fine
        assert fine.get("optimum_verified") is (False if certified else None)
    # sparsest: every count's best error, exactly; a mask outside eps, a bound above the count
    best = fraction_oracle(inst)
    eps = float(sorted(best.values())[len(best) // 2])
    least = min(k for k, e in best.items() if e <= Fraction(eps))
    outside = next(m for m in product((0, 1), repeat=inst.n)
                   if inst.exact_error(np.array(m, dtype=bool)) > Fraction(eps))
    sparse = {"goal": {"objective": "sparsest", "eps": eps}}
    got = certify(inst, np.array(outside, dtype=bool), {**sparse, "bound": float(least + 1)})
    assert got["bound_consistent"] is False and "exceeds eps" in got["note"]
    got = certify(inst, np.array(outside, dtype=bool), {**sparse, "bound": float(least)})
    assert got.get("bound_consistent") is not False


def test_certify_says_what_a_bound_it_cannot_recheck_is_compared_with() -> None:
    """Above mitm's re-check size (n > 48), and where the re-check gives no optimum, a bound
    was called consistent (or left unread beside a mask breaking its goal) and a certified claim
    left unverified without a word; a sparsest re-check proving that no subset is within eps
    was called "not certified" (hunt 188 M2, L1)."""
    from exactprune.solvers.subset_sum import certify

    big = random_instance(3, 50)
    five = np.zeros(50, dtype=bool)
    five[:5] = True
    error = float(big.exact_error(five))
    plain = certify(big, five, {"bound": error, "goal": {}})
    assert plain["bound_consistent"] is True
    assert "mitm re-checks n <= 48" in plain["note"] and "mask alone" in plain["note"]
    claimed = certify(big, five, {"bound": error, "certified": True, "goal": {}})
    assert claimed["optimum_verified"] is None and "neither confirmed nor refused" in \
        claimed["note"]
    over = certify(big, five, {"bound": 1e300, "goal": {"max_kept": 1}})
    assert "bound_consistent" not in over and "the bound is not checked" in over["note"]
    # no subset of [1, 2, 4] is within 0.25 of 0.5: every bound on the count holds vacuously
    none = SubsetSumInstance(values=np.array([1.0, 2.0, 4.0]), target=0.5)
    assert min(fraction_oracle(none).values()) > Fraction(1, 4)
    got = certify(none, np.array([True, False, False]),
                  {"bound": 3.0, "goal": {"objective": "sparsest", "eps": 0.25}})
    assert got["bound_consistent"] is True and "proves no subset is within eps" in got["note"]
    assert "not certified" not in got["note"]
    # a re-check out of time beside a mask breaking its goal: the bound is not checked, but
    # one above the error of the mask the re-check found so far is refuted (hunt 190 F1)
    inst44, every = random_instance(4, 44), np.ones(44, dtype=bool)
    slow = certify(inst44, every, {"bound": 1e-12, "goal": {"max_kept": 3}}, time_limit=1e-6)
    assert "bound_consistent" not in slow and \
        "the bound is checked against the re-check's own mask alone" in slow["note"]
    high = certify(inst44, every, {"bound": 2.0, "goal": {"max_kept": 3}}, time_limit=1e-6)
    assert high["bound_consistent"] is False and "though it is not certified" in high["note"]


def test_certify_does_not_take_an_infeasibility_the_mask_refutes(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """A re-check answering "infeasible" for a sparsest goal whose claimed mask is within eps
    (exactly) would be a wrong proof: certify neither confirms nor refutes on it, and never
    says that no subset is within eps beside such a mask. The re-check is made to answer so
    here (mitm has not been seen to); the mask's exact error decides."""
    import exactprune.solvers.dispatch as dispatch
    from exactprune.solvers.subset_sum import certify

    inst = SubsetSumInstance(values=np.array([0.5, 0.25, 2.0]), target=0.75)
    within = np.array([True, True, False])
    assert inst.exact_error(within) == 0
    real = dispatch.solve

    def wrong(instance, name, **kw):
        res = real(instance, name, **kw)
        return dataclasses.replace(res, status="infeasible", mask=None, kept=None,
                                   objective=None, error=None, certified=True)

    monkeypatch.setattr(dispatch, "solve", wrong)
    got = certify(inst, within, {"certified": True, "bound": 2.0,
                                 "goal": {"objective": "sparsest", "eps": 0.0}})
    assert got["optimum_verified"] is None and "which the mask refutes" in got["note"]
    assert "proves no subset" not in got["note"]


def test_certify_refutes_no_bound_with_a_recheck_mask_over_the_budget(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """An uncertified re-check's mask bounds the optimum only if it meets the goal: one over
    max_kept (mitm has not been seen to return such a mask; the re-check is made to here)
    must not refute a bound the budget's optimum allows (hunt 191, a missing guard)."""
    import exactprune.solvers.dispatch as dispatch
    from exactprune.solvers.subset_sum import certify

    inst = SubsetSumInstance(values=np.array([0.5, 0.25, 2.0]), target=0.75)
    both = np.array([True, True, False])  # error 0, keeps 2
    budget = min(fraction_oracle(inst, max_kept=1).values())  # 0.25 (keeping 0.5)
    real = dispatch.solve

    def over_budget(instance, name, **kw):
        res = real(instance, name, **kw)
        return dataclasses.replace(res, status="time_limit", mask=both, kept=2,
                                   objective=0.0, error=0.0, certified=False)

    monkeypatch.setattr(dispatch, "solve", over_budget)
    one = np.array([True, False, False])
    got = certify(inst, one, {"bound": float(budget), "goal": {"max_kept": 1}}, time_limit=5)
    assert got.get("bound_consistent") is True, got


def test_certify_refutes_a_bound_above_a_mask_an_uncertified_recheck_finds() -> None:
    """mitm cannot certify three values near 1 beside 19 near 1e-30 (a crowded rounding
    window), but the mask it returns has an exact error (4.6e-30) that bounds the optimum: a
    claimed bound of 1e-3 passed as consistent beside it, certified or not (hunt 190 F1)."""
    from exactprune.solvers.subset_sum import certify

    rng = np.random.default_rng(212800)
    values = np.concatenate([rng.uniform(0.5, 1.5, 3), rng.uniform(1, 2, 19) * 1e-30])
    inst = SubsetSumInstance(values=values, target=float(values[3] + values[1]))
    poor = np.zeros(22, dtype=bool)
    poor[5] = True
    alone = np.zeros(22, dtype=bool)
    alone[1] = True
    assert inst.exact_error(alone) == 0  # the optimum is 0 (the oracle's word: one value)
    assert not solve(inst, "mitm").certified  # the case: an uncertified re-check
    for certified in (True, False):
        got = certify(inst, poor, {"bound": 1e-3, "certified": certified, "goal": {}})
        assert got["bound_consistent"] is False, got
        assert "of a mask the re-check (mitm) finds, though it is not certified" in got["note"]
        assert got.get("optimum_verified") is (None if certified else None)
    # a bound of 0 stays consistent, and the note says what it was compared with
    zero = certify(inst, poor, {"bound": 0.0, "certified": True, "goal": {}})
    assert zero["bound_consistent"] is True and zero["optimum_verified"] is None
    assert "neither confirmed nor refused" in zero["note"]


@pytest.mark.parametrize("seed", range(6))
def test_certify_checks_a_claimed_bound_exactly(seed: int) -> None:
    """Subset-sum's `certify` read no claimed bound: an edited 1e300 on a feasible result
    passed, where pruning and neuron selection say `bound_consistent`. A bound must be at most
    the mask's own error (count, for sparsest) and the optimum a certified mitm re-check
    proves; the truth is the exact enumeration's."""
    from exactprune.solvers.subset_sum import certify

    inst = random_instance(seed, 10)
    best = fraction_oracle(inst)
    optimum = min(best.values())
    poor = np.zeros(inst.n, dtype=bool)
    poor[int(np.argmax(np.abs(inst.values)))] = True
    error = inst.exact_error(poor)
    assert error > optimum  # a mask the re-check can tell from the optimum
    between = float((error + optimum) / 2)

    def claim(bound: object, **extra: object) -> dict:
        return certify(inst, poor, {"bound": bound, "goal": {}, **extra}, time_limit=30)

    assert claim(float(optimum))["bound_consistent"] is True
    assert claim(-1.0)["bound_consistent"] is True  # weak, not wrong
    over_mask = claim(float(error) * 2)
    assert over_mask["bound_consistent"] is False and "mask's own exact error" in over_mask["note"]
    over_optimum = claim(between)
    assert over_optimum["bound_consistent"] is False and "re-check (mitm)" in over_optimum["note"]
    assert "optimum_verified" not in over_optimum  # nothing was claimed certified
    certified = claim(float(optimum), certified=True)
    assert certified["bound_consistent"] is True and certified["optimum_verified"] is False
    # a solver's own result passes both checks
    res = solve(inst, "cpsat")
    got = certify(inst, res.mask, {"bound": res.bound, "certified": res.certified, "goal": {}})
    assert got["bound_consistent"] is True and got["optimum_verified"] is True
    # sparsest: the bound is on the count kept
    eps = float(error)
    least = min(k for k, e in best.items() if e <= Fraction(eps))
    sparse = {"goal": {"objective": "sparsest", "eps": eps}}
    assert certify(inst, poor, {**sparse, "bound": float(least)})["bound_consistent"] is True
    if least < 1:  # the empty mask meets eps: a bound of 1 is above the optimum count 0
        assert certify(inst, poor, {**sparse, "bound": 1.0})["bound_consistent"] is False
    assert certify(inst, poor, {**sparse, "bound": 2.0})["bound_consistent"] is False


def test_mitm_refuses_hopeless_sizes() -> None:
    inst = random_instance(0, 70)
    with pytest.raises(InputError, match="n <= 62"):
        solve(inst, "mitm")


def test_bruteforce_refuses_large_n() -> None:
    with pytest.raises(InputError, match="limit of 22"):
        solve(random_instance(0, 23), "bruteforce")


def test_exact_target_is_found() -> None:
    inst = SubsetSumInstance(values=np.array([0.5, 0.25, 0.125, 3.0]), target=0.375)
    res = solve(inst, "mitm")
    assert res.objective == 0.0 and res.certified
    assert res.mask.tolist() == [False, True, True, False]


@settings(max_examples=60, deadline=None)
@given(
    values=st.lists(st.floats(-10, 10, allow_nan=False, allow_subnormal=True), min_size=1,
                    max_size=9),
    target=st.floats(-20, 20, allow_nan=False),
    use_budget=st.booleans(),
)
def test_property_exact_methods_agree_with_rational_oracle(values, target, use_budget) -> None:
    inst = SubsetSumInstance(values=values, target=target)
    max_kept = len(values) // 2 if use_budget else None
    oracle = min(fraction_oracle(inst, max_kept).values())
    for solver in ("mitm", "bruteforce"):
        res = solve(inst, solver, max_kept=max_kept)
        assert res.certified
        assert inst.exact_error(res.mask) == oracle
        assert res.objective == inst.evaluate(res.mask) == float(oracle)


@pytest.mark.parametrize("case", [3, 11, 605, 1668])
def test_highs_refuses_values_it_would_drop(case: int) -> None:
    """Subset-sum audit cases with values spread over 25 orders of magnitude: HiGHS drops
    coefficients below 1e-12 and then certified wrong optima (cases 11, 605: exclusion
    bounds above the next mask) or called feasible sparsest goals infeasible (3, 1668). It
    refuses them now, with one line; the other exact engines still answer, and agree with
    the oracle when they certify."""
    from exactprune.benchmarks.subset_sum.audit import audit_instance

    inst, goal, _ = audit_instance(case)
    with pytest.raises(InputError, match="drops coefficients below 1e-12"):
        solve(inst, "highs", **goal)
    _others_agree_with_the_oracle(inst, goal)


def test_highs_refuses_values_below_its_feasibility_tolerance() -> None:
    """Near-ties audit case 901: values 8.4e-12 .. 1.1e-5 beside a target 0.89, above
    small_matrix_value (1e-12) but below HiGHS' feasibility tolerance (1e-9): its exclusion
    solve bounded every other mask by the target itself, 1.6e-5 above the optimum, and HiGHS
    certified 0.8936737854265303 where 0.8936737854181669 exists (found 2026-12-07)."""
    from exactprune.benchmarks.subset_sum.audit import near_ties_instance

    inst, goal, _ = near_ties_instance(901)
    with pytest.raises(InputError, match="cannot tell values below 1e-09 from 0"):
        solve(inst, "highs", **goal)
    _others_agree_with_the_oracle(inst, goal)


def _others_agree_with_the_oracle(inst: SubsetSumInstance, goal: dict) -> None:
    """mitm, cpsat, scip and cbc, where they certify, agree with bruteforce."""
    oracle = solve(inst, "bruteforce", **goal)
    for name in ("mitm", "cpsat", "scip", "cbc"):
        res = solve(inst, name, time_limit=30, **goal)
        if res.certified and goal.get("objective") == "sparsest":
            assert res.objective == oracle.objective, name
        elif res.certified:
            assert inst.exact_error(res.mask) == inst.exact_error(oracle.mask), name


def test_highs_still_takes_values_at_unit_scale() -> None:
    """The refusal is about dropped coefficients only: small data scaled exactly to unit
    size first (2^k), and ordinary draws, are solved and certified."""
    inst = random_instance(3, 10)
    small = SubsetSumInstance(values=np.ldexp(inst.values, -60),
                              target=math.ldexp(inst.target, -60))
    for case in (inst, small):
        res = solve(case, "highs", time_limit=30)
        assert res.certified
        assert case.exact_error(res.mask) == min(fraction_oracle(case).values())


def test_cpsat_sparsest_with_an_eps_beyond_float64_int_range() -> None:
    """eps = 1e300 is valid: its band in scaled units (an int above 1e308) broke a stats string,
    status error, where the other exact backends answer the empty mask."""
    inst = random_instance(1, 8)
    res = solve(inst, "cpsat", objective="sparsest", eps=1e300)
    assert res.certified and res.objective == 0 == solve(inst, "mitm", objective="sparsest",
                                                          eps=1e300).objective


def test_a_proven_bound_never_exceeds_the_exact_optimum() -> None:
    """`bound` is a proven lower bound: the exact optimum rounded to nearest lay above it
    about half the time (by less than one unit in the last place); it is rounded down now,
    by every exact method, certified or not."""
    rounded_up = 0
    for seed in range(8):  # values of many magnitudes: optima with more than 53 bits
        inst = awkward_instance(seed, 12)
        exact = inst.exact_error(solve(inst, "bruteforce").mask)
        rounded_up += Fraction(float(exact)) > exact
        for solver in ("bruteforce", "mitm", "cpsat", "scip", "cbc"):  # highs refuses such data
            res = solve(inst, solver)
            assert res.bound is not None and Fraction(res.bound) <= exact, (seed, solver)
            assert res.objective == float(exact) or not res.certified
    assert rounded_up  # the cases the old rounding got wrong are among these


@settings(max_examples=60, deadline=None)
@given(values=st.lists(st.integers(-6, 6), max_size=11))
def test_table_groups_by_count_are_each_count_sorted_stably(values: list[int]) -> None:
    """The by-count table (max_kept and sparsest goals), now a stable partition of the sorted
    sums: each group equals a stable sort of that count's sums by bitmask."""
    from exactprune.solvers.subset_sum import mitm

    x = np.array(values, dtype=np.int64)
    every, counts = mitm.subset_sums(x), mitm.popcounts(len(values))
    groups = mitm._Table(x, True).groups
    assert sorted(groups) == list(range(len(values) + 1))
    for c, (sums, masks) in groups.items():
        idx = np.flatnonzero(counts == c)
        order = np.argsort(every[idx], kind="stable")
        assert sums.tolist() == every[idx][order].tolist()
        assert masks.tolist() == idx[order].tolist()


@pytest.mark.parametrize("max_kept", [None, 3])
def test_mitm_certifies_a_target_beyond_every_sum_at_any_scale(max_kept: int | None) -> None:
    """22 subnormal values and target -1: the lossy scaling rounded every value to 0, the
    window held every mask, and mitm left the trivial optimum `feasible` and the sparsest goal
    in `error` (hunt 114 L2). Both are proven now. Every sum S is > -1, so the error 1 + S is
    least for the least S: all the negative values (the max_kept most negative ones), and no
    mask is within eps = 0.5."""
    g = np.random.default_rng(3)
    x = np.ldexp(g.choice([-1, 1], 22) * g.integers(1, 48, 22).astype(np.float64), -1074)
    inst = SubsetSumInstance(x, -1.0)
    res = solve(inst, "mitm", max_kept=max_kept)
    assert res.status == "optimal" and res.certified
    negative = np.flatnonzero(x < 0)
    if max_kept is not None:
        negative = np.sort(negative[np.argsort(x[negative], kind="stable")[:max_kept]])
    assert np.flatnonzero(res.mask).tolist() == negative.tolist()
    sparse = solve(inst, "mitm", objective="sparsest", eps=0.5)
    assert sparse.status == "infeasible" and sparse.certified
    # an eps the empty mask meets: nothing keeps fewer (hunt 115 L3)
    empty = solve(inst, "mitm", objective="sparsest", eps=1.0)
    assert empty.status == "optimal" and empty.certified and empty.kept == 0
