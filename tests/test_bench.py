"""`exactprune bench`: suites, Dolan–Moré profiles, tables, report, store, resume."""

from __future__ import annotations

import io
import json
import math
from pathlib import Path

import numpy as np
import pytest
from conftest import fraction_oracle

from exactprune.benchmarks import bench, suites
from exactprune.benchmarks.profiles import performance_profile, performance_ratios
from exactprune.benchmarks.store import ResultStore
from exactprune.instances import InputError, load_instance
from exactprune.instances import io as instance_io
from exactprune.solvers import Backend, get_backend, registry, solve

DOCUMENTED_KEYS = {"solved_optimal", "instances", "median_time_s", "median_ratio", "worst_ratio"}


def run_cli(args: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    code = bench.main(args)
    out, err = capsys.readouterr()
    return code, out, err


# -- profiles ----------------------------------------------------------------------------------
def test_profile_hand_computed() -> None:
    # times of solvers A, B on three instances; B fails on the third
    costs = [[1.0, 2.0], [4.0, 2.0], [3.0, None]]
    p = performance_profile(costs, ["A", "B"])
    # r = t / min over the row: (1, 2), (2, 1), (1, inf)
    assert p.ratios.tolist() == [[1.0, 2.0], [2.0, 1.0], [1.0, math.inf]]
    assert p.taus.tolist() == [1.0, 2.0]
    # rho_A(1) = 2/3 (instances 1, 3), rho_A(2) = 1; rho_B(1) = 1/3, rho_B(2) = 2/3 forever
    assert np.allclose(p.rho, [[2 / 3, 1.0], [1 / 3, 2 / 3]])
    assert p.rho_at("A", 1.0) == pytest.approx(2 / 3)
    assert p.rho_at("A", 1.999) == pytest.approx(2 / 3)
    assert p.rho_at("B", 1.5) == pytest.approx(1 / 3)
    assert p.rho_at("B", 1e9) == pytest.approx(2 / 3)
    assert p.solved_fraction("B") == pytest.approx(2 / 3)


def test_profile_zero_optimum_failures_and_floor() -> None:
    r = performance_ratios([[0.0, 0.0, 1e-300],          # exact-zero best: ties 1, others inf
                            [math.inf, math.nan, None],   # every solver fails
                            [0.5, 0.25, 1.0]])
    assert r[0].tolist() == [1.0, 1.0, math.inf]
    assert np.all(np.isinf(r[1]))
    assert r[2].tolist() == [2.0, 1.0, 4.0]
    # the floor raises tiny times: 0.1 ms and 0.5 ms both count as 1 ms
    assert performance_ratios([[1e-4, 5e-4, 4e-3]], floor=1e-3).tolist() == [[1.0, 1.0, 4.0]]
    p = performance_profile([[math.inf, math.inf]], ["A", "B"])
    assert p.rho.tolist() == [[0.0], [0.0]]  # an instance nobody solves still counts
    with pytest.raises(ValueError):
        performance_ratios([[-1.0, 1.0]])


def test_profile_plot_gives_every_solver_its_own_colour(monkeypatch: pytest.MonkeyPatch,
                                                        tmp_path: Path) -> None:
    """A bench profile has 12+ solvers; with matplotlib's ten colours cbc and scip shared one."""
    pytest.importorskip("matplotlib")
    from matplotlib.colors import to_rgba

    from exactprune.benchmarks import plots
    from exactprune.benchmarks.profiles import plot_profiles

    figures = []
    monkeypatch.setattr(plots, "save_figure", lambda fig, stem: figures.append(fig) or [])
    names = [f"solver{i}" for i in range(14)]
    costs = [[1.0 + i for i in range(len(names))], [2.0 + i for i in range(len(names))]]
    plot_profiles(performance_profile(costs, names), tmp_path / "p", "t")
    (fig,) = figures
    lines = fig.axes[0].get_lines()
    assert [ln.get_label() for ln in lines] == names
    assert len({to_rgba(ln.get_color()) for ln in lines}) == len(names)


# -- suites --------------------------------------------------------------------------------------
def test_suites_are_as_documented(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    ss = suites.SUITES["subset-sum"].instances
    assert sorted({i.size for i in ss}) == [16, 20, 24, 28, 32, 40]
    assert len(ss) == 18 and {i.params["seed"] for i in ss} == {0, 1, 2}
    npr = suites.SUITES["neuron-pruning"].instances
    assert len(npr) == 12 and sorted({i.size for i in npr}) == [16, 32, 64]
    assert {i.params["points"] for i in npr} == {128}
    assert {i.params["output_activation"] for i in npr} == {"identity", "relu"}
    wp = suites.SUITES["weight-pruning"].instances
    assert len(wp) == 12 and sorted({i.size for i in wp}) == [8, 16, 32]
    assert {i.params["points"] for i in wp} == {64}
    for s in suites.SUITES.values():
        assert len({i.kind for i in s.instances}) == 1  # profiles compare like with like
    code, out, err = run_cli(["all", "--write-instances", str(tmp_path / "inst"), "--json"],
                             capsys)
    assert code == 0, err
    written = json.loads(out)["written"]
    tr = suites.SUITES["trained"].instances
    assert len(tr) == 18 and {i.kind for i in tr} == {"neuron_selection"}
    keep = suites.SUITES["trained-keep"].instances
    assert [i.params["rule"] for i in keep] == ["keep"] * len(tr)
    assert [{**i.params, "rule": "average"} for i in keep] == [i.params for i in tr]
    assert len(written) == 42 + 2 * len(tr)
    # every file is checked before the first is written: two names that are one file through
    # a link, or a link to a device, wrote the others first (hunt 153 M6)
    again_folder = tmp_path / "again"
    again_folder.mkdir()
    names = [Path(p).name for p in written if Path(p).parent == Path(written[0]).parent]
    (again_folder / names[1]).symlink_to(names[0])
    for link in ((again_folder / names[1]), (again_folder / names[-1])):
        if link.name == names[-1]:
            (again_folder / names[1]).unlink()
            link.symlink_to("/dev/null")
        code, out, err = run_cli(["all", "--write-instances", str(again_folder)], capsys)
        assert code == 2 and len(err.strip().splitlines()) == 1, err
        assert [p.name for p in again_folder.iterdir() if not p.is_symlink()] == []
    # a written file is the generator's instance, bit for bit
    first = load_instance(written[0])
    again = suites.SUITES["subset-sum"].instances[0].generate()
    assert first.kind == "subset_sum" and np.array_equal(first.values, again.values)
    assert first.target == again.target


def test_bad_input_is_one_line_exit_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    for args in (["no-such-suite", "--out", str(tmp_path)],
                 ["smoke", "--solvers", "no_such_solver", "--out", str(tmp_path)],
                 ["smoke", "--time-limit", "-1"],
                 ["smoke-subset-sum", "--solvers", "prune_local_search", "--out",
                  str(tmp_path)],
                 ["smoke-subset-sum", "--write-instances", str(tmp_path / "file.json")],
                 # it runs nothing: run options were silently ignored (hunt 21)
                 ["smoke-subset-sum", "--write-instances", str(tmp_path / "w"), "--solvers",
                  "nosuch"],
                 ["smoke-subset-sum", "--write-instances", str(tmp_path / "w"), "--out",
                  "/dev/null"],
                 # options with defaults were accepted and ignored (hunt 82 L3)
                 *(["smoke-subset-sum", "--write-instances", str(tmp_path / "w"), *extra]
                   for extra in (["--time-limit", "3"], ["--threads", "1"], ["--jobs", "1"],
                                 ["--timeout", "99"], ["--retry-killed"], ["--no-give-up"])),
                 # above the 64 threads a solve takes: every run was stored as refused, exit 0
                 ["smoke-subset-sum", "--solvers", "mitm", "--threads", "100", "--out",
                  str(tmp_path / "b")]):
        (tmp_path / "file.json").write_text("{}")
        code, out, err = run_cli(args, capsys)
        assert code == 2, args
        assert out == "" and len(err.strip().splitlines()) == 1 and "Traceback" not in err


# -- end to end ----------------------------------------------------------------------------------
def test_smoke_suite_end_to_end_and_resume(tmp_path: Path,
                                           capsys: pytest.CaptureFixture[str]) -> None:
    out_dir = tmp_path / "bench"
    args = ["smoke", "--out", str(out_dir), "--time-limit", "20", "--json", "--no-progress"]
    code, out, err = run_cli(args, capsys)
    assert code == 0, err
    data = json.loads(out)
    assert data["suite"] == "smoke"
    assert set(data["suites"]) == {"smoke-subset-sum", "smoke-neuron-pruning",
                                   "smoke-weight-pruning"}
    for summary in [data, *data["suites"].values()]:
        for name, entry in summary["solvers"].items():
            assert DOCUMENTED_KEYS <= set(entry), name
            if entry["exact"]:
                assert entry["median_ratio"] is None and entry["worst_ratio"] is None
    ss = data["suites"]["smoke-subset-sum"]["solvers"]
    assert ss["mitm"]["solved_optimal"] == ss["mitm"]["instances"] == 2
    assert ss["bruteforce"]["solved_optimal"] == 2
    # heuristic ratios against an independent oracle (exhaustive rational enumeration)
    insts = [i.generate() for i in suites.SUITES["smoke-subset-sum"].instances]
    optima = [float(min(fraction_oracle(inst).values())) for inst in insts]
    for h in ("greedy", "local_search", "random"):
        objs = [solve(inst, h, time_limit=20.0, threads=1, seed=0).objective for inst in insts]
        ratios = sorted(o / opt for o, opt in zip(objs, optima, strict=True))
        assert ss[h]["worst_ratio"] == pytest.approx(ratios[-1], rel=1e-12)
        assert ss[h]["median_ratio"] == pytest.approx(sum(ratios) / 2, rel=1e-12)
        assert ss[h]["solved_optimal"] == 0
    for suite in ("smoke-neuron-pruning", "smoke-weight-pruning"):
        sv = data["suites"][suite]["solvers"]
        assert sv["bruteforce"]["solved_optimal"] == 1  # the oracle is in the comparison
        for entry in sv.values():
            if not entry["exact"]:
                assert entry["worst_ratio"] is None or entry["worst_ratio"] >= 1 - 1e-9

    report = (out_dir / "report.md").read_text()
    for suite in data["suites"]:
        assert f"## Suite `{suite}`" in report
        for kind in ("time", "quality"):
            for ext in ("png", "svg"):
                f = out_dir / f"profile-{kind}-{suite}.{ext}"
                assert f.is_file() and f.stat().st_size > 1000, f
    assert "| solver | exact | instances | runs |" in report
    assert "Consistency check" in report and "passed." in report
    assert "FAILED" not in report
    assert json.loads((out_dir / "summary.json").read_text()) == data

    runs = sum(e["runs"] for s in data["suites"].values() for e in s["solvers"].values())
    with ResultStore(out_dir / "results.sqlite", create=False) as store:
        rows = store.rows()
        assert len(rows) == runs
        assert {r["experiment"] for r in rows} == {f"bench-{s}" for s in data["suites"]}
        for r in rows:
            rec = r["record"]
            assert r["spec"]["solver_version"] == rec["solver_version"]
            if rec["certified"]:
                assert rec["status"] == "optimal"
                assert rec["time_to_optimum_s"] == rec["wall_time_s"]
            else:
                assert rec["time_to_optimum_s"] is None
        created = {r["key"]: r["created"] for r in rows}

    # the same command again: every run is read back from the store, none is run
    code, out2, err = run_cli(args, capsys)
    assert code == 0, err
    assert json.loads(out2)["solvers"].keys() == data["solvers"].keys()
    with ResultStore(out_dir / "results.sqlite", create=False) as store:
        assert {r["key"]: r["created"] for r in store.rows()} == created


def test_the_summary_holds_the_profiles_its_plots_draw(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """Hunt 171: the Dolan–Moré profiles existed only as pictures. summary.json holds them,
    here recomputed from the stored runs by the rules the report states: quality = objective
    / best objective (0/0 = 1), time = time to best (at least 1 ms) / the fastest, counted
    only where the run is certified or reached the best objective within 1e-9 relative."""
    out_dir = tmp_path / "bench"
    code, out, err = run_cli(["smoke-subset-sum", "--out", str(out_dir), "--json",
                              "--no-progress"], capsys)
    assert code == 0, err
    data = json.loads(out)
    assert json.loads((out_dir / "summary.json").read_text())["profiles"] == data["profiles"]
    with ResultStore(out_dir / "results.sqlite", create=False) as store:
        runs = {(r["spec"]["name"], r["spec"]["solver"]): r["record"] for r in store.rows()}
    names = sorted({n for n, _ in runs})
    solvers = sorted({s for _, s in runs})
    quality: dict[str, list[float]] = {s: [] for s in solvers}
    timing: dict[str, list[float]] = {s: [] for s in solvers}
    for name in names:
        objs = {s: runs[name, s]["objective"] for s in solvers}
        best = min(o for o in objs.values() if o is not None)
        costs = {}
        for s in solvers:
            o, rec = objs[s], runs[name, s]
            quality[s].append(math.inf if o is None else 1.0 if o == best == 0.0
                              else math.inf if best == 0.0 else o / best)
            reached = o is not None and (o <= best * (1 + 1e-9) or rec["certified"])
            costs[s] = max(rec["wall_time_s"], 1e-3) if reached else math.inf
        fastest = min(costs.values())
        for s in solvers:
            timing[s].append(costs[s] / fastest)
    for kind, ratios in (("quality", quality), ("time", timing)):
        profile = data["profiles"][kind]
        finite = {r for rs in ratios.values() for r in rs if math.isfinite(r)}
        assert profile["taus"] == sorted(finite | {1.0})
        assert set(profile["rho"]) == set(solvers)
        for s in solvers:
            assert profile["rho"][s] == [sum(r <= tau for r in ratios[s]) / len(names)
                                         for tau in profile["taus"]], (kind, s)
    assert any(r < 1.0 for rhos in data["profiles"]["quality"]["rho"].values()
               for r in rhos)  # a heuristic off the best somewhere: the check has teeth


def test_time_limit_and_give_up(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    big = suites.Suite("test-big", "two sizes that CP-SAT cannot certify in 0.01 s", (
        suites.BenchInstance("big_n28", "subset_sum", "big", 28, {"n": 28, "seed": 0}),
        suites.BenchInstance("big_n30", "subset_sum", "big", 30, {"n": 30, "seed": 0}),
    ))
    monkeypatch.setitem(suites.SUITES, "test-big", big)
    res = bench.run_bench("test-big", ["cpsat", "greedy"], time_limit=0.01, out=tmp_path,
                          jobs=0, progress=False)
    sv = res.summary["solvers"]
    assert sv["cpsat"]["statuses"] == {"skipped": 1, "time_limit": 1}
    assert sv["cpsat"]["solved_optimal"] == 0 and sv["cpsat"]["instances"] == 2
    assert sv["greedy"]["median_ratio"] is None  # no certified optimum: undefined
    assert sv["greedy"]["ratio_undefined"] == 2
    report = (tmp_path / "report.md").read_text()
    # the family by name (the report groups skipped pairs across families; hunt 82 L1)
    assert "gave up: did not certify the one instance of size 28 of family big, 1 hit" in report
    assert "No solver certified 2 instance(s)" in report
    assert "| cpsat | yes | 2 | 1 | 1 | 0 | skip 1, tl 1 |" in report
    # without the give-up rule cpsat runs on both (the n = 28 run is read from the store)
    res = bench.run_bench("test-big", ["cpsat", "greedy"], time_limit=0.01, out=tmp_path,
                          jobs=0, progress=False, give_up=False)
    assert res.summary["solvers"]["cpsat"]["statuses"] == {"time_limit": 2}


def test_a_network_file_changed_under_its_name_is_solved_again(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """bench keyed a trained-suite run by the network's path: a file changed under the same
    name (a re-trained suite network) was answered from the store with the old network's
    certified optimum (hunt 10). The key now holds the file's SHA-256, as sweep's does."""
    from exactprune.cli import main

    monkeypatch.chdir(tmp_path)
    train = ["train", "--data", "teacher", "--hidden", "6", "--samples", "40", "--iters", "5"]
    assert main([*train, "-o", "a.npz"]) == 0
    assert main([*train, "--seed", "1", "-o", "b.npz"]) == 0
    net = tmp_path / "net.npz"
    params = {"network": str(net), "data": "teacher", "k": 2, "samples": 20, "seed": 0}
    one = suites.Suite("test-net", "one trained-net instance", (
        suites.BenchInstance("net_k2", "neuron_selection", "net", 6, params),))
    monkeypatch.setitem(suites.SUITES, "test-net", one)

    def optimum() -> float:
        res = bench.run_bench("test-net", ["bruteforce"], time_limit=10, out=tmp_path / "out",
                              jobs=0, progress=False, plots=False)
        rec = res.suites[0].runs[0].record
        assert rec["certified"]
        return rec["objective"]

    fresh = {}
    for name in ("a", "b"):
        net.write_bytes((tmp_path / f"{name}.npz").read_bytes())
        fresh[name] = solve(suites.generate("neuron_selection", params), "bruteforce").objective
    assert fresh["a"] != fresh["b"]
    net.write_bytes((tmp_path / "a.npz").read_bytes())
    assert optimum() == fresh["a"]
    net.write_bytes((tmp_path / "b.npz").read_bytes())
    assert optimum() == fresh["b"]  # solved again, not read back
    net.write_bytes((tmp_path / "a.npz").read_bytes())
    assert optimum() == fresh["a"]  # and a's own runs are still in the store


def test_killed_runs_are_read_back_until_retry_killed_and_the_timeout_is_reported(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A bench once run with too small a --timeout kept its kills for good (no --retry-killed),
    and neither the report nor summary.json said which timeout shaped the table (hunt 10)."""
    one = suites.Suite("test-kill", "one instance", (
        # CP-SAT's build at n = 200,000 alone outlasts the 0.5 s limit by ~2 s (measured), so a
        # 0.6 s timeout kills it for certain; at n = 40 the kill was a race that a loaded
        # machine lost (the run ended in time)
        suites.BenchInstance("k_n200000", "subset_sum", "k", 200_000,
                             {"n": 200_000, "seed": 0}),))
    monkeypatch.setitem(suites.SUITES, "test-kill", one)

    def status(timeout: float | None, retry: bool = False, jobs: int = 1) -> tuple[str, dict]:
        res = bench.run_bench("test-kill", ["cpsat"], time_limit=0.5, timeout=timeout,
                              out=tmp_path, jobs=jobs, progress=False, plots=False,
                              retry_killed=retry)
        return res.suites[0].runs[0].record["status"], res.summary

    killed, summary = status(0.6)
    assert killed == "killed" and summary["timeout_s"] == 0.6
    assert summary["earlier_timeouts_s"] == []
    killed, summary = status(60.0)
    assert killed == "killed"  # read back, not run again
    # under the timeout it had, not this run's (hunt 82 M1)
    assert summary["timeout_s"] == 60.0 and summary["earlier_timeouts_s"] == [0.6]
    assert "earlier timeout of 0.6 s" in (tmp_path / "report.md").read_text()
    # in this process there is no timeout: the give-up rule crashed formatting None (H1)
    killed, summary = status(None, jobs=0)
    assert killed == "killed" and summary["earlier_timeouts_s"] == [0.6]
    again, summary = status(60.0, retry=True)
    assert again in ("optimal", "time_limit") and summary["timeout_s"] == 60.0
    assert summary["earlier_timeouts_s"] == []
    # the report says it too, not only the quoted command (hunt 18)
    assert "still going after 60 s is killed" in (tmp_path / "report.md").read_text()
    for kwargs, needle in ((dict(timeout=0.5, jobs=1), "above the time limit"),
                           (dict(timeout=5.0, jobs=0), "needs worker processes"),
                           # 'no' was taken as true (hunt 99 L4)
                           (dict(give_up="no"), "give_up must be True or False"),
                           (dict(plots=0), "plots must be True or False")):
        with pytest.raises(InputError, match=needle):
            bench.run_bench("test-kill", ["cpsat"], time_limit=0.5, out=tmp_path,
                            progress=False, **kwargs)


def test_a_bench_store_exports_its_instance_parameters_and_no_half_empty_mask_column(
        tmp_path: Path) -> None:
    """The CSV of a bench store had no instance columns (its parameters sit in
    spec.instance.params), and a record.mask column blank on every row that has a mask."""
    import csv
    import io

    bench.run_bench("smoke-subset-sum", ["mitm", "greedy"], time_limit=10, out=tmp_path,
                    jobs=0, progress=False, plots=False)
    buf = io.StringIO()
    with ResultStore(tmp_path / "results.sqlite") as store:
        n = store.export("csv", buf)
    table = list(csv.DictReader(io.StringIO(buf.getvalue())))
    assert len(table) == n > 0
    assert "record.mask" not in table[0]
    for row in table:
        params = json.loads(row["spec"])["instance"]["params"]
        assert params and all(row[f"param.{k}"] == str(v) for k, v in params.items())


def _failing_run(instance: object, goal: object, opts: object) -> None:
    raise RuntimeError("deliberate failure of a test backend")


def test_failing_solver_is_a_row_with_status_error(tmp_path: Path,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(registry._BACKENDS, ("subset_sum", "test_fail"), Backend(
        "test_fail", "subset_sum", "always raises", exact=True, run=_failing_run))
    res = bench.run_bench("smoke-subset-sum", ["test_fail", "mitm", "greedy"], time_limit=10,
                          out=tmp_path, jobs=0, progress=False)
    sv = res.summary["solvers"]
    assert sv["test_fail"]["statuses"] == {"error": 2} and sv["test_fail"]["solved_optimal"] == 0
    assert sv["mitm"]["solved_optimal"] == 2
    assert sv["greedy"]["ratio_instances"] == 2  # certified by mitm despite the failure
    report = (tmp_path / "report.md").read_text()
    assert "| test_fail | yes | 2 | 2 | 0 | 0 | err 2 |" in report
    assert "deliberate failure of a test backend" in report


# -- PuLP backends (commercial solvers join through the same code; tested with CBC) ---------------
def test_pulp_backend_is_never_certified(monkeypatch: pytest.MonkeyPatch) -> None:
    from exactprune.solvers.pulp_engines import commercial_pulp_solvers

    assert set(commercial_pulp_solvers()) <= {
        "GUROBI", "GUROBI_CMD", "CPLEX_PY", "CPLEX_CMD", "XPRESS_PY", "XPRESS", "COPT",
        "COPT_DLL", "COPT_CMD", "MOSEK"}
    # a name PuLP knows is registered on first use, per kind
    backend = get_backend("pulp_pulp_cbc_cmd", "subset_sum")
    assert backend.name == "pulp_pulp_cbc_cmd" and not backend.exact and backend.available()
    inst = suites.SUITES["smoke-subset-sum"].instances[0].generate()
    res = solve(inst, backend.name, time_limit=20, threads=1)
    assert res.status == "feasible" and not res.certified and res.bound is None
    assert res.objective == inst.evaluate(res.mask)
    assert res.objective >= float(min(fraction_oracle(inst).values()))
    assert any("never certified" in n for n in res.notes)
    net = suites.SUITES["smoke-neuron-pruning"].instances[0].generate()
    res = solve(net, backend.name, time_limit=20, threads=1)
    ref = solve(net, "bruteforce")
    assert res.status == "feasible" and not res.certified
    assert res.objective == net.evaluate(res.mask) >= ref.objective


def test_a_pulp_engines_infeasibility_is_not_a_time_limit(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """Gurobi through PuLP called a model of data scaled by 2^200 infeasible after 5 ms, and
    with a time limit given the run read `time_limit` (hunt 133 M1). An engine's infeasibility
    is its claim: uncertified, reported as an error, with or without a time limit. The claim
    is made here by PuLP's reading of a real CBC run replaced with "infeasible" (no engine
    here calls a model infeasible that has a solution); the status mapping is what is tested."""
    import exactprune.solvers.milp_engines as engines

    monkeypatch.setattr(engines, "pulp_outcome", lambda prob, returned: ("infeasible", False))
    inst = suites.SUITES["smoke-subset-sum"].instances[0].generate()
    for limit in (20.0, None):
        res = solve(inst, "pulp_pulp_cbc_cmd", time_limit=limit, threads=1)
        assert res.status == "error" and res.mask is None, (limit, res.notes)
        assert any("called the model infeasible" in n for n in res.notes)
        assert any("infeasibility not certified" in n for n in res.notes)


def test_consistency_check_flags_a_run_below_a_certified_optimum() -> None:
    inst = suites.SUITES["smoke-subset-sum"].instances[0]
    suite = suites.Suite("t", "", (inst,))

    def rec(status: str, obj: float, bound: float | None, certified: bool) -> dict:
        return {"status": status, "objective": obj, "bound": bound, "certified": certified,
                "tolerance": 0.0 if certified else None, "wall_time_s": 0.1}

    good = [bench.Run(inst, "exact_a", rec("optimal", 0.5, 0.5, True)),
            bench.Run(inst, "exact_b", rec("time_limit", 0.7, 0.25, False)),
            bench.Run(inst, "heur", rec("feasible", 0.5, None, False))]
    out = bench.SuiteOutcome(suite, ["exact_a", "exact_b", "heur"],
                             {"exact_a": True, "exact_b": True, "heur": False}, {}, good,
                             1.0, 1)
    assert bench.consistency_issues(out) == []
    assert bench.summarise(out)["solvers"]["heur"]["worst_ratio"] == 1.0
    out.runs[2] = bench.Run(inst, "heur", rec("feasible", 0.4, None, False))
    issues = bench.consistency_issues(out)
    assert issues and all("heur's objective 0.4" in x for x in issues)
    out.runs[2] = bench.Run(inst, "heur", rec("feasible", 0.6, None, False))
    out.runs[1] = bench.Run(inst, "exact_b", rec("time_limit", 0.7, 0.55, False))
    issues = bench.consistency_issues(out)
    assert len(issues) == 1 and "lower bound 0.55 proven by exact_b" in issues[0]


def test_a_solver_with_another_version_per_suite_names_each() -> None:
    """`bench all` printed the version of the last suite a solver ran in, although `scip` is
    OR-Tools' SCIP on subset sum and PySCIPOpt's on pruning."""
    from exactprune.benchmarks.bench_results import merged_versions

    outcomes = []
    for name, version in [("ss", "SCIP 10 (OR-Tools)"), ("np", "SCIP 10 (PySCIPOpt)"),
                          ("wp", "SCIP 10 (PySCIPOpt)")]:
        suite = suites.Suite(name, "", (suites.SUITES["smoke-subset-sum"].instances[0],))
        outcomes.append(bench.SuiteOutcome(suite, ["scip", "mitm"], {"scip": True, "mitm": True},
                                           {"scip": version, "mitm": "numpy"}, [], 1.0, 1))
    both = "SCIP 10 (OR-Tools) (ss); SCIP 10 (PySCIPOpt) (np, wp)"
    assert merged_versions(outcomes) == {"scip": both, "mitm": "numpy"}
    solvers = bench.aggregate(outcomes, "all")["solvers"]
    assert solvers["scip"]["version"] == both and solvers["mitm"]["version"] == "numpy"


def test_threads_are_an_allowance_one_thread_methods_still_run(tmp_path: Path) -> None:
    """Hunt 21: `bench --threads 2` handed 2 threads to every backend, and mitm, bruteforce and
    every heuristic refused: the table showed them with time 0 and ratio inf. They now run
    with one thread, the engines with the threads asked."""
    res = bench.run_bench("smoke-subset-sum", ["mitm", "greedy", "scip"], time_limit=10,
                          out=tmp_path, jobs=0, progress=False, threads=2)
    sv = res.summary["solvers"]
    for name in ("mitm", "greedy", "scip"):
        assert "refused" not in sv[name]["statuses"], (name, sv[name])
    assert sv["mitm"]["solved_optimal"] == 2 and sv["scip"]["solved_optimal"] == 2
    assert sv["greedy"]["ratio_instances"] == 2 and sv["greedy"]["ratio_failures"] == 0
    # summary.json and the report name the same version for exactprune's own methods
    assert sv["greedy"]["version"] == f"exactprune {bench.exactprune_version()}"
    # a commercial solver PuLP finds is "run as" only when this bench ran it (hunt 21)
    assert "run as pulp_" not in (tmp_path / "report.md").read_text()


def test_refused_runs_are_not_runs_in_times_or_ratios() -> None:
    """Hunt 21: a refused run (0 s, no mask) entered the median time as 0 s and a heuristic's
    ratios as inf; the shipped trained report gave pulp_gurobi 0.274 s where its runs took
    0.536 s. Refused pairs are left out of both, like skipped ones."""
    a, b = suites.SUITES["smoke-subset-sum"].instances
    c = suites.SUITES["smoke-neuron-pruning"].instances[0]
    suite = suites.Suite("t", "", (a, b, c))

    def rec(status: str, obj: float | None, t: float, certified: bool = False) -> dict:
        return {"status": status, "objective": obj, "bound": None, "certified": certified,
                "tolerance": 0.0 if certified else None, "wall_time_s": t}

    refused = {"status": bench.REFUSED, "error": "no", "wall_time_s": 0.0, "certified": False,
               "objective": None, "exact": None}
    runs = [bench.Run(a, "exact", rec("optimal", 0.5, 1.0, True)),
            bench.Run(b, "exact", rec("optimal", 0.25, 1.0, True)),
            bench.Run(c, "exact", rec("optimal", 0.125, 1.0, True)),
            bench.Run(a, "heur", rec("feasible", 0.5, 0.4)),
            bench.Run(b, "heur", rec("feasible", 0.5, 0.6)),
            bench.Run(c, "heur", refused)]
    out = bench.SuiteOutcome(suite, ["exact", "heur"], {"exact": True, "heur": False}, {},
                             runs, 1.0, 1)
    heur = bench.summarise(out)["solvers"]["heur"]
    assert heur["median_time_s"] == 0.5 and heur["runs"] == 2 and heur["refused"] == 1
    assert heur["skipped"] == 1 and heur["ratio_instances"] == 2
    # a pair refused before running by the solver's declared limits is refused too, as the
    # report's list of pairs not run says (summary.json said 0; hunt 216 L1)
    before = bench.Run(c, "heur", None, f"{bench.REFUSED_BEFORE}too large")
    other = bench.SuiteOutcome(suite, ["heur"], {"heur": False}, {}, [*runs[3:5], before],
                               1.0, 1)
    heur_before = bench.summarise(other)["solvers"]["heur"]
    assert heur_before["refused"] == 1 and heur_before["skipped"] == 1
    assert heur["worst_ratio"] == 2.0 and heur["ratio_failures"] == 0
    # a killed run: its ratio is inf, as a value ("inf" in JSON, not null, which reads as
    # undefined), and its timeout stays out of the median time (hunt 33)
    killed = {"status": "killed", "error": "timeout", "wall_time_s": 30.0, "certified": False,
              "objective": None}
    out.runs[-1] = bench.Run(c, "heur", killed)
    heur = bench.summarise(out)["solvers"]["heur"]
    assert heur["median_time_s"] == 0.5 and heur["runs"] == 3 and heur["ratio_failures"] == 1
    assert heur["worst_ratio"] == "inf" and heur["median_ratio"] == 2.0
    assert json.loads(instance_io.dumps(heur))["worst_ratio"] == "inf"


def test_a_failed_bench_leaves_no_new_parent_folders(tmp_path: Path,
                                                     capsys: pytest.CaptureFixture[str]) -> None:
    """`--out A/B/C` on a bench that fails (its store is not a store) removed C but left the
    empty A and A/B it had created (hunt 21); a folder that was there stays."""
    (tmp_path / "ss.json").write_text("{}")
    (tmp_path / "kept").mkdir()
    for out in (tmp_path / "new" / "sub" / "deeper", tmp_path / "kept" / "sub" / "deeper"):
        code, _, err = run_cli(["smoke-subset-sum", "--time-limit", "1", "--store",
                                str(tmp_path / "ss.json"), "--out", str(out),
                                "--no-progress"], capsys)
        assert code == 2 and len(err.strip().splitlines()) == 1
    assert sorted(p.name for p in tmp_path.iterdir()) == ["kept", "ss.json"]
    assert list((tmp_path / "kept").iterdir()) == []


def test_a_report_that_cannot_be_written_leaves_no_new_out_folder(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A plot that could not be written (a full disk) with the store elsewhere left an empty
    --out folder (hunt 157 L4): the folder goes as on any other failure; the store keeps its
    runs, so the next bench reads them back."""
    def full_disk(outcome: object, folder: Path) -> list[Path]:
        raise InputError(f"cannot write {folder / 'profile.png'}: No space left on device")

    monkeypatch.setattr(bench, "write_profiles", full_disk)
    out, store = tmp_path / "new" / "report", tmp_path / "runs.sqlite"
    with pytest.raises(InputError, match="No space left"):
        bench.run_bench("smoke-subset-sum", ["mitm", "greedy"], time_limit=10, out=out,
                        store=store, jobs=0, progress=False, plots=True)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["runs.sqlite"]
    with ResultStore(store) as db:
        assert db.export("csv", io.StringIO()) > 0


def test_a_store_refusal_does_not_suggest_stdout(tmp_path: Path,
                                                 capsys: pytest.CaptureFixture[str]) -> None:
    """A results store cannot be stdout (`--store -` is refused), so its refusals must not say
    "use - for stdout" (hunt 21)."""
    code, _, err = run_cli(["smoke-subset-sum", "--store", "/proc/x.sqlite", "--out",
                            str(tmp_path / "o"), "--no-progress"], capsys)
    assert code == 2 and "not a regular file system location" in err and "use -" not in err


@pytest.mark.parametrize("name", ["summary.json", "report.md", ".exactprune-written.json",
                                  "profile-time-smoke.png"])
def test_a_store_among_the_reports_files_is_refused_before_any_run(
        tmp_path: Path, name: str, capsys: pytest.CaptureFixture[str]) -> None:
    """`--store OUT/summary.json` (or report.md, the manifest, a plot) ran the bench, then the
    report replaced the store with its own file: every run was lost, and the re-run refused
    (hunt 68 M1). Refused in one line, nothing written; `--out ''` too (Path('') is the current
    folder, whose report.md it overwrote; hunt 68 L1)."""
    out = tmp_path / "o"
    code, _, err = run_cli(["smoke-subset-sum", "--solvers", "mitm", "--time-limit", "1",
                            "--out", str(out), "--store", str(out / name), "--no-progress"],
                           capsys)
    assert code == 2 and "the report would replace it" in err and len(err.splitlines()) == 1
    assert not out.exists()
    # also named through a link whose own name is no report file (hunt 154 L2)
    out.mkdir()
    (out / name).write_text("the store")
    (tmp_path / "s.sqlite").symlink_to(out / name)
    code, _, err = run_cli(["smoke-subset-sum", "--solvers", "mitm", "--time-limit", "1",
                            "--out", str(out), "--store", str(tmp_path / "s.sqlite"),
                            "--no-progress"], capsys)
    assert code == 2 and "the report would replace it" in err and len(err.splitlines()) == 1
    assert sorted(p.name for p in out.iterdir()) == [name]
    code, _, err = run_cli(["smoke-subset-sum", "--out", "", "--no-progress"], capsys)
    assert code == 2 and "needs a name" in err


def test_the_module_entry_point_clips_its_error_line(tmp_path: Path,
                                                     capsys: pytest.CaptureFixture[str]) -> None:
    """`python -m exactprune.benchmarks.bench` printed a 5,000-character solver name whole,
    where `exactprune bench` clips the line (hunt 119 L3)."""
    code, _, err = run_cli(["smoke-subset-sum", "--solvers", "x" * 5000, "--out",
                            str(tmp_path / "b")], capsys)
    assert code == 2 and len(err.splitlines()) == 1 and len(err) < 1100
    assert "characters left out" in err and not (tmp_path / "b").exists()


def test_an_empty_solver_list_is_refused_as_the_cli_refuses_it(tmp_path: Path) -> None:
    """`run_bench(suite, [])` ran nothing and wrote an empty report and store, where
    `--solvers ,` is one line (hunt 203 L1)."""
    for solvers in ([], (), "mitm", iter([]), 5):
        with pytest.raises(InputError, match="solvers must be a non-empty list of solver"):
            bench.run_bench("smoke-subset-sum", solvers, out=tmp_path / "out", jobs=0,
                            progress=False)
    assert not (tmp_path / "out").exists()
    # a generator is read once: it ran nothing at its second reading (hunt 205 L1)
    res = bench.run_bench("smoke-subset-sum", (s for s in ["greedy"]), out=tmp_path / "g",
                          jobs=0, progress=False, plots=False)
    assert res.summary["solvers"]["greedy"]["runs"] > 0


def test_a_time_limit_near_floats_top_has_no_timeout_and_says_none(tmp_path: Path) -> None:
    """The default timeout 2 x limit + 30 s was inf at 1e308: the report said "killed after
    inf s" and summary.json null (hunt 203 L2). Such a limit has no timeout, said as none."""
    res = bench.run_bench("smoke-subset-sum", ["greedy"], time_limit=1e308, out=tmp_path,
                          jobs=1, progress=False, plots=False)
    assert res.summary["timeout_s"] is None
    report = (tmp_path / "report.md").read_text()
    assert "inf s" not in report and "is killed" not in report


def test_a_heuristics_certified_optimum_is_the_suites_certified_optimum(tmp_path: Path) -> None:
    """A heuristic's mask at subset-sum's error floor is certified (docs/numerics.md), and
    counted as proven optimal in its row, while the suite said no certified optimum was known
    and the other heuristics' ratios were undefined (hunt 203 L3)."""
    from exactprune.benchmarks.bench_results import summarise
    from exactprune.benchmarks.suites import BenchInstance, Suite, generate

    values = generate("subset_sum", {"n": 30, "seed": 225100}).values
    params = {"n": 30, "seed": 225100, "target": float(values[0] + values[1])}
    suite = Suite("floor", "a target that is a subset sum",
                  (BenchInstance("floor_n30", "subset_sum", "f", 30, params),))
    with ResultStore(tmp_path / "s.sqlite") as db:
        out = bench._run_suite(suite, ["core_search", "greedy"], 2.0, 1, db, 0, True, None,
                               False)
    summary = summarise(out)
    assert summary["solvers"]["core_search"]["solved_optimal"] == 1
    assert summary["certified_instances"] == 1 and out.certified_optimum() == {"floor_n30": 0.0}
    assert summary["solvers"]["greedy"]["median_ratio"] is not None


def test_the_reports_command_gives_back_every_word_through_the_shell(tmp_path: Path) -> None:
    """bench rebuilt its command from the parsed arguments joined raw: an `--out` with a
    space, a newline and a backtick gave a two-line `Command:` that ran something else, its
    code span ended early (hunt 212 M1). It is one shell line now, in a long enough fence."""
    import os
    import re
    import shutil
    import subprocess

    from exactprune.cli import main

    out = tmp_path / "my out\nx`y"
    argv = ["bench", "smoke-subset-sum", "--solvers", "mitm,bruteforce", "--time-limit", "1",
            "--out", str(out)]
    assert main(argv) == 0
    lines = [line for line in (out / "report.md").read_text().splitlines()
             if line.startswith("Command:")]
    assert len(lines) == 1
    fence = re.match(r"Command: (`+) ", lines[0]).group(1)
    assert len(fence) == 2 and lines[0].endswith(f" {fence}")
    command = lines[0][len(f"Command: {fence} "):-len(f" {fence}")]
    if shutil.which("bash") is None:
        return
    script = "f() { printf '%s\\0' \"$@\"; }; f" + command.removeprefix("exactprune")
    words = subprocess.run(["bash", "-c", script], capture_output=True, check=True,
                           env={**os.environ, "LC_ALL": "C"}).stdout.split(b"\0")[:-1]
    assert [os.fsdecode(w) for w in words] == argv


def test_a_reports_commands_run_again_as_the_bench_that_wrote_it(tmp_path: Path,
                                                                  monkeypatch) -> None:
    """The report's command rounded --time-limit 0.33333333 to 0.333333 and --timeout
    30.0000001 to 30 (a run of other keys; hunt 214 M3), wrote `--out -r` (argparse reads
    -r as a flag; L1) and its `results export` hint unquoted (M4); an --out holding a byte
    the file system's encoding cannot decode ran every solve, then failed writing the report
    (UnicodeEncodeError, exit 1; M2), and its store could not be read again (M1)."""
    import os
    import re
    import shutil
    import subprocess

    from exactprune.cli import main

    monkeypatch.chdir(tmp_path)
    out = "-r" + os.fsdecode(b"\xff")
    argv = ["bench", "smoke-subset-sum", "--solvers", "mitm", "--time-limit", "0.33333333",
            "--timeout", "30.0000001", f"--out={out}"]
    assert main(argv) == 0
    report = (tmp_path / out / "report.md").read_text(errors="strict")
    spans = [m.group(2) for m in re.finditer(r"(`+) (.+?) \1|`([^`]+)`", report)
             if m.group(2)] + re.findall(r"`(exactprune [^`]+)`", report)
    command = next(s for s in spans if s.startswith("exactprune bench"))
    export = next(s for s in spans if s.startswith("exactprune results export"))
    assert main(["results", "summary", f"--store={out}/results.sqlite"]) == 0
    if shutil.which("bash") is None:
        return
    for line, expected in ((command, argv),
                           (export, ["results", "export", f"--store={out}/results.sqlite",
                                     "--format", "csv"])):
        script = "f() { printf '%s\\0' \"$@\"; }; f" + line.removeprefix("exactprune")
        words = subprocess.run(["bash", "-c", script], capture_output=True, check=True,
                               env={**os.environ, "LC_ALL": "C"}).stdout.split(b"\0")[:-1]
        assert [os.fsdecode(w) for w in words] == expected
