"""Benchmark: how much of the identity-output neuron pruning optimum the even part alone explains.

    python -m exactprune.benchmarks.pruning.even_part --n 48 --points 256 --seeds 5

Why. On the even circle grid (d = 2, identity output, linf) the error of a mask at the pair
(x, −x) is |E| + |O| (docs/pruning.md, antipodal pairs): E, the even part of the residual, is a
sum of |w_i·x| terms whose 2-D linear coefficient changes only at the units' kinks, so along the
units sorted by kink angle it is a walk in the plane; O = δ·x/2 is linear, with δ = Σ m_i v_i w_i
− w* one 2-D subset sum for the whole net. A bound that follows the walk (a dynamic programme
along the kink order, or the window bounds of window_bounds.py) sees E; coupling O as well
needs a second 2-D state. Dropping O is a relaxation (|E| <= |E| + |O| at every pair), and this
benchmark measures what it costs: the optimum of min_m max_k |E_k(m)| (the *even part*
problem, solved as its own selection MILP on the K/2 pairs) against the full optimum, per seed,
on instances the engines certify. Both from SCIP (the even-part value is the engine's, not a
certificate: a measurement, not a bound we publish). Not a solver option.
"""

from __future__ import annotations

import argparse
import dataclasses
import time
from pathlib import Path
from typing import Any

import numpy as np

from exactprune.benchmarks.pruning.levers import write_page
from exactprune.formulations.pruning.antipodal import antipodal_pairs
from exactprune.formulations.pruning.selection import Selection, build_selection, selection_model
from exactprune.instances.errors import InputError
from exactprune.solvers.milp_engines import solve_model
from exactprune.solvers.result import SolveOptions


def even_part_selection(instance: Any) -> tuple[Selection, np.ndarray, np.ndarray]:
    """The even-part problem of a neuron pruning instance on antipodal point pairs.

    Returns (selection, odd_columns, odd_target): the selection's columns (K/2, n) and target
    are (C[a] + C[b]) / 2 and (f[a] + f[b]) / 2 over the pairs (a, b) with x_b = −x_a, so its
    error for a mask is max over pairs of |E|; the odd parts (C[a] − C[b]) / 2, (f[a] − f[b]) / 2
    give |O|, and max(|E + O|, |E − O|) = |E| + |O| is the mask's error at the pair. Needs an
    identity output, linf and a point set closed under x → −x (InputError otherwise)."""
    sel = build_selection(instance)
    if sel.kind != "neuron_pruning" or sel.output_activation != "identity" or sel.norm != "linf":
        raise InputError("the even part needs neuron pruning with an identity output and linf")
    pairs, unpaired = antipodal_pairs(np.asarray(instance.points), np.arange(sel.n_points))
    if len(unpaired):
        raise InputError(f"{len(unpaired)} point(s) have no antipode in the point set")
    a = np.array([p for p, _ in pairs])
    b = np.array([q for _, q in pairs])
    C, f = sel.columns, sel.target
    even = dataclasses.replace(sel, columns=(C[a] + C[b]) / 2, target=(f[a] + f[b]) / 2)
    return even, (C[a] - C[b]) / 2, (f[a] - f[b]) / 2


def run_one(n: int, points: int, seed: int, time_limit: float) -> dict[str, Any]:
    """Full optimum (exactprune's scip, certified) and even-part optimum (SCIP's value)."""
    from exactprune.instances import generate_neuron_pruning
    from exactprune.solvers import solve

    inst = generate_neuron_pruning(d=2, width=n, points=points, seed=seed)
    t0 = time.perf_counter()
    full = solve(inst, "scip", time_limit=time_limit)
    full_s = time.perf_counter() - t0
    even, odd_cols, odd_target = even_part_selection(inst)
    t0 = time.perf_counter()
    built = selection_model(even)
    res = solve_model("scip", built.model, SolveOptions(), time_limit)
    even_s = time.perf_counter() - t0
    row: dict[str, Any] = {"n": n, "points": points, "seed": seed, "full_status": str(full.status),
                           "full_optimum": full.objective, "full_bound": full.bound,
                           "full_s": round(full_s, 2), "even_status": res.status,
                           "even_value": res.objective, "even_bound": res.bound,
                           "even_s": round(even_s, 2)}
    if full.mask is not None:  # where the full optimum's error comes from
        y = even.choice_from_mask(full.mask).astype(np.float64)
        row["full_mask_max_even"] = float(np.abs(even.columns @ y - even.target).max())
        row["full_mask_max_odd"] = float(np.abs(odd_cols @ y - odd_target).max())
    if res.values is not None:  # what the even-part optimum costs in the odd part
        row["even_mask_full_error"] = float(inst.evaluate(built.mask(res.values)))
    return row


def _fmt(x: Any) -> str:
    return "—" if x is None else f"{x:.6g}" if isinstance(x, float) else str(x)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--out", type=Path, default=Path("docs/benchmarks"))
    p.add_argument("--n", type=int, default=48)
    p.add_argument("--points", type=int, default=256)
    p.add_argument("--seeds", type=int, default=5)
    p.add_argument("--time-limit", type=float, default=120.0)
    args = p.parse_args(argv)
    rows = []
    for seed in range(args.seeds):
        row = run_one(args.n, args.points, seed, args.time_limit)
        rows.append(row)
        print(row, flush=True)
    lines = [
        f"# Even part alone vs the full optimum: neuron pruning, d = 2, n = {args.n}, "
        f"K = {args.points}, identity output",
        "",
        f"Command: `python -m exactprune.benchmarks.pruning.even_part --n {args.n} --points "
        f"{args.points} --seeds {args.seeds} --time-limit {args.time_limit:g}`",
        "",
        "| seed | full optimum (status, s) | even part alone (status, s) | ratio | "
        "optimum's max \\|E\\| / max \\|O\\| | full error of the even-part mask |",
        "|---|---|---|---|---|---|",
    ]
    for r in rows:
        ratio = (r["even_value"] / r["full_optimum"]
                 if r["even_value"] is not None and r["full_optimum"] else None)
        lines.append(
            f"| {r['seed']} | {_fmt(r['full_optimum'])} ({r['full_status']}, {r['full_s']}) | "
            f"{_fmt(r['even_value'])} ({r['even_status']}, {r['even_s']}) | {_fmt(ratio)} | "
            f"{_fmt(r.get('full_mask_max_even'))} / {_fmt(r.get('full_mask_max_odd'))} | "
            f"{_fmt(r.get('even_mask_full_error'))} |")
    write_page(args.out, f"pruning-even-part-n{args.n}", lines, rows)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
