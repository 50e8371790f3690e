"""Benchmark: does a sparse (second-difference) form of the neuron model help SCIP's proofs?

    python -m exactprune.benchmarks.pruning.second_difference --seeds 0,1 \
        --cutoffs 0.0107551,0.0126446

Why. On the even circle grid θ_k = 2πk/K (d = 2) a unit's column is a_i·max(0, cos(θ − φ_i)):
a pure sinusoid between its two kinks φ_i ± π/2. The discrete operator
(D h)_k = h_{k+1} + h_{k−1} − 2 cos(2π/K)·h_k annihilates every sinusoid of frequency one, so
D maps a column to at most four nonzeros (the grid points next to its kinks), while C itself is
half full (K·n/2 nonzeros). D is singular only on the frequency-one sinusoids, so the
pre-activations h are fixed by D h = D C x on K − 2 rows (rows 0 and K/4 dropped) plus the two
frequency-one moments Σ_k cos θ_k·h_k and Σ_k sin θ_k·h_k of C x. With h as continuous
variables the model has 11 times fewer nonzeros at n = 128, K = 256 (3,056 against
33,280) and the same LP relaxation (h is the same linear image of x), so, like the
antipodal pairs (docs/pruning.md), it can only speed up the node LPs, not raise the bound. It
answers whether the node LP is what the identity proofs wait for.

The measure is SCIP's proof of the optimum, as in `branching_order`: minimise t with the
objective limit just above the known optimum, so only the proof is timed. "orig" is the
selection model, −t <= C x − f <= t; "sparse" is the same model written as x binary,
−t <= h − f <= t, D h = D C x, the two moment rows. SCIP 10 through PySCIPOpt (optional;
`pip install pyscipopt`), our tolerances, no cutting planes (our default); a speed probe only
(the sparse rows amplify row tolerances by ||D^+|| ~ K²/(12π²), so it would need a wider
certificate slack). Not a solver option.
"""

from __future__ import annotations

import math
import time
from typing import Any

import numpy as np

from exactprune.benchmarks.pruning.basis_reduction import residual_system
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

MODES = ("orig", "sparse")


def grid_angles(points: np.ndarray) -> np.ndarray:
    """θ_k of the even circle grid (K,), or ValueError when `points` are not cos/sin of
    2πk/K in order (the second difference needs that grid)."""
    X = np.asarray(points, dtype=float)
    K = len(X)
    theta = 2.0 * np.pi * np.arange(K) / K
    if X.ndim != 2 or X.shape[1] != 2 or not np.allclose(
            X, np.column_stack([np.cos(theta), np.sin(theta)]), rtol=0, atol=1e-12):
        raise ValueError("the second-difference form needs the even circle grid (d = 2)")
    return theta


def second_differences(C: np.ndarray) -> np.ndarray:
    """D C (K × n): (D C)_k = C_{k+1} + C_{k−1} − 2 cos(2π/K)·C_k, cyclic in k. Entries whose
    three points lie on one side of both kinks are zero in exact arithmetic and set to 0 (their
    float value is rounding, below 1e-9 of the column's largest entry)."""
    K = C.shape[0]
    DC = np.roll(C, -1, axis=0) + np.roll(C, 1, axis=0) - 2.0 * math.cos(2.0 * math.pi / K) * C
    DC[np.abs(DC) <= 1e-9 * np.abs(C).max(axis=0, initial=0.0)] = 0.0
    return DC


def plain_model(C: np.ndarray, f: np.ndarray) -> Any:
    """PySCIPOpt model of min t s.t. −t <= C x − f <= t, x binary (the selection model of an
    identity output). Returns (model, x variables)."""
    from pyscipopt import Model, quicksum

    K, n = C.shape
    m = Model()
    m.hideOutput()
    x = [m.addVar(f"x{i}", vtype="B") for i in range(n)]
    t = m.addVar("t", lb=0.0, obj=1.0)
    for k in range(K):
        row = quicksum(float(C[k, i]) * x[i] for i in np.flatnonzero(C[k]))
        m.addCons(row - t <= float(f[k]))
        m.addCons(row + t >= float(f[k]))
    return m, x


def sparse_model(C: np.ndarray, f: np.ndarray, theta: np.ndarray) -> Any:
    """PySCIPOpt model of min t s.t. −t <= C x − f <= t, x binary, in the second-difference
    form (module docstring). Returns (model, x variables, h variables)."""
    from pyscipopt import Model, quicksum

    K, n = C.shape
    if K % 4:
        raise ValueError("the second-difference form drops rows 0 and K/4: K must be a "
                         "multiple of 4")
    DC = second_differences(C)
    two_cos = 2.0 * math.cos(2.0 * math.pi / K)
    m = Model()
    m.hideOutput()
    x = [m.addVar(f"x{i}", vtype="B") for i in range(n)]
    t = m.addVar("t", lb=0.0, obj=1.0)
    h = [m.addVar(f"h{k}", lb=None) for k in range(K)]
    for k in range(K):
        m.addCons(h[k] - t <= float(f[k]))
        m.addCons(h[k] + t >= float(f[k]))
    for k in range(K):
        if k in (0, K // 4):  # D has rank K − 2: the moment rows below replace these two
            continue
        m.addCons(h[(k + 1) % K] + h[k - 1] - two_cos * h[k]
                  == quicksum(float(DC[k, i]) * x[i] for i in np.flatnonzero(DC[k])))
    for basis in (np.cos(theta), np.sin(theta)):
        moments = basis @ C
        m.addCons(quicksum(float(basis[k]) * h[k] for k in range(K))
                  == quicksum(float(moments[i]) * x[i] for i in range(n)))
    return m, x, h


def run_one(job: dict[str, Any]) -> dict[str, Any]:
    """One proof run: SCIP on the job's model (orig / sparse) with objective limit
    job["cutoff"]."""
    from pyscipopt import SCIP_PARAMSETTING

    from exactprune.instances import generate_neuron_pruning
    from exactprune.solvers.milp_engines import SCIP_PARAMS

    inst = generate_neuron_pruning(d=2, width=job["n"], points=job["points"], seed=job["seed"],
                                   output_activation="identity")
    C, f = residual_system(inst)
    t0 = time.perf_counter()
    if job["mode"] == "sparse":
        m, *_ = sparse_model(C, f, grid_angles(inst.points))
    else:
        m, _ = plain_model(C, f)
    m.setParams({**SCIP_PARAMS, "limits/time": job["time_limit"]})
    m.setSeparating(SCIP_PARAMSETTING.OFF)
    m.setObjlimit(job["cutoff"])
    nonzeros = _nonzeros(m)
    m.optimize()
    return {**job, "status": m.getStatus(), "seconds": round(time.perf_counter() - t0, 1),
            "nodes": int(m.getNNodes()), "nonzeros": nonzeros,
            "best": m.getObjVal() if m.getNSols() else None,
            "bound": float(m.getDualbound())}


def _nonzeros(m: Any) -> int:
    return int(sum(len(m.getValsLinear(c)) for c in m.getConss()))


def _rate(row: dict[str, Any]) -> str:
    if not row.get("nodes") or not row.get("seconds"):
        return ""
    return f"{row['nodes'] / row['seconds']:.0f}"


def main(argv: list[str] | None = None) -> int:
    p = proof_parser(__doc__.split("\n")[0], seeds="0,1", time_limit=300.0, jobs=1)
    p.add_argument("--cutoffs", required=True, type=float_list,
                   help="objective limit per seed (just above its optimum, so only the proof "
                        "is timed)")
    p.add_argument("--modes", default=",".join(MODES))
    args = p.parse_args(argv)
    cutoffs = per_seed(p, args.seeds, args.cutoffs, "--cutoffs")
    modes = choice_list(p, args.modes, MODES, "mode")
    check_proof_args(p, args)
    if args.points % 4:
        p.error("--points must be a multiple of 4 (the form drops rows 0 and K/4)")
    require_packages(p, ("pyscipopt",), "PySCIPOpt", "pyscipopt")
    jobs = [{"n": args.n, "points": args.points, "seed": s, "cutoff": c, "mode": m,
             "time_limit": args.time_limit}
            for s, c in cutoffs for m in modes]
    rows = run_proof_jobs("exactprune.benchmarks.pruning.second_difference:run_one", jobs,
                          args.jobs)
    write_proof_page(
        args.out, f"pruning-second-difference-n{args.n}-identity",
        f"Second-difference form for SCIP's proof: neuron pruning, d = 2, n = {args.n}, "
        f"K = {args.points}, identity output",
        f"python -m exactprune.benchmarks.pruning.second_difference --n {args.n} "
        f"--points {args.points} --seeds {args.seeds} "
        f"--cutoffs {','.join(f'{c:g}' for c in args.cutoffs)} --modes {args.modes} "
        f"--time-limit {args.time_limit:g} --jobs {args.jobs}",
        f"SCIP 10 (PySCIPOpt), our tolerances, no cuts; min t with the objective limit just "
        f"above the optimum (proved = status optimal); {args.jobs} run(s) at a time. "
        "orig: −t <= C x − f <= t; sparse: −t <= h − f <= t, D h = D C x, two moment rows.",
        ["seed", "cutoff", "model", "status", "time (s)", "nodes", "nodes/s", "bound",
         "nonzeros"],
        [[r["seed"], f"{r['cutoff']:g}", r["mode"], r["status"], r["seconds"], r["nodes"],
          _rate(r), "" if r.get("bound") is None else f"{r['bound']:.6g}",
          r.get("nonzeros", "")] for r in rows],
        rows, args.tag)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
