"""Subset-sum backends: exact (mitm, bruteforce, cpsat, MILP engines) and heuristics.

`BACKENDS` is what the problem catalog registers for kind ``subset_sum``; `choose_auto` is what
``--solver auto`` means; `certify` is what ``exactprune certify`` reports for a subset-sum mask.
"""

from __future__ import annotations

from fractions import Fraction
from typing import Any

from exactprune.instances.params import Param
from exactprune.instances.subset_sum import SubsetSumInstance
from exactprune.solvers.cpsat_engine import cpsat_available, cpsat_version
from exactprune.solvers.milp_engines import ENGINES
from exactprune.solvers.registry import Backend, capabilities, numpy_version
from exactprune.solvers.result import (
    Goal,
    Objective,
    check_certify_inputs,
    claimed_goal,
    claimed_number,
    claims_certified,
)
from exactprune.solvers.result import add_certify_note as _note
from exactprune.solvers.subset_sum import bruteforce, cpsat, heuristics, milp, mitm

KIND = SubsetSumInstance.kind
EXACT_CAPS = capabilities(Objective.MIN_ERROR, Objective.SPARSEST, max_kept=True)
MITM_CAPS = capabilities(Objective.MIN_ERROR, Objective.SPARSEST, max_kept=True,
                         warm_start=True)  # what a run cut by its limit returns if better
SOLVER_CAPS = capabilities(Objective.MIN_ERROR, Objective.SPARSEST, max_kept=True,
                           warm_start=True, threads=True)


def _bruteforce_refuse(instance: Any, goal: Goal) -> str | None:
    if instance.n > bruteforce.MAX_N:
        # mitm only where it takes n (it said "use mitm" at n = 70; hunt 161 L1)
        use = "mitm" if mitm.refuse(instance, goal) is None else "scip, highs or cpsat"
        return (f"it enumerates 2^n masks: n = {instance.n} exceeds its limit of "
                f"{bruteforce.MAX_N} (use {use})")
    total = sum((Fraction(abs(float(v))) for v in instance.values), Fraction(abs(instance.target)))
    if total >= Fraction(2) ** 1022:
        return ("its float64 sums would overflow (sum |x| + |z| >= 2^1022); use mitm, which "
                "works on exactly scaled integers")
    return None


BACKENDS: tuple[Backend, ...] = (
    Backend("mitm", KIND, "exact meet-in-the-middle (Horowitz-Sahni), int64, memory-aware",
            exact=True, run=mitm.run_mitm, capabilities=MITM_CAPS, version=numpy_version,
            refuse=mitm.refuse,
            options=(Param("memory_limit_gb", "float", mitm.DEFAULT_MEMORY_GB,
                           "memory budget of the work, GB (its peak; beyond it the table "
                           "shrinks and the rest is enumerated in blocks)", minimum=0.0, above=True,
                           amount=True),)),
    Backend("bruteforce", KIND, f"exhaustive oracle over all 2^n masks (n <= {bruteforce.MAX_N})",
            exact=True, run=bruteforce.run_bruteforce, capabilities=EXACT_CAPS,
            version=numpy_version, refuse=_bruteforce_refuse),
    Backend("cpsat", KIND,
            "OR-Tools CP-SAT on exactly scaled integers (exclusion certificate when scaling is "
            "lossy)", exact=True, run=cpsat.run_cpsat, capabilities=SOLVER_CAPS,
            available=cpsat_available, version=cpsat_version, options=cpsat.OPTIONS),
    *(Backend(name, KIND, f"MILP with {engine.label}, exclusion-certified against its "
              "tolerances", exact=True, run=milp.runner(name),
              capabilities=SOLVER_CAPS, available=engine.available, version=engine.version,
              options=milp.OPTIONS + ((milp.SCIP_CUTS,) if name == "scip" else ()),
              refuse=milp.refuser(name))
      for name, engine in ENGINES.items()),
    Backend("greedy", KIND, "heuristic: greedy forward selection", exact=False,
            run=heuristics.run_greedy, capabilities=capabilities(max_kept=True)),
    Backend("local_search", KIND, "heuristic: flip/swap descent with seeded restarts",
            exact=False, run=heuristics.run_local_search,
            capabilities=capabilities(max_kept=True, warm_start=True),
            options=(Param("restarts", "int", 50, "random restarts after the greedy start",
                           minimum=0),)),
    Backend("core_search", KIND,
            "heuristic: exact mitm on a random core of values, the incumbent fixed on the "
            "others (large-neighbourhood search)", exact=False,
            run=heuristics.run_core_search,
            capabilities=capabilities(max_kept=True, warm_start=True),
            options=(Param("core", "int", heuristics.CORE_SIZE,
                           "values re-optimised exactly per round", minimum=1,
                           maximum=mitm.MAX_N),
                     Param("rounds", "int", None, "rounds (default: until the time limit, "
                           f"or {heuristics.CORE_ROUNDS} without one)", minimum=1,
                           optional=True))),
    Backend("random", KIND, "heuristic: best of seeded random masks", exact=False,
            run=heuristics.run_random, capabilities=capabilities(max_kept=True),
            options=(Param("samples", "int", 10_000, "random masks drawn", minimum=1),)),
)


def choose_auto(instance: SubsetSumInstance, goal: Goal, threads: int = 1) -> str:
    """Meet-in-the-middle is the fastest exact method at every size it takes (n <= 62); above,
    CP-SAT. On values no bound resolves (uniform data, optima about 2^-n) every engine ends at
    its core_search start, so they tie; on values on a grid CP-SAT, reasoning on exact
    integers, certified optima to n = 1,000 that SCIP's and HiGHS' tolerances left at bound 0
    (36/36 against 0/36, before the error floor certified those its start attains for every
    engine), and on the sparsest goal it certifies more and finds masks where SCIP finds none
    (docs/benchmarks/subset-sum-large-n.md, subset-sum-large-n-grid.md; SCIP was the choice
    until 2026-12-07, on incumbents measured before the core_search start). `threads` reach
    CP-SAT as its workers."""
    return "mitm" if mitm.refuse(instance) is None else "cpsat"


def auto_fallback(instance: SubsetSumInstance, goal: Goal, result: Any) -> str | None:
    """CP-SAT after mitm when mitm ends uncertified with no limit hit: its rounding window held
    too many masks to re-check exactly (a lossy scaling), where CP-SAT's exclusion certificate
    still decides (hunt 48: error 0 at count 1 that mitm could not prove)."""
    from exactprune.solvers.result import Limit, Status

    if (result.solver == "mitm" and not result.certified and result.limit is Limit.NONE
            and result.status in (Status.FEASIBLE, Status.ERROR) and cpsat_available()):
        return "cpsat"
    return None


def certify(instance: SubsetSumInstance, mask: Any, claimed: dict[str, Any],
            time_limit: float | None = None) -> dict[str, Any]:
    """The mask's exact error, and a re-check of a claimed certified optimum with mitm (n <= 48)
    within `time_limit` seconds (None: none; it was ignored, and a re-check at n = 48 ran 106 s
    on a limit of 1; hunt 64 M2).

    The claimed result's goal (max_kept) is honoured; a claimed sparsest optimum is re-checked
    by solving the sparsest goal with the same eps. A claimed `bound` (a lower bound on the
    error, or on the count for a sparsest goal) is checked exactly: `bound_consistent` is
    false when it exceeds the mask's own error (count), or the optimum a certified re-check
    finds; a bound was read by no check before, so an edited 1e300 passed (as pruning's and
    neuron selection's `bound_consistent`).
    """
    from exactprune.solvers.dispatch import solve

    check_certify_inputs(instance, ("subset_sum",), claimed)
    exact = instance.exact_error(mask)
    out: dict[str, Any] = {"exact_error": f"{exact.numerator}/{exact.denominator}"}
    goal, max_kept, sparsest, eps = _claimed_goal(claimed)
    bound = claimed_number(claimed, "bound", -float("inf"))  # below 0: valid, if weak
    within_goal = ((max_kept is None or instance.kept(mask) <= max_kept)
                   and (not sparsest or exact <= Fraction(eps)))
    if bound is not None and within_goal:
        # a mask that meets its goal is one the optimum is no worse than; exact comparison
        # (the float bound against the rational error: no tolerance widens an edited bound)
        mine = Fraction(instance.kept(mask)) if sparsest else exact
        out["bound_consistent"] = Fraction(bound) <= mine
        if not out["bound_consistent"]:
            _note(out, f"the result's bound {bound!r} exceeds the mask's own "
                       f"{'count' if sparsest else 'exact error'}: no proof gives that")
    certified = claims_certified(claimed)
    breaks = None if within_goal else (
        f"the mask keeps {instance.kept(mask)} > max_kept {max_kept}"
        if max_kept is not None and instance.kept(mask) > max_kept
        else f"the mask's error exceeds eps {eps!r}")
    if breaks is not None:
        # no optimum of its goal, and no bound on it either: a bound beside it is checked
        # against the re-check's optimum alone (a bound 41 times the optimum passed unread;
        # hunt 186 M2). A claim keeping 2 of max_kept 1 with error 0 was confirmed, the
        # re-check comparing errors only (hunt 50)
        _note(out, breaks)
        if certified:
            out["optimum_verified"] = False
        if bound is not None and bound <= 0:
            out["bound_consistent"] = True  # no error or count is below 0
    if not sparsest and breaks is None and exact == instance.error_floor:
        # no error is below the floor (0, or the target's distance to the grid every subset
        # sum lies on): the mask's error is the optimum at any n, nothing to re-check (a
        # certified error 0 at n > 48 was "neither confirmed nor refused")
        if certified:
            out["optimum_verified"] = True
        if exact:
            _note(out, f"the mask's exact error is {instance.error_floor_reason()}: the "
                       "optimum, without a re-check")
        return out
    check_bound = (bound is not None and bound > 0
                   and out.get("bound_consistent") is not False)
    # what a bound that no re-check reads is compared with, said (hunt 188: n > 48 and
    # failed re-checks left bound_consistent true, or absent, without a word)
    unread = ("the bound is not checked (the mask breaks its goal)" if breaks is not None
              else "the bound is checked against the mask alone")
    if not (certified and breaks is None) and not (check_bound and instance.n <= 48):
        if check_bound:  # n > 48
            _note(out, f"not re-checked (mitm re-checks n <= 48, got n = {instance.n}): "
                       f"{unread}")
        return out
    if instance.n > 48:
        out["optimum_verified"] = None
        _note(out, f"not re-checked (mitm re-checks n <= 48, got n = {instance.n}): the claim "
                   "is neither confirmed nor refused"
                   + (f"; {unread}" if check_bound else ""))
        return out
    if sparsest:
        ref = solve(instance, "mitm", objective="sparsest", eps=eps, time_limit=time_limit)
    else:
        ref = solve(instance, "mitm", max_kept=max_kept, time_limit=time_limit)
    if sparsest and ref.status == "infeasible" and ref.certified and breaks is None:
        # the mask is within eps (exactly): that "proof" is refuted by it, and proves nothing
        if certified:
            out["optimum_verified"] = None
        _note(out, "the re-check (mitm) says no subset is within eps, which the mask refutes: "
                   "the claim is neither confirmed nor refused")
        return out
    if sparsest and ref.status == "infeasible" and ref.certified:
        # no subset is within eps: no count is optimal, and every bound holds vacuously (the
        # mask, outside eps, broke its goal: a certified claim is false already)
        if check_bound:
            out["bound_consistent"] = True
        _note(out, f"the re-check (mitm) proves no subset is within eps {eps!r}")
        return out
    if not ref.certified or ref.mask is None:
        if ref.status == "time_limit" and time_limit is not None:
            why = f"the re-check (mitm) ran out of its {time_limit:g} s"
        else:
            # mitm's own answer is no proof here (a lossy scaling with too many masks in its
            # window): it confirmed a wrong claim and refused a right one (hunt 48)
            why = f"the re-check (mitm) is not certified on these data ({ref.status})"
        # its mask, if it meets the goal, still bounds the optimum from above: a bound above
        # it is no proof (a bound 1e-3 beside an optimum 0 passed; hunt 190)
        found = None
        if ref.mask is not None and (
                max_kept is None or instance.kept(ref.mask) <= max_kept) and (
                not sparsest or instance.exact_error(ref.mask) <= Fraction(eps)):
            found = (Fraction(instance.kept(ref.mask)) if sparsest
                     else instance.exact_error(ref.mask))
        if found is not None and bound is not None and Fraction(bound) > found:
            out["bound_consistent"] = False
            _note(out, f"the result's bound {bound!r} exceeds the "
                       f"{'count' if sparsest else 'exact error'} "
                       f"{ref.kept if sparsest else float(found)!r} of a mask the re-check "
                       "(mitm) finds, though it is not certified")
        if found is not None:  # what the bound met, then
            unread = ("the bound is checked against the re-check's own mask alone"
                      if breaks is not None else
                      "the bound is checked against the mask and the re-check's own mask alone")
        if certified and breaks is None:
            out["optimum_verified"] = None
            _note(out, f"{why}: the claim is neither confirmed nor refused"
                       + (f"; {unread}" if check_bound and
                          out.get("bound_consistent") is not False else ""))
        elif out.get("bound_consistent") is not False:
            _note(out, f"{why}: {unread}")
        return out
    optimum = Fraction(ref.kept) if sparsest else instance.exact_error(ref.mask)
    if bound is not None and Fraction(bound) > optimum:
        out["bound_consistent"] = False
        _note(out, f"the result's bound {bound!r} exceeds the optimum "
                   f"{ref.kept if sparsest else float(optimum)!r} the re-check (mitm) proves")
    elif check_bound and breaks is not None:
        out["bound_consistent"] = True  # at most the optimum the re-check proves
    if certified and breaks is None:
        out["optimum_verified"] = ((Fraction(instance.kept(mask)) if sparsest else exact)
                                   == optimum)
    return out


def certify_infeasible(instance: SubsetSumInstance, claimed: dict[str, Any],
                       time_limit: float | None = None) -> dict[str, Any]:
    """A result's claim that no mask meets its goal (status infeasible, no mask), re-checked:
    only a sparsest goal can be infeasible (no subset within eps; a min_error goal always has
    the empty mask), and a sparsest one is re-solved with mitm (n <= 48, within `time_limit`
    seconds). `infeasible_verified` is True when mitm certifies that no subset is within eps,
    False when it finds one whose exact error is, None when neither can be shown. Such files
    were refused ("holds no mask"), exactprune's own correct ones and false claims alike
    (hunt 186 L1)."""
    from exactprune.solvers.dispatch import solve

    check_certify_inputs(instance, ("subset_sum",), claimed)
    _, _, sparsest, eps = _claimed_goal(claimed)
    out: dict[str, Any] = {}
    if not sparsest:
        out["infeasible_verified"] = False
        _note(out, "a min_error goal is never infeasible: the empty mask meets it")
        return out
    assert eps is not None
    if abs(Fraction(instance.target)) <= Fraction(eps):
        out["infeasible_verified"] = False
        _note(out, f"the empty mask is within eps {eps!r} (|target| <= eps)")
        return out
    if instance.n > 48:
        out["infeasible_verified"] = None
        _note(out, f"not re-checked: mitm re-checks n <= 48, got n = {instance.n}")
        return out
    ref = solve(instance, "mitm", objective="sparsest", eps=eps, time_limit=time_limit)
    if ref.mask is not None and instance.exact_error(ref.mask) <= Fraction(eps):
        out["infeasible_verified"] = False
        _note(out, f"the re-check (mitm) finds a subset of {ref.kept} within eps {eps!r} "
                   f"(exact error {float(instance.exact_error(ref.mask))!r})")
    elif ref.status == "infeasible" and ref.certified:
        out["infeasible_verified"] = True
    else:
        out["infeasible_verified"] = None
        why = (f"ran out of its {time_limit:g} s" if ref.status == "time_limit" and
               time_limit is not None else f"is not certified on these data ({ref.status})")
        _note(out, f"the re-check (mitm) {why}: the claim is neither confirmed nor refused")
    return out



def _claimed_goal(claimed: dict[str, Any]) -> tuple[dict[str, Any], int | None, bool,
                                                    float | None]:
    """A result file's goal read for `certify`: (goal, max_kept, sparsest, eps), or one line
    when it is malformed (`claimed_goal` checks it as `Goal` does: max_kept an integer >= 0,
    a sparsest goal's eps a finite number >= 0 that float64 holds, no eps beside min_error)."""
    goal = claimed_goal(claimed)
    max_kept = None if goal.get("max_kept") is None else int(goal["max_kept"])
    sparsest = goal.get("objective") == "sparsest"
    return goal, max_kept, sparsest, float(goal["eps"]) if sparsest else None

