"""MILP backends `cbc`, `highs` and `scip`, and how their answers are certified.

Each backend solves any `MilpModel` (formulations/linear.py); a `MilpProblem` per instance kind
builds the model, says how the solver's tolerances translate into an objective slack, and
reads the mask back from the variable values. Subset-sum is registered here; later kinds call
`register_milp_problem`.

Engines and the tolerances they run with (all absolute; gaps 0):
  cbc    PuLP's CBC (bundled PULP_CBC_CMD on PuLP 3.x, COIN_CMD on PuLP 4.x). Options
         `-increment 1e-12` (CBC's default cutoff increment, ~1e-5, would stop the search once
         the incumbent is that close to the bound, and PuLP's gapRel/gapAbs do not change it),
         `-allow 0 -ratio 0`, primal/dual/integer tolerance 1e-9, seeds from opts.seed. The
         model reaches CBC as an MPS file with 13 significant digits (relative rounding 5e-13).
         Status: CBC's log ("Result - ...", "Search completed", "Partial search ... (best
         possible Y)", "Exiting as integer gap of G") together with PuLP's status/sol_status;
         the bound is read from the log ("best possible" is printed with 8 digits, so 1e-7
         relative is subtracted) and is unknown if the log cannot be parsed.
  highs  highspy native API (not PuLP, which maps a HiGHS time limit to "Optimal"):
         mip_rel_gap = mip_abs_gap = 0; mip_feasibility_tolerance, primal and dual feasibility
         tolerances 1e-10 (the smallest HiGHS accepts); small_matrix_value 1e-12 (smallest
         accepted; also HiGHS's MIP epsilon). HiGHS prunes a node whose bound is within
         mip_feasibility_tolerance of the incumbent, so that is its cutoff. Bound:
         info.mip_dual_bound.
  scip   SCIP inside OR-Tools (pywraplp): limits/gap = limits/absgap = 0, numerics/feastol =
         numerics/dualfeastol = 1e-9, numerics/sumepsilon = epsilon = 1e-9. Bound:
         Objective().BestBound().

The slack T (numerics policy, DESIGN.md). Optima of random subset-sum are ~2^-n, below MIP
tolerances, so a solver's "optimal" is not trusted as is. From the tolerances actually in
effect, `MilpProblem.slack` computes T: 10 × (feasibility × Σ|row duals| × row scale
+ dual tolerance × box size + integrality tolerance × Σ|x| + gaps + cutoff + epsilon
+ data rounding), see `formulations.linear.tolerance_slack` and
`formulations.subset_sum_milp.subset_sum_slack`. A rigorous lower bound is max(0, L − T) for a
solver's dual bound L. For n = 12 values in [-1, 1], T is about 6e-7 (cbc, scip) and 6e-8
(highs); for n = 30 about 1.2e-6 and 1.2e-7. Certification therefore needs the next-best
masks to be more than T worse than the best. Measured on Uniform[-1,1] draws (20 seeds), the
second-best mask is more than T away for cbc/scip in 17/20 instances at n = 20, 5/20 at n = 22,
0/20 at n = 24 (highs: 19, 16, 11 of 20); in practice the branch-and-bound time limits first
(a few seconds certify n <= 16; n = 20 takes 5-65 s).

Certification, min_error:
  * a mask with exact error 0 is optimal;
  * exclusion certificate: solve again with a no-good row excluding exactly the found mask m
    (and any further masks found in later rounds, at most `exclusion_rounds`, default 4), in
    the remaining time; the new dual bound L2 bounds every other mask, so L2 − T >= t(m)
    (exact rational error) proves m optimal, with tolerance 0. If a round finds a better mask it
    becomes the incumbent (never lost).
  * a bound proven when a solver stopped (time limit) is used the same way;
  * a solver bound above an exactly evaluated mask's error by more than T is inconsistent: no
    certificate from that solve.
  Otherwise: feasible (or time_limit) with bound max(0, L − T), and a note giving T and the gap.
Certification, sparsest (count objective): the solver's tolerant feasible region is a
relaxation, so its count bound L is valid: k = ceil(L − max(T, 1e-6)). Certified when the mask
satisfies |x·m − z| <= eps exactly and keeps k values. A solver mask that violates eps exactly
(accepted within the solver's tolerance) is excluded by a no-good row and the model solved
again (at most `exclusion_rounds` times); excluding exactly-infeasible masks keeps the model a
relaxation, so every round's bound stays valid. "Infeasible" from the solver means the
relaxation, hence the problem, is infeasible: certified infeasible.
Time limit: status time_limit with the best mask found (including a warm start) and the bound.
Native solver output (HiGHS banner, SCIP/HiGHS logs) never reaches stdout: it goes to stderr
when verbose, else to /dev/null (the CLI prints JSON on stdout). The redirection is of file
descriptor 1 for the duration of a solve, so do not print from other threads meanwhile.

Options in `SolveOptions.extra`: exclusion_rounds (int, default 4).
"""

from __future__ import annotations

import contextlib
import functools
import math
import os
import re
import sys
import tempfile
import time
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from fractions import Fraction
from typing import Any

import numpy as np

from exactprune.formulations.linear import (
    MilpModel,
    SolverTolerances,
    to_highs,
    to_ortools,
    to_pulp_with_vars,
)
from exactprune.formulations.subset_sum_milp import (
    subset_sum_model,
    subset_sum_slack,
    subset_sum_start_values,
)
from exactprune.instances.errors import InputError
from exactprune.instances.subset_sum import SubsetSumInstance
from exactprune.solvers.registry import Backend, register
from exactprune.solvers.result import Goal, Objective, RawSolution, SolveOptions, Status

MIN_SOLVE_SECONDS = 0.05
DEFAULT_EXCLUSION_ROUNDS = 4
COUNT_BOUND_SLACK = 1e-6


# --------------------------------------------------------------------------------------------
# Problem kinds


@dataclass(frozen=True)
class MilpProblem:
    """How one instance kind becomes a MILP and how its answers are checked.

    build(instance, goal) -> MilpModel; slack(instance, goal, tolerances) -> T (objective
    units); start_values(instance, goal, mask) -> a value for every model variable;
    mask(model, values) -> keep-mask; exact_error(instance, mask) -> exact error (Fraction).
    """

    build: Callable[[Any, Goal], MilpModel]
    slack: Callable[[Any, Goal, SolverTolerances], float]
    start_values: Callable[[Any, Goal, np.ndarray], np.ndarray]
    mask: Callable[[MilpModel, np.ndarray], np.ndarray] = field(
        default=lambda model, values: model.mask_from_values(values)
    )
    exact_error: Callable[[Any, np.ndarray], Fraction] = field(
        default=lambda instance, mask: Fraction(instance.exact_error(mask))
    )


MILP_PROBLEMS: dict[str, MilpProblem] = {
    SubsetSumInstance.kind: MilpProblem(
        build=subset_sum_model, slack=subset_sum_slack, start_values=subset_sum_start_values
    ),
}


# --------------------------------------------------------------------------------------------
# Engines: one solve of one MilpModel


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


@dataclass(frozen=True)
class Engine:
    name: str
    solve: Callable[..., EngineResult]
    tolerances: Callable[[], SolverTolerances]
    available: Callable[[], bool]
    version: Callable[[], str | None]


def _threads(opts: SolveOptions) -> int:
    return 1 if opts.threads is None else int(opts.threads)


@contextlib.contextmanager
def _native_stdout(verbose: bool) -> Any:
    """Send what native solver code prints on stdout (fd 1) to stderr when verbose, else to
    /dev/null, so that stdout stays clean (the CLI prints JSON there)."""
    import ctypes

    try:
        libc = ctypes.CDLL(None)
    except OSError:  # pragma: no cover - no C library handle: leave stdout alone
        yield
        return
    sys.stdout.flush()
    try:
        saved = os.dup(1)
    except OSError:  # pragma: no cover
        yield
        return
    target = os.dup(2) if verbose else os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(target, 1)
        yield
    finally:
        libc.fflush(None)
        os.dup2(saved, 1)
        os.close(saved)
        os.close(target)


# ---- CBC via PuLP --------------------------------------------------------------------------

CBC_TOLERANCE = 1e-9
CBC_INCREMENT = 1e-12
CBC_EPSILON = 1e-10  # CBC's own minimum integer gap ("less than 1e-10 or 0%")
CBC_PRINT_REL = 1e-7  # "best possible" is printed with 8 significant digits


def _cbc_class() -> Any:
    import pulp

    if hasattr(pulp, "PULP_CBC_CMD"):  # PuLP 3.x: bundled binary (deprecated there)
        return pulp.PULP_CBC_CMD
    return pulp.COIN_CMD  # PuLP 4.x: pulp[cbc] / cbc on PATH


def _make_cbc(**kwargs: Any) -> Any:
    """A CBC solver object; drops keyword arguments this PuLP does not know (4.x renames)."""
    import inspect

    cls = _cbc_class()
    try:
        accepted = set(inspect.signature(cls.__init__).parameters)
    except (TypeError, ValueError):  # pragma: no cover
        accepted = set(kwargs)
    if "kwargs" not in accepted:
        kwargs = {k: v for k, v in kwargs.items() if k in accepted}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        return cls(**kwargs)


@functools.cache
def _cbc_available() -> bool:
    try:
        return bool(_make_cbc(msg=False).available())
    except Exception:
        return False


@functools.cache
def _cbc_version() -> str | None:
    import subprocess

    import pulp

    text = None
    try:
        solver = _make_cbc(msg=False)
        out = subprocess.run([solver.path, "-quit"], capture_output=True, text=True, timeout=20,
                             stdin=subprocess.DEVNULL)
        found = re.search(r"Version:\s*(\S+)", out.stdout + out.stderr)
        text = found.group(1) if found else None
    except Exception:
        text = None
    return f"CBC {text or 'unknown'} (PuLP {pulp.__version__})"


def _cbc_tolerances() -> SolverTolerances:
    return SolverTolerances(
        feasibility=CBC_TOLERANCE, optimality=CBC_TOLERANCE, integrality=CBC_TOLERANCE,
        abs_gap=0.0, rel_gap=0.0, cutoff=CBC_INCREMENT, epsilon=CBC_EPSILON,
        coefficient_rel=5e-13,
    )


_FLOAT = r"[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?"


@dataclass
class CbcLog:
    """What CBC's log says: result line, full-precision objective, bound, nodes."""

    result: str | None = None
    objective: float | None = None
    bound: float | None = None
    exit_gap: float | None = None
    nodes: int | None = None


def parse_cbc_log(text: str) -> CbcLog:
    """Parse a CBC log (as written by PuLP's logPath). Unknown pieces stay None.

    result: optimal | infeasible | infeasible_or_unbounded ("Pre-processing says infeasible or
    unbounded") | unbounded | time_limit | stopped. For "Search completed - best
    objective X" the bound is X − G when CBC exited on an integer gap G, else X (full
    precision); for "Partial search - best objective X (best possible Y)" the bound is Y minus
    its print rounding (8 significant digits).
    """
    log = CbcLog()
    m = re.search(r"^Result - (.*)$", text, re.MULTILINE)
    if m:
        line = m.group(1).lower()
        if "optimal solution found" in line:
            log.result = "optimal"
        elif "infeasible" in line:
            log.result = "infeasible"
        elif "unbounded" in line:
            log.result = "unbounded"
        elif "stopped on time" in line:
            log.result = "time_limit"
        elif "stopped" in line:
            log.result = "stopped"
    if log.result is None:  # stopped in presolve / preprocessing: no "Result -" line
        if re.search(r"infeasible or unbounded", text):
            log.result = "infeasible_or_unbounded"
        elif re.search(r"Problem is infeasible|Problem proven infeasible"
                       r"|relaxation (?:is )?infeasible", text):
            log.result = "infeasible"
        elif re.search(r"Problem is unbounded", text):
            log.result = "unbounded"
    gap = re.search(r"Exiting as integer gap of (" + _FLOAT + ")", text)
    if gap:
        log.exit_gap = float(gap.group(1))
    done = re.search(r"Search completed - best objective (" + _FLOAT + ")", text)
    part = re.search(r"Partial search - best objective (" + _FLOAT + r"|\S+) \(best possible ("
                     + _FLOAT + r")\)", text)
    if done and log.result == "optimal":
        obj = float(done.group(1))
        if obj < 1e49:
            log.objective = obj
            log.bound = obj - (log.exit_gap or 0.0)
    elif part:
        with contextlib.suppress(ValueError):
            log.objective = float(part.group(1))
        possible = float(part.group(2))
        log.bound = possible - CBC_PRINT_REL * abs(possible) - 1e-300
    nodes = re.search(r"Enumerated nodes:\s*(\d+)", text)
    if nodes:
        log.nodes = int(nodes.group(1))
    if log.objective is not None and log.objective >= 1e49:
        log.objective = None
    return log


def _pulp_outcome(prob: Any, returned: Any) -> tuple[str, bool]:
    """(PuLP's view: optimal | infeasible | other, whether a solution is available)."""
    if hasattr(returned, "has_solution"):  # PuLP >= 4: LpSolveStats
        code = int(returned.status)
        has_solution = bool(returned.has_solution)
        if code == 1 and has_solution:
            return "optimal", True
        return ("infeasible" if code == -1 else "other"), has_solution
    status = getattr(prob, "status", returned)
    sol_status = getattr(prob, "sol_status", None)
    # PuLP 3.x: status 1 ("Optimal") is also reported after a time limit with a solution;
    # only sol_status 1 (LpSolutionOptimal) means proven optimal, 2 means integer feasible.
    has_solution = sol_status in (1, 2)
    if status == 1 and sol_status == 1:
        return "optimal", True
    if status == -1:
        return "infeasible", False
    return "other", has_solution


def _solve_cbc(model: MilpModel, *, time_limit: float | None, seed: int, threads: int,
               verbose: bool, start: np.ndarray | None) -> EngineResult:
    prob, variables = to_pulp_with_vars(model)
    notes: list[str] = []
    warm = False
    if start is not None:
        try:
            for var, value in zip(variables, start, strict=True):
                var.setInitialValue(float(value))
            warm = True
        except Exception as exc:  # PuLP variant without initial values
            notes.append(f"warm start not passed to CBC ({type(exc).__name__})")
    cbc_seed = min(int(seed) + 1, 2**31 - 1)  # 0 would mean "seed from the clock"
    options = [
        f"increment {CBC_INCREMENT!r}", "allow 0", "ratio 0",
        f"primalTolerance {CBC_TOLERANCE!r}", f"dualTolerance {CBC_TOLERANCE!r}",
        f"integerTolerance {CBC_TOLERANCE!r}",
        f"randomCbcSeed {cbc_seed}", f"randomSeed {cbc_seed}",
    ]
    fd, log_path = tempfile.mkstemp(prefix="exactprune-cbc-", suffix=".log")
    os.close(fd)
    t0 = time.perf_counter()
    try:
        solver = _make_cbc(
            msg=False, timeLimit=None if time_limit is None else max(time_limit, 0.01),
            gapRel=0.0, gapAbs=0.0, threads=threads, logPath=log_path, warmStart=warm,
            options=options,
        )
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            try:
                returned = prob.solve(solver)
                crash = None
            except Exception as exc:  # PulpSolverError: CBC died or wrote no solution
                returned, crash = None, exc
        with open(log_path, encoding="utf-8", errors="replace") as fh:
            text = fh.read()
    finally:
        with contextlib.suppress(OSError):
            os.unlink(log_path)
    seconds = time.perf_counter() - t0
    if verbose:
        sys.stderr.write(text)
    log = parse_cbc_log(text)
    if crash is not None:
        return EngineResult("error", seconds=seconds, nodes=log.nodes,
                            notes=[*notes, f"CBC failed: {type(crash).__name__}: {crash}"])
    pulp_view, has_solution = _pulp_outcome(prob, returned)
    values = None
    if has_solution:
        raw = [v.value() for v in variables]
        if all(r is not None for r in raw):
            values = np.array(raw, dtype=np.float64)
    log_result = log.result
    if log_result == "infeasible_or_unbounded":
        bounded = bool(np.all(np.isfinite(model.lower)) and np.all(np.isfinite(model.upper)))
        log_result = "infeasible" if bounded else "unbounded"  # bounded: never unbounded
    if pulp_view == "infeasible" or log_result == "infeasible":
        if pulp_view == "infeasible" and log_result == "infeasible":
            return EngineResult("infeasible", seconds=seconds, nodes=log.nodes, notes=notes)
        return EngineResult("error", values, log.objective, None, log.nodes, seconds,
                            [*notes, f"CBC status unclear (PuLP: {pulp_view}, log: "
                                     f"{log.result})"])
    if pulp_view == "optimal" and log.result == "optimal" and values is not None:
        status = "optimal"
    elif log.result == "time_limit":
        status = "time_limit"
    elif log.result in ("stopped", "optimal"):
        status = "stopped"
    else:
        status = "error"
        notes.append(f"CBC result not recognised (PuLP: {pulp_view}, log: {log.result})")
    bound = log.bound
    if bound is None:
        notes.append("CBC's log gave no bound: bound unknown")
    return EngineResult(status, values, log.objective, bound, log.nodes, seconds, notes)


# ---- HiGHS (highspy) -----------------------------------------------------------------------

HIGHS_OPTIONS: dict[str, float] = {
    "mip_rel_gap": 0.0,
    "mip_abs_gap": 0.0,
    "mip_feasibility_tolerance": 1e-10,
    "primal_feasibility_tolerance": 1e-10,
    "dual_feasibility_tolerance": 1e-10,
    "small_matrix_value": 1e-12,
}


@functools.cache
def _highs_available() -> bool:
    try:
        import highspy  # noqa: F401
    except Exception:
        return False
    return True


@functools.cache
def _highs_version() -> str | None:
    import highspy

    with _native_stdout(False):  # the first Highs() prints a banner
        h = highspy.Highs()
    return f"HiGHS {h.versionMajor()}.{h.versionMinor()}.{h.versionPatch()}"


def _highs_tolerances(values: dict[str, float] | None = None) -> SolverTolerances:
    v = dict(HIGHS_OPTIONS if values is None else values)
    return SolverTolerances(
        feasibility=max(v["primal_feasibility_tolerance"], v["mip_feasibility_tolerance"]),
        optimality=v["dual_feasibility_tolerance"],
        integrality=v["mip_feasibility_tolerance"],
        abs_gap=v["mip_abs_gap"], rel_gap=v["mip_rel_gap"],
        cutoff=v["mip_feasibility_tolerance"], epsilon=v["small_matrix_value"],
        small_coefficient=v["small_matrix_value"],
    )


def _solve_highs(model: MilpModel, *, time_limit: float | None, seed: int, threads: int,
                 verbose: bool, start: np.ndarray | None) -> EngineResult:
    import highspy

    with _native_stdout(verbose):
        return _solve_highs_inner(highspy, model, time_limit=time_limit, seed=seed,
                                  threads=threads, verbose=verbose, start=start)


def _solve_highs_inner(highspy: Any, model: MilpModel, *, time_limit: float | None, seed: int,
                       threads: int, verbose: bool, start: np.ndarray | None) -> EngineResult:
    notes: list[str] = []
    h = highspy.Highs()
    h.setOptionValue("output_flag", bool(verbose))
    settings: list[tuple[str, Any]] = [
        *HIGHS_OPTIONS.items(), ("random_seed", int(seed) % 2147483647),
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
    if ms == MS.kOptimal and values is not None:
        status = "optimal"
    elif ms == MS.kInfeasible:
        status = "infeasible"
    elif ms == MS.kTimeLimit:
        status = "time_limit"
    elif ms in (MS.kInterrupt, MS.kIterationLimit, MS.kSolutionLimit, MS.kObjectiveBound,
                MS.kObjectiveTarget, MS.kMemoryLimit):
        status = "stopped"
    else:
        status = "error"
        notes.append(f"HiGHS model status {h.modelStatusToString(ms)}")
    return EngineResult(status, values, objective, bound, nodes, seconds, notes)


# ---- SCIP via OR-Tools pywraplp ------------------------------------------------------------

SCIP_PARAMS: dict[str, float] = {
    "limits/gap": 0.0,
    "limits/absgap": 0.0,
    "numerics/feastol": 1e-9,
    "numerics/dualfeastol": 1e-9,
    "numerics/epsilon": 1e-9,
    "numerics/sumepsilon": 1e-9,
}


@functools.cache
def _scip_available() -> bool:
    try:
        from ortools.linear_solver import pywraplp

        return pywraplp.Solver.CreateSolver("SCIP") is not None
    except Exception:
        return False


@functools.cache
def _scip_version() -> str | None:
    import ortools
    from ortools.linear_solver import pywraplp

    solver = pywraplp.Solver.CreateSolver("SCIP")
    text = solver.SolverVersion() if solver is not None else ""
    found = re.search(r"SCIP\s+(\S+)", text)
    return f"SCIP {found.group(1) if found else 'unknown'} (OR-Tools {ortools.__version__})"


def _scip_tolerances() -> SolverTolerances:
    p = SCIP_PARAMS
    return SolverTolerances(
        feasibility=p["numerics/feastol"], optimality=p["numerics/dualfeastol"],
        integrality=p["numerics/feastol"], abs_gap=p["limits/absgap"], rel_gap=p["limits/gap"],
        cutoff=0.0, epsilon=p["numerics/epsilon"] + p["numerics/sumepsilon"],
    )


def _solve_scip(model: MilpModel, *, time_limit: float | None, seed: int, threads: int,
                verbose: bool, start: np.ndarray | None) -> EngineResult:
    from ortools.linear_solver import pywraplp

    notes: list[str] = []
    solver = pywraplp.Solver.CreateSolver("SCIP")
    if solver is None:
        return EngineResult("error", notes=["OR-Tools was built without SCIP"])
    variables = to_ortools(model, solver)
    params = dict(SCIP_PARAMS)
    lines = [f"{k} = {v!r}" for k, v in params.items()]
    lines.append(f"randomization/randomseedshift = {int(seed) % 2147483647}")
    if not solver.SetSolverSpecificParametersAsString("\n".join(lines) + "\n"):
        return EngineResult("error", notes=["SCIP refused the parameter settings"])
    if threads > 1 and not solver.SetNumThreads(threads):
        notes.append(f"SCIP refused {threads} threads")
    if time_limit is not None:
        solver.SetTimeLimit(max(1, int(math.ceil(time_limit * 1000))))
    if verbose:
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
    t0 = time.perf_counter()
    with _native_stdout(verbose):
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
    return EngineResult(status, values, objective, bound, nodes, seconds, notes)


ENGINES: dict[str, Engine] = {
    "cbc": Engine("cbc", _solve_cbc, _cbc_tolerances, _cbc_available, _cbc_version),
    "highs": Engine("highs", _solve_highs, _highs_tolerances, _highs_available,
                    _highs_version),
    "scip": Engine("scip", _solve_scip, _scip_tolerances, _scip_available, _scip_version),
}


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
    res = ENGINES[engine].solve(
        model, time_limit=time_limit, seed=opts.seed, threads=_threads(opts),
        verbose=opts.verbose, start=start,
    )
    if flip:
        res.objective = None if res.objective is None else -res.objective
        res.bound = None if res.bound is None else -res.bound
    return res


# --------------------------------------------------------------------------------------------
# Certification


def _float_down(q: Fraction) -> float:
    """The largest float <= q."""
    f = float(q)
    if Fraction(f) > q:
        f = math.nextafter(f, -math.inf)
    return f


class _Clock:
    def __init__(self, limit: float | None) -> None:
        self.deadline = None if limit is None else time.perf_counter() + limit

    def remaining(self) -> float | None:
        return None if self.deadline is None else self.deadline - time.perf_counter()

    def expired(self) -> bool:
        r = self.remaining()
        return r is not None and r < MIN_SOLVE_SECONDS


def _round_stats(k: int, res: EngineResult) -> dict[str, Any]:
    return {"round": k, "status": res.status, "solver_objective": res.objective,
            "solver_bound": res.bound, "nodes": res.nodes, "seconds": round(res.seconds, 4)}


def _exclusion_rounds(opts: SolveOptions) -> int:
    raw = opts.extra.get("exclusion_rounds", DEFAULT_EXCLUSION_ROUNDS)
    if isinstance(raw, bool) or not isinstance(raw, int | np.integer) or raw < 0:
        raise InputError(f"exclusion_rounds must be an integer >= 0, got {raw!r}")
    return int(raw)


def _warm_mask(instance: Any, goal: Goal, opts: SolveOptions, problem: MilpProblem,
               notes: list[str]) -> np.ndarray | None:
    if opts.warm_start is None:
        return None
    mask = np.asarray(opts.warm_start, dtype=bool)
    if goal.objective is Objective.SPARSEST:
        if problem.exact_error(instance, mask) > Fraction(goal.eps):
            notes.append("warm start ignored: its error exceeds eps")
            return None
    elif goal.max_kept is not None and int(mask.sum()) > goal.max_kept:
        notes.append("warm start ignored: it keeps more than max_kept")
        return None
    return mask


def run_milp(engine: str, instance: Any, goal: Goal, opts: SolveOptions) -> RawSolution:
    """Solve `instance` for `goal` with a MILP engine and certify under the numerics policy."""
    problem = MILP_PROBLEMS[instance.kind]
    model = problem.build(instance, goal)
    tol = ENGINES[engine].tolerances()
    slack = float(problem.slack(instance, goal, tol))
    notes: list[str] = []
    stats: dict[str, Any] = {"slack_T": slack, "tolerances": tol.to_json(), "rounds": [],
                             "variables": model.n_vars, "rows": model.n_rows}
    clock = _Clock(opts.time_limit)
    warm = _warm_mask(instance, goal, opts, problem, notes)
    start = None if warm is None else problem.start_values(instance, goal, warm)
    if goal.objective is Objective.SPARSEST:
        return _run_sparsest(engine, instance, goal, opts, problem, model, slack, clock,
                             warm, start, notes, stats)
    return _run_min_error(engine, instance, goal, opts, problem, model, slack, clock, warm,
                          start, notes, stats)


def _run_min_error(engine: str, instance: Any, goal: Goal, opts: SolveOptions,
                   problem: MilpProblem, model: MilpModel, slack: float, clock: _Clock,
                   warm: np.ndarray | None, start: np.ndarray | None, notes: list[str],
                   stats: dict[str, Any]) -> RawSolution:
    rounds = _exclusion_rounds(opts)
    slack_q = Fraction(slack)
    # Every mask seen, with its exact error and the solver's objective for it (None for the
    # warm start): the incumbent is the best of them.
    seen: list[tuple[Fraction, np.ndarray, float | None]] = []
    if warm is not None:
        seen.append((problem.exact_error(instance, warm), warm, None))

    def best() -> tuple[Fraction, np.ndarray, float | None] | None:
        return min(seen, key=lambda p: p[0]) if seen else None

    def add(mask: np.ndarray, solver_obj: float | None) -> Fraction:
        err = problem.exact_error(instance, mask)
        if not any(np.array_equal(mask, m) for _, m, _ in seen):
            seen.append((err, mask, solver_obj))
        return err

    lower = Fraction(0)  # rigorous lower bound on the optimum so far

    def result(status: Status, certified: bool = False) -> RawSolution:
        b = best()
        mask = None if b is None else b[1]
        solver_objective = None if b is None else b[2]
        if certified and b is not None:
            bound = float(b[0])
            tolerance = 0.0
        else:
            bound = _float_down(lower)
            tolerance = None
            if b is not None:
                gap = b[0] - lower
                notes.append(
                    f"not certified: exact error {float(b[0]):.6g}, rigorous bound "
                    f"{float(lower):.6g} (solver bound minus slack T = {slack:.3g}), "
                    f"gap {float(gap):.3g}")
        return RawSolution(status, mask=mask, bound=bound, certified=certified,
                           tolerance=tolerance, solver_objective=solver_objective,
                           notes=notes, stats=stats)

    # Round 0: the plain model.
    if clock.expired():
        notes.append("no time left to start the solver")
        return result(Status.TIME_LIMIT)
    res = solve_model(engine, model, opts, clock.remaining(), start)
    stats["rounds"].append(_round_stats(0, res))
    stats["nodes"] = res.nodes
    notes.extend(res.notes)
    err0 = None
    if res.values is not None:
        err0 = add(problem.mask(model, res.values), res.objective)
    b = best()
    if b is not None and b[0] == 0:
        notes.append("exact error 0: optimal")
        return result(Status.OPTIMAL, certified=True)
    if res.status == "error":
        return result(Status.FEASIBLE if seen else Status.ERROR)
    if res.status == "infeasible":
        notes.append("solver claims the min_error model is infeasible, but the empty mask is "
                     "feasible: solver failure")
        return result(Status.FEASIBLE if seen else Status.ERROR)
    if res.bound is not None:
        proven = Fraction(res.bound) - slack_q  # every mask has error >= proven
        if err0 is not None and proven > err0:
            notes.append(f"solver bound {res.bound!r} exceeds the exact error of its own mask "
                         f"by more than T: bound dropped, no certificate")
            return result(Status.FEASIBLE)
        lower = max(lower, proven)
        if b is not None and lower >= b[0]:
            notes.append(f"the solver's bound minus T = {slack:.3g} reaches the exact error")
            return result(Status.OPTIMAL, certified=True)
    if res.status in ("time_limit", "stopped"):
        notes.append(f"solver stopped ({res.status}) before proving optimality")
        return result(Status.TIME_LIMIT if res.status == "time_limit" else Status.FEASIBLE)
    assert b is not None and res.values is not None
    # Exclusion rounds: no-good rows for every mask seen; the new bound covers all others.
    excluded: list[np.ndarray] = []
    for k in range(1, rounds + 1):
        for _, m, _ in seen:
            if not any(np.array_equal(m, e) for e in excluded):
                excluded.append(m)
        if clock.expired():
            notes.append("time limit reached before the exclusion certificate")
            return result(Status.TIME_LIMIT)
        cut_model = model.exclude_masks(excluded)
        res = solve_model(engine, cut_model, opts, clock.remaining(), None)
        stats["rounds"].append(_round_stats(k, res))
        notes.extend(res.notes)
        if res.status == "infeasible":
            notes.append(f"exclusion certificate: no mask other than the {len(excluded)} "
                         f"excluded one(s) is feasible")
            return result(Status.OPTIMAL, certified=True)
        if res.status == "error":
            notes.append("exclusion solve failed")
            return result(Status.FEASIBLE)
        new_err = None
        if res.values is not None:
            new_err = add(problem.mask(model, res.values), res.objective)
        if res.bound is None:
            notes.append("exclusion solve gave no bound")
            return result(Status.TIME_LIMIT if res.status == "time_limit" else Status.FEASIBLE)
        rest = Fraction(res.bound) - slack_q  # bound on every mask not excluded
        if new_err is not None and rest > new_err:
            notes.append(f"exclusion solve bound {res.bound!r} exceeds the exact error of its "
                         f"own mask by more than T: no certificate")
            return result(Status.FEASIBLE)
        excluded_best = min(e for e, m, _ in seen
                            if any(np.array_equal(m, x) for x in excluded))
        lower = max(lower, min(excluded_best, max(rest, Fraction(0))))
        best_err = min(e for e, _, _ in seen)
        if rest >= best_err and res.status == "optimal":
            notes.append(
                f"exclusion certificate: every other mask has error >= {float(rest):.6g} "
                f"(solver bound {res.bound!r} − T {slack:.3g}) >= {float(best_err):.6g}")
            return result(Status.OPTIMAL, certified=True)
        if rest >= best_err:  # a bound proven before the time limit is still a proof
            notes.append(f"exclusion certificate from the bound at the stop: every other "
                         f"mask has error >= {float(rest):.6g}")
            return result(Status.OPTIMAL, certified=True)
        if res.status != "optimal":
            notes.append(f"exclusion solve stopped ({res.status})")
            return result(Status.TIME_LIMIT if res.status == "time_limit" else Status.FEASIBLE)
    notes.append(f"{rounds} exclusion rounds did not separate the best mask from the others "
                 f"by more than T = {slack:.3g}")
    return result(Status.FEASIBLE)


def _run_sparsest(engine: str, instance: Any, goal: Goal, opts: SolveOptions,
                  problem: MilpProblem, model: MilpModel, slack: float, clock: _Clock,
                  warm: np.ndarray | None, start: np.ndarray | None, notes: list[str],
                  stats: dict[str, Any]) -> RawSolution:
    eps = Fraction(goal.eps)
    rounds = _exclusion_rounds(opts)
    good: list[np.ndarray] = [] if warm is None else [warm]  # masks within eps exactly
    bad: list[np.ndarray] = []  # solver masks outside eps exactly (excluded by no-good rows)
    count_bound: int | None = None
    solver_objective: float | None = None
    margin = max(slack, COUNT_BOUND_SLACK)

    def result(status: Status) -> RawSolution:
        mask = min(good, key=lambda m: int(m.sum())) if good else None
        bound = None if count_bound is None else float(count_bound)
        certified = False
        if mask is not None and count_bound is not None:
            kept = int(mask.sum())
            if kept < count_bound:
                notes.append(f"solver count bound {count_bound} exceeds the count {kept} of a "
                             f"mask within eps: bound dropped")
                bound = None
            elif kept == count_bound and status is not Status.ERROR:
                certified = True
                notes.append(f"count {kept} equals the solver's count bound rounded up "
                             f"(after subtracting {margin:.3g}); the mask is within eps exactly")
                status = Status.OPTIMAL
        if not certified:
            if mask is None and status in (Status.OPTIMAL, Status.FEASIBLE):
                notes.append("no mask within eps exactly was found, and infeasibility was not "
                             "proven")
                status = Status.ERROR
            elif status is Status.OPTIMAL:
                status = Status.FEASIBLE
            if mask is not None:
                notes.append(f"not certified: {int(mask.sum())} kept, count bound {bound}")
        return RawSolution(status, mask=mask, bound=bound, certified=certified,
                           tolerance=0.0 if certified else None,
                           solver_objective=solver_objective, notes=notes, stats=stats)

    for k in range(rounds + 1):
        if clock.expired():
            notes.append("time limit reached")
            return result(Status.TIME_LIMIT)
        current = model.exclude_masks(bad) if bad else model
        res = solve_model(engine, current, opts, clock.remaining(), start if k == 0 else None)
        stats["rounds"].append(_round_stats(k, res))
        stats["nodes"] = res.nodes
        notes.extend(res.notes)
        if res.objective is not None:
            solver_objective = res.objective
        if res.status == "infeasible":
            if good:
                notes.append("solver claims infeasibility but a known mask is within eps: "
                             "solver claim rejected")
                return result(Status.FEASIBLE)
            why = "its tolerant model (a relaxation)"
            if bad:
                why += f", with {len(bad)} mask(s) outside eps excluded,"
            notes.append(f"infeasible: {why} has no solution, so no mask has error <= eps")
            return RawSolution(Status.INFEASIBLE, certified=True, tolerance=0.0,
                               notes=notes, stats=stats)
        if res.status == "error":
            return result(Status.ERROR if not good else Status.FEASIBLE)
        if res.bound is not None:
            kb = max(0, math.ceil(res.bound - margin))
            count_bound = kb if count_bound is None else max(count_bound, kb)
        if res.values is not None:
            mask = problem.mask(model, res.values)
            err = problem.exact_error(instance, mask)
            if err <= eps:
                good.append(mask)
            else:
                bad.append(mask)
                notes.append(f"solver's mask has exact error {float(err):.17g} > eps "
                             f"(within its tolerance): excluded, solving again")
                if res.status == "optimal":
                    continue
        if res.status == "time_limit":
            return result(Status.TIME_LIMIT)
        if res.status == "stopped":
            return result(Status.FEASIBLE)
        return result(Status.OPTIMAL)
    notes.append(f"{rounds} rounds kept returning masks just outside eps")
    return result(Status.FEASIBLE)


# --------------------------------------------------------------------------------------------
# Registration


def _runner(engine: str) -> Callable[[Any, Goal, SolveOptions], RawSolution]:
    def run(instance: Any, goal: Goal, opts: SolveOptions) -> RawSolution:
        return run_milp(engine, instance, goal, opts)

    run.__name__ = f"run_{engine}"
    return run


_DESCRIPTIONS = {
    "cbc": "MILP with CBC (PuLP), exclusion-certified against solver tolerances",
    "highs": "MILP with HiGHS (highspy), exclusion-certified against solver tolerances",
    "scip": "MILP with SCIP (OR-Tools), exclusion-certified against solver tolerances",
}


def _register_backends() -> None:
    kinds = frozenset(MILP_PROBLEMS)
    for name, engine in ENGINES.items():
        register(Backend(
            name, _DESCRIPTIONS[name], kinds, exact=True, run=_runner(name),
            objectives=frozenset({Objective.MIN_ERROR, Objective.SPARSEST}), max_kept=True,
            available=engine.available, version=engine.version,
        ))


def register_milp_problem(kind: str, problem: MilpProblem) -> None:
    """Make the MILP backends solve instances of `kind` (re-registers them with the kind)."""
    MILP_PROBLEMS[kind] = problem
    _register_backends()


_register_backends()
