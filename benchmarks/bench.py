"""`exactprune bench SUITE`: exact solvers against pruning heuristics on fixed suites.

::

    exactprune bench SUITE [--solvers a,b,c] [--time-limit S] [--threads T] [--out DIR]
                           [--store F] [--jobs N] [--json] [--write-instances DIR]
                           [--no-give-up] [--timeout S] [--no-progress]

SUITE is ``subset-sum``, ``neuron-pruning``, ``weight-pruning``, ``all`` (the three) or
``smoke`` (a few seconds); their instances are listed in `exactprune.benchmarks.suites`.
``--write-instances DIR`` only writes the suite's instances as JSON files (no solver runs).

What runs. For every instance and every solver: one `solve()` with the time limit (default
60 s), ``threads`` (default 1) and solver seed 0. Default solvers: every available backend
(`list_backends(only_available=True)`) that solves the suite's instance kinds, plus the
commercial MILP solvers PuLP finds (see below). Pairs that are not run, and say so:

* a backend that refuses the instance by its declared limits (``bruteforce``: subset-sum
  n > 22, pruning masks of more than 20 entries);
* give-up rule (``--no-give-up`` turns it off): the sizes of a family (see `suites`) are run
  in increasing order, and an *exact* solver that certified none of the instances of one size,
  at least one of them stopped by the time limit, is not run on the larger sizes of that
  family (it would only burn the time limit on each). A solver that fails to certify quickly
  (e.g. tolerances too coarse) is not given up: its failure says nothing about larger sizes.
  Without the rule, the `all` suite takes hours at ``--time-limit 60``.

Every run is one task of `exactprune.benchmarks.sweep.run_sweep`, stored in the SQLite
results store (default ``OUT/results.sqlite``) under a key made of the instance's generator
parameters, the solver, the solver's version, the time limit, threads and seed: running the
same command again reads every finished run back and runs only the missing ones (and, as in
every sweep, the runs stored with status ``error``: a crash may have been transient). Runs go to
``--jobs`` worker processes (default 1; one at a time keeps timings comparable), each killed
after ``--timeout`` seconds (default 2 × time limit + 30 s, status ``killed``).

What is measured, per run: status, objective (recomputed from the mask by the instance),
certified, bound, wall time of `solve()`; *time to best* = the wall time (incumbents are not
traced over time, so for a solver stopped by the time limit this is the time limit) and *time
to proven optimum* = the wall time when certified, else none. The certified optimum of an
instance is the best certified objective among the exact solvers that ran on it; when no
exact solver certified it, the heuristics' ratios are undefined on that instance (the report
lists such instances).

Outputs, in ``--out`` (default ``out/bench-SUITE``): ``report.md`` (tables, skipped pairs,
consistency checks, solver versions, per-instance results), ``summary.json`` (the object that
``--json`` prints), and per suite ``profile-time-SUITE`` and ``profile-quality-SUITE`` (PNG and
SVG, Dolan–Moré, `exactprune.benchmarks.profiles`):

* quality profile: cost = objective, failure = no mask (error, skipped); ratios are
  objective / best objective of any solver on the instance (exact-zero ties ratio 1);
* time profile: cost = time to best, counted only when the run is certified or its objective
  reached the best objective of any solver on the instance (relative tolerance 1e-9), else a
  failure; times below 1 ms are raised to 1 ms (timer resolution).

The table per suite gives, per solver: instances (that the solver applies to), runs, skipped,
solved to proven optimum, statuses, median wall time of its runs (skipped runs excluded), and
for heuristics the ratio objective / certified optimum (median and worst over the instances
with a certified optimum; a heuristic run without a mask has ratio inf). ``--json`` prints::

    {"suite": ..., "solvers": {NAME: {"solved_optimal": k, "instances": m,
     "median_time_s": t, "median_ratio": r, "worst_ratio": w, ...}}, "suites": {...}}

with ratios null for exact solvers and when undefined; JSON has no infinity, so an infinite
worst ratio is null too and ``ratio_failures`` counts the instances with an infinite ratio.
For ``all``, "solvers" aggregates the three suites and "suites" holds one such object each.

Commercial solvers. PuLP's ``listSolvers(onlyAvailable=True)`` is asked for GUROBI, CPLEX,
XPRESS, COPT and MOSEK; each one found (one interface per vendor, the Python API preferred)
is registered as backend ``pulp_<name>`` (e.g. ``pulp_gurobi_cmd``) and joins the defaults.
It solves the same MILP as ``exactprune export`` (subset-sum model; pruning column-selection
model on all points) with gaps 0, and is **never certified**: its tolerances are not wired
into exactprune's exclusion certificate, so a mask it calls optimal is reported ``feasible``
(``time_limit`` when stopped), its objective recomputed from the mask, and the solver's own
objective and best bound (when PuLP exposes it) kept only as notes. Without such a solver the
suites run as usual.
"""

from __future__ import annotations

import argparse
import functools
import math
import platform
import statistics
import sys
import time
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from exactprune.benchmarks.suites import BenchInstance, Suite, expand_suite, suite_names
from exactprune.instances.errors import InputError
from exactprune.instances.params import positive_float as _positive_float

__all__ = [
    "BenchOutcome",
    "QUALITY_RTOL",
    "Run",
    "SuiteOutcome",
    "bench_task",
    "consistency_issues",
    "main",
    "register_cli",
    "run_bench",
    "summarise",
]

TASK_FN = "exactprune.benchmarks.bench:bench_task"
QUALITY_RTOL = 1e-9
"""A run *reached* the best objective when objective <= best · (1 + QUALITY_RTOL)."""
TIME_FLOOR_S = 1e-3
"""Times below this are raised to it in the time profile (timer resolution)."""
DEFAULT_TIME_LIMIT = 60.0
REFUSED = "refused"
"""Status of a run whose solver refused the instance (InputError from solve())."""
SKIPPED = "skipped"
_FINISHED_OK = ("optimal", "feasible", "infeasible", "time_limit")


# -- the task run in a worker ----------------------------------------------------------------
def bench_task(spec: dict) -> dict:
    """Solve one (instance, solver) pair of a suite: the sweep's task function.

    spec: ``{"instance": {"kind", "params"}, "solver", "options": {"time_limit", "threads",
    "seed"}, ...}``. Returns the record stored in the results store (status, certified,
    objective, bound, gap, tolerance, kept, wall_time_s, time_to_best_s, time_to_optimum_s,
    solver_version, exact, notes, mask). A solver that refuses the instance (InputError) gives
    status ``refused``; a solver failure is status ``error`` (from solve()).
    """
    from exactprune.benchmarks.suites import generate
    from exactprune.solvers import get_backend, solve

    name = str(spec["solver"])
    inst = generate(spec["instance"]["kind"], spec["instance"]["params"])
    opts = spec.get("options", {})
    try:
        backend = get_backend(name, inst.kind)
        res = solve(inst, name, time_limit=opts.get("time_limit"), threads=opts.get("threads"),
                    seed=int(opts.get("seed", 0)))
    except InputError as exc:
        return {"status": REFUSED, "error": str(exc), "wall_time_s": 0.0, "certified": False,
                "objective": None, "exact": None}
    certified = bool(res.certified and str(res.status) == "optimal")
    return {
        "status": str(res.status),
        "certified": certified,
        "objective": res.objective,
        "bound": res.bound,
        "gap": res.gap,
        "tolerance": res.tolerance,
        "kept": res.kept,
        "wall_time_s": res.wall_time_s,
        "time_to_best_s": res.wall_time_s if res.objective is not None else None,
        "time_to_optimum_s": res.wall_time_s if certified else None,
        "solver_version": res.solver_version,
        "exact": bool(backend.exact),
        "notes": list(res.notes)[:20],
        "mask": None if res.mask is None else inst.mask_to_json(res.mask),
    }


# -- which pairs run ---------------------------------------------------------------------------
def _backend(name: str, kind: str) -> Any:
    """The backend `name` of `kind`, or None when that solver does not solve the kind."""
    from exactprune.solvers import get_backend

    try:
        return get_backend(name, kind)
    except InputError:
        return None


def _too_large(solver: str, inst: BenchInstance) -> str | None:
    """Why `solver` refuses `inst` by its declared limits (e.g. bruteforce's size), or None."""
    from exactprune.solvers import Goal

    backend = _backend(solver, inst.kind)
    if backend is None or backend.refuse is None:
        return None
    why = backend.refuse(inst.generate(), Goal())
    return None if why is None else f"refused: {why}"


def _default_solvers(kinds: set[str]) -> list[str]:
    from exactprune.solvers import list_backends

    out: list[str] = []
    for kind in sorted(kinds):
        for b in list_backends(kind, only_available=True, commercial=True):
            if b.name not in out:
                out.append(b.name)
    return out


def _check_solvers(names: Sequence[str], kinds: set[str]) -> list[str]:
    """The solver names, each solving at least one of `kinds` and available here."""
    from exactprune.solvers import backend_names

    out: list[str] = []
    for name in names:
        found = [b for k in sorted(kinds) if (b := _backend(name, k)) is not None]
        if not found:
            known = sorted({n for k in kinds for n in backend_names(k)})
            raise InputError(f"solver {name!r} solves none of the suite's instance kinds "
                             f"({', '.join(sorted(kinds))}); known: {', '.join(known)}")
        try:
            ok = any(bool(b.available()) for b in found)
        except Exception:
            ok = False
        if not ok:
            raise InputError(f"solver {name!r} is not available on this machine")
        if name not in out:
            out.append(name)
    return out


def _version(name: str, kinds: set[str]) -> str | None:
    for kind in sorted(kinds):
        b = _backend(name, kind)
        if b is not None:
            try:
                return b.version()
            except Exception:
                return None
    return None


@functools.cache
def _exactprune_version() -> str:
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
        """instance name -> best certified objective among the exact solvers' runs."""
        best: dict[str, float] = {}
        for r in self.runs:
            if self.exact.get(r.solver) and r.certified and r.objective is not None:
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


def _ratio(obj: float | None, opt: float) -> float:
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
        done = [r for r in runs if r.record is not None]
        times = [r.wall_time for r in done if r.wall_time is not None]
        entry: dict[str, Any] = {
            "solved_optimal": sum(r.certified for r in runs),
            "instances": len(runs),
            "median_time_s": statistics.median(times) if times else None,
            "median_ratio": None,
            "worst_ratio": None,
            "exact": out.exact[s],
            "version": out.versions.get(s),
            "runs": len(done),
            "skipped": len(runs) - len(done),
            "statuses": dict(sorted(Counter(r.status for r in runs).items())),
        }
        if not out.exact[s]:
            ratios = [_ratio(r.objective, opt[r.instance.name]) for r in runs
                      if r.instance.name in opt]
            entry["ratio_instances"] = len(ratios)
            entry["ratio_undefined"] = len(runs) - len(ratios)
            entry["ratio_failures"] = sum(1 for x in ratios if math.isinf(x))
            if ratios:
                entry["median_ratio"] = statistics.median(ratios)
                entry["worst_ratio"] = max(ratios)
        solvers[s] = entry
    return {"suite": out.suite.name, "solvers": solvers,
            "instances": len(out.suite.instances),
            "certified_instances": len(opt),
            "time_limit_s": out.time_limit, "threads": out.threads}


def _aggregate(outcomes: list[SuiteOutcome], name: str) -> dict[str, Any]:
    """One JSON object for a composite suite: solver numbers over all its suites."""
    per = {o.suite.name: summarise(o) for o in outcomes}
    merged = SuiteOutcome(
        Suite(name, "", tuple(i for o in outcomes for i in o.suite.instances)),
        list(dict.fromkeys(s for o in outcomes for s in o.solvers)),
        {k: v for o in outcomes for k, v in o.exact.items()},
        {k: v for o in outcomes for k, v in o.versions.items()},
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


# -- running -----------------------------------------------------------------------------------
def _tiers(suite: Suite) -> list[tuple[str, int, list[BenchInstance]]]:
    """(family, size, instances) in the order they run: families in suite order, sizes
    increasing."""
    groups: dict[tuple[str, int], list[BenchInstance]] = {}
    for inst in suite.instances:
        groups.setdefault((inst.family, inst.size), []).append(inst)
    families = list(dict.fromkeys(i.family for i in suite.instances))
    return [(f, n, groups[(f, n)]) for f in families
            for n in sorted(n2 for f2, n2 in groups if f2 == f)]


def _run_suite(suite: Suite, solvers: list[str] | None, time_limit: float, threads: int,
               store: Any, jobs: int, give_up: bool, timeout: float | None,
               progress: bool) -> SuiteOutcome | None:
    from exactprune.benchmarks.sweep import Task, run_sweep

    kinds = {i.kind for i in suite.instances}
    chosen = _default_solvers(kinds) if solvers is None else \
        [s for s in solvers if any(_backend(s, k) is not None for k in kinds)]
    if not chosen:
        return None
    backends = {s: {k: b for k in kinds if (b := _backend(s, k)) is not None} for s in chosen}
    exact = {s: any(b.exact for b in bs.values()) for s, bs in backends.items()}
    versions = {s: _version(s, kinds) for s in chosen}
    options = {"time_limit": float(time_limit), "threads": int(threads), "seed": 0}
    runs: list[Run] = []
    not_applicable: Counter[str] = Counter()
    given_up: dict[tuple[str, str], str] = {}
    for family, size, instances in _tiers(suite):
        tasks: list[Task] = []
        pending: list[Run] = []
        for inst in instances:
            for s in chosen:
                if inst.kind not in backends[s]:
                    not_applicable[s] += 1
                    continue
                why = _too_large(s, inst) or given_up.get((family, s))
                if why is not None:
                    runs.append(Run(inst, s, None, why))
                    continue
                spec = {"experiment": f"bench-{suite.name}", "suite": suite.name,
                        "name": inst.name, "instance": inst.spec(), "solver": s,
                        "solver_version": versions[s], "exactprune": _exactprune_version(),
                        "options": options}
                tasks.append(Task(TASK_FN, spec))
                pending.append(Run(inst, s, None))
        if tasks:
            records = run_sweep(tasks, store, jobs=jobs, progress=progress,
                                desc=f"bench {family} n={size}", timeout=timeout)
            for run, rec in zip(pending, records, strict=True):
                run.record = rec
            runs.extend(pending)
        if give_up:
            for s in chosen:
                if not exact[s] or (family, s) in given_up:
                    continue
                mine = [r for r in pending if r.solver == s]
                timed_out = sum(r.status in ("time_limit", "killed") for r in mine)
                if mine and timed_out and not any(r.certified for r in mine):
                    given_up[(family, s)] = (f"gave up: certified none of the {len(mine)} "
                                             f"instances of size {size} of this family, "
                                             f"{timed_out} hit the time limit of "
                                             f"{time_limit:g} s")
    order = {inst.name: k for k, inst in enumerate(suite.instances)}
    runs.sort(key=lambda r: (order[r.instance.name], chosen.index(r.solver)))
    return SuiteOutcome(suite, chosen, exact, versions, runs, float(time_limit), int(threads),
                        dict(not_applicable))


def run_bench(suite: str, solvers: Sequence[str] | None = None, *,
              time_limit: float = DEFAULT_TIME_LIMIT, threads: int = 1,
              out: str | Path | None = None, store: str | Path | None = None, jobs: int = 1,
              give_up: bool = True, timeout: float | None = None, progress: bool = True,
              plots: bool = True, command: str | None = None) -> BenchOutcome:
    """Run suite `suite` (see the module docstring) and write its report; returns the outcome.

    solvers: names (None: the defaults); time_limit: seconds per run; threads: solver
    threads; out: output folder (default ``out/bench-SUITE``, created); store: SQLite results
    store (default ``OUT/results.sqlite``); jobs: worker processes (0: in this process);
    give_up: the give-up rule; timeout: hard kill per run (default 2 × time_limit + 30 s);
    plots: write the profile figures; command: the command line quoted in the report.
    Bad arguments raise InputError before anything runs.
    """
    from exactprune.benchmarks.store import ResultStore

    suites = expand_suite(suite)
    if isinstance(time_limit, bool) or not isinstance(time_limit, int | float) or \
            not math.isfinite(time_limit) or time_limit <= 0:
        raise InputError(f"time limit must be a positive number of seconds, got {time_limit!r}")
    if isinstance(threads, bool) or not isinstance(threads, int) or threads < 1:
        raise InputError(f"threads must be a positive integer, got {threads!r}")
    kinds = {i.kind for s in suites for i in s.instances}
    chosen = None if solvers is None else _check_solvers(list(solvers), kinds)
    from exactprune.instances.io import check_output_dir, output_dir

    out_dir = check_output_dir(out if out is not None else Path("out") / f"bench-{suite}")
    store_path = Path(store) if store is not None else out_dir / "results.sqlite"
    if timeout is None:
        timeout = 2.0 * float(time_limit) + 30.0
    notes: list[str] = []
    outcomes: list[SuiteOutcome] = []
    with output_dir(out_dir), ResultStore(store_path) as db:
        for s in suites:
            res = _run_suite(s, chosen, float(time_limit), threads, db, jobs, give_up,
                             timeout if jobs > 0 else None, progress)
            if res is None:
                notes.append(f"suite {s.name}: none of the chosen solvers applies; not run")
            else:
                outcomes.append(res)
    summary = _aggregate(outcomes, suite) if len(suites) > 1 else \
        (summarise(outcomes[0]) if outcomes else {"suite": suite, "solvers": {}})
    summary["suite"] = suite
    files: list[Path] = []
    if plots:
        for o in outcomes:
            files.extend(write_profiles(o, out_dir))
    from exactprune.instances.io import write_json_atomic, write_text_atomic

    report = render_report(suite, outcomes, summary, out_dir, files, notes, store_path,
                           command)
    write_text_atomic(out_dir / "report.md", report)
    write_json_atomic(out_dir / "summary.json", summary)
    files = [out_dir / "report.md", out_dir / "summary.json", *files]
    return BenchOutcome(suite, outcomes, summary, files, notes)


# -- profiles ----------------------------------------------------------------------------------
def profile_costs(out: SuiteOutcome) -> tuple[list[list[float]], list[list[float]]]:
    """(time costs, quality costs), each (instances, solvers) in suite and solver order, with
    math.inf for failures (see the module docstring). Pairs where a solver does not apply to
    the instance's kind are failures too (they do not occur in single-kind suites)."""
    best = out.best_known()
    by_pair = {(r.instance.name, r.solver): r for r in out.runs}
    times: list[list[float]] = []
    quality: list[list[float]] = []
    for inst in out.suite.instances:
        t_row, q_row = [], []
        for s in out.solvers:
            r = by_pair.get((inst.name, s))
            obj = None if r is None else r.objective
            q_row.append(math.inf if obj is None else obj)
            b = best.get(inst.name)
            reached = obj is not None and b is not None and (
                obj <= b * (1 + QUALITY_RTOL) or (r is not None and r.certified))
            t = None if r is None else r.wall_time
            t_row.append(t if reached and t is not None else math.inf)
        times.append(t_row)
        quality.append(q_row)
    return times, quality


def write_profiles(out: SuiteOutcome, folder: Path) -> list[Path]:
    """Time and quality profiles of one suite as PNG and SVG in `folder`."""
    from exactprune.benchmarks.profiles import performance_profile, plot_profiles

    times, quality = profile_costs(out)
    styles = {s: ("-" if out.exact[s] else "--") for s in out.solvers}
    tp = performance_profile(times, out.solvers, floor=TIME_FLOOR_S)
    qp = performance_profile(quality, out.solvers)
    name = out.suite.name.replace("/", "_")
    files = plot_profiles(tp, folder / f"profile-time-{name}",
                          f"{out.suite.name}: time to the best objective (limit "
                          f"{out.time_limit:g} s)", styles=styles)
    files += plot_profiles(qp, folder / f"profile-quality-{name}",
                           f"{out.suite.name}: objective / best objective", styles=styles)
    return files


# -- report ------------------------------------------------------------------------------------
def _num(x: float | None, digits: int = 3) -> str:
    if x is None:
        return "-"
    if math.isinf(x):
        return "inf"
    return f"{x:.{digits}g}"


_ABBR = {"optimal": "opt", "feasible": "feas", "time_limit": "tl", "infeasible": "inf",
         "error": "err", "killed": "killed", REFUSED: "refused", SKIPPED: "skip"}


def suite_table(out: SuiteOutcome, summary: dict[str, Any]) -> str:
    """The Markdown table of one suite (one row per solver)."""
    lines = ["| solver | exact | instances | runs | skipped | proven optimal | statuses | "
             "median time (s) | ratio median | ratio worst |",
             "|---|---|---|---|---|---|---|---|---|---|"]
    for s in out.solvers:
        e = summary["solvers"][s]
        statuses = ", ".join(f"{_ABBR.get(k, k)} {v}" for k, v in e["statuses"].items())
        if e["exact"]:
            rmed = rworst = "n/a"
        elif e.get("ratio_instances"):
            rmed, rworst = _num(e["median_ratio"], 4), _num(e["worst_ratio"], 4)
        else:
            rmed = rworst = "undefined"
        lines.append(f"| {s} | {'yes' if e['exact'] else 'no'} | {e['instances']} | "
                     f"{e['runs']} | {e['skipped']} | {e['solved_optimal']} | {statuses} | "
                     f"{_num(e['median_time_s'])} | {rmed} | {rworst} |")
    return "\n".join(lines)


def _instance_matrix(out: SuiteOutcome) -> str:
    opt = out.certified_optimum()
    by_pair = {(r.instance.name, r.solver): r for r in out.runs}
    head = "| instance | certified optimum | " + " | ".join(out.solvers) + " |"
    lines = [head, "|" + "---|" * (len(out.solvers) + 2)]
    for inst in out.suite.instances:
        cells = []
        for s in out.solvers:
            r = by_pair.get((inst.name, s))
            if r is None:
                cells.append("n/a")
                continue
            if r.record is None:
                cells.append("skip")
                continue
            cell = f"{_ABBR.get(r.status, r.status)} {_num(r.wall_time)}s"
            if not out.exact[s] and inst.name in opt:
                cell += f" ×{_num(_ratio(r.objective, opt[inst.name]), 4)}"
            elif r.objective is not None and not r.certified:
                cell += f" ({_num(r.objective, 3)})"
            cells.append(cell)
        lines.append(f"| {inst.name} | {_num(opt.get(inst.name), 6)} | " + " | ".join(cells)
                     + " |")
    return "\n".join(lines)


def _skipped_lines(out: SuiteOutcome) -> list[str]:
    groups: dict[tuple[str, str], list[str]] = defaultdict(list)
    for r in out.runs:
        if r.skipped is not None:
            groups[(r.solver, r.skipped)].append(r.instance.name)
    lines = []
    for (s, why), names in sorted(groups.items()):
        lines.append(f"- {s} on {len(names)} instance(s) ({why}): {', '.join(names)}")
    for s, k in out.not_applicable.items():
        lines.append(f"- {s}: not applicable to {k} instance(s) of another kind")
    return lines


def _failure_lines(out: SuiteOutcome) -> list[str]:
    """One line per run that errored, was killed or refused, with its message."""
    lines = []
    for r in out.runs:
        if r.record is None or r.status not in ("error", "killed", REFUSED):
            continue
        msg = r.record.get("error") or "; ".join(str(n) for n in r.record.get("notes") or [])
        lines.append(f"- {r.solver} on {r.instance.name}: {r.status}: {str(msg)[:300]}")
    return lines


def render_report(name: str, outcomes: list[SuiteOutcome], summary: dict[str, Any],
                  out_dir: Path, figures: Iterable[Path], notes: list[str], store: Path,
                  command: str | None) -> str:
    """The Markdown report (see the module docstring)."""
    import numpy

    figs = {p.name for p in figures}
    tl = outcomes[0].time_limit if outcomes else DEFAULT_TIME_LIMIT
    threads = outcomes[0].threads if outcomes else 1
    lines = [f"# Benchmark `{name}`: exact solvers against pruning heuristics", ""]
    lines += [f"Command: `{command or f'exactprune bench {name} --time-limit {tl:g}'}`", "",
              f"Machine: {platform.machine()}, {platform.system()}, "
              f"{_cpu_count()} logical cores; Python {platform.python_version()}, numpy "
              f"{numpy.__version__}, exactprune {_exactprune_version()}; "
              f"{time.strftime('%Y-%m-%d')}. Time limit {tl:g} s per run, {threads} solver "
              f"thread(s), solver seed 0. Results store: `{store}` (a re-run resumes).", "",
              "Time = wall time of `solve()` (instance generation and process start-up "
              "excluded). Time to best = that wall time (incumbents are not traced over "
              "time); time to proven optimum = that wall time when certified. *proven optimal* "
              "counts certified runs only. *ratio* = heuristic objective / certified optimum "
              "of the instance (best certified objective among the exact solvers), over the "
              "instances that have one; a run without a mask has ratio inf; 0/0 = 1. Median "
              "time is over the runs made (skipped pairs excluded). Every run (status, "
              "objective, bound, time to best, time to proven optimum, notes, mask) is in the "
              f"store: `exactprune results export --store {store} --format csv`.", ""]
    lines += ["Statuses: opt = certified optimal, feas = feasible (not certified), tl = time "
              "limit (best mask kept), err = error, killed = exceeded the hard timeout, "
              "refused = the solver rejected the instance, skip = not run (see below).", ""]
    for note in notes:
        lines.append(f"Note: {note}")
    for o in outcomes:
        summ = summary if len(outcomes) == 1 and "suites" not in summary else \
            summary["suites"][o.suite.name]
        opt = o.certified_optimum()
        missing = [i.name for i in o.suite.instances if i.name not in opt]
        sname = o.suite.name.replace("/", "_")
        lines += ["", f"## Suite `{o.suite.name}`", "", f"{o.suite.description}. "
                  f"{len(o.suite.instances)} instances; certified optimum known on "
                  f"{len(opt)} of them.", ""]
        if missing:
            lines += [f"No exact solver certified {len(missing)} instance(s): the heuristics' "
                      f"ratios are undefined there: {', '.join(missing)}.", ""]
        lines += [suite_table(o, summ), ""]
        skipped = _skipped_lines(o)
        if skipped:
            lines += ["Pairs not run:", "", *skipped, ""]
        failures = _failure_lines(o)
        if failures:
            lines += ["Failed runs:", "", *failures, ""]
        issues = consistency_issues(o)
        lines += ["Consistency check (no objective below a certified optimum or a proven "
                  "lower bound of another run, beyond its tolerance): "
                  + ("passed." if not issues else "**FAILED**:"), ""]
        lines += [f"- {x}" for x in issues]
        if issues:
            lines.append("")
        for kind, title in (("time", "time to the best objective"),
                            ("quality", "objective / best objective")):
            stem = f"profile-{kind}-{sname}"
            if f"{stem}.png" in figs:
                lines += [f"![{title}]({stem}.png)", ""]
        lines += ["Performance profiles (Dolan–Moré): rho_s(tau) = fraction of instances on "
                  "which solver s is within a factor tau of the best solver. Time: time to "
                  "best, a failure unless the run was certified or reached the best objective "
                  f"found by any solver (relative {QUALITY_RTOL:g}); times below "
                  f"{TIME_FLOOR_S:g} s count as that. Quality: objective / best objective "
                  "(exact-zero ties = 1). Skipped pairs and runs without a mask are "
                  "failures. Exact solvers solid, heuristics dashed.", ""]
        lines += ["### Per instance", "", "Cell: status, wall time, and for heuristics × the "
                  "ratio to the certified optimum (else the objective in parentheses when not "
                  "certified).", "", _instance_matrix(o), ""]
    versions: dict[str, str | None] = {}
    for o in outcomes:
        versions.update(o.versions)
    lines += ["## Solver versions", "", "| solver | version |", "|---|---|"]
    for s, v in versions.items():
        lines.append(f"| {s} | {v or 'exactprune ' + _exactprune_version()} |")
    lines += ["", "Commercial MILP solvers: " + _commercial_note(), ""]
    return "\n".join(lines)


def _cpu_count() -> int:
    import os

    return os.cpu_count() or 1


def _commercial_note() -> str:
    from exactprune.solvers.pulp_engines import PULP_PREFIX, commercial_pulp_solvers

    found = commercial_pulp_solvers()
    if not found:
        return ("none found by PuLP (GUROBI, CPLEX, XPRESS, COPT, MOSEK); when one is "
                "installed it joins as `pulp_<name>`, never certified.")
    return (f"{', '.join(found)} found by PuLP, run as "
            f"{', '.join(PULP_PREFIX + n.lower() for n in found)}: never certified (their "
            "tolerances are not part of exactprune's certificate), see "
            "`solvers/pulp_engines.py`.")


# -- command line ------------------------------------------------------------------------------
def _int_at_least(low: int) -> Any:
    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"not an integer: {text!r}") from None
        if value < low:
            raise argparse.ArgumentTypeError(f"must be >= {low}, got {value}")
        return value

    return parse


def print_tables(outcome: BenchOutcome, stream: Any = None) -> None:
    """The per-suite tables and the paths written, as plain text (Markdown tables)."""
    stream = stream or sys.stdout
    for o in outcome.suites:
        summ = outcome.summary if "suites" not in outcome.summary else \
            outcome.summary["suites"][o.suite.name]
        opt = o.certified_optimum()
        print(f"suite {o.suite.name}: {len(o.suite.instances)} instances, certified optimum "
              f"on {len(opt)}", file=stream)
        print(suite_table(o, summ), file=stream)
        for line in _skipped_lines(o):
            print(f"not run: {line[2:]}", file=stream)
        for line in _failure_lines(o):
            print(f"failed: {line[2:]}", file=stream)
        for issue in consistency_issues(o):
            print(f"CONSISTENCY: {issue}", file=stream)
        print(file=stream)
    for note in outcome.notes:
        print(f"note: {note}", file=stream)
    print(f"report: {outcome.files[0]}", file=stream)


def _cmd_bench(args: argparse.Namespace) -> int:
    from exactprune.instances.io import dumps

    if args.write_instances is not None:
        paths = write_instances_cmd(args.suite, args.write_instances)
        if args.json:
            print(dumps({"suite": args.suite, "written": [str(p) for p in paths]}))
        else:
            print(f"wrote {len(paths)} instances to {args.write_instances}")
        return 0
    solvers = None
    if args.solvers is not None:
        solvers = [s.strip() for s in args.solvers.split(",") if s.strip()]
        if not solvers:
            raise InputError("--solvers needs at least one solver name")
    command = _command_line(args, solvers)
    outcome = run_bench(args.suite, solvers, time_limit=args.time_limit, threads=args.threads,
                        out=args.out, store=args.store, jobs=args.jobs,
                        give_up=args.give_up, timeout=args.timeout, progress=args.progress,
                        command=command)
    if args.json:
        print(dumps(outcome.summary))
    else:
        print_tables(outcome)
    return 0


def _command_line(args: argparse.Namespace, solvers: list[str] | None) -> str:
    """The command, rebuilt from the parsed arguments (quoted in the report)."""
    parts = ["exactprune bench", args.suite]
    if solvers is not None:
        parts.append(f"--solvers {','.join(solvers)}")
    parts.append(f"--time-limit {args.time_limit:g}")
    if args.threads != 1:
        parts.append(f"--threads {args.threads}")
    if args.jobs != 1:
        parts.append(f"--jobs {args.jobs}")
    if not args.give_up:
        parts.append("--no-give-up")
    return " ".join(parts)


def write_instances_cmd(suite: str, folder: str) -> list[Path]:
    """``--write-instances``: the suite's instances as JSON files in `folder`."""
    from exactprune.benchmarks.suites import write_instances

    return write_instances(suite, folder)


def register_cli(subparsers: Any) -> None:
    """Add ``bench`` to the CLI's subparsers (the object ``add_subparsers`` returns); the
    handler is set as ``func`` and returns the exit code. Bad input raises InputError."""
    p = subparsers.add_parser(
        "bench", help="benchmark exact solvers against heuristics on a fixed suite",
        description="Run a fixed suite of seeded instances with every solver; tables, "
                    "performance profiles and a Markdown report in --out.")
    p.add_argument("suite", metavar="SUITE", help=f"one of: {', '.join(suite_names())}")
    p.add_argument("--solvers", default=None, help="comma-separated backend names "
                   "(default: every available backend for the suite's kinds)")
    p.add_argument("--time-limit", type=_positive_float, default=DEFAULT_TIME_LIMIT,
                   help=f"seconds per run (default {DEFAULT_TIME_LIMIT:g})")
    p.add_argument("--threads", type=_int_at_least(1), default=1,
                   help="solver threads (default 1)")
    p.add_argument("--out", default=None, help="output folder (default out/bench-SUITE)")
    p.add_argument("--store", default=None, metavar="FILE.sqlite",
                   help="results store (default OUT/results.sqlite); a re-run resumes")
    p.add_argument("--jobs", type=_int_at_least(0), default=1,
                   help="cores to fill (worker processes, default 1; 0: in this "
                   "process); a run with --threads N fills N of them")
    p.add_argument("--timeout", type=_positive_float, default=None,
                   help="kill a run after this many seconds (default 2 x time limit + 30)")
    p.add_argument("--no-give-up", dest="give_up", action="store_false",
                   help="run exact solvers on every size, even after they certified nothing "
                        "at a smaller size")
    p.add_argument("--json", action="store_true", help="print one JSON summary on stdout")
    p.add_argument("--write-instances", default=None, metavar="DIR",
                   help="only write the suite's instances as JSON files into DIR")
    p.add_argument("--no-progress", dest="progress", action="store_false",
                   help="no progress bar or summary lines on stderr")
    p.set_defaults(func=_cmd_bench)


class _Parser(argparse.ArgumentParser):
    """argparse with one-line usage errors (InputError, exit 2), as in the CLI."""

    def error(self, message: str) -> Any:
        raise InputError(f"{self.prog}: {message}")


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m exactprune.benchmarks.bench SUITE ...``: the ``bench`` command on its own,
    with the CLI's conventions (InputError: one line on stderr, exit 2)."""
    parser = _Parser(prog="exactprune")
    sub = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)
    register_cli(sub)
    argv = list(sys.argv[1:] if argv is None else argv)
    if not argv or argv[0] != "bench":
        argv = ["bench", *argv]
    try:
        args = parser.parse_args(argv)
        return int(args.func(args))
    except InputError as exc:
        print(f"exactprune: error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    raise SystemExit(main())
