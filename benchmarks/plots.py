"""Small plotting helpers: each writes `<path_stem>.png` and `<path_stem>.svg` (but
`median_curves_figure`, which returns one format's bytes for a file the user names).

matplotlib is an optional extra (`pip install 'exactprune[plot]'`). It is imported lazily; when
it is missing every function returns an empty list after one warning line on stderr, so an
experiment still produces its tables and report. Figures are built with the object-oriented API
on the Agg canvas (no pyplot, no global backend switch, no figure leaks) and written through a
temporary file and a rename, so a crash never leaves a half-written image.

Series are plain arrays: x (n, width, ...) against y values. On a log axis, non-positive values
cannot be drawn: they are left out (points) or clipped to the bottom of the axis with a downward
triangle (a bracket whose lower end is 0).
"""

from __future__ import annotations

import math
import os
import sys
import tempfile
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from exactprune.instances.errors import InputError
from exactprune.instances.io import user_file_mode

FORMATS = ("png", "svg")
_warned = False
_missing_why = ""
SERIES_COLORS = (*(f"C{i}" for i in range(10)), "black", "gold", "teal", "navy", "lime",
                 "maroon", "darkviolet", "sienna", "deeppink", "darkgray")
"""Twenty distinct line colours: matplotlib's ten, then ten others (a bench profile has 12+
solvers; with the ten alone, cbc and scip were both orange)."""


SERIES_LINESTYLES = ("-", "--", ":")
"""Line styles of the median curves: solid for the first 20 series, then dashed, then dotted,
so that 60 series are told apart (a sweep over a grid of several parameters gives many)."""
DISTINCT_SERIES = len(SERIES_COLORS) * len(SERIES_LINESTYLES)


def series_color(index: int) -> str:
    """The colour of the index-th series of a plot (distinct for the first 20)."""
    return SERIES_COLORS[index % len(SERIES_COLORS)]


def series_linestyle(index: int) -> str:
    """The line style of the index-th median curve: with its colour, distinct for the first
    `DISTINCT_SERIES`."""
    return SERIES_LINESTYLES[(index // len(SERIES_COLORS)) % len(SERIES_LINESTYLES)]


def _figure_class() -> Any:
    """matplotlib's Figure class (Agg canvas), or None with a one-line warning if missing."""
    global _warned, _missing_why
    from exactprune.termination import interruptions_pass

    try:
        # a Ctrl-C in matplotlib's compiled start-up is an ImportError("initialization
        # failed"): the report went in without plots, "not installed" (hunt 155 M2); one a
        # caller was already handling is not ours (hunt 157 M1)
        with interruptions_pass():
            from matplotlib.backends.backend_agg import FigureCanvasAgg  # noqa: F401
            from matplotlib.figure import Figure
    except ImportError as exc:
        missing = isinstance(exc, ModuleNotFoundError) and (exc.name or "").split(".")[0] \
            == "matplotlib"
        _missing_why = "is not installed (pip install 'exactprune[plot]')" if missing else \
            f"cannot be imported ({type(exc).__name__}: {exc})"
        if not _warned:
            print(f"exactprune: warning: matplotlib {_missing_why}: plots skipped",
                  file=sys.stderr)
            _warned = True
        return None
    return Figure


def plotting_available() -> bool:
    """True when matplotlib can be imported (warns once otherwise)."""
    return _figure_class() is not None


def with_plots_note(report: str) -> str:
    """`report` (Markdown), with a last line saying why its plots are missing when matplotlib
    cannot draw them: stderr's warning is gone when the command ends, the report stays."""
    if plotting_available():
        return report
    return f"{report.rstrip(chr(10))}\n\nPlots: none drawn, matplotlib {_missing_why}.\n"


def _new_axes(title: str, xlabel: str, ylabel: str, logx: bool, logy: bool) -> Any:
    figure_cls = _figure_class()
    if figure_cls is None:
        return None, None
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    fig = figure_cls(figsize=(6.4, 4.4), layout="constrained")
    FigureCanvasAgg(fig)
    ax = fig.add_subplot()
    ax.set_title(title, fontsize=10)
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    if logx:
        ax.set_xscale("log")
    if logy:
        ax.set_yscale("log")
    ax.grid(True, which="major", alpha=0.3)
    return fig, ax


def _integer_ticks(ax: Any, xs: list[np.ndarray], logx: bool) -> None:
    """Whole-number x ticks when every x is an integer (n, width): on a linear axis by
    matplotlib's integer locator; on a log axis at the data's own values when they are few
    and positive (its default minor labels read "2×10^1" for 20)."""
    vals = np.concatenate([x[np.isfinite(x)] for x in xs]) if xs else np.zeros(0)
    if not len(vals) or not np.all(vals == np.round(vals)):
        return
    from matplotlib.ticker import MaxNLocator, NullLocator, ScalarFormatter

    if not logx:
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    elif np.all(vals > 0) and len(np.unique(vals)) <= 12:
        ax.set_xticks(np.unique(vals))
        ax.xaxis.set_major_formatter(ScalarFormatter())
        ax.xaxis.set_minor_locator(NullLocator())


def save_figure(fig: Any, path_stem: str | os.PathLike[str]) -> list[Path]:
    """Write `fig` as PNG and SVG next to each other, atomically; returns the paths."""
    stem = Path(path_stem)
    stem.parent.mkdir(parents=True, exist_ok=True)
    written = []
    for fmt in FORMATS:
        target = stem.with_name(f"{stem.name}.{fmt}")
        fd, tmp = tempfile.mkstemp(prefix=f".{target.name[:50]}.", dir=target.parent)
        os.close(fd)
        try:
            with np.errstate(over="ignore", under="ignore"):  # log axes near 1e308: harmless
                fig.savefig(tmp, format=fmt, dpi=120)
            os.chmod(tmp, user_file_mode())  # mkstemp's 0o600 made plots unreadable to others
            os.replace(tmp, target)
        except BaseException as exc:
            Path(tmp).unlink(missing_ok=True)
            if isinstance(exc, OSError):  # a full disk read as stdout's failure (hunt 157 L4)
                shown = target.parent.parent / target.name if target.parent.name.startswith(
                    ".exactprune-staging-") else target  # the report's file, not the stage
                raise InputError(f"cannot write {shown}: {exc.strerror or exc}") from None
            raise
        written.append(target)
    return written


def _arr(values: Any) -> np.ndarray:
    return np.asarray([np.nan if v is None else v for v in np.asarray(values, dtype=object)],
                      dtype=np.float64)


def _grid_gap(xs: Sequence[np.ndarray], logx: bool) -> float:
    """The smallest gap between the x values of all the series of one figure (in log x on a
    log axis); with one x value in all, |x| (log 2 on a log axis; 1 at x = 0)."""
    finite = [x[np.isfinite(x) & ((x > 0) if logx else True)] for x in xs]
    values = np.unique(np.concatenate(finite)) if finite else np.zeros(0)
    if logx:
        values = np.log(values)
    if len(values) > 1:
        return float(np.min(np.diff(values)))
    if logx or len(values) == 0 or values[0] == 0:
        return float(np.log(2.0)) if logx else 1.0
    return float(abs(values[0]))


def _dodge(x: np.ndarray, index: int, count: int, logx: bool, gap: float) -> np.ndarray:
    """Shift series sideways a little so that bars at the same x do not hide each other; all
    the series together stay within ±0.3 of the figure's x spacing `gap` (_grid_gap): with
    many series a fixed step moved medians onto the neighbouring grid values (hunt 165 H2),
    and a series' own spacing (1 for a single x) drew one far from its x (hunt 166 M2)."""
    if count <= 1 or len(x) == 0:
        return x
    shift = index - (count - 1) / 2.0
    if logx:
        return x * np.exp(min(0.03, 0.6 * gap / (count - 1)) * shift)
    return x + min(0.08, 0.6 / (count - 1)) * gap * shift


def bracket_plot(
    series: Mapping[str, tuple[Any, Any, Any, Any]],
    path_stem: str | os.PathLike[str],
    title: str,
    logx: bool = False,
    logy: bool = True,
    *,
    xlabel: str = "n",
    ylabel: str = "error",
    reference: Mapping[str, tuple[Any, Any]] | None = None,
    hollow: Mapping[str, Any] | None = None,
) -> list[Path]:
    """Vertical bars [lower, upper] per x, with an optional point marker, for each series.

    series: name -> (x, lower, upper, point); x, lower, upper: arrays of the same length;
    point: an array of the same length or None (entries may be None/NaN: not drawn). Fits an
    error-bar plot (point = mean, bars = CI) as well as a certified bracket plot (lower = a
    proven lower bound, upper = an achieved error, point = None). reference: name -> (x, y)
    dashed curves (a theoretical rate, a fitted line). hollow: name -> booleans, one per x:
    where true the point's marker is drawn hollow (a median that is not a certified optimum
    in every trial). Returns the written paths ([] without matplotlib).
    """
    fig, ax = _new_axes(title, xlabel, ylabel, logx, logy)
    if fig is None:
        return []
    positive_floor = np.inf
    prepared = []
    for name, (x, lower, upper, point) in series.items():
        xs, lo, hi = _arr(x), _arr(lower), _arr(upper)
        pt = None if point is None else _arr(point)
        if not (len(xs) == len(lo) == len(hi)) or (pt is not None and len(pt) != len(xs)):
            raise ValueError(f"series {name!r}: x, lower, upper (and point) differ in length")
        for arr in (lo, hi) if pt is None else (lo, hi, pt):
            pos = arr[np.isfinite(arr) & (arr > 0)]
            if len(pos):
                positive_floor = min(positive_floor, float(pos.min()))
        prepared.append((name, xs, lo, hi, pt))
    floor = positive_floor / 4.0 if np.isfinite(positive_floor) else 1e-300
    gap = _grid_gap([p[1] for p in prepared], logx)
    for i, (name, xs, lo, hi, pt) in enumerate(prepared):
        xd = _dodge(xs, i, len(prepared), logx, gap)
        color = series_color(i)
        clipped = np.zeros(len(xs), dtype=bool)
        if logy:
            clipped = np.isfinite(lo) & (lo <= 0)
            lo = np.where(clipped, floor, lo)
            hi = np.where(np.isfinite(hi) & (hi <= 0), np.nan, hi)
        ok = np.isfinite(xd) & np.isfinite(lo) & np.isfinite(hi)
        ax.vlines(xd[ok], lo[ok], hi[ok], color=color, linewidth=1.6,
                  label=name if pt is None else None)
        ax.plot(xd[ok], lo[ok], linestyle="none", marker="_", markersize=8, color=color)
        ax.plot(xd[ok], hi[ok], linestyle="none", marker="_", markersize=8, color=color)
        if clipped.any():
            ax.plot(xd[clipped & ok], lo[clipped & ok], linestyle="none", marker="v",
                    color=color)
        if pt is not None:
            good = np.isfinite(xd) & np.isfinite(pt) & ((pt > 0) if logy else True)
            open_ = np.zeros(len(xs), dtype=bool)
            if hollow is not None and name in hollow:
                open_ = np.asarray(hollow[name], dtype=bool)
                if open_.shape != (len(xs),):  # numpy's IndexError (hunt 183 L7)
                    raise ValueError(f"series {name!r}: hollow differs in length from x")
            filled = np.flatnonzero(~open_[good]).tolist()  # among the drawn points
            ax.plot(xd[good], pt[good], marker="o", markersize=4, color=color, label=name,
                    markevery=filled)
            if (good & open_).any():
                ax.plot(xd[good & open_], pt[good & open_], linestyle="none", marker="o",
                        markersize=4, color=color, markerfacecolor="white")
    for j, (name, (rx, ry)) in enumerate((reference or {}).items()):
        rxs, rys = _arr(rx), _arr(ry)
        ax.plot(rxs, rys, linestyle="--", color=series_color(len(prepared) + j), label=name)
    _integer_ticks(ax, [p[1] for p in prepared], logx)
    # below the axes, the figure taller by its lines: inside, the long labels hid the curves
    entries = len(ax.get_legend_handles_labels()[1])
    fig.set_figheight(fig.get_figheight() + 0.2 * entries)
    fig.legend(fontsize=8, loc="outside lower center")
    return save_figure(fig, path_stem)


def probability_plot(
    series: Mapping[str, tuple[Any, Any, Any, Any]],
    path_stem: str | os.PathLike[str],
    title: str,
    *,
    threshold: float | None = None,
    xlabel: str = "n",
    ylabel: str = "probability",
) -> list[Path]:
    """Probability against x with confidence bars, one curve per series.

    series: name -> (x, p, lo, hi) (e.g. an empirical P(radius <= eps) with its Wilson
    interval); threshold: a horizontal dotted line (e.g. 1 − delta).
    """
    fig, ax = _new_axes(title, xlabel, ylabel, False, False)
    if fig is None:
        return []
    items = list(series.items())
    gap = _grid_gap([_arr(v[0]) for _, v in items], False)
    for i, (name, (x, p, lo, hi)) in enumerate(items):
        xs, ps, los, his = _arr(x), _arr(p), _arr(lo), _arr(hi)
        xd = _dodge(xs, i, len(items), False, gap)
        ok = np.isfinite(xd) & np.isfinite(ps)
        err = np.vstack([np.clip(ps - los, 0, None), np.clip(his - ps, 0, None)])
        err = np.where(np.isfinite(err), err, 0.0)
        ax.errorbar(xd[ok], ps[ok], yerr=err[:, ok], marker="o", markersize=4, capsize=3,
                    color=series_color(i), label=name)
    if threshold is not None:
        ax.axhline(threshold, linestyle=":", color="grey", label=f"{threshold:g}")
    ax.set_ylim(-0.03, 1.03)
    _integer_ticks(ax, [_arr(v[0]) for v in series.values()], False)
    ax.legend(fontsize=8)
    return save_figure(fig, path_stem)


def median_curves_figure(
    series: Mapping[str, tuple[Any, Any, Any, Any, Any]],
    fmt: str,
    title: str,
    xlabel: str,
    ylabel: str,
    *,
    logx: bool = False,
    logy: bool = True,
) -> tuple[bytes, int, int] | None:
    """Medians joined by a line with quartile bars, one curve per series, as `fmt` ("png" or
    "svg") bytes, with the numbers of points a log axis could not draw: those with x <= 0 (log
    x), and the other medians <= 0 (log y); None without matplotlib (one warning). series:
    name -> (x, q1, median, q3, certified), the last a bool per x: a filled marker where True
    (every run there certified), hollow elsewhere."""
    fig, ax = _new_axes(title, xlabel, ylabel, logx, logy)
    if fig is None:
        return None
    import io
    import warnings

    from matplotlib.lines import Line2D

    hidden_x = hidden_y = 0
    items = list(series.items())
    gap = _grid_gap([_arr(v[0]) for _, v in items], logx)
    for i, (name, (x, q1, med, q3, certified)) in enumerate(items):
        xs, los, mids, his = _arr(x), _arr(q1), _arr(med), _arr(q3)
        full = np.asarray(certified, dtype=bool)
        drawable = np.isfinite(xs) & np.isfinite(mids)
        if logx:
            hidden_x += int(np.sum(drawable & (xs <= 0)))
            drawable &= xs > 0
        if logy:
            hidden_y += int(np.sum(drawable & (mids <= 0)))
            drawable &= mids > 0
            los = np.where(np.isfinite(los) & (los <= 0), np.nan, los)  # bar from the median
        xd, color = _dodge(xs, i, len(items), logx, gap), series_color(i)
        ax.plot(xd[drawable], mids[drawable], linestyle=series_linestyle(i), color=color,
                linewidth=1.2, label=name)
        bars = drawable & np.isfinite(his)
        ax.vlines(xd[bars], np.where(np.isfinite(los), los, mids)[bars], his[bars],
                  color=color, linewidth=1.0, alpha=0.7)
        for mask, face in ((drawable & full, color), (drawable & ~full, "white")):
            ax.plot(xd[mask], mids[mask], linestyle="none", marker="o", markersize=5,
                    color=color, markerfacecolor=face)
    _integer_ticks(ax, [_arr(v[0]) for v in series.values()], logx)
    handles, labels = ax.get_legend_handles_labels()
    handles += [Line2D([], [], linestyle="none", marker="o", color="grey"),
                Line2D([], [], linestyle="none", marker="o", color="grey",
                       markerfacecolor="white")]
    labels += ["every run certified", "not every run certified"]
    if len(items) <= 10:
        ax.legend(handles, labels, fontsize=8)
    else:  # beside the axes: over them it would hide the curves
        columns = math.ceil(len(labels) / 32)
        fig.set_figwidth(6.4 + 2.4 * columns)
        ax.legend(handles, labels, fontsize=6, ncols=columns, loc="upper left",
                  bbox_to_anchor=(1.01, 1.0), borderaxespad=0.0)
    buf = io.BytesIO()
    # a crowded legend ("constrained_layout not applied") or one point ("identical low and
    # high ylims") are matplotlib's warnings with its file paths on stderr (hunt 165 L1)
    with np.errstate(over="ignore", under="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        fig.savefig(buf, format=fmt, dpi=120)
    return buf.getvalue(), hidden_x, hidden_y


def scatter_fit_plot(
    x: Any,
    y: Any,
    path_stem: str | os.PathLike[str],
    title: str,
    *,
    fit: Any = None,
    fit_label: str | None = None,
    means: tuple[Sequence[float], Sequence[float]] | None = None,
    xlabel: str = "n",
    ylabel: str = "y",
    logx: bool = False,
    logy: bool = False,
) -> list[Path]:
    """Scatter of (x, y) with an optional fitted curve and per-x means.

    fit: anything with `predict(x)` (a `exactprune.benchmarks.fits.Fit`), drawn over the
    range of x; fit_label defaults to its estimate and CI. means: (x, y) drawn as large markers.
    """
    fig, ax = _new_axes(title, xlabel, ylabel, logx, logy)
    if fig is None:
        return []
    xs, ys = _arr(x), _arr(y)
    ok = np.isfinite(xs) & np.isfinite(ys)
    if logx:
        ok &= xs > 0
    if logy:
        ok &= ys > 0
    # faint small dots for clouds of trials; a few points (two n-needed values) were hidden
    # under the fit line at that style (hunt 91 L2), so they get full markers drawn on top
    few = int(ok.sum()) <= 20
    ax.scatter(xs[ok], ys[ok], s=30 if few else 6, alpha=0.9 if few else 0.25, color="C0",
               label="data", linewidths=0, zorder=3 if few else None)
    if means is not None:
        mx, my = _arr(means[0]), _arr(means[1])
        ax.plot(mx, my, linestyle="none", marker="D", markersize=5, color="C1", label="mean")
    if fit is not None and ok.any() and getattr(fit, "ok", True):
        lo, hi = float(xs[ok].min()), float(xs[ok].max())
        grid = np.geomspace(lo, hi, 200) if logx and lo > 0 else np.linspace(lo, hi, 200)
        if fit_label is None:
            est, (clo, chi) = fit.estimate, fit.ci
            interval = f" [{clo:.4g}, {chi:.4g}]" if np.isfinite([clo, chi]).all() else ""
            fit_label = f"fit: {fit.parameter} = {est:.4g}{interval}"  # no CI: no bracket
        ax.plot(grid, fit.predict(grid), color="C3", label=fit_label)
    _integer_ticks(ax, [xs], logx)
    ax.legend(fontsize=8)
    return save_figure(fig, path_stem)
