"""Registers the neuron/weight pruning methods, reusing the backend names of subset-sum.

`highs`, `cbc`, `scip` and `cpsat` solve pruning instances through the lazy-point selection
loop of `solvers.pruning_exact`; `bruteforce` enumerates every mask (`pruning_bruteforce`).
A backend that already serves subset-sum keeps doing so: its run function dispatches on the
instance's kind.
"""

from __future__ import annotations

from dataclasses import replace
from functools import partial
from typing import Any

from exactprune.instances.errors import InputError
from exactprune.solvers.pruning import (
    cpsat,  # noqa: F401  (registers the cpsat subset solver)
    heuristics,  # noqa: F401  (registers the heuristics)
)
from exactprune.solvers.pruning.bruteforce import run_pruning_bruteforce
from exactprune.solvers.pruning.exact import run_pruning_exact
from exactprune.solvers.registry import (
    Backend,
    RunFn,
    get_backend,
    register,
    register_auto_rule,
)
from exactprune.solvers.result import Goal, Objective, RawSolution, SolveOptions

PRUNING_KINDS = ("neuron_pruning", "weight_pruning")


def _dispatch(runs: dict[str, RunFn]) -> RunFn:
    def run(instance: Any, goal: Goal, opts: SolveOptions) -> RawSolution:
        if instance.kind in PRUNING_KINDS and goal.objective is not Objective.MIN_ERROR:
            raise InputError(f"{instance.kind} supports the min_error objective only")
        return runs[instance.kind](instance, goal, opts)

    return run


def extend(name: str, run: RunFn, *, max_kept: bool | None = None) -> Backend:
    """Make backend `name` also solve the pruning kinds with `run`."""
    old = get_backend(name)
    runs = {kind: old.run for kind in old.kinds}
    runs.update({kind: run for kind in PRUNING_KINDS})
    new = replace(old, kinds=frozenset(runs), run=_dispatch(runs),
                  max_kept=old.max_kept if max_kept is None else max_kept)
    return register(new)


for _engine in ("highs", "cbc", "scip", "cpsat"):
    extend(_engine, partial(run_pruning_exact, _engine))
extend("bruteforce", run_pruning_bruteforce)


def _auto(instance: Any, goal: Goal) -> str:
    """SCIP on all points was the fastest certifying engine on our pruning benchmarks
    (docs/benchmarks/pruning.md); tiny masks are enumerated."""
    if instance.mask_size <= 12:
        return "bruteforce"
    return "scip" if get_backend("scip").available() else "highs"


for _kind in PRUNING_KINDS:
    register_auto_rule(_kind, _auto)

__all__ = ["PRUNING_KINDS", "extend", "Backend"]
