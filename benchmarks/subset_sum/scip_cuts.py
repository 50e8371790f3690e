"""Benchmark: SCIP with and without cutting planes on subset-sum, side by side in one run.

    python -m exactprune.benchmarks.subset_sum.scip_cuts --out docs/benchmarks

Why. The pruning kinds and neuron selection run SCIP without cuts (measured faster there);
subset-sum's `scip` backend kept them, unmeasured. Here: `generate_subset_sum(n, seed)` (values
Uniform[-1, 1], target Uniform[-1, 1]) for n in --sizes, seeds 0..S-1, objective min_error,
`solve(inst, "scip", cuts=...)` with one thread, one solve at a time, each setting on the same
instance back to back. Writes subset-sum-scip-cuts.md and .json.
"""

from __future__ import annotations

import argparse
import statistics
import time
from pathlib import Path
from typing import Any

from exactprune.benchmarks.pruning.levers import write_page

SETTINGS = (("with cuts", True), ("no cuts", False))


def run_one(job: dict[str, Any]) -> dict[str, Any]:
    """One SCIP solve: status, certified, objective, wall time."""
    from exactprune.instances import generate_subset_sum
    from exactprune.solvers import solve

    inst = generate_subset_sum(job["n"], seed=job["seed"])
    t0 = time.perf_counter()
    res = solve(inst, "scip", time_limit=job["time_limit"], threads=1, cuts=job["cuts"])
    return {**job, "status": str(res.status), "certified": res.certified,
            "objective": res.objective, "wall_time_s": time.perf_counter() - t0}


def _sizes(text: str) -> list[int]:
    try:
        sizes = [int(v) for v in text.split(",")]
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected sizes like 16,18,20, got {text!r}") from None
    if not sizes or min(sizes) < 1:
        raise argparse.ArgumentTypeError(f"sizes must be positive integers, got {text!r}")
    return sizes


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--out", type=Path, default=Path("docs/benchmarks"))
    p.add_argument("--sizes", type=_sizes, default=[16, 18, 20, 22])
    p.add_argument("--seeds", type=int, default=5)
    p.add_argument("--time-limit", type=float, default=60.0)
    args = p.parse_args(argv)
    rows = [run_one({"n": n, "seed": seed, "setting": label, "cuts": cuts,
                     "time_limit": args.time_limit})
            for n in args.sizes for seed in range(args.seeds) for label, cuts in SETTINGS]
    sizes = ",".join(str(n) for n in args.sizes)
    lines = ["# SCIP with and without cutting planes on subset-sum", "",
             f"Command: `python -m exactprune.benchmarks.subset_sum.scip_cuts --sizes {sizes} "
             f"--seeds {args.seeds} --time-limit {args.time_limit:g}`", "",
             f"`generate_subset_sum(n, seed)`, seeds 0..{args.seeds - 1}, objective min_error; "
             "SCIP one thread, one solve at a time, both settings on each instance back to "
             f"back, time limit {args.time_limit:g} s.", "",
             "| n | setting | certified | median time (s) | times (s) |",
             "|---|---|---|---|---|"]
    for n in args.sizes:
        for label, _ in SETTINGS:
            mine = [r for r in rows if (r["n"], r["setting"]) == (n, label)]
            times = [r["wall_time_s"] for r in mine]
            lines.append(f"| {n} | {label} | {sum(r['certified'] for r in mine)}/{len(mine)} | "
                         f"{statistics.median(times):.2f} | "
                         + ", ".join(f"{t:.2f}" for t in times) + " |")
    write_page(args.out, "subset-sum-scip-cuts", lines, rows)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
