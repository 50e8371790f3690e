"""Benchmark: does a branching order from the problem's structure help SCIP prove neuron optima?

    python -m exactprune.benchmarks.pruning.branching_order --seeds 0,1 \
        --cutoffs 0.0107551,0.0126446

Why. On the circle (d = 2) a unit's column is linear except at its two antipodal kinks, and the
bound SCIP stalls at on the n = 128 identity instances is a kink-window bound (docs/pruning.md):
it rises only once the units with a kink inside a window are fixed. Branching on the units in
kink order (angle mod π) fixes whole windows first, so the LP at depth j holds every window up
to the j-th kink; branching on the largest units first (|v_i|·‖w_i‖) fixes the columns that move
the residual most. Two more orders branch on aggregates first, as in knapsack and subset-sum
branch-and-bound: `cardinality` adds the integer N = Σ y_i (how many units are kept), `odd-sum`
the integers K_c with 0 <= T_c − δ·K_c <= δ for the net's 2-D odd part T = Σ y_i v_i w_i (the
subset sum that fixes the residual's odd part, docs/pruning.md), both with a branching priority
above the units'. This measures all of them against SCIP's own choice (reliability pseudo-costs),
side by side, in proof mode: SCIP 10 through PySCIPOpt (optional; `pip install pyscipopt`) on
the exported selection model, our tolerances (feastol 1e-10), no cutting planes (our default),
objective limit just above the known optimum, so only the proof is timed. The proven bound at
the time limit is the measure when no order finishes. Not a solver option.

`--settings` also measures SCIP's own rules beside our defaults (`SETTINGS`): plain pseudo-cost
or inference branching instead of reliability pseudo-costs, fewer or more strong-branching
looks before a pseudo-cost is trusted, primal simplex or "barrier" for the node LPs, and SCIP's
default tolerances (feastol 1e-6) instead of ours — the question being whether a setting, not an
order, is what the identity proofs lack.
"""

from __future__ import annotations

import math
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

from exactprune.benchmarks.pruning.proof_runs import (
    check_proof_args,
    choice_list,
    float_list,
    per_seed,
    proof_parser,
    require_packages,
    run_proof_jobs,
    write_proof_page,
)
from exactprune.formulations.export import export_model
from exactprune.instances.errors import InputError

ORDERS = ("scip", "kink", "magnitude", "cardinality", "odd-sum")
AGGREGATES = ("cardinality", "odd-sum")

# Parameter changes on top of our SCIP parameters (`milp_engines.SCIP_PARAMS`, no cuts).
# "scip-tolerances" puts back SCIP 10's default tolerances (a speed probe only: the engine's
# certificate needs ours).
SETTINGS: dict[str, dict[str, Any]] = {
    "ours": {},
    "pscost": {"branching/pscost/priority": 100000},
    "inference": {"branching/inference/priority": 100000},
    "reliability-1-2": {"branching/relpscost/minreliable": 1.0,
                        "branching/relpscost/maxreliable": 2.0},
    "reliability-8-16": {"branching/relpscost/minreliable": 8.0,
                         "branching/relpscost/maxreliable": 16.0},
    "primal-resolve": {"lp/resolvealgorithm": "p"},
    "barrier-resolve": {"lp/resolvealgorithm": "b"},
    "scip-tolerances": {"numerics/feastol": 1e-6, "numerics/dualfeastol": 1e-7,
                        "numerics/epsilon": 1e-9, "numerics/sumepsilon": 1e-6},
}


def branching_priorities(hidden_weights: np.ndarray, output_weights: np.ndarray,
                         order: str) -> np.ndarray | None:
    """Priority per unit (higher = branched on first), or None for SCIP's own choice.

    kink: units by kink angle mod π (atan2(w) + π/2), the first highest; magnitude: by
    |v_i|·‖w_i‖, the largest highest. Priorities are 1..n, all distinct."""
    n = len(hidden_weights)
    if order == "scip" or order in AGGREGATES:
        return None
    if order == "kink":
        kink = (np.arctan2(hidden_weights[:, 1], hidden_weights[:, 0]) + math.pi / 2) % math.pi
        ranks = np.argsort(np.argsort(kink, kind="stable"), kind="stable")
        return n - ranks
    if order == "magnitude":
        size = np.abs(np.ravel(output_weights)) * np.linalg.norm(hidden_weights, axis=1)
        return np.argsort(np.argsort(size, kind="stable"), kind="stable") + 1
    raise InputError(f"unknown branching order {order!r} (use one of {', '.join(ORDERS)})")


def add_aggregates(model: Any, units: list[Any], hidden_weights: np.ndarray,
                   output_weights: np.ndarray, order: str, odd_step: float) -> list[Any]:
    """Add the order's aggregate integer variables to a PySCIPOpt model; return them.

    `units` are the model's y_i. cardinality: N = Σ y_i; odd-sum: K_0, K_1 with
    0 <= Σ y_i v_i W_ic − odd_step·K_c <= odd_step (every mask has exactly one such K, so no
    mask is cut off). Each gets branching priority 1 (the units keep 0), so SCIP branches on
    it while it is fractional."""
    from pyscipopt import quicksum

    if order not in AGGREGATES:
        return []
    added = []
    if order == "cardinality":
        count = model.addVar("N_kept", vtype="I", lb=0, ub=len(units))
        model.addCons(quicksum(units) - count == 0)
        added.append(count)
    else:
        vectors = np.ravel(output_weights)[:, None] * np.asarray(hidden_weights)
        for c in range(vectors.shape[1]):
            col = vectors[:, c]
            lo = math.floor(float(np.minimum(col, 0).sum()) / odd_step) - 1
            hi = math.ceil(float(np.maximum(col, 0).sum()) / odd_step) + 1
            k = model.addVar(f"K_odd_{c}", vtype="I", lb=lo, ub=hi)
            total = quicksum(float(col[i]) * y for i, y in enumerate(units))
            model.addCons(total - odd_step * k >= 0)
            model.addCons(total - odd_step * k <= odd_step)
            added.append(k)
    for var in added:
        model.chgVarBranchPriority(var, 1)
    return added


def run_one(job: dict[str, Any]) -> dict[str, Any]:
    """One proof run: SCIP on the exported model with the job's branching order and cutoff."""
    from pyscipopt import SCIP_PARAMSETTING, Model

    from exactprune.instances import generate_neuron_pruning
    from exactprune.solvers.milp_engines import SCIP_PARAMS

    inst = generate_neuron_pruning(d=2, width=job["n"], points=job["points"], seed=job["seed"],
                                   output_activation=job["activation"])
    with tempfile.TemporaryDirectory() as tmp:
        path = export_model(inst, None, Path(tmp) / "model.mps")
        m = Model()
        m.hideOutput()
        m.readProblem(str(path))
    setting = job.get("setting", "ours")
    if setting not in SETTINGS:
        raise InputError(f"unknown SCIP setting {setting!r} (use one of {', '.join(SETTINGS)})")
    m.setParams({**SCIP_PARAMS, **SETTINGS[setting], "limits/time": job["time_limit"],
                 "randomization/randomseedshift": job["scip_seed"]})
    m.setSeparating(SCIP_PARAMSETTING.OFF)
    m.setObjlimit(job["cutoff"])
    prio = branching_priorities(np.asarray(inst.network.hidden_weights),
                                np.asarray(inst.network.output_weights), job["order"])
    by_name = {v.name: v for v in m.getVars()}
    units = [by_name[f"y_{i}"] for i in range(job["n"])]
    if prio is not None:
        for var, p in zip(units, prio, strict=True):
            m.chgVarBranchPriority(var, int(p))
    add_aggregates(m, units, np.asarray(inst.network.hidden_weights),
                   np.asarray(inst.network.output_weights), job["order"], job["odd_step"])
    t0 = time.perf_counter()
    m.optimize()
    return {**job, "status": m.getStatus(), "seconds": round(time.perf_counter() - t0, 1),
            "nodes": int(m.getNNodes()), "bound": float(m.getDualbound()),
            "best": float(m.getObjVal()) if m.getNSols() else None}


def main(argv: list[str] | None = None) -> int:
    p = proof_parser(__doc__.split("\n")[0], seeds="0,1", time_limit=120.0, jobs=2)
    p.add_argument("--activation", default="identity", choices=["identity", "relu"])
    p.add_argument("--cutoffs", required=True, type=float_list,
                   help="objective limit per seed (just above its known optimum)")
    p.add_argument("--orders", default=",".join(ORDERS))
    p.add_argument("--settings", default="ours",
                   help=f"SCIP settings, comma-separated, each run with every order: "
                        f"{', '.join(SETTINGS)}")
    p.add_argument("--odd-step", type=float, default=0.05,
                   help="odd-sum order: width δ of the odd part's integer steps")
    args = p.parse_args(argv)
    cutoffs = per_seed(p, args.seeds, args.cutoffs, "--cutoffs")
    orders = choice_list(p, args.orders, ORDERS, "order")
    settings = choice_list(p, args.settings, SETTINGS, "setting")
    check_proof_args(p, args)
    if not args.odd_step > 0:
        p.error("--odd-step must be positive")
    require_packages(p, ("pyscipopt",), "PySCIPOpt", "pyscipopt")
    jobs = [{"n": args.n, "points": args.points, "activation": args.activation, "seed": s,
             "cutoff": c, "order": o, "setting": x, "time_limit": args.time_limit,
             "scip_seed": 0, "odd_step": args.odd_step}
            for s, c in cutoffs for o in orders for x in settings]
    rows = run_proof_jobs("exactprune.benchmarks.pruning.branching_order:run_one", jobs,
                          args.jobs)
    write_proof_page(
        args.out, f"pruning-branching-order-n{args.n}-{args.activation}",
        f"Branching order for SCIP's proof: neuron pruning, d = 2, n = {args.n}, "
        f"K = {args.points}, {args.activation} output",
        f"python -m exactprune.benchmarks.pruning.branching_order --n {args.n} "
        f"--points {args.points} --activation {args.activation} --seeds {args.seeds} "
        f"--cutoffs {','.join(f'{c:g}' for c in args.cutoffs)} --orders {args.orders} "
        + (f"--settings {args.settings} " if args.settings != "ours" else "")
        + f"--odd-step {args.odd_step:g} --time-limit {args.time_limit:g} --jobs {args.jobs}",
        "SCIP 10 (PySCIPOpt), our tolerances (but for setting scip-tolerances), no cuts, "
        "objective limit = cutoff; the settings' parameters are in the module's SETTINGS; "
        f"{args.jobs} runs at a time on the machine.",
        ["seed", "cutoff", "order", "setting", "status", "time (s)", "nodes", "proven bound"],
        [[r["seed"], f"{r['cutoff']:g}", r["order"], r["setting"], r["status"], r["seconds"],
          r["nodes"],
          "" if r.get("bound") is None else f"{r['bound']:.6g}"] for r in rows],
        rows, args.tag)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
