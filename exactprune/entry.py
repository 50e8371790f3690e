"""The `exactprune` command's entry point, light enough to catch a Ctrl-C or SIGTERM during
start-up.

The command line (`exactprune.cli`) imports numpy and the solver packages, which takes about
0.2 s; a Ctrl-C in that time used to end in a traceback, and a SIGTERM killed the command
without a word, before `cli.main`'s handlers were in place (hunts 27 F4, 164 M1). This module
and `exactprune.termination` import nothing heavy: SIGTERM is taken over first, and an
interruption anywhere in the command is answered like any other: one line and exit code 130
(143 for SIGTERM; docs/reliability.md).
"""

from __future__ import annotations

import os
import signal
import sys
import threading
from collections.abc import Sequence
from typing import Any

from exactprune.termination import (
    EXIT_INTERRUPTED,
    EXIT_TERMINATED,
    Terminated,
    interrupted_exit,
    interruption_behind,
    interruption_unraised,
    signals_as_interrupts,
)


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line (`exactprune.cli.main`); exit code as there. The process's entry
    point (the console script, `python -m exactprune`): once it returns, an interruption is
    answered by `_interrupted_at_shutdown`."""
    try:
        with signals_as_interrupts():
            from exactprune.cli import main as run

            code = run(argv)
            stop = interruption_unraised()
            if stop is not None and code not in (EXIT_INTERRUPTED, EXIT_TERMINATED):
                # its exception was dropped by Python and the work went on to its end: the
                # outputs are whole, and the line and exit code say what came (hunt 219 M1)
                return interrupted_exit(stop)
            return code
    except KeyboardInterrupt as exc:  # one that landed before or after cli.main's handlers
        return interrupted_exit(exc)
    except Exception as exc:  # numpy's start-up turns a Ctrl-C into an ImportError
        if (stop := interruption_behind(exc)) is not None:
            return interrupted_exit(stop)
        raise
    finally:
        if threading.current_thread() is threading.main_thread():
            signal.signal(signal.SIGINT, _interrupted_at_shutdown)
            signal.signal(signal.SIGTERM, _interrupted_at_shutdown)


def _interrupted_at_shutdown(signum: int, frame: Any) -> None:
    """A Ctrl-C or SIGTERM after the command's work, while the interpreter shuts down (a
    sweep's worker threads joined, multiprocessing's and Dask's exit hooks): they printed a
    KeyboardInterrupt traceback and the process exited 0 (hunt 199 M1). Everything is written
    by then: the one line, and the interruption's exit code at once."""
    stop = Terminated() if signum == signal.SIGTERM else KeyboardInterrupt()
    code = EXIT_TERMINATED if isinstance(stop, Terminated) else EXIT_INTERRUPTED
    try:
        sys.stdout.flush()
    except Exception:  # a closed pipe: nothing more to say there
        pass
    try:
        code = interrupted_exit(stop)
        sys.stderr.flush()
    except Exception:  # a closed stderr: the exit code says it
        pass
    finally:
        os._exit(code)
