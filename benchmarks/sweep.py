"""Sweeps: run a grid of (parameters x seeds x solvers) in parallel, resumably, into SQLite.

A sweep is a list of :class:`Task` objects, each a task function (``"package.module:function"``)
and a JSON-serialisable ``spec`` that must name its ``"experiment"``.
:func:`exactprune.benchmarks.sweep_grid.grid` builds the specs of a cartesian product;
:func:`run_sweep` runs every task whose key (sha256 of the spec's canonical JSON,
:meth:`ResultStore.key`) is not yet in the store, stores each result the moment it comes back
(one committed SQLite transaction per run), and returns the records of all tasks in task order.
Kill the sweep at any moment (Ctrl-C, ``kill -9``, a lost machine) and run it again: finished
runs are read back from the store and only the rest is run.

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
  started in its worker (the worker's own start-up not counted; a run that has not started
  ``START_GRACE_S`` seconds past the timeout counts as started when it was handed over) is
  killed and stored with status ``"killed"``. Its neighbours in flight are killed with it (a
  pool cannot kill one worker) and re-run.

On the next run of the same sweep, rows with status ``"error"`` are run again (so a fixed bug or
a lost worker is retried) unless ``retry_errors=False``; rows with status ``"killed"`` are run
again only with ``retry_killed=True`` (``--retry-killed``: after raising ``--timeout``); every
other status counts as finished.

Modules: grids, seeds, TOML grid files and the flags: ``sweep_grid``; what a worker runs:
``sweep_worker``; Dask: ``sweep_dask``; ``exactprune results``: ``results_cli``.

Execution. ``jobs=N`` (default 1) runs tasks in N worker processes (``spawn`` context; only the
parent writes to SQLite), N being the cores to fill: a run whose spec asks for t threads
(``spec["threads"]``) fills min(t, N) of them (``sweep_worker.task_slots``), so one-thread runs
go N at a time and a multi-threaded solve never shares its cores with another run. ``jobs=0``
runs them in this process, one after the other (no crash isolation; for debugging).
``scheduler="tcp://HOST:PORT"`` sends the same tasks to a running Dask distributed cluster
instead (``pip install 'exactprune[distributed]'``; runs are packed by threads there when
every worker declares its cores as a resource, ``--resources cores=N``, see ``sweep_dask``);
results stream back as they complete and are stored one by one. A tqdm progress bar (runs done,
estimated time left) is shown on stderr when it is a terminal and ``progress=True``, and a
one-line summary at the end.

Example (runnable; the task function is ``exactprune.benchmarks.sweep:example_task``). Worker
processes are started with ``spawn``, which re-imports the main script: in a script file, put
the sweep under ``if __name__ == "__main__":``::

    import os, tempfile
    from exactprune.benchmarks.store import ResultStore
    from exactprune.benchmarks.sweep import Task, run_sweep
    from exactprune.benchmarks.sweep_grid import grid

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

import json
import multiprocessing
import os
import sys
import time
from collections import Counter, deque
from collections.abc import Callable, Iterable
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass
from typing import Any

from exactprune.benchmarks.isolated import (
    kill_group,
    reap_dead_scratch_folders,
    scratch_folder,
)
from exactprune.benchmarks.store import ResultStore
from exactprune.benchmarks.sweep_dask import checked_jobs
from exactprune.benchmarks.sweep_worker import (
    CRASH,
    ERROR,
    KILLED,
    error_record,
    load_fn,
    run_started_task,
    run_task,
    task_slots,
    worker_init,
)
from exactprune.instances.errors import InputError
from exactprune.instances.params import as_flag, as_number
from exactprune.invocation import check_workers_can_start
from exactprune.termination import raise_if_interrupted, signals_held

__all__ = ["Task", "example_task", "run_sweep"]

POLL_S = 0.25
"""Seconds between the sweep's looks at its runs in flight (timeouts, a dropped SIGTERM)."""
START_GRACE_S = 60.0
"""How long past the timeout a run handed to a worker may wait to start (a new worker's
start-up) before it counts as overdue anyway: a worker stuck before its first run."""


# -- tasks ----------------------------------------------------------------------------------
@dataclass(frozen=True)
class Task:
    """One run: the task function ``"package.module:function"``, called as ``fn(spec)`` in a
    worker, and its JSON-serialisable spec (which must contain ``"experiment"``)."""

    fn: str
    spec: dict


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

    def close(self, stopped: bool = False, lost: int = 0) -> None:
        """The summary line; `lost`: runs stored as error because the Dask scheduler went
        away (a rerun resumes them, as after a stop)."""
        if self.bar is not None:
            self.bar.close()
        if self.enabled:
            ran = sum(self.counts.values())
            head = "stopped" if stopped or lost else "done"  # "done" beside the error line
            tail = "; run it again to resume" if stopped and ran < self.total - self.initial \
                else ""
            if lost and not stopped:  # hunt 105 L2
                tail = f"; {lost} lost with the Dask scheduler: run it again to resume them"
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
        from exactprune.instances.io import check_name_lengths

        check_name_lengths(store, "results store")  # exists() raises on a too long name
        # lazy: a new store's file appears with its first stored run, so bad input or Ctrl-C
        # before then leaves none, and no file is ever deleted (deleting "our empty" store
        # lost the runs of a sweep that had joined it meanwhile; hunt 17)
        try:
            opened = ResultStore(store, lazy=True)
        except InputError as cannot_write:
            # runs all stored need no writing: an archived store on a read-only mount
            # still answers (hunt 40 L2); a run to store is refused before any runs
            opened = ResultStore.read_only_instead(store, cannot_write)
        with opened:
            return run_sweep(tasks, opened, jobs, scheduler, progress, desc, timeout=timeout,
                             retry_errors=retry_errors, retry_killed=retry_killed)
    if store is not None and not isinstance(store, ResultStore):
        raise InputError(f"store must be a results store path or a ResultStore, got "
                         f"{type(store).__name__}")
    if isinstance(tasks, str | bytes | dict | Task) or not isinstance(tasks, Iterable):
        raise InputError(f"run_sweep takes a list of Task objects, got {type(tasks).__name__}")
    tasks = list(tasks)  # a generator was read twice (keys, then the tasks; hunt 31)
    jobs = checked_jobs(jobs)
    # 'no' was a true progress flag (hunt 99 L4): the on/off arguments are bools
    progress, retry_errors, retry_killed = (
        as_flag(progress, "progress"), as_flag(retry_errors, "retry_errors"),
        as_flag(retry_killed, "retry_killed"))
    if timeout is not None:
        timeout = as_number(timeout, "timeout", exact=False)
        if not timeout > 0:
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
    if todo and store is not None and store.write_error is not None:
        raise InputError(f"{store.write_error} ({len(todo)} runs of this sweep are not "
                         "stored yet)")
    for fn in sorted({t.fn for t in todo.values()}):
        try:
            load_fn(fn)
        except Exception as exc:
            raise InputError(f"cannot load task function {fn!r}: {type(exc).__name__}: "
                             f"{exc}") from None

    client = None
    if scheduler is not None and todo:
        from exactprune.benchmarks.sweep_dask import connect

        client = connect(scheduler)
    bar = _Progress(len(results) + len(todo), len(results), desc, progress)

    def finish(key: str, record: dict) -> None:
        record["status"] = str(record.get("status") or ERROR)
        if not isinstance(record.get("wall_time_s"), int | float):
            record["wall_time_s"] = None
        if store is not None:
            store.put(key, todo[key].spec, record["status"], record, record["wall_time_s"])
        results[key] = record
        bar.update(record["status"])

    lost, address = 0, ""
    try:
        items = list(todo.items())
        if not items:
            pass
        elif client is not None:
            from exactprune.benchmarks.sweep_dask import run_dask

            address = str(client.scheduler.address)
            lost = run_dask(items, client, finish)
        elif jobs == 0:
            # the scratch folders of sweeps killed outright are removed by every sweep, not
            # only by one that starts workers (hunt 210 L2)
            reap_dead_scratch_folders()
            for key, task in items:
                raise_if_interrupted()  # one whose exception Python dropped (hunt 219 M1)
                finish(key, json.loads(run_task(task.fn, task.spec)))
        else:
            check_workers_can_start(jobs)  # before any run is stored as an error
            _run_local(items, jobs, finish, timeout)
    except BaseException:
        bar.close(stopped=True)
        raise
    bar.close(lost=lost)
    if lost:
        from exactprune.benchmarks.sweep_dask import SchedulerLost

        raise SchedulerLost(address, lost, [results[k] for k in keys])
    return [results[k] for k in keys]


def _worker_pids(pool: ProcessPoolExecutor) -> set[int]:
    """The pids of the workers the pool lists now."""
    procs = getattr(pool, "_processes", None) or {}  # private, but in CPython 3.8 .. 3.13
    return set(procs)


def _kill_workers(pool: ProcessPoolExecutor, known: Iterable[int] = ()) -> None:
    """Kill every worker's process group (each worker leads one: what its run started, e.g.
    CBC, goes too), the workers the pool still lists and those seen before (`known`): a pool
    broken by a worker's death has forgotten its workers, and the CBC processes of the dead
    one and of the one the pool terminated ran on as orphans (hunt 40 F2)."""
    procs = getattr(pool, "_processes", None) or {}
    for pid in set(procs) | set(known):
        kill_group(pid, leader_may_be_gone=True)
    for proc in list(procs.values()):
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
            finish(key, error_record(CRASH, time.monotonic() - t0))
        else:
            for key, task, _ in suspects:
                again = _run_pool(deque([(key, task)]), 1, finish, timeout)
                if again:
                    finish(key, error_record(CRASH, time.monotonic() - again[0][2]))


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
    with scratch_folder() as scratch:  # removed after the pool, killed workers' files too
        return _run_pool_in(queue, workers, finish, timeout, scratch)


def _run_pool_in(queue: deque[tuple[str, Task]], workers: int, finish: Finish,
                 timeout: float | None, scratch: str) -> list[tuple[str, Task, float]]:
    context = multiprocessing.get_context("spawn")
    # (key, start time, worker pid) from the workers, `run_started_task`: a SimpleQueue
    # writes at once, where a Queue's writer thread waited for a GIL the task held, and the
    # run went unkilled until START_GRACE_S (hunt 89 H1)
    started = context.SimpleQueue()
    pool = ProcessPoolExecutor(max_workers=workers, mp_context=context,
                               initializer=worker_init, initargs=(os.getpid(), scratch, started))
    inflight: dict[Future[str], tuple[str, Task, float]] = {}
    starts: dict[str, tuple[float, int]] = {}  # key -> when its run started, in which worker
    known: set[int] = set()  # every worker pid seen (each leads its own process group)
    try:
        while queue or inflight:
            # a Ctrl-C or SIGTERM whose exception Python dropped (in a weakref callback as
            # the pool started: the sweep ran to its end, exit 0) stops the sweep within a
            # poll (hunt 219 M1)
            raise_if_interrupted()
            # at most one run per worker in flight (a broken pool then tells which runs it
            # hit), and a run asking for several threads fills as many slots
            while (nxt := _next_fitting(queue, workers, sum(
                    task_slots(t.spec, workers) for _, t, _ in inflight.values()))) is not None:
                key, task = nxt
                with signals_held():  # a worker's start is not cut off halfway (M2)
                    future = pool.submit(run_started_task, key, task.fn, task.spec)
                inflight[future] = (key, task, time.monotonic())
                known |= _worker_pids(pool)
            done, _ = wait(inflight, timeout=POLL_S, return_when=FIRST_COMPLETED)
            _drain_starts(started, starts)
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
                    finish(key, error_record(f"{type(exc).__name__}: {exc}",
                                              time.monotonic() - t0))
                    continue
                finish(key, json.loads(text))
            if broken:
                _kill_workers(pool, known)
                return list(inflight.values())
            if timeout is not None:
                now = time.monotonic()
                overdue = [f for f, (key, _, t0) in inflight.items()
                           if now - starts.get(key, (t0 + START_GRACE_S, 0))[0] > timeout]
                if overdue and any(_exited(pool, starts[key][1]) for key, _, _ in
                                   inflight.values() if key in starts):
                    # a worker died on its own, and the pool has not noticed yet: a crash,
                    # not a timeout (it was stored as killed, and not retried; hunt 92 M1)
                    _kill_workers(pool, known)
                    return list(inflight.values())
                if overdue:
                    _kill_workers(pool, known)
                    for fut, (key, task, t0) in list(inflight.items()):
                        if fut.done() and not fut.cancelled() and fut.exception() is None:
                            finish(key, json.loads(fut.result()))
                        elif fut in overdue:
                            ran = now - starts.get(key, (t0, 0))[0]
                            finish(key, {"status": KILLED, "wall_time_s": ran,
                                         "timeout_s": float(timeout),
                                         "error": f"killed after the sweep's timeout of "
                                                  f"{timeout:g} s"})
                        else:
                            queue.appendleft((key, task))
                    inflight.clear()
                    return []
        return []
    except BaseException:
        _kill_workers(pool, known)
        raise
    finally:
        pool.shutdown(wait=True, cancel_futures=True)
        started.close()


def _drain_starts(started: Any, starts: dict[str, tuple[float, int]]) -> None:
    """Read every start message the workers have sent so far into `starts`, key -> (start
    time, worker pid) (this process is the queue's one reader, so a message it sees is whole:
    each is one small pipe write)."""
    while not started.empty():
        key, at, pid = started.get()
        starts[key] = (at, pid)


def _exited(pool: ProcessPoolExecutor, pid: int) -> bool:
    """Whether the pool's worker `pid` has exited (or is no longer the pool's)."""
    procs = getattr(pool, "_processes", None) or {}
    proc = procs.get(pid)
    return proc is None or proc.exitcode is not None


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


