"""Benchmark: subset-sum above mitm's limit (n > 62), the engines side by side in one run.

    python -m exactprune.benchmarks.subset_sum.large_n --out docs/benchmarks
    python -m exactprune.benchmarks.subset_sum.large_n --family grid --out docs/benchmarks

Why. Above n = 62 mitm stops, and `--solver auto` hands the instance to an engine; this page is
what that choice rests on, on two families:
- `uniform`: `generate_subset_sum(n, seed)` (values and target Uniform[-1, 1]). The optima, about
  2^-n, are below what any bound resolves, so nothing is certified and a user gets the best mask
  found in the time given. Without a warm start the engines start from `core_search` (exact mitm
  over random cores of 40 values) run for half the time limit (a quarter until a first run of
  this page showed the engines never improving the start in the rest of the time).
  `scip, own start` is SCIP given the empty mask as its start (which turns the core start off,
  as before 2026-12-03); `core_search` and `local_search` are the heuristics alone.
- `grid`: values k / 2^g with k uniform in [-2^g, 2^g] (g = --grid-bits), the target a random
  subset's sum (each value kept with probability 0.3) plus 2^-(g+1), so the optimum is known:
  2^-(g+1), attained by the planted subset and by no sum closer (every sum lies on the 2^-g
  grid). Data on a grid is what a user brings who rounds, or quantises, weights. Each instance
  is solved with min_error, with max_kept = the planted count, and for the sparsest mask within
  eps = 2^-(g+1) (at most the planted count; its optimum is not known in advance).
On the uniform family the exact engines also solve the sparsest goal with eps = 1e-6 (no
core_search start there: it serves the error goals only).
One thread, one solve at a time, the same time limit each. Writes subset-sum-large-n.md /
subset-sum-large-n-grid.md and .json (every run).
"""

from __future__ import annotations

import argparse
import math
import statistics
import time
from fractions import Fraction
from pathlib import Path
from typing import Any

from exactprune.benchmarks.pruning.levers import write_page
from exactprune.benchmarks.subset_sum.scip_cuts import _sizes

UNIFORM = (("scip, own start", "scip", True), ("scip", "scip", False),
           ("cpsat", "cpsat", False), ("highs", "highs", False), ("auto", "auto", False),
           ("core_search", "core_search", False), ("local_search", "local_search", False))
ENGINES = (("scip", "scip", False), ("cpsat", "cpsat", False), ("highs", "highs", False),
           ("auto", "auto", False))
UNIFORM_EPS = 1e-6
"""The uniform family's sparsest goal: the fewest values within 1e-6 of the target."""


def grid_instance(n: int, seed: int, bits: int) -> tuple[Any, int, Fraction]:
    """The grid family's instance, its planted count, and its exact optimum 2^-(bits+1)."""
    import numpy as np

    from exactprune.instances import SubsetSumInstance

    rng = np.random.default_rng(seed)
    ints = rng.integers(-2**bits, 2**bits + 1, n)
    planted = rng.random(n) < 0.3
    optimum = Fraction(1, 2**(bits + 1))
    target = Fraction(int(ints[planted].sum()), 2**bits) + optimum
    if Fraction(float(target)) != target:
        raise ValueError(f"grid family: n = {n}, bits = {bits}: the target is not a float "
                         "exactly (needs n·2^(bits+1) < 2^53)")
    inst = SubsetSumInstance(values=(ints / 2.0**bits).tolist(), target=float(target),
                             generator={"name": "subset_sum_planted_grid", "n": n,
                                        "seed": seed, "bits": bits})
    return inst, int(planted.sum()), optimum


def run_one(job: dict[str, Any]) -> dict[str, Any]:
    """One solve: status, certified, objective (the mask's exact error, rounded), the proven
    bound, the solver auto chose, and the wall time."""
    import numpy as np

    from exactprune.instances import generate_subset_sum
    from exactprune.solvers import solve

    if job["family"] == "grid":
        inst, planted, optimum = grid_instance(job["n"], job["seed"], job["bits"])
        eps = float(optimum)
    else:
        inst, planted, eps = generate_subset_sum(job["n"], seed=job["seed"]), None, UNIFORM_EPS
    goal: dict[str, Any] = {"max_kept": planted} if job["goal"] == "max_kept" else (
        {"objective": "sparsest", "eps": eps} if job["goal"] == "sparsest" else {})
    start = np.zeros(inst.n, dtype=bool) if job["empty_start"] else None
    t0 = time.perf_counter()
    res = solve(inst, job["solver"], time_limit=job["time_limit"], threads=1, seed=job["seed"],
                warm_start=start, **goal)
    return {**job, "ran": res.solver, "status": str(res.status), "certified": res.certified,
            "objective": res.objective, "bound": res.bound,
            "wall_time_s": time.perf_counter() - t0}


def _table(args: argparse.Namespace, rows: list[dict[str, Any]],
           settings: dict[str, tuple[tuple[str, str, bool], ...]]) -> list[str]:
    """One row per (n, goal, method): certified runs, the objective (error, or count for the
    sparsest goal; "none" where no mask was found) per seed and its median, the median proven
    bound and wall time."""
    lines = ["| n | goal | method | certified | median objective | objectives (seeds 0..) | "
             "median bound | median time (s) |", "|---|---|---|---|---|---|---|---|"]
    for n in args.sizes:
        for goal, methods in settings.items():
            for label, solver, _ in methods:
                runs = [r for r in rows if (r["n"], r["goal"], r["setting"]) == (n, goal, label)]
                ran = sorted({r["ran"] for r in runs} - {solver})
                name = f"{label} (ran {', '.join(ran)})" if ran else label
                objs = [math.inf if r["objective"] is None else r["objective"] for r in runs]
                bounds = [-math.inf if r["bound"] is None else r["bound"] for r in runs]
                lines.append(
                    f"| {n} | {goal} | {name} | {sum(r['certified'] for r in runs)}/{len(runs)} "
                    f"| {_num(statistics.median(objs))} | {', '.join(_num(o, 2) for o in objs)} "
                    f"| {_num(statistics.median(bounds))} | "
                    f"{statistics.median(r['wall_time_s'] for r in runs):.1f} |")
    return lines


def _num(value: float, digits: int = 3) -> str:
    return "none" if value == math.inf else ("-" if value == -math.inf else f"{value:.{digits}g}")


def _uniform_page(args: argparse.Namespace, rows: list[dict[str, Any]]) -> list[str]:
    sizes = ",".join(str(n) for n in args.sizes)
    return ["# Subset-sum above mitm's limit: the best mask in a fixed time", "",
            f"Command: `python -m exactprune.benchmarks.subset_sum.large_n --sizes {sizes} "
            f"--seeds {args.seeds} --time-limit {args.time_limit:g}`", "",
            f"`generate_subset_sum(n, seed)`, seeds 0..{args.seeds - 1}, one thread, one solve "
            f"at a time, {args.time_limit:g} s each; min_error (no optimum is certified at "
            "these sizes: the objective is the error of the mask found), and the sparsest mask "
            f"within eps = {UNIFORM_EPS:g} (the objective is its count; \"none\": no mask "
            "within eps found; bound \"-\": none proven). See the module's docstring for the "
            "methods.", "",
            *_table(args, rows, {"min_error": UNIFORM, "sparsest": ENGINES})]


def _grid_page(args: argparse.Namespace, rows: list[dict[str, Any]]) -> list[str]:
    sizes = ",".join(str(n) for n in args.sizes)
    optimum = 2.0 ** -(args.grid_bits + 1)
    return ["# Subset-sum above mitm's limit, values on a grid: who certifies the optimum", "",
            f"Command: `python -m exactprune.benchmarks.subset_sum.large_n --family grid "
            f"--grid-bits {args.grid_bits} --sizes {sizes} --seeds {args.seeds} "
            f"--time-limit {args.time_limit:g}`", "",
            f"Values k / 2^{args.grid_bits}, the target a planted subset's sum + "
            f"2^-{args.grid_bits + 1}, so the optimum of min_error and of max_kept = the "
            f"planted count is {optimum:.3g}, known exactly; the sparsest goal asks for the "
            f"fewest values within eps = {optimum:.3g} (the objective is the count; \"none\": "
            "no mask within eps found; bound \"-\": none proven). Seeds "
            f"0..{args.seeds - 1}, one thread, one solve at a time, {args.time_limit:g} s each.",
            "", *_table(args, rows, {g: ENGINES for g in GOALS})]


GOALS = ("min_error", "max_kept", "sparsest")


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--out", type=Path, default=Path("docs/benchmarks"))
    p.add_argument("--family", choices=("uniform", "grid"), default="uniform")
    p.add_argument("--grid-bits", type=int, default=20,
                   help="grid family: values are multiples of 2^-bits (n·2^(bits+1) < 2^53)")
    p.add_argument("--sizes", type=_sizes, default=None,
                   help="comma-separated n (default 63,80,100; grid: 63,100,200,1000)")
    p.add_argument("--seeds", type=int, default=3)
    p.add_argument("--time-limit", type=float, default=10.0)
    args = p.parse_args(argv)
    if args.seeds < 1 or not math.isfinite(args.time_limit) or args.time_limit <= 0:
        p.error("--seeds must be >= 1 and --time-limit a positive number")
    grid = args.family == "grid"
    if args.sizes is None:
        args.sizes = [63, 100, 200, 1000] if grid else [63, 80, 100]
    # every planted sum + 2^-(bits+1) a float exactly: |sum| < n·2^bits, so n·2^(bits+1) < 2^53
    if args.grid_bits < 1 or max(args.sizes) * 2**(args.grid_bits + 1) >= 2**53:
        p.error(f"--grid-bits must be from 1 to {52 - max(args.sizes).bit_length()} with "
                f"n up to {max(args.sizes)} (the target must be a float exactly)")
    settings = {g: ENGINES for g in GOALS} if grid else {"min_error": UNIFORM,
                                                          "sparsest": ENGINES}
    rows = [run_one({"family": args.family, "bits": args.grid_bits, "n": n, "seed": seed,
                     "goal": goal, "setting": label, "solver": solver, "empty_start": empty,
                     "time_limit": args.time_limit})
            for n in args.sizes for seed in range(args.seeds)
            for goal, methods in settings.items() for label, solver, empty in methods]
    if grid:
        write_page(args.out, "subset-sum-large-n-grid", _grid_page(args, rows), rows)
    else:
        write_page(args.out, "subset-sum-large-n", _uniform_page(args, rows), rows)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
