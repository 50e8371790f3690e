"""`solve()`: validate, dispatch to a backend, and recompute every number from the mask.

This is where the numerics policy is enforced for every backend alike: the objective comes
from the instance's own evaluation of the mask, a claimed optimum without a certificate is
downgraded, a bound above the objective is dropped, and a backend exception becomes an
`error` result instead of a crash.
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Mapping
from fractions import Fraction
from typing import Any

import numpy as np

from exactprune.instances.errors import InputError
from exactprune.instances.io import instance_sha256
from exactprune.instances.params import as_flag
from exactprune.instances.scaling import float_floor
from exactprune.solvers import registry
from exactprune.solvers.result import (
    Goal,
    Limit,
    Objective,
    RawSolution,
    SolveOptions,
    SolveResult,
    Status,
    check_threads,
)

log = logging.getLogger(__name__)


def solve(
    instance: Any,
    solver: str = "auto",
    *,
    time_limit: float | None = None,
    seed: int = 0,
    threads: int | None = None,
    objective: str | Objective = Objective.MIN_ERROR,
    max_kept: int | None = None,
    eps: float | None = None,
    verbose: bool = False,
    warm_start: Any = None,
    options: Mapping[str, Any] | None = None,
    **extra: Any,
) -> SolveResult:
    """Solve `instance` with the backend `solver` and return a checked `SolveResult`.

    time_limit is in seconds; threads defaults to the backend's single-thread setting
    (with solver "auto", threads and warm_start are what the chosen method may use: see
    `_fit_to_auto_choice`);
    objective is "min_error" (optionally with max_kept) or "sparsest" (with eps). Backend
    options come as `options` (e.g. parsed from ``--option KEY=VALUE`` text) and/or keyword
    arguments (``formulation="bigm"``); each is parsed by the backend's declared schema (a key
    given both ways must have one value).
    Raises InputError for bad arguments (unknown solver or option, a capability the backend
    lacks, negative time limit, instance too large for the method); solver failures come back
    as a result with status "error".
    """
    if not isinstance(getattr(instance, "kind", None), str) or not hasattr(instance,
                                                                         "check_mask"):
        raise InputError("instance must be an exactprune instance (load_instance, generate_*), "
                         f"got {type(instance).__name__}")
    if options is not None and not isinstance(options, Mapping):
        raise InputError(f"options must be a mapping of names to values, got "
                         f"{type(options).__name__}")
    if isinstance(warm_start, SolveResult):
        raise InputError("warm_start takes a mask: pass the result's .mask")
    if threads is not None:  # checked here too: auto reads it before SolveOptions does
        threads = check_threads(threads)
    asked_threads = threads
    verbose = as_flag(verbose, "verbose")  # numpy's bool too, as threads takes numpy's ints
    goal = Goal(objective=objective, max_kept=max_kept, eps=eps)
    try:
        ws = None if warm_start is None else instance.check_mask(warm_start)
    except InputError as exc:  # said which mask it is (hunt 113 L2)
        raise InputError(f"warm start: {exc}") from None
    raw_options = _merge_options(options, extra)
    asked_options = dict(raw_options)
    if solver == "auto":
        # solve()'s own arguments and a goal no backend of the kind has are refused as such,
        # not blamed on the method auto picks ("auto chose mitm ...: time limit must be"; hunt
        # 66 L1)
        SolveOptions(time_limit=time_limit, seed=seed)
        wanted = registry.Capability(str(goal.objective))
        if not any(b.supports(wanted) for b in registry.list_backends(instance.kind)):
            raise InputError(f"no solver of {instance.kind} instances supports the "
                             f"{goal.objective} objective")
        if goal.max_kept is not None and not any(  # (hunt 83 L1: it blamed bruteforce)
                b.supports(registry.Capability.MAX_KEPT)
                for b in registry.list_backends(instance.kind)):
            raise InputError(f"no solver of {instance.kind} instances supports max_kept")
        name = registry.resolve_auto(instance, goal, threads or 1)
        backend = registry.get_backend(name, instance.kind)
        threads, given_start, auto_head = _fit_to_auto_choice(backend, threads, ws)
        raw_options, dropped = _auto_options(backend, instance, goal, raw_options)
    else:
        name = str(solver)
        backend = registry.get_backend(name, instance.kind)
        given_start = ws
    try:
        parsed = backend.parse_options(raw_options)
        opts = SolveOptions(
            time_limit=time_limit, seed=seed, threads=threads, verbose=verbose,
            warm_start=given_start, extra=parsed,
        )
        backend.check(instance, goal, opts)
    except InputError as exc:
        if solver != "auto":
            raise
        # the refusal names a backend the caller did not pick: say why it is that one
        raise InputError(f"auto chose {name} for this instance: {exc}") from None
    if not backend.available():
        raise InputError(backend.unavailable())

    start = time.perf_counter()
    try:
        raw = backend.run(instance, goal, opts)
    except InputError:
        raise
    except MemoryError:
        raw = RawSolution(Status.ERROR, notes=["out of memory"], limit=Limit.MEMORY)
    except Exception as exc:  # a failing solver is a result, not a crash
        log.debug("backend %s failed", name, exc_info=True)
        raw = RawSolution(Status.ERROR, notes=[f"{type(exc).__name__}: {exc}"])
    wall = time.perf_counter() - start
    try:
        version = backend.version()
    except Exception:
        version = None
    if ws is not None and "warm_start" not in raw.stats:
        # backends that report nothing use the warm start as given (heuristics start from it)
        raw.stats["warm_start"] = "accepted" if given_start is not None else "not_used"
    result = finalize(instance, goal, raw, name, version, opts, wall)
    if solver == "auto":
        result.notes.insert(0, _auto_note(auto_head, dropped))
        fallback = registry.resolve_auto_fallback(instance, goal, result)
        if fallback is not None:
            result = _second_choice(instance, goal, result, fallback, time_limit, seed,
                                    asked_threads, verbose, ws, asked_options,
                                    (auto_head, dropped))
    return result


def _second_choice(instance: Any, goal: Goal, first: SolveResult, name: str,
                   time_limit: float | None, seed: int, threads: int | None, verbose: bool,
                   warm_start: np.ndarray | None, options: dict[str, Any],
                   first_note: tuple[str, list[str]]) -> SolveResult:
    """`auto`'s second method, run when its first ended without a proof that no limit
    explains (mitm on a lossy window too crowded to re-check exactly). It gets the time left,
    the first's mask as a start and the caller's options it declares (cpsat's max_exclusions
    was dropped as mitm's "unused" option; hunt 52); the certified or better result is
    returned, with both methods' stories in its notes, the wall time of both, and the
    caller's time limit and warm start in its options. `first_note`: the parts of the first
    method's note (`_auto_note`), told again with what the second took."""
    left = None if time_limit is None else time_limit - first.wall_time_s
    why = first.notes[-1] if first.notes else first.status
    if left is not None and left <= 0:
        first.notes.append(f"auto: no time left to try {name} after {first.solver} ({why})")
        return first
    start = first.mask if goal.objective is Objective.MIN_ERROR and first.mask is not None \
        else warm_start
    declared = {p.name for p in registry.get_backend(name, instance.kind).options}
    given = {k: v for k, v in options.items() if k in declared}
    try:
        second = solve(instance, name, time_limit=left, seed=seed, threads=threads,
                       objective=goal.objective, max_kept=goal.max_kept, eps=goal.eps,
                       verbose=verbose, warm_start=start, options=given)
    except InputError as exc:  # the first result stands: a refusal of the second is no error
        first.notes.append(f"auto: {name} refused to run after {first.solver} ({exc})")
        return first
    second.options.update(time_limit=time_limit, warm_start=warm_start is not None)
    told = f"auto: {first.solver} ended {first.status} without a proof ({why}); ran {name}"
    if given:
        told += " with " + ", ".join(f"{k}={v!r}" for k, v in given.items())
        # the first note said "left unused" of what the second then used (hunt 54 F7), and
        # then "passed to" of all of them, used or not (hunt 56 L1)
        head, dropped = first_note
        if any(k in given for k in dropped):
            first.notes[0] = _auto_note(head, dropped, given, name)
    better = second.certified or (first.status is Status.ERROR
                                  and second.status is not Status.ERROR) or (
        goal.objective is Objective.MIN_ERROR and second.objective is not None
        and first.objective is not None and second.objective < first.objective)
    if better:
        second.notes[:0] = [first.notes[0], told]
        second.wall_time_s += first.wall_time_s
        return second
    first.notes.append(f"{told}: {second.status}, kept {first.solver}'s result")
    first.wall_time_s += second.wall_time_s
    return first


def _merge_options(options: Mapping[str, Any] | None,
                   keywords: Mapping[str, Any]) -> dict[str, Any]:
    """One option mapping from `options=` and keyword options. A key given both ways with
    different values is refused: which one the caller meant cannot be guessed."""
    merged = dict(options or {})
    for key, value in keywords.items():
        if key in merged and merged[key] != value:
            raise InputError(f"option {key!r} given twice, as {merged[key]!r} in options= "
                             f"and as {value!r} by keyword")
        merged[key] = value
    return merged


def auto_choice(instance: Any, goal: Goal, threads: int | None
                ) -> tuple[registry.Backend, int | None]:
    """The backend `auto` runs on `instance` for `goal` given `threads`, and the threads it
    gets of them (an allowance: `_fit_to_auto_choice`) — what `solve` would run, for the
    commands that check every grid point before running any (sweeps, verify pruning-gap)."""
    backend = registry.get_backend(registry.resolve_auto(instance, goal, threads or 1),
                                   instance.kind)
    return backend, _fit_to_auto_choice(backend, threads, None)[0]


def _fit_to_auto_choice(backend: registry.Backend, threads: int | None,
                        warm_start: np.ndarray | None
                        ) -> tuple[int | None, np.ndarray | None, str]:
    """`auto` takes threads as an allowance and a warm start as a hint: the backend it chose
    gets those it can use (an exhaustive method, bruteforce or mitm, needs neither), and the
    note says what was left unused. Returns (threads, warm start, note)."""
    unused = []
    caps = backend.capabilities
    if threads is not None and threads > 1 and registry.Capability.THREADS not in caps:
        unused.append(f"runs one thread of the {threads} allowed")
        threads = None
    if warm_start is not None and registry.Capability.WARM_START not in caps:
        unused.append("does not use the warm start")
        warm_start = None
    note = f"auto chose {backend.name}"
    if unused:
        note += f" (which {' and '.join(unused)})"
    return threads, warm_start, note


def _auto_options(backend: registry.Backend, instance: Any, goal: Goal, raw: dict[str, Any]
                  ) -> tuple[dict[str, Any], list[str]]:
    """`auto` takes another backend's option (mitm's memory_limit_gb above n = 62, where auto
    picks SCIP) as an allowance, as it does threads: dropped (returned, for the note), once a
    backend that declares it has taken it. It is refused, in one line naming the backends,
    when every backend that declares it refuses its value (`lr` is edge_popup's (> 0) and
    imp's (<= 2); lr = 3 was refused by imp's range alone, hunt 178 L1), or when every one of
    them that can take this instance and goal refuses it there with the other dropped options
    it declares (`initial_points` without `lazy=true` was dropped when auto picked bruteforce
    and refused when it picked SCIP, hunt 180 L1; a backend that refuses the instance itself
    says nothing, and one that refuses the options whether or not this one is among them
    blames another: hunt 183 M1, L1). A name no backend of the kind declares is left in, for
    parse_options to refuse."""
    declared = {p.name for p in backend.options}
    owners: dict[str, list[registry.Backend]] = {}
    for other in registry.list_backends(instance.kind):
        for p in other.options:
            owners.setdefault(p.name, []).append(other)
    dropped = [k for k in raw if k not in declared and k in owners]
    for key in dropped:  # unused, but still a bad value is refused (not by instance size)
        value_refusals: dict[str, list[str]] = {}  # the reason without its solver -> solvers
        takers = []
        for owner in owners[key]:
            try:
                owner.parse_options({key: raw[key]})
                takers.append(owner)
            except InputError as exc:
                reason = str(exc).removeprefix(f"solver '{owner.name}' ")
                value_refusals.setdefault(reason, []).append(owner.name)
        if not takers:
            raise _no_solver_takes(instance.kind, key, raw[key], value_refusals)
        refusals: dict[str, list[str]] = {}  # the value is good: now this instance
        for owner in takers:
            verdict, reason = _set_verdict(owner, instance, goal, key,
                                           {k: raw[k] for k in dropped
                                            if k in {p.name for p in owner.options}})
            if verdict == "takes":
                break
            if verdict == "refuses":
                refusals.setdefault(reason, []).append(owner.name)
        else:
            if refusals:  # (none: every owner refuses the instance itself, and says nothing)
                raise _no_solver_takes(instance.kind, key, raw[key], refusals)
    return {k: v for k, v in raw.items() if k not in dropped}, dropped


def _no_solver_takes(kind: str, key: str, value: Any, refusals: dict[str, list[str]]
                     ) -> InputError:
    return InputError(f"no {kind} solver takes {key}={value}: " + "; ".join(
        f"{reason} ({', '.join(names)})" for reason, names in refusals.items()))


def _set_verdict(owner: registry.Backend, instance: Any, goal: Goal, key: str,
                 given: dict[str, Any]) -> tuple[str, str]:
    """How `owner`, which takes the value of option `key`, takes it on this instance with
    `given` (the dropped options it declares): ("takes", ""), ("silent", "") when it refuses
    the instance or the goal whatever its options are, or ("refuses", why) (without the
    solver's name). A refusal that reads the same without `key` is another option's (hunt
    183 L1: `recheck=false` was blamed for `initial_points` without `lazy=true`): taken."""
    if not all(owner.supports(c) for c in registry.goal_capabilities(goal)) or \
            owner.refusal(instance, goal):
        return "silent", ""
    if owner.refuse_options is None:
        return "takes", ""
    try:
        if owner.refuse_options(instance, goal, owner.parse_options({})):
            return "silent", ""  # it refuses the instance itself, not these options
        why = owner.refuse_options(instance, goal, owner.parse_options(given))
        if why and why == owner.refuse_options(instance, goal, owner.parse_options(
                {k: v for k, v in given.items() if k != key})):
            return "takes", ""  # the same refusal without it: another option's
    except InputError:
        # another dropped option's value it cannot read (CBC and formulation=bigm): it takes
        # neither the set nor says anything of `key` (read as taking it, it let initial_points
        # without lazy=true through beside formulation=bigm; hunt 185 M1)
        return "silent", ""
    return ("refuses", why) if why else ("takes", "")


def _auto_note(head: str, dropped: list[str], given: Mapping[str, Any] | None = None,
               second: str | None = None) -> str:
    """auto's first note: its choice (`head`), the options that backend does not take, and of
    those, which the `second` method was `given` and which stayed unused."""
    if not dropped:
        return head
    note = f"{head}; it does not take {', '.join(dropped)}"
    passed = [k for k in dropped if k in (given or {})]
    unused = [k for k in dropped if k not in passed]
    if not passed:
        return f"{note}, left unused"
    return (f"{note}: {', '.join(passed)} passed to {second}"
            + (f", {', '.join(unused)} left unused" if unused else ""))


def _exact_error(instance: Any, mask: np.ndarray) -> Fraction | float:
    exact = getattr(instance, "exact_error", None)
    return exact(mask) if exact is not None else instance.evaluate(mask)


def _at_error_floor(instance: Any, goal: Goal, mask: np.ndarray | None,
                    status: Status) -> Fraction | None:
    """The floor no error can be below (subset-sum's `error_floor`: 0, or the target's
    distance to the nearest multiple of what divides every value) when a min-error mask within
    the goal attains it exactly; else None. Only kinds with an exact error count: a float 0
    of a float evaluation proves nothing."""
    exact = getattr(instance, "exact_error", None)
    if (mask is None or exact is None or goal.objective is not Objective.MIN_ERROR
            or status not in (Status.OPTIMAL, Status.FEASIBLE, Status.TIME_LIMIT)):
        return None
    floor = getattr(instance, "error_floor", Fraction(0))
    return floor if exact(mask) == floor else None


def finalize(
    instance: Any,
    goal: Goal,
    raw: RawSolution,
    solver: str,
    version: str | None,
    opts: SolveOptions,
    wall_time_s: float,
) -> SolveResult:
    """Turn a backend's raw claim into a result whose numbers come from the mask alone."""
    notes = list(raw.notes)
    status = raw.status
    certified = raw.certified
    bound = raw.bound
    mask = None
    error = objective = None
    kept = None
    if raw.mask is not None:
        try:
            mask = instance.check_mask(raw.mask)  # SolveResult keeps a read-only copy
        except InputError as exc:
            notes.append(f"backend returned an invalid mask ({exc}); discarded")
            status, certified, mask = Status.ERROR, False, None
    if mask is not None:
        error = float(instance.evaluate(mask))
        counter = getattr(instance, "kept", None)  # canonical count (pruning: on a path)
        kept = int(counter(mask)) if counter is not None else int(np.count_nonzero(mask))
        if goal.objective is Objective.SPARSEST:
            objective = float(kept)
            if _exact_error(instance, mask) > Fraction(goal.eps):
                notes.append(f"mask error {error:.6g} exceeds eps {goal.eps:.6g}: not feasible")
                status, certified = Status.ERROR, False
        else:
            objective = error
            if goal.max_kept is not None and kept > goal.max_kept:
                notes.append(f"mask keeps {kept} > max_kept {goal.max_kept}: not feasible")
                status, certified = Status.ERROR, False
        if not math.isfinite(error):  # JSON has no inf: say what its null stands for
            notes.append("the mask's error exceeds float64 (inf; null in JSON)")
        caveat = getattr(instance, "evaluation_caveat", None)  # refit's ill-conditioned fits
        if caveat is not None and (why := caveat(mask)):
            notes.append(why)
    if status in (Status.OPTIMAL, Status.FEASIBLE) and mask is None:
        notes.append(f"backend claimed {status} without a mask")
        status, certified = Status.ERROR, False
    tolerance = raw.tolerance
    floor = None if certified else _at_error_floor(instance, goal, mask, status)
    if floor is not None:
        # no error is below the floor: the mask is optimal whatever the backend could prove
        # (CP-SAT called an error-0 mask feasible on lossy data, hunt 48; SCIP and HiGHS
        # cannot prove 2^-21 on values k/2^20, docs/benchmarks/subset-sum-large-n-grid.md)
        notes.append("the mask's exact error is 0: optimal (no error is below 0)" if floor == 0
                     else f"the mask's exact error is {instance.error_floor_reason()}: "
                     "optimal (no error is below it)")
        status, certified, bound, tolerance = Status.OPTIMAL, True, float_floor(floor), 0.0
    tol = tolerance if tolerance is not None else 0.0
    if certified and (not math.isfinite(tol) or (error is not None and not math.isfinite(error))):
        notes.append("a non-finite error or tolerance certifies nothing")
        certified = False
    if status is Status.OPTIMAL and not certified:
        notes.append("optimality not certified: reported as feasible")
        status = Status.FEASIBLE
    if status is Status.INFEASIBLE and not certified:  # "infeasible" is a proof, or nothing
        notes.append("infeasibility not certified: reported as an error")
        status = Status.ERROR
    if status is Status.INFEASIBLE and mask is not None:  # a mask is the opposite of a proof
        notes.append("infeasible with a mask: reported as an error")
        status, certified = Status.ERROR, False
    if certified and status not in (Status.OPTIMAL, Status.INFEASIBLE):
        certified = False
    if raw.solver_objective is not None and objective is not None:
        notes.append(f"solver's own objective {raw.solver_objective!r} (not used)")
    if bound is not None and objective is not None and bound > objective + tol:
        notes.append(f"solver bound {bound!r} exceeds the recomputed objective: dropped")
        bound, certified = None, False
        if status is Status.OPTIMAL:
            status = Status.FEASIBLE
    if status is Status.OPTIMAL and bound is None:
        bound = objective
    gap = None
    if bound is not None and objective is not None:
        gap = max(0.0, objective - bound)
    limit = raw.limit if raw.limit is not None else (
        Limit.TIME if raw.status is Status.TIME_LIMIT else Limit.NONE)
    if status is Status.OPTIMAL or status is Status.INFEASIBLE:
        limit = Limit.NONE  # a proof: nothing stopped the solve early
    return SolveResult(
        status=status,
        mask=mask,
        objective=objective,
        error=error,
        kept=kept,
        bound=bound,
        gap=gap,
        certified=certified,
        tolerance=tolerance if certified else None,
        solver=solver,
        solver_version=version,
        kind=instance.kind,
        goal=goal,
        options=opts.to_json(),
        wall_time_s=wall_time_s,
        solver_objective=raw.solver_objective,
        notes=notes,
        stats=dict(raw.stats),
        limit=limit,
        instance_sha256=instance_sha256(instance),
    )
