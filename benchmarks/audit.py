"""What a random audit of exact backends against `bruteforce` shares, whatever the kind: the
tally, the checks on one result, and the command line (`--cases LO:HI`, `--time-limit`,
`--threads`, `--warm-start`).

The kind's audit module (benchmarks/pruning/audit.py, benchmarks/neuron_selection/audit.py,
benchmarks/subset_sum/audit.py) draws case c's instance from random.Random(c) and calls
`check_result` for each engine's answer; with `--large` they draw instances too large for the
oracle: pruning and neuron selection then call `check_consensus` on all the answers at once
(`cross_check`), subset-sum checks against `mitm`. A finding is: a status "error", an objective
below the oracle's optimum, a proven bound above it (each beyond the oracle's tolerance), or a
certified objective farther from it than the two reported tolerances.

`--threads N` runs every backend that declares threads with N (CP-SAT's portfolio, SCIP's
concurrent mode, HiGHS's and CBC's parallel search: other code paths, other answers);
`--warm-start oracle|random` gives every backend that takes a warm start the oracle's optimal
mask (the cap then sits at the optimum) or a random valid mask of the kind.
"""

from __future__ import annotations

import argparse
import random
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import numpy as np


@dataclass
class AuditTally:
    """What an audit saw: solves run, certified, refused (InputError, or a model above
    gurobipy's size-limited licence), gave up (an honest "error" the backend explains, e.g. a
    sparsest window its tolerances cannot resolve), and the findings."""

    runs: int = 0
    certified: int = 0
    refused: int = 0
    gave_up: int = 0
    findings: list[str] = field(default_factory=list)


def check_result(tally: AuditTally, res: Any, oracle: Any, where: str) -> None:
    """Count `res` (a SolveResult) in `tally` and add a finding for each way it contradicts
    the oracle's certified optimum `oracle`."""
    opt = float(oracle.objective)
    # the oracle's optimum is certified within its tolerance (e.g. bruteforce's numpy sums)
    eps = 1e-12 * max(1.0, abs(opt)) + (oracle.tolerance or 0.0)
    tally.runs += 1
    if str(res.status) == "error":
        tally.findings.append(f"error: {where}: {res.notes[-1:]}")
        return
    if res.objective is not None and res.objective < opt - eps:
        tally.findings.append(f"below the oracle: {where}: {res.objective!r} < {opt!r}")
    if res.bound is not None and res.bound > opt + eps:
        tally.findings.append(f"bound above the optimum: {where}: {res.bound!r} > {opt!r}")
    if res.certified:
        tally.certified += 1
        if res.objective - opt > (res.tolerance or 0.0) + (oracle.tolerance or 0.0):
            tally.findings.append(f"wrong optimum: {where}: {res.objective!r}, oracle "
                                  f"{opt!r}, tolerance {res.tolerance!r}")


def check_consensus(tally: AuditTally, answers: list[tuple[str, Any]],
                    eval_tol: float) -> None:
    """Count each (where, SolveResult) of one instance in `tally` and add a finding for each
    way the answers contradict one another, with no oracle: an error status, a proven bound
    above the best mask's error, or a certified objective beaten by another answer's mask by
    more than its tolerance. Every objective is the instance's own evaluation of a mask (an
    upper bound on the optimum); `eval_tol` is how far two evaluations may differ."""
    objectives = [res.objective for _, res in answers if res.objective is not None
                  and str(res.status) != "error"]
    best = min(objectives, default=None)
    for where, res in answers:
        tally.runs += 1
        if str(res.status) == "error":
            tally.findings.append(f"error: {where}: {res.notes[-1:]}")
            continue
        tally.certified += int(res.certified)
        if best is None:
            continue
        eps = 1e-12 * max(1.0, abs(best)) + eval_tol
        if res.bound is not None and res.bound > best + eps:
            tally.findings.append(f"bound above a found mask's error: {where}: "
                                  f"{res.bound!r} > {best!r}")
        if res.certified and res.objective - best > (res.tolerance or 0.0) + eps:
            tally.findings.append(f"certified optimum beaten: {where}: {res.objective!r}, "
                                  f"another mask {best!r}, tolerance {res.tolerance!r}")


WARM_STARTS = ("none", "oracle", "random")
SIZE_LIMITED = "size-limited license"
"""Gurobi's error when a model exceeds the pip wheel's licence (2,000 variables or rows)."""


def random_keep_mask(shape: tuple[int, ...], rng: random.Random) -> np.ndarray:
    """A random boolean keep-mask of `shape`, each entry kept with probability 1/2."""
    size = int(np.prod(shape))
    return np.array([rng.random() < 0.5 for _ in range(size)], dtype=bool).reshape(shape)


TWO_SCALE_EXPONENTS = (7.0, 16.0)
"""The default range of the `--edge` audits' scale exponent a (pruning, neuron selection)."""


def two_scale_units(case: int, n_units: int,
                    exponents: tuple[float, float] = TWO_SCALE_EXPONENTS
                    ) -> tuple[np.ndarray, float]:
    """The `--edge` audits' draw for case `case`: which of `n_units` units (a random half) get
    their output weights scaled by 10^-a, and a ~ U[exponents] (default U[7, 16]; pruning and
    neuron selection share it, so their case numbers name the same draw)."""
    a = random.Random(f"two-scale {case}").uniform(*exponents)
    return np.random.default_rng([case, 3]).random(n_units) < 0.5, a


def warm_mask(how: str, oracle: Any, case: int,
              random_mask: Callable[[random.Random], Any]) -> Any:
    """The audit's warm start: None ("none"), the oracle's mask ("oracle"), or
    `random_mask(rng)`, a random valid mask of the kind drawn from case `case` ("random")."""
    if how == "oracle":
        return oracle.mask
    if how == "random":
        return random_mask(random.Random(f"warm start {case}"))
    return None


def solve_each(tally: AuditTally, inst: Any, engines: tuple[str, ...], time_limit: float,
               seed: int, option_sets: Callable[[str], list[dict[str, Any]]] | None = None,
               threads: int = 1, warm_start: Any = None,
               **goal: Any) -> Iterator[tuple[str, dict[str, Any], Any]]:
    """(engine, options, result) for every available engine in `engines` and every option
    set it is given (`option_sets(engine)`, default one empty set); `threads` (> 1) and
    `warm_start` (a mask) go to the backends that declare them; refusals (InputError) are
    counted in `tally` and skipped."""
    from exactprune.instances import InputError
    from exactprune.solvers import get_backend, solve
    from exactprune.solvers.registry import Capability

    for engine in engines:
        backend = get_backend(engine, inst.kind)
        if not backend.available():
            continue
        extra: dict[str, Any] = {}
        if threads > 1 and Capability.THREADS in backend.capabilities:
            extra["threads"] = threads
        if warm_start is not None and Capability.WARM_START in backend.capabilities:
            extra["warm_start"] = warm_start
        for options in ([{}] if option_sets is None else option_sets(engine)):
            try:
                res = solve(inst, engine, time_limit=time_limit, seed=seed, **extra, **options,
                            **goal)
            except InputError:
                tally.refused += 1
                continue
            if str(res.status) == "error" and any(SIZE_LIMITED in n for n in res.notes):
                tally.refused += 1  # gurobipy's pip licence: a model above its size limit
                continue
            yield engine, options, res


def cross_check(tally: AuditTally, inst: Any, text: str, engines: tuple[str, ...],
                time_limit: float, case: int, heuristic: str, threads: int, warm_start: str,
                random_mask: Callable[[random.Random], Any],
                option_sets: Callable[[str], list[dict[str, Any]]] | None = None) -> None:
    """The cross audit of one instance too large for the oracle: every engine (and option
    set) solves it, `heuristic`'s mask joins the answers as one more mask to beat, and
    `check_consensus` compares them. Warm start "oracle" is the heuristic's mask."""
    from exactprune.solvers import solve

    found = solve(inst, heuristic, seed=case)
    warm = warm_mask(warm_start, found, case, random_mask)
    answers = [(f"{text} {engine} {options or ''}".rstrip(), res)
               for engine, options, res in solve_each(tally, inst, engines, time_limit, case,
                                                      option_sets, threads=threads,
                                                      warm_start=warm)]
    answers.append((f"{text} {heuristic}", found))
    check_consensus(tally, answers, 2.0 * inst.evaluation_tolerance())


def _case_range(text: str) -> tuple[int, int]:
    try:
        lo, hi = (int(x) for x in text.split(":"))
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected LO:HI (integers), got {text!r}") from None
    if not 0 <= lo < hi:
        raise argparse.ArgumentTypeError(f"expected 0 <= LO < HI, got {text!r}")
    return lo, hi


def _exponent_range(text: str) -> tuple[float, float]:
    try:
        lo, hi = (float(x) for x in text.split(":"))
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected LO:HI (numbers), got {text!r}") from None
    if not 0 <= lo < hi <= 300:
        raise argparse.ArgumentTypeError(f"expected 0 <= LO < HI <= 300, got {text!r}")
    return lo, hi


def audit_main(description: str, audit_case: Callable[..., None],
               argv: list[str] | None = None,
               cross_case: Callable[..., None] | None = None,
               edge_case: Callable[..., None] | None = None,
               edge_exponents: tuple[float, float] = TWO_SCALE_EXPONENTS,
               repeated_case: Callable[..., None] | None = None,
               rules: tuple[str, ...] | None = None,
               near_ties_case: Callable[..., None] | None = None) -> int:
    """The audit's command line: run cases LO..HI-1 (`audit_case(case, tally, time_limit,
    threads=, warm_start=)`, or with --large `cross_case`, the cross audit, or with --edge
    `edge_case`, a kind's stress of one numerically delicate family, its scale exponents
    drawn from `edge_exponents` unless --edge-exponents says otherwise, or with --repeated
    `repeated_case`, instances whose values repeat, or with --near-ties `near_ties_case`,
    instances whose best masks differ by float rounding; `rules`: a kind's choices for --rule,
    passed on as ``rule=``, the first the default), print each
    finding as it comes, progress every 50 cases and a summary line; exit status 1 when there
    is a finding."""
    p = argparse.ArgumentParser(description=description)
    p.add_argument("--cases", type=_case_range, default="0:200",
                   help="LO:HI, the cases LO..HI-1")
    p.add_argument("--time-limit", type=float, default=None,
                   help="seconds per solve (default 60; 20 with --large)")
    if cross_case is not None:
        p.add_argument("--large", action="store_true",
                       help="instances too large for bruteforce (the module's docstring "
                            "says what they are checked against)")
    if edge_case is not None:
        p.add_argument("--edge", action="store_true",
                       help="the numerically delicate family (the module's docstring says "
                            "which)")
        p.add_argument("--edge-exponents", type=_exponent_range, default=None,
                       metavar="LO:HI",
                       help="with --edge: draw the family's scale exponent a (values scaled "
                            f"by 10^-a) from U[LO, HI] (default {edge_exponents[0]:g}:"
                            f"{edge_exponents[1]:g})")
    if repeated_case is not None:
        p.add_argument("--repeated", action="store_true",
                       help="instances whose values repeat (the module's docstring says how)")
    if near_ties_case is not None:
        p.add_argument("--near-ties", action="store_true",
                       help="instances whose best masks differ by float rounding (the "
                            "module's docstring says how)")
    if rules is not None:
        p.add_argument("--rule", choices=rules, default=rules[0],
                       help=f"the rule of the drawn instances (default {rules[0]}; the "
                            "module's docstring says which draws it replaces)")
    p.add_argument("--threads", type=int, default=1,
                   help="threads for every backend that declares them (default 1)")
    p.add_argument("--warm-start", choices=WARM_STARTS, default="none",
                   help="warm start for every backend that takes one: the oracle's optimal "
                        "mask or a random valid mask (default none)")
    args = p.parse_args(argv)
    large = getattr(args, "large", False)
    edge = getattr(args, "edge", False)
    repeated = getattr(args, "repeated", False)
    near_ties = getattr(args, "near_ties", False)
    if large + edge + repeated + near_ties > 1:
        chosen = [f"--{f}" for f, on in (("large", large), ("edge", edge),
                                         ("repeated", repeated), ("near-ties", near_ties))
                  if on]
        p.error(f"{' and '.join(chosen)} are different audits: choose one")
    exponents = getattr(args, "edge_exponents", None)
    if exponents is not None and not edge:
        p.error("--edge-exponents needs --edge")
    if args.time_limit is None:
        args.time_limit = 20.0 if large else 60.0
    run_case = (cross_case if large else edge_case if edge
                else repeated_case if repeated else near_ties_case if near_ties
                else audit_case)
    if not args.time_limit > 0:
        p.error(f"--time-limit must be > 0, got {args.time_limit}")
    if args.threads < 1:
        p.error(f"--threads must be >= 1, got {args.threads}")
    lo, hi = args.cases
    tally = AuditTally()
    t0 = time.perf_counter()
    for case in range(lo, hi):
        seen = len(tally.findings)
        run_case(case, tally, args.time_limit, threads=args.threads,
                 warm_start=args.warm_start,
                 **({"exponents": exponents} if edge and exponents is not None else {}),
                 **({"rule": args.rule} if rules is not None else {}))
        for line in tally.findings[seen:]:
            print(line, flush=True)
        if (case - lo) % 50 == 49:
            print(f"... {case - lo + 1} cases, {time.perf_counter() - t0:.0f} s", flush=True)
    print(f"cases {lo}..{hi - 1}: {tally.runs} solves, {tally.certified} certified, "
          f"{tally.refused} refused, {tally.gave_up} gave up, {len(tally.findings)} findings, "
          f"{time.perf_counter() - t0:.0f} s")
    return 1 if tally.findings else 0
