"""Ctrl-C during a native solve: stop the engine, then raise KeyboardInterrupt as Python would.

OR-Tools' SCIP and CP-SAT install their own SIGINT handlers by default: they stop the search
and return as if a limit had been hit, so a Ctrl-C came back as a `time_limit` or `feasible`
result, exit 0, with the output file written. exactprune turns those handlers off
(`catch_sigint_signal`, `misc/catchctrlc`). Python's own handler then only sets a flag that is
checked when the engine returns, which could be minutes later; `stop_on_sigint` watches for the
signal (through `signal.set_wakeup_fd`) in a helper thread and asks the engine to stop at once.
The engine returns and KeyboardInterrupt (exit 130 from the CLI) follows, with nothing
written: raised by Python's handler, or by `stop_on_sigint` itself when the handler ran inside
an engine's callback and the engine swallowed it (HiGHS reported `error`).
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import threading
from collections.abc import Callable, Iterator
from typing import Any

# SIGTERM's handling lives in the light exactprune.termination (the entry point sets it before
# any heavy import; hunt 164 M1); its names are kept here for the engines and the CLI
from exactprune.termination import (  # noqa: F401 - re-exported
    Terminated,
    interruption_behind,
    sigint_handled,
    signals_as_interrupts,
    sigterm_handled,
)


def python_handles_sigint() -> bool:
    """Whether SIGINT here would raise KeyboardInterrupt: the main thread, with Python's own
    handler or the CLI's note-taking one (not SIG_IGN, not the caller's)."""
    return sigint_handled()


@contextlib.contextmanager
def stop_on_sigint(stop: Callable[[], object]) -> Iterator[None]:
    """Call `stop()` (thread-safe: CP-SAT's StopSearch, MPSolver.InterruptSolve) when SIGINT
    arrives during the block, with Python's own SIGINT handler, or SIGTERM, under
    `signals_as_interrupts`. Only in the main thread, the only place Python delivers signals;
    elsewhere a no-op. Each signal is watched on its own: a job started in the background by
    a script ignores SIGINT, and SIGTERM then went unwatched — HiGHS returned `error`, exit 0,
    and CP-SAT and SCIP ran on to their time limit (hunt 28). Signals bound for a wake-up fd
    set before (asyncio's) are passed on to it."""
    on_sigint = python_handles_sigint()
    on_sigterm = threading.current_thread() is threading.main_thread() and \
        sigterm_handled()
    if not (on_sigint or on_sigterm):
        yield
        return
    reader, writer = socket.socketpair()
    writer.setblocking(False)
    try:
        previous = signal.set_wakeup_fd(writer.fileno(), warn_on_full_buffer=False)
    except ValueError:  # not the main interpreter, or the fd refused
        reader.close()
        writer.close()
        yield
        return

    def watch() -> None:
        while True:
            try:
                data = reader.recv(64)
            except OSError:
                return
            if not data:
                return  # the writer closed: the block is over
            if previous >= 0:  # whoever watched the signals before (asyncio) still gets them
                with contextlib.suppress(OSError):
                    os.write(previous, data)
            term = on_sigterm and signal.SIGTERM in data
            if (on_sigint and signal.SIGINT in data) or term:
                if term:
                    terminated.set()
                hit.set()
                stop()

    hit, terminated = threading.Event(), threading.Event()
    watcher = threading.Thread(target=watch, name="exactprune-sigint", daemon=True)
    watcher.start()
    try:
        yield
    finally:
        signal.set_wakeup_fd(previous)
        writer.close()
        watcher.join(timeout=5)
        reader.close()
    if hit.is_set():  # Python's handler may have run inside an engine callback and been lost
        raise Terminated if terminated.is_set() else KeyboardInterrupt


# Room for a libc `struct sigaction` (152 bytes on glibc x86-64), kept as opaque bytes.
_SIGACTION_BYTES = 1024


class _SavedSigint:
    """The C-level SIGINT disposition before the first of overlapping solves (`depth` > 0)."""

    lock = threading.Lock()
    depth = 0
    saved: object = None


def _sigaction() -> Callable[..., int] | None:
    """libc's sigaction, or None where there is none (Windows)."""
    import ctypes

    try:
        return ctypes.CDLL(None, use_errno=True).sigaction
    except (OSError, AttributeError):  # pragma: no cover - no POSIX libc
        return None


def _current_sigint(act: Callable[..., int]) -> Any:
    """The process's C-level SIGINT disposition (an opaque libc struct sigaction), or None."""
    import ctypes

    buf = ctypes.create_string_buffer(_SIGACTION_BYTES)
    return buf if act(signal.SIGINT, None, buf) == 0 else None


def sigint_handler_address() -> int | None:
    """The address of the process's C-level SIGINT handler (None without sigaction): what
    Python's `signal.getsignal` cannot see when native code replaced Python's handler. (The
    handler comes first in every libc's struct sigaction.)"""
    import ctypes

    act = _sigaction()
    buf = None if act is None else _current_sigint(act)
    if buf is None:  # pragma: no cover
        return None
    return ctypes.c_void_p.from_buffer(buf).value or 0


@contextlib.contextmanager
def keep_sigint_disposition() -> Iterator[None]:
    """Around a native solve that installs its own SIGINT handler and, at its end, puts back
    the one it found (Gurobi's optimize): solves in threads that overlap out of order put back
    each other's, and the last to end left Gurobi's handler installed for good — Ctrl-C then
    only printed "Interrupt request received", for the rest of the process (hunt 22). The
    disposition before the first of the overlapping solves is put back after the last."""
    act = _sigaction()
    if act is None:  # pragma: no cover
        yield
        return
    with _SavedSigint.lock:
        if _SavedSigint.depth == 0:
            _SavedSigint.saved = _current_sigint(act)
        _SavedSigint.depth += 1
    try:
        yield
    finally:
        with _SavedSigint.lock:
            _SavedSigint.depth -= 1
            if _SavedSigint.depth == 0 and _SavedSigint.saved is not None:
                act(signal.SIGINT, _SavedSigint.saved, None)
                _SavedSigint.saved = None
