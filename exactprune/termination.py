"""SIGTERM handled like Ctrl-C, and the line and exit code of either: light (no numpy, no
solver) so that the command's entry point has it in place before any heavy import.

A SIGTERM in the command's first ~0.3 s killed it silently (the handler was set only after the
solver packages were imported) and a Ctrl-C there ended in a traceback (hunt 164 M1).
`exactprune.solvers.interrupt` builds the engines' stopping on these.
"""

from __future__ import annotations

import contextlib
import os
import signal
import sys
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

EXIT_INTERRUPTED, EXIT_TERMINATED = 130, 143


class Terminated(KeyboardInterrupt):
    """SIGTERM (a job scheduler, `kill`, `docker stop`), handled like Ctrl-C: the engine is
    stopped and every clean-up runs (an orphaned CBC, its temporary folder and a sweep's
    semaphores were left behind; hunt 27). The CLI exits 143 for it."""


def _raise_terminated(signum: int, frame: Any) -> None:
    raise Terminated


def sigterm_handled() -> bool:
    """Whether SIGTERM raises `Terminated` here (`sigterm_as_interrupt` is in force)."""
    return signal.getsignal(signal.SIGTERM) is _raise_terminated


@contextlib.contextmanager
def sigterm_as_interrupt() -> Iterator[None]:
    """During the block, SIGTERM raises `Terminated` in the main thread, and a native solve
    under `stop_on_sigint` is stopped for it as for SIGINT. Only in the main thread and when
    SIGTERM has its default disposition (a caller's handler stays, and so does an enclosing
    block's); elsewhere a no-op."""
    if threading.current_thread() is not threading.main_thread() or \
            signal.getsignal(signal.SIGTERM) is not signal.SIG_DFL:
        yield
        return
    signal.signal(signal.SIGTERM, _raise_terminated)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, signal.SIG_DFL)


def interruption_behind(exc: BaseException, stop_at: BaseException | None = None
                        ) -> KeyboardInterrupt | None:
    """The Ctrl-C (or SIGTERM) an exception was raised from, if any: Python wraps one that
    lands while a class is being created (matplotlib's, on import) in a RuntimeError, which
    read as an internal error, exit 1 (hunt 155 M1). `stop_at`: the exception being handled
    when the operation began (sys.exc_info), where the chain stops: a Ctrl-C a caller had
    already handled is not this operation's (hunt 157 M1)."""
    seen: set[int] = set()
    cause: BaseException | None = exc
    while cause is not None and cause is not stop_at and id(cause) not in seen:
        if isinstance(cause, KeyboardInterrupt):
            return cause
        seen.add(id(cause))
        cause = cause.__cause__ or cause.__context__
    return None


@contextlib.contextmanager
def interruptions_pass() -> Iterator[None]:
    """Around a probe that reads a failure as "not available" (an import, a licence check):
    an exception raised from a Ctrl-C or SIGTERM in the block goes out as that interruption.
    Python and numpy's start-up turn one into an ImportError, and `cpsat` was then "not
    available on this machine", exit 2 (hunt 166 M1). An interruption the caller was already
    handling when the block began is not this block's (hunt 157 M1)."""
    handled = sys.exc_info()[1]
    try:
        yield
    except Exception as exc:
        if (stop := interruption_behind(exc, stop_at=handled)) is not None:
            raise stop from None
        raise


def interrupted_exit(exc: KeyboardInterrupt) -> int:
    """Print the command's one line for an interruption; its exit code (143 for SIGTERM,
    130 for Ctrl-C)."""
    if isinstance(exc, Terminated):
        print("exactprune: terminated (SIGTERM)", file=sys.stderr)
        return EXIT_TERMINATED
    print("exactprune: interrupted", file=sys.stderr)
    return EXIT_INTERRUPTED


def exit_with_parent(parent_pid: int, interval: float = 1.0,
                     last: Callable[[], None] | None = None) -> None:
    """In a worker process: a daemon thread that ends the process (after `last`, e.g. killing
    its own children) once its parent `parent_pid` is gone, checked every `interval` seconds:
    a sweep's workers lingered as orphans after the sweep was killed, and so did
    `solve_many`'s after a SIGTERM of the script (hunt 213 M1)."""
    def watch() -> None:
        while True:
            time.sleep(interval)
            if os.getppid() != parent_pid:
                if last is not None:
                    last()
                os._exit(1)

    threading.Thread(target=watch, name="exactprune-parent-watch", daemon=True).start()
