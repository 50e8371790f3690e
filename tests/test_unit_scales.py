"""The MILP engines refuse units whose output scales span more than 1e6 (solvers/unit_scales.py).

On such data (output weights of some units ~1e-7 .. 1e-16 times the others', the `--edge`
audits) SCIP, HiGHS and CBC certified wrong optima; CP-SAT took them right. Checked here on the
audits' finds against the exhaustive oracle, with the refusal's boundary on both sides.
"""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from exactprune.benchmarks.neuron_selection import audit as selection_audit
from exactprune.benchmarks.pruning import audit as pruning_audit
from exactprune.instances import InputError, generate_neuron_pruning
from exactprune.solvers import get_backend, solve
from exactprune.solvers.unit_scales import MIN_UNIT_SCALE_RATIO, unit_scale_refusal, unit_scales

MILP = ["scip", "highs", "cbc", "gurobi"]


def _available(name: str, kind: str) -> None:
    if not get_backend(name, kind).available():
        pytest.skip(f"{name} is not available here")


def test_unit_scales_bound_each_units_contribution() -> None:
    inst = generate_neuron_pruning(d=3, width=5, points=16, seed=1, domain="cube")
    W, v, X = inst.network.hidden_weights, inst.network.output_weights, inst.points
    expected = [abs(v[i]) * sum(abs(W[i, j]) * np.abs(X[:, j]).max() for j in range(3))
                for i in range(5)]
    assert np.allclose(unit_scales(inst), expected, rtol=1e-15)
    # every unit's column (its output at any point, any sub-mask) is within its scale
    outputs = np.abs(np.maximum(X @ W.T, 0.0) * v)
    assert np.all(outputs <= unit_scales(inst)[None, :] * (1 + 1e-12))
    sel, _ = selection_audit.audit_instance(7)
    assert np.allclose(unit_scales(sel), np.abs(sel.hidden).max(axis=0)
                       * np.abs(sel.output_weights).max(axis=1))


@pytest.mark.parametrize("factor,refused", [(1e-5, False), (1e-7, True)])
def test_the_refusal_boundary(factor: float, refused: bool) -> None:
    inst = generate_neuron_pruning(d=2, width=6, points=32, seed=3)
    v = np.array(inst.network.output_weights)
    s0 = unit_scales(inst)
    v[:2] *= factor * s0[2:].max() / s0[:2]  # units 0, 1 at `factor` times the largest
    small = dataclasses.replace(inst, network=dataclasses.replace(inst.network,
                                                                  output_weights=v))
    s = unit_scales(small)
    assert (s.min() / s.max() < MIN_UNIT_SCALE_RATIO) == refused
    assert (unit_scale_refusal(small) is not None) == refused
    for engine in MILP:
        _available(engine, small.kind)
        if refused:
            with pytest.raises(InputError, match="output scales span") as exc:
                solve(small, engine)
            assert "\n" not in str(exc.value)
            assert "use cpsat or bruteforce" in str(exc.value)  # no bnb for pruning
        else:
            assert solve(small, engine, time_limit=30).certified


def test_regular_audit_cases_and_trained_nets_are_not_refused() -> None:
    assert not any(unit_scale_refusal(pruning_audit.audit_instance(c)[0]) for c in range(200))
    assert not any(unit_scale_refusal(selection_audit.audit_instance(c)[0]) for c in range(200))


@pytest.mark.parametrize("case", [2465, 4811, 5588, 5483])
def test_selection_edge_finds_are_refused_by_the_milps_and_solved_by_auto(case: int) -> None:
    """Neuron-selection --edge cases where HiGHS (2465, 4811, 5588) or CBC (5483) certified a
    wrong optimum (with a random warm start; docs/numerics.md)."""
    inst, _ = selection_audit.edge_instance(case)
    oracle = solve(inst, "bruteforce")
    for engine in MILP:
        _available(engine, inst.kind)
        with pytest.raises(InputError, match="use cpsat, bnb or bruteforce"):
            solve(inst, engine)
    for name in ("cpsat", "auto"):
        res = solve(inst, name, time_limit=60)
        assert res.certified
        assert abs(res.objective - oracle.objective) <= res.tolerance + oracle.tolerance


def test_the_refusal_names_only_backends_that_take_the_instance() -> None:
    """Weight pruning at d = 11 with units of too many scales: the MILP refusal said "use
    cpsat or bruteforce (auto chooses cpsat)", and cpsat refuses d > 10 (hunt 50)."""
    from exactprune.instances import generate_weight_pruning

    inst = generate_weight_pruning(d=11, width=2, points=16, seed=1)
    v = np.array(inst.network.output_weights, dtype=float)
    v[0] *= 1e-9
    wide = dataclasses.replace(inst, network=dataclasses.replace(inst.network,
                                                                 output_weights=v))
    why = unit_scale_refusal(wide)
    # 22 weights: bruteforce's 2^20 masks do not reach either, so it names no exact backend
    # (it said "only bruteforce takes it at d = 11", and bruteforce refused; hunt 121 L1)
    assert why.endswith("no exact backend takes it: bruteforce enumerates at most 2^20 masks "
                        "(this one has 2^22); a heuristic such as prune_local_search gives a "
                        "mask, uncertified (cpsat's dictionary stops at d = 10)"), why
    assert "auto chooses cpsat" not in why
    with pytest.raises(InputError, match="d = 11 exceeds its limit of 10"):
        solve(wide, "cpsat")  # the refusal is right not to send the user there
    with pytest.raises(InputError, match="above its limit of 2"):
        solve(wide, "bruteforce")
    assert solve(wide, "prune_local_search").mask is not None  # the route it names
    for width in (5, 3):  # 15 weights: auto runs cpsat; 9: it enumerates (hunt 194 L1)
        narrow = generate_weight_pruning(d=3, width=width, points=16, seed=1)
        v = np.array(narrow.network.output_weights, dtype=float)
        v[0] *= 1e-9
        narrow = dataclasses.replace(narrow, network=dataclasses.replace(narrow.network,
                                                                         output_weights=v))
        chosen = solve(narrow, "auto", time_limit=10).solver
        assert chosen == ("cpsat" if width == 5 else "bruteforce")
        assert f"use cpsat or bruteforce (auto chooses {chosen})" in unit_scale_refusal(narrow)
    l2 = dataclasses.replace(narrow, norm="l2")  # cpsat refuses l2 too (hunt 52)
    assert "only bruteforce takes the l2 error" in unit_scale_refusal(l2)
    with pytest.raises(InputError, match="not l2"):
        solve(l2, "cpsat")


def test_selection_refusals_name_backends_that_take_repeats() -> None:
    """Neuron selection with repeats and units of too many scales: the MILP engines' refusal
    named bnb, which refuses repeats, and bnb's named the MILP engines back (hunt 133 L1).
    Every backend a refusal names must take the instance."""
    import re

    from exactprune.instances.neuron_selection import NeuronSelectionInstance

    rng = np.random.default_rng(138900)
    H = np.maximum(rng.standard_normal((4, 6)), 0)
    V = rng.standard_normal((6, 1))
    V[:3] *= 1e-9
    for rule in ("keep", "average"):
        inst = NeuronSelectionInstance(hidden=H, output_weights=V, targets=H @ V * 0.5, k=2,
                                       loss="l1", rule=rule, repeats=True)
        named = set()
        for refusing in ("highs", "bnb"):
            with pytest.raises(InputError) as exc:
                solve(inst, refusing)
            named |= set(re.findall(r"\b(cpsat|bnb|bruteforce|highs|scip|cbc)\b",
                                    str(exc.value).split("(use")[-1].split("; use")[-1]))
        assert named == {"cpsat", "bruteforce"}, named
        for name in named:
            assert solve(inst, name, time_limit=30).certified


def test_the_milp_refusals_of_squared_and_refit_name_backends_that_take_them() -> None:
    """The MILP engines refused the squared loss with "use bruteforce or bnb" and refit with
    "use bruteforce" whatever the instance: bnb refuses repeats, bruteforce beyond its size
    (hunt 135 L1). Each backend named must take the instance; none named, none takes it."""
    import re

    from exactprune.instances.neuron_selection import synthetic_neuron_selection

    for rule in ("average", "keep", "refit"):
        for repeats in (False, True):
            for n, k in ((7, 3), (40, 12)):
                inst = synthetic_neuron_selection(n, k, m=8, loss="squared", rule=rule,
                                                  repeats=repeats)
                with pytest.raises(InputError) as exc:
                    solve(inst, "highs")
                named = set(re.findall(r"\b(bruteforce|bnb|cpsat)\b",
                                       str(exc.value).split("; ")[-1]))
                for name in ("bruteforce", "bnb"):
                    takes = get_backend(name, inst.kind).refuse(inst, None) is None
                    assert (name in named) == takes, (rule, repeats, n, str(exc.value))


def test_the_unit_scale_refusal_names_the_backends_that_take_the_data() -> None:
    """A subnormal target beside data of 1e4: no power of two brings it to unit size exactly,
    and the MILP engines and CP-SAT refused without naming bnb or bruteforce, which take it
    (hunt 136 L3)."""
    import re

    from exactprune.instances.neuron_selection import NeuronSelectionInstance

    rng = np.random.default_rng(144900)
    for repeats in (False, True):
        H = np.abs(rng.normal(size=(6, 7))) * 1e4
        T = rng.normal(size=(6, 2)) * 1e4
        T[0, 0] = 5e-324
        inst = NeuronSelectionInstance(hidden=H, output_weights=rng.normal(size=(7, 2)),
                                       targets=T, k=3, loss="l1", repeats=repeats)
        for engine in ("highs", "cpsat"):
            why = get_backend(engine, inst.kind).refuse(inst, None)
            assert why and "unit scale" in why
            named = set(re.findall(r"\b(bruteforce|bnb)\b", why.split("; ")[-1]))
            assert named == ({"bruteforce"} if repeats else {"bruteforce", "bnb"}), why
            for name in named:
                assert solve(inst, name, time_limit=30).certified
