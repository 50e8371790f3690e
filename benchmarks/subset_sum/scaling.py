"""Benchmark: time to a certified subset-sum optimum against n, per exact solver and threads.

For each (solver, threads) the instance size grows from --n-start in steps of --n-step; at each n,
--seeds seeded instances (Uniform[-1,1] values and target) are solved with --time-limit. The true
optimum comes from `mitm` (exact). A solver stops growing at the first n where one instance is
not certified optimal (time limit or tolerance), after recording that n. Each solve runs in a
fresh child process, so its peak memory (max RSS) is measured and a hung solver can be killed.

    python -m exactprune.benchmarks.subset_sum.scaling --out docs/benchmarks

writes subset_sum_scaling.md (the table) and subset_sum_scaling.json (every run).
"""

from __future__ import annotations

import argparse
import json
import multiprocessing as mp
import os
import platform
import resource
import statistics
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from exactprune.benchmarks.isolated import run_isolated

DEFAULT_SOLVERS = ["mitm", "cpsat", "highs", "cbc", "scip"]


def _child_solve(n: int, seed: int, solver: str, time_limit: float,
                 threads: int | None) -> dict[str, Any]:
    from exactprune.instances import generate_subset_sum
    from exactprune.solvers import solve

    inst = generate_subset_sum(n, seed=seed)
    res = solve(inst, solver, time_limit=time_limit, threads=threads)
    out = res.to_json(inst.mask_to_json)
    out["exact_error"] = None if res.mask is None else str(inst.exact_error(res.mask))
    out["max_rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0
    return out


def run_one(n: int, seed: int, solver: str, time_limit: float, threads: int | None,
            grace: float = 30.0) -> dict[str, Any]:
    """Solve one instance in a fresh process; a hung solver is killed after time_limit+grace."""
    killed = {"status": "killed", "certified": False, "wall_time_s": time_limit + grace,
              "exact_error": None, "max_rss_mb": None, "notes": ["killed: hung"]}
    return run_isolated(_child_solve, (n, seed, solver, time_limit, threads),
                        time_limit + grace, killed)


@dataclass
class Row:
    """Per (solver, threads, n): how many of the seeds were certified / truly optimal."""

    solver: str
    threads: int
    n: int
    runs: list[dict[str, Any]] = field(default_factory=list)

    @property
    def certified(self) -> int:
        return sum(1 for r in self.runs if r["certified"])

    @property
    def true_optimal(self) -> int:
        return sum(1 for r in self.runs if r.get("is_true_optimum"))

    @property
    def median_time(self) -> float:
        return statistics.median(r["wall_time_s"] for r in self.runs)

    @property
    def max_rss(self) -> float | None:
        vals = [r["max_rss_mb"] for r in self.runs if r.get("max_rss_mb")]
        return max(vals) if vals else None


def benchmark(solvers: list[str], threads_list: list[int], n_start: int, n_step: int,
              n_max: int, seeds: int, time_limit: float, log: Any = sys.stderr) -> list[Row]:
    """Run the grid; stop a (solver, threads) at the first n that is not fully certified."""
    truth: dict[tuple[int, int], str] = {}
    rows: list[Row] = []

    def true_error(n: int, seed: int) -> str:
        if (n, seed) not in truth:
            truth[(n, seed)] = run_one(n, seed, "mitm", 3600.0, 1)["exact_error"]
        return truth[(n, seed)]

    for solver in solvers:
        for threads in threads_list if solver != "mitm" else [1]:
            for n in range(n_start, n_max + 1, n_step):
                row = Row(solver, threads, n)
                for seed in range(seeds):
                    t0 = time.perf_counter()
                    run = run_one(n, seed, solver, time_limit, threads)
                    run["is_true_optimum"] = (run["exact_error"] is not None
                                              and run["exact_error"] == true_error(n, seed))
                    if run["certified"] and not run["is_true_optimum"]:
                        run["notes"].append("BUG: certified but not the true optimum")
                    row.runs.append(run)
                    print(f"{solver:>7} threads={threads} n={n:2d} seed={seed} "
                          f"{run['status']:<10} certified={run['certified']!s:<5} "
                          f"true_opt={run['is_true_optimum']!s:<5} "
                          f"{time.perf_counter() - t0:7.2f}s", file=log, flush=True)
                    if not run["certified"]:
                        break  # this n is beyond the solver: stop spending the time limit
                rows.append(row)
                if row.certified < seeds:
                    break
    return rows


def markdown(rows: list[Row], args: argparse.Namespace) -> str:
    from exactprune.solvers import get_backend

    lines = [
        "# Subset-sum: time to a certified optimum",
        "",
        f"Command: `python -m exactprune.benchmarks.subset_sum.scaling --time-limit "
        f"{args.time_limit:g} --seeds {args.seeds} --n-start {args.n_start} --n-step "
        f"{args.n_step} --n-max {args.n_max} --threads {','.join(map(str, args.threads))} "
        f"--solvers {','.join(args.solvers)}`",
        "",
        f"Machine: {platform.machine()}, {mp.cpu_count()} cores, Python "
        f"{platform.python_version()}; {time.strftime('%Y-%m-%d')}.",
        "Instances: values and target i.i.d. Uniform[-1,1], seeds 0..k-1. Time is wall-clock "
        "of the whole solve (with certification) in a fresh process; memory is the peak RSS of "
        "that process. `certified` counts results certified optimal under the numerics policy; "
        "`true opt` counts masks whose exact error equals mitm's exact optimum (certified or not).",
        "",
        "| solver | version | threads | n | certified | true opt | median time (s) | "
        "peak RSS (MB) |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        try:
            version = get_backend(r.solver).version() or ""
        except Exception:
            version = ""
        rss = "-" if r.max_rss is None else f"{r.max_rss:.0f}"
        lines.append(f"| {r.solver} | {version} | {r.threads if r.solver != 'mitm' else '-'} | "
                     f"{r.n} | {r.certified}/{len(r.runs)} | {r.true_optimal}/{len(r.runs)} | "
                     f"{r.median_time:.3g} | {rss} |")
    lines += ["", "## Largest n certified on every seed", "",
              "| solver | threads | largest n | first n not certified |", "|---|---|---|---|"]
    keys = sorted({(r.solver, r.threads) for r in rows}, key=lambda k: (args.solvers.index(k[0]),
                                                                        k[1]))
    for solver, threads in keys:
        mine = [r for r in rows if r.solver == solver and r.threads == threads]
        ok = [r.n for r in mine if r.certified == len(r.runs)]
        bad = [r.n for r in mine if r.certified < len(r.runs)]
        lines.append(f"| {solver} | {threads if solver != 'mitm' else '-'} | "
                     f"{max(ok) if ok else '-'} | {min(bad) if bad else '-'} |")
    wrong = [(r.solver, r.n) for r in rows for run in r.runs
             if run["certified"] and not run["is_true_optimum"]]
    lines += ["", f"Certified results that were not the true optimum: {len(wrong)}"
              + (f" {wrong}" if wrong else " (none)."), ""]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--solvers", type=lambda s: s.split(","), default=DEFAULT_SOLVERS)
    p.add_argument("--threads", type=lambda s: [int(t) for t in s.split(",")], default=[1, 2])
    p.add_argument("--time-limit", type=float, default=60.0)
    p.add_argument("--seeds", type=int, default=5)
    p.add_argument("--n-start", type=int, default=12)
    p.add_argument("--n-step", type=int, default=2)
    p.add_argument("--n-max", type=int, default=52)
    p.add_argument("--out", type=Path, default=Path("docs/benchmarks"))
    args = p.parse_args(argv)
    from exactprune.instances.errors import InputError
    from exactprune.solvers import get_backend

    try:  # an unknown name is a usage error before any run, not a traceback mid-run
        for solver in args.solvers:
            get_backend(solver, "subset_sum")
    except InputError as exc:
        p.error(str(exc))
    for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ.setdefault(var, "1")  # one thread per solve; children inherit it
    args.out.mkdir(parents=True, exist_ok=True)
    rows = benchmark(args.solvers, args.threads, args.n_start, args.n_step, args.n_max,
                     args.seeds, args.time_limit)
    (args.out / "subset_sum_scaling.md").write_text(markdown(rows, args))
    (args.out / "subset_sum_scaling.json").write_text(json.dumps(
        [{"solver": r.solver, "threads": r.threads, "n": r.n, "runs": r.runs} for r in rows],
        indent=1))
    print(markdown(rows, args))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
