"""`exactprune sweep`: a grid from flags or TOML, solved, stored and resumed."""

from __future__ import annotations

import csv
import json
import math
from pathlib import Path

import pytest

from exactprune.benchmarks.store import ResultStore
from exactprune.cli import main
from exactprune.instances import InputError


def test_sweep_from_toml_resumes(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    toml = tmp_path / "grid.toml"
    toml.write_text('seeds = 2\nsolvers = ["mitm", "bruteforce"]\n[params]\nn = [8, 12]\n')
    store = tmp_path / "s.sqlite"
    args = ["sweep", "subset-sum", "--grid", str(toml), "--store", str(store), "--jobs", "0",
            "--json", "--no-progress"]
    assert main(args) == 0
    runs = json.loads(capsys.readouterr().out)["runs"]
    assert len(runs) == 2 * 2 * 2
    # the two exact solvers agree on every instance
    by_instance: dict[tuple, set] = {}
    for run in runs:
        key = (run["spec"]["params"]["n"], run["spec"]["trial"])
        by_instance.setdefault(key, set()).add(run["record"]["objective"])
        assert run["record"]["certified"]
    assert all(len(v) == 1 for v in by_instance.values())
    with ResultStore(store) as st:
        created = sorted(r["created"] for r in st.rows())
    assert main(args) == 0  # everything read back from the store
    assert json.loads(capsys.readouterr().out)["runs"] == runs
    with ResultStore(store) as st:
        assert sorted(r["created"] for r in st.rows()) == created


def test_sweep_flags_override_and_bad_parameters(tmp_path: Path,
                                                 capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["sweep", "weight-pruning", "--param", "d=2", "--param", "width=3",
                 "--param", "points=12", "--param", "output_activation=relu", "--seeds", "1",
                 "--solvers", "bruteforce,greedy_forward", "--jobs", "0", "--no-progress"]) == 0
    assert "greedy_forward" in capsys.readouterr().out
    assert main(["sweep", "neuron-pruning", "--param", "width=3", "--jobs", "0"]) == 2
    assert "'d' is required" in capsys.readouterr().err


def test_a_changed_network_file_is_solved_again_not_read_back(
        tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The store key holds the network file's content hash: a file retrained under the same
    name gets its own runs instead of the old file's certified optimum."""
    monkeypatch.chdir(tmp_path)
    train = ["train", "--data", "digits-pair", "--hidden", "6", "--samples", "60", "-o",
             "net.npz"]
    assert main([*train, "--iters", "20"]) == 0
    sweep = ["sweep", "neuron-selection", "--param", "network=net.npz", "--param",
             "data=digits-pair", "--param", "k=2", "--param", "samples=30", "--param",
             "loss=l1", "--seeds", "1", "--solvers", "bnb", "--store", "s.sqlite", "--jobs",
             "0", "--json", "--no-progress"]
    capsys.readouterr()
    assert main(sweep) == 0
    first = json.loads(capsys.readouterr().out)["runs"][0]
    assert first["record"]["certified"] and len(first["spec"]["input_sha256"]["network"]) == 64
    assert main([*train, "--iters", "60", "--seed", "5"]) == 0
    capsys.readouterr()
    assert main(sweep) == 0
    second = json.loads(capsys.readouterr().out)["runs"][0]
    assert second["spec"]["input_sha256"] != first["spec"]["input_sha256"]
    assert main(["generate", "neuron-selection", "--network", "net.npz", "--data",
                 "digits-pair", "--k", "2", "--samples", "30", "--loss", "l1", "--seed",
                 str(second["spec"]["seed"]), "-o", "now.json"]) == 0
    assert main(["solve", "now.json", "--solver", "bnb", "--json"]) == 0
    now = json.loads(capsys.readouterr().out)
    assert second["record"]["objective"] == now["objective"]
    with ResultStore(tmp_path / "s.sqlite") as st:
        assert len(st.rows()) == 2


def test_summary_table_times_only_runs_that_did_not_fail() -> None:
    """A run killed by --timeout (or one that crashed) is counted under errors; its wall time
    and any objective it carries stay out of the medians."""
    from exactprune.benchmarks.solve_sweep import solve_task, summary_table
    from exactprune.benchmarks.sweep_worker import KILLED, error_record

    spec = {"kind": "subset_sum", "params": {"n": 8}, "seed": 3, "trial": 0,
            "solver": "bruteforce", "options": {}}
    good = solve_task(spec)
    killed = {**error_record("killed after 500 s", 500.0), "status": KILLED, "objective": 9.0}
    crashed = error_record("worker died", 700.0)
    table = summary_table([spec] * 3, [good, killed, crashed])
    row = table.splitlines()[2].split("|")
    assert [c.strip() for c in row[3:6]] == ["3", "1", "2"]  # runs, certified, errors
    assert float(row[6]) == pytest.approx(good["wall_time_s"], rel=1e-2)
    assert float(row[7]) == pytest.approx(good["objective"], rel=1e-3)


def test_a_network_file_swapped_during_the_sweep_is_not_stored_under_the_old_key(
        tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The sweep hashes each input file once, before the runs; a worker reads it again when its
    run starts. A file replaced in between (a retrain into the same name) was solved and stored
    under the first file's key, so a resume over the first file read back the second one's
    certified optimum. Now the worker checks the hash around its read: an error row, which a
    resume over the right file runs again."""
    from exactprune.benchmarks.solve_sweep import input_file_digests, solve_task

    monkeypatch.chdir(tmp_path)
    train = ["train", "--data", "teacher", "--hidden", "6", "--samples", "40", "--iters", "5"]
    assert main([*train, "-o", "a.npz"]) == 0
    assert main([*train, "--seed", "1", "-o", "b.npz"]) == 0
    Path("net.npz").write_bytes(Path("a.npz").read_bytes())
    params = {"network": "net.npz", "data": "teacher", "k": 2, "samples": 20}
    spec = {"kind": "neuron_selection", "params": params, "seed": 7, "trial": 0,
            "solver": "bruteforce", "options": {},
            "input_sha256": input_file_digests(params, {})}
    assert solve_task(spec)["certified"]
    Path("net.npz").write_bytes(Path("b.npz").read_bytes())
    with pytest.raises(InputError, match="changed after the run was keyed"):
        solve_task(spec)


def test_one_grid_point_has_one_key_however_it_is_spelled(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """Values are parsed by their declared types before the keys and seeds are made: TOML's
    integer time limit and the flag's float, or a float parameter written 2 and 2.0, were
    different runs (the second a different random instance)."""
    store = tmp_path / "k.sqlite"
    toml = tmp_path / "g.toml"
    toml.write_text('seeds = 2\nsolvers = ["mitm"]\n[params]\nn = [10, 12]\n[options]\n'
                    'time_limit = 10\n')
    common = ["--store", str(store), "--jobs", "0", "--no-progress", "--json"]
    assert main(["sweep", "subset-sum", "--grid", str(toml), *common]) == 0
    capsys.readouterr()
    assert main(["sweep", "subset-sum", "--param", "n=10,12", "--seeds", "2", "--solvers",
                 "mitm", "--time-limit", "10", *common]) == 0
    capsys.readouterr()
    with ResultStore(store) as st:
        assert len(list(st.rows())) == 4
    seeds = []
    for spelling in ("2", "2.0"):
        assert main(["sweep", "subset-sum", "--param", "n=10", "--param", f"high={spelling}",
                     "--seeds", "1", "--solvers", "mitm", *common]) == 0
        run = json.loads(capsys.readouterr().out)["runs"][0]
        seeds.append((run["spec"]["seed"], run["spec"]["params"]["high"]))
    assert seeds[0] == seeds[1] and seeds[0][1] == 2.0
    # -0.0 is 0.0: it was another seed, instance and key (hunt 88 L1)
    runs = []
    for spelling in ("0", "-0.0", "0.0"):
        assert main(["sweep", "subset-sum", "--param", "n=8", "--param", f"low={spelling}",
                     "--seeds", "1", "--solvers", "mitm", *common]) == 0
        runs.append(json.loads(capsys.readouterr().out)["runs"][0])
    assert len({(r["spec"]["seed"], r["record"]["objective"]) for r in runs}) == 1
    assert math.copysign(1, runs[1]["spec"]["params"]["low"]) == 1


def test_a_huge_grid_is_one_line_before_anything_is_allocated(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """Hunt 17: --seeds 1000000000 allocated until MemoryError (exit 1) or the OOM killer."""
    from exactprune.benchmarks.sweep_grid import MAX_RUNS, grid

    store = tmp_path / "s.sqlite"
    assert main(["sweep", "subset-sum", "--param", "n=8", "--seeds", "1000000000", "--solvers",
                 "mitm", "--store", str(store), "--no-progress"]) == 2
    assert "at most 1,000,000" in capsys.readouterr().err
    with pytest.raises(InputError, match="runs, more than"):
        grid({"n": list(range(1000)), "m": list(range(1001))}, seeds=1)
    assert not store.exists()
    # the duplicate check is linear: the largest grid allowed is checked at once
    assert len(grid({"n": [8]}, seeds=MAX_RUNS // 10)) == MAX_RUNS // 10
    with pytest.raises(InputError, match="lists 2.0 twice"):
        grid({"n": [1, 2, 2.0]}, seeds=1)
    with pytest.raises(InputError, match=r"lists \[1, 0\] twice"):
        grid({"w": [[1, 0], [0, 1], [1, 0]]}, seeds=1)


def test_a_quoted_parameter_value_keeps_its_commas(
        tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Hunt 143 L2: a network file named with a comma was split into two grid values; in
    double quotes it is one value, as written (a number too)."""
    from exactprune.benchmarks.sweep_grid import parse_param

    assert parse_param('network="a,b.npz",c.npz') == ("network", ["a,b.npz", "c.npz"])
    assert parse_param('tag="3",3') == ("tag", ["3", 3])
    assert parse_param('network="a[1],b].npz"') == ("network", ["a[1],b].npz"])
    for bad in ('network="a,b', 'network="a"b', 'n="', 'network="q\\"x.npz"'):
        with pytest.raises(InputError, match="double-quoted value must be a whole value"):
            parse_param(bad)
    # a double quote inside a value is a character of it, as before quotes were read (hunt
    # 147 L1)
    assert parse_param('network=nets/q"x.npz') == ("network", ['nets/q"x.npz'])
    assert parse_param('network=my "best" net.npz') == ("network", ['my "best" net.npz'])
    monkeypatch.chdir(tmp_path)
    assert main(["train", "--data", "digits-pair", "--hidden", "5", "--samples", "40",
                 "--iters", "10", "-o", "we,ird.npz"]) == 0
    capsys.readouterr()
    assert main(["sweep", "neuron-selection", "--param", 'network="we,ird.npz"', "--param",
                 "data=digits-pair", "--param", "k=2", "--param", "samples=20", "--param",
                 "loss=l1", "--seeds", "1", "--solvers", "bnb", "--jobs", "0", "--json",
                 "--no-progress"]) == 0
    run = json.loads(capsys.readouterr().out)["runs"][0]
    assert run["spec"]["params"]["network"] == "we,ird.npz" and run["record"]["certified"]


def test_a_list_parameter_is_swept_from_the_command_line(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """Hunt 17: target_weights (comma-separated) could not be one --param value: its commas
    split it into grid values and the refusal named the very format the user wrote."""
    from exactprune.benchmarks.sweep_grid import parse_param

    assert parse_param("target_weights=[0.6,0.8],[1,0]") == ("target_weights",
                                                              [[0.6, 0.8], [1, 0]])
    assert parse_param("n=8,12") == ("n", [8, 12])
    for bad in ("w=[0.6,[0.8]]", "w=[0.6,0.8", "w=0.6]", "w=x[1]"):
        with pytest.raises(InputError, match="brackets must hold one list"):
            parse_param(bad)
    store = tmp_path / "tw.sqlite"
    common = ["sweep", "neuron-pruning", "--param", "d=2", "--param", "width=4", "--param",
              "points=16", "--solvers", "bruteforce", "--store", str(store), "--no-progress",
              "--json"]
    assert main([*common, "--param", "target_weights=[0.6,0.8],[1,0]"]) == 0
    runs = json.loads(capsys.readouterr().out)["runs"]
    assert [r["spec"]["params"]["target_weights"] for r in runs] == [[0.6, 0.8], [1.0, 0.0]]
    assert main([*common, "--param", "target_weights=0.6,0.8"]) == 2
    assert "in brackets, target_weights=[0.6,0.8]" in capsys.readouterr().err
    # an empty list is no list of numbers, not "must be a number, got ''" (hunt 88 L3)
    assert parse_param("w=[]") == ("w", [[]])
    assert main([*common, "--param", "target_weights=[]"]) == 2
    assert "target_weights must be a list of numbers" in capsys.readouterr().err
    assert main([*common, "--param", "target_weights=[1,]"]) == 2  # (hunt 95 L3)
    assert "target_weights must be a list of numbers" in capsys.readouterr().err


def test_a_toml_grid_vector_is_refused_naming_the_file_and_shown_in_brackets(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """Hunt 88: `target_weights = [0.6, 0.8]` in a TOML grid (two grid values, not one vector)
    was refused without the file's name and with --param's spelling only; a vector value was
    shown as a Python tuple in the summary table."""
    grid = tmp_path / "g.toml"
    head = "[params]\nd = 2\nwidth = 4\npoints = 8\n"
    grid.write_text(head + "target_weights = [0.6, 0.8]\n")
    store = tmp_path / "g.sqlite"
    args = ["sweep", "neuron-pruning", "--grid", str(grid), "--solvers", "bruteforce",
            "--store", str(store), "--no-progress"]
    assert main(args) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"exactprune: error: {grid}: target_weights must be a list")
    assert "target_weights = [[0.6, 0.8]]" in err and err.count("\n") == 1
    assert not store.exists()
    # an empty --grid is an empty path, not "no grid" (hunt 101 M1)
    assert main([*args[:2], "--grid", "", *args[4:], "--param", "d=2", "--param", "width=3",
                 "--param", "points=4"]) == 2
    assert "the grid file path is empty" in capsys.readouterr().err
    # a bad --param beside the file is the flag's, not the file's (hunt 99 M4)
    assert main([*args, "--param", "width=abc", "--param", "target_weights=[1,0]"]) == 2
    assert capsys.readouterr().err == "exactprune: error: width must be an integer, got 'abc'\n"
    grid.write_text(head + "target_weights = [[0.6, 0.8], [1, 0]]\n")
    assert main(args) == 0
    assert "target_weights=[0.6,0.8] | bruteforce |" in capsys.readouterr().out
    # and the CSV export has its column: the two grid points differed only in the JSON
    # (hunt 99 L5)
    assert main(["results", "export", "--store", str(store), "--format", "csv", "-o",
                 str(tmp_path / "r.csv")]) == 0
    with open(tmp_path / "r.csv", newline="") as fh:
        cells = [r["param.target_weights"] for r in csv.DictReader(fh)]
    assert sorted(json.loads(c) for c in cells) == [[0.6, 0.8], [1.0, 0.0]]


def test_parameters_that_conflict_name_their_grid_point(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """Hunt 101 L3: d = 3 beside a 2-entry target_weights (the generator's check, which ties
    two parameters together) was refused without saying which grid point had them."""
    grid = tmp_path / "g.toml"
    grid.write_text("[params]\nd = [2, 3]\nwidth = 4\npoints = 8\n"
                    "target_weights = [[0.6, 0.8]]\n")
    store = tmp_path / "g.sqlite"
    assert main(["sweep", "neuron-pruning", "--grid", str(grid), "--solvers", "bruteforce",
                 "--store", str(store), "--no-progress"]) == 2
    err = capsys.readouterr().err
    assert err == ("exactprune: error: grid point d=3, width=4, points=8, "
                   "target_weights=[0.6,0.8]: target_weights must have 3 entries, got 2\n")
    assert not store.exists()


def test_sweep_runs_take_threads_and_pack_by_them(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """Hunt 17: `[options] threads = 2` pointed at --threads, which sweep did not have."""
    store = tmp_path / "th.sqlite"
    args = ["sweep", "subset-sum", "--param", "n=12", "--seeds", "2", "--solvers", "cpsat",
            "--store", str(store), "--no-progress", "--json", "--jobs", "2"]
    assert main([*args, "--threads", "2"]) == 0
    runs = json.loads(capsys.readouterr().out)["runs"]
    assert [r["spec"]["threads"] for r in runs] == [2, 2]
    assert all(r["record"]["status"] == "optimal" for r in runs)
    assert main(args) == 0  # one thread: the runs of before, not answered from the 2-thread ones
    runs = json.loads(capsys.readouterr().out)["runs"]
    assert all("threads" not in r["spec"] for r in runs)
    with ResultStore(store, create=False) as db:
        assert len(db.keys()) == 4
    assert main(["sweep", "subset-sum", "--param", "n=8", "--solvers", "bruteforce",
                 "--threads", "2", "--store", str(tmp_path / "bf.sqlite"), "--no-progress"]) == 2
    assert "'bruteforce' does not support threads" in capsys.readouterr().err


def test_a_parameter_beyond_float_range_is_quoted_as_written(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """An integer of 5,000 digits (beyond Python's int() digit limit) was read as the float
    inf and refused as 'n must be an integer, got inf'; 1e999 likewise."""
    from exactprune.benchmarks.sweep_grid import parse_param

    huge = "9" * 5000
    assert parse_param(f"n={huge}") == ("n", [huge])
    # "1_000" is kept as written: the parameter's check refuses it, as every flag does
    assert parse_param("n=1e999,1_000,-3,2.5") == ("n", ["1e999", "1_000", -3, 2.5])
    assert parse_param("x=inf") == ("x", [float("inf")])
    store = tmp_path / "s.sqlite"
    for value, said in ((huge, "at most 30 digits, got 5000 characters"),
                        ("1e999", "must be an integer, got '1e999'")):
        assert main(["sweep", "subset-sum", "--param", f"n={value}", "--solvers", "mitm",
                     "--store", str(store), "--no-progress"]) == 2
        err = capsys.readouterr().err.strip().splitlines()
        assert len(err) == 1 and said in err[0], err
    assert not store.exists()


def test_one_run_has_one_key_however_its_solver_options_are_spelled(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """memory_limit_gb = 1, 1.0 and "1" in a TOML grid went into the store key as written:
    three keys, the run solved and counted three times (hunt 40 F1). The options are stored
    as the solver parses them."""
    import sqlite3

    store = tmp_path / "s.sqlite"
    for value in ("1", "1.0", '"1"'):
        grid = tmp_path / "g.toml"
        grid.write_text(f'solvers = ["mitm"]\n[params]\nn = [10]\n[options]\n'
                        f'memory_limit_gb = {value}\n')
        assert main(["sweep", "subset-sum", "--grid", str(grid), "--store", str(store),
                     "--no-progress", "--jobs", "0"]) == 0
    capsys.readouterr()
    with sqlite3.connect(store) as conn:
        rows = conn.execute("select json_extract(spec, '$.options') from runs").fetchall()
    assert rows == [('{"memory_limit_gb":1.0}',)], rows


def test_a_store_locked_by_another_process_is_one_line(
        tmp_path: Path, capsys: pytest.CaptureFixture[str],
        monkeypatch: pytest.MonkeyPatch) -> None:
    """Another program holding the store's write lock past the busy timeout (a sqlite3 shell
    with a transaction open) ended the sweep with an internal error, exit 1 (hunt 40 F4)."""
    import sqlite3

    from exactprune.benchmarks import store as store_module

    path = tmp_path / "s.sqlite"
    sweep = ["sweep", "subset-sum", "--param", "n=6", "--solvers", "mitm", "--store", str(path),
             "--no-progress", "--jobs", "0"]
    assert main([*sweep, "--seeds", "1"]) == 0
    monkeypatch.setattr(store_module, "BUSY_TIMEOUT_S", 0.2)
    holder = sqlite3.connect(path, isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")
    try:
        code = main([*sweep, "--seeds", "2"])
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 2 and len(err) == 1 and "another process has held its lock" in err[0], err


def test_a_sweep_record_names_its_instance_for_certify(tmp_path: Path,
                                                       capsys: pytest.CaptureFixture[str]
                                                       ) -> None:
    """Hunt 62 M4: sweep records did not carry instance_sha256, so certify never took their
    bound even for the instance they were solved on. The record names it now; certify of the
    same instance, regenerated from the run's seed, gets the bracket's lower end."""
    store = tmp_path / "s.sqlite"
    assert main(["sweep", "neuron-pruning", "--param", "d=2", "--param", "width=4", "--param",
                 "points=12", "--seeds", "1", "--solvers", "scip", "--store", str(store),
                 "--jobs", "0", "--json", "--no-progress"]) == 0
    run = json.loads(capsys.readouterr().out)["runs"][0]
    inst, rec = tmp_path / "i.json", tmp_path / "r.json"
    assert main(["generate", "neuron-pruning", "--d", "2", "--width", "4", "--points", "12",
                 "--seed", str(run["spec"]["seed"]), "-o", str(inst)]) == 0
    rec.write_text(json.dumps(run["record"]))
    capsys.readouterr()
    assert main(["certify", str(inst), str(rec), "--json"]) == 0
    cert = json.loads(capsys.readouterr().out)
    assert cert["instance_matches"] is True and cert["bracket"]["lower"] is not None


@pytest.mark.parametrize("command", [
    ["sweep", "subset-sum", "--param", "n=6"],
    ["verify", "pruning-gap", "--n", "4", "--trials", "1"],
    ["verify", "pretraining", "--sizes", "50", "--iters", "10"],
    ["verify", "subset-sum", "--n", "4", "--trials", "2"]])
def test_jobs_beside_a_scheduler_is_refused_by_every_command_that_takes_both(
        tmp_path: Path, capsys: pytest.CaptureFixture[str], command: list[str]) -> None:
    """`sweep` refused --jobs with --scheduler (the cluster's workers run the runs); the verify
    commands took it and ignored it (hunt 99 L3). Refused before any connection is tried."""
    out = tmp_path / "out"
    flags = ["--jobs", "2", "--scheduler", "tcp://127.0.0.1:9"]
    where = ["--store", str(tmp_path / "s.sqlite")] if command[0] == "sweep" else \
        ["--out", str(out)]
    assert main([*command, *where, *flags]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "--jobs counts local worker processes" in err
    assert not out.exists() and not (tmp_path / "s.sqlite").exists()


def test_a_grid_past_the_dictionary_is_refused_whole_for_engines_without_big_m(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """Hunt 107 M1: weight pruning at d = 11 with highs or cbc (no big-M) was refused only when
    each run built its model: a store of error rows, exit 0."""
    store = tmp_path / "s.sqlite"
    assert main(["sweep", "weight-pruning", "--param", "d=11", "--param", "width=2", "--param",
                 "points=4", "--solvers", "highs,cbc", "--store", str(store),
                 "--no-progress"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("exactprune: error: grid point d=11, width=2, points=4: solver "
                          "'highs': the dictionary formulation enumerates") and err.count("\n") == 1
    assert not store.exists()


def test_a_network_file_named_another_way_is_told_not_silently_run_again(
        tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """`net.npz` and `./net.npz` are two grid points (the name as given seeds the instances
    and keys the runs): a resume typed the other way solved different instances into the same
    store without a word (hunt 137 F1). The sweep says so on stderr, naming the stored
    spelling; typed as before, it resumes in silence."""
    import numpy as np

    monkeypatch.chdir(tmp_path)
    rng = np.random.default_rng(0)
    np.savez(tmp_path / "net.npz", w1=rng.standard_normal((5, 64)),
             w2=rng.standard_normal((10, 5)))

    def sweep(network: str) -> str:
        capsys.readouterr()
        assert main(["sweep", "neuron-selection", "--param", f"network={network}", "--param",
                     "data=digits", "--param", "k=2", "--param", "samples=10", "--seeds", "1",
                     "--solvers", "bruteforce", "--store", "s.sqlite", "--jobs", "0",
                     "--no-progress"]) == 0
        return capsys.readouterr().err

    assert "note:" not in sweep("net.npz")
    err = sweep("./net.npz")
    assert "named 'net.npz'; './net.npz' is another grid point" in err
    assert "note:" not in sweep("net.npz")
    with ResultStore(tmp_path / "s.sqlite") as st:
        assert len(st.rows()) == 2
        # rows other code put, with digests that are not a dict of strings: the check
        # crashed the sweep (hunt 139 F1)
        for i, odd in enumerate(("ab", ["ab"], {"network": ["ab"]})):
            st.put(f"odd{i}", {"experiment": "sweep_neuron_selection", "input_sha256": odd,
                               "params": {"network": "x"}}, "optimal", {}, 0.0)
    assert "note:" not in sweep("net.npz")
    # a grid naming the file both ways resumes the stored name: no note (hunt 140 F4)
    capsys.readouterr()
    assert main(["sweep", "neuron-selection", "--param", "network=net.npz,./net.npz", "--param",
                 "data=digits", "--param", "k=2", "--param", "samples=10", "--seeds", "1",
                 "--solvers", "bruteforce", "--store", "s.sqlite", "--jobs", "0",
                 "--no-progress"]) == 0
    assert "note:" not in capsys.readouterr().err
    # a damaged row the sweep never reads does not stop it (hunt 140 F1: refused, exit 2)
    import sqlite3
    with sqlite3.connect(tmp_path / "s.sqlite") as db:
        db.execute("UPDATE runs SET record = 'x' WHERE key = 'odd0'")
        db.execute("UPDATE runs SET spec = '{not json' WHERE key = 'odd1'")
    assert "note:" not in sweep("net.npz")
    # ... nor hides the note for the rows that are fine (hunt 141 F1), plural for two names
    capsys.readouterr()
    assert main(["sweep", "neuron-selection", "--param", "network=././net.npz,./././net.npz",
                 "--param", "data=digits", "--param", "k=2", "--param", "samples=10",
                 "--seeds", "1", "--solvers", "bruteforce", "--store", "s.sqlite", "--jobs",
                 "0", "--no-progress"]) == 0
    assert "'./././net.npz', '././net.npz' are other grid points" in capsys.readouterr().err
    # an empty file is a store to create (hunt 139 F2: it was refused), and a store name
    # too long for the file system is one line, exit 2 (F4: an internal OSError)
    (tmp_path / "s.sqlite").rename(tmp_path / "old.sqlite")
    (tmp_path / "s.sqlite").write_bytes(b"")
    assert "note:" not in sweep("net.npz")
    with ResultStore(tmp_path / "s.sqlite") as st:
        assert len(st.rows()) == 1
    code = main(["sweep", "neuron-selection", "--param", "network=net.npz", "--param",
                 "data=digits", "--param", "k=2", "--param", "samples=10", "--seeds", "1",
                 "--solvers", "bruteforce", "--store", "a" * 300 + ".sqlite", "--jobs", "0",
                 "--no-progress"])
    assert code == 2 and "longer than 255 bytes" in capsys.readouterr().err


def test_a_sweep_record_names_the_backend_auto_chose(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """With `--solvers auto` (the default) the stored row said `auto`, and the backend that ran
    was only in a note (hunt 137 F2): the record's `solved_by` names it, with the tolerance."""
    from exactprune.instances import generate_subset_sum
    from exactprune.solvers import solve

    capsys.readouterr()
    assert main(["sweep", "subset-sum", "--param", "n=8,30", "--seeds", "1", "--store",
                 str(tmp_path / "s.sqlite"), "--jobs", "0", "--no-progress", "--json"]) == 0
    runs = json.loads(capsys.readouterr().out)["runs"]
    for run in runs:
        spec, record = run["spec"], run["record"]
        again = solve(generate_subset_sum(spec["params"]["n"], seed=spec["seed"]), "auto")
        assert spec["solver"] == "auto" and record["solved_by"] == again.solver != "auto"
        assert record["tolerance"] == again.tolerance


@pytest.mark.parametrize(("body", "words"), [
    ("seeds = 1\n[params]\nn = []\n", "parameter 'n' needs a non-empty list of values"),
    ("base_seed = 1.5\n[params]\nn = [8]\n", "base_seed must be a non-negative integer, got 1.5"),
    ("seeds = [0, 0]\n[params]\nn = [8]\n", "seeds lists 0 twice"),
    ("seeds = [-1]\n[params]\nn = [8]\n",
     "seeds lists -1: trial indices are non-negative integers"),
    ('solvers = ["mitm", "mitm"]\n[params]\nn = [8]\n', "solvers lists 'mitm' twice"),
    ('seed_params = ["m"]\n[params]\nn = [8]\n', "seed_params names unknown parameters: m"),
    ('[params]\nn = [8, "8"]\n', "parameter 'n' lists 8 twice"),
])
def test_what_a_grid_file_alone_gets_wrong_is_refused_naming_the_file(
        tmp_path: Path, capsys: pytest.CaptureFixture[str], body: str, words: str) -> None:
    """Hunt 199 L3: these were refused without the file's name (and seeds = [-1] as "trial
    must be a non-negative integer"); nothing is stored."""
    grid = tmp_path / "g.toml"
    grid.write_text(body)
    store = tmp_path / "g.sqlite"
    assert main(["sweep", "subset-sum", "--grid", str(grid), "--store", str(store),
                 "--jobs", "0", "--no-progress"]) == 2
    assert capsys.readouterr().err == f"exactprune: error: {grid}: {words}\n"
    assert not store.exists()


def test_a_flag_the_file_does_not_hold_is_refused_without_the_files_name(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    grid = tmp_path / "g.toml"
    grid.write_text("[params]\nn = [8]\n")
    args = ["sweep", "subset-sum", "--grid", str(grid), "--jobs", "0", "--no-progress"]
    assert main([*args, "--solvers", "mitm,mitm"]) == 2
    assert capsys.readouterr().err == "exactprune: error: solvers lists 'mitm' twice\n"
    # a file value a flag overrides is never used, so never refused (hunt 202 L2)
    for body, flag in (("[params]\nn = [8, 8]\n", ["--param", "n=8"]),
                       ("[params]\nn = []\n", ["--param", "n=8"]),
                       ("seeds = [1, 1]\n[params]\nn = [8]\n", ["--seeds", "2"]),
                       ("base_seed = 1.5\n[params]\nn = [8]\n", ["--base-seed", "3"]),
                       ('solvers = ["mitm", "mitm"]\n[params]\nn = [8]\n',
                        ["--solvers", "mitm"])):
        grid.write_text(body)
        assert main([*args, *flag, "--solvers", "mitm"] if flag[0] != "--solvers"
                    else [*args, *flag]) == 0, body
        capsys.readouterr()
    # seed_params may name a parameter a flag adds (here one the kind refuses, by name)
    grid.write_text('seed_params = ["m"]\n[params]\nn = [8]\n')
    assert main([*args, "--param", "m=1"]) == 2
    assert "unknown subset-sum parameter 'm'" in capsys.readouterr().err


def test_a_sweep_into_another_kinds_experiment_is_told_and_its_plot_refusal_says_why(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """Hunt 199: a neuron-pruning sweep given `--experiment sweep_subset_sum` was added to the
    subset-sum runs without a word, and `results plot` then said "--x width is not a number in
    every run (numeric parameters: none)"."""
    store = tmp_path / "mix.sqlite"
    assert main(["sweep", "subset-sum", "--param", "n=6,8", "--seeds", "2", "--store",
                 str(store), "--jobs", "0", "--no-progress"]) == 0
    assert "note:" not in capsys.readouterr().err
    neuron = ["sweep", "neuron-pruning", "--param", "d=2", "--param", "width=4", "--param",
              "points=8", "--solvers", "bruteforce", "--store", str(store), "--jobs", "0",
              "--no-progress"]
    assert main([*neuron, "--experiment", "sweep_subset_sum"]) == 0
    assert capsys.readouterr().err == (
        f"note: {store} holds runs of experiment 'sweep_subset_sum' of another kind "
        "(subset_sum); this sweep's neuron_pruning runs are stored beside them (give them an "
        "--experiment of their own to plot or export them apart)\n")
    assert main(neuron) == 0  # its own experiment: nothing to tell
    assert "note:" not in capsys.readouterr().err
    with ResultStore(store) as st:  # a kind edited into an object or a list is
        # no kind (it was named as its JSON text; hunt 202 L1)
        for n, odd in enumerate(({"a": 1}, ["neuron_pruning"], 5)):
            st.put(f"odd{n}", {"experiment": "sweep_neuron_pruning", "kind": odd}, "optimal",
                   {"objective": 0.0}, 0.0)
        assert st.kinds("sweep_neuron_pruning") == {"neuron_pruning"}
    assert main(["results", "plot", "--store", str(store), "--experiment", "sweep_subset_sum",
                 "--x", "width", "--out", str(tmp_path / "p.png")]) == 2
    assert capsys.readouterr().err == (
        "exactprune: error: --x width is a parameter of 1 of these 5 runs only (numeric "
        "parameters: none; they are runs of 2 kinds, neuron_pruning, subset_sum)\n")
    assert not (tmp_path / "p.png").exists()


def test_threads_beyond_the_engines_limit_are_refused_before_any_run(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """`sweep --threads 65` stored every run as an error ("threads must be an integer from 1
    to 64"), exit 0, where `solve --threads 65` is refused (found beside hunt 211 L1); bench
    said it without the flag's name. Both are the parser's line now, no store made."""
    from exactprune.cli import main

    store = tmp_path / "runs.sqlite"
    for command in (["sweep", "subset-sum", "--param", "n=4", "--store", str(store)],
                    ["bench", "smoke", "--out", str(tmp_path / "bench")]):
        assert main([*command, "--threads", "65"]) == 2
        err = capsys.readouterr().err
        assert err.count("\n") == 1
        assert "argument --threads: must be an integer from 1 to 64, got 65" in err
    assert not store.exists() and not (tmp_path / "bench").exists()
