"""core_search under short time limits: every round over 40 values (before 2026-12-07) against
cores that grow from 24 values as the time left allows, side by side in one run.

    python -m exactprune.benchmarks.subset_sum.core_ramp [--n 48,56,62,80] [--seeds 10]
        [--limits 0.02,0.05,0.1,0.2,0.5,1,2]

Prints a markdown table (docs/benchmarks/subset-sum-core-ramp.md): per n and limit, the median
error of each policy over the seeds, how often the growing cores end lower / higher, and the
longest wall time of each (a round that overruns the limit shows there). One process; each
instance is solved by both policies before the next, so a slower spell of the machine hits
both; core_search's seed is the instance's (so the instances do not share one sequence of
cores). The first call warms numpy's sort up before anything is timed.
"""

from __future__ import annotations

import argparse
import statistics
import time

from exactprune.instances.subset_sum import generate_subset_sum
from exactprune.solvers.clock import Clock
from exactprune.solvers.result import Goal
from exactprune.solvers.subset_sum.heuristics import core_search


def _floats(text: str) -> list[float]:
    return [float(t) for t in text.split(",") if t.strip()]


def _ints(text: str) -> list[int]:
    return [int(t) for t in text.split(",") if t.strip()]


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--n", type=_ints, default=[48, 56, 62, 80])
    p.add_argument("--seeds", type=int, default=10)
    p.add_argument("--limits", type=_floats, default=[0.02, 0.05, 0.1, 0.2, 0.5, 1.0, 2.0])
    args = p.parse_args(argv)
    warm = generate_subset_sum(n=48, seed=10**6)
    core_search(warm, Goal(), Clock(0.5), 0, rounds=None)
    print("| n | limit (s) | fixed 40: median error | growing: median error | growing lower / "
          "higher / equal | longest wall, fixed / growing (s) |")
    print("|---|---|---|---|---|---|")
    for n in args.n:
        instances = [generate_subset_sum(n=n, seed=s) for s in range(args.seeds)]
        for limit in args.limits:
            errs: dict[bool, list[float]] = {False: [], True: []}
            walls: dict[bool, list[float]] = {False: [], True: []}
            for seed, inst in enumerate(instances):  # the solver's seed is the instance's:
                # with one seed every instance would see the same sequence of cores
                for ramp in (False, True):
                    t0 = time.perf_counter()
                    found = core_search(inst, Goal(), Clock(limit), seed, rounds=None,
                                        ramp=ramp)
                    walls[ramp].append(time.perf_counter() - t0)
                    errs[ramp].append(float(inst.exact_error(found.mask)))
            pairs = list(zip(errs[False], errs[True], strict=True))
            lower = sum(g < f for f, g in pairs)
            higher = sum(g > f for f, g in pairs)
            print(f"| {n} | {limit:g} | {statistics.median(errs[False]):.2g} | "
                  f"{statistics.median(errs[True]):.2g} | {lower} / {higher} / "
                  f"{len(pairs) - lower - higher} | {max(walls[False]):.3f} / "
                  f"{max(walls[True]):.3f} |", flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
