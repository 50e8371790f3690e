"""Benchmark: the cost and exactness of the sphere sup (d >= 3) on the upper bounds
`verify pruning-gap` computes.

    python -m exactprune.benchmarks.pruning.sphere_sup_timing --d 3,4,5 --n 16 --seeds 8

Why. The weight upper bound of a d >= 3 trial is the sup over the sphere of the mask found
(`sup_error`, `solvers/pruning/sphere_sup.py`), which is a branch and bound whose cost and
exactness depend on how the error's kinks meet. This times it on masks of the kind the
experiment holds: greedy forward selection's (fast and deterministic, so the instances and the
masks are the same for every version of the code), relu output, K random points on the
sphere, both pruning kinds, seeds 0..S-1, one process. Prints a Markdown table: per (d, kind)
the median, mean and largest time, how many bounds are exact, and each bound, so two versions
can be compared value by value.
"""

from __future__ import annotations

import argparse
import statistics
import time

from exactprune.benchmarks.pruning.verify_gap import parse_range


def measure(d: int, kind: str, n: int, points: int, seeds: int, time_limit: float
            ) -> dict:
    """Time `certify_bracket`'s upper bound on greedy forward masks: seeds 0..seeds-1."""
    from exactprune.instances import generate_neuron_pruning, generate_weight_pruning
    from exactprune.solvers import solve
    from exactprune.solvers.pruning.bracket import certify_bracket

    gen = generate_weight_pruning if kind == "weight" else generate_neuron_pruning
    times, uppers, exact = [], [], 0
    for seed in range(seeds):
        inst = gen(d, n, points, seed, output_activation="relu")
        mask = solve(inst, "greedy_forward").mask
        t0 = time.perf_counter()
        br = certify_bracket(inst, mask, None, time_limit=time_limit)
        times.append(time.perf_counter() - t0)
        uppers.append(br.upper)
        exact += bool(br.upper_exact)
    return {"d": d, "kind": kind, "median_s": statistics.median(times),
            "mean_s": statistics.fmean(times), "max_s": max(times), "exact": exact,
            "seeds": seeds, "uppers": uppers}


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--d", default="3,4,5", help="dimensions (>= 3), a comma list")
    p.add_argument("--n", type=int, default=16, help="width")
    p.add_argument("--points", type=int, default=128)
    p.add_argument("--seeds", type=int, default=8)
    p.add_argument("--time-limit", type=float, default=60.0, help="per sup, seconds")
    args = p.parse_args(argv)
    print("| d | kind | median (s) | mean (s) | max (s) | exact | upper bounds |")
    print("|---|---|---|---|---|---|---|")
    for d in parse_range(args.d, "dimensions", "--d"):
        for kind in ("weight", "neuron"):
            r = measure(d, kind, args.n, args.points, args.seeds, args.time_limit)
            print(f"| {d} | {kind} | {r['median_s']:.3f} | {r['mean_s']:.3f} | "
                  f"{r['max_s']:.2f} | {r['exact']}/{r['seeds']} | "
                  f"{' '.join(f'{u:.6g}' for u in r['uppers'])} |", flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
