"""`exactprune results plot`: a sweep's stored runs as scaling curves.

Per solver (and per value of each other grid parameter that varies), the median and the
quartiles of one number of every run (its objective, wall time, proven bound or kept count)
against one numeric grid parameter, read from the results store alone. Runs that ended in an
error or were killed are counted, never drawn (their numbers say nothing of the solver); runs
without the number (a time limit before any solution, an infeasible sparsest instance) are
counted as `unanswered`. A point gets a filled marker only when every run there is drawn and
certified optimal (none failed), a hollow one otherwise: a curve of medians is evidence of the
optimum's scaling only where it is certified, and a median of the answered runs alone leans
towards the easy instances (the runs a `--timeout` killed are the hard ones; hunt 177 L1).

Quartiles are numpy.percentile's (linear interpolation); a point of one run has q1 = median =
q3.
"""

from __future__ import annotations

import json
import math
import os
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from exactprune.benchmarks.store import ResultStore, _spec_params
from exactprune.instances.errors import InputError

Y_FIELDS: dict[str, str] = {"objective": "objective", "wall_time_s": "wall time (s)",
                            "bound": "proven bound", "kept": "kept"}
"""The run numbers a curve can follow, with their axis labels."""
FAILED_STATUSES = ("error", "killed")
PLOT_SUFFIXES = (".png", ".svg")


@dataclass(frozen=True)
class CurvePoint:
    """One x of a curve: `runs` stored runs, `failed` of them errors or kills, `used` with a
    finite number (the quartiles' sample; None when 0), `certified` of those certified,
    `unanswered` neither failed nor with the number."""

    x: int | float
    runs: int
    failed: int
    used: int
    certified: int
    unanswered: int
    q1: float | None
    median: float | None
    q3: float | None

    @property
    def all_certified(self) -> bool:
        """Every run is drawn and certified, none failed (a filled marker): a point whose
        killed runs were left out was filled beside a legend saying "every run certified"
        (hunt 177 L1)."""
        return (self.used > 0 and self.certified == self.used and self.unanswered == 0
                and self.failed == 0)


@dataclass(frozen=True)
class Curve:
    """A solver's points at fixed values of the other varying parameters (`fixed`)."""

    solver: str
    fixed: dict[str, Any]
    points: tuple[CurvePoint, ...]

    @property
    def label(self) -> str:
        return ", ".join([self.solver, *(f"{k}={_shown(v)}" for k, v in self.fixed.items())])


@dataclass(frozen=True)
class ScalingCurves:
    """Every curve of one experiment, with the parameters equal in all its runs (`constant`)."""

    experiment: str | None
    x: str
    y: str
    constant: dict[str, Any]
    curves: tuple[Curve, ...]

    def to_json(self) -> dict[str, Any]:
        return {"experiment": self.experiment, "x": self.x, "y": self.y,
                "constant": self.constant,
                "curves": [{"solver": c.solver, "fixed": c.fixed, "label": c.label,
                            "points": [{**vars(p), "all_certified": p.all_certified}
                                       for p in c.points]} for c in self.curves]}

    def constant_text(self) -> str:
        """The parameters equal in every run, as NAME=VALUE, comma separated."""
        return ", ".join(f"{k}={_shown(v)}" for k, v in self.constant.items())

    def table(self) -> str:
        """A Markdown table: one row per curve and x."""
        lines = [f"| series | {self.x} | runs | certified | failed | unanswered | median | q1 | "
                 "q3 |", "|---|---|---|---|---|---|---|---|---|"]
        for c in self.curves:
            for p in c.points:
                nums = ["-" if v is None else format(v, ".4g") for v in (p.median, p.q1, p.q3)]
                lines.append(f"| {c.label} | {_shown(p.x)} | {p.runs} | {p.certified} | "
                             f"{p.failed} | {p.unanswered} | {' | '.join(nums)} |")
        return "\n".join(lines)


def _shown(value: Any) -> str:
    if isinstance(value, float) and value.is_integer() and abs(value) < 2**53:
        return str(int(value))
    if isinstance(value, list | dict):
        return json.dumps(value, separators=(",", ":"))
    return str(value)


_ABSENT = "\0absent"


def _key(params: Mapping[str, Any], name: str) -> str:
    """A parameter's value as a grouping key; a parameter a run lacks is its own value, not
    null's."""
    return json.dumps(params[name], sort_keys=True) if name in params else _ABSENT


def grid_parameters(spec: Mapping[str, Any]) -> dict[str, Any]:
    """A stored run's grid parameters: a sweep's ``spec["params"]``; a bench run's instance
    parameters (`store._spec_params`) but its `seed`, which is the suite's trial, not a grid
    value (every bench run was a one-run curve of its own; hunt 165 M2)."""
    params = _spec_params(dict(spec))
    if isinstance(spec.get("params"), dict):
        return params
    return {k: v for k, v in params.items() if k != "seed"}


def _is_real(value: Any) -> bool:
    """A finite number float64 can hold (an int beyond it raised OverflowError)."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return False
    try:
        return math.isfinite(float(value))
    except OverflowError:
        return False


def _run_number(row: Mapping[str, Any], y: str) -> float | None:
    value = row.get("wall_time_s") if y == "wall_time_s" else row["record"].get(y)
    return float(value) if _is_real(value) else None


def scaling_curves(rows: Iterable[Mapping[str, Any]], x: str, y: str = "objective",
                   experiment: str | None = None) -> ScalingCurves:
    """The curves of stored runs (as ResultStore.rows gives them) against grid parameter `x`;
    InputError when `x` is not a numeric parameter of every run or `y` is not in Y_FIELDS."""
    if y not in Y_FIELDS:
        raise InputError(f"unknown run number {y!r} (known: {', '.join(Y_FIELDS)})")
    rows = list(rows)
    if not rows:
        raise InputError("no runs to plot")
    params = [grid_parameters(r["spec"]) for r in rows]
    names = list(dict.fromkeys(k for p in params for k in p))
    numeric = [k for k in names if all(_is_real(p.get(k)) for p in params)]
    if x not in numeric:
        having = sum(x in p for p in params)
        why = "is not a parameter of these runs" if x not in names else \
            "is not a number in every run" if having == len(params) else \
            f"is a parameter of {having} of these {len(params)} runs only"
        kinds = sorted({k for r in rows if isinstance(k := r["spec"].get("kind"), str)})
        mixed = f"; they are runs of {len(kinds)} kinds, {', '.join(kinds)}" \
            if len(kinds) > 1 else ""  # two sweeps under one --experiment (hunt 199)
        raise InputError(f"--x {x} {why} (numeric parameters: {', '.join(numeric) or 'none'}"
                         f"{mixed})")
    others = [k for k in names if k != x]
    varying = [k for k in others if len({_key(p, k) for p in params}) > 1]
    constant = {k: params[0][k] for k in others if k not in varying and k in params[0]}
    # grouped on the value itself: float() merged grid values beyond 2^53 (hunt 165 H1);
    # Python compares ints and floats exactly, and 8 == 8.0 is one point
    groups: dict[tuple[str, ...], dict[int | float, list[Mapping[str, Any]]]] = {}
    fixed_of: dict[tuple[str, ...], tuple[str, dict[str, Any]]] = {}
    for row, p in zip(rows, params, strict=True):
        solver = row.get("solver") or "-"
        key = (solver, *(_key(p, k) for k in varying))
        fixed_of.setdefault(key, (solver, {k: p[k] for k in varying if k in p}))
        groups.setdefault(key, {}).setdefault(p[x], []).append(row)
    curves = []
    for key, by_x in groups.items():
        points = []
        for xv in sorted(by_x):
            runs = by_x[xv]
            ok = [r for r in runs if r.get("status") not in FAILED_STATUSES]
            used = [(v, r) for r in ok if (v := _run_number(r, y)) is not None]
            q1 = med = q3 = None
            if used:
                q1, med, q3 = (float(q) for q in np.percentile([v for v, _ in used],
                                                                [25, 50, 75]))
            points.append(CurvePoint(xv, len(runs), len(runs) - len(ok), len(used),
                                     sum(r["record"].get("certified") is True for _, r in used),
                                     len(ok) - len(used), q1, med, q3))
        solver, fixed = fixed_of[key]
        curves.append(Curve(solver, fixed, tuple(points)))
    return ScalingCurves(experiment, x, y, constant, tuple(curves))


def results_curves(store: str | os.PathLike[str], x: str, *, y: str = "objective",
                   experiment: str | None = None) -> ScalingCurves:
    """scaling_curves of the runs in the results store `store` (read only): of `experiment`,
    or of the store's one experiment (InputError naming them when it holds several)."""
    with ResultStore(store, create=False) as db:
        rows = db.rows(experiment)
        if not rows:
            known = sorted({r["experiment"] for r in db.summary()} - {None})
            raise InputError(f"no runs of experiment {experiment!r} in {store} (it has: "
                             f"{', '.join(known) or 'no named experiment'})" if experiment
                             is not None else f"no runs in {store}")
    found = list(dict.fromkeys(r["experiment"] for r in rows))
    if len(found) > 1:
        # runs the Python API stored without a name cannot be asked for by one (hunt 165 M4)
        named = [str(e) for e in found if e is not None]
        unnamed = " and runs stored without an experiment name" if None in found else ""
        raise InputError(f"{store} holds {len(named)} experiment{'s' if len(named) > 1 else ''}"
                         f" ({', '.join(named)}){unnamed}: choose one with --experiment")
    return scaling_curves(rows, x, y, found[0])


MAX_DRAWN = 1e300
"""The largest |x| or |y| a figure draws: matplotlib's ticks and the series' sideways offsets
overflow near float64's limit (an internal error, exit 1; hunt 165 M1)."""


def plot_curves(curves: ScalingCurves, path: str | os.PathLike[str], *, logx: bool = False,
                logy: bool | None = None) -> tuple[int, int]:
    """Write the curves as a .png or .svg figure at `path` (atomically); logy None: log for
    every number but `kept`. Returns the numbers of points a log axis could not draw: with
    x <= 0, and medians <= 0. InputError without matplotlib, for another suffix, or for
    numbers beyond MAX_DRAWN."""
    from exactprune.benchmarks.plots import median_curves_figure
    from exactprune.instances.io import write_bytes_atomic

    suffix = Path(path).suffix.lower()
    if suffix not in PLOT_SUFFIXES:
        raise InputError(f"{path}: a plot is written as a .png or .svg file")
    require_matplotlib()
    if logy is None:
        logy = curves.y != "kept"
    for c in curves.curves:
        for pt in c.points:
            if any(v is not None and abs(v) > MAX_DRAWN for v in (pt.x, pt.q1, pt.median,
                                                                   pt.q3)):
                raise InputError(f"{c.label}, {curves.x}={_shown(pt.x)}: numbers beyond "
                                 f"{MAX_DRAWN:g} cannot be drawn (`results export` lists them)")
    series = {c.label: ([float(p.x) for p in c.points], [_nan(p.q1) for p in c.points],
                        [_nan(p.median) for p in c.points], [_nan(p.q3) for p in c.points],
                        [p.all_certified for p in c.points])
              for c in curves.curves}
    constant = curves.constant_text()
    title = f"{curves.experiment or 'runs'}: median {Y_FIELDS[curves.y]} and quartiles" + \
        (f"\n{constant}" if constant else "")
    figure = median_curves_figure(series, suffix[1:], title, curves.x, Y_FIELDS[curves.y],
                                  logx=logx, logy=logy)
    if figure is None:
        raise InputError("results plot needs matplotlib: pip install 'exactprune[plot]'")
    data, hidden_x, hidden_y = figure
    write_bytes_atomic(path, data)
    return hidden_x, hidden_y


def require_matplotlib() -> None:
    """InputError (one line, the reason) unless matplotlib imports: a plotting command
    without it is refused, not warned about (hunt 165 L3: a warning and then the error)."""
    from exactprune.termination import interruptions_pass

    try:
        with interruptions_pass():  # a Ctrl-C during the import is the Ctrl-C (hunt 155 M1)
            import matplotlib.figure  # noqa: F401
    except ImportError as exc:
        missing = isinstance(exc, ModuleNotFoundError) and \
            (exc.name or "").split(".")[0] == "matplotlib"
        raise InputError("results plot needs matplotlib: pip install 'exactprune[plot]'"
                         if missing else f"matplotlib cannot be imported: {exc}") from None


def _nan(value: float | None) -> float:
    return math.nan if value is None else value
