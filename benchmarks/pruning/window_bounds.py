"""Benchmark: window (kink) lower bounds for pruning on the circle, a measured lever.

    python -m exactprune.benchmarks.pruning.window_bounds --out docs/benchmarks

Why. With an identity output the engines' bound stalls: on neuron pruning n = 128 a minute of
search barely raises it above the root LP relaxation (0.0087 against an optimum of 0.0108 on
seed 0). A bound from the structure instead of the LP: on a window P of
consecutive circle points (d = 2) a column whose unit is active on all of P, or on none,
is linear in x there; for any three points of P and the vector α with Σ_j α_j x_j = 0, such
columns drop out of α·(C y − f), and

    t >= max_k |C_k·y − f_k| >= |α·(C_P y − f_P)| / ||α||_1,

which depends only on the few *local* columns (the units with a kink inside P), up to the
rounding of the others, E (summed into the margin). Enumerating the 2^m choices of the m local
columns gives, per choice, the best such bound over the triples of P: a table whose minimum is a
lower bound on the optimum (the "window bound", the kink argument behind the Ω(d/ε) neuron
lower bound, made exact), and whose entries bound t once the local columns are fixed.

The *joint* window bound (`joint_window_bound`) couples the windows: the minimum over masks
of the maximum over windows of their table entries, exact by a dynamic programme over the
units sorted by kink angle mod π (a window's local units are a short run of that order).

`--root-only` compares them at the root: the LP relaxation's value (HiGHS, a float, not a
certificate), the window bound and, with `--joint SPAN,BAND`, the joint one, and with
`--hull SIZE,MAX_LOCAL` the LP strengthened by one disjunctive hull per window
(`window_hull_value`: each choice of a window's local units with its own linear part), per
seed, in seconds. Otherwise, measured here (side by
side, one solve at a time, CP-SAT with 8 workers): `plain`, the model as
`exactprune solve --solver cpsat --threads 8` builds it; `root bound`, plus t >= the best window
bound; `window tables`, plus one element constraint per window (t >= table[local choice]).
Not a solver option: it did not help (docs/pruning.md). Only d = 2, identity output, linf.
"""

from __future__ import annotations

import argparse
import itertools
import statistics
import time
from pathlib import Path
from typing import Any

import numpy as np

from exactprune.benchmarks.pruning.levers import write_page
from exactprune.formulations.linear import to_highs
from exactprune.formulations.pruning.selection import Selection, build_selection, selection_model
from exactprune.instances.errors import InputError
from exactprune.solvers.exclusion_recheck import certifiable
from exactprune.solvers.pruning.cpsat import CpSatPointSetSolver
from exactprune.solvers.pruning.exact import search_incumbent
from exactprune.solvers.result import SolveOptions

UNIT_ROUNDOFF = 2.0**-53
MODES = ("plain", "root bound", "window tables")


def circle_windows(points: np.ndarray, sizes: tuple[int, ...]) -> list[list[int]]:
    """Every run of `size` consecutive points by angle (wrapping), for each size: point indices."""
    pts = np.asarray(points, dtype=np.float64)
    if pts.ndim != 2 or pts.shape[1] != 2:
        raise InputError(f"window bounds need points in d = 2, got shape {pts.shape}")
    order = np.argsort(np.arctan2(pts[:, 1], pts[:, 0]), kind="stable")
    K = len(order)
    return [[int(order[(k0 + j) % K]) for j in range(size)]
            for size in sizes if 3 <= size <= K for k0 in range(K)]


def window_table(points: np.ndarray, columns: np.ndarray, target: np.ndarray,
                 window: list[int], max_local: int) -> tuple[np.ndarray, np.ndarray] | None:
    """(local columns (m,), table (2^m,) float) for one window, or None if m > max_local.

    table[b] is a rigorous lower bound on max_k |columns[k]·y − target[k]| over every choice y
    whose local columns are bit b (bit m−1−j = local column j, itertools.product order); local
    = nonzero on some but not all window points. Data are taken as exact; every rounding of the
    computation is bounded and subtracted.
    """
    X = np.asarray(points, dtype=np.float64)[window]
    C = np.asarray(columns, dtype=np.float64)[window]
    f = np.asarray(target, dtype=np.float64)[window]
    triples = list(itertools.combinations(range(len(window)), 3))
    R = np.zeros((len(triples), len(window)))
    for r, (a, b, c) in enumerate(triples):
        xa, xb, xc = X[a], X[b], X[c]  # α = the cofactors: Σ α_j x_j = 0 exactly in reals
        R[r, [a, b, c]] = (xb[0] * xc[1] - xb[1] * xc[0], xc[0] * xa[1] - xc[1] * xa[0],
                           xa[0] * xb[1] - xa[1] * xb[0])
    # α need not be an exact null vector: any α gives a valid bound; only roundings matter.
    norm1 = np.abs(R).sum(axis=1)
    keep = norm1 > 0.0
    R, norm1 = R[keep], norm1[keep]
    if not len(R):
        return None
    nonzero = C != 0.0
    local = np.flatnonzero(nonzero.any(axis=0) & ~nonzero.all(axis=0))
    if len(local) > max_local:
        return None
    B, B0 = R @ C, R @ f
    others = np.setdiff1d(np.arange(C.shape[1]), local)
    # |Σ_others β_c y_c| <= Σ|β_c|; each 3-term dot product is off by <= 4u Σ|α_j||C_jc|
    margin = (np.abs(B[:, others]).sum(axis=1)
              + 4 * UNIT_ROUNDOFF * ((np.abs(R) @ np.abs(C)).sum(axis=1) + np.abs(R) @ np.abs(f)))
    margin += 2 * (len(local) + 2) * UNIT_ROUNDOFF * (np.abs(B[:, local]).sum(axis=1)
                                                     + np.abs(B0))
    choices = np.array(list(itertools.product((0.0, 1.0), repeat=len(local))))
    values = np.abs(B0[None, :] - choices @ B[:, local].T) - margin[None, :]
    table = (values / (norm1 * (1.0 + 1e-12))[None, :]).max(axis=1)
    return local, np.maximum(table, 0.0)


def window_bound(instance: Any, sizes: tuple[int, ...] = (6, 8), max_local: int = 10) -> float:
    """The best window bound of a d = 2, identity-output, linf pruning instance: a rigorous
    lower bound on the optimum of its selection model (real units)."""
    sel = _selection(instance)
    best = 0.0
    for window in circle_windows(instance.points, sizes):
        res = window_table(instance.points, sel.columns, sel.target, window, max_local)
        if res is not None:
            best = max(best, float(res[1].min()))
    return best


def kink_order(points: np.ndarray, columns: np.ndarray) -> np.ndarray:
    """Position of each column when sorted by where its support on the circle starts, mod π.

    A unit's column is nonzero on a half circle starting at φ − π/2, so its two kinks are at
    that angle and the antipodal one: mod π the kinks inside any short arc of points are the
    columns of a short run of this order (cyclically), which `joint_window_bound` exploits.
    Columns nonzero nowhere or everywhere get the angle 0."""
    angle = np.arctan2(points[:, 1], points[:, 0]) % (2 * np.pi)
    by_angle = np.argsort(angle, kind="stable")
    nonzero = (np.asarray(columns) != 0.0)[by_angle]
    start = nonzero & ~np.roll(nonzero, 1, axis=0)  # first point of the support, by angle
    first = np.where(start.any(axis=0), start.argmax(axis=0), 0)
    key = angle[by_angle][first] % np.pi
    pos = np.empty(len(key), dtype=np.int64)
    pos[np.argsort(key, kind="stable")] = np.arange(len(key))
    return pos


def joint_window_bound(instance: Any, span: int = 9, band: int = 14) -> float:
    """min over every mask of the max over windows of its window-table entry: a rigorous lower
    bound on the optimum that couples the windows through the units they share.

    Windows: every run of `span` consecutive points (all triples in each, `window_table`).
    Exact by a bottleneck dynamic programme over the columns in `kink_order`, whose state is
    the choice of the last band − 1 columns (2^(band−1) states, so band <= 20): a window whose
    local columns do not fit in a run of `band` columns of that order (wrapping around the
    order's end, or too many kinks) is left out, which only lowers the bound.
    """
    if not 2 <= band <= 20:
        raise InputError(f"band must be in 2..20, got {band}")
    sel = _selection(instance)
    X = np.asarray(instance.points, dtype=np.float64)
    pos = kink_order(X, sel.columns)
    n = sel.n_columns
    by_end: dict[int, list[tuple[np.ndarray, np.ndarray]]] = {}
    constant = 0.0
    for window in circle_windows(X, (span,)):
        res = window_table(X, sel.columns, sel.target, window, band)
        if res is None:
            continue
        local, table = res
        if not len(local):
            constant = max(constant, float(table[0]))
            continue
        p = pos[local]
        if p.max() - p.min() >= band:
            continue
        by_end.setdefault(int(p.max()), []).append((p, table))
    states = 1 << (band - 1)
    value = np.full(states, np.inf)
    value[0] = 0.0  # columns before the first: not chosen
    window_bits = np.arange(1 << band)  # bit k: the choice of the column at position j − k
    for j in range(n):
        val = value[window_bits >> 1]
        for p, table in by_end.get(j, []):
            m = len(p)
            index = np.zeros(len(window_bits), dtype=np.int64)
            for q, lag in enumerate(j - p):  # table bit m−1−q is local column q
                index |= ((window_bits >> lag) & 1) << (m - 1 - q)
            val = np.maximum(val, table[index])
        value = np.full(states, np.inf)
        np.minimum.at(value, window_bits & (states - 1), val)
    return max(constant, float(value.min()))


def lp_relaxation_value(instance: Any) -> float:
    """The value of the selection model's LP relaxation (HiGHS; a float, not certified)."""
    import highspy

    model = selection_model(_selection(instance)).model
    highs = to_highs(model)
    cols = np.arange(model.n_vars, dtype=np.int32)
    continuous = np.full(len(cols), highspy.HighsVarType.kContinuous)
    highs.changeColsIntegrality(len(cols), cols, continuous)
    highs.setOptionValue("output_flag", False)
    highs.run()
    return float(highs.getInfo().objective_function_value)


def window_hull_value(instance: Any, size: int = 5, max_local: int = 6) -> float:
    """The LP value of the selection model strengthened by one disjunctive hull per window
    (HiGHS interior point; a float, not certified): a measured lever that did not help.

    On a window P of `size` consecutive circle points the residual of a mask is
    C_S·y_S + L_P·x − f with S the local units (a kink inside P) and L_P = Σ_{i active on all
    of P} y_i v_i w_i the linear part. Balas' extended formulation of the union over the
    2^|S| choices of y_S, each with its own linear part (copies λ_s, L^s, t^s with
    |λ_s (s·C_S − f) + L^s·x| <= t^s on P, Σ λ_s = 1, y_S = Σ λ_s s, Σ L^s = L_P(y),
    Σ t^s <= t), is valid for every mask and at least as strong as both the LP relaxation and
    the window's table; windows with more than `max_local` local units are left out. Neuron
    pruning only (the linear part needs the units' weights), d = 2, identity output, linf.
    """
    import highspy

    if instance.kind != "neuron_pruning":
        raise InputError("the window hull needs a neuron pruning instance")
    sel = _selection(instance)
    X = np.asarray(instance.points, dtype=np.float64)
    C, f = sel.columns, sel.target
    net = instance.network
    linear = net.hidden_weights * net.output_weights[:, None]  # (n, 2): v_i w_i
    K, n = C.shape
    inf = highspy.kHighsInf
    lower: list[float] = [0.0] * n + [0.0]
    upper: list[float] = [1.0] * n + [inf]
    t = n
    rows: list[tuple[dict[int, float], float, float]] = []

    def var(lo: float, hi: float) -> int:
        lower.append(lo)
        upper.append(hi)
        return len(lower) - 1

    for k in range(K):  # the model's own rows: −t <= C_k y − f_k <= t
        cy = {i: float(C[k, i]) for i in np.flatnonzero(C[k])}
        rows += [({**cy, t: -1.0}, -inf, float(f[k])), ({**cy, t: 1.0}, float(f[k]), inf)]
    for window in circle_windows(X, (size,)):
        nonzero = C[window] != 0.0
        local = np.flatnonzero(nonzero.any(axis=0) & ~nonzero.all(axis=0))
        if len(local) > max_local:
            continue
        active = np.flatnonzero(nonzero.all(axis=0))
        choices = list(itertools.product((0, 1), repeat=len(local)))
        lam = [var(0.0, 1.0) for _ in choices]
        lin = [(var(-inf, inf), var(-inf, inf)) for _ in choices]
        ts = [var(0.0, inf) for _ in choices]
        rows.append(({j: 1.0 for j in lam}, 1.0, 1.0))
        for b, i in enumerate(local):  # y_i = Σ_{s: s_i = 1} λ_s
            rows.append(({**{lam[s]: 1.0 for s, ch in enumerate(choices) if ch[b]},
                          int(i): -1.0}, 0.0, 0.0))
        for c in range(2):  # Σ_s L^s = L_P(y)
            rows.append(({**{lin[s][c]: 1.0 for s in range(len(choices))},
                          **{int(i): -float(linear[i, c]) for i in active}}, 0.0, 0.0))
        rows.append(({**{j: 1.0 for j in ts}, t: -1.0}, -inf, 0.0))
        for s, ch in enumerate(choices):
            for k in window:
                const = float(sum(C[k, i] for b, i in enumerate(local) if ch[b]) - f[k])
                base = {lin[s][0]: float(X[k, 0]), lin[s][1]: float(X[k, 1]), lam[s]: const}
                rows += [({**base, ts[s]: -1.0}, -inf, 0.0), ({**base, ts[s]: 1.0}, 0.0, inf)]
    lp = highspy.HighsLp()
    lp.num_col_, lp.num_row_ = len(lower), len(rows)
    lp.col_cost_ = np.eye(1, len(lower), t).ravel()
    lp.col_lower_, lp.col_upper_ = np.array(lower), np.array(upper)
    lp.row_lower_ = np.array([r[1] for r in rows])
    lp.row_upper_ = np.array([r[2] for r in rows])
    lp.a_matrix_.format_ = highspy.MatrixFormat.kRowwise
    lp.a_matrix_.start_ = np.cumsum([0] + [len(r[0]) for r in rows], dtype=np.int32)
    lp.a_matrix_.index_ = np.array([j for r in rows for j in r[0]], dtype=np.int32)
    lp.a_matrix_.value_ = np.array([v for r in rows for v in r[0].values()])
    lp.a_matrix_.num_col_, lp.a_matrix_.num_row_ = len(lower), len(rows)
    highs = highspy.Highs()
    highs.setOptionValue("output_flag", False)
    highs.setOptionValue("solver", "ipm")
    highs.passModel(lp)
    highs.run()
    if highs.getModelStatus() != highspy.HighsModelStatus.kOptimal:
        raise RuntimeError(f"window hull LP: {highs.modelStatusToString(highs.getModelStatus())}")
    return float(highs.getInfo().objective_function_value)


def root_rows(n: int, points: int, seeds: int, joint: tuple[int, int] | None = None,
              hull: tuple[int, int] | None = None) -> list[dict[str, Any]]:
    """Per seed: the LP relaxation's value and the window bound, with their times; with
    `joint` = (span, band), the joint window bound too; with `hull` = (size, max_local), the
    window hull's LP value (`window_hull_value`)."""
    from exactprune.instances import generate_neuron_pruning

    rows = []
    for seed in range(seeds):
        inst = generate_neuron_pruning(d=2, width=n, points=points, seed=seed)
        t0 = time.perf_counter()
        lp = lp_relaxation_value(inst)
        t1 = time.perf_counter()
        wb = window_bound(inst)
        t2 = time.perf_counter()
        row = {"seed": seed, "lp_relaxation": lp, "lp_time_s": t1 - t0,
               "window_bound": wb, "window_time_s": t2 - t1}
        if joint is not None:
            row["joint_window_bound"] = joint_window_bound(inst, *joint)
            row["joint_time_s"] = time.perf_counter() - t2
        if hull is not None:
            t3 = time.perf_counter()
            row["window_hull_lp"] = window_hull_value(inst, *hull)
            row["hull_time_s"] = time.perf_counter() - t3
        rows.append(row)
    return rows


def _selection(instance: Any) -> Selection:
    sel = build_selection(instance)
    if sel.output_activation != "identity" or sel.norm != "linf" or sel.d != 2:
        raise InputError("window bounds need d = 2, an identity output and the linf norm")
    return sel


class WindowCpSat(CpSatPointSetSolver):
    """CP-SAT's selection model plus the window bounds on its integer data (`mode`)."""

    def __init__(self, sel: Selection, opts: SolveOptions, points: np.ndarray, mode: str,
                 sizes: tuple[int, ...], max_local: int) -> None:
        super().__init__(sel, opts)
        self.points, self.mode, self.sizes, self.max_local = points, mode, sizes, max_local
        self.root_units = 0
        self.tables = 0

    def _model(self, points: list[int], cap_units: int) -> tuple[Any, list[Any], Any, int]:
        model, y, t, n_pts = super()._model(points, cap_units)
        if self.mode == "plain":
            return model, y, t, n_pts
        for window in circle_windows(self.points, self.sizes):
            res = window_table(self.points, self.cols, self.f, window, self.max_local)
            if res is None:
                continue
            local, table = res
            units = np.floor(table).astype(np.int64)  # t is an integer: round down stays valid
            self.root_units = max(self.root_units, int(units.min()))
            if self.mode != "window tables" or units.max() <= 0 or not len(local):
                continue
            m = len(local)
            index = model.NewIntVar(0, 2**m - 1, "")
            model.Add(index == sum((1 << (m - 1 - j)) * y[c] for j, c in enumerate(local)))
            value = model.NewIntVar(0, int(units.max()), "")
            model.AddElement(index, [int(u) for u in units], value)
            model.Add(t >= value)
            self.tables += 1
        model.Add(t >= self.root_units)
        return model, y, t, n_pts


def run_one(job: dict[str, Any]) -> dict[str, Any]:
    """One CP-SAT solve of a seeded neuron-pruning instance in one mode, from the same
    `prune_local_search` incumbent the cpsat backend uses."""
    from exactprune.instances import generate_neuron_pruning

    inst = generate_neuron_pruning(d=2, width=job["n"], points=job["points"], seed=job["seed"])
    sel = _selection(inst)
    t0 = time.perf_counter()
    mask, _ = search_incumbent(inst, 0, None)
    y0 = sel.choice_from_mask(mask)
    opts = SolveOptions(time_limit=job["time_limit"], threads=job["threads"], seed=0, extra={})
    solver = WindowCpSat(sel, opts, inst.points, job["mode"], (6, 8), 10)
    remaining = job["time_limit"] - (time.perf_counter() - t0)
    out = solver.solve(list(range(sel.n_points)), sel.error(y0), y0, remaining)
    wall = time.perf_counter() - t0
    y = out.y if out.y is not None and sel.error(out.y) <= sel.error(y0) else y0
    objective = inst.evaluate(sel.mask_from_choice(y))
    lower = out.lower
    gap = None if lower is None or objective <= 0 else max(0.0, (objective - lower) / objective)
    # certified by the backends' rule on the bound less the evaluation rounding, never by
    # CP-SAT's status alone
    eval_tol = inst.evaluation_tolerance()
    certified = lower is not None and certifiable(objective, lower - eval_tol, eval_tol)
    return {**job, "status": out.status, "certified": certified, "objective": objective,
            "bound": lower, "gap": gap, "root_bound": window_bound(inst),
            "tables": solver.tables, "wall_time_s": wall}


def _int_pair(names: str, second: range) -> Any:
    """An argparse type for "A,B": two integers, A >= 3 and B in `second` (`names` = "A,B")."""
    first_name, second_name = names.split(",")

    def parse(text: str) -> tuple[int, int]:
        try:
            first, other = (int(v) for v in text.split(","))
        except ValueError:
            raise argparse.ArgumentTypeError(
                f"expected {names} (two integers), got {text!r}") from None
        if first < 3 or other not in second:
            raise argparse.ArgumentTypeError(
                f"need {first_name} >= 3 and {second.start} <= {second_name} <= "
                f"{second.stop - 1}, got {text!r}")
        return first, other
    return parse


_span_band = _int_pair("SPAN,BAND", range(2, 21))
_size_local = _int_pair("SIZE,MAX_LOCAL", range(0, 11))


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--out", type=Path, default=Path("docs/benchmarks"))
    p.add_argument("--n", type=int, default=128)
    p.add_argument("--points", type=int, default=256)
    p.add_argument("--seeds", type=int, default=5)
    p.add_argument("--time-limit", type=float, default=60.0)
    p.add_argument("--threads", type=int, default=8, help="CP-SAT workers per solve")
    p.add_argument("--root-only", action="store_true",
                   help="only the root: LP relaxation against the window bound")
    p.add_argument("--joint", type=_span_band, default=None, metavar="SPAN,BAND",
                   help="root only: also the joint window bound (windows of SPAN points, "
                        "dynamic programme over BAND columns), e.g. 17,18")
    p.add_argument("--hull", type=_size_local, default=None, metavar="SIZE,MAX_LOCAL",
                   help="root only: also the LP with one disjunctive hull per window of SIZE "
                        "points with at most MAX_LOCAL local units, e.g. 5,6")
    args = p.parse_args(argv)
    if args.root_only:
        rows = root_rows(args.n, args.points, args.seeds, args.joint, args.hull)
        joint = "" if args.joint is None else f" --joint {args.joint[0]},{args.joint[1]}"
        joint += "" if args.hull is None else f" --hull {args.hull[0]},{args.hull[1]}"
        lines = ["# Root bounds for neuron pruning: LP relaxation and window bounds", "",
                 "Command: `python -m exactprune.benchmarks.pruning.window_bounds --root-only "
                 f"--n {args.n} --points {args.points} --seeds {args.seeds}{joint}`", "",
                 f"Neuron pruning, d = 2, width {args.n}, K = {args.points} circle points, "
                 "identity output. LP: the selection model's relaxation by HiGHS (float value); "
                 "window: windows of 6 and 8 points, at most 10 local columns (rigorous)"
                 + ("" if args.joint is None else
                    f"; joint: windows of {args.joint[0]} points coupled through their units "
                    f"(`joint_window_bound`, band {args.joint[1]}; rigorous)")
                 + ("" if args.hull is None else
                    f"; window hull: the LP with one disjunctive hull per window of "
                    f"{args.hull[0]} points with at most {args.hull[1]} local units "
                    "(`window_hull_value`, HiGHS interior point; float value)") + ".", "",
                 "| seed | LP relaxation | time (s) | window bound | time (s) |"
                 + ("" if args.joint is None else " joint window bound | time (s) |")
                 + ("" if args.hull is None else " window hull LP | time (s) |"),
                 "|---|---|---|---|---|" + ("" if args.joint is None else "---|---|")
                 + ("" if args.hull is None else "---|---|")]
        lines += [f"| {r['seed']} | {r['lp_relaxation']:.5g} | {r['lp_time_s']:.2f} | "
                  f"{r['window_bound']:.5g} | {r['window_time_s']:.2f} |"
                  + ("" if args.joint is None else
                     f" {r['joint_window_bound']:.5g} | {r['joint_time_s']:.1f} |")
                  + ("" if args.hull is None else
                     f" {r['window_hull_lp']:.5g} | {r['hull_time_s']:.1f} |")
                  for r in rows]
        write_page(args.out, f"pruning-window-bounds-n{args.n}-root"
                   + ("" if args.joint is None else "-joint")
                   + ("" if args.hull is None else "-hull"), lines, rows)
        return 0
    rows = [run_one({"mode": mode, "seed": s, "n": args.n, "points": args.points,
                     "time_limit": args.time_limit, "threads": args.threads})
            for s in range(args.seeds) for mode in MODES]
    lines = ["# Window (kink) lower bounds for neuron pruning, CP-SAT", "",
             "Command: `python -m exactprune.benchmarks.pruning.window_bounds --n "
             f"{args.n} --points {args.points} --seeds {args.seeds} --time-limit "
             f"{args.time_limit:g} --threads {args.threads}`", "",
             f"Neuron pruning, d = 2, width {args.n}, K = {args.points} circle points, identity "
             f"output, seeds 0..{args.seeds - 1}; CP-SAT with {args.threads} workers, one solve "
             f"at a time on 2 cores, time limit {args.time_limit:g} s (incumbent search "
             "included). Window bound: windows of 6 and 8 points, at most 10 local columns.", "",
             "| mode | certified | median gap | per seed: objective / bound (window bound) |",
             "|---|---|---|---|"]
    for mode in MODES:
        mine = [r for r in rows if r["mode"] == mode]
        gaps = [r["gap"] for r in mine if r["gap"] is not None]
        cells = "; ".join(f"{r['objective']:.4g} / {r['bound']:.4g} ({r['root_bound']:.4g})"
                          if r["bound"] is not None else f"{r['objective']:.4g} / —"
                          for r in mine)
        median_gap = f"{statistics.median(gaps):.3g}" if gaps else "—"
        lines.append(f"| {mode} | {sum(r['certified'] for r in mine)}/{len(mine)} | "
                     f"{median_gap} | {cells} |")
    write_page(args.out, f"pruning-window-bounds-n{args.n}", lines, rows)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
