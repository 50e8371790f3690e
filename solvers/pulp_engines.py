"""Commercial MILP engines reached through PuLP (Gurobi, CPLEX, Xpress, COPT, MOSEK): never
certified.

PuLP's ``listSolvers(onlyAvailable=True)`` is asked for the vendors below; each one found (one
interface per vendor, the Python API preferred) becomes backend ``pulp_<name>`` (e.g.
``pulp_gurobi``) for every problem kind that has a MILP formulation, solving the kind's default
formulation (the model ``exactprune export`` writes) with gaps 0. Its tolerances are not wired into
exactprune's certificates, so a mask it calls optimal is reported ``feasible`` (``time_limit`` when
it was stopped), an infeasibility it claims is uncertified (``error``), its objective recomputed
from the mask, and the solver's own objective and best bound (when PuLP exposes it) kept only as
notes. Probing imports the vendors' libraries, so it happens only when asked (``exactprune
solvers``, ``bench``, or a ``--solver pulp_<name>``). Any PuLP solver name works (the tests use
PULP_CBC_CMD).
"""

from __future__ import annotations

import contextlib
import functools
import math
from typing import Any

import numpy as np

from exactprune.instances.errors import InputError
from exactprune.solvers.registry import Backend, capabilities, register
from exactprune.solvers.result import RawSolution, Status
from exactprune.termination import interruptions_pass

PULP_PREFIX = "pulp_"
VENDORS: tuple[tuple[str, ...], ...] = (
    ("GUROBI", "GUROBI_CMD"),
    ("CPLEX_PY", "CPLEX_CMD"),
    ("XPRESS_PY", "XPRESS"),
    ("COPT", "COPT_DLL", "COPT_CMD"),
    ("MOSEK",),
)
_found: list[str] | None = None


@contextlib.contextmanager
def quiet(verbose: bool = False) -> Any:
    """Native and Python output of a solver call away from stdout (it may carry JSON): to
    stderr when `verbose` (the engine's log), else nowhere. The solving thread's Python-level
    prints go with the native ones (`native_stdout`'s stand-in for sys.stdout); a
    contextlib.redirect_stdout here, process-global and not thread-safe, left sys.stdout at
    stderr for good when solves in threads overlapped (hunt 24). (PuLP's deprecation warning
    is filtered once, in formulations/linear.py.)"""
    from exactprune.solvers.milp_engines import native_stdout

    with native_stdout(verbose):
        yield


def commercial_pulp_solvers() -> list[str]:
    """PuLP names of the commercial MILP solvers available here (one per vendor); [] if PuLP
    fails."""
    global _found
    if _found is None:
        try:
            with interruptions_pass():
                import pulp

                with quiet():
                    available = set(pulp.listSolvers(onlyAvailable=True))
        except Exception:
            available = set()
        _found = [next(n for n in vendor if n in available)
                  for vendor in VENDORS if available & set(vendor)]
    return list(_found)


def _kinds_with_formulations() -> list[str]:
    from exactprune.formulations.base import formulations_of
    from exactprune.instances.catalog import KINDS

    return [k for k in KINDS if formulations_of(k)]


def _pulp_name(name: str) -> str | None:
    """PuLP's solver name for our ``pulp_<name>`` (PuLP spells some in mixed case, HiGHS);
    None when PuLP knows no such solver."""
    import pulp

    wanted = name[len(PULP_PREFIX):].upper()
    with quiet():
        return next((n for n in pulp.listSolvers() if n.upper() == wanted), None)


def ensure_backend(name: str, kind: str) -> None:
    """Register ``pulp_<name>`` for `kind` (in the parent and in every worker) when PuLP knows
    the solver: a misspelt name stays an unknown solver, not an unavailable one."""
    from exactprune.formulations.base import formulations_of

    if name.startswith(PULP_PREFIX) and formulations_of(kind):
        pulp_name = _pulp_name(name)
        if pulp_name is not None:
            register(make_pulp_backend(pulp_name, kind))


def register_commercial_backends() -> list[str]:
    """Register a ``pulp_<name>`` backend, for every kind with a MILP formulation, for every
    commercial solver PuLP finds; returns the backend names (none without such a solver)."""
    names = [PULP_PREFIX + n.lower() for n in commercial_pulp_solvers()]
    for kind in _kinds_with_formulations():
        for name in names:
            ensure_backend(name, kind)
    return names


def make_pulp_backend(pulp_name: str, kind: str) -> Backend:
    """A backend of `kind` solving its default formulation with PuLP's solver `pulp_name`,
    never certified (min_error only, no max_kept)."""

    def available() -> bool:
        try:
            with interruptions_pass():
                import pulp

                with quiet():
                    return bool(pulp.getSolver(pulp_name, msg=False).available())
        except Exception:
            return False

    def version() -> str | None:
        try:
            with interruptions_pass():
                import pulp
        except Exception:
            return None
        return f"{pulp_name} via PuLP {pulp.__version__}"

    norms = {"subset_sum": "", "neuron_selection": "; l1/linf, average/keep rule"}.get(
        kind, "; linf/l1 errors")  # what the formulations take (hunt 104 L5)
    return Backend(
        PULP_PREFIX + pulp_name.lower(), kind,
        f"MILP with {pulp_name} through PuLP, never certified (tolerances not in the "
        f"certificate){norms}", exact=False, run=functools.partial(_run_pulp, pulp_name),
        capabilities=capabilities(threads=True), available=available, version=version,
        accepts=_MODEL_ACCEPTS.get(kind, ()))


_MODEL_ACCEPTS: dict[str, tuple[tuple[str, tuple[Any, ...]], ...]] = {
    "neuron_pruning": (("norm", ("linf", "l1")),), "weight_pruning": (("norm", ("linf", "l1")),),
    "neuron_selection": (("loss", ("l1", "linf")), ("rule", ("average", "keep")))}
"""What the kinds' MILP formulations take (`Backend.accepts`), as the native engines say."""


NATIVE_NAMES = {"GUROBI": {"threads": "Threads", "gapAbs": "MIPGapAbs"}}
"""PuLP classes whose **solverParams go to the engine as its own parameters: our arguments
that the class does not name, under the engine's names (`threads` never reached Gurobi, which
then ran on every core)."""


def _named_arguments(pulp_name: str, kwargs: dict[str, Any]) -> dict[str, Any]:
    """The arguments for the PuLP solver class: those it names, and the others under the
    engine's own names where NATIVE_NAMES knows them. Any other would reach the engine's
    **solverParams as a parameter it may not know (Gurobi refuses `gapAbs`), so it is dropped;
    msg and timeLimit are always named."""
    import inspect

    import pulp

    cls = getattr(pulp, pulp_name, None)
    if cls is None:
        return kwargs
    named = set(inspect.signature(cls.__init__).parameters)
    native = NATIVE_NAMES.get(pulp_name, {})
    return {(k if k in named else native[k]): v for k, v in kwargs.items()
            if k in named or k in native}


def _run_pulp(pulp_name: str, instance: Any, goal: Any, opts: Any) -> RawSolution:
    import pulp

    from exactprune.formulations.base import get_formulation
    from exactprune.formulations.linear import to_pulp_with_vars
    from exactprune.solvers.milp_engines import cbc_threads, pulp_outcome, solver_files

    try:
        built = get_formulation(instance.kind).build(instance, goal)
    except InputError as exc:  # a model the formulation refuses: named like other backends'
        raise InputError(f"solver {PULP_PREFIX + pulp_name.lower()!r}: {exc}") from None
    with quiet():
        prob, variables = to_pulp_with_vars(built.model)
    threads: int | None = int(opts.threads or 1)
    if pulp_name in ("PULP_CBC_CMD", "COIN_CMD"):  # CBC's serial default for one thread
        threads = cbc_threads(threads)
    kwargs: dict[str, Any] = {"msg": bool(opts.verbose), "gapRel": 0.0, "gapAbs": 0.0,
                              "threads": threads}
    if opts.time_limit is not None:
        kwargs["timeLimit"] = float(opts.time_limit)
    notes = [f"{pulp_name} through PuLP: never certified (its tolerances are not part of "
             "exactprune's certificate)"]
    with quiet(bool(opts.verbose)), solver_files() as folder:
        solver = pulp.getSolver(pulp_name, **_named_arguments(pulp_name, kwargs))
        if hasattr(solver, "tmpDir"):  # command-line solvers: their files go in `folder`
            solver.tmpDir = folder
        returned = prob.solve(solver)
    view, has_solution = pulp_outcome(prob, returned)
    if not has_solution and view == "other" and _native_incumbent(prob):
        has_solution = True  # PuLP 3 says "Not Solved" at a time limit but loads the values
    notes.append(f"{pulp_name} status: {pulp.LpStatus.get(prob.status, prob.status)}"
                 f" ({view})")
    bound = _pulp_best_bound(prob)
    if bound is not None:
        notes.append(f"{pulp_name}'s own best bound {bound!r} (not used: tolerances unknown)")
    mask = None
    solver_obj = None
    if has_solution:
        raw = [v.value() for v in variables]
        if all(x is not None for x in raw):
            mask = built.mask(np.array(raw, dtype=np.float64))
            with contextlib.suppress(Exception):
                solver_obj = float(pulp.value(prob.objective))
    stopped = view != "optimal"
    if mask is None and view == "infeasible":
        # an engine's infeasibility is its claim, not a time limit (Gurobi called a model of
        # data scaled by 2^200 infeasible after 5 ms and the run read `time_limit`; hunt 133
        # M1): an uncertified infeasibility, which `solve` reports as an error
        status = Status.INFEASIBLE
        notes.append(f"{pulp_name} called the model infeasible")
    elif mask is None:
        status = Status.TIME_LIMIT if stopped and opts.time_limit is not None else Status.ERROR
        notes.append(f"{pulp_name} returned no solution")
    elif stopped and opts.time_limit is not None:
        status = Status.TIME_LIMIT
    else:
        status = Status.FEASIBLE
    return RawSolution(status, mask=mask, solver_objective=solver_obj, notes=notes)


def _native_incumbent(prob: Any) -> bool:
    """Whether the native model PuLP keeps (Gurobi, CPLEX Python) holds an integer solution:
    at a time limit PuLP 3.3 reports status "Not Solved" and sol_status -1, yet it loads the
    incumbent's values, and the run was counted as "no solution" (hunt 10: 10 solutions,
    the best with error 1.3e-6)."""
    model = getattr(prob, "solverModel", None)
    if model is None:
        return False
    checks = (lambda m: int(m.SolCount) >= 1,  # gurobipy
              lambda m: bool(m.solution.is_primal_feasible()))  # CPLEX
    for check in checks:
        try:
            return check(model)
        except Exception:  # noqa: BLE001 - not this solver's API, or no solution object
            continue
    return False


def _pulp_best_bound(prob: Any) -> float | None:
    """The solver's best bound when PuLP keeps the native model (Gurobi, CPLEX Python)."""
    model = getattr(prob, "solverModel", None)
    if model is None:
        return None
    for getter in (lambda m: m.ObjBound,  # gurobipy
                   lambda m: m.solution.MIP.get_best_objective()):  # cplex
        with contextlib.suppress(Exception):
            value = float(getter(model))
            if math.isfinite(value):
                return value
    return None
