"""Benchmark: what the engine reductions switched off for correctness cost (HiGHS's presolve;
SCIP's linear presolve on neuron selection; SCIP's dual reductions on subset-sum).

    python -m exactprune.benchmarks.presolve_price --engine highs --seeds 5 --time-limit 60
    python -m exactprune.benchmarks.presolve_price --engine scip --time-limit 60
    python -m exactprune.benchmarks.presolve_price --engine scip-subset-sum --seeds 5
    python -m exactprune.benchmarks.presolve_price --engine scip-subset-sum-linear --seeds 5
    python -m exactprune.benchmarks.presolve_price --engine cbc-sparsest --seeds 5
    python -m exactprune.benchmarks.presolve_price --engine scip-sparsest --seeds 5

Why. At our tolerances both presolves certified wrong optima in the neuron-selection audit
(docs/numerics.md): HiGHS 1.16's MIP presolve on cases 349 and 1104 (targets a selection
predicts to 1e-10; with mip_feasibility_tolerance 1e-9 three other cases), SCIP's
linear-constraint presolve on case 917. So `highs` runs without presolve
(`milp_engines.highs.HIGHS_PRESOLVE`) and `scip` without linear presolve on neuron selection
(`solvers.neuron_selection.exact.SCIP_LINEAR_PRESOLVE`), as already on pruning's big-M models.
SCIP's dual reductions cut off subset-sum optima when the values span many magnitudes (subset-
sum audit cases 686, 2356), so subset-sum runs SCIP without them
(`solvers.subset_sum.milp.SCIP_DUAL_REDUCTIONS`); measured on Uniform[-1, 1] draws, n = 16, 18,
20. SCIP's linear presolve and the engines' treatment of the sparsest window's edge gave wrong
certified counts when values span magnitudes (subset-sum audit case 8689 and the band stress in
docs/numerics.md): subset-sum runs SCIP without linear presolve
(`solvers.subset_sum.milp.SCIP_LINEAR_PRESOLVE`, measured on min_error as above), and every
MILP engine gets the sparsest window widened by `sparsest_window_margin`, and CBC runs those
without preprocessing (`CBC_SPARSEST_PREPROCESS`; measured with eps = 1e-5 on the same draws).
Each instance is solved with the setting off and on, one after the other (side by side, same
machine load), one thread. HiGHS: neuron pruning d = 2, width 48, K = 256 circle points, both
outputs; weight pruning d = 2, width 16, K = 128, both outputs; and the neuron-selection
instances. Neuron selection: the `trained` suite's nets (N = 32, k = 4; N = 64, k = 8;
N = 128, k = 16 for SCIP), l1 and linf, digits-pair and teacher. Prints a markdown table:
certified, median time, times.
"""

from __future__ import annotations

import argparse
import contextlib
import statistics
import time
from collections.abc import Iterator
from typing import Any

from exactprune.solvers import solve
from exactprune.solvers.milp_engines import highs as highs_engine
from exactprune.solvers.neuron_selection import exact as selection_exact
from exactprune.solvers.subset_sum import milp as subset_sum_milp

Switch = tuple[Any, str, Any]
"""(module, attribute, value): one module-level setting, patched where it is read."""


def _exact_window(*args: Any) -> float:
    return 0.0


_WINDOW_MARGIN = subset_sum_milp.sparsest_window_margin
SPARSEST_EPS = 1e-5
VARIANTS: dict[str, tuple[tuple[str, list[Switch]], tuple[str, list[Switch]]]] = {
    "highs": (("presolve off (the default since 2026-12-02)",
               [(highs_engine, "HIGHS_PRESOLVE", "off")]),
              ("presolve on (before)", [(highs_engine, "HIGHS_PRESOLVE", "on")])),
    "scip": (("linear presolve off (the default since 2026-12-02)",
              [(selection_exact, "SCIP_LINEAR_PRESOLVE", False)]),
             ("linear presolve on (before)", [(selection_exact, "SCIP_LINEAR_PRESOLVE", True)])),
    "scip-subset-sum": (("dual reductions off (the default since 2026-12-02)",
                         [(subset_sum_milp, "SCIP_DUAL_REDUCTIONS", False)]),
                        ("dual reductions on (before)",
                         [(subset_sum_milp, "SCIP_DUAL_REDUCTIONS", True)])),
    "scip-subset-sum-linear": (("linear presolve off (the default since 2026-12-03)",
                                [(subset_sum_milp, "SCIP_LINEAR_PRESOLVE", False)]),
                               ("linear presolve on (before)",
                                [(subset_sum_milp, "SCIP_LINEAR_PRESOLVE", True)])),
    "cbc-sparsest": (("window margin, no preprocessing (the default since 2026-12-03)",
                      [(subset_sum_milp, "sparsest_window_margin", _WINDOW_MARGIN),
                       (subset_sum_milp, "CBC_SPARSEST_PREPROCESS", False)]),
                     ("exact window, preprocessing (before)",
                      [(subset_sum_milp, "sparsest_window_margin", _exact_window),
                       (subset_sum_milp, "CBC_SPARSEST_PREPROCESS", True)])),
    "scip-sparsest": (("window margin (the default since 2026-12-03)",
                       [(subset_sum_milp, "sparsest_window_margin", _WINDOW_MARGIN)]),
                      ("exact window (before)",
                       [(subset_sum_milp, "sparsest_window_margin", _exact_window)])),
}
"""Per --engine: (the setting now, the setting before its fix), each a label and its switches."""


@contextlib.contextmanager
def switched(engine: str, before: bool) -> Iterator[str]:
    """Run the block with `engine`'s setting from before its fix (before=True) or now; yields
    the variant's label and restores every switch afterwards."""
    label, switches = VARIANTS[engine][1 if before else 0]
    saved = [(module, name, getattr(module, name)) for module, name, _ in switches]
    try:
        for module, name, value in switches:
            setattr(module, name, value)
        yield label
    finally:
        for module, name, value in saved:
            setattr(module, name, value)


def _instances(engine: str, seeds: int) -> Iterator[tuple[str, Any]]:
    from exactprune.benchmarks.neuron_selection.suites import SIZES, network_path
    from exactprune.instances import (
        generate_neuron_pruning,
        generate_subset_sum,
        generate_weight_pruning,
    )
    from exactprune.instances.neuron_selection.generator import generate_neuron_selection

    if "subset-sum" in engine or "sparsest" in engine:
        for n in (16, 18, 20):
            for seed in range(seeds):
                yield f"subset-sum n = {n}, Uniform[-1, 1]", generate_subset_sum(n, seed=seed)
        return
    if engine == "highs":
        for act in ("identity", "relu"):
            for seed in range(seeds):
                yield (f"neuron pruning n = 48, K = 256, {act}",
                       generate_neuron_pruning(d=2, width=48, points=256, seed=seed,
                                               output_activation=act))
        for act in ("identity", "relu"):
            for seed in range(seeds):
                yield (f"weight pruning n = 16, K = 128, {act}",
                       generate_weight_pruning(d=2, width=16, points=128, seed=seed,
                                               output_activation=act))
    for n, k in SIZES if engine == "scip" else SIZES[:2]:
        for loss in ("l1", "linf"):
            for data in ("digits-pair", "teacher"):
                yield (f"neuron selection N = {n}, k = {k}, {loss} (trained nets)",
                       generate_neuron_selection(str(network_path(data, n)), data, k,
                                                 loss=loss, samples=100, seed=0))


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--engine", choices=tuple(VARIANTS), default="highs")
    p.add_argument("--seeds", type=int, default=5,
                   help="seeds per pruning or subset-sum family")
    p.add_argument("--time-limit", type=float, default=60.0)
    args = p.parse_args(argv)
    if args.seeds < 1 or not args.time_limit > 0:
        p.error("--seeds and --time-limit must be positive")
    goal = {"objective": "sparsest", "eps": SPARSEST_EPS} if "sparsest" in args.engine else {}
    rows: dict[tuple[str, str], list[tuple[float, bool]]] = {}
    for family, inst in _instances(args.engine, args.seeds):
        for before in (False, True):
            with switched(args.engine, before) as label:
                t0 = time.perf_counter()
                res = solve(inst, args.engine.split("-")[0], time_limit=args.time_limit,
                            **goal)
            rows.setdefault((family, label), []).append(
                (time.perf_counter() - t0, res.certified))
    print_ab_table(("instances", args.engine), rows)
    return 0


def print_ab_table(header: tuple[str, str],
                   rows: dict[tuple[str, str], list[tuple[float, bool]]]) -> None:
    """A markdown table of an A/B timing run: per (family, variant) the certified count, the
    median and every time (seconds)."""
    print(f"| {header[0]} | {header[1]} | certified | median time (s) | times (s) |")
    print("|---|---|---|---|---|")
    for (family, label), runs in rows.items():
        times = [t for t, _ in runs]
        print(f"| {family} | {label} | {sum(c for _, c in runs)}/{len(runs)} | "
              f"{statistics.median(times):.1f} | {', '.join(f'{t:.1f}' for t in times)} |")


if __name__ == "__main__":
    raise SystemExit(main())
