"""Audit: every exact neuron-selection backend against `bruteforce` on random small instances.

    python -m exactprune.benchmarks.neuron_selection.audit --cases 0:500

Case c draws, from random.Random(c) and numpy's default_rng(c): N = 2..12 hidden units, k of
them kept (with repeats in a quarter of the cases: counts summing to k), m = 1..16 samples,
C = 1..3 outputs, activations relu(Gaussian) with now and then a dead unit or a duplicated
one (exact ties), Gaussian output weights, a bias or none, the loss (squared, l1, linf), the
rule (average; refit in one case in ten, which only `bruteforce` takes: the others' refusals
are counted), data scaled far from unit size in one case in eight (2^±20 times a non-power of
two: the engines' scaling path), and targets that are one-hot labels, a Gaussian teacher, or
in about a third of the cases the prediction of a random mask times 1 + delta (delta in
{0, 1e-13, 1e-10, 1e-7, 1e-4}: optima at or near 0, where tolerances matter). Every exact
backend (scip, highs, cbc, cpsat, gurobi when installed, bnb) solves it; a finding
(benchmarks/audit.py) is an error status, an objective below the oracle's optimum, a bound
above it, or a certified objective off by more than the tolerances. Prints every finding and a
summary line; exit 1 when there is a finding.

    python -m exactprune.benchmarks.neuron_selection.audit --large --cases 0:100

is the cross audit: instances with too many selections for `bruteforce` (N = 24..40, k =
4..12, m = 4..64), every backend's answer checked against the others' (benchmarks/audit.py,
`check_consensus`), 20 s per solve by default.

    python -m exactprune.benchmarks.neuron_selection.audit --edge --cases 0:4000

is case c with the output weights of a random half of the units scaled by 10^-a (a ~ U[7, 16]
per case, or U[LO, HI] with `--edge-exponents LO:HI`): columns of two scales, around the
engines' tolerances (as the pruning and subset-sum `--edge` audits); checked against `bruteforce`
as above.

    python -m exactprune.benchmarks.neuron_selection.audit --rule keep --cases 0:500

draws every case (any of the three audits) as before with the keep rule where it drew the
average one (the planted targets too), so case numbers keep their instances otherwise.
"""

from __future__ import annotations

import random
from functools import partial
from typing import Any

import numpy as np

from exactprune.benchmarks.audit import (
    TWO_SCALE_EXPONENTS,
    AuditTally,
    audit_main,
    check_result,
    cross_check,
    solve_each,
    two_scale_units,
    warm_mask,
)

ENGINES = ("scip", "highs", "cbc", "cpsat", "gurobi", "bnb")
NEAR_EXACT_DELTAS = (0.0, 1e-13, 1e-10, 1e-7, 1e-4)
AUDIT_RULES = ("average", "keep")
"""The linear rules an audit may draw (--rule; refit is drawn in one case in ten whatever)."""


def _random_mask(rng: random.Random, n: int, k: int, repeats: bool) -> np.ndarray:
    if repeats:
        counts = np.zeros(n, dtype=np.int64)
        for _ in range(k):
            counts[rng.randrange(n)] += 1
        return counts
    mask = np.zeros(n, dtype=bool)
    mask[rng.sample(range(n), k)] = True
    return mask


def audit_instance(case: int, large: bool = False, rule: str = "average") -> tuple[Any, str]:
    """Case `case`'s instance and a one-line description of it; `large`: the cross audit's
    instances, too many selections for `bruteforce` (N = 24..40 units, k = 4..12, m = 4..64
    samples; drawn from their own seeds, otherwise alike); `rule`: the linear rule drawn
    where refit is not (average or keep; the draws are the same)."""
    if rule not in AUDIT_RULES:
        raise ValueError(f"rule must be one of {AUDIT_RULES}, got {rule!r}")
    linear_rule = rule
    from exactprune.instances.neuron_selection.instance import NeuronSelectionInstance

    rng = random.Random(f"large {case}" if large else case)
    gen = np.random.default_rng([case, 1] if large else case)
    n = rng.randint(24, 40) if large else rng.randint(2, 12)
    repeats = rng.random() < 0.25
    k = rng.randint(4, 12) if large else rng.randint(1, min(n, 6) if repeats else n)
    m, c = rng.randint(1, 16) * (4 if large else 1), rng.randint(1, 3)
    loss = rng.choice(["squared", "l1", "linf"])
    rule = "refit" if rng.random() < 0.1 and loss == "squared" else linear_rule
    H = np.maximum(gen.standard_normal((m, n)), 0.0)
    if rng.random() < 0.3:
        H[:, rng.randrange(n)] = 0.0  # a dead unit
    if rng.random() < 0.3 and n >= 2:
        i, j = rng.sample(range(n), 2)
        H[:, j] = H[:, i]  # a duplicated activation column: exact ties when V agrees too
    V = gen.standard_normal((n, c))
    if rng.random() < 0.2 and n >= 2:
        i, j = rng.sample(range(n), 2)
        H[:, j], V[j] = H[:, i], V[i]
    bias = gen.standard_normal(c) if rng.random() < 0.5 else None
    scale = 1.0
    if rng.random() < 0.125:
        scale = rng.choice([2.0**20, 2.0**-20]) * 1.37
    V *= scale
    if bias is not None:
        bias *= scale
    text = (("large " if large else "") + f"case {case}: N={n} k={k} m={m} C={c} {loss} {rule}"
            + (" repeats" if repeats else "") + (" bias" if bias is not None else "")
            + (f" scale {scale:g}" if scale != 1.0 else ""))
    target_kind = rng.choice(["labels", "teacher", "planted", "planted"])
    if target_kind == "labels":
        T = np.zeros((m, c))
        T[np.arange(m), [rng.randrange(c) for _ in range(m)]] = 1.0
        T *= scale
    elif target_kind == "teacher":
        T = gen.standard_normal((m, c)) * scale
    else:
        probe = NeuronSelectionInstance(hidden=H, output_weights=V, targets=np.zeros((m, c)),
                                        k=k, output_bias=bias, loss=loss, repeats=repeats,
                                        rule=linear_rule)
        mask = _random_mask(rng, n, k, repeats)
        delta = rng.choice(NEAR_EXACT_DELTAS)
        T = probe.predictions(mask) * (1.0 + delta)
        text += f" planted target (delta {delta:g})"
    if target_kind in ("labels", "teacher"):
        text += f" {target_kind}"
    inst = NeuronSelectionInstance(hidden=H, output_weights=V, targets=T, k=k,
                                   output_bias=bias, loss=loss, rule=rule, repeats=repeats)
    inst.validate()
    return inst, text


def edge_instance(case: int, exponents: tuple[float, float] = TWO_SCALE_EXPONENTS,
                  rule: str = "average") -> tuple[Any, str]:
    """The `--edge` case `case` (module docstring; the small units scaled by 10^-a,
    a ~ U[exponents]; `rule` as in `audit_instance`) and its description."""
    import dataclasses

    inst, text = audit_instance(case, rule=rule)
    small, a = two_scale_units(case, inst.output_weights.shape[0], exponents)
    V = np.where(small[:, None], inst.output_weights * 10.0**-a, inst.output_weights)
    edge = dataclasses.replace(inst, output_weights=V)
    edge.validate()
    return edge, f"edge {text} two-scale 1e-{a:.1f}"


def audit_case(case: int, tally: AuditTally, time_limit: float = 60.0,
               engines: tuple[str, ...] = ENGINES, threads: int = 1,
               warm_start: str = "none", edge: bool = False,
               exponents: tuple[float, float] = TWO_SCALE_EXPONENTS,
               rule: str = "average") -> None:
    """Solve case `case` (`edge`: the `--edge` case, scale exponents from `exponents`; `rule`
    as in `audit_instance`) with every available exact backend (`threads`, and the warm start
    `warm_start`: none, oracle or random; benchmarks/audit.py); add to `tally`."""
    from exactprune.solvers import solve

    inst, text = (edge_instance(case, exponents, rule) if edge
                  else audit_instance(case, rule=rule))
    oracle = solve(inst, "bruteforce")
    warm = warm_mask(warm_start, oracle, case,
                     lambda rng: _random_mask(rng, inst.n, inst.k, inst.repeats))
    for engine, _, res in solve_each(tally, inst, engines, time_limit, case, threads=threads,
                                     warm_start=warm):
        check_result(tally, res, oracle, f"{text} {engine}")


def cross_case(case: int, tally: AuditTally, time_limit: float = 20.0,
               engines: tuple[str, ...] = ENGINES, threads: int = 1,
               warm_start: str = "none", rule: str = "average") -> None:
    """The cross audit (`--large`): case `case`'s large instance (`rule` as in
    `audit_instance`) solved by every available exact backend, the answers checked against
    each other and against greedy forward selection's mask (benchmarks/audit.py,
    `cross_check`)."""
    inst, text = audit_instance(case, large=True, rule=rule)
    cross_check(tally, inst, text, engines, time_limit, case, "greedy_forward_selection",
                threads, warm_start, lambda rng: _random_mask(rng, inst.n, inst.k, inst.repeats))


def main(argv: list[str] | None = None) -> int:
    return audit_main(__doc__.split("\n")[0], audit_case, argv, cross_case=cross_case,
                      edge_case=partial(audit_case, edge=True), rules=AUDIT_RULES)


if __name__ == "__main__":
    raise SystemExit(main())
