"""Audit: every exact subset-sum backend against `bruteforce` on random small instances.

    python -m exactprune.benchmarks.subset_sum.audit --cases 0:2000

Case c draws, from random.Random(c) and numpy's default_rng(c): n = 1..18 values that are
uniform on [-1, 1], Gaussian, small integers (many exact ties), positive only, or spread over
25 orders of magnitude; a target that is uniform, or a random subset's sum times 1 + delta
(delta in {0, 1e-15, 1e-12, 1e-9, 1e-6}: optima at or near 0); and a goal: the least error,
the least error keeping at most k, or the sparsest subset within eps, with eps drawn at random
or set to a subset's exact error (ties at the boundary, where "<= eps" must hold exactly) or
one float step either side of it. Every exact backend (mitm, scip, highs, cbc, cpsat, gurobi
when installed) solves it; a finding (benchmarks/audit.py) is an error status, an objective
below the oracle's, a bound above it, a certified objective off by more than the tolerances,
or a disagreement about infeasibility. A MILP that gives up on a sparsest window its
tolerances cannot resolve (status "error", saying so) is counted as "gave up", not a finding.
Prints every finding and a summary line; exit 1 when there is a finding.

    python -m exactprune.benchmarks.subset_sum.audit --large --cases 0:100

draws n = 24..36 values instead (optima near 2^-n, where the MILPs' tolerances bite) and
checks every MILP and CP-SAT answer against `mitm`, exact at these sizes; 20 s per solve.

    python -m exactprune.benchmarks.subset_sum.audit --edge --cases 0:1000

stresses the sparsest window's edge on values of two scales: n = 3..10 values, each either
Uniform[0.1, 1] or in one band [10^-(a+1), 10^-a] (a ~ Uniform[7, 17] per case, or
U[LO, HI] with `--edge-exponents LO:HI`: the engines' tolerances and coefficient thresholds),
random signs, a uniform target, and eps set to a random mask's exact error or one float step
either side. Before the window margin
(`formulations.subset_sum.milp.sparsest_window_margin`) CBC, SCIP and Gurobi certified wrong
counts and wrong infeasibility here (docs/numerics.md); checked against `bruteforce` as above.

    python -m exactprune.benchmarks.subset_sum.audit --repeated --cases 0:500

draws each case as above, but its n values from a pool of 1-4 Uniform[-1, 1] floats (and
0.0 or -0.0 in a third of the cases), so values repeat: the MILP engines' symmetry rows keep
one mask per class of masks with the same exact sum (docs/numerics.md, repeated values);
checked against `bruteforce` as above.

    python -m exactprune.benchmarks.subset_sum.audit --near-ties --cases 0:500

draws n = 6..14 values Uniform[-1, 1] rounded to 2 or 3 decimals (so different masks have
sums equal in decimals and a few ulps apart in floats) and a target within 1e-6 or 1e-7 of a
random mask's sum, or values of two scales (Uniform[-1, 1] times 10^-k, k = 0..12), and the
goals as above: on an instance of this kind Gurobi 13.0.3 at its default numerics certified a
wrong optimum and proved a bound above the optimum (hunt 179 H1, docs/numerics.md; rarer than
one in 400 of these cases, so the family is a net, not a proof); checked against `bruteforce`.
"""

from __future__ import annotations

import math
import random
from functools import partial
from typing import Any

import numpy as np

from exactprune.benchmarks.audit import (
    AuditTally,
    audit_main,
    check_result,
    random_keep_mask,
    solve_each,
    warm_mask,
)

ENGINES = ("mitm", "scip", "highs", "cbc", "cpsat", "gurobi")
GAVE_UP = "no mask within eps exactly was found, and infeasibility was not proven"
NEAR_EXACT_DELTAS = (0.0, 1e-15, 1e-12, 1e-9, 1e-6)


BAND_EXPONENTS = (7.0, 17.0)
"""The default range of the `--edge` band's exponent a (values in [10^-(a+1), 10^-a])."""


def edge_instance(case: int, exponents: tuple[float, float] = BAND_EXPONENTS
                  ) -> tuple[Any, dict[str, Any], str]:
    """The `--edge` case `case` (module docstring; band exponent a ~ U[exponents]): instance,
    sparsest goal, description."""
    from exactprune.instances import SubsetSumInstance

    rng = random.Random(f"edge {case}")
    gen = np.random.default_rng([case, 2])
    n = rng.randint(3, 10)
    a = rng.uniform(*exponents)
    small = gen.random(n) < 0.5
    mag = np.where(small, 10.0 ** gen.uniform(-a - 1, -a, n), gen.uniform(0.1, 1.0, n))
    x = gen.choice([-1.0, 1.0], n) * mag
    target = float(gen.uniform(-1.0, 1.0)) * max(1.0, float(np.abs(x).sum()) / 3)
    inst = SubsetSumInstance(values=x, target=target)
    err = inst.evaluate(gen.random(n) < 0.5)
    how = rng.choice(["tie", "below", "above"])
    eps = {"tie": err, "below": math.nextafter(err, -math.inf),
           "above": math.nextafter(err, math.inf)}[how]
    goal = {"objective": "sparsest", "eps": max(0.0, eps)}
    return inst, goal, f"edge case {case}: n={n}, band 1e-{a:.1f}, eps {how} {goal}"


def near_ties_instance(case: int) -> tuple[Any, dict[str, Any], str]:
    """Case `case` of the `--near-ties` family (module docstring; its own seeds), its goal and
    a one-line description."""
    from exactprune.instances import SubsetSumInstance

    rng = random.Random(f"near ties {case}")
    gen = np.random.default_rng([case, 4])
    n = rng.randint(6, 14)
    if rng.random() < 2 / 3:
        decimals = rng.choice([2, 3])
        x = np.round(gen.uniform(-1.0, 1.0, n), decimals)
        offset = rng.choice([1e-6, 1e-7]) * float(gen.standard_normal())
        target = math.fsum(x[gen.random(n) < 0.5].tolist()) + offset
        dist = f"{decimals} decimals, offset {offset:.2g}"
    else:
        x = gen.uniform(-1.0, 1.0, n) * 10.0 ** -gen.integers(0, 13, n).astype(np.float64)
        target = float(gen.uniform(-1.0, 1.0))
        dist = "two scales"
    inst = SubsetSumInstance(values=x, target=target)
    draw = rng.random()
    goal: dict[str, Any] = ({"max_kept": rng.randint(1, n)} if draw < 0.4 else
                            {"objective": "sparsest", "eps": rng.choice([1e-6, 1e-5, 1e-3])}
                            if draw < 0.6 else {})
    return inst, goal, f"near-ties case {case}: n={n} {dist} {goal}"


def audit_instance(case: int, large: bool = False,
                   repeated: bool = False) -> tuple[Any, dict[str, Any], str]:
    """Case `case`'s instance, its goal (solve keywords) and a one-line description; `large`:
    n = 24..36 values, beyond `bruteforce` (drawn from their own seeds, otherwise alike);
    `repeated`: the values drawn from a small pool (module docstring; own seeds too)."""
    from exactprune.instances import SubsetSumInstance

    seed: Any = f"large {case}" if large else f"repeated {case}" if repeated else case
    rng = random.Random(seed)
    gen = np.random.default_rng([case, 1] if large else [case, 3] if repeated else case)
    n = rng.randint(24, 36) if large else rng.randint(1, 18)
    dist = rng.choice(["uniform", "gaussian", "integers", "positive", "magnitudes"])
    if repeated:
        dist = "repeated"
        pool = gen.uniform(-1.0, 1.0, rng.randint(1, 4)).tolist()
        if rng.random() < 1 / 3:
            pool.append(rng.choice([0.0, -0.0]))
        x = gen.choice(pool, n)
    elif dist == "uniform":
        x = gen.uniform(-1.0, 1.0, n)
    elif dist == "gaussian":
        x = gen.standard_normal(n)
    elif dist == "integers":
        x = gen.integers(-20, 21, n).astype(np.float64)
    elif dist == "positive":
        x = gen.uniform(0.0, 1.0, n)
    else:
        x = gen.choice([-1.0, 1.0], n) * 10.0 ** gen.integers(-25, 1, n) * gen.uniform(0.5, 1, n)
    subset = gen.random(n) < 0.5
    planted = rng.random() < 0.5
    if planted:
        delta = rng.choice(NEAR_EXACT_DELTAS)
        target = math.fsum(x[subset].tolist()) * (1.0 + delta)
        what = f"planted target (delta {delta:g})"
    else:
        target = float(gen.uniform(-1.0, 1.0)) * max(1.0, float(np.abs(x).sum()) / 3)
        what = "random target"
    inst = SubsetSumInstance(values=x, target=target)
    goal: dict[str, Any] = {}
    draw = rng.random()
    if draw < 0.25:
        goal = {"max_kept": rng.randint(0, n)}
    elif draw < 0.5:
        other = gen.random(n) < 0.5
        err = inst.evaluate(other)
        how = rng.choice(["random", "tie", "below", "above"])
        eps = {"random": 10.0 ** rng.uniform(-12, 0), "tie": err,
               "below": math.nextafter(err, -math.inf), "above": math.nextafter(err, math.inf)}
        goal = {"objective": "sparsest", "eps": max(0.0, eps[how])}
        what += f", sparsest eps {how}"
    text = f"{'large ' if large else ''}case {case}: n={n} {dist} {what} {goal}"
    return inst, goal, text


def audit_case(case: int, tally: AuditTally, time_limit: float = 60.0,
               engines: tuple[str, ...] = ENGINES, threads: int = 1,
               warm_start: str = "none", large: bool = False, edge: bool = False,
               exponents: tuple[float, float] = BAND_EXPONENTS,
               repeated: bool = False, near_ties: bool = False) -> None:
    """Solve case `case` with every available exact backend (`threads`, and the warm start
    `warm_start`: none, oracle or random; benchmarks/audit.py); add to `tally`. `large`: the
    large case, against `mitm` (exact meet-in-the-middle, itself audited against
    `bruteforce` on the small cases) instead of `bruteforce`. `edge`: the `--edge` case;
    `repeated`: the `--repeated` case; `near_ties`: the `--near-ties` case."""
    from exactprune.solvers import solve

    inst, goal, text = (edge_instance(case, exponents) if edge
                        else near_ties_instance(case) if near_ties
                        else audit_instance(case, large, repeated))
    oracle = solve(inst, "mitm" if large else "bruteforce", **goal)
    if large:
        engines = tuple(e for e in engines if e != "mitm")
    warm = warm_mask(warm_start, oracle, case, lambda rng: random_keep_mask((inst.n,), rng))
    for engine, _, res in solve_each(tally, inst, engines, time_limit, case, threads=threads,
                                     warm_start=warm, **goal):
        where = f"{text} {engine}"
        if str(res.status) == "error" and any(GAVE_UP in n for n in res.notes):
            tally.runs += 1  # the MILP's tolerance cannot tell masks at eps apart: honest
            tally.gave_up += 1
            continue
        if str(oracle.status) == "infeasible":
            tally.runs += 1
            tally.certified += int(res.certified)
            if res.mask is not None or str(res.status) in ("optimal", "error"):
                tally.findings.append(f"oracle infeasible, engine {res.status}: {where}")
            continue
        if str(res.status) == "infeasible":
            tally.runs += 1
            tally.findings.append(f"infeasible, oracle {oracle.objective!r}: {where}")
            continue
        check_result(tally, res, oracle, where)


def main(argv: list[str] | None = None) -> int:
    return audit_main(__doc__.split("\n")[0], audit_case, argv,
                      cross_case=partial(audit_case, large=True),
                      edge_case=partial(audit_case, edge=True),
                      edge_exponents=BAND_EXPONENTS,
                      repeated_case=partial(audit_case, repeated=True),
                      near_ties_case=partial(audit_case, near_ties=True))


if __name__ == "__main__":
    raise SystemExit(main())
