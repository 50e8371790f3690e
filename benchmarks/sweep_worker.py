"""The worker side of a sweep: import a task function, run it on one spec and return the record
as JSON text, never raising for a failure of the task itself (the parent,
:mod:`exactprune.benchmarks.sweep`, stores what comes back); and how many cores a run fills."""

from __future__ import annotations

import contextlib
import importlib
import operator
import os
import time
import traceback
from collections.abc import Callable
from typing import Any

from exactprune.benchmarks.isolated import kill_group, lead_own_group, use_scratch
from exactprune.instances.io import dumps
from exactprune.instances.params import is_integer
from exactprune.termination import exit_with_parent, let_signals_through

ERROR = "error"
KILLED = "killed"
CRASH = ("worker process died while running this task (os._exit, a crash in native code, or "
         "out of memory)")


def load_fn(fn: str) -> Callable[[dict], Any]:
    module, sep, attr = fn.partition(":")
    if not sep or not module or not attr:
        raise ValueError(f"task function must be 'package.module:function', got {fn!r}")
    obj = operator.attrgetter(attr)(importlib.import_module(module))
    if not callable(obj):
        raise TypeError(f"{fn} is not callable")
    return obj


def error_record(message: str, wall_time_s: float | None, tb: str | None = None) -> dict:
    """An error row; `wall_time_s` None when the run's own time is unknown (a run lost with
    its Dask worker)."""
    record: dict[str, Any] = {"status": ERROR, "error": message, "wall_time_s": wall_time_s}
    if tb:
        record["traceback"] = tb
    return record


def run_task(fn: str, spec: dict) -> str:
    """Run one task (in a worker) and return its record as JSON text; never raises for a
    failure of the task itself."""
    t0 = time.perf_counter()
    try:
        out = load_fn(fn)(spec)
        if not isinstance(out, dict):
            raise TypeError(f"task function returned {type(out).__name__}, not a dict")
        record = dict(out)
        record["status"] = str(record.get("status", "ok")) or "ok"
        record.setdefault("wall_time_s", time.perf_counter() - t0)
    except (Exception, SystemExit) as exc:
        record = error_record(f"{type(exc).__name__}: {exc}", time.perf_counter() - t0,
                               traceback.format_exc(limit=-20))
    try:
        if not isinstance(record["wall_time_s"], int | float):
            raise TypeError(f"wall_time_s must be a number, got {record['wall_time_s']!r}")
        return dumps(record)
    except (TypeError, ValueError) as exc:
        return dumps(error_record(f"task result is not JSON-serialisable: {exc}",
                                   time.perf_counter() - t0))


_started: Any = None  # the parent's queue of (key, start time, pid) messages (`worker_init`)


def worker_init(parent_pid: int, scratch: str | None = None, started: Any = None) -> None:
    """Worker start-up: one BLAS/OpenMP thread unless the environment says otherwise (effective
    for libraries loaded after this point); its own process group, so that killing a run also
    kills the processes it started (PuLP runs CBC as a child process); temporary files in the
    parent's `scratch` folder, which the parent removes even when it had to kill the worker;
    exit when the parent dies (e.g. SIGKILL) instead of idling forever; and `started`, a
    queue on which `run_started_task` tells the parent when each run starts."""
    global _started
    for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ.setdefault(var, "1")
    lead_own_group()
    let_signals_through()  # held by the sweep while it started this process (hunt 221 M1)
    if scratch is not None:
        use_scratch(scratch)
    _started = started
    # the sweep was killed: do not linger as an orphan, nor leave a solver process (CBC)
    exit_with_parent(parent_pid, last=lambda: kill_group(os.getpid()))


def run_started_task(key: str, fn: str, spec: dict) -> str:
    """`run_task`, first telling the parent that run `key` starts now, in this worker (its
    `time.monotonic()`, one clock for the processes of one machine, and its pid, by which the
    parent tells a crash from a timeout): a sweep's `--timeout` counts from here, not from the
    hand-over, which after a kill includes a new worker's start-up (1.5 s on a busy machine:
    runs of a millisecond were stored as killed; hunt 88 M2). The task function's module is
    imported first, as part of the start-up (a failure is `run_task`'s to report)."""
    if _started is not None:
        with contextlib.suppress(Exception):
            load_fn(fn)
        _started.put((key, time.monotonic(), os.getpid()))
    return run_task(fn, spec)


def task_slots(spec: dict, workers: int) -> int:
    """How many of a local sweep's `workers` slots (cores) a run fills: the threads its spec
    asks for (``spec["threads"]``, or ``spec["options"]["threads"]`` as `exactprune bench`
    writes them; default 1), at most all of them. So with ``jobs=2`` two one-thread solves run
    side by side, but an 8-worker CP-SAT solve runs alone instead of sharing the two cores
    with another solve."""
    options = spec.get("options")
    threads = spec.get("threads", options.get("threads", 1) if isinstance(options, dict) else 1)
    if not is_integer(threads) or threads < 1:  # np.int64 packed as 1 (hunt 149 M2)
        return 1
    return min(threads, max(workers, 1))
