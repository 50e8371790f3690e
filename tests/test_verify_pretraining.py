"""`verify pretraining` (SCIENCE.md §3) end to end, its threshold rule, and the `trained` suite."""

from __future__ import annotations

import json
import math
import shlex
from pathlib import Path

import numpy as np
import pytest

from exactprune.benchmarks.neuron_selection import pretraining as pt
from exactprune.cli import main

TINY = ["verify", "pretraining", "--data", "digits-pair", "--sizes", "30,60", "--iters",
        "0,5,20", "--hidden", "6", "--k", "2", "--trials", "2", "--jobs", "0"]


def test_tiny_run_json_and_store_resume(tmp_path: Path,
                                        capsys: pytest.CaptureFixture[str]) -> None:
    args = [*TINY, "--out", str(tmp_path / "out"), "--store", str(tmp_path / "pt.sqlite"),
            "--json"]
    assert main(args) == 0
    data = json.loads(capsys.readouterr().out)
    fit = data["fits"]["threshold_vs_log_m"]
    assert set(fit) >= {"estimate", "ci"} and len(fit["ci"]) == 2
    assert set(data["fits"]["exact_threshold_vs_log_m"]) >= {"estimate", "ci"}
    assert data["sizes"] == [30, 60] and data["iters"] == [0, 5, 20]
    for m in ("30", "60"):
        th = data["thresholds"][m]
        assert len(th["per_trial"]) == 2 and th["trials"] == 2
        assert all(v is None or v in (0, 5, 20) for v in th["per_trial"])
        assert th["censored"] == sum(v is None for v in th["per_trial"])
        assert [r["iter"] for r in data["losses"][m]] == [0, 5, 20]
        for run in data["runs"][m]:
            for row in run["checkpoints"]:
                tol = 1e-9 * max(1.0, row["gfs"])
                assert row["certified"]
                assert row["exact"] <= row["gfs"] + tol  # the best k units beat greedy's
                assert row["exact_bound"] <= row["exact"] + tol
                assert row["dense"] > 0 and len(row["gfs_units"]) == 2
            # a trial's threshold is the rule applied to its own curves
            rows = run["checkpoints"]
            assert pt.threshold([r["iter"] for r in rows], [r["gfs"] for r in rows],
                                [r["dense"] for r in rows], 1.5) == \
                th["per_trial"][run["trial"]]
    out = tmp_path / "out"
    assert (out / "report.md").exists()
    assert (out / "losses-m30.png").exists()
    assert f"Command: `exactprune {shlex.join(args)}`" in (out / "report.md").read_text()
    from exactprune.invocation import command_line
    assert command_line() is None  # forgotten when main returns: no stale command in the API
    drawn = any(data[key][m]["median"] is not None for key in ("thresholds", "exact_thresholds")
                for m in ("30", "60"))  # no empty axes when every median is censored
    assert (out / "threshold_vs_m.png").exists() == drawn
    # a second run reads every trial back from the store: same tables
    assert main(args) == 0
    again = json.loads(capsys.readouterr().out)
    for key in ("thresholds", "exact_thresholds", "losses", "fits"):
        assert again[key] == data[key]


def test_whole_net_is_the_dense_net() -> None:
    """With k = N the only subnetwork is the net: exact = GFS = dense, and the dense loss is
    the trainer's squared loss in the kind's units (mean over m·C entries, no factor 1/2)."""
    spec = {"experiment": pt.EXPERIMENT, "data": "digits-pair", "m": 25, "trial": 0,
            "subset_seed": 1, "init_seed": 2, "iters": [0, 3], "hidden": 4, "k": 4,
            "loss": "squared", "lr": 0.1, "solver": "bnb", "time_limit": 30.0}
    rec = pt.trial(spec)
    for row in rec["checkpoints"]:
        assert row["exact"] == pytest.approx(row["dense"], rel=1e-12)
        assert row["gfs"] == pytest.approx(row["dense"], rel=1e-12)
        assert row["dense"] == pytest.approx(2 * row["train_loss"] / 2, rel=1e-9)  # C = 2


def test_selection_instance_matches_the_file_generator(tmp_path: Path) -> None:
    from exactprune.instances.mlp import save_mlp
    from exactprune.instances.neuron_selection import generate_neuron_selection
    from exactprune.instances.training import train_two_layer

    ds = pt.trial_data("teacher", 40, 7)
    mlp = train_two_layer(ds.X_train, ds.y_train, 5, 10, 0.05, seed=3).mlp
    save_mlp(mlp, tmp_path / "net.npz")
    ours = pt.selection_instance(mlp, ds, 2, "l1")
    ref = generate_neuron_selection(str(tmp_path / "net.npz"), "teacher", 2, loss="l1",
                                    samples=40, seed=7)
    for name in ("hidden", "output_weights", "targets"):
        assert np.array_equal(getattr(ours, name), getattr(ref, name))
    mask = ours.full_mask()
    assert ours.evaluate(mask) == ref.evaluate(mask)


@pytest.mark.parametrize("flags", [["--sizes", "0,5"], ["--sizes", "a"], ["--iters", "x"],
                                   ["--iters", "-1,4"], ["--hidden", "6", "--k", "7"],
                                   ["--factor", "0.5"], ["--trials", "0"], ["--jobs", "-1"],
                                   ["--data", "nope"], ["--sizes", "100000"],
                                   ["--solver", "greedy_forward_selection"],
                                   ["--solver", "no_such"], ["--lr", "0"],
                                   ["--reference", "median"], ["--scaling", "ntk"],
                                   ["--reference", "best", "--factor", "0.9"],
                                   ["--iters", "0,200000000"],  # above train's step limit
                                   # hunt 23: every spec built first, then MemoryError, exit 1
                                   ["--trials", "99999999999999"]])
def test_bad_flags_exit_2(flags: list[str], tmp_path: Path,
                          capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "out"
    assert main(["verify", "pretraining", "--out", str(out), *flags]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "Traceback" not in err
    assert not out.exists()


# -- the threshold rule on curves with a known answer ----------------------------------------
ITERS = [0, 10, 30, 100, 300]


@pytest.mark.parametrize("gfs, expected", [
    ([1.0, 1.0, 1.0, 1.0, 1.0], 0),            # good from the start
    ([3.0, 1.2, 1.6, 1.4, 1.0], 100),          # dips out at T = 30: only from 100 on
    ([3.0, 3.0, 1.5, 1.5, 1.5], 30),           # equality counts as within F
    ([1.0, 1.0, 1.0, 1.0, 1.6], None),         # the last checkpoint fails: censored
    ([3.0, 3.0, 3.0, 3.0, 3.0], None),         # never: censored
    ([1.0, None, 1.0, 1.0, 1.0], 30),          # a missing loss fails its checkpoint
])
def test_threshold_rule(gfs: list[float | None], expected: int | None) -> None:
    assert pt.threshold(ITERS, gfs, [1.0] * 5, 1.5) == expected


def test_threshold_rule_scales_with_the_dense_loss() -> None:
    dense = [1.0, 0.5, 0.2, 0.1, 0.05]
    gfs = [0.9, 0.6, 0.35, 0.14, 0.07]  # ratios 0.9, 1.2, 1.75, 1.4, 1.4
    assert pt.threshold(ITERS, gfs, dense, 1.5) == 100
    assert pt.threshold(ITERS, gfs, dense, 2.0) == 0
    assert pt.threshold(ITERS, gfs, dense, 1.0) is None


@pytest.mark.parametrize("gfs, factor, expected", [
    ([3.0, 2.0, 1.0, 1.5, 2.5], 1.1, 30),      # U-shaped: the minimum itself
    ([3.0, 1.05, 1.0, 1.5, 2.5], 1.1, 10),     # within 10 % of the minimum earlier
    ([3.0, 1.1, 1.0, 1.5, 2.5], 1.1, 10),      # equality counts
    ([3.0, 2.0, 1.0, 1.5, 2.5], 2.0, 10),      # a looser factor comes earlier
    ([0.5, 2.0, 1.0, 1.5, 2.5], 1.1, 0),       # best at the start: no pre-training needed
    ([None, 2.0, None, 1.0, 1.05], 1.1, 100),  # missing losses are skipped
    ([None, None, None, None, None], 1.1, None),
])
def test_best_reference_rule(gfs: list[float | None], factor: float,
                             expected: int | None) -> None:
    assert pt.best_threshold(ITERS, gfs, factor) == expected


def test_trial_thresholds_by_reference() -> None:
    rows = [{"iter": T, "dense": d, "gfs": g, "exact": e} for T, d, g, e in
            zip(ITERS, [1.0, 0.5, 0.2, 0.1, 0.05], [0.9, 0.6, 0.5, 0.55, 0.7],
                [0.8, 0.5, 0.4, 0.5, 0.65], strict=True)]
    recs = [{"checkpoints": rows}, {"checkpoints": None}]
    assert pt.trial_thresholds(recs, 1.5, "gfs", "dense") == [None, None]  # dense -> 0
    assert pt.trial_thresholds(recs, 1.5, "gfs", "exact") == [0, None]
    assert pt.trial_thresholds(recs, 1.2, "gfs", "exact") == [100, None]  # 0.5/0.4 > 1.2
    assert pt.trial_thresholds(recs, 1.1, "gfs", "best") == [30, None]
    assert pt.trial_thresholds(recs, 1.1, "exact", "best") == [30, None]
    assert pt.trial_thresholds(recs, 1.3, "exact", "best") == [10, None]


def test_tiny_mean_field_run_with_best_reference(tmp_path: Path,
                                                 capsys: pytest.CaptureFixture[str]) -> None:
    args = [*TINY, "--scaling", "mean-field", "--reference", "best", "--out",
            str(tmp_path / "out"), "--json"]
    assert main(args) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["reference"] == "best" and data["factor"] == 1.1
    assert data["scaling"] == "mean-field"
    for m in ("30", "60"):
        th, ex = data["thresholds"][m], data["exact_thresholds"][m]
        assert th["censored"] == 0 and ex["censored"] == 0  # the best checkpoint qualifies
        for run in data["runs"][m]:
            rows = run["checkpoints"]
            best = min(r["gfs"] for r in rows)
            t_star = th["per_trial"][run["trial"]]
            first = next(r for r in rows if r["iter"] == t_star)
            assert first["gfs"] <= 1.1 * best
            assert all(r["gfs"] > 1.1 * best for r in rows if r["iter"] < t_star)
    report = (tmp_path / "out" / "report.md").read_text()
    assert "reference best, factor F = 1.1" in report and "mean-field scaling" in report
    # the exact subnetwork against itself has no threshold
    assert main([*TINY, "--reference", "exact", "--out", str(tmp_path / "ex"), "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["exact_thresholds"] == {} and "exact_threshold_vs_log_m" not in data["fits"]
    assert "n/a" in (tmp_path / "ex" / "report.md").read_text()


def test_censored_quartiles_against_numpy_on_finite_data() -> None:
    """A quartile on a finite order statistic is that value even with censored trials above
    it (numpy's interpolation on +inf gave NaN, reported as censored); one that interpolates
    towards a censored trial, or is one, is None. Finite data: numpy's own quantiles."""
    import random

    assert pt.summarise_thresholds([0, 0, 0, 0, None], 30)["quartiles"] == [0.0, 0.0]
    assert pt.summarise_thresholds([10, 20, 15, None, 5], 500)["quartiles"] == [10.0, 20.0]
    assert pt.summarise_thresholds([0, 5, None, None, None], 30)["quartiles"] == [5.0, None]
    assert pt.summarise_thresholds([1, 2, None, None], 30)["quartiles"] == [1.75, None]
    assert pt.summarise_thresholds([], 30)["quartiles"] == [None, None]
    rng = random.Random(0)
    for _ in range(200):
        vals = [rng.randrange(0, 50) for _ in range(rng.randrange(1, 12))]
        for q in (0.25, 0.5, 0.75):
            assert pt.censored_quantile(vals, q) == pytest.approx(float(np.quantile(vals, q)))


def test_censored_median() -> None:
    assert pt.censored_median([10, None, 30]) == 30
    assert pt.censored_median([10, 30]) == 20
    assert pt.censored_median([10, None, None]) is None
    assert pt.censored_median([None]) is None and pt.censored_median([]) is None


def test_threshold_fit_recovers_a_log_law_and_skips_censored_sizes() -> None:
    sizes = [50, 100, 200, 400]
    rng = np.random.default_rng(0)
    per = {m: [round(12 * math.log(m) + 3 + float(e), 6) for e in rng.normal(0, 1, 9)]
           for m in sizes}
    summary = {m: pt.summarise_thresholds(v, 1000) for m, v in per.items()}
    fit = pt.threshold_fit(sizes, summary)
    assert fit.estimate == pytest.approx(12, abs=1.5)
    assert fit.ci[0] <= fit.estimate <= fit.ci[1] and fit.ci[1] - fit.ci[0] < 6
    # size 400: 5 of 9 trials censored -> the median is censored, the size is not fitted
    full = list(per[400])
    per[400] = full[:4] + [None] * 5
    summary = {m: pt.summarise_thresholds(v, 1000) for m, v in per.items()}
    assert summary[400]["median"] is None and summary[400]["censored"] == 5
    fit = pt.threshold_fit(sizes, summary)
    assert fit.n_points == 3 and any("400" in n for n in fit.notes)
    # 4 of 9 censored: the median is still the 5th order statistic, a finite value
    assert pt.summarise_thresholds(full[:5] + [None] * 4, 1000)["median"] == max(full[:5])


def test_a_slope_of_zero_is_zero_in_the_bootstrap() -> None:
    """Medians (10, 30, 10) at m = 35, 70, 140 (equally spaced in ln m) have slope 0; the
    logarithms' rounding made it 9.3e-15, and the CI printed [-64.9, 9.31e-15] beside an
    estimate of 0 (hunt 216 L2). Slopes that are not 0 keep their value."""
    x = np.log(np.array([35.0, 70.0, 140.0]))
    assert pt._slope(x, np.array([10.0, 30.0, 10.0])) == 0.0
    assert pt._slope(x, np.array([10.0, 10.0, 10.0])) == 0.0
    assert pt._slope(x, np.array([10.0, 10.0, 11.0])) == pytest.approx(0.5 / math.log(2) * 2 / 2)
    assert pt._slope(x, np.array([10.0, 0.0, 10.0 + 2**-40])) > 0
    # a real slope near float64's top: its rounding bound overflowed and read it as 0 (hunt
    # 220 L5)
    huge = np.log(np.array([1000.0, 4000.0]))
    assert pt._slope(huge, np.array([0.0, 1e308])) == pytest.approx(1e308 / math.log(4))
    per = {35: [10, 100, 10, 30, 10], 70: [10, 0, 0, 30, 30], 140: [5, 10, 10, 10, 0]}
    (lo, hi), used = pt.trial_bootstrap_ci(list(per), list(per.values()))
    assert used == pt.BOOTSTRAP and lo < 0 and hi == 0.0


def test_failed_trials_are_left_out_not_censored() -> None:
    """lr 1.0 on the teacher diverges in some trials: they were counted as censored (+inf),
    which moved the median T* from 5 to 10 and gave 'censored' under the best reference, which
    is never censored. They are left out of every statistic and named."""
    out = pt.run_pretraining(data="teacher", sizes=[50], iters=[0, 5, 10, 20], hidden=8, k=3,
                             trials=5, lr=1.0, reference="best", jobs=0)
    runs = out["runs"]["50"]
    failed = [r["trial"] for r in runs if not r["checkpoints"]]
    ran = [r for r in runs if r["checkpoints"]]
    assert failed and ran and all("diverged" in r["error"] for r in runs if not r["checkpoints"])
    summary = out["thresholds"]["50"]
    expected = [pt.best_threshold([c["iter"] for c in r["checkpoints"]],
                                  [c["gfs"] for c in r["checkpoints"]], 1.1) for r in ran]
    assert summary["per_trial"] == expected and None not in expected
    assert summary["median"] == float(np.median(expected)) and summary["censored"] == 0
    assert summary["failed_trials"] == failed and summary["trials"] == len(ran)


def test_when_every_trial_fails_there_is_no_report(tmp_path: Path,
                                                   capsys: pytest.CaptureFixture[str]) -> None:
    """lr 20 diverges in every trial: exit 0 with a report of failures shown as censored
    before; now the first trial's error, exit 2, nothing written."""
    out = tmp_path / "out"
    assert main(["verify", "pretraining", "--data", "teacher", "--sizes", "30", "--iters",
                 "0,10", "--hidden", "4", "--k", "2", "--trials", "2", "--lr", "20", "--jobs",
                 "0", "--json", "--out", str(out)]) == 2
    captured = capsys.readouterr()
    assert captured.out == "" and captured.err.count("\n") == 1
    assert "every trial failed" in captured.err and "diverged" in captured.err
    assert not out.exists()


def test_gfs_is_optimal_only_where_the_exact_solve_proved_it() -> None:
    """The column counted GFS at an unproven incumbent as 'found a best subnetwork' (m = 1400 of
    the mean-field run: 8/10 'optimal' with 0-3/10 certified)."""
    def row(gfs: float, exact: float, certified: bool) -> dict:
        return {"iter": 0, "dense": 1.0, "gfs": gfs, "exact": exact, "exact_bound": 0.1,
                "certified": certified}

    records = [{"checkpoints": [row(0.5, 0.5, True)]}, {"checkpoints": [row(0.5, 0.5, False)]},
               {"checkpoints": [row(0.6, 0.5, True)]}, {"checkpoints": [row(0.4, 0.5, False)]}]
    (table,) = pt.loss_table(records, [0])
    assert (table["gfs_optimal"], table["gfs_at_best_found"], table["certified"]) == (1, 3, 2)


def test_the_median_bound_is_over_the_trials_of_the_median_loss() -> None:
    """SCIP stopped at its limit often returns no bound: the median bound was taken over the
    trials that had one (m = 150, T = 40: bounds [null x 4, 0.0252] read "exact bound 0.0252"
    beside "exact 0.1"), and could sit above the median loss. A missing bound is the trivial
    0 now, so the median bound is over the same trials and at most the median loss."""
    def row(exact: float | None, bound: float | None) -> dict:
        return {"iter": 0, "dense": 1.0, "gfs": 0.5, "exact": exact, "exact_bound": bound,
                "certified": False}

    records = [{"checkpoints": [row(0.10, None)]}, {"checkpoints": [row(0.11, None)]},
               {"checkpoints": [row(0.30, 0.30)]}, {"checkpoints": [row(None, None)]}]
    (table,) = pt.loss_table(records, [0])
    assert table["exact"] == 0.11 and table["exact_bound"] == 0.0
    assert table["exact_bound"] <= table["exact"]
    # a bound that is not finite is none (hunt 233 L1: _med dropped it, 0.25 against 0.2)
    for odd in (math.nan, math.inf, -math.inf):
        records = [{"checkpoints": [row(0.1, odd)]}, {"checkpoints": [row(0.2, 0.2)]},
                   {"checkpoints": [row(0.3, 0.3)]}]
        (table,) = pt.loss_table(records, [0])
        assert table["exact"] == 0.2 and table["exact_bound"] == 0.2
    # nor is a bound counted whose loss is not (the median loss leaves that trial out)
    records = [{"checkpoints": [row(math.nan, 0.1)]}, {"checkpoints": [row(0.2, 0.2)]},
               {"checkpoints": [row(0.3, 0.3)]}]
    (table,) = pt.loss_table(records, [0])
    assert table["exact"] == table["exact_bound"] == 0.25


def test_everything_censored_gives_no_fit() -> None:
    summary = {m: pt.summarise_thresholds([None, None], 20) for m in (30, 60)}
    fit = pt.threshold_fit([30, 60], summary)
    assert math.isnan(fit.estimate) and all(math.isnan(c) for c in fit.ci)


# -- the `trained` bench suite -------------------------------------------------------------
def test_trained_suite_is_valid_and_deterministic() -> None:
    from exactprune.benchmarks import suites
    from exactprune.benchmarks.neuron_selection import suites as ns

    suite = suites.SUITES["trained"]
    assert suites.expand_suite("trained") == [suite]
    insts = suite.instances
    assert len(insts) == len(ns.DATA) * len(ns.LOSSES) * len(ns.SIZES)
    assert len({i.name for i in insts}) == len(insts)
    assert {i.params["loss"] for i in insts} == {"squared", "l1", "linf"}
    assert {i.params["data"] for i in insts} == {"digits-pair", "teacher"}
    for bi in insts:
        inst = bi.generate()
        assert inst.kind == "neuron_selection" and bi.kind == inst.kind
        assert inst.n == bi.size and inst.k == bi.params["k"] and inst.m == ns.SAMPLES
        assert inst.loss == bi.params["loss"] and inst.rule == "average"
        again = bi.generate()
        assert np.array_equal(inst.hidden, again.hidden)
        assert np.array_equal(inst.targets, again.targets)
        assert math.isfinite(inst.evaluate(inst.full_mask()))


def test_trained_suite_networks_retrain_to_the_shipped_files() -> None:
    from exactprune.benchmarks.neuron_selection import suites as ns
    from exactprune.instances.mlp import load_mlp

    shipped = load_mlp(ns.network_path("teacher", 32))
    fresh = ns.train_network("teacher", 32)
    for a, b in zip(shipped.weights, fresh.weights, strict=True):
        assert np.allclose(a, b, rtol=1e-8, atol=1e-12)


def test_python_api_equals_the_cli(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """run_pretraining takes the CLI's options (lists allowed) and returns its --json body."""
    body = pt.run_pretraining(data="digits-pair", sizes=[30, 60], iters=[0, 5, 20], hidden=6,
                              k=2, trials=2, jobs=0, reference="best")
    assert main([*TINY, "--reference", "best", "--out", str(tmp_path / "o"), "--json"]) == 0
    cli = json.loads(capsys.readouterr().out)
    for key in ("thresholds", "exact_thresholds", "losses", "reference", "factor"):
        assert json.loads(json.dumps(body[key])) == cli[key]
    assert body["fits"]["threshold_vs_log_m"]["estimate"] == \
        cli["fits"]["threshold_vs_log_m"]["estimate"]
    # the whole body as the CLI prints it: NaN was NaN here, null there (hunt 93 L1)
    assert {k: v for k, v in json.loads(json.dumps(body, allow_nan=False)).items()
            if k != "runs"} == {k: v for k, v in cli.items() if k in body and k != "runs"}
    with pytest.raises(pt.InputError, match="unknown option 'width'"):
        pt.run_pretraining(width=3)
    with pytest.raises(pt.InputError, match="scaling='ntk': choose from standard, mean-field"):
        pt.run_pretraining(scaling="ntk")
    with pytest.raises(pt.InputError, match="reference='median': choose from dense"):
        pt.run_pretraining(reference="median")
    # the checks shared with the CLI name the keyword, not the flag (hunt 23 F8)
    with pytest.raises(pt.InputError, match=r"^run_pretraining: sizes takes comma-separated "
                                            r"integers, got '8.0'$"):
        pt.run_pretraining(sizes=[8.0])


@pytest.mark.parametrize("statuses,certified,expected", [
    (["optimal", "optimal"], [True, True], "optimal"),
    (["optimal", "time_limit"], [True, False], "time_limit"),
    (["time_limit", "error"], [False, False], "error"),  # was reported as time_limit
    (["optimal", "feasible"], [True, False], "feasible"),
])
def test_trial_status_is_the_worst_checkpoint_status(statuses: list[str], certified: list[bool],
                                                     expected: str) -> None:
    rows = [{"exact_status": s, "certified": c} for s, c in zip(statuses, certified, strict=True)]
    assert pt.trial_status(rows) == expected


def test_the_python_form_works_in_a_script_without_a_main_guard(tmp_path: Path) -> None:
    """run_pretraining kept the CLI's jobs=1, a spawned worker that re-imports the main script:
    without `if __name__ == "__main__":` every worker died and the error blamed a crash in
    native code (hunt 66 M1). The Python form runs in the calling process by default."""
    from conftest import run_script

    proc = run_script(
        tmp_path / "pre.py",
        "import json\n"
        "from exactprune.benchmarks.neuron_selection.pretraining import run_pretraining\n"
        "out = run_pretraining(data='teacher', sizes=[50], iters=[0, 5], hidden=8, k=3,\n"
        "                      trials=1)\n"
        "print(json.dumps([r['trial'] for r in out['runs']['50'] if r['checkpoints']]))\n")
    assert proc.returncode == 0 and "RuntimeError" not in proc.stderr, proc.stderr
    assert json.loads(proc.stdout) == [0]


def test_a_size_where_every_trial_failed_is_not_called_censored() -> None:
    """Both runs at m = 20 diverged: the row read "> 50 | 0/0" and the fit note "censored
    median not fitted: [20]", under a reference that is never censored (hunt 80 M2)."""
    from exactprune.benchmarks.neuron_selection.pretraining import (
        _median_t,
        summarise_thresholds,
        threshold_fit,
    )

    summary = {20: summarise_thresholds([], 50, failed=[0, 1]),
               100: summarise_thresholds([10, 10], 50),
               200: summarise_thresholds([None, None, 10], 50),
               400: summarise_thresholds([40, 50], 50)}
    assert _median_t(summary[20], 50) == "—" and _median_t(summary[200], 50) == "> 50"
    notes = " ".join(threshold_fit([20, 100, 200, 400], summary).notes)
    assert "no trial ran (every run failed) not fitted: [20]" in notes
    assert "censored median not fitted: [200]" in notes


@pytest.mark.parametrize("text", ["20,,40", "20,", ",20"])
def test_a_list_with_an_empty_item_is_refused(text: str) -> None:
    """--sizes 20,,40 ran sizes 20 and 40 without a word (hunt 80 L2; verify subset-sum and
    pruning-gap refuse it since hunt 79 L1)."""
    from exactprune.instances.errors import InputError

    for flag in ("--sizes", "--iters"):
        with pytest.raises(InputError, match=f"{flag} list has an empty item"):
            pt.parse_int_list(text, flag, 0)


def test_auto_solver_is_the_registry_choice(tmp_path: Path,
                                            capsys: pytest.CaptureFixture[str]) -> None:
    """--solver auto was refused as "unknown solver 'auto' (known: auto, ...)" (hunt 80 L1)."""
    out = tmp_path / "auto"
    assert main(["verify", "pretraining", "--sizes", "20", "--iters", "0,5", "--hidden", "5",
                 "--k", "2", "--trials", "1", "--solver", "auto", "--out", str(out),
                 "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["solver"] == "auto"
    assert "exact solver auto" in (out / "report.md").read_text()
