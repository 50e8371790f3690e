"""Benchmark: does a lattice (column basis) reformulation help SCIP prove neuron optima?

    python -m exactprune.benchmarks.pruning.basis_reduction --seeds 1,3 \
        --below 0.012644,0.0180848

Why. With an identity output the residual of a neuron mask x is C x − f (C: K × n, a unit's
column on the points), and C is nearly rank-deficient at the error's scale: on the n = 128,
K = 256 instance of seed 3 (optimum near 0.018) 40 of its 128 singular values exceed 0.018
and 88 do not (seeds 0–2: 32–35 exceed 0.03, 49–52 exceed 0.01), so many masks differ
by integer vectors z with C z tiny, and the tree must tell them apart (docs/pruning.md). For
such near-collisions the integer-programming literature's remedy is basis reduction: the
rangespace reformulation of Krishnamoorthy and Pataki (Discrete Optimization 6, 2009) replaces
x by T y, T unimodular from LLL on the columns of [C / (2t); I] (each row scaled to its
constraint's width), so that the new columns are short and nearly orthogonal and branching on
y_j branches on the hyperplanes along which the feasible set is thin — the method that solves
market-split instances plain branch-and-bound cannot. The LP relaxation is the same polytope
(T is unimodular), only the branching changes.

The measure is SCIP's proof that no mask has linf error <= t for a t just below the optimum
(or below the best bound known): the feasibility system f − t <= C x <= f + t, x binary
("orig"), against f − t <= C T y <= f + t, 0 <= T y <= 1, y integer ("reduced"), SCIP 10
through PySCIPOpt, our tolerances (or, `--tolerances loose`, SCIP's with feastol 1e-9), no
cutting planes (our default). Optional packages: PySCIPOpt
and fpylll (`pip install pyscipopt fpylll cysignals`). Not a solver option.
"""

from __future__ import annotations

import math
import time
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

MODES = ("orig", "reduced")


def residual_system(instance: Any) -> tuple[np.ndarray, np.ndarray]:
    """(C, f) with residual C x − f for neuron mask x (identity output): C[k, i] =
    v_i relu(w_i·x_k), shape (K, n); f[k] the target neuron at point k, shape (K,)."""
    if instance.kind != "neuron_pruning" or instance.network.output_activation != "identity":
        raise ValueError("basis reduction is measured on neuron pruning with an identity output")
    X = np.asarray(instance.points, dtype=float)
    C = (np.maximum(X @ np.asarray(instance.network.hidden_weights, dtype=float).T, 0.0)
         * np.ravel(instance.network.output_weights))
    target = instance.target
    f = (np.maximum(X @ np.asarray(target.hidden_weights, dtype=float).T, 0.0)
         * np.ravel(target.output_weights)).sum(axis=1)
    return C, f


def reduced_basis(C: np.ndarray, t: float, scale: float = 1e4) -> np.ndarray:
    """T (n × n, integer, unimodular) with x = T y: LLL on the columns of
    [C / (2t); I], rounded to integers at `scale` (only the basis's quality depends on it;
    T itself is exact)."""
    from fpylll import LLL, IntegerMatrix

    n = C.shape[1]
    A = np.vstack([C / (2.0 * t), np.eye(n)])
    B = IntegerMatrix.from_matrix(np.rint(scale * A.T).astype(np.int64).tolist())
    U = IntegerMatrix.identity(n)
    LLL.reduction(B, U)  # rows of B become U · (rows of A^T)
    return np.array([[U[i, j] for j in range(n)] for i in range(n)], dtype=np.int64).T


def feasibility_model(C: np.ndarray, f: np.ndarray, t: float, T: np.ndarray | None) -> Any:
    """PySCIPOpt model of {x binary: |C x − f| <= t}, on x itself (T None) or on y with
    x = T y (y integer, bounds from T^-1 and the box). Returns (model, its variables)."""
    from pyscipopt import Model, quicksum

    m = Model()
    m.hideOutput()
    K, n = C.shape
    if T is None:
        z = [m.addVar(f"x{i}", vtype="B") for i in range(n)]
        M = C
    else:
        inv = np.linalg.inv(T.astype(float))
        lo, hi = np.minimum(inv, 0.0).sum(axis=1), np.maximum(inv, 0.0).sum(axis=1)
        z = [m.addVar(f"y{j}", vtype="I", lb=math.floor(lo[j] - 1e-6),
                      ub=math.ceil(hi[j] + 1e-6)) for j in range(n)]
        M = C @ T
        for i in range(n):
            row = quicksum(float(T[i, j]) * z[j] for j in np.flatnonzero(T[i]))
            m.addCons(row >= 0)
            m.addCons(row <= 1)
    for k in range(K):
        row = quicksum(float(M[k, j]) * z[j] for j in np.flatnonzero(M[k]))
        m.addCons(row <= float(f[k]) + t)
        m.addCons(row >= float(f[k]) - t)
    return m, z


def run_one(job: dict[str, Any]) -> dict[str, Any]:
    """One proof run: SCIP on the job's model (orig / reduced) at error level job["t"]."""
    from pyscipopt import SCIP_PARAMSETTING

    from exactprune.instances import generate_neuron_pruning
    from exactprune.solvers.milp_engines import SCIP_PARAMS

    inst = generate_neuron_pruning(d=2, width=job["n"], points=job["points"], seed=job["seed"],
                                   output_activation="identity")
    C, f = residual_system(inst)
    t0 = time.perf_counter()
    T = reduced_basis(C, job["t"], job["scale"]) if job["mode"] == "reduced" else None
    m, _ = feasibility_model(C, f, job["t"], T)
    tolerances = SCIP_PARAMS if job["tolerances"] == "ours" else {"numerics/feastol": 1e-9}
    m.setParams({**tolerances, "limits/time": job["time_limit"]})
    m.setSeparating(SCIP_PARAMSETTING.OFF)
    m.optimize()
    return {**job, "status": m.getStatus(), "seconds": round(time.perf_counter() - t0, 1),
            "nodes": int(m.getNNodes()),
            "max_T": None if T is None else int(np.abs(T).max())}


def main(argv: list[str] | None = None) -> int:
    p = proof_parser(__doc__.split("\n")[0], seeds="1,3", time_limit=300.0, jobs=1)
    p.add_argument("--below", required=True, type=float_list,
                   help="error level t per seed (just below its optimum: the system is "
                        "infeasible and SCIP must prove it)")
    p.add_argument("--modes", default=",".join(MODES))
    p.add_argument("--scale", type=float, default=1e4, help="integer scale of the LLL input")
    p.add_argument("--tolerances", default="ours", choices=["ours", "loose"],
                   help="ours: the scip engine's (feastol 1e-10, dualfeastol 1e-12); loose: "
                        "SCIP's defaults but feastol 1e-9")
    args = p.parse_args(argv)
    levels = per_seed(p, args.seeds, args.below, "--below")
    modes = choice_list(p, args.modes, MODES, "mode")
    check_proof_args(p, args)
    if not args.scale > 0:
        p.error("--scale must be positive")
    require_packages(p, ("fpylll", "pyscipopt"), "PySCIPOpt and fpylll",
                     "pyscipopt fpylll cysignals")
    jobs = [{"n": args.n, "points": args.points, "seed": s, "t": t, "mode": m,
             "time_limit": args.time_limit, "scale": args.scale, "tolerances": args.tolerances}
            for s, t in levels for m in modes]
    rows = run_proof_jobs("exactprune.benchmarks.pruning.basis_reduction:run_one", jobs,
                          args.jobs)
    write_proof_page(
        args.out, f"pruning-basis-reduction-n{args.n}-identity",
        f"Basis reduction for SCIP's proof: neuron pruning, d = 2, n = {args.n}, "
        f"K = {args.points}, identity output",
        f"python -m exactprune.benchmarks.pruning.basis_reduction --n {args.n} "
        f"--points {args.points} --seeds {args.seeds} "
        f"--below {','.join(f'{t:g}' for t in args.below)} --modes {args.modes} "
        f"--scale {args.scale:g} --tolerances {args.tolerances} "
        f"--time-limit {args.time_limit:g} --jobs {args.jobs}",
        f"SCIP 10 (PySCIPOpt), tolerances {args.tolerances}, no cuts; proof that no mask has "
        f"error <= t (infeasible = proved); {args.jobs} run(s) at a time. orig: x binary; "
        "reduced: x = T y, T from LLL (time includes the reduction).",
        ["seed", "t", "model", "status", "time (s)", "nodes", "max abs entry of T"],
        [[r["seed"], f"{r['t']:g}", r["mode"], r["status"], r["seconds"], r["nodes"],
          "" if r["max_T"] is None else r["max_T"]] for r in rows],
        rows, args.tag)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
