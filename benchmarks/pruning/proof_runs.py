"""What the SCIP proof benchmarks share (`branching_order`, `basis_reduction`,
`second_difference`): their common arguments and checks, their job runner (the sweep's
scheduler) and their page writer.

Each benchmark times SCIP 10 (PySCIPOpt) proving a known neuron-pruning optimum, one job per
(seed, variant), and writes a docs/benchmarks page with the command that made it."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from exactprune.benchmarks.pruning.levers import write_page


def float_list(text: str) -> list[float]:
    """Comma-separated floats (an argparse type)."""
    return [float(x) for x in text.split(",") if x]


def proof_parser(description: str, seeds: str, time_limit: float,
                 jobs: int) -> argparse.ArgumentParser:
    """The proof benchmarks' shared arguments (--out, --n, --points, --seeds, --time-limit,
    --jobs, --tag) with each benchmark's defaults; it adds its own."""
    p = argparse.ArgumentParser(description=description)
    p.add_argument("--out", type=Path, default=Path("docs/benchmarks"))
    p.add_argument("--n", type=int, default=128)
    p.add_argument("--points", type=int, default=256)
    p.add_argument("--seeds", default=seeds, help="instance seeds, comma-separated")
    p.add_argument("--time-limit", type=float, default=time_limit)
    p.add_argument("--jobs", type=int, default=jobs)
    p.add_argument("--tag", default="", help="suffix of the page's name (keeps earlier pages)")
    return p


def check_proof_args(p: argparse.ArgumentParser, args: argparse.Namespace) -> None:
    """Stop `p` with one error line unless --jobs >= 1 and --time-limit > 0."""
    if args.jobs < 1 or not args.time_limit > 0:
        p.error("--jobs and --time-limit must be positive")


def per_seed(p: argparse.ArgumentParser, seeds: str, values: list[float],
             option: str) -> list[tuple[int, float]]:
    """(seed, value) pairs from --seeds and a per-seed option (`option`, e.g. "--cutoffs");
    stops `p` with one error line unless the seeds are integers and there is one positive
    value per seed."""
    try:
        seed_list = [int(x) for x in seeds.split(",")]
    except ValueError:
        p.error(f"--seeds must be comma-separated integers, got {seeds!r}")
    if len(values) != len(seed_list) or not all(v > 0 for v in values):
        p.error(f"{option} needs one positive value per seed ({len(seed_list)} seeds)")
    return list(zip(seed_list, values, strict=True))


def require_packages(p: argparse.ArgumentParser, modules: tuple[str, ...], names: str,
                     pip: str) -> None:
    """Stop `p` with one error line (naming `names` and the `pip` arguments that install them)
    unless every module in `modules` imports."""
    import importlib

    try:
        for module in modules:
            importlib.import_module(module)
    except ImportError:
        p.error(f"this benchmark needs {names} (pip install {pip})")


def choice_list(p: argparse.ArgumentParser, text: str, allowed: Any, what: str) -> list[str]:
    """A comma list of names from `allowed`; an unknown one stops `p` with one error line."""
    names = text.split(",")
    if bad := [x for x in names if x not in allowed]:
        p.error(f"unknown {what}(s) {bad} (use {', '.join(allowed)})")
    return names


def run_proof_jobs(task: str, jobs: list[dict[str, Any]], cores: int) -> list[dict[str, Any]]:
    """Run the task function `task` ("module:function") on every job through the sweep's
    scheduler, `cores` at a time; print and return the rows in job order. A job that fails
    gives a row with status "error" and its message, so the page still reports the others."""
    from exactprune.benchmarks.sweep import Task, run_sweep

    records = run_sweep([Task(task, {**job, "experiment": "pruning-proof"}) for job in jobs],
                        None, jobs=cores, progress=False)
    rows = []
    for job, record in zip(jobs, records, strict=True):
        row = {"seconds": None, "nodes": None, **job, **record}
        row.pop("experiment", None)
        print(row, flush=True)
        rows.append(row)
    return rows


def write_proof_page(out: Path, stem: str, title: str, command: str, setup: str,
                     columns: list[str], cells: list[list[Any]], rows: list[dict[str, Any]],
                     tag: str) -> None:
    """A proof benchmark's page: title, command (with `--tag` when given), set-up line and a
    table of `cells` under `columns`; `stem`-`tag`.md and .json (levers.write_page)."""
    lines = [f"# {title}", "", f"Command: `{command}" + (f" --tag {tag}" if tag else "") + "`",
             "", setup, "", "| " + " | ".join(columns) + " |",
             "|" + "---|" * len(columns)]
    lines += ["| " + " | ".join(str(c) for c in row) + " |" for row in cells]
    write_page(out, stem + (f"-{tag}" if tag else ""), lines, rows)
