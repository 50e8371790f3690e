"""Run one function call in a fresh process: its own peak memory, and a kill switch."""

from __future__ import annotations

import multiprocessing as mp
from collections.abc import Callable
from typing import Any


def run_isolated(fn: Callable[..., dict[str, Any]], args: tuple, timeout: float,
                 on_timeout: dict[str, Any]) -> dict[str, Any]:
    """fn(*args) in a new spawned process; `on_timeout` is returned if it runs past `timeout`
    seconds (the process is then terminated). fn must be importable (module level)."""
    ctx = mp.get_context("spawn")
    with ctx.Pool(1, maxtasksperchild=1) as pool:
        job = pool.apply_async(fn, args)
        try:
            return job.get(timeout=timeout)
        except mp.TimeoutError:
            pool.terminate()
            return dict(on_timeout)
