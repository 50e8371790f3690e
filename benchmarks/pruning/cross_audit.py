"""Cross audit: the exact pruning backends against each other on instances too large for
`bruteforce`.

    python -m exactprune.benchmarks.pruning.cross_audit --cases 0:50 --time-limit 20

Why. The random audit (benchmarks/pruning/audit.py) checks every engine against exhaustive
enumeration, so its masks have at most 18 entries: shallow trees, few restarts, little
presolve. The engines' numerics meet their hardest models deeper in the tree. Here case c
draws, from random.Random(c), a kind, d = 2 or 3, a mask of 21..45 entries (neuron width
21..44, weight width ceil(21..44 / d)), 32..128 points (sphere, cube or Gaussian), both
outputs, linf or l1, and in a third of the cases a near-exact target (a unit's own neuron times
1 + delta: tiny optima). Every exact engine solves it in every formulation it accepts, like the
random audit. With no oracle the reference is the best mask any of them (or
`prune_local_search`) found (every objective is the instance's own evaluation of a mask, so it
is an upper bound on the optimum whoever found it); a finding is an error status, a proven
bound above that best mask's error, or a certified objective that another engine's mask beats
by more than the certificate's tolerance. Time-limited results are checked too (their bounds
must hold). `--warm-start oracle` gives the engines the `prune_local_search` mask (there is no
oracle here). Prints every finding and a summary line; exit 1 when there is a finding.
"""

from __future__ import annotations

import random
from typing import Any

import numpy as np

from exactprune.benchmarks.audit import AuditTally, audit_main, check_consensus, solve_each
from exactprune.benchmarks.pruning.audit import ENGINES, NEAR_EXACT_DELTAS, option_sets


def cross_instance(case: int) -> tuple[Any, str]:
    """Case `case`'s instance and a one-line description of it."""
    from exactprune.instances import generate_neuron_pruning, generate_weight_pruning

    rng = random.Random(f"cross {case}")
    kind = rng.choice(["neuron", "weight"])
    d = rng.choice([2, 3])
    size = rng.randint(21, 44)
    width = size if kind == "neuron" else -(-size // d)  # mask >= size
    act = rng.choice(["identity", "relu"])
    norm = rng.choice(["linf", "linf", "l1"])
    domain = rng.choice(["sphere", "cube", "gaussian"])
    k = rng.choice([32, 64, 128])
    gen = generate_neuron_pruning if kind == "neuron" else generate_weight_pruning
    kw = dict(domain=domain, weight_dist=rng.choice(["normal", "uniform"]),
              output_dist=rng.choice(["uniform", "normal"]), output_activation=act, norm=norm)
    inst = gen(d=d, width=width, points=k, seed=case, **kw)
    text = f"cross case {case}: {kind} d={d} n={width} K={k} {act} {norm} {domain}"
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


def cross_case(case: int, tally: AuditTally, time_limit: float = 20.0,
               engines: tuple[str, ...] = ENGINES, threads: int = 1,
               warm_start: str = "none") -> None:
    """Solve case `case` with every available exact engine and option set; check the answers
    against each other (`check_consensus`); add to `tally`."""
    from exactprune.solvers import solve

    inst, text = cross_instance(case)
    search = solve(inst, "prune_local_search", seed=case)
    warm = None
    if warm_start == "oracle":
        warm = search.mask
    elif warm_start == "random":
        pick = random.Random(f"warm start {case}")
        warm = np.array([pick.random() < 0.5 for _ in range(int(np.prod(inst.mask_shape)))]
                        ).reshape(inst.mask_shape)
    answers = [(f"{text} {engine} {options or ''}", res) for engine, options, res in solve_each(
        tally, inst, engines, time_limit, case, lambda engine: option_sets(inst, engine),
        threads=threads, warm_start=warm)]
    answers.append((f"{text} prune_local_search", search))  # a mask to beat, too
    check_consensus(tally, answers, 2.0 * inst.evaluation_tolerance())


def main(argv: list[str] | None = None) -> int:
    return audit_main(__doc__.split("\n")[0], cross_case, argv, default_time_limit=20.0)


if __name__ == "__main__":
    raise SystemExit(main())
