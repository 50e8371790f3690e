"""Gurobi through gurobipy (optional: the engine is listed only when gurobipy is installed; its
pip wheel solves models up to 2,000 variables and constraints without a licence file)."""

from __future__ import annotations

import contextlib
import functools
import math
import re
import signal
import time
from typing import Any

import numpy as np

from exactprune.formulations.linear import MilpModel, SolverTolerances
from exactprune.solvers.clock import MIN_ENGINE_SECONDS, left_after_building
from exactprune.solvers.interrupt import (
    keep_sigint_disposition,
    python_handles_sigint,
    stop_on_sigint,
)
from exactprune.solvers.milp_engines.engine import EngineResult, status_word
from exactprune.solvers.milp_engines.native_output import native_stdout
from exactprune.termination import interruptions_pass

GUROBI_PARAMS: dict[str, float] = {
    "FeasibilityTol": 1e-9,
    "IntFeasTol": 1e-9,
    "OptimalityTol": 1e-9,
    "MIPGap": 0.0,
    "MIPGapAbs": 0.0,
    "DualReductions": 0,  # a definite INFEASIBLE instead of INF_OR_UNBD
}
"""Gurobi at its tightest tolerances, zero gaps; the certificate's slack uses these values."""


@functools.cache
def available() -> bool:
    """gurobipy importable and a model can be built (its pip wheel carries a size-limited
    licence: models up to 2,000 variables and constraints; larger ones fail with a note)."""
    try:
        with interruptions_pass():
            import gurobipy as gp

            with native_stdout(False):
                env = gp.Env(empty=True)
                env.setParam("OutputFlag", 0)
                env.start()
                env.dispose()
        return True
    except Exception:
        return False


@functools.cache
def version() -> str | None:
    import gurobipy as gp

    major, minor, tech = gp.gurobi.version()
    return f"Gurobi {major}.{minor}.{tech} (gurobipy)"


def tolerances() -> SolverTolerances:
    p = GUROBI_PARAMS
    return SolverTolerances(
        feasibility=p["FeasibilityTol"], optimality=p["OptimalityTol"],
        integrality=p["IntFeasTol"], abs_gap=p["MIPGapAbs"], rel_gap=p["MIPGap"],
        cutoff=0.0, epsilon=1e-10,
    )


def solve(model: MilpModel, *, time_limit: float | None, seed: int, threads: int,
                  verbose: bool, start: np.ndarray | None, presolve: bool = True,
          numeric_focus: int = 0) -> EngineResult:
    """presolve=False: Gurobi without presolve (`Presolve = 0`), the tolerances unchanged;
    numeric_focus: Gurobi's `NumericFocus` (0, its default: its own choice; 3: the most
    careful numerics, as subset-sum sets it)."""
    import gurobipy as gp
    from gurobipy import GRB

    entered = time.perf_counter()
    notes: list[str] = []
    log: list[str] = []
    try:
        # one redirection for the whole solve: gurobipy echoes every setParam ("Set
        # parameter ...") on stdout when logging to the console, and its Ctrl-C handler prints
        # "Interrupt request received" there whatever the settings; --json needs it clean
        with native_stdout(verbose):
            env = gp.Env(empty=True)
            env.setParam("OutputFlag", 1 if verbose or start is not None else 0)
            env.setParam("LogToConsole", 1 if verbose else 0)
            env.start()
            m = gp.Model(model.name or "exactprune", env=env)
            for name, value in GUROBI_PARAMS.items():
                m.setParam(name, value)
            m.setParam("Seed", int(seed) % 2_000_000_000)
            if not presolve:
                m.setParam("Presolve", 0)
            if numeric_focus:
                m.setParam("NumericFocus", int(numeric_focus))
            m.setParam("Threads", int(threads))
            vtype = [GRB.INTEGER if i else GRB.CONTINUOUS for i in model.integer]
            binary = (model.lower >= 0) & (model.upper <= 1) & model.integer
            vtype = [GRB.BINARY if b else t for b, t in zip(binary, vtype, strict=True)]
            lb = [float(v) if math.isfinite(v) else -GRB.INFINITY for v in model.lower]
            ub = [float(v) if math.isfinite(v) else GRB.INFINITY for v in model.upper]
            x = m.addVars(model.n_vars, lb=lb, ub=ub, obj=[float(c) for c in model.objective],
                          vtype=vtype)
            m.ObjCon = float(model.objective_offset)
            m.ModelSense = GRB.MINIMIZE
            for r in range(model.n_rows):
                a, b = int(model.row_starts[r]), int(model.row_starts[r + 1])
                expr = gp.LinExpr([float(v) for v in model.row_value[a:b]],
                                  [x[int(j)] for j in model.row_index[a:b]])
                lo, hi = float(model.row_lower[r]), float(model.row_upper[r])
                if lo == hi:
                    m.addLConstr(expr, GRB.EQUAL, lo)
                elif math.isfinite(lo) and math.isfinite(hi):
                    m.addRange(expr, lo, hi)
                elif math.isfinite(hi):
                    m.addLConstr(expr, GRB.LESS_EQUAL, hi)
                elif math.isfinite(lo):
                    m.addLConstr(expr, GRB.GREATER_EQUAL, lo)
            if start is not None:
                for j in range(model.n_vars):
                    x[j].Start = float(start[j])

            def on_message(_: Any, where: int) -> None:
                if where == GRB.Callback.MESSAGE:
                    log.append(m.cbGet(GRB.Callback.MSG_STRING))

            left = left_after_building(time_limit, entered)  # the conversion counts
            if left == 0.0:
                m.dispose()
                env.dispose()
                return EngineResult.not_started(entered)
            if left is not None:
                m.setParam("TimeLimit", float(max(left, MIN_ENGINE_SECONDS)))
            t0 = time.perf_counter()
            try:
                # Gurobi takes SIGINT with its own handler; SIGTERM (exit 143) reaches Python's,
                # whose Terminated raised inside the message callback gurobipy swallowed, and
                # the stop was reported as a Ctrl-C, or as "stopped" when SIGINT was ignored
                # (hunt 28): the watcher asks Gurobi to stop and raises Terminated itself
                with keep_sigint_disposition(), stop_on_sigint(m.terminate):
                    m.optimize(on_message if start is not None else None)
            except KeyboardInterrupt:
                m.dispose()
                env.dispose()
                raise
            seconds = time.perf_counter() - t0
    except gp.GurobiError as exc:
        return EngineResult("error", notes=[f"Gurobi: {exc}"])
    code = m.Status
    if code == GRB.INTERRUPTED and python_handles_sigint():
        # Gurobi caught Ctrl-C and stopped (nothing else interrupts it): an interruption, as
        # Python's own handler would have raised it (a caller who ignores or handles SIGINT
        # gets the honest "stopped" result instead)
        m.dispose()
        env.dispose()
        raise KeyboardInterrupt
    if code == GRB.INTERRUPTED and callable(signal.getsignal(signal.SIGINT)):
        # Gurobi's own handler took the signal from the caller's: pass it on, so that their
        # handler runs as it would have without Gurobi (ignored SIGINT: nothing to pass)
        signal.raise_signal(signal.SIGINT)
    values = objective = bound = None
    if m.SolCount > 0:
        values = np.array([x[j].X for j in range(model.n_vars)], dtype=np.float64)
        objective = float(m.ObjVal)
    with contextlib.suppress(Exception):
        bound = float(m.ObjBound)
        if not math.isfinite(bound):
            bound = None
    nodes = None
    with contextlib.suppress(Exception):
        nodes = int(m.NodeCount)
    status = status_word(code, values is not None, optimal=GRB.OPTIMAL,
                         infeasible=GRB.INFEASIBLE, time_limit=GRB.TIME_LIMIT,
                         stopped=(GRB.INTERRUPTED, GRB.NODE_LIMIT, GRB.SOLUTION_LIMIT,
                                  GRB.ITERATION_LIMIT, GRB.WORK_LIMIT, GRB.MEM_LIMIT,
                                  GRB.USER_OBJ_LIMIT))
    if status is None:
        status = "error"
        notes.append(f"Gurobi status code {code}")
    res = EngineResult(status, values, objective, bound, nodes, seconds, notes)
    if start is not None:
        res.start, res.start_reason = _gurobi_start("".join(log))
    m.dispose()
    env.dispose()
    return res


def _gurobi_start(log: str) -> tuple[str | None, str | None]:
    """Gurobi's verdict on the MIP start, from its log (Gurobi 13 wording)."""
    if re.search(r"(Loaded user MIP start|User MIP start produced solution) with objective",
                 log):
        return "accepted", None
    found = re.search(r"User MIP start (did not produce a new incumbent solution|violates .*)",
                      log)
    if found:
        return "rejected", found.group(0)[:300]
    return None, None
