"""Run one function call in a fresh process: its own peak memory, and a kill switch that also
kills the processes the call started (PuLP runs CBC as a child process)."""

from __future__ import annotations

import contextlib
import multiprocessing as mp
import os
import shutil
import signal
import tempfile
from collections.abc import Callable, Iterator
from typing import Any

from exactprune.instances.errors import InputError
from exactprune.instances.io import folder_lock, reap_orphaned
from exactprune.invocation import spawn_blocker


def lead_own_group() -> None:
    """Make the calling (worker) process the leader of a new process group, which its children
    join: `kill_group` then reaches them. Nothing where process groups do not exist."""
    if hasattr(os, "setpgid"):
        with contextlib.suppress(OSError):
            os.setpgid(0, 0)


def kill_group(pid: int, leader_may_be_gone: bool = False) -> None:
    """SIGKILL the process group led by `pid` (a worker and its children); nothing if `pid`
    leads no group (not yet set up, or not POSIX). With `leader_may_be_gone`, a group whose
    leader has died is killed too (a worker killed outright leaves its CBC in its group; Linux
    gives no new process that pid while the group lives)."""
    if hasattr(os, "killpg"):
        with contextlib.suppress(OSError):
            try:
                leads = os.getpgid(pid) == pid
            except ProcessLookupError:
                leads = leader_may_be_gone
            if leads:
                os.killpg(pid, signal.SIGKILL)


SCRATCH_PREFIX = "exactprune-workers-"


def reap_dead_scratch_folders() -> None:
    """Remove the scratch folders of parents killed outright (`scratch_folder`)."""
    reap_orphaned(tempfile.gettempdir(), SCRATCH_PREFIX)


@contextlib.contextmanager
def scratch_folder() -> Iterator[str]:
    """A folder for the temporary files of the worker processes started inside the block,
    removed with everything in it at the end: a worker killed by a timeout or Ctrl-C never runs
    its own clean-up, and CBC's model folder (megabytes for a pruning model) stayed behind in
    /tmp, one per killed run. A parent killed itself (SIGKILL) cannot remove its folder: the
    name holds its pid, and the next scratch folder removes those of dead parents."""
    reap_dead_scratch_folders()
    folder = tempfile.mkdtemp(prefix=f"{SCRATCH_PREFIX}{os.getpid()}-")
    try:
        with folder_lock(folder):  # ours while we live, whatever our pid says elsewhere
            yield folder
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def use_scratch(folder: str) -> None:
    """Worker start-up: this process's temporary files, and its children's, go to `folder`."""
    tempfile.tempdir = folder
    os.environ["TMPDIR"] = folder


def _isolated_init(folder: str) -> None:
    lead_own_group()
    use_scratch(folder)


def run_isolated(fn: Callable[..., dict[str, Any]], args: tuple, timeout: float,
                 on_timeout: dict[str, Any]) -> dict[str, Any]:
    """fn(*args) in a new spawned process; `on_timeout` is returned if it runs past `timeout`
    seconds (the process is then killed with its children). fn must be importable (module
    level). InputError (one line) where no process can start (`spawn_blocker`: a daemonic
    process, a script read from standard input), not multiprocessing's bare AssertionError
    (hunt 220 note)."""
    if (why := spawn_blocker()) is not None:
        raise InputError(f"each solve runs in a process of its own, and {why}")
    ctx = mp.get_context("spawn")
    with scratch_folder() as folder, ctx.Pool(1, initializer=_isolated_init, initargs=(folder,),
                                              maxtasksperchild=1) as pool:
        job = pool.apply_async(fn, args)
        try:
            return job.get(timeout=timeout)
        except mp.TimeoutError:
            for proc in getattr(pool, "_pool", []):  # private, but in CPython 3.8 .. 3.13
                kill_group(proc.pid)
            pool.terminate()
            return dict(on_timeout)
