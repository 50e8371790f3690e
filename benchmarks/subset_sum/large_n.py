"""Benchmark: incumbents above mitm's limit (n > 62), side by side in one run.

    python -m exactprune.benchmarks.subset_sum.large_n --out docs/benchmarks

Why. Above n = 62 no method here certifies (the optima, about 2^-n, are below what any bound
resolves), so a user gets the best mask a method finds in the time given. Until 2026-12-03 the
exact engines started from their own incumbents; now, without a warm start, they start from
`core_search` (exact mitm over random cores of 40 values, the incumbent fixed elsewhere) run for
half the time limit (a quarter until a first run of this page showed the engines never
improving the start in the rest of the time). Here, on `generate_subset_sum(n, seed)` (values
and target Uniform[-1, 1]), min_error, one thread, one solve at a time, the same time limit each:
- `scip, own start`: SCIP given the empty mask as its start (which turns the core start off,
  as before);
- `scip`, `cpsat`: the engines as they run now;
- `core_search`, `local_search`: the heuristics alone.
Writes subset-sum-large-n.md and .json (every run).
"""

from __future__ import annotations

import argparse
import math
import statistics
import time
from pathlib import Path
from typing import Any

from exactprune.benchmarks.pruning.levers import write_page
from exactprune.benchmarks.subset_sum.scip_cuts import _sizes

SETTINGS = (("scip, own start", "scip", True), ("scip", "scip", False),
            ("cpsat", "cpsat", False), ("core_search", "core_search", False),
            ("local_search", "local_search", False))


def run_one(job: dict[str, Any]) -> dict[str, Any]:
    """One solve: status, objective (the mask's exact error, rounded) and wall time."""
    import numpy as np

    from exactprune.instances import generate_subset_sum
    from exactprune.solvers import solve

    inst = generate_subset_sum(job["n"], seed=job["seed"])
    start = np.zeros(inst.n, dtype=bool) if job["empty_start"] else None
    t0 = time.perf_counter()
    res = solve(inst, job["solver"], time_limit=job["time_limit"], threads=1, seed=job["seed"],
                warm_start=start)
    return {**job, "status": str(res.status), "certified": res.certified,
            "objective": res.objective, "wall_time_s": time.perf_counter() - t0}


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--out", type=Path, default=Path("docs/benchmarks"))
    p.add_argument("--sizes", type=_sizes, default=[63, 80, 100])
    p.add_argument("--seeds", type=int, default=3)
    p.add_argument("--time-limit", type=float, default=10.0)
    args = p.parse_args(argv)
    if args.seeds < 1 or not math.isfinite(args.time_limit) or args.time_limit <= 0:
        p.error("--seeds must be >= 1 and --time-limit a positive number")
    rows = [run_one({"n": n, "seed": seed, "setting": label, "solver": solver,
                     "empty_start": empty, "time_limit": args.time_limit})
            for n in args.sizes for seed in range(args.seeds)
            for label, solver, empty in SETTINGS]
    sizes = ",".join(str(n) for n in args.sizes)
    lines = ["# Subset-sum above mitm's limit: the best mask in a fixed time", "",
             f"Command: `python -m exactprune.benchmarks.subset_sum.large_n --sizes {sizes} "
             f"--seeds {args.seeds} --time-limit {args.time_limit:g}`", "",
             f"`generate_subset_sum(n, seed)`, seeds 0..{args.seeds - 1}, objective min_error, "
             f"one thread, one solve at a time, {args.time_limit:g} s each. Nothing is "
             "certified at these sizes; the table gives the error of the mask found (median and "
             "each seed).", "",
             "| n | method | median error | errors (seeds 0..) |", "|---|---|---|---|"]
    for n in args.sizes:
        for label, _, _ in SETTINGS:
            errs = [r["objective"] for r in rows if (r["n"], r["setting"]) == (n, label)]
            lines.append(f"| {n} | {label} | {statistics.median(errs):.3g} | "
                         + ", ".join(f"{e:.2g}" for e in errs) + " |")
    write_page(args.out, "subset-sum-large-n", lines, rows)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
