"""`exactprune verify pruning-gap`: certified error brackets of neuron vs weight pruning.

For each width n and trial, one random bias-free two-layer ReLU net (d inputs, W ~ Normal,
v ~ Uniform[-1,1] by default) and one target neuron relu(w*·x) are drawn; the *same* net is
pruned optimally twice — by neurons and by weights — on K points of the domain, and each optimum
is bracketed over the whole domain (solvers.bracket): lower = the certified optimum over the
points (a proven lower bound on the best sup error over the domain), upper = the certified sup
error of the optimal mask over the domain. Trials share their seed across widths (the generator
nests widths: a wider net extends a narrower one), so curves use common random numbers.

Per pruning kind the median over trials of the optimum is fitted by a power law ε ~ c·n^-a and
by an exponential ε ~ c·e^(-b·n), with bootstrap intervals, and the better model is chosen by
leave-one-out prediction error (benchmarks.fits). SCIENCE.md §2 predicts a ≈ 1 for neuron
pruning and exponential decay for weight pruning *with a relu output* (the construction of
axis-aligned sub-neurons needs the output relu to place the kink along w*·x = 0); with an
identity output both kinds should scale alike. Which setting shows the gap is the result.

    exactprune verify pruning-gap --d 2 --n 4:32:4 --trials 5 --output-activation relu \\
        --points 128 --out out/gap-relu --store out/gap.sqlite
"""

from __future__ import annotations

import argparse
import math
import statistics
import sys
import time
from typing import Any

import numpy as np

from exactprune.instances.errors import InputError
from exactprune.instances.params import finite_float, nonneg_int, positive_float, positive_int

KINDS = ("neuron", "weight")
EXPERIMENT = "pruning_gap"


def trial_instance(spec: dict) -> Any:
    """The instance of one (kind, n, trial) spec."""
    from exactprune.instances import generate_neuron_pruning, generate_weight_pruning

    gen = generate_neuron_pruning if spec["kind"] == "neuron" else generate_weight_pruning
    return gen(spec["d"], spec["n"], spec["points"], spec["seed"], domain=spec["domain"],
               output_activation=spec["output_activation"], norm=spec["norm"],
               target_angle=spec.get("target_angle"))


def trial(spec: dict) -> dict:
    """Solve one (kind, n, trial) instance exactly and bracket its optimum over the domain."""
    from exactprune.solvers import solve
    from exactprune.solvers.pruning.bracket import certify_bracket

    inst = trial_instance(spec)
    t0 = time.perf_counter()
    res = solve(inst, spec["solver"], time_limit=spec["time_limit"], threads=1)
    out: dict[str, Any] = {
        "status": str(res.status), "certified": res.certified, "objective": res.objective,
        "bound": res.bound, "kept": res.kept, "solve_time_s": res.wall_time_s,
        "solver_version": res.solver_version,
    }
    if res.mask is not None:
        br = certify_bracket(inst, res.mask, res.bound, time_limit=spec["time_limit"])
        out.update(lower=br.lower, upper=br.upper, upper_exact=br.upper_exact,
                   upper_method=br.upper_method)
    out["wall_time_s"] = time.perf_counter() - t0
    return out


def parse_range(text: str) -> list[int]:
    """"4:64" (inclusive), "4:64:4" (step) or "4,8,16" -> sorted widths, each >= 1."""
    from exactprune.benchmarks.subset_sum.verify import parse_n_range

    values = list(parse_n_range(text))
    if not values or values[0] < 1:
        raise InputError(f"widths must be >= 1, got {text!r}")
    return values


def _check_solver(name: str) -> None:
    """InputError unless `name` is auto or an exact backend of both pruning kinds."""
    from exactprune.solvers import get_backend

    if name == "auto":
        return
    for kind in ("neuron_pruning", "weight_pruning"):
        if not get_backend(name, kind).exact:
            raise InputError(f"--solver {name} is a heuristic: the brackets need an exact "
                             "backend (scip, cpsat, highs, cbc, bruteforce or auto)")


def specs_for(args: argparse.Namespace) -> list[dict]:
    from exactprune.benchmarks.sweep import instance_seed

    common = {"d": args.d, "points": args.points, "domain": args.domain, "norm": args.norm,
              "output_activation": args.output_activation, "target_angle": args.target_angle}
    specs = []
    for t in range(args.trials):
        seed = instance_seed(args.seed, common, t)  # same net for every width and both kinds
        for n in args.widths:
            for kind in KINDS:
                specs.append({"experiment": EXPERIMENT, **common, "n": n, "kind": kind,
                              "trial": t, "seed": seed, "solver": args.solver,
                              "time_limit": args.time_limit})
    return specs


def _median(values: list[float]) -> float:
    vals = [v for v in values if v is not None and math.isfinite(v)]
    return statistics.median(vals) if vals else math.nan


def summarise(specs: list[dict], records: list[dict]) -> dict[str, list[dict]]:
    """Per kind, per width: medians over trials of optimum, lower and upper; certified count."""
    table: dict[str, list[dict]] = {k: [] for k in KINDS}
    by_key: dict[tuple[str, int], list[dict]] = {}
    for spec, rec in zip(specs, records, strict=True):
        by_key.setdefault((spec["kind"], spec["n"]), []).append(rec)
    for (kind, n), recs in sorted(by_key.items(), key=lambda kv: (kv[0][0], kv[0][1])):
        table[kind].append({
            "n": n, "trials": len(recs),
            "certified": sum(bool(r.get("certified")) for r in recs),
            "optimum": _median([r.get("objective") for r in recs]),
            "lower": _median([r.get("lower") for r in recs]),
            "upper": _median([r.get("upper") for r in recs]),
            "upper_exact": all(r.get("upper_exact") for r in recs),
            "kept": _median([r.get("kept") for r in recs]),
            "time_s": _median([r.get("wall_time_s") for r in recs]),
            "errors": sum(r.get("status") in ("error", "killed") for r in recs),
        })
    return table


def fit_all(table: dict[str, list[dict]], fit_min_n: int = 0
            ) -> tuple[dict[str, Any], dict[str, Any]]:
    """Fit the median best error on the points against n, for widths >= fit_min_n.

    Uncertified widths enter with the best error found (an upper bound on the optimum over the
    points); the report marks them. Small widths where the best is to keep (almost) nothing
    sit on a plateau that no power law or exponential describes: exclude them with fit_min_n.
    """
    from exactprune.benchmarks.fits import compare_models

    fits: dict[str, Any] = {}
    comparisons: dict[str, Any] = {}
    for kind in KINDS:
        rows = [r for r in table[kind] if r["n"] >= fit_min_n]
        n = [r["n"] for r in rows]
        eps = [r["optimum"] for r in rows]
        cmp = compare_models(n, eps)
        comparisons[kind] = cmp
        fits[f"{kind}_power_exponent"] = cmp.power_law
        fits[f"{kind}_exp_rate"] = cmp.exponential
    return fits, comparisons


def report(args: argparse.Namespace, table: dict[str, list[dict]], fits: dict[str, Any],
           comparisons: dict[str, Any], elapsed: float) -> str:
    lines = [
        f"# Pruning gap: neuron vs weight pruning, output {args.output_activation}",
        "",
        f"d = {args.d}, K = {args.points} {args.domain} points, {args.norm} error, target "
        f"neuron at angle {args.target_angle}, W ~ Normal(0,1), v ~ Uniform[-1,1]; "
        f"{args.trials} trials per width (nested nets), solver {args.solver}, time limit "
        f"{args.time_limit:g} s; {elapsed:.0f} s in all.",
        "",
        "Bracket: lower = certified optimum over the points (a lower bound on the best sup error "
        "over the domain); upper = certified sup error of that mask over the domain. Medians over"
        " trials.",
        "",
        "| kind | n | certified | optimum on points | lower | upper | upper exact | kept |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for kind in KINDS:
        for r in table[kind]:
            lines.append(f"| {kind} | {r['n']} | {r['certified']}/{r['trials']} | "
                         f"{r['optimum']:.4g} | {r['lower']:.4g} | {r['upper']:.4g} | "
                         f"{'yes' if r['upper_exact'] else 'no'} | {r['kept']:.3g} |")
    lines += ["", "| fit | estimate | 95% CI | r² | points |", "|---|---|---|---|---|"]
    for name, fit in fits.items():
        lines.append(f"| {name} | {fit.estimate:.3g} | [{fit.ci[0]:.3g}, {fit.ci[1]:.3g}] | "
                     f"{fit.r2:.3f} | {fit.n_points} |")
    lines.append("")
    for kind, cmp in comparisons.items():
        lines.append(f"- {kind} pruning: {cmp.preferred or 'undecided'} fits better "
                     f"(leave-one-out error ratio {cmp.loo_ratio:.3g}).")
    lines += ["", f"Fits use the widths n >= {args.fit_min_n} and the median best error found "
              "on the points: certified where the `certified` column is full, otherwise an "
              "upper bound on the optimum over the points (its proven lower bound is the "
              "`lower` column).", ""]
    return "\n".join(lines)


def _cmd_verify_pruning_gap(args: argparse.Namespace) -> int:
    from exactprune.benchmarks.fits import Fit  # noqa: F401  (fail early without numpy issues)
    from exactprune.benchmarks.plots import bracket_plot
    from exactprune.benchmarks.store import ResultStore
    from exactprune.benchmarks.sweep import Task, run_sweep
    from exactprune.instances import io as instance_io

    if args.trials < 1:
        raise InputError("--trials must be >= 1")
    args.widths = parse_range(args.n)
    _check_solver(args.solver)
    if args.scheduler is not None:
        from exactprune.benchmarks.sweep import check_scheduler_address

        check_scheduler_address(args.scheduler)
    out = instance_io.check_output_dir(args.out)
    specs = specs_for(args)
    trial_instance(specs[0])  # the generator's own checks (e.g. --target-angle needs d = 2)
    tasks = [Task(f"{__name__}:trial", s) for s in specs]
    start = time.perf_counter()
    store = ResultStore(args.store) if args.store else None
    try:
        records = run_sweep(tasks, store, jobs=args.jobs, scheduler=args.scheduler,
                            progress=not args.json, desc="pruning-gap")
    finally:
        if store is not None:
            store.close()
    with instance_io.output_dir(out):
        pass
    elapsed = time.perf_counter() - start
    table = summarise(specs, records)
    fits, comparisons = fit_all(table, args.fit_min_n)
    text = report(args, table, fits, comparisons, elapsed)
    instance_io.write_text_atomic(out / "report.md", text)
    series = {}
    refs = {}
    for kind in KINDS:
        rows = table[kind]
        n = np.array([r["n"] for r in rows], dtype=float)
        series[f"{kind} pruning"] = (n, [r["lower"] for r in rows], [r["upper"] for r in rows],
                                     [r["optimum"] for r in rows])
        pl = fits[f"{kind}_power_exponent"]
        n_fit = n[n >= args.fit_min_n]
        if pl.ok and len(n_fit):
            refs[f"{kind} fit: {pl.coef:.2g}·n^-{pl.estimate:.2f}"] = (n_fit, pl.predict(n_fit))
    paths = bracket_plot(series, out / "brackets",
                         f"best sup error vs width, d = {args.d}, {args.output_activation} "
                         "output", logx=True, logy=True, reference=refs)
    if args.json:
        print(instance_io.dumps({
            "experiment": EXPERIMENT, "output_activation": args.output_activation,
            "table": table, "fits": {k: f.to_json() for k, f in fits.items()},
            "preferred": {k: c.preferred for k, c in comparisons.items()},
            "report": str(out / "report.md"), "plots": [str(p) for p in paths]}))
    else:
        print(text)
        print(f"report and plots in {out}", file=sys.stderr)
    return 0


def add_pruning_gap_parser(verify_subparsers: Any) -> None:
    """Add `verify pruning-gap` to the CLI."""
    p = verify_subparsers.add_parser("pruning-gap", help="neuron vs weight pruning: certified "
                                     "brackets of the best error against width, with fits")
    p.add_argument("--d", type=positive_int, default=2)
    p.add_argument("--n", default="4:32:4", help="widths LO:HI[:STEP] or a comma list")
    p.add_argument("--trials", type=positive_int, default=5)
    p.add_argument("--output-activation", choices=["relu", "identity"], default="relu")
    p.add_argument("--domain", choices=["sphere", "cube"], default="sphere")
    p.add_argument("--points", type=positive_int, default=128)
    p.add_argument("--norm", choices=["linf"], default="linf")
    p.add_argument("--target-angle", type=finite_float, default=0.3)
    p.add_argument("--solver", default="auto", help="an exact backend (default auto)")
    p.add_argument("--time-limit", type=positive_float, default=120.0)
    p.add_argument("--seed", type=nonneg_int, default=0)
    p.add_argument("--fit-min-n", type=nonneg_int, default=0,
                   help="fit only widths >= this (skip the small-width plateau)")
    p.add_argument("--store", default=None, help="SQLite results store (resumable)")
    p.add_argument("--jobs", type=nonneg_int, default=1,
                   help="worker processes (0: in process)")
    p.add_argument("--scheduler", default=None, help="Dask scheduler tcp://HOST:PORT")
    p.add_argument("--out", default="out/verify-pruning-gap")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=_cmd_verify_pruning_gap)
