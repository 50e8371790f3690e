"""MILP backends (cbc, highs, scip), the neutral MilpModel, and MPS/LP export.

Every check runs the real solvers on small instances and compares with independent oracles:
`bruteforce` (exhaustive, exact re-check) for n <= 12, `mitm` for n = 30, and plain
enumeration of all integer points for the generic converter tests.
"""

from __future__ import annotations

import itertools
import json
import math
import os
import re
import subprocess
import sys
import warnings
from fractions import Fraction
from pathlib import Path

import numpy as np
import pytest

from exactprune.benchmarks.cbc_cuts import cbc_with_cutting_planes
from exactprune.formulations.export import build_model, export_model
from exactprune.formulations.linear import (
    MilpModel,
    to_highs,
    to_ortools,
    to_pulp_with_vars,
)
from exactprune.formulations.subset_sum.milp import subset_sum_model
from exactprune.instances import InputError, SubsetSumInstance, generate_subset_sum
from exactprune.solvers import Goal, Status, get_backend, solve
from exactprune.solvers.milp_engines import ENGINES, native_stdout, parse_cbc_log, solve_model
from exactprune.solvers.result import SolveOptions

BACKENDS = ["cbc", "highs", "scip"]


def _require(name: str) -> None:
    if not get_backend(name, "subset_sum").available():
        pytest.skip(f"{name} is not available here")


@pytest.fixture(params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    _require(request.param)
    return request.param


def _cases() -> list[tuple[SubsetSumInstance, dict]]:
    """40 min_error instances (n = 4..12), 10 with max_kept, 14 sparsest (some infeasible, some
    with eps exactly at / one ulp below a mask's error), 3 with near-duplicate values."""
    cases: list[tuple[SubsetSumInstance, dict]] = []
    for seed in range(40):
        cases.append((generate_subset_sum(4 + seed % 9, seed=seed), {}))
    for seed in range(10):
        n = 6 + seed % 7
        cases.append((generate_subset_sum(n, seed=100 + seed), {"max_kept": 1 + seed % 4}))
    for seed in range(8):
        eps = [0.05, 0.01, 1e-3, 1e-13][seed % 4]  # 1e-13: infeasible unless a lucky hit
        cases.append((generate_subset_sum(5 + seed, seed=200 + seed),
                      {"objective": "sparsest", "eps": eps}))
    for seed in range(3):
        inst = generate_subset_sum(9, seed=300 + seed)
        best = solve(inst, "bruteforce", objective="sparsest", eps=0.02)
        t = float(inst.exact_error(best.mask))
        for eps in (t, math.nextafter(t, 0.0)):
            cases.append((inst, {"objective": "sparsest", "eps": eps}))
    rng = np.random.default_rng(7)
    for k in range(3):
        base = rng.uniform(-1, 1, 4)
        values = np.concatenate([base, base + (0.0, 1e-10, 3e-9)[k], rng.uniform(-1, 1, 2)])
        cases.append((SubsetSumInstance(values=values, target=float(rng.uniform(-1, 1))), {}))
    return cases


CASES = _cases()


def _check_against_oracle(inst: SubsetSumInstance, res, ref) -> list[str]:
    """Problems with `res` compared with the exact oracle result `ref` (empty: fine)."""
    bad: list[str] = []
    if res.certified:
        if res.status != ref.status:
            bad.append(f"certified {res.status} but the oracle says {ref.status}")
        elif res.objective != ref.objective:  # tolerance 0: exact equality
            bad.append(f"certified objective {res.objective!r} != oracle {ref.objective!r}")
        if res.tolerance not in (0.0, None):
            bad.append(f"certified with tolerance {res.tolerance}")
    else:
        if res.status is Status.OPTIMAL:
            bad.append("status optimal without a certificate")
        if res.status is Status.INFEASIBLE:
            bad.append("status infeasible without a certificate")
        if res.objective is not None and ref.objective is not None:
            if res.objective < ref.objective - 1e-15:
                bad.append(f"objective {res.objective!r} beats the optimum {ref.objective!r}")
    if res.mask is not None and res.error != inst.evaluate(res.mask):
        bad.append("reported error is not the mask's own error")
    if res.bound is not None and ref.objective is not None and res.bound > ref.objective:
        bad.append(f"bound {res.bound!r} above the true optimum {ref.objective!r}")
    return bad


def test_small_instances_match_bruteforce(backend: str) -> None:
    failures: list[str] = []
    certified = 0
    for k, (inst, goal) in enumerate(CASES):
        ref = solve(inst, "bruteforce", **goal)
        assert ref.certified
        res = solve(inst, backend, **goal)
        certified += res.certified
        failures += [f"case {k} (n={inst.n}, {goal}): {p}"
                     for p in _check_against_oracle(inst, res, ref)]
    assert not failures, "\n".join(failures)
    # The certificate must actually work on easy instances, not only be withheld.
    assert certified >= len(CASES) - 3, f"only {certified}/{len(CASES)} certified"


def _duplicated_cases() -> list[tuple[SubsetSumInstance, dict]]:
    """Instances whose values repeat: a pool of 2-4 random floats (and 0.0 / -0.0), each value
    kept 1-5 times, shuffled; min_error, with max_kept, and sparsest."""
    rng = np.random.default_rng(58)
    cases: list[tuple[SubsetSumInstance, dict]] = []
    for k in range(24):
        pool = [*rng.uniform(-1, 1, 2 + k % 3).tolist(), *([0.0, -0.0] if k % 5 == 0 else [])]
        values = np.array([v for v in pool for _ in range(int(rng.integers(1, 6)))])
        rng.shuffle(values)
        values = values[:12]
        inst = SubsetSumInstance(values=values, target=float(rng.uniform(-1.5, 1.5)))
        goal = [{}, {"max_kept": 2}, {"objective": "sparsest", "eps": 0.05}][k % 3]
        cases.append((inst, goal))
    return cases


@pytest.mark.parametrize("engine", [*BACKENDS, "gurobi"])
def test_repeated_values_are_certified_and_match_bruteforce(engine: str) -> None:
    """Masks keeping as many of each repeated value have the same exact sum: a no-good row
    excluded one of them, the next round found its copy, and no exclusion certificate was ever
    possible (19 of these 24 certified before the symmetry rows, on every engine). Gurobi
    solves without the rows (`GUROBI_SYMMETRY_ROWS`): honest, not always certified."""
    _require(engine)
    failures: list[str] = []
    certified = 0
    cases = _duplicated_cases()
    for k, (inst, goal) in enumerate(cases):
        ref = solve(inst, "bruteforce", **goal)
        res = solve(inst, engine, **goal)
        certified += res.certified
        failures += [f"case {k} (values {inst.values.tolist()}, target {inst.target!r}, "
                     f"{goal}): {p}" for p in _check_against_oracle(inst, res, ref)]
    assert not failures, "\n".join(failures)
    if engine != "gurobi":
        assert certified == len(cases), f"only {certified}/{len(cases)} certified"


HUNT78_GUROBI_CASES = [
    ([0.10077790685950044] * 2 + [0.19029901833790377] * 3 + [0.26082330549004884],
     0.7421999912246058),
    ([0.5053844307676528, 0.8334430584097696, 0.08671418348891963, 0.3404853546035103,
      0.3404853546035103, 0.08671418348891963], 1.5144137827609279),
    ([0.5279814014964856, 0.4272558126804744, 0.2853039890028203, 0.2853039890028203,
      0.5279814014964856, 0.5279814014964856], 1.2405413272339008),
]


@pytest.mark.parametrize(("values", "target"), HUNT78_GUROBI_CASES)
def test_gurobi_with_repeated_values_never_certifies_a_wrong_optimum(
        values: list[float], target: float) -> None:
    """Hunt 78: with the symmetry rows Gurobi 13.0.3 called these optimal at 0.0303, 0.00216
    and 0.1007, where 7.4e-7, 1.5e-8 and 1.2e-7 exist (plain gurobipy too), so it solves the
    plain model; every engine's answer is checked against the oracle here."""
    inst = SubsetSumInstance(values=values, target=target)
    ref = solve(inst, "bruteforce")
    for engine in [*BACKENDS, "gurobi"]:
        if not get_backend(engine, "subset_sum").available():
            continue
        res = solve(inst, engine, time_limit=20)
        assert not _check_against_oracle(inst, res, ref), (engine, res.notes)
        if engine != "gurobi":
            assert res.certified, (engine, res.notes)


@pytest.mark.parametrize("engine", BACKENDS)
def test_sparsest_on_copies_of_one_value_is_certified(engine: str) -> None:
    """Twelve copies of 0.1, target 0.55, eps 0.05: five copies err by 0.05 + 1.4e-17 exactly,
    inside every engine's tolerance, and there are 792 such masks; the rounds excluded four
    and ended in `error`. With one mask per count the first round's is excluded and six
    copies are certified."""
    _require(engine)
    inst = SubsetSumInstance(values=[0.1] * 12, target=0.55)
    res = solve(inst, engine, objective="sparsest", eps=0.05)
    assert res.status is Status.OPTIMAL and res.certified
    assert int(res.mask.sum()) == 6
    five = np.arange(12) < 5
    assert inst.exact_error(res.mask) <= Fraction(0.05) < inst.exact_error(five)


def test_the_symmetry_benchmarks_before_setting_is_the_old_behaviour() -> None:
    """`without_symmetry_rows` (the A/B's "before") must bring the failure back, or the
    benchmark compares the new code with itself."""
    from exactprune.benchmarks.subset_sum.symmetry_rows import (
        pooled_instance,
        without_symmetry_rows,
    )

    inst = SubsetSumInstance(values=[0.1] * 12, target=0.55)
    pooled = pooled_instance(20, 0)
    with without_symmetry_rows():
        before = solve(inst, "highs", objective="sparsest", eps=0.05)
        cpsat_before = solve(pooled, "cpsat")
    after = solve(inst, "highs", objective="sparsest", eps=0.05)
    cpsat_after = solve(pooled, "cpsat")
    assert before.status is Status.ERROR and not before.certified
    assert after.certified and int(after.mask.sum()) == 6
    # CP-SAT certifies either way here; without its implications it searches the copies
    # (12,211 branches against 971 when written)
    assert cpsat_before.certified and cpsat_after.certified
    assert cpsat_before.stats["branches"] > 4 * cpsat_after.stats["branches"]


@pytest.mark.parametrize("seed", range(6))
def test_symmetry_rows_admit_one_mask_per_class(seed: int) -> None:
    """Enumerated: the model's order rows and bounds hold exactly for one mask of each class
    (the same count of each group of equal nonzero values, any zeros), `canonical_mask`, which
    has the class's exact sum and keeps no zero."""
    from exactprune.formulations.subset_sum.milp import canonical_mask, equal_value_groups

    rng = np.random.default_rng(seed)
    values = rng.choice([0.3, -0.7, 0.0, -0.0, 0.1 * seed, 1e-9], size=9)
    inst = SubsetSumInstance(values=values, target=0.25)
    model = subset_sum_model(inst, Goal(), break_symmetry=True)
    groups = equal_value_groups(values)
    assert all(np.all(np.diff(g) > 0) and np.all(values[g] == values[g[0]]) for g in groups)
    order_rows = [(*model.row(r), model.row_lower[r], model.row_upper[r])
                  for r, name in enumerate(model.row_names) if name.startswith("order_")]
    admitted: dict[tuple, np.ndarray] = {}
    for bits in itertools.product([False, True], repeat=9):
        mask = np.array(bits)
        key = tuple(sorted(Fraction(float(v)) for v in values[mask] if v != 0))
        canon = canonical_mask(values, mask)
        assert tuple(sorted(Fraction(float(v)) for v in values[canon])) == key
        assert inst.exact_error(canon) == inst.exact_error(mask)
        point = mask.astype(float)
        in_bounds = np.all(point[: inst.n] <= model.upper[: inst.n])
        if in_bounds and all(lo <= float(coef @ point[idx]) <= hi
                             for idx, coef, lo, hi in order_rows):
            assert key not in admitted, "two masks of one class admitted"
            assert np.array_equal(mask, canon)
            admitted[key] = mask
    sizes = [g.size for g in groups]
    singles = int(np.count_nonzero(values)) - sum(sizes)
    assert len(admitted) == math.prod(s + 1 for s in sizes) * 2 ** singles


def test_symmetry_rows_widen_the_slack_only_for_repeated_values() -> None:
    from exactprune.formulations.subset_sum.milp import subset_sum_slack

    tol = ENGINES["cbc"].tolerances()
    plain = generate_subset_sum(10, seed=0)
    for goal in (Goal(), Goal(max_kept=3)):
        assert (subset_sum_slack(plain, goal, tol, break_symmetry=True)
                == subset_sum_slack(plain, goal, tol))
    copies = SubsetSumInstance(values=[0.1] * 10, target=0.55)
    assert (subset_sum_slack(copies, Goal(), tol, break_symmetry=True)
            > subset_sum_slack(copies, Goal(), tol))
    sparse = Goal(objective="sparsest", eps=0.05)  # a relaxation: the slack has no duals
    assert (subset_sum_slack(copies, sparse, tol, break_symmetry=True)
            == subset_sum_slack(copies, sparse, tol))


@pytest.mark.parametrize("case", ["all zero", "above the range", "below the range",
                                  "above, max_kept"])
def test_target_outside_the_subset_sums_is_certified(backend: str, case: str) -> None:
    """Every mask's error is at least the target's distance from [sum of negatives, sum of
    positives]. With all-zero values that is every mask's error, which the LP bound minus the
    slack alone never certified; a target beyond the range is checked along."""
    values, target, goal = {
        "all zero": (np.zeros(4), 0.5, {}),
        "above the range": (np.array([0.25, 0.5, -0.1, 0.125]), 3.0, {}),
        "below the range": (np.array([0.25, 0.5, -0.1, 0.125]), -3.0, {}),
        "above, max_kept": (np.array([0.25, 0.5, -0.1, 0.125]), 3.0, {"max_kept": 1}),
    }[case]
    inst = SubsetSumInstance(values=values, target=target)
    ref = solve(inst, "bruteforce", **goal)
    res = solve(inst, backend, **goal)
    assert not _check_against_oracle(inst, res, ref)
    if not goal:  # with max_kept the range is only a lower bound
        assert res.certified and res.objective == ref.objective


@pytest.mark.parametrize(("n", "seed", "eps"), [(8, 3, 1e-14), (5, 4, 1e-2)])
def test_sparsest_infeasible_is_certified(backend: str, n: int, seed: int, eps: float) -> None:
    # (5, 4, 1e-2): CBC 2.10 detects it in preprocessing ("infeasible or unbounded")
    inst = generate_subset_sum(n, seed=seed)
    ref = solve(inst, "bruteforce", objective="sparsest", eps=eps)
    assert ref.status is Status.INFEASIBLE
    res = solve(inst, backend, objective="sparsest", eps=eps)
    assert res.status is Status.INFEASIBLE and res.certified and res.mask is None


@pytest.mark.parametrize("seed", [0, 1])
def test_n30_no_false_certificate(backend: str, seed: int) -> None:
    inst = generate_subset_sum(30, seed=seed)
    ref = solve(inst, "mitm")
    res = solve(inst, backend, time_limit=2.0)
    assert res.objective is None or res.objective >= ref.objective
    if res.certified:
        assert res.objective == ref.objective
    else:
        assert res.status is not Status.OPTIMAL
    if res.bound is not None:
        assert res.bound <= ref.objective


@pytest.mark.slow
@pytest.mark.parametrize("seed", [0, 1, 2, 3])
def test_n30_no_false_certificate_long(backend: str, seed: int) -> None:
    inst = generate_subset_sum(30, seed=seed)
    ref = solve(inst, "mitm")
    res = solve(inst, backend, time_limit=10.0)
    assert not (res.certified and ref.objective < res.objective)
    if res.bound is not None:
        assert res.bound <= ref.objective


def test_time_limit_is_honest(backend: str) -> None:
    inst = generate_subset_sum(40, seed=11)
    res = solve(inst, backend, time_limit=0.2)
    assert res.status in (Status.TIME_LIMIT, Status.FEASIBLE, Status.ERROR)
    assert not res.certified
    assert res.wall_time_s < 10.0
    if res.mask is not None:
        assert res.objective == inst.evaluate(res.mask)
    if res.bound is not None:
        assert res.bound <= solve(inst, "mitm").objective


def test_warm_start_is_used_and_never_lost(backend: str) -> None:
    inst = generate_subset_sum(24, seed=4)
    ref = solve(inst, "mitm")
    # Too little time to find the optimum from scratch: the warm start must survive.
    res = solve(inst, backend, time_limit=0.3, warm_start=ref.mask)
    assert res.mask is not None and res.objective == ref.objective
    small = generate_subset_sum(10, seed=4)
    oracle = solve(small, "bruteforce", max_kept=2)
    res = solve(small, backend, max_kept=2, warm_start=np.ones(10, dtype=bool))
    assert any("warm start rejected" in n for n in res.notes)
    assert res.stats["warm_start"] == "rejected"
    assert res.certified and res.objective == oracle.objective


def test_result_records_slack_and_version(backend: str) -> None:
    inst = generate_subset_sum(8, seed=1)
    res = solve(inst, backend)
    assert res.stats["slack_T"] > 0
    assert res.stats["tolerances"]["abs_gap"] == 0.0
    assert res.stats["rounds"][0]["status"] == "optimal"
    assert res.solver_objective is not None
    assert abs(res.solver_objective - res.objective) < 1e-6
    pattern = {"cbc": r"^CBC \S+ \(PuLP \S+\)$", "highs": r"^HiGHS \d+\.\d+\.\d+$",
               "scip": r"^SCIP \S+ \(OR-Tools \S+\)$"}[backend]
    assert res.solver_version is not None
    assert re.match(pattern, res.solver_version), res.solver_version


def _solves_in_a_subprocess(lines: str) -> subprocess.CompletedProcess[str]:
    """Run `lines` (with generate_subset_sum and solve imported) in a fresh Python, whose
    stdout and stderr are captured at the file-descriptor level (native solver output)."""
    code = ("from exactprune.instances import generate_subset_sum\n"
            "from exactprune.solvers import solve\n" + lines)
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         timeout=120)
    assert out.returncode == 0, out.stderr
    return out


def test_highs_and_scip_keep_stdout_clean() -> None:
    """The CLI prints JSON on stdout: native solver banners/logs must not land there."""
    out = _solves_in_a_subprocess(
        "inst = generate_subset_sum(6, seed=0)\n"
        "for s in ('highs', 'scip', 'cbc'):\n"
        "    solve(inst, s)\n"
        "    solve(inst, s, verbose=True)\n"
        "print('DONE')\n")
    assert out.stdout == "DONE\n"
    assert "HiGHS" in out.stderr  # the verbose logs went to stderr


def test_solves_in_threads_keep_stdout_and_find_their_solvers() -> None:
    """Solves started in threads at once (a thread pool, a Dask worker with several threads):
    every one finds its solver (the registry once marked a kind loaded before its backends
    were in: "unknown solver 'scip'"), and stdout is the process's own afterwards (each solve
    saving and restoring fd 1 on its own once left it at /dev/null, or let SCIP's log in)."""
    out = _solves_in_a_subprocess(
        "import os, threading\n"
        "from concurrent.futures import ThreadPoolExecutor\n"
        "from exactprune.instances import generate_neuron_pruning\n"
        "insts = [generate_neuron_pruning(d=2, width=24, points=64, seed=s) for s in range(8)]\n"
        "go = threading.Barrier(4)\n"
        "def run(i):\n"
        "    go.wait() if i < 4 else None\n"
        "    return solve(insts[i], 'scip' if i % 2 else 'highs', time_limit=30)\n"
        "with ThreadPoolExecutor(4) as ex:\n"
        "    res = list(ex.map(run, range(8)))\n"
        "print('certified', sum(r.certified for r in res), flush=True)\n"
        "os.write(1, b'fd 1 is stdout\\n')\n")
    assert out.stdout == "certified 8\nfd 1 is stdout\n", out.stdout[-2000:]


def test_a_solve_that_overlapped_another_hands_back_no_captured_text() -> None:
    """native_stdout(capture=True) shares one redirection between threads: a solve alone gets
    what it printed; one that overlapped another gets nothing rather than the other's."""
    import threading

    def native_print(text: str) -> None:
        os.write(1, text.encode())

    with native_stdout(False, capture=True) as alone:
        native_print("only me\n")
    assert alone.text == "only me\n"
    inside, leave = threading.Event(), threading.Event()
    seen: dict[str, str] = {}

    def other() -> None:
        with native_stdout(False, capture=True) as out:
            native_print("other\n")
            inside.set()
            leave.wait(10)
        seen["other"] = out.text

    t = threading.Thread(target=other)
    t.start()
    inside.wait(10)
    with native_stdout(False, capture=True) as mine:
        native_print("mine\n")
    leave.set()
    t.join(10)
    assert mine.text == "" and seen["other"] == ""
    with native_stdout(False, capture=True) as again:
        native_print("alone again\n")
    assert again.text == "alone again\n"


def test_scip_slack_uses_the_lp_tolerance_scip_really_runs_with() -> None:
    """The certificate's slack must use the tolerances the solve really ran with. SCIP hands
    numerics/dualfeastol to its LP solver, and SoPlex without GMP replaces values below its
    minimum, saying so in SCIP's log ("Cannot set optimality tolerance to small value 1e-12
    without GMP - using 1e-10"): the slack's optimality term must be at least that value."""
    out = _solves_in_a_subprocess("solve(generate_subset_sum(8, seed=0), 'scip', verbose=True)\n")
    assert "SCIP" in out.stderr  # the verbose log is there to read
    replaced = [float(v) for v in re.findall(
        r"Cannot set optimality tolerance to small value \S+ without GMP - using (\S+?)\.?$",
        out.stderr, flags=re.M)]
    from exactprune.solvers.milp_engines import SCIP_PARAMS

    runs_with = max([SCIP_PARAMS["numerics/dualfeastol"], *replaced])
    assert ENGINES["scip"].tolerances().optimality >= runs_with


# ---- the neutral model and its converters ----------------------------------------------------


def _toy_model() -> MilpModel:
    """max 3a + 2b + c + 0.5y, a,b binary, c integer in [0,3], y continuous in [0, 2.5];
    rows: 2a + b + c + y <= 4.2 (named cap), 1 <= a + b + c <= 3 (ranged), c − y == −0.5."""
    return MilpModel.from_rows(
        var_names=["a", "b", "c", "y"],
        lower=[0, 0, 0, 0], upper=[1, 1, 3, 2.5], integer=[True, True, True, False],
        objective=[3, 2, 1, 0.5],
        rows=[([0, 1, 2, 3], [2, 1, 1, 1], -math.inf, 4.2, "cap"),
              ([0, 1, 2], [1, 1, 1], 1, 3, "range"),
              ([2, 3], [1, -1], -0.5, -0.5, "link")],
        mask_variables=[0, 1], sense="max",
    )


def _toy_optimum() -> float:
    best = -math.inf
    for a, b, c in itertools.product((0, 1), (0, 1), range(4)):
        y = c + 0.5  # from the equality row
        if y > 2.5 or 2 * a + b + c + y > 4.2 + 1e-12 or not 1 <= a + b + c <= 3:
            continue
        best = max(best, 3 * a + 2 * b + c + 0.5 * y)
    return best


def test_converters_solve_the_same_model() -> None:
    import highspy
    import pulp
    from ortools.linear_solver import pywraplp

    model = _toy_model()
    expected = _toy_optimum()
    prob, _ = to_pulp_with_vars(model)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        cbc = getattr(pulp, "PULP_CBC_CMD", None) or pulp.COIN_CMD
        prob.solve(cbc(msg=False))
    assert pulp.value(prob.objective) == pytest.approx(expected, abs=1e-9)
    h = highspy.Highs()
    h.setOptionValue("output_flag", False)
    to_highs(model, h)
    h.run()
    assert h.getModelStatus() == highspy.HighsModelStatus.kOptimal
    assert h.getInfo().objective_function_value == pytest.approx(expected, abs=1e-9)
    s = pywraplp.Solver.CreateSolver("SCIP")
    if s is not None:
        to_ortools(model, s)
        assert s.Solve() == pywraplp.Solver.OPTIMAL
        assert s.Objective().Value() == pytest.approx(expected, abs=1e-9)


@pytest.mark.parametrize("engine", BACKENDS)
def test_engines_solve_any_model(engine: str) -> None:
    _require(engine)
    res = solve_model(engine, _toy_model(), SolveOptions())
    assert res.status == "optimal"
    assert _toy_model().objective_value(res.values) == pytest.approx(_toy_optimum(), abs=1e-6)
    assert res.objective == pytest.approx(_toy_optimum(), abs=1e-6)
    assert res.bound == pytest.approx(_toy_optimum(), abs=1e-6)  # a max model: upper bound
    assert list(_toy_model().mask_from_values(res.values).shape) == [2]


def test_no_good_row_excludes_exactly_one_mask() -> None:
    model = subset_sum_model(generate_subset_sum(4, seed=0), Goal())
    for target in itertools.product((0, 1), repeat=4):
        idx, coef, lo, hi, _ = model.no_good_row(np.array(target, dtype=bool), "cut")
        assert hi == math.inf
        for other in itertools.product((0, 1), repeat=4):
            activity = sum(c * other[i] for i, c in zip(idx, coef, strict=True))
            assert (activity >= lo) == (other != target)


def test_model_validation() -> None:
    good = dict(var_names=["a", "b"], lower=[0, 0], upper=[1, 1], integer=[True, True],
                objective=[1, 1], mask_variables=[0, 1])
    MilpModel.from_rows(rows=[([0, 1], [1, 1], 0, 1, "r")], **good)
    with pytest.raises(InputError):
        MilpModel.from_rows(rows=[([0, 0], [1, 1], 0, 1, "r")], **good)  # variable twice
    with pytest.raises(InputError):
        MilpModel.from_rows(rows=[([0, 2], [1, 1], 0, 1, "r")], **good)  # no variable 2
    with pytest.raises(InputError):
        MilpModel.from_rows(rows=[([0, 1], [1, 1], 2, 1, "r")], **good)  # lower > upper
    with pytest.raises(InputError):
        MilpModel.from_rows(rows=[], **{**good, "integer": [True, False]})  # mask not binary
    with pytest.raises(InputError):
        MilpModel.from_rows(rows=[], **{**good, "var_names": ["a", "a"]})


def test_subset_sum_model_structure() -> None:
    inst = generate_subset_sum(5, seed=2)
    m = subset_sum_model(inst, Goal(max_kept=2))
    assert m.var_names == ("m_0", "m_1", "m_2", "m_3", "m_4", "err")
    assert m.row_names == ("over", "under", "budget")
    # at the optimum of the model e = |x·m − z|: check on every mask with e set that way
    for bits in itertools.product((0, 1), repeat=5):
        v = np.array([*bits, 0.0])
        v[5] = inst.evaluate(np.array(bits, dtype=bool))
        acts = [float(np.dot(m.row(r)[1], v[m.row(r)[0]])) for r in range(2)]
        assert acts[0] <= m.row_upper[0] + 1e-12 and acts[1] >= m.row_lower[1] - 1e-12
    s = subset_sum_model(inst, Goal(objective="sparsest", eps=0.1))
    assert s.row_lower[0] <= inst.target - 0.1 and s.row_upper[0] >= inst.target + 0.1


def test_parse_cbc_log() -> None:
    done = ("Cbc0001I Search completed - best objective 5.043165939000449e-05, took 1539 "
            "iterations and 280 nodes (0.07 seconds)\n\nResult - Optimal solution found\n\n"
            "Objective value:                0.00005043\nEnumerated nodes:               280\n")
    log = parse_cbc_log(done)
    assert (log.result, log.objective, log.bound, log.nodes) == (
        "optimal", 5.043165939000449e-05, 5.043165939000449e-05, 280)
    gap = "Cbc0011I Exiting as integer gap of 0.25 less than 1e-10 or 0%\n" + done
    assert parse_cbc_log(gap).bound == pytest.approx(5.043165939000449e-05 - 0.25)
    part = ("Cbc0005I Partial search - best objective 4.9336813e-06 (best possible "
            "1.25e-06), took 20838 iterations and 13547 nodes (1.01 seconds)\n\n"
            "Result - Stopped on time limit\n")
    log = parse_cbc_log(part)
    assert log.result == "time_limit" and log.objective == 4.9336813e-06
    assert 1.25e-06 * (1 - 2e-7) < log.bound < 1.25e-06
    assert parse_cbc_log("Result - Problem proven infeasible\n").result == "infeasible"
    assert parse_cbc_log("1 infeasibilities\nProblem is infeasible!\n").result == "infeasible"
    assert parse_cbc_log("1 infeasibilities\n").result is None
    pre = "Cgl0000I Cut generators found to be infeasible! (or unbounded)\n" \
          "Pre-processing says infeasible or unbounded\n"
    assert parse_cbc_log(pre).result == "infeasible_or_unbounded"
    assert parse_cbc_log("garbage").bound is None


# ---- export ------------------------------------------------------------------------------------


@pytest.mark.parametrize("fmt", ["mps", "lp"])
@pytest.mark.parametrize("goal", [{}, {"max_kept": 3}])
def test_export_roundtrip_through_highs(tmp_path, fmt: str, goal: dict) -> None:
    import highspy

    inst = generate_subset_sum(9, seed=5)
    path = export_model(inst, Goal(**goal), tmp_path / f"model.{fmt}", fmt)
    assert path.exists() and sorted(os.listdir(tmp_path)) == [f"model.{fmt}"]
    h = highspy.Highs()
    h.setOptionValue("output_flag", False)
    assert h.readModel(str(path)) != highspy.HighsStatus.kError
    assert (h.getNumCol(), h.getNumRow()) == (10, 2 + bool(goal))
    h.setOptionValue("mip_rel_gap", 0.0)
    h.setOptionValue("mip_abs_gap", 0.0)
    h.run()
    ref = solve(inst, "bruteforce", **goal)
    assert h.getInfo().objective_function_value == pytest.approx(ref.objective, abs=1e-9)
    values = h.getSolution().col_value
    mask = np.zeros(inst.n, dtype=bool)
    for j in range(h.getNumCol()):
        name = h.getColName(j)[1]
        if name.startswith("m_"):
            mask[int(name[2:])] = values[j] > 0.5
    assert inst.exact_error(mask) == Fraction(inst.exact_error(ref.mask))


def test_export_sparsest_and_errors(tmp_path) -> None:
    inst = generate_subset_sum(6, seed=1)
    p = export_model(inst, Goal(objective="sparsest", eps=0.05), tmp_path / "s.lp", "lp")
    assert "window" in p.read_text()
    with pytest.raises(InputError):
        export_model(inst, Goal(), tmp_path / "x.gms", "gms")
    with pytest.raises(InputError):
        export_model(inst, Goal(), tmp_path / "missing" / "x.mps", "mps")

    class Other:
        kind = "no_such_kind"

    with pytest.raises(InputError):
        build_model(Other(), Goal())
    assert sorted(os.listdir(tmp_path)) == ["s.lp"]


def test_failing_export_leaves_no_file(tmp_path, monkeypatch) -> None:
    from exactprune.instances import io as instance_io

    def broken(src, dst):
        raise OSError("disk full (simulated)")

    monkeypatch.setattr(instance_io.os, "replace", broken)
    inst = generate_subset_sum(5, seed=0)
    with pytest.raises(InputError, match="cannot write .*disk full"):
        export_model(inst, Goal(), tmp_path / "m.mps", "mps")
    assert os.listdir(tmp_path) == []
    (tmp_path / "m.mps").write_text("previous\n")
    with pytest.raises(InputError, match="cannot write"):
        export_model(inst, Goal(), tmp_path / "m.mps", "mps")
    assert os.listdir(tmp_path) == ["m.mps"]
    assert (tmp_path / "m.mps").read_text() == "previous\n"


def test_engine_registry_lists_three_backends() -> None:
    assert set(ENGINES) == {*BACKENDS, "gurobi"}  # gurobi: optional, available with gurobipy
    for name in [*BACKENDS, *(["gurobi"] if ENGINES["gurobi"].available() else [])]:
        b = get_backend(name, "subset_sum")
        assert b.exact and {"min_error", "sparsest", "max_kept", "warm_start"} <= b.capabilities


@pytest.mark.parametrize("solver", ["cbc", "pulp_pulp_cbc_cmd"])
@pytest.mark.parametrize("threads,expected", [(None, None), (1, None), (2, "2")])
def test_cbc_runs_serial_unless_asked_for_threads(solver: str, threads: int | None,
                                                  expected: str | None,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    """One thread is CBC's serial default, with no `-threads` on its command line: `threads 1`
    runs its threaded code, which sometimes stalls for 10 s (solvers.milp_engines.cbc_threads).
    The real binary runs; only its command line is recorded."""
    import pulp.apis.coin_api as coin_api

    lines: list[list[str]] = []
    popen = coin_api.subprocess.Popen

    class Recording(popen):  # type: ignore[misc, valid-type]
        def __init__(self, args, *rest, **kw) -> None:
            lines.append([str(a) for a in args])
            super().__init__(args, *rest, **kw)

    monkeypatch.setattr(coin_api.subprocess, "Popen", Recording)
    inst = generate_subset_sum(8, seed=0)
    res = solve(inst, solver, threads=threads)
    assert res.mask is not None and lines
    for line in lines:
        given = [line[i + 1] for i, a in enumerate(line[:-1]) if a.lstrip("-") == "threads"]
        assert given == ([] if expected is None else [expected]), line


@pytest.mark.parametrize("solver", ["cbc", "pulp_pulp_cbc_cmd"])
def test_cbc_leaves_no_files_behind(solver: str, tmp_path, monkeypatch: pytest.MonkeyPatch
                                    ) -> None:
    """CBC's model, start, solution and log files are removed after every solve, also when
    CBC stops at the time limit before writing a solution (PuLP then raises and kept the
    files: a 5 MB model per solve for the weight-pruning instance below)."""
    from exactprune.instances.pruning import generate_weight_pruning
    from exactprune.solvers.milp_engines import cbc

    monkeypatch.setattr(cbc, "_blank_free_tmp_dir", lambda: str(tmp_path))
    monkeypatch.setenv("TMPDIR", str(tmp_path))  # where PuLP would put them by itself
    res = solve(generate_subset_sum(8, seed=0), solver)
    assert res.mask is not None and list(tmp_path.iterdir()) == []
    hard = generate_weight_pruning(d=2, width=96, points=512, seed=0, output_activation="relu")
    res = solve(hard, solver, time_limit=0.3)
    assert res.status == Status.TIME_LIMIT and not res.certified
    assert list(tmp_path.iterdir()) == []


def _cbc_preprocessing_trap():
    """The weight-pruning instance on which the bundled CBC 2.10.3's preprocessing declared the
    big-M model, capped at the incumbent's error, infeasible ("Pre-processing says infeasible")
    while its optimum lies below the cap: the incumbent (error 0.1727) came back as a certified
    optimum; the optimum is 0.1570. Found by a random audit of the exact engines against
    bruteforce: the target is one of the net's own units, perturbed by 1e-7."""
    from exactprune.instances.pruning import generate_weight_pruning

    base = generate_weight_pruning(d=2, width=8, points=16, seed=132)
    unit = int(np.argmax(base.network.output_weights))
    target = base.network.hidden_weights[unit] * base.network.output_weights[unit] * (1 + 1e-7)
    return generate_weight_pruning(d=2, width=8, points=16, seed=132, target_weights=target)


def test_cbc_preprocessing_cannot_certify_a_wrong_optimum() -> None:
    """Through the pruning runner itself (`cbc` no longer offers big-M to users, see
    `test_cbc_does_not_offer_the_big_m_formulation`, but its second look guards every model)."""
    from exactprune.solvers.pruning.exact import run_pruning_exact

    inst = _cbc_preprocessing_trap()
    oracle = solve(inst, "bruteforce")
    raw = run_pruning_exact("cbc", inst, Goal(),
                            SolveOptions(seed=132, extra={"formulation": "bigm"}))
    assert raw.certified and oracle.certified
    assert abs(inst.evaluate(raw.mask) - oracle.objective) <= raw.tolerance + oracle.tolerance
    assert raw.bound <= oracle.objective + 1e-12
    # the certified result says how CBC ran: without the incumbent as its MIP start (since
    # 2026-12-04: from one, CBC certified wrong optima; hunt 48), the start only capping t
    assert raw.stats["warm_start"] == "not_supported", raw.notes


def test_cbc_infeasible_is_confirmed_without_preprocessing() -> None:
    """A truly infeasible capped model is still `infeasible` (CBC without preprocessing
    crashes writing this model's solution file, so the second look runs without one), and a
    feasible one that preprocessing calls infeasible is solved."""
    from exactprune.formulations.pruning.bigm import bigm_model

    inst = _cbc_preprocessing_trap()
    optimum = solve(inst, "bruteforce").objective
    opts = SolveOptions(seed=132)
    below = bigm_model(inst, None, t_max=optimum * (1 - 1e-3)).model
    assert solve_model("cbc", below, opts).status == "infeasible"
    trap = bigm_model(inst, None, t_max=0.1727489062102619 * (1 + 1e-9)).model
    res = solve_model("cbc", trap, opts)
    assert res.status == "optimal"
    assert abs(res.objective - optimum) <= 1e-7
    assert any("with preprocessing: infeasible" in n for n in res.notes), res.notes


def test_an_infeasible_claim_refuted_by_the_start_is_an_error() -> None:
    from exactprune.solvers.milp_engines import (
        EngineResult,
        check_start,
        distrust_infeasible_with_feasible_start,
    )

    model = subset_sum_model(SubsetSumInstance(values=[1.0, 2.0, 4.0], target=3.0), Goal())
    feasible = np.array([1.0, 1.0, 0.0, 0.0])  # 1 + 2 = 3: error 0
    assert check_start(model, feasible) is None
    said = distrust_infeasible_with_feasible_start(EngineResult("infeasible"), model, feasible,
                                                   1e-9)
    assert said.status == "error" and "refuted" in said.notes[-1]
    outside = np.full(model.n_vars, -5.0)
    kept = distrust_infeasible_with_feasible_start(EngineResult("infeasible"), model, outside,
                                                   1e-9)
    assert kept.status == "infeasible"
    assert distrust_infeasible_with_feasible_start(EngineResult("infeasible"), model, None,
                                                   1e-9).status == "infeasible"


def test_cbc_log_contradicting_its_solution_file_is_retried_without_preprocessing() -> None:
    """Audit case 5056 (weight pruning, d = 3, n = 2, K = 16 Gaussian points, identity output,
    l1): with preprocessing CBC's log says infeasible while PuLP reads an optimal solution
    file, which was an `error`; without preprocessing CBC certifies the oracle's optimum."""
    from exactprune.benchmarks.pruning.audit import audit_instance

    inst, _ = audit_instance(5056)
    oracle = solve(inst, "bruteforce")
    res = solve(inst, "cbc", seed=5056, time_limit=60)
    assert res.certified, res.notes
    assert abs(res.objective - oracle.objective) <= res.tolerance + oracle.tolerance


def test_scip_linear_presolve_cannot_certify_a_wrong_big_m_optimum() -> None:
    """Audit case 8111 (weight d = 3, n = 6, relu output, near-exact target): with its linear
    presolve at our tolerances SCIP proved t >= the incumbent's error on the big-M model and
    certified 0.7622 while the optimum is 0.6097. The big-M formulation now runs SCIP without
    it; the model itself still fools SCIP with it on, so the test can tell."""
    from exactprune.benchmarks.pruning.audit import audit_instance
    from exactprune.formulations.pruning.bigm import bigm_model
    from exactprune.solvers.pruning.exact import search_incumbent

    inst, _ = audit_instance(8111)
    oracle = solve(inst, "bruteforce")
    res = solve(inst, "scip", formulation="bigm")
    assert res.certified and oracle.certified
    assert abs(res.objective - oracle.objective) <= res.tolerance + oracle.tolerance
    assert res.bound <= oracle.objective + 1e-12
    mask, _ = search_incumbent(inst, 0, None)
    capped = bigm_model(inst, None, t_max=inst.evaluate(mask) * (1 + 1e-9) + 1e-12).model
    fooled = solve_model("scip", capped, SolveOptions())
    assert fooled.bound > oracle.objective + 0.1  # SCIP's own presolve, unchanged
    fixed = solve_model("scip", capped, SolveOptions(extra={"linear_presolve": False}))
    assert fixed.status == "optimal" and abs(fixed.bound - oracle.objective) < 1e-6


def test_scip_linear_presolve_cannot_certify_a_wrong_antipodal_optimum() -> None:
    """Audit case 18758 (neuron d = 1, n = 10, the two points ±1, identity output, target
    relu(x)): on the antipodal model capped at the incumbent's error, SCIP's linear presolve
    at our tolerances called the incumbent (0.0114) optimal for random seed 18758 and 31 more
    of 300, while 0.0021 exists. The antipodal formulation now runs SCIP without it; the
    capped model still fools SCIP with it on, so the test can tell."""
    from exactprune.benchmarks.pruning.audit import audit_instance
    from exactprune.formulations.pruning.antipodal import antipodal_model
    from exactprune.solvers.pruning.exact import build_selection, search_incumbent

    inst, _ = audit_instance(18758)
    oracle = solve(inst, "bruteforce")
    res = solve(inst, "scip", formulation="antipodal", seed=18758)
    assert res.certified and oracle.certified
    assert abs(res.objective - oracle.objective) <= res.tolerance + oracle.tolerance
    assert res.bound <= oracle.objective + 1e-12
    mask, _ = search_incumbent(inst, 18758, None)
    cap = inst.evaluate(mask) * (1 + 1e-9) + 1e-12
    assert cap > oracle.objective + 0.005  # the incumbent is not the optimum
    capped, _ = antipodal_model(build_selection(inst), inst, None, t_max=cap)
    fooled = solve_model("scip", capped.model, SolveOptions(seed=18758, extra={"cuts": False}))
    assert fooled.bound > oracle.objective + 0.005  # SCIP's own presolve, unchanged
    fixed = solve_model("scip", capped.model, SolveOptions(
        seed=18758, extra={"cuts": False, "linear_presolve": False}))
    assert fixed.status == "optimal" and abs(fixed.bound - oracle.objective) < 1e-6


def test_highs_does_not_offer_the_big_m_formulation() -> None:
    """Cross audit case 62 (weight d = 3, n = 10, relu, K = 128, mask of 30): HiGHS called
    the big-M model capped at the incumbent's error 0.18717 optimal there, for random seeds
    41 and 62 of 140 (presolve on or off), while 0.18221 exists. `highs` no longer offers
    big-M (refused with one line); its dictionary model certifies the optimum, which CP-SAT
    confirms, and the capped big-M model still fools HiGHS at the tolerances of the find
    (mip_feasibility_tolerance 1e-10), so the test can tell."""
    from exactprune.benchmarks.pruning.audit import audit_instance
    from exactprune.formulations.pruning.bigm import bigm_model
    from exactprune.solvers.milp_engines import highs

    inst, _ = audit_instance(62, large=True)
    with pytest.raises(InputError, match="formulation must be one of dictionary, antipodal"):
        solve(inst, "highs", formulation="bigm")
    res = solve(inst, "highs", seed=62, time_limit=60)
    other = solve(inst, "cpsat", time_limit=60)
    assert res.certified and other.certified
    assert abs(res.objective - other.objective) <= res.tolerance + other.tolerance
    capped = bigm_model(inst, list(range(inst.points.shape[0])),
                        t_max=0.18717397933749974 * (1 + 1e-9) + 1e-12).model
    with pytest.MonkeyPatch.context() as mp:
        mp.setitem(highs.HIGHS_OPTIONS, "mip_feasibility_tolerance", 1e-10)
        fooled = solve_model("highs", capped, SolveOptions(seed=62), time_limit=60)
    assert fooled.status == "optimal" and fooled.bound > res.objective + 1e-3


def test_cbc_does_not_offer_the_big_m_formulation() -> None:
    """Audit case 11138 (weight d = 3, n = 4, relu output, K = 16, near-exact target): from the
    incumbent's start (error 0.24786), CBC 2.10.3 called the big-M model capped at that error
    optimal at 0.21440 for 8 of 40 random seeds (11138 among them), while 0.20349 exists;
    SCIP, Gurobi and the dictionary model were right. `cbc` no longer offers big-M (refused
    with one line); its dictionary model certifies the oracle's optimum, and the capped big-M
    model still fools CBC at that seed when run with its cutting planes (as it was until
    2026-12-05; CBC now runs without them), so the test can tell."""
    from exactprune.benchmarks.pruning.audit import audit_instance
    from exactprune.formulations.pruning.bigm import bigm_model
    from exactprune.solvers.pruning.exact import search_incumbent

    inst, _ = audit_instance(11138)
    with pytest.raises(InputError, match="formulation must be one of dictionary, got 'bigm'"):
        solve(inst, "cbc", formulation="bigm")
    oracle = solve(inst, "bruteforce")
    res = solve(inst, "cbc", seed=11138, time_limit=60)
    assert res.certified and oracle.certified
    assert abs(res.objective - oracle.objective) <= res.tolerance + oracle.tolerance
    mask, _ = search_incumbent(inst, 11138, None)  # the exact backends' own incumbent
    built = bigm_model(inst, None, t_max=inst.evaluate(mask) * (1 + 1e-9) + 1e-12)
    from exactprune.solvers.milp_engines.cbc import _cbc_run

    # as found: with the start, CBC's preprocessing and its cutting planes (a start now runs
    # CBC without preprocessing, and no run has cuts)
    with cbc_with_cutting_planes():
        fooled = _cbc_run(built.model, time_limit=60, seed=11138, threads=1, verbose=False,
                          start=built.start(mask), preprocess=True)
    assert fooled.status == "optimal" and fooled.bound > oracle.objective + 1e-3


@pytest.mark.parametrize("case", [349, 1104])
def test_highs_presolve_cannot_certify_a_wrong_selection_optimum(
        case: int, monkeypatch: pytest.MonkeyPatch) -> None:
    """Neuron-selection audit cases 349 and 1104 (l1 loss, a bias, targets a selection
    predicts to 1e-10): HiGHS 1.16's MIP presolve at our tolerances certified 0.3798 and
    0.5486 while the optima are ~2e-10. `highs` now runs without presolve; with it on (and
    mip_feasibility_tolerance 1e-10, as then) the same model still fools HiGHS, so the test
    can tell."""
    from exactprune.benchmarks.neuron_selection.audit import audit_instance
    from exactprune.formulations.neuron_selection import selection_model
    from exactprune.solvers.milp_engines import highs
    from exactprune.solvers.neuron_selection.heuristics import greedy_forward

    inst, _ = audit_instance(case)
    oracle = solve(inst, "bruteforce")
    res = solve(inst, "highs")
    assert res.certified and oracle.certified and oracle.objective < 1e-9
    assert abs(res.objective - oracle.objective) <= res.tolerance + oracle.tolerance
    assert res.bound <= oracle.objective + 1e-12
    cap = inst.evaluate(greedy_forward(inst)) * (1 + 1e-9) + 1e-12
    capped = selection_model(inst, t_max=cap).model
    fixed = solve_model("highs", capped, SolveOptions())
    assert fixed.status == "optimal" and fixed.bound < 1e-6
    monkeypatch.setattr(highs, "HIGHS_PRESOLVE", "on")
    monkeypatch.setitem(highs.HIGHS_OPTIONS, "mip_feasibility_tolerance", 1e-10)
    fooled = solve_model("highs", capped, SolveOptions())
    assert fooled.status == "optimal" and fooled.bound > 0.1  # HiGHS's presolve, unchanged


def test_scip_linear_presolve_cannot_certify_a_wrong_selection_optimum() -> None:
    """Neuron-selection audit case 917 (linf, data at scale 1e-6, targets a selection predicts
    to 1e-10): SCIP's linear presolve at our tolerances certified the greedy incumbent
    (0.00896 after exact scaling) on the capped model while the optimum is ~6e-12. `scip` now
    runs neuron selection without it; with it the same model still fools SCIP."""
    from exactprune.benchmarks.neuron_selection.audit import audit_instance
    from exactprune.formulations.neuron_selection import selection_model
    from exactprune.solvers.neuron_selection.exact import unit_scaled
    from exactprune.solvers.neuron_selection.heuristics import greedy_forward

    inst, _ = audit_instance(917)
    oracle = solve(inst, "bruteforce")
    res = solve(inst, "scip")
    assert res.certified and oracle.certified
    assert abs(res.objective - oracle.objective) <= res.tolerance + oracle.tolerance
    scaled, _ = unit_scaled(inst)
    cap = scaled.evaluate(greedy_forward(scaled)) * (1 + 1e-9) + 1e-12
    capped = selection_model(scaled, t_max=cap).model
    fooled = solve_model("scip", capped, SolveOptions())
    assert fooled.status == "optimal" and fooled.bound > 1e-3  # SCIP's own presolve
    fixed = solve_model("scip", capped, SolveOptions(extra={"linear_presolve": False}))
    assert fixed.status == "optimal" and fixed.bound < 1e-9


def test_cbc_bound_without_a_bound_line_allows_for_the_solution_files_rounding() -> None:
    """Neuron-selection audit case 2010 (N = k = 4: one selection): CBC's preprocessing fixes
    everything and its log has no bound line. The bound then came from the solution file's
    t = 7.0095634 (8 digits) minus a slack of 3.8e-8, above the optimum 7.00956336102, and was
    dropped by the result's own check (no certificate). Now CBC looks again without
    preprocessing and the print rounding is subtracted: a bound at most the optimum, and the
    optimum certified. (Given its start, the greedy incumbent, CBC now runs without
    preprocessing from the start; the path is checked with the start withheld.)"""
    from exactprune.benchmarks.neuron_selection.audit import audit_instance
    from exactprune.formulations.neuron_selection import selection_model
    from exactprune.solvers.neuron_selection.heuristics import greedy_forward

    inst, _ = audit_instance(2010)
    oracle = solve(inst, "bruteforce")
    res = solve(inst, "cbc")
    assert res.certified, res.notes
    assert res.bound <= oracle.objective
    assert abs(res.objective - oracle.objective) <= res.tolerance + oracle.tolerance
    cap = inst.evaluate(greedy_forward(inst)) * (1 + 1e-9) + 1e-12
    raw = solve_model("cbc", selection_model(inst, t_max=cap).model, SolveOptions())
    assert any("without it: optimal" in n for n in raw.notes), raw.notes
    assert raw.bound <= oracle.objective + 1e-12


def test_cbc_preprocessing_that_fixes_everything_is_not_trusted(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """Subset-sum audit case 2517 (sparsest, 7 integers): CBC's preprocessing fixed every
    variable to a mask keeping 5 values and said "Optimal" without a bound line, while 4 meet
    eps. The certificate must not come from that: CBC runs again without preprocessing and
    certifies 4, the oracle's count. (Sparsest goals now run CBC without preprocessing from
    the start; the guard is checked with it switched back on.)"""
    from exactprune.benchmarks.subset_sum.audit import audit_instance
    from exactprune.solvers.subset_sum import milp

    inst, goal, _ = audit_instance(2517)
    oracle = solve(inst, "bruteforce", **goal)
    assert oracle.objective == 4
    res = solve(inst, "cbc", **goal)
    assert res.certified and res.objective == 4, res.notes
    monkeypatch.setattr(milp, "CBC_SPARSEST_PREPROCESS", True)
    res = solve(inst, "cbc", **goal)
    assert res.certified and res.objective == 4, res.notes
    assert any("preprocessing solved the model without a bound" in n for n in res.notes)


def test_engine_status_words() -> None:
    """An engine's own codes map to our words; "optimal" needs a solution in hand, and a code
    no word names is left to the caller to report as an error."""
    from exactprune.solvers.milp_engines.engine import status_word

    codes = {"optimal": 2, "infeasible": 3, "time_limit": 9, "stopped": (11, 12)}
    assert status_word(2, True, **codes) == "optimal"
    assert status_word(2, False, **codes) is None
    assert status_word(3, False, **codes) == "infeasible"
    assert status_word(9, True, **codes) == "time_limit"
    assert status_word(12, False, **codes) == "stopped"
    assert status_word(5, True, **codes) is None


# Sparsest goals on values spanning magnitudes, with eps on a mask's error (subset-sum audit
# case 8689 and the band stress of docs/numerics.md): (values, target, eps) as float hex.
SPARSEST_EDGE_CASES = {
    "audit-8689": (["-0x1.54e09a717fb8ep-27", "0x1.5b6fb016d8079p-41", "0x1.f52446cc2dac7p-51",
                    "-0x1.29070bc605db6p-1", "0x1.140d1be8d9d8ep-57", "0x1.d46d2cd34f572p-55",
                    "-0x1.d44f421d0e1b4p-5"], "-0x1.4fd76adf99d60p-5", "0x1.08efae7abd0cbp-6"),
    "band-196": (["0x1.aee79a9dd01ffp-29", "0x1.227359dd2c6f8p-27", "0x1.5d5e834a738cap-1"],
                 "0x1.b5dd5b7e46322p-1", "0x1.b5dd5b6357b87p-1"),
    "band-121": (["-0x1.68648de9259b4p-2", "-0x1.64db207a3854ep-29", "0x1.2c44055e2352cp-27",
                  "-0x1.27c5639060238p-2"], "-0x1.cad752c63dd7cp-1", "0x1.0584b412f5f0cp-2"),
    "edge-5143": ([v.hex() for v in (3.542892359996688e-08, -0.38761162670255667,
                                     -0.779136110769532, -4.0120577079942804e-08,
                                     -0.6765490857208605, -0.5579206718538661,
                                     6.149476546417808e-08, 1.2216597484352251e-08,
                                     -1.0233957531023762e-08)],
                  (-0.9765642879557241).hex(), (0.08759640111086467).hex()),
}
"""Each fooled an engine: with the exact window 8689 CBC and Gurobi ("infeasible", the
oracle keeps 4) and band-121 CBC (count 3 certified, 2 is within eps); band-196 SCIP with its
linear presolve (count 2 certified, 1 is within eps); edge-5143 CBC with its preprocessing, at
any margin (count 3 certified, 2 values with error 0.031 meet eps 0.088)."""


def _edge_case(name: str) -> tuple[SubsetSumInstance, float]:
    values, target, eps = SPARSEST_EDGE_CASES[name]
    inst = SubsetSumInstance(values=np.array([float.fromhex(v) for v in values]),
                             target=float.fromhex(target))
    return inst, float.fromhex(eps)


@pytest.mark.parametrize("engine", ["cbc", "scip", "gurobi", "highs"])
@pytest.mark.parametrize("case", sorted(SPARSEST_EDGE_CASES))
def test_sparsest_on_values_spanning_magnitudes_is_never_certified_wrong(case: str,
                                                                         engine: str) -> None:
    _require(engine)
    inst, eps = _edge_case(case)
    oracle = solve(inst, "bruteforce", objective="sparsest", eps=eps)
    assert oracle.certified and oracle.status == Status.OPTIMAL
    try:
        res = solve(inst, engine, objective="sparsest", eps=eps)
    except InputError as exc:  # HiGHS refuses values it would drop
        assert engine == "highs" and "drops coefficients" in str(exc)
        return
    assert res.status != Status.INFEASIBLE, res.notes
    if res.certified:
        assert res.objective == oracle.objective, res.notes
    if res.mask is not None:
        assert inst.exact_error(res.mask) <= Fraction(eps)
        assert res.mask.sum() >= oracle.objective


def _none(*args: object) -> None:
    return None


@pytest.mark.parametrize("case,engine,before", [
    ("audit-8689", "cbc", {"sparsest_window_margin": lambda *args: 0.0,
                           "CBC_SPARSEST_SECOND_LOOK": False, "sparsest_mask_in_hand": _none}),
    ("audit-8689", "gurobi", {"sparsest_window_margin": lambda *args: 0.0,
                              "GUROBI_SPARSEST_PRESOLVE": True, "sparsest_mask_in_hand": _none}),
    ("band-121", "cbc", {"sparsest_window_margin": lambda *args: 0.0,
                         "CBC_SPARSEST_PREPROCESS": True, "CBC_SPARSEST_SECOND_LOOK": False}),
    ("band-196", "scip", {"sparsest_window_margin": lambda *args: 0.0,
                          "SCIP_LINEAR_PRESOLVE": True}),
    ("edge-5143", "cbc", {"CBC_SPARSEST_PREPROCESS": True})])
def test_the_engines_are_still_fooled_without_the_fixes(monkeypatch: pytest.MonkeyPatch,
                                                        case: str, engine: str,
                                                        before: dict) -> None:
    """So the test above can tell: with the settings of before (the exact window, SCIP's
    linear presolve, CBC's preprocessing and no second look at its infeasibility, Gurobi's
    presolve, and no mask in hand to refute an infeasibility: on audit-8689 the greedy mask
    is within eps since hunt 234), each engine still gives its wrong certified answer."""
    from exactprune.solvers.subset_sum import milp

    _require(engine)
    inst, eps = _edge_case(case)
    oracle = solve(inst, "bruteforce", objective="sparsest", eps=eps)
    for name, value in before.items():
        monkeypatch.setattr(milp, name, value)
    res = solve(inst, engine, objective="sparsest", eps=eps)
    assert res.certified
    assert res.status == Status.INFEASIBLE or res.objective > oracle.objective


def test_cbc_second_look_keeps_the_solve_time_limit(monkeypatch: pytest.MonkeyPatch) -> None:
    """CBC's "no mask within eps" gets an exact second look (`solve_many`), which had no time
    limit (hunt 44): it now runs under what is left of the solve's, and a second look that the
    limit stops makes the result a time limit, never a certificate either way."""
    from exactprune.solvers.clock import Clock
    from exactprune.solvers.subset_sum import bulk, milp

    _require("cbc")

    class SpentClock(Clock):  # the limit runs out as the second look starts
        def expired(self, margin: float = 0.0) -> bool:
            return True

    inst, eps = _edge_case("audit-8689")
    monkeypatch.setattr(milp, "sparsest_window_margin", lambda *args: 0.0)  # CBC: infeasible
    monkeypatch.setattr(milp, "sparsest_mask_in_hand", _none)  # its greedy mask would refute it
    looked = solve(inst, "cbc", objective="sparsest", eps=eps, time_limit=60)
    assert any("exact check" in n for n in looked.notes), looked.notes
    monkeypatch.setattr(bulk, "Clock", SpentClock)
    res = solve(inst, "cbc", objective="sparsest", eps=eps, time_limit=60)
    assert res.status == Status.TIME_LIMIT and not res.certified, res.notes
    assert any("time limit ran out during the exact check" in n for n in res.notes)


def test_sparsest_window_margin_widens_the_row_outwards() -> None:
    from exactprune.formulations.subset_sum.milp import sparsest_window_margin

    inst, eps = _edge_case("band-121")
    goal = Goal(objective="sparsest", eps=eps)
    exact = subset_sum_model(inst, goal)
    margin = sparsest_window_margin(inst, eps, ENGINES["cbc"].tolerances())
    assert 1e-9 < margin < 1e-7  # 10 × (1e-9 × max(1, |z| + eps) + 5e-13 × the data)
    wide = subset_sum_model(inst, goal, window_margin=margin)
    z, q_eps, q_margin = Fraction(inst.target), Fraction(eps), Fraction(margin)
    assert Fraction(exact.row_lower[0]) <= z - q_eps and Fraction(exact.row_upper[0]) >= z + q_eps
    assert Fraction(wide.row_lower[0]) <= z - q_eps - q_margin
    assert Fraction(wide.row_upper[0]) >= z + q_eps + q_margin
    assert wide.row_upper[0] - wide.row_lower[0] < 2 * (eps + margin) * (1 + 1e-12)
    for bad in (-1.0, math.inf, math.nan):
        with pytest.raises(InputError, match="window_margin"):
            subset_sum_model(inst, goal, window_margin=bad)


def test_the_price_benchmark_switches_reach_the_engines() -> None:
    """benchmarks/presolve_price.py's A/B of the fixes: its "before" settings must give the old
    (wrong) answers, else the page would time the fixed engine twice."""
    from exactprune.benchmarks.presolve_price import switched
    from exactprune.solvers.subset_sum import milp

    _require("cbc")
    defaults = (milp.SCIP_LINEAR_PRESOLVE, milp.sparsest_window_margin,
                milp.CBC_SPARSEST_PREPROCESS)
    inst, eps = _edge_case("band-121")
    with switched("cbc-sparsest", before=True):  # exact window, CBC's preprocessing on
        assert solve(inst, "cbc", objective="sparsest", eps=eps).objective == 3
    with switched("cbc-sparsest", before=False):
        assert solve(inst, "cbc", objective="sparsest", eps=eps).objective == 2
    inst, eps = _edge_case("band-196")
    with switched("scip-sparsest", before=True), \
            switched("scip-subset-sum-linear", before=True):  # linear presolve on, as before
        assert solve(inst, "scip", objective="sparsest", eps=eps).objective == 2
    with switched("scip-sparsest", before=True):
        assert solve(inst, "scip", objective="sparsest", eps=eps).objective == 1
    # every switch is restored
    assert (milp.SCIP_LINEAR_PRESOLVE, milp.sparsest_window_margin,
            milp.CBC_SPARSEST_PREPROCESS) == defaults


@pytest.mark.parametrize("eps,expected", [(0.5, "infeasible"), (3.0, "optimal")])
def test_cbc_without_preprocessing_answers_feasible_and_infeasible_models(
        eps: float, expected: str) -> None:
    """The sparsest model run without CBC's preprocessing, as subset-sum does: an infeasible
    window (values 1, 2, 4; target 10: the nearest sum 7 is 3 away) is called infeasible, even
    though CBC 2.10.3 crashes writing the solution file of such a model; a feasible one is
    solved."""
    inst = SubsetSumInstance(values=np.array([1.0, 2.0, 4.0]), target=10.0)
    model = subset_sum_model(inst, Goal(objective="sparsest", eps=eps))
    res = solve_model("cbc", model, SolveOptions(extra={"preprocess": False}))
    assert res.status == expected, res.notes
    assert "CBC without preprocessing" in res.notes
    if expected == "optimal":
        assert res.bound is not None and round(res.objective) == 3
    certified = solve(inst, "cbc", objective="sparsest", eps=eps)
    assert certified.certified and str(certified.status) == expected


# Pruning audit cases with half the output weights scaled to ~1e-9 (a stress of columns of two
# scales, docs/numerics.md): (case, output weights as float hex).
TWO_SCALE_PRUNING = {
    669: ["0x1.692a4a2b96dafp-29", "-0x1.daf2b2b1dca5ap-2", "0x1.93f78000105abp-1",
          "0x1.d4c396a408b46p+0", "0x1.e0fa3399ded4ep-1", "-0x1.6977e6a3f9f62p-31"],
    1761: ["0x1.0ac2154c0b071p-1", "0x1.6023654261453p-33", "0x1.78ec66c05a5b0p-33",
           "0x1.049631a37fff2p-1", "0x1.286ade5519ee0p-32", "-0x1.6f899aa31cb09p+0",
           "0x1.0a9bbab2e1c49p-32", "-0x1.46424bfd76478p-2", "-0x1.36346896f5cc6p-34",
           "-0x1.9735ac5382e48p-2", "-0x1.269e5c60a2d57p-3", "-0x1.1b82747d9b443p+0"],
}


def _two_scale_pruning(case: int) -> object:
    import dataclasses

    from exactprune.benchmarks.pruning.audit import audit_instance

    inst, _ = audit_instance(case)
    v = np.array([float.fromhex(h) for h in TWO_SCALE_PRUNING[case]])
    return dataclasses.replace(inst, network=dataclasses.replace(inst.network,
                                                                 output_weights=v))


@pytest.mark.parametrize("case", sorted(TWO_SCALE_PRUNING))
def test_highs_mip_feasibility_tolerance_cannot_certify_a_wrong_pruning_optimum(
        monkeypatch: pytest.MonkeyPatch, case: int) -> None:
    """Cases 669 (weight pruning, d = 3, n = 6, relu output, l1) and 1761 (neuron pruning,
    d = 3, n = 12, relu, l1) with output weights of two scales: at mip_feasibility_tolerance
    1e-10 HiGHS certified the local-search incumbent (0.21732, 0.42576) while the optimum is
    0.20865, 0.42480, on every seed tried. At 1e-9, the default now, it certifies the optimum;
    at 1e-10 it is still fooled, so the test can tell. (`highs` now refuses such data anyway,
    `solvers.unit_scales`: the engine is run here past that refusal.)"""
    from exactprune.solvers.milp_engines import highs
    from exactprune.solvers.pruning.exact import run_pruning_exact

    inst = _two_scale_pruning(case)
    oracle = solve(inst, "bruteforce")
    with pytest.raises(InputError, match="output scales span"):
        solve(inst, "highs")
    res = run_pruning_exact("highs", inst, Goal(), SolveOptions(time_limit=60))
    assert res.certified and oracle.certified
    assert abs(inst.evaluate(res.mask) - oracle.objective) <= res.tolerance + oracle.tolerance
    monkeypatch.setitem(highs.HIGHS_OPTIONS, "mip_feasibility_tolerance", 1e-10)
    fooled = run_pruning_exact("highs", inst, Goal(), SolveOptions(time_limit=60))
    assert fooled.certified and inst.evaluate(fooled.mask) > oracle.objective + 1e-4
    auto = solve(inst, "auto", time_limit=60)  # CP-SAT, exact on such data (or enumeration)
    assert auto.solver in ("cpsat", "bruteforce") and auto.certified
    assert abs(auto.objective - oracle.objective) <= auto.tolerance + oracle.tolerance


def test_cbc_with_a_mip_start_cannot_certify_the_start_over_a_better_mask() -> None:
    """Neuron-selection audit case 4877 with the output weights of three of its five units
    scaled by 10^-3.5 (k = 1, l1, a bias): given unit 1 as the warm start, CBC with its
    preprocessing returned that start (0.877549) as optimal while unit 2 gives 0.877370, on
    every seed; right without the start or without preprocessing. CBC is now given no MIP
    start (hunt 48: without preprocessing, from a start at the cap, it went wrong too); the
    capped model with the start and preprocessing still fools CBC, so the test can tell."""
    import dataclasses

    from exactprune.benchmarks.neuron_selection.audit import audit_instance
    from exactprune.formulations.neuron_selection import selection_model
    from exactprune.solvers.milp_engines.cbc import _cbc_run

    base, _ = audit_instance(4877)
    small = np.random.default_rng([4877, 3]).random(base.n) < 0.5
    V = np.where(small[:, None], base.output_weights * 10.0**-3.5, base.output_weights)
    inst = dataclasses.replace(base, output_weights=V)
    warm = np.zeros(inst.n, dtype=bool)
    warm[1] = True
    oracle = solve(inst, "bruteforce")
    assert inst.evaluate(warm) > oracle.objective + 1e-4
    res = solve(inst, "cbc", warm_start=warm, time_limit=30)
    assert res.certified and res.stats.get("warm_start") == "not_supported"
    assert abs(res.objective - oracle.objective) <= res.tolerance + oracle.tolerance
    built = selection_model(inst, t_max=inst.evaluate(warm) * (1 + 1e-9) + 1e-12)
    fooled = _cbc_run(built.model, time_limit=30, seed=0, threads=1, verbose=False,
                      start=built.start(warm), preprocess=True)
    assert fooled.status == "optimal" and fooled.bound > oracle.objective + 1e-4


def test_cbc_gets_no_mip_start_at_the_cap() -> None:
    """Hunt 48 F1: neuron pruning (d = 3, n = 32, K = 128, linf) from a random warm start:
    CBC without preprocessing, from the start at the error cap the exact loop builds,
    certified 0.3435320 while 0.3401001 exists (SCIP, Gurobi and HiGHS agree). CBC is now
    given no MIP start; that run, with CBC's cutting planes (on before 2026-12-05), still goes
    wrong, so the test can tell."""
    from exactprune.formulations.pruning.selection import build_selection, selection_model
    from exactprune.instances import generate_neuron_pruning
    from exactprune.solvers.milp_engines.cbc import _cbc_run

    _require("cbc")
    inst = generate_neuron_pruning(d=3, width=32, points=128, seed=1, norm="linf")
    warm = np.random.default_rng(7001).random(32) < 0.5
    ref = solve(inst, "scip", time_limit=60)
    assert ref.certified
    res = solve(inst, "cbc", warm_start=warm, time_limit=60)
    assert res.certified and res.stats["warm_start"] == "not_supported", res.notes
    assert abs(res.objective - ref.objective) <= res.tolerance + ref.tolerance
    assert res.bound <= ref.objective + ref.tolerance
    sel = build_selection(inst)
    built = selection_model(sel, None, t_max=inst.evaluate(warm) * (1 + 1e-9) + 1e-12)
    with cbc_with_cutting_planes():
        fooled = _cbc_run(built.model, time_limit=60, seed=0, threads=1, verbose=False,
                          start=built.start(warm), preprocess=False)
    assert fooled.status == "optimal" and fooled.bound > ref.objective + 1e-3


def test_a_time_limit_beyond_a_threads_wait_starts_no_failing_watchdog(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """CBC's watchdog waited `time_limit` × 1.1 + 5 s in a timer thread: a limit of 1e300 made
    that wait overflow, an exception in the thread (seen as a warning in the test run)."""
    import threading

    failures: list[BaseException | None] = []
    monkeypatch.setattr(threading, "excepthook", lambda args: failures.append(args.exc_value))
    res = solve(generate_subset_sum(8, seed=0), "cbc", time_limit=1e300)
    assert res.status == "optimal" and failures == []


def test_the_cbc_watchdog_kills_a_run_that_starts_after_the_deadline(
        tmp_path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Hunt 20: the watchdog was a one-shot timer; when PuLP took longer to write a large model
    than the deadline, it found no CBC, and CBC then ran unbounded. Here a stand-in process
    naming the folder starts only after the deadline, and is still killed."""
    import subprocess
    import sys
    import time

    from exactprune.solvers.milp_engines import cbc

    monkeypatch.setattr(cbc, "WATCHDOG_GRACE_S", 0.2)
    folder = str(tmp_path / "run")
    with cbc._cbc_watchdog(folder, 0.0) as state:  # deadline: 0 * 1.1 + grace
        deadline = time.monotonic() + cbc.WATCHDOG_GRACE_S
        time.sleep(cbc.WATCHDOG_GRACE_S + 0.3)  # the "model writing" outlasts the deadline
        proc = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)", folder])
        try:
            proc.wait(timeout=5)
        finally:
            proc.kill()
        assert time.monotonic() > deadline
    assert state["killed"] and proc.returncode == -9


def test_scip_converting_the_model_counts_against_its_limit(monkeypatch) -> None:
    """Hunt 20: OR-Tools' SCIP takes the model one coefficient at a time (3.8 s for 3.1 M
    nonzeros), and the limit was set to the whole time handed in after that: a 2 s limit ran
    ~5.5 s. The conversion's time now comes off the limit SCIP is given."""
    import time as _time

    from ortools.linear_solver import pywraplp

    from exactprune.solvers.milp_engines import scip

    real_convert, real_set = scip.to_ortools, pywraplp.Solver.SetTimeLimit
    handed_ms: list[int] = []

    def slow_convert(model, solver):
        _time.sleep(0.5)
        return real_convert(model, solver)

    def spy(self, ms):
        handed_ms.append(ms)
        return real_set(self, ms)

    monkeypatch.setattr(scip, "to_ortools", slow_convert)
    monkeypatch.setattr(pywraplp.Solver, "SetTimeLimit", spy)
    model = subset_sum_model(generate_subset_sum(10, seed=0), Goal())
    res = scip.solve(model, time_limit=30.0, seed=0, threads=1, verbose=False, start=None)
    assert res.status == "optimal"
    assert handed_ms and handed_ms[0] <= (30.0 - 0.5) * 1000, handed_ms


def test_scip_conversion_that_takes_the_whole_limit_is_not_solved(monkeypatch) -> None:
    """When converting the model took the whole limit, SCIP is not started (it would presolve
    for seconds more on the model that took so long): an honest time limit, no answer."""
    import time as _time

    from ortools.linear_solver import pywraplp

    from exactprune.solvers.clock import NOT_STARTED
    from exactprune.solvers.milp_engines import scip

    real_convert = scip.to_ortools
    solved: list[bool] = []

    def slow_convert(model, solver):
        _time.sleep(0.6)
        return real_convert(model, solver)

    monkeypatch.setattr(scip, "to_ortools", slow_convert)
    monkeypatch.setattr(pywraplp.Solver, "Solve", lambda *a: solved.append(True))
    model = subset_sum_model(generate_subset_sum(10, seed=0), Goal())
    res = scip.solve(model, time_limit=0.5, seed=0, threads=1, verbose=False, start=None)
    assert res.status == "time_limit" and res.values is None and res.bound is None
    assert NOT_STARTED in res.notes and not solved


def test_cbc_solves_in_threads_leave_the_warning_filters_alone() -> None:
    """`warnings.catch_warnings` is not thread-safe: CBC solves in threads, each silencing PuLP
    inside one, left "ignore every warning" installed for the rest of the process (hunt 22, 2
    runs of 3). One narrow filter, set once at import, replaces them."""
    from concurrent.futures import ThreadPoolExecutor

    import exactprune.formulations.linear  # noqa: F401 (sets the one filter)

    before = list(warnings.filters)
    instances = [generate_subset_sum(14, seed=s) for s in range(12)]
    with ThreadPoolExecutor(6) as pool:
        results = list(pool.map(lambda inst: solve(inst, "cbc", time_limit=20), instances))
    assert all(r.certified for r in results)
    assert list(warnings.filters) == before


def test_a_solve_in_a_thread_keeps_the_other_threads_prints() -> None:
    """While a solve runs, fds 1 and 2 point away for the whole process: every other thread's
    print() and log line was lost (hunt 22: a thread pool printing results as they came lost
    them). Python's own streams and logging's handlers now write where fds 1 and 2 pointed;
    the solver's native prints still stay off stdout. The prints start once the redirection
    is in place (under load the model build took over the 1 s this test once slept, and a
    print cut by the redirection's start read "lineline 1") and the test checks they ended
    before it was undone, so it tests prints during a solve."""
    out = _solves_in_a_subprocess(
        "import logging, threading, time\n"
        "from exactprune.instances import generate_neuron_pruning\n"
        "from exactprune.solvers.milp_engines import native_output\n"
        "logging.basicConfig(level=logging.INFO, format='LOG %(message)s')\n"
        "inst = generate_neuron_pruning(d=2, width=64, points=128, seed=0)\n"
        "def run():\n"
        "    solve(inst, 'scip', time_limit=3, verbose=False)\n"
        "t = threading.Thread(target=run)\n"
        "t.start()\n"
        "while native_output._REDIRECT.depth == 0 and t.is_alive():\n"
        "    time.sleep(0.001)\n"
        "for i in range(3):\n"
        "    print('line', i, flush=True)\n"
        "    logging.info('log %d', i)\n"
        "during = native_output._REDIRECT.depth > 0\n"
        "t.join()\n"
        "print('done', during, flush=True)\n")
    assert out.stdout == "line 0\nline 1\nline 2\ndone True\n", out.stdout[-2000:]
    assert [ln for ln in out.stderr.splitlines() if ln.startswith("LOG")] == \
        ["LOG log 0", "LOG log 1", "LOG log 2"], out.stderr[-2000:]


def test_a_print_while_the_redirection_starts_is_kept() -> None:
    """Another thread's print that looks sys.stdout up while a solve points fds 1 and 2 away
    and flushes after they moved: the stand-in stream was put in only after the fds moved, so
    such a print went into the process's stdout buffer and was flushed to /dev/null ("line 0"
    came out as "line"). Here the moment is forced: the print happens inside the first
    dup2 onto fd 1, its flush right after it."""
    out = _solves_in_a_subprocess(
        "import os, sys\n"
        "real_dup2 = os.dup2\n"
        "def dup2(a, b, *rest):\n"
        "    if b != 1:\n"
        "        return real_dup2(a, b, *rest)\n"
        "    os.dup2 = real_dup2\n"
        "    stream = sys.stdout\n"
        "    stream.write('between')\n"
        "    real_dup2(a, b, *rest)\n"
        "    stream.write('\\n')\n"
        "    stream.flush()\n"
        "os.dup2 = dup2\n"
        "solve(generate_subset_sum(8, seed=0), 'scip')\n"
        "print('done', flush=True)\n")
    assert out.stdout == "between\ndone\n", out.stdout[-2000:]


def test_a_print_while_the_redirection_ends_is_kept() -> None:
    """The mirror of the test above: the Python streams were put back before fds 1 and 2, so
    a print another thread made in between went to the process's own stdout while fd 1 still
    pointed at /dev/null (hunt 39 F3: 13 to 58 lines lost per run). Here the print happens
    just before fd 1 is restored."""
    out = _solves_in_a_subprocess(
        "import os, sys\n"
        "real_dup2 = os.dup2\n"
        "calls = []\n"
        "def dup2(a, b, *rest):\n"
        "    if b == 1:\n"
        "        calls.append(b)\n"
        "        if len(calls) == 2:\n"
        "            print('before the restore', flush=True)\n"
        "    return real_dup2(a, b, *rest)\n"
        "os.dup2 = dup2\n"
        "solve(generate_subset_sum(8, seed=0), 'scip')\n"
        "os.dup2 = real_dup2\n"
        "print('done', len(calls), flush=True)\n")
    lines = out.stdout.splitlines()  # one solve may redirect more than once
    assert lines[0] == "before the restore" and lines[1].startswith("done"), out.stdout[-2000:]


def test_a_closed_stderr_does_not_take_stdout_with_it() -> None:
    """With fd 2 closed (`2>&-`), the copy of fd 1 a solve keeps was fd 2 itself, which the
    redirection then pointed at /dev/null: stdout was "restored" from it, and the CLI's JSON
    was lost with exit 0 (hunt 39 F4; scip, highs, gurobi)."""
    code = ("from exactprune.instances import generate_subset_sum\n"
            "from exactprune.solvers import solve\n"
            "for s in ('scip', 'highs', 'cbc'):\n"
            "    solve(generate_subset_sum(8, seed=0), s)\n"
            "    solve(generate_subset_sum(8, seed=0), s, verbose=True)\n"
            "print('stdout survived', flush=True)\n")
    out = subprocess.run(["bash", "-c", '"$0" -c "$1" 2>&-', sys.executable, code],
                         capture_output=True, text=True, timeout=120)
    assert out.returncode == 0 and out.stdout == "stdout survived\n", out.stdout[-2000:]


@pytest.mark.parametrize("redirect", ["2>&-", "2>/dev/full"])
@pytest.mark.parametrize("solver", ["cbc", "scip", "cpsat"])
def test_a_verbose_solve_with_stderr_closed_keeps_its_json(tmp_path, solver: str,
                                                           redirect: str) -> None:
    """--verbose with stderr closed: CBC and SCIP ended in `error` (AttributeError: sys.stderr
    is None) and CP-SAT's log went into stdout's JSON (print(file=None)); hunt 41. With stderr
    full, the log's OSError ended the solve in `error` (hunt 43)."""
    from exactprune.instances import save_instance

    save_instance(generate_subset_sum(10, seed=0), tmp_path / "i.json")
    cmd = [sys.executable, "-m", "exactprune", "solve", str(tmp_path / "i.json"), "--solver",
           solver, "--verbose", "--json"]
    if redirect.endswith("full") and not Path("/dev/full").exists():
        pytest.skip("no /dev/full")
    out = subprocess.run(["bash", "-c", f'"$@" {redirect}', "run", *cmd], capture_output=True,
                         text=True, timeout=120)
    assert out.returncode == 0, out.stdout[-2000:]
    assert json.loads(out.stdout)["status"] == "optimal", out.stdout[-2000:]


def test_logging_in_threads_beside_many_solves_neither_deadlocks_nor_keeps_the_stand_ins(
        ) -> None:
    """Threads that log and print without pause while solves in other threads start and end:
    a solve's end points logging's handler back under the handler's lock while a logging
    thread may hold that lock writing to the stand-in stream; the stand-in has its own lock,
    so this ends, every line whole, and sys.stdout / sys.stderr are the process's own again."""
    out = _solves_in_a_subprocess(
        "import logging, sys, threading\n"
        "from concurrent.futures import ThreadPoolExecutor\n"
        "logging.basicConfig(level=logging.INFO, format='LOG %(message)s')\n"
        "stop = threading.Event()\n"
        "def chatter(i):\n"
        "    while not stop.is_set():\n"
        "        logging.info('t%d', i)\n"
        "ts = [threading.Thread(target=chatter, args=(i,)) for i in range(2)]\n"
        "[t.start() for t in ts]\n"
        "insts = [generate_subset_sum(12, seed=s) for s in range(24)]\n"
        "with ThreadPoolExecutor(3) as ex:\n"
        "    res = list(ex.map(lambda i: solve(i, ('scip', 'cbc')[i.n % 2], time_limit=20),"
        " insts))\n"
        "stop.set(); [t.join() for t in ts]\n"
        "print(sum(r.certified for r in res), sys.stdout is sys.__stdout__,"
        " sys.stderr is sys.__stderr__)\n")
    assert out.stdout == "24 True True\n", out.stdout[-500:]
    lines = out.stderr.splitlines()
    assert lines and all(line in ("LOG t0", "LOG t1") for line in lines), \
        [x for x in lines if x not in ("LOG t0", "LOG t1")][:5]


def test_pulp_solves_in_threads_leave_sys_stdout_alone() -> None:
    """The PuLP backends wrapped each solve in contextlib.redirect_stdout(sys.stderr),
    process-global: overlapping solves in threads restored each other's saved streams and left
    sys.stdout at stderr for good (hunt 24). And sys.stdout keeps the API of the stream it
    stands in for during a solve (`.buffer`: `ticket -o -` writes bytes to it)."""
    out = _solves_in_a_subprocess(
        "import sys, threading\n"
        "from concurrent.futures import ThreadPoolExecutor\n"
        "insts = [generate_subset_sum(14, seed=s) for s in range(12)]\n"
        "names = ('scip', 'pulp_pulp_cbc_cmd')\n"
        "seen = []\n"
        "def run(i):\n"
        "    seen.append(hasattr(sys.stdout, 'buffer') and hasattr(sys.stdout, 'name'))\n"
        "    return solve(insts[i], names[i % 2], time_limit=20)\n"
        "with ThreadPoolExecutor(4) as ex:\n"
        "    res = list(ex.map(run, range(12)))\n"
        "print('ok', all(seen), sys.stdout is sys.__stdout__, sys.stderr is sys.__stderr__)\n")
    assert out.stdout == "ok True True True\n", (out.stdout[-500:], out.stderr[-500:])


def test_cbc_infeasibility_of_a_sparsest_window_gets_an_exact_second_look() -> None:
    """Hunt 30 F2: on 12 values spanning 7 orders of magnitude CBC's root cuts proved the eps
    window infeasible, certified, while 9 values are within eps (every other engine and the
    oracle agree). Its claim is now checked exactly (`solve_many`, n <= 40) before it
    certifies anything."""
    from exactprune.instances import SubsetSumInstance

    inst = SubsetSumInstance(values=[
        2.345682613022865e-20, -4.0644224610794564e-17, 4.429119823360637e-21,
        -2.6275931915386755e-13, -9.023255474681146e-20, 5.667402252583277e-14,
        5.0309341643555174e-17, 3.1262612509798943e-20, -1.3055607646571616e-20,
        -2.3967050879262246e-15, -1.7495366051561646e-14, 2.1959883849180492e-17],
        target=3.9210232906429705e-14)
    eps = 3.9390843832687636e-28
    ref = solve(inst, "bruteforce", objective="sparsest", eps=eps)
    res = solve(inst, "cbc", objective="sparsest", eps=eps)
    assert ref.status is Status.OPTIMAL and ref.objective == 9
    assert res.status is not Status.INFEASIBLE
    if res.certified:
        assert res.objective == 9 and inst.exact_error(res.mask) <= eps


def test_cbc_raises_no_warning_when_the_filters_are_reset() -> None:
    """Our cbc built PuLP 3's PULP_CBC_CMD, whose DeprecationWarning we filtered once at import:
    an API user who reset the filters (or turned warnings into errors) saw it, or had the solve
    fail (hunt 60 L3). It runs the same bundled binary through COIN_CMD, which does not warn."""
    from exactprune.solvers.milp_engines.cbc import available, version

    inst = generate_subset_sum(n=8, seed=3)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        res = solve(inst, "cbc", time_limit=30)
        assert available() and "unknown" not in version()
    assert res.certified and res.objective == solve(inst, "bruteforce").objective


@pytest.mark.parametrize("backend", ["highs", "cbc", "scip"])
def test_sparsest_with_an_eps_far_above_the_data_is_the_empty_mask(backend: str) -> None:
    """Values of 1e-301 are scaled up by 2^997 for the MILP engines, and so was eps: 1e10
    overflowed, and the result was an error saying "OverflowError: math range error" where
    mitm, cpsat and bruteforce certify that nothing need be kept (hunt 64 L4)."""
    inst = SubsetSumInstance(values=np.array([-3.295621231654795e-301, 7.848662004213181e-301,
                                              6.864336754504866e-301]), target=1e-300)
    for eps in (1e10, 1e-300):
        res = solve(inst, backend, objective="sparsest", eps=eps)
        assert res.status == "optimal" and res.certified and res.kept == 0
    # just below |target| the engine solves: the two-value mask within eps
    eps = float(abs(Fraction(7.848662004213181e-301) + Fraction(-3.295621231654795e-301)
                    - Fraction(1e-300))) * 1.5
    res = solve(inst, backend, objective="sparsest", eps=eps)
    ref = solve(inst, "bruteforce", objective="sparsest", eps=eps)
    assert res.certified and res.kept == ref.kept


def test_highs_ends_near_its_limit_where_a_sub_mip_presolve_looped() -> None:
    """HiGHS 1.16's sub-MIP heuristics (RENS, RINS, root reduced cost) presolve their sub-MIPs
    whatever `presolve` says, and that presolve looped for ever in strengthenInequalities on
    the pruning cross audit's case 18167 (a 5 s limit ran 100 s and more, 3 runs of 4). They
    are off: the solve ends, certified. Run in a child process, so that a loop fails the test
    instead of hanging the suite."""
    code = ("from exactprune.benchmarks.pruning.audit import audit_instance\n"
            "from exactprune import solve\n"
            "inst, _ = audit_instance(18167, large=True)\n"
            "r = solve(inst, 'highs', time_limit=5, seed=18167, lazy=True)\n"
            "print(r.status, r.certified)\n")
    for _ in range(2):
        try:
            proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                                  timeout=120, check=False)
        except subprocess.TimeoutExpired:
            pytest.fail("HiGHS ran 120 s on a 5 s limit")
        assert proc.returncode == 0, proc.stderr
        assert proc.stdout.split()[0] in ("optimal", "time_limit"), proc.stdout


def test_cbc_without_cuts_certifies_the_pruning_optimum_it_got_wrong() -> None:
    """Pruning audit case 23539 (weight d = 2, n = 9, K = 8, identity output, linf, near-exact
    target): with cutting planes the bundled CBC certified 0.0238458 (seed 3) and 0.0182652
    (seed 23539, lazy points) where the optimum is 0.0159354; 10 of seeds 0-29 were wrong.
    CBC now runs without cuts."""
    from exactprune.benchmarks.pruning.audit import audit_instance

    inst, _ = audit_instance(23539)
    oracle = solve(inst, "bruteforce")
    for seed, options in ((3, {}), (23539, {"lazy": True}), (8, {})):
        res = solve(inst, "cbc", time_limit=60, seed=seed, **options)
        assert res.certified, (seed, res.notes)
        assert res.objective <= oracle.objective + res.tolerance, (seed, res.objective)


@pytest.mark.parametrize("again_status, expected", [("time_limit", "time_limit"),
                                                    ("infeasible", "stopped")])
def test_cbc_second_run_stopped_by_the_clock_is_a_time_limit(
        monkeypatch: pytest.MonkeyPatch, again_status: str, expected: str) -> None:
    """Hunt 236 M1: when CBC's preprocessing solves a model without a bound, CBC runs again
    without it; if the clock stopped that run, the result is the time limit's (it read as
    "stopped": `feasible`, limit none, on a neuron selection at 0.05 s). The two runs'
    outcomes are injected; a disagreement the clock did not cause stays "stopped"."""
    from exactprune.solvers.milp_engines import cbc
    from exactprune.solvers.milp_engines.engine import EngineResult

    _require("cbc")
    inst = generate_subset_sum(6, seed=1)
    model = build_model(inst, Goal())
    runs = [EngineResult("optimal", values=np.zeros(model.n_vars), objective=0.5, bound=None),
            EngineResult(again_status)]
    monkeypatch.setattr(cbc, "_cbc_run", lambda *args, **kwargs: runs.pop(0))
    res = cbc.solve(model, time_limit=1.0, seed=0, threads=1, verbose=False, start=None,
                    preprocess=True)
    assert res.status == expected and res.bound is None and res.values is not None
    assert not runs, "CBC was not run twice"
