"""benchmarks/pruning/levers.py: a configuration's SCIP parameters apply to its own job only
(pool workers run several jobs, so a leak would change the next configuration's engine)."""

from __future__ import annotations

from exactprune.benchmarks.pruning.levers import run_one
from exactprune.solvers import milp_engines


def test_scip_params_of_one_job_do_not_leak_into_the_next() -> None:
    before = dict(milp_engines.SCIP_PARAMS)
    job = {"engine": "scip", "formulation": "loose", "seed": 0, "n": 8, "kind": "neuron",
           "points": 32, "activation": "identity", "time_limit": 20.0,
           "options": {"scip_params": {"numerics/feastol": 1e-7}}}
    loose = run_one(job)
    assert milp_engines.SCIP_PARAMS == before
    plain = run_one({**job, "formulation": "selection", "options": {}})
    assert loose["certified"] and plain["certified"]
    assert abs(loose["objective"] - plain["objective"]) <= 1e-5 * plain["objective"]
