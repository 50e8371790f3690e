"""The command line this process was started with, for reports that say how to re-make them.

`main` records it once; a report made through the Python API has none (and says nothing).
"""

from __future__ import annotations

import os
import shlex
import sys
from collections.abc import Sequence

_COMMAND: str | None = None


def record_command(argv: Sequence[str] | None) -> None:
    """Remember `exactprune ARGV...` (shell-quoted) as the running command; None forgets it
    (`main` does on return, so that a later Python API call quotes no stale command)."""
    global _COMMAND
    _COMMAND = None if argv is None else shlex.join(["exactprune", *argv])


def command_line() -> str | None:
    """The recorded command, or None when the CLI did not run (the Python API)."""
    return _COMMAND


def command_lines() -> list[str]:
    """A report's "Command: `...`" paragraph (two lines), or nothing without a command."""
    return [] if _COMMAND is None else [f"Command: `{_COMMAND}`", ""]


def spawn_blocker() -> str | None:
    """Why worker processes started with multiprocessing's "spawn" cannot run in this process,
    or None when they can. A spawned worker re-runs the main script from its file; a script
    read from standard input (`python - <<EOF`) names "<stdin>", which is no file, and every
    worker died with FileNotFoundError (hunt 189: solve_many's traceback, a sweep's runs stored
    as errors). `python -c`, an interactive session and `python -m` re-run nothing, or a module."""
    from multiprocessing import process

    main = sys.modules.get("__main__")
    if main is None or getattr(getattr(main, "__spec__", None), "name", None) is not None:
        return None
    path = getattr(main, "__file__", None)
    if path is None:
        return None
    if not os.path.isabs(path) and process.ORIGINAL_DIR is not None:
        path = os.path.join(process.ORIGINAL_DIR, path)
    if os.path.isfile(path) and main.__file__ != "<stdin>":  # (a file of that name is not it)
        return None
    return (f"worker processes re-run the main script, and {main.__file__!r} is no file "
            "(a script read from standard input?)")


def check_workers_can_start(jobs: int) -> None:
    """InputError (one line) when `jobs` >= 1 local worker processes cannot start here
    (`spawn_blocker`): `run_sweep` and `run_bench` refuse before any run, store or folder."""
    if jobs > 0 and (why := spawn_blocker()) is not None:
        from exactprune.instances.errors import InputError

        raise InputError(f"jobs = {jobs}: {why}; run it from a file, or with jobs=0 (in this "
                         "process)")
