"""Neuron-selection backends: the exhaustive oracle, branch and bound (every loss, rules average
and keep), MILP engines and CP-SAT (l1/linf, rules average and keep), and heuristics.

Every backend refuses, with one line (`Backend.refuse`), the loss / rule / repeats combinations
it does not handle. `choose_auto` is ``--solver auto``; `certify` is what ``exactprune certify``
adds: the kept units, their counts, the loss definition, and the result's bound and certified
claim checked.
"""

from __future__ import annotations

from functools import partial
from typing import Any

from exactprune.instances.errors import InputError
from exactprune.instances.neuron_selection.instance import LINEAR_RULES
from exactprune.instances.params import Param
from exactprune.solvers.cpsat_engine import cpsat_available, cpsat_version
from exactprune.solvers.milp_engines import ENGINES
from exactprune.solvers.neuron_selection import (
    bnb,
    bruteforce,
    edge_popup,
    exact,
    heuristics,
    imp,
    local_search,
)
from exactprune.solvers.registry import Backend, capabilities, get_backend, numpy_version
from exactprune.solvers.result import (
    Goal,
    add_certify_note,
    check_certify_inputs,
    claimed_goal,
    claimed_number,
    claims_certified,
    counted_tolerance,
    goal_words,
    only_within_claimed,
)
from exactprune.solvers.unit_scales import unit_scale_refusal, with_unit_scale_refusal

KIND = "neuron_selection"

_ENGINE_CAPS = capabilities(warm_start=True, threads=True)
_HEURISTIC_CAPS = capabilities()


_SCIP_CUTS = Param("cuts", "bool", False,
                   "SCIP's cutting planes (separation); off by default: measured faster on the "
                   "selection MILP (docs/benchmarks/neuron-selection-scip-cuts.md)")


_RECHECK = Param("recheck", "bool", True,
                 "when the engine's tolerance slack blocks the certificate, evaluate and "
                 "exclude the masks within it (solvers/exclusion_recheck.py)")
_RECHECK_FAMILIES = Param("recheck_families", "bool", True,
                          "the re-check excludes each evaluated mask with its family of exact "
                          "ties (same counts of the units live at its worst entry for linf, "
                          "anywhere for l1) instead of the mask alone")


MODEL_ACCEPTS = (("loss", ("l1", "linf")), ("rule", LINEAR_RULES))
"""What the MILP and CP-SAT models take (`Backend.accepts`): linear losses, linear rules."""


def _engines() -> list[Backend]:
    out = [Backend(name, KIND, f"selection MILP with {engine.label} (l1/linf, average/keep "
                               "rule), certified against its tolerances",
                   exact=True, run=partial(exact.run_milp, name), capabilities=_ENGINE_CAPS,
                   options=(_RECHECK, _RECHECK_FAMILIES, _SCIP_CUTS) if name == "scip"
                   else (_RECHECK, _RECHECK_FAMILIES),
                   refuse=with_unit_scale_refusal(exact.refuse), available=engine.available,
                   version=engine.version, accepts=MODEL_ACCEPTS)
           for name, engine in ENGINES.items()]
    out.append(Backend("cpsat", KIND, "CP-SAT on scaled integers (l1/linf, average/keep "
                                      "rule), certified with the rounding slack",
                       exact=True, run=exact.run_cpsat, capabilities=_ENGINE_CAPS,
                       options=(_RECHECK, _RECHECK_FAMILIES), refuse=exact.refuse,
                       available=cpsat_available,
                       version=cpsat_version, accepts=MODEL_ACCEPTS))
    return out


BACKENDS: tuple[Backend, ...] = (
    *_engines(),
    Backend("bruteforce", KIND, "exhaustive oracle over every k-subset / multiset (every loss "
                                "and rule; at most 2^21 masks, refit 2^15)",
            exact=True, run=bruteforce.run_bruteforce, version=numpy_version,
            refuse=bruteforce.refuse),
    Backend("bnb", KIND, "branch and bound with Frank-Wolfe convex bounds (every loss, average "
                         "or keep rule, no repeats)",
            exact=True, run=bnb.run_bnb, capabilities=capabilities(warm_start=True),
            version=numpy_version, refuse=bnb.refuse,
            accepts=(("rule", LINEAR_RULES), ("repeats", (False,))),
            options=(Param("fw_steps", "int", bnb.FW_STEPS,
                           "Frank-Wolfe steps per node bound", minimum=1, maximum=1000),)),
    Backend("greedy_forward_selection", KIND,
            "heuristic: greedy forward selection (Ye et al. 2020), uniform average (keep "
            "rule: unscaled sum)",
            exact=False, run=heuristics.run_greedy, capabilities=_HEURISTIC_CAPS,
            version=numpy_version,
            options=(Param("repeats", "bool", None, "a unit may be added again (default: as "
                           "the instance; false on an instance with repeats keeps each unit "
                           "at most once, true needs one)", optional=True),
                     Param("candidates", "int", None, "seeded sample of units tried per step "
                           "(default: all)", minimum=1, optional=True))),
    Backend("magnitude", KIND, "heuristic: top k units by ||output weights|| x ||activations||",
            exact=False, run=heuristics.run_magnitude, capabilities=_HEURISTIC_CAPS,
            version=numpy_version),
    Backend("random", KIND, "heuristic: best of seeded random subsets", exact=False,
            run=heuristics.run_random, capabilities=_HEURISTIC_CAPS, version=numpy_version,
            options=(Param("samples", "int", 1000, "random subsets drawn", minimum=1),)),
    Backend("local_search", KIND, "heuristic: best-improvement swaps from greedy forward "
                                  "selection (or the warm start), seeded kicks and restarts",
            exact=False, run=local_search.run_local_search,
            capabilities=capabilities(warm_start=True), version=numpy_version,
            options=(Param("restarts", "int", local_search.RESTARTS,
                           "rounds from a seeded random mask after the first", minimum=0),
                     Param("kicks", "int", local_search.KICKS,
                           "kicked descents per round", minimum=0),
                     Param("kick_size", "int", local_search.KICK_SIZE,
                           "random swaps per kick", minimum=1))),
    Backend("imp", KIND, "heuristic: iterative magnitude pruning with rewinding (Frankle & "
                         "Carbin) on the output layer over the fixed hidden features",
            exact=False, run=imp.run_imp, capabilities=_HEURISTIC_CAPS, version=numpy_version,
            options=(Param("prune_fraction", "float", imp.PRUNE_FRACTION,
                           "fraction of surviving units pruned per round", minimum=0.0,
                           above=True, maximum=1.0),
                     Param("iters", "int", imp.ITERS, "full-batch GD steps per round",
                           minimum=0),
                     Param("lr", "float", imp.LR, "GD step in units of 1/L (L: Lipschitz "
                           "constant of the gradient)", minimum=0.0, above=True, maximum=2.0))),
    Backend("edge_popup", KIND, "heuristic: edge-popup (Ramanujan et al.) unit scores, top-k "
                                "forward pass, straight-through gradient",
            exact=False, run=edge_popup.run_edge_popup, capabilities=_HEURISTIC_CAPS,
            version=numpy_version,
            options=(Param("iters", "int", edge_popup.ITERS, "score updates", minimum=0),
                     Param("lr", "float", edge_popup.LR, "score step (gradient normalised "
                           "to max-norm 1)", minimum=0.0, above=True),
                     Param("init", "str", "magnitude", "initial scores",
                           choices=edge_popup.INITS),
                     Param("surrogate", "str", "squared", "loss the gradient is taken of",
                           choices=edge_popup.SURROGATES))),
)


def choose_auto(instance: Any, goal: Goal, threads: int = 1) -> str:
    """Enumerate up to 5,000 masks; else SCIP (HiGHS without it; CP-SAT when the units' scales span
    more than the MILP engines take, `solvers.unit_scales`) for l1/linf under a linear rule
    (average, keep), branch and bound for squared under one without repeats, else bruteforce (which
    may refuse). Data that no power of two brings to unit size exactly (subnormal activations),
    which the MILP engines and CP-SAT refuse, goes to branch and bound (bruteforce with repeats):
    `auto` refused what bnb certifies (hunt 113 M2). The choice ignores `threads`: no engine's extra
    threads are measured to pay here."""
    if bruteforce.candidate_count(instance) <= 5000 or not instance.linear_rule:
        return "bruteforce"
    if instance.loss in ("l1", "linf") and exact.model_refusal(instance):
        return "bnb" if not instance.repeats else "bruteforce"
    if instance.loss in ("l1", "linf"):
        if unit_scale_refusal(instance) and get_backend("cpsat", KIND).available():
            return "cpsat"  # the MILP engines refuse units of too many scales
        return "scip" if get_backend("scip", KIND).available() else "highs"
    return "bnb" if not instance.repeats else "bruteforce"


CERTIFY_RECHECK_MASKS = 1 << 18
"""`certify` re-checks a claimed certified optimum by bruteforce up to this many masks."""
CERTIFY_RECHECK_SECONDS = 60.0
"""... and for at most this long when certify is given no time limit (refit: one least
squares per mask)."""


def certify(instance: Any, mask: Any, claimed: dict[str, Any],
            time_limit: float | None = None) -> dict[str, Any]:
    """The kept units (and counts), the loss and rule, and the evaluation tolerance; and the
    result's claims checked against the mask's loss L: a bound must be a number at most L plus
    the claimed tolerance (`bound_consistent`). A result that claims a certified optimum or a
    bound is re-solved by `bruteforce` (within CERTIFY_RECHECK_MASKS masks and `time_limit`,
    else CERTIFY_RECHECK_SECONDS): the bound must also be at most the loss of the best mask it
    finds plus the tolerances, whether or not the re-check finished (any mask's loss is at least
    the optimum; hunt 63 L1 took only a finished re-check, and only for certified claims);
    `optimum_verified` (certified claims) is True when L − tolerance is at most bruteforce's
    proven bound, False when L exceeds the loss of a mask it found by more than the tolerance,
    None when neither can be shown (the earlier `certify` ignored every claim: a bound of 1e300
    passed; hunt 60 L1)."""
    from exactprune.solvers.dispatch import solve

    check_certify_inputs(instance, ("neuron_selection",), claimed)
    goal = claimed_goal(claimed)
    if goal.get("objective", "min_error") != "min_error" or goal.get("max_kept") is not None \
            or goal.get("eps") is not None:
        # a claim no solver of the kind makes: its optimum was "verified" as the loss's
        # (hunt 170 H1: a mask of 3 units under max_kept = 2)
        raise InputError(f"the result's goal ({goal_words(goal)}) is none a neuron-selection "
                         f"solver takes: they keep exactly k = {instance.k} units and minimise "
                         "the loss")
    counts = instance.check_mask(mask).astype(int)
    units = [int(i) for i in counts.nonzero()[0]]
    out: dict[str, Any] = {"selection": {
        "units": units, "counts": [int(counts[i]) for i in units], "loss": instance.loss,
        "rule": instance.rule, "evaluation_tolerance": instance.evaluation_tolerance()}}
    loss = float(instance.evaluate(mask))
    bound = claimed_number(claimed, "bound", -float("inf"))  # below 0: valid, if weak
    tolerance = claimed_number(claimed, "tolerance", 0.0) or 0.0
    certified = claims_certified(claimed)
    checks: dict[str, Any] = {}

    def note(text: str) -> None:
        add_certify_note(checks, text)
    evaluation = instance.evaluation_tolerance()
    if why := instance.evaluation_caveat(mask):
        note(why)
    if bound is not None:
        # not the claimed tolerance: an edited one let an edited bound through (hunt 96 M2,
        # as hunt 84 M1 for pruning)
        checks["bound_consistent"] = bound <= loss + evaluation
        if not checks["bound_consistent"]:
            note(f"the result's bound {bound!r} exceeds the mask's loss {loss!r} plus the "
                 f"evaluation tolerance {evaluation!r}: no proof gives that")
    if certified:  # no wider than any certificate states (hunt 145 L1)
        tolerance, wide = counted_tolerance(tolerance, loss, evaluation,
                                            instance.m * instance.outputs)
        if wide:
            note(wide)
    if certified or (bound is not None and checks["bound_consistent"] and bound > 0):
        too_big = bruteforce.refuse(instance, Goal())
        if too_big is None and bruteforce.candidate_count(instance) > CERTIFY_RECHECK_MASKS:
            too_big = f"above {CERTIFY_RECHECK_MASKS:,} masks"
        if too_big is not None:
            if certified:
                checks["optimum_verified"] = None
            note(f"not re-checked by bruteforce: {too_big}")
        else:
            ref = solve(instance, "bruteforce", time_limit=time_limit
                        if time_limit is not None else CERTIFY_RECHECK_SECONDS)
            finished = ref.certified and ref.bound is not None
            if certified and not finished:
                checks["optimum_verified"] = None
                note(f"the re-check (bruteforce) ended {ref.status}: the claim is neither "
                     "confirmed nor refused")
            elif certified and loss - tolerance <= ref.bound:
                checks["optimum_verified"] = True
                if loss - max(ref.tolerance or 0.0, evaluation) > ref.bound:
                    note(only_within_claimed(loss, ref.bound, tolerance))
            elif certified:
                checks["optimum_verified"] = False if loss > ref.objective + tolerance else None
                note(f"bruteforce finds loss {ref.objective!r} (bound {ref.bound!r}); the "
                     f"mask's is {loss!r}, tolerance {tolerance!r}")
            room = max(ref.tolerance or 0.0, evaluation)
            if ref.objective is not None and bound is not None and bound > ref.objective + room:
                # above the loss of a mask bruteforce found: no proof gives that (hunt 62 L2)
                checks["bound_consistent"] = False
                found = "the optimum" if finished else "the loss of a mask"
                note(f"the result's bound {bound!r} exceeds {found} {ref.objective!r} "
                     "bruteforce finds")
            elif finished and bound is not None and bound > ref.bound:
                # within the room the check allows, but no more proven for it (hunt 170 L1;
                # pruning's certify says so too)
                note(f"the result's bound {bound!r} is more than bruteforce's re-check proves "
                     f"({ref.bound!r}): within the tolerances, neither refuted nor confirmed")
    if checks:
        out["claims"] = checks
    return out
