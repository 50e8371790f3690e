"""Dolan–Moré performance profiles (Dolan & Moré, Math. Program. 91, 2002).

For a set of solvers S and instances P, each with a cost c_{p,s} >= 0 (a time, or an
objective) or a failure, the performance ratio is

    r_{p,s} = c_{p,s} / min_{s'} c_{p,s'}          (inf for a failure),

and the profile of solver s is the step function

    rho_s(tau) = |{p : r_{p,s} <= tau}| / |P|,

the fraction of instances on which s is within a factor tau of the best solver. rho_s(1) is
the fraction of instances on which s is (one of) the best; rho_s(tau) for large tau is the
fraction it solves at all. An instance on which every solver fails counts in |P| (no solver's
curve reaches 1 then).

Conventions:
* failures: a cost that is None, NaN or +inf;
* ``floor``: costs are first raised to at least ``floor`` (for times: the timer's resolution,
  so that 0.1 ms against 0.2 ms does not count as a factor 2);
* zero best cost (e.g. an exact-zero subset-sum optimum, with floor 0): exact-zero ties have
  ratio 1, any positive cost has ratio inf (it is infinitely worse than exact). No epsilon is
  added: an epsilon would make the ratio depend on an arbitrary unit.

Pure functions on arrays; plotting is `plot_profiles` (matplotlib imported lazily, Agg canvas,
through `exactprune.benchmarks.plots`).
"""

from __future__ import annotations

import math
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

__all__ = ["Profile", "performance_profile", "performance_ratios", "plot_profiles"]


def _costs(costs: Any) -> np.ndarray:
    """(P, S) float array with failures (None, NaN, inf) as +inf; negative costs rejected."""
    rows = costs.tolist() if isinstance(costs, np.ndarray) else costs
    arr = np.array([[math.inf if v is None else float(v) for v in row] for row in rows],
                   dtype=np.float64)
    if arr.ndim != 2:
        raise ValueError(f"costs must be a (instances, solvers) table, got shape {arr.shape}")
    arr[~np.isfinite(arr)] = math.inf  # NaN and -inf are failures too
    if np.any(arr < 0):
        raise ValueError("performance profiles need non-negative costs")
    return arr


def performance_ratios(costs: Any, floor: float = 0.0) -> np.ndarray:
    """The (P, S) ratios r_{p,s} = c_{p,s} / min_s c_{p,s} (see the module docstring).

    costs: (P, S) table (rows: instances, columns: solvers), failures None/NaN/inf.
    floor: costs are raised to at least this (>= 0). Returns a float array, inf for failures
    and for positive costs where the best cost is exactly 0.
    """
    if not floor >= 0:
        raise ValueError(f"floor must be >= 0, got {floor}")
    c = _costs(costs)
    c = np.where(np.isfinite(c), np.maximum(c, floor), math.inf)
    best = np.min(c, axis=1, initial=math.inf, keepdims=True) if c.size else \
        np.full((c.shape[0], 1), math.inf)
    out = np.full(c.shape, math.inf)
    ok = np.isfinite(c) & np.isfinite(best)
    positive = ok & (best > 0)
    denom = np.broadcast_to(best, c.shape)
    out[positive] = c[positive] / denom[positive]
    out[ok & (best == 0) & (c == 0)] = 1.0
    return out


@dataclass(frozen=True)
class Profile:
    """Profile curves of several solvers over the same instances.

    solvers: names (column order); ratios: (P, S) performance ratios; taus: (T,) sorted
    breakpoints (1 and every distinct finite ratio); rho: (S, T) with rho[s, j] = fraction of
    instances with r_{p,s} <= taus[j] (the step function is right-continuous: constant
    between breakpoints).
    """

    solvers: tuple[str, ...]
    ratios: np.ndarray
    taus: np.ndarray
    rho: np.ndarray

    @property
    def n_instances(self) -> int:
        return int(self.ratios.shape[0])

    def rho_at(self, solver: str, tau: float) -> float:
        """rho_solver(tau), for any tau >= 1 (fraction of instances within factor tau; a
        failure never counts, not even at tau = inf)."""
        s = self.solvers.index(solver)
        if self.n_instances == 0:
            return 0.0
        r = self.ratios[:, s]
        return float(np.count_nonzero(np.isfinite(r) & (r <= tau))) / self.n_instances

    def solved_fraction(self, solver: str) -> float:
        """rho_solver(inf): the fraction of instances with a finite ratio."""
        return self.rho_at(solver, math.inf)

    def to_json(self) -> dict[str, Any]:
        return {"solvers": list(self.solvers), "taus": self.taus.tolist(),
                "rho": {s: self.rho[i].tolist() for i, s in enumerate(self.solvers)}}


def performance_profile(costs: Any, solvers: Sequence[str], floor: float = 0.0) -> Profile:
    """The Dolan–Moré profile of `solvers` from a (P, S) cost table (see the module docstring).

    costs[p][s] is solver `solvers[s]` on instance p: a time, an objective, or None/NaN/inf
    for a failure. floor: costs are raised to at least this before the ratios are taken.
    """
    solvers = tuple(str(s) for s in solvers)
    raw = _costs(costs) if len(costs) else np.zeros((0, len(solvers)))
    if raw.shape[1] != len(solvers):
        raise ValueError(f"{raw.shape[1]} cost columns for {len(solvers)} solvers")
    if len(set(solvers)) != len(solvers):
        raise ValueError("solver names must be distinct")
    ratios = performance_ratios(raw, floor) if raw.shape[0] else raw
    finite = ratios[np.isfinite(ratios)]
    taus = np.unique(np.concatenate([[1.0], finite]))
    P = max(ratios.shape[0], 1)
    rho = np.array([[np.count_nonzero(ratios[:, s] <= t) / P for t in taus]
                    for s in range(len(solvers))], dtype=np.float64).reshape(len(solvers),
                                                                              len(taus))
    if ratios.shape[0] == 0:
        rho[:] = 0.0
    return Profile(solvers, ratios, taus, rho)


def plot_profiles(profile: Profile, path_stem: str | os.PathLike[str], title: str, *,
                  xlabel: str = "tau (ratio to the best solver, log2 scale)",
                  styles: Mapping[str, str] | None = None) -> list[Path]:
    """Step plot of every rho_s on a log2 tau axis; writes PNG and SVG (`plots.save_figure`).

    The axis runs from tau = 1 to a little beyond the largest finite ratio; a curve that ends
    below 1 there has failures (ratio inf) on the remaining instances. styles: solver ->
    matplotlib line style (e.g. dashed for heuristics). Returns the paths ([] without
    matplotlib).
    """
    from exactprune.benchmarks.plots import _new_axes, save_figure, series_color

    fig, ax = _new_axes(title, xlabel, "fraction of instances", False, False)
    if fig is None:
        return []
    t_max = float(profile.taus[-1]) if len(profile.taus) else 1.0
    right = max(2.0, t_max * 1.5)
    ax.set_xscale("log", base=2)
    ax.set_xlim(1.0, right)
    ax.set_ylim(-0.02, 1.02)
    for i, name in enumerate(profile.solvers):
        xs = np.concatenate([profile.taus, [right]])
        ys = np.concatenate([profile.rho[i], [profile.rho[i][-1] if len(profile.rho[i])
                                              else 0.0]])
        ax.step(xs, ys, where="post", color=series_color(i), linewidth=1.5,
                linestyle=(styles or {}).get(name, "-"), label=name)
    ax.legend(fontsize=7, loc="center left", bbox_to_anchor=(1.01, 0.5), frameon=False)
    return save_figure(fig, path_stem)
