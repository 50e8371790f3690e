"""What every formulation provides: a model over a keep-mask that owns its variables.

A `Formulation` builds a `BuiltModel`: the `MilpModel` plus the two maps between the instance's
keep-mask and the model's variables. `start(mask)` gives a value to *every* variable (the error
variable and every auxiliary one included) such that the point is feasible and its objective is
the mask's own objective, so a MIP start never fails for a missing or made-up value; `mask(values)`
reads the keep-mask back from a solver's values. No code outside the formulation needs to know
how variables are named or ordered.

Formulations of a kind are declared in the module the problem catalog names
(`instances.catalog.ProblemKind.formulations`), as ``FORMULATIONS``: a sequence of `Formulation`,
each for one kind, the kind's default first.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from exactprune.formulations.linear import MilpModel
from exactprune.instances.errors import InputError


@dataclass(frozen=True)
class BuiltModel:
    """A model and its mask maps (see the module docstring).

    start: keep-mask (instance's mask shape) -> float64 values of all `model.n_vars` variables;
    mask: values -> keep-mask (bool, instance's mask shape).
    """

    model: MilpModel
    start: Callable[[np.ndarray], np.ndarray]
    mask: Callable[[np.ndarray], np.ndarray]


@dataclass(frozen=True)
class Formulation:
    """One MILP formulation of one kind.

    build(instance, goal) -> BuiltModel, goal None meaning min_error without a budget;
    objectives: the goals' objectives it models; max_kept: it models a cardinality budget.
    """

    name: str
    kind: str
    description: str
    build: Callable[[Any, Any], BuiltModel]
    objectives: frozenset[str] = frozenset({"min_error"})
    max_kept: bool = False

    def check_goal(self, goal: Any) -> None:
        """InputError unless this formulation models `goal`."""
        if goal is None:
            return
        objective = str(getattr(goal, "objective", "min_error"))
        if objective not in self.objectives:
            raise InputError(f"the {self.kind} formulation {self.name!r} models "
                             f"{', '.join(sorted(self.objectives))}, not {objective}")
        if getattr(goal, "max_kept", None) is not None and not self.max_kept:
            raise InputError(f"the {self.kind} formulation {self.name!r} has no cardinality "
                             "budget (max_kept)")


def formulations_of(kind: str) -> dict[str, Formulation]:
    """The formulations of problem kind `kind`, by name, the default first ({} if none)."""
    from exactprune.instances.catalog import get_kind

    module = get_kind(kind).module("formulations")
    found = getattr(module, "FORMULATIONS", ()) if module is not None else ()
    return {f.name: f for f in found if f.kind == get_kind(kind).name}


def get_formulation(kind: str, name: str | None = None) -> Formulation:
    """The formulation `name` of `kind` (its default when None); InputError naming the known."""
    found = formulations_of(kind)
    if not found:
        raise InputError(f"no MILP formulation for instance kind {kind!r}")
    if name is None:
        return next(iter(found.values()))
    if name not in found:
        raise InputError(f"unknown formulation {name!r} for {kind} (known: {', '.join(found)})")
    return found[name]


def mask_values(mask: Any) -> np.ndarray:
    """A keep-mask as float64 0/1 values, flattened in C order."""
    return np.asarray(mask, dtype=bool).reshape(-1).astype(np.float64)
