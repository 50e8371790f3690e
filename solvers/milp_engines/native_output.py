"""Keep what native solver code prints off stdout (the CLI prints JSON there), with one
redirection of file descriptors 1 and 2 shared by the solves running in the process at once."""

from __future__ import annotations

import contextlib
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


_REDIRECT = _Redirect()
_REDIRECT_LOCK = threading.Lock()


def _set_up_redirect(r: _Redirect, verbose: bool, capture: bool) -> bool:
    """Point fds 1 (and 2 unless verbose) at the target; False, changing nothing, when the
    process's fds cannot be duplicated (closed stdout). Called under the lock."""
    for stream in (sys.stdout, sys.stderr):
        if stream is not None:
            with contextlib.suppress(Exception):
                stream.flush()
    saved = saved_err = tmp = None
    try:
        saved = os.dup(1)
        saved_err = None if verbose else os.dup(2)
        tmp = tempfile.TemporaryFile() if capture else None
        if tmp is not None:
            target = os.dup(tmp.fileno())
        else:
            target = os.dup(2) if verbose else os.open(os.devnull, os.O_WRONLY)
    except OSError:
        for fd in (saved, saved_err):
            if fd is not None:
                os.close(fd)
        if tmp is not None:
            tmp.close()
        return False
    os.dup2(target, 1)
    if saved_err is not None:
        os.dup2(target, 2)
    r.saved, r.saved_err, r.target, r.tmp, r.verbose = saved, saved_err, target, tmp, verbose
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
    if not redirected:  # pragma: no cover - fd 1 or 2 closed: leave them alone
        yield out
        return
    try:
        yield out
    finally:
        with _REDIRECT_LOCK:
            libc.fflush(None)
            r.depth -= 1
            alone = alone and r.entries == my_entry
            if r.depth == 0:
                os.dup2(r.saved, 1)
                os.close(r.saved)
                if r.saved_err is not None:
                    os.dup2(r.saved_err, 2)
                    os.close(r.saved_err)
                os.close(r.target)
                if r.tmp is not None:
                    r.tmp.seek(0)
                    text = r.tmp.read().decode("utf-8", errors="replace")
                    r.tmp.close()
                    if r.verbose:
                        sys.stderr.write(text)
                    if alone and capture:
                        out.text = text
                r.tmp = None
