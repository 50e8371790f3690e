"""Least-squares fits with bootstrap confidence intervals, for scaling curves (numpy only).

Every fit is an ordinary least-squares line y = intercept + slope·x, possibly after a log
transform:

- `linear_fit(x, y)`: the line itself; the headline `estimate` is the slope;
- `power_law_fit(n, eps)`: eps ≈ c·n^(−a), fitted as ln eps = ln c − a·ln n; estimate a;
- `exponential_fit(n, eps)`: eps ≈ c·e^(−b·n), fitted as ln eps = ln c − b·n; estimate b.

Confidence intervals come from a seeded nonparametric bootstrap of the (x, y) pairs (B = 2000
resamples by default, percentile interval at level 0.95): it needs no normality assumption and
stays honest when the residuals are heteroscedastic, as log errors of random instances are.
Resamples in which every x is equal (no slope defined) are discarded and counted in `notes`.
Pairs that are not independent (one nested network measured at several widths) are labelled by
`groups`: the bootstrap then draws whole groups with replacement (a cluster bootstrap).

Bad data never crash a fit: non-finite pairs, and non-positive values where a log is needed, are
dropped with a note giving the count; fewer than `min_points` usable points (3 by default) give a
`Fit` whose estimate is NaN and whose notes say why. `wilson_interval` (binomial proportions) is
here too, so that experiments need nothing beyond numpy and the standard library.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import dataclass, field
from decimal import Decimal
from statistics import NormalDist
from typing import Any

import numpy as np

from exactprune.instances.params import is_integer

NAN = float("nan")
DEFAULT_RESAMPLES = 2000
MAX_RESAMPLES = 10**6
"""Most bootstrap resamples a fit takes (2^70 was accepted and ran for ever; hunt 149 L3)."""
DEFAULT_LEVEL = 0.95
DEFAULT_SEED = 0
_CHUNK_ELEMENTS = 2_000_000  # bootstrap resamples are processed in blocks of this many draws
MODELS = ("linear", "power_law", "exponential")


def _interval(lo: float, hi: float) -> tuple[float, float]:
    return (float(lo), float(hi))


@dataclass(frozen=True)
class Fit:
    """One fitted line y = intercept + slope·x in the fitted (possibly log) space.

    model: "linear" (y as given), "power_law" (x = ln n, y = ln eps) or "exponential"
    (x = n, y = ln eps). `estimate`/`ci` hold the headline parameter: the slope for "linear",
    a = −slope for "power_law", b = −slope for "exponential". `coef`/`coef_ci` hold c = e^intercept
    for the two log models (NaN for "linear"). `rss` is the residual sum of squares in the fitted
    space, `r2` the coefficient of determination there. `resamples` counts the bootstrap
    resamples actually used (degenerate ones are dropped); `n_dropped` the input pairs dropped.
    """

    model: str
    estimate: float
    ci: tuple[float, float]
    slope: float
    intercept: float
    slope_ci: tuple[float, float]
    intercept_ci: tuple[float, float]
    r2: float
    rss: float
    n_points: int
    n_dropped: int = 0
    level: float = DEFAULT_LEVEL
    resamples: int = 0
    seed: int = DEFAULT_SEED
    coef: float = NAN
    coef_ci: tuple[float, float] = (NAN, NAN)
    notes: tuple[str, ...] = field(default=())

    @property
    def ok(self) -> bool:
        """True when the fit produced a finite estimate."""
        return math.isfinite(self.estimate)

    @property
    def parameter(self) -> str:
        """Name of the headline parameter: slope, a or b."""
        return {"linear": "slope", "power_law": "a", "exponential": "b"}[self.model]

    def predict(self, x: Any) -> np.ndarray:
        """The fitted curve at x (array-like), in the data's own units (eps, not ln eps)."""
        xs = np.asarray(x, dtype=np.float64)
        if self.model == "linear":
            return self.intercept + self.slope * xs
        if self.model == "power_law":
            with np.errstate(divide="ignore", invalid="ignore"):
                return np.exp(self.intercept) * np.power(xs, self.slope)
        return np.exp(self.intercept + self.slope * xs)

    def to_json(self) -> dict[str, Any]:
        """JSON-ready dict: {"estimate": x, "ci": [lo, hi], ...} (NaN becomes null in dumps)."""
        out: dict[str, Any] = {
            "estimate": self.estimate,
            "ci": list(self.ci),
            "parameter": self.parameter,
            "model": self.model,
            "level": self.level,
            "slope": self.slope,
            "slope_ci": list(self.slope_ci),
            "intercept": self.intercept,
            "intercept_ci": list(self.intercept_ci),
            "r2": self.r2,
            "rss": self.rss,
            "n_points": self.n_points,
            "n_dropped": self.n_dropped,
            "resamples": self.resamples,
            "seed": self.seed,
            "notes": list(self.notes),
        }
        if self.model != "linear":
            out["c"] = self.coef
            out["c_ci"] = list(self.coef_ci)
        return out


def _empty_fit(model: str, n_points: int, n_dropped: int, level: float, seed: int,
               notes: list[str]) -> Fit:
    nan2 = (NAN, NAN)
    return Fit(model, NAN, nan2, NAN, NAN, nan2, nan2, NAN, NAN, n_points, n_dropped, level, 0,
               seed, NAN, nan2, tuple(notes))


def _scale(v: np.ndarray) -> float:
    """The largest |v| (1 for all zeros): the fits work on v / scale, whose sums and products
    cannot overflow (x near 1e155 squared, or y of ±1e308 summed, gave a slope of 0 or -inf)."""
    top = float(np.max(np.abs(v))) if v.size else 0.0
    return top if top > 0 else 1.0


def _ols(x: np.ndarray, y: np.ndarray) -> tuple[float, float]:
    """Slope and intercept of the least-squares line (x must not be constant), computed on
    the data divided by their largest magnitudes and scaled back."""
    sx, sy = _scale(x), _scale(y)
    xs, ys = x / sx, y / sy
    mx, my = float(xs.mean()), float(ys.mean())
    dx = xs - mx
    slope = float(np.dot(dx, ys - my) / np.dot(dx, dx))
    with np.errstate(over="ignore"):
        return slope * (sy / sx), (my - slope * mx) * sy


def _resamples(rng: np.random.Generator, m: int, resamples: int,
               groups: np.ndarray | None) -> Iterator[np.ndarray]:
    """Index blocks (rows = resamples) of a bootstrap of m pairs. Without `groups`, pairs are
    drawn with replacement; with them (one label per pair), whole groups are drawn with
    replacement and every pair of a drawn group enters (a cluster bootstrap: pairs of one group,
    e.g. one nested network at several widths, are not independent). Groups of unequal size give
    one resample per block (rows of different lengths)."""
    if groups is None:
        rows, done = max(1, _CHUNK_ELEMENTS // m), 0
        while done < resamples:
            b = min(rows, resamples - done)
            yield rng.integers(0, m, size=(b, m))
            done += b
        return
    labels, inverse = np.unique(groups, return_inverse=True)
    members = [np.flatnonzero(inverse == g) for g in range(len(labels))]
    if len({len(mm) for mm in members}) == 1:
        table = np.stack(members)
        rows, done = max(1, _CHUNK_ELEMENTS // m), 0
        while done < resamples:
            b = min(rows, resamples - done)
            yield table[rng.integers(0, len(members), size=(b, len(members)))].reshape(b, -1)
            done += b
        return
    for _ in range(resamples):
        drawn = rng.integers(0, len(members), size=len(members))
        yield np.concatenate([members[g] for g in drawn])[None, :]


def _bootstrap(x: np.ndarray, y: np.ndarray, resamples: int, level: float, seed: int,
               groups: np.ndarray | None = None
               ) -> tuple[tuple[float, float], tuple[float, float], int, int]:
    """Percentile CIs of slope and intercept over `resamples` resamples of the pairs (of whole
    groups, see :func:`_resamples`).

    Returns (slope_ci, intercept_ci, resamples used, degenerate resamples dropped).
    """
    m = len(x)
    sx, sy = _scale(x), _scale(y)
    x, y = x / sx, y / sy  # scaled back below: no overflow in the sums of products
    rng = np.random.default_rng(seed)
    slopes: list[np.ndarray] = []
    intercepts: list[np.ndarray] = []
    dropped = 0
    for idx in _resamples(rng, m, resamples, groups):
        xb, yb = x[idx], y[idx]
        good = xb.max(axis=1) > xb.min(axis=1)  # a constant x defines no slope
        dropped += int(len(idx) - good.sum())
        xb, yb = xb[good], yb[good]
        mx = xb.mean(axis=1, keepdims=True)
        my = yb.mean(axis=1, keepdims=True)
        dx = xb - mx
        s = (dx * (yb - my)).sum(axis=1) / (dx * dx).sum(axis=1)
        slopes.append(s)
        intercepts.append(my[:, 0] - s * mx[:, 0])
    with np.errstate(over="ignore"):
        sl = np.concatenate(slopes) * (sy / sx)
        ic = np.concatenate(intercepts) * sy
    if len(sl) == 0:
        return (NAN, NAN), (NAN, NAN), 0, dropped
    q = [(1.0 - level) / 2.0, 1.0 - (1.0 - level) / 2.0]
    with np.errstate(invalid="ignore"):  # inf - inf: resample slopes beyond float64
        s_lo, s_hi = np.quantile(sl, q)
        i_lo, i_hi = np.quantile(ic, q)
    return _interval(s_lo, s_hi), _interval(i_lo, i_hi), len(sl), dropped


def _check_options(resamples: int, level: float, min_points: int) -> None:
    if not is_integer(resamples) \
            or not 1 <= resamples <= MAX_RESAMPLES:  # numpy's integers too (hunt 124 L3)
        raise ValueError(f"resamples must be an integer from 1 to {MAX_RESAMPLES:,}, got "
                         f"{resamples!r}")
    if not 0.0 < level < 1.0:
        raise ValueError(f"level must be in (0, 1), got {level!r}")
    if min_points < 2:
        raise ValueError(f"min_points must be >= 2, got {min_points!r}")


def _fit_line(model: str, x: np.ndarray, y: np.ndarray, n_dropped: int, notes: list[str],
              resamples: int, level: float, seed: int, min_points: int,
              groups: np.ndarray | None = None) -> Fit:
    """OLS + bootstrap on already-transformed, finite data; the shared core of every fit."""
    m = len(x)
    if m < min_points:
        notes.append(f"only {m} usable point(s), need at least {min_points}: no fit")
        return _empty_fit(model, m, n_dropped, level, seed, notes)
    if not x.max() > x.min():
        notes.append(f"all {m} usable points have the same x: no slope")
        return _empty_fit(model, m, n_dropped, level, seed, notes)
    slope, intercept = _ols(x, y)
    sy = _scale(y)  # residual sums on y / sy, scaled back (inf only if the true sum is)
    with np.errstate(over="ignore"):
        resid = y / sy - (intercept / sy + (slope / sy) * x)
        rss_scaled = float(np.dot(resid, resid))
        ys = y / sy
        tss_scaled = float(np.dot(ys - ys.mean(), ys - ys.mean()))
        rss = rss_scaled * sy * sy
    r2 = 1.0 - rss_scaled / tss_scaled if tss_scaled > 0 else NAN
    if m < 3:
        notes.append(f"{m} points determine the line exactly: no confidence interval")
        slope_ci = intercept_ci = (NAN, NAN)
        used = 0
    elif groups is not None and len(np.unique(groups)) < 2:
        notes.append("one group: a bootstrap of whole groups has no interval")
        slope_ci = intercept_ci = (NAN, NAN)
        used = 0
    else:
        slope_ci, intercept_ci, used, degenerate = _bootstrap(x, y, resamples, level, seed,
                                                              groups)
        if groups is not None:
            k = len(np.unique(groups))
            notes.append(f"bootstrap over {k} groups (whole groups resampled)")
            if k < 5:  # 2 groups: 3 distinct resamples, the percentiles rest on a few values
                notes.append(f"only {k} groups: the bootstrap interval is rough")
        if degenerate:
            notes.append(f"{degenerate} of {resamples} bootstrap resamples had a constant x "
                         "and were dropped")
        if len(np.unique(x)) < 5:
            notes.append(f"only {len(np.unique(x))} distinct x values: the bootstrap interval "
                         "is rough")
    if model == "linear":
        estimate, ci = slope, slope_ci
        coef, coef_ci = NAN, (NAN, NAN)
    else:
        estimate, ci = -slope, _interval(-slope_ci[1], -slope_ci[0])
        coef = _exp(intercept)
        coef_ci = _interval(_exp(intercept_ci[0]), _exp(intercept_ci[1]))
    return Fit(model, float(estimate), ci, slope, intercept, slope_ci, intercept_ci, r2, rss, m,
               n_dropped, level, used, seed, coef, coef_ci, tuple(notes))


def _exp(v: float) -> float:
    """exp(v), inf past float64's range and NaN for NaN: an intercept above 709 (errors near
    1e300) raised OverflowError from math.exp (hunt 57 M1)."""
    if not math.isfinite(v):
        return NAN
    return math.exp(v) if v < 709.78 else math.inf


def _as_pairs(x: Any, y: Any) -> tuple[np.ndarray, np.ndarray]:
    xs = np.asarray(x, dtype=np.float64).ravel()
    ys = np.asarray(y, dtype=np.float64).ravel()
    if xs.shape != ys.shape:
        raise ValueError(f"x and y must have the same length, got {xs.size} and {ys.size}")
    return xs, ys


def _as_groups(groups: Any, size: int) -> np.ndarray | None:
    """One hashable label per pair (None: every pair is its own group)."""
    if groups is None:
        return None
    labels = np.asarray(groups).ravel()
    if labels.size != size:
        raise ValueError(f"groups must have one label per pair, got {labels.size} for {size}")
    return labels


def _keep(xs: np.ndarray, ys: np.ndarray, keep: np.ndarray, what: str,
          notes: list[str], groups: np.ndarray | None = None
          ) -> tuple[np.ndarray, np.ndarray, int, np.ndarray | None]:
    dropped = int((~keep).sum())
    if dropped:
        notes.append(f"dropped {dropped} of {len(xs)} point(s): {what}")
    return xs[keep], ys[keep], dropped, None if groups is None else groups[keep]


def linear_fit(x: Any, y: Any, *, resamples: int = DEFAULT_RESAMPLES,
               level: float = DEFAULT_LEVEL, seed: int = DEFAULT_SEED,
               min_points: int = 3, groups: Any = None) -> Fit:
    """Least-squares line y = intercept + slope·x with a bootstrap CI of the slope.

    x, y: array-likes of the same length (pairs with a non-finite coordinate are dropped with a
    note). With exactly 2 points and min_points=2 the line is returned without a CI.
    """
    _check_options(resamples, level, min_points)
    xs, ys = _as_pairs(x, y)
    gs = _as_groups(groups, xs.size)
    notes: list[str] = []
    xs, ys, dropped, gs = _keep(xs, ys, np.isfinite(xs) & np.isfinite(ys), "not finite",
                                notes, gs)
    return _fit_line("linear", xs, ys, dropped, notes, resamples, level, seed, min_points,
                     gs)


def power_law_fit(n: Any, eps: Any, *, resamples: int = DEFAULT_RESAMPLES,
                  level: float = DEFAULT_LEVEL, seed: int = DEFAULT_SEED,
                  min_points: int = 3, groups: Any = None) -> Fit:
    """eps ≈ c·n^(−a) by a log-log least-squares line; estimate a, with CIs for a and c.

    Pairs with n <= 0 or eps <= 0 (no logarithm) or non-finite values are dropped with a note.
    """
    _check_options(resamples, level, min_points)
    xs, ys = _as_pairs(n, eps)
    gs = _as_groups(groups, xs.size)
    notes: list[str] = []
    with np.errstate(invalid="ignore"):
        ok = np.isfinite(xs) & np.isfinite(ys) & (xs > 0) & (ys > 0)
    xs, ys, dropped, gs = _keep(xs, ys, ok, "non-positive or non-finite (log-log fit)", notes,
                                gs)
    return _fit_line("power_law", np.log(xs), np.log(ys), dropped, notes, resamples, level,
                     seed, min_points, gs)


def exponential_fit(n: Any, eps: Any, *, resamples: int = DEFAULT_RESAMPLES,
                    level: float = DEFAULT_LEVEL, seed: int = DEFAULT_SEED,
                    min_points: int = 3, groups: Any = None) -> Fit:
    """eps ≈ c·e^(−b·n) by a semi-log least-squares line; estimate b, with CIs for b and c.

    Pairs with eps <= 0 (no logarithm) or non-finite values are dropped with a note.
    """
    _check_options(resamples, level, min_points)
    xs, ys = _as_pairs(n, eps)
    gs = _as_groups(groups, xs.size)
    notes: list[str] = []
    with np.errstate(invalid="ignore"):
        ok = np.isfinite(xs) & np.isfinite(ys) & (ys > 0)
    xs, ys, dropped, gs = _keep(xs, ys, ok, "non-positive or non-finite eps (semi-log fit)",
                                notes, gs)
    return _fit_line("exponential", xs, np.log(ys), dropped, notes, resamples, level, seed,
                     min_points, gs)


def _loo_mse(x: np.ndarray, y: np.ndarray) -> float:
    """Mean squared leave-one-out prediction error of the OLS line (NaN if undefined)."""
    m = len(x)
    errs = []
    for i in range(m):
        keep = np.arange(m) != i
        xi, yi = x[keep], y[keep]
        if not xi.max() > xi.min():
            return NAN
        slope, intercept = _ols(xi, yi)
        errs.append((y[i] - (intercept + slope * x[i])) ** 2)
    return float(np.mean(errs))


@dataclass(frozen=True)
class ModelComparison:
    """Power law against exponential decay, on the same points, in ln(eps) space.

    Decision rule: the smaller leave-one-out mean squared prediction error of ln(eps) wins
    (`preferred`); `loo_ratio` = worse / better (1 = no difference). RSS and AIC are reported
    too, but with two parameters each and the same response they rank the models identically
    (AIC = m·ln(RSS/m) + 2k with equal k), so they add no information beyond RSS; LOO instead
    measures how well each curve predicts a point it has not seen, which penalises a shape that
    only fits by bending to the sample.
    """

    power_law: Fit
    exponential: Fit
    rss: dict[str, float]
    aic: dict[str, float]
    loo_mse: dict[str, float]
    preferred: str | None
    loo_ratio: float
    n_points: int
    criterion: str = "loo_mse"
    notes: tuple[str, ...] = ()
    bootstrap_share: dict[str, float] = field(default_factory=dict)
    """Share of bootstrap resamples of the pairs in which each model has the smaller
    leave-one-out error: how stable the preference is (0.5 = a coin toss). Counted over the
    resamples that can tell the models apart (at least 3 distinct n, errors not tied)."""
    decay: bool | None = None
    """Whether eps decays with n at all (see `shows_decay`): without a decay no model is
    preferred, as the two lines then differ only by their designs (ln n against n). None
    when the fits failed or there are fewer than 3 distinct n (no choice is made there)."""

    def to_json(self) -> dict[str, Any]:
        return {
            "preferred": self.preferred,
            "decay": self.decay,
            "criterion": self.criterion,
            "loo_ratio": self.loo_ratio,
            "loo_mse": dict(self.loo_mse),
            "rss": dict(self.rss),
            "aic": dict(self.aic),
            "n_points": self.n_points,
            "bootstrap_share": dict(self.bootstrap_share),
            "power_law": self.power_law.to_json(),
            "exponential": self.exponential.to_json(),
            "notes": list(self.notes),
        }


def compare_models(n: Any, eps: Any, *, resamples: int = DEFAULT_RESAMPLES,
                   level: float = DEFAULT_LEVEL, seed: int = DEFAULT_SEED,
                   groups: Any = None) -> ModelComparison:
    """Does eps(n) look like c·n^(−a) or like c·e^(−b·n)? See `ModelComparison` for the rule.

    Both models are fitted to the same points: those with n > 0 and eps > 0 (others dropped
    with a note), so their residuals in ln(eps) are directly comparable. `groups` (one label per
    pair) makes every bootstrap resample whole groups: pass it when pairs of one group are
    dependent (one nested network measured at several widths).
    """
    xs, ys = _as_pairs(n, eps)
    gs = _as_groups(groups, xs.size)
    notes: list[str] = []
    with np.errstate(invalid="ignore"):
        ok = np.isfinite(xs) & np.isfinite(ys) & (xs > 0) & (ys > 0)
    xs, ys, _, gs = _keep(xs, ys, ok, "non-positive or non-finite", notes, gs)
    opts = {"resamples": resamples, "level": level, "seed": seed, "groups": gs}
    power = power_law_fit(xs, ys, **opts)
    expo = exponential_fit(xs, ys, **opts)
    m = len(xs)
    rss = {"power_law": power.rss, "exponential": expo.rss}
    aic = {k: (m * math.log(v / m) + 2 * 3) if m and v > 0 else NAN for k, v in rss.items()}
    loo = {"power_law": NAN, "exponential": NAN}
    if power.ok and expo.ok:
        ly = np.log(ys)
        loo = {"power_law": _loo_mse(np.log(xs), ly), "exponential": _loo_mse(xs, ly)}
    preferred: str | None = None
    ratio = NAN
    share: dict[str, float] = {}
    decay = (shows_decay(power, expo, xs) if power.ok and expo.ok and len(np.unique(xs)) >= 3
             else None)
    if power.ok and expo.ok and m >= 4 and (gs is None or len(np.unique(gs)) >= 2):
        share = _preference_share(xs, ys, resamples, seed, gs)
    loo_ok = len(np.unique(xs)) >= 3 and all(math.isfinite(v) for v in loo.values())
    lo, hi = sorted(loo.values())
    if loo_ok:
        ratio = hi / lo if lo > 0 else (1.0 if hi == 0 else math.inf)
    if len(np.unique(xs)) < 3:
        notes.append(f"{len(np.unique(xs))} distinct n: two lines fit equally, no preference")
        share = {}
    elif decay is False:
        g = _three_digits
        notes.append(f"no clear decay of eps with n here (its CI reaches 0, or the fall is "
                     f"rounding; power-law exponent {g(power.estimate)}, "
                     f"CI [{g(power.ci[0])}, {g(power.ci[1])}]; exponential rate "
                     f"{g(expo.estimate)}, CI [{g(expo.ci[0])}, {g(expo.ci[1])}]): no "
                     "preference")
        share = {}
    elif loo_ok:
        if hi <= lo * (1 + TIE_TOLERANCE):
            notes.append("equal leave-one-out errors: no preference")
        else:
            preferred = min(loo, key=lambda k: loo[k])
    else:
        notes.append("leave-one-out error undefined (too few points): no preference")
    return ModelComparison(power, expo, rss, aic, loo, preferred, ratio, m, notes=tuple(notes),
                           bootstrap_share=share, decay=decay)


def _three_digits(x: float) -> str:
    """x to 3 significant digits, a negative zero as 0 (flat data printed "-0"; hunt 142 L1)."""
    return f"{x + 0.0:.3g}"


DECAY_FLOOR = 1e-6
"""Least relative fall of the fitted eps over the range of n that counts as a decay: a fall
below it is rounding (nested trials whose bounds differ in the 15th digit read as a
"significant" exponent of 6.5e-14 and a confident model choice; hunt 46 M1)."""


def shows_decay(power: Fit, expo: Fit, n: Any) -> bool:
    """Whether both fits say eps falls as n grows: the lower end of each decay parameter's
    bootstrap CI (its estimate where the CI is undefined) makes the fitted eps fall by more
    than DECAY_FLOOR (relative) across the range of n. Flat or growing data, or a CI that
    reaches 0, show no decay to classify; so does a CI whose lower end is above 0 only by
    rounding (flat trials whose certified bounds drift by 1e-14 per width gave [3.7e-14, 0.25]
    and a "power law" verdict on three equal medians; hunt 79 M1)."""
    n = np.asarray(n, dtype=np.float64)
    if n.size == 0 or not n.max() > n.min():
        return False
    for fit, span in ((power, math.log(n.max() / n.min())), (expo, n.max() - n.min())):
        low = fit.ci[0] if math.isfinite(fit.ci[0]) else fit.estimate
        if not (-math.expm1(-low * span) > DECAY_FLOOR
                and -math.expm1(-fit.estimate * span) > DECAY_FLOOR):
            return False
    return True


def _press(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Leave-one-out squared prediction error of the OLS line, row by row of (B, m) arrays, in
    closed form (residual / (1 − leverage)); NaN where a left-out point has leverage 1."""
    m = x.shape[1]
    mx = x.mean(axis=1, keepdims=True)
    dx = x - mx
    sxx = (dx * dx).sum(axis=1, keepdims=True)
    with np.errstate(invalid="ignore", divide="ignore"):
        slope = (dx * (y - y.mean(axis=1, keepdims=True))).sum(axis=1, keepdims=True) / sxx
        resid = y - (y.mean(axis=1, keepdims=True) + slope * dx)
        lev = 1.0 / m + dx * dx / sxx
        out = np.where(lev < 1 - 1e-12, resid / (1.0 - lev), np.nan)
        return np.mean(out * out, axis=1)


TIE_TOLERANCE = 1e-9
"""Relative difference below which two leave-one-out errors are a tie (rounding, not data)."""


def _preference_share(n: np.ndarray, eps: np.ndarray, resamples: int, seed: int,
                      groups: np.ndarray | None = None) -> dict[str, float]:
    """Share of bootstrap resamples of the (n, eps) pairs preferring each model by LOO error,
    over the resamples that can tell them apart: at least 3 distinct n (with 2, both lines
    pass through the two means and tie, and rounding picked a "winner") and LOO errors that
    differ by more than TIE_TOLERANCE (relative)."""
    rng = np.random.default_rng(seed + 1)
    wins = {"power_law": 0, "exponential": 0}
    used = 0
    ly = np.log(eps)
    for idx in _resamples(rng, len(n), resamples, groups):
        pw = _press(np.log(n)[idx], ly[idx])
        ex = _press(n[idx].astype(np.float64), ly[idx])
        ordered = np.sort(n[idx], axis=1)
        distinct = 1 + (np.diff(ordered, axis=1) != 0).sum(axis=1)
        ok = np.isfinite(pw) & np.isfinite(ex) & (distinct >= 3)
        ok &= np.abs(pw - ex) > TIE_TOLERANCE * np.maximum(pw, ex)
        used += int(ok.sum())
        wins["power_law"] += int((pw[ok] < ex[ok]).sum())
        wins["exponential"] += int((ex[ok] < pw[ok]).sum())
    return {k: (v / used if used else NAN) for k, v in wins.items()}


def median_ci(values: Any, level: float = DEFAULT_LEVEL) -> tuple[float, float, float]:
    """Distribution-free confidence interval of a median: order statistics (lo, hi) with the
    binomial coverage they achieve, (x_(j), x_(m+1-j)) for the largest j whose coverage is at
    least `level`; (min, max) with its lower coverage when m is too small. Values may be ±inf
    (ordering is all it needs); NaNs and Nones (a missing bound in JSON) are dropped.
    (NaN, NaN, NaN) for no values."""
    x = np.sort(np.asarray([v for v in values if v is not None and not math.isnan(v)],
                           dtype=np.float64))
    m = len(x)
    if m == 0:
        return (NAN, NAN, NAN)
    pmf = [math.comb(m, i) / 2.0**m for i in range(m + 1)]
    best_j, best_cov = 1, 1.0 - 2 * pmf[0] if m > 1 else 0.0
    for j in range(1, m // 2 + 1):
        cov = 1.0 - 2.0 * sum(pmf[:j])  # P(x_(j) <= median < x_(m+1-j))
        if cov >= level:
            best_j, best_cov = j, cov
    return (float(x[best_j - 1]), float(x[m - best_j]), float(best_cov))


def wilson_interval(successes: int, trials: int,
                    level: float = DEFAULT_LEVEL) -> tuple[float, float]:
    """Wilson score interval for a binomial proportion (NaNs when trials == 0).

    Preferred over the normal (Wald) interval because it stays inside [0, 1] and keeps its
    coverage near p = 0 or 1, where the probabilities of this project's experiments live.
    """
    if trials <= 0:
        return (NAN, NAN)
    if not 0 <= successes <= trials:
        raise ValueError(f"need 0 <= successes <= trials, got {successes}/{trials}")
    z = NormalDist().inv_cdf(1.0 - (1.0 - level) / 2.0)
    p = successes / trials
    z2n = z * z / trials
    centre = (p + z2n / 2.0) / (1.0 + z2n)
    half = z * math.sqrt(p * (1.0 - p) / trials + z2n / (4.0 * trials)) / (1.0 + z2n)
    lo = 0.0 if successes == 0 else max(0.0, centre - half)
    hi = 1.0 if successes == trials else min(1.0, centre + half)
    return (lo, hi)


STRONG_SHARE = 0.8
"""A preference held by at least this share of bootstrap resamples is reported plainly; below
it "weak", and below one half "no clear preference" (docs/verify.md labels 59-70 % weak)."""


def ratio_words(x: float | None) -> str:
    """A leave-one-out ratio to 3 decimals: 3 significant digits showed 1.002 as "1", a tie
    beside a stated preference (hunt 33)."""
    if x is None or not math.isfinite(x):
        return _g(x)
    shown = f"{x:.3f}"
    return f"1 + {x - 1:.1e}" if shown == "1.000" and x != 1.0 else shown  # not a tie


def share_words(share: float) -> str:
    """A bootstrap share as a percentage to 3 significant digits, or more where 3 would round
    it across a wording threshold (1599 of 2000 read "80 %" beside "weak", 999 of 2000 "50 %"
    beside "most resamples prefer the other model"; hunt 183 L5)."""
    def same_side(shown: str) -> bool:  # as a reader compares "80" with 80 %
        return all((Decimal(shown) >= Decimal(str(100 * t))) == (share >= t)
                   for t in (0.5, STRONG_SHARE))

    for digits in range(3, 8):
        shown = f"{100 * share + 0.0:.{digits}g}"
        if same_side(shown):
            return shown
    return f"{Decimal(share) * 100:.17g}"  # 100 * 0.7999999999999999 rounds to 80.0


def verdict_words(cmp: Any, unbootstrapped: str = "that needs 4 or more points",
                  over: str = "widths") -> str:
    """A report's words on a model comparison (a `ModelComparison`, or any object with its
    preferred, decay, loo_ratio, bootstrap_share and power_law fields): the leave-one-out
    choice, worded by how many bootstrap resamples agree. A choice most resamples contradicted
    read "fits better" (hunt 23), and `verify subset-sum` printed "Preferred" whatever the
    share (hunt 181 M1): both reports word it here. `unbootstrapped`: what the choice would
    need to be bootstrapped, in the caller's terms (pruning-gap adds its --nested trials;
    subset-sum has no such flag, hunt 183 L4); `over`: what the x values are ("widths",
    "values of n")."""
    ratio = f"leave-one-out error ratio {ratio_words(cmp.loo_ratio)}"
    if cmp.decay is False:  # flat data picked a "winner" by design alone (hunt 46 M1)
        lo, hi = cmp.power_law.ci
        return (f"no clear decay over these {over}, so neither model is preferred (exponent "
                f"{_g(cmp.power_law.estimate)}, CI [{_g(lo)}, {_g(hi)}])")
    if not cmp.preferred and (cmp.loo_ratio is None or math.isnan(cmp.loo_ratio)):
        # two widths: nothing was compared, "neither fits better" read as a finding (hunt 57)
        return ("the models are not compared: a leave-one-out comparison needs 3 or more "
                f"{over}")
    if not cmp.preferred:
        return f"neither model fits better ({ratio})"
    share = cmp.bootstrap_share.get(cmp.preferred, math.nan)
    if math.isnan(share):  # read as "most resamples prefer the other model" (hunt 33)
        return (f"{cmp.preferred} has the smaller leave-one-out error ({ratio}; the choice "
                f"is not bootstrapped: {unbootstrapped})")
    said = f"{ratio}; preferred in {share_words(share)} % of bootstrap resamples"
    if share >= STRONG_SHARE:
        return f"{cmp.preferred} fits better ({said})"
    if share >= 0.5:
        return f"{cmp.preferred} fits a little better ({said}): weak"
    return (f"{cmp.preferred} has the smaller leave-one-out error ({said}): no clear "
            "preference, most resamples prefer the other model")


def _g(x: float | None) -> str:
    if x is None or (isinstance(x, float) and math.isnan(x)):
        return "—"
    return _three_digits(x)
