"""Benchmark: CBC with and without its cutting planes, on every kind, against a reference.

    python -m exactprune.benchmarks.cbc_cuts --seeds 5 --time-limit 60 --out docs/benchmarks

Why. With its cutting planes the bundled CBC 2.10.3 certified wrong pruning optima (audit case
23539: 10 of seeds 0-29 wrong), so since 2026-12-05 `cbc` runs with "cuts off"
(`solvers.milp_engines.cbc._cbc_options`). This measures what that costs and whether it holds:
each case is solved by `cbc` as it runs now and as it ran before (the same options but "cuts
off"), the two settings alternating seed by seed so both see the same machine, and each
certified objective is checked against a reference (`mitm` for subset-sum, `scip` for
pruning, both certified; `bruteforce` for the audit case). A certificate above the reference
by more than both tolerances is counted as wrong.
"""

from __future__ import annotations

import argparse
import contextlib
import statistics
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from exactprune.benchmarks.pruning.levers import write_page

SETTINGS = ("without cuts (now)", "with cuts (before 2026-12-05)")


@contextlib.contextmanager
def cbc_with_cutting_planes() -> Iterator[None]:
    """Run `cbc` with its cutting planes, as it ran before 2026-12-05, during the block."""
    import exactprune.solvers.milp_engines.cbc as cbc_module

    ours = cbc_module._cbc_options
    cbc_module._cbc_options = lambda seed, preprocess: [  # type: ignore[assignment]
        o for o in ours(seed, preprocess) if o != "cuts off"]
    try:
        yield
    finally:
        cbc_module._cbc_options = ours  # type: ignore[assignment]


def cases(seeds: int) -> list[tuple[str, Callable[[int], Any], str, list[int]]]:
    """(name, instance of a seed, reference solver, seeds) for each case measured."""
    from exactprune.benchmarks.pruning.audit import audit_instance
    from exactprune.instances import (
        generate_neuron_pruning,
        generate_subset_sum,
        generate_weight_pruning,
    )

    out: list[tuple[str, Callable[[int], Any], str, list[int]]] = [
        (f"subset-sum n = {n}", lambda s, n=n: generate_subset_sum(n, seed=s), "mitm",
         list(range(seeds))) for n in (16, 18, 20)]
    out += [
        ("neuron d = 2, n = 64, K = 128, relu",
         lambda s: generate_neuron_pruning(2, 64, 128, seed=s, output_activation="relu"),
         "scip", list(range(seeds))),
        ("neuron d = 2, n = 48, K = 128, identity",
         lambda s: generate_neuron_pruning(2, 48, 128, seed=s), "scip", list(range(seeds))),
        ("weight d = 2, n = 24, K = 64, relu",
         lambda s: generate_weight_pruning(2, 24, 64, seed=s, output_activation="relu"),
         "scip", list(range(seeds))),
        ("audit case 23539 (weight d = 2, n = 9, K = 8), CBC seeds",
         lambda s: audit_instance(23539)[0], "bruteforce", list(range(30))),
    ]
    return out


def main(argv: list[str] | None = None) -> int:
    from exactprune import solve

    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--seeds", type=int, default=5, help="instances per generated case")
    p.add_argument("--time-limit", type=float, default=60.0, help="seconds per CBC solve")
    p.add_argument("--out", type=Path, default=Path("docs/benchmarks"))
    args = p.parse_args(argv)
    if args.seeds < 1 or not args.time_limit > 0:
        p.error("--seeds must be >= 1 and --time-limit > 0")
    rows: list[dict[str, Any]] = []
    for name, make, reference, seeds in cases(args.seeds):
        for seed in seeds:
            inst = make(seed)
            ref = solve(inst, reference, time_limit=600, seed=seed)
            if not ref.certified:
                print(f"{name} seed {seed}: {reference} did not certify; skipped")
                continue
            for setting in SETTINGS:
                cut_on = setting != SETTINGS[0]
                with cbc_with_cutting_planes() if cut_on else contextlib.nullcontext():
                    res = solve(inst, "cbc", time_limit=args.time_limit, seed=seed)
                wrong = res.certified and (
                    res.objective > ref.objective + res.tolerance + ref.tolerance)
                rows.append({"case": name, "seed": seed, "setting": setting,
                             "status": res.status, "certified": res.certified,
                             "wrong": bool(wrong), "objective": res.objective,
                             "reference": ref.objective, "time_s": res.wall_time_s})
                print(name, seed, setting, res.status, f"{res.wall_time_s:.2f} s",
                      "WRONG" if wrong else "")
    table = []
    for name, _, _, _ in cases(args.seeds):
        for setting in SETTINGS:
            mine = [r for r in rows if r["case"] == name and r["setting"] == setting]
            if not mine:
                continue
            times = [r["time_s"] for r in mine]
            table.append(f"| {name} | {setting} | {len(mine)} | "
                         f"{sum(r['certified'] for r in mine)} | "
                         f"{sum(r['wrong'] for r in mine)} | {statistics.median(times):.2f} | "
                         f"{max(times):.2f} |")
    lines = [
        "# CBC with and without its cutting planes",
        "",
        f"Command: `python -m exactprune.benchmarks.cbc_cuts --seeds {args.seeds} "
        f"--time-limit {args.time_limit:g}`",
        "",
        "Each instance is solved by `cbc` in both settings, alternating; a certified objective "
        "above the certified reference (`mitm` for subset-sum, `scip` for pruning, "
        "`bruteforce` for case 23539) by more than both tolerances is wrong.",
        "",
        "| case | setting | solves | certified | wrong | median (s) | max (s) |",
        "|---|---|---|---|---|---|---|",
        *table,
    ]
    write_page(args.out, "cbc-cuts", lines, rows)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
