"""The branching orders of benchmarks/pruning/branching_order.py (needs PySCIPOpt): priorities
are a permutation, and with every order, aggregates included, SCIP on the exported model still
finds the exhaustive optimum (an aggregate row that cut off a mask would raise it); so does
every SCIP setting the benchmark measures, and an unknown one is refused."""

from __future__ import annotations

import numpy as np
import pytest

from exactprune.benchmarks.pruning.branching_order import (
    AGGREGATES,
    ORDERS,
    SETTINGS,
    branching_priorities,
    main,
    run_one,
)
from exactprune.instances import generate_neuron_pruning
from exactprune.instances.errors import InputError
from exactprune.solvers import solve


def test_unit_priorities_are_a_permutation_and_aggregates_keep_scip_s_own() -> None:
    inst = generate_neuron_pruning(d=2, width=9, points=16, seed=0)
    w, v = np.asarray(inst.network.hidden_weights), np.asarray(inst.network.output_weights)
    for order in ("kink", "magnitude"):
        assert sorted(branching_priorities(w, v, order)) == list(range(1, 10))
    for order in ("scip", *AGGREGATES):
        assert branching_priorities(w, v, order) is None
    with pytest.raises(InputError, match="unknown branching order"):
        branching_priorities(w, v, "nope")


@pytest.mark.parametrize("seed", range(3))
@pytest.mark.parametrize("activation", ["identity", "relu"])
def test_every_order_finds_the_exhaustive_optimum(seed: int, activation: str) -> None:
    pytest.importorskip("pyscipopt")
    inst = generate_neuron_pruning(d=2, width=10, points=32, seed=seed,
                                   output_activation=activation)
    optimum = solve(inst, "bruteforce").objective
    for order in ORDERS:
        # a fine odd step makes the odd-sum rows tight: a wrong offset would cut masks off
        row = run_one({"n": 10, "points": 32, "activation": activation, "seed": seed,
                       "cutoff": 1e9, "order": order, "time_limit": 60.0, "scip_seed": 0,
                       "odd_step": 1e-3})
        assert row["status"] == "optimal", (order, row)
        assert row["best"] == pytest.approx(optimum, rel=1e-7, abs=1e-9), order


@pytest.mark.parametrize("activation", ["identity", "relu"])
def test_every_scip_setting_finds_the_exhaustive_optimum(activation: str) -> None:
    pytest.importorskip("pyscipopt")
    inst = generate_neuron_pruning(d=2, width=10, points=32, seed=5,
                                   output_activation=activation)
    optimum = solve(inst, "bruteforce").objective
    job = {"n": 10, "points": 32, "activation": activation, "seed": 5, "cutoff": 1e9,
           "order": "scip", "time_limit": 60.0, "scip_seed": 0, "odd_step": 0.05}
    for setting in SETTINGS:
        row = run_one({**job, "setting": setting})
        assert row["status"] == "optimal", (setting, row)
        assert row["best"] == pytest.approx(optimum, rel=1e-7, abs=1e-9), setting
    with pytest.raises(InputError, match="unknown SCIP setting"):
        run_one({**job, "setting": "nope"})


@pytest.mark.parametrize("bad", [["--jobs", "-1"], ["--jobs", "0"], ["--time-limit", "-1"],
                                 ["--time-limit", "nan"], ["--settings", "ours,nope"],
                                 ["--orders", "kink,nope"]])
def test_bad_arguments_stop_with_one_line_and_write_nothing(bad, tmp_path, capsys) -> None:
    with pytest.raises(SystemExit) as stop:
        main(["--seeds", "1", "--cutoffs", "0.1", "--out", str(tmp_path), *bad])
    assert stop.value.code == 2
    assert "error: " in capsys.readouterr().err.strip().splitlines()[-1]
    assert not list(tmp_path.iterdir())
