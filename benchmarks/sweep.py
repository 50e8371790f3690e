"""Sweeps: run a grid of (parameters x seeds x solvers) in parallel, resumably, into SQLite.

A sweep is a list of :class:`Task` objects, each a task function (``"package.module:function"``)
and a JSON-serialisable ``spec`` that must name its ``"experiment"``. :func:`grid` builds the
specs of a cartesian product; :func:`run_sweep` runs every task whose key (sha256 of the spec's
canonical JSON, :meth:`ResultStore.key`) is not yet in the store, stores each result the moment
it comes back (one committed SQLite transaction per run), and returns the records of all tasks in
task order. Kill the sweep at any moment (Ctrl-C, ``kill -9``, a lost machine) and run it again:
finished runs are read back from the store and only the rest is run.

Task functions. The worker imports ``fn`` and calls ``fn(spec)``; it returns a JSON-serialisable
dict (the *record*) that may hold ``"status"`` (default ``"ok"``; e.g. ``"optimal"``,
``"time_limit"``) and ``"wall_time_s"`` (default: the measured wall time of the call). Solver
time limits are the task's business (pass them in the spec); a task should use one solver thread
unless its spec asks for more (``spec.get("threads", 1)``), as workers run side by side.
Failures are stored, never dropped:

* the function raises -> status ``"error"``, ``record["error"]`` = ``"TypeName: message"`` and
  ``record["traceback"]``;
* the worker process dies (``os._exit``, segfault, out of memory) -> status ``"error"`` with
  ``record["error"]`` saying so. When several runs were in flight, each is re-run alone to find
  the one that died, so the others get their true result;
* ``timeout`` (optional, local processes only) -> a run still going ``timeout`` seconds after it
  was handed to a worker (this includes the worker's start-up, about a second, for the first run
  of a worker) is killed and stored with status ``"killed"``. Its neighbours in flight are
  killed with it (a pool cannot kill one worker) and re-run.

On the next run of the same sweep, rows with status ``"error"`` are run again (so a fixed bug or
a lost worker is retried) unless ``retry_errors=False``; rows with status ``"killed"`` are run
again only with ``retry_killed=True`` (``--retry-killed``: after raising ``--timeout``); every
other status counts as finished.

Seeds. :func:`instance_seed` derives an instance's seed from (base seed, a sha256 of the
instance's parameters, trial index) through ``numpy.random.SeedSequence``: never from the
position in the grid, so adding values to a grid leaves every existing instance, and its key, as
it was. ``seed_params`` restricts the parameters that enter the seed: e.g. leaving out
``"width"`` gives every width the same seed (nested networks: common random numbers).

Execution. ``jobs=N`` (default 1) runs tasks in N worker processes (``spawn`` context; only the
parent writes to SQLite), N being the cores to fill: a run whose spec asks for t threads
(``spec["threads"]``) fills min(t, N) of them (:func:`task_slots`), so one-thread runs go N at
a time and a multi-threaded solve never shares its cores with another run. ``jobs=0`` runs
them in this process, one after the other (no crash isolation; for debugging).
``scheduler="tcp://HOST:PORT"`` sends the same tasks to a running Dask distributed cluster
instead (``pip install 'exactprune[distributed]'``; runs are packed by threads there when
every worker declares its cores as a resource, ``--resources cores=N``, see
:func:`worker_cores`);
results stream back as they complete and are stored one by one. A tqdm progress bar (runs done,
estimated time left) is shown on stderr when it is a terminal and ``progress=True``, and a
one-line summary at the end.

Example (runnable; the task function is ``exactprune.benchmarks.sweep:example_task``). Worker
processes are started with ``spawn``, which re-imports the main script: in a script file, put
the sweep under ``if __name__ == "__main__":``::

    import os, tempfile
    from exactprune.benchmarks.store import ResultStore
    from exactprune.benchmarks.sweep import Task, grid, run_sweep

    specs = grid({"n": [12, 16]}, seeds=3, solvers=["mitm", "bruteforce"],
                 experiment="demo")                       # 2 x 3 x 2 = 12 runs
    tasks = [Task("exactprune.benchmarks.sweep:example_task", s) for s in specs]
    path = os.path.join(tempfile.mkdtemp(), "results.sqlite")
    with ResultStore(path) as store:
        records = run_sweep(tasks, store, jobs=2)          # runs all 12
        again = run_sweep(tasks, store, jobs=2)            # runs none: all read back
    assert [r["objective"] for r in records] == [r["objective"] for r in again]

The same from the command line, and what is in the store::

    exactprune results summary --store results.sqlite
    exactprune results export --store results.sqlite --format csv -o results.csv

A TOML sweep file (:func:`load_grid_toml`) gives the same arguments as :func:`grid`::

    experiment = "subset_sum_scaling"
    base_seed = 0
    seeds = 10                      # trials 0..9 (or a list of trial indices)
    solvers = ["mitm", "cpsat"]
    # seed_params = ["n"]           # parameters the instance seed depends on (default: all)
    [params]
    n = [16, 20, 24]
    low = -1.0                      # a single value
    [options]                       # copied into every spec
    time_limit = 60

Running on a Dask cluster. Every machine needs the same Python environment (exactprune and the
module of the task function installed). Start a scheduler and workers, one solver thread each::

    dask scheduler --port 8786                                   # on the head machine
    dask worker tcp://HEAD:8786 --nworkers 8 --nthreads 1        # on each compute machine

then pass ``scheduler="tcp://HEAD:8786"`` to :func:`run_sweep` (``--scheduler tcp://HEAD:8786``
on the command line). The store stays on the machine that runs the sweep; only it writes.
``timeout`` is not enforced on Dask (a worker thread cannot be killed); a worker that dies is
retried by Dask, and after Dask's ``allowed-failures`` the run is stored as an error.
"""

from __future__ import annotations

import argparse
import hashlib
import importlib
import io
import itertools
import json
import multiprocessing
import operator
import os
import re
import socket
import sys
import threading
import time
import tomllib
import traceback
from collections import Counter, deque
from collections.abc import Callable
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from exactprune.benchmarks.isolated import kill_group, lead_own_group
from exactprune.benchmarks.store import EXPORT_FORMATS, ResultStore, canonical_json
from exactprune.instances.errors import InputError
from exactprune.instances.io import dumps
from exactprune.instances.params import nonneg_int, positive_float, positive_int

__all__ = [
    "Task",
    "add_sweep_arguments",
    "example_task",
    "grid",
    "grid_kwargs_from_args",
    "instance_seed",
    "load_grid_toml",
    "register_cli",
    "run_sweep",
    "stable_ints",
    "task_slots",
]

ERROR = "error"
KILLED = "killed"
_CRASH = ("worker process died while running this task (os._exit, a crash in native code, or "
          "out of memory)")


# -- specs and seeds ------------------------------------------------------------------------
@dataclass(frozen=True)
class Task:
    """One run: the task function ``"package.module:function"``, called as ``fn(spec)`` in a
    worker, and its JSON-serialisable spec (which must contain ``"experiment"``)."""

    fn: str
    spec: dict


def stable_ints(obj: Any) -> list[int]:
    """Eight 32-bit integers from the sha256 of the canonical JSON of `obj`: the same on every
    machine, Python version and dict order (unlike ``hash()``)."""
    digest = hashlib.sha256(canonical_json(obj).encode("ascii")).digest()
    return [int.from_bytes(digest[i:i + 4], "little") for i in range(0, 32, 4)]


def instance_seed(base_seed: int, params: dict, trial: int) -> int:
    """The seed of instance (`params`, `trial`): a 63-bit non-negative integer drawn by
    ``SeedSequence([base_seed, *stable_ints(params), trial])``.

    Depends only on these three, never on a position in a grid. Note that JSON tells ``1`` from
    ``1.0``, so ``{"n": 20}`` and ``{"n": 20.0}`` get different seeds. Solvers that need a 31-bit
    seed can use ``seed % 2**31``.
    """
    for name, value in (("base_seed", base_seed), ("trial", trial)):
        if isinstance(value, bool) or not isinstance(value, int | np.integer) or value < 0:
            raise InputError(f"{name} must be a non-negative integer, got {value!r}")
    if not isinstance(params, dict):
        raise InputError(f"params must be a dict, got {type(params).__name__}")
    ss = np.random.SeedSequence([int(base_seed), *stable_ints(params), int(trial)])
    return int(ss.generate_state(1, dtype=np.uint64)[0] >> np.uint64(1))


def grid(params: dict[str, list], seeds: int | list[int], solvers: list[str] | None = None,
         base_seed: int = 0, *, experiment: str | None = None, options: dict | None = None,
         seed_params: list[str] | None = None) -> list[dict]:
    """The cartesian product params x trials x solvers as a list of spec dicts.

    `params`: name -> list of values (in that order; the first name varies slowest).
    `seeds`: a number of trials (``range(seeds)``) or a list of trial indices. `solvers`: one
    spec per solver for each instance (solver innermost, so one instance's runs are adjacent);
    None for no "solver" field. Each spec is ``{"params": {...}, "trial": t, "seed":
    instance_seed(base_seed, seeded params, t)}`` plus ``"solver"``, ``"experiment"`` and
    ``"options"`` when given. `seed_params`: the parameter names the seed depends on (default
    all): every solver of an instance, and every value of a left-out parameter, share a seed.
    """
    if not isinstance(params, dict) or not params:
        raise InputError("params must be a non-empty dict of name -> list of values")
    for name, values in params.items():
        if not isinstance(name, str):
            raise InputError(f"parameter names must be strings, got {name!r}")
        if not isinstance(values, list | tuple) or len(values) == 0:
            raise InputError(f"parameter {name!r} needs a non-empty list of values")
    if isinstance(seeds, bool):
        raise InputError(f"seeds must be a count or a list of trial indices, got {seeds!r}")
    if isinstance(seeds, int | np.integer):
        if seeds < 1:
            raise InputError(f"seeds must be >= 1, got {seeds}")
        trials = list(range(int(seeds)))
    elif isinstance(seeds, list | tuple) and len(seeds) > 0:
        trials = list(seeds)
    else:
        raise InputError(f"seeds must be a count or a non-empty list of trial indices, got "
                         f"{seeds!r}")
    if solvers is not None and (isinstance(solvers, str) or len(solvers) == 0
                                or not all(isinstance(s, str) for s in solvers)):
        raise InputError(f"solvers must be a non-empty list of names, got {solvers!r}")
    if seed_params is not None:
        unknown = [p for p in seed_params if p not in params]
        if unknown:
            raise InputError(f"seed_params names unknown parameters: {', '.join(unknown)}")
    if options is not None and not isinstance(options, dict):
        raise InputError(f"options must be a dict, got {type(options).__name__}")
    # a repeated value, trial or solver would be the same run twice, counted twice
    for what, values in [*((f"parameter {n!r}", list(v)) for n, v in params.items()),
                         ("seeds", trials), ("solvers", list(solvers or []))]:
        twice = [v for i, v in enumerate(values) if v in values[:i]]
        if twice:
            raise InputError(f"{what} lists {twice[0]!r} twice")
    names = list(params)
    specs: list[dict] = []
    for combo in itertools.product(*(params[n] for n in names)):
        point = dict(zip(names, combo, strict=True))
        seeded = point if seed_params is None else {n: point[n] for n in seed_params}
        for trial in trials:
            seed = instance_seed(base_seed, seeded, trial)
            for solver in (solvers if solvers is not None else [None]):
                spec: dict[str, Any] = {"params": dict(point), "trial": int(trial), "seed": seed}
                if solver is not None:
                    spec["solver"] = solver
                if experiment is not None:
                    spec["experiment"] = experiment
                if options is not None:
                    spec["options"] = dict(options)
                specs.append(spec)
    return specs


_TOML_KEYS = ("params", "seeds", "solvers", "base_seed", "experiment", "options", "seed_params")


def load_grid_toml(path: str | os.PathLike[str]) -> dict:
    """Read a TOML sweep file (format in the module docstring) into keyword arguments of
    :func:`grid`: ``params`` (each scalar becomes a one-value list), ``seeds`` (default 1),
    ``solvers``, ``base_seed``, ``experiment``, ``options``, ``seed_params`` (absent keys are
    left out). Unknown keys, a missing file and invalid TOML are InputErrors."""
    from exactprune.instances.io import read_bytes

    p = Path(path)
    try:
        data = tomllib.loads(read_bytes(p).decode("utf-8"))
    except UnicodeDecodeError:
        raise InputError(f"{p} is not UTF-8 text") from None
    except tomllib.TOMLDecodeError as exc:
        raise InputError(f"{p} is not valid TOML: {exc}") from None
    except RecursionError:
        raise InputError(f"{p}: TOML nested too deeply to read") from None
    unknown = sorted(set(data) - set(_TOML_KEYS))
    if unknown:
        raise InputError(f"{p}: unknown keys {', '.join(unknown)} (allowed: "
                         f"{', '.join(_TOML_KEYS)})")
    if not isinstance(data.get("params"), dict) or not data["params"]:
        raise InputError(f"{p}: needs a non-empty [params] table")
    out: dict[str, Any] = {
        "params": {k: (list(v) if isinstance(v, list) else [v]) for k, v in data["params"].items()},
        "seeds": data.get("seeds", 1),
    }
    for key in ("solvers", "base_seed", "experiment", "options", "seed_params"):
        if key in data:
            out[key] = data[key]
    if isinstance(out.get("solvers"), str):
        out["solvers"] = [out["solvers"]]
    if "options" in out and not isinstance(out["options"], dict):
        raise InputError(f"{p}: options must be a table of name = value")
    if "experiment" in out and not (isinstance(out["experiment"], str)
                                    and out["experiment"].strip()):
        raise InputError(f"{p}: experiment must be a non-empty string")
    if "seed_params" in out and not (isinstance(out["seed_params"], list)
                                     and all(isinstance(n, str) for n in out["seed_params"])):
        raise InputError(f"{p}: seed_params must be a list of parameter names")
    try:  # TOML dates and times are not JSON: reject them now, with the file's name
        canonical_json(out)
    except InputError as exc:
        raise InputError(f"{p}: {exc}") from None
    return out


# -- command-line flags for a grid (for the commands that run sweeps) -----------------------
def _scalar(text: str) -> Any:
    """A flag value as bool, int, float or string."""
    low = text.strip().lower()
    if low in ("true", "false"):
        return low == "true"
    for conv in (int, float):
        try:
            return conv(text)
        except ValueError:
            pass
    return text.strip()


def parse_param(text: str) -> tuple[str, list]:
    """``NAME=V1,V2,...`` -> (NAME, [values]) with each value read as bool, int, float or str."""
    name, sep, raw = text.partition("=")
    if not sep or not name.strip() or not raw.strip():
        raise InputError(f"--param takes NAME=V1,V2,..., got {text!r}")
    return name.strip(), [_scalar(v) for v in raw.split(",")]


def add_sweep_arguments(parser: argparse.ArgumentParser) -> None:
    """Add the flags of a sweep to a command: --grid FILE.toml, --param NAME=V1,V2 (repeatable),
    --seeds, --base-seed, --solvers, --experiment, --store, --jobs, --scheduler, --timeout,
    --retry-killed, --no-progress. Read them back with :func:`grid_kwargs_from_args`."""
    g = parser.add_argument_group("sweep")
    g.add_argument("--grid", default=None, metavar="FILE.toml", help="a TOML sweep file")
    g.add_argument("--param", action="append", default=[], metavar="NAME=V1,V2",
                   help="a grid parameter and its values (repeatable; overrides --grid)")
    g.add_argument("--seeds", type=positive_int, default=None, help="trials per grid point")
    g.add_argument("--base-seed", type=nonneg_int, default=None)
    g.add_argument("--solvers", default=None, help="comma-separated solver names")
    g.add_argument("--experiment", default=None, help="experiment name stored with each run")
    g.add_argument("--store", default=None, metavar="FILE.sqlite",
                   help="results store: finished runs are skipped when the sweep runs again")
    g.add_argument("--jobs", type=nonneg_int, default=1,
                   help="cores to fill (worker processes; 0: in this process); a run whose "
                   "spec asks for N threads fills N of them")
    g.add_argument("--scheduler", default=None, type=scheduler_flag, metavar="tcp://HOST:PORT",
                   help="run on this Dask distributed scheduler instead of local processes")
    g.add_argument("--timeout", type=positive_float, default=None,
                   help="kill a run after this many seconds, stored as status killed (local "
                        "worker processes only: not with --jobs 0 or --scheduler)")
    g.add_argument("--retry-killed", action="store_true",
                   help="run again the stored runs that --timeout killed (e.g. after raising "
                        "it); runs that ended with an error are always run again")
    g.add_argument("--no-progress", dest="progress", action="store_false",
                   help="no progress bar or summary line")


def grid_kwargs_from_args(args: argparse.Namespace) -> dict:
    """Keyword arguments of :func:`grid` from the flags of :func:`add_sweep_arguments`: the
    TOML file first (if any), then each flag given on the command line overrides it."""
    kw: dict[str, Any] = load_grid_toml(args.grid) if args.grid else {"params": {}, "seeds": 1}
    given: set[str] = set()
    for text in args.param:  # a flag overrides the file's values; twice in one command is a slip
        name, values = parse_param(text)
        if name in given:
            raise InputError(f"--param {name} is given twice: list all its values in one flag, "
                             f"{name}=V1,V2,...")
        given.add(name)
        kw["params"][name] = values
    if args.seeds is not None:
        kw["seeds"] = args.seeds
    if args.base_seed is not None:
        kw["base_seed"] = args.base_seed
    if args.solvers is not None:
        kw["solvers"] = [s.strip() for s in args.solvers.split(",") if s.strip()]
    if args.experiment is not None:
        if not args.experiment.strip():
            raise InputError("--experiment must be a non-empty name")
        kw["experiment"] = args.experiment
    if not kw["params"]:
        raise InputError("a sweep needs parameters: --grid FILE.toml or --param NAME=V1,V2")
    return kw


# -- the worker side ------------------------------------------------------------------------
def _load_fn(fn: str) -> Callable[[dict], Any]:
    module, sep, attr = fn.partition(":")
    if not sep or not module or not attr:
        raise ValueError(f"task function must be 'package.module:function', got {fn!r}")
    obj = operator.attrgetter(attr)(importlib.import_module(module))
    if not callable(obj):
        raise TypeError(f"{fn} is not callable")
    return obj


def _error_record(message: str, wall_time_s: float, tb: str | None = None) -> dict:
    record: dict[str, Any] = {"status": ERROR, "error": message, "wall_time_s": wall_time_s}
    if tb:
        record["traceback"] = tb
    return record


def _run_task(fn: str, spec: dict) -> str:
    """Run one task (in a worker) and return its record as JSON text; never raises for a
    failure of the task itself."""
    t0 = time.perf_counter()
    try:
        out = _load_fn(fn)(spec)
        if not isinstance(out, dict):
            raise TypeError(f"task function returned {type(out).__name__}, not a dict")
        record = dict(out)
        record["status"] = str(record.get("status", "ok")) or "ok"
        record.setdefault("wall_time_s", time.perf_counter() - t0)
    except (Exception, SystemExit) as exc:
        record = _error_record(f"{type(exc).__name__}: {exc}", time.perf_counter() - t0,
                               traceback.format_exc(limit=-20))
    try:
        if not isinstance(record["wall_time_s"], int | float):
            raise TypeError(f"wall_time_s must be a number, got {record['wall_time_s']!r}")
        return dumps(record)
    except (TypeError, ValueError) as exc:
        return dumps(_error_record(f"task result is not JSON-serialisable: {exc}",
                                   time.perf_counter() - t0))


def _watch_parent(parent_pid: int) -> None:
    while True:
        time.sleep(1.0)
        if os.getppid() != parent_pid:  # the sweep was killed: do not linger as an orphan,
            kill_group(os.getpid())    # nor leave a solver process (CBC) running
            os._exit(1)


def _worker_init(parent_pid: int) -> None:
    """Worker start-up: one BLAS/OpenMP thread unless the environment says otherwise (effective
    for libraries loaded after this point); its own process group, so that killing a run also
    kills the processes it started (PuLP runs CBC as a child process); and exit when the
    parent dies (e.g. SIGKILL) instead of idling forever."""
    for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ.setdefault(var, "1")
    lead_own_group()
    threading.Thread(target=_watch_parent, args=(parent_pid,), daemon=True).start()


# -- the parent side ------------------------------------------------------------------------
class _Progress:
    """tqdm bar on stderr (if a terminal) with counts per status, and the final summary line."""

    def __init__(self, total: int, initial: int, desc: str, enabled: bool) -> None:
        self.desc, self.enabled, self.total, self.initial = desc, enabled, total, initial
        self.counts: Counter[str] = Counter()
        self.t0 = time.monotonic()
        self.bar: Any = None
        if enabled and total > initial:
            try:
                from tqdm import tqdm
            except ImportError:  # pragma: no cover - tqdm is a base dependency
                tqdm = None
            if tqdm is not None:
                self.bar = tqdm(total=total, initial=initial, desc=desc, unit="run",
                                file=sys.stderr, disable=None, dynamic_ncols=True,
                                smoothing=0.05)

    def update(self, status: str) -> None:
        self.counts[status] += 1
        if self.bar is not None:
            self.bar.set_postfix_str(self._counts(), refresh=False)
            self.bar.update(1)

    def _counts(self) -> str:
        return ", ".join(f"{s} {n}" for s, n in sorted(self.counts.items())) or "none"

    def close(self, stopped: bool = False) -> None:
        if self.bar is not None:
            self.bar.close()
        if self.enabled:
            ran = sum(self.counts.values())
            head = "stopped" if stopped else "done"
            tail = "; run it again to resume" if stopped and ran < self.total - self.initial \
                else ""
            print(f"{self.desc}: {head}: {self.total} runs, {self.initial} already stored, "
                  f"{ran} run ({self._counts()}) in {time.monotonic() - self.t0:.1f} s{tail}",
                  file=sys.stderr)


Finish = Callable[[str, dict], None]


def run_sweep(tasks: list[Task], store: ResultStore | str | os.PathLike[str] | None = None,
              jobs: int = 1, scheduler: str | None = None, progress: bool = True,
              desc: str = "sweep", *, timeout: float | None = None,
              retry_errors: bool = True, retry_killed: bool = False) -> list[dict]:
    """Run every task not yet finished in `store`; return the records of ALL tasks, in task
    order (stored ones read back; tasks with equal specs are run once).

    `jobs`: worker processes, i.e. the cores to fill (0: run in this process); a run asking
    for t threads (``spec["threads"]``) fills min(t, jobs) of them. `scheduler`: a Dask
    scheduler address (``tcp://HOST:PORT``) to run on instead; runs are packed there too when
    every worker declares its cores (``dask worker ADDR --nthreads N --resources cores=N``:
    a run fills min(t, N) of a worker's cores), else one run per worker thread. `timeout`:
    seconds after which a local run is killed (status ``"killed"``). `retry_errors`: run
    stored ``"error"`` rows again; `retry_killed`: run stored ``"killed"`` rows again. Each
    result is stored as soon as it arrives. Every record holds ``"status"`` and
    ``"wall_time_s"``. Bad tasks or arguments raise InputError before
    anything runs. `store` may be a path: the SQLite store is then opened here and closed at
    the end.
    """
    if isinstance(store, str | os.PathLike):
        created = not Path(store).exists()
        empty = False
        try:
            with ResultStore(store) as opened:
                try:
                    return run_sweep(tasks, opened, jobs, scheduler, progress, desc,
                                     timeout=timeout, retry_errors=retry_errors,
                                     retry_killed=retry_killed)
                except InputError:
                    empty = not opened.keys()
                    raise
        except InputError:  # bad input found before any run: leave no store this call made
            if created and empty:
                for suffix in ("", "-wal", "-shm", "-journal"):
                    Path(f"{os.fspath(store)}{suffix}").unlink(missing_ok=True)
            raise
    if isinstance(jobs, bool) or not isinstance(jobs, int) or jobs < 0:
        raise InputError(f"jobs must be an integer >= 0, got {jobs!r}")
    if timeout is not None and not (isinstance(timeout, int | float) and timeout > 0):
        raise InputError(f"timeout must be a positive number of seconds, got {timeout!r}")
    keys: list[str] = []
    fns: dict[str, str] = {}
    for task in tasks:
        if not isinstance(task, Task):
            raise InputError(f"run_sweep takes Task objects, got {type(task).__name__}")
        if not isinstance(task.spec, dict) or "experiment" not in task.spec:
            raise InputError(f"a task spec must be a dict with an 'experiment', got {task.spec!r}")
        key = ResultStore.key(task.spec)
        if fns.setdefault(key, task.fn) != task.fn:
            raise InputError(f"two tasks have the same spec but different functions "
                             f"({fns[key]} and {task.fn}): {task.spec!r}")
        keys.append(key)

    rerun = {s for s, again in ((ERROR, retry_errors), (KILLED, retry_killed)) if again}
    results: dict[str, dict] = {}
    todo: dict[str, Task] = {}
    for key, task in zip(keys, tasks, strict=True):
        if key in results or key in todo:
            continue
        row = store.get(key) if store is not None else None
        if row is not None and row["status"] not in rerun:
            results[key] = row["record"]
        else:
            todo[key] = task
    for fn in sorted({t.fn for t in todo.values()}):
        try:
            _load_fn(fn)
        except Exception as exc:
            raise InputError(f"cannot load task function {fn!r}: {type(exc).__name__}: "
                             f"{exc}") from None

    client = _connect(scheduler) if scheduler is not None and todo else None
    bar = _Progress(len(results) + len(todo), len(results), desc, progress)

    def finish(key: str, record: dict) -> None:
        record["status"] = str(record.get("status") or ERROR)
        if not isinstance(record.get("wall_time_s"), int | float):
            record["wall_time_s"] = None
        if store is not None:
            store.put(key, todo[key].spec, record["status"], record, record["wall_time_s"])
        results[key] = record
        bar.update(record["status"])

    try:
        items = list(todo.items())
        if not items:
            pass
        elif client is not None:
            _run_dask(items, client, finish)
        elif jobs == 0:
            for key, task in items:
                finish(key, json.loads(_run_task(task.fn, task.spec)))
        else:
            _run_local(items, jobs, finish, timeout)
    except BaseException:
        bar.close(stopped=True)
        raise
    bar.close()
    return [results[k] for k in keys]


def _kill_workers(pool: ProcessPoolExecutor) -> None:
    procs = getattr(pool, "_processes", None) or {}  # private, but in CPython 3.8 .. 3.13
    for proc in list(procs.values()):
        kill_group(proc.pid)
        try:
            proc.kill()
        except Exception:  # already gone
            pass


def _run_local(items: list[tuple[str, Task]], jobs: int, finish: Finish,
               timeout: float | None) -> None:
    """Worker processes; a pool broken by a dying worker is replaced, and the runs that were in
    flight are re-run one at a time to find (and store as an error) the one that died."""
    queue = deque(items)
    while queue:
        suspects = _run_pool(queue, jobs, finish, timeout)
        if len(suspects) == 1:
            key, _, t0 = suspects[0]
            finish(key, _error_record(_CRASH, time.monotonic() - t0))
        else:
            for key, task, _ in suspects:
                again = _run_pool(deque([(key, task)]), 1, finish, timeout)
                if again:
                    finish(key, _error_record(_CRASH, time.monotonic() - again[0][2]))


def task_slots(spec: dict, workers: int) -> int:
    """How many of a local sweep's `workers` slots (cores) a run fills: the threads its spec
    asks for (``spec["threads"]``, or ``spec["options"]["threads"]`` as `exactprune bench`
    writes them; default 1), at most all of them. So with ``jobs=2`` two one-thread solves run
    side by side, but an 8-worker CP-SAT solve runs alone instead of sharing the two cores
    with another solve."""
    options = spec.get("options")
    threads = spec.get("threads", options.get("threads", 1) if isinstance(options, dict) else 1)
    if isinstance(threads, bool) or not isinstance(threads, int) or threads < 1:
        return 1
    return min(threads, max(workers, 1))


def _next_fitting(queue: deque[tuple[str, Task]], workers: int,
                  busy: int) -> tuple[str, Task] | None:
    """Remove and return the first queued run that fits in the slots `busy` leaves free (so
    narrow runs go ahead of a wide one waiting for the slots to empty), or None."""
    for i, (_, task) in enumerate(queue):
        if busy + task_slots(task.spec, workers) <= workers:
            item = queue[i]
            del queue[i]
            return item
    return None


def _run_pool(queue: deque[tuple[str, Task]], workers: int, finish: Finish,
              timeout: float | None) -> list[tuple[str, Task, float]]:
    """Run tasks from `queue` in one pool until it is empty, or until the pool breaks (returns
    the runs that were in flight then), or a run times out (it is stored as killed, the runs in
    flight beside it go back to the front of the queue, and this returns [])."""
    pool = ProcessPoolExecutor(max_workers=workers, mp_context=multiprocessing.get_context(
        "spawn"), initializer=_worker_init, initargs=(os.getpid(),))
    inflight: dict[Future[str], tuple[str, Task, float]] = {}
    try:
        while queue or inflight:
            # at most one run per worker in flight (a broken pool then tells which runs it
            # hit), and a run asking for several threads fills as many slots
            while (nxt := _next_fitting(queue, workers, sum(
                    task_slots(t.spec, workers) for _, t, _ in inflight.values()))) is not None:
                key, task = nxt
                inflight[pool.submit(_run_task, task.fn, task.spec)] = (key, task,
                                                                        time.monotonic())
            done, _ = wait(inflight, timeout=None if timeout is None else 0.25,
                           return_when=FIRST_COMPLETED)
            broken = False
            for fut in done:
                key, task, t0 = inflight.pop(fut)
                try:
                    text = fut.result()
                except BrokenProcessPool:
                    inflight[fut] = (key, task, t0)
                    broken = True
                    continue
                except Exception as exc:  # e.g. the spec could not be pickled
                    finish(key, _error_record(f"{type(exc).__name__}: {exc}",
                                              time.monotonic() - t0))
                    continue
                finish(key, json.loads(text))
            if broken:
                return list(inflight.values())
            if timeout is not None:
                now = time.monotonic()
                overdue = [f for f, (_, _, t0) in inflight.items() if now - t0 > timeout]
                if overdue:
                    _kill_workers(pool)
                    for fut, (key, task, t0) in list(inflight.items()):
                        if fut.done() and not fut.cancelled() and fut.exception() is None:
                            finish(key, json.loads(fut.result()))
                        elif fut in overdue:
                            finish(key, {"status": KILLED, "wall_time_s": now - t0,
                                         "error": f"killed after the sweep's timeout of "
                                                  f"{timeout:g} s"})
                        else:
                            queue.appendleft((key, task))
                    inflight.clear()
                    return []
        return []
    except BaseException:
        _kill_workers(pool)
        raise
    finally:
        pool.shutdown(wait=True, cancel_futures=True)


_SCHEDULER = re.compile(r"^(tcp|tls|ws|wss|inproc|ucx)://[^\s/]+(/\S*)?$")
CONNECT_TIMEOUT_S = 10


def check_scheduler_address(scheduler: Any) -> str:
    """The scheduler address, or InputError unless it looks like PROTOCOL://HOST:PORT."""
    if not isinstance(scheduler, str) or not _SCHEDULER.match(scheduler):
        raise InputError(f"scheduler must be an address like tcp://HOST:8786, got {scheduler!r}")
    port = re.search(r":(\d+)(/|$)", scheduler.split("://", 1)[1])
    if port is not None and not 0 < int(port.group(1)) < 65536:
        raise InputError(f"scheduler port must be 1..65535, got {port.group(1)}")
    return scheduler


def scheduler_flag(text: str) -> str:
    """argparse type of --scheduler: an address another process can reach (inproc:// names a
    scheduler inside the calling Python process, which a command never has)."""
    if text.startswith("inproc://"):
        raise argparse.ArgumentTypeError("inproc:// reaches a scheduler in the same Python "
                                         "process only; give tcp://HOST:PORT")
    try:
        return check_scheduler_address(text)
    except InputError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def _connect(scheduler: str) -> Any:
    """A Dask client, or InputError after at most CONNECT_TIMEOUT_S seconds (one line: no
    background traceback at exit)."""
    try:
        from distributed import Client
    except ImportError:
        raise InputError("running on a Dask scheduler needs dask.distributed: install "
                         "exactprune[distributed]") from None
    check_scheduler_address(scheduler)
    try:
        _probe_tcp(scheduler)
        return Client(scheduler, timeout=CONNECT_TIMEOUT_S, set_as_default=False)
    except Exception as exc:  # OSError, TimeoutError, ValueError, CommClosedError, ...
        reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise InputError(f"cannot connect to the Dask scheduler at {scheduler}: "
                         f"{reason[:200]}") from None


def _probe_tcp(scheduler: str) -> None:
    """Raise OSError at once when nothing listens at a tcp:// scheduler address (a typo in the
    port): Dask's client retries a refused connection until its timeout (10 s)."""
    from distributed.comm.addressing import parse_address, parse_host_port

    protocol, location = parse_address(scheduler)
    if protocol in ("tcp", "tls"):  # both listen on a TCP port
        with socket.create_connection(parse_host_port(location, default_port=8786),
                                      timeout=CONNECT_TIMEOUT_S):
            pass


def worker_cores(client: Any) -> int | None:
    """The cores each worker of a Dask cluster offers for packing, or None: the smallest
    ``cores`` resource over its workers when every worker declares one (``dask worker ...
    --resources cores=N``), else None (then runs are not packed: a task asking for a resource
    no worker has would never start)."""
    try:
        info = client.scheduler_info(n_workers=-1)  # every worker (newer Dask lists 5 by default)
    except TypeError:  # older Dask: no n_workers, lists every worker
        info = client.scheduler_info()
    workers = info.get("workers", {})
    cores = [w.get("resources", {}).get("cores") for w in workers.values()]
    if not cores or any(not isinstance(c, int | float) or c < 1 for c in cores):
        return None
    return int(min(cores))


def _run_dask(items: list[tuple[str, Task]], client: Any, finish: Finish) -> None:
    from distributed import as_completed

    try:
        started = time.monotonic()
        cores = worker_cores(client)
        futures = {client.submit(_run_task, task.fn, task.spec, pure=False,
                                 resources=None if cores is None else
                                 {"cores": task_slots(task.spec, cores)}): key
                   for key, task in items}
        for fut in as_completed(futures, loop=client.loop):
            key = futures[fut]
            try:
                record = json.loads(fut.result())
            except Exception as exc:  # KilledWorker (a worker died too often), lost data, ...
                record = _error_record(f"{type(exc).__name__}: {exc}",
                                       time.monotonic() - started)
            finish(key, record)
            fut.release()
    finally:
        client.close()


# -- example task function (used by the docstring example) ----------------------------------
def example_task(spec: dict) -> dict:
    """Solve a random subset-sum instance: params ``n`` (and optional ``low``/``high``), the
    spec's ``seed`` and ``solver``; returns status, certified, objective, kept, solver_version."""
    from exactprune.instances import generate_subset_sum
    from exactprune.solvers import solve

    p = spec["params"]
    inst = generate_subset_sum(int(p["n"]), seed=spec["seed"], low=p.get("low", -1.0),
                               high=p.get("high", 1.0))
    opts = spec.get("options", {})
    res = solve(inst, spec.get("solver", "auto"), time_limit=opts.get("time_limit"),
                threads=spec.get("threads", 1), seed=spec["seed"] % 2**31)
    return {"status": str(res.status), "certified": res.certified, "objective": res.objective,
            "kept": res.kept, "solver_version": res.solver_version,
            "wall_time_s": res.wall_time_s}


# -- `exactprune results ...` ---------------------------------------------------------------
def _cmd_results_export(args: argparse.Namespace) -> int:
    from exactprune.instances.io import check_output, write_text_atomic

    check_output(args.output, inputs=(args.store,))
    with ResultStore(args.store, create=False) as store:
        if args.experiment is not None:
            known = sorted({str(r["experiment"]) for r in store.summary()})
            if args.experiment not in known:
                raise InputError(f"no experiment {args.experiment!r} in {args.store} (it has: "
                                 f"{', '.join(known) or 'no runs'})")
        buf = io.StringIO()
        n = store.export(args.format, buf, experiment=args.experiment)
    if args.output is None or args.output == "-":
        sys.stdout.write(buf.getvalue())
    else:
        write_text_atomic(args.output, buf.getvalue())
    print(f"exported {n} runs", file=sys.stderr)
    return 0


def _cmd_results_summary(args: argparse.Namespace) -> int:
    with ResultStore(args.store, create=False) as store:
        rows = store.summary()
    if args.json:
        print(dumps(rows))
        return 0
    width = max([len(str(r["experiment"])) for r in rows] + [len("experiment")]) + 2
    print(f"{'experiment':<{width}}{'status':<14}{'runs':>8}{'wall_s':>14}")
    for r in rows:
        print(f"{str(r['experiment']):<{width}}{r['status']:<14}{r['runs']:>8}"
              f"{r['wall_time_s']:>14.1f}")
    total = sum(r["runs"] for r in rows)
    print(f"{'total':<{width}}{'':<14}{total:>8}"
          f"{sum(r['wall_time_s'] for r in rows):>14.1f}")
    return 0


def register_cli(subparsers: Any) -> None:
    """Add ``results export`` and ``results summary`` to the CLI's subparsers (the object
    returned by ``ArgumentParser.add_subparsers``). Handlers are set as ``func`` and return
    the exit code; a missing or foreign store file is an InputError (exit 2)."""
    res = subparsers.add_parser("results", help="inspect and export a sweep's results store")
    sub = res.add_subparsers(dest="results_command", required=True, metavar="{export,summary}")
    ex = sub.add_parser("export", help="write every stored run as CSV or JSON lines")
    ex.add_argument("--store", required=True, metavar="FILE.sqlite")
    ex.add_argument("--format", choices=list(EXPORT_FORMATS), default="csv")
    ex.add_argument("--experiment", default=None, help="only this experiment's runs")
    ex.add_argument("-o", "--output", default=None, help="output file (default: stdout)")
    ex.set_defaults(func=_cmd_results_export)
    sm = sub.add_parser("summary", help="number of runs per experiment and status")
    sm.add_argument("--store", required=True, metavar="FILE.sqlite")
    sm.add_argument("--json", action="store_true")
    sm.set_defaults(func=_cmd_results_summary)

