"""Heuristics: valid masks, never certified, never better than the certified optimum."""

from __future__ import annotations

import math
import subprocess
import sys
import textwrap

import numpy as np
import pytest
from conftest import awkward_values, random_instance
from hypothesis import given, settings
from hypothesis import strategies as st

from exactprune.solvers import solve

HEURISTICS = ["greedy", "local_search", "random", "core_search"]


@pytest.mark.parametrize("solver", HEURISTICS)
@pytest.mark.parametrize("seed", range(15))
def test_heuristic_never_beats_the_optimum(solver: str, seed: int) -> None:
    inst = random_instance(seed, 4 + seed)
    max_kept = None if seed % 2 else 3
    opt = solve(inst, "mitm", max_kept=max_kept)
    res = solve(inst, solver, seed=seed, max_kept=max_kept)
    assert res.status == "feasible" and not res.certified and res.bound is None
    assert res.objective == inst.evaluate(res.mask)
    assert inst.exact_error(res.mask) >= inst.exact_error(opt.mask)
    if max_kept is not None:
        assert res.kept <= max_kept


@pytest.mark.parametrize("solver", ["local_search", "random", "core_search"])
def test_heuristics_are_reproducible(solver: str) -> None:
    inst = random_instance(3, 30)
    a, b = solve(inst, solver, seed=7), solve(inst, solver, seed=7)
    assert a.mask.tolist() == b.mask.tolist()


def test_local_search_beats_greedy_on_average() -> None:
    wins = 0
    for seed in range(10):
        inst = random_instance(seed, 20)
        wins += solve(inst, "local_search").objective <= solve(inst, "greedy").objective
    assert wins == 10  # local search starts from the greedy mask and only improves


@settings(max_examples=40, deadline=None)
@given(seed=st.integers(0, 10_000), n=st.integers(1, 16), solver=st.sampled_from(HEURISTICS))
def test_property_heuristic_objective_is_recomputed(seed: int, n: int, solver: str) -> None:
    inst = random_instance(seed, n)
    res = solve(inst, solver, seed=seed)
    assert res.objective == inst.evaluate(res.mask)
    assert res.objective >= solve(inst, "mitm").objective


def test_random_search_cut_by_the_time_limit_says_so() -> None:
    """A heuristic the time limit cuts short reports status time_limit and limit time (as
    every kind's heuristics do); run to its end, feasible and limit none."""
    inst = random_instance(3, 40)
    cut = solve(inst, "random", time_limit=0.05, samples=10**9)
    assert cut.status == "time_limit" and cut.limit == "time"
    assert cut.objective == inst.evaluate(cut.mask)
    done = solve(inst, "random", time_limit=60, samples=100)
    assert done.status == "feasible" and done.limit == "none"


def test_values_near_the_float64_maximum_end_within_the_time_limit() -> None:
    """Values near ±1.7e308 summed to inf and then NaN in the local search's running sum, and
    its descent never stopped (a hang, whatever the time limit). It runs in a child process
    so that the old behaviour fails the test instead of hanging the suite."""
    code = textwrap.dedent("""
        from exactprune.instances import generate_subset_sum
        from exactprune.solvers import solve
        for seed in (0, 1):
            inst = generate_subset_sum(14, seed=seed, low=-1.7e308, high=1.7e308)
            opt = solve(inst, "mitm").objective
            for name in ("local_search", "greedy", "random", "core_search"):
                res = solve(inst, name, time_limit=2, seed=seed)
                assert res.objective == inst.evaluate(res.mask) >= opt, (name, res)
        print("ok")
    """)
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          timeout=120)
    assert proc.returncode == 0 and proc.stdout.strip() == "ok", proc.stderr


@pytest.mark.parametrize("seed", range(12))
def test_core_search_only_improves_its_start_and_keeps_max_kept(seed: int) -> None:
    """Each round solves the core exactly with the incumbent fixed elsewhere, so the incumbent's
    own choice on the core is a candidate: the result is never worse than the warm start."""
    import numpy as np

    inst = random_instance(seed, 30)
    max_kept = None if seed % 3 else 6
    rng = np.random.default_rng(seed)
    start = np.zeros(30, dtype=bool)
    start[rng.choice(30, size=5, replace=False)] = True
    res = solve(inst, "core_search", seed=seed, max_kept=max_kept, warm_start=start,
                options={"core": 8, "rounds": 6})
    assert res.stats == {"rounds": 6, "warm_start": "accepted"}
    assert inst.exact_error(res.mask) <= inst.exact_error(start)
    assert res.objective >= solve(inst, "mitm", max_kept=max_kept).objective
    if max_kept is not None:
        assert res.kept <= max_kept


def test_core_search_over_every_value_is_mitm() -> None:
    """A core of all n values is one exact round: the optimum, found without a certificate."""
    for seed in range(5):
        inst = random_instance(seed, 18)
        res = solve(inst, "core_search", options={"core": 18})
        assert res.stats["rounds"] == 1 and not res.certified
        assert inst.exact_error(res.mask) == inst.exact_error(solve(inst, "mitm").mask)


@pytest.mark.parametrize("engine", ["scip", "highs", "cpsat", "auto"])
def test_exact_engines_above_mitm_start_from_core_search(engine: str) -> None:
    """Above n = 62 the engines' own incumbents were poor (n = 63, 4 s: SCIP 2.7e-6, CP-SAT
    6.3e-7): without a warm start they start from core_search, whose masks reach about
    2^-40 of the range; a given warm start is used instead."""
    from exactprune.instances import generate_subset_sum

    inst = generate_subset_sum(63, seed=0)
    res = solve(inst, engine, time_limit=3)  # core_search's first rounds reach ~1e-13
    assert res.stats["warm_start_source"] == "core_search"
    assert res.stats["warm_start"] == "accepted" and not res.certified
    assert res.objective < 1e-9 and res.objective == inst.evaluate(res.mask)
    given = solve(inst, engine, time_limit=1, warm_start=res.mask)
    assert "warm_start_source" not in given.stats
    assert given.objective <= res.objective


@pytest.mark.parametrize("engine", ["scip", "cpsat"])
def test_a_warm_start_over_max_kept_leaves_the_core_search_start_on(engine: str) -> None:
    """A warm start over max_kept was rejected and then no core_search start ran either: the
    engine's own incumbent, 1.9e-6 against 1.2e-8 without a start (n = 80, 2 s; hunt 192 L2)."""
    from exactprune.instances import generate_subset_sum

    inst = generate_subset_sum(80, seed=3)
    over = np.zeros(80, dtype=bool)
    over[:11] = True
    res = solve(inst, engine, time_limit=2, max_kept=10, warm_start=over)
    assert res.stats["warm_start_source"] == "core_search"
    assert res.stats["warm_start"] == "rejected" and res.kept <= 10
    assert res.notes[0] == "warm start rejected: it keeps more than max_kept"
    assert sum("warm start rejected" in note for note in res.notes) == 1


def test_core_search_cut_by_its_time_limit_says_so() -> None:
    """One round over every value (n <= 40) cut by the limit returned the greedy mask as
    `feasible`; a round or rounds left undone by the limit is `time_limit` now."""
    inst = random_instance(1, 40)
    cut = solve(inst, "core_search", time_limit=1e-3)
    assert cut.status == "time_limit" and cut.objective == inst.evaluate(cut.mask)
    whole = solve(inst, "core_search", time_limit=60)
    assert whole.status == "feasible" and whole.stats["rounds"] == 1
    assert whole.objective == solve(inst, "mitm").objective


def test_core_search_under_a_short_limit_grows_its_cores_from_a_small_first_one(
        monkeypatch) -> None:
    """Every round over 40 values (about 0.3 s) left a limit below that the greedy mask, and
    overran it by the first round (n = 62, 0.05 s: 8.1e-3 in 0.1 s). The first round is over
    FIRST_CORE values now, each next one over the most values projected to fit in the time
    left, never fewer than the last; rounds given (or no limit) keep `core` throughout."""
    from exactprune.instances import generate_subset_sum
    from exactprune.solvers.clock import Clock
    from exactprune.solvers.result import Goal
    from exactprune.solvers.subset_sum import heuristics, mitm

    nxt = heuristics._next_core
    assert nxt(24, 0.001, 1.0, 40) == 40  # 2^(16/2) = 256 x 1 ms fits in 1 s
    assert nxt(24, 0.001, 0.01, 40) == 24 + math.floor(2 * math.log2(10))
    assert nxt(36, 0.1, 0.01, 40) == 36  # never fewer than the last
    assert nxt(24, 0.001, 100.0, 32) == 32
    sizes: list[int] = []
    real = mitm.run_mitm

    def counted(sub, goal, opts):
        sizes.append(sub.n)
        return real(sub, goal, opts)

    monkeypatch.setattr(mitm, "run_mitm", counted)
    inst = generate_subset_sum(62, seed=0)
    x, z = heuristics.ranking_values(inst)
    greedy = inst.exact_error(heuristics.greedy_mask(x, z, 62))
    found = heuristics.core_search(inst, Goal(), Clock(0.05), 0, rounds=None)
    assert sizes[0] == heuristics.FIRST_CORE and sizes == sorted(sizes)
    assert found.cores == (sizes[0], sizes[-1]) and found.rounds == len(sizes)
    assert inst.exact_error(found.mask) < greedy * 1e-3  # about 2^-30 of the range
    sizes.clear()
    fixed = heuristics.core_search(inst, Goal(), Clock(None), 0, rounds=2)
    assert sizes == [40, 40] and fixed.cores == (40, 40)
    res = solve(inst, "core_search", time_limit=0.05)
    assert f"core of {heuristics.FIRST_CORE} " in res.notes[0] or \
        f"core of {heuristics.FIRST_CORE} to " in res.notes[0]


def test_a_core_search_round_whose_target_float64_cannot_hold_is_skipped_not_counted() -> None:
    """A round whose remaining target (the target minus the fixed values) is beyond float64
    is skipped; it counted as a round run in the notes and stats (hunts 196, 202)."""
    from exactprune.instances import SubsetSumInstance
    from exactprune.solvers.result import Goal, SolveOptions
    from exactprune.solvers.subset_sum import mitm

    inst = SubsetSumInstance(values=np.array([1e308] * 45 + [0.5] * 5), target=0.0)
    start = np.zeros(50, dtype=bool)
    start[:45] = True  # every core leaves at least 5 values of 1e308 fixed: beyond float64
    res = solve(inst, "core_search", warm_start=start, options={"rounds": 3})
    assert res.stats["rounds"] == 0 and res.notes[0].startswith("heuristic: 0 rounds")
    assert "3 more rounds skipped: the target left for the core" in res.notes[0]
    assert res.mask.tolist() == start.tolist()  # nothing ran, the start stands
    # said on mitm's path too (its table not built in time; hunt 205 L2)
    mixed = SubsetSumInstance(values=np.array([1e308] * 45 + [-0.5] * 5), target=0.0)
    raw = mitm.run_mitm(mixed, Goal(), SolveOptions(time_limit=1e-9, warm_start=start))
    assert "skipped: the target left for the core exceeds float64" in raw.notes[0]


def test_heuristics_cut_by_the_limit_say_so_and_keep_a_better_warm_start() -> None:
    """greedy and local_search stopped by the time limit said `feasible` (limit none), and
    local_search, given the optimum as warm start, returned the greedy mask, 270,000x worse,
    with `warm_start: accepted` (hunt 11)."""
    from exactprune.instances import generate_subset_sum

    inst = generate_subset_sum(n=18, seed=2)
    best = solve(inst, "mitm")
    for name in ("greedy", "local_search"):
        assert str(solve(inst, name).status) == "feasible"
        cut = solve(inst, name, time_limit=1e-9)
        assert str(cut.status) == "time_limit" and str(cut.limit) == "time", name
    res = solve(inst, "local_search", time_limit=1e-9, warm_start=best.mask)
    assert res.stats["warm_start"] == "accepted"
    assert res.objective <= best.objective


@pytest.mark.parametrize("engine", ["cpsat", "highs", "scip", "cbc"])
def test_exact_engines_stopped_at_once_return_a_mask_and_judge_warm_starts_exactly(
        engine: str) -> None:
    """Under a limit too short to start, the subset-sum engines returned no mask at all (the
    greedy mask is free and feasible); cpsat called a start breaking max_kept "accepted" when
    CP-SAT stopped before judging its hint (hunt 11)."""
    import numpy as np

    from exactprune.instances import generate_subset_sum

    inst = generate_subset_sum(n=18, seed=2)
    greedy = solve(inst, "greedy")
    res = solve(inst, engine, time_limit=1e-9)
    assert str(res.status) == "time_limit" and res.mask is not None
    assert res.objective <= greedy.objective
    capped = solve(inst, engine, time_limit=1e-9, max_kept=2, warm_start=np.ones(18, bool))
    assert capped.stats["warm_start"] == "rejected"
    assert capped.mask is not None and capped.mask.sum() <= 2


def test_auto_takes_max_kept_on_pruning_and_other_backends_options_as_allowances() -> None:
    """auto picked SCIP, which refuses max_kept on pruning although bruteforce solves it, and
    handed mitm's memory_limit_gb to SCIP above n = 62 (refused; hunt 11). An option no
    backend of the kind has is still refused."""
    from exactprune.instances import InputError, generate_neuron_pruning, generate_subset_sum

    net = generate_neuron_pruning(2, 14, 16, 4)
    res = solve(net, "auto", max_kept=3)
    assert res.solver == "bruteforce" and res.certified and res.kept <= 3
    big = generate_subset_sum(n=70, seed=0)
    res = solve(big, "auto", time_limit=0.5, options={"memory_limit_gb": 2})
    assert "memory_limit_gb, left unused" in res.notes[0]
    with pytest.raises(InputError, match="auto chose cpsat for this instance: .*no option 'cutz'"):
        solve(big, "auto", time_limit=0.5, options={"cutz": 1})
    # an unused option's bad value is still refused, whatever auto picks (hunt 15: exit 0 when
    # auto picked mitm, exit 2 when it picked SCIP)
    small = generate_subset_sum(n=12, seed=0)
    with pytest.raises(InputError, match="exclusion_rounds must be >= 0"):
        solve(small, "auto", options={"exclusion_rounds": -5})
    with pytest.raises(InputError, match="memory_limit_gb"):
        solve(big, "auto", time_limit=0.5, options={"memory_limit_gb": -1})


def test_auto_refuses_another_backends_option_only_when_no_backend_takes_the_value() -> None:
    """`lr` is edge_popup's (> 0) and imp's (> 0, <= 2): auto refused lr = 3 by imp's range
    alone, naming imp, though edge_popup takes it (hunt 178 L1). A value every owner refuses
    is still refused, in one line naming them."""
    from exactprune.instances import InputError
    from exactprune.instances.neuron_selection import synthetic_neuron_selection

    inst = synthetic_neuron_selection(9, 4, m=12, outputs=2, loss="linf", seed=198403)
    assert solve(inst, "edge_popup", options={"lr": 3}, seed=0).mask is not None
    res = solve(inst, "auto", options={"lr": 3})
    assert res.certified and "lr, left unused" in res.notes[0]
    with pytest.raises(InputError, match=r"no neuron_selection solver takes lr=-1: option lr "
                                         r"must be > 0, got -1.0 \(edge_popup, imp\)"):
        solve(inst, "auto", options={"lr": -1})


@pytest.mark.parametrize("width", [8, 24])  # auto picks bruteforce, then SCIP
def test_auto_refuses_an_option_set_no_backend_takes_on_the_instance(width: int) -> None:
    """initial_points without lazy=true was dropped with a note when auto picked bruteforce
    (masks of at most 12 entries) and refused when it picked SCIP (hunt 180 L1): every backend
    that declares it refuses it without lazy=true, so auto refuses it whatever it picks; with
    lazy=true it is an allowance again."""
    from exactprune.instances import InputError, generate_neuron_pruning

    inst = generate_neuron_pruning(d=2, width=width, points=32, seed=0)
    with pytest.raises(InputError, match=r"initial_points .*needs --option lazy=true"):
        solve(inst, "auto", time_limit=20, options={"initial_points": 5})
    res = solve(inst, "auto", time_limit=20, options={"lazy": True, "initial_points": 5})
    assert res.certified and res.objective == inst.evaluate(res.mask)
    l1 = generate_neuron_pruning(d=2, width=width, points=32, seed=0, norm="l1")
    with pytest.raises(InputError, match="lazy point generation needs the linf norm"):
        solve(l1, "auto", time_limit=20, options={"lazy": True})


def test_auto_judges_an_option_by_the_backends_that_take_the_instance_and_blames_the_right_one(
        ) -> None:
    """Hunt 183 M1: at d = 11 CBC refuses the dictionary model, and its silence read as
    taking initial_points (dropped with a note) where SCIP and Gurobi refuse it without
    lazy=true, as at d = 10; L1: the refusal named recheck=false, the first option checked,
    for initial_points' fault. Backends that refuse the instance or goal say nothing."""
    from exactprune.instances import InputError, generate_neuron_pruning, generate_weight_pruning

    for d in (10, 11):  # auto picks bruteforce (one unit of d weights) on both
        inst = generate_weight_pruning(d=d, width=1, points=16, seed=0)
        with pytest.raises(InputError, match=r"takes initial_points=3: .*needs --option lazy"):
            solve(inst, "auto", options={"initial_points": 3})
    relu = generate_neuron_pruning(d=2, width=8, points=32, seed=0, output_activation="relu")
    for opts, culprit in [({"recheck": False, "initial_points": 3}, "initial_points=3"),
                          ({"cuts": True, "formulation": "antipodal"}, "formulation=antipodal"),
                          ({"formulation": "antipodal", "cuts": True}, "formulation=antipodal")]:
        with pytest.raises(InputError, match=f"no neuron_pruning solver takes {culprit}:"):
            solve(relu, "auto", options=opts)
    l1 = generate_neuron_pruning(d=2, width=8, points=32, seed=0, norm="l1")
    with pytest.raises(InputError, match="takes lazy=True: lazy point generation needs"):
        solve(l1, "auto", options={"lazy": True, "initial_points": 3})
    # CBC cannot read formulation=bigm: it says nothing of initial_points beside it (read as
    # taking it, the pair was dropped where initial_points alone is refused; hunt 185 M1)
    small = generate_weight_pruning(d=2, width=2, points=16, seed=207000)
    with pytest.raises(InputError, match=r"takes initial_points=3: .*needs --option lazy"):
        solve(small, "auto", options={"initial_points": 3, "formulation": "bigm"})
    assert solve(small, "auto", options={"formulation": "bigm", "lazy": True,
                                         "initial_points": 3}).certified
    # no backend that takes max_kept declares initial_points: an allowance, dropped
    res = solve(relu, "auto", max_kept=2, options={"initial_points": 3})
    assert res.certified and "initial_points, left unused" in res.notes[0]


def test_random_search_starts_with_a_small_block_under_a_time_limit() -> None:
    """The first block of 2^22 / n masks ran whatever the limit: at n = 3000 a limit of 0.01 s
    took 0.2 s, over 1 s on data whose scaling is lossy (hunt 42). Blocks now start at 16 masks
    and grow as the time left allows."""
    from exactprune.instances import generate_subset_sum

    inst = generate_subset_sum(3000, seed=0)
    res = solve(inst, "random", time_limit=1e-6, options={"samples": 100_000})
    assert res.status == "time_limit" and res.stats["samples"] == 16
    assert res.objective == inst.evaluate(res.mask)
    whole = solve(inst, "random", options={"samples": 300})
    assert whole.status == "feasible" and whole.stats["samples"] == 300


@pytest.mark.parametrize("max_kept", [None, 20])
def test_random_search_masks_do_not_depend_on_where_blocks_end(monkeypatch,
                                                               max_kept: int | None) -> None:
    """Blocks end where the time left says; masks over max_kept were redrawn from the main
    stream between blocks, so a slow block changed the masks drawn after it, and the result
    of a run that still drew every sample (hunt 45 F2)."""
    from exactprune.instances import generate_subset_sum
    from exactprune.solvers.clock import Clock

    inst = generate_subset_sum(200, seed=1)
    plain = solve(inst, "random", seed=3, max_kept=max_kept, options={"samples": 500})
    assert plain.stats["samples"] == 500
    # a clock that always has a sliver of time left: blocks of a few masks, never stopped
    monkeypatch.setattr(Clock, "remaining", lambda self: 2e-5)
    monkeypatch.setattr(Clock, "expired", lambda self, margin=0.0: False)
    short = solve(inst, "random", seed=3, max_kept=max_kept, time_limit=100,
                  options={"samples": 500})
    assert short.stats["samples"] == 500
    assert np.array_equal(short.mask, plain.mask) and short.objective == plain.objective


def test_best_swap_is_the_dense_search_minimum() -> None:
    """local_search's swap move searches the sorted unkept values instead of the whole
    (kept x unkept) matrix (7 GB at n = 60,000; hunt 71 H1): the least error it finds is the
    matrix's, bit for bit, also with ties, values one ulp apart and 600 orders of magnitude."""
    from exactprune.solvers.subset_sum.heuristics import _best_swap

    rng = np.random.default_rng(7)
    for t in range(2000):
        n = int(rng.integers(2, 30))
        x = awkward_values(rng, n, ("uniform", "ties", "ulps", "scales")[t % 4])
        mask = rng.random(n) < 0.5
        z = float(rng.choice([rng.uniform(-2, 2), x[~mask].sum(), x[0] - x[-1]]))
        s = float(x[mask].sum())
        err, i_out, i_in = _best_swap(x, z, s, mask)
        out_idx, in_idx = np.flatnonzero(mask), np.flatnonzero(~mask)
        if not (len(out_idx) and len(in_idx)):
            assert err == math.inf
            continue
        dense = np.abs(s - x[out_idx][:, None] + x[in_idx][None, :] - z)
        assert err == dense.min()
        assert mask[i_out] and not mask[i_in] and err == abs(s - x[i_out] + x[i_in] - z)
