"""Keep what native solver code prints off stdout (the CLI prints JSON there), with one
redirection of file descriptors 1 and 2 shared by the solves running in the process at once.

File descriptors belong to the process, so while a solve runs, fds 1 and 2 point away for every
thread. What Python itself prints meanwhile (another thread's print(), a traceback, a warning)
goes through `sys.stdout` / `sys.stderr`; those are replaced, for the redirection, by streams
that write where fds 1 and 2 pointed before, so it is not lost (hunt 22: a thread pool printing
results as they came lost them all); logging's stream handlers on them are pointed there too
(logging.basicConfig holds sys.stderr as it was when configured). Other code that kept the old
stream objects still writes to the redirected fds while a solve lasts."""

from __future__ import annotations

import contextlib
import fcntl
import io
import os
import sys
import tempfile
import threading
from dataclasses import dataclass
from typing import Any


@dataclass
class Captured:
    """What native code printed on fd 1 inside `native_stdout(..., capture=True)`. Empty when
    another solve of this process redirected fd 1 at the same time (solves in threads): their
    prints cannot be told apart, so none is handed back rather than another solve's."""

    text: str = ""


@dataclass
class _Redirect:
    """The process's one redirection of fds 1 and 2, shared by the solves running in it."""

    depth: int = 0  # solves inside
    entries: int = 0  # solves that ever entered (tells a solve whether it ran alone)
    saved: int = -1
    saved_err: int | None = None
    target: int = -1
    tmp: Any = None
    verbose: bool = False
    swapped: tuple[Any, ...] = ()  # (name in sys or "handler", wrapper, what it replaced)
    inside: dict[int, int] | None = None  # thread ident -> its solves inside (their own
    # Python-level prints, e.g. gurobipy's log, go where the native ones go)


_REDIRECT = _Redirect()
_REDIRECT_LOCK = threading.RLock()


def _dup_high(fd: int) -> int:
    """A copy of `fd` numbered 3 or above: with stderr closed, os.dup(1) was handed fd 2, which
    the redirection then pointed at /dev/null, and stdout was "restored" from it: the CLI's
    JSON was lost with exit 0 (hunt 39 F4)."""
    return fcntl.fcntl(fd, fcntl.F_DUPFD_CLOEXEC, 3)


def _new_locks_in_child() -> None:
    """A process forked while a thread held a lock would wait for it for ever."""
    global _REDIRECT_LOCK
    _REDIRECT_LOCK = threading.RLock()
    for entry in _REDIRECT.swapped:
        entry[1].new_lock()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_new_locks_in_child)


class _PastTheRedirect(io.TextIOBase):
    """Stands in for sys.stdout or sys.stderr while fds 1 and 2 are redirected: Python-level
    writes of threads not inside a solve go to its own copy of the descriptor the stream wrote
    to before; a solving thread's (a solver library's Python-level log: gurobipy, PuLP) go with
    the native prints; once retired (the redirection undone), all go to the stream it replaced,
    so a reference kept to it stays good. Its own lock, not the redirection's: a logging
    handler writing to it under the handler's lock while a solve ends and puts the handler's
    stream back (under the redirection's lock, then the handler's) cannot deadlock."""

    def __init__(self, stream: Any, fd: int) -> None:
        super().__init__()
        self._stream = stream
        self._fd: int | None = _dup_high(fd)
        self._lock = threading.Lock()
        self._pending: dict[int, str] = {}  # per thread: text after its last newline

    @property
    def retired(self) -> bool:
        return self._fd is None

    def new_lock(self) -> None:
        self._lock = threading.Lock()

    def retire(self) -> None:
        with self._lock:
            if self._fd is not None:
                for tail in self._pending.values():
                    self._write_fd(tail)
                self._pending.clear()
                os.close(self._fd)
                self._fd = None

    def _write_fd(self, text: str) -> None:
        """Under the lock, with the descriptor open."""
        assert self._fd is not None
        view = memoryview(text.encode(self.encoding, self.errors or "strict"))
        while view:
            view = view[os.write(self._fd, view):]

    @property
    def encoding(self) -> str:  # type: ignore[override]
        return getattr(self._stream, "encoding", None) or "utf-8"

    @property
    def errors(self) -> str | None:  # type: ignore[override]
        return getattr(self._stream, "errors", None)

    def writable(self) -> bool:
        return True

    def write(self, text: str) -> int:
        me = threading.get_ident()
        inside = _REDIRECT.inside
        if not (inside and inside.get(me)):
            with self._lock:
                if self._fd is not None:
                    # whole lines at a time, as a line-buffered stream writes them: print()
                    # hands its pieces over one by one, and other threads' lines interleaved
                    line = self._pending.pop(me, "") + text
                    cut = line.rfind("\n") + 1
                    if cut:
                        self._write_fd(line[:cut])
                    if cut < len(line):
                        self._pending[me] = line[cut:]
                    return len(text)
        return self._stream.write(text)

    def flush(self) -> None:
        with self._lock:
            tail = self._pending.pop(threading.get_ident(), "")
            if tail and self._fd is not None:
                self._write_fd(tail)
        with contextlib.suppress(Exception):
            self._stream.flush()

    def fileno(self) -> int:
        return self._stream.fileno()

    def isatty(self) -> bool:
        return bool(self._stream.isatty())

    def __getattr__(self, name: str) -> Any:
        """The rest of the stream's API (buffer, name, mode, reconfigure, ...) is the replaced
        stream's: code of other threads that uses it keeps working (hunt 24)."""
        stream = self.__dict__.get("_stream")
        if stream is None:
            raise AttributeError(name)
        return getattr(stream, name)


def _swap_python_streams(r: _Redirect) -> None:
    """Replace sys.stdout (and sys.stderr when fd 2 is redirected) while they write to fds 1
    and 2 themselves (not pytest's or a caller's stand-ins, which the redirection misses)."""
    swapped = []
    for name, fd, attr in (("stdout", 1, "saved"), ("stderr", 2, "saved_err")):
        stream = getattr(sys, name)
        while isinstance(stream, _PastTheRedirect) and stream.retired:
            stream = stream._stream  # a stand-in a caller's redirect put back: heal it
        if getattr(r, attr) is None or stream is None:
            continue
        try:
            if stream.fileno() != fd:
                continue
        except (AttributeError, OSError, ValueError, io.UnsupportedOperation):
            continue
        wrapper = _PastTheRedirect(stream, getattr(r, attr))
        setattr(sys, name, wrapper)
        swapped.append((name, wrapper, stream))
        for handler in _log_handlers_on(stream):
            handler.setStream(wrapper)
            swapped.append(("handler", wrapper, handler))
    r.swapped = tuple(swapped)


def _log_handlers_on(stream: Any) -> list[Any]:
    """The logging StreamHandlers writing to `stream` (logging.basicConfig's holds sys.stderr
    as it was when configured), if logging is in use."""
    logging = sys.modules.get("logging")
    if logging is None:
        return []
    known = list(logging.Logger.manager.loggerDict.values())
    loggers = [logging.getLogger(), *(lg for lg in known if isinstance(lg, logging.Logger))]
    return [h for lg in loggers for h in list(lg.handlers)
            if isinstance(h, logging.StreamHandler) and getattr(h, "stream", None) is stream]


def _put_python_streams_back(r: _Redirect) -> None:
    for name, wrapper, stream in r.swapped:
        if name == "handler":
            if stream.stream is wrapper:
                stream.setStream(wrapper._stream)
        elif getattr(sys, name) is wrapper:  # else someone replaced it since: theirs stays
            setattr(sys, name, stream)
    for name, wrapper, _ in r.swapped:
        if name != "handler":
            wrapper.retire()
    r.swapped = ()


def _set_up_redirect(r: _Redirect, verbose: bool, capture: bool) -> bool:
    """Point fds 1 (and 2 unless verbose) at the target; False, changing nothing, when the
    process's fds cannot be duplicated (closed stdout). Called under the lock.

    The stand-in streams go in first and the replaced streams are flushed after, while fds 1
    and 2 still point where they did: a print another thread starts meanwhile goes to the
    stand-in, and what it wrote before is flushed where it belongs. (Flushing first and
    swapping after the fds moved sent a print begun in between to /dev/null: "line 0" came
    out as "line".) Only the rest of a print begun before the swap and flushed after the fds
    moved can still be lost; no lock of ours covers another thread's stream."""
    saved = saved_err = tmp = None
    try:
        saved = _dup_high(1)
        err_open = _is_open(2)
        saved_err = _dup_high(2) if err_open and not verbose else None
        tmp = tempfile.TemporaryFile() if capture else None
        if tmp is not None:
            target = _dup_high(tmp.fileno())
        elif verbose and err_open:
            target = _dup_high(2)
        else:
            null = os.open(os.devnull, os.O_WRONLY)
            target = _dup_high(null)
            os.close(null)
    except OSError:
        for fd in (saved, saved_err):
            if fd is not None:
                os.close(fd)
        if tmp is not None:
            tmp.close()
        return False
    r.saved, r.saved_err, r.target, r.tmp, r.verbose = saved, saved_err, target, tmp, verbose
    _swap_python_streams(r)
    for _, _, replaced in r.swapped:
        with contextlib.suppress(Exception):
            replaced.flush()
    for stream in (sys.stdout, sys.stderr, sys.__stdout__, sys.__stderr__):  # a caller's
        if stream is not None:  # stand-in (not swapped) may write to fd 1 or 2 too
            with contextlib.suppress(Exception):
                stream.flush()
    os.dup2(target, 1)
    if saved_err is not None:
        os.dup2(target, 2)
    return True


def log_to_stderr(text: str) -> None:
    """A solver's log text on stderr; nowhere when stderr is closed (sys.stderr None:
    print(file=None) wrote CP-SAT's log into stdout's JSON; hunt 41) or cannot be written
    (2>/dev/full ended the solve in error; hunt 43): a log is no reason to lose the solve."""
    if sys.stderr is not None:
        with contextlib.suppress(OSError, ValueError):
            sys.stderr.write(text)


def _is_open(fd: int) -> bool:
    try:
        os.fstat(fd)
    except OSError:
        return False
    return True


@contextlib.contextmanager
def native_stdout(verbose: bool, capture: bool = False) -> Any:
    """Send what native solver code prints on stdout (fd 1) to stderr when verbose, else to
    /dev/null, so that stdout stays clean (the CLI prints JSON there); when not verbose, what it
    prints on stderr (fd 2: SoPlex's "Cannot set optimality tolerance ... without GMP", banners)
    goes too, so a successful run prints nothing but its result. With `capture`, both go to a
    temporary file instead and are handed back in the yielded `Captured` (and copied to stderr
    when verbose).

    File descriptors belong to the process, so solves running in threads share one
    redirection: the first to enter sets it up (its `verbose` and `capture` decide where the
    prints go), the last to leave restores fds 1 and 2. (Each solve saving and restoring on its
    own lost the process's stdout for good when two interleaved.) Only a solve that ran alone
    gets its captured text."""
    import ctypes

    out = Captured()
    try:
        libc = ctypes.CDLL(None)
    except OSError:  # pragma: no cover - no C library handle: leave stdout alone
        yield out
        return
    r = _REDIRECT
    with _REDIRECT_LOCK:
        redirected = r.depth > 0 or _set_up_redirect(r, verbose, capture)
        if redirected:
            alone = r.depth == 0
            r.depth += 1
            r.entries += 1
            my_entry = r.entries
            me = threading.get_ident()
            r.inside = r.inside or {}
            r.inside[me] = r.inside.get(me, 0) + 1
    if not redirected:  # pragma: no cover - fd 1 or 2 closed: leave them alone
        yield out
        return
    try:
        yield out
    finally:
        with _REDIRECT_LOCK:
            libc.fflush(None)
            r.depth -= 1
            if r.inside is not None:
                left = r.inside.get(me, 1) - 1
                if left:
                    r.inside[me] = left
                else:
                    r.inside.pop(me, None)
            alone = alone and r.entries == my_entry
            if r.depth == 0:
                # fds back first, then the Python streams: the stand-ins write where the fds
                # now point again, while the other order sent another thread's prints in
                # between to /dev/null (hunt 39 F3, the mirror of the set-up's order)
                os.dup2(r.saved, 1)
                os.close(r.saved)
                if r.saved_err is not None:
                    os.dup2(r.saved_err, 2)
                    os.close(r.saved_err)
                _put_python_streams_back(r)
                os.close(r.target)
                if r.tmp is not None:
                    r.tmp.seek(0)
                    text = r.tmp.read().decode("utf-8", errors="replace")
                    r.tmp.close()
                    if r.verbose:
                        log_to_stderr(text)
                    if alone and capture:
                        out.text = text
                r.tmp = None
