"""An engine's "infeasible" on a subset-sum model is refuted by a mask in hand.

The exclusion re-check reads "no mask is left outside the excluded ones" as a certificate for
the best mask found, and sparsest reads "no mask in the band" as a proof that none is within
eps; a wrong answer there (as OR-Tools 9.15's presolve gave on pruning models, or-tools#5274)
would certify a wrong optimum. A mask the cut model still admits (`mask_outside`), or a warm
start within eps, refutes it. The engines are real; the wrong answer is injected, because no
real one has been seen on these models.
"""

from __future__ import annotations

import itertools
from dataclasses import replace
from fractions import Fraction

import numpy as np
import pytest

from exactprune.formulations.subset_sum.milp import canonical_mask, mask_outside
from exactprune.instances.subset_sum import SubsetSumInstance
from exactprune.solvers import solve
from exactprune.solvers.subset_sum import cpsat as cpsat_backend
from exactprune.solvers.subset_sum import milp as milp_backend


def _canonical_masks(values: np.ndarray, max_kept: int | None) -> set[bytes]:
    """Every canonical mask keeping at most max_kept values, by enumerating all 2^n masks."""
    out = set()
    for bits in itertools.product([False, True], repeat=values.size):
        canon = canonical_mask(values, np.array(bits))
        if max_kept is None or canon.sum() <= max_kept:
            out.add(canon.tobytes())
    return out


@pytest.mark.parametrize("seed", range(40))
def test_mask_outside_finds_an_admitted_mask_exactly_when_one_is_left(seed: int) -> None:
    rng = np.random.default_rng(seed)
    n = int(rng.integers(1, 8))
    values = rng.choice([0.0, -0.0, 0.5, -0.25, 0.75, 1e-9, 3.0], size=n)
    max_kept = None if seed % 3 == 0 else int(rng.integers(0, n + 1))
    every = sorted(_canonical_masks(values, max_kept))
    # exclude all of them, all but one, or a random part
    share = (1.0, 1.0 - 1.0 / len(every), rng.uniform())[seed % 3]
    chosen = [m for m in every if rng.uniform() < share] if share < 1.0 else every
    excluded = [np.frombuffer(m, dtype=bool) for m in chosen]
    got = mask_outside(values, excluded, max_kept)
    if len(chosen) == len(every):
        assert got is None
        return
    assert got is not None
    assert got.tobytes() in set(every) and got.tobytes() not in set(chosen)
    assert np.array_equal(got, canonical_mask(values, got))


def _near_tie_instance() -> SubsetSumInstance:
    """Lossy at CP-SAT's scale and far below the MILP engines' tolerances: many masks share a
    scaled sum of 0, with exact errors around 3e-25 (as tests/test_cpsat.py's)."""
    return SubsetSumInstance([0.5, -0.5, 0.375, 0.8125, -0.6875, 1e-30, 3e-28, 2e-26], 3e-25)


@pytest.fixture
def cpsat_infeasible_after_first(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """CP-SAT's first solve runs for real; every later one answers INFEASIBLE."""
    real = cpsat_backend._Run.solve
    calls: list[str] = []

    def solve_once(self):
        calls.append("solve")
        if len(calls) == 1:
            return real(self)
        return cpsat_backend._Outcome("INFEASIBLE", None, None, None)

    monkeypatch.setattr(cpsat_backend._Run, "solve", solve_once)
    return calls


@pytest.mark.parametrize("max_kept", [None, 3])
def test_cpsat_exclusion_infeasible_with_masks_left_certifies_nothing(
        cpsat_infeasible_after_first: list[str], max_kept: int | None) -> None:
    inst = _near_tie_instance()
    oracle = solve(inst, "bruteforce", max_kept=max_kept)
    res = solve(inst, "cpsat", max_kept=max_kept)
    assert len(cpsat_infeasible_after_first) >= 2, "the exclusion re-check was not reached"
    assert not res.certified and res.status == "feasible", res.notes
    assert any("the claim is refuted" in note for note in res.notes)
    assert inst.exact_error(res.mask) >= inst.exact_error(oracle.mask)
    assert res.bound is None or Fraction(res.bound) <= inst.exact_error(oracle.mask)


def test_cpsat_exclusion_infeasible_with_every_mask_examined_still_certifies() -> None:
    """Two lossy values: four masks; once all are excluded the real INFEASIBLE is right."""
    inst = SubsetSumInstance([1e-30, 1.0], 1e-29)
    res = solve(inst, "cpsat")
    oracle = solve(inst, "bruteforce")
    assert res.certified and inst.exact_error(res.mask) == inst.exact_error(oracle.mask)


# (values, target, eps, warm start or None): a mask within eps is in hand — the start, the
# empty mask (|target| <= eps) or the greedy mask (0.75 errs by 0.125) — so "none is" is refuted
MASKS_IN_HAND = [
    ([0.5, -0.25, 0.75, 0.125, 0.3], 0.875, 0.4, [True, False, False, False, False]),
    ([0.5, -0.5, 0.375, 0.8125, -0.6875, 1e-30, 3e-28, 2e-26], 3e-25, 0.375, None),  # hunt 234
    ([0.5, -0.25, 0.75, 0.125, 0.3], 0.875, 0.2, None),
]


@pytest.mark.parametrize("values, target, eps, start", MASKS_IN_HAND)
def test_cpsat_sparsest_infeasible_beside_a_mask_in_hand_is_refuted(
        monkeypatch: pytest.MonkeyPatch, values, target, eps, start) -> None:
    inst = SubsetSumInstance(values, target)
    oracle = solve(inst, "bruteforce", objective="sparsest", eps=eps)
    assert oracle.certified and oracle.status == "optimal"

    def infeasible(self):
        return cpsat_backend._Outcome("INFEASIBLE", None, None, None)

    monkeypatch.setattr(cpsat_backend._Run, "solve", infeasible)
    warm = None if start is None else np.array(start)
    res = solve(inst, "cpsat", objective="sparsest", eps=eps, warm_start=warm)
    assert res.status == "feasible" and not res.certified, res.notes
    assert inst.exact_error(res.mask) <= Fraction(eps)
    assert any("the claim is refuted" in note for note in res.notes)


@pytest.mark.parametrize("engine", ["highs", "scip", "cbc"])
@pytest.mark.parametrize("values, target, eps, start", MASKS_IN_HAND[1:])
def test_milp_sparsest_infeasible_beside_a_mask_in_hand_is_refuted(
        monkeypatch: pytest.MonkeyPatch, engine: str, values, target, eps, start) -> None:
    inst = SubsetSumInstance(values, target)
    real = milp_backend.solve_model

    def infeasible(*args, **kwargs):
        return replace(real(*args, **kwargs), status="infeasible", values=None,
                       objective=None, bound=None)

    monkeypatch.setattr(milp_backend, "solve_model", infeasible)
    if engine == "highs" and min(abs(v) for v in values) < 1e-9:
        pytest.skip("HiGHS refuses values below its feasibility tolerance")
    res = solve(inst, engine, objective="sparsest", eps=eps)
    assert res.status in ("feasible", "optimal"), res.notes  # optimal only by the empty mask
    assert res.mask is not None and inst.exact_error(res.mask) <= Fraction(eps)


def test_with_no_mask_in_hand_an_infeasible_claim_stands() -> None:
    """The documented limit: neither a start, nor the empty mask (errs by 1), nor the greedy
    mask (0.6 + 0.5, errs by 0.1) is within eps = 0.01, though 0.5 + 0.5 is; an injected
    "none is within eps" is then taken as the engine's proof (nothing in hand refutes it)."""
    inst = SubsetSumInstance([0.6, 0.5, 0.5], 1.0)
    assert solve(inst, "bruteforce", objective="sparsest", eps=0.01).kept == 2
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(cpsat_backend._Run, "solve",
                   lambda self: cpsat_backend._Outcome("INFEASIBLE", None, None, None))
        res = solve(inst, "cpsat", objective="sparsest", eps=0.01)
    assert res.status == "infeasible"


@pytest.mark.parametrize("engine", ["highs", "scip", "cbc"])
def test_milp_exclusion_infeasible_with_masks_left_certifies_nothing(
        monkeypatch: pytest.MonkeyPatch, engine: str) -> None:
    """The MILP engines' slack T (1e-8..1e-7 here) is above these errors (0.2e-9..3e-9), so
    round 0 cannot certify and the exclusion rounds run; the first is answered "infeasible"."""
    inst = SubsetSumInstance([0.5, -0.5, 0.375, 0.8125, -0.6875, 1.1e-9, 1.7e-9], 3e-9)
    oracle = solve(inst, "bruteforce")
    real = milp_backend.solve_model
    calls: list[int] = []

    def infeasible_after_first(*args, **kwargs):
        calls.append(1)
        res = real(*args, **kwargs)
        return res if len(calls) == 1 else replace(res, status="infeasible", values=None,
                                                   objective=None, bound=None)

    monkeypatch.setattr(milp_backend, "solve_model", infeasible_after_first)
    res = solve(inst, engine, time_limit=30)
    assert len(calls) >= 2, "the exclusion rounds were not reached"
    assert not res.certified and res.status == "feasible", res.notes
    assert any("the claim is refuted" in note for note in res.notes)
    assert inst.exact_error(res.mask) >= inst.exact_error(oracle.mask)


@pytest.mark.parametrize("sizes", [[], [3], [1, 1, 1], [2, 1, 3], [1, 2, 2, 1, 4], [5, 5]])
def test_class_counts_are_every_count_vector_once(sizes: list[int]) -> None:
    """`mask_outside`'s walk: each way to keep `total` values, c_g <= sizes[g], exactly once
    (hunt 234 L2: the multisets it walked before were C(2g, g) for 2^g masks)."""
    from exactprune.formulations.subset_sum.milp import _class_counts

    for total in range(sum(sizes) + 2):
        got = [tuple(v) for v in _class_counts(sizes, total)]
        want = {tuple((g, c) for g, c in enumerate(cv) if c)
                for cv in itertools.product(*[range(s + 1) for s in sizes]) if sum(cv) == total}
        assert len(got) == len(set(got)) and set(got) == want
