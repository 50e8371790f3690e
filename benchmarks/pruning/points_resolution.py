"""Benchmark: how many circle points the neuron lower bound needs (the bracket against K).

    python -m exactprune.benchmarks.pruning.points_resolution --n 32,64,128 \
        --points 128,256,512 --trials 20 --store res.sqlite

Why. `verify pruning-gap` takes, for neuron pruning, the optimum over K circle points as a lower
bound on the best sup error over the circle, and the sup of the mask it found as the upper end
of the bracket. In docs/results/gap-relu (K = 128) the two agree within 15 % up to n = 64, but at
n = 128 the sup is 1.9 times the points' optimum, and the lower bounds' power law (exponent
1.59) is steeper than the Θ(1/n) of SCIENCE.md §2. Either the optimum really falls that fast at
these widths, or K = 128 points under-resolve the circle once n is close to K (a mask can then
place its error between the points). This solves the gap run's own neuron trials (the same nets:
SeedSequence(seed, (trial, n)), which does not depend on K) on finer grids, K = 128, 256, 512,
...: on a finer grid the optimum can only rise toward the sup-optimum, and the mask's sup is
still an upper bound, so the bracket [points optimum, mask's sup] can only tighten. Reported per
(n, K): the median lower and upper ends, how many are certified, the median of the upper/lower
ratio, and per K the log-log slope of each end between consecutive widths. Resumable with
`--store` (a sweep: one SQLite row per solve); `--jobs` cores to fill.
"""

from __future__ import annotations

import argparse
import math
import statistics
from pathlib import Path
from typing import Any

from exactprune.benchmarks.pruning.verify_gap import (
    add_pruning_gap_parser,
    check_args,
    parse_range,
    specs_for,
)

TASK = "exactprune.benchmarks.pruning.verify_gap:trial"


def specs(widths: list[int], grids: list[int], trials: int, activation: str,
          time_limit: float, seed: int = 0) -> list[dict[str, Any]]:
    """The neuron specs of `verify pruning-gap --d 2 --n WIDTHS --points K` with its defaults
    (circle, target angle 0.3, `auto`, independent trials) for every K, built from that
    command's own parser and `specs_for`: the same nets, and the same store keys (a K = 128
    store of the gap run resumes here)."""
    from exactprune.benchmarks.api import options_namespace

    out = []
    for k in grids:
        args = options_namespace(
            add_pruning_gap_parser, "pruning-gap", "points_resolution",
            {"d": 2, "n": widths, "trials": trials, "points": k, "seed": seed,
             "output_activation": activation, "time_limit": time_limit}, lists=("d", "n"))
        check_args(args)
        out += [s for s in specs_for(args) if s["kind"] == "neuron"]
    return sorted(out, key=lambda s: (s["n"], s["points"], s["trial"]))


def _slope(a: float, b: float, n_a: int, n_b: int) -> str:
    """−d log(bound) / d log(n) between two widths (1 for a c/n law), as table text.

    "—" when either bound is 0 (a lower end no engine lifted above 0 has no log)."""
    if a <= 0 or b <= 0:
        return "—"
    return f"{-math.log(b / a) / math.log(n_b / n_a):.2f}"


def summarise(rows: list[tuple[dict, dict]], widths: list[int], grids: list[int]
              ) -> list[str]:
    """Markdown lines: the per-(n, K) table and the per-K slopes of the medians."""
    lines = ["| n | K | trials | certified | median lower (points optimum or bound) | "
             "median upper (mask's sup) | median upper / lower |",
             "|---|---|---|---|---|---|---|"]
    med: dict[tuple[int, int], tuple[float, float]] = {}
    for n in widths:
        for k in grids:
            mine = [r for s, r in rows if s["n"] == n and s["points"] == k
                    and r.get("lower") is not None and r.get("upper") is not None]
            if not mine:
                continue
            lo = statistics.median(r["lower"] for r in mine)
            up = statistics.median(r["upper"] for r in mine)
            ratios = [r["upper"] / r["lower"] for r in mine if r["lower"] > 0]
            ratio = f"{statistics.median(ratios):.2f}" if ratios else "— (every lower end 0)"
            med[n, k] = (lo, up)
            lines.append(f"| {n} | {k} | {len(mine)} | {sum(bool(r['certified']) for r in mine)}"
                         f" | {lo:.4g} | {up:.4g} | {ratio} |")
    lines += ["", "Log-log slope of the medians between consecutive widths (1 = the c/n law):",
              "", "| K | widths | slope of the lower end | slope of the upper end |",
              "|---|---|---|---|"]
    for k in grids:
        for a, b in zip(widths, widths[1:], strict=False):
            if (a, k) in med and (b, k) in med:
                lines.append(f"| {k} | {a} → {b} | {_slope(med[a, k][0], med[b, k][0], a, b)}"
                             f" | {_slope(med[a, k][1], med[b, k][1], a, b)} |")
    return lines


def main(argv: list[str] | None = None) -> int:
    from exactprune.benchmarks.pruning.levers import write_page
    from exactprune.benchmarks.sweep import Task, run_sweep
    from exactprune.instances.errors import InputError

    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--n", default="32,64,128", help="widths, a comma list")
    p.add_argument("--points", default="128,256,512", help="circle grids K, a comma list")
    p.add_argument("--trials", type=int, default=20)
    p.add_argument("--output-activation", choices=["relu", "identity"], default="relu")
    p.add_argument("--time-limit", type=float, default=60.0)
    p.add_argument("--jobs", type=int, default=2, help="cores to fill")
    p.add_argument("--store", default=None, help="SQLite store (resumable)")
    p.add_argument("--out", type=Path, default=Path("docs/benchmarks"))
    args = p.parse_args(argv)
    try:
        widths = parse_range(args.n)
        grids = parse_range(args.points, "point counts", "--points")
    except InputError as exc:
        p.error(str(exc))
    if args.trials < 1 or args.jobs < 1 or not args.time_limit > 0:
        p.error("--trials and --jobs must be at least 1, --time-limit positive")
    if bad := [k for k in grids if k % 2]:
        p.error(f"circle grids must be even (antipodal), got {bad}")
    todo = specs(widths, grids, args.trials, args.output_activation, args.time_limit)
    records = run_sweep([Task(TASK, s) for s in todo], args.store, jobs=args.jobs,
                        desc="points resolution")
    rows = list(zip(todo, records, strict=True))
    failed = sum(r.get("lower") is None for _, r in rows)
    command = (f"python -m exactprune.benchmarks.pruning.points_resolution --n {args.n} "
               f"--points {args.points} --trials {args.trials} --output-activation "
               f"{args.output_activation} --time-limit {args.time_limit:g} --jobs {args.jobs}")
    lines = [f"# The neuron bracket against the number of circle points, "
             f"{args.output_activation} output", "", f"Command: `{command}`", "",
             "Neuron pruning, d = 2, the nets of `verify pruning-gap`'s independent trials "
             f"(trials 0..{args.trials - 1}), `auto` (one-thread SCIP; bruteforce up to 12 units), "
             f"{args.time_limit:g} s "
             "per solve; lower = the certified optimum over the K points, or the engine's bound "
             "at the limit; upper = the exact sup over the circle of the mask found."
             + (f" {failed} solve(s) gave no mask and are left out." if failed else ""), ""]
    lines += summarise(rows, widths, grids)
    stem = f"pruning-points-resolution-{args.output_activation}"
    write_page(args.out, stem, lines, [{**s, **r} for s, r in rows])
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
