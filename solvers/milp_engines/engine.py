"""What every MILP engine is and returns: `Engine` (one solve of one `MilpModel`, its
tolerances, probes of its library) and `EngineResult`; and exactprune's own check of a MIP
start against a model, for engines that print no verdict on a start."""

from __future__ import annotations

import time
from collections.abc import Callable, Collection
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from exactprune.formulations.linear import MilpModel, SolverTolerances
from exactprune.solvers.clock import NOT_STARTED


@dataclass
class EngineResult:
    """One solver run. status: optimal | infeasible | time_limit | stopped | error.

    values: variable values (model order) of the best solution, or None; objective: the
    solver's own objective of it; bound: the solver's dual bound (raw, before slack) or None.
    """

    status: str
    values: np.ndarray | None = None
    objective: float | None = None
    bound: float | None = None
    nodes: int | None = None
    seconds: float = 0.0
    notes: list[str] = field(default_factory=list)
    start: str | None = None
    """What the engine did with a MIP start: "accepted", "rejected", "not_supported", or None
    (no start given, or the engine printed no verdict: see `start_verdict`)."""
    start_reason: str | None = None
    started: bool = True
    """False when the time limit ran out before the engine was started (`not_started`)."""

    @classmethod
    def not_started(cls, entered: float) -> EngineResult:
        """The honest result of an engine whose limit building the model used up (`entered`:
        the perf_counter value when the engine's solve began)."""
        return cls("time_limit", seconds=time.perf_counter() - entered, notes=[NOT_STARTED],
                   started=False)


@dataclass(frozen=True)
class Engine:
    """A MILP engine: solve(model, time_limit, seed, threads, verbose, start) -> EngineResult,
    the tolerances it runs with (for the certificates' slack), and probes of its library.
    Every kind's MILP backends are made from `ENGINES`, so adding an engine is one module
    (solve, tolerances, available, version) and one entry there."""

    name: str
    label: str
    solve: Callable[..., EngineResult]
    tolerances: Callable[[], SolverTolerances]
    available: Callable[[], bool]
    version: Callable[[], str | None]


def check_start(model: MilpModel, values: np.ndarray, tol: float = 1e-9) -> str | None:
    """Why `values` is not a feasible point of `model` (first violation, absolute tolerance
    `tol` scaled by the row's size), or None when it is feasible."""
    v = np.asarray(values, dtype=np.float64)
    if v.shape != (model.n_vars,):
        return f"start has {v.shape[0]} values for {model.n_vars} variables"
    for j in np.flatnonzero((v < model.lower - tol) | (v > model.upper + tol))[:1]:
        return (f"variable {model.var_names[j]} = {v[j]!r} outside "
                f"[{model.lower[j]}, {model.upper[j]}]")
    frac = np.abs(v - np.round(v))
    for j in np.flatnonzero(model.integer & (frac > tol))[:1]:
        return f"integer variable {model.var_names[j]} = {v[j]!r}"
    if model.n_rows:
        prod = model.row_value * v[model.row_index]
        starts = model.row_starts
        act = np.add.reduceat(prod, starts[:-1]) if prod.size else np.zeros(model.n_rows)
        act = np.where(np.diff(starts) > 0, act, 0.0)
        scale = 1.0 + np.add.reduceat(np.abs(prod), starts[:-1]) if prod.size else 1.0
        scale = np.where(np.diff(starts) > 0, scale, 1.0)
        bad = (act < model.row_lower - tol * scale) | (act > model.row_upper + tol * scale)
        for r in np.flatnonzero(bad)[:1]:
            return (f"row {model.row_names[r]}: {act[r]!r} outside [{model.row_lower[r]}, "
                    f"{model.row_upper[r]}]")
    return None


def start_verdict(res: EngineResult, model: MilpModel, start: np.ndarray | None,
                  feasibility: float) -> EngineResult:
    """Fill res.start when the engine gave no verdict on a start: by exactprune's own check
    of the start against the model at the engine's feasibility tolerance (said in the notes).
    No verdict for an engine that failed before it solved (Gurobi's licence refusing the
    model was reported "accepted")."""
    if start is None or res.start is not None or res.status == "error":
        return res
    why = check_start(model, start, feasibility)
    res.start = "accepted" if why is None else "rejected"
    res.start_reason = ("the engine printed no verdict; the start is feasible by exactprune's "
                        "check" if why is None else f"infeasible by exactprune's check: {why}")
    return res


def status_word(code: Any, has_solution: bool, *, optimal: Any, infeasible: Any, time_limit: Any,
                stopped: Collection[Any]) -> str | None:
    """Our status word for an engine's own final status `code`, given which of its codes mean
    what: "optimal" only with a solution in hand; None for a code none of them names (the
    caller reports it as an error, with the engine's own words)."""
    if code == optimal and has_solution:
        return "optimal"
    if code == infeasible:
        return "infeasible"
    if code == time_limit:
        return "time_limit"
    if code in stopped:
        return "stopped"
    return None
