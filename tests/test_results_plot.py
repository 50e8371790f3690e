"""`exactprune results plot`: scaling curves from a results store.

The quartiles of a hand-built store are checked against hand-computed values; a real sweep's
curves against the medians of its runs read back through `results export` (another path
through the store); the plot files are real PNG / SVG files written by matplotlib.
"""

from __future__ import annotations

import json
import re
import statistics
from pathlib import Path

import numpy as np
import pytest

from exactprune.benchmarks.results_plot import plot_curves, results_curves, scaling_curves
from exactprune.benchmarks.store import ResultStore
from exactprune.cli import main
from exactprune.instances.errors import InputError

pytest.importorskip("matplotlib")


def _put(store: ResultStore, params: dict, solver: str, trial: int, status: str,
         objective: float | None, certified: bool, experiment: str = "e") -> None:
    spec = {"experiment": experiment, "kind": "subset_sum", "params": params, "solver": solver,
            "trial": trial}
    store.put(ResultStore.key(spec), spec, status,
              {"status": status, "objective": objective, "certified": certified, "kept": trial},
              0.5 + trial)


@pytest.fixture()
def hand_store(tmp_path: Path) -> Path:
    """Solver A at n = 4: objectives 1, 2, 3, 4 (certified but the last), an error row and a
    row without an objective; at n = 8: one run. Solver B at n = 4 and d = 2 or 3."""
    db = tmp_path / "hand.sqlite"
    with ResultStore(db) as store:
        for t, obj in enumerate([3.0, 1.0, 4.0, 2.0]):
            _put(store, {"n": 4, "d": 2}, "A", t, "optimal" if t != 2 else "time_limit", obj,
                 t != 2)
        _put(store, {"n": 4, "d": 2}, "A", 4, "error", 0.001, False)
        _put(store, {"n": 4, "d": 2}, "A", 5, "infeasible", None, True)
        _put(store, {"n": 8, "d": 2}, "A", 0, "optimal", 0.5, True)
        _put(store, {"n": 4, "d": 2}, "B", 0, "feasible", 7.0, False)
        _put(store, {"n": 4, "d": 3}, "B", 0, "feasible", 9.0, False)
    return db


def test_a_point_with_a_killed_run_is_not_marked_every_run_certified(tmp_path: Path) -> None:
    """Hunt 177 L1: two certified runs beside two a `--timeout` killed got a filled marker,
    the legend saying "every run certified"; the killed ones are the hard instances."""
    db = tmp_path / "k.sqlite"
    with ResultStore(db) as store:
        for t in range(2):
            _put(store, {"n": 4}, "A", t, "optimal", 1.0 + t, True)
            _put(store, {"n": 8}, "A", t, "optimal", 1.0 + t, True)
        for t in (2, 3):
            _put(store, {"n": 8}, "A", t, "killed", None, False)
    four, eight = results_curves(db, "n").curves[0].points
    assert (eight.runs, eight.failed, eight.used, eight.certified) == (4, 2, 2, 2)
    assert four.all_certified and not eight.all_certified


def test_quartiles_counts_and_series_are_as_hand_computed(hand_store: Path) -> None:
    curves = results_curves(hand_store, "n")
    assert curves.experiment == "e" and curves.constant == {}
    by_label = {c.label: c for c in curves.curves}
    assert sorted(by_label) == ["A, d=2", "B, d=2", "B, d=3"]
    four, eight = by_label["A, d=2"].points
    # 1, 2, 3, 4 -> linear percentiles 1.75, 2.5, 3.25; the error row is counted, not used;
    # the infeasible run has no objective
    assert (four.x, four.runs, four.failed, four.used, four.certified, four.unanswered) == \
        (4, 6, 1, 4, 3, 1)
    assert (four.q1, four.median, four.q3) == (1.75, 2.5, 3.25)
    assert (eight.x, eight.runs, eight.used, eight.certified) == (8, 1, 1, 1)
    assert eight.all_certified and not four.all_certified
    assert eight.q1 == eight.median == eight.q3 == 0.5
    assert by_label["B, d=3"].points[0].median == 9.0
    kept = {c.label: c for c in results_curves(hand_store, "n", y="kept").curves}
    assert kept["A, d=2"].points[0].median == statistics.median([0, 1, 2, 3, 5])
    times = {c.label: c for c in results_curves(hand_store, "n", y="wall_time_s").curves}
    assert times["A, d=2"].points[0].median == statistics.median([0.5, 1.5, 2.5, 3.5, 5.5])
    # d alone varies within B; with x = d, n = 4 is constant in B's runs but not in A's
    by_d = results_curves(hand_store, "d")
    assert {c.label for c in by_d.curves} == {"A, n=4", "A, n=8", "B, n=4"}


def test_refusals_name_what_there_is(hand_store: Path, tmp_path: Path) -> None:
    with pytest.raises(InputError, match=r"--x m is not a parameter of these runs \(numeric "
                                         r"parameters: d, n\)"):
        results_curves(hand_store, "m")
    with pytest.raises(InputError, match="unknown run number 'gap'"):
        results_curves(hand_store, "n", y="gap")
    with pytest.raises(InputError, match="no runs of experiment 'x' in .*it has: e"):
        results_curves(hand_store, "n", experiment="x")
    with ResultStore(hand_store) as store:
        _put(store, {"n": 4, "d": 2, "domain": "sphere"}, "A", 0, "optimal", 1.0, True, "f")
    with pytest.raises(InputError, match=r"holds 2 experiments \(e, f\): choose one"):
        results_curves(hand_store, "n")
    with ResultStore(hand_store) as store:  # runs the API stored without a name (hunt 165 M4)
        store.put("k", {"params": {"n": 4}, "solver": "A"}, "optimal", {"objective": 1.0}, 0.1)
    with pytest.raises(InputError, match=r"holds 2 experiments \(e, f\) and runs stored "
                                         "without an experiment name: choose one"):
        results_curves(hand_store, "n")
    with pytest.raises(InputError, match="--x domain is not a number in every run"):
        results_curves(hand_store, "domain", experiment="f")
    with pytest.raises(InputError, match="no runs to plot"):
        scaling_curves([], "n")
    with pytest.raises(InputError, match=r"\.png or \.svg"):
        plot_curves(results_curves(hand_store, "n", experiment="e"), tmp_path / "p.pdf")
    assert not (tmp_path / "p.pdf").exists()


def test_cli_plots_a_real_sweep_and_its_medians_are_the_stored_runs(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    db = tmp_path / "s.sqlite"
    assert main(["sweep", "subset-sum", "--param", "n=6,10,14", "--seeds", "3", "--solvers",
                 "mitm,greedy", "--store", str(db), "--jobs", "0", "--no-progress"]) == 0
    capsys.readouterr()
    assert main(["results", "export", "--store", str(db), "--format", "jsonl"]) == 0
    rows = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    for suffix, signature in ((".png", b"\x89PNG\r\n\x1a\n"), (".svg", b"<?xml")):
        out = tmp_path / f"curves{suffix}"
        assert main(["results", "plot", "--store", str(db), "--x", "n", "-o", str(out),
                     "--json"]) == 0
        body = json.loads(capsys.readouterr().out)
        assert out.read_bytes().startswith(signature) and out.stat().st_size > 5000
        assert body["plot"] == str(out) and body["x"] == "n" and body["y"] == "objective"
        for curve in body["curves"]:
            for point in curve["points"]:
                mine = [r["record"]["objective"] for r in rows
                        if r["solver"] == curve["solver"] and r["spec"]["params"]["n"] ==
                        point["x"]]
                assert point["runs"] == len(mine) == 3
                assert point["median"] == statistics.median(mine)
                assert point["certified"] == (3 if curve["solver"] == "mitm" else 0)
    assert main(["results", "plot", "--store", str(db), "--x", "n", "--y", "wall_time_s",
                 "-o", str(tmp_path / "t.png")]) == 0
    out, err = capsys.readouterr()
    assert out.splitlines()[0] == "sweep_subset_sum: median wall_time_s against n"
    assert "| mitm | 6 | 3 | 3 | 0 |" in out and err.strip() == f"plot in {tmp_path / 't.png'}"


def test_a_median_of_zero_is_told_not_drawn_on_a_log_axis(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    db = tmp_path / "z.sqlite"
    with ResultStore(db) as store:
        for n, obj in ((4, 0.0), (8, 0.25)):
            _put(store, {"n": n}, "A", 0, "optimal", obj, True)
    assert main(["results", "plot", "--store", str(db), "--x", "n", "-o",
                 str(tmp_path / "z.png")]) == 0
    assert "1 median <= 0 not drawn on the log y axis" in capsys.readouterr().err
    assert main(["results", "plot", "--store", str(db), "--x", "n", "--linear-y", "-o",
                 str(tmp_path / "z.png")]) == 0
    assert "not drawn" not in capsys.readouterr().err


@pytest.mark.parametrize(("argv", "said"), [
    (["--x", "n", "-o", "p.txt"], r"-o .*p\.txt: a plot is written as a \.png or \.svg file"),
    (["--x", "n", "-o", "-"], r"-o -: a plot is written as a \.png or \.svg file"),
    (["--x", "n", "-o", "hand.sqlite"], "is also an input of this command"),
    (["--x", "n", "-o", "nofolder/p.png"], "does not exist"),
    (["--x", "q", "-o", "p.png"], "--x q is not a parameter"),
    (["--x", "n", "--experiment", "zz", "-o", "p.png"], "no runs of experiment 'zz'"),
])
def test_bad_input_is_one_line_exit_2_and_nothing_written(
        hand_store: Path, argv: list[str], said: str, capsys: pytest.CaptureFixture[str],
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(hand_store.parent)

    def files() -> list[str]:  # SQLite's own -wal / -shm of a reader aside (docs/verify.md)
        return sorted(p.name for p in hand_store.parent.iterdir()
                      if not p.name.endswith(("-wal", "-shm")))

    before = files()
    assert main(["results", "plot", "--store", hand_store.name, *argv]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and err.startswith("exactprune: error: ")
    assert re.search(said, err), err
    assert files() == before


def test_grid_values_beyond_2_to_53_are_their_own_points(tmp_path: Path) -> None:
    """Hunt 165 H1: float() merged 2^53 and 2^53 + 1 into one point of 6 runs, median 0.5."""
    db = tmp_path / "big.sqlite"
    with ResultStore(db) as store:
        for x, obj in ((2**53, 0.2), (2**53 + 1, 0.8)):
            for t in range(3):
                _put(store, {"n": x}, "A", t, "optimal", obj, True)
    (curve,) = results_curves(db, "n").curves
    assert [(p.x, p.runs, p.median) for p in curve.points] == [(2**53, 3, 0.2),
                                                               (2**53 + 1, 3, 0.8)]


@pytest.mark.parametrize("logx", [False, True])
def test_many_series_stay_beside_their_own_grid_value(logx: bool) -> None:
    """Hunt 165 H2: with 26 series the fixed sideways step drew series s00's n = 12 at n = 8;
    hunt 166 M2: a series with one x (spacing taken as 1) was drawn at 0.06 for 0.02."""
    from exactprune.benchmarks.plots import _dodge, _grid_gap

    grid, lone = np.array([8.0, 12.0, 16.0]), np.array([12.0])
    gap = _grid_gap([grid, lone], logx)
    assert gap == pytest.approx(np.log(16 / 12) if logx else 4.0, rel=1e-12)
    for count in (2, 8, 26, 100):
        for index in (0, count - 1):
            for x in (grid, lone):
                moved = _dodge(x, index, count, logx, gap)
                off = np.abs(np.log(moved / x)) / gap if logx else np.abs(moved - x) / gap
                assert np.all(off <= 0.3 + 1e-12) and np.all(moved > 0)
    one = np.array([0.02])  # one x in the whole figure: offsets relative to it
    assert abs(_dodge(one, 1, 2, False, _grid_gap([one, one], False))[0] - 0.02) <= 0.006


def test_series_past_twenty_colours_are_told_apart_by_line_style() -> None:
    """Twenty colours, then the same colours dashed, then dotted: the 21st series is not
    drawn as the first again; a legend of many series goes beside the axes (a wider figure)."""
    from exactprune.benchmarks.plots import median_curves_figure

    def svg(count: int) -> str:
        x = np.array([4.0, 8.0])
        series = {f"s{i:02d}": (x, x / 2, x, x * 2, [True, False]) for i in range(count)}
        drawn = median_curves_figure(series, "svg", "t", "n", "y", logy=False)
        assert drawn is not None
        return drawn[0].decode()

    def width(text: str) -> float:
        return float(re.search(r'<svg[^>]*width="([0-9.]+)pt"', text).group(1))

    few, twenty, more = svg(10), svg(20), svg(21)
    assert "stroke-dasharray" not in twenty  # every curve solid
    assert "stroke-dasharray" in more  # the 21st dashed
    assert width(few) < width(twenty) == width(more)


def test_a_bench_store_has_one_curve_per_solver_over_the_suites_seeds(tmp_path: Path) -> None:
    """Hunt 165 M2: a bench run's instance parameters hold its seed, which made each run a
    curve of its own: the seed is the trial."""
    from exactprune.benchmarks import bench

    bench.run_bench("smoke-subset-sum", ["mitm", "greedy"], time_limit=10, out=tmp_path / "b",
                    jobs=0, progress=False, plots=False)
    curves = results_curves(tmp_path / "b" / "results.sqlite", "n")
    assert sorted(c.label for c in curves.curves) == ["greedy", "mitm"]
    assert "seed" not in curves.constant
    assert all(p.runs > 1 for c in curves.curves for p in c.points)


def test_numbers_a_figure_cannot_hold_are_refused_and_log_notes_name_their_axis(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """Hunt 165 M1: x near 1.7e308 was an internal error in matplotlib's ticks; M3: x <= 0 on a
    log x axis was told as a y median, with --linear-y as the remedy; L1: one point printed
    matplotlib's warning about identical y limits."""
    huge, low = tmp_path / "huge.sqlite", tmp_path / "low.sqlite"
    with ResultStore(huge) as store:
        for x in (1.7e308, 0.5):
            _put(store, {"n": x}, "A", 0, "optimal", 0.5, True)
    with ResultStore(low) as store:
        for x, obj in ((0, 0.5), (2, 0.0), (4, 0.25)):
            _put(store, {"n": x}, "A", 0, "optimal", obj, True)
    out = tmp_path / "p.png"
    assert main(["results", "plot", "--store", str(huge), "--x", "n", "-o", str(out)]) == 2
    assert "numbers beyond 1e+300 cannot be drawn" in capsys.readouterr().err
    assert not out.exists()
    assert main(["results", "plot", "--store", str(low), "--x", "n", "--logx", "-o",
                 str(out)]) == 0
    err = capsys.readouterr().err.strip().splitlines()
    assert err == ["exactprune: note: 1 point with n <= 0 not drawn on the log x axis",
                   "exactprune: note: 1 median <= 0 not drawn on the log y axis (--linear-y "
                   "draws them)", f"plot in {out}"]
    one = tmp_path / "one.sqlite"
    with ResultStore(one) as store:
        _put(store, {"n": 4}, "A", 0, "optimal", 0.5, True)
    assert main(["results", "plot", "--store", str(one), "--x", "n", "-o", str(out)]) == 0
    assert capsys.readouterr().err.strip() == f"plot in {out}"
