"""The Python API's contract (hunt 31): numpy scalars are taken as their value, ints beyond
float64 and other bad arguments are an InputError naming the argument (some were refused as
not numbers, others raised OverflowError, ValueError or TypeError from deep inside, and a numpy
seed made a result's JSON unserialisable)."""

from __future__ import annotations

import copy
import dataclasses
import json
import math
import pickle
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest

from exactprune import InputError, generate_subset_sum, solve
from exactprune.instances import generate_neuron_pruning
from exactprune.solvers.pruning.bracket import certify_bracket
from exactprune.solvers.pruning.sup_error import sup_error
from exactprune.solvers.subset_sum.bulk import solve_many

HUGE = 10**400


def _subset_sum() -> Any:
    return generate_subset_sum(10, seed=1)


def _bracket(lower: Any) -> Any:
    inst = generate_neuron_pruning(2, 4, 16, seed=0)
    res = solve(inst, "bruteforce")
    return certify_bracket(inst, res.mask, lower)


def _sup(time_limit: Any) -> Any:
    return sup_error(np.eye(2), np.ones(2), "identity", np.eye(2)[:1], np.ones(1), "identity",
                     "cube", time_limit=time_limit)


def _many(**kw: Any) -> Any:
    rng = np.random.default_rng(0)
    return solve_many(rng.uniform(-1, 1, (4, 8)), rng.uniform(-1, 1, 4), **kw)


CALLS: list[tuple[str, Callable[[Any], Any], Any]] = [
    ("time limit", lambda x: solve(_subset_sum(), "mitm", time_limit=x), np.float32(2.5)),
    ("eps", lambda x: solve(_subset_sum(), "mitm", objective="sparsest", eps=x),
     np.float32(0.01)),
    ("low", lambda x: generate_subset_sum(5, low=x), np.float32(-2.0)),
    ("target", lambda x: generate_subset_sum(5, target=x), np.int64(0)),
    ("target_angle", lambda x: generate_neuron_pruning(2, 4, 8, target_angle=x),
     np.float32(0.5)),
    ("the lower bound", _bracket, np.float32(0.0)),
    ("time_limit", _sup, np.int64(5)),
    ("memory_limit_gb", lambda x: _many(memory_limit_gb=x), np.float32(1.0)),
]


@pytest.mark.parametrize(("name", "call", "numpy_value"), CALLS, ids=[c[0] for c in CALLS])
def test_numpy_scalars_are_taken_and_huge_ints_are_one_line(name: str, call: Callable,
                                                            numpy_value: Any) -> None:
    assert call(numpy_value) is not None
    with pytest.raises(InputError, match=f"^{name} is too large for a float64"):
        call(HUGE)


@pytest.mark.parametrize(("name", "call"), [(c[0], c[1]) for c in CALLS if c[0] in (
    "eps", "target", "low", "the lower bound")])
@pytest.mark.parametrize("inexact", [2**53 + 1, np.uint64(2**64 - 1),
                                     np.longdouble(1) / np.longdouble(3)])
def test_numbers_float64_cannot_hold_are_refused_not_rounded(name: str, call: Callable,
                                                             inexact: Any) -> None:
    """A generator's target of 2^53 + 1 became 2^53 and eps = 2^53 + 1 was rounded, while an
    instance refuses such data (hunt 32)."""
    if np.finfo(np.longdouble).nmant <= 52 and isinstance(inexact, np.longdouble):
        pytest.skip("long double is float64 here")
    with pytest.raises(InputError, match=f"^{name}: .* has no exact float64 value"):
        call(inexact)


def test_integer_arguments_take_numpy_integers() -> None:
    assert generate_subset_sum(np.int64(5), seed=0).n == 5
    assert len(_many(jobs=np.int64(1)).masks) == 4
    res = solve(_subset_sum(), "random", seed=np.int64(5))
    assert res.options["seed"] == 5 and type(res.options["seed"]) is int
    json.dumps(res.to_json())  # np.int64 in the options could not be serialised
    with pytest.raises(InputError, match="seed must be an integer"):
        solve(_subset_sum(), "random", seed=np.float64(5))


def test_bad_paths_tasks_and_arguments_are_input_errors(tmp_path: Any) -> None:
    """Hunt 31 M4, M5, M7, M9: a NUL in a path, a path that is not one, a non-MLP to save,
    tasks=None, a generator of tasks, store=5, pensia_coefficients outside (0, 1), labels no
    output can predict and an unknown held-out data name gave ValueError, TypeError,
    AttributeError, ZeroDivisionError, a wrong count or a silent answer."""
    from exactprune import load_instance, save_instance
    from exactprune.benchmarks.sweep import Task, run_sweep
    from exactprune.instances.mlp import MLP, load_mlp, save_mlp
    from exactprune.solvers.tickets import (
        load_target,
        make_ticket,
        output_deviation_bound,
        pensia_coefficients,
    )

    mlp = MLP((np.ones((3, 4)), np.ones((2, 3))))
    net = tmp_path / "net.npz"
    save_mlp(mlp, net)
    ticket = make_ticket(mlp, 4, 0.1)
    assert output_deviation_bound(ticket, np.ones((2, 4))).shape == (2,)
    cases = [
        (lambda: load_instance(str(tmp_path / "a\x00.json")), "NUL character"),
        (lambda: save_instance(_subset_sum(), str(tmp_path / "a\x00.json")), "NUL character"),
        # a result has kind and to_json too, and overwrote the instance file (hunt 93 M2)
        (lambda: save_instance(solve(_subset_sum(), "mitm"), str(tmp_path / "r.json")),
         "save_instance takes an exactprune instance .* got SolveResult"),
        (lambda: load_mlp(str(tmp_path / "a\x00.npz")), "NUL character"),
        # "" was "." : "cannot read .: it is a folder" (hunt 98 L2)
        (lambda: load_instance(""), "the instance file path is empty: give a file name"),
        (lambda: load_mlp(""), "a network file path is empty: give a file name"),
        (lambda: load_mlp(None), "expected a network file path"),
        (lambda: save_mlp(mlp, 5), "expected a network file path"),
        (lambda: save_mlp("x", str(tmp_path / "b.npz")), "save_mlp takes an MLP"),
        (lambda: run_sweep(None), "run_sweep takes a list of Task objects"),
        (lambda: run_sweep([], store=5), "store must be a results store path"),
        # 'no' was a true flag (hunt 99 L4)
        (lambda: run_sweep([], None, jobs=0, progress="no"), "progress must be True or False"),
        (lambda: run_sweep([], None, retry_killed=[1]), "retry_killed must be True or False"),
        (lambda: pensia_coefficients(0), "eps must be in"),
        (lambda: pensia_coefficients(2), "eps must be in"),
        (lambda: pensia_coefficients(0.01, c=-1), "c must be a positive number"),
        (lambda: mlp.accuracy(np.ones((2, 4)), [1, -1]), "labels must be in 0..1"),
        (lambda: load_target(str(net), data="zzz"), "unknown held-out data"),
        (lambda: output_deviation_bound(ticket, np.ones((2, 5))), r"X must have shape \(K, 4\)"),
        (lambda: output_deviation_bound(ticket, np.full((2, 4), np.nan)), "X"),
    ]
    for call, needle in cases:
        with pytest.raises(InputError, match=needle):
            call()
    tasks = (Task("exactprune.benchmarks.sweep:example_task",
                  {"experiment": "e", "params": {"n": 6}, "seed": s, "solver": "mitm"})
             for s in range(3))
    assert [r["status"] for r in run_sweep(tasks, jobs=0, progress=False)] == ["optimal"] * 3


def test_ints_beyond_int64_with_an_exact_float_are_data() -> None:
    """[2^70, 1] was refused as "dtype object" (numpy's array of Python ints beyond int64),
    though 2^70 is a float64 exactly (hunt 31); 2^70 + 1 is refused as it has none."""
    from exactprune.instances import SubsetSumInstance, TwoLayerNet

    assert SubsetSumInstance(values=[2**70, 1], target=0).values.tolist() == [2.0**70, 1.0]
    assert TwoLayerNet([[2**70, 1]], [1]).hidden_weights[0, 0] == 2.0**70
    with pytest.raises(InputError, match="no exact float64 value"):
        SubsetSumInstance(values=[2**70 + 1, 1], target=0)


def test_flags_take_bools_only() -> None:
    """A truthy string ("no") or 1 was taken as True for an on/off argument (hunt 31)."""
    from exactprune.instances.training import train_two_layer

    X = np.random.default_rng(0).standard_normal((6, 2))
    calls = [lambda: _many(progress="no"),
             lambda: sup_error(np.eye(2), np.ones(2), "identity", np.eye(2)[:1], np.ones(1),
                               "identity", "cube", monotone_relax="no"),
             lambda: train_two_layer(X, np.arange(6) % 2, 2, 3, 0.1, bias=1)]
    for call, name in zip(calls, ("progress", "monotone_relax", "bias"), strict=True):
        with pytest.raises(InputError, match=f"^{name} must be True or False"):
            call()
    assert len(_many(progress=np.False_).masks) == 4


@pytest.mark.parametrize("mask", [[0, 1e20], [2, 1e300]])
def test_result_masks_beyond_int64_are_refused(mask: list) -> None:
    """SolveResult.from_json turned a count of 1e20 into 1 (with numpy's warning) and 1e300
    into INT64_MIN (hunt 35)."""
    from exactprune.solvers.result import SolveResult

    with pytest.raises(InputError, match="mask entries"):
        SolveResult.from_json({"status": "feasible", "mask": mask})


@pytest.mark.parametrize("goal", ["", 0, False, []])
def test_a_result_goal_that_is_not_an_object_is_refused(goal: object) -> None:
    """from_json read an empty or false goal as the default one, while certify refuses the
    same file (hunt 36)."""
    from exactprune.solvers.result import SolveResult

    with pytest.raises(InputError, match="goal must be an object"):
        SolveResult.from_json({"status": "feasible", "mask": [1, 0], "goal": goal})


@pytest.mark.parametrize(("edit", "said"), [
    ({"status": "feasible"}, "certified true with status feasible"),
    ({"status": "time_limit"}, "certified true with status time_limit"),
    ({"status": "error"}, "certified true with status error"),
    ({"objective": float("nan")}, "objective must be a number or null, got nan"),
    ({"bound": float("nan")}, "bound must be a number or null, got nan"),
    ({"kept": 1.5}, "kept must be a count"),
    ({"kept": -1}, "kept must be a count"),
    ({"wall_time_s": "3"}, "wall_time_s must be a number"),
    ({"notes": "hello"}, "notes must be a list of strings"),
    ({"notes": [1, 2]}, "notes must be a list of strings"),
    ({"stats": [1]}, "stats must be an object"),
])
def test_from_json_refuses_what_solve_never_writes(edit: dict, said: str) -> None:
    """from_json took certified true beside status feasible, time_limit or error, a NaN or
    infinite objective (whose to_json then failed json.dumps(allow_nan=False)), a kept count of
    1.5, a wall time of "3" and notes of "hello" (read as five one-letter notes; hunt 66 M2)."""
    from exactprune.solvers.result import SolveResult

    good = solve(generate_subset_sum(8, seed=1), "mitm").to_json()
    assert SolveResult.from_json(good).kept == good["kept"]
    with pytest.raises(InputError, match=said):
        SolveResult.from_json({**good, **edit})


def test_a_result_names_its_instance_through_a_json_round_trip() -> None:
    """instance_sha256 (hunt 61 H1) is the sha256 of the instance's canonical JSON: the same
    after the instance's own JSON round trip, kept by the result's, different for another
    instance; anything but 64 hex digits is refused."""
    from exactprune.instances import generate_weight_pruning, instance_from_json
    from exactprune.instances.io import instance_sha256
    from exactprune.instances.neuron_selection import synthetic_neuron_selection
    from exactprune.solvers.result import SolveResult

    inst = generate_subset_sum(12, seed=4)
    res = solve(inst, "mitm")
    for one, other in ((inst, generate_subset_sum(12, seed=5)),
                       (generate_neuron_pruning(d=2, width=5, points=9, seed=1),
                        generate_neuron_pruning(d=2, width=5, points=9, seed=2)),
                       (generate_weight_pruning(d=3, width=2, points=7, seed=1),
                        generate_weight_pruning(d=3, width=2, points=7, seed=1, norm="l1")),
                       (synthetic_neuron_selection(6, 2, m=5, bias=True, seed=1),
                        synthetic_neuron_selection(6, 3, m=5, bias=True, seed=1))):
        again = instance_from_json(json.loads(json.dumps(one.to_json())))
        assert instance_sha256(one) == instance_sha256(again)
        assert instance_sha256(one) != instance_sha256(other)
    assert res.instance_sha256 == instance_sha256(inst)
    back = SolveResult.from_json(json.loads(json.dumps(res.to_json())))
    assert back.instance_sha256 == res.instance_sha256 and back == res
    for bad in ("abc", 7, "G" * 64, res.instance_sha256.upper()):
        with pytest.raises(InputError, match="instance_sha256"):
            SolveResult.from_json({**res.to_json(), "instance_sha256": bad})


def test_a_results_mask_cannot_be_edited_under_its_claims() -> None:
    """`m = res.mask; m[0] = ...` in a notebook changed the mask of a result that still said
    optimal with the old objective, and its JSON said so too (hunt 93 M1): the masks `solve`
    and `from_json` return are read-only, for every kind, and stay so in copies (hunt 94)."""
    from exactprune.instances.neuron_selection import synthetic_neuron_selection
    from exactprune.solvers.result import SolveResult

    for inst in (generate_subset_sum(10, seed=93000),
                 generate_neuron_pruning(d=2, width=5, points=9, seed=93001),
                 synthetic_neuron_selection(6, 2, m=5, seed=93002)):
        res = solve(inst, "bruteforce")
        back = SolveResult.from_json(json.loads(json.dumps(res.to_json())))
        # copies too: deepcopy and pickle handed back writable masks (hunt 94 M1)
        copies = [copy.deepcopy(res), pickle.loads(pickle.dumps(res)), copy.copy(res),
                  dataclasses.replace(res, mask=np.array(res.mask))]  # (hunt 95)
        for mask in (res.mask, back.mask, *(c.mask for c in copies)):
            with pytest.raises(ValueError, match="read-only"):
                mask.flat[0] = not mask.flat[0]
        assert inst.evaluate(res.mask) == res.error and back == res


def test_amounts_may_round_where_data_may_not() -> None:
    """A time limit of 10**30 s has no exact float64 and was refused with a garbled message
    ("the integer an integer of 31 digits"); an amount may round, data may not (hunt 36)."""
    assert solve(_subset_sum(), "mitm", time_limit=10**30).certified
    assert len(_many(memory_limit_gb=10**30).masks) == 4
    with pytest.raises(InputError, match=r"^target: an integer of 31 digits has no exact"):
        generate_subset_sum(5, target=10**30 + 1)


def test_scaled_back_bounds_beyond_float64() -> None:
    from exactprune.instances.scaling import ldexp_down, ldexp_up

    assert ldexp_down(1e308, 10) == np.finfo(float).max and ldexp_up(1e308, 10) == np.inf
    assert ldexp_down(-1e308, 10) == -np.inf and ldexp_up(-1e308, 10) == -np.finfo(float).max


def test_a_result_with_an_error_beyond_float64_survives_a_json_round_trip() -> None:
    """solve() returns an objective of inf where a mask's error is beyond float64 (a
    time-limited start on values near 1.7e308), and Python's json keeps inf: from_json refused
    it once it read only finite numbers (hunt 67 M1). NaN is still no number."""
    from exactprune.instances import SubsetSumInstance
    from exactprune.solvers.result import SolveResult

    inst = SubsetSumInstance(values=np.array([1.7e308, 1.7e308, 1.7e308]), target=-1.7e308)
    res = solve(inst, "highs", warm_start=np.ones(3, bool), time_limit=0.001)
    assert res.objective == math.inf and not res.certified
    back = SolveResult.from_json(json.loads(json.dumps(res.to_json())))
    assert back == res


def test_auto_refuses_solves_own_arguments_as_such() -> None:
    """With solver="auto", a time limit of 0 was blamed on the method auto picked ("auto chose
    mitm for this instance: time limit must be ..."), and sparsest on a pruning instance on
    bruteforce, though no pruning backend has that objective (hunt 66 L1)."""
    with pytest.raises(InputError, match="^time limit must be a positive number"):
        solve(generate_subset_sum(8, seed=1), "auto", time_limit=0)
    with pytest.raises(InputError, match="^seed must be >= 0"):
        solve(generate_subset_sum(8, seed=1), "auto", seed=-1)
    with pytest.raises(InputError, match="^no solver of neuron_pruning instances supports the "
                                         "sparsest objective"):
        solve(generate_neuron_pruning(d=2, width=4, points=8, seed=0), "auto",
              objective="sparsest", eps=0.1)
    assert solve(generate_subset_sum(8, seed=1), "auto", objective="sparsest",
                 eps=0.5).certified
    # the same for max_kept, which no neuron-selection backend has (it blamed bruteforce;
    # hunt 83 L1)
    from exactprune.instances.neuron_selection import synthetic_neuron_selection

    with pytest.raises(InputError, match="^no solver of neuron_selection instances supports "
                                         "max_kept$"):
        solve(synthetic_neuron_selection(6, 2, m=5, seed=1), "auto", max_kept=2)


@pytest.mark.parametrize("mask", [
    np.array([1, 0, 1], dtype="timedelta64[s]"),
    np.array([1 + 0j, 0, 1]),
    np.ma.masked_array([1, 0, 1], mask=[0, 1, 0]),
])
def test_masks_of_no_real_dtype_or_with_masked_entries_are_refused(mask: np.ndarray) -> None:
    """timedelta64 and complex masks (np.number holds both) were read as 0/1 by the binary
    kinds, a timedelta64 neuron-selection mask raised numpy's TypeError, and a masked array
    lost its mask, for masks and for instance data alike (hunt 66 L3)."""
    from exactprune.instances import SubsetSumInstance
    from exactprune.instances.neuron_selection import synthetic_neuron_selection

    inst = SubsetSumInstance(values=np.array([0.25, 0.5, 1.0]), target=1.25)
    with pytest.raises(InputError, match="mask"):
        inst.evaluate(mask)
    with pytest.raises(InputError, match="mask"):
        inst.errors(mask[None, :])
    sel = synthetic_neuron_selection(3, 2, m=4, seed=0)
    with pytest.raises(InputError, match="mask"):
        sel.evaluate(mask)
    if isinstance(mask, np.ma.MaskedArray):
        with pytest.raises(InputError, match="values has masked entries"):
            SubsetSumInstance(values=np.ma.masked_array([0.25, 0.5], mask=[0, 1]), target=1.0)
        unmasked = np.ma.masked_array([1, 0, 1], mask=[0, 0, 0])
        assert inst.evaluate(unmasked) == inst.evaluate(np.array([1, 0, 1])) == 0.0


def test_timedelta64_data_are_refused_not_read_as_integers() -> None:
    """np.integer holds timedelta64: instance data, solve_many's values, targets and groups,
    neuron-selection batches and unit lists, and network masks took durations as plain
    integers, their unit dropped (seconds and milliseconds gave different optima; hunt 144
    L1)."""
    from exactprune.instances import SubsetSumInstance
    from exactprune.instances.mlp import MLP, canonical_masks
    from exactprune.instances.neuron_selection import synthetic_neuron_selection
    from exactprune.solvers.subset_sum.bulk import solve_many

    td = np.array([1, 2, 3], dtype="timedelta64[s]")
    with pytest.raises(InputError, match="real numbers"):
        SubsetSumInstance(values=td, target=3.0)
    with pytest.raises(InputError, match="values must be real numbers"):
        solve_many(td, [1000.0])
    with pytest.raises(InputError, match="targets must be real numbers"):
        solve_many(np.array([1.0, 2.0]), np.array([3], dtype="timedelta64[s]"))
    with pytest.raises(InputError, match="groups must be integers"):
        solve_many(np.array([[1.0, 2.0], [3.0, 4.0]]), [1.0, 2.0],
                   groups=np.array([0, 1], dtype="timedelta64[s]"))
    sel = synthetic_neuron_selection(3, 2, m=4, seed=0)
    with pytest.raises(InputError, match="masks"):
        sel.errors(np.array([[1, 0, 1]], dtype="timedelta64[s]"))
    with pytest.raises(InputError):
        sel.mask_of_units(np.array([0, 2], dtype="timedelta64[s]"))
    mlp = MLP((np.ones((2, 3)), np.ones((1, 2))))
    with pytest.raises(InputError, match="booleans or 0/1"):
        canonical_masks(mlp, [np.ones((2, 3), dtype="timedelta64[s]"), np.ones((1, 2))])
    # the integers and floats they were taken for still work
    assert solve_many(np.array([1, 2, 3]), [3.0]).errors.tolist() == [0.0]


@pytest.mark.parametrize("unit", ["ns", "ms", "h"])
def test_timedelta64_scalars_are_refused_as_numbers_and_integers(unit: str) -> None:
    """Hunt 147 M1: numpy counts a timedelta64 scalar as an integer. In ns it was taken as the
    plain number (a target, a time limit, k, max_kept), in ms or h it raised numpy's TypeError
    deep inside; a generator kept it and wrote it to JSON."""
    from exactprune.instances import SubsetSumInstance
    from exactprune.instances.neuron_selection import (
        NeuronSelectionInstance,
        synthetic_neuron_selection,
    )
    from exactprune.instances.params import is_integer
    from exactprune.solvers.subset_sum.bulk import solve_many

    td = np.timedelta64(2, unit)
    assert not is_integer(td) and not is_integer(True) and not is_integer(np.bool_(True))
    assert is_integer(3) and is_integer(np.int8(3)) and is_integer(np.uint64(3))
    inst = SubsetSumInstance(values=np.array([1.0, 2.0]), target=3.0)
    with pytest.raises(InputError, match="target must be a number"):
        SubsetSumInstance(values=np.array([1.0, 2.0]), target=td)
    with pytest.raises(InputError, match="must contain only real numbers"):
        SubsetSumInstance(values=[td, 1.0], target=3.0)
    with pytest.raises(InputError, match="generator must hold JSON data"):
        SubsetSumInstance(values=np.array([1.0, 2.0]), target=3.0, generator={"seed": td})
    with pytest.raises(InputError, match="time limit must be a number"):
        solve(inst, "bruteforce", time_limit=td)
    with pytest.raises(InputError, match="seed must be an integer"):
        solve(inst, "local_search", seed=td)
    with pytest.raises(InputError, match="max_kept must be an integer"):
        solve_many(np.array([1.0, 2.0]), [3.0], max_kept=td)
    sel = synthetic_neuron_selection(4, 2, m=3, seed=0)
    with pytest.raises(InputError, match="k must be an integer"):
        NeuronSelectionInstance(hidden=sel.hidden, output_weights=sel.output_weights,
                                targets=sel.targets, k=td)


def test_numpy_numbers_are_taken_where_python_ones_are() -> None:
    """Hunt 149 M2: checks written by hand refused numpy scalars the rest of the API takes:
    width_factor's n_max, run_bench's time limit and timeout; a sweep packed an np.int64
    thread count as one slot."""
    from exactprune.benchmarks.bench import run_bench
    from exactprune.benchmarks.sweep_worker import task_slots
    from exactprune.benchmarks.tickets.width_factor import width_factor

    assert task_slots({"threads": np.int64(2)}, 4) == task_slots({"threads": 2}, 4) == 2
    assert task_slots({"threads": np.timedelta64(2, "s")}, 4) == 1
    # the time limit and timeout pass their checks: the next check (threads) refuses
    for limit in (5, np.int64(5), np.float32(5.0)):
        with pytest.raises(InputError, match="threads must be an integer"):
            run_bench("smoke", time_limit=limit, timeout=np.int64(60), threads=0)
    with pytest.raises(InputError, match="time limit must be a number"):
        run_bench("smoke", time_limit=True)
    from exactprune.instances.mlp import MLP

    tiny = MLP(([[0.1, 0.2], [0.3, -0.4]], [[0.5, -0.25]]))
    assert width_factor(tiny, [0.1], n_max=np.int64(3))["n_max"] == 3
    with pytest.raises(InputError, match="n_max must be an integer from 1"):
        width_factor(tiny, [0.1], n_max=3.0)
    with pytest.raises(InputError, match="takes the target as an MLP"):
        width_factor(None, [0.1])
    # a numpy n_max is a Python int past its check: np.int32 wrapped the run count below the
    # limit and 4e9 tickets started (hunt 150 M1)
    with pytest.raises(InputError, match="4,000,000,000 tickets, more than"):
        width_factor(tiny, [0.1], n_max=np.int32(40), seeds=10**8)
    with pytest.raises(InputError, match="more than"):
        width_factor(tiny, [0.1], n_max=np.int8(4), seeds=10**6)


def test_odd_arguments_of_helpers_are_one_line_errors() -> None:
    """Hunt 149 L1-L4: solve_many's groups as a masked array with nothing masked (values took
    one), a group beyond int64 ("got dtype object"), train's batch as an array (numpy's
    ValueError), 2^70 bootstrap resamples (ran for ever), a store named by an int or bytes
    (TypeError)."""
    from exactprune.benchmarks.bench import run_bench
    from exactprune.benchmarks.fits import MAX_RESAMPLES, linear_fit
    from exactprune.benchmarks.store import ResultStore
    from exactprune.instances.training import check_batch
    from exactprune.solvers.subset_sum.bulk import solve_many

    res = solve_many([[1.0, 2.0, 3.0]], [3.0], groups=np.ma.masked_array([0], mask=[False]))
    assert res.errors.tolist() == [0.0]
    with pytest.raises(InputError, match="groups has masked entries"):
        solve_many([[1.0, 2.0, 3.0]], [3.0], groups=np.ma.masked_array([0], mask=[True]))
    with pytest.raises(InputError, match=r"groups must lie in \[0, 1\), got 18446744073709551616"):
        solve_many([[1.0, 2.0, 3.0]], [3.0, 1.0], groups=[0, 2**64])
    # the one out of range is named, ints beyond int64 that numpy made floats too, an empty
    # object array is a shape error, an object array in range is taken (hunt 150 M2, L1)
    two = [[1.0, 2.0, 3.0], [1.0, 2.0, 4.0]]
    for groups, said in (([-2**70, 0], f"got {-2**70}"), ([0, 2**63], f"got {2**63}"),
                         (np.array([], dtype=object), r"must have shape \(2,\)"),
                         ([0, [1]], "groups must be a list of 2 integers")):
        with pytest.raises(InputError, match=said):
            solve_many(two, [3.0, 4.0], groups=groups)
    assert solve_many(two, [3.0, 4.0], groups=np.array([0, 1], dtype=object)).errors.tolist() \
        == [0.0, 0.0]
    with pytest.raises(InputError, match="batch must be 'full' or a positive integer"):
        check_batch(np.array([1, 2]))
    assert check_batch("full") == "full" and check_batch(np.int64(4)) == 4
    with pytest.raises(ValueError, match="resamples must be an integer from 1"):
        linear_fit(np.arange(5.0), np.arange(5.0), resamples=2**70)
    assert linear_fit(np.arange(5.0), np.arange(5.0), resamples=MAX_RESAMPLES // 10**4).slope
    for name in (123, b"x.sqlite"):
        with pytest.raises(InputError, match="named by a str or pathlib.Path"):
            ResultStore(name)  # type: ignore[arg-type]
    with pytest.raises(InputError, match="named by a str or pathlib.Path"):
        run_bench("smoke-subset-sum", store=123)  # type: ignore[arg-type]


def test_errors_beyond_float64_are_inf_without_a_warning() -> None:
    """errors() gave inf, as documented, with numpy's overflow warning, an exception under
    warnings-as-errors; evaluate() gives inf without one (hunt 66 L2)."""
    import warnings

    from exactprune.instances import SubsetSumInstance

    inst = SubsetSumInstance(values=np.array([1e308, 1e308, -1e308]), target=0.0)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert inst.errors(np.array([[1, 1, 0]])).tolist() == [math.inf]
        assert inst.evaluate(np.array([1, 1, 0])) == math.inf


def _arrays(obj: Any, depth: int = 0) -> list[np.ndarray]:
    """Every ndarray an instance holds, in its fields and their fields (networks)."""
    if isinstance(obj, np.ndarray):
        return [obj]
    if depth > 2 or not hasattr(obj, "__dataclass_fields__"):
        return []
    return [a for name in obj.__dataclass_fields__
            for a in _arrays(getattr(obj, name), depth + 1)]


def test_instance_arrays_cannot_be_made_writable_again() -> None:
    """An instance caches what it derives from its arrays (subset-sum: the exact scaling), so
    they stay read-only for good; ``setflags(write=True)`` let a user edit the values under a
    stale cache (hunt 66 L4)."""
    from exactprune.instances import generate_weight_pruning
    from exactprune.instances.neuron_selection.instance import NeuronSelectionInstance
    instances = [
        generate_subset_sum(8, seed=1),
        generate_neuron_pruning(2, 4, 8, seed=1),
        generate_weight_pruning(2, 4, 8, seed=1),
        NeuronSelectionInstance(hidden=np.array([[1.0, 2.0], [0.5, 3.0]]),
                                output_weights=np.array([[1.0], [2.0]]),
                                targets=np.array([[1.0], [2.0]]), k=1,
                                output_bias=np.array([0.5])),
    ]
    copies = [c for inst in instances
              for c in (pickle.loads(pickle.dumps(inst)), copy.deepcopy(inst))]
    for inst in instances + copies:  # a copy (a worker process's) is no different
        arrays = _arrays(inst)
        assert arrays, inst.kind
        for arr in arrays:
            with pytest.raises(ValueError):
                arr.setflags(write=True)
    for inst, twin in zip(instances, copies[::2], strict=True):
        assert inst.to_json() == twin.to_json()
    inst = instances[0]
    with pytest.raises(ValueError):  # what it caches is read-only too (hunt 73 L2)
        inst.scaling.values.setflags(write=True)
    before = inst.errors(np.ones((1, 8), dtype=np.int8))
    assert before[0] == inst.evaluate(np.ones(8, dtype=np.int8))


def test_a_copied_instance_keeps_each_arrays_dtype() -> None:
    """What an instance holds besides its float data (a cached int or bool array) keeps its
    dtype through pickle: the read-only copy must not turn it into float64."""
    inst = generate_subset_sum(6, seed=2)
    object.__setattr__(inst, "_probe", np.array([1, 2], dtype=np.int64))
    object.__setattr__(inst, "_flags", np.array([True, False]))
    twin = pickle.loads(pickle.dumps(inst))
    assert twin._probe.dtype == np.int64 and twin._flags.dtype == bool
    assert twin._probe.tolist() == [1, 2] and not twin._flags.flags.writeable


def test_a_warm_start_of_the_wrong_shape_is_named_in_its_refusal() -> None:
    """The refusal read "neuron_selection mask must have shape (8,), got (9,)", which did not
    say that the warm start was the mask at fault (hunt 113 L2)."""
    from exactprune.instances import generate_neuron_pruning
    from exactprune.instances.errors import InputError
    from exactprune.solvers import solve

    inst = generate_neuron_pruning(2, 8, 16, seed=0)
    with pytest.raises(InputError, match=r"^warm start: .*shape \(8,\)"):
        solve(inst, "prune_local_search", warm_start=np.ones(9, dtype=bool))


def _variant_instances(kind: str) -> list[Any]:
    """Small instances of `kind`, one per combination of its variant values an instance may
    have (refit needs the squared loss), each easy for every backend."""
    from exactprune.instances.neuron_selection.instance import (
        LOSSES,
        RULES,
        NeuronSelectionInstance,
    )
    from exactprune.instances.pruning.generator import NORMS, generate_weight_pruning

    if kind in ("neuron_pruning", "weight_pruning"):
        gen = generate_neuron_pruning if kind == "neuron_pruning" else generate_weight_pruning
        return [gen(2, 3, 8, seed=1, norm=norm) for norm in NORMS]
    rng = np.random.default_rng(5)
    hidden, weights = np.abs(rng.standard_normal((8, 6))), rng.standard_normal((6, 1))
    targets = rng.standard_normal((8, 1))
    return [NeuronSelectionInstance(hidden=hidden, output_weights=weights, targets=targets, k=2,
                                    loss=loss, rule=rule, repeats=repeats)
            for loss in LOSSES for rule in RULES for repeats in (False, True)
            if rule != "refit" or loss == "squared"]


@pytest.mark.parametrize("kind", ["neuron_pruning", "weight_pruning", "neuron_selection"])
def test_what_solvers_json_says_a_backend_accepts_is_what_it_takes(kind: str) -> None:
    """`solvers --json` lists per backend the norms, losses, rules and repeats it takes
    ("accepts"; hunt 152 L1: the description's words only). Each listed combination passes the
    backend's checks, each other one is refused in one line."""
    from exactprune.instances.catalog import KINDS
    from exactprune.solvers.registry import list_backends
    from exactprune.solvers.result import Goal, SolveOptions

    fields = dict(KINDS[kind].variants)
    backends = list_backends(kind, commercial=True)  # the pulp_* engines too, as the CLI
    assert backends and fields
    narrowed = 0
    for backend in backends:
        accepts = backend.describe()["accepts"]
        assert list(accepts) == list(fields)
        narrowed += any(len(v) < len(fields[k]) for k, v in accepts.items())
        for inst in _variant_instances(kind):
            listed = all(getattr(inst, name) in values for name, values in accepts.items())
            try:
                backend.check(inst, Goal(), SolveOptions())
                taken = True
            except InputError as exc:
                taken = False
                assert "\n" not in str(exc)
            assert taken == listed, (backend.name, {k: getattr(inst, k) for k in fields})
    assert narrowed >= 4  # the MILP engines and CP-SAT narrow what they take


def test_flags_and_counts_of_the_listing_and_generators_are_checked() -> None:
    """list_backends took "yes" or 1 for its flags, which solve() refuses as on/off values,
    and generate_neuron_pruning(2, 3, 4.0) called the count a malformed list of numbers
    (hunt 158 L2, L4)."""
    from exactprune.solvers.registry import list_backends

    for bad in ("yes", 1, None):
        with pytest.raises(InputError, match="only_available"):
            list_backends("subset_sum", only_available=bad)  # type: ignore[arg-type]
    assert list_backends("subset_sum", only_available=np.bool_(True))
    for bad in (4.0, np.float64(4), "4", np.array(4.0)):
        with pytest.raises(InputError, match=r"points must be a positive integer or a \(K, 2\)"):
            generate_neuron_pruning(2, 3, bad)
    assert generate_neuron_pruning(2, 3, np.int64(4)).points.shape == (4, 2)


def test_bench_skips_what_a_backends_accepts_refuses_before_running(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """bench asked only `refuse`: a backend that narrows its instances by `accepts` alone (the
    pulp_* engines) was started on them and stored as refused (hunt 157 L3)."""
    from exactprune.benchmarks import bench
    from exactprune.benchmarks.suites import SUITES
    from exactprune.solvers.registry import Backend

    narrow = Backend("narrow", "neuron_selection", "test", exact=False,
                     run=lambda *a: None,  # type: ignore[arg-type,return-value]
                     accepts=(("loss", ("l1", "linf")),))
    monkeypatch.setattr(bench, "_backend", lambda solver, kind: narrow)
    squared = next(i for i in SUITES["trained"].instances if i.params["loss"] == "squared")
    why = bench._too_large("narrow", squared)
    assert why is not None and "loss l1 or linf, not 'squared'" in why
    assert narrow.refusal(squared.generate(), None) is not None
    # the refusal names who takes the instance, as the native engines' do (hunt 160 L1)
    assert why.endswith("(use bruteforce or bnb)")


def test_bruteforces_refusal_names_a_backend_that_takes_the_instance() -> None:
    """"use mitm" at n = 70, which mitm refuses (n <= 62; hunt 161 L1)."""
    from exactprune.solvers.registry import get_backend

    brute = get_backend("bruteforce", "subset_sum")
    for n, use in ((30, "(use mitm)"), (70, "(use scip, highs or cpsat)")):
        why = brute.refusal(generate_subset_sum(n=n, seed=1), None)
        assert why is not None and why.endswith(use)
        for name in use.strip("()").removeprefix("use ").replace(" or", ",").split(", "):
            assert get_backend(name, "subset_sum").refusal(
                generate_subset_sum(n=n, seed=1), None) is None


def test_option_help_names_only_option_values_the_backend_offers() -> None:
    """Pruning CP-SAT's (and every neuron-pruning engine's) `recheck` help said "not with
    formulation=bigm" where the backend offers no big-M formulation (hunt 178 L2)."""
    import re

    from exactprune.solvers import registry

    checked = 0
    for kind in ("subset_sum", "neuron_pruning", "weight_pruning", "neuron_selection"):
        backends = registry.list_backends(kind)
        of_kind = {p.name for b in backends for p in b.options}
        for backend in backends:
            offered = {p.name: p for p in backend.options}
            for param in backend.options:
                for name, value in re.findall(r"(\w+)=(\w+)", param.help):
                    if name not in of_kind:
                        continue  # a value of something else (a CLI flag, an engine's setting)
                    assert name in offered, (kind, backend.name, param.help)
                    choices = offered[name].choices
                    assert choices is None or value in choices, (kind, backend.name, param.help)
                    checked += 1
    assert checked > 0


def test_certify_hooks_refuse_a_claim_that_is_no_object_or_an_instance_of_another_kind() -> None:
    """The kinds' certify hooks raised AttributeError on `claimed` None or a list, and on an
    instance of another kind (hunt 179 M1); a bare mask's `"certified": "false"` was read by
    subset-sum as a claim and refuted (L3). Each is one InputError line now."""
    from exactprune.instances import generate_subset_sum
    from exactprune.solvers import neuron_selection, pruning, subset_sum

    net = generate_neuron_pruning(d=2, width=8, points=32, seed=199002)
    numbers = generate_subset_sum(12, seed=1)
    cases = [(pruning.certify, net, [0] * 8, None, "claimed must be a result object"),
             (neuron_selection.certify, net, [0] * 8, {}, "for neuron_selection instances"),
             (subset_sum.certify, numbers, [0] * 12, [], "claimed must be a result object"),
             (subset_sum.certify, net, [0] * 8, {}, "for subset_sum instances, not"),
             (pruning.certify, numbers, [0] * 12, {}, "not 'subset_sum'"),
             (subset_sum.certify, numbers, [1] + [0] * 11, {"certified": "false"},
              "certified must be true or false")]
    for hook, instance, mask, claimed, said in cases:
        with pytest.raises(InputError, match=said):
            hook(instance, mask, claimed)
    assert "optimum_verified" not in subset_sum.certify(numbers, [1] + [0] * 11,
                                                        {"certified": False})
    # numpy's bool is a bool here, as everywhere in the API (hunt 180 L2)
    best = solve(numbers, "bruteforce").mask
    assert subset_sum.certify(numbers, best, {"certified": np.True_})["optimum_verified"] is True


def test_a_zero_dimensional_array_target_is_its_number() -> None:
    """Hunt 201 note: `target=np.array(0.3)` was refused as not a number where
    `np.float64(0.3)` was taken; a 0-d array is its scalar, and what the scalar would be
    refused as is still refused."""
    from exactprune.instances import SubsetSumInstance

    values = np.array([0.1, 0.2])
    for raw in (np.array(0.3), np.array(3), np.array(0.3, dtype=np.float32)):
        inst = SubsetSumInstance(values=values, target=raw)
        assert inst.target == float(raw[()]) and type(inst.target) is float
    for raw, needle in ((np.array(np.nan), "target must be finite"),
                        (np.array(True), "target must be a number"),
                        (np.array("0.3"), "target must be a number"),
                        (np.array([0.3]), "target must be a number"),
                        (np.array(np.timedelta64(2, "ns")), "target must be a number")):
        with pytest.raises(InputError, match=needle):
            SubsetSumInstance(values=values, target=raw)
