"""`--solver auto` sees the whole request: it picks by the threads allowed (CP-SAT's portfolio
for weight pruning with a relu output), and treats threads as an allowance and a warm start as
a hint, so the exhaustive methods it picks for small instances run instead of refusing them."""

from __future__ import annotations

import json
from fractions import Fraction
from pathlib import Path

import numpy as np
import pytest
from conftest import planted_grid

from exactprune.cli import main
from exactprune.instances import (
    InputError,
    generate_neuron_pruning,
    generate_subset_sum,
    generate_weight_pruning,
    save_instance,
)
from exactprune.solvers import solve
from exactprune.solvers.pruning import CPSAT_PORTFOLIO_THREADS
from exactprune.solvers.registry import resolve_auto
from exactprune.solvers.result import Goal

GEN = {"neuron": generate_neuron_pruning, "weight": generate_weight_pruning}


@pytest.mark.parametrize(("kind", "act", "threads", "engine"), [
    ("weight", "relu", 1, "scip"),
    ("weight", "relu", CPSAT_PORTFOLIO_THREADS - 1, "scip"),
    ("weight", "relu", CPSAT_PORTFOLIO_THREADS, "cpsat"),
    ("weight", "identity", CPSAT_PORTFOLIO_THREADS, "scip"),
    ("neuron", "relu", 8, "scip"),
])
def test_auto_picks_by_the_threads_allowed(kind: str, act: str, threads: int,
                                           engine: str) -> None:
    """The choice follows the measured recipe, and what it picks certifies the oracle's
    optimum with those threads."""
    width = 14 if kind == "neuron" else 7  # masks of 14 entries: past auto's bruteforce (12)
    inst = GEN[kind](d=2, width=width, points=32, seed=1, output_activation=act)
    assert resolve_auto(inst, Goal(), threads) == engine
    res = solve(inst, "auto", threads=threads, time_limit=60)
    assert res.solver == engine and res.notes[0] == f"auto chose {engine}"
    assert res.options["threads"] == threads
    oracle = solve(inst, "bruteforce")
    assert res.certified, res.notes
    slack = 2 * inst.evaluation_tolerance()
    assert abs(res.objective - oracle.objective) <= slack + res.tolerance + oracle.tolerance


@pytest.mark.parametrize("kind", ["neuron", "weight"])
def test_auto_takes_the_l2_error_to_bruteforce(kind: str) -> None:
    """Hunt 16: auto picked SCIP for l2 instances of 13..20 mask entries, and SCIP refuses l2
    (exit 2), though bruteforce, the documented exact method for l2, solves them."""
    width = 16 if kind == "neuron" else 8  # 16 mask entries: past auto's bruteforce (12)
    inst = GEN[kind](d=2, width=width, points=32, seed=0, norm="l2")
    assert inst.mask_size == 16
    res = solve(inst, "auto")
    assert res.solver == "bruteforce" and res.certified
    assert res.objective == solve(inst, "bruteforce").objective


def test_auto_runs_an_exhaustive_choice_with_one_thread_and_no_warm_start() -> None:
    """A tiny mask goes to bruteforce, which takes neither threads nor a warm start: it runs,
    and the note and stats say what was left unused (asked of bruteforce directly, the same
    request is refused)."""
    inst = generate_neuron_pruning(d=2, width=8, points=32, seed=0)
    start = np.zeros(inst.mask_shape, dtype=bool)
    res = solve(inst, "auto", threads=2, warm_start=start)
    assert res.solver == "bruteforce" and res.certified
    assert res.notes[0] == ("auto chose bruteforce (which runs one thread of the 2 allowed and "
                            "does not use the warm start)")
    assert res.stats["warm_start"] == "not_used"
    assert res.options["threads"] is None and res.options["warm_start"] is False
    assert res.objective == solve(inst, "bruteforce").objective
    with pytest.raises(Exception, match="does not support threads"):
        solve(inst, "bruteforce", threads=2)


def test_auto_passes_a_usable_warm_start_on() -> None:
    """A warm start auto's engine can use reaches it (SCIP judges it), with no note."""
    inst = generate_neuron_pruning(d=2, width=14, points=32, seed=2)
    start = solve(inst, "greedy_forward").mask
    res = solve(inst, "auto", warm_start=start, time_limit=60)
    assert res.solver == "scip" and res.notes[0] == "auto chose scip"
    assert res.stats["warm_start"] != "not_used" and res.options["warm_start"] is True


def test_cli_auto_with_threads_on_subset_sum(tmp_path: Path,
                                             capsys: pytest.CaptureFixture[str]) -> None:
    """`exactprune solve --solver auto --threads 2` on a subset-sum file: mitm, one thread,
    exit 0 (it exited 2 with "mitm does not support threads" before)."""
    path = tmp_path / "ss.json"
    save_instance(generate_subset_sum(n=12, seed=3), path)
    code = main(["solve", str(path), "--solver", "auto", "--threads", "2", "--json"])
    out = capsys.readouterr().out
    assert code == 0
    res = json.loads(out)
    assert res["solver"] == "mitm" and res["certified"]
    assert res["notes"][0] == "auto chose mitm (which runs one thread of the 2 allowed)"


def test_auto_on_subset_sum_beyond_mitm_runs_cpsat_with_an_honest_status() -> None:
    """Above mitm's n <= 62, auto chose mitm anyway and every solve (and `demo --n 63`) was
    refused; CP-SAT runs there (SCIP until 2026-12-07) and a time-limited answer keeps its
    proven bound."""
    small, large = generate_subset_sum(n=62, seed=1), generate_subset_sum(n=63, seed=1)
    assert resolve_auto(small, Goal()) == "mitm"
    assert resolve_auto(large, Goal()) == "cpsat"
    res = solve(large, "auto", time_limit=1)
    assert res.solver == "cpsat" and res.objective == large.evaluate(res.mask)
    assert res.certified or (res.status == "time_limit" and res.bound <= res.objective)


@pytest.mark.parametrize(("bits", "budget"), [(6, False), (12, True)])
def test_auto_beyond_mitm_certifies_optima_on_a_grid(bits: int, budget: bool) -> None:
    """Why auto runs CP-SAT above n = 62: on values on a grid it proves the optimum, to the
    exact fraction, where SCIP's tolerances leave its bound at 0 (the engines tie on uniform
    data; docs/benchmarks/subset-sum-large-n*.md). It proves what its start found: the
    planted subset here, what core_search finds there (in the benchmark SCIP, from the same
    start, ends at bound 0); a warm start skips the core_search run, so no time limit decides
    the test."""
    inst, optimum, planted = planted_grid(80, bits, seed=bits)
    max_kept = int(planted.sum()) if budget else None
    res = solve(inst, "auto", max_kept=max_kept, warm_start=planted)
    assert res.solver == "cpsat" and res.certified and str(res.status) == "optimal"
    assert inst.exact_error(res.mask) == optimum and Fraction(res.bound) == optimum
    assert max_kept is None or int(np.sum(res.mask)) <= max_kept


@pytest.mark.parametrize("threads", ["2", 2.0, 10**30, 0, True])
def test_auto_checks_threads_like_every_named_solver(threads: object) -> None:
    """auto read threads before SolveOptions checked it: '2' was a TypeError, and 2.0 or 1e30
    were accepted where a named solver refuses them."""
    inst = generate_subset_sum(n=8, seed=1)
    for solver in ("auto", "highs"):
        with pytest.raises(InputError, match="threads must be an integer from 1 to 64"):
            solve(inst, solver, threads=threads)
    with pytest.raises(InputError, match="verbose must be True or False"):
        solve(inst, verbose="no")
    # numpy's bool is a bool, as numpy's integers are threads (hunt 93)
    assert solve(inst, "mitm", verbose=np.False_).certified


@pytest.mark.parametrize("repeats", [False, True])
def test_auto_takes_neuron_selection_no_power_of_two_brings_to_unit_size_elsewhere(
        repeats: bool) -> None:
    """Subnormal activations and targets (~2^-1060): no power of two of the output weights and
    targets brings them to unit size exactly, so the MILP engines and CP-SAT refuse; `auto`
    chose SCIP and refused a valid instance that bnb certifies (hunt 113 M2)."""
    from exactprune.instances.neuron_selection.instance import NeuronSelectionInstance

    g = np.random.default_rng(0)
    H = np.ldexp(np.maximum(g.standard_normal((4, 16)), 0.0) + 0.5, -1060)
    inst = NeuronSelectionInstance(hidden=H, output_weights=g.standard_normal((16, 1)),
                                   targets=np.ldexp(g.standard_normal((4, 1)), -1060), k=8,
                                   loss="linf", repeats=repeats)
    with pytest.raises(InputError, match="not exact"):
        solve(inst, "scip")
    chosen = resolve_auto(inst, Goal())
    assert chosen == ("bruteforce" if repeats else "bnb")
    res = solve(inst, "auto", time_limit=60)
    assert res.certified and res.objective == solve(inst, chosen, time_limit=60).objective
