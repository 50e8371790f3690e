"""Backends (exact methods, MILP/CP-SAT, heuristics) behind one `solve()`."""

from exactprune.solvers import cpsat, milp, subset_sum_backends  # noqa: F401  (register)
from exactprune.solvers.dispatch import finalize, solve
from exactprune.solvers.registry import (
    Backend,
    backend_names,
    get_backend,
    list_backends,
    register,
    register_auto_rule,
)
from exactprune.solvers.result import (
    Goal,
    Objective,
    RawSolution,
    SolveOptions,
    SolveResult,
    Status,
)

__all__ = [
    "Backend",
    "Goal",
    "Objective",
    "RawSolution",
    "SolveOptions",
    "SolveResult",
    "Status",
    "backend_names",
    "finalize",
    "get_backend",
    "list_backends",
    "register",
    "register_auto_rule",
    "solve",
]
