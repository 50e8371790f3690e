"""Formulations own their variables: start(mask) is complete and feasible with the mask's own
objective, and fixing the mask in the model leaves exactly the mask's error as the optimum.

The second check is the pattern of gurobi-machinelearning's fixed_formulation tests: fix the
inputs, solve, and compare with the instance's own evaluation. It caught a sign error in the
relu-output linf rows (a big-M term with the wrong sign, which overstated the error of masks
whose pre-activation is negative where the target is positive).
"""

from __future__ import annotations

from dataclasses import replace

import highspy
import numpy as np
import pytest

from exactprune.formulations.base import formulations_of, get_formulation
from exactprune.formulations.linear import to_highs
from exactprune.formulations.pruning.bigm import bigm_model
from exactprune.formulations.pruning.selection import build_selection, selection_model
from exactprune.instances import (
    InputError,
    generate_neuron_pruning,
    generate_subset_sum,
    generate_weight_pruning,
)
from exactprune.solvers import Goal, solve
from exactprune.solvers.milp_engines import ENGINES, check_start, native_stdout, solve_model
from exactprune.solvers.result import SolveOptions


def _pruning(kind: str, act: str, norm: str, seed: int):
    gen = generate_neuron_pruning if kind == "neuron_pruning" else generate_weight_pruning
    width = 8 if kind == "neuron_pruning" else 4
    return gen(d=2, width=width, points=40, seed=seed, output_activation=act, norm=norm)


CASES = [(kind, form, act, norm, seed)
         for kind, form in [("neuron_pruning", "selection"), ("weight_pruning", "dictionary"),
                            ("weight_pruning", "bigm")]
         for act in ("identity", "relu") for norm in ("linf", "l1") for seed in range(3)]


def _fixed_optimum(built, values) -> float:
    """Minimise the model with every mask variable fixed at its value in `values`."""
    model = built.model
    lo, hi = np.array(model.lower), np.array(model.upper)
    idx = list(model.mask_variables)
    lo[idx] = hi[idx] = values[idx]
    with native_stdout(False):
        h = highspy.Highs()
    h.setOptionValue("output_flag", False)
    h.setOptionValue("mip_rel_gap", 0.0)
    h.setOptionValue("mip_abs_gap", 0.0)
    to_highs(replace(model, lower=lo, upper=hi), h)
    h.run()
    assert h.getModelStatus() == highspy.HighsModelStatus.kOptimal
    return float(h.getInfo().objective_function_value)


@pytest.mark.parametrize("case", CASES, ids=lambda c: "-".join(map(str, c)))
def test_pruning_start_is_feasible_and_fixed_mask_optimum_is_its_error(case) -> None:
    kind, form, act, norm, seed = case
    inst = _pruning(kind, act, norm, seed)
    built = get_formulation(kind, form).build(inst, None)
    rng = np.random.default_rng(seed)
    for _ in range(4):
        mask = rng.random(inst.mask_shape) < 0.5
        err = inst.evaluate(mask)
        values = built.start(mask)
        assert values.shape == (built.model.n_vars,)
        assert check_start(built.model, values, 1e-9) is None
        assert built.model.objective_value(values) == pytest.approx(err, rel=1e-12, abs=1e-15)
        assert inst.evaluate(built.mask(values)) == err
        assert _fixed_optimum(built, values) == pytest.approx(err, rel=1e-7, abs=1e-9)


@pytest.mark.parametrize("goal", [None, Goal(max_kept=3), Goal(objective="sparsest", eps=0.5)],
                         ids=["min_error", "max_kept", "sparsest"])
def test_subset_sum_start_is_feasible_with_the_mask_objective(goal) -> None:
    inst = generate_subset_sum(12, seed=5)
    built = get_formulation("subset_sum").build(inst, goal)
    rng = np.random.default_rng(1)
    for _ in range(20):
        mask = rng.random(12) < 0.25
        values = built.start(mask)
        if goal is not None and (goal.max_kept is not None and mask.sum() > goal.max_kept
                                 or goal.eps is not None and inst.evaluate(mask) > goal.eps):
            assert check_start(built.model, values, 1e-9) is not None  # infeasible mask
            continue
        assert check_start(built.model, values, 1e-9) is None
        want = float(mask.sum()) if goal is not None and goal.eps is not None \
            else inst.evaluate(mask)
        assert built.model.objective_value(values) == pytest.approx(want, rel=1e-12)
        assert np.array_equal(built.mask(values), mask)


def test_formulations_are_declared_per_kind() -> None:
    assert list(formulations_of("weight_pruning")) == ["dictionary", "bigm", "antipodal"]
    assert list(formulations_of("neuron_pruning")) == ["selection", "antipodal"]
    assert list(formulations_of("subset_sum")) == ["standard"]
    with pytest.raises(InputError, match="unknown formulation 'bigm' for neuron_pruning"):
        get_formulation("neuron_pruning", "bigm")
    with pytest.raises(InputError, match="no cardinality budget"):
        get_formulation("weight_pruning").check_goal(Goal(max_kept=2))


@pytest.mark.parametrize("engine", sorted(ENGINES))
@pytest.mark.parametrize("form", ["selection", "bigm"])
def test_engines_accept_a_feasible_start_and_reject_an_infeasible_one(engine: str,
                                                                      form: str) -> None:
    """Each engine's own verdict on a MIP start (from its log), not exactprune's check."""
    if not ENGINES[engine].available():
        pytest.skip(f"{engine} not available")
    inst = generate_weight_pruning(d=2, width=6, points=48, seed=2, output_activation="relu")
    built = bigm_model(inst) if form == "bigm" else selection_model(build_selection(inst))
    mask = np.random.default_rng(0).random(inst.mask_shape) < 0.6
    good = built.start(mask)
    res = solve_model(engine, built.model, SolveOptions(), time_limit=20, start=good)
    if engine == "cbc":  # given no MIP start since it certified wrong optima from one
        assert res.start == "not_supported" and res.status == "optimal", res.notes
        return
    assert res.start == "accepted", (res.start, res.start_reason)
    assert res.start_reason is None  # the engine said so itself
    bad = good.copy()
    bad[list(built.model.mask_variables)] = 1.0 - bad[list(built.model.mask_variables)]
    assert check_start(built.model, bad, 1e-6) is not None
    res = solve_model(engine, built.model, SolveOptions(), time_limit=20, start=bad)
    assert res.start == "rejected", (res.start, res.start_reason)


def test_identical_dictionary_columns_are_merged_including_signed_zeros() -> None:
    """Sub-masks that differ only on zero weights (+0.0 or -0.0) give one column: the merge
    now keys columns by their bytes (-0.0 made +0.0), no longer comparing every pair."""
    from exactprune.instances.network import TwoLayerNet
    from exactprune.instances.pruning import WeightPruningInstance

    W = np.array([[1.0, 0.0, -0.0], [0.5, -2.0, 0.0]])
    net = TwoLayerNet(W, np.array([1.0, -1.0]), "identity")
    target = TwoLayerNet(np.array([[0.3, 0.7, 0.1]]), np.array([1.0]), "identity")
    pts = np.random.default_rng(0).normal(size=(12, 3))
    inst = WeightPruningInstance(network=net, target=target, points=pts, norm="linf")
    sel = build_selection(inst)
    assert np.count_nonzero(sel.group == 0) == 1  # unit 0: only its first weight matters
    assert np.count_nonzero(sel.group == 1) == 3  # {0}, {1}, {0, 1}
    table = sel.subset_column[0]
    assert len({c for c in table if c >= 0}) == 1 and np.count_nonzero(table >= 0) == 4
    # and the merged model still has the exhaustive optimum
    assert solve(inst, "scip").objective == pytest.approx(solve(inst, "bruteforce").objective,
                                                          rel=1e-9, abs=1e-12)
