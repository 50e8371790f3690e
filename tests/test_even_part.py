"""The even-part problem of benchmarks/pruning/even_part.py: at every antipodal pair the
instance's error is |E| + |O|, so the even part alone is a relaxation (its optimum is at most the
full one, checked against the exhaustive oracle), and inputs it cannot take are refused."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from exactprune.benchmarks.pruning.even_part import even_part_selection
from exactprune.instances import generate_neuron_pruning
from exactprune.instances.errors import InputError
from exactprune.solvers import solve


@pytest.mark.parametrize("seed", range(6))
def test_pair_error_is_even_plus_odd_and_the_even_part_is_a_relaxation(seed: int) -> None:
    n = 8
    inst = generate_neuron_pruning(d=2, width=n, points=32, seed=seed)
    even, odd_cols, odd_target = even_part_selection(inst)
    assert even.n_points == 16
    best_even = np.inf
    for bits in itertools.product((False, True), repeat=n):
        mask = np.array(bits)
        y = even.choice_from_mask(mask).astype(np.float64)
        e = even.columns @ y - even.target
        o = odd_cols @ y - odd_target
        err = inst.evaluate(mask)
        assert np.max(np.abs(e) + np.abs(o)) == pytest.approx(err, rel=1e-12, abs=1e-14)
        best_even = min(best_even, float(np.abs(e).max()))
    assert best_even <= solve(inst, "bruteforce").objective + 1e-14


def test_even_part_refuses_what_it_cannot_take() -> None:
    with pytest.raises(InputError):
        even_part_selection(generate_neuron_pruning(d=2, width=4, points=16, seed=0,
                                                    output_activation="relu"))
    with pytest.raises(InputError):  # an odd grid: no antipodes
        even_part_selection(generate_neuron_pruning(d=2, width=4, points=15, seed=0))
