"""`exactprune verify pretraining`: how much pre-training greedy forward selection needs.

SCIENCE.md §3 (Wolfe et al. 2021): for a two-layer ReLU net trained by full-batch gradient
descent, once the number of pre-training iterations passes a threshold growing like log m (m
the dataset size), greedy forward selection (GFS, Ye et al. 2020) finds a subnetwork with small
training loss. This experiment measures that threshold and sets GFS against the exact best
subnetwork of the same size.

Per dataset size m and trial r (independent seeds: two 32-bit words of
SeedSequence(seed, spawn_key=(r, m)), one for the subset, one for the initialisation):
1. a seeded subset of m rows of the training split of --data (`datasets.subsample`);
2. ONE training run of a bias-free two-layer ReLU net of width N (`training.train_two_layer`,
   full-batch GD on the squared loss, learning rate --lr), with checkpoints at T1 < ... < Tj;
3. at each checkpoint the neuron-selection instance of that net on the m samples (rule
   "average", no repeats, --loss), and three losses, all `NeuronSelectionInstance.evaluate`:
   - dense: every unit kept (k = N: the trained net itself);
   - gfs: the k units greedy forward selection picks;
   - exact: the best k units (--solver, default bnb: certified, or at the time limit the best
     found with the proven lower bound `exact_bound`, recorded as uncertified).

Threshold T*(m, r), by --reference (factor F = --factor):
- dense (default, F = 1.5): the first checkpoint T_j from which GFS stays within F of the
  dense loss at every later checkpoint: gfs(T_i) <= F · dense(T_i) for all i >= j. When the
  last checkpoint fails, no T qualifies: the trial is *censored* (T* > T_j, the pre-training
  needed is beyond the grid). As the dense loss goes to 0 with training while a k-unit
  average cannot follow, long grids censor every trial (docs/verify.md).
- exact (F = 1.5): the same rule against the exact best k-subnetwork's loss at each
  checkpoint (greedy as good as any subnetwork from then on).
- best (F = 1.1): the first T_j with gfs(T_j) <= F · min_i gfs(T_i), the pre-training after
  which pruning is within F of the best that any checkpoint of the grid gives (Wolfe et al.'s
  "enough pre-training"; never censored, bounded by the grid).
Per m the median over trials, censored trials counted as +inf (right-censored: the median
is still exact while fewer than half are censored; else the median itself is censored and the
size is not fitted). The same rule with the exact subnetwork in place of GFS gives T*_exact:
how much pre-training *any* k-subnetwork needs, so T* - T*_exact is what greediness costs.

Fit: median T*(m) = a + b·ln m over the sizes with an uncensored median (`fits.linear_fit`,
estimate b per unit of ln m; b·ln 2 per doubling of m). Its CI is a stratified bootstrap over
trials (resample the trials of every size, recompute the censoring-aware medians, refit; 2000
resamples, percentile interval), which carries the trial-to-trial spread that a bootstrap of a
handful of (m, median) points cannot.

    exactprune verify pretraining --data digits-pair --sizes 35,70,140,280 \\
        --iters 0,10,30,100,300,1000 --hidden 16 --k 4 --trials 5 --out out/pretraining
"""

from __future__ import annotations

import argparse
import dataclasses
import math
import statistics
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from exactprune.benchmarks.sweep_dask import local_jobs, scheduler_flag
from exactprune.instances.errors import InputError
from exactprune.instances.params import (
    nonneg_int,
    positive_amount,
    positive_float,
    positive_int,
)
from exactprune.invocation import command_lines

EXPERIMENT = "pretraining"
REFERENCES: tuple[str, ...] = ("dense", "best", "exact")
DEFAULT_FACTOR = {"dense": 1.5, "best": 1.1, "exact": 1.5}
"""Per --reference: GFS counts as good when its loss is at most this times the reference."""
RULES = {
    "dense": "T* = the first checkpoint from which GFS's loss stays <= F x the dense net's "
             "loss at every later checkpoint; `> {t_max}` = censored (no checkpoint "
             "qualifies), counted as +inf in the median. T*_exact: the same rule for the exact "
             "best k-subnetwork.",
    "exact": "T* = the first checkpoint from which GFS's loss stays <= F x the exact best "
             "k-subnetwork's loss at every later checkpoint; `> {t_max}` = censored, counted "
             "as +inf in the median. (T*_exact does not apply: the exact subnetwork against "
             "itself.)",
    "best": "T* = the first checkpoint whose GFS loss is <= F x the lowest GFS loss of the "
            "trial over all checkpoints: the pre-training after which pruning is within F of "
            "the best any checkpoint of the grid gives (never censored; bounded by the grid). "
            "T*_exact: the same rule for the exact best k-subnetwork.",
}
BOOTSTRAP = 2000
TOL = 1e-9
"""Relative slack of the sanity checks exact <= gfs (bnb starts from the greedy mask)."""


# -- one (m, trial) task -------------------------------------------------------------------
def trial_seeds(base: int, trial: int, m: int) -> tuple[int, int]:
    """(subset seed, initialisation seed) of (trial, size): SeedSequence(base, (trial, m)),
    stable whatever other sizes or trials a run holds (so stores resume)."""
    words = np.random.SeedSequence(base, spawn_key=(trial, m)).generate_state(2)
    return int(words[0]), int(words[1])


def trial_data(data: str, m: int, subset_seed: int) -> Any:
    """The data set `data` with m seeded rows of its training split."""
    from exactprune.instances.datasets import load_dataset, subsample

    return subsample(load_dataset(data), m, subset_seed)


def selection_instance(mlp: Any, ds: Any, k: int, loss: str,
                       generator: dict[str, Any] | None = None) -> Any:
    """The neuron-selection instance of a two-layer `mlp` on the training rows of `ds` (what
    `generate_neuron_selection` builds from a network file, from arrays)."""
    from exactprune.instances.neuron_selection import NeuronSelectionInstance

    W1, W2 = mlp.weights
    b1, b2 = mlp.biases
    Z = ds.X_train @ W1.T
    if b1 is not None:
        Z = Z + b1
    targets = (np.eye(ds.outputs)[ds.y_train] if ds.is_classification
               else np.asarray(ds.y_train, dtype=np.float64))
    return NeuronSelectionInstance(hidden=np.maximum(Z, 0.0), output_weights=W2.T.copy(),
                                   targets=targets, k=k,
                                   output_bias=None if b2 is None else b2.copy(), loss=loss,
                                   rule="average", repeats=False, generator=generator)


def dense_loss(inst: Any) -> float:
    """The loss of the whole trained net: rule average with all N units (k = N)."""
    full = dataclasses.replace(inst, k=inst.n)
    return float(full.evaluate(np.ones(inst.n, dtype=bool)))


def checkpoint_row(T: int, inst: Any, spec: dict) -> dict[str, Any]:
    """Dense, GFS and exact losses of one checkpoint's instance."""
    from exactprune.solvers import solve

    gfs = solve(inst, "greedy_forward_selection", seed=0)
    ex = solve(inst, spec["solver"], time_limit=spec["time_limit"], threads=1)
    return {"iter": T, "dense": dense_loss(inst), "gfs": gfs.objective,
            "exact": ex.objective, "exact_bound": ex.bound, "certified": bool(ex.certified),
            "exact_status": str(ex.status), "exact_time_s": ex.wall_time_s,
            "gfs_units": [int(i) for i in np.flatnonzero(gfs.mask)],
            "exact_units": [int(i) for i in np.flatnonzero(ex.mask)]
            if ex.mask is not None else None}


def trial_status(rows: Sequence[dict]) -> str:
    """A trial's status from its checkpoints' exact solves: optimal when every one is
    certified, else the worst uncertified one's (error before time_limit before the rest), so
    a failed solve is not reported as stopped by the time limit (and is run again on resume)."""
    open_ = [r["exact_status"] for r in rows if not r["certified"]]
    return min(open_, key=lambda s: {"error": 0, "time_limit": 1}.get(s, 2)) if open_ \
        else "optimal"


def trial(spec: dict) -> dict:
    """Train one net on m samples, and at each checkpoint record dense, GFS and exact losses."""
    from exactprune.instances.training import train_two_layer

    t0 = time.perf_counter()
    ds = trial_data(spec["data"], spec["m"], spec["subset_seed"])
    iters = list(spec["iters"])
    res = train_two_layer(ds.X_train, ds.y_train, spec["hidden"], iters[-1], spec["lr"],
                          loss="squared", seed=spec["init_seed"], checkpoints=iters,
                          classes=ds.classes, scaling=spec.get("scaling", "standard"))
    train_loss = {row["iter"]: row["train_loss"] for row in res.curve}
    rows = []
    for T in iters:
        inst = selection_instance(res.checkpoints[T], ds, spec["k"], spec["loss"],
                                  {"name": "pretraining", "iter": T, "m": spec["m"],
                                   "trial": spec["trial"]})
        rows.append({**checkpoint_row(T, inst, spec), "train_loss": train_loss[T]})
    return {"status": trial_status(rows), "checkpoints": rows,
            "train_time_s": res.wall_time_s, "wall_time_s": time.perf_counter() - t0}


# -- the threshold rule ----------------------------------------------------------------------
def threshold(iters: Sequence[int], loss: Sequence[float | None],
              dense: Sequence[float | None], factor: float = DEFAULT_FACTOR["dense"]
              ) -> int | None:
    """The first checkpoint T_j with loss(T_i) <= factor · dense(T_i) for every i >= j; None
    (censored) when the last checkpoint fails. A missing loss fails its checkpoint. (`dense`
    is any per-checkpoint reference: the dense loss, or the exact best subnetwork's.)"""
    first = None
    for T, value, ref in zip(reversed(iters), reversed(loss), reversed(dense), strict=True):
        if value is None or ref is None or not value <= factor * ref:
            break
        first = T
    return first


def best_threshold(iters: Sequence[int], loss: Sequence[float | None], factor: float
                   ) -> int | None:
    """The first checkpoint T_j with loss(T_j) <= factor · min_i loss(T_i): the pre-training
    after which pruning comes within F of the best that any checkpoint of the grid gives.
    Never censored while one loss exists (the best checkpoint qualifies); None otherwise."""
    values = [v for v in loss if v is not None]
    if not values:
        return None
    best = min(values)
    for T, value in zip(iters, loss, strict=True):
        if value is not None and value <= factor * best:
            return T
    return None  # pragma: no cover - the minimum itself qualifies


def censored_median(values: Sequence[float | None]) -> float | None:
    """Median with censored entries (None) counted as +inf; None when the median is censored
    (or there are no values)."""
    if not values:
        return None
    med = statistics.median([math.inf if v is None else float(v) for v in values])
    return med if math.isfinite(med) else None


def trial_thresholds(records: list[dict], factor: float, which: str,
                     reference: str = "dense") -> list[int | None]:
    """T* of each trial's record for `which` ("gfs" or "exact") under `reference` (module
    docstring); None for censored trials (and for failed runs, which callers leave out:
    `analyse`)."""
    out: list[int | None] = []
    for rec in records:
        rows = rec.get("checkpoints")
        if not rows:
            out.append(None)
            continue
        iters, values = [r["iter"] for r in rows], [r.get(which) for r in rows]
        if reference == "best":
            out.append(best_threshold(iters, values, factor))
        else:
            out.append(threshold(iters, values, [r.get(reference) for r in rows], factor))
    return out


def censored_quantile(values: Sequence[float | None], q: float) -> float | None:
    """The q-quantile (linear interpolation, numpy's default) with censored entries (None)
    above every finite one; None when it depends on a censored value. An order statistic hit
    exactly is its value: numpy on +inf made 0·inf = NaN of it, so the quartiles of
    [0, 0, 0, 0, censored] came out [0, censored] instead of [0, 0]."""
    ordered = sorted(math.inf if v is None else float(v) for v in values)
    if not ordered:
        return None
    pos = q * (len(ordered) - 1)
    lo, frac = int(math.floor(pos)), pos - math.floor(pos)
    low = ordered[lo]
    value = low if frac == 0 else low + frac * (ordered[lo + 1] - low)
    return value if math.isfinite(value) else None


def summarise_thresholds(values: list[int | None], t_max: int,
                         failed: Sequence[int] = ()) -> dict[str, Any]:
    """Per size: the thresholds of the trials that ran (in trial order), the censoring-aware
    median, quartiles, censored count; `failed`: the trials whose run failed (training
    diverged, a solve error), left out of every statistic: a failure is no evidence that
    T* > T_max."""
    return {"per_trial": values, "median": censored_median(values),
            "quartiles": [censored_quantile(values, 0.25), censored_quantile(values, 0.75)],
            "censored": sum(v is None for v in values), "trials": len(values),
            "failed": len(failed), "failed_trials": list(failed),
            "censored_means": f"> {t_max}"}


# -- fits ------------------------------------------------------------------------------------
def _slope(x: np.ndarray, y: np.ndarray) -> float:
    """Least-squares slope of y on x; 0 when its numerator is within the rounding error of x
    (rounded logarithms), of its centring and of the products: medians (10, 30, 10) at ln 35,
    ln 70, ln 140 have slope 0, and that rounding made it 9.3e-15, the printed end of a CI
    beside an estimate of 0 (hunt 216 L2)."""
    mean = float(x.mean())
    dx, dy = x - mean, y - y.mean()
    den = float(dx @ dx)
    if not den > 0:
        return math.nan
    scale = float(np.max(np.abs(dy)))  # sums of products at unit size: no overflow (a real
    if not (0 < scale < math.inf):  # slope of 7e307 read as 0 beside an inf bound; L5)
        return 0.0 if scale == 0 else float(dx @ dy) / den
    num = float(dx @ (dy / scale))
    error = 4 * len(x) * np.finfo(float).eps * float((np.abs(x) + abs(mean) + np.abs(dx))
                                                     @ (np.abs(dy) / scale))
    return 0.0 if abs(num) <= error else num * scale / den


def trial_bootstrap_ci(sizes: Sequence[int], per_size: Sequence[Sequence[int | None]],
                       resamples: int = BOOTSTRAP, level: float = 0.95,
                       seed: int = 0) -> tuple[tuple[float, float], int]:
    """Percentile CI of the slope of the censoring-aware median T* against ln m, resampling
    the trials within each size; returns (ci, resamples used). Resamples with fewer than two
    sizes of uncensored median are dropped."""
    rng = np.random.default_rng(seed)
    meds = []
    for vals in per_size:
        arr = np.array([math.inf if v is None else float(v) for v in vals])
        idx = rng.integers(0, len(arr), size=(resamples, len(arr)))
        meds.append(np.median(arr[idx], axis=1))
    M = np.stack(meds, axis=1)  # (resamples, sizes)
    x_all = np.log(np.asarray(sizes, dtype=np.float64))
    slopes = []
    for row in M:
        ok = np.isfinite(row)
        if ok.sum() >= 2:
            s = _slope(x_all[ok], row[ok])
            if math.isfinite(s):
                slopes.append(s)
    if not slopes:
        return (math.nan, math.nan), 0
    lo, hi = np.quantile(slopes, [(1 - level) / 2, 1 - (1 - level) / 2])
    return (float(lo), float(hi)), len(slopes)


def threshold_fit(sizes: Sequence[int], summary: dict[int, dict[str, Any]]) -> Any:
    """median T*(m) = a + b·ln m over the sizes with an uncensored median; the CI of b from
    `trial_bootstrap_ci` (see the module docstring). A `fits.Fit`."""
    from exactprune.benchmarks.fits import linear_fit

    used = [m for m in sizes if summary[m]["median"] is not None]
    fit = linear_fit(np.log(used), [summary[m]["median"] for m in used], min_points=2)
    notes = list(fit.notes)
    # a size where every trial failed has no median: not a censored one (hunt 80 M2)
    none_ran = [m for m in sizes if not summary[m]["trials"]]
    censored = [m for m in sizes if m not in used and m not in none_ran]
    if censored:
        notes.append(f"sizes with a censored median not fitted: {censored}")
    if none_ran:
        notes.append(f"sizes where no trial ran (every run failed) not fitted: {none_ran}")
    if not fit.ok:
        return dataclasses.replace(fit, notes=tuple(notes))
    ran = [m for m in sizes if summary[m]["per_trial"]]  # sizes where some trial ran
    ci, used_resamples = trial_bootstrap_ci(ran, [summary[m]["per_trial"] for m in ran])
    # the CI is the trial bootstrap's: drop linear_fit's notes on its own point bootstrap
    notes = [n for n in notes if "no confidence interval" not in n and "bootstrap" not in n]
    notes.append("x = ln m; CI: stratified bootstrap over trials (censored = +inf), "
                 f"{used_resamples} resamples")
    return dataclasses.replace(fit, ci=ci, slope_ci=ci, intercept_ci=(math.nan, math.nan),
                               resamples=used_resamples, notes=tuple(notes))


# -- summaries -------------------------------------------------------------------------------
def _finite(x: float | None) -> bool:
    return x is not None and math.isfinite(x)


def _bound_or_zero(bound: float | None) -> float:
    """A lower bound on a loss, or the trivial 0 when there is none (or none that is finite:
    `_med` would drop it, and the median bound be over other trials; hunt 233 L1)."""
    return float(bound) if _finite(bound) else 0.0


def _med(values: Sequence[float | None]) -> float | None:
    vals = [float(v) for v in values if v is not None and math.isfinite(v)]
    return statistics.median(vals) if vals else None


def _at_most(gfs: float, exact: float | None) -> bool:
    """GFS's loss within the relative tolerance TOL of the exact solve's."""
    return exact is not None and gfs <= exact * (1 + TOL) + 1e-300


def loss_table(records: list[dict], iters: Sequence[int]) -> list[dict[str, Any]]:
    """Per checkpoint, medians over trials of the dense, GFS and exact losses and ratios."""
    out = []
    for j, T in enumerate(iters):
        rows = [r["checkpoints"][j] for r in records if r.get("checkpoints")]
        dense = [r["dense"] for r in rows]
        gfs = [r["gfs"] for r in rows]
        exact = [r["exact"] for r in rows]
        out.append({
            "iter": T, "trials": len(rows),
            "dense": _med(dense), "gfs": _med(gfs), "exact": _med(exact),
            # over the trials of `exact`: a solve stopped without a bound has the trivial one,
            # 0 (no loss is below it); dropped, the median was over other trials and could sit
            # above the median loss (hunt 232 L1)
            "exact_bound": _med([_bound_or_zero(r.get("exact_bound")) if _finite(e) else None
                                 for e, r in zip(exact, rows, strict=True)]),
            "gfs_over_dense": _med([g / d if d else None for g, d in zip(gfs, dense,
                                                                         strict=True)]),
            "exact_over_dense": _med([e / d if d and e is not None else None
                                      for e, d in zip(exact, dense, strict=True)]),
            "gfs_over_exact": _med([g / e if e else None for g, e in zip(gfs, exact,
                                                                         strict=True)]),
            # optimal only where the exact solve proved its optimum; GFS at the incumbent of
            # an unproven solve is counted apart (it counted as optimal before)
            "gfs_optimal": sum(bool(r["certified"]) and _at_most(r["gfs"], r["exact"])
                               for r in rows),
            "gfs_at_best_found": sum(_at_most(r["gfs"], r["exact"]) for r in rows),
            "certified": sum(bool(r["certified"]) for r in rows),
            "quartiles": {key: _quartiles([r[key] for r in rows])
                          for key in ("dense", "gfs", "exact")},
        })
    return out


def _quartiles(values: Sequence[float | None]) -> list[float | None]:
    vals = [float(v) for v in values if v is not None]
    if not vals:
        return [None, None]
    return [float(x) for x in np.quantile(vals, (0.25, 0.75))]


def analyse(args: argparse.Namespace, specs: list[dict], records: list[dict]
            ) -> dict[str, Any]:
    """Thresholds, loss tables and fits of the (spec, record) pairs."""
    by_m: dict[int, list[tuple[dict, dict]]] = {m: [] for m in args.size_list}
    for s, r in zip(specs, records, strict=True):
        by_m[s["m"]].append((s, r))
    t_max = args.iter_list[-1]
    out: dict[str, Any] = {"thresholds": {}, "exact_thresholds": {}, "losses": {},
                           "runs": {}, "errors": {}}
    for m, pairs in by_m.items():
        recs = [r for _, r in pairs]
        ran = [r for r in recs if r.get("checkpoints")]
        failed = [s["trial"] for s, r in pairs if not r.get("checkpoints")]
        out["thresholds"][m] = summarise_thresholds(
            trial_thresholds(ran, args.factor, "gfs", args.reference), t_max, failed)
        if args.reference != "exact":  # the exact subnetwork against itself: always T_1
            out["exact_thresholds"][m] = summarise_thresholds(
                trial_thresholds(ran, args.factor, "exact", args.reference), t_max, failed)
        out["losses"][m] = loss_table(recs, args.iter_list)
        out["runs"][m] = [{"trial": s["trial"], "subset_seed": s["subset_seed"],
                           "init_seed": s["init_seed"], "status": r.get("status"),
                           "error": r.get("error"), "checkpoints": r.get("checkpoints")}
                          for s, r in pairs]
        out["errors"][m] = sum(not r.get("checkpoints") for r in recs)
    out["fits"] = {"threshold_vs_log_m": threshold_fit(args.size_list, out["thresholds"])}
    if out["exact_thresholds"]:
        out["fits"]["exact_threshold_vs_log_m"] = threshold_fit(args.size_list,
                                                                out["exact_thresholds"])
    return out


# -- report and plots ------------------------------------------------------------------------
def _g(x: Any) -> str:
    if x is None or (isinstance(x, float) and math.isnan(x)):
        return "—"
    return f"{x:.3g}" if isinstance(x, float) else str(x)


def _t(x: float | None, t_max: int) -> str:
    return f"> {t_max}" if x is None else f"{x:g}"


def _median_t(summary: dict[str, Any], t_max: int) -> str:
    """A size's median T*: "> T_max" when censored, "—" when no trial ran (every run failed:
    no evidence that T* > T_max; it printed "> 50" under a reference that is never censored;
    hunt 80 M2)."""
    return "—" if not summary["trials"] else _t(summary["median"], t_max)


def report(args: argparse.Namespace, a: dict[str, Any], compute_s: float,
           elapsed: float) -> str:
    """The Markdown report: settings, thresholds per size, the fit, loss tables."""
    t_max = args.iter_list[-1]
    lines = [
        "# Pre-training threshold of greedy forward selection (SCIENCE.md §3)", "",
        *command_lines(),
        f"data {args.data}, sizes m = {', '.join(map(str, args.size_list))} (seeded subsets of "
        f"the training split), {args.trials} trials per size (independent subset and "
        f"initialisation); bias-free two-layer ReLU net of width N = {args.hidden}, "
        f"{args.scaling} scaling, full-batch GD on the squared loss, lr {args.lr:g}, "
        "checkpoints T = "
        f"{', '.join(map(str, args.iter_list))}; subnetworks of k = {args.k} units (rule "
        f"average, {args.loss} loss); exact solver {args.solver} (time limit "
        f"{args.time_limit:g} s); reference {args.reference}, factor F = {args.factor:g}; "
        f"seed {args.seed}. "
        f"{compute_s:.0f} s of trial time (this invocation: {elapsed:.0f} s; stored trials "
        "are read back).", "",
        RULES[args.reference].format(t_max=t_max), "",
        "| m | T* per trial | median T* | censored | T*_exact per trial | median T*_exact "
        "| censored |", "|---|---|---|---|---|---|---|"]
    for m in args.size_list:
        g, e = a["thresholds"][m], a["exact_thresholds"].get(m)
        exact_cells = "n/a | n/a | n/a" if e is None else (
            f"{', '.join(_t(v, t_max) for v in e['per_trial'])} | "
            f"{_median_t(e, t_max)} | {e['censored']}/{e['trials']}")
        lines.append(f"| {m} | {', '.join(_t(v, t_max) for v in g['per_trial'])} | "
                     f"{_median_t(g, t_max)} | {g['censored']}/{g['trials']} | "
                     f"{exact_cells} |")
    unproven = [f"m = {m}: {done}/{total}" for m in args.size_list
                for done, total in [_certified(a["losses"][m])] if done < total]
    if unproven and a["exact_thresholds"]:
        lines += ["", "T*_exact is computed on the exact solver's masks, which are proven optima "
                  f"only where certified (certified solves: {'; '.join(unproven)}"
                  + ("; the other sizes all" if len(unproven) < len(args.size_list) else "")
                  + "). Elsewhere it is the threshold of the best mask found."]
    lines += ["", "| fit (median T* = a + b·ln m) | b | 95% CI | per doubling of m | sizes | "
              "notes |", "|---|---|---|---|---|---|"]
    for name, fit in a["fits"].items():
        lines.append(f"| {name} | {_g(fit.estimate)} | [{_g(fit.ci[0])}, {_g(fit.ci[1])}] | "
                     f"{_g(fit.estimate * math.log(2))} | {fit.n_points} | "
                     f"{'; '.join(fit.notes)} |")
    for m in args.size_list:
        lines += ["", f"## m = {m}", "",
                  "| T | dense | GFS | exact | exact bound | GFS/dense | exact/dense | "
                  "GFS/exact | GFS optimal | GFS = best found | certified |",
                  "|---|---|---|---|---|---|---|---|---|---|---|"]
        for r in a["losses"][m]:
            lines.append(f"| {r['iter']} | {_g(r['dense'])} | {_g(r['gfs'])} | "
                         f"{_g(r['exact'])} | {_g(r['exact_bound'])} | "
                         f"{_g(r['gfs_over_dense'])} | {_g(r['exact_over_dense'])} | "
                         f"{_g(r['gfs_over_exact'])} | {r['gfs_optimal']}/{r['trials']} | "
                         f"{r['gfs_at_best_found']}/{r['trials']} | "
                         f"{r['certified']}/{r['trials']} |")
        if a["errors"][m]:
            failed = a["thresholds"][m]["failed_trials"]
            lines.append(f"\n{a['errors'][m]} trial(s) failed (trials "
                         f"{', '.join(map(str, failed))}; see the JSON `runs`): left out of "
                         "T*, its median and the fit, not counted as censored.")
    lines += ["", "Losses are medians over trials; GFS optimal counts trials where GFS found "
              "a best subnetwork, proven (the exact solve certified); GFS = best found counts "
              "trials where GFS is as good as the exact solver's mask, proven or not; "
              "certified counts exact optima proven by the solver."]
    return "\n".join(lines) + "\n"


def _certified(rows: list[dict[str, Any]]) -> tuple[int, int]:
    """(certified exact solves, solves) over a size's loss-table rows."""
    return sum(r["certified"] for r in rows), sum(r["trials"] for r in rows)


def _exact_label(rows: list[dict[str, Any]]) -> str:
    """The exact curve's legend: a proven best k only where every solve was certified."""
    done, total = _certified(rows)
    return "exact best k" if done == total else f"exact, best found ({done}/{total} certified)"


def plots(args: argparse.Namespace, a: dict[str, Any], out: Any) -> list[Any]:
    """threshold_vs_m (median and quartiles of T*, the fitted line) and one loss-curve plot
    per size (losses-m<m>: dense, GFS, exact vs T + 1, medians and quartiles)."""
    from exactprune.benchmarks.plots import bracket_plot

    ms = np.array(args.size_list, dtype=float)
    series = {}
    for label, key in (("GFS T*", "thresholds"), ("exact-subnetwork T*", "exact_thresholds")):
        if not a[key]:
            continue
        rows = [a[key][m] for m in args.size_list]
        series[f"{label} (median, quartiles)"] = (
            ms, [r["quartiles"][0] for r in rows], [r["quartiles"][1] for r in rows],
            [r["median"] for r in rows])
    refs = {}
    fit = a["fits"]["threshold_vs_log_m"]
    if fit.ok:
        grid = np.geomspace(ms.min(), ms.max(), 50)
        refs[f"fit: {fit.intercept:.3g} + {fit.estimate:.3g}·ln m"] = (
            grid, fit.intercept + fit.estimate * np.log(grid))
    paths = []
    # every median censored: nothing to draw (empty axes before; the report's table says so)
    if any(m is not None for _, _, _, meds in series.values() for m in meds):
        paths += bracket_plot(series, out / "threshold_vs_m",
                              f"pre-training threshold, {args.data}, N = {args.hidden}, "
                              f"k = {args.k}, {args.reference} reference, F = {args.factor:g}",
                              logx=True, logy=False, xlabel="m (samples)",
                              ylabel="T* (iterations)", reference=refs)
    x = np.array(args.iter_list, dtype=float) + 1.0
    for m in args.size_list:
        rows = a["losses"][m]
        curves = {name: (x, [r["quartiles"][key][0] for r in rows],
                         [r["quartiles"][key][1] for r in rows], [r[key] for r in rows])
                  for name, key in (("dense net", "dense"), ("GFS", "gfs"),
                                    (_exact_label(rows), "exact"))}
        paths += bracket_plot(curves, out / f"losses-m{m}",
                              f"training loss vs pre-training, m = {m}, N = {args.hidden}, "
                              f"k = {args.k}", logx=True, logy=True,
                              xlabel="T + 1 (GD iterations)", ylabel=f"{args.loss} loss")
    return paths


# -- the command -----------------------------------------------------------------------------
def parse_int_list(text: str, flag: str, minimum: int) -> list[int]:
    """"0,10,30" -> sorted distinct integers >= minimum; InputError naming `flag`."""
    from exactprune.benchmarks.api import list_items

    values = set()
    for part in list_items(text, flag):
        try:
            v = int(part)
        except ValueError:
            raise InputError(f"{flag} takes comma-separated integers, got {text!r}") from None
        if v < minimum:
            raise InputError(f"{flag} values must be >= {minimum}, got {v}")
        values.add(v)
    if not values:
        raise InputError(f"{flag} gives no value")
    return sorted(values)


def check_args(args: argparse.Namespace) -> None:
    """Parse the lists and check every flag against the data before anything runs."""
    # --jobs was ignored beside --scheduler (hunt 99 L3)
    args.jobs = local_jobs(args.jobs, getattr(args, "scheduler", None))
    from exactprune.instances.datasets import load_dataset
    from exactprune.instances.neuron_selection import synthetic_neuron_selection
    from exactprune.instances.training import MAX_ITERS, SCALINGS
    from exactprune.solvers import Goal, get_backend
    from exactprune.solvers.registry import resolve_auto

    if args.reference not in REFERENCES:
        raise InputError(f"unknown reference {args.reference!r} (known: "
                         f"{', '.join(REFERENCES)})")
    if args.scaling not in SCALINGS:
        raise InputError(f"unknown scaling {args.scaling!r} (known: {', '.join(SCALINGS)})")
    args.size_list = parse_int_list(args.sizes, "--sizes", 1)
    args.iter_list = parse_int_list(args.iters, "--iters", 0)
    if args.iter_list[-1] > MAX_ITERS:
        raise InputError(f"--iters {args.iter_list[-1]} exceeds the training limit of "
                         f"{MAX_ITERS:,} steps")
    if args.k > args.hidden:
        raise InputError(f"--k {args.k} exceeds --hidden {args.hidden}")
    if args.factor is None:
        args.factor = DEFAULT_FACTOR[args.reference]
    if args.factor < 1:
        raise InputError(f"--factor must be >= 1 (GFS within F x the {args.reference} "
                         f"reference), got {args.factor:g}")
    probe = synthetic_neuron_selection(args.hidden, args.k, m=2, loss=args.loss)
    # auto was listed as known and refused as unknown (hunt 80 L1): it is the registry's
    # choice for this loss, checked like any named backend
    name = resolve_auto(probe, Goal()) if args.solver == "auto" else args.solver
    backend = get_backend(name, "neuron_selection")
    if not backend.exact:
        raise InputError(f"--solver {args.solver} is {backend.inexact_what}: the exact "
                         "subnetwork needs an exact backend (bnb, bruteforce, or for l1/linf a "
                         "MILP engine)")
    why = backend.refuse(probe, Goal()) if backend.refuse is not None else None
    if why:
        raise InputError(f"--solver {args.solver}: {why}")
    from exactprune.benchmarks.sweep_grid import MAX_RUNS

    runs = args.trials * len(args.size_list)
    if runs > MAX_RUNS:  # before the specs are built in memory (hunt 23)
        raise InputError(f"--trials {args.trials} x {len(args.size_list)} sizes = {runs:,} "
                         f"runs: more than {MAX_RUNS:,}")
    available = load_dataset(args.data).X_train.shape[0]
    if args.size_list[-1] > available:
        raise InputError(f"--sizes {args.size_list[-1]} exceeds the {available} training "
                         f"samples of {args.data}")


def specs_for(args: argparse.Namespace) -> list[dict]:
    """One spec per (size, trial): one training run each."""
    specs = []
    for m in args.size_list:
        for t in range(args.trials):
            subset_seed, init_seed = trial_seeds(args.seed, t, m)
            specs.append({"experiment": EXPERIMENT, "data": args.data, "m": m, "trial": t,
                          "seed": args.seed, "subset_seed": subset_seed,
                          "init_seed": init_seed, "iters": args.iter_list,
                          "hidden": args.hidden, "k": args.k, "loss": args.loss,
                          "lr": args.lr, "solver": args.solver,
                          "time_limit": args.time_limit, "scaling": args.scaling})
    return specs


def to_json(args: argparse.Namespace, a: dict[str, Any]) -> dict[str, Any]:
    """The --json object (sizes as string keys)."""
    return {
        "experiment": EXPERIMENT, "data": args.data, "sizes": args.size_list,
        "iters": args.iter_list, "hidden": args.hidden, "k": args.k, "loss": args.loss,
        "lr": args.lr, "factor": args.factor, "reference": args.reference,
        "scaling": args.scaling, "trials": args.trials, "solver": args.solver,
        "seed": args.seed,
        "thresholds": {str(m): v for m, v in a["thresholds"].items()},
        "exact_thresholds": {str(m): v for m, v in a["exact_thresholds"].items()},
        "losses": {str(m): v for m, v in a["losses"].items()},
        "runs": {str(m): v for m, v in a["runs"].items()},
        "fits": {k: f.to_json() for k, f in a["fits"].items()},
    }


def run_pretraining(**options: Any) -> dict[str, Any]:
    """Python form of `exactprune verify pretraining`: the same options with underscores
    (data, sizes, iters, hidden, k, trials, loss, reference, factor, lr, scaling, solver,
    time_limit, seed, store, jobs), lists allowed for sizes and iters; returns the --json
    object (`thresholds`, `exact_thresholds`, `losses`, `runs`, `fits` as dicts). Writes
    nothing unless `store` names a results store. InputError on an unknown option or a bad
    value, before anything runs, and when every trial failed. Trials run in this process
    unless `jobs` >= 1 asks for worker processes (the CLI's default is 1); those are spawned
    and re-import the main script, so a script that asks for them calls this under
    ``if __name__ == "__main__":`` (without it, every worker died and the error blamed a
    crash; hunt 66 M1)."""
    from exactprune.benchmarks.api import (
        in_process_default,
        named_as_keywords,
        options_namespace,
    )

    args = options_namespace(add_pretraining_parser, "pretraining", "run_pretraining",
                             in_process_default(options, "run_pretraining"),
                             lists=("sizes", "iters"))
    with named_as_keywords("run_pretraining", args):
        check_args(args)
    import json

    from exactprune.instances.io import dumps

    a, records = measure(args, progress=False)
    every_trial_failed(records)
    # through the JSON text, as the CLI prints it: NaN (r² of an exact fit, say) is null
    # there, and was NaN here, which json.dumps writes as invalid JSON (hunt 93 L1)
    return json.loads(dumps(to_json(args, a)))


def every_trial_failed(records: list[dict]) -> None:
    """InputError (one line, nothing written) when no trial ran: a report of failures only
    would say nothing about T*. Its message is the first trial's error (e.g. training diverged:
    lower --lr); the trials stay in the store."""
    if records and not any(r.get("checkpoints") for r in records):
        first = str(records[0].get("error") or "unknown error").removeprefix("InputError: ")
        raise InputError(f"every trial failed, the first with: {first}")


def measure(args: argparse.Namespace, progress: bool) -> tuple[dict[str, Any], list[dict]]:
    """Run (or read back from args.store) every (size, trial) task of checked `args`;
    (analysis, records)."""
    from exactprune.benchmarks.sweep import Task, run_sweep

    specs = specs_for(args)
    records = run_sweep([Task(f"{__name__}:trial", s) for s in specs], args.store,
                        jobs=args.jobs, scheduler=getattr(args, "scheduler", None),
                        progress=progress, desc="pretraining")
    return analyse(args, specs, records), records


def _cmd_verify_pretraining(args: argparse.Namespace) -> int:
    from exactprune.benchmarks.plots import with_plots_note
    from exactprune.instances import io as instance_io

    check_args(args)
    out = instance_io.check_output_dir(args.out)
    instance_io.check_store_beside_report(args.store, out)
    start = time.perf_counter()
    a, records = measure(args, progress=not (args.json or args.no_progress))
    elapsed = time.perf_counter() - start
    every_trial_failed(records)
    compute_s = sum(float(r.get("wall_time_s") or 0.0) for r in records)
    text = report(args, a, compute_s, elapsed)
    with instance_io.output_dir(out), instance_io.written_together(out) as stage:
        instance_io.write_text_atomic(stage / "report.md", with_plots_note(text))
        paths = [out / Path(p).name for p in plots(args, a, stage)]
    if args.json:
        body = to_json(args, a)
        body.update(report=str(out / "report.md"), plots=[str(p) for p in paths],
                    compute_s=compute_s, wall_time_s=elapsed)
        print(instance_io.dumps(body))
    else:
        print(text)
        # without matplotlib there are none (a warning said so; hunt 74 L2)
        print(f"report {'and plots ' if paths else ''}in {out}", file=sys.stderr)
    return 0


def add_pretraining_parser(verify_subparsers: Any) -> None:
    """Add `verify pretraining` to the CLI."""
    from exactprune.instances.datasets import DATASETS
    from exactprune.instances.neuron_selection import LOSSES
    from exactprune.instances.training import SCALINGS

    p = verify_subparsers.add_parser(
        "pretraining", help="pre-training iterations greedy forward selection needs, against "
        "the dataset size, with the exact best subnetwork alongside")
    p.add_argument("--data", choices=DATASETS, default="digits-pair")
    p.add_argument("--sizes", default="35,70,140,280", metavar="M1,M2,...",
                   help="dataset sizes m (seeded subsets of the training split; default "
                   "35,70,140,280: digits-pair has 285 training images)")
    p.add_argument("--iters", default="0,10,30,100,300,1000", metavar="T1,T2,...",
                   help="checkpoints (GD iterations) of each training run")
    p.add_argument("--hidden", type=positive_int, default=16, help="width N (default 16)")
    p.add_argument("--k", type=positive_int, default=4, help="units kept (default 4)")
    p.add_argument("--trials", type=positive_int, default=5,
                   help="independent trials per size (default 5)")
    p.add_argument("--loss", choices=LOSSES, default="squared",
                   help="selection loss (training always uses the squared loss)")
    p.add_argument("--reference", choices=REFERENCES, default="dense",
                   help="what GFS's loss is held against: dense = the dense net at the same "
                   "checkpoint, from then on; exact = the best k-subnetwork at the same "
                   "checkpoint, from then on; best = GFS's own best over the checkpoints "
                   "(default dense; docs/verify.md)")
    p.add_argument("--factor", type=positive_float, default=None,
                   help="GFS is good when its loss <= F x the reference (default 1.5 for "
                   "dense and exact, 1.1 for best)")
    p.add_argument("--lr", type=positive_float, default=0.1, help="learning rate (0.1)")
    p.add_argument("--scaling", choices=SCALINGS, default="standard",
                   help="network parametrisation for training (exactprune train --scaling; "
                   "default standard)")
    p.add_argument("--solver", default="bnb", help="exact backend (default bnb)")
    p.add_argument("--time-limit", type=positive_amount, default=60.0,
                   help="seconds per exact solve (default 60)")
    p.add_argument("--seed", type=nonneg_int, default=0)
    p.add_argument("--store", default=None, help="SQLite results store (resumable)")
    p.add_argument("--jobs", type=nonneg_int, default=None,
                   help="worker processes (default 1; 0: in process; not with --scheduler)")
    p.add_argument("--scheduler", default=None, type=scheduler_flag, help="Dask scheduler tcp://HOST:PORT")
    p.add_argument("--out", default="out/verify-pretraining")
    p.add_argument("--json", action="store_true")
    p.add_argument("--no-progress", action="store_true",
                   help="no progress bar or summary line on stderr (as with --json)")
    p.set_defaults(func=_cmd_verify_pretraining)
