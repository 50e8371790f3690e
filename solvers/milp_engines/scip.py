"""SCIP inside OR-Tools (pywraplp).

limits/gap = limits/absgap = 0, numerics/feastol 1e-10, numerics/dualfeastol 1e-12,
numerics/sumepsilon = epsilon = 1e-11 (`SCIP_PARAMS`); its LP solver (SoPlex without GMP) runs
the node LPs at an optimality tolerance of 1e-10, not 1e-12, and the slack uses that. Bound:
Objective().BestBound(). Keyword cuts=False turns its cutting planes off (`SCIP_NO_CUTS`; the
default of neuron selection and of the pruning kinds but for the l1 error with a relu output:
their option `cuts`); linear_presolve=False and dual_reductions=False switch off the reductions
found wrong on some models (`SCIP_NO_LINEAR_PRESOLVE`, `SCIP_NO_DUAL_REDUCTIONS`).
"""

from __future__ import annotations

import contextlib
import functools
import math
import re
import time

import numpy as np

from exactprune.formulations.linear import MilpModel, SolverTolerances, to_ortools
from exactprune.solvers.clock import MIN_ENGINE_SECONDS, left_after_building
from exactprune.solvers.interrupt import stop_on_sigint
from exactprune.solvers.milp_engines.engine import EngineResult
from exactprune.solvers.milp_engines.native_output import native_stdout
from exactprune.termination import interruptions_pass

# Tight tolerances: the certificate's slack T is ~(feastol + dualfeastol × binaries); at 1e-10 /
# 1e-12 it is ~1e-9 on pruning models (1e-8 at 1e-9 / 1e-9), with no measured slowdown
# (docs/benchmarks/pruning-levers-*-tolerances.md).
SCIP_PARAMS: dict[str, float] = {
    "limits/gap": 0.0,
    "limits/absgap": 0.0,
    "numerics/feastol": 1e-10,
    "numerics/dualfeastol": 1e-12,
    "numerics/epsilon": 1e-11,
    "numerics/sumepsilon": 1e-11,
}


# SCIP's "separating off" setting (what SCIPsetSeparating(OFF) sets in SCIP 10.0): every
# separator's and constraint handler's separation frequency -1, i.e. no cutting planes. On the
# pruning models the cuts barely lift the bound and slow every node; measured faster without
# (docs/benchmarks/pruning-levers-*-cuts.md), except on the l1 / relu-output models' big-M rows.
SCIP_NO_CUTS: dict[str, int] = {
    **{f"separating/{name}/freq": -1 for name in (
        "flower", "rlt", "disjunctive", "minor", "mixing", "impliedbounds", "gomory", "strongcg",
        "gomorymi", "flowcover", "cmir", "knapsackcover", "aggregation", "clique", "zerohalf",
        "mcf", "rapidlearning")},
    **{f"constraints/{name}/sepafreq": -1 for name in (
        "nonlinear", "linear", "exactlinear", "and", "cardinality", "cumulative", "indicator",
        "knapsack", "linking", "logicor", "or", "orbisack", "setppc", "SOS1", "SOS2",
        "symresack", "varbound", "xor")},
}

# SCIP's linear-constraint presolving off. At our tolerances it proved a wrong bound on a
# big-M weight-pruning model (random audit case 8111: t >= the incumbent's error 0.7622 in
# presolve, so the incumbent came back "optimal" while the optimum is 0.6097; right with
# these rounds off, with SCIP's default tolerances, or with presolving off). The big-M
# formulation runs SCIP without them (solvers/pruning/exact.py).
SCIP_NO_LINEAR_PRESOLVE: dict[str, int] = {"constraints/linear/maxprerounds": 0}

# SCIP's dual reductions off (presolve and propagation may then not remove solutions that are
# only "no better" than the ones kept). At our tolerances they cut off the optimum of
# subset-sum models whose values span many magnitudes (audit cases 686, 2356: "optimal"
# 5.3e-7 where adding one value gives 7e-13; presolve off alone fixed one of the two);
# subset-sum runs SCIP without them (solvers/subset_sum/milp.py).
SCIP_NO_DUAL_REDUCTIONS: dict[str, bool] = {"misc/allowstrongdualreds": False,
                                            "misc/allowweakdualreds": False}


@functools.cache
def available() -> bool:
    try:
        with interruptions_pass():
            from ortools.linear_solver import pywraplp

            return pywraplp.Solver.CreateSolver("SCIP") is not None
    except Exception:
        return False


@functools.cache
def version() -> str | None:
    import ortools
    from ortools.linear_solver import pywraplp

    solver = pywraplp.Solver.CreateSolver("SCIP")
    text = solver.SolverVersion() if solver is not None else ""
    found = re.search(r"SCIP\s+(\S+)", text)
    return f"SCIP {found.group(1) if found else 'unknown'} (OR-Tools {ortools.__version__})"


# The LP optimality (dual feasibility) tolerance SCIP's LP solver really runs with. SCIP passes
# numerics/dualfeastol (1e-12) on to SoPlex, but SoPlex built without GMP, as in OR-Tools'
# wheels (and PySCIPOpt's), refuses anything below 1e-10: "Cannot set optimality tolerance to
# small value 1e-12 without GMP - using 1e-10" in SCIP's log. The node LPs' duals are then
# feasible only to 1e-10, so the certificate's slack must use that (100x the nominal value).
SOPLEX_MIN_OPTIMALITY_TOLERANCE = 1e-10


def tolerances() -> SolverTolerances:
    p = SCIP_PARAMS
    return SolverTolerances(
        feasibility=p["numerics/feastol"],
        optimality=max(p["numerics/dualfeastol"], SOPLEX_MIN_OPTIMALITY_TOLERANCE),
        integrality=p["numerics/feastol"], abs_gap=p["limits/absgap"], rel_gap=p["limits/gap"],
        cutoff=0.0, epsilon=p["numerics/epsilon"] + p["numerics/sumepsilon"],
    )


def solve(model: MilpModel, *, time_limit: float | None, seed: int, threads: int,
                verbose: bool, start: np.ndarray | None, cuts: bool = True,
                linear_presolve: bool = True, dual_reductions: bool = True) -> EngineResult:
    """cuts=False: no cutting planes (`SCIP_NO_CUTS`); linear_presolve=False: no presolving of
    linear constraints (`SCIP_NO_LINEAR_PRESOLVE`); dual_reductions=False: no dual reductions
    (`SCIP_NO_DUAL_REDUCTIONS`); the tolerances are unchanged."""
    from ortools.linear_solver import pywraplp

    entered = time.perf_counter()
    notes: list[str] = []
    solver = pywraplp.Solver.CreateSolver("SCIP")
    if solver is None:
        return EngineResult("error", notes=["OR-Tools was built without SCIP"])
    variables = to_ortools(model, solver)
    params: dict[str, float | bool] = {
        **SCIP_PARAMS, **({} if cuts else SCIP_NO_CUTS),
        **({} if linear_presolve else SCIP_NO_LINEAR_PRESOLVE),
        **({} if dual_reductions else SCIP_NO_DUAL_REDUCTIONS)}
    lines = [f"{k} = {str(v).upper() if isinstance(v, bool) else repr(v)}"
             for k, v in params.items()]
    lines.append(f"randomization/randomseedshift = {int(seed) % 2147483647}")
    lines.append("misc/catchctrlc = FALSE")  # Ctrl-C interrupts the solve: stop_on_sigint
    if not solver.SetSolverSpecificParametersAsString("\n".join(lines) + "\n"):
        return EngineResult("error", notes=["SCIP refused the parameter settings"])
    if threads > 1 and not solver.SetNumThreads(threads):
        notes.append(f"SCIP refused {threads} threads")
    if verbose or start is not None:  # the verdict on a start is only in SCIP's log
        solver.EnableOutput()
    else:
        solver.SuppressOutput()
    if start is not None:
        solver.SetHint(variables, [float(v) for v in start])
    mp = pywraplp.MPSolverParameters()
    mp.SetDoubleParam(pywraplp.MPSolverParameters.RELATIVE_MIP_GAP, 0.0)
    mp.SetDoubleParam(pywraplp.MPSolverParameters.PRIMAL_TOLERANCE, params["numerics/feastol"])
    mp.SetDoubleParam(pywraplp.MPSolverParameters.DUAL_TOLERANCE,
                      params["numerics/dualfeastol"])
    time_limit = left_after_building(time_limit, entered)  # the conversion counts
    if time_limit == 0.0:
        return EngineResult.not_started(entered)
    if time_limit is not None:
        time_limit = max(time_limit, MIN_ENGINE_SECONDS)
        # milliseconds as int64: a limit beyond ~290 million years is capped, not an overflow
        solver.SetTimeLimit(max(1, int(math.ceil(min(time_limit, 2.0**52) * 1000))))
    t0 = time.perf_counter()
    with native_stdout(verbose, capture=start is not None) as printed, \
            stop_on_sigint(solver.InterruptSolve):
        code = solver.Solve(mp)
    seconds = time.perf_counter() - t0
    values = objective = bound = None
    if code in (pywraplp.Solver.OPTIMAL, pywraplp.Solver.FEASIBLE):
        values = np.array([v.solution_value() for v in variables], dtype=np.float64)
        objective = float(solver.Objective().Value())
        bound = float(solver.Objective().BestBound())
        if not math.isfinite(bound):
            bound = None
    nodes = None
    with contextlib.suppress(Exception):
        nodes = int(solver.nodes())
    timed_out = time_limit is not None and seconds >= 0.95 * time_limit
    if code == pywraplp.Solver.OPTIMAL:
        status = "optimal"
    elif code == pywraplp.Solver.INFEASIBLE:
        status = "infeasible"
    elif code == pywraplp.Solver.FEASIBLE:
        status = "time_limit" if timed_out else "stopped"
    elif code == pywraplp.Solver.NOT_SOLVED and timed_out:
        status = "time_limit"
    else:
        status = "error"
        notes.append(f"SCIP (pywraplp) result status {code}")
    res = EngineResult(status, values, objective, bound, nodes, seconds, notes)
    if start is not None:
        res.start, res.start_reason = _scip_start(printed.text)
    return res


def _scip_start(log: str) -> tuple[str | None, str | None]:
    """SCIP's verdict on the hint, from its log (SCIP 10 wording; None when it says nothing)."""
    if re.search(r"\d+/\d+ feasible solutions? given by solution candidate storage", log):
        return "accepted", None
    if "feasible solution found by completesol heuristic" in log:
        return "rejected", "SCIP completed a partial solution from the hint"
    lines = log.splitlines()
    for i, line in enumerate(lines):
        if "solutions given by solution candidate storage are infeasible" in line:
            why = " ".join(x.strip() for x in lines[max(0, i - 3):i] if x.strip())
            return "rejected", (why or line.strip())[:300]
        if re.search(r"completion of a partial solution failed|ignore partial solution", line):
            return "rejected", line.strip()[:300]
    return None, None
