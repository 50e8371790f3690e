"""Benchmark: levers for certified exact pruning, side by side in one run.

    python -m exactprune.benchmarks.pruning.levers --out docs/benchmarks

Each lever is an (engine, options) configuration; every configuration solves the same seeded
instances (`generate neuron-pruning --d 2 --width N --points K --seed s`), one thread each unless
the configuration asks for more, time limit 60 s. `--jobs N` is the number of cores to fill, as
in `exactprune sweep`: N one-thread solves run side by side, a solve with t threads fills
min(t, N) of them (so CP-SAT's 8-worker portfolio runs alone under the default `--jobs 2`).
Reported per configuration: median wall time,
the number certified, and the median relative gap (objective - bound) / objective where not.
Writes pruning-levers.md and pruning-levers.json.
"""

from __future__ import annotations

import argparse
import json
import operator
import statistics
import sys
import time
from pathlib import Path
from typing import Any

CONFIGS: list[tuple[str, str, dict[str, Any]]] = [
    ("highs", "selection", {}),
    ("highs", "antipodal", {"formulation": "antipodal"}),
    ("scip", "selection", {}),
    ("scip", "antipodal", {"formulation": "antipodal"}),
    ("scip", "no re-check", {"recheck": False}),  # the 1e-5 rule alone, as before the re-check
    # SCIP with feastol 1e-10, dualfeastol 1e-12 (slack T ~1e-9 instead of ~1e-8)
    ("scip", "tight tolerances", {"scip_params": {
        "numerics/feastol": 1e-10, "numerics/dualfeastol": 1e-12,
        "numerics/epsilon": 1e-11, "numerics/sumepsilon": 1e-11}}),
    # SCIP's cutting planes on (the default until 2026-12-01) and off (the default since)
    ("scip", "with cuts", {"cuts": True}),
    ("scip", "no cuts", {"cuts": False}),
    ("cpsat", "selection", {}),
    ("cpsat", "no re-check", {"recheck": False}),  # the 1e-5 rule alone, as before the re-check
    ("cpsat", "8 workers", {"threads": 8}),  # CP-SAT's portfolio
    ("cpsat", "2 workers", {"threads": 2}),  # smaller portfolios: what `auto` picks by threads
    ("cpsat", "4 workers", {"threads": 4}),
    # CP-SAT's presolve on (the default until 2026-12-07, when it proved a feasible model
    # infeasible: audit case 32722), alone and in the portfolio
    ("cpsat", "presolve", {"presolve": True}),
    ("cpsat", "8 workers presolve", {"threads": 8, "presolve": True}),
    ("scip", "2 threads", {"threads": 2}),  # SCIP's concurrent mode
    # the re-check's no-goods one mask at a time (before 2026-12-02) instead of by family
    ("scip", "masks one by one", {"recheck_families": False}),
    ("cpsat", "8 workers one by one", {"threads": 8, "recheck_families": False}),
    ("gurobi", "selection", {}),  # only when gurobipy is installed
    ("gurobi", "no re-check", {"recheck": False}),
    # Gurobi on both cores, as is and with its bound focus (MIPFocus 3), with and without cuts
    ("gurobi", "as is 2 threads", {"threads": 2}),
    ("gurobi", "bound focus", {"threads": 2, "gurobi_params": {"MIPFocus": 3}}),
    ("gurobi", "bound focus no cuts", {"threads": 2,
                                        "gurobi_params": {"MIPFocus": 3, "Cuts": 0}}),
    # the exact backends' incumbent search (solvers/pruning/exact.py): greedy + one descent
    # only, or the whole local search capped at 10 % / 25 % (the default) of the time limit
    ("scip", "incumbent greedy", {"incumbent": "greedy"}),
    ("scip", "incumbent 10 %", {"incumbent": 0.10}),
    ("scip", "incumbent 25 %", {"incumbent": 0.25}),
    # SCIP's linear presolve, or its dual reductions, off on the selection model: with them it
    # certified its own start on models with equal columns (hunt 116)
    ("scip", "no linear presolve", {"scip_params": {"constraints/linear/maxprerounds": 0}}),
    ("scip", "no dual reductions", {"scip_params": {"misc/allowstrongdualreds": False,
                                                    "misc/allowweakdualreds": False}}),
]


def run_one(job: dict[str, Any]) -> dict[str, Any]:
    from exactprune.instances import generate_neuron_pruning, generate_weight_pruning
    from exactprune.solvers import solve

    gen = generate_neuron_pruning if job["kind"] == "neuron" else generate_weight_pruning
    inst = gen(d=2, width=job["n"], points=job["points"], seed=job["seed"],
               output_activation=job["activation"], norm=job.get("norm", "linf"))
    t0 = time.perf_counter()
    options = dict(job["options"])
    threads = int(options.pop("threads", 1))
    from exactprune.solvers import milp_engines
    from exactprune.solvers.milp_engines import gurobi
    from exactprune.solvers.pruning import exact

    saved = dict(milp_engines.SCIP_PARAMS)
    saved_gurobi = dict(gurobi.GUROBI_PARAMS)
    saved_search, saved_share = exact.INCUMBENT_SEARCH, exact.INCUMBENT_TIME_SHARE
    milp_engines.SCIP_PARAMS.update(options.pop("scip_params", {}))
    gurobi.GUROBI_PARAMS.update(options.pop("gurobi_params", {}))
    incumbent = options.pop("incumbent", None)
    if incumbent == "greedy":
        exact.INCUMBENT_SEARCH = exact.SMALL_MASK_SEARCH
    elif incumbent is not None:
        exact.INCUMBENT_TIME_SHARE = float(incumbent)
    try:  # this job only: pool workers run several jobs
        res = solve(inst, job["engine"], time_limit=job["time_limit"], threads=threads,
                    **options)
    finally:
        milp_engines.SCIP_PARAMS.clear()
        milp_engines.SCIP_PARAMS.update(saved)
        gurobi.GUROBI_PARAMS.clear()
        gurobi.GUROBI_PARAMS.update(saved_gurobi)
        exact.INCUMBENT_SEARCH, exact.INCUMBENT_TIME_SHARE = saved_search, saved_share
    wall = time.perf_counter() - t0
    return {**job, "status": str(res.status), "certified": res.certified,
            "objective": res.objective, "bound": res.bound, "wall_time_s": wall,
            "gap": relative_gap(res), "recheck_masks": res.stats.get("recheck_masks")}


def lever_task(job: dict[str, Any]) -> Any:
    """The sweep task of one job; its spec keeps the job's options, whose threads decide how
    many cores the run fills."""
    from exactprune.benchmarks.sweep import Task

    return Task("exactprune.benchmarks.pruning.levers:run_one",
                {**job, "experiment": "pruning-levers"})


def run_jobs(jobs: list[dict[str, Any]], cores: int) -> list[dict[str, Any]]:
    """Run `run_one` on every job through the sweep's scheduler (so solves are packed by their
    threads, see `benchmarks/sweep.py::task_slots`); rows in job order. A job that fails
    (an exception, a dead worker) gives a row with its error, not certified, so the page
    still reports the others."""
    from exactprune.benchmarks.sweep import run_sweep

    records = run_sweep([lever_task(job) for job in jobs], None, jobs=cores, progress=False)
    rows = []
    for job, record in zip(jobs, records, strict=True):
        row = {"certified": False, "objective": None, "bound": None, "gap": None,
               "recheck_masks": None, **job, **record}
        row.pop("experiment", None)
        rows.append(row)
    return rows


def relative_gap(res: Any) -> float | None:
    """(objective − bound) / objective of a result, or None without both (or at objective 0)."""
    if res.objective is None or res.bound is None or res.objective <= 0:
        return None
    return max(0.0, (res.objective - res.bound) / res.objective)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--out", type=Path, default=Path("docs/benchmarks"))
    p.add_argument("--kind", choices=["neuron", "weight"], default="neuron")
    p.add_argument("--n", type=int, default=64)
    p.add_argument("--points", type=int, default=256)
    p.add_argument("--seeds", type=int, default=5)
    p.add_argument("--activation", default="identity", choices=["identity", "relu"])
    p.add_argument("--norm", default="linf", choices=["linf", "l1"], help="the error")
    p.add_argument("--time-limit", type=float, default=60.0)
    p.add_argument("--engines", default="highs,scip,cpsat,gurobi",
                   help="comma list of engines to compare")
    p.add_argument("--configs", default=None,
                   help="comma list of formulation labels to keep (default: all)")
    p.add_argument("--jobs", type=int, default=2,
                   help="cores to fill: one-thread solves at a time; a solve with t threads "
                        "fills min(t, jobs)")
    p.add_argument("--tag", default="", help="suffix of the output files' names")
    args = p.parse_args(argv)
    from exactprune.solvers.milp_engines import ENGINES

    labels = {f for _, f, _ in CONFIGS}
    unknown = [] if args.configs is None else [
        c for c in args.configs.split(",") if c not in labels]
    if unknown:
        p.error(f"unknown configuration(s) {unknown}; known: {sorted(labels)}")
    asked = args.engines.split(",")
    unknown = [e for e in asked if e != "cpsat" and e not in ENGINES]
    if unknown:  # they were dropped without a word, and the report came out empty
        p.error(f"unknown engine(s) {unknown}; known: {sorted([*ENGINES, 'cpsat'])}")
    engines = [e for e in asked if e == "cpsat" or ENGINES[e].available()]
    if len(engines) < len(asked):
        print(f"not installed, left out: {', '.join(e for e in asked if e not in engines)}",
              file=sys.stderr)
    jobs = [{"engine": e, "formulation": f, "options": o, "seed": s, "n": args.n,
             "kind": args.kind,
             "points": args.points, "activation": args.activation, "norm": args.norm,
             "time_limit": args.time_limit}
            for s in range(args.seeds) for e, f, o in CONFIGS
            if e in engines
            and not (f == "antipodal" and (args.activation, args.norm) != ("identity", "linf"))
            and (args.configs is None or f in args.configs.split(","))]
    if args.jobs < 1:
        p.error("--jobs must be at least 1")
    rows = run_jobs(jobs, args.jobs)
    lines = ["# Levers for certified exact pruning", "",
             "Command: `python -m exactprune.benchmarks.pruning.levers --kind "
             f"{args.kind} --time-limit {args.time_limit:g} --n "
             f"{args.n} --points {args.points} --activation {args.activation}"
             + (f" --norm {args.norm}" if args.norm != "linf" else "")
             + (f" --seeds {args.seeds}" if args.seeds != 5 else "") + " --engines "
             f"{','.join(engines)}"
             + (f" --configs '{args.configs}'" if args.configs else "")
             + (f" --jobs {args.jobs}" if args.jobs != 2 else "")
             + (f" --tag {args.tag}" if args.tag else "") + "`", "",
             f"{args.kind.capitalize()} pruning, d = 2, width {args.n}, K = {args.points} "
             "circle points, "
             f"{args.activation} output, {args.norm} error, seeds 0..{args.seeds - 1}; one "
             "thread per solve unless "
             f"the label says otherwise, {args.jobs} core(s) filled (a solve with t "
             f"threads fills min(t, {args.jobs})) on 2 cores, "
             f"time limit {args.time_limit:g} s.", "",
             "| engine | formulation | median time (s) | certified | median gap where not | "
             "median objective | median bound | times (s) |", "|---|---|---|---|---|---|---|---|"]
    groups = [(e, f, [r for r in rows if r["engine"] == e and r["formulation"] == f])
              for e, f, _ in CONFIGS]
    groups = [g for g in groups if g[2]]
    for e, f, mine in groups:
        gaps = [r["gap"] for r in mine if not r["certified"] and r["gap"] is not None]
        lines.append(f"| {e} | {f} | {statistics.median(r['wall_time_s'] for r in mine):.1f} "
                     f"| {sum(r['certified'] for r in mine)}/{len(mine)} | "
                     + (f"{statistics.median(gaps):.3g}" if gaps else "—")
                     + f" | {_median_of(mine, 'objective')} | {_median_of(mine, 'bound')} | "
                     + ", ".join(f"{r['wall_time_s']:.1f}" for r in mine) + " |")
    lines += paired_lines(groups)
    stem = (f"pruning-levers-{args.kind}-n{args.n}-{args.activation}"
            + (f"-{args.norm}" if args.norm != "linf" else ""))
    write_page(args.out, stem + (f"-{args.tag}" if args.tag else ""), lines, rows)
    return 0


def _median_of(rows: list[dict[str, Any]], key: str) -> str:
    values = [r[key] for r in rows if r[key] is not None]
    return f"{statistics.median(values):.4g}" if values else "—"


def paired_lines(groups: list[tuple[str, str, list[dict[str, Any]]]]) -> list[str]:
    """Each configuration against the first, seed by seed: on how many seeds its proven lower
    bound is higher / lower and its best error (objective) lower / higher. Empty for one
    configuration."""
    if len(groups) < 2:
        return []
    base_e, base_f, base = groups[0]
    by_seed = {r["seed"]: r for r in base}
    out = ["", f"Paired with {base_e} {base_f}, seed by seed (ties not counted):", "",
           "| engine | formulation | bound higher | bound lower | objective lower | "
           "objective higher |", "|---|---|---|---|---|---|"]
    for e, f, mine in groups[1:]:
        pairs = [(r, by_seed[r["seed"]]) for r in mine if r["seed"] in by_seed]
        counts = [sum(1 for r, b in pairs if None not in (r[k], b[k]) and better(r[k], b[k]))
                  for k, better in (("bound", operator.gt), ("bound", operator.lt),
                                    ("objective", operator.lt), ("objective", operator.gt))]
        out.append(f"| {e} | {f} | " + " | ".join(f"{c}/{len(pairs)}" for c in counts) + " |")
    return out


def write_page(out: Path, stem: str, lines: list[str], rows: list[dict[str, Any]]) -> None:
    """Write a lever page: `stem`.md (the lines) and `stem`.json (every row); print the page."""
    text = "\n".join(lines) + "\n"
    out.mkdir(parents=True, exist_ok=True)
    (out / f"{stem}.md").write_text(text)
    (out / f"{stem}.json").write_text(json.dumps(rows, indent=1))
    print(text)


if __name__ == "__main__":
    raise SystemExit(main())
