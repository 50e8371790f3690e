"""The basis-reduction benchmark's models against the exhaustive oracle (needs PySCIPOpt and
fpylll; skipped without them)."""

from __future__ import annotations

import numpy as np
import pytest

pytest.importorskip("pyscipopt")
pytest.importorskip("fpylll")

from exactprune.benchmarks.pruning.basis_reduction import (  # noqa: E402
    feasibility_model,
    main,
    reduced_basis,
    residual_system,
)
from exactprune.instances import generate_neuron_pruning  # noqa: E402
from exactprune.solvers import solve  # noqa: E402


@pytest.mark.parametrize("seed", range(4))
def test_both_models_decide_the_oracles_error_level(seed: int) -> None:
    inst = generate_neuron_pruning(d=2, width=10, points=16, seed=seed,
                                   output_activation="identity")
    C, f = residual_system(inst)
    oracle = solve(inst, "bruteforce")
    mask = np.asarray(oracle.mask, dtype=float)
    assert abs(np.abs(C @ mask - f).max() - oracle.objective) <= 1e-12  # the system is the kind's
    T = reduced_basis(C, oracle.objective)
    assert round(abs(np.linalg.det(T.astype(float)))) == 1  # unimodular: same integer points
    for basis in (None, T):
        above, z = feasibility_model(C, f, oracle.objective * (1 + 1e-6), basis)
        above.optimize()
        assert above.getStatus() == "optimal"
        found = np.array([above.getVal(v) for v in z])
        x = np.rint(found if basis is None else basis @ np.rint(found))
        assert set(np.unique(x)) <= {0.0, 1.0}
        assert inst.evaluate(x.astype(bool)) <= oracle.objective * (1 + 1e-6) + 1e-12
        below, _ = feasibility_model(C, f, oracle.objective * (1 - 1e-3), basis)
        below.optimize()
        assert below.getStatus() == "infeasible"


def test_bad_arguments_are_one_line_errors(capsys: pytest.CaptureFixture) -> None:
    for argv in (["--below", "0.1"], ["--seeds", "1", "--below", "-1"],
                 ["--seeds", "1", "--below", "0.1", "--modes", "nope"]):
        with pytest.raises(SystemExit) as exc:
            main(argv)
        assert exc.value.code == 2
    err = capsys.readouterr().err
    assert "--below needs one positive value per seed" in err and "unknown mode" in err
