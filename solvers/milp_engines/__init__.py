"""MILP engines: one solve of one `MilpModel` with CBC, HiGHS, SCIP or Gurobi (no certification).

Every engine takes any `MilpModel` (formulations/linear.py) and returns an `EngineResult`: status,
variable values of the best solution, the solver's own objective and dual bound, node count. What
a result means is decided by the caller (solvers/subset_sum/milp.py, solvers/pruning/exact.py),
which turns each engine's tolerances into a slack (formulations.linear.tolerance_slack).

One module per engine, each saying the tolerances it runs with (all absolute; gaps 0):
  cbc.py     PuLP's CBC, tolerances 1e-9, cutoff increment 1e-12, bound read from its log
  highs.py   highspy's native API, tolerances 1e-10, presolve off
  scip.py    SCIP inside OR-Tools, feastol 1e-10, dualfeastol 1e-12 (SoPlex runs 1e-10)
  gurobi.py  gurobipy when installed, Gurobi's tightest tolerances 1e-9
What they share: `engine.py` (`Engine`, `EngineResult`, the start check) and
`native_output.py` (native solver prints never reach stdout: they go to stderr when verbose,
else to /dev/null; the CLI prints JSON on stdout). This module holds the table `ENGINES` every
kind's MILP backends are made from and `solve_model`, the one entry point.
"""

from __future__ import annotations

import math
from dataclasses import replace

import numpy as np

from exactprune.formulations.linear import MilpModel
from exactprune.solvers.milp_engines import cbc, gurobi, highs, scip
from exactprune.solvers.milp_engines.cbc import (
    CBC_PRINT_REL,
    cbc_threads,
    parse_cbc_log,
    pulp_outcome,
    solver_files,
)
from exactprune.solvers.milp_engines.engine import (
    Engine,
    EngineResult,
    check_start,
    start_verdict,
)
from exactprune.solvers.milp_engines.highs import HIGHS_OPTIONS
from exactprune.solvers.milp_engines.native_output import Captured, native_stdout
from exactprune.solvers.milp_engines.scip import (
    SCIP_NO_CUTS,
    SCIP_NO_DUAL_REDUCTIONS,
    SCIP_NO_LINEAR_PRESOLVE,
    SCIP_PARAMS,
    SOPLEX_MIN_OPTIMALITY_TOLERANCE,
)
from exactprune.solvers.result import CLAIM_REFUTED, SolveOptions

__all__ = [
    "CBC_PRINT_REL", "ENGINES", "ENGINE_KEYWORDS", "HIGHS_OPTIONS", "SCIP_NO_CUTS",
    "SCIP_NO_DUAL_REDUCTIONS", "SCIP_NO_LINEAR_PRESOLVE", "SCIP_PARAMS",
    "SOPLEX_MIN_OPTIMALITY_TOLERANCE", "Captured", "Engine", "EngineResult", "cbc_threads",
    "check_start", "distrust_infeasible_with_feasible_start", "native_stdout", "parse_cbc_log",
    "proven_lower_bound", "pulp_outcome", "solve_model", "solver_files", "start_verdict",
]

ENGINES: dict[str, Engine] = {
    "cbc": Engine("cbc", "CBC (PuLP)", cbc.solve, cbc.tolerances, cbc.available, cbc.version),
    "highs": Engine("highs", "HiGHS (highspy)", highs.solve, highs.tolerances, highs.available,
                    highs.version),
    "scip": Engine("scip", "SCIP (OR-Tools)", scip.solve, scip.tolerances, scip.available,
                   scip.version),
    "gurobi": Engine("gurobi", "Gurobi (gurobipy, optional)", gurobi.solve, gurobi.tolerances,
                     gurobi.available, gurobi.version),
}

# Engine-specific keyword options `solve_model` passes from a backend's options (only the
# backends that declare them receive them).
ENGINE_KEYWORDS: dict[str, tuple[str, ...]] = {
    "cbc": ("preprocess",), "scip": ("cuts", "linear_presolve", "dual_reductions"),
    "gurobi": ("presolve", "numeric_focus")}


def _threads(opts: SolveOptions) -> int:
    return 1 if opts.threads is None else int(opts.threads)


def proven_lower_bound(res: EngineResult, model: MilpModel, slack: float,
                       cap: float) -> float | None:
    """A rigorous lower bound on a minimisation model's optimum from an engine's answer, given
    the tolerance slack of the certificate, or None: the dual bound minus the slack; for an
    "optimal" answer without a bound, its objective minus the slack and the values' print
    rounding (zero gaps; CBC's log does not always print the bound, and its solution file
    prints 8 digits; the cutoff increment and gaps are inside the slack); for
    "infeasible" under an objective cap, the cap minus the slack (nothing below it exists)."""
    lower = None
    if res.bound is not None and math.isfinite(res.bound):
        lower = res.bound - slack
    elif res.status == "optimal" and res.values is not None:
        # the values may come from CBC's solution file, printed with 8 significant digits
        # (neuron-selection audit case 2010: t = 7.0095634 for 7.00956336102)
        c = np.asarray(model.objective, dtype=np.float64)
        printed = CBC_PRINT_REL * float(np.sum(np.abs(c * res.values)))
        lower = model.objective_value(res.values) - printed - slack
    if res.status == "infeasible":
        lower = cap - slack
    return lower


def distrust_infeasible_with_feasible_start(res: EngineResult, model: MilpModel,
                                            start: np.ndarray | None,
                                            feasibility: float) -> EngineResult:
    """Turn an engine's "infeasible" into "error" when the start it was given satisfies every
    bound, integrality and row within the engine's own feasibility tolerance: the claim is then
    refuted by a point in hand, and trusting it would certify an incumbent as optimal (callers
    read "infeasible" under an objective cap as "nothing better exists")."""
    if res.status != "infeasible" or start is None or check_start(model, start, feasibility):
        return res
    res.status = "error"
    res.notes.append("the engine said infeasible, but the start given to it is feasible "
                     f"within its tolerance: {CLAIM_REFUTED}")
    return res


def solve_model(engine: str, model: MilpModel, opts: SolveOptions,
                time_limit: float | None = None, start: np.ndarray | None = None
                ) -> EngineResult:
    """Solve one MilpModel with the engine `engine` (no certification: raw solver answer).

    Every engine is given a minimisation (a "max" model is negated on the way in and its
    objective and bound negated back, so `bound` is then an upper bound), which keeps
    solver-specific sense conventions (CBC's log, MPS files without OBJSENSE) out of the way.
    """
    flip = model.sense == "max"
    if flip:
        model = replace(model, objective=-model.objective,
                        objective_offset=-model.objective_offset, sense="min")
    keywords = {k: opts.extra[k] for k in ENGINE_KEYWORDS.get(engine, ())
                if opts.extra.get(k) is not None}  # None: the caller's default, resolved before
    res = ENGINES[engine].solve(
        model, time_limit=time_limit, seed=opts.seed, threads=_threads(opts),
        verbose=opts.verbose, start=start, **keywords,
    )
    feasibility = ENGINES[engine].tolerances().feasibility
    start_verdict(res, model, start, feasibility)
    distrust_infeasible_with_feasible_start(res, model, start, feasibility)
    if flip:
        res.objective = None if res.objective is None else -res.objective
        res.bound = None if res.bound is None else -res.bound
    return res
