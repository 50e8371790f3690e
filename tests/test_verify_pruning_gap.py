"""`verify pruning-gap` end to end on a tiny grid (real solvers, real store)."""

from __future__ import annotations

import argparse
import json
import math
import re
import shlex
from pathlib import Path

import numpy as np
import pytest

from exactprune.benchmarks.pruning.verify_gap import parse_range
from exactprune.cli import main
from exactprune.instances import InputError


def test_tiny_gap_sweep_with_store(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    store = tmp_path / "gap.sqlite"
    args = ["verify", "pruning-gap", "--n", "2,4,6", "--trials", "2", "--points", "24",
            "--jobs", "0", "--out", str(tmp_path / "out"), "--store", str(store), "--json",
            "--time-limit", "30"]
    assert main(args) == 0
    data = json.loads(capsys.readouterr().out)
    for name in ("neuron_power_exponent", "weight_power_exponent", "neuron_exp_rate",
                 "weight_exp_rate"):
        assert set(data["fits"][name]) >= {"estimate", "ci"}
    for kind in ("neuron", "weight"):
        for row in data["table"][kind]:
            assert row["certified"] == row["trials"] == 2
            assert row["lower"] <= row["optimum"] <= row["upper"] + 1e-12
    # weight pruning can do everything neuron pruning can: never worse, per width
    for rn, rw in zip(data["table"]["neuron"], data["table"]["weight"], strict=True):
        assert rw["optimum"] <= rn["optimum"] + 1e-9
    assert (tmp_path / "out" / "report.md").exists()
    # a second run reads every result back from the store
    assert main(args) == 0
    again = json.loads(capsys.readouterr().out)
    assert again["table"] == data["table"]
    # the folder holds the --json body next to the report, and a later run without --json
    # replaces both: a result.json never describes another run than report.md
    out = tmp_path / "out"
    assert json.loads((out / "result.json").read_text()) == again
    assert "| neuron | 6 |" in (out / "report.md").read_text()
    fewer = [("2,4" if a == "2,4,6" else a) for a in args if a != "--json"]
    assert main(fewer) == 0
    capsys.readouterr()
    body = json.loads((out / "result.json").read_text())
    assert [r["n"] for r in body["table"]["neuron"]] == [2, 4]
    assert body["report"] == str(out / "report.md")
    assert "| neuron | 6 |" not in (out / "report.md").read_text()


@pytest.mark.parametrize("text", ["8:4", "0:4", "a,b", "1:2:3:4", "4:8:0"])
def test_bad_ranges(text: str) -> None:
    with pytest.raises(InputError):
        parse_range(text)


@pytest.mark.parametrize("text", ["8,,16", "8,16,", ",8", "8, ,16"])
def test_a_list_with_an_empty_item_is_refused(text: str) -> None:
    """"8,,16" ran widths 8 and 16 without a word, a value lost to a typo (hunt 79 L1)."""
    from exactprune.benchmarks.subset_sum.verify import parse_eps

    with pytest.raises(InputError, match="empty item"):
        parse_range(text)
    with pytest.raises(InputError, match="empty item"):
        parse_eps(text.replace("8", "1e-2").replace("16", "1e-3"))


def test_range_forms() -> None:
    assert parse_range("4:12:4") == [4, 8, 12]
    assert parse_range("3,1,2") == [1, 2, 3]
    assert parse_range("2:4") == [2, 3, 4]


@pytest.mark.parametrize("flags", [["--time-limit", "-1"], ["--points", "0"], ["--d", "x"],
                                   ["--jobs", "-2"], ["--n", "0:3"], ["--trials", "0"],
                                   ["--threads", "0"], ["--weight-solver", "magnitude"],
                                   ["--threads", "2", "--solver", "bruteforce"],
                                   # above 64: every run was stored as an error, exit 0
                                   ["--threads", "100"],
                                   ["--weight-solver", "cpsat", "--weight-threads", "65"],
                                   # hunt 23: MemoryError (exit 1) after building every spec
                                   ["--n", "4,8", "--trials", "99999999999999999999"],
                                   # hunt 23: out-of-limit trials were error rows, exit 0
                                   ["--n", "4,24", "--solver", "bruteforce", "--points", "16"],
                                   ["--d", "16", "--n", "4", "--points", "16"],
                                   # hunt 23: dropped for d = 3, and the report quoted it
                                   ["--d", "2,3", "--n", "4", "--target-angle", "1.2"]])
def test_bad_flags_exit_2(flags: list[str], tmp_path: Path,
                          capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "out"
    assert main(["verify", "pruning-gap", "--out", str(out), *flags]) == 2
    assert capsys.readouterr().err.count("\n") == 1
    assert not out.exists()


# --- certified separation, independent trials, fits on the theory's bounds -----------------

def test_separation_on_known_bounds() -> None:
    from exactprune.benchmarks.pruning.verify_gap import separation

    # width 8: ratios 0.5, 2, 20, 200, inf (weight pruning exact); width 16: one missing
    bounds = {8: {0: {"neuron": 1.0, "weight": 2.0}, 1: {"neuron": 2.0, "weight": 1.0},
                  2: {"neuron": 2.0, "weight": 0.1}, 3: {"neuron": 2.0, "weight": 0.01},
                  4: {"neuron": 1.0, "weight": 0.0}},
              16: {0: {"neuron": None, "weight": 1.0}, 1: {"neuron": 3.0, "weight": 1.0}}}
    sep = separation(bounds)
    assert sep[8]["median"] == 20.0
    assert (sep[8]["above_1"], sep[8]["above_10"], sep[8]["above_100"]) == (4, 3, 2)
    assert sep[8]["trials"] == 5 and sep[8]["missing"] == 0
    assert sep[8]["ci"][0] <= 20.0 <= sep[8]["ci"][1]
    assert sep[16]["trials"] == 1 and sep[16]["missing"] == 1 and sep[16]["median"] == 3.0


def test_separation_ratio_edges() -> None:
    from exactprune.benchmarks.pruning.verify_gap import separation_ratio

    assert separation_ratio(1.0, 4.0) == 0.25
    assert separation_ratio(1.0, 0.0) == math.inf
    assert math.isnan(separation_ratio(0.0, 0.0))
    assert math.isnan(separation_ratio(None, 1.0))
    assert separation_ratio(0.0, 1.0) == 0.0  # an uncertified neuron bound of 0 separates nothing


def test_median_ci_is_the_binomial_order_statistic_interval() -> None:
    from exactprune.benchmarks.fits import median_ci

    lo, hi, cov = median_ci(list(range(1, 21)))  # m = 20: x_(6), x_(15), coverage 95.86 %
    assert (lo, hi) == (6.0, 15.0)
    assert cov == pytest.approx(1 - 2 * sum(math.comb(20, i) for i in range(6)) / 2**20)
    # empirical coverage over many samples of a known distribution stays >= the stated level
    rng = np.random.default_rng(0)
    hits = 0
    for _ in range(2000):
        lo, hi, cov = median_ci(rng.exponential(size=20))
        hits += lo <= math.log(2) <= hi
    assert hits / 2000 > 0.94
    assert median_ci([5.0])[:2] == (5.0, 5.0)
    assert all(math.isnan(v) for v in median_ci([]))


@pytest.mark.parametrize("law", ["power_law", "exponential"])
def test_model_choice_and_its_bootstrap_evidence(law: str) -> None:
    from exactprune.benchmarks.fits import compare_models

    rng = np.random.default_rng(1)
    n = np.repeat([8, 16, 32, 64, 128], 20)
    clean = 2.0 * n ** -1.0 if law == "power_law" else 2.0 * np.exp(-0.05 * n)
    cmp = compare_models(n, clean * np.exp(rng.normal(0, 0.2, n.size)))
    assert cmp.preferred == law
    assert cmp.bootstrap_share[law] > 0.9
    assert cmp.bootstrap_share["power_law"] + cmp.bootstrap_share["exponential"] <= 1.0 + 1e-12


def test_plot_draws_the_preferred_model() -> None:
    """Neuron bounds from a power law, weight bounds from an exponential: each kind's plotted
    fit is the model its comparison prefers, with that model's parameters in the label."""
    from exactprune.benchmarks.pruning.verify_gap import GapAnalysis, _drawn_fit, fit_all

    rng = np.random.default_rng(3)
    widths = [8, 16, 32, 64, 128]
    bounds = {n: {t: {"neuron": 2.0 / n * math.exp(rng.normal(0, 0.1)),
                      "weight": 2.0 * math.exp(-0.1 * n + rng.normal(0, 0.1))}
                  for t in range(20)} for n in widths}
    table = {kind: [{"n": n, "trials": 20, "certified": 20, "bound": 1e-3, "empty_error": 1.0}
                    for n in widths] for kind in ("neuron", "weight")}
    fits, comparisons, ranges = fit_all(table, bounds)
    a = GapAnalysis(2, table, bounds, {}, fits, comparisons, ranges)
    fit, label = _drawn_fit(a, "neuron")
    assert fit.model == "power_law" and "(preferred)" in label
    assert float(re.search(r"n\^-([0-9.]+)", label).group(1)) == pytest.approx(1.0, abs=0.05)
    fit, label = _drawn_fit(a, "weight")
    assert fit.model == "exponential" and "(preferred)" in label
    assert float(re.search(r"e\^\(-([0-9.]+)", label).group(1)) == pytest.approx(0.1, abs=0.01)
    assert fit.predict([64.0])[0] == pytest.approx(2.0 * math.exp(-6.4), rel=0.2)


def test_press_equals_explicit_leave_one_out() -> None:
    from exactprune.benchmarks.fits import _loo_mse, _press

    rng = np.random.default_rng(2)
    x, y = rng.normal(size=12), rng.normal(size=12)
    assert _press(x[None], y[None])[0] == pytest.approx(_loo_mse(x, y), rel=1e-10)


def test_fit_range_excludes_plateau_zero_bounds_and_small_widths() -> None:
    from exactprune.benchmarks.pruning.verify_gap import fit_range

    rows = [{"n": 2, "bound": 0.5, "empty_error": 1.0}, {"n": 4, "bound": 0.95,
            "empty_error": 1.0}, {"n": 8, "bound": 0.3, "empty_error": 1.0},
            {"n": 16, "bound": 0.1, "empty_error": 1.0}]
    bounds = {2: {0: {"neuron": 0.5}}, 4: {0: {"neuron": 0.95}}, 8: {0: {"neuron": 0.3},
              1: {"neuron": 0.0}}, 16: {0: {"neuron": 0.1}}}
    used, excluded = fit_range("neuron", rows, bounds, fit_min_n=3)
    assert used == [16]
    assert "fit-min-n" in excluded[2] and "plateau" in excluded[4]
    # "no positive bound" (hunt 46 L4); a neuron lower bound of 0 is mostly a time limit's,
    # not "a proven zero error" (hunt 53)
    assert "bound is 0 (no neuron lower bound above 0 proven" in excluded[8]
    weight_bounds = {n: {t: {"weight": v["neuron"]} for t, v in b.items()}
                     for n, b in bounds.items()}
    assert "bound is 0 (a weight pruning of zero error" in fit_range(
        "weight", rows, weight_bounds, fit_min_n=3)[1][8]
    bounds[8][1] = {"neuron": None}
    assert "no positive bound" in fit_range("neuron", rows, bounds, fit_min_n=3)[1][8]


def test_the_plateau_compares_errors_on_the_points() -> None:
    """The empty net's error is on the points; a weight bound is the sup over the domain, and
    0.999 against an empty error of 0.202 on 2 points read "plateau" (hunt 79 L3): weights
    compare their error on the points, neurons their lower bound (also on the points)."""
    from exactprune.benchmarks.pruning.verify_gap import fit_range

    rows = [{"n": 4, "bound": 0.95, "optimum": 0.5, "empty_error": 1.0},
            {"n": 8, "bound": 0.97, "optimum": 0.93, "empty_error": 1.0}]
    bounds = {n: {0: {"neuron": r["bound"], "weight": r["bound"]}}
              for n, r in zip((4, 8), rows, strict=True)}
    assert fit_range("weight", rows, bounds, fit_min_n=0)[0] == [4]
    assert "median error on the points 0.93" in fit_range("weight", rows, bounds, 0)[1][8]
    assert fit_range("neuron", rows, bounds, fit_min_n=0)[0] == []


def test_trial_seeds_independent_by_default_and_nested_on_request() -> None:
    import argparse

    from exactprune.benchmarks.pruning.verify_gap import specs_for, trial_seed

    args = argparse.Namespace(dims=[2], points=16, domain="sphere", norm="linf",
                              output_activation="relu", target_angle=0.3, trials=3,
                              widths=[4, 8], seed=0, solver="auto", time_limit=1.0,
                              nested=False)
    seeds = {(s["trial"], s["n"]): s["seed"] for s in specs_for(args)}
    assert len(set(seeds.values())) == 6  # every (trial, width) its own net
    assert seeds[(1, 8)] == trial_seed(0, 1, 8)  # stable whatever the grid holds
    args.nested = True
    nested = {(s["trial"], s["n"]): s["seed"] for s in specs_for(args)}
    assert all(nested[(t, 4)] == nested[(t, 8)] for t in range(3))
    # both kinds of a (trial, width) prune the same net
    kinds = {}
    for s in specs_for(args):
        kinds.setdefault((s["trial"], s["n"]), set()).add(s["seed"])
    assert all(len(v) == 1 for v in kinds.values())
    args.weight_max_n = 4  # weights only up to width 4; neurons at every width
    assert {(s["kind"], s["n"]) for s in specs_for(args)} == {
        ("neuron", 4), ("weight", 4), ("neuron", 8)}
    # the default specs carry no threads key (stored trials keep their keys) ...
    assert all("threads" not in s and s["solver"] == "auto" for s in specs_for(args))
    # ... a weight solver and threads reach the specs of their kind
    args.weight_solver, args.threads = "cpsat", 4
    assert {(s["kind"], s["solver"], s["threads"]) for s in specs_for(args)} == {
        ("neuron", "auto", 4), ("weight", "cpsat", 4)}
    args.threads, args.weight_threads = 1, 8  # the portfolio for the weights only
    assert {(s["kind"], s.get("threads")) for s in specs_for(args)} == {
        ("neuron", None), ("weight", 8)}


def test_json_separation_and_growth_with_d(tmp_path: Path,
                                           capsys: pytest.CaptureFixture[str]) -> None:
    args = ["verify", "pruning-gap", "--n", "3,5", "--trials", "3", "--points", "16",
            "--jobs", "0", "--out", str(tmp_path / "one"), "--json", "--time-limit", "30"]
    assert main(args) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["trials_mode"] == "independent"
    assert set(data["separation"]) == {"3", "5"}
    for row in data["separation"].values():
        assert set(row) >= {"median", "ci", "trials", "above_1", "above_10", "above_100"}
        assert row["trials"] == 3
        assert row["above_1"] >= row["above_10"] >= row["above_100"]
    for kind in ("neuron", "weight"):
        assert set(data["evidence"][kind]) >= {"loo_ratio", "bootstrap_share", "decay"}
        assert "decay" in data["fit_range"][kind]["certified_fit"]  # hunt 47 L4
        for r in data["table"][kind]:
            assert r["bound"] == (r["lower"] if kind == "neuron" else r["upper"])
    # the per-trial bounds give back the published separation medians
    for n, per in data["trial_bounds"].items():
        ratios = sorted(b["neuron"] / b["weight"] for b in per.values())
        assert len(per) == 3 and data["separation"][n]["median"] == pytest.approx(ratios[1])
    assert (tmp_path / "one" / "separation.png").exists() or not data["plots"]
    args = ["verify", "pruning-gap", "--d", "2,3", "--n", "4", "--trials", "2", "--points",
            "16", "--jobs", "0", "--out", str(tmp_path / "d"), "--json", "--time-limit", "30"]
    assert main(args) == 0
    data = json.loads(capsys.readouterr().out)
    assert set(data["by_d"]) == {"2", "3"}
    for kind in ("neuron", "weight"):
        g = data["growth_with_d"][kind]["4"]
        assert len(g["median"]) == len(g["quartiles"]) == 2
        assert all(lo <= m <= hi for (lo, hi), m in zip(g["quartiles"], g["median"],
                                                          strict=True))
        # trial t draws its nets at every d from one seed: whole trials are resampled
        assert any("bootstrap over 2 groups" in note for note in g["fit"]["notes"])
        assert g["notes"] == g["fit"]["notes"]  # shown in the report, not only in the JSON
        assert g["exponent"] == -g["fit"]["estimate"]
    report = (tmp_path / "d" / "report.md").read_text()
    assert "bootstrap over 2 groups" in report
    # the report says how to re-make it, quoted for a shell
    assert f"Command: `exactprune {shlex.join(args)}`" in report


def test_a_time_limited_trial_reports_its_proven_bound_never_an_uncertified_optimum() -> None:
    from exactprune.benchmarks.pruning.verify_gap import theory_bound, trial

    spec = {"kind": "neuron", "d": 2, "n": 96, "points": 128, "seed": 5, "domain": "sphere",
            "output_activation": "identity", "norm": "linf", "target_angle": 0.3,
            "solver": "highs", "time_limit": 0.5}
    rec = trial(spec)
    assert rec["status"] in ("optimal", "time_limit")
    assert rec["certified"] == (rec["status"] == "optimal")
    assert 0.0 <= rec["lower"] <= rec["objective"] <= rec["upper"] + 1e-12
    assert theory_bound("neuron", rec) == rec["lower"]
    if not rec["certified"]:
        assert rec["lower"] < rec["objective"]  # a proven bound, not a claimed optimum


def test_the_python_form_works_in_a_script_without_a_main_guard(tmp_path: Path) -> None:
    """run_pruning_gap kept the CLI's jobs=1, a spawned worker process that re-imports the main
    script: in a script without `if __name__ == "__main__":` every worker died and the call
    returned null medians (hunt 66 M1). The Python form runs in the calling process by default,
    and a call whose trials all fail (workers asked for without the guard) raises InputError."""
    from conftest import run_script

    script = tmp_path / "gap.py"
    default = run_script(
        script,
        "import json, sys\n"
        "from exactprune.instances import InputError\n"
        "from exactprune.benchmarks.pruning.verify_gap import run_pruning_gap\n"
        "options = dict(n=[4], trials=1, points=16, time_limit=10)\n"
        "if len(sys.argv) > 1:\n"
        "    options['jobs'] = int(sys.argv[1])\n"
        "try:\n"
        "    print(json.dumps(run_pruning_gap(**options)['separation']['4']))\n"
        "except InputError as exc:\n"
        "    print('InputError:', exc)\n")
    assert default.returncode == 0 and "RuntimeError" not in default.stderr, default.stderr
    row = json.loads(default.stdout)
    assert row["trials"] == 1 and row["missing"] == 0 and row["median"] > 0
    workers = run_script(script, script.read_text(), "1")
    assert workers.stdout.strip().startswith("InputError: every trial failed, the first with: "
                                             "worker process died"), workers.stdout


def test_python_api_matches_the_cli_and_writes_nothing(tmp_path: Path,
                                                        capsys: pytest.CaptureFixture[str],
                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    from exactprune.benchmarks.pruning.verify_gap import run_pruning_gap

    monkeypatch.chdir(tmp_path)
    common = {"n": [5, 7], "trials": 2, "points": 20, "jobs": 0, "time_limit": 30.0}
    data = run_pruning_gap(**common)
    assert list(tmp_path.iterdir()) == []
    assert main(["verify", "pruning-gap", "--n", "5,7", "--trials", "2", "--points", "20",
                 "--jobs", "0", "--time-limit", "30", "--out", str(tmp_path / "o"),
                 "--json"]) == 0
    cli = json.loads(capsys.readouterr().out)
    for kind in ("neuron", "weight"):  # the same rows but for the solve times
        drop = [{k: v for k, v in row.items() if k != "time_s"} for row in data["table"][kind]]
        assert drop == [{k: v for k, v in row.items() if k != "time_s"}
                        for row in cli["table"][kind]]
    assert data["separation"] == cli["separation"] and data["fits"] == cli["fits"]
    assert set(data["separation"]) == {"5", "7"}


def test_an_interrupted_report_leaves_the_folder_as_it_was(
        tmp_path: Path, capsys: pytest.CaptureFixture[str],
        monkeypatch: pytest.MonkeyPatch) -> None:
    """Hunt 27 F3: Ctrl-C while the report was written left report.md and some plots without
    result.json and the rest (or new plots beside an older report). The files are written
    together into a staging folder and moved in only once all are written."""
    from exactprune.benchmarks.pruning import verify_gap

    out = tmp_path / "o"
    argv = ["verify", "pruning-gap", "--n", "4,6", "--trials", "2", "--points", "16",
            "--jobs", "0", "--out", str(out)]
    assert main(argv) == 0
    capsys.readouterr()
    before = {p.name: p.read_bytes() for p in out.iterdir()}
    assert {"report.md", "result.json"} <= set(before)
    real = verify_gap._plots

    def interrupted(args, a, folder):  # type: ignore[no-untyped-def]
        assert real(args, a, folder)  # some plots written, then Ctrl-C
        raise KeyboardInterrupt

    monkeypatch.setattr(verify_gap, "_plots", interrupted)
    # hunt 29 F9: two widths are a fit in result.json, and the report said "no scaling fit"
    text = (out / "report.md").read_text()
    assert "No scaling fit" not in text and "| weight_exp_rate |" in text
    assert main([*argv, "--seed", "7"]) == 130
    assert {p.name: p.read_bytes() for p in out.iterdir()} == before  # no staging folder left
    fresh = tmp_path / "fresh"
    assert main([*argv[:-1], str(fresh)]) == 130
    assert not fresh.exists()


def test_a_folder_under_a_report_files_name_is_one_line_and_nothing_moves(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """Hunt 28 F5: a folder named report.md in --out was an internal error (exit 1) after the
    plots had been moved in without their report. Every destination is checked before the
    first move: exit 2, one line, the folder as it was."""
    out = tmp_path / "o"
    (out / "report.md").mkdir(parents=True)
    code = main(["verify", "pruning-gap", "--n", "4,6", "--trials", "2", "--points", "16",
                 "--jobs", "0", "--out", str(out)])
    err = capsys.readouterr().err
    assert code == 2 and err.strip().splitlines()[-1].endswith("report.md is a folder"), err
    assert [p.name for p in out.iterdir()] == ["report.md"]


def test_python_api_errors_name_the_keyword_not_the_flag() -> None:
    """The checks shared with the CLI said '--n needs an integer' to a caller of
    run_pruning_gap(n=[8.0]) (hunt 23 F8)."""
    from exactprune.benchmarks.pruning.verify_gap import run_pruning_gap

    for options, said in (({"n": [8.0]}, "n needs an integer, got '8.0'"),
                          ({"d": "abc"}, "d needs an integer, got 'abc'"),  # named n (hunt 31)
                          ({"d": 3, "target_angle": 0.2}, "target_angle sets the target of")):
        with pytest.raises(InputError) as err:
            run_pruning_gap(**options)
        assert str(err.value).startswith(f"run_pruning_gap: {said}"), err.value
        assert "--" not in str(err.value)


def test_weight_solver_and_threads_reach_the_trials(tmp_path: Path,
                                                     capsys: pytest.CaptureFixture[str]) -> None:
    """CP-SAT with 2 workers for the weights, SCIP for the neurons: the same optima (both are
    certified) as one solver throughout, and the specs in the store name each solver."""
    import sqlite3

    from exactprune.benchmarks.pruning.verify_gap import run_pruning_gap

    store = tmp_path / "gap.sqlite"
    common = {"n": [7], "trials": 2, "points": 20, "jobs": 0, "time_limit": 30.0}
    mixed = run_pruning_gap(**common, solver="scip", weight_solver="cpsat", weight_threads=2,
                            store=str(store))
    plain = run_pruning_gap(**common, solver="scip")
    for kind in ("neuron", "weight"):
        for a, b in zip(mixed["table"][kind], plain["table"][kind], strict=True):
            assert a["certified"] == b["certified"] == 2
            assert math.isclose(a["optimum"], b["optimum"], rel_tol=1e-5, abs_tol=1e-12)
    specs = [json.loads(row[0]) for row in
             sqlite3.connect(store).execute("SELECT spec FROM runs")]
    assert {(s["kind"], s["solver"], s.get("threads")) for s in specs} == {
        ("neuron", "scip", None), ("weight", "cpsat", 2)}


@pytest.mark.parametrize("options, message", [
    ({"threads": 2, "solver": "bruteforce"}, "runs one thread"),
    ({"weight_threads": 2, "weight_solver": "bruteforce"},
     "^run_pruning_gap: weight_threads 2: solver bru"),
    ({"weight_solver": "greedy_forward"}, "weight_solver greedy_forward is a heuristic"),
    ({"thread": 2}, "unknown option"),
    # both ends of the range in one wording (hunt 214 L2: 0 and 65 were said two ways)
    ({"threads": 0}, "threads=0: must be an integer from 1 to 64, got 0"),
    ({"threads": 65}, "threads=65: must be an integer from 1 to 64, got 65"),
    ({"weight_threads": 65}, "weight_threads=65: must be an integer from 1 to 64, got 65"),
    ({"time_limit": "soon"}, "time_limit"),
    ({"output_activation": "tanh"}, "choose from"),
    # None, text for an on/off flag and a number for a path were taken as given
    ({"d": None}, "needs a value"),
    ({"time_limit": None}, "needs a value"),  # it ran with no time limit
    ({"nested": "no"}, "must be True or False"),  # it ran nested
    ({"store": 5}, "must be text"),
])
def test_python_api_refuses_bad_options(options: dict, message: str) -> None:
    from exactprune.benchmarks.pruning.verify_gap import run_pruning_gap

    with pytest.raises(InputError, match=message):
        run_pruning_gap(n=[4], trials=1, points=16, jobs=0, **options)


def test_python_api_refuses_jobs_none() -> None:
    """jobs=None, the CLI's unset --jobs, meant 1 worker process in the Python form, whose
    default is 0 (in this process; hunt 101 M2)."""
    from exactprune.benchmarks.neuron_selection.pretraining import run_pretraining
    from exactprune.benchmarks.pruning.verify_gap import run_pruning_gap

    with pytest.raises(InputError, match="run_pruning_gap: jobs=None: needs a value"):
        run_pruning_gap(n=[4], trials=1, points=16, jobs=None)
    with pytest.raises(InputError, match="run_pretraining: jobs=None: needs a value"):
        run_pretraining(sizes=[50], iters=[10], jobs=None)


def test_python_api_takes_numpy_bools_as_flags() -> None:
    """numpy's bool was refused for an on/off flag (`nested=np.True_`) where backend options
    and numbers take numpy's scalars (hunt 93)."""
    from exactprune.benchmarks.pruning.verify_gap import run_pruning_gap

    def untimed(obj: object) -> object:  # the numbers, not the wall times
        if isinstance(obj, dict):
            return {k: untimed(v) for k, v in obj.items() if "time" not in k}
        return [untimed(v) for v in obj] if isinstance(obj, list) else obj

    small = {"n": [4], "trials": 2, "points": 16}
    assert untimed(run_pruning_gap(nested=np.True_, **small)) == untimed(
        run_pruning_gap(nested=True, **small))


@pytest.mark.parametrize("flags,said", [(["--d", "0"], "input dimensions (--d) must be >= 1"),
                                        (["--n", "0:3"], "widths must be >= 1"),
                                        # named --n, and the neuron kind (hunt 31)
                                        (["--d", "abc"], "--d needs an integer"),
                                        (["--d", "2:x"], "--d needs an integer"),
                                        (["--weight-solver", "foo"],
                                         "--weight-solver: unknown solver 'foo' for "
                                         "weight_pruning")])
def test_a_bad_range_names_its_flag(flags: list[str], said: str, tmp_path: Path,
                                    capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["verify", "pruning-gap", "--out", str(tmp_path / "out"), *flags]) == 2
    assert said in capsys.readouterr().err


def test_report_of_a_neuron_only_run_says_why_it_has_no_separation_or_fit(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """A run whose widths all exceed --weight-max-n (e.g. a longer look at the widest neuron
    cell) has no separation and no curve: the report says so instead of an empty table."""
    out = tmp_path / "n6"
    assert main(["verify", "pruning-gap", "--n", "6", "--trials", "2", "--points", "16",
                 "--weight-max-n", "4", "--jobs", "0", "--out", str(out), "--json",
                 "--time-limit", "30"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["separation"] == {} and data["table"]["weight"] == []
    assert data["plots"] == []  # one width is no curve: no plot with a lone bar in it
    text = (out / "report.md").read_text()
    assert "| neuron | 6 | 2/2 |" in text
    assert "none: no width has both a neuron and a weight pruning (weights are pruned at " \
           "widths <= 4 only)." in text
    assert "| n | median |" not in text  # no empty separation table
    assert "No scaling fit: it needs two or more widths of a kind (here: neuron [6]; " \
           "weight none)." in text


def test_a_nested_run_resamples_whole_trials_and_says_so(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """Nested trials share one network across widths: the fits' bootstrap resamples whole
    trials (the fits' notes count them) and the report says so next to the fits; independent
    runs resample (width, bound) pairs."""
    from exactprune.benchmarks.pruning.verify_gap import NESTED_CI_CAVEAT

    base = ["verify", "pruning-gap", "--n", "2,4,6", "--trials", "2", "--points", "16",
            "--jobs", "0", "--time-limit", "30", "--json"]
    for nested in (True, False):
        out = tmp_path / ("nested" if nested else "independent")
        assert main([*base, "--out", str(out), *(["--nested"] if nested else [])]) == 0
        data = json.loads(capsys.readouterr().out)
        assert (NESTED_CI_CAVEAT in (out / "report.md").read_text()) is nested
        notes = [n for f in data["fits"].values() for n in f["notes"]]
        assert any("bootstrap over 2 groups" in n for n in notes) is nested


def test_a_proved_infinite_separation_is_inf_in_the_json_not_null() -> None:
    """A weight pruning with sup error 0 against a positive neuron bound has separation +inf:
    the report said inf, the JSON null, which reads as "no data" (hunt 23)."""
    import argparse

    from exactprune.benchmarks.pruning.verify_gap import analyse, to_json
    from exactprune.instances.io import dumps

    specs, recs = [], []
    for n in (8, 16, 32):
        for t in range(3):
            for kind in ("neuron", "weight"):
                specs.append({"d": 2, "n": n, "trial": t, "kind": kind,
                              "trials_mode": "independent"})
                lower, upper = 0.5 / n, (0.0 if n == 32 else 0.01 / n)
                value = lower if kind == "neuron" else upper
                recs.append({"status": "optimal", "certified": True, "objective": value,
                             "lower": value, "upper": value, "upper_exact": True,
                             "empty_error": 1.0, "kept": 1, "wall_time_s": 0.1})
    analysis = analyse(2, specs, recs, 0)
    args = argparse.Namespace(weight_max_n=0, nested=False, output_activation="relu", trials=3)
    body = json.loads(dumps(to_json(args, [analysis], None)))
    assert body["separation"]["32"]["median"] == "inf"
    assert body["separation"]["32"]["ci"] == ["inf", "inf"]
    assert body["separation"]["32"]["trials"] == 3 and body["separation"]["32"]["above_100"] == 3
    assert body["separation"]["8"]["median"] == 50.0


def test_the_report_words_a_preference_by_its_bootstrap_support() -> None:
    """"power_law fits better" was printed when 45.6 % of bootstrap resamples preferred it
    (hunt 23): weak below 80 %, no clear preference below one half."""
    import types

    from exactprune.benchmarks.fits import verdict_words as _verdict

    def cmp(share: float) -> types.SimpleNamespace:  # what the report reads of a comparison
        return types.SimpleNamespace(preferred="power_law", loo_ratio=1.02, decay=True,
                                     bootstrap_share={"power_law": share,
                                                      "exponential": 1 - share})

    assert _verdict(cmp(0.99)).startswith("power_law fits better")
    assert _verdict(cmp(0.65)).endswith(": weak")
    low = _verdict(cmp(0.456))
    assert "no clear preference" in low and "fits better" not in low
    # the share is not rounded across a threshold: 1599 of 2000 read "80 %" beside "weak",
    # 999 of 2000 "50 %" beside "no clear preference" (hunt 183 L5)
    assert "preferred in 79.95 % of bootstrap resamples): weak" in _verdict(cmp(1599 / 2000))
    assert "in 49.95 % of" in _verdict(cmp(999 / 2000))
    assert "in 61.7 % of" in _verdict(cmp(1234 / 2000))  # 3 digits where they do not cross
    assert "in 79.999999999999993 % of" in _verdict(cmp(0.7999999999999999))  # 100·x is 80.0


def test_a_preference_without_resamples_does_not_cite_them() -> None:
    """With too few points for a bootstrap (`--trials 1` over 3 widths) the report said "most
    resamples prefer the other model" while none was drawn; a LOO ratio of 1.002 read "1"
    (hunt 33)."""
    import types

    from exactprune.benchmarks.fits import compare_models
    from exactprune.benchmarks.fits import verdict_words as _verdict

    cmp = compare_models([8, 12, 16], [0.3, 0.2, 0.14])
    assert cmp.preferred and cmp.bootstrap_share == {}
    said = _verdict(cmp)
    assert "is not bootstrapped" in said and "other model" not in said, said
    # subset-sum's report has no --nested flag to name (hunt 183 L4); pruning-gap's has
    from exactprune.benchmarks.pruning.verify_gap import NOT_BOOTSTRAPPED

    assert "--nested" not in said and "--nested" in _verdict(cmp, NOT_BOOTSTRAPPED)
    close = types.SimpleNamespace(preferred="power_law", loo_ratio=1.002, decay=True,
                                  bootstrap_share={"power_law": 0.9})
    assert "ratio 1.002;" in _verdict(close)
    nearly = types.SimpleNamespace(preferred="power_law", loo_ratio=1.0003, decay=True,
                                   bootstrap_share={"power_law": 0.9})
    assert "ratio 1 + 3.0e-04;" in _verdict(nearly)  # "1.000" read as a tie (hunt 36)


def test_failed_trials_are_counted_and_left_out_of_exactness_and_time() -> None:
    """A killed or crashed trial was invisible in report.md, made its width "upper exact: no"
    although every upper was exact, and its timeout went into the median time (hunt 33)."""
    from exactprune.benchmarks.pruning.verify_gap import summarise

    specs = [{"kind": "weight", "n": 12, "trial": t} for t in range(3)]
    ok = {"status": "ok", "certified": True, "objective": 0.4, "lower": 0.4, "upper": 0.42,
          "upper_exact": True, "empty_error": 1.0, "kept": 10, "wall_time_s": 0.05}
    killed = {"status": "killed", "wall_time_s": 99.0, "error": "killed"}
    row = summarise(specs, [ok, {**ok, "wall_time_s": 0.07}, killed])["weight"][0]
    assert row["errors"] == 1 and row["upper_exact"] is True
    assert row["time_s"] == pytest.approx(0.06)
    assert summarise(specs[:1], [killed])["weight"][0]["upper_exact"] is False


def test_the_report_says_when_trials_failed(tmp_path: Path,
                                            capsys: pytest.CaptureFixture[str]) -> None:
    import sqlite3

    store = tmp_path / "s.sqlite"
    args = ["verify", "pruning-gap", "--n", "4,6", "--trials", "2", "--points", "16",
            "--jobs", "0", "--store", str(store), "--time-limit", "30"]
    assert main([*args, "--out", str(tmp_path / "a")]) == 0
    with sqlite3.connect(store) as conn:  # what a worker's crash leaves (status error)
        conn.execute("UPDATE runs SET status = 'killed', record = ? WHERE json_extract(spec, "
                     "'$.kind') = 'weight' AND json_extract(spec, '$.n') = 6 AND "
                     "json_extract(spec, '$.trial') = 0",
                     (json.dumps({"status": "killed", "wall_time_s": 99.0}),))
    assert main([*args, "--out", str(tmp_path / "b")]) == 0
    capsys.readouterr()
    text = (tmp_path / "b" / "report.md").read_text()
    assert "**1 trial(s) failed or were killed**" in text
    assert "| weight | 6 | 1/2 | 1 |" in text and "| 6 |" in text
    assert "failed or were killed" not in (tmp_path / "a" / "report.md").read_text()


def test_the_store_keeps_each_trials_mask(tmp_path: Path) -> None:
    """Records held no mask, so objective and upper could not be recomputed from the store
    (hunt 33): from the mask alone, both come out again."""
    import sqlite3

    from exactprune.benchmarks.pruning.verify_gap import run_pruning_gap, trial_instance
    from exactprune.solvers.pruning.sup_error import sup_error

    store = tmp_path / "gap.sqlite"
    run_pruning_gap(n=[4], trials=2, points=16, jobs=0, time_limit=30.0, store=str(store))
    rows = sqlite3.connect(store).execute("SELECT spec, record FROM runs").fetchall()
    assert len(rows) == 4
    for spec_text, record_text in rows:
        spec, rec = json.loads(spec_text), json.loads(record_text)
        inst = trial_instance(spec)
        mask = inst.mask_from_json(rec["mask"])
        assert inst.evaluate(mask) == rec["objective"]
        net = inst.pruned_network(mask)
        sup = sup_error(net.hidden_weights, net.output_weights, net.output_activation,
                        inst.target.hidden_weights, inst.target.output_weights,
                        inst.target.output_activation, inst.domain)
        assert sup.value == rec["upper"]


def test_widths_with_no_decay_get_no_model_choice() -> None:
    """Nested trials whose bounds differ only in the 15th digit across widths read "exponential
    fits better (preferred in 96.5 % of bootstrap resamples)", with an exponent of 6.5e-14
    whose CI excluded 0 (hunt 46 M1): there is no decay to classify."""
    from exactprune.benchmarks.fits import compare_models
    from exactprune.benchmarks.fits import verdict_words as _verdict

    flat = {0: 0.893104506017601, 1: 0.121792011696187, 2: 0.96205368065791}
    n, eps, groups = [], [], []
    for trial, value in flat.items():
        for i, w in enumerate((4, 6, 8)):
            n.append(w)
            eps.append(value * (1 - 7e-16 * i))  # rounding, not a decay
            groups.append(trial)
    cmp = compare_models(n, eps, groups=groups)
    assert cmp.decay is False and cmp.preferred is None and cmp.bootstrap_share == {}
    said = _verdict(cmp)
    assert said.startswith("no clear decay over these widths") and "fits better" not in said
    decaying = compare_models(n, [e * w**-1.0 for e, w in zip(eps, n, strict=True)],
                              groups=groups)
    assert decaying.decay is True and decaying.preferred is not None


def test_growth_with_d_leaves_out_a_whole_d_with_zero_bounds_and_counts_the_proven() -> None:
    """Three of four bounds of 0 at d = 3 and 4 (a time limit's dual bounds) were dropped
    trial by trial: the exponent 2.39 [2.25, 2.46] rested on one trial per d (hunt 57 M3). A d
    with a bound of 0 is left out whole, as the width fits leave a width, and the notes say how
    many bounds are certified optima."""
    from exactprune.benchmarks.pruning.verify_gap import GapAnalysis, growth_with_d

    def analysis(d: int, values: list[float], certified: int) -> GapAnalysis:
        bounds = {8: {t: {"neuron": v, "weight": 0.01 * d} for t, v in enumerate(values)}}
        table = {kind: [{"n": 8, "trials": len(values), "certified": certified}]
                 for kind in ("neuron", "weight")}
        return GapAnalysis(d, table, bounds, {}, {}, {}, {})

    args = argparse.Namespace(widths=[8])
    analyses = [analysis(2, [0.010, 0.012, 0.011, 0.013], 4),
                analysis(3, [0.0, 0.0, 0.0, 0.020], 1),
                analysis(4, [0.0, 0.0, 0.0, 0.030], 1),
                analysis(5, [0.050, 0.060, 0.055, 0.052], 4)]
    g = growth_with_d(args, analyses)["neuron"]["8"]
    assert g["certified"] == [[4, 4], [1, 4], [1, 4], [4, 4]]
    assert g["fit"]["n_points"] == 8  # d = 2 and 5, every trial
    assert any(n.startswith("d = 3 left out: 3 of 4 bounds") for n in g["notes"]), g["notes"]
    assert any(n.startswith("d = 4 left out") for n in g["notes"])
    # every fitted bound is a certified optimum: no note about bounds (hunt 58 L1)
    assert not any("certified optima" in n for n in g["notes"])
    # a fitted d with uncertified bounds is said so
    analyses[3] = analysis(5, [0.050, 0.060, 0.055, 0.052], 2)
    g = growth_with_d(args, analyses)["neuron"]["8"]
    assert g["notes"][0].startswith("6 of 8 bounds in the fit are certified optima"), g["notes"]
    ds = np.repeat([2.0, 5.0], 4)
    ys = [0.010, 0.012, 0.011, 0.013, 0.050, 0.060, 0.055, 0.052]
    slope = np.polyfit(np.log(ds), np.log(ys), 1)[0]
    assert g["exponent"] == pytest.approx(slope)
    weight = growth_with_d(args, analyses)["weight"]["8"]
    assert weight["fit"]["n_points"] == 16 and not any("left out" in n for n in weight["notes"])
    # a weight bound is a mask's sup error, never an optimum: its count is of masks certified
    # optimal on the points (hunt 181 L3 — "bounds ... are certified optima")
    assert weight["notes"][0].startswith("8 of 16 masks in the fit are certified optimal on "
                                         "the points"), weight["notes"]
    from exactprune.benchmarks.fits import power_law_fit
    from exactprune.benchmarks.pruning.verify_gap import _drawn_fit

    growing = power_law_fit([4, 8, 16], [0.1, 0.2, 0.4])  # exponent -1: "n^--1" before (L2)
    a = GapAnalysis(2, {}, {}, {}, {"neuron_power_exponent": growing},
                    {"neuron": argparse.Namespace(preferred=None)}, {})
    assert "·n^1.00 " in _drawn_fit(a, "neuron")[1]


def test_report_words_on_small_designs(tmp_path: Path, capsys: pytest.CaptureFixture[str]
                                       ) -> None:
    """Two widths × two trials: the fits' "95% CI" covered the truth in 65 % of synthetic runs
    and the report had no caveat; "neither model fits better (leave-one-out error ratio —)"
    read as a comparison that was never made; a zero printed "-0" (hunt 57 M2, L2, L4)."""
    from exactprune.benchmarks.pruning.verify_gap import _g

    assert _g(-0.0) == "0" and _g(-1e-300) == "-1e-300"
    assert main(["verify", "pruning-gap", "--n", "4,8", "--trials", "2", "--points", "16",
                 "--time-limit", "30", "--jobs", "0", "--out", str(tmp_path / "r")]) == 0
    capsys.readouterr()
    report = (tmp_path / "r" / "report.md").read_text()
    assert "95% CI (nominal)" in report and "read them as rough" in report
    assert "the models are not compared: a leave-one-out comparison needs 3 or more widths" \
        in report
    assert "neither model fits better" not in report


def _synthetic_analysis(widths: list[int], trials: int, fit_min_n: int,
                        certified: bool = True) -> tuple[str, dict]:
    """(report section, JSON body) of crafted records: neuron 0.5/n, weight 0.01/n."""
    import argparse

    from exactprune.benchmarks.pruning.verify_gap import analyse, report_section, to_json
    from exactprune.instances.io import dumps

    specs, recs = [], []
    for n in widths:
        for t in range(trials):
            for kind in ("neuron", "weight"):
                specs.append({"d": 2, "n": n, "trial": t, "kind": kind,
                              "trials_mode": "independent"})
                value = (0.5 if kind == "neuron" else 0.01) / n * (1 + 0.01 * t)
                recs.append({"status": "optimal" if certified else "time_limit",
                             "certified": certified, "objective": value, "bound": value,
                             "lower": value, "upper": value, "upper_exact": True,
                             "empty_error": 1.0, "kept": 1, "wall_time_s": 0.1})
    analysis = analyse(2, specs, recs, fit_min_n)
    args = argparse.Namespace(weight_max_n=0, nested=False, output_activation="relu",
                              trials=trials)
    body = json.loads(dumps(to_json(args, [analysis], None)))
    return "\n".join(report_section(args, analysis)), body


def test_the_small_design_caveat_counts_the_fitted_widths() -> None:
    """Five widths × 10 trials with --fit-min-n 10 fit two widths (CIs covering 65-84 %), and
    the caveat was missing: it counted the table's widths (hunt 79 M2)."""
    from exactprune.benchmarks.pruning.verify_gap import SMALL_DESIGN_CAVEAT

    text, body = _synthetic_analysis([4, 6, 8, 10, 12], 10, fit_min_n=10)
    assert body["fit_range"]["neuron"]["widths"] == [10, 12]
    assert SMALL_DESIGN_CAVEAT in text
    text, _ = _synthetic_analysis([4, 6, 8, 10, 12], 10, fit_min_n=0)
    assert SMALL_DESIGN_CAVEAT not in text  # five fitted widths of ten trials: none needed


def test_no_certified_width_is_said_in_words() -> None:
    """Without a width whose trials are all certified the report printed "certified widths
    only []: power exponent nan [nan, nan]; neither model preferred" (hunt 79 L4)."""
    text, _ = _synthetic_analysis([4, 8, 16], 3, fit_min_n=0, certified=False)
    assert "certified widths only: none" in text and "only []" not in text


def test_the_certified_widths_fit_is_worded_by_the_main_verdicts_rule() -> None:
    """The certified-widths line said "power_law preferred (LOO ratio 1.001, 47.2 % of
    resamples)" where most resamples preferred the exponential; the main verdict's rule says
    "no clear preference" there, and "weak" below 80 % (hunt 87 L1)."""
    from exactprune.benchmarks.pruning import verify_gap as vg

    rng = np.random.default_rng(97200)
    widths = [8, 12, 16, 24, 32, 48]
    for _ in range(200):  # noisy data until the certified widths' choice is contradicted
        noise = {(n, t): math.exp(rng.normal(0, 0.6)) for n in widths for t in range(6)}
        specs, recs = [], []
        for t in range(6):
            for n in widths:
                for kind in vg.KINDS:
                    specs.append({"d": 2, "n": n, "kind": kind, "trial": t,
                                  "trials_mode": "independent"})
                    v = noise[(n, t)] * (0.5 / n if kind == "neuron" else 0.3 * math.exp(-n / 20))
                    cert = n != 48  # the certified widths differ from the fitted ones
                    recs.append({"status": "optimal" if cert else "time_limit",
                                 "certified": cert, "objective": v, "bound": v, "lower": v,
                                 "upper": v, "upper_exact": True, "kept": 1, "empty_error": 1.0,
                                 "wall_time_s": 0.1})
        a = vg.analyse(2, specs, recs, 0)
        cf = a.ranges["neuron"]["certified_fit"]
        if cf["preferred"] and cf["bootstrap_share"][cf["preferred"]] < 0.5:
            break
    else:
        pytest.fail("no contradicted choice in 200 draws")
    args = argparse.Namespace(nested=False, trials=6, weight_max_n=0, output_activation="relu")
    line = next(x for x in vg.report_section(args, a) if x.startswith("  - certified widths"))
    assert "no clear preference, most resamples prefer the other model" in line, line
    assert f"{cf['preferred']} preferred" not in line


def test_a_separation_near_one_is_not_rounded_onto_it() -> None:
    """A CI end of 0.99998 printed "[1, 2.62]" beside "> 1: 3" (hunt 79 L5)."""
    from exactprune.benchmarks.pruning.verify_gap import _separation

    assert _separation(0.99998) == "0.99998" and _separation(1.00002) == "1.00002"
    assert float(_separation(1 - 2**-53)) < 1 < float(_separation(1 + 2**-52))
    assert _separation(1.0) == "1" and _separation(2.6234) == "2.62"
    assert _separation(None) == "—" and _separation(math.inf) == "inf"


def test_a_heuristic_solver_is_refused_naming_every_exact_backend() -> None:
    """The refusal listed scip, cpsat, highs, cbc and bruteforce by hand and left out gurobi,
    exact and accepted when installed (hunt 79 L6)."""
    from exactprune.benchmarks.pruning.verify_gap import _check_solver
    from exactprune.solvers.registry import list_backends

    with pytest.raises(InputError, match="is a heuristic") as refused:
        _check_solver("magnitude")
    for kind in ("neuron_pruning", "weight_pruning"):
        for backend in list_backends(kind, only_available=True):
            assert (f"{backend.name}," in str(refused.value)
                    or f"{backend.name} or auto" in str(refused.value)) is backend.exact


def test_an_exact_engine_that_certifies_nothing_is_not_called_a_heuristic() -> None:
    """--solver pulp_gurobi was refused as "a heuristic" (hunt 222 L1): the pulp_* engines are
    exact MILP solvers whose answers are never certified, and the ticket is constructive."""
    from exactprune.benchmarks.pruning.verify_gap import _check_solver
    from exactprune.solvers.registry import list_backends

    with pytest.raises(InputError, match="^--weight-solver ticket is never certified: "):
        _check_solver("ticket", flag="--weight-solver", kinds=("weight_pruning",))
    inexact = [b for kind in ("subset_sum", "neuron_pruning", "weight_pruning",
                              "neuron_selection") for b in list_backends(kind) if not b.exact]
    assert len(inexact) >= 20
    for backend in inexact:
        named = backend.name.startswith("pulp_") or backend.name == "ticket"
        assert (backend.inexact_what == "never certified") is named, backend.name


def test_api_list_options_take_any_iterable() -> None:
    """range(4, 9, 4) and generators were accepted as "4,8" before element-by-element reading
    refused them as 'range(4' (hunt 58 M2)."""
    from exactprune.benchmarks.api import options_namespace
    from exactprune.benchmarks.pruning.verify_gap import add_pruning_gap_parser

    for value in (range(4, 9, 4), (w for w in (4, 8)), {4: 0, 8: 0}.keys(), np.array([4, 8])):
        args = options_namespace(add_pruning_gap_parser, "pruning-gap", "run_pruning_gap",
                                 {"n": value}, lists=("n",))
        assert args.n == "4,8"  # as the command line gives it


@pytest.mark.parametrize("n,said", [([4, 8.5], "got '8.5'"), ([True, 4], "got 'True'")])
def test_api_list_options_are_read_element_by_element(n: list, said: str) -> None:
    """np.atleast_1d made [4, 8.5] "4.0,8.5" (refused as '4.0', the wrong value) and
    [True, 4] "1,4", a width of 1 (hunt 57 L3)."""
    from exactprune.benchmarks.pruning.verify_gap import run_pruning_gap

    with pytest.raises(InputError, match=said):
        run_pruning_gap(n=n, trials=1, points=8, time_limit=1)


def test_the_report_names_the_two_points_of_the_one_sphere(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """With --d 1 the header said "K = 16 sphere points" where the instances have the 2
    points ±1 (hunt 87 L4)."""
    out = tmp_path / "out"
    assert main(["verify", "pruning-gap", "--out", str(out), "--d", "1,2", "--n", "2",
                 "--trials", "1", "--points", "16", "--time-limit", "5"]) == 0
    capsys.readouterr()
    head = (out / "report.md").read_text()
    assert "K = 16 sphere points (d = 1: the 2 points ±1)" in head
    assert "1 trial per width" in head


def test_threads_are_an_allowance_to_auto_at_small_widths(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """--threads 2 with the default auto was refused at widths where auto picks bruteforce
    ("solver 'bruteforce' does not support threads"), where `solve` runs it on one thread
    (hunt 93 L2); a named bruteforce with --threads 2 is still refused."""
    out = tmp_path / "out"
    assert main(["verify", "pruning-gap", "--out", str(out), "--n", "4", "--trials", "1",
                 "--points", "16", "--time-limit", "5", "--threads", "2"]) == 0
    capsys.readouterr()
    assert "up to 2 threads per solve (an allowance" in (out / "report.md").read_text()
    assert main(["verify", "pruning-gap", "--out", str(out), "--n", "4", "--trials", "1",
                 "--points", "16", "--time-limit", "5", "--weight-threads", "2"]) == 0
    capsys.readouterr()
    assert "(weights: auto, up to 2 threads)" in (out / "report.md").read_text()  # (hunt 95)


def _figures_drawn(monkeypatch: pytest.MonkeyPatch) -> list:
    """The figures `plots.save_figure` is given from now on (still written); skips the test
    without matplotlib."""
    from exactprune.benchmarks import plots

    if not plots.plotting_available():
        pytest.skip("matplotlib not installed")
    figures: list = []
    save = plots.save_figure
    monkeypatch.setattr(plots, "save_figure", lambda fig, stem: figures.append(fig) or
                        save(fig, stem))
    return figures


def test_the_brackets_plot_keeps_its_legend_off_the_curves_and_labels_the_widths(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The published brackets.png had its four long legend lines inside the axes, over the
    weight curve's fall from n = 16 to 48, and a log axis labelled 20 as "2×10^1": the legend
    sits below the axes now, and a log axis of a few whole widths is ticked at them."""
    from exactprune.benchmarks import plots

    figures = _figures_drawn(monkeypatch)
    widths = [8, 16, 32, 48, 64, 128]
    label = "neuron pruning: best error on the points, bar [lower, upper] (medians)"
    errors = [0.5 / n for n in widths]
    plots.bracket_plot({label: (widths, errors, [2 * e for e in errors], errors)},
                       tmp_path / "b", "t", logx=True,
                       reference={"neuron fit: 4·n^-1": (widths, [4 / n for n in widths])})
    (fig,) = figures
    fig.canvas.draw()
    renderer = fig.canvas.get_renderer()
    (ax,), (legend,) = fig.axes, fig.legends
    assert legend.get_window_extent(renderer).y1 <= ax.get_window_extent(renderer).y0
    assert not ax.get_legend()
    assert list(ax.get_xticks()) == widths
    shown = [t.get_text().replace("$\\mathdefault{", "").rstrip("}$")
             for t in ax.get_xticklabels()]
    assert shown == [str(n) for n in widths]


def test_the_brackets_plot_draws_medians_not_certified_in_every_trial_hollow(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """brackets.png drew the median best error of a width where no trial was certified (weight
    n = 24, 0/3) with the filled marker of a certified one (hunt 181 L2): a point is filled now
    only where every trial certified its optimum, as `results plot` marks its points."""
    from types import SimpleNamespace

    from exactprune.benchmarks import plots
    from exactprune.benchmarks.pruning import verify_gap

    figures = _figures_drawn(monkeypatch)

    def row(n: int, certified: int) -> dict:
        return {"n": n, "lower": 0.01 / n, "upper": 0.05 / n, "optimum": 0.02 / n,
                "certified": certified, "trials": 3}

    table = {"neuron": [row(4, 3), row(8, 3), row(16, 3)],
             "weight": [row(4, 3), row(8, 1), row(16, 0)]}
    a = SimpleNamespace(d=2, table=table, ranges={k: {"widths": []} for k in table},
                        separation={})
    monkeypatch.setattr(verify_gap, "_drawn_fit", lambda a, kind: (SimpleNamespace(ok=False),
                                                                     ""))
    args = SimpleNamespace(dims=[2], output_activation="relu")
    assert verify_gap._plots(args, a, tmp_path)
    (ax,) = figures[0].axes
    drawn = {}  # per series colour: x of filled markers, x of hollow ones
    for line in ax.get_lines():
        if line.get_marker() != "o":
            continue
        xs = list(line.get_xdata())
        marked = xs if line.get_markevery() is None else [xs[i] for i in line.get_markevery()]
        hollow = line.get_markerfacecolor() in ("white", "#ffffff", (1.0, 1.0, 1.0, 1.0))
        drawn.setdefault(line.get_color(), []).append((hollow, [round(x) for x in marked]))
    kinds = sorted(drawn.values(), key=len)
    assert kinds[0] == [(False, [4, 8, 16])]  # neuron: every trial certified at every width
    assert sorted(kinds[1]) == [(False, [4]), (True, [8, 16])]
    with pytest.raises(ValueError, match="hollow differs in length"):  # hunt 183 L7
        plots.bracket_plot({"a": ([1, 2], [1, 2], [2, 3], [1.5, 2.5])}, tmp_path / "h", "t",
                           hollow={"a": [True]})



@pytest.mark.parametrize("command", [
    ["pruning-gap", "--n", "4", "--trials", "1", "--points", "16", "--time-limit", "5"],
    ["pretraining", "--sizes", "20", "--iters", "0,5", "--hidden", "5", "--k", "2",
     "--trials", "1"],
])
def test_no_progress_silences_the_progress_line(
        command: list[str], tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """docs/reliability.md promised `--no-progress` beside `--json` for the runs' progress line,
    and pruning-gap and pretraining refused the flag (hunt 223 L1)."""
    assert main(["verify", *command, "--out", str(tmp_path / "a")]) == 0
    assert "done:" in capsys.readouterr().err
    assert main(["verify", *command, "--out", str(tmp_path / "b"), "--no-progress"]) == 0
    err = capsys.readouterr().err
    assert err.startswith("report ") and err.count("\n") == 1, err
    assert (tmp_path / "a" / "report.md").is_file() and (tmp_path / "b" / "report.md").is_file()
