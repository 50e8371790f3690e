"""Benchmark: what SCIP's linear-constraint presolving is worth on the big-M weight formulation.

    python -m exactprune.benchmarks.pruning.scip_bigm_presolve --seeds 5 --time-limit 60

Why. At our tolerances SCIP's linear presolve proved a wrong bound on a big-M model (random
audit case 8111, docs/numerics.md), so `formulation=bigm` runs SCIP without it
(`milp_engines.SCIP_NO_LINEAR_PRESOLVE`). This measures the price: weight pruning, d = 2,
width 16, K = 256 circle points, both outputs, SCIP one thread, each seed solved with and
without the setting one after the other (side by side, same machine load). Prints a markdown
table: certified, median time, times.
"""

from __future__ import annotations

import argparse
import time

from exactprune.benchmarks.presolve_price import print_ab_table
from exactprune.instances import generate_weight_pruning
from exactprune.solvers import milp_engines, solve

VARIANTS = (("linear presolve off (the default for bigm)", True),
            ("linear presolve on (before 2026-12-02)", False))


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--seeds", type=int, default=5)
    p.add_argument("--width", type=int, default=16)
    p.add_argument("--points", type=int, default=256)
    p.add_argument("--time-limit", type=float, default=60.0)
    args = p.parse_args(argv)
    if args.seeds < 1 or args.width < 1 or args.points < 1 or not args.time_limit > 0:
        p.error("--seeds, --width, --points and --time-limit must be positive")
    saved = dict(milp_engines.SCIP_NO_LINEAR_PRESOLVE)
    rows: dict[tuple[str, str], list[tuple[float, bool]]] = {}
    try:
        for act in ("identity", "relu"):
            for seed in range(args.seeds):
                inst = generate_weight_pruning(d=2, width=args.width, points=args.points,
                                               seed=seed, output_activation=act)
                for label, off in VARIANTS:
                    milp_engines.SCIP_NO_LINEAR_PRESOLVE.clear()
                    milp_engines.SCIP_NO_LINEAR_PRESOLVE.update(saved if off else {})
                    t0 = time.perf_counter()
                    res = solve(inst, "scip", time_limit=args.time_limit, formulation="bigm")
                    rows.setdefault((act, label), []).append(
                        (time.perf_counter() - t0, res.certified))
    finally:
        milp_engines.SCIP_NO_LINEAR_PRESOLVE.clear()
        milp_engines.SCIP_NO_LINEAR_PRESOLVE.update(saved)
    print_ab_table(("output", "SCIP on the big-M model"), rows)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
