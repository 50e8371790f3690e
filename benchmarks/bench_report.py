"""The write-up of `exactprune bench`: performance profiles, the Markdown report and the plain
tables it prints (the module docstring of benchmarks/bench.py says what each holds)."""

from __future__ import annotations

import math
import platform
import sys
import time
from collections import defaultdict
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from exactprune.benchmarks.bench_results import (
    DEFAULT_TIME_LIMIT,
    QUALITY_RTOL,
    REFUSED,
    SKIPPED,
    TIME_FLOOR_S,
    BenchOutcome,
    SuiteOutcome,
    consistency_issues,
    exactprune_version,
    merged_versions,
    ratio,
)
from exactprune.benchmarks.profiles import Profile, performance_profile
from exactprune.invocation import code_span, flag_words, float_word, shell_line

REPORT_FILE = "report.md"
SUMMARY_FILE = "summary.json"
PROFILE_PREFIX = "profile-"
"""The files a bench report writes in its folder: the report, the summary, and per suite the
plots PROFILE_PREFIX + "time-SUITE" and + "quality-SUITE" (PNG and SVG)."""


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


def suite_profiles(out: SuiteOutcome) -> dict[str, Profile]:
    """The time and the quality profile of one suite (keys "time", "quality")."""
    times, quality = profile_costs(out)
    return {"time": performance_profile(times, out.solvers, floor=TIME_FLOOR_S),
            "quality": performance_profile(quality, out.solvers)}


def profiles_json(out: SuiteOutcome) -> dict[str, Any]:
    """The suite's profiles as `summary.json` holds them, for checking or redrawing the plots:
    per kind, the breakpoints `taus` (1 and every finite ratio, ascending) and per solver
    `rho`, the fraction of instances within each tau (a step function, constant between
    breakpoints; below 1 at the last tau when the solver failed on some instances)."""
    return {kind: {"taus": p.taus.tolist(),
                   "rho": {s: p.rho[i].tolist() for i, s in enumerate(p.solvers)}}
            for kind, p in suite_profiles(out).items()}


def write_profiles(out: SuiteOutcome, folder: Path) -> list[Path]:
    """Time and quality profiles of one suite as PNG and SVG in `folder`."""
    from exactprune.benchmarks.profiles import plot_profiles

    profiles = suite_profiles(out)
    tp, qp = profiles["time"], profiles["quality"]
    styles = {s: ("-" if out.exact[s] else "--") for s in out.solvers}
    name = out.suite.name.replace("/", "_")
    files = plot_profiles(tp, folder / f"{PROFILE_PREFIX}time-{name}",
                          f"{out.suite.name}: time to the best objective (limit "
                          f"{out.time_limit:g} s)", styles=styles)
    files += plot_profiles(qp, folder / f"{PROFILE_PREFIX}quality-{name}",
                           f"{out.suite.name}: objective / best objective", styles=styles)
    return files


# -- report ------------------------------------------------------------------------------------
def _num(x: float | str | None, digits: int = 3) -> str:
    if x is None:
        return "-"
    if isinstance(x, str) or math.isinf(x):  # "inf": a ratio's infinity as JSON holds it
        return str(x) if isinstance(x, str) else ("inf" if x > 0 else "-inf")
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
                cell += f" ×{_num(ratio(r.objective, opt[inst.name]), 4)}"
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
    said = command or shell_line(["exactprune", "bench", name, "--time-limit", float_word(tl)])
    lines += [f"Command: {code_span(said)}", "",
              f"Machine: {platform.machine()}, {platform.system()}, "
              f"{_cpu_count()} logical cores; Python {platform.python_version()}, numpy "
              f"{numpy.__version__}, exactprune {exactprune_version()}; "
              f"{time.strftime('%Y-%m-%d')}. Time limit {tl:g} s per run, {threads} solver "
              f"thread(s), solver seed 0. "
              + (f"A run still going after {summary['timeout_s']:g} s is killed (status "
                 "killed). " if summary.get("timeout_s") else "")
              + ("Killed runs read from the store ran under an earlier timeout of "
                 + ", ".join(f"{t:g}" for t in summary["earlier_timeouts_s"])
                 + " s (`--retry-killed` runs them again). "
                 if summary.get("earlier_timeouts_s") else "")
              + f"Results store: {code_span(shell_line([str(store)]))} (a re-run resumes).",
              "",
              "Time = wall time of `solve()` (instance generation and process start-up "
              "excluded). Time to best = that wall time (incumbents are not traced over "
              "time); time to proven optimum = that wall time when certified. *proven optimal* "
              "counts certified runs only. *ratio* = heuristic objective / certified optimum "
              "of the instance (best certified objective of its runs), over the "
              "instances that have one; a run without a mask has ratio inf; 0/0 = 1. Median "
              "time and ratios are over the runs made: pairs skipped before running and "
              "pairs the solver refused are left out (*skipped* counts both), and the time "
              "also leaves out runs that ended in an error or were killed. Every run "
              "(status, "
              "objective, bound, time to best, time to proven optimum, notes, mask) is in the "
              "store: " + code_span(shell_line(["exactprune", "results", "export",
                                                 *flag_words("--store", str(store)),
                                                 "--format", "csv"])) + ".", ""]
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
            lines += [f"No solver certified {len(missing)} instance(s): the heuristics' "
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
            stem = f"{PROFILE_PREFIX}{kind}-{sname}"
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
    versions = merged_versions(outcomes)
    lines += ["## Solver versions", "", "| solver | version |", "|---|---|"]
    for s, v in versions.items():
        lines.append(f"| {s} | {v or 'exactprune ' + exactprune_version()} |")
    ran = {s for o in outcomes for s in o.solvers}
    lines += ["", "Commercial MILP solvers: " + _commercial_note(ran), ""]
    return "\n".join(lines)


def _cpu_count() -> int:
    import os

    return os.cpu_count() or 1


def _commercial_note(ran: set[str]) -> str:
    """What PuLP finds of the commercial solvers, and which of them this bench ran."""
    from exactprune.solvers.pulp_engines import PULP_PREFIX, commercial_pulp_solvers

    found = commercial_pulp_solvers()
    if not found:
        return ("none found by PuLP (GUROBI, CPLEX, XPRESS, COPT, MOSEK); when one is "
                "installed it joins as `pulp_<name>`, never certified.")
    names = [PULP_PREFIX + n.lower() for n in found]
    run = [b for b in names if b in ran]
    said = (f"run as {', '.join(run)}" if run else "not run here")
    left = [b for b in names if b not in ran]
    if run and left:
        said += f" ({', '.join(left)} not run here)"
    return (f"{', '.join(found)} found by PuLP, {said}: never certified (their tolerances "
            "are not part of exactprune's certificate), see `solvers/pulp_engines.py`.")


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
