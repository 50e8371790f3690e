"""Sweep engine and results store: seeds, SQLite round trips, failures, SIGKILL + resume, Dask.

Everything is real: worker processes, SQLite files, a subprocess killed with SIGKILL, a Dask
LocalCluster. The task functions below are imported by the workers as ``test_sweep:NAME``.
"""

from __future__ import annotations

import argparse
import contextlib
import csv
import hashlib
import io
import itertools
import json
import math
import os
import signal
import sqlite3
import subprocess
import sys
import textwrap
import threading
import time
from collections import Counter
from pathlib import Path

import numpy as np
import pytest

from exactprune.benchmarks.results_cli import register_cli
from exactprune.benchmarks.store import ResultStore
from exactprune.benchmarks.sweep import Task, run_sweep
from exactprune.benchmarks.sweep_dask import SchedulerLost
from exactprune.benchmarks.sweep_grid import (
    add_sweep_arguments,
    grid,
    grid_kwargs_from_args,
    instance_seed,
    load_grid_toml,
)
from exactprune.benchmarks.sweep_worker import task_slots
from exactprune.instances.errors import InputError

HERE = Path(__file__).resolve().parent
MOD = __name__  # "test_sweep": importable by spawned workers (tests/ is on sys.path)


# -- task functions (run in worker processes) -----------------------------------------------
def square(spec: dict) -> dict:
    return {"value": spec["x"] ** 2, "pid": os.getpid()}


def read_network_param(spec: dict) -> dict:
    """The text of the file the run's `network` parameter names (as the worker sees it)."""
    return {"status": "ok", "text": Path(spec["params"]["network"]).read_text()}


def fail_or_square(spec: dict) -> dict:
    if "log" in spec:  # one line per start of a run
        with open(spec["log"], "a") as fh:
            fh.write(f"{spec['x']}\n")
    if spec["x"] == 3:
        raise ValueError("three is not allowed")
    if spec["x"] == 4:
        time.sleep(0.8)  # still running when x = 5 kills its worker
    if spec["x"] == 5:
        time.sleep(0.3)
        os._exit(7)
    if spec["x"] == 6:
        time.sleep(60)  # only reached in the timeout test
    time.sleep(0.05)
    return {"value": spec["x"] ** 2, "status": "optimal" if spec["x"] % 2 else "feasible"}


def logged_sleep(spec: dict) -> dict:
    """Sleep, then append 'KEY PID' to the log: the log counts executions of each run."""
    time.sleep(spec["sleep"])
    line = f"{ResultStore.key(spec)} {os.getpid()}\n".encode()
    fd = os.open(spec["log"], os.O_WRONLY | os.O_APPEND | os.O_CREAT)
    try:
        os.write(fd, line)  # one O_APPEND write: lines never interleave
    finally:
        os.close(fd)
    return {"i": spec["i"], "pid": os.getpid()}


def die_at_once(spec: dict) -> dict:
    """A run whose worker exits at once (a crash in native code, say)."""
    os._exit(1)


def gil_hog(spec: dict) -> dict:
    """A run that holds the GIL from its start (one long C loop)."""
    return {"value": sum(range(spec["n"]))}


def timed_sleep(spec: dict) -> dict:
    """Sleep and return the wall-clock interval: the packing test checks who ran beside whom."""
    start = time.time()
    time.sleep(spec["sleep"])
    return {"start": start, "end": time.time()}


# -- grid and seeds -------------------------------------------------------------------------
def _by_point(specs: list[dict]) -> dict:
    return {(json.dumps(s["params"], sort_keys=True), s["trial"], s.get("solver")):
            (s["seed"], ResultStore.key(s)) for s in specs}


def test_adding_grid_points_keeps_existing_seeds_and_keys() -> None:
    small = grid({"n": [10, 20], "low": [-1.0]}, seeds=3, solvers=["mitm", "cpsat"],
                 experiment="e")
    big = grid({"n": [5, 20, 10, 30], "low": [-1.0, 0.0]}, seeds=[0, 1, 2, 3, 4],
               solvers=["cpsat", "highs", "mitm"], experiment="e")
    assert len(small) == 2 * 3 * 2 and len(big) == 4 * 2 * 5 * 3
    a, b = _by_point(small), _by_point(big)
    assert a and all(b[p] == a[p] for p in a)
    # every solver of an instance sees the same seed; distinct instances get distinct seeds
    per_instance = {(p, t): seed for (p, t, _), (seed, _) in b.items()}
    assert all(seed == per_instance[(p, t)] for (p, t, _), (seed, _) in b.items())
    assert len(set(per_instance.values())) == len(per_instance)
    assert len({k for _, k in b.values()}) == len(big)
    # the base seed changes everything; seed_params shares seeds across a left-out parameter
    other = _by_point(grid({"n": [10, 20], "low": [-1.0]}, 3, ["mitm", "cpsat"], base_seed=1,
                           experiment="e"))
    assert all(other[p][0] != a[p][0] for p in a)
    nested = grid({"width": [8, 16, 32], "d": [2]}, seeds=2, seed_params=["d"])
    assert {s["seed"] for s in nested if s["trial"] == 0} == {instance_seed(0, {"d": 2}, 0)}
    assert all(0 <= s["seed"] < 2**63 for s in big)


def test_instance_seed_is_stable_across_processes_and_dict_order() -> None:
    params = {"n": 24, "low": -1.0, "dist": "uniform"}
    here = [instance_seed(7, params, t) for t in range(3)]
    assert instance_seed(7, dict(reversed(list(params.items()))), 0) == here[0]
    code = ("from exactprune.benchmarks.sweep_grid import instance_seed; "
            "print([instance_seed(7, {'dist': 'uniform', 'low': -1.0, 'n': 24}, t) "
            "for t in range(3)])")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True, env={**os.environ, "PYTHONHASHSEED": "123"}).stdout
    assert json.loads(out) == here
    with pytest.raises(InputError):
        instance_seed(-1, params, 0)
    with pytest.raises(InputError):
        grid({"n": []}, 2)


@pytest.mark.parametrize("kwargs,words", [
    ({"params": {"n": [4, 5, 4]}, "seeds": 1}, "parameter 'n' lists 4 twice"),
    ({"params": {"n": [4]}, "seeds": [0, 2, 0]}, "seeds lists 0 twice"),
    ({"params": {"n": [4]}, "seeds": 1, "solvers": ["mitm", "mitm"]}, "solvers lists 'mitm'"),
])
def test_a_grid_that_would_run_something_twice_is_refused(kwargs: dict, words: str) -> None:
    """The same run twice would be counted twice in the sweep's table but stored once."""
    with pytest.raises(InputError, match=words):
        grid(**kwargs)


def test_load_grid_toml(tmp_path: Path) -> None:
    path = tmp_path / "sweep.toml"
    path.write_text(textwrap.dedent("""
        experiment = "scaling"
        base_seed = 3
        seeds = 2
        solvers = ["mitm"]
        [params]
        n = [12, 16]
        low = -1.0
        [options]
        time_limit = 5
    """))
    kw = load_grid_toml(path)
    assert kw["params"] == {"n": [12, 16], "low": [-1.0]}
    specs = grid(**kw)
    assert len(specs) == 4 and all(s["experiment"] == "scaling" for s in specs)
    assert specs[0]["options"] == {"time_limit": 5}
    assert specs[0]["seed"] == instance_seed(3, {"n": 12, "low": -1.0}, 0)
    parser = argparse.ArgumentParser()
    add_sweep_arguments(parser)  # flags override the file
    args = parser.parse_args(["--grid", str(path), "--param", "n=8,9.5,x", "--seeds", "1"])
    kw = grid_kwargs_from_args(args)
    assert kw["params"] == {"n": [8, 9.5, "x"], "low": [-1.0]} and kw["seeds"] == 1
    assert kw["solvers"] == ["mitm"] and kw["base_seed"] == 3
    path.write_text("seed = 3\n[params]\nn = [1]\n")
    with pytest.raises(InputError, match="unknown keys seed"):
        load_grid_toml(path)
    path.write_text("[params\n")
    with pytest.raises(InputError, match="not valid TOML"):
        load_grid_toml(path)
    for line, words in (("options = 3", "options must be a table"),
                        ("experiment = 5", "experiment must be a non-empty string"),
                        ('seed_params = "low"', "seed_params must be a list")):
        path.write_text(f"{line}\n[params]\nn = [8]\nlow = 1\n")
        with pytest.raises(InputError, match=words):
            load_grid_toml(path)
    args = parser.parse_args(["--param", "n=8", "--param", "n=10"])
    with pytest.raises(InputError, match="given twice"):
        grid_kwargs_from_args(args)
    with pytest.raises(InputError, match="non-empty name"):
        grid_kwargs_from_args(parser.parse_args(["--param", "n=8", "--experiment", " "]))


# -- the store ------------------------------------------------------------------------------
def test_a_store_open_to_read_answers_a_sweep_whose_runs_are_all_stored(tmp_path: Path
                                                                          ) -> None:
    """A store that can only be read (an archive) answers a sweep with nothing to run, and a
    sweep with a run to store is refused before anything runs (hunt 40 L2)."""
    path = tmp_path / "s.sqlite"
    log = tmp_path / "runs.log"
    tasks = [Task(f"{MOD}:fail_or_square", {"experiment": "ro", "x": x, "log": str(log)})
             for x in (1, 2)]
    first = run_sweep(tasks, str(path), jobs=0, progress=False)
    assert log.read_text() == "1\n2\n"
    with ResultStore(path, create=False) as archive:
        assert run_sweep(tasks, archive, jobs=0, progress=False) == first
        more = [*tasks, Task(f"{MOD}:fail_or_square",
                             {"experiment": "ro", "x": 7, "log": str(log)})]
        with pytest.raises(InputError, match="opened to read only .1 runs of this sweep"):
            run_sweep(more, archive, jobs=0, progress=False)
        with pytest.raises(InputError, match="opened to read only"):
            archive.put("k", {"experiment": "ro"}, "ok", {}, 0.1)
    assert log.read_text() == "1\n2\n"  # nothing ran again, x = 7 never ran
    with ResultStore(path, create=False) as archive:
        assert len(archive.rows()) == 2


def test_a_store_named_file_colon_is_that_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch
                                               ) -> None:
    """SQLite reads a name starting with "file:" as a URI: a sweep into --store file:w.sqlite
    wrote its runs into w.sqlite (resuming from whatever that held), and `results` then found
    no store file:w.sqlite (hunt 215 M1). The store is the file named."""
    monkeypatch.chdir(tmp_path)
    log = tmp_path / "runs.log"
    tasks = [Task(f"{MOD}:fail_or_square", {"experiment": "colon", "x": x, "log": str(log)})
             for x in (1, 2)]
    first = run_sweep(tasks, "file:w.sqlite", jobs=0, progress=False)
    assert sorted(os.listdir(tmp_path)) == ["file:w.sqlite", "runs.log"]
    with ResultStore(Path("file:w.sqlite"), create=False) as store:
        assert len(store.rows()) == 2
    assert run_sweep(tasks, "file:w.sqlite", jobs=0, progress=False) == first
    assert log.read_text() == "1\n2\n"  # the second sweep read both runs back


def test_a_failure_never_replaces_a_finished_run(tmp_path: Path) -> None:
    """Two sweeps on one store: the second's copy of a run was killed by --timeout after the
    first had stored it finished, and replaced it; a resume then read it back as killed
    (hunt 159 L1). A failure replaces only a failure."""
    spec = {"experiment": "e", "params": {"n": 4}, "solver": "mitm", "seed": 1, "trial": 0}
    other = spec | {"trial": 1}
    with ResultStore(tmp_path / "r.sqlite") as store:
        store.put(ResultStore.key(spec), spec, "optimal", {"objective": 0.5}, 1.0)
        for failed in ("killed", "error"):
            store.put(ResultStore.key(spec), spec, failed, {"error": "late"}, 0.1)
            assert store.get(ResultStore.key(spec))["status"] == "optimal"
        store.put(ResultStore.key(other), other, "error", {"error": "a"}, 0.1)
        store.put(ResultStore.key(other), other, "killed", {"error": "b"}, 0.1)
        assert store.get(ResultStore.key(other))["status"] == "killed"
        store.put(ResultStore.key(other), other, "optimal", {"objective": 0.25}, 0.1)
        assert store.get(ResultStore.key(other))["record"] == {"objective": 0.25}


def test_store_round_trip_and_export(tmp_path: Path) -> None:
    db = tmp_path / "r.sqlite"
    specs = [{"experiment": "e1", "params": {"n": n}, "solver": "mitm", "seed": n, "trial": 0,
              "options": {"time_limit": 2.5, "lazy": True, "start": [1, 0]}} for n in (4, 8)]
    specs.append({"experiment": "e2", "params": {"n": 3, "dist": "normal"}, "seed": 1,
                  "trial": [0], "options": {"start": 3}})
    records = [{"objective": 0.25, "certified": True, "notes": ["a", "b"], "status": "optimal"},
               {"objective": math.inf, "solver_version": "x 1.0"},
               {"error": "boom", "mask": [1, 0, 1]}]
    statuses = ["optimal", "time_limit", "error"]
    with ResultStore(db) as store:
        for spec, rec, st in zip(specs, records, statuses, strict=True):
            assert not store.has(ResultStore.key(spec))
            store.put(ResultStore.key(spec), spec, st, rec, 1.5)
    with ResultStore(db) as store:  # reopened: everything is on disk
        row = store.get(ResultStore.key(specs[0]))
        assert row is not None and row["spec"] == specs[0] and row["record"] == records[0]
        assert row["status"] == "optimal" and row["wall_time_s"] == 1.5 and row["created"]
        assert store.get(ResultStore.key(specs[1]))["record"]["objective"] is None  # inf -> null
        assert store.get("0" * 64) is None and not store.has("0" * 64)
        key = ResultStore.key(dict(reversed(list(specs[2].items()))))  # dict order is irrelevant
        store.put(key, specs[2], "ok", {"value": 9}, 0.5)               # replaces the row
        assert store.get(key)["record"] == {"value": 9} and len(store.rows()) == 3

        assert [r["spec"] for r in store.rows("e1")] == specs[:2]
        assert {(r["experiment"], r["status"], r["runs"]) for r in store.summary()} == \
            {("e1", "optimal", 1), ("e1", "time_limit", 1), ("e2", "ok", 1)}
        buf = io.StringIO()
        assert store.export("jsonl", buf) == 3
        lines = [json.loads(line) for line in buf.getvalue().splitlines()]
        assert lines == json.loads(json.dumps(store.rows()))
        buf = io.StringIO()
        assert store.export("csv", buf) == 3
        table = list(csv.DictReader(io.StringIO(buf.getvalue())))
        assert [json.loads(r["spec"]) for r in table] == [r["spec"] for r in store.rows()]
        assert [json.loads(r["record"]) for r in table] == [r["record"] for r in store.rows()]
        assert [r["param.n"] for r in table] == ["4", "8", "3"]
        assert table[0]["record.objective"] == "0.25" and table[1]["record.objective"] == ""
        # the seed and the options (time limit, solver options) have columns of their own;
        # a field that is a list or object in some row only in the JSON
        assert [r["spec.seed"] for r in table] == ["4", "8", "1"]
        assert [r["option.time_limit"] for r in table] == ["2.5", "2.5", ""]
        assert [r["option.lazy"] for r in table] == ["true", "true", ""]
        assert not {"spec.trial", "option.start", "spec.params", "spec.experiment",
                    "spec.solver"} & set(table[0])
        with pytest.raises(InputError):
            store.export("xml", io.StringIO())
        with pytest.raises(InputError):
            ResultStore.key({"x": math.nan})
    (tmp_path / "junk.sqlite").write_text("not a database at all, " * 100)
    with pytest.raises(InputError):
        ResultStore(tmp_path / "junk.sqlite")
    with pytest.raises(InputError):
        ResultStore(tmp_path / "missing.sqlite", create=False)


def test_results_cli(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    db = tmp_path / "r.sqlite"
    with ResultStore(db) as store:
        for i in range(3):
            spec = {"experiment": "e", "i": i}
            store.put(ResultStore.key(spec), spec, "ok" if i else "error", {"i": i}, 0.1)
    parser = argparse.ArgumentParser()
    register_cli(parser.add_subparsers(dest="command"))
    args = parser.parse_args(["results", "export", "--store", str(db), "--format", "jsonl",
                              "-o", str(tmp_path / "out.jsonl")])
    assert args.func(args) == 0
    rows = [json.loads(x) for x in (tmp_path / "out.jsonl").read_text().splitlines()]
    assert sorted(r["record"]["i"] for r in rows) == [0, 1, 2]
    args = parser.parse_args(["results", "export", "--store", str(db), "--experiment", "e",
                              "-o", str(tmp_path / "e.csv")])
    assert args.func(args) == 0  # CSV: a header and the three runs
    assert len((tmp_path / "e.csv").read_text().splitlines()) == 1 + 3
    # the extension says the format (-o x.jsonl held CSV); a contradiction, or a compressed
    # name (plain text under .gz), is refused before anything is written (hunt 69 L1)
    args = parser.parse_args(["results", "export", "--store", str(db),
                              "-o", str(tmp_path / "by_name.jsonl")])
    assert args.func(args) == 0
    assert len([json.loads(x) for x in (tmp_path / "by_name.jsonl").read_text().splitlines()]) == 3
    for extra, name, said in ((["--format", "csv"], "x.jsonl", "does not match"),
                              ([], "x.csv.gz", "compressed"), ([], "r.json", "name the file")):
        args = parser.parse_args(["results", "export", "--store", str(db), *extra,
                                  "-o", str(tmp_path / name)])
        with pytest.raises(InputError, match=said):
            args.func(args)
        assert not (tmp_path / name).exists()
    args = parser.parse_args(["results", "export", "--store", str(db), "--experiment", "nope",
                              "-o", str(tmp_path / "nope.csv")])
    with pytest.raises(InputError, match="no experiment 'nope'.*it has: e"):
        args.func(args)
    assert not (tmp_path / "nope.csv").exists()
    args = parser.parse_args(["results", "summary", "--store", str(db), "--json"])
    capsys.readouterr()
    assert args.func(args) == 0
    summary = json.loads(capsys.readouterr().out)
    assert {(r["status"], r["runs"]) for r in summary} == {("error", 1), ("ok", 2)}
    args = parser.parse_args(["results", "summary", "--store", str(tmp_path / "none.sqlite")])
    with pytest.raises(InputError, match="no such results store"):
        args.func(args)
    assert not (tmp_path / "none.sqlite").exists()
    (tmp_path / "empty.sqlite").touch()  # exists, holds nothing: said so, left untouched
    args = parser.parse_args(["results", "summary", "--store", str(tmp_path / "empty.sqlite")])
    with pytest.raises(InputError, match="is empty"):
        args.func(args)
    assert (tmp_path / "empty.sqlite").stat().st_size == 0


# -- running --------------------------------------------------------------------------------
def test_failures_are_stored_and_neighbours_survive(tmp_path: Path) -> None:
    log = str(tmp_path / "starts.log")
    tasks = [Task(f"{MOD}:fail_or_square", {"experiment": "f", "x": x, "log": log})
             for x in range(1, 6)]
    with ResultStore(tmp_path / "f.sqlite") as store:
        recs = run_sweep(tasks, store, jobs=2, progress=False)
        # the crash broke a pool with x = 4 and 5 in flight: each was re-run alone
        starts = Counter(Path(log).read_text().split())
        assert starts == {"1": 1, "2": 1, "3": 1, "4": 2, "5": 2}
        by_x = {t.spec["x"]: r for t, r in zip(tasks, recs, strict=True)}
        assert by_x[3]["status"] == "error" and "ValueError: three" in by_x[3]["error"]
        assert "traceback" in by_x[3]
        assert by_x[5]["status"] == "error" and "worker process died" in by_x[5]["error"]
        for x in (1, 2, 4):  # including the one in flight beside the crash
            assert by_x[x]["value"] == x * x
            assert by_x[x]["status"] == ("optimal" if x % 2 else "feasible")
        stored = {r["spec"]["x"]: r for r in store.rows("f")}
        assert {x: r["status"] for x, r in stored.items()} == {x: r["status"]
                                                                for x, r in by_x.items()}
        assert all(r["record"] == by_x[x] for x, r in stored.items())
        # nothing re-runs when errors are not retried (x = 5 would kill this process if jobs=0)
        assert run_sweep(tasks, store, jobs=0, progress=False, retry_errors=False) == recs
        # a bad task function is bad input, found before anything runs
        with pytest.raises(InputError, match="cannot load task function"):
            run_sweep([Task(f"{MOD}:no_such_fn", {"experiment": "f"})], store, progress=False)
        with pytest.raises(InputError, match="experiment"):
            run_sweep([Task(f"{MOD}:square", {"x": 1})], store, progress=False)


def test_timeout_kills_a_run_and_the_rest_completes(tmp_path: Path) -> None:
    tasks = [Task(f"{MOD}:fail_or_square", {"experiment": "t", "x": x}) for x in (1, 6, 2, 4)]
    t0 = time.monotonic()
    with ResultStore(tmp_path / "t.sqlite") as store:
        recs = run_sweep(tasks, store, jobs=2, progress=False, timeout=6.0)
        assert [r["status"] for r in recs] == ["optimal", "killed", "feasible", "feasible"]
        assert [r.get("value") for r in recs] == [1, None, 4, 16]
        assert store.get(ResultStore.key(tasks[1].spec))["status"] == "killed"
    assert time.monotonic() - t0 < 30


def test_timeout_counts_from_the_start_of_a_run_not_from_a_new_workers_start_up(
        tmp_path: Path) -> None:
    """A kill replaces the pool, and the runs handed to the new workers were timed from the
    hand-over: a new worker's start-up (1.5 s on a busy machine) made runs of a millisecond
    "killed after the sweep's timeout" (hunt 88 M2). The clock starts when the run starts."""
    quick = [Task(f"{MOD}:square", {"experiment": "q", "x": x}) for x in range(6)]
    hang = Task(f"{MOD}:timed_sleep", {"experiment": "q", "sleep": 30.0})
    recs = run_sweep([hang, *quick], None, jobs=2, progress=False, timeout=0.1)
    assert recs[0]["status"] == "killed" and 0.1 <= recs[0]["wall_time_s"] < 5
    assert [r["status"] for r in recs[1:]] == ["ok"] * 6, recs
    assert all(r["wall_time_s"] < 0.1 for r in recs[1:])


def test_a_crash_under_a_timeout_is_an_error_not_a_kill() -> None:
    """Since the start message was written at once, a run whose worker died at once was past
    its timeout before the pool noticed the death, and was stored as killed (not retried)
    instead of an error (hunt 92 M1). A dead worker is a crash, whatever the clock says."""
    tasks = [Task(f"{MOD}:die_at_once", {"experiment": "c", "i": i}) if i % 2 else
             Task(f"{MOD}:timed_sleep", {"experiment": "c", "i": i, "sleep": 0.3})
             for i in range(6)]
    recs = run_sweep(tasks, None, jobs=2, progress=False, timeout=0.1)
    assert [r["status"] for r in recs[1::2]] == ["error"] * 3, recs
    assert all("worker process died" in r["error"] for r in recs[1::2])
    assert {r["status"] for r in recs[::2]} <= {"ok", "killed"}


def test_timeout_kills_a_run_that_holds_the_gil(tmp_path: Path) -> None:
    """The start message went through a Queue, whose writer thread needs the GIL: a run
    holding it from its start was never seen to start, and ran on until START_GRACE_S (60 s)
    past the timeout, or finished and was stored as done (hunt 89 H1)."""
    hog = Task(f"{MOD}:gil_hog", {"experiment": "g", "n": 10**10})
    t0 = time.monotonic()
    recs = run_sweep([hog], None, jobs=1, progress=False, timeout=1.0)
    assert recs[0]["status"] == "killed" and 1.0 <= recs[0]["wall_time_s"] < 10, recs
    assert time.monotonic() - t0 < 30


def spawn_and_hang(spec: dict) -> dict:
    """Start a child process (as PuLP starts CBC), note its pid, and hang."""
    child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(120)"])
    Path(spec["pid_file"]).write_text(str(child.pid))
    time.sleep(120)
    return {"status": "optimal"}


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


def _gone_within(pid: int, seconds: float) -> bool:
    """Whether process `pid` ends within `seconds`; if not, it is killed here (no leftovers)."""
    deadline = time.monotonic() + seconds
    while _alive(pid) and time.monotonic() < deadline:
        time.sleep(0.1)
    if _alive(pid):
        os.kill(pid, signal.SIGKILL)
        return False
    return True


@pytest.mark.skipif(not Path("/proc").is_dir(), reason="reads /proc")
def test_timeout_also_kills_what_the_run_started(tmp_path: Path) -> None:
    """A run killed at the sweep's timeout takes its child processes with it (a CBC solve
    left running would hold a core until its own limit, or forever without one)."""
    pid_file = tmp_path / "child.pid"
    task = Task(f"{MOD}:spawn_and_hang", {"experiment": "orphan", "pid_file": str(pid_file)})
    recs = run_sweep([task], None, jobs=1, progress=False, timeout=3.0)
    assert recs[0]["status"] == "killed"
    assert _gone_within(int(pid_file.read_text()), 5.0), "the killed run's child still runs"


@pytest.mark.skipif(not Path("/proc").is_dir(), reason="reads /proc")
def test_isolated_run_timeout_kills_its_children(tmp_path: Path) -> None:
    """The scaling benchmarks' `run_isolated`: the same guarantee as the sweep's timeout."""
    from exactprune.benchmarks.isolated import run_isolated

    pid_file = tmp_path / "child.pid"
    out = run_isolated(spawn_and_hang, ({"pid_file": str(pid_file)},), 3.0, {"status": "killed"})
    assert out == {"status": "killed"}
    assert _gone_within(int(pid_file.read_text()), 5.0), "the timed-out call's child still runs"


def spawn_then_die_or_wait(spec: dict) -> dict:
    """Start a child (as PuLP starts CBC) and note its pid; then die by SIGKILL (as the OOM
    killer kills a worker) or, after a while, end the child and return."""
    child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(120)"])
    with open(spec["pid_file"], "a") as fh:
        fh.write(f"{child.pid}\n")
    if spec["die"]:
        deadline = time.monotonic() + 30
        while len(Path(spec["pid_file"]).read_text().split()) < 2:  # the other run's child too
            assert time.monotonic() < deadline
            time.sleep(0.01)
        os.kill(os.getpid(), signal.SIGKILL)
    time.sleep(1.0)
    child.kill()
    child.wait()
    return {"status": "optimal"}


@pytest.mark.skipif(not Path("/proc").is_dir(), reason="reads /proc")
def test_a_worker_killed_outright_takes_the_runs_children_with_it(tmp_path: Path) -> None:
    """One worker killed outright breaks the pool, which terminates the other worker alone:
    both workers' CBC processes ran on as orphans, on the cores the re-runs needed (hunt 40
    F2). Every worker's process group is now killed when the pool breaks."""
    pid_file = tmp_path / "children.pid"
    tasks = [Task(f"{MOD}:spawn_then_die_or_wait",
                  {"experiment": "oom", "pid_file": str(pid_file), "die": die, "i": i})
             for i, die in enumerate((False, True))]
    recs = run_sweep(tasks, None, jobs=2, progress=False)
    assert [r["status"] for r in recs] == ["optimal", "error"]
    pids = [int(line) for line in pid_file.read_text().split()]
    assert len(pids) >= 2, (pids, recs)  # both first runs' children (and re-runs')
    assert all(_gone_within(pid, 3.0) for pid in pids), "a run's child outlived its worker"


def make_temp_files_and_hang(spec: dict) -> dict:
    """Make a temporary folder as CBC's `solver_files` does, note its path, and hang."""
    import tempfile

    folder = tempfile.mkdtemp(prefix="exactprune-solve-")
    Path(folder, "model.mps").write_text("x" * 1000)
    Path(spec["path_file"]).write_text(folder)
    time.sleep(120)
    return {"status": "optimal"}


def test_a_killed_run_leaves_no_temporary_files(tmp_path: Path) -> None:
    """A worker killed by the timeout never runs its own clean-up: CBC's model folder stayed in
    /tmp, one per killed run. Workers now keep their temporary files in a folder the parent
    removes after the pool; the same for `run_isolated`."""
    import shutil

    from exactprune.benchmarks.isolated import run_isolated

    for how in ("sweep", "isolated"):
        path_file = tmp_path / f"{how}.path"
        spec = {"experiment": "tmp", "path_file": str(path_file)}
        if how == "sweep":
            task = Task(f"{MOD}:make_temp_files_and_hang", spec)
            assert run_sweep([task], None, jobs=1, progress=False,
                             timeout=3.0)[0]["status"] == "killed"
        else:
            assert run_isolated(make_temp_files_and_hang, (spec,), 3.0,
                                {"status": "killed"}) == {"status": "killed"}
        folder = Path(path_file.read_text())
        left = folder.exists()
        shutil.rmtree(folder, ignore_errors=True)
        assert not left, f"{how}: the killed run's temporary folder is still there"


def test_task_slots() -> None:
    assert task_slots({}, 2) == 1
    assert [task_slots({"threads": t}, 2) for t in (1, 2, 8)] == [1, 2, 2]
    assert task_slots({"threads": 8}, 4) == 4 and task_slots({"threads": 3}, 1) == 1
    assert task_slots({"threads": True}, 2) == task_slots({"threads": "8"}, 2) == 1
    assert task_slots({"options": {"threads": 4, "time_limit": 1}}, 2) == 2  # bench's specs


def _packing_specs(experiment: str) -> list[dict]:
    """Six sleeps of 0.6 s; runs 1 and 4 ask for 8 threads."""
    return [{"experiment": experiment, "i": i, "sleep": 0.6,
             **({"threads": 8} if i in (1, 4) else {})} for i in range(6)]


def _assert_wide_runs_ran_alone(specs: list[dict], recs: list[dict]) -> None:
    """Every run finished; the 8-thread runs overlapped no other run; some one-thread runs
    overlapped each other."""
    assert all(r["status"] == "ok" for r in recs)

    def overlap(a: dict, b: dict) -> bool:
        return a["start"] < b["end"] and b["start"] < a["end"]

    for wide in (1, 4):
        assert not any(overlap(recs[wide], recs[j]) for j in range(6) if j != wide), wide
    narrow = [r for s, r in zip(specs, recs, strict=True) if "threads" not in s]
    assert any(overlap(a, b) for a, b in itertools.combinations(narrow, 2))


def test_multithreaded_runs_do_not_share_the_cores(tmp_path: Path) -> None:
    """jobs=2: the 8-thread runs each run alone (never beside another run), while the
    one-thread runs fill both slots (the narrow ones go ahead of a wide one that waits)."""
    specs = _packing_specs("pack")
    recs = run_sweep([Task(f"{MOD}:timed_sleep", s) for s in specs], None, jobs=2,
                     progress=False)
    _assert_wide_runs_ran_alone(specs, recs)


def test_duplicates_and_in_process_run(tmp_path: Path) -> None:
    tasks = [Task(f"{MOD}:square", {"experiment": "d", "x": x}) for x in (2, 3, 2)]
    recs = run_sweep(tasks, None, jobs=0, progress=False)
    assert [r["value"] for r in recs] == [4, 9, 4] and recs[0]["pid"] == os.getpid()
    assert all(r["status"] == "ok" and r["wall_time_s"] >= 0 for r in recs)


_SWEEP_SCRIPT = """
import sys
sys.path.insert(0, {here!r})
from exactprune.benchmarks.store import ResultStore
from exactprune.benchmarks.sweep import Task, run_sweep
tasks = [Task("test_sweep:logged_sleep",
              {{"experiment": "kill", "i": i, "log": {log!r}, "sleep": 0.15}})
         for i in range(30)]
with ResultStore({db!r}) as store:
    run_sweep(tasks, store, jobs=2, progress=False)
"""


def _alive(pid: int) -> bool:
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return False
    return "\nState:\tZ" not in status  # a zombie is dead


def _stored_rows(db: Path) -> list[tuple[str, str, str, str]]:
    with contextlib.closing(sqlite3.connect(db, timeout=30)) as conn:
        return conn.execute("SELECT key, status, spec, record FROM runs").fetchall()


def test_sigkill_mid_sweep_then_resume_loses_nothing(tmp_path: Path) -> None:
    db, log = tmp_path / "kill.sqlite", tmp_path / "runs.log"
    script = _SWEEP_SCRIPT.format(here=str(HERE), log=str(log), db=str(db))
    # the killed parent cannot remove its workers' scratch folder (kept in tmp_path; the
    # resumed sweep's parent removes it)
    scratch = tmp_path / "tmp"
    scratch.mkdir()
    proc = subprocess.Popen([sys.executable, "-c", script], env={**os.environ,
                                                                 "TMPDIR": str(scratch)})
    deadline = time.monotonic() + 40
    try:
        while True:  # wait for a few stored rows, then SIGKILL the sweep's parent process
            assert proc.poll() is None, "the sweep ended before it could be killed"
            assert time.monotonic() < deadline, "the sweep stored nothing"
            if db.exists():
                with contextlib.suppress(sqlite3.OperationalError):
                    if len(_stored_rows(db)) >= 6:
                        break
            time.sleep(0.05)
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait()
    finally:
        if proc.poll() is None:
            proc.kill()
    with contextlib.closing(sqlite3.connect(db)) as conn:
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    first = _stored_rows(db)
    assert 6 <= len(first) < 30
    for key, status, spec, record in first:  # only complete rows
        spec_d, rec_d = json.loads(spec), json.loads(record)
        assert status == "ok" and ResultStore.key(spec_d) == key and rec_d["i"] == spec_d["i"]
    # the workers notice that their parent is gone and exit instead of lingering
    pids = {int(line.split()[1]) for line in log.read_text().splitlines()}
    stop = time.monotonic() + 10
    while any(_alive(p) for p in pids) and time.monotonic() < stop:
        time.sleep(0.1)
    assert not any(_alive(p) for p in pids)

    left = [p.name for p in scratch.iterdir()]
    assert len(left) == 1 and left[0].startswith(f"exactprune-workers-{proc.pid}-")
    done = subprocess.run([sys.executable, "-c", script], timeout=120,
                          env={**os.environ, "TMPDIR": str(scratch)})
    assert done.returncode == 0
    assert list(scratch.iterdir()) == []  # the dead parent's folder was reaped
    rows = _stored_rows(db)
    assert len(rows) == 30 and sorted(json.loads(s)["i"] for _, _, s, _ in rows) == list(range(30))
    runs = Counter(line.split()[0] for line in log.read_text().splitlines())
    assert set(runs) == {k for k, *_ in rows}
    assert all(runs[key] == 1 for key, *_ in first)  # finished before the kill: never re-run


def test_dask_local_cluster(tmp_path: Path) -> None:
    distributed = pytest.importorskip("distributed")
    tasks = [Task(f"{MOD}:fail_or_square", {"experiment": "dask", "x": x}) for x in (1, 2, 3, 4)]
    with distributed.LocalCluster(n_workers=1, threads_per_worker=1, processes=False,
                                  dashboard_address=None) as cluster, \
            ResultStore(tmp_path / "d.sqlite") as store:
        recs = run_sweep(tasks, store, scheduler=cluster.scheduler_address, progress=False)
        assert [r["status"] for r in recs] == ["optimal", "feasible", "error", "feasible"]
        assert [r.get("value") for r in recs] == [1, 4, None, 16]
        assert "ValueError" in recs[2]["error"]
        assert len(store.rows("dask")) == 4


def test_dask_workers_read_a_relative_file_parameter_from_the_callers_folder(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Dask workers run in folders of their own: a relative `--param network=net.npz` was read
    there, and every run stored as an error (hunt 53). Workers get the absolute path; the
    store keeps the spec as given (its key unchanged)."""
    distributed = pytest.importorskip("distributed")
    (tmp_path / "workers").mkdir()
    (tmp_path / "caller").mkdir()
    (tmp_path / "caller" / "net.txt").write_text("the caller's network")
    monkeypatch.chdir(tmp_path / "workers")  # the worker processes start here
    with distributed.LocalCluster(n_workers=1, threads_per_worker=1, processes=True,
                                  dashboard_address=None) as cluster:
        monkeypatch.chdir(tmp_path / "caller")
        digest = hashlib.sha256(b"the caller's network").hexdigest()
        spec = {"experiment": "dask-files", "params": {"network": "net.txt", "k": 3},
                "input_sha256": {"network": digest}}  # as a sweep keys its file parameters
        with ResultStore(tmp_path / "f.sqlite") as store:
            recs = run_sweep([Task(f"{MOD}:read_network_param", spec)], store,
                             scheduler=cluster.scheduler_address, progress=False)
            assert recs[0]["status"] == "ok", recs[0]
            assert recs[0]["text"] == "the caller's network"
            assert store.get(ResultStore.key(spec)) is not None


def _dask_and_local_runs(grid: list[str], capsys: pytest.CaptureFixture[str]
                         ) -> tuple[list[dict], list[dict]]:
    """The `--json` runs of the sweep `grid` on a LocalCluster (store dask.sqlite) and in this
    process (local.sqlite), in the current folder."""
    distributed = pytest.importorskip("distributed")
    from exactprune.cli import main

    with distributed.LocalCluster(n_workers=1, threads_per_worker=1, processes=False,
                                  protocol="tcp", dashboard_address=None) as cluster:
        assert main([*grid, "--store", "dask.sqlite", "--scheduler",
                     cluster.scheduler_address]) == 0
    dask_runs = json.loads(capsys.readouterr().out)["runs"]
    assert main([*grid, "--store", "local.sqlite", "--jobs", "0"]) == 0
    return dask_runs, json.loads(capsys.readouterr().out)["runs"]


def test_dask_sweeps_leave_a_choice_that_names_a_file_as_it_is(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    """With a file named "sphere" in the caller's folder, `--param domain=sphere` reached Dask
    workers as that file's absolute path: every run was stored as an error ("domain must be
    one of ..."), exit 0, while the local sweep certified them (hunt 54 F4). Only parameters
    declared as files are made absolute (and hashed into the key)."""
    monkeypatch.chdir(tmp_path)
    (tmp_path / "sphere").write_text("not a domain")
    grid = ["sweep", "neuron-pruning", "--param", "d=2", "--param", "width=5", "--param",
            "points=16", "--param", "domain=sphere", "--seeds", "2", "--solvers", "bruteforce",
            "--no-progress", "--json"]
    dask_runs, local_runs = _dask_and_local_runs(grid, capsys)

    def answers(runs: list[dict]) -> list[tuple]:
        return [(r["spec"]["params"]["domain"], r["record"]["status"],
                 r["record"]["objective"], r["record"]["mask"]) for r in runs]

    assert answers(dask_runs) == answers(local_runs)
    assert [a[1] for a in answers(dask_runs)] == ["optimal", "optimal"], dask_runs


def test_dask_runs_of_a_network_file_keep_the_instance_of_the_local_run(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    """A Dask worker reads `--param network=net.npz` by its absolute path, which went into the
    instance's generator record: same key, same mask and objective as the local run, but
    another instance_sha256, so `certify` took the run for another instance (hunt 88 M1)."""
    from exactprune.cli import main

    monkeypatch.chdir(tmp_path)
    rng = np.random.default_rng(0)
    np.savez(tmp_path / "net.npz", w1=rng.standard_normal((5, 64)),
             w2=rng.standard_normal((10, 5)))
    grid = ["sweep", "neuron-selection", "--param", "network=net.npz", "--param", "data=digits",
            "--param", "k=2", "--param", "samples=20", "--seeds", "2", "--solvers",
            "bruteforce", "--no-progress", "--json"]
    dask_runs, local_runs = _dask_and_local_runs(grid, capsys)

    def answers(runs: list[dict]) -> list[tuple]:
        return [(r["record"]["status"], r["record"]["objective"], r["record"]["mask"],
                 r["record"]["instance_sha256"]) for r in runs]

    assert answers(dask_runs) == answers(local_runs)
    assert [a[0] for a in answers(dask_runs)] == ["optimal", "optimal"], dask_runs
    spec = local_runs[0]["spec"]
    assert main(["generate", "neuron-selection", "--network", "net.npz", "--data", "digits",
                 "--k", "2", "--samples", "20", "--seed", str(spec["seed"]), "-o",
                 "i.json"]) == 0
    from exactprune.instances import load_instance
    from exactprune.instances.io import instance_sha256
    assert instance_sha256(load_instance("i.json")) == dask_runs[0]["record"]["instance_sha256"]


def test_dask_run_lost_with_its_worker_is_an_error_without_a_made_up_wall_time(
        tmp_path: Path) -> None:
    """A run whose worker dies is stored as an error; its wall time was the whole Dask sweep's
    elapsed time (hunt 10), now unknown (None)."""
    distributed = pytest.importorskip("distributed")
    import dask

    tasks = [Task(f"{MOD}:fail_or_square", {"experiment": "dask-die", "x": x}) for x in (1, 5)]
    with dask.config.set({"distributed.scheduler.allowed-failures": 0}), \
            distributed.LocalCluster(n_workers=1, threads_per_worker=1, processes=True,
                                     dashboard_address=None) as cluster:
        recs = run_sweep(tasks, None, scheduler=cluster.scheduler_address, progress=False)
    assert recs[0]["status"] == "optimal" and recs[0]["wall_time_s"] > 0
    assert recs[1]["status"] == "error" and "KilledWorker" in recs[1]["error"]
    assert recs[1]["wall_time_s"] is None


def test_a_lost_scheduler_is_one_line_and_its_runs_are_errors_to_resume(
        tmp_path: Path, capfd: pytest.CaptureFixture[str]) -> None:
    """Hunt 17: a scheduler killed mid-sweep printed Dask's client tracebacks (some 30 lines)
    and then "done"; the summary line now says how many runs to resume."""
    pytest.importorskip("distributed")
    address_file = tmp_path / "address"
    script = textwrap.dedent(f"""
        import time
        from distributed import LocalCluster
        cluster = LocalCluster(n_workers=1, threads_per_worker=1, processes=False,
                               dashboard_address=None, protocol="tcp://", scheduler_port=0)
        open({str(address_file)!r}, "w").write(cluster.scheduler_address)
        time.sleep(600)
    """)
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(Path(__file__).parent),
                                                        os.environ.get("PYTHONPATH", "")])}
    cluster = subprocess.Popen([sys.executable, "-c", script], env=env)
    try:
        deadline = time.monotonic() + 60
        while not address_file.exists() or not address_file.read_text():
            assert time.monotonic() < deadline and cluster.poll() is None
            time.sleep(0.1)
        tasks = [Task(f"{MOD}:timed_sleep", {"experiment": "lost", "sleep": 2.0, "i": i})
                 for i in range(4)]
        killer = threading.Timer(1.0, cluster.kill)
        killer.start()
        with ResultStore(tmp_path / "lost.sqlite") as store:
            # an error (one line, exit 2 from the CLI), not a sweep that looks complete:
            # it exited 0 (hunt 69 L2)
            with pytest.raises(SchedulerLost) as caught:
                run_sweep(tasks, store, scheduler=address_file.read_text(), progress=True,
                          desc="lost")
            recs = caught.value.records
            stored = {r["status"] for r in store.rows("lost")}
        killer.join()
    finally:
        cluster.kill()
        cluster.wait()
    err = capfd.readouterr().err
    assert "Traceback" not in err and "ERROR" not in err
    lost = sum(r["status"] == "error" for r in recs)
    assert lost >= 3 and stored <= {"ok", "error"}
    assert str(caught.value).startswith(
        f"lost the Dask scheduler at {address_file.read_text()}: {lost} runs not finished")
    assert isinstance(caught.value, InputError) and len(recs) == len(tasks)
    # the summary line said "done" and nothing more (hunt 40 L5), then "done" beside the
    # error line, which said "the sweep" from verify commands too (hunt 105 L2)
    assert f"lost: stopped: {len(tasks)} runs" in err
    assert f"; {lost} lost with the Dask scheduler: run it again to resume them" in err
    assert str(caught.value).endswith("(run the same command again to resume them)")


def test_dask_workers_declaring_cores_run_multithreaded_runs_alone() -> None:
    """A worker started with two threads and ``resources={"cores": 2}``: the 8-thread runs
    never overlap another run, the one-thread runs do (as in the local pool); without the
    resource the same runs still all finish (no packing, nothing left waiting)."""
    distributed = pytest.importorskip("distributed")
    from exactprune.benchmarks.sweep_dask import worker_cores

    specs = _packing_specs("dask-pack")
    tasks = [Task(f"{MOD}:timed_sleep", s) for s in specs]
    with distributed.LocalCluster(n_workers=1, threads_per_worker=2, processes=False,
                                  dashboard_address=None, resources={"cores": 2}) as cluster:
        with distributed.Client(cluster.scheduler_address) as client:
            assert worker_cores(client) == 2
        recs = run_sweep(tasks, None, scheduler=cluster.scheduler_address, progress=False)
    _assert_wide_runs_ran_alone(specs, recs)
    with distributed.LocalCluster(n_workers=1, threads_per_worker=2, processes=False,
                                  dashboard_address=None) as cluster:
        with distributed.Client(cluster.scheduler_address) as client:
            assert worker_cores(client) is None
        recs = run_sweep(tasks, None, scheduler=cluster.scheduler_address, progress=False)
    assert all(r["status"] == "ok" for r in recs)


def test_dask_missing_is_a_clear_input_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "distributed", None)  # makes `import distributed` fail
    tasks = [Task(f"{MOD}:square", {"experiment": "x", "x": 1})]
    with pytest.raises(InputError, match=r"pip install 'exactprune\[distributed\]'"):
        run_sweep(tasks, None, scheduler="tcp://127.0.0.1:8786", progress=False)


def test_a_ucx_scheduler_without_ucx_says_so() -> None:
    """It said "the address answers, but not as a Dask scheduler" (hunt 53): Dask has no
    comm for ucx:// without UCX, and nothing answered at all."""
    pytest.importorskip("distributed")
    import importlib.util

    if importlib.util.find_spec("ucp") or importlib.util.find_spec("distributed_ucxx"):
        pytest.skip("UCX is installed here")
    tasks = [Task(f"{MOD}:square", {"experiment": "x", "x": 1})]
    with pytest.raises(InputError, match="ucx:// needs UCX"):
        run_sweep(tasks, None, scheduler="ucx://127.0.0.1:1", progress=False)


def test_a_sweep_from_a_script_read_on_stdin_is_refused_before_any_run(tmp_path: Path) -> None:
    """Spawned workers re-run the main script from its file: from a script read on stdin every
    run died and was stored as an error (hunt 189). Refused in one line, nothing stored; jobs=0
    runs in the script's own process."""
    store = tmp_path / "s.sqlite"
    script = textwrap.dedent(f"""
        from exactprune.benchmarks.sweep import Task, run_sweep
        from exactprune.instances.errors import InputError
        tasks = [Task("exactprune.benchmarks.sweep:example_task",
                      {{"experiment": "x", "params": {{"n": 6}}, "seed": s, "solver": "mitm"}})
                 for s in range(2)]
        try:
            run_sweep(tasks, {str(store)!r}, jobs=1, progress=False)
        except InputError as exc:
            print("refused:", exc)
        print([r["status"] for r in run_sweep(tasks, {str(store)!r}, jobs=0, progress=False)])
        from exactprune.benchmarks.bench import run_bench
        try:  # bench makes its folder and store itself: refused before either
            run_bench("smoke", out={str(tmp_path / "bench")!r}, time_limit=1, progress=False)
        except InputError as exc:
            print("refused:", exc)
        """)
    proc = subprocess.run([sys.executable, "-"], input=script, capture_output=True, text=True,
                          timeout=300)
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.strip().splitlines()
    assert lines[0].startswith("refused: jobs = 1:") and "'<stdin>' is no file" in lines[0]
    assert lines[1] == "['optimal', 'optimal']"
    assert lines[2].startswith("refused: jobs = 1:") and not (tmp_path / "bench").exists()


def test_a_sweep_in_this_process_removes_dead_sweeps_scratch_folders(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Only a sweep that started worker processes removed the scratch folders of sweeps killed
    outright; a `--jobs 0` sweep or bench left them (hunt 210 L2). A live parent's stays."""
    import tempfile

    from exactprune.benchmarks.isolated import SCRATCH_PREFIX

    gone = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                          capture_output=True, text=True, check=True).stdout.strip()
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    dead = tmp_path / f"{SCRATCH_PREFIX}{gone}-abc"
    live = tmp_path / f"{SCRATCH_PREFIX}{os.getpid()}-def"
    for folder in (dead, live):
        folder.mkdir()
        (folder / "cbc.log").write_text("left")
    records = run_sweep([Task("exactprune.benchmarks.sweep:example_task",
                              {"experiment": "reap", "params": {"n": 3}, "seed": 0,
                               "solver": "bruteforce"})],
                        jobs=0, progress=False)
    assert records[0]["status"] == "optimal"
    assert not dead.exists() and live.exists()
