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


_arrived: int | None = None
"""The last SIGINT or SIGTERM that came while `signals_as_interrupts` was in force (reset when
it takes over and when it ends)."""


def _raise_terminated(signum: int, frame: Any) -> None:
    global _arrived
    _arrived = signum
    raise Terminated


def _raise_interrupted(signum: int, frame: Any) -> None:
    """Python's own SIGINT handler (KeyboardInterrupt), noting that it came."""
    global _arrived
    _arrived = signum
    raise KeyboardInterrupt


def interruption_unraised() -> KeyboardInterrupt | None:
    """The interruption (Terminated for SIGTERM) that came in this `signals_as_interrupts`
    block, or None. Python drops an exception a signal handler raises while the main thread
    runs a weakref callback or a finaliser (importlib's module-lock callback, as a sweep's
    worker pool starts or a module is imported), printing at most "Exception ignored": the
    sweep ran to its end, exit 0 (hunt 219 M1). Its loops ask `raise_if_interrupted` at each
    step, and the entry point asks this at the end."""
    if _arrived is None:
        return None
    return Terminated() if _arrived == signal.SIGTERM else KeyboardInterrupt()


def raise_if_interrupted() -> None:
    """Raise the interruption that came in this block (`interruption_unraised`): a loop of the
    command's work calls it at each step, so a Ctrl-C or SIGTERM whose exception Python
    dropped still stops the command. Only in work that is not itself the answer to one
    (clean-up)."""
    if (stop := interruption_unraised()) is not None:
        raise stop


def sigterm_handled() -> bool:
    """Whether SIGTERM raises `Terminated` here (`signals_as_interrupts` is in force)."""
    return signal.getsignal(signal.SIGTERM) is _raise_terminated


def sigint_handled() -> bool:
    """Whether SIGINT raises KeyboardInterrupt here: Python's own handler, or this module's
    (`signals_as_interrupts`), in the main thread."""
    return (threading.current_thread() is threading.main_thread()
            and signal.getsignal(signal.SIGINT) in (signal.default_int_handler,
                                                    _raise_interrupted))


@contextlib.contextmanager
def signals_as_interrupts() -> Iterator[None]:
    """During the block, SIGTERM raises `Terminated` in the main thread, and a native solve
    under `stop_on_sigint` is stopped for it as for SIGINT; a SIGINT with Python's own handler
    raises KeyboardInterrupt as before, through `_raise_interrupted`, which notes it: either
    is then known even where Python drops its exception (`interruption_unraised`). Only in the
    main thread and for a signal with its default handling (a caller's handler stays, an
    ignored SIGINT stays ignored, and so does an enclosing block's); elsewhere a no-op."""
    global _arrived
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    term = signal.getsignal(signal.SIGTERM) is signal.SIG_DFL
    sigint = signal.getsignal(signal.SIGINT) is signal.default_int_handler
    if not (term or sigint):
        yield
        return
    _arrived = None
    if term:
        signal.signal(signal.SIGTERM, _raise_terminated)
    if sigint:
        signal.signal(signal.SIGINT, _raise_interrupted)
    previous_hook = sys.unraisablehook

    def quiet_when_noted(unraisable: Any) -> None:
        # the interruption Python drops is noted (`_arrived`) and answered in the command's
        # one line: not also "Exception ignored in: ..." with its traceback
        if not (isinstance(unraisable.exc_value, KeyboardInterrupt) and _arrived is not None):
            previous_hook(unraisable)

    sys.unraisablehook = quiet_when_noted
    try:
        yield
    finally:
        sys.unraisablehook = previous_hook
        _arrived = None  # this block's: a later sweep outside it is not stopped by it
        if sigint:
            signal.signal(signal.SIGINT, signal.default_int_handler)
        if term:
            signal.signal(signal.SIGTERM, signal.SIG_DFL)


_HELD = (signal.SIGINT, signal.SIGTERM)


@contextlib.contextmanager
def signals_held() -> Iterator[None]:
    """During the block (short: a worker process's start, a store's creation), a Ctrl-C or
    SIGTERM is noted and answered right after it, by the handler it would have met (SIGTERM's
    first when both came): one landing while a spawned worker was being handed its start-up
    data left the worker reading a closed pipe, and its EOFError traceback followed the
    command's one line on their shared stderr (hunt 219 M2). Noted at Python's level (another
    thread may take the signal, and Python runs the handler in the main thread all the same)
    and blocked in this thread, so that a process started here starts with them blocked: a
    terminal's Ctrl-C, sent to the whole process group, interrupted the worker's own start-up
    before it left the group, and its traceback followed the line (hunt 221 M1); the worker
    drops what came meanwhile and lets them through (`let_signals_through`). Main thread only,
    and only signals with a Python handler; elsewhere a no-op."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    came: list[int] = []
    saved = {sig: handler for sig in _HELD if callable(handler := signal.getsignal(sig))}
    for sig in saved:
        signal.signal(sig, lambda signum, frame: came.append(signum))
    blocked = hasattr(signal, "pthread_sigmask")
    before = signal.pthread_sigmask(signal.SIG_BLOCK, _HELD) if blocked else None
    try:
        yield
    finally:
        if blocked:
            signal.pthread_sigmask(signal.SIG_SETMASK, before)  # what came is noted now
        for sig, handler in saved.items():
            signal.signal(sig, handler)
        if came:
            sig = signal.SIGTERM if signal.SIGTERM in came else came[0]
            saved[sig](sig, None)


def let_signals_through() -> None:
    """In a process started under `signals_held` (a sweep's worker, once it leads its own
    process group): a Ctrl-C or SIGTERM sent to the group while it started is dropped (its
    parent answers it, and stops it), and both come through from now on, as Python's own
    SIGINT handler and SIGTERM's default."""
    if not hasattr(signal, "pthread_sigmask"):
        return
    if not set(_HELD) & set(signal.pthread_sigmask(signal.SIG_BLOCK, [])):
        return  # not started under signals_held
    dispositions = {sig: signal.getsignal(sig) for sig in _HELD}
    for sig in _HELD:
        signal.signal(sig, signal.SIG_IGN)  # a pending signal is dropped when ignored
    signal.pthread_sigmask(signal.SIG_UNBLOCK, _HELD)
    for sig, disposition in dispositions.items():
        signal.signal(sig, disposition if disposition is not None else signal.SIG_DFL)


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
