"""The command line this process was started with, for reports that say how to re-make them.

`main` records it once; a report made through the Python API has none (and says nothing).
"""

from __future__ import annotations

import shlex
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
