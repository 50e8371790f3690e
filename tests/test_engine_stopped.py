"""An engine that ends without a proof and without hitting a limit ("stopped", e.g. CBC's
second look without preprocessing disagreeing with the first) gives a `feasible` result with
its bound, never `optimal` and never `time_limit` (no limit was hit)."""

from __future__ import annotations

from dataclasses import replace

import pytest

from exactprune.instances import generate_neuron_pruning
from exactprune.instances.neuron_selection import synthetic_neuron_selection
from exactprune.solvers import milp_engines, solve


@pytest.fixture
def engines_stop(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every MILP solve runs for real, then reports "stopped" as CBC's second look would."""
    real = milp_engines.solve_model

    def stopping(*args, **kwargs):
        res = real(*args, **kwargs)
        return replace(res, status="stopped") if res.status == "optimal" else res

    monkeypatch.setattr(milp_engines, "solve_model", stopping)


@pytest.mark.parametrize("engine", ["highs", "scip", "cbc"])
@pytest.mark.parametrize("problem", ["neuron_pruning", "neuron_selection"])
def test_a_stopped_engine_gives_feasible_not_time_limit(engines_stop: None, engine: str,
                                                        problem: str) -> None:
    if problem == "neuron_pruning":
        inst = generate_neuron_pruning(d=2, width=8, points=16, seed=3)
    else:
        inst = synthetic_neuron_selection(10, 3, m=6, loss="l1", seed=2)
    oracle = solve(inst, "bruteforce")
    res = solve(inst, engine, time_limit=60)
    assert str(res.status) == "feasible", (res.status, res.notes)
    assert not res.certified and res.limit == "none"
    assert res.objective >= oracle.objective - 1e-12
    if res.bound is not None:
        assert res.bound <= oracle.objective + 1e-12
