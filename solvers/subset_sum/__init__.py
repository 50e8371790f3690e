"""Subset-sum backends: exact (mitm, bruteforce, cpsat, MILP engines) and heuristics."""

from __future__ import annotations

from exactprune.instances.subset_sum import SubsetSumInstance
from exactprune.solvers.registry import Backend, register, register_auto_rule
from exactprune.solvers.result import Goal, Objective
from exactprune.solvers.subset_sum import cpsat, milp  # noqa: F401  (register on import)
from exactprune.solvers.subset_sum.bruteforce import run_bruteforce
from exactprune.solvers.subset_sum.heuristics import run_greedy, run_local_search, run_random
from exactprune.solvers.subset_sum.mitm import run_mitm

SUBSET_SUM = frozenset({SubsetSumInstance.kind})
BOTH = frozenset({Objective.MIN_ERROR, Objective.SPARSEST})


def _numpy_version() -> str:
    import numpy

    return f"numpy {numpy.__version__}"


register(Backend("mitm", "exact meet-in-the-middle (Horowitz-Sahni), int64, memory-aware",
                 SUBSET_SUM, exact=True, run=run_mitm, objectives=BOTH, max_kept=True,
                 version=_numpy_version))
register(Backend("bruteforce", "exhaustive oracle over all 2^n masks (n <= 22)",
                 SUBSET_SUM, exact=True, run=run_bruteforce, objectives=BOTH, max_kept=True,
                 version=_numpy_version))
register(Backend("greedy", "heuristic: greedy forward selection", SUBSET_SUM, exact=False,
                 run=run_greedy, max_kept=True))
register(Backend("local_search", "heuristic: flip/swap descent with seeded restarts",
                 SUBSET_SUM, exact=False, run=run_local_search, max_kept=True))
register(Backend("random", "heuristic: best of seeded random masks", SUBSET_SUM,
                 exact=False, run=run_random, max_kept=True))


def _auto(instance: SubsetSumInstance, goal: Goal) -> str:
    """Meet-in-the-middle is the fastest exact method at every size we can certify."""
    return "mitm"


register_auto_rule(SubsetSumInstance.kind, _auto)
