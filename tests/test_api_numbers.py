"""The Python API takes numpy scalars as their value and refuses ints beyond float64 with an
InputError naming the argument (hunt 31: some were refused as not numbers, others raised
OverflowError from deep inside, and a numpy seed made a result's JSON unserialisable)."""

from __future__ import annotations

import json
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


def test_integer_arguments_take_numpy_integers() -> None:
    assert generate_subset_sum(np.int64(5), seed=0).n == 5
    assert len(_many(jobs=np.int64(1)).masks) == 4
    res = solve(_subset_sum(), "random", seed=np.int64(5))
    assert res.options["seed"] == 5 and type(res.options["seed"]) is int
    json.dumps(res.to_json())  # np.int64 in the options could not be serialised
    with pytest.raises(InputError, match="seed must be an integer"):
        solve(_subset_sum(), "random", seed=np.float64(5))
