"""CBC through PuLP's COIN_CMD (on PuLP 3.x the binary it bundles, on 4.x pulp[cbc]), and the
plumbing PuLP's command-line engines share (`solver_files`, `pulp_outcome`).

Options: `-increment 1e-12` (CBC's default cutoff increment, ~1e-5, would stop the search once
the incumbent is that close to the bound, and PuLP's gapRel/gapAbs do not change it),
`-allow 0 -ratio 0`, primal/dual/integer tolerance 1e-9, seeds from opts.seed, serial unless
more than one thread is asked for (`cbc_threads`). The model reaches CBC as an MPS file with 13
significant digits (relative rounding 5e-13). Status: CBC's log ("Result - ...", "Search
completed", "Partial search ... (best possible Y)", "Exiting as integer gap of G") together
with PuLP's status/sol_status; the bound is read from the log ("best possible" is printed with
8 digits, so 1e-7 relative is subtracted); when an "optimal" log has no bound line
(preprocessing fixed every variable, which is not trusted) CBC runs again without preprocessing
and that run's bound is used; else unknown.
"""

from __future__ import annotations

import contextlib
import functools
import math
import os
import re
import shutil
import tempfile
import time
from dataclasses import dataclass, replace
from typing import Any

import numpy as np

from exactprune.formulations.linear import MilpModel, SolverTolerances, to_pulp_with_vars
from exactprune.solvers.milp_engines.engine import EngineResult
from exactprune.solvers.milp_engines.native_output import log_to_stderr
from exactprune.termination import interruptions_pass

CBC_TOLERANCE = 1e-9
CBC_INCREMENT = 1e-12
CBC_EPSILON = 1e-10  # CBC's own minimum integer gap ("less than 1e-10 or 0%")
CBC_PRINT_REL = 1e-7  # "best possible" is printed with 8 significant digits
NO_BOUND_NOTE = "CBC's log gave no bound: bound unknown"


def _cbc_class() -> Any:
    """PuLP's command-line CBC class, COIN_CMD (`_make_cbc` points it at PuLP 3's bundled
    binary)."""
    import pulp

    return pulp.COIN_CMD


def _bundled_cbc() -> str | None:
    """The CBC binary PuLP 3.x ships (its PULP_CBC_CMD's path), or None (PuLP 4.x: pulp[cbc] or
    cbc on PATH, COIN_CMD's default). Read from the class, never instantiated: PULP_CBC_CMD()
    raises a DeprecationWarning that API users resetting the warning filters saw (hunt 60 L3)."""
    import pulp

    return getattr(getattr(pulp, "PULP_CBC_CMD", None), "pulp_cbc_path", None)


def _cbc_options(seed: int, preprocess: bool) -> list[str]:
    """CBC's options as "name value" (PuLP's form; the command line takes "-name value"): zero
    gaps, our tolerances, a seed (0 would mean "seed from the clock"), no cutting planes,
    preprocessing on or off.
    One list for both ways CBC is run, so their tolerances cannot drift apart."""
    cbc_seed = min(int(seed) + 1, 2**31 - 1)
    return [
        f"increment {CBC_INCREMENT!r}", "allow 0", "ratio 0",
        f"primalTolerance {CBC_TOLERANCE!r}", f"dualTolerance {CBC_TOLERANCE!r}",
        f"integerTolerance {CBC_TOLERANCE!r}",
        f"randomCbcSeed {cbc_seed}", f"randomSeed {cbc_seed}",
        # no cutting planes: with them the bundled CBC 2.10.3 certified wrong optima, seed
        # by seed (pruning audit case 23539, dictionary model: 10 of seeds 0-29 wrong, 0 of
        # 30 without cuts; case 11138, big-M: 0 of 40 with Gomory or knapsack cuts off)
        "cuts off",
        *([] if preprocess else ["preprocess off"]),
    ]


def _make_cbc(**kwargs: Any) -> Any:
    """A CBC solver object (COIN_CMD on PuLP 3's bundled binary when there is one); drops
    keyword arguments this PuLP does not know (4.x renames)."""
    import inspect

    cls = _cbc_class()
    bundled = _bundled_cbc()
    if bundled is not None:
        kwargs = {"path": bundled, **kwargs}
    try:
        accepted = set(inspect.signature(cls.__init__).parameters)
    except (TypeError, ValueError):  # pragma: no cover
        accepted = set(kwargs)
    if "kwargs" not in accepted:
        kwargs = {k: v for k, v in kwargs.items() if k in accepted}
    return cls(**kwargs)


@functools.cache
def available() -> bool:
    try:
        with interruptions_pass():
            return bool(_make_cbc(msg=False).available())
    except Exception:
        return False


@functools.cache
def version() -> str | None:
    import subprocess

    import pulp

    text = None
    try:
        with interruptions_pass():
            solver = _make_cbc(msg=False)
            out = subprocess.run([solver.path, "-quit"], capture_output=True, text=True,
                                 timeout=20, stdin=subprocess.DEVNULL)
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
    except BaseException:
        # Ctrl-C (or any error) while PuLP waits for the solver: PuLP leaves it running, at
        # full CPU until its own limit or for ever (hunt 27)
        _kill_processes_using(folder)
        raise
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def _kill_processes_using(folder: str) -> bool:
    """SIGKILL this process's children running on `folder`'s files; whether there were any."""
    import signal

    pids = _processes_using(folder)
    for pid in pids:
        with contextlib.suppress(OSError):
            os.kill(pid, signal.SIGKILL)
    return bool(pids)


def tolerances() -> SolverTolerances:
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


START_NOT_PASSED = ("not passed to CBC (from a start its search certified wrong optima; "
                    "docs/numerics.md)")


def solve(model: MilpModel, *, time_limit: float | None, seed: int, threads: int,
               verbose: bool, start: np.ndarray | None, preprocess: bool = True) -> EngineResult:
    """CBC on `model`, never with a MIP start (`start` is not passed: see below; the result
    says so); preprocess=False: CBC without its preprocessing from the start
    (`_solve_without_preprocessing`). Otherwise an "infeasible" is believed only
    when CBC says it again without its preprocessing, and an error (a crash, or a log that
    contradicts the solution file) is retried without it. The bundled CBC 2.10.3's preprocessing
    declared a feasible model infeasible ("Pre-processing says infeasible": a weight-pruning
    big-M model capped at its incumbent's error, whose optimum every other engine found; read as
    "nothing better than the incumbent", that made a wrong optimum). Without preprocessing CBC
    solves such a model right, but crashes writing the solution file of a truly infeasible one,
    so the second look at an infeasible model runs the binary directly, without a solution file."""
    if start is not None:
        # CBC 2.10.3 is not given MIP starts. With one, its preprocessing returned the start as
        # "optimal" while a better mask exists (neuron-selection audit case 4877: 0.877156
        # for 0.877126; right without the start or without preprocessing), and without
        # preprocessing, from a start at the error cap the exact loops build, its search
        # certified a wrong optimum (hunt 48: weight pruning 0.1373653 for 0.1369360, neuron
        # pruning 0.3435320 for 0.3401001; right without the start, with or without
        # preprocessing). The start still caps the model (the incumbent's error).
        res = solve(model, time_limit=time_limit, seed=seed, threads=threads, verbose=verbose,
                    start=None, preprocess=preprocess)
        return replace(res, start="not_supported", start_reason=START_NOT_PASSED)
    if not preprocess:
        return _solve_without_preprocessing(model, time_limit=time_limit, seed=seed,
                                            threads=threads, verbose=verbose, start=None)
    t0 = time.perf_counter()
    first = _cbc_run(model, time_limit=time_limit, seed=seed, threads=threads, verbose=verbose,
                     start=None, preprocess=True)
    if first.status == "optimal" and first.bound is None:
        # preprocessing fixed every variable ("No integer variables - nothing to do": no bound
        # line), and that fixing is not to be trusted: on subset-sum audit case 2517 it kept
        # 5 values where 4 meet eps. Without preprocessing CBC searches and prints its bound.
        left = None if time_limit is None else max(time_limit - (time.perf_counter() - t0),
                                                   0.01)
        again = _cbc_run(model, time_limit=left, seed=seed, threads=threads, verbose=verbose,
                         start=None, preprocess=False)
        seconds = time.perf_counter() - t0
        said = "CBC's preprocessing solved the model without a bound; without it: "
        if again.status == "optimal" and again.values is not None:
            return replace(again, seconds=seconds, notes=[
                *[n for n in first.notes if n != NO_BOUND_NOTE], *again.notes,
                said + "optimal" + ("" if again.bound is None else f", bound {again.bound!r}")])
        # the two runs disagree (subset-sum audit case 1668: "infeasible" without
        # preprocessing beside a solution with it): keep the solution, prove nothing; a
        # second run the clock stopped is the time limit's doing (hunt 236 M1: it read as
        # "stopped", so `feasible` with limit none)
        status = "time_limit" if again.status == "time_limit" else "stopped"
        return replace(first, status=status, seconds=seconds,
                       notes=[*first.notes, said + f"{again.status}: no proof either way"])
    if first.status not in ("infeasible", "error"):
        return first
    left = None if time_limit is None else max(time_limit - (time.perf_counter() - t0), 0.01)
    again = _cbc_run(model, time_limit=left, seed=seed, threads=threads, verbose=verbose,
                     start=None, preprocess=False)
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
    if _log_says_infeasible(verdict, model):
        return replace(first, seconds=seconds, notes=[
            *first.notes, "infeasible with and without CBC's preprocessing"])
    return replace(first, status="time_limit" if verdict.result == "time_limit" else "error",
                   seconds=seconds, notes=[
                       *first.notes, "CBC's preprocessing said infeasible; without it CBC "
                       f"said {verdict.result or 'nothing'}: not trusted"])


def _solve_without_preprocessing(model: MilpModel, *, time_limit: float | None, seed: int,
                                 threads: int, verbose: bool, start: np.ndarray | None
                                 ) -> EngineResult:
    """CBC without preprocessing. Its preprocessing cut off masks deep inside sparsest
    subset-sum windows on values of two scales (--edge audit case 5143: a count of 3 certified
    where 2 values, error 0.031 against eps 0.088, meet it; right without preprocessing, at any
    window margin). Without it CBC 2.10.3 crashes writing the solution file of an infeasible
    model, so an error is looked at again through the binary's own log."""
    t0 = time.perf_counter()
    run = _cbc_run(model, time_limit=time_limit, seed=seed, threads=threads, verbose=verbose,
                   start=start, preprocess=False)
    notes = [*run.notes, "CBC without preprocessing"]
    if run.status != "error":
        return replace(run, notes=notes)
    left = None if time_limit is None else max(time_limit - (time.perf_counter() - t0), 0.01)
    verdict = _cbc_log_without_preprocessing(model, left, seed)
    seconds = time.perf_counter() - t0
    if _log_says_infeasible(verdict, model):
        return replace(run, status="infeasible", seconds=seconds, values=None,
                       objective=None, bound=None,
                       notes=[*notes, "infeasible (CBC's log; its solution file failed)"])
    if verdict.result == "time_limit":
        return replace(run, status="time_limit", seconds=seconds, notes=notes)
    return replace(run, seconds=seconds, notes=notes)


def _bounded(model: MilpModel) -> bool:
    return bool(np.all(np.isfinite(model.lower)) and np.all(np.isfinite(model.upper)))


def _log_says_infeasible(verdict: CbcLog, model: MilpModel) -> bool:
    """CBC's log calls `model` infeasible (or infeasible-or-unbounded, with every variable
    bounded, so not unbounded)."""
    return verdict.result == "infeasible" or (verdict.result == "infeasible_or_unbounded"
                                              and _bounded(model))


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


WATCHDOG_GRACE_S = 5.0
"""Seconds past its time limit (plus a tenth of the limit) after which a CBC process that is
still running is killed: CBC reads its clock only after the root LP, and a 0.2 s limit took
9 s, or over 100 s on a larger model (hunt 11). The run is then a time limit like any other."""


WATCHDOG_POLL_S = 0.25
"""How often the watchdog looks again for a CBC run once the deadline has passed."""


def _processes_using(folder: str) -> list[int]:
    """Pids of this process's children whose command line names `folder` (the CBC run of one
    solve: its model file lives there), from /proc; none where /proc does not exist."""
    me, found = os.getpid(), []
    with contextlib.suppress(OSError):
        for entry in os.listdir("/proc"):
            if not entry.isdigit():
                continue
            try:
                with open(f"/proc/{entry}/stat", encoding="utf-8", errors="replace") as fh:
                    stat = fh.read()
                with open(f"/proc/{entry}/cmdline", "rb") as fh:
                    cmdline = fh.read()
            except OSError:
                continue
            fields = stat[stat.rindex(")") + 2:].split()
            if len(fields) > 1 and int(fields[1]) == me and os.fsencode(folder) in cmdline:
                found.append(int(entry))
    return found


@contextlib.contextmanager
def _cbc_watchdog(folder: str, time_limit: float | None) -> Any:
    """Kill the CBC process of the solve in `folder` if it runs WATCHDOG_GRACE_S + 10 % past
    `time_limit`; yields a dict whose "killed" says whether it had to."""
    import threading

    state = {"killed": False}
    delay = None if time_limit is None else time_limit * 1.1 + WATCHDOG_GRACE_S
    if delay is None or delay >= min(threading.TIMEOUT_MAX, 1e9):
        yield state  # no limit, or one beyond what a thread can wait (its wait overflowed)
        return

    stop = threading.Event()

    def watch() -> None:
        # past the deadline, kill every CBC run of the folder until the solve returns: a
        # one-shot timer that fired while PuLP was still writing a large model found no CBC,
        # and CBC then ran unbounded (35 s and more on a 2 s limit; hunt 20)
        if stop.wait(delay):
            return
        while not stop.is_set():
            if _kill_processes_using(folder):
                state["killed"] = True
            stop.wait(WATCHDOG_POLL_S)

    watcher = threading.Thread(target=watch, name="cbc-watchdog", daemon=True)
    watcher.start()
    try:
        yield state
    finally:
        stop.set()


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
        with _cbc_watchdog(tmp_dir, time_limit) as watchdog:
            try:
                returned = prob.solve(solver)
                crash = None
            except Exception as exc:  # PulpSolverError: CBC died or wrote no solution
                returned, crash = None, exc
        if watchdog["killed"]:
            after = time_limit * 1.1 + WATCHDOG_GRACE_S
            notes.append(f"CBC ran past its time limit without stopping (it reads its clock "
                         f"only after the root LP): killed after {after:.3g} s")
        with open(log_path, encoding="utf-8", errors="replace") as fh:
            text = fh.read()
    seconds = time.perf_counter() - t0
    if verbose:
        log_to_stderr(text)
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
