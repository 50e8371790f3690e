"""Neuron selection under the keep rule: the kept units' trained weights as they are (magnitude
pruning's subnetwork), P = H·(c ∘ V) + b, against an oracle in exact rationals.

The average rule scales the kept units by N/k (Ye et al.'s convention); the keep rule does not,
so the published magnitude and IMP subnetworks can be scored as they are (hunt 128 H1). Every
exact backend that takes the rule must find the rationals' optimum; every heuristic's objective
must be its mask's unscaled loss.
"""

from __future__ import annotations

import itertools
import json
from fractions import Fraction

import numpy as np
import pytest

from exactprune.instances import InputError
from exactprune.instances.neuron_selection import (
    NeuronSelectionInstance,
    synthetic_neuron_selection,
)
from exactprune.solvers import list_backends, solve


def exact_keep_loss(inst: NeuronSelectionInstance, counts: tuple[int, ...]) -> Fraction:
    """The loss of `counts` under the keep rule, in rationals, from the data alone."""
    H = [[Fraction(float(x)) for x in row] for row in inst.hidden]
    V = [[Fraction(float(x)) for x in row] for row in inst.output_weights]
    b = [Fraction(0)] * inst.outputs if inst.output_bias is None else \
        [Fraction(float(x)) for x in inst.output_bias]
    R = [abs(sum(H[j][i] * V[i][c] * counts[i] for i in range(inst.n)) + b[c]
             - Fraction(float(inst.targets[j, c])))
         for j in range(inst.m) for c in range(inst.outputs)]
    if inst.loss == "linf":
        return max(R)
    if inst.loss == "l1":
        return sum(R) / len(R)
    return sum(r * r for r in R) / len(R)


def all_masks(inst: NeuronSelectionInstance) -> list[tuple[int, ...]]:
    """Every valid mask as a tuple of counts."""
    if not inst.repeats:
        return [tuple(int(i in s) for i in range(inst.n))
                for s in itertools.combinations(range(inst.n), inst.k)]
    out = []
    for multi in itertools.combinations_with_replacement(range(inst.n), inst.k):
        out.append(tuple(multi.count(i) for i in range(inst.n)))
    return out


def keep_instance(seed: int, loss: str, repeats: bool = False, n: int = 8, k: int = 3,
                  bias: bool | None = None) -> NeuronSelectionInstance:
    base = synthetic_neuron_selection(n, k, m=10, outputs=2, loss=loss, repeats=repeats,
                                      bias=seed % 2 == 0 if bias is None else bias, seed=seed)
    data = base.to_json()
    data["rule"] = "keep"
    return NeuronSelectionInstance.from_json(data)


def test_the_keep_rule_scores_the_kept_units_unscaled() -> None:
    """evaluate is the rationals' loss of H·(c ∘ V) + b within its tolerance, for every mask
    and loss, and differs from the average rule's (N/k = 8/3 here)."""
    for loss in ("squared", "l1", "linf"):
        inst = keep_instance(1, loss)
        avg = NeuronSelectionInstance.from_json({**inst.to_json(), "rule": "average"})
        assert inst.selection_scale() == 1.0 and avg.selection_scale() == 8 / 3
        differ = 0
        for counts in all_masks(inst):
            got = inst.evaluate(np.array(counts, dtype=bool))
            assert abs(Fraction(got) - exact_keep_loss(inst, counts)) \
                <= Fraction(inst.evaluation_tolerance()), (loss, counts)
            differ += got != avg.evaluate(np.array(counts, dtype=bool))
        assert differ > 0
        batch = inst.errors(np.array(all_masks(inst), dtype=float))
        assert np.allclose(batch, [inst.evaluate(np.array(c, dtype=bool))
                                   for c in all_masks(inst)], rtol=1e-12, atol=0)


EXACT = [b for b in list_backends("neuron_selection", only_available=True, commercial=True)
         if b.exact]


@pytest.mark.parametrize("backend", EXACT, ids=lambda b: b.name)
def test_exact_backends_find_the_keep_rules_optimum(backend) -> None:
    """Certified results are the rationals' optimum within their tolerance, bounds never above
    it; the l1/linf engines certify each instance (a backend that never certifies would pass
    vacuously)."""
    certified = taken = 0
    for seed in range(6):
        for loss in ("l1", "linf", "squared"):
            for repeats in (False, True):
                inst = keep_instance(seed, loss, repeats, n=7 if repeats else 8)
                if backend.refuse(inst, None):
                    with pytest.raises(InputError):
                        solve(inst, backend.name, time_limit=30)
                    continue
                taken += 1
                res = solve(inst, backend.name, time_limit=30)
                assert res.status != "error", res.notes
                exact = {c: exact_keep_loss(inst, c) for c in all_masks(inst)}
                best = min(exact.values())
                mine = tuple(int(x) for x in res.mask)
                assert abs(Fraction(res.objective) - exact[mine]) \
                    <= Fraction(inst.evaluation_tolerance())
                if res.bound is not None:
                    assert Fraction(res.bound) <= best + Fraction(res.tolerance or 0.0)
                if res.certified:
                    certified += 1
                    assert exact[mine] - best <= Fraction(res.tolerance), (seed, loss, repeats)
    assert taken > 0 and certified == taken, (certified, taken)


def test_greedy_under_keep_adds_the_unit_of_the_lowest_unscaled_loss() -> None:
    """Greedy forward selection under keep, against a hand-written one in rationals: each step
    adds the unit whose unscaled partial sum has the lowest loss (ties to the lowest index)."""
    for seed in range(4):
        inst = keep_instance(seed, ("l1", "linf", "squared", "l1")[seed], n=9, k=4)
        kept: list[int] = []
        for _ in range(inst.k):
            losses = {i: exact_keep_loss(inst, tuple(int(u in kept or u == i)
                                                     for u in range(inst.n)))
                      for i in range(inst.n) if i not in kept}
            kept.append(min(losses, key=lambda i: (losses[i], i)))
        res = solve(inst, "greedy_forward_selection")
        assert sorted(np.flatnonzero(res.mask).tolist()) == sorted(kept), seed


def reference_imp(inst: NeuronSelectionInstance, scale_of, fraction: float = 0.2,
                  iters: int = 100, lr: float = 1.0) -> list[int]:
    """IMP with rewinding as Frankle & Carbin run it on the output layer, written plainly:
    rewind W = V[S], train P = s·H[:, S] W + b by gradient steps lr/σ² · XᵀR (σ the spectral
    norm of [X, 1]), prune the floor(fraction·|S|) units of smallest ||W_i||·||H_i||."""
    H, T, m = inst.hidden, inst.targets, inst.m
    units = list(range(inst.n))
    while len(units) > inst.k:
        X = scale_of(len(units)) * H[:, units]
        W = inst.output_weights[units].copy()
        b = None if inst.output_bias is None else inst.output_bias.copy()
        Xa = X if b is None else np.hstack([X, np.ones((m, 1))])
        step = lr / np.linalg.norm(Xa, 2) ** 2
        for _ in range(iters):
            R = X @ W - T if b is None else X @ W + b - T
            W = W - step * (X.T @ R)
            b = None if b is None else b - step * R.sum(axis=0)
        score = np.linalg.norm(W, axis=1) * np.linalg.norm(H[:, units], axis=0)
        drop = min(len(units) - inst.k, max(1, int(fraction * len(units))))
        order = sorted(range(len(units)), key=lambda i: (-score[i], units[i]))
        units = sorted(units[i] for i in order[:len(units) - drop])
    return units


def test_imp_under_keep_trains_the_subnetwork_unscaled() -> None:
    """IMP under keep trains the survivors' weights as they are (P = H[:, S] W + b), not the
    average rule's (N/|S|)·H[:, S] W + b: its survivors are the plain reference's with scale 1;
    with N/|S| they differ on some seed (so the check can fail)."""
    differ = 0
    for seed in range(6):
        inst = keep_instance(seed, "squared", n=12, k=3)
        res = solve(inst, "imp")
        got = np.flatnonzero(res.mask).tolist()
        assert got == reference_imp(inst, lambda s: 1.0), seed
        assert res.objective == inst.evaluate(res.mask)
        differ += got != reference_imp(inst, lambda s, n=inst.n: n / s)
    assert differ > 0


def test_the_keep_rule_through_the_cli_and_json(tmp_path, capsys) -> None:
    """`rule: keep` round-trips through JSON; solve and certify read it; the MILP's refusal of
    refit names both linear rules."""
    from exactprune.cli import main

    inst = keep_instance(5, "l1")
    path = tmp_path / "keep.json"
    path.write_text(json.dumps(inst.to_json()))
    again = NeuronSelectionInstance.from_json(json.loads(path.read_text()))
    assert again.rule == "keep" and again.evaluate(again.full_mask()) == \
        inst.evaluate(inst.full_mask())
    out = tmp_path / "res.json"
    assert main(["solve", str(path), "--solver", "highs", "--out", str(out)]) == 0
    res = json.loads(out.read_text())
    assert res["status"] == "optimal"
    best = min(exact_keep_loss(inst, c) for c in all_masks(inst))
    assert abs(Fraction(res["objective"]) - best) <= Fraction(res["tolerance"])
    capsys.readouterr()
    assert main(["certify", str(path), str(out), "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["selection"]["rule"] == "keep"
    refit = NeuronSelectionInstance.from_json({**inst.to_json(), "rule": "refit",
                                               "loss": "squared"})
    with pytest.raises(InputError, match="average and keep"):
        solve(refit, "highs")
