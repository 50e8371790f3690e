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

import argparse
import random
import time
from dataclasses import dataclass, field
from typing import Any

import numpy as np

ENGINES = ("scip", "highs", "cpsat", "cbc", "gurobi")
NEAR_EXACT_DELTAS = (0.0, 1e-13, 1e-10, 1e-7, 1e-4)


@dataclass
class AuditTally:
    """What an audit saw: solves run, certified, refused (InputError), and the findings."""

    runs: int = 0
    certified: int = 0
    refused: int = 0
    findings: list[str] = field(default_factory=list)


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


def _option_sets(inst: Any, engine: str) -> list[dict[str, Any]]:
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
               engines: tuple[str, ...] = ENGINES) -> None:
    """Solve case `case` with every available exact engine and option set; add to `tally`."""
    from exactprune.instances import InputError
    from exactprune.solvers import get_backend, solve

    inst, text = audit_instance(case)
    oracle = solve(inst, "bruteforce")
    opt = float(oracle.objective)
    eps = 1e-12 * max(1.0, abs(opt))
    for engine in engines:
        if not get_backend(engine, inst.kind).available():
            continue
        for options in _option_sets(inst, engine):
            try:
                res = solve(inst, engine, time_limit=time_limit, seed=case, **options)
            except InputError:
                tally.refused += 1
                continue
            tally.runs += 1
            where = f"{text} {engine} {options or ''}"
            if str(res.status) == "error":
                tally.findings.append(f"error: {where}: {res.notes[-1:]}")
                continue
            if res.objective is not None and res.objective < opt - eps:
                tally.findings.append(f"below the oracle: {where}: {res.objective!r} < {opt!r}")
            if res.bound is not None and res.bound > opt + eps:
                tally.findings.append(f"bound above the optimum: {where}: {res.bound!r} > "
                                      f"{opt!r}")
            if res.certified:
                tally.certified += 1
                if res.objective - opt > (res.tolerance or 0.0) + (oracle.tolerance or 0.0):
                    tally.findings.append(f"wrong optimum: {where}: {res.objective!r}, oracle "
                                          f"{opt!r}, tolerance {res.tolerance!r}")


def _case_range(text: str) -> tuple[int, int]:
    try:
        lo, hi = (int(x) for x in text.split(":"))
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected LO:HI (integers), got {text!r}") from None
    if not 0 <= lo < hi:
        raise argparse.ArgumentTypeError(f"expected 0 <= LO < HI, got {text!r}")
    return lo, hi


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--cases", type=_case_range, default="0:200",
                   help="LO:HI, the cases LO..HI-1")
    p.add_argument("--time-limit", type=float, default=60.0, help="seconds per solve")
    args = p.parse_args(argv)
    lo, hi = args.cases
    tally = AuditTally()
    t0 = time.perf_counter()
    for case in range(lo, hi):
        seen = len(tally.findings)
        audit_case(case, tally, args.time_limit)
        for line in tally.findings[seen:]:
            print(line, flush=True)
        if (case - lo) % 50 == 49:
            print(f"... {case - lo + 1} cases, {time.perf_counter() - t0:.0f} s", flush=True)
    print(f"cases {lo}..{hi - 1}: {tally.runs} solves, {tally.certified} certified, "
          f"{tally.refused} refused, {len(tally.findings)} findings, "
          f"{time.perf_counter() - t0:.0f} s")
    return 1 if tally.findings else 0


if __name__ == "__main__":
    raise SystemExit(main())
