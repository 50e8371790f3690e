"""The command line this process was started with, for reports that say how to re-make them.

`main` records it once; a report made through the Python API has none (and says nothing).
"""

from __future__ import annotations

import os
import re
import shlex
import sys
from collections.abc import Sequence

_COMMAND: str | None = None


def record_command(argv: Sequence[str] | None) -> None:
    """Remember `exactprune ARGV...` (shell-quoted) as the running command; None forgets it
    (`main` does on return, so that a later Python API call quotes no stale command)."""
    global _COMMAND
    _COMMAND = None if argv is None else shell_line(["exactprune", *argv])


def shell_line(words: Sequence[str]) -> str:
    """`words` as one line of POSIX shell that gives them back (`_quoted` each)."""
    return " ".join(map(_quoted, words))


def _quoted(arg: str) -> str:
    """`arg` as a POSIX shell word on one line: shlex's quoting, or bash's $'...' for a word
    with a newline or another character that does not print (an `--out` with a newline broke
    the report's one-line command in two; hunt 203 note). Inside $'...' a character that does
    not print is written as its UTF-8 bytes, \\xHH, which bash reads back in any locale (as
    \\UXXXXXXXX it came back as text under LC_ALL=C; hunt 212 L1)."""
    if arg.isprintable():
        return shlex.quote(arg)
    escapes = {"\\": "\\\\", "'": "\\'", "\n": "\\n", "\t": "\\t", "\r": "\\r"}

    def escaped(c: str) -> str:
        if c in escapes or c.isprintable():
            return escapes.get(c, c)
        code = ord(c)
        if 0xDC80 <= code <= 0xDCFF:  # a byte the file system's encoding could not decode
            return f"\\x{code - 0xDC00:02x}"
        return "".join(f"\\x{b:02x}" for b in c.encode("utf-8", "surrogatepass"))

    return "$'" + "".join(map(escaped, arg)) + "'"


def flag_words(flag: str, value: str) -> list[str]:
    """A flag and its value as command-line words: `--flag=VALUE` when the value starts with
    "-", which argparse would read as another flag (`--out -r`; hunt 214 L1)."""
    return [f"{flag}={value}"] if value.startswith("-") else [flag, value]


def float_word(x: float) -> str:
    """`x` as a command-line word as short as reads back exactly: "60" for 60.0, and
    0.33333333 as given (`:g` wrote 0.333333, another run's key; hunt 214 M3)."""
    short = f"{x:g}"
    return short if float(short) == x else repr(float(x))


def code_span(text: str) -> str:
    """`text` as Markdown inline code: fenced by more backticks than any run in it (a
    backtick in a word ended a one-backtick span early; hunt 203 note)."""
    if "`" not in text:
        return f"`{text}`"
    ticks = "`" * (1 + max(len(run) for run in re.findall("`+", text)))
    return f"{ticks} {text} {ticks}"


def command_line() -> str | None:
    """The recorded command, or None when the CLI did not run (the Python API)."""
    return _COMMAND


def command_lines() -> list[str]:
    """A report's "Command: `...`" paragraph (two lines), or nothing without a command."""
    return [] if _COMMAND is None else [f"Command: {code_span(_COMMAND)}", ""]


def spawn_blocker() -> str | None:
    """Why worker processes started with multiprocessing's "spawn" cannot run in this process,
    or None when they can. A spawned worker re-runs the main script from its file; a script
    read from standard input (`python - <<EOF`) names "<stdin>", which is no file, and every
    worker died with FileNotFoundError (hunt 189: solve_many's traceback, a sweep's runs stored
    as errors). `python -c`, an interactive session and `python -m` re-run nothing, or a module.
    A daemonic process (a multiprocessing Pool's worker) may start none: multiprocessing's bare
    AssertionError reached solve_many's caller (hunt 215 M2)."""
    from multiprocessing import current_process, process

    if current_process().daemon:
        return ("this is a daemonic process (a multiprocessing Pool's worker?), which may not "
                "start processes of its own")
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
        from multiprocessing import current_process

        from exactprune.instances.errors import InputError

        remedy = "" if current_process().daemon else "from a file, or "
        raise InputError(f"jobs = {jobs}: {why}; run it {remedy}with jobs=0 (in this process)")
