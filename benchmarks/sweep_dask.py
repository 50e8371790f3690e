"""Sweeps on a Dask distributed cluster: the --scheduler address (checked by its flag type),
connecting with a bounded wait, packing runs by the cores workers declare, and streaming the
records back to the parent (:func:`exactprune.benchmarks.sweep.run_sweep` with
``scheduler=``), which stores them."""

from __future__ import annotations

import argparse
import contextlib
import json
import logging
import os
import re
import socket
import sys
from collections.abc import Callable, Iterator
from typing import Any

from exactprune.benchmarks.sweep_worker import error_record, run_task, task_slots
from exactprune.instances.errors import InputError

# inproc has a path; the others a port: without one Dask refused the address, which read as
# "answers, but not as a Dask scheduler" (hunt 105 L1)
_SCHEDULER = re.compile(r"^(inproc://\S+|(tcp|tls|ws|wss|ucx)://[^\s/]+:\d+)$")
CONNECT_TIMEOUT_S = 10


def check_scheduler_address(scheduler: Any) -> str:
    """The scheduler address, or InputError unless it looks like PROTOCOL://HOST:PORT."""
    if not isinstance(scheduler, str) or not _SCHEDULER.match(scheduler):
        raise InputError(f"scheduler must be an address like tcp://HOST:8786 (with its port), "
                         f"got {scheduler!r}")
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


MAX_JOBS = 1024
"""Most local worker processes (`--jobs`): one process per core to fill, each importing the
solvers (~100 MB); 2^31 - 1 overflowed the process pool's C int (hunt 105 M1)."""


def checked_jobs(jobs: Any) -> int:
    """`jobs` of the Python forms (`run_sweep`, `run_bench`) as an int in 0..MAX_JOBS, or
    InputError, before anything is written."""
    from exactprune.instances.params import as_number

    jobs = as_number(jobs, "jobs", integer=True)
    if not 0 <= jobs <= MAX_JOBS:
        raise InputError(f"jobs must be an integer from 0 to {MAX_JOBS} (local worker "
                         f"processes), got {jobs!r}")
    return jobs


def local_jobs(jobs: int | None, scheduler: str | None) -> int:
    """The --jobs of a command that runs on local worker processes or on --scheduler's
    cluster: InputError when both are given (the cluster's workers run the runs, and --jobs
    was ignored) or above MAX_JOBS, else `jobs`, or 1 when it was not given."""
    if jobs is not None and scheduler is not None:
        raise InputError("--jobs counts local worker processes: with --scheduler the "
                         "cluster's workers run the runs; give one or the other")
    if jobs is not None and jobs > MAX_JOBS:
        raise InputError(f"--jobs {jobs}: at most {MAX_JOBS} local worker processes")
    return 1 if jobs is None else jobs


def connect(scheduler: str) -> Any:
    """A Dask client, or InputError after at most CONNECT_TIMEOUT_S seconds (one line: no
    background traceback at exit)."""
    try:
        from distributed import Client
    except ImportError:
        raise InputError("running on a Dask scheduler needs dask.distributed: pip install "
                         "'exactprune[distributed]'") from None
    check_scheduler_address(scheduler)
    try:
        _probe_tcp(scheduler)
        _probe_dask(scheduler)
        return Client(scheduler, timeout=CONNECT_TIMEOUT_S, set_as_default=False)
    except Exception as exc:  # OSError, TimeoutError, ValueError, CommClosedError, ...
        reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        if isinstance(exc, TimeoutError):
            reason = f"no Dask scheduler answered within {CONNECT_TIMEOUT_S} s"
        raise InputError(f"cannot connect to the Dask scheduler at {scheduler}: "
                         f"{reason[:200]}") from None


def _probe_dask(scheduler: str) -> None:
    """Ask the address who it is over a Dask comm, in a private event loop with a hard
    deadline, before any Client exists: a Client whose connection fails or never completes
    (a port where something else listens; tls:// without TLS settings; ucx:// without UCX)
    hung without end, or for 20 s in its __del__ at exit with a traceback (hunt 10)."""
    import asyncio

    from distributed.comm import connect as comm_connect

    async def identity() -> Any:
        comm = await comm_connect(scheduler, timeout=CONNECT_TIMEOUT_S)
        try:
            await comm.write({"op": "identity", "reply": True})
            return await comm.read()
        finally:
            await comm.close()

    try:
        reply = asyncio.run(asyncio.wait_for(identity(), CONNECT_TIMEOUT_S))
    except (MemoryError, OverflowError, ValueError, TypeError) as exc:
        if scheduler.startswith("ucx://") and "ucx" in str(exc).lower():  # hunt 53
            raise ValueError("ucx:// needs UCX and its Python bindings, which this Dask "
                             "installation lacks") from exc
        # a server of another protocol: Dask reads "HTTP/1.1" as a frame length ("Unable to
        # allocate 3.07 EiB"; hunt 40)
        raise ValueError("the address answers, but not as a Dask scheduler") from exc
    if not isinstance(reply, dict) or reply.get("type") != "Scheduler":
        raise ValueError("the address answers, but not as a Dask scheduler")


def _probe_tcp(scheduler: str) -> None:
    """Raise OSError at once when nothing listens at a tcp:// scheduler address (a typo in the
    port): Dask's client retries a refused connection until its timeout (10 s)."""
    from distributed.comm.addressing import parse_address, parse_host_port

    protocol, location = parse_address(scheduler)
    if protocol in ("tcp", "tls"):  # both listen on a TCP port
        with socket.create_connection(parse_host_port(location, default_port=8786),
                                      timeout=CONNECT_TIMEOUT_S):
            pass


def _workers(client: Any) -> dict:
    try:
        info = client.scheduler_info(n_workers=-1)  # every worker (newer Dask lists 5 by default)
    except TypeError:  # older Dask: no n_workers, lists every worker
        info = client.scheduler_info()
    return info.get("workers", {})


def worker_cores(client: Any) -> int | None:
    """The cores each worker of a Dask cluster offers for packing, or None: the smallest
    ``cores`` resource over its workers when every worker declares one (``dask worker ...
    --resources cores=N``), else None (then runs are not packed: a task asking for a resource
    no worker has would never start)."""
    workers = _workers(client)
    cores = [w.get("resources", {}).get("cores") for w in workers.values()]
    if not cores or any(not isinstance(c, int | float) or c < 1 for c in cores):
        return None
    return int(min(cores))


def run_dask(items: list[tuple[str, Any]], client: Any,
             finish: Callable[[str, dict], None]) -> int:
    """Submit every run to the cluster and `finish` each record as it arrives. A run the
    cluster could not finish (a worker died too often, the scheduler went away) is an error
    record, which a resume runs again; a lost scheduler is kept out of the client's background
    tracebacks (hunt 17). Returns how many runs were lost with the scheduler (the sweep then
    raises `SchedulerLost`)."""
    lost = 0
    with _quiet_dask_logs():
        try:
            lost = _stream(items, client, finish)
        finally:
            client.close()
    return lost


class SchedulerLost(InputError):
    """The Dask scheduler went away mid-sweep: its unfinished runs are stored as errors, which
    the same sweep run again resumes. One line and exit 2, as for a scheduler unreachable at
    the start (the sweep exited 0 and a script went on with a partial store: hunt 69 L2);
    `records` holds what the sweep returns otherwise."""

    def __init__(self, address: str, lost: int, records: list[dict]) -> None:
        super().__init__(f"lost the Dask scheduler at {address}: {lost} runs not finished are "
                         "stored as error (run the same command again to resume them)")
        self.records = records


@contextlib.contextmanager
def _quiet_dask_logs() -> Iterator[None]:
    """Dask's client logs a lost scheduler as tracebacks (ERROR) while runs stream back; the
    sweep reports it itself, once."""
    names = ["distributed", *(n for n in logging.root.manager.loggerDict
                              if n.startswith("distributed."))]  # Dask sets some levels itself
    levels = {n: logging.getLogger(n).level for n in names}
    for n in names:
        logging.getLogger(n).setLevel(logging.CRITICAL)
    try:
        yield
    finally:
        for n, level in levels.items():
            logging.getLogger(n).setLevel(level)


def worker_spec(spec: dict) -> dict:
    """The spec as a Dask worker gets it: an input file parameter (one the run is keyed by,
    `input_sha256`) relative to this process's folder becomes its absolute path, since workers
    run in folders of their own (a relative `--param network=net.npz` was read from the
    worker's folder, and every run stored as an error; hunt 53). Only those: domain=sphere
    beside a file named "sphere" became that file's path (hunt 54 F4). The store keys the
    spec as given, and "given_paths" keeps the paths as given, for the instance's generator
    record (`solve_sweep.solve_task`): it entered the instance's SHA-256, which differed from
    a local run's (hunt 88 M1)."""
    params = spec.get("params")
    files = spec.get("input_sha256")
    if not isinstance(params, dict) or not isinstance(files, dict):
        return spec
    absolute = {k: os.path.abspath(v) if k in files and isinstance(v, str)
                and not os.path.isabs(v) else v for k, v in params.items()}
    if absolute == params:
        return spec
    given = {k: v for k, v in params.items() if absolute[k] != v}
    return {**spec, "params": absolute, "given_paths": given}


def _stream(items: list[tuple[str, Any]], client: Any,
            finish: Callable[[str, dict], None]) -> int:
    """Submit and collect (see :func:`run_dask`); returns how many runs ended because the
    client lost its scheduler."""
    from distributed import as_completed

    lost = 0
    if not _workers(client):  # runs would wait in silence for a worker to join
        print(f"exactprune: the Dask scheduler at {client.scheduler.address} has no "
              "workers yet; the runs wait for one (Ctrl-C stops, a rerun resumes)",
              file=sys.stderr)
    cores = worker_cores(client)
    futures = {client.submit(run_task, task.fn, worker_spec(task.spec), pure=False,
                             resources=None if cores is None else
                             {"cores": task_slots(task.spec, cores)}): key
               for key, task in items}
    for fut in as_completed(futures, loop=client.loop):
        key = futures[fut]
        try:
            record = json.loads(fut.result())
        except Exception as exc:  # KilledWorker (a worker died too often), lost data, ...
            # the run's own time is unknown here (the sweep's elapsed time is not it)
            record = error_record(f"{type(exc).__name__}: {exc}", None)
            lost += (client.status != "running"
                     or "scheduler-connection-lost" in str(exc))
        finish(key, record)
        fut.release()
    return lost
