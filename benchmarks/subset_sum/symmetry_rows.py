"""Benchmark: subset-sum's MILP and CP-SAT engines with and without one mask per class of
repeated values (the symmetry rows).

    python -m exactprune.benchmarks.subset_sum.symmetry_rows --audit-cases 300 --seeds 3 \
        --time-limit 30 --out docs/benchmarks

Why. Masks keeping as many of each group of equal values have the same exact sum, so before
2026-12-05 a no-good row excluded one mask of such a class and the next exclusion round found
its copy: no certificate when the best mask keeps part of a group. The engines now get rows
ordering each group, with zeros fixed out (`formulations.subset_sum.milp`, `break_symmetry`;
docs/numerics.md, repeated values), and `cpsat` the same as implications. Two parts, each
instance solved in both settings in turn so both see the same machine:
  * the `audit --repeated` cases 0..N-1 (n <= 18, values from a pool of 1-4 floats, every goal)
    on each engine, against `bruteforce`: certified, gave up, wrong (a certified answer
    that differs from the oracle's);
  * min_error on n = 24, 32, 48 values drawn from a pool of 8 Uniform[-1, 1] floats, a target
    in [-2, 2], against `mitm` (exact): certified and time.
"""

from __future__ import annotations

import argparse
import contextlib
import statistics
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np

from exactprune.benchmarks.pruning.levers import write_page

SETTINGS = ("symmetry rows (now)", "without (before 2026-12-05)")
ENGINES = ("scip", "highs", "cbc", "cpsat")
"""Gurobi is not among them: it solves the plain model (`GUROBI_SYMMETRY_ROWS`, hunt 78), so
both settings are the same for it."""
POOL_SIZES = (24, 32, 48)


@contextlib.contextmanager
def without_symmetry_rows() -> Iterator[None]:
    """Run the subset-sum MILP engines as before 2026-12-05 during the block: the plain model,
    its slack, and no-good rows on the masks as found."""
    import exactprune.solvers.subset_sum.cpsat as cpsat_module
    import exactprune.solvers.subset_sum.milp as engine_module

    build, slack, canonical = (engine_module.build_subset_sum, engine_module.subset_sum_slack,
                               engine_module.canonical_mask)
    per_class, hint_mask = cpsat_module.one_mask_per_class, cpsat_module.canonical_mask
    engine_module.build_subset_sum = (  # type: ignore[assignment]
        lambda instance, goal, window_margin=0.0, break_symmetry=False:
        build(instance, goal, window_margin))
    engine_module.subset_sum_slack = (  # type: ignore[assignment]
        lambda instance, goal, tol, break_symmetry=False: slack(instance, goal, tol))
    engine_module.canonical_mask = (  # type: ignore[assignment]
        lambda values, mask: np.array(mask, dtype=bool))
    cpsat_module.one_mask_per_class = lambda model, keep, values: None  # type: ignore
    cpsat_module.canonical_mask = engine_module.canonical_mask  # type: ignore[assignment]
    try:
        yield
    finally:
        cpsat_module.one_mask_per_class = per_class  # type: ignore[assignment]
        cpsat_module.canonical_mask = hint_mask  # type: ignore[assignment]
        engine_module.build_subset_sum = build  # type: ignore[assignment]
        engine_module.subset_sum_slack = slack  # type: ignore[assignment]
        engine_module.canonical_mask = canonical  # type: ignore[assignment]


def pooled_instance(n: int, seed: int) -> Any:
    """n values drawn from a pool of 8 Uniform[-1, 1] floats; target Uniform[-2, 2]."""
    from exactprune.instances import SubsetSumInstance

    gen = np.random.default_rng([seed, n])
    pool = gen.uniform(-1.0, 1.0, 8)
    return SubsetSumInstance(values=gen.choice(pool, n), target=float(gen.uniform(-2.0, 2.0)))


def _solve_both(rows: list[dict[str, Any]], part: str, inst: Any, goal: dict[str, Any],
                engines: list[str], ref: Any, time_limit: float, what: str) -> None:
    from exactprune import solve
    from exactprune.benchmarks.subset_sum.audit import GAVE_UP

    for engine in engines:
        for setting in SETTINGS:
            old = setting != SETTINGS[0]
            with without_symmetry_rows() if old else contextlib.nullcontext():
                res = solve(inst, engine, time_limit=time_limit, **goal)
            wrong = res.certified and (res.status != ref.status
                                       or res.objective != ref.objective)
            gave_up = str(res.status) == "error" and any(GAVE_UP in n for n in res.notes)
            rows.append({"part": part, "case": what, "engine": engine, "setting": setting,
                         "status": str(res.status), "certified": res.certified,
                         "gave_up": gave_up, "wrong": bool(wrong), "time_s": res.wall_time_s})
            print(part, what, engine, setting, res.status, f"{res.wall_time_s:.2f} s",
                  "WRONG" if wrong else "", flush=True)


def _table(rows: list[dict[str, Any]], key: str, names: list[str], engines: list[str]
           ) -> list[str]:
    out = []
    for name in names:
        for engine in engines:
            for setting in SETTINGS:
                mine = [r for r in rows if r[key] == name and r["engine"] == engine
                        and r["setting"] == setting]
                if not mine:
                    continue
                times = [r["time_s"] for r in mine]
                out.append(f"| {name} | {engine} | {setting} | {len(mine)} | "
                           f"{sum(r['certified'] for r in mine)} | "
                           f"{sum(r['gave_up'] for r in mine)} | "
                           f"{sum(r['wrong'] for r in mine)} | "
                           f"{statistics.median(times):.2f} | {max(times):.2f} |")
    return out


def main(argv: list[str] | None = None) -> int:
    from exactprune import solve
    from exactprune.benchmarks.subset_sum.audit import audit_instance
    from exactprune.solvers import get_backend

    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--audit-cases", type=int, default=300,
                   help="the audit --repeated cases 0..N-1 (default 300)")
    p.add_argument("--seeds", type=int, default=5, help="instances per pooled size")
    p.add_argument("--time-limit", type=float, default=60.0, help="seconds per solve")
    p.add_argument("--out", type=Path, default=Path("docs/benchmarks"))
    args = p.parse_args(argv)
    if args.audit_cases < 0 or args.seeds < 0 or not args.time_limit > 0:
        p.error("--audit-cases and --seeds must be >= 0 and --time-limit > 0")
    engines = [e for e in ENGINES if get_backend(e, "subset_sum").available()]
    rows: list[dict[str, Any]] = []
    for case in range(args.audit_cases):
        inst, goal, _ = audit_instance(case, repeated=True)
        ref = solve(inst, "bruteforce", **goal)
        _solve_both(rows, "audit", inst, goal, engines, ref, min(args.time_limit, 20.0),
                    f"case {case}")
    for n in POOL_SIZES:
        for seed in range(args.seeds):
            inst = pooled_instance(n, seed)
            ref = solve(inst, "mitm", time_limit=600)
            if not ref.certified:
                print(f"n = {n} seed {seed}: mitm did not certify; skipped")
                continue
            _solve_both(rows, "pooled", inst, {}, engines, ref, args.time_limit,
                        f"n = {n}, seed {seed}")
    for r in rows:
        r["group"] = ("audit --repeated" if r["part"] == "audit"
                      else r["case"].split(",")[0])
    names = ["audit --repeated", *[f"n = {n}" for n in POOL_SIZES]]
    lines = [
        "# Subset-sum engines on repeated values, with and without one mask per class",
        "",
        f"Command: `python -m exactprune.benchmarks.subset_sum.symmetry_rows --audit-cases "
        f"{args.audit_cases} --seeds {args.seeds} --time-limit {args.time_limit:g}`",
        "",
        "Each instance is solved by each engine in both settings, in turn. `audit --repeated`: "
        f"cases 0..{args.audit_cases - 1} (n <= 18, every goal; {min(args.time_limit, 20.0):g} s "
        "per solve), against `bruteforce`; `n = N`: min_error on N values from a pool of 8 "
        "floats, against `mitm`. Wrong: a certified answer that differs from the reference; "
        "gave up: a sparsest `error` after the exclusion rounds.",
        "",
        "| instances | engine | setting | solves | certified | gave up | wrong | median (s) "
        "| max (s) |",
        "|---|---|---|---|---|---|---|---|---|",
        *_table(rows, "group", names, engines),
    ]
    write_page(args.out, "subset-sum-repeated-values", lines, rows)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
