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

from collections.abc import Sequence

from exactprune.termination import interrupted_exit, interruption_behind, sigterm_as_interrupt


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line (`exactprune.cli.main`); exit code as there."""
    try:
        with sigterm_as_interrupt():
            from exactprune.cli import main as run

            return run(argv)
    except KeyboardInterrupt as exc:  # one that landed before or after cli.main's handlers
        return interrupted_exit(exc)
    except Exception as exc:  # numpy's start-up turns a Ctrl-C into an ImportError
        if (stop := interruption_behind(exc)) is not None:
            return interrupted_exit(stop)
        raise
