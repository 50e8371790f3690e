"""The measurements of `exactprune bench` (runs, per-suite outcomes, their summary numbers) and
the consistency checks that would reveal a wrong certificate; benchmarks/bench.py runs them,
benchmarks/bench_report.py writes them up."""

from __future__ import annotations

import functools
import math
import re
import statistics
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from exactprune.benchmarks.suites import BenchInstance, Suite
from exactprune.instances.io import json_infinity

QUALITY_RTOL = 1e-9
"""A run *reached* the best objective when objective <= best · (1 + QUALITY_RTOL)."""
TIME_FLOOR_S = 1e-3
"""Times below this are raised to it in the time profile (timer resolution)."""
DEFAULT_TIME_LIMIT = 60.0
REFUSED = "refused"
"""Status of a run whose solver refused the instance (InputError from solve())."""
SKIPPED = "skipped"
REFUSED_BEFORE = "refused: "
"""How a pair's skip reason starts when the solver's declared limits refuse the instance before
any run (bruteforce's size, a loss it does not take)."""


@functools.cache
def exactprune_version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("exactprune")
    except PackageNotFoundError:  # pragma: no cover - running from a source tree
        return "unknown"


# -- results -----------------------------------------------------------------------------------
@dataclass
class Run:
    """One (instance, solver) pair of a suite: its record, or why it was skipped."""

    instance: BenchInstance
    solver: str
    record: dict | None
    skipped: str | None = None

    @property
    def status(self) -> str:
        return SKIPPED if self.record is None else str(self.record.get("status"))

    @property
    def certified(self) -> bool:
        return bool(self.record and self.record.get("certified")
                    and self.record.get("status") == "optimal")

    @property
    def killed_after(self) -> float | None:
        """The timeout (s) this run was killed under, None if it was not killed or its record
        (older than the `timeout_s` field) says it only in its message."""
        if self.status != "killed":
            return None
        t = self.record.get("timeout_s")
        if isinstance(t, int | float) and not isinstance(t, bool):
            return float(t)
        m = re.search(r"timeout of ([-+0-9.eE]+|inf) s", str(self.record.get("error", "")))
        try:
            return float(m.group(1)) if m else None
        except ValueError:
            return None

    @property
    def objective(self) -> float | None:
        if self.record is None:
            return None
        obj = self.record.get("objective")
        return float(obj) if isinstance(obj, int | float) else None

    @property
    def wall_time(self) -> float | None:
        if self.record is None:
            return None
        t = self.record.get("wall_time_s")
        return float(t) if isinstance(t, int | float) else None


@dataclass
class SuiteOutcome:
    """Everything measured on one suite (see `summarise` for the derived numbers)."""

    suite: Suite
    solvers: list[str]
    exact: dict[str, bool]
    versions: dict[str, str | None]
    runs: list[Run]
    time_limit: float
    threads: int
    not_applicable: dict[str, int] = field(default_factory=dict)

    def runs_of(self, solver: str) -> list[Run]:
        return [r for r in self.runs if r.solver == solver]

    def certified_optimum(self) -> dict[str, float]:
        """instance name -> best certified objective of any run: a heuristic's mask at
        subset-sum's error floor is certified too (docs/numerics.md), and was counted in its
        row while the suite said no optimum was known there (hunt 203 L3)."""
        best: dict[str, float] = {}
        for r in self.runs:
            if r.certified and r.objective is not None:
                name = r.instance.name
                best[name] = min(best.get(name, math.inf), r.objective)
        return best

    def best_known(self) -> dict[str, float]:
        """instance name -> best objective of any run (certified or not)."""
        best: dict[str, float] = {}
        for r in self.runs:
            if r.objective is not None:
                name = r.instance.name
                best[name] = min(best.get(name, math.inf), r.objective)
        return best


def ratio(obj: float | None, opt: float) -> float:
    """objective / optimum with the zero convention of `profiles` (0/0 = 1, x/0 = inf);
    no objective (no mask) = inf."""
    if obj is None:
        return math.inf
    if opt == 0.0:
        return 1.0 if obj == 0.0 else math.inf
    return obj / opt


def summarise(out: SuiteOutcome) -> dict[str, Any]:
    """The per-solver numbers of the table and of ``--json`` for one suite."""
    opt = out.certified_optimum()
    solvers: dict[str, Any] = {}
    for s in out.solvers:
        runs = out.runs_of(s)
        # runs made: not the pairs skipped before running, nor those the solver refused
        # (their 0 s entered the median time, and a heuristic's refusal counted as ratio inf;
        # hunt 21)
        done = [r for r in runs if r.record is not None and r.status != REFUSED]
        # a crash's or a kill's time says nothing of the solver (sweep leaves it out too; the
        # --timeout of a killed run went into the median; hunt 33)
        times = [r.wall_time for r in done
                 if r.wall_time is not None and r.status not in ("error", "killed")]
        entry: dict[str, Any] = {
            "solved_optimal": sum(r.certified for r in runs),
            "instances": len(runs),
            "median_time_s": statistics.median(times) if times else None,
            "median_ratio": None,
            "worst_ratio": None,
            "exact": out.exact[s],
            # exactprune's own methods (heuristics) carry no library version: ours, as the
            # report's version table says
            "version": out.versions.get(s) or f"exactprune {exactprune_version()}",
            "runs": len(done),
            "skipped": len(runs) - len(done),  # not run, or refused
            # refused when run, or before (by the solver's declared limits: the report lists
            # those as "refused: ..." among the pairs not run; summary.json said 0; hunt 216 L1)
            "refused": sum(r.status == REFUSED or (r.skipped or "").startswith(REFUSED_BEFORE)
                           for r in runs),
            "statuses": dict(sorted(Counter(r.status for r in runs).items())),
        }
        if not out.exact[s]:
            ratios = [ratio(r.objective, opt[r.instance.name]) for r in done
                      if r.instance.name in opt]
            entry["ratio_instances"] = len(ratios)
            entry["ratio_undefined"] = len(runs) - len(ratios)
            entry["ratio_failures"] = sum(1 for x in ratios if math.isinf(x))
            if ratios:  # an infinite ratio is a value ("inf"), not a missing one (hunt 33)
                entry["median_ratio"] = json_infinity(statistics.median(ratios))
                entry["worst_ratio"] = json_infinity(max(ratios))
        solvers[s] = entry
    return {"suite": out.suite.name, "solvers": solvers,
            "instances": len(out.suite.instances),
            "certified_instances": len(opt),
            "time_limit_s": out.time_limit, "threads": out.threads}


def merged_versions(outcomes: list[SuiteOutcome]) -> dict[str, str | None]:
    """Each solver's version over several suites: one backend name can be another engine per
    kind (scip: OR-Tools' SCIP for subset sum, PySCIPOpt's for pruning), so distinct versions
    are all named, in suite order, with the suites each one ran in."""
    seen: dict[str, dict[str | None, list[str]]] = {}
    for o in outcomes:
        for solver, version in o.versions.items():
            seen.setdefault(solver, {}).setdefault(version, []).append(o.suite.name)
    merged: dict[str, str | None] = {}
    for solver, by_version in seen.items():
        if len(by_version) == 1:
            merged[solver] = next(iter(by_version))
        else:
            merged[solver] = "; ".join(f"{v or '-'} ({', '.join(suites)})"
                                       for v, suites in by_version.items())
    return merged


def aggregate(outcomes: list[SuiteOutcome], name: str) -> dict[str, Any]:
    """One JSON object for a composite suite: solver numbers over all its suites."""
    per = {o.suite.name: summarise(o) for o in outcomes}
    merged = SuiteOutcome(
        Suite(name, "", tuple(i for o in outcomes for i in o.suite.instances)),
        list(dict.fromkeys(s for o in outcomes for s in o.solvers)),
        {k: v for o in outcomes for k, v in o.exact.items()},
        merged_versions(outcomes),
        [r for o in outcomes for r in o.runs],
        outcomes[0].time_limit if outcomes else DEFAULT_TIME_LIMIT,
        outcomes[0].threads if outcomes else 1,
    )
    data = summarise(merged)
    data["suites"] = per
    return data


@dataclass
class BenchOutcome:
    """The result of `run_bench`: one `SuiteOutcome` per suite, the JSON summary and the
    files written."""

    name: str
    suites: list[SuiteOutcome]
    summary: dict[str, Any]
    files: list[Path]
    notes: list[str]


# -- consistency checks --------------------------------------------------------------------------
def consistency_issues(out: SuiteOutcome) -> list[str]:
    """Disagreements that would mean a wrong certificate or a wrong bound: two certified optima
    of one instance further apart than their tolerances, a run (any solver) strictly better
    than a certified optimum beyond its tolerance, or an objective below a proven lower bound
    of another run. Empty when everything agrees."""
    issues = []
    by_inst: dict[str, list[Run]] = defaultdict(list)
    for r in out.runs:
        by_inst[r.instance.name].append(r)
    for name, runs in by_inst.items():
        for b in runs:
            bound = b.record.get("bound") if b.record else None
            if not isinstance(bound, int | float):
                continue
            tol = float(b.record.get("tolerance") or 0.0) + 4 * math.ulp(max(abs(bound),
                                                                             1e-300))
            for r in runs:
                if r.objective is not None and r.objective < bound - tol:
                    issues.append(f"{name}: {r.solver}'s objective {r.objective!r} is below "
                                  f"the lower bound {bound!r} proven by {b.solver}")
        cert = [r for r in runs if out.exact.get(r.solver) and r.certified
                and r.objective is not None]
        if not cert:
            continue
        for c in cert:
            tol = float(c.record.get("tolerance") or 0.0) if c.record else 0.0
            slack = tol + 4 * math.ulp(max(abs(c.objective or 0.0), 1e-300))
            for r in runs:
                if r.objective is not None and r.objective < (c.objective or 0.0) - slack:
                    what = "certified optimum" if r.certified else "objective"
                    issues.append(
                        f"{name}: {r.solver}'s {what} {r.objective!r} is below the optimum "
                        f"{c.objective!r} certified by {c.solver} (tolerance {tol:.3g})")
    return issues
