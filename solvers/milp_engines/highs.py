"""HiGHS through highspy's native API (not PuLP, which maps a HiGHS time limit to "Optimal").

mip_rel_gap = mip_abs_gap = 0; primal and dual feasibility tolerances 1e-10 (the smallest HiGHS
accepts); mip_feasibility_tolerance 1e-9 (`HIGHS_OPTIONS`: at 1e-10 HiGHS certified wrong
pruning optima); small_matrix_value 1e-12 (smallest accepted; also HiGHS's MIP epsilon).
HiGHS prunes a node whose bound is within mip_feasibility_tolerance of the incumbent, so that is
its cutoff. Bound: info.mip_dual_bound. Presolve off (`HIGHS_PRESOLVE`).
"""

from __future__ import annotations

import contextlib
import functools
import math
import re
import threading
import time
from typing import Any

import numpy as np

from exactprune.formulations.linear import MilpModel, SolverTolerances, to_highs
from exactprune.solvers.interrupt import stop_on_sigint
from exactprune.solvers.milp_engines.engine import EngineResult, status_word
from exactprune.solvers.milp_engines.native_output import native_stdout
from exactprune.termination import interruptions_pass

HIGHS_OPTIONS: dict[str, float | bool] = {
    "mip_rel_gap": 0.0,
    "mip_abs_gap": 0.0,
    # 1e-10 certified wrong pruning optima on output weights of two scales (~1e-9 beside
    # O(1): audit cases 669 and 1761 of that stress, every seed; docs/numerics.md); 1e-9 gave
    # none there and the same certificates on the regular audits of every kind
    "mip_feasibility_tolerance": 1e-9,
    "primal_feasibility_tolerance": 1e-10,
    "dual_feasibility_tolerance": 1e-10,
    "small_matrix_value": 1e-12,
    # the sub-MIP heuristics presolve their sub-MIPs whatever `presolve` says, and HiGHS
    # 1.16's presolve (strengthenInequalities) looped there for ever on a 5 s limit (pruning
    # cross audit case 18167, 3 runs of 4; ERGO-Code/HiGHS#2226, #1883 are of this kind);
    # without them the case takes 2 s, and 12 other cross cases 15.5 s against 19.5 s
    "mip_heuristic_run_rens": False,
    "mip_heuristic_run_rins": False,
    "mip_heuristic_run_root_reduced_cost": False,
}

HIGHS_PRESOLVE = "off"
"""At the tolerances above HiGHS 1.16's MIP presolve certified wrong optima (neuron-selection
audit cases 349 and 1104: targets a selection predicts to 1e-10; with mip_feasibility_tolerance
1e-9 three other cases); without presolve none in 2,672 solves (docs/numerics.md). The price:
benchmarks/presolve_price.py --engine highs."""


@functools.cache
def available() -> bool:
    try:
        with interruptions_pass():
            import highspy  # noqa: F401
    except Exception:
        return False
    return True


@functools.cache
def version() -> str | None:
    import highspy

    h = new_highs(highspy)
    return f"HiGHS {h.versionMajor()}.{h.versionMinor()}.{h.versionPatch()}"


def tolerances(values: dict[str, float] | None = None) -> SolverTolerances:
    v = dict(HIGHS_OPTIONS if values is None else values)
    return SolverTolerances(
        feasibility=max(v["primal_feasibility_tolerance"], v["mip_feasibility_tolerance"]),
        optimality=v["dual_feasibility_tolerance"],
        integrality=v["mip_feasibility_tolerance"],
        abs_gap=v["mip_abs_gap"], rel_gap=v["mip_rel_gap"],
        cutoff=v["mip_feasibility_tolerance"], epsilon=v["small_matrix_value"],
        small_coefficient=v["small_matrix_value"],
    )


_FIRST_HIGHS = threading.Lock()
_highs_made = False


def new_highs(highspy: Any) -> Any:
    """A `highspy.Highs()`; the first one in the process prints HiGHS's banner on the C-level
    stdout (whatever its options say), so that one is made with fds 1 and 2 pointed away.
    Later ones print nothing unless told to, and need no redirection (which would take every
    thread's output with it while it lasts)."""
    global _highs_made
    if not _highs_made:
        with _FIRST_HIGHS:
            if not _highs_made:
                with native_stdout(False):
                    h = highspy.Highs()
                _highs_made = True
                return h
    return highspy.Highs()


def solve(model: MilpModel, *, time_limit: float | None, seed: int, threads: int,
                 verbose: bool, start: np.ndarray | None) -> EngineResult:
    import highspy

    # silent unless verbose (output_flag; a start's log goes to a callback, not the console)
    with native_stdout(True) if verbose else contextlib.nullcontext():
        return _solve_highs_inner(highspy, model, time_limit=time_limit, seed=seed,
                                  threads=threads, verbose=verbose, start=start)


def _solve_highs_inner(highspy: Any, model: MilpModel, *, time_limit: float | None, seed: int,
                       threads: int, verbose: bool, start: np.ndarray | None) -> EngineResult:
    notes: list[str] = []
    h = new_highs(highspy)
    log: list[str] = []
    if start is not None:  # the verdict on the start is only in HiGHS's log
        h.setOptionValue("output_flag", True)
        h.setOptionValue("log_to_console", bool(verbose))
        h.cbLogging.subscribe(lambda event: log.append(str(event.message)))
    else:
        h.setOptionValue("output_flag", bool(verbose))
    settings: list[tuple[str, Any]] = [
        *HIGHS_OPTIONS.items(), ("presolve", HIGHS_PRESOLVE),
        ("random_seed", int(seed) % 2147483647),
        ("threads", int(threads)),
    ]
    if time_limit is not None:
        settings.append(("time_limit", float(max(time_limit, 0.01))))
    for name, value in settings:
        if h.setOptionValue(name, value) == highspy.HighsStatus.kError:
            notes.append(f"HiGHS refused {name} = {value}")
    to_highs(model, h)
    if start is not None:
        sol = highspy.HighsSolution()
        sol.col_value = [float(v) for v in start]
        sol.value_valid = True
        if h.setSolution(sol) == highspy.HighsStatus.kError:
            notes.append("HiGHS refused the warm start")
    t0 = time.perf_counter()
    cancel = threading.Event()  # set on Ctrl-C; HiGHS asks at its MIP interrupt checks only
    h.cbMipInterrupt += lambda event: event.interrupt() if cancel.is_set() else None
    with stop_on_sigint(cancel.set):
        status = h.run()
    not_run = h.getModelStatus() == highspy.HighsModelStatus.kNotset
    if status == highspy.HighsStatus.kError and not_run:
        # HiGHS's thread scheduler is global: if something else in this process started it
        # with another thread count, run() refuses. Reset it (blocking) and try once more.
        reset = getattr(highspy.Highs, "resetGlobalScheduler", None)
        if reset is not None:
            reset(True)
            notes.append(f"HiGHS thread scheduler reset to {threads} thread(s)")
            status = h.run()
    seconds = time.perf_counter() - t0
    ms = h.getModelStatus()
    info = h.getInfo()
    values = None
    if int(info.primal_solution_status) == 2:  # kSolutionStatusFeasible
        values = np.array(h.getSolution().col_value, dtype=np.float64)
    objective = float(info.objective_function_value) if values is not None else None
    bound = float(info.mip_dual_bound)
    if not math.isfinite(bound):
        bound = None
    nodes = int(info.mip_node_count) if int(info.mip_node_count) >= 0 else None
    MS = highspy.HighsModelStatus
    status = status_word(ms, values is not None, optimal=MS.kOptimal, infeasible=MS.kInfeasible,
                         time_limit=MS.kTimeLimit,
                         stopped=(MS.kInterrupt, MS.kIterationLimit, MS.kSolutionLimit,
                                  MS.kObjectiveBound, MS.kObjectiveTarget, MS.kMemoryLimit))
    if status is None:
        status = "error"
        notes.append(f"HiGHS model status {h.modelStatusToString(ms)}")
    res = EngineResult(status, values, objective, bound, nodes, seconds, notes)
    if start is not None:
        res.start, res.start_reason = _highs_start("".join(log))
    return res


def _highs_start(log: str) -> tuple[str | None, str | None]:
    """HiGHS's verdict on the MIP start, from its log (HiGHS 1.16 wording; None when the log
    says nothing about it)."""
    warnings_ = [ln.strip() for ln in log.splitlines() if ln.startswith("WARNING:")]
    reason = "; ".join(w for w in warnings_ if "infeasib" in w or "user solution" in w)[:300]
    if re.search(r"Assessing feasibility of MIP solution using .*: feasible", log):
        return "accepted", None
    found = re.search(r"MIP start solution is (feasible|infeasible)[:,] objective value is", log)
    if found:
        if found.group(1) == "feasible":
            return "accepted", None
        return "rejected", reason or found.group(0)
    if "cannot yield feasible solution" in log or re.search(
            r"Assessing feasibility of MIP solution", log):
        return "rejected", reason or "HiGHS found the start infeasible"
    return None, None
