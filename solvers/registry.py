"""Backends keyed by (kind, solver), each with its capabilities and its options schema.

A `Backend` is one way of solving one problem kind: an exact method, a MILP/CP-SAT model solved
by an engine, or a heuristic. It declares what it can do (`Capability`: the objectives, a
cardinality budget, a warm start, several threads, a time limit) and the options it takes
(`instances.params.Param`: type, default, description). `solve()` refuses anything else with one
clear line, so what ``exactprune solvers`` lists is what holds.

Where backends come from: the problem catalog (`instances.catalog`) names, per kind, the module
whose ``BACKENDS`` sequence declares them; it is imported the first time the kind is asked for.
The commercial MILP engines PuLP can reach (``pulp_<name>``) are added for every kind with a
MILP formulation when asked for (`solvers.pulp_engines`). `register` adds a backend at run time
(extensions and tests). After PuLP's ``getSolver`` / ``listSolvers``: a plain registry.
"""

from __future__ import annotations

import enum
import functools
import os
import threading
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from exactprune.instances.errors import InputError
from exactprune.instances.params import Param
from exactprune.solvers.result import Goal, Objective, RawSolution, SolveOptions
from exactprune.termination import interruptions_pass

RunFn = Callable[[Any, Goal, SolveOptions], RawSolution]


class Capability(enum.StrEnum):
    """What a backend can be asked for (the words of ``exactprune solvers --json``)."""

    MIN_ERROR = "min_error"
    """Minimise the error of the mask."""
    SPARSEST = "sparsest"
    """Minimise the number kept subject to error <= eps."""
    MAX_KEPT = "max_kept"
    """A cardinality budget with min_error."""
    WARM_START = "warm_start"
    """Start from a given mask (as incumbent, MIP start or hint)."""
    THREADS = "threads"
    """Use more than one thread."""
    TIME_LIMIT = "time_limit"
    """Stop within a wall-clock time limit, returning the best mask found."""


RESERVED_OPTIONS = frozenset({"time_limit", "seed", "threads", "objective", "max_kept", "eps",
                              "verbose", "warm_start", "solver", "instance"})
"""Names that are arguments of solve(), never backend options."""


def _always() -> bool:
    return True


def numpy_version() -> str:
    """The version string of methods that need only numpy."""
    import numpy

    return f"numpy {numpy.__version__}"


@functools.cache
def own_version() -> str:
    """The default version string: exactprune's own, as `bench` records our heuristics
    (they said null in solve results; hunt 49)."""
    from importlib.metadata import PackageNotFoundError, version

    try:
        return f"exactprune {version('exactprune')}"
    except PackageNotFoundError:  # pragma: no cover - running from a source tree
        return "exactprune unknown"


@dataclass(frozen=True)
class Backend:
    """One (kind, solver) pair.

    name: the solver name (CLI --solver); kind: the problem kind it solves; exact: it can certify
    optimality; run(instance, goal, options) -> RawSolution; capabilities: see `Capability`;
    options: its options schema; available/version: probes of the underlying library, called
    lazily so the core imports without optional solvers; refuse(instance, goal) -> a reason why
    this instance is out of its reach (e.g. a size limit), or None; refuse_options(instance,
    goal, options) -> a reason why these parsed options cannot run on this instance (an option
    that needs another, or needs the instance to have some form), or None. `check` asks both,
    so a sweep refuses such a grid whole instead of storing one error row per run (hunt 62 L1).
    accepts: for the kind's variants (`ProblemKind.variants`: pruning's norm, neuron
    selection's loss, rule, repeats), the values this backend takes, where it does not take
    them all (listed by ``solvers --json``, checked by `check`: they were in the description's
    words only; hunt 152 L1).
    """

    name: str
    kind: str
    description: str
    exact: bool
    run: RunFn
    capabilities: frozenset[Capability] = frozenset({Capability.MIN_ERROR,
                                                      Capability.TIME_LIMIT})
    options: tuple[Param, ...] = ()
    available: Callable[[], bool] = field(default=_always)
    version: Callable[[], str | None] = field(default=own_version)
    refuse: Callable[[Any, Goal], str | None] | None = None
    refuse_options: Callable[[Any, Goal, Mapping[str, Any]], str | None] | None = None
    accepts: tuple[tuple[str, tuple[Any, ...]], ...] = ()

    def __post_init__(self) -> None:
        object.__setattr__(self, "capabilities",
                           frozenset(Capability(c) for c in self.capabilities))
        clash = {p.name for p in self.options} & RESERVED_OPTIONS
        if clash:
            raise ValueError(f"backend {self.name}: option names {sorted(clash)} are reserved")

    def supports(self, capability: Capability | str) -> bool:
        return Capability(capability) in self.capabilities

    @property
    def inexact_what(self) -> str:
        """What a backend that certifies nothing is, for the refusals of commands that need an
        exact one: "a heuristic", or "never certified" (the `pulp_*` MILP engines and the
        constructive ticket, which are no heuristics; hunt 222 L1)."""
        return "a heuristic" if self.description.startswith("heuristic") else "never certified"

    def parse_options(self, raw: Mapping[str, Any]) -> dict[str, Any]:
        """Every declared option, from `raw` (text or values) or its default.

        InputError for an unknown name (listing the valid ones), a solve() argument given as an
        option, or a bad value."""
        schema = {p.name: p for p in self.options}
        for key in raw:
            if key in RESERVED_OPTIONS:
                raise InputError(f"{key} is an argument of solve (--{key.replace('_', '-')} on "
                                 f"the command line), not a backend option")
            if key not in schema:
                known = ", ".join(schema) if schema else "none"
                raise InputError(f"solver {self.name!r} ({self.kind}) has no option {key!r} "
                                 f"(its options: {known})")
        out = {name: p.default for name, p in schema.items()}
        for key, value in raw.items():
            try:
                out[key] = schema[key].parse(value)
            except InputError as exc:
                raise InputError(f"solver {self.name!r} option {exc}") from None
        return out

    def check(self, instance: Any, goal: Goal, opts: SolveOptions) -> None:
        """InputError unless this backend can do what is asked, naming what it can do."""
        wanted = goal_capabilities(goal)
        if opts.warm_start is not None:
            wanted.append(Capability.WARM_START)
        if opts.threads is not None and opts.threads > 1:
            wanted.append(Capability.THREADS)
        if opts.time_limit is not None:
            wanted.append(Capability.TIME_LIMIT)
        for cap in wanted:
            if cap not in self.capabilities:
                can = ", ".join(sorted(self.capabilities))
                raise InputError(f"solver {self.name!r} does not support {cap} on {self.kind} "
                                 f"instances (it supports: {can})")
        why = self.refusal(instance, goal)
        if why:
            raise InputError(f"solver {self.name!r}: {why}")
        if self.refuse_options is not None:
            why = self.refuse_options(instance, goal, opts.extra)
            if why:
                raise InputError(f"solver {self.name!r}: {why}")

    def refusal(self, instance: Any, goal: Goal | None) -> str | None:
        """Why this backend does not take `instance` (its `refuse`, whose words say who takes
        it, then its `accepts`), or None: what `check`, bench and `backends_taking` ask (bench
        started pulp_* engines on instances their `accepts` refuses; hunt 157 L3)."""
        if self.refuse is not None:
            why = self.refuse(instance, goal if goal is not None else Goal())
            if why:
                return why
        for name, values in self.accepts:
            value = getattr(instance, name, None)
            if value not in values:
                takers = [b for b in ("bruteforce", "bnb") if (self.kind, b) in _BACKENDS
                          and b != self.name and _BACKENDS[(self.kind, b)].accepts_all(
                              instance, goal)]  # who does, as the native engines say (160 L1)
                use = f"use {' or '.join(takers)}" if takers else "a heuristic gives a mask"
                return (f"it takes {self.kind} instances with {name} "
                        f"{' or '.join(map(str, values))}, not {value!r} ({use})")
        return None

    def accepts_all(self, instance: Any, goal: Goal | None) -> bool:
        """Whether this backend takes `instance` (`refusal` is None); one that raises on it
        does not."""
        try:
            return self.refusal(instance, goal) is None
        except InputError:
            return False

    def unavailable(self) -> str:
        """The one line that refuses this backend when its library is missing, with what
        installs it (it said only "not available": hunt 74 L1)."""
        if self.name == "gurobi" or self.name == "pulp_gurobi":
            how = "install gurobipy: pip install 'exactprune[gurobi]'"
        elif self.name.startswith("pulp_"):
            how = "PuLP finds no such solver here: install the commercial solver PuLP calls"
        else:
            how = "`exactprune solvers` lists what is"
        return f"solver {self.name!r} is not available on this machine ({how})"

    def describe(self) -> dict[str, Any]:
        """The object ``exactprune solvers --json`` prints for this pair."""
        try:
            with interruptions_pass():
                available = bool(self.available())
                version = self.version() if available else None
        except Exception:  # a broken optional library is "unavailable", not a crash
            available, version = False, None
        return {"kind": self.kind, "solver": self.name, "exact": self.exact,
                "available": available, "version": version,
                "capabilities": sorted(str(c) for c in self.capabilities),
                "options": {p.name: p.describe() for p in self.options},
                "option_declarations": {p.name: p.declaration() for p in self.options},
                "accepts": self.accepted_variants(),
                "description": self.description}

    def accepted_variants(self) -> dict[str, list[Any]]:
        """Each of the kind's variant fields with the values this backend takes (all of them
        unless `accepts` narrows it), in the kind's order."""
        from exactprune.instances.catalog import KINDS

        narrowed = dict(self.accepts)
        kind = KINDS.get(self.kind)
        return {name: [v for v in values if v in narrowed.get(name, values)]
                for name, values in (kind.variants if kind is not None else ())}


def goal_capabilities(goal: Goal) -> list[Capability]:
    """What a backend must support to take `goal`: its objective, and max_kept when set."""
    wanted = [Capability(str(goal.objective))]
    if goal.max_kept is not None:
        wanted.append(Capability.MAX_KEPT)
    return wanted


def capabilities(*objectives: Objective | str, max_kept: bool = False,
                 warm_start: bool = False, threads: bool = False,
                 time_limit: bool = True) -> frozenset[Capability]:
    """A capability set, spelled out."""
    caps = {Capability(str(o)) for o in (objectives or (Objective.MIN_ERROR,))}
    for flag, cap in ((max_kept, Capability.MAX_KEPT), (warm_start, Capability.WARM_START),
                      (threads, Capability.THREADS), (time_limit, Capability.TIME_LIMIT)):
        if flag:
            caps.add(cap)
    return frozenset(caps)


_BACKENDS: dict[tuple[str, str], Backend] = {}
_LOADED: set[str] = set()
_LOAD_LOCK = threading.RLock()  # re-entrant: a kind's solver module may load other kinds


def _new_load_lock_in_child() -> None:
    """A process forked while a thread was loading backends waited for the lock for ever."""
    global _LOAD_LOCK
    _LOAD_LOCK = threading.RLock()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_new_load_lock_in_child)


def register(backend: Backend) -> Backend:
    """Add a backend (a later registration of the same (kind, name) replaces the earlier)."""
    _BACKENDS[(backend.kind, backend.name)] = backend
    return backend


def _load(kind: str) -> None:
    """Import the backends the catalog declares for `kind` (once). Under a lock, and `kind`
    marked loaded only once its backends are in: solves started in threads at the same time
    otherwise found the kind marked but its backends not yet registered ("unknown solver")."""
    if kind in _LOADED:
        return
    from exactprune.instances.catalog import get_kind

    with _LOAD_LOCK:
        if kind in _LOADED:
            return
        module = get_kind(kind).module("solvers")
        if module is not None:
            for b in getattr(module, "BACKENDS", ()):
                if b.kind == kind and (b.kind, b.name) not in _BACKENDS:
                    register(b)
        _LOADED.add(kind)


def _kinds(kind: str | None) -> Iterable[str]:
    from exactprune.instances.catalog import KINDS, get_kind

    return list(KINDS) if kind is None else [get_kind(kind).name]


def list_backends(kind: str | None = None, only_available: bool = False,
                  commercial: bool = False) -> list[Backend]:
    """The backends of `kind` (all kinds when None), sorted by kind then name; `commercial`
    also probes PuLP for commercial MILP engines (slow: it imports their libraries) and lists
    their ``pulp_<engine>`` backends, which are left out otherwise (whether an earlier call had
    registered one made the answer depend on history; hunt 16)."""
    from exactprune.instances.params import as_flag

    only_available = as_flag(only_available, "only_available")  # "yes" was true (hunt 158)
    commercial = as_flag(commercial, "commercial")
    kinds = _kinds(kind)
    for k in kinds:
        _load(k)
    if commercial:
        from exactprune.solvers.pulp_engines import register_commercial_backends

        register_commercial_backends()
    out = [b for key, b in sorted(_BACKENDS.items())
           if key[0] in kinds and (commercial or not b.name.startswith("pulp_"))]
    return [b for b in out if b.available()] if only_available else out


def backend_names(kind: str | None = None) -> list[str]:
    """Solver names of `kind` (all kinds when None), sorted, without duplicates."""
    return sorted({b.name for b in list_backends(kind)})


def get_backend(name: str, kind: str) -> Backend:
    """The backend `name` for `kind`; InputError naming the solvers of that kind otherwise."""
    kind = next(iter(_kinds(kind)))
    _load(kind)
    key = (kind, str(name))
    if key not in _BACKENDS and str(name).startswith("pulp_"):
        from exactprune.solvers.pulp_engines import ensure_backend

        ensure_backend(str(name), kind)
    if key not in _BACKENDS:
        # The refusal lists every solver `exactprune solvers` lists (PuLP's commercial engines
        # included) and names the kinds a solver of that name serves, whichever were loaded.
        known = ", ".join(["auto", *sorted({b.name for b in list_backends(kind, commercial=True)})])
        for other in _kinds(None):
            _load(other)
        others = sorted(k for (k, n) in _BACKENDS if n == name)
        hint = f"; {name!r} solves {', '.join(others)}" if others else ""
        raise InputError(f"unknown solver {name!r} for {kind} (known: {known}){hint}")
    return _BACKENDS[key]


def backends_taking(instance: Any, goal: Goal | None, names: Sequence[str]) -> list[str]:
    """The names among `names` whose backend of the instance's kind does not refuse it: what a
    refusal may tell the user to use instead (fixed lists named backends that refused the same
    instance; hunts 121, 133, 135, 136)."""
    out = []
    for name in names:
        if get_backend(name, instance.kind).refusal(instance, goal) is None:
            out.append(name)
    return out


def resolve_auto(instance: Any, goal: Goal, threads: int = 1) -> str:
    """The backend name `auto` stands for on this instance and goal, given `threads` (the
    threads the solve may use: some engines only pay with several)."""
    from exactprune.instances.catalog import get_kind

    module = get_kind(instance.kind).module("solvers")
    rule = getattr(module, "choose_auto", None)
    if rule is None:
        raise InputError(f"no automatic solver choice for kind {instance.kind!r}")
    return str(rule(instance, goal, threads))


def resolve_auto_fallback(instance: Any, goal: Goal, result: Any) -> str | None:
    """The backend `auto` runs second when its first choice's `result` proves nothing for a
    reason other than a limit, or None (a kind without the rule has no second choice)."""
    from exactprune.instances.catalog import get_kind

    module = get_kind(instance.kind).module("solvers")
    rule = getattr(module, "auto_fallback", None)
    return None if rule is None else rule(instance, goal, result)

