"""The numerics policy holds against lying backends: `solve()`/`finalize` trust no claim.

Fake backends (registered for the test only) return what a buggy solver might: an optimum
without a certificate, a bound above the objective, a mask of the wrong shape, a mask that
breaks eps or max_kept, "optimal" without a mask, a certificate on a time-limited run, a crash,
running out of memory. Each must come out as a result that says what is true.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest

from exactprune.instances import InputError, generate_neuron_pruning, generate_subset_sum
from exactprune.instances import io as instance_io
from exactprune.solvers import (
    Backend,
    Goal,
    Limit,
    RawSolution,
    SolveOptions,
    Status,
    capabilities,
    finalize,
    registry,
    solve,
)

ALL = capabilities("min_error", "sparsest", max_kept=True, warm_start=True, threads=True)


@pytest.fixture
def fake(monkeypatch: pytest.MonkeyPatch) -> Callable[..., str]:
    """Register a backend `liar` for a kind whose run function returns `raw(instance)`."""

    def make(kind: str, raw: Callable[[Any], RawSolution] | None = None,
             exc: BaseException | None = None) -> str:
        def run(instance: Any, goal: Goal, opts: SolveOptions) -> RawSolution:
            if exc is not None:
                raise exc
            return raw(instance)

        monkeypatch.setitem(registry._BACKENDS, (kind, "liar"),
                            Backend("liar", kind, "a backend that lies", exact=True, run=run,
                                    capabilities=ALL))
        return "liar"

    return make


def subset_sum():
    return generate_subset_sum(8, seed=3)


def test_uncertified_optimum_is_reported_feasible(fake) -> None:
    inst = subset_sum()
    name = fake("subset_sum", lambda i: RawSolution(Status.OPTIMAL, mask=i.full_mask()))
    res = solve(inst, name)
    assert res.status == "feasible" and not res.certified
    assert any("not certified" in n for n in res.notes)


def test_objective_is_recomputed_never_the_solvers(fake) -> None:
    inst = subset_sum()
    name = fake("subset_sum", lambda i: RawSolution(Status.FEASIBLE, mask=i.full_mask(),
                                                    solver_objective=-1.0))
    res = solve(inst, name)
    assert res.objective == inst.evaluate(inst.full_mask()) != -1.0
    assert any("not used" in n for n in res.notes)


def test_bound_above_the_objective_is_dropped(fake) -> None:
    inst = subset_sum()
    mask = inst.full_mask()
    err = inst.evaluate(mask)
    name = fake("subset_sum", lambda i: RawSolution(Status.OPTIMAL, mask=mask, bound=err * 2 + 1,
                                                    certified=True, tolerance=0.0))
    res = solve(inst, name)
    assert res.bound is None and res.status == "feasible" and not res.certified
    assert res.gap is None


@pytest.mark.parametrize("shape", [(7,), (8, 1), (9,)])
def test_mask_of_the_wrong_shape_is_discarded(fake, shape) -> None:
    inst = subset_sum()
    name = fake("subset_sum", lambda i: RawSolution(Status.OPTIMAL, mask=np.ones(shape, bool),
                                                    certified=True, tolerance=0.0))
    res = solve(inst, name)
    assert res.status == "error" and res.mask is None and not res.certified
    assert any("invalid mask" in n for n in res.notes)


def test_pruning_mask_of_the_wrong_shape_is_discarded(fake) -> None:
    inst = generate_neuron_pruning(d=2, width=5, points=8, seed=0)
    name = fake("neuron_pruning", lambda i: RawSolution(Status.FEASIBLE,
                                                        mask=np.ones((5, 2), bool)))
    res = solve(inst, name)
    assert res.status == "error" and res.mask is None


def test_mask_that_breaks_eps_is_not_feasible(fake) -> None:
    inst = subset_sum()
    name = fake("subset_sum", lambda i: RawSolution(Status.OPTIMAL, mask=i.full_mask(),
                                                    certified=True, tolerance=0.0))
    eps = inst.evaluate(inst.full_mask()) / 2
    res = solve(inst, name, objective="sparsest", eps=eps)
    assert res.status == "error" and not res.certified
    assert any("exceeds eps" in n for n in res.notes)


def test_mask_that_breaks_max_kept_is_not_feasible(fake) -> None:
    inst = subset_sum()
    name = fake("subset_sum", lambda i: RawSolution(Status.OPTIMAL, mask=i.full_mask(),
                                                    certified=True, tolerance=0.0))
    res = solve(inst, name, max_kept=3)
    assert res.status == "error" and not res.certified
    assert any("max_kept" in n for n in res.notes)


def test_optimal_without_a_mask_is_an_error(fake) -> None:
    inst = subset_sum()
    name = fake("subset_sum", lambda i: RawSolution(Status.OPTIMAL, certified=True,
                                                    tolerance=0.0))
    res = solve(inst, name)
    assert res.status == "error" and not res.certified


def test_a_time_limited_run_is_never_certified(fake) -> None:
    inst = subset_sum()
    name = fake("subset_sum", lambda i: RawSolution(Status.TIME_LIMIT, mask=i.full_mask(),
                                                    certified=True, tolerance=0.0))
    res = solve(inst, name, time_limit=1.0)
    assert res.status == "time_limit" and not res.certified and res.limit == Limit.TIME


def test_infeasible_claim_keeps_no_mask_or_certificate_needed(fake) -> None:
    inst = subset_sum()
    name = fake("subset_sum", lambda i: RawSolution(Status.INFEASIBLE, certified=True,
                                                    tolerance=0.0))
    res = solve(inst, name, objective="sparsest", eps=1e-12)
    assert res.status == "infeasible" and res.certified and res.mask is None
    assert res.limit == Limit.NONE


@pytest.mark.parametrize("exc,limit", [(RuntimeError("native crash"), Limit.NONE),
                                       (MemoryError(), Limit.MEMORY)])
def test_a_crashing_backend_is_a_result_not_a_crash(fake, exc, limit) -> None:
    inst = subset_sum()
    res = solve(inst, fake("subset_sum", exc=exc))
    assert res.status == "error" and res.mask is None and res.limit == limit
    assert res.notes


def test_finalize_directly_with_a_certificate_and_a_good_mask() -> None:
    inst = subset_sum()
    mask = inst.full_mask()
    raw = RawSolution(Status.OPTIMAL, mask=mask, certified=True, tolerance=0.0)
    res = finalize(inst, Goal(), raw, "x", None, SolveOptions(), 0.0)
    assert res.status == "optimal" and res.certified and res.bound == res.objective
    assert res.bounds.primal_bound == res.bounds.dual_bound == inst.evaluate(mask)


def test_an_error_beyond_float64_is_noted_and_certify_matches_its_json_null(
        tmp_path: Any, capsys: pytest.CaptureFixture[str]) -> None:
    """Hunt 98 L1: a mask whose error overflows (inf) is written with objective null (JSON has
    no inf), and `certify` of that unmodified file said objective_matches false."""
    import json

    from exactprune.cli import main
    from exactprune.instances import SubsetSumInstance, save_instance

    inst = SubsetSumInstance(values=np.array([1e308, 1e308, -1.0]), target=-1e308)
    raw = RawSolution(Status.FEASIBLE, mask=np.array([True, True, False]))
    res = finalize(inst, Goal(), raw, "x", None, SolveOptions(), 0.0)
    assert res.objective == np.inf and "the mask's error exceeds float64 (inf; null in JSON)" \
        in res.notes
    save_instance(inst, tmp_path / "i.json")
    (tmp_path / "r.json").write_text(json.dumps(json.loads(instance_io.dumps(res.to_json()))))
    assert json.loads((tmp_path / "r.json").read_text())["objective"] is None
    assert main(["certify", str(tmp_path / "i.json"), str(tmp_path / "r.json"), "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["objective_recomputed"] is None and out["objective_matches"] is True
    # a finite error claimed as null is no match
    finite = {**json.loads((tmp_path / "r.json").read_text()), "mask": [False, False, True]}
    (tmp_path / "r.json").write_text(json.dumps(finite))
    assert main(["certify", str(tmp_path / "i.json"), str(tmp_path / "r.json"), "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["objective_matches"] is False


@pytest.mark.parametrize("call,words", [
    (lambda inst: solve(inst, "mitm", options=[1]), "options must be a mapping"),
    (lambda inst: solve({"values": [1.0]}, "mitm"), "exactprune instance"),
    (lambda inst: solve(None, "mitm"), "exactprune instance"),
    (lambda inst: solve(inst, "mitm", objective="sparsest", eps=[0.1]), "eps must be a number"),
    (lambda inst: solve(inst, "mitm", objective="sparsest", eps="0.1"), "eps must be a number"),
    (lambda inst: solve(inst, "mitm", objective="sparsest", eps=True), "eps must be a number"),
    (lambda inst: solve(inst, "highs", warm_start=solve(inst, "mitm")), "pass the result's .mask"),
    (lambda inst: solve(inst, "mitm", options={"memory_limit_gb": 1}, memory_limit_gb=2),
     "'memory_limit_gb' given twice"),
    # a PuLP name PuLP does not know is misspelt, not "not available on this machine"
    (lambda inst: solve(inst, "pulp_xyz"), "unknown solver 'pulp_xyz'"),
])
def test_wrong_argument_types_in_the_api_are_input_errors(call, words: str) -> None:
    """Bad arguments from Python are one InputError line, like bad flags on the command line,
    never a TypeError or AttributeError from deep inside."""
    from exactprune.instances import InputError

    with pytest.raises(InputError, match=words):
        call(generate_subset_sum(n=6, seed=1))


def test_an_unknown_solver_lists_what_exactprune_solvers_lists_and_other_kinds() -> None:
    """The refusal's list was built before PuLP was probed (no pulp_<engine>), and its hint
    looked only at kinds already loaded ('ticket' on neuron pruning named no kind)."""
    from exactprune.instances import generate_neuron_pruning
    from exactprune.solvers import list_backends

    inst = generate_neuron_pruning(d=2, width=4, points=8, seed=0)
    listed = {b.name for b in list_backends("neuron_pruning", commercial=True)}
    with pytest.raises(InputError) as err:
        solve(inst, "ticket")
    text = str(err.value)
    assert "'ticket' solves weight_pruning" in text
    known = text.split("(known: ")[1].split(")")[0].split(", ")
    assert set(known) == {"auto", *listed}


def test_a_pulp_backend_names_itself_when_the_formulation_refuses() -> None:
    from exactprune.instances.neuron_selection import NeuronSelectionInstance
    from exactprune.solvers import list_backends

    names = [b.name for b in list_backends("neuron_selection", commercial=True)
             if b.name.startswith("pulp_") and b.available()]
    if not names:
        pytest.skip("PuLP finds no commercial engine here")
    name = names[0]
    inst = NeuronSelectionInstance(hidden=np.array([[1.0, 2.0, 3.0]]),
                                   output_weights=np.ones((3, 1)), targets=np.array([[4.0]]),
                                   k=2, loss="squared")
    # its accepts refuses it before the formulation does (hunt 152 L1), naming who takes it
    with pytest.raises(InputError, match=f"^solver '{name}': it takes neuron_selection "
                       r"instances with loss l1 or linf, not 'squared' \(use bruteforce"):
        solve(inst, name)


def test_an_option_given_both_ways_with_one_value_is_taken() -> None:
    inst = generate_subset_sum(n=6, seed=1)
    both = solve(inst, "mitm", options={"memory_limit_gb": 1}, memory_limit_gb=1)
    assert both.status == "optimal"


def test_save_instance_refuses_what_is_not_an_instance(tmp_path) -> None:
    from exactprune.instances import InputError, save_instance

    with pytest.raises(InputError, match="exactprune instance"):
        save_instance({"a": 1}, tmp_path / "x.json")
    assert list(tmp_path.iterdir()) == []


def test_numpy_booleans_are_booleans_for_yes_no_options() -> None:
    """numpy's integers and floats were taken for number options, its booleans refused."""
    from exactprune.instances.params import Param

    flag = Param("lazy", "bool", False)
    assert flag.parse(np.bool_(True)) is True and flag.parse(np.False_) is False
    with pytest.raises(InputError, match="true or false"):
        flag.parse(np.array([True, False]))


def test_solvers_text_shows_whole_versions(capsys: pytest.CaptureFixture[str]) -> None:
    from exactprune.cli import main
    from exactprune.solvers import list_backends

    assert main(["solvers"]) == 0
    out = capsys.readouterr().out
    for backend in list_backends():
        version = backend.version() if backend.available() else None
        if version:
            assert version in out  # cut at 29 characters before ("SCIP 10.0.0 (OR-Tools 9.15.67")


def test_batch_errors_check_their_masks_like_evaluate() -> None:
    """Hunt 16: `errors(masks)` took entries 2, -1, 0.5 and strings (a string "0" counted as
    kept) and gave numbers; a ragged batch was a raw numpy ValueError."""
    from exactprune.instances import generate_neuron_pruning, generate_weight_pruning
    from exactprune.instances.neuron_selection import NeuronSelectionInstance

    selection = NeuronSelectionInstance(hidden=np.array([[1.0, 2.0, 3.0]]),
                                        output_weights=np.ones((3, 1)),
                                        targets=np.array([[4.0]]), k=2, loss="squared")
    for inst in (generate_subset_sum(n=4, seed=0), selection,
                 generate_neuron_pruning(d=2, width=4, points=8, seed=0),
                 generate_weight_pruning(d=2, width=2, points=8, seed=0)):
        good = np.zeros((1, *np.shape(inst.full_mask())), dtype=int)
        good.flat[0] = 1
        assert inst.errors(good)[0] == pytest.approx(inst.errors(good.astype(bool))[0])
        for entry in (2, -1, 0.5, "0"):
            bad = good.astype(object)
            bad.flat[1] = entry
            with pytest.raises(InputError):
                inst.evaluate(bad[0])
            with pytest.raises(InputError, match="mask entries|array of"):
                inst.errors(bad.tolist())
        with pytest.raises(InputError):
            inst.errors([good[0].tolist(), good[0].tolist()[:-1]])


@pytest.mark.parametrize("data,words", [
    ({"status": "optimal", "goal": [1]}, "goal must be an object"),
    ({"status": "feasible", "certified": "false"}, "certified must be true or false"),
    ({"status": "feasible", "mask": [0.5, 1]}, "mask entries"),
    ({"status": "feasible", "mask": [-1, 0]}, "mask entries"),
    ({"status": "optimal", "certified": False}, "optimal with certified false"),
    ({"status": "feasible", "objective": "abc"}, "objective must be a number"),
    ({"status": "feasible", "kept": "x"}, "kept must be a number"),
])
def test_a_malformed_result_object_is_one_input_error(data: dict, words: str) -> None:
    """Hunt 16: a non-object goal was an AttributeError; "certified": "false" was read as
    true, mask [0.5, 1] as [False, True], and strings kept as objectives."""
    from exactprune.solvers.result import SolveResult

    with pytest.raises(InputError, match=words):
        SolveResult.from_json(data)


def test_result_json_from_the_api_is_what_the_cli_writes(tmp_path) -> None:
    """Hunt 16: `to_json()` wrote a weight-pruning mask as a bare n×d list, which the CLI's
    own certify and --warm-start refuse."""
    from exactprune.cli import main
    from exactprune.instances import generate_weight_pruning, save_instance
    from exactprune.instances.io import write_json_atomic

    inst = generate_weight_pruning(d=2, width=3, points=16, seed=0)
    res = solve(inst, "bruteforce")
    assert res.to_json() == res.to_json(inst.mask_to_json)
    save_instance(inst, tmp_path / "w.json")
    write_json_atomic(tmp_path / "r.json", res.to_json())
    assert main(["certify", str(tmp_path / "w.json"), str(tmp_path / "r.json")]) == 0


def test_list_backends_does_not_depend_on_what_ran_before() -> None:
    """Hunt 16: pulp_<engine> appeared in list_backends(kind) only after some call had probed
    PuLP (a solve with an unknown solver name, say)."""
    from exactprune.solvers import list_backends

    before = [b.name for b in list_backends("subset_sum")]
    with pytest.raises(InputError):
        solve(generate_subset_sum(n=4, seed=0), "nosuch")
    assert [b.name for b in list_backends("subset_sum")] == before
    assert not any(n.startswith("pulp_") for n in before)


@pytest.mark.parametrize("solver,says", [("gurobi", "pip install 'exactprune[gurobi]'"),
                                         ("highs", "`exactprune solvers` lists what is")])
def test_an_unavailable_solver_says_what_installs_it(solver: str, says: str,
                                                      monkeypatch) -> None:
    """A missing optional library was refused with "not available on this machine" and no
    word of the extra that brings it (hunt 74 L1). Here the probe is made to say no."""
    import dataclasses

    from exactprune.instances import InputError
    from exactprune.solvers import registry

    backend = registry.get_backend(solver, "subset_sum")
    monkeypatch.setitem(registry._BACKENDS, ("subset_sum", solver),
                        dataclasses.replace(backend, available=lambda: False))
    with pytest.raises(InputError, match=f"not available on this machine .*{re.escape(says)}"):
        solve(generate_subset_sum(n=6, seed=1), solver)
