"""The second-difference form of benchmarks/pruning/second_difference.py (needs PySCIPOpt): D
maps every column to at most four nonzeros and, with the two moment rows, determines h; SCIP on
the form agrees with the exhaustive optimum (feasible just above it, infeasible just below)."""

from __future__ import annotations

import math

import numpy as np
import pytest

from exactprune.benchmarks.pruning.basis_reduction import residual_system
from exactprune.benchmarks.pruning.second_difference import (
    grid_angles,
    main,
    plain_model,
    second_differences,
    sparse_model,
)
from exactprune.instances import generate_neuron_pruning
from exactprune.solvers import solve


@pytest.mark.parametrize("seed", range(3))
def test_second_differences_are_sparse_and_with_the_moments_determine_h(seed: int) -> None:
    inst = generate_neuron_pruning(d=2, width=12, points=64, seed=seed)
    C, _ = residual_system(inst)
    theta = grid_angles(inst.points)
    DC = second_differences(C)
    assert ((DC != 0).sum(axis=0) <= 4).all()
    K = len(theta)
    D = (np.roll(np.eye(K), 1, axis=1) + np.roll(np.eye(K), -1, axis=1)
         - 2 * math.cos(2 * math.pi / K) * np.eye(K))
    # the dropped entries were rounding: the dense D·C equals the sparse one
    np.testing.assert_allclose(D @ C, DC, rtol=0, atol=1e-12)
    rows = np.vstack([np.delete(D, [0, K // 4], axis=0), np.cos(theta), np.sin(theta)])
    assert np.linalg.matrix_rank(rows) == K
    x = np.random.default_rng(seed).integers(0, 2, 12).astype(float)
    rhs = np.concatenate([np.delete(DC @ x, [0, K // 4]), [np.cos(theta) @ C @ x],
                          [np.sin(theta) @ C @ x]])
    np.testing.assert_allclose(np.linalg.solve(rows, rhs), C @ x, rtol=0, atol=1e-10)


def test_grid_angles_refuses_other_points() -> None:
    inst = generate_neuron_pruning(d=2, width=4, points=16, seed=0, domain="cube")
    with pytest.raises(ValueError, match="even circle grid"):
        grid_angles(inst.points)


@pytest.mark.parametrize("seed", range(3))
def test_scip_on_both_forms_finds_the_exhaustive_optimum(seed: int) -> None:
    pytest.importorskip("pyscipopt")
    inst = generate_neuron_pruning(d=2, width=10, points=32, seed=seed)
    optimum = solve(inst, "bruteforce").objective
    C, f = residual_system(inst)
    for m, x in (plain_model(C, f), sparse_model(C, f, grid_angles(inst.points))[:2]):
        m.optimize()
        assert m.getStatus() == "optimal"
        mask = np.array([m.getVal(v) > 0.5 for v in x])
        assert np.abs(C @ mask - f).max() == pytest.approx(optimum, rel=1e-9, abs=1e-12)
        assert m.getObjVal() == pytest.approx(optimum, rel=1e-6, abs=1e-9)


def test_cli_refuses_bad_arguments(capsys: pytest.CaptureFixture[str]) -> None:
    for argv in (["--cutoffs", "0.1,0.2", "--seeds", "0"],
                 ["--cutoffs", "0.1", "--seeds", "0", "--points", "30"],
                 ["--cutoffs", "-1", "--seeds", "0"],
                 ["--cutoffs", "0.1", "--seeds", "x"],
                 ["--cutoffs", "0.1", "--seeds", "0", "--modes", "nope"]):
        with pytest.raises(SystemExit) as e:
            main(argv)
        assert e.value.code == 2


def test_cli_without_pyscipopt_is_one_error_line(monkeypatch: pytest.MonkeyPatch,
                                                capsys: pytest.CaptureFixture[str]) -> None:
    import sys

    monkeypatch.setitem(sys.modules, "pyscipopt", None)  # import now raises ImportError
    with pytest.raises(SystemExit) as e:
        main(["--cutoffs", "0.1", "--seeds", "0"])
    assert e.value.code == 2
    assert capsys.readouterr().err.strip().splitlines()[-1].endswith(
        "this benchmark needs PySCIPOpt (pip install pyscipopt)")
