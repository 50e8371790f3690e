"""The `exactprune` command's entry point, light enough to catch a Ctrl-C during start-up.

The command line (`exactprune.cli`) imports numpy and the solver packages, which takes about
0.2 s; a Ctrl-C in that time used to end in a traceback, before `cli.main`'s handler was in
place. This module imports nothing heavy, so the interruption is answered like any other:
one line and exit code 130 (docs/reliability.md).
"""

from __future__ import annotations

import sys
from collections.abc import Sequence


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line (`exactprune.cli.main`); exit code as there."""
    try:
        from exactprune.cli import main as run
    except KeyboardInterrupt:
        print("exactprune: interrupted", file=sys.stderr)
        return 130
    return run(argv)
