"""OR-Tools CP-SAT set up once for every exactprune model (subset-sum and pruning)."""

from __future__ import annotations

import time
from typing import Any

from exactprune.solvers.interrupt import stop_on_sigint
from exactprune.solvers.milp_engines.native_output import log_to_stderr
from exactprune.solvers.result import CLAIM_REFUTED, SolveOptions
from exactprune.termination import interruptions_pass

INFEASIBLE_REFUTED = ("CP-SAT said infeasible, but the start given to it lies inside the cap "
                      f"and satisfies every constraint: {CLAIM_REFUTED}")
"""The note of a CP-SAT INFEASIBLE refuted by its start in hand (pruning and neuron selection,
as `milp_engines.distrust_infeasible_with_feasible_start` for the MILP engines; hunt 231 F1)."""


def configured_solver(opts: SolveOptions, time_limit: float | None, presolve: bool) -> Any:
    """A CpSolver set up the same way for every exactprune model.

    One worker unless opts.threads (deterministic for a seed), zero gap limits (OPTIMAL means
    proven), presolve as asked but never its inclusion reductions (OR-Tools 9.15 certifies wrong
    optima with them, or-tools#5293), the log on stderr when verbose (stdout carries --json).
    """
    from ortools.sat.python import cp_model

    solver = cp_model.CpSolver()
    params = solver.parameters
    params.num_workers = int(opts.threads or 1)
    params.random_seed = int(opts.seed) % (2**31 - 1)
    params.absolute_gap_limit = 0.0
    params.relative_gap_limit = 0.0
    params.cp_model_presolve = presolve
    params.presolve_inclusion_work_limit = 0
    if time_limit is not None:
        params.max_time_in_seconds = max(time_limit, 1e-3)
    params.log_search_progress = bool(opts.verbose)
    params.log_to_stdout = False
    params.catch_sigint_signal = False  # Ctrl-C is an interruption, not a limit: see solve_cpsat
    if opts.verbose:
        solver.log_callback = _log_line
    return solver


TRUSTED_WORKERS = 8
"""The most CP-SAT workers whose INFEASIBLE without presolve is believed at once: google/
or-tools#5295 reports a false INFEASIBLE at the root with 10 or more workers and the presolve
off, and exactprune's measurements and audits ran at most 8."""


def solve_cpsat(solver: Any, model: Any) -> Any:
    """`solver.solve(model)`, stopped at once by Ctrl-C, which then raises KeyboardInterrupt
    (`solvers/interrupt.py`) instead of coming back as a time-limited result.

    An INFEASIBLE from more than `TRUSTED_WORKERS` workers without presolve gets a second look
    with `TRUSTED_WORKERS` workers in the time left (at least 1 ms), whose answer — and
    response, which callers read — is the one returned: a confirmed INFEASIBLE, a solution
    that refutes the first, or an UNKNOWN that proves nothing."""
    params = solver.parameters
    began = time.perf_counter()
    with stop_on_sigint(solver.stop_search):
        status = solver.solve(model)
    if (status != _infeasible_code() or params.num_workers <= TRUSTED_WORKERS
            or params.cp_model_presolve):
        return status
    workers, limit = params.num_workers, params.max_time_in_seconds
    params.num_workers = TRUSTED_WORKERS
    params.max_time_in_seconds = max(limit - (time.perf_counter() - began), 1e-3)
    try:
        with stop_on_sigint(solver.stop_search):
            return solver.solve(model)
    finally:
        params.num_workers, params.max_time_in_seconds = workers, limit


def _infeasible_code() -> Any:
    from ortools.sat.python import cp_model

    return cp_model.INFEASIBLE


def cpsat_available() -> bool:
    try:
        with interruptions_pass():
            from ortools.sat.python import cp_model  # noqa: F401
    except Exception:  # a broken OR-Tools (protobuf's TypeError) is "unavailable" (hunt 167)
        return False
    return True


def cpsat_version() -> str | None:
    try:
        with interruptions_pass():
            import ortools
    except Exception:
        return None
    return f"OR-Tools CP-SAT {ortools.__version__}"


def _log_line(line: str) -> None:
    log_to_stderr(line + "\n")


def capture_log(solver: Any, opts: SolveOptions) -> list[str]:
    """Collect CP-SAT's log lines (and still show them on stderr when verbose): the verdict on a
    solution hint is only in the log. Returns the list the lines are appended to."""
    lines: list[str] = []

    def keep(line: str) -> None:
        lines.append(line)
        if opts.verbose:
            _log_line(line)

    solver.parameters.log_search_progress = True
    solver.parameters.log_to_stdout = False
    solver.log_callback = keep
    return lines


def hint_verdict(lines: list[str]) -> tuple[str | None, str | None]:
    """CP-SAT's verdict on a complete solution hint, from its log (OR-Tools 9.15 wording).

    Only the first "The solution hint is ..." line counts: it is the check on the model as
    given (a second one, after presolve, may judge a much smaller model)."""
    for line in lines:
        if "The solution hint is" in line or "Ignoring solution hint" in line:
            text = line.strip()
            if "complete and is feasible" in text:
                return "accepted", None
            return "rejected", text[text.find("The solution hint"):][:300] or text[:300]
    return None, None
