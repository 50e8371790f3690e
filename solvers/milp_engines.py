"""MILP engines: one solve of one `MilpModel` with CBC, HiGHS or SCIP (no certification).

Every engine takes any `MilpModel` (formulations/linear.py) and returns an `EngineResult`: status,
variable values of the best solution, the solver's own objective and dual bound, node count. What
a result means is decided by the caller (solvers/subset_sum/milp.py, solvers/pruning/exact.py),
which turns the tolerances below into a slack (formulations.linear.tolerance_slack).

Engines and the tolerances they run with (all absolute; gaps 0):
  cbc    PuLP's CBC (bundled PULP_CBC_CMD on PuLP 3.x, COIN_CMD on PuLP 4.x). Options
         `-increment 1e-12` (CBC's default cutoff increment, ~1e-5, would stop the search once
         the incumbent is that close to the bound, and PuLP's gapRel/gapAbs do not change it),
         `-allow 0 -ratio 0`, primal/dual/integer tolerance 1e-9, seeds from opts.seed, serial
         unless more than one thread is asked for (`cbc_threads`). The
         model reaches CBC as an MPS file with 13 significant digits (relative rounding 5e-13).
         Status: CBC's log ("Result - ...", "Search completed", "Partial search ... (best
         possible Y)", "Exiting as integer gap of G") together with PuLP's status/sol_status;
         the bound is read from the log ("best possible" is printed with 8 digits, so 1e-7
         relative is subtracted); when an "optimal" log has no bound line (preprocessing fixed
         every variable, which is not trusted) CBC runs again without preprocessing and that
         run's bound is used; else unknown.
  highs  highspy native API (not PuLP, which maps a HiGHS time limit to "Optimal"):
         mip_rel_gap = mip_abs_gap = 0; mip_feasibility_tolerance, primal and dual feasibility
         tolerances 1e-10 (the smallest HiGHS accepts); small_matrix_value 1e-12 (smallest
         accepted; also HiGHS's MIP epsilon). HiGHS prunes a node whose bound is within
         mip_feasibility_tolerance of the incumbent, so that is its cutoff. Bound:
         info.mip_dual_bound.
  scip   SCIP inside OR-Tools (pywraplp): limits/gap = limits/absgap = 0, numerics/feastol
         1e-10, numerics/dualfeastol 1e-12, numerics/sumepsilon = epsilon = 1e-11
         (`SCIP_PARAMS`); its LP solver (SoPlex without GMP) runs the node LPs at an
         optimality tolerance of 1e-10, not 1e-12, and the slack uses that. Bound:
         Objective().BestBound(). Keyword cuts=False turns its cutting planes off
         (`SCIP_NO_CUTS`; the default of neuron selection and of the pruning kinds but for the
         l1 error with a relu output: their option `cuts`).

Native solver output (HiGHS banner, SCIP/HiGHS logs) never reaches stdout: it goes to stderr
when verbose, else to /dev/null (the CLI prints JSON on stdout). The redirection is of file
descriptor 1 for the duration of a solve, so do not print from other threads meanwhile.
"""

from __future__ import annotations

import contextlib
import functools
import math
import os
import re
import shutil
import sys
import tempfile
import threading
import time
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np

from exactprune.formulations.linear import (
    MilpModel,
    SolverTolerances,
    to_highs,
    to_ortools,
    to_pulp_with_vars,
)
from exactprune.solvers.result import SolveOptions

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
    start: str | None = None
    """What the engine did with a MIP start: "accepted", "rejected", "not_supported", or None
    (no start given, or the engine printed no verdict: see `start_verdict`)."""
    start_reason: str | None = None


@dataclass(frozen=True)
class Engine:
    """A MILP engine: solve(model, time_limit, seed, threads, verbose, start) -> EngineResult,
    the tolerances it runs with (for the certificates' slack), and probes of its library.
    Every kind's MILP backends are made from `ENGINES`, so adding an engine is one entry."""

    name: str
    label: str
    solve: Callable[..., EngineResult]
    tolerances: Callable[[], SolverTolerances]
    available: Callable[[], bool]
    version: Callable[[], str | None]


def _threads(opts: SolveOptions) -> int:
    return 1 if opts.threads is None else int(opts.threads)


@dataclass
class Captured:
    """What native code printed on fd 1 inside `native_stdout(..., capture=True)`. Empty when
    another solve of this process redirected fd 1 at the same time (solves in threads): their
    prints cannot be told apart, so none is handed back rather than another solve's."""

    text: str = ""


@dataclass
class _Redirect:
    """The process's one redirection of fds 1 and 2, shared by the solves running in it."""

    depth: int = 0  # solves inside
    entries: int = 0  # solves that ever entered (tells a solve whether it ran alone)
    saved: int = -1
    saved_err: int | None = None
    target: int = -1
    tmp: Any = None
    verbose: bool = False


_REDIRECT = _Redirect()
_REDIRECT_LOCK = threading.Lock()


def _set_up_redirect(r: _Redirect, verbose: bool, capture: bool) -> bool:
    """Point fds 1 (and 2 unless verbose) at the target; False, changing nothing, when the
    process's fds cannot be duplicated (closed stdout). Called under the lock."""
    for stream in (sys.stdout, sys.stderr):
        if stream is not None:
            with contextlib.suppress(Exception):
                stream.flush()
    saved = saved_err = tmp = None
    try:
        saved = os.dup(1)
        saved_err = None if verbose else os.dup(2)
        tmp = tempfile.TemporaryFile() if capture else None
        if tmp is not None:
            target = os.dup(tmp.fileno())
        else:
            target = os.dup(2) if verbose else os.open(os.devnull, os.O_WRONLY)
    except OSError:
        for fd in (saved, saved_err):
            if fd is not None:
                os.close(fd)
        if tmp is not None:
            tmp.close()
        return False
    os.dup2(target, 1)
    if saved_err is not None:
        os.dup2(target, 2)
    r.saved, r.saved_err, r.target, r.tmp, r.verbose = saved, saved_err, target, tmp, verbose
    return True


@contextlib.contextmanager
def native_stdout(verbose: bool, capture: bool = False) -> Any:
    """Send what native solver code prints on stdout (fd 1) to stderr when verbose, else to
    /dev/null, so that stdout stays clean (the CLI prints JSON there); when not verbose, what it
    prints on stderr (fd 2: SoPlex's "Cannot set optimality tolerance ... without GMP", banners)
    goes too, so a successful run prints nothing but its result. With `capture`, both go to a
    temporary file instead and are handed back in the yielded `Captured` (and copied to stderr
    when verbose).

    File descriptors belong to the process, so solves running in threads share one
    redirection: the first to enter sets it up (its `verbose` and `capture` decide where the
    prints go), the last to leave restores fds 1 and 2. (Each solve saving and restoring on its
    own lost the process's stdout for good when two interleaved.) Only a solve that ran alone
    gets its captured text."""
    import ctypes

    out = Captured()
    try:
        libc = ctypes.CDLL(None)
    except OSError:  # pragma: no cover - no C library handle: leave stdout alone
        yield out
        return
    r = _REDIRECT
    with _REDIRECT_LOCK:
        redirected = r.depth > 0 or _set_up_redirect(r, verbose, capture)
        if redirected:
            alone = r.depth == 0
            r.depth += 1
            r.entries += 1
            my_entry = r.entries
    if not redirected:  # pragma: no cover - fd 1 or 2 closed: leave them alone
        yield out
        return
    try:
        yield out
    finally:
        with _REDIRECT_LOCK:
            libc.fflush(None)
            r.depth -= 1
            alone = alone and r.entries == my_entry
            if r.depth == 0:
                os.dup2(r.saved, 1)
                os.close(r.saved)
                if r.saved_err is not None:
                    os.dup2(r.saved_err, 2)
                    os.close(r.saved_err)
                os.close(r.target)
                if r.tmp is not None:
                    r.tmp.seek(0)
                    text = r.tmp.read().decode("utf-8", errors="replace")
                    r.tmp.close()
                    if r.verbose:
                        sys.stderr.write(text)
                    if alone and capture:
                        out.text = text
                r.tmp = None


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
    of the start against the model at the engine's feasibility tolerance (said in the notes)."""
    if start is None or res.start is not None:
        return res
    why = check_start(model, start, feasibility)
    res.start = "accepted" if why is None else "rejected"
    res.start_reason = ("the engine printed no verdict; the start is feasible by exactprune's "
                        "check" if why is None else f"infeasible by exactprune's check: {why}")
    return res


# ---- CBC via PuLP --------------------------------------------------------------------------

CBC_TOLERANCE = 1e-9
CBC_INCREMENT = 1e-12
CBC_EPSILON = 1e-10  # CBC's own minimum integer gap ("less than 1e-10 or 0%")
CBC_PRINT_REL = 1e-7  # "best possible" is printed with 8 significant digits
NO_BOUND_NOTE = "CBC's log gave no bound: bound unknown"


def _cbc_class() -> Any:
    import pulp

    if hasattr(pulp, "PULP_CBC_CMD"):  # PuLP 3.x: bundled binary (deprecated there)
        return pulp.PULP_CBC_CMD
    return pulp.COIN_CMD  # PuLP 4.x: pulp[cbc] / cbc on PATH


def _cbc_options(seed: int, preprocess: bool) -> list[str]:
    """CBC's options as "name value" (PuLP's form; the command line takes "-name value"): zero
    gaps, our tolerances, a seed (0 would mean "seed from the clock"), preprocessing on or off.
    One list for both ways CBC is run, so their tolerances cannot drift apart."""
    cbc_seed = min(int(seed) + 1, 2**31 - 1)
    return [
        f"increment {CBC_INCREMENT!r}", "allow 0", "ratio 0",
        f"primalTolerance {CBC_TOLERANCE!r}", f"dualTolerance {CBC_TOLERANCE!r}",
        f"integerTolerance {CBC_TOLERANCE!r}",
        f"randomCbcSeed {cbc_seed}", f"randomSeed {cbc_seed}",
        *([] if preprocess else ["preprocess off"]),
    ]


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


@functools.cache
def _blank_free_tmp_dir() -> str:
    """A folder for command-line solvers' files whose path has no blank: PuLP passes paths to
    the solver binary (CBC, and PuLP's other command-line engines) on a command line split at
    blanks, so a TMPDIR such as "/tmp/my files" would break it."""
    for candidate in (tempfile.gettempdir(), "/tmp", "/var/tmp", os.getcwd()):
        if " " not in candidate and os.path.isdir(candidate) and \
                os.access(candidate, os.W_OK | os.X_OK):
            return candidate
    raise RuntimeError("no temporary folder without blanks in its path for the solver's files")


@contextlib.contextmanager
def solver_files() -> Any:
    """A fresh folder for one command-line solve's files (model, MIP start, solution, log),
    removed with everything in it afterwards. PuLP deletes its files only when the solve
    returns normally: when CBC stops at a time limit before writing a solution, PuLP raises and
    leaves the model (megabytes for a large pruning model) in the temporary folder."""
    folder = tempfile.mkdtemp(prefix="exactprune-solve-", dir=_blank_free_tmp_dir())
    try:
        yield folder
    finally:
        shutil.rmtree(folder, ignore_errors=True)


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
    lp = re.search(r"^Optimal objective (" + _FLOAT + r") - \d+ iterations", text, re.MULTILINE)
    if log.result is None and lp:
        # no integer variable reached CBC (PuLP leaves out the ones no row or objective uses,
        # e.g. the columns of units inactive at every point): CLP solved an LP and says so
        # without a "Result -" line
        log.result = "optimal"
        log.objective = float(lp.group(1))
        log.bound = log.objective - CBC_PRINT_REL * abs(log.objective) - 1e-300
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


def pulp_outcome(prob: Any, returned: Any) -> tuple[str, bool]:
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


def cbc_threads(threads: int) -> int | None:
    """CBC's `threads` argument: None (CBC's serial default, no `threads` on its command line)
    for one thread. `threads 1` runs CBC's threaded code with one thread, and the bundled CBC
    2.10.3 then sometimes stalls for 10 s in a solve that takes 0.02 s (docs/benchmarks/
    cbc-threads.md: 13 of 300 tiny solves, none of 300 without the option; it made the default
    test run minutes longer)."""
    return None if threads <= 1 else threads


def _solve_cbc(model: MilpModel, *, time_limit: float | None, seed: int, threads: int,
               verbose: bool, start: np.ndarray | None) -> EngineResult:
    """CBC on `model`; an "infeasible" is believed only when CBC says it again without its
    preprocessing, and an error (a crash, or a log that contradicts the solution file) is
    retried without it. The bundled CBC 2.10.3's preprocessing declared a feasible model infeasible
    ("Pre-processing says infeasible": a weight-pruning big-M model capped at its incumbent's
    error, whose optimum every other engine found; read as "nothing better than the
    incumbent", that made a wrong optimum). Without preprocessing CBC solves such a model
    right, but crashes writing the solution file of a truly infeasible one, so the second look
    at an infeasible model runs the binary directly, without a solution file."""
    t0 = time.perf_counter()
    first = _cbc_run(model, time_limit=time_limit, seed=seed, threads=threads, verbose=verbose,
                     start=start, preprocess=True)
    if first.status == "optimal" and first.bound is None:
        # preprocessing fixed every variable ("No integer variables - nothing to do": no bound
        # line), and that fixing is not to be trusted: on subset-sum audit case 2517 it kept
        # 5 values where 4 meet eps. Without preprocessing CBC searches and prints its bound.
        left = None if time_limit is None else max(time_limit - (time.perf_counter() - t0),
                                                   0.01)
        again = _cbc_run(model, time_limit=left, seed=seed, threads=threads, verbose=verbose,
                         start=start, preprocess=False)
        seconds = time.perf_counter() - t0
        said = "CBC's preprocessing solved the model without a bound; without it: "
        if again.status == "optimal" and again.values is not None:
            return replace(again, seconds=seconds, notes=[
                *[n for n in first.notes if n != NO_BOUND_NOTE], *again.notes,
                said + "optimal" + ("" if again.bound is None else f", bound {again.bound!r}")])
        # the two runs disagree (subset-sum audit case 1668: "infeasible" without
        # preprocessing beside a solution with it): keep the solution, prove nothing
        return replace(first, status="stopped", seconds=seconds,
                       notes=[*first.notes, said + f"{again.status}: no proof either way"])
    if first.status not in ("infeasible", "error"):
        return first
    left = None if time_limit is None else max(time_limit - (time.perf_counter() - t0), 0.01)
    again = _cbc_run(model, time_limit=left, seed=seed, threads=threads, verbose=verbose,
                     start=start, preprocess=False)
    seconds = time.perf_counter() - t0
    if again.status != "error":  # e.g. a log saying infeasible beside an optimal solution file
        return replace(again, seconds=seconds, notes=[
            *again.notes, f"CBC with preprocessing: {first.status}; without it: "
                          f"{again.status}"])
    if first.status == "error":
        return replace(first, seconds=seconds)
    left = None if time_limit is None else max(time_limit - seconds, 0.01)
    verdict = _cbc_log_without_preprocessing(model, left, seed)
    seconds = time.perf_counter() - t0
    if verdict.result == "infeasible" or (verdict.result == "infeasible_or_unbounded"
                                          and _bounded(model)):
        return replace(first, seconds=seconds, notes=[
            *first.notes, "infeasible with and without CBC's preprocessing"])
    return replace(first, status="time_limit" if verdict.result == "time_limit" else "error",
                   seconds=seconds, notes=[
                       *first.notes, "CBC's preprocessing said infeasible; without it CBC "
                       f"said {verdict.result or 'nothing'}: not trusted"])


def _bounded(model: MilpModel) -> bool:
    return bool(np.all(np.isfinite(model.lower)) and np.all(np.isfinite(model.upper)))


def _cbc_log_without_preprocessing(model: MilpModel, time_limit: float | None,
                                   seed: int) -> CbcLog:
    """CBC's log of `model` solved without preprocessing, at our tolerances, writing no
    solution file (the step where CBC 2.10.3 crashes on infeasible models); CbcLog() when the
    binary fails before printing a verdict."""
    import subprocess

    prob, _ = to_pulp_with_vars(model)
    options = [word for option in _cbc_options(seed, preprocess=False)
               for word in f"-{option}".split(" ", 1)]
    with solver_files() as tmp_dir:
        path = os.path.join(tmp_dir, "model.mps")
        prob.writeMPS(path)
        args = [_make_cbc(msg=False).path, path, *options,
                *([] if time_limit is None else ["-sec", repr(time_limit),
                                                  "-timeMode", "elapsed"]), "-solve"]
        try:
            out = subprocess.run(args, capture_output=True, text=True, stdin=subprocess.DEVNULL,
                                 timeout=None if time_limit is None else time_limit + 60)
        except (OSError, subprocess.SubprocessError):
            return CbcLog()
    return parse_cbc_log(out.stdout)


def _cbc_run(model: MilpModel, *, time_limit: float | None, seed: int, threads: int,
             verbose: bool, start: np.ndarray | None, preprocess: bool) -> EngineResult:
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
    options = _cbc_options(seed, preprocess)
    t0 = time.perf_counter()
    with solver_files() as tmp_dir:
        log_path = os.path.join(tmp_dir, "cbc.log")
        open(log_path, "w").close()  # read below even if CBC never starts
        solver = _make_cbc(
            msg=False, timeLimit=None if time_limit is None else max(time_limit, 0.01),
            gapRel=0.0, gapAbs=0.0, threads=cbc_threads(threads), logPath=log_path,
            warmStart=warm, options=options,
        )
        solver.tmpDir = tmp_dir
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            try:
                returned = prob.solve(solver)
                crash = None
            except Exception as exc:  # PulpSolverError: CBC died or wrote no solution
                returned, crash = None, exc
        with open(log_path, encoding="utf-8", errors="replace") as fh:
            text = fh.read()
    seconds = time.perf_counter() - t0
    if verbose:
        sys.stderr.write(text)
    log = parse_cbc_log(text)
    start_status, start_reason = _cbc_start(text) if warm else (None, None)
    if start is not None and not warm:
        start_status = "not_supported"
    if crash is not None:
        if time_limit is not None and (log.result == "time_limit" or seconds >= time_limit):
            # out of time before CBC wrote a solution file (PuLP then raises): a time limit
            return EngineResult("time_limit", seconds=seconds, nodes=log.nodes,
                                notes=[*notes, f"CBC stopped at the time limit ({seconds:.2g} s) "
                                       "before writing a solution"])
        return EngineResult("error", seconds=seconds, nodes=log.nodes,
                            notes=[*notes, f"CBC failed: {type(crash).__name__}: {crash}"])
    pulp_view, has_solution = pulp_outcome(prob, returned)
    values = None
    if has_solution:
        raw = [v.value() for v in variables]
        unused = _unused_variables(model)
        for j, r in enumerate(raw):
            if r is None and j in unused:  # PuLP writes no column for a variable no row or
                raw[j] = _value_in_bounds(model, j)  # objective uses: any value in its bounds
        if all(r is not None for r in raw):
            values = np.array(raw, dtype=np.float64)
    log_result = log.result
    if log_result == "infeasible_or_unbounded":
        log_result = "infeasible" if _bounded(model) else "unbounded"  # bounded: never unbounded
    if pulp_view == "infeasible" or log_result == "infeasible":
        if pulp_view == "infeasible" and log_result == "infeasible":
            return EngineResult("infeasible", seconds=seconds, nodes=log.nodes, notes=notes,
                                start=start_status, start_reason=start_reason)
        return EngineResult("error", values, log.objective, None, log.nodes, seconds,
                            [*notes, f"CBC status unclear (PuLP: {pulp_view}, log: "
                                     f"{log.result})"], start_status, start_reason)
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
        notes.append(NO_BOUND_NOTE)
    return EngineResult(status, values, log.objective, bound, log.nodes, seconds, notes,
                        start_status, start_reason)


def _unused_variables(model: MilpModel) -> set[int]:
    """The variables that appear in no row and have objective coefficient 0."""
    used = {int(j) for j in np.asarray(model.row_index)} | {
        int(j) for j in np.flatnonzero(np.asarray(model.objective) != 0.0)}
    return set(range(model.n_vars)) - used


def _value_in_bounds(model: MilpModel, j: int) -> float:
    """0 clipped into variable j's bounds (for an integer, the nearest integer in them)."""
    value = float(min(max(0.0, model.lower[j]), model.upper[j]))
    if model.integer[j] and value != math.floor(value):
        value = float(math.ceil(model.lower[j]))
    return value


_CBC_REPAIRS = ("Fixing only non-zero variables.", "Trying just fixing integer variables",
                "variables are still fractional")
_CBC_REJECTS = ("mipstart values could not be used", "MIPstart solution is not valid",
                "No mipstart solution read from")


def _cbc_start(text: str) -> tuple[str | None, str | None]:
    """CBC's verdict on the MIP start, from its log (None when it printed none, e.g. when
    preprocessing removed the whole model)."""
    for line in text.splitlines():
        if any(r in line for r in _CBC_REJECTS):
            return "rejected", line.strip()
    if re.search(r"MIPStart provided solution with cost", text):
        repaired = [r for r in _CBC_REPAIRS if r in text]
        if repaired:
            return "rejected", f"CBC rebuilt a solution from part of the start ({repaired[0]})"
        return "accepted", None
    return None, None


# ---- HiGHS (highspy) -----------------------------------------------------------------------

HIGHS_OPTIONS: dict[str, float] = {
    "mip_rel_gap": 0.0,
    "mip_abs_gap": 0.0,
    "mip_feasibility_tolerance": 1e-10,
    "primal_feasibility_tolerance": 1e-10,
    "dual_feasibility_tolerance": 1e-10,
    "small_matrix_value": 1e-12,
}

HIGHS_PRESOLVE = "off"
"""At the tolerances above HiGHS 1.16's MIP presolve certified wrong optima (neuron-selection
audit cases 349 and 1104: targets a selection predicts to 1e-10; with mip_feasibility_tolerance
1e-9 three other cases); without presolve none in 2,672 solves (docs/numerics.md). The price:
benchmarks/presolve_price.py --engine highs."""


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

    with native_stdout(False):  # the first Highs() prints a banner
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

    with native_stdout(verbose):
        return _solve_highs_inner(highspy, model, time_limit=time_limit, seed=seed,
                                  threads=threads, verbose=verbose, start=start)


def _solve_highs_inner(highspy: Any, model: MilpModel, *, time_limit: float | None, seed: int,
                       threads: int, verbose: bool, start: np.ndarray | None) -> EngineResult:
    notes: list[str] = []
    h = highspy.Highs()
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


# ---- SCIP via OR-Tools pywraplp ------------------------------------------------------------

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

# Engine-specific keyword options `solve_model` passes from a backend's options (only the
# backends that declare them receive them).
ENGINE_KEYWORDS: dict[str, tuple[str, ...]] = {
    "scip": ("cuts", "linear_presolve", "dual_reductions")}

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


# The LP optimality (dual feasibility) tolerance SCIP's LP solver really runs with. SCIP passes
# numerics/dualfeastol (1e-12) on to SoPlex, but SoPlex built without GMP, as in OR-Tools'
# wheels (and PySCIPOpt's), refuses anything below 1e-10: "Cannot set optimality tolerance to
# small value 1e-12 without GMP - using 1e-10" in SCIP's log. The node LPs' duals are then
# feasible only to 1e-10, so the certificate's slack must use that (100x the nominal value).
SOPLEX_MIN_OPTIMALITY_TOLERANCE = 1e-10


def _scip_tolerances() -> SolverTolerances:
    p = SCIP_PARAMS
    return SolverTolerances(
        feasibility=p["numerics/feastol"],
        optimality=max(p["numerics/dualfeastol"], SOPLEX_MIN_OPTIMALITY_TOLERANCE),
        integrality=p["numerics/feastol"], abs_gap=p["limits/absgap"], rel_gap=p["limits/gap"],
        cutoff=0.0, epsilon=p["numerics/epsilon"] + p["numerics/sumepsilon"],
    )


def _solve_scip(model: MilpModel, *, time_limit: float | None, seed: int, threads: int,
                verbose: bool, start: np.ndarray | None, cuts: bool = True,
                linear_presolve: bool = True, dual_reductions: bool = True) -> EngineResult:
    """cuts=False: no cutting planes (`SCIP_NO_CUTS`); linear_presolve=False: no presolving of
    linear constraints (`SCIP_NO_LINEAR_PRESOLVE`); dual_reductions=False: no dual reductions
    (`SCIP_NO_DUAL_REDUCTIONS`); the tolerances are unchanged."""
    from ortools.linear_solver import pywraplp

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
    if not solver.SetSolverSpecificParametersAsString("\n".join(lines) + "\n"):
        return EngineResult("error", notes=["SCIP refused the parameter settings"])
    if threads > 1 and not solver.SetNumThreads(threads):
        notes.append(f"SCIP refused {threads} threads")
    if time_limit is not None:
        solver.SetTimeLimit(max(1, int(math.ceil(time_limit * 1000))))
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
    t0 = time.perf_counter()
    with native_stdout(verbose, capture=start is not None) as printed:
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


# ---- Gurobi via gurobipy (optional) --------------------------------------------------------

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
def _gurobi_available() -> bool:
    """gurobipy importable and a model can be built (its pip wheel carries a size-limited
    licence: models up to 2,000 variables and constraints; larger ones fail with a note)."""
    try:
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
def _gurobi_version() -> str | None:
    import gurobipy as gp

    major, minor, tech = gp.gurobi.version()
    return f"Gurobi {major}.{minor}.{tech} (gurobipy)"


def _gurobi_tolerances() -> SolverTolerances:
    p = GUROBI_PARAMS
    return SolverTolerances(
        feasibility=p["FeasibilityTol"], optimality=p["OptimalityTol"],
        integrality=p["IntFeasTol"], abs_gap=p["MIPGapAbs"], rel_gap=p["MIPGap"],
        cutoff=0.0, epsilon=1e-10,
    )


def _solve_gurobi(model: MilpModel, *, time_limit: float | None, seed: int, threads: int,
                  verbose: bool, start: np.ndarray | None) -> EngineResult:
    import gurobipy as gp
    from gurobipy import GRB

    notes: list[str] = []
    log: list[str] = []
    try:
        with native_stdout(verbose):
            env = gp.Env(empty=True)
            env.setParam("OutputFlag", 1 if verbose or start is not None else 0)
            env.setParam("LogToConsole", 1 if verbose else 0)
            env.start()
        m = gp.Model(model.name or "exactprune", env=env)
        for name, value in GUROBI_PARAMS.items():
            m.setParam(name, value)
        m.setParam("Seed", int(seed) % 2_000_000_000)
        m.setParam("Threads", int(threads))
        if time_limit is not None:
            m.setParam("TimeLimit", float(max(time_limit, 0.01)))
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

        t0 = time.perf_counter()
        with native_stdout(verbose):
            m.optimize(on_message if start is not None else None)
        seconds = time.perf_counter() - t0
    except gp.GurobiError as exc:
        return EngineResult("error", notes=[f"Gurobi: {exc}"])
    code = m.Status
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
    if code == GRB.OPTIMAL and values is not None:
        status = "optimal"
    elif code == GRB.INFEASIBLE:
        status = "infeasible"
    elif code == GRB.TIME_LIMIT:
        status = "time_limit"
    elif code in (GRB.INTERRUPTED, GRB.NODE_LIMIT, GRB.SOLUTION_LIMIT, GRB.ITERATION_LIMIT,
                  GRB.WORK_LIMIT, GRB.MEM_LIMIT, GRB.USER_OBJ_LIMIT):
        status = "stopped"
    else:
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


ENGINES: dict[str, Engine] = {
    "cbc": Engine("cbc", "CBC (PuLP)", _solve_cbc, _cbc_tolerances, _cbc_available,
                  _cbc_version),
    "highs": Engine("highs", "HiGHS (highspy)", _solve_highs, _highs_tolerances,
                    _highs_available, _highs_version),
    "scip": Engine("scip", "SCIP (OR-Tools)", _solve_scip, _scip_tolerances, _scip_available,
                   _scip_version),
    "gurobi": Engine("gurobi", "Gurobi (gurobipy, optional)", _solve_gurobi,
                     _gurobi_tolerances, _gurobi_available, _gurobi_version),
}


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
                     "within its tolerance: the claim is refuted, nothing is certified from it")
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
