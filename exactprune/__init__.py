"""exactprune: exact, certified optimal prunings of small neural networks.

    from exactprune import solve, load_instance, generate_subset_sum
    result = solve(generate_subset_sum(n=24, seed=0), solver="mitm")
"""

from exactprune.instances import (
    InputError,
    SubsetSumInstance,
    generate_subset_sum,
    load_instance,
    save_instance,
)
from exactprune.solvers import (
    Goal,
    Objective,
    SolveResult,
    Status,
    list_backends,
    solve,
)

__version__ = "0.1.0"

__all__ = [
    "Goal",
    "InputError",
    "Objective",
    "SolveResult",
    "Status",
    "SubsetSumInstance",
    "__version__",
    "generate_subset_sum",
    "list_backends",
    "load_instance",
    "save_instance",
    "solve",
]
