"""A plain registry of backends: name -> Backend (after PuLP's getSolver / listSolvers)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from exactprune.instances.errors import InputError
from exactprune.solvers.result import Goal, Objective, RawSolution, SolveOptions

RunFn = Callable[[Any, Goal, SolveOptions], RawSolution]


def _always() -> bool:
    return True


def _no_version() -> str | None:
    return None


@dataclass(frozen=True)
class Backend:
    """One way of solving: an exact method, a MILP/CP-SAT backend or a heuristic.

    name: registry key (CLI --solver); kinds: instance kinds it solves; exact: can certify
    optimality; objectives: goals it supports; max_kept: supports a cardinality budget;
    run: (instance, goal, options) -> RawSolution; available/version: probes of the
    underlying library, called lazily so the core imports without optional solvers.
    """

    name: str
    description: str
    kinds: frozenset[str]
    exact: bool
    run: RunFn
    objectives: frozenset[Objective] = frozenset({Objective.MIN_ERROR})
    max_kept: bool = False
    available: Callable[[], bool] = field(default=_always)
    version: Callable[[], str | None] = field(default=_no_version)


_BACKENDS: dict[str, Backend] = {}
_AUTO_RULES: dict[str, Callable[[Any, Goal], str]] = {}


def register(backend: Backend) -> Backend:
    """Add a backend (a later registration under the same name replaces the earlier)."""
    _BACKENDS[backend.name] = backend
    return backend


def register_auto_rule(kind: str, rule: Callable[[Any, Goal], str]) -> None:
    """`rule(instance, goal)` names the fastest exact backend for that instance."""
    _AUTO_RULES[kind] = rule


def backend_names() -> list[str]:
    return sorted(_BACKENDS)


def get_backend(name: str) -> Backend:
    """The backend called `name`; InputError naming the known ones otherwise."""
    try:
        return _BACKENDS[name]
    except KeyError:
        known = ", ".join(["auto", *sorted(_BACKENDS)])
        raise InputError(f"unknown solver {name!r} (known: {known})") from None


def list_backends(only_available: bool = False) -> list[Backend]:
    """All registered backends, sorted by name (optionally only the usable ones)."""
    out = [_BACKENDS[k] for k in sorted(_BACKENDS)]
    return [b for b in out if b.available()] if only_available else out


def resolve_auto(instance: Any, goal: Goal) -> str:
    """The backend name `auto` stands for on this instance and goal."""
    rule = _AUTO_RULES.get(instance.kind)
    if rule is None:
        raise InputError(f"no automatic solver choice for kind {instance.kind!r}")
    return rule(instance, goal)
