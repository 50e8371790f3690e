"""Benchmark: CP-SAT's presolve probing on the pruning kinds, one worker, side by side.

    python -m exactprune.benchmarks.pruning.cpsat_probing --time-limit 60 --out docs/benchmarks

Why. Hunt 125 found one CP-SAT worker with its presolve on stalling from a poor warm start (the
full mask) on a 10-unit relu instance: the bound rose one integer unit per conflict and the
solve ran on for minutes. Turning presolve probing off (`cp_model_probing_level = 0`) ends that
instance in 0.04 s. This measures whether it may be the default: the cases where `--solver
auto` picks CP-SAT with one worker (neuron pruning, l1 error, relu output, n = 32 and 48,
K = 256) and weight pruning at n = 12 (l1, relu, K = 128), seeds 0..4, both settings for each
instance one after the other (`solvers/pruning/cpsat.py` as it is, probing as CP-SAT's
default, against probing off), from the default incumbent.
"""

from __future__ import annotations

import argparse
import statistics
import time
from pathlib import Path
from typing import Any

from exactprune.benchmarks.pruning.levers import write_page

SETS = (("neuron", 32, 256), ("neuron", 48, 256), ("weight", 12, 128))
"""(kind, width n, circle points K), each with a relu output and the l1 error."""


def _probing_off(configured: Any) -> Any:
    def solver(opts: Any, time_limit: float | None, presolve: bool) -> Any:
        out = configured(opts, time_limit, presolve)
        out.parameters.cp_model_probing_level = 0
        return out
    return solver


def run(time_limit: float, seeds: int) -> list[dict[str, Any]]:
    """One row per (instance, setting): time, status, objective."""
    import exactprune.solvers.pruning.cpsat as cpsat
    from exactprune.instances import generate_neuron_pruning, generate_weight_pruning
    from exactprune.solvers import solve

    configured = cpsat.configured_solver
    rows = []
    for kind, n, points in SETS:
        gen = generate_neuron_pruning if kind == "neuron" else generate_weight_pruning
        for seed in range(seeds):
            inst = gen(d=2, width=n, points=points, seed=seed, output_activation="relu",
                       norm="l1")
            for setting, solver in (("probing on (default)", configured),
                                    ("probing off", _probing_off(configured))):
                cpsat.configured_solver = solver
                try:
                    t0 = time.perf_counter()
                    res = solve(inst, "cpsat", threads=1, time_limit=time_limit)
                    took = time.perf_counter() - t0
                finally:
                    cpsat.configured_solver = configured
                rows.append({"kind": kind, "n": n, "points": points, "seed": seed,
                             "setting": setting, "time_s": took, "status": str(res.status),
                             "objective": res.objective, "bound": res.bound})
    return rows


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--time-limit", type=float, default=60.0)
    p.add_argument("--seeds", type=int, default=5)
    p.add_argument("--out", type=Path, default=Path("docs/benchmarks"))
    args = p.parse_args(argv)
    if not (args.time_limit > 0 and args.seeds >= 1):
        p.error("--time-limit must be positive and --seeds at least 1")
    rows = run(args.time_limit, args.seeds)
    lines = ["# CP-SAT's presolve probing on the pruning kinds (one worker)", "",
             f"Command: `python -m exactprune.benchmarks.pruning.cpsat_probing --time-limit "
             f"{args.time_limit:g} --seeds {args.seeds}`", "",
             "Relu output, l1 error, d = 2; the two settings run one after the other on each "
             "instance. Certified = status optimal.", "",
             "| instances | setting | certified | median time (s) | times (s) |",
             "|---|---|---|---|---|"]
    for kind, n, points in SETS:
        for setting in ("probing on (default)", "probing off"):
            got = [r for r in rows if (r["kind"], r["n"], r["setting"]) == (kind, n, setting)]
            times = [r["time_s"] for r in got]
            done = sum(r["status"] == "optimal" for r in got)
            lines.append(f"| {kind} n = {n}, K = {points} | {setting} | {done}/{len(got)} | "
                         f"{statistics.median(times):.2f} | "
                         f"{', '.join(f'{t:.1f}' for t in times)} |")
    write_page(args.out, "pruning-cpsat-probing", lines, rows)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
