"""Neuron- and weight-pruning backends: exact engines on the selection model, the exhaustive
oracle, and heuristics (magnitude, greedy, local search, random, Pensia's ticket).

`BACKENDS` holds one `Backend` per (kind, solver) pair for both pruning kinds; `choose_auto` is
what ``--solver auto`` means; `certify` is what ``exactprune certify`` reports: the mask's error
bracket over the whole domain (solvers/pruning/bracket.py).
"""

from __future__ import annotations

from functools import partial
from typing import Any

from exactprune.formulations.pruning.selection import past_dictionary
from exactprune.instances.params import Param
from exactprune.solvers.cpsat_engine import cpsat_available, cpsat_version
from exactprune.solvers.milp_engines import ENGINES
from exactprune.solvers.pruning import (
    bruteforce,
    constructive_ticket,
    exact,
    heuristics,
    local_search,
)
from exactprune.solvers.registry import Backend, capabilities, get_backend, numpy_version
from exactprune.solvers.result import (
    Goal,
    check_certify_inputs,
    claimed_goal,
    claimed_number,
    claims_certified,
    counted_tolerance,
    goal_words,
    only_within_claimed,
)
from exactprune.solvers.unit_scales import unit_scale_refusal, with_unit_scale_refusal

NEURON = "neuron_pruning"
WEIGHT = "weight_pruning"
KINDS = (NEURON, WEIGHT)

_EXACT_OPTIONS = (
    Param("lazy", "bool", False, "lazy point generation (linf only; measured slower)"),
    Param("initial_points", "int", None, f"lazy: points in the first round (unset: "
          f"{exact.INITIAL_POINTS}); only with lazy=true", minimum=1, optional=True),
)
_RECHECK_TEXT = ("when the engine's slack (tolerances, integer rounding) blocks the "
                 "certificate, evaluate and exclude the masks within it (tiny errors")
_RECHECK = Param("recheck", "bool", True, _RECHECK_TEXT + "; not with formulation=bigm)")
_RECHECK_ANY_FORM = Param("recheck", "bool", True, _RECHECK_TEXT + ")")  # no big-M to choose
_RECHECK_FAMILIES = Param("recheck_families", "bool", True,
                          "the re-check excludes each evaluated mask with its family of exact "
                          "ties (same columns live at its worst point; linf) instead of the "
                          "mask alone")
_FORMULATION = Param("formulation", "str", "dictionary",
                     "dictionary of input sub-masks (d <= 10; above, big-M is used, with a "
                     "note), big-M over the weights, or the dictionary on antipodal point "
                     "pairs (identity output, linf; points of one scale as the net reads them, "
                     "within 2^8)",
                     choices=("dictionary", "bigm", "antipodal"))
_FORMULATION_NO_BIGM = Param("formulation", "str", "dictionary",
                             "dictionary of input sub-masks (d <= 10), or the dictionary on "
                             "antipodal point pairs (identity output, linf; points of one scale "
                             "as the net reads them, within 2^8); big-M is not offered (a wrong "
                             "optimum, docs/numerics.md)",
                             choices=("dictionary", "antipodal"))
_FORMULATION_CBC = Param("formulation", "str", "dictionary",
                         "dictionary of input sub-masks (d <= 10); big-M and antipodal pairs "
                         "are not offered (wrong optima, docs/numerics.md)",
                         choices=("dictionary",))
_NEURON_FORMULATION_CBC = Param("formulation", "str", "selection",
                                "one column per unit; antipodal pairs are not offered (a wrong "
                                "optimum, docs/numerics.md)", choices=("selection",))
_NEURON_FORMULATION = Param("formulation", "str", "selection",
                            "one column per unit (selection), or the same on antipodal point "
                            "pairs (identity output, linf; points of one scale as the net reads "
                            "them, within 2^8)", choices=("selection", "antipodal"))
_SCIP_CUTS = Param("cuts", "bool", None,
                   "SCIP's cutting planes (separation); unset: off (measured faster, "
                   "docs/benchmarks/pruning-levers-*-cuts.md) except for the l1 error with a "
                   "relu output, whose big-M rows need them (pruning-levers-*-l1-cuts.md)",
                   optional=True)
_CPSAT_PRESOLVE = Param("presolve", "bool", False,
                        "CP-SAT's presolve (off: OR-Tools 9.15 presolve called a neuron model "
                        "with a feasible start infeasible, audit case 32722; docs/numerics.md)")
_ENGINE_CAPS = capabilities(warm_start=True, threads=True)
_HEURISTIC_CAPS = capabilities(max_kept=True)
_WARM_HEURISTIC_CAPS = capabilities(max_kept=True, warm_start=True)


def _bruteforce_refuse(instance: Any, goal: Goal) -> str | None:
    if instance.mask_size > bruteforce.MAX_BITS:
        return (f"it enumerates 2^{instance.mask_size} masks: above its limit of "
                f"2^{bruteforce.MAX_BITS} (mask size {instance.mask_size})")
    return None


MODEL_ACCEPTS = (("norm", ("linf", "l1")),)
"""What the MILP and CP-SAT models take (`Backend.accepts`): the linf and l1 errors."""


def _engines(kind: str) -> list[Backend]:
    out = []
    for name, engine in [*ENGINES.items(), ("cpsat", None)]:
        bigm = kind == WEIGHT and name not in exact.NO_BIGM_ENGINES  # the form to rule out
        options = (_RECHECK if bigm else _RECHECK_ANY_FORM,
                   _RECHECK_FAMILIES, *_EXACT_OPTIONS)
        if name != "cpsat":
            weight_form = (_FORMULATION_NO_BIGM if name in exact.NO_BIGM_ENGINES  # wrong optima
                           else _FORMULATION)
            neuron_form = _NEURON_FORMULATION
            if name in exact.NO_ANTIPODAL_ENGINES:  # a wrong optimum (hunt 107)
                weight_form, neuron_form = _FORMULATION_CBC, _NEURON_FORMULATION_CBC
            options = (weight_form if kind == WEIGHT else neuron_form, *options)
        if name == "scip":
            options = (*options, _SCIP_CUTS)
        if name == "cpsat":
            options = (*options, _CPSAT_PRESOLVE)
        # the norms in the listing, as neuron selection's say theirs (hunt 104 L5)
        description = (f"selection MILP with {engine.label}, certified against its "
                       "tolerances; linf/l1 errors" if engine is not None else
                       "selection model with CP-SAT on scaled integers (exact relu), "
                       "certified; linf/l1 errors" + ("; d <= 10" if kind == WEIGHT else ""))
        out.append(Backend(
            name, kind, description, exact=True,
            run=partial(exact.run_pruning_exact, name), capabilities=_ENGINE_CAPS,
            options=options,
            refuse=exact.refuse if engine is None else with_unit_scale_refusal(exact.refuse),
            refuse_options=partial(exact.option_refusal, name),
            available=cpsat_available if engine is None else engine.available,
            version=cpsat_version if engine is None else engine.version,
            accepts=MODEL_ACCEPTS))
    return out


_LOCAL_SEARCH_OPTIONS = (
    Param("restarts", "int", 20, "seeded random starts after the greedy and warm starts",
          minimum=0),
    Param("kicks", "int", 20, "perturbations from each start's local optimum", minimum=0),
    Param("lns_rounds", "int", 100, "exact re-optimisations of lns_size entries", minimum=0),
    Param("lns_size", "int", 12, ("entries re-optimised exactly per round (2^size assignments; "
           "lowered, with a note, where 2^size x K points exceed 2^23 floats)"),
          minimum=1, maximum=local_search.MAX_LNS_SIZE),
)


def _heuristics(kind: str) -> list[Backend]:
    out = [
        Backend("magnitude", kind, "heuristic: magnitude pruning, best prefix (option k: top k)",
                exact=False, run=heuristics.run_magnitude, capabilities=_HEURISTIC_CAPS,
                refuse_options=heuristics.magnitude_k_refusal,
                options=(Param("k", "int", None, "keep exactly the top k instead of the best "
                               "prefix", minimum=0, optional=True),)),
        Backend("greedy_forward", kind, "heuristic: greedy forward selection of units / weights",
                exact=False, run=heuristics.run_greedy_forward,
                capabilities=_WARM_HEURISTIC_CAPS),
        Backend("greedy_backward", kind,
                "heuristic: greedy backward elimination from the full net", exact=False,
                run=heuristics.run_greedy_backward, capabilities=_WARM_HEURISTIC_CAPS),
        Backend("prune_local_search", kind,
                "heuristic: iterated local search (flip/pair moves, restarts, kicks) + exact LNS",
                exact=False, run=local_search.run_local_search, capabilities=_WARM_HEURISTIC_CAPS,
                options=_LOCAL_SEARCH_OPTIONS),
        Backend("random_search", kind, "heuristic: best of seeded random masks", exact=False,
                run=heuristics.run_random_search, capabilities=_WARM_HEURISTIC_CAPS,
                options=(Param("samples", "int", 2000, "random masks drawn", minimum=1),)),
    ]
    if kind == WEIGHT:
        out.append(Backend(
            "ticket", kind, "constructive lottery ticket (Pensia et al.): 2d subset sums, mitm",
            exact=False, run=constructive_ticket.run_ticket, capabilities=_HEURISTIC_CAPS,
            refuse_options=constructive_ticket.option_refusal,
            options=(Param("assignment", "str", "balanced", "which units serve which input",
                           choices=("balanced", "mod")),
                     Param("trials", "int", None, "assignments tried (unset: "
                           f"{constructive_ticket.TRIALS}); only with assignment=balanced",
                           minimum=1, optional=True),
                     Param("max_values", "int", 32, "values per subset-sum problem",
                           minimum=1))))
    return out


BACKENDS: tuple[Backend, ...] = tuple(
    b for kind in KINDS for b in (
        *_engines(kind),
        Backend("bruteforce", kind, "exhaustive oracle over every mask (mask size <= 20)",
                exact=True, run=bruteforce.run_pruning_bruteforce,
                capabilities=_HEURISTIC_CAPS, version=numpy_version,
                refuse=_bruteforce_refuse),
        *_heuristics(kind),
    ))


CPSAT_PORTFOLIO_THREADS = 4
"""From this many threads `auto` gives weight pruning with a relu output to CP-SAT's
portfolio, which closes trees one-thread SCIP does not (docs/pruning.md, "CP-SAT's portfolio")."""


AUTO_ENUMERATES_UP_TO = 12
"""`auto` runs bruteforce on masks of at most this many entries."""


def choose_auto(instance: Any, goal: Goal, threads: int = 1) -> str:
    """SCIP on all points was the fastest certifying engine on our pruning benchmarks
    (docs/benchmarks/pruning.md), except with the l1 error and a relu output, where the MILPs
    need a big-M row per point and CP-SAT's exact max(h, 0) certifies 5-25x faster
    (docs/benchmarks/pruning-levers-*-l1-engines.md), and for weight pruning with a relu
    output given `threads` >= CPSAT_PORTFOLIO_THREADS (CP-SAT's portfolio of workers), and
    when the units' scales span more than the MILP engines take (`solvers.unit_scales`);
    tiny masks are enumerated. With max_kept, bruteforce is the one exact pruning method that
    takes it (its size limit then decides; SCIP refused the goal that bruteforce solves), and
    with the l2 error, which no MILP or CP-SAT model here takes (SCIP refused what bruteforce
    solves up to its limit; hunt 16)."""
    if (instance.mask_size <= AUTO_ENUMERATES_UP_TO or goal.max_kept is not None
            or instance.norm == "l2"):
        return "bruteforce"
    relu = instance.network.output_activation == "relu"
    portfolio = instance.kind == WEIGHT and threads >= CPSAT_PORTFOLIO_THREADS
    # CP-SAT takes the dictionary only (d <= 10); above it SCIP takes the big-M formulation
    cpsat = get_backend("cpsat", instance.kind).available() and not past_dictionary(instance)
    if cpsat and (unit_scale_refusal(instance) or (relu and (instance.norm == "l1"
                                                              or portfolio))):
        return "cpsat"  # the MILP engines refuse units of too many scales (solvers.unit_scales)
    return "scip" if get_backend("scip", instance.kind).available() else "highs"


def certify(instance: Any, mask: Any, claimed: dict[str, Any],
            time_limit: float | None = None) -> dict[str, Any]:
    """The mask's error bracket over the domain: [proven lower bound on the best sup error,
    certified sup error of the mask], from the claimed result's bound when it has one."""
    from exactprune.instances.errors import InputError
    from exactprune.instances.io import names_instance
    from exactprune.solvers.pruning.bracket import certify_bracket

    check_certify_inputs(instance, (NEURON, WEIGHT), claimed)
    goal = claimed_goal(claimed)
    if goal.get("objective", "min_error") != "min_error":
        # accepted, and nothing verified (hunt 179 L4); neuron selection refuses such goals too
        raise InputError(f"the result's goal ({goal_words(goal)}) is none a "
                         f"{instance.kind.replace('_', '-')} solver takes: they minimise the "
                         "error, with or without max_kept")
    note = None  # why the result's bound is not the lower end, or what it is
    bound = claimed.get("bound")
    if bound is None:  # every missing lower end says why (hunt 174 L1, hunt 176 L1)
        if "status" not in claimed:
            why = "a mask alone carries no proof"
        elif claimed.get("status") == "optimal":
            why = "the result names no bound (written without one, or edited)"
        else:
            why = ("the result has no proven bound (a heuristic's mask, or a solve stopped "
                   "before any bound)")
        note = f"{why}: no lower end; solve with an exact backend for one"
    if bound is not None and claimed.get("status") not in ("optimal", "feasible", "time_limit"):
        note = "the result's bound is not used as a lower bound: " + (
            "a mask alone carries no proof (the result has no status)"
            if "status" not in claimed else f"its status is {claimed.get('status')!r}")
        bound = None
    if bound is not None and (isinstance(bound, bool) or not isinstance(bound, int | float)):
        raise InputError("the result's bound must be a number")
    named = None if bound is None else names_instance(claimed, instance)
    if bound is not None and named is not True:
        # a mask with the same error on two instances (the empty mask: the target's own
        # error) lent one instance's proof to the other, lower end 0.999 above a mask of
        # sup error 0.439 (hunt 61 H1): only a result that names this instance gives a bound
        note = ("the result's bound is not used as a lower bound: " + (
            "the result does not name the instance it was solved on (no instance_sha256: "
            "written before exactprune recorded it, or edited); solve again for a lower end"
            if named is None else
            "it is a result of another instance (its instance_sha256 is not this one's)"))
        bound = None
    # the bound is the solve's proof about *its* instance: only taken when the result's
    # objective is this mask's error here, bit for bit (a result of another instance is not)
    # (a sparsest goal is refused above); a budget no mask can exceed binds nothing, and its
    # bound is the best error of any mask's (it lost the lower end; hunt 200 L1)
    constrained = goal.get("max_kept") is not None and \
        int(goal["max_kept"]) < instance.kept(instance.full_mask())
    goal_bound = None  # a bound on the solve's own max_kept goal: re-checked, never the lower end
    if bound is not None and constrained:
        goal_bound = bound
        # a bound under max_kept says nothing of the best error of any mask: lower 0.403
        # under max_kept = 1 beside a mask of sup error 0.168 (hunt 16)
        note = ("the result's bound is not used as a lower bound: it bounds the solve's "
                   f"own goal ({goal_words(goal)}), not the best error of any mask")
        bound = None
    elif bound is not None and claimed.get("objective") != float(instance.evaluate(mask)):
        note = ("the result's bound is not used as a lower bound: its objective "
                   f"{claimed.get('objective')!r} is not the mask's error on this instance "
                   "(a result of another instance, or edited)")
        bound = None
    # as neuron selection reads it (a negative one was read as 0 here; hunt 96 L1)
    tol = claimed_number(claimed, "tolerance", 0.0) or 0.0
    claims, recheck_note, rechecked, reference = _recheck(instance, mask, claimed, bound, tol,
                                                          goal, constrained, time_limit,
                                                          goal_bound)
    above = None  # the file's bound, when it is more than the re-check proves
    if claims.get("bound_consistent") is False and not constrained:
        note, bound = recheck_note, None
    elif bound is not None and reference is not None and bound > reference[0]:
        # within the tolerances the consistency check allows, but more than bruteforce proves:
        # an edited bound at the float optimum gave a lower end an ulp above the exact optimum
        # (hunt 168 H2), and one below it too when another mask's exact error was lower than
        # that of the mask bruteforce finds (hunt 169 H1). Where the re-check finished, the
        # lower end is what it proves; only above that size is the file's claim taken.
        above, bound = bound, reference[0]
    bracket = certify_bracket(instance, mask, bound, time_limit).to_json()
    if bound is not None and bracket.get("lower") is None:  # certify_bracket dropped it
        note = ("the result file's bound is not used: there is no lower end here, as a note "
                "below says")
    elif above is not None:
        why = ("lies above the exact error of the mask bruteforce finds"
               if _exact_error_below(instance, reference[1], above) else
               "is more than bruteforce's re-check proves")
        note = (f"the lower end is the bound bruteforce proves, {bound!r}, not the result "
                f"file's bound {above!r}, which {why} (by less than the tolerances)"
                + ("" if bracket.get("lower") == bound else
                   " (then lowered, as a note below says)"))
    elif bound is not None:  # hunt 25: an edited bound with its objective left alone passes
        lower = bracket.get("lower")
        note = ("the lower end is the result file's bound, as its solver proved it"
                + ("" if lower == bound else
                   " (read as 0: an error is never negative)" if bound < 0 and lower == 0
                   else " (then lowered, as a note below says)") + "; "
                   "the result names this instance (instance_sha256) and its objective is the "
                   "mask's error here, "
                   + ("and it is not above the optimum bruteforce finds "
                      "(claims.bound_consistent)"
                      if claims.get("bound_consistent") and rechecked else
                      "and no mask bruteforce found within its time is below it, but the "
                      "re-check did not finish (claims.bound_consistent)"
                      if claims.get("bound_consistent") else
                      "but certify cannot prove the bound again (solve again to check it)"))
    if note is not None:
        bracket["notes"] = [note, *bracket.get("notes", [])]
    if recheck_note is not None and recheck_note != note:
        bracket["notes"] = [*bracket.get("notes", []), recheck_note]
    if goal_bound is not None and "bound_consistent" not in claims:
        # too large for the re-check: said, as subset-sum says it above n = 48 (hunt 190)
        size = instance.mask_size
        too_large = size > CERTIFY_RECHECK_BITS or \
            (1 << size) * len(instance.points) > CERTIFY_RECHECK_WORK
        bracket["notes"] = [*bracket.get("notes", []), "the result's bound on its own goal "
                            f"(max_kept = {goal['max_kept']}) is not re-checked: " + (
                                f"bruteforce re-checks masks of at most {CERTIFY_RECHECK_BITS} "
                                f"entries and {CERTIFY_RECHECK_WORK:,} mask-point evaluations"
                                if too_large else "bruteforce found no mask in its time")]
    kept, max_kept = instance.kept(mask), goal.get("max_kept")
    if max_kept is not None and kept > int(max_kept):
        # said here once, re-checked or not: a result without a bound too (hunt 188)
        bracket["notes"] = [*bracket.get("notes", []), f"the mask keeps {kept} > max_kept "
                            f"{int(max_kept)}: no optimum of its goal"]
    return {"bracket": bracket, **({"claims": claims} if claims else {})}


CERTIFY_RECHECK_BITS = 16
CERTIFY_RECHECK_WORK = 1 << 24
"""`certify` re-checks a result's claims with `bruteforce` on masks of at most 16 entries whose
2^size × K mask-point evaluations are at most 2^24 (a few seconds; 2^16 masks at 4,000 points
took a minute, hunt 84), within CERTIFY_RECHECK_SECONDS or the given time limit; above them the
result's bound is trusted, as the notes say."""
CERTIFY_RECHECK_SECONDS = 10.0


def _recheck(instance: Any, mask: Any, claimed: dict[str, Any], bound: float | None,
             tol: float, goal: dict[str, Any], constrained: bool,
             time_limit: float | None, goal_bound: float | None = None
             ) -> tuple[dict[str, Any], str | None, bool, tuple[float, Any] | None]:
    """A result's bound (the best error on the points, when the bracket would take it) and a
    claimed certified optimum, re-checked by `bruteforce` on small masks: `bound_consistent` is
    False when the bound exceeds the error of a mask bruteforce finds by more than bruteforce's
    and the evaluation's tolerances (no proof gives that: an edited bound was the bracket's
    lower end, hunt 83 M2; the file's own tolerance is not counted, or an edited one let an
    edited bound back in, hunt 84 M1), `optimum_verified` True / False / None as for neuron
    selection (within the claimed tolerance, as claimed), False for a mask that keeps more than
    its max_kept (hunt 84 H1). `goal_bound`, a bound on a max_kept goal's own optimum (never
    the bracket's lower end), is checked against bruteforce's under that max_kept, whatever
    the mask keeps (it was read by no check; hunt 186 M2's twin in subset-sum). Returns
    (checks, note, whether bruteforce finished, and when it did for the least error of any
    mask, (its proven bound, its mask), else None); ({}, None, False, None) when nothing is
    claimed, or a bound only and the instance is too large; a certified claim on a too large
    instance is `optimum_verified` None, with a note saying why."""
    from exactprune.solvers.dispatch import solve
    from exactprune.solvers.result import Goal

    # a status-less file saying certified true is a claim too, re-checked as subset-sum's and
    # neuron selection's are (it was passed over here; hunt 196 M1)
    certified = claims_certified(claimed)
    size, points = instance.mask_size, len(instance.points)
    if bound is None and goal_bound is None and not certified:
        return {}, None, False, None
    if size > CERTIFY_RECHECK_BITS or (1 << size) * points > CERTIFY_RECHECK_WORK:
        if not certified:
            return {}, None, False, None
        # the claim is there and cannot be checked here: null, as docs/pruning.md says and
        # neuron selection does (the key was left out; hunt 237 L1)
        return {"optimum_verified": None}, (
            f"the claimed optimum is not re-checked: bruteforce re-checks masks of at most "
            f"{CERTIFY_RECHECK_BITS} entries and {CERTIFY_RECHECK_WORK:,} mask-point "
            f"evaluations (this one: {size} entries, {points} points)"), False, None
    # claimed_goal has checked the goal as Goal does: max_kept an integer >= 0 or None
    max_kept = None if goal.get("max_kept") is None else int(goal["max_kept"])
    breaks = max_kept is not None and instance.kept(mask) > max_kept  # (certify notes it)
    if certified and breaks and goal_bound is None:
        return {"optimum_verified": False}, None, False, None
    checks: dict[str, Any] = {}
    own = (Goal(max_kept=max_kept) if constrained and (certified or goal_bound is not None)
           else Goal())
    ref = solve(instance, "bruteforce", objective="min_error", max_kept=own.max_kept,
                time_limit=CERTIFY_RECHECK_SECONDS if time_limit is None else time_limit)
    found = ref.objective
    room = max(ref.tolerance or 0.0, instance.evaluation_tolerance())
    finished = ref.certified and ref.bound is not None
    notes = []
    if bound is not None and found is not None and not constrained:
        checks["bound_consistent"] = bound <= found + room
        if not checks["bound_consistent"]:
            notes.append(f"the result's bound {bound!r} exceeds "
                         f"{'the optimum' if finished else 'the error of a mask'} {found!r} "
                         "bruteforce finds on the points: no proof gives that, so it is not "
                         "the lower end")
    if goal_bound is not None and found is not None:
        checks["bound_consistent"] = goal_bound <= found + room
        if not checks["bound_consistent"]:
            notes.append(f"the result's bound {goal_bound!r} exceeds "
                         f"{'the optimum' if finished else 'the error of a mask'} {found!r} "
                         f"bruteforce finds on the points under max_kept = {max_kept}: no "
                         "proof gives that")
        elif not finished:  # not refuted, and not proved either (hunt 188 M1)
            notes.append(f"no mask bruteforce found under max_kept = {max_kept} within its "
                         f"time is below the result's bound {goal_bound!r}, but the re-check "
                         f"did not finish ({ref.status}): the bound is not proved again")
    if breaks:
        if certified:
            checks["optimum_verified"] = False
    elif certified:
        error = float(instance.evaluate(mask))
        tol, wide = counted_tolerance(tol, error, instance.evaluation_tolerance(),
                                      instance.num_points)
        if wide:
            notes.append(wide)
        if finished and error - tol - room <= ref.bound:
            checks["optimum_verified"] = True
            if error - room > ref.bound:  # true, but only by the width the result claims
                notes.append(only_within_claimed(error, ref.bound, tol))
        else:
            checks["optimum_verified"] = False if found is not None and \
                error > found + tol + room else None
            notes.append(f"bruteforce finds error {found!r} (bound {ref.bound!r}, "
                         f"{ref.status}); the mask's is {error!r}, tolerance {tol + room!r}")
    reference = (ref.bound, ref.mask) if finished and own.max_kept is None else None
    return checks, "; ".join(notes) or None, finished, reference


def _exact_error_below(instance: Any, mask: Any, bound: float) -> bool:
    """Whether `mask`'s exact error on the points is below `bound`, so `bound` bounds no
    optimum (False where the exact evaluation would cost more than EXACT_ERROR_WORK)."""
    from exactprune.solvers.pruning.bracket import (
        exact_evaluation_affordable,
        exact_points_error_floor,
    )

    # the largest float <= the exact error is below a float exactly when the error is
    return exact_evaluation_affordable(instance) and \
        exact_points_error_floor(instance, mask) < bound
