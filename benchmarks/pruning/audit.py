"""Audit: every exact pruning backend against `bruteforce` on random small instances.

    python -m exactprune.benchmarks.pruning.audit --cases 0:500

Case c draws, from random.Random(c), a kind (neuron / weight), d, the width (mask size <= 18),
the point domain (sphere, cube, Gaussian) and count, both output activations, the linf and l1
errors, the weight distributions, and in about a third of the cases a near-exact target (a unit's
own neuron times 1 + delta, delta in {0, 1e-13, 1e-10, 1e-7, 1e-4}: tiny optima). Every exact
engine solves it in every formulation it accepts (dictionary / selection, big-M, antipodal,
lazy points; refusals are counted). A finding is: a status "error", an objective below the
oracle's optimum, a proven bound above it, or a certified objective farther from it than the
reported tolerance. It found a wrong CBC optimum and a crash on 2026-12-01 (docs/numerics.md).
Prints every finding and a summary line; exit 1 when there is a finding.
"""

from __future__ import annotations

import random
from typing import Any

import numpy as np

from exactprune.benchmarks.audit import (
    AuditTally,
    audit_main,
    check_result,
    solve_each,
    warm_mask,
)

ENGINES = ("scip", "highs", "cpsat", "cbc", "gurobi")
NEAR_EXACT_DELTAS = (0.0, 1e-13, 1e-10, 1e-7, 1e-4)


def audit_instance(case: int) -> tuple[Any, str]:
    """Case `case`'s instance and a one-line description of it."""
    from exactprune.instances import generate_neuron_pruning, generate_weight_pruning

    rng = random.Random(case)
    kind = rng.choice(["neuron", "weight"])
    d = rng.choice([1, 2, 2, 3]) if kind == "neuron" else rng.choice([2, 2, 3])
    width = rng.randint(3, 16) if kind == "neuron" else rng.randint(2, 18 // d)
    act = rng.choice(["identity", "relu"])
    norm = rng.choice(["linf", "linf", "l1"])
    domain = rng.choice(["sphere", "cube", "gaussian"])
    k = rng.choice([2, 8, 16, 32, 64]) if not (domain == "sphere" and d == 1) else 2
    gen = generate_neuron_pruning if kind == "neuron" else generate_weight_pruning
    kw = dict(domain=domain, weight_dist=rng.choice(["normal", "uniform"]),
              output_dist=rng.choice(["uniform", "normal"]), output_activation=act, norm=norm)
    inst = gen(d=d, width=width, points=k, seed=case, **kw)
    text = f"case {case}: {kind} d={d} n={width} K={k} {act} {norm} {domain}"
    if rng.random() < 0.35:
        W = np.asarray(inst.network.hidden_weights)
        v = np.asarray(inst.network.output_weights)
        i = int(np.argmax(v))
        if v[i] > 0:
            delta = rng.choice(NEAR_EXACT_DELTAS)
            inst = gen(d=d, width=width, points=k, seed=case,
                       target_weights=W[i] * v[i] * (1 + delta), **kw)
            text += f" near-exact target (delta {delta:g})"
    return inst, text


def option_sets(inst: Any, engine: str) -> list[dict[str, Any]]:
    linf = inst.norm == "linf"
    identity = inst.network.output_activation == "identity"
    sets: list[dict[str, Any]] = [{}]
    if engine != "cpsat" and inst.kind == "weight_pruning":
        sets.append({"formulation": "bigm"})
    if engine != "cpsat" and identity and linf:
        sets.append({"formulation": "antipodal"})
    if linf:
        sets.append({"lazy": True})
    return sets


def audit_case(case: int, tally: AuditTally, time_limit: float = 60.0,
               engines: tuple[str, ...] = ENGINES, threads: int = 1,
               warm_start: str = "none") -> None:
    """Solve case `case` with every available exact engine and option set (`threads`, and the
    warm start `warm_start`: none, oracle or random; benchmarks/audit.py); add to `tally`."""
    from exactprune.solvers import solve

    inst, text = audit_instance(case)
    oracle = solve(inst, "bruteforce")
    warm = warm_mask(warm_start, oracle, case,
                     lambda rng: np.array([rng.random() < 0.5 for _ in range(
                         int(np.prod(inst.mask_shape)))]).reshape(inst.mask_shape))
    for engine, options, res in solve_each(tally, inst, engines, time_limit, case,
                                           lambda engine: option_sets(inst, engine),
                                           threads=threads, warm_start=warm):
        check_result(tally, res, oracle, f"{text} {engine} {options or ''}")


def main(argv: list[str] | None = None) -> int:
    return audit_main(__doc__.split("\n")[0], audit_case, argv)


if __name__ == "__main__":
    raise SystemExit(main())
