"""Backends (exact methods, MILP/CP-SAT, heuristics) behind one `solve()`."""

# Importing registers the backends; pruning extends the others, so it comes last.
from exactprune.solvers import subset_sum  # noqa: F401  # isort: skip
from exactprune.solvers import pruning  # noqa: F401  # isort: skip
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
