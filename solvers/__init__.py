"""Backends (exact methods, MILP/CP-SAT, heuristics) behind one `solve()`.

Backends are keyed by (kind, solver) and declared per kind in the module the problem catalog
names (solvers/subset_sum, solvers/pruning); they are imported when a kind is first used.
"""

from exactprune.solvers.dispatch import finalize, solve
from exactprune.solvers.registry import (
    Backend,
    Capability,
    backend_names,
    capabilities,
    get_backend,
    list_backends,
    register,
)
from exactprune.solvers.result import (
    Goal,
    Limit,
    Objective,
    ObjectiveBounds,
    RawSolution,
    SolveOptions,
    SolveResult,
    Status,
)

__all__ = [
    "Backend",
    "Capability",
    "Goal",
    "Limit",
    "Objective",
    "ObjectiveBounds",
    "RawSolution",
    "SolveOptions",
    "SolveResult",
    "Status",
    "backend_names",
    "capabilities",
    "finalize",
    "get_backend",
    "list_backends",
    "register",
    "solve",
]
