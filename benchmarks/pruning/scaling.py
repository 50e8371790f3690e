"""Benchmark: time to a certified pruning optimum, per engine, and how far heuristics are.

Instances: d = 2, K circle points (default 256), single target neuron at angle 0.3, W ~ Normal,
v ~ Uniform[-1,1], both output activations, linf; neuron pruning n in --neuron-widths, weight
pruning (dictionary formulation) n in --weight-widths; seeds 0..k-1. Each solve runs in a fresh
process (killed if it hangs). A cell whose first two seeds both hit the time limit is not run
further, and larger widths of that engine are skipped: they are reported as "> limit".

    python -m exactprune.benchmarks.pruning.scaling --out docs/benchmarks

writes pruning.md (tables) and pruning.json (every run).
"""

from __future__ import annotations

import argparse
import json
import multiprocessing as mp
import os
import platform
import statistics
import sys
import time
from pathlib import Path
from typing import Any

from exactprune.benchmarks.isolated import run_isolated

HEURISTICS = ["prune_local_search", "greedy_forward", "greedy_backward", "magnitude"]


def _child(kind: str, n: int, act: str, seed: int, points: int, solver: str,
           formulation: str, time_limit: float, threads: int) -> dict[str, Any]:
    from exactprune.instances import generate_neuron_pruning, generate_weight_pruning
    from exactprune.solvers import solve

    gen = generate_neuron_pruning if kind == "neuron" else generate_weight_pruning
    inst = gen(d=2, width=n, points=points, seed=seed, output_activation=act, target_angle=0.3)
    extra = {"formulation": formulation} if kind == "weight" and formulation != "dictionary" \
        else {}
    res = solve(inst, solver, time_limit=time_limit, threads=threads, seed=seed, **extra)
    return {"status": str(res.status), "certified": res.certified, "objective": res.objective,
            "bound": res.bound, "wall_time_s": res.wall_time_s, "kept": res.kept,
            "notes": res.notes, "stats": res.stats}


def run_one(*args: Any, time_limit: float, grace: float = 30.0) -> dict[str, Any]:
    killed = {"status": "killed", "certified": False, "objective": None, "bound": None,
              "wall_time_s": time_limit + grace, "notes": ["killed"], "stats": {}}
    return run_isolated(_child, (*args, time_limit, 1), time_limit + grace, killed)


def _check_solvers(p: argparse.ArgumentParser, args: argparse.Namespace) -> None:
    """Unknown solvers, and a formulation an engine does not offer (highs and cbc refuse
    big-M), are usage errors before any run (they were a traceback mid-run; hunt 49)."""
    from exactprune.instances.errors import InputError
    from exactprune.solvers import get_backend

    try:
        for solver in args.engines + args.heuristics:
            for kind in ("neuron_pruning", "weight_pruning"):
                backend = get_backend(solver, kind)
            # only big-M is passed on (run_one); the dictionary is every engine's default,
            # and cpsat, which has no formulation option, was refused for it (hunt 50)
            if solver in args.engines and args.weight_widths and \
                    args.formulation != "dictionary":
                backend.parse_options({"formulation": args.formulation})
    except InputError as exc:
        p.error(str(exc))


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--engines", type=lambda s: s.split(","), default=["cpsat", "highs"])
    p.add_argument("--heuristics", type=lambda s: [x for x in s.split(",") if x],
                   default=HEURISTICS)
    p.add_argument("--neuron-widths", type=lambda s: [int(x) for x in s.split(",") if x],
                   default=[32, 64, 128])
    p.add_argument("--weight-widths", type=lambda s: [int(x) for x in s.split(",") if x],
                   default=[16, 32, 64])
    p.add_argument("--activations", type=lambda s: s.split(","), default=["identity", "relu"])
    p.add_argument("--points", type=int, default=256)
    p.add_argument("--seeds", type=int, default=5)
    p.add_argument("--time-limit", type=float, default=60.0)
    p.add_argument("--heuristic-time-limit", type=float, default=10.0)
    p.add_argument("--formulation", choices=["dictionary", "bigm"], default="dictionary",
                   help="weight pruning formulation of the exact engines")
    p.add_argument("--out", type=Path, default=Path("docs/benchmarks"))
    args = p.parse_args(argv)
    _check_solvers(p, args)
    for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ.setdefault(var, "1")  # one thread per solve; children inherit it
    args.out.mkdir(parents=True, exist_ok=True)
    runs: list[dict[str, Any]] = []
    for kind, widths in (("neuron", args.neuron_widths), ("weight", args.weight_widths)):
        for act in args.activations:
            given_up: set[str] = set()
            for n in widths:
                for solver in args.engines + args.heuristics:
                    if solver in given_up:
                        continue
                    limit = args.time_limit if solver in args.engines else \
                        args.heuristic_time_limit
                    timeouts = 0
                    for seed in range(args.seeds):
                        t0 = time.perf_counter()
                        r = run_one(kind, n, act, seed, args.points, solver,
                                    args.formulation if solver in args.engines else "dictionary",
                                    time_limit=limit)
                        r.update(kind=kind, n=n, act=act, seed=seed, solver=solver)
                        runs.append(r)
                        print(f"{kind:>6} {act:>8} n={n:3d} seed={seed} {solver:>18} "
                              f"{r['status']:<10} obj={r['objective']} "
                              f"{time.perf_counter() - t0:6.1f}s", file=sys.stderr, flush=True)
                        timeouts += not r["certified"] and solver in args.engines
                        if seed == 1 and timeouts == 2:
                            given_up.add(solver)
                            break
    stem = "pruning" if args.formulation == "dictionary" else f"pruning-{args.formulation}"
    (args.out / f"{stem}.json").write_text(json.dumps(runs, indent=1))
    text = report(runs, args)
    (args.out / f"{stem}.md").write_text(text)
    print(text)
    return 0


def report(runs: list[dict[str, Any]], args: argparse.Namespace) -> str:
    best: dict[tuple, float] = {}
    for r in runs:
        if r["certified"]:
            key = (r["kind"], r["n"], r["act"], r["seed"])
            best[key] = min(best.get(key, float("inf")), r["objective"])
    lines = [
        "# Pruning: time to a certified optimum, and heuristic quality",
        "",
        f"Command: `python -m exactprune.benchmarks.pruning.scaling --points {args.points} "
        f"--seeds {args.seeds} --time-limit {args.time_limit:g} --engines "
        f"{','.join(args.engines)} --formulation {args.formulation}`",
        "",
        f"Machine: {platform.machine()}, {mp.cpu_count()} cores, one solver thread, "
        f"{time.strftime('%Y-%m-%d')}. d = 2, K = {args.points} circle points, target "
        "relu(cos 0.3 x1 + sin 0.3 x2), W ~ Normal(0,1), v ~ Uniform[-1,1], linf error. "
        f"Weight pruning formulation: {args.formulation}. Time includes the incumbent heuristic "
        "and every lazy-point round.",
        "",
        "| kind | output | n | solver | certified | median time (s) | median error | "
        "ratio to optimum (median / worst) |",
        "|---|---|---|---|---|---|---|---|",
    ]
    cells: dict[tuple, list[dict[str, Any]]] = {}
    for r in runs:
        cells.setdefault((r["kind"], r["act"], r["n"], r["solver"]), []).append(r)
    for (kind, act, n, solver), rs in cells.items():
        cert = sum(r["certified"] for r in rs)
        times = [r["wall_time_s"] for r in rs]
        objs = [r["objective"] for r in rs if r["objective"] is not None]
        ratios = [r["objective"] / best[(kind, n, act, r["seed"])] for r in rs
                  if r["objective"] is not None and (kind, n, act, r["seed"]) in best
                  and best[(kind, n, act, r["seed"])] > 0]
        med_t = f"{statistics.median(times):.3g}" if cert == len(rs) else \
            f"> {args.time_limit:g} on {len(rs) - cert}"
        if solver not in args.engines:
            med_t = f"{statistics.median(times):.3g}"
        ratio = (f"{statistics.median(ratios):.3f} / {max(ratios):.3f}" if ratios else "-")
        lines.append(f"| {kind} | {act} | {n} | {solver} | {cert}/{len(rs)} | {med_t} | "
                     f"{statistics.median(objs) if objs else float('nan'):.4g} | {ratio} |")
    lines.append("")
    return "\n".join(lines)


if __name__ == "__main__":
    raise SystemExit(main())
