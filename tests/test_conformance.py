"""One conformance suite, run against every subset-sum backend that is installed.

After PuLP's solver_common: every backend must return a mask whose objective is recomputed by
the instance, never claim an uncertified optimum, agree with the `bruteforce` oracle whenever it
certifies (within its stated tolerance), respect max_kept and the sparsest goal where it says it
supports them, and honour a time limit with an honest status.
"""

from __future__ import annotations

from fractions import Fraction

import pytest
from conftest import random_instance

from exactprune.solvers import Objective, list_backends, solve

BACKENDS = [b for b in list_backends(only_available=True) if "subset_sum" in b.kinds]
EXACT = [b for b in BACKENDS if b.exact and b.name != "bruteforce"]
N_INSTANCES = 200


def _variant(seed: int) -> dict:
    """Seeds cycle through plain, max_kept and sparsest goals, n from 1 to 14."""
    n = 1 + seed % 14
    if seed % 5 == 3:
        return {"n": n, "max_kept": seed % (n + 1)}
    if seed % 5 == 4:
        return {"n": n, "objective": "sparsest", "eps": [1e-2, 1e-3, 1e-9][seed % 3]}
    return {"n": n}


def _kwargs(backend, variant: dict) -> dict | None:
    kw = {k: v for k, v in variant.items() if k != "n"}
    if "max_kept" in kw and not backend.max_kept:
        return None
    if kw.get("objective") == "sparsest" and Objective.SPARSEST not in backend.objectives:
        return None
    return kw


@pytest.mark.parametrize("backend", EXACT, ids=lambda b: b.name)
def test_exact_backend_agrees_with_bruteforce(backend) -> None:
    certified = tried = 0
    for seed in range(N_INSTANCES):
        variant = _variant(seed)
        kw = _kwargs(backend, variant)
        if kw is None:
            continue
        inst = random_instance(seed, variant["n"])
        oracle = solve(inst, "bruteforce", **kw)
        res = solve(inst, backend.name, time_limit=30, **kw)
        tried += 1
        assert res.status != "error", (seed, res.notes)
        if res.mask is not None:
            assert res.objective == (res.kept if kw.get("objective") == "sparsest"
                                     else inst.evaluate(res.mask))
        if oracle.status == "infeasible":
            assert res.status in ("infeasible", "time_limit"), (seed, res.status)
            certified += res.certified
            continue
        if res.mask is not None and kw.get("objective") != "sparsest":
            # nothing beats the oracle, certified or not
            assert inst.exact_error(res.mask) >= inst.exact_error(oracle.mask)
        if res.certified:
            certified += 1
            assert res.status == "optimal"
            tol = Fraction(res.tolerance or 0.0)
            if kw.get("objective") == "sparsest":
                assert res.objective == oracle.objective, seed
            else:
                assert inst.exact_error(res.mask) <= inst.exact_error(oracle.mask) + tol, seed
        else:
            assert res.status != "optimal"
    assert tried >= N_INSTANCES * 0.6
    # a backend that never certifies would pass vacuously: demand it certifies small instances
    assert certified >= 0.8 * tried, f"{backend.name} certified only {certified}/{tried}"


@pytest.mark.parametrize("backend", BACKENDS, ids=lambda b: b.name)
def test_mask_shape_and_recomputed_objective(backend) -> None:
    inst = random_instance(42, 12)
    res = solve(inst, backend.name, time_limit=20)
    assert res.mask is not None and res.mask.shape == (12,)
    assert res.objective == inst.evaluate(res.mask)
    assert res.kind == "subset_sum" and res.solver == backend.name
    data = res.to_json(inst.mask_to_json)
    again = type(res).from_json(data)
    assert again.status == res.status and again.objective == res.objective
    assert again.mask.tolist() == res.mask.tolist()


@pytest.mark.parametrize("backend", [b for b in BACKENDS if b.max_kept], ids=lambda b: b.name)
def test_max_kept_is_respected(backend) -> None:
    inst = random_instance(7, 14)
    for k in (0, 1, 3):
        res = solve(inst, backend.name, max_kept=k, time_limit=20)
        assert res.kept is not None and res.kept <= k


@pytest.mark.parametrize("backend", EXACT, ids=lambda b: b.name)
def test_time_limit_that_certainly_hits(backend) -> None:
    inst = random_instance(3, 46)
    extra = {"memory_limit_gb": 0.01} if backend.name == "mitm" else {}
    res = solve(inst, backend.name, time_limit=0.3, **extra)
    assert res.status in ("time_limit", "feasible", "error") and not res.certified
    if res.mask is not None:
        assert res.objective == inst.evaluate(res.mask)


@pytest.mark.parametrize("backend", [b for b in BACKENDS if not b.exact], ids=lambda b: b.name)
def test_heuristics_are_never_certified(backend) -> None:
    for seed in range(5):
        inst = random_instance(seed, 10)
        res = solve(inst, backend.name, seed=seed)
        opt = solve(inst, "bruteforce")
        assert res.status == "feasible" and not res.certified
        assert res.objective >= opt.objective
