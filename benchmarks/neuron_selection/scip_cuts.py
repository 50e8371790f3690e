"""Benchmark: SCIP with and without cutting planes on neuron selection, side by side in one run.

    python -m exactprune.benchmarks.neuron_selection.scip_cuts --out docs/benchmarks

Why. `--solver auto` picks SCIP for neuron selection with the l1 or linf loss (average rule);
on the pruning kinds SCIP's cuts barely lifted the bound and slowed every node. Here: the
trained nets of the `trained` bench suite (digits-pair and teacher, (N, k) = (64, 8) and
(128, 16), `benchmarks/neuron_selection/suites.py`), losses l1 and linf, sample subsets with
seeds 0..S-1 (100 rows each), `solve(inst, "scip", cuts=...)` with one thread, two solves at a
time on the 2 cores, 20 s each. Reported per (data, loss, N) and setting: certified, median
time, and where not certified the median relative gap. Writes neuron-selection-scip-cuts.md
and .json.
"""

from __future__ import annotations

import argparse
import statistics
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Any

from exactprune.benchmarks.neuron_selection.suites import DATA, SAMPLES, network_path
from exactprune.benchmarks.pruning.levers import relative_gap, write_page

SIZES = ((64, 8), (128, 16))
LOSSES = ("l1", "linf")
SETTINGS = (("with cuts", True), ("no cuts", False))


def run_one(job: dict[str, Any]) -> dict[str, Any]:
    """One SCIP solve of one instance: status, objective, bound, wall time, relative gap."""
    from exactprune.instances.neuron_selection.generator import generate_neuron_selection
    from exactprune.solvers import solve

    inst = generate_neuron_selection(str(network_path(job["data"], job["n"])), job["data"],
                                     job["k"], loss=job["loss"], samples=SAMPLES,
                                     seed=job["seed"])
    t0 = time.perf_counter()
    res = solve(inst, "scip", time_limit=job["time_limit"], threads=1, cuts=job["cuts"])
    wall = time.perf_counter() - t0
    return {**job, "status": str(res.status), "certified": res.certified,
            "objective": res.objective, "bound": res.bound, "wall_time_s": wall,
            "gap": relative_gap(res)}


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--out", type=Path, default=Path("docs/benchmarks"))
    p.add_argument("--seeds", type=int, default=3, help="sample subsets per instance family")
    p.add_argument("--time-limit", type=float, default=20.0)
    p.add_argument("--jobs", type=int, default=2, help="solves at a time")
    args = p.parse_args(argv)
    jobs = [{"data": data, "loss": loss, "n": n, "k": k, "seed": seed, "setting": label,
             "cuts": cuts, "time_limit": args.time_limit}
            for data in DATA for loss in LOSSES for n, k in SIZES
            for seed in range(args.seeds) for label, cuts in SETTINGS]
    with ProcessPoolExecutor(args.jobs) as pool:
        rows = list(pool.map(run_one, jobs))
    lines = ["# SCIP with and without cutting planes on neuron selection", "",
             "Command: `python -m exactprune.benchmarks.neuron_selection.scip_cuts"
             + (f" --seeds {args.seeds}" if args.seeds != 3 else "")
             + (f" --time-limit {args.time_limit:g}" if args.time_limit != 20.0 else "")
             + (f" --jobs {args.jobs}" if args.jobs != 2 else "") + "`", "",
             f"Trained nets of the `trained` suite, rule average, {SAMPLES} rows per instance "
             f"(sample seeds 0..{args.seeds - 1}); SCIP one thread, {args.jobs} solve(s) at a "
             f"time on 2 cores, time limit {args.time_limit:g} s.", "",
             "| data | loss | N, k | setting | certified | median time (s) | "
             "median gap where not | times (s) |", "|---|---|---|---|---|---|---|---|"]
    for data in DATA:
        for loss in LOSSES:
            for n, k in SIZES:
                for label, _ in SETTINGS:
                    mine = [r for r in rows if (r["data"], r["loss"], r["n"], r["setting"])
                            == (data, loss, n, label)]
                    gaps = [r["gap"] for r in mine if not r["certified"] and r["gap"] is not None]
                    lines.append(
                        f"| {data} | {loss} | {n}, {k} | {label} | "
                        f"{sum(r['certified'] for r in mine)}/{len(mine)} | "
                        f"{statistics.median(r['wall_time_s'] for r in mine):.2f} | "
                        + (f"{statistics.median(gaps):.3g}" if gaps else "—") + " | "
                        + ", ".join(f"{r['wall_time_s']:.2f}" for r in mine) + " |")
    write_page(args.out, "neuron-selection-scip-cuts", lines, rows)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
