"""`exactprune bench SUITE`: exact solvers against pruning heuristics on fixed suites.

::

    exactprune bench SUITE [--solvers a,b,c] [--time-limit S] [--threads T] [--out DIR]
                           [--store F] [--jobs N] [--json] [--write-instances DIR]
                           [--no-give-up] [--timeout S] [--retry-killed] [--no-progress]

SUITE is ``subset-sum``, ``neuron-pruning``, ``weight-pruning``, ``trained`` (neuron selection
on trained nets), ``all`` (those four) or ``smoke`` (a few seconds); their instances are
listed in `exactprune.benchmarks.suites`.
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
after ``--timeout`` seconds (default 2 × time limit + 30 s, status ``killed``; it must exceed
the time limit, and needs worker processes). Killed runs are read back like finished ones, so
that a resumed bench does not repeat them; ``--retry-killed`` runs them again (after raising
``--timeout``). The report quotes the timeout, and ``summary.json`` holds it (``timeout_s``).

What is measured, per run: status, objective (recomputed from the mask by the instance),
certified, bound, wall time of `solve()`; *time to best* = the wall time (incumbents are not
traced over time, so for a solver stopped by the time limit this is the time limit) and *time
to proven optimum* = the wall time when certified, else none. The certified optimum of an
instance is the best certified objective of the runs on it (an exact solver's, or a
heuristic's mask certified at subset-sum's error floor); when no run certified it, the
heuristics' ratios are undefined on that instance (the report lists such instances).

Outputs, in ``--out`` (default ``out/bench-SUITE``): ``report.md`` (tables, skipped pairs,
consistency checks, solver versions, per-instance results), ``summary.json`` (the object that
``--json`` prints), and per suite ``profile-time-SUITE`` and ``profile-quality-SUITE`` (PNG and
SVG, Dolan–Moré, `exactprune.benchmarks.profiles`):

* quality profile: cost = objective, failure = no mask (error, skipped); ratios are
  objective / best objective of any solver on the instance (exact-zero ties ratio 1);
* time profile: cost = time to best, counted only when the run is certified or its objective
  reached the best objective of any solver on the instance (relative tolerance 1e-9), else a
  failure; times below 1 ms are raised to 1 ms (timer resolution).

The table per suite gives, per solver: instances (that the solver applies to), runs made,
skipped (pairs not run, or refused by the solver), solved to proven optimum, statuses, median
wall time of the runs made (those that ended in an error or were killed left out), and for
heuristics the ratio objective / certified optimum (median and worst over the runs made on
instances with a certified optimum; a heuristic run without a mask has ratio inf).
``--threads N`` is an allowance: backends that take no threads (mitm, bruteforce, the
heuristics) run with one. ``--json`` prints::

    {"suite": ..., "solvers": {NAME: {"solved_optimal": k, "instances": m,
     "median_time_s": t, "median_ratio": r, "worst_ratio": w, ...}}, "suites": {...}}

with ratios null for exact solvers and when undefined; an infinite ratio is the string
``"inf"`` (JSON has no infinity; null would read as undefined), and ``ratio_failures`` counts
the instances with an infinite ratio; ``skipped`` counts the pairs not run or refused, and
``refused`` those of them the solver refused, by its declared limits before running (the
report's "refused: ..." among the pairs not run) or when run.
For ``all``, "solvers" aggregates the four suites and "suites" holds one such object each.
Each suite's object also holds its two profiles as numbers, to check or redraw the plots:
``"profiles": {"time"|"quality": {"taus": [1, ...], "rho": {NAME: [...]}}}``, the breakpoints
(1 and every finite ratio, ascending) and per solver the fraction of instances within each.

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
import math
import sys
from collections import Counter
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

from exactprune.benchmarks.bench_report import (
    REPORT_FILE,
    SUMMARY_FILE,
    print_tables,
    profiles_json,
    render_report,
    write_profiles,
)
from exactprune.benchmarks.bench_results import (
    DEFAULT_TIME_LIMIT,
    QUALITY_RTOL,
    REFUSED,
    REFUSED_BEFORE,
    BenchOutcome,
    Run,
    SuiteOutcome,
    aggregate,
    consistency_issues,
    exactprune_version,
    summarise,
)
from exactprune.benchmarks.plots import with_plots_note
from exactprune.benchmarks.solve_sweep import input_file_digests
from exactprune.benchmarks.suites import (
    BenchInstance,
    Suite,
    expand_suite,
    prepare_suites,
    suite_names,
)
from exactprune.instances.errors import InputError, clipped_line
from exactprune.instances.params import as_number, int_from_to
from exactprune.instances.params import positive_amount as _positive_amount
from exactprune.invocation import (
    check_workers_can_start,
    flag_words,
    float_word,
    shell_line,
)
from exactprune.solvers.result import MAX_THREADS

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


# -- the task run in a worker ----------------------------------------------------------------
def bench_task(spec: dict) -> dict:
    """Solve one (instance, solver) pair of a suite: the sweep's task function.

    spec: ``{"instance": {"kind", "params"}, "solver", "options": {"time_limit", "threads",
    "seed"}, ...}``. Returns the record stored in the results store (status, certified,
    objective, bound, gap, tolerance, kept, wall_time_s, time_to_best_s, time_to_optimum_s,
    solver_version, exact, notes, mask). A solver that refuses the instance (InputError) gives
    status ``refused``; a solver failure is status ``error`` (from solve()).
    """
    from exactprune.benchmarks.solve_sweep import check_input_files
    from exactprune.benchmarks.suites import generate
    from exactprune.solvers import Capability, get_backend, solve

    name = str(spec["solver"])
    params = spec["instance"]["params"]
    check_input_files(params, spec.get("input_sha256"))
    inst = generate(spec["instance"]["kind"], params)
    check_input_files(params, spec.get("input_sha256"))  # the file read is the file hashed
    opts = spec.get("options", {})
    try:
        backend = get_backend(name, inst.kind)
        # --threads is the engines' allowance: a one-thread method (mitm, bruteforce, every
        # heuristic) runs as it is instead of refusing the pair (hunt 21)
        threads = opts.get("threads") if backend.supports(Capability.THREADS) else None
        res = solve(inst, name, time_limit=opts.get("time_limit"), threads=threads,
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
        "instance_sha256": res.instance_sha256,
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
    if backend is None:
        return None
    why = backend.refusal(inst.generate(), Goal())
    return None if why is None else f"{REFUSED_BEFORE}{why}"


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
            raise InputError(found[0].unavailable())
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
               progress: bool, retry_killed: bool = False) -> SuiteOutcome | None:
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
    digests: dict[str, str] = {}
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
                        "solver_version": versions[s], "exactprune": exactprune_version(),
                        "options": options}
                # a network file changed under the same name is solved again, never
                # answered from the old file's stored runs (absent without files: old keys)
                if files := input_file_digests(inst.params, digests):
                    spec["input_sha256"] = files
                tasks.append(Task(TASK_FN, spec))
                pending.append(Run(inst, s, None))
        if tasks:
            records = run_sweep(tasks, store, jobs=jobs, progress=progress,
                                desc=f"bench {family} n={size}", timeout=timeout,
                                retry_killed=retry_killed)
            for run, rec in zip(pending, records, strict=True):
                run.record = rec
            runs.extend(pending)
        if give_up:
            for s in chosen:
                if not exact[s] or (family, s) in given_up:
                    continue
                mine = [r for r in pending if r.solver == s]
                limited = sum(r.status == "time_limit" for r in mine)
                killed = sum(r.status == "killed" for r in mine)
                if mine and limited + killed and not any(r.certified for r in mine):
                    why = [f"{limited} hit the time limit of {time_limit:g} s"] if limited \
                        else []
                    # each run's own timeout: a store's killed runs may come from an
                    # earlier --timeout, and --jobs 0 has none (hunt 82 H1, M1)
                    after = Counter(r.killed_after for r in mine if r.status == "killed")
                    why += [f"{k} killed by the timeout of {t:g} s" if t is not None
                            else f"{k} killed by a timeout" for t, k in after.items()]
                    # the family by name: the report groups skipped pairs across families
                    what = (f"did not certify the one instance of size {size}"
                            if len(mine) == 1 else
                            f"certified none of the {len(mine)} instances of size {size}")
                    given_up[(family, s)] = (f"gave up: {what} of family {family}, "
                                             + ", ".join(why))
    order = {inst.name: k for k, inst in enumerate(suite.instances)}
    runs.sort(key=lambda r: (order[r.instance.name], chosen.index(r.solver)))
    return SuiteOutcome(suite, chosen, exact, versions, runs, float(time_limit), int(threads),
                        dict(not_applicable))


def run_bench(suite: str, solvers: Sequence[str] | None = None, *,
              time_limit: float = DEFAULT_TIME_LIMIT, threads: int = 1,
              out: str | Path | None = None, store: str | Path | None = None, jobs: int = 1,
              give_up: bool = True, timeout: float | None = None, progress: bool = True,
              plots: bool = True, command: str | None = None,
              retry_killed: bool = False) -> BenchOutcome:
    """Run suite `suite` (see the module docstring) and write its report; returns the outcome.

    solvers: names (None: the defaults); time_limit: seconds per run; threads: solver
    threads; out: output folder (default ``out/bench-SUITE``, created); store: SQLite results
    store (default ``OUT/results.sqlite``); jobs: worker processes (0: in this process);
    give_up: the give-up rule; timeout: hard kill per run (default 2 × time_limit + 30 s;
    above time_limit, and only with jobs > 0); retry_killed: run stored killed runs again;
    plots: write the profile figures; command: the command line quoted in the report.
    Bad arguments raise InputError before anything runs.
    """
    from exactprune.benchmarks.store import ResultStore

    # the suites' `prepare` (training a missing net) only once every cheaper check passed:
    # a typo in --solvers trained first (hunt 75 M1)
    suites = expand_suite(suite, prepare=False)
    # numpy's numbers too, as solve() takes them (hunt 149 M2)
    time_limit = as_number(time_limit, "time limit", exact=False)
    if not math.isfinite(time_limit) or time_limit <= 0:
        raise InputError(f"time limit must be a positive number of seconds, got {time_limit!r}")
    from exactprune.instances.params import as_flag
    from exactprune.solvers.result import check_threads

    check_threads(threads)
    from exactprune.benchmarks.sweep_dask import checked_jobs

    jobs = checked_jobs(jobs)  # run_sweep checks it only after the store is made (hunt 105 M1)
    check_workers_can_start(jobs)  # as run_sweep does, but before the store is made
    # 'no' was taken as true (hunt 99 L4): the on/off arguments are bools
    give_up, progress, plots, retry_killed = (as_flag(give_up, "give_up"),
                                              as_flag(progress, "progress"),
                                              as_flag(plots, "plots"),
                                              as_flag(retry_killed, "retry_killed"))
    kinds = {i.kind for s in suites for i in s.instances}
    if solvers is not None:  # read once: a generator was empty at its second reading
        names = None if isinstance(solvers, str | bytes) or \
            not isinstance(solvers, Iterable) else list(solvers)
        if not names:  # [] ran nothing and wrote an empty report (hunts 203 L1, 205 L1)
            raise InputError(f"solvers must be a non-empty list of solver names, got "
                             f"{solvers!r}")
        solvers = names
    chosen = None if solvers is None else _check_solvers(solvers, kinds)
    from exactprune.benchmarks.store import check_store_text
    from exactprune.instances.io import (
        check_output_dir,
        check_store_beside_report,
        output_dir,
        write_json_atomic,
        write_text_atomic,
        written_together,
    )

    if store is not None:  # before Path() drops a trailing "/" or "/." (hunts 139, 140)
        check_store_text(store)
    out_dir = check_output_dir(out if out is not None else Path("out") / f"bench-{suite}")
    store_path = Path(store) if store is not None else out_dir / "results.sqlite"
    check_store_beside_report(store_path, out_dir)
    if timeout is not None:
        timeout = as_number(timeout, "timeout", exact=False)
        if not math.isfinite(timeout) or timeout <= time_limit:
            raise InputError(f"timeout must be a number of seconds above the time limit "
                             f"{time_limit:g} s (it kills a run that overruns it), got "
                             f"{timeout!r}")
        if jobs == 0:
            raise InputError("a timeout needs worker processes (--jobs >= 1): a run in this "
                             "process cannot be killed")
    else:
        timeout = 2.0 * float(time_limit) + 30.0
        if not math.isfinite(timeout):  # a limit near float's top: no timeout, said as none
            timeout = None  # (the report quoted "inf s", summary.json null; hunt 203 L2)
    prepare_suites(suites)
    notes: list[str] = []
    outcomes: list[SuiteOutcome] = []
    # the folder goes again if nothing lands in it (a plot that cannot be written, and the
    # store elsewhere, left an empty --out folder; hunt 157 L4)
    with output_dir(out_dir):
        with ResultStore(store_path) as db:
            for s in suites:
                res = _run_suite(s, chosen, float(time_limit), threads, db, jobs, give_up,
                                 timeout if jobs > 0 else None, progress, retry_killed)
                if res is None:
                    notes.append(f"suite {s.name}: none of the chosen solvers applies; not run")
                else:
                    outcomes.append(res)
        summary = aggregate(outcomes, suite) if len(suites) > 1 else \
            (summarise(outcomes[0]) if outcomes else {"suite": suite, "solvers": {}})
        summary["suite"] = suite
        summary["timeout_s"] = float(timeout) if jobs > 0 and timeout is not None else None
        # killed runs read back from the store under another --timeout than this run's
        profiles = {o.suite.name: profiles_json(o) for o in outcomes}
        for name, data in profiles.items():  # what the profile plots draw, as numbers
            (summary["suites"][name] if "suites" in summary else summary)["profiles"] = data
        summary["earlier_timeouts_s"] = sorted(
            {t for o in outcomes for r in o.runs if (t := r.killed_after) is not None
             and t != summary["timeout_s"]})
        files: list[Path] = []
        with written_together(out_dir) as stage:  # the report and its plots, or none of them
            if plots:
                for o in outcomes:
                    files.extend(out_dir / f.name for f in write_profiles(o, stage))
            report = render_report(suite, outcomes, summary, out_dir, files, notes, store_path,
                                   command)
            if plots:
                report = with_plots_note(report)
            write_text_atomic(stage / REPORT_FILE, report)
            write_json_atomic(stage / SUMMARY_FILE, summary)
    files = [out_dir / REPORT_FILE, out_dir / SUMMARY_FILE, *files]
    return BenchOutcome(suite, outcomes, summary, files, notes)


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


_RUN_OPTIONS = (("--time-limit", "time_limit", DEFAULT_TIME_LIMIT), ("--threads", "threads", 1),
                ("--jobs", "jobs", 1), ("--timeout", "timeout", None),
                ("--retry-killed", "retry_killed", False), ("--no-give-up", "give_up", True))
"""A run's options (flag, dest, default): parsed with a default of None, so `--write-instances`
can tell them given, and given their defaults in `_cmd_bench`."""


def _cmd_bench(args: argparse.Namespace) -> int:
    from exactprune.instances.io import dumps

    if args.write_instances is not None:
        # it runs nothing: a run's options would be silently ignored (hunt 21; those with
        # defaults too, hunt 82: their defaults are filled in below, after this check)
        given = [flag for flag, name in (("--solvers", "solvers"), ("--out", "out"),
                                         ("--store", "store"),
                                         *((f, n) for f, n, _ in _RUN_OPTIONS))
                 if getattr(args, name) is not None]
        if given:
            raise InputError(f"--write-instances only writes the suite's instances; it takes "
                             f"no {', '.join(given)}")
        paths = write_instances_cmd(args.suite, args.write_instances)
        if args.json:
            print(dumps({"suite": args.suite, "written": [str(p) for p in paths]}))
        else:
            print(f"wrote {len(paths)} instances to {args.write_instances}")
        return 0
    for _, name, default in _RUN_OPTIONS:
        if getattr(args, name) is None:
            setattr(args, name, default)
    solvers = None
    if args.solvers is not None:
        solvers = [s.strip() for s in args.solvers.split(",") if s.strip()]
        if not solvers:
            raise InputError("--solvers needs at least one solver name")
    command = _command_line(args, solvers)
    outcome = run_bench(args.suite, solvers, time_limit=args.time_limit, threads=args.threads,
                        out=args.out, store=args.store, jobs=args.jobs,
                        give_up=args.give_up, timeout=args.timeout, progress=args.progress,
                        command=command, retry_killed=args.retry_killed)
    if args.json:
        print(dumps(outcome.summary))
    else:
        print_tables(outcome)
    return 0


def _command_line(args: argparse.Namespace, solvers: list[str] | None) -> str:
    """The command, rebuilt from the parsed arguments as one shell line (quoted in the
    report): an `--out` with a space, a newline or a backtick was joined raw, a command that
    did something else (hunt 212 M1); limits are written as the floats they are (`:g` made
    0.33333333 s a 0.333333 s run, not the one stored; hunt 214 M3), and a value starting
    with "-" as --flag=VALUE (`--out -r` is no value to argparse; hunt 214 L1)."""
    words = ["exactprune", "bench", args.suite]

    def flag(name: str, value: str) -> None:
        words.extend(flag_words(name, value))

    if solvers is not None:
        flag("--solvers", ",".join(solvers))
    flag("--time-limit", float_word(args.time_limit))
    if args.threads != 1:
        flag("--threads", str(args.threads))
    if args.jobs != 1:
        flag("--jobs", str(args.jobs))
    if not args.give_up:
        words.append("--no-give-up")
    if args.timeout is not None:
        flag("--timeout", float_word(args.timeout))
    if args.retry_killed:
        words.append("--retry-killed")
    if args.out is not None:
        flag("--out", str(args.out))
    if args.store is not None:
        flag("--store", str(args.store))
    return shell_line(words)


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
    p.add_argument("--time-limit", type=_positive_amount, default=None,
                   help=f"seconds per run (default {DEFAULT_TIME_LIMIT:g})")
    p.add_argument("--threads", type=int_from_to(1, MAX_THREADS), default=None,
                   help="solver threads (default 1)")
    p.add_argument("--out", default=None, help="output folder (default out/bench-SUITE)")
    p.add_argument("--store", default=None, metavar="FILE.sqlite",
                   help="results store (default OUT/results.sqlite); a re-run resumes")
    p.add_argument("--jobs", type=_int_at_least(0), default=None,
                   help="cores to fill (worker processes, default 1; 0: in this "
                   "process); a run with --threads N fills N of them")
    p.add_argument("--timeout", type=_positive_amount, default=None,
                   help="kill a run after this many seconds, counted from its start in a "
                        "worker (the worker's own start-up not counted; above the time "
                        "limit, default 2 x time limit + 30)")
    p.add_argument("--retry-killed", action="store_true", default=None,
                   help="run again the runs a store holds as killed (after raising --timeout)")
    p.add_argument("--no-give-up", dest="give_up", action="store_false", default=None,
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
        print(f"exactprune: error: {clipped_line(str(exc))}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    raise SystemExit(main())
