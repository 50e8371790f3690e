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

    python -m exactprune.benchmarks.pruning.audit --large --cases 0:50

is the cross audit. The oracle's masks have at most 18 entries: shallow trees, few restarts,
little presolve, while the engines meet their hardest numerics deeper in the tree. So case c
draws, from its own seed, a mask of 21..45 entries (neuron width 21..44, weight width ceil(21..44
/ d)), d = 2 or 3, 32..128 points, the rest as above; every engine solves it in every
formulation, and with no oracle the reference is the best mask any of them or
`prune_local_search` found (every objective is the instance's own evaluation of a mask, an
upper bound on the optimum whoever found it). A finding is an error status, a proven bound
above that mask's error, or a certified objective it beats by more than the certificate's
tolerance; time-limited answers are checked too (their bounds must hold). 20 s per solve by
default; `--warm-start oracle` gives the engines `prune_local_search`'s mask.

    python -m exactprune.benchmarks.pruning.audit --edge --cases 0:1000

is case c with a random half of the output weights scaled by 10^-a (a ~ U[7, 16] per case, or
U[LO, HI] with `--edge-exponents LO:HI`): columns of two scales, around the engines'
tolerances (the pruning form of the subset-sum `--edge` stress). At mip_feasibility_tolerance
1e-10 HiGHS certified wrong optima on cases 669 and 1761 here (docs/numerics.md); checked
against `bruteforce` as above.
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
    random_keep_mask,
    solve_each,
    two_scale_units,
    warm_mask,
)

ENGINES = ("scip", "highs", "cpsat", "cbc", "gurobi")
NEAR_EXACT_DELTAS = (0.0, 1e-13, 1e-10, 1e-7, 1e-4)


def audit_instance(case: int, large: bool = False) -> tuple[Any, str]:
    """Case `case`'s instance and a one-line description of it; `large`: the cross audit's
    instances, too large for `bruteforce` (masks of 21..45 entries, d = 2 or 3, 32..128
    points; drawn from their own seeds, otherwise alike)."""
    from exactprune.instances import generate_neuron_pruning, generate_weight_pruning

    rng = random.Random(f"cross {case}" if large else case)
    kind = rng.choice(["neuron", "weight"])
    if large:
        d = rng.choice([2, 3])
        size = rng.randint(21, 44)
        width = size if kind == "neuron" else -(-size // d)  # mask >= size
    else:
        d = rng.choice([1, 2, 2, 3]) if kind == "neuron" else rng.choice([2, 2, 3])
        width = rng.randint(3, 16) if kind == "neuron" else rng.randint(2, 18 // d)
    act = rng.choice(["identity", "relu"])
    norm = rng.choice(["linf", "linf", "l1"])
    domain = rng.choice(["sphere", "cube", "gaussian"])
    if large:
        k = rng.choice([32, 64, 128])
    else:
        k = rng.choice([2, 8, 16, 32, 64]) if not (domain == "sphere" and d == 1) else 2
    gen = generate_neuron_pruning if kind == "neuron" else generate_weight_pruning
    kw = dict(domain=domain, weight_dist=rng.choice(["normal", "uniform"]),
              output_dist=rng.choice(["uniform", "normal"]), output_activation=act, norm=norm)
    inst = gen(d=d, width=width, points=k, seed=case, **kw)
    text = (f"{'cross ' if large else ''}case {case}: {kind} d={d} n={width} K={k} {act} "
            f"{norm} {domain}")
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


def edge_instance(case: int, exponents: tuple[float, float] = TWO_SCALE_EXPONENTS
                  ) -> tuple[Any, str]:
    """The `--edge` case `case` (module docstring): case `case` with output weights of two
    scales (the small ones scaled by 10^-a, a ~ U[exponents]), and its description."""
    import dataclasses

    inst, text = audit_instance(case)
    v = np.asarray(inst.network.output_weights, dtype=np.float64)
    small, a = two_scale_units(case, v.shape[0], exponents)
    net = dataclasses.replace(inst.network, output_weights=np.where(small, v * 10.0**-a, v))
    return dataclasses.replace(inst, network=net), f"edge {text} two-scale 1e-{a:.1f}"


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
               warm_start: str = "none", edge: bool = False,
               exponents: tuple[float, float] = TWO_SCALE_EXPONENTS) -> None:
    """Solve case `case` (`edge`: the `--edge` case, scale exponents from `exponents`) with
    every available exact engine and option set (`threads`, and the warm start `warm_start`:
    none, oracle or random; benchmarks/audit.py); add to `tally`."""
    from exactprune.solvers import solve

    inst, text = edge_instance(case, exponents) if edge else audit_instance(case)
    oracle = solve(inst, "bruteforce")
    warm = warm_mask(warm_start, oracle, case, lambda rng: random_keep_mask(inst.mask_shape, rng))
    for engine, options, res in solve_each(tally, inst, engines, time_limit, case,
                                           lambda engine: option_sets(inst, engine),
                                           threads=threads, warm_start=warm):
        check_result(tally, res, oracle, f"{text} {engine} {options or ''}")


def cross_case(case: int, tally: AuditTally, time_limit: float = 20.0,
               engines: tuple[str, ...] = ENGINES, threads: int = 1,
               warm_start: str = "none") -> None:
    """The cross audit (`--large`): case `case`'s large instance solved by every available
    exact engine and option set, the answers checked against each other and against
    `prune_local_search`'s mask (benchmarks/audit.py, `cross_check`)."""
    inst, text = audit_instance(case, large=True)
    cross_check(tally, inst, text, engines, time_limit, case, "prune_local_search", threads,
                warm_start, lambda rng: random_keep_mask(inst.mask_shape, rng),
                lambda engine: option_sets(inst, engine))


def main(argv: list[str] | None = None) -> int:
    return audit_main(__doc__.split("\n")[0], audit_case, argv, cross_case=cross_case,
                      edge_case=partial(audit_case, edge=True))


if __name__ == "__main__":
    raise SystemExit(main())
