"""A resumable results store: one SQLite row per finished run, keyed by a hash of its spec.

A *run* is described by a JSON-serialisable ``spec`` (instance parameters, seed, solver, options,
and the name of its ``"experiment"``). Its key is the sha256 of the spec's canonical JSON (sorted
keys, no spaces), so the same run always has the same key, whatever the order of the dict, the
position in a grid or the machine. :mod:`exactprune.benchmarks.sweep` skips every run whose key is
already stored, which is what makes a killed sweep resumable.

Durability: the file is in WAL mode with ``synchronous=FULL`` and every :meth:`ResultStore.put`
is one transaction, so a process killed at any moment (even ``SIGKILL``, even mid-write) leaves
the file readable with every committed row complete and no half row: SQLite discards an
uncommitted WAL tail when it next opens the file. Only one process should write (the sweep's
parent); readers (``exactprune results ...``) may open the file while a sweep runs. A new store
gets its application id, tables and schema version in one transaction; a process that finds a
SQLite file still being created (no application id, no tables) waits up to
:data:`CREATION_WAIT_S` for its creator instead of refusing it. Readers open the file read-only,
and in a place where SQLite cannot create the ``-shm`` file beside it (a read-only folder) as
``immutable``: nobody can write it there either. Any SQLite error of a damaged store (corrupt
pages, a table or column dropped outside exactprune) is an InputError naming the store.

Table ``runs`` (one row per key):

========================  =================================================================
key                       sha256 hex of the canonical JSON of ``spec`` (primary key)
experiment, solver        copied from ``spec["experiment"]`` / ``spec["solver"]`` (or NULL)
status                    ``ok``, ``error``, ``killed``, or what the task reported
                          (``optimal``, ``time_limit``, ...)
wall_time_s               wall-clock seconds of the run (float)
solver_version            ``record["solver_versions"]`` or ``record["solver_version"]`` (JSON)
spec, record              the full spec and result record, as JSON text
created                   UTC time the row was written, ISO 8601 with milliseconds
========================  =================================================================

Example (runnable)::

    import io, tempfile, os
    from exactprune.benchmarks.store import ResultStore

    path = os.path.join(tempfile.mkdtemp(), "results.sqlite")
    spec = {"experiment": "demo", "params": {"n": 20}, "seed": 1, "solver": "mitm"}
    with ResultStore(path) as store:
        key = ResultStore.key(spec)
        store.put(key, spec, "ok", {"objective": 1e-6}, wall_time_s=0.02)
        assert store.has(key) and store.get(key)["record"] == {"objective": 1e-6}
        buf = io.StringIO()
        store.export("jsonl", buf)            # one JSON object per row
"""

from __future__ import annotations

import contextlib
import csv
import hashlib
import math
import os
import sqlite3
import time
import urllib.parse
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from types import TracebackType
from typing import Any, TextIO

from exactprune.instances.errors import InputError
from exactprune.instances.io import (
    canonical_json,
    check_output,
    dumps,
    folder_ending,
    parse_json_text,
    write_target,
)
from exactprune.termination import signals_held

SCHEMA_VERSION = 1
APPLICATION_ID = 0x45585052
"""SQLite application id of our stores ("EXPR"): a file without it is never written to."""

BUSY_TIMEOUT_S = 60.0
"""How long a connection waits for another process's lock (SQLite's busy timeout)."""

CREATION_WAIT_S = 5.0
"""How long an empty SQLite file (no application id, no tables: a store another process is
creating) is waited for before it is refused as not ours."""

_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (name TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS runs (
    key            TEXT PRIMARY KEY,
    experiment     TEXT,
    solver         TEXT,
    status         TEXT NOT NULL,
    wall_time_s    REAL,
    solver_version TEXT,
    spec           TEXT NOT NULL,
    record         TEXT NOT NULL,
    created        TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS runs_experiment ON runs (experiment, status);
"""
_SCHEMA_STATEMENTS = tuple(s.strip() for s in _SCHEMA.split(";") if s.strip())

_COLUMNS = ("key", "experiment", "solver", "status", "wall_time_s", "solver_version", "spec",
            "record", "created")

EXPORT_FORMATS = ("csv", "jsonl")


def store_state(path: Path) -> str:
    """"missing" (no file, or an empty one), "ours" (our application id, or a store written
    before the id existed: tables meta and runs with a schema_version), "foreign", or "empty"
    (a SQLite file with no application id and nothing in it, which stayed so for
    :data:`CREATION_WAIT_S`: not ours either).

    A SQLite file with no application id and no tables is a store another process is creating
    (its creator has set WAL mode and not yet committed the schema): it is looked at again
    until it is ours or the wait is over. Only the SQLite header is read for the id, then the
    file is opened read-only; a file of another kind is never opened for writing."""
    deadline = time.monotonic() + CREATION_WAIT_S
    while True:
        state = _state_now(path)
        if state != "creating":
            return state
        if time.monotonic() >= deadline:
            return "empty"
        time.sleep(0.05)


def _state_now(path: Path) -> str:
    """:func:`store_state` without the wait: "creating" for an empty SQLite file that another
    process may still be turning into a store."""
    try:
        if not path.exists():
            return "missing"
        if not path.is_file():
            raise InputError(f"results store {path} is not a regular file")
        size = path.stat().st_size
        if size == 0:
            return "missing"
        with open(path, "rb") as fh:
            header = fh.read(100)
    except OSError as exc:
        raise InputError(f"cannot read results store {path}: {exc.strerror}") from None
    if len(header) < 100 or not header.startswith(b"SQLite format 3\x00"):
        return "foreign"
    app_id = int.from_bytes(header[68:72], "big")
    if app_id == APPLICATION_ID:
        return "ours"
    if app_id != 0:
        return "foreign"
    # the header's id is 0: the id (and the tables) may still be only in the WAL
    try:
        conn, immutable = _connect_read_only(path)
        with contextlib.closing(conn):
            app_id = conn.execute("PRAGMA application_id").fetchone()[0]
            if app_id == APPLICATION_ID:
                return "ours"
            if app_id != 0:
                return "foreign"
            if conn.execute("SELECT COUNT(*) FROM sqlite_master").fetchone()[0] == 0:
                # nobody can be creating a store where SQLite cannot write (immutable open)
                return "empty" if immutable else "creating"
            tables = {r[0] for r in conn.execute(
                "SELECT name FROM sqlite_master WHERE type = 'table'")}
            if not {"meta", "runs"} <= tables:
                return "foreign"
            row = conn.execute("SELECT value FROM meta WHERE name = 'schema_version'").fetchone()
    except sqlite3.DatabaseError as exc:
        if _is_busy(exc):
            raise _locked_error(path, "read") from None
        if getattr(exc, "sqlite_errorcode", None) == sqlite3.SQLITE_READONLY_ROLLBACK and \
                int.from_bytes(header[28:32], "big") <= 1:
            # a hot -journal beside a one-page file of id 0 (no table can hold a row in it):
            # its creator was killed in the switch to WAL mode; it read as another program's
            # file (hunt 159 M2). A larger one is another program's data (hunt 161 M2)
            return "empty"
        return "foreign"
    return "ours" if row is not None else "foreign"



def _connect_read_only(path: Path) -> tuple[sqlite3.Connection, bool]:
    """A read-only connection to the SQLite file `path` (in autocommit mode), and whether it
    had to be opened ``immutable``.

    A WAL database opened ``mode=ro`` needs its ``-shm`` file, which SQLite creates when it is
    missing (a store closed cleanly has none). Where it cannot be created (a read-only folder,
    or a name so long that ``NAME-shm`` is too long for the file system), SQLite fails with
    SQLITE_CANTOPEN (SQLITE_READONLY_DIRECTORY where only the folder's permissions forbid it,
    `_NO_SHM_CODES`); no writer can open the store there either (it needs the same ``-wal`` and
    ``-shm`` files), so it is opened ``immutable=1`` instead, which reads the main file alone.
    If a ``-wal`` file holds writes not yet merged into the main file, an immutable open would
    silently miss them: that is an InputError. A file this process may not write, with no
    ``-shm`` yet, is opened ``immutable`` at once: a ``mode=ro`` open would create a read-only
    ``-shm`` that blocks writers once the file is writable again. Other sqlite3 errors are
    raised as they are.
    """
    resolved = path.resolve()
    # its bytes, not its text: a name holding a byte the file system's encoding cannot
    # decode failed every later open (UnicodeEncodeError, exit 1; hunt 214 M1)
    uri = f"file:{urllib.parse.quote(os.fsencode(resolved))}?mode=ro"
    # a read-only file: nobody writes it, and a mode=ro open would leave a read-only -shm that
    # blocks writes once the file is made writable again (hunt 54 F9)
    # (only with nothing in a -wal to merge: reading one needs the -shm; hunt 56 M2)
    wal = Path(f"{resolved}-wal")
    wal_empty = not os.path.lexists(wal) or (wal.is_file() and wal.stat().st_size == 0)
    read_only_file = (not os.access(resolved, os.W_OK) and wal_empty
                      and not os.path.lexists(f"{resolved}-shm"))
    if not read_only_file:
        conn = sqlite3.connect(uri, uri=True, timeout=BUSY_TIMEOUT_S, isolation_level=None)
        try:
            conn.execute("SELECT COUNT(*) FROM sqlite_master").fetchone()
            return conn, False
        except sqlite3.OperationalError as exc:
            conn.close()
            if _primary_code(exc) != sqlite3.SQLITE_CANTOPEN and \
                    getattr(exc, "sqlite_errorcode", None) not in _NO_SHM_CODES:
                raise
        except BaseException:
            conn.close()
            raise
    if not wal_empty:
        raise InputError(f"cannot read results store {path}: SQLite cannot create {path.name}-shm "
                         f"beside it (is its folder read-only?) and {path.name}-wal holds writes "
                         f"not yet merged into it; copy both files to a writable folder and "
                         f"read the copy")
    conn = sqlite3.connect(uri + "&immutable=1", uri=True, timeout=BUSY_TIMEOUT_S,
                           isolation_level=None)
    try:
        conn.execute("SELECT COUNT(*) FROM sqlite_master").fetchone()
    except BaseException:
        conn.close()
        raise
    return conn, True


_NO_SHM_CODES = frozenset({sqlite3.SQLITE_READONLY_DIRECTORY, sqlite3.SQLITE_READONLY_CANTINIT})
"""The extended codes of a ``mode=ro`` open that cannot create ``-shm`` in a folder read-only
by its permissions (not a read-only mount, which gives SQLITE_CANTOPEN): "attempt to write a
readonly database" kept `results summary` from reading such a store (hunt 54 F2)."""


def _write_hint(path: Path) -> str:
    """Why a store cannot be written, for its error line: the file itself, one of its -wal and
    -shm files, or the folder they must be created in (only the folder was named; hunt 54 F9:
    a read-only -shm an older reader left)."""
    folder = Path(os.path.abspath(path)).parent
    if not os.access(folder, os.W_OK | os.X_OK) or not os.path.exists(path):
        return (f" (SQLite must be able to create {path.name}-wal and {path.name}-shm beside "
                f"it: is its folder writable?)")
    if not os.access(path, os.W_OK):
        return " (the file is read-only)"
    for suffix in ("-shm", "-wal"):
        side = Path(f"{path}{suffix}")
        if side.exists() and not os.access(side, os.W_OK):
            return (f" ({side.name} beside it is read-only: remove it when no process has the "
                    f"store open)")
    return (f" (SQLite must be able to create {path.name}-wal and {path.name}-shm beside it: "
            f"is its folder writable?)")


def _primary_code(exc: sqlite3.Error) -> int | None:
    """The primary SQLite result code of `exc` (its extended code without the high bits)."""
    code = getattr(exc, "sqlite_errorcode", None)
    return None if code is None else code & 0xFF


def _is_busy(exc: sqlite3.Error) -> bool:
    """SQLITE_BUSY or SQLITE_LOCKED ("database is locked"): another process holds the lock."""
    return _primary_code(exc) in (sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED)


_ACCESS_CODES = frozenset({sqlite3.SQLITE_CANTOPEN, sqlite3.SQLITE_READONLY, sqlite3.SQLITE_PERM,
                           sqlite3.SQLITE_IOERR, sqlite3.SQLITE_FULL, sqlite3.SQLITE_NOLFS,
                           sqlite3.SQLITE_AUTH})


def _store_error(path: Path, exc: sqlite3.DatabaseError, doing: str) -> InputError | None:
    """The one-line InputError for a sqlite3 error on the store at `path`, or None for an error
    to raise as it is: out of memory, interrupted, or a misuse of sqlite3 by exactprune itself
    (an internal error). Busy or locked, after SQLite waited BUSY_TIMEOUT_S, is another
    process holding the lock: one line (it was an internal error, exit 1; hunt 40)."""
    code = _primary_code(exc)
    if _is_busy(exc):
        return _locked_error(path, doing)
    if (isinstance(exc, sqlite3.ProgrammingError)
            or code in (sqlite3.SQLITE_NOMEM, sqlite3.SQLITE_INTERRUPT)):
        return None
    if code in _ACCESS_CODES:  # the file system, not the file
        hint = ""
        if doing != "read" and code in (sqlite3.SQLITE_CANTOPEN, sqlite3.SQLITE_READONLY,
                                         sqlite3.SQLITE_PERM):
            hint = _write_hint(path)
        return InputError(f"cannot {doing} results store {path}: {exc}{hint}")
    return InputError(f"results store {path} is damaged ({exc}): it was corrupted or changed "
                      f"outside exactprune")


def _no_schema_version(path: Path) -> InputError:
    return InputError(f"results store {path} is damaged (no schema_version in its meta table): "
                      "it was changed outside exactprune")


def _locked_error(path: Path, doing: str) -> InputError:
    return InputError(f"cannot {doing} results store {path}: another process has held its lock "
                      f"for over {BUSY_TIMEOUT_S:g} s (a sqlite3 shell or browser with a "
                      "transaction open?); runs already stored stay, and a new run resumes")


def _journal_mode_wal(conn: sqlite3.Connection) -> str:
    """``PRAGMA journal_mode=WAL`` on `conn`; returns the mode SQLite reports.

    Two processes switching a new file to WAL at the same moment can deadlock on the lock
    upgrade, and SQLite then answers SQLITE_BUSY at once, without its busy timeout: retried
    here for up to :data:`BUSY_TIMEOUT_S`."""
    deadline = time.monotonic() + BUSY_TIMEOUT_S
    while True:
        try:
            return str(conn.execute("PRAGMA journal_mode=WAL").fetchone()[0])
        except sqlite3.OperationalError as exc:
            if not _is_busy(exc) or time.monotonic() >= deadline:
                raise
        time.sleep(0.02)


def _create_schema(conn: sqlite3.Connection, path: Path) -> None:
    """Give the (WAL-mode, autocommit) database of `conn` our application id, tables and schema
    version in ONE transaction, so another process sees either an empty file (and waits, see
    :func:`store_state`) or a whole store; a no-op on a store that has them. A store with runs
    but no schema version is damaged, as the readers say: it was stamped version 1 and written
    on (hunt 40)."""
    conn.execute("BEGIN IMMEDIATE")
    try:
        has_runs = conn.execute("SELECT COUNT(*) FROM sqlite_master WHERE type = 'table' AND "
                                "name IN ('meta', 'runs')").fetchone()[0] == 2
        if has_runs and conn.execute("SELECT value FROM meta WHERE name = 'schema_version'"
                                     ).fetchone() is None:
            raise _no_schema_version(path)
        if conn.execute("PRAGMA application_id").fetchone()[0] != APPLICATION_ID:
            conn.execute(f"PRAGMA application_id = {APPLICATION_ID}")
        for statement in _SCHEMA_STATEMENTS:
            conn.execute(statement)
        conn.execute("INSERT OR IGNORE INTO meta (name, value) VALUES ('schema_version', ?)",
                     (str(SCHEMA_VERSION),))
        conn.execute("COMMIT")
    except BaseException:
        _rollback(conn)
        raise


def _rollback(conn: sqlite3.Connection) -> None:
    """Roll back `conn`'s open transaction, if any (SQLite may have rolled it back already)."""
    if conn.in_transaction:
        with contextlib.suppress(sqlite3.Error):
            conn.execute("ROLLBACK")


_COMPANIONS = ("-wal", "-shm", "-journal")
"""The files SQLite keeps beside a database named NAME: NAME-wal, NAME-shm, NAME-journal."""


def check_store_text(name: Any) -> None:
    """InputError for a store named as text that pathlib would quietly change: empty (Path("")
    is "."), or ending in a separator, "." or ".." (Path("x/") and Path("x/.") are "x", and a
    sweep or bench wrote into the file x; hunts 137, 139, 140)."""
    if isinstance(name, os.PathLike) and not isinstance(name, Path):  # its own __fspath__
        name = os.fspath(name)  # (hunt 141 F2)
    if not isinstance(name, str | Path):  # 123 or b"x" raised TypeError (hunt 149 L4)
        raise InputError(f"a results store is named by a str or pathlib.Path, got "
                         f"{type(name).__name__}")
    if name == "":
        raise InputError("results store is an empty name: give a file name")
    last = folder_ending(name)
    if last is not None:
        raise InputError(f"results store {name}: a name ending in {last or '/'} names a folder; "
                         "a store is a file")


def _check_store_name(path: Path, reading: bool = False) -> None:
    """InputError for a name a store must not have: ``-`` (a store is a file, not stdout) or
    another database's companion name (NAME-wal, NAME-shm, NAME-journal), which SQLite takes for
    NAME's own file and overwrites or deletes when NAME is opened (hunt 17)."""
    if str(path) == "-":
        raise InputError("a results store is a file: - (stdout) cannot hold one")
    for suffix in _COMPANIONS:
        if path.name.endswith(suffix) and len(path.name) > len(suffix):
            base = path.with_name(path.name[:-len(suffix)])
            if reading and not base.is_file():
                return  # no store beside it: "no such results store" says it best (hunt 73)
            raise InputError(f"results store {path}: a name ending in {suffix} is SQLite's own "
                             f"file beside a database named {base.name}; "
                             + (f"the store is {base}" if reading else "choose another name"))


def _names_sqlite_uses(path: Path) -> tuple[Path, ...]:
    """`path`, and the file it names through symbolic links when that differs: SQLite puts
    NAME-wal and NAME-journal beside the link's target, so the companion checks looked beside
    the link while another database beside the target was overwritten (hunt 153 M5)."""
    real = write_target(path)
    return (path,) if real == Path(os.path.abspath(path)) else (path, real)


def _check_companions(path: Path) -> None:
    """InputError when a file beside `path` under a companion name is itself a SQLite database
    (a store created under such a name before it was refused): opening `path` would make
    SQLite overwrite it as `path`'s own -wal, -shm or -journal file."""
    for suffix in _COMPANIONS:
        other = Path(f"{path}{suffix}")
        try:
            with open(other, "rb") as fh:
                header = fh.read(16)
        except OSError:
            continue
        if header == b"SQLite format 3\x00":
            raise InputError(f"{other} is a SQLite database, and SQLite would take it for "
                             f"{path.name}'s own {suffix[1:]} file and overwrite it: rename it "
                             f"before opening {path}")


class NotAStoreError(InputError):
    """The file is not an exactprune results store (another program's file, or an empty
    SQLite file): reading it is refused as writing it is, so nobody retries the other way."""


def _refuse_state(path: Path, state: str, create: bool) -> None:
    """InputError for a store file in `state` (:func:`store_state`) that cannot be opened:
    missing when reading; :class:`NotAStoreError` for another program's file or an empty
    SQLite file."""
    refusing = " (refusing to write to it)" if create else ""
    if state == "missing" and not create:
        raise InputError(f"no such results store: {path}" if not path.exists()
                         else f"results store {path} is empty (nothing stored yet)")
    if state == "foreign":
        raise NotAStoreError(f"{path} is not an exactprune results store{refusing}")
    if state == "empty":
        # the read-only look at it may leave SQLite's -wal and -shm beside it (hunt 147 L4)
        sides = [f"{path.name}{s}" for s in ("-wal", "-shm", "-journal")
                 if os.path.lexists(f"{path}{s}")]
        also = f" (and {' and '.join(sides)} beside it)" if sides else ""
        raise NotAStoreError(f"{path} is not an exactprune results store: an empty SQLite "
                             f"file{refusing}; if a sweep was killed while creating it, delete "
                             f"it{also}")


class ResultStore:
    """An embedded SQLite file of finished runs (see the module docstring).

    `path`: the SQLite file; created (with its table) if missing unless ``create=False``, in
    which case a missing file is an InputError and the file is opened read-only (readers never
    change it). A file that is not an exactprune results store (no application id of ours, no
    store tables) is an InputError and is never written to. ``lazy=True`` (with ``create``):
    a missing file is created at the first :meth:`put`, and reads before then see an empty
    store (or the store another process created meanwhile), so a sweep stopped before its
    first run stored nothing leaves no file, without ever deleting one another process may
    have joined. Names ``-`` and ``NAME-wal`` / ``-shm`` / ``-journal`` are refused for
    writing, and so is opening a store beside a SQLite database under such a name (SQLite
    would overwrite it). Use as a context manager, or call :meth:`close`.
    """

    def __init__(self, path: str | Path, *, create: bool = True, lazy: bool = False) -> None:
        check_store_text(path)
        self.path = Path(path)
        self._conn: sqlite3.Connection | None = None
        self._pending = False  # lazy: the file is created at the first put
        # why put() is refused (None: the store can be written)
        self.write_error: InputError | None = None if create else InputError(
            f"results store {self.path} was opened to read only")
        # SQLite keeps its -wal/-journal beside the file a link names: both names checked
        names = _names_sqlite_uses(self.path)
        if create:
            for name in names:
                _check_store_name(name)
        state = store_state(self.path)
        if not create and state != "ours":
            # a -wal left beside a store read as "empty (nothing stored yet)" (hunt 69)
            for name in names:
                _check_store_name(name, reading=True)
        _refuse_state(self.path, state, create)
        for name in names:
            _check_companions(name)
        if state == "missing":
            check_output(self.path, what="results store", stdout_ok=False)
            if create and lazy:  # reads see an empty store until then (see _reading)
                self._pending = True
                return
        self._open(create, existing=state == "ours")

    @classmethod
    def read_only_instead(cls, path: str | Path, cannot_write: InputError) -> ResultStore:
        """The store at `path` opened to read only, after opening it to write failed with
        `cannot_write` (an archive on a read-only mount, a store another program holds
        locked): a sweep whose runs are all stored only reads it. `cannot_write` becomes
        its :attr:`write_error`. Raises `cannot_write` when the store cannot be read
        either, at once when it says the file is not a store (an empty SQLite file was
        waited for twice, 2 x :data:`CREATION_WAIT_S`; hunt 141 F4)."""
        if isinstance(cannot_write, NotAStoreError):
            raise cannot_write
        try:
            store = cls(path, create=False)
        except InputError:
            raise cannot_write from None
        store.write_error = cannot_write
        return store

    def _open(self, create: bool, existing: bool = False) -> None:
        """Connect (creating the file and its schema when `create`) and check the schema. An
        existing store is checked read-only first (its pages and its schema version), so that
        one refused is not changed (hunt 51: a sweep wrote new runs into a store with damaged
        pages, exit 0, and they could not be read back; a store of another schema version was
        put in WAL mode before it was refused), and so that no reader counts the runs of a
        damaged index (hunt 52: `results summary` said 269 of 300, exit 0). `existing`: the
        store was ours before this open (`store_state`); a file another process is creating
        meanwhile has no schema yet to check."""
        if existing:
            self._check_pages()
        try:
            with self._guard("write to" if create else "read"):
                if create:
                    if self.path.exists() and not os.access(self.path, os.W_OK):
                        # before any connection: one to write would leave a read-only -shm
                        # that blocks writers once the file is writable (hunt 56 M3)
                        raise InputError(f"cannot write to results store {self.path}"
                                         f"{_write_hint(self.path)}")
                    # autocommit mode: every transaction below is explicit (BEGIN .. COMMIT);
                    # a relative name as ./NAME: SQLite reads a name starting with "file:" as
                    # a URI, and wrote file:w.sqlite's runs into w.sqlite (hunt 215 M1)
                    name = os.fsdecode(self.path)
                    # a Ctrl-C or SIGTERM between the file's creation and its schema left an
                    # empty SQLite file that every later sweep refused (hunt 219): answered
                    # once the store is whole
                    with signals_held():
                        self._conn = sqlite3.connect(
                            name if os.path.isabs(name) else os.path.join(os.curdir, name),
                            timeout=BUSY_TIMEOUT_S, isolation_level=None)
                        conn = self._conn
                        mode = _journal_mode_wal(conn)
                        if str(mode).lower() != "wal":
                            raise InputError(f"cannot put {self.path} in WAL mode (got "
                                             f"{mode!r})")
                        conn.execute("PRAGMA synchronous=FULL")
                        _create_schema(conn, self.path)
                else:  # read only: never changes the file (not even its journal mode)
                    self._conn = _connect_read_only(self.path)[0]
                row = self._conn.execute(
                    "SELECT value FROM meta WHERE name = 'schema_version'").fetchone()
        except BaseException:
            self.close()
            raise
        try:
            self._check_version(row)
        except InputError:
            self.close()
            raise

    def _check_version(self, row: tuple | None) -> None:
        """InputError unless `row` (the meta table's schema_version) is this version's."""
        if row is None:
            raise _no_schema_version(self.path)
        version = row[0]
        if version != str(SCHEMA_VERSION):
            raise InputError(f"{self.path} has results schema version {version}; this version "
                             f"of exactprune reads version {SCHEMA_VERSION}")

    def _check_pages(self) -> None:
        """Read-only: the store's pages pass SQLite's quick_check and its schema version is
        ours; InputError (the file untouched) otherwise."""
        with self._guard("read"):
            conn = _connect_read_only(self.path)[0]
            try:
                verdict = conn.execute("PRAGMA quick_check").fetchone()[0]
                if verdict != "ok":
                    first = str(verdict).splitlines()[-1].strip()
                    raise InputError(f"results store {self.path} is damaged (quick_check: "
                                     f"{first}): it was corrupted or changed outside "
                                     "exactprune")
                row = conn.execute(
                    "SELECT value FROM meta WHERE name = 'schema_version'").fetchone()
            finally:
                conn.close()
        self._check_version(row)

    def _materialise(self) -> None:
        """Open a lazily created store: create it, or join the store another process created
        meanwhile (checked again: the file may have appeared since)."""
        self._pending = False
        state = store_state(self.path)
        _refuse_state(self.path, state, True)
        for name in _names_sqlite_uses(self.path):
            _check_companions(name)
        self._open(True, existing=state == "ours")

    def _reading(self) -> sqlite3.Connection | None:
        """The connection for a read; None while a lazily created store has no file (nobody
        has stored a run yet), so that reading never creates it."""
        if self._pending:
            if store_state(self.path) == "missing":
                return None
            self._materialise()
        return self.conn

    @contextlib.contextmanager
    def _guard(self, doing: str) -> Iterator[None]:
        """Turn a sqlite3 error of the body into one InputError naming this store (damaged,
        locked by another process, or not readable/writable); internal misuse is raised as it
        is."""
        try:
            yield
        except sqlite3.DatabaseError as exc:
            error = _store_error(self.path, exc, doing)
            if error is None:
                raise
            raise error from None

    # -- keys and single rows ---------------------------------------------------------------
    @staticmethod
    def key(spec: dict) -> str:
        """sha256 hex digest of the canonical JSON of `spec` (see :func:`canonical_json`)."""
        if not isinstance(spec, dict):
            raise InputError(f"a run spec must be a dict, got {type(spec).__name__}")
        return hashlib.sha256(canonical_json(spec, "spec").encode("ascii")).hexdigest()

    @property
    def conn(self) -> sqlite3.Connection:
        if self._pending:
            self._materialise()
        if self._conn is None:
            raise ValueError("the results store is closed")
        return self._conn

    def has(self, key: str) -> bool:
        """Whether a run with this key is stored (whatever its status)."""
        conn = self._reading()
        if conn is None:
            return False
        with self._guard("read"):
            return conn.execute("SELECT 1 FROM runs WHERE key = ?", (key,)).fetchone() is not None

    def keys(self) -> set[str]:
        """Every stored key."""
        conn = self._reading()
        if conn is None:
            return set()
        with self._guard("read"):
            return {r[0] for r in conn.execute("SELECT key FROM runs")}

    def get(self, key: str) -> dict | None:
        """The stored run, or None.

        Returns ``{"key", "spec", "status", "record", "wall_time_s", "created"}`` (spec and
        record parsed back from JSON) plus ``"experiment"``, ``"solver"`` and
        ``"solver_version"``.
        """
        conn = self._reading()
        if conn is None:
            return None
        with self._guard("read"):
            row = conn.execute(f"SELECT {', '.join(_COLUMNS)} FROM runs WHERE key = ?",
                               (key,)).fetchone()
        return None if row is None else _row_dict(row)

    def put(self, key: str, spec: dict, status: str, record: dict, wall_time_s: float) -> None:
        """Store one finished run in its own committed transaction (replacing any older row,
        but an `error` or `killed` row never replaces a run that finished).

        `record` is stored as JSON text; non-finite floats in it become null (as in every
        exactprune JSON). When this returns, the row is durable.
        """
        if self.write_error is not None:
            raise InputError(str(self.write_error))
        if not isinstance(status, str) or not status:
            raise InputError(f"status must be a non-empty string, got {status!r}")
        if not isinstance(record, dict):
            raise InputError(f"record must be a dict, got {type(record).__name__}")
        spec_text = canonical_json(spec, "spec")
        record_text = dumps(record)
        versions = record.get("solver_versions", record.get("solver_version"))
        version_text = None if versions is None else dumps(versions)
        experiment = spec.get("experiment")
        solver = spec.get("solver")
        created = datetime.now(UTC).isoformat(timespec="milliseconds")
        conn = self.conn
        with self._guard("write to"):
            conn.execute("BEGIN IMMEDIATE")
            try:
                conn.execute(
                    "INSERT INTO runs (key, experiment, solver, status, wall_time_s, "
                    "solver_version, spec, record, created) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) "
                    "ON CONFLICT (key) DO UPDATE SET experiment = excluded.experiment, "
                    "solver = excluded.solver, status = excluded.status, "
                    "wall_time_s = excluded.wall_time_s, "
                    "solver_version = excluded.solver_version, spec = excluded.spec, "
                    "record = excluded.record, created = excluded.created "
                    # a failure never replaces a finished run: a second sweep on the store
                    # killed its copy after the first had stored it (hunt 159 L1)
                    "WHERE excluded.status NOT IN ('error', 'killed') "
                    "OR runs.status IN ('error', 'killed')",
                    (key, None if experiment is None else str(experiment),
                     None if solver is None else str(solver), status,
                     _finite_or_none(wall_time_s), version_text,
                     spec_text, record_text, created))
                conn.execute("COMMIT")
            except BaseException:
                _rollback(conn)
                raise

    # -- many rows ----------------------------------------------------------------------------
    def rows(self, experiment: str | None = None) -> list[dict]:
        """Every stored run (optionally of one experiment), oldest first, as :meth:`get` gives."""
        sql = f"SELECT {', '.join(_COLUMNS)} FROM runs"
        args: tuple[Any, ...] = ()
        if experiment is not None:
            sql += " WHERE experiment = ?"
            args = (experiment,)
        sql += " ORDER BY created, rowid"
        conn = self._reading()
        if conn is None:
            return []
        with self._guard("read"):
            found = conn.execute(sql, args).fetchall()
        return [_row_dict(r) for r in found]

    def readable_specs(self, experiment: str) -> list[dict]:
        """The specs of one experiment's runs that parse as JSON objects, oldest first; a row
        damaged outside exactprune is skipped, not an error (for checks that only advise:
        `solve_sweep.other_spellings`; `rows` refuses such a row, naming it)."""
        conn = self._reading()
        if conn is None:
            return []
        with self._guard("read"):
            found = conn.execute("SELECT spec FROM runs WHERE experiment = ? ORDER BY created, "
                                 "rowid", (experiment,)).fetchall()
        out = []
        for (text,) in found:
            try:
                spec = parse_json_text(text, "a stored run")
            except (TypeError, ValueError, RecursionError):
                continue
            if isinstance(spec, dict):
                out.append(spec)
        return out

    def kinds(self, experiment: str) -> set[str]:
        """The problem kinds (``spec["kind"]``) one experiment's runs name; rows without one,
        or damaged outside exactprune, are left out (for advice: `solve_sweep.other_kinds`)."""
        conn = self._reading()
        if conn is None:
            return set()
        with self._guard("read"):
            # CASE, not AND, keeps the JSON functions off text that is no JSON (they raise);
            # a kind that is an object or a list came back as its JSON text (hunt 202 L1)
            found = conn.execute(
                "SELECT DISTINCT kind FROM (SELECT CASE WHEN json_valid(spec) THEN CASE WHEN "
                "json_type(spec) = 'object' AND json_type(spec, '$.kind') = 'text' THEN "
                "json_extract(spec, '$.kind') END END AS kind FROM runs WHERE experiment = ?) "
                "WHERE kind IS NOT NULL", (experiment,)).fetchall()
        return {k for (k,) in found if isinstance(k, str)}

    def summary(self) -> list[dict]:
        """Counts per (experiment, status): ``[{"experiment", "status", "runs",
        "wall_time_s"}]`` with the total wall seconds, sorted by experiment then status."""
        conn = self._reading()
        if conn is None:
            return []
        with self._guard("read"):
            found = conn.execute(
                "SELECT experiment, status, COUNT(*), COALESCE(SUM(wall_time_s), 0) FROM runs "
                "GROUP BY experiment, status ORDER BY experiment, status").fetchall()
        for e, s, _, w in found:
            _check_plain("experiment", e, None)
            _check_plain("status", s, None)
            _check_plain("wall_time_s", w, None)
        return [{"experiment": e, "status": s, "runs": n, "wall_time_s": w}
                for e, s, n, w in found]

    def export(self, fmt: str, out: TextIO, experiment: str | None = None) -> int:
        """Write every row (or one experiment's) to `out` as ``csv`` or ``jsonl``; returns the
        number of rows written.

        jsonl: one object per line, as :meth:`get` returns it. csv: the columns key,
        experiment, solver, status, wall_time_s, solver_version, created, then one
        ``param.NAME`` column per parameter in ``spec["params"]`` (a bench run's
        ``spec["instance"]["params"]``; a list of numbers, such as target_weights, as its JSON
        text), one ``spec.NAME`` column per other scalar field of
        the spec (seed, trial, threads, ...), one ``option.NAME`` column per scalar in
        ``spec["options"]`` (time_limit and the solver options) and one ``record.NAME`` column
        per field of the record (each union over the rows, blank where absent; a field that
        is a list or object in some row, such as a mask, only in the JSON), then the full
        ``spec`` and ``record`` as JSON text.
        """
        if fmt not in EXPORT_FORMATS:
            raise InputError(f"unknown export format {fmt!r} (use csv or jsonl)")
        rows = self.rows(experiment)
        if fmt == "jsonl":
            for row in rows:
                out.write(dumps(row) + "\n")
            return len(rows)
        head = ["key", "experiment", "solver", "status", "wall_time_s", "solver_version",
                "created"]
        # the dicts each column group reads, per row: generator parameters, the spec's
        # other fields, its options, the record
        groups = [("param", lambda row: _spec_params(row["spec"])),
                  ("spec", lambda row: {k: v for k, v in row["spec"].items()
                                        if k not in head and k not in _SPEC_NESTED}),
                  ("option", lambda row: _as_dict(row["spec"].get("options"))),
                  ("record", lambda row: row["record"])]
        per_row = [[read(row) for _, read in groups] for row in rows]
        names: list[list[str]] = []
        for g in range(len(groups)):
            seen: dict[str, None] = {}
            listed: set[str] = set()  # a list or object in some row (a mask): JSON only
            for dicts in per_row:
                for k, v in dicts[g].items():
                    # a vector grid value (target_weights) is a parameter too: its JSON text
                    # in the cell, or two grid points had the same param columns (hunt 99 L5)
                    if _is_scalar(v) or (groups[g][0] == "param" and isinstance(v, list)
                                         and all(_is_scalar(x) for x in v)):
                        seen.setdefault(k, None)
                    else:
                        listed.add(k)
            names.append([k for k in seen if k not in listed])
        columns = head + [f"{prefix}.{k}" for (prefix, _), ks in zip(groups, names, strict=True)
                          for k in ks] + ["spec", "record"]
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(columns)
        for row, dicts in zip(rows, per_row, strict=True):
            line = [_cell(row[c]) for c in head]
            for d, ks in zip(dicts, names, strict=True):
                line += [_cell(d[k]) if k in d else "" for k in ks]
            line += [dumps(row["spec"]), dumps(row["record"])]
            writer.writerow(line)
        return len(rows)

    # -- lifetime -----------------------------------------------------------------------------
    def close(self) -> None:
        """Close the connection (idempotent)."""
        conn, self._conn = getattr(self, "_conn", None), None
        self._pending = False
        if conn is not None:
            conn.close()

    def __enter__(self) -> ResultStore:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"ResultStore({str(self.path)!r})"


# spec fields with columns of their own in the CSV export (params, options) or none (instance)
_SPEC_NESTED = ("params", "options", "instance")


def _as_dict(value: Any) -> dict:
    return value if isinstance(value, dict) else {}


def _spec_params(spec: dict) -> dict:
    """The generator parameters of a run: a sweep's ``spec["params"]``, a bench run's
    ``spec["instance"]["params"]`` (whose export had no instance columns before; hunt 10)."""
    params = spec.get("params")
    if not isinstance(params, dict):
        instance = spec.get("instance")
        params = instance.get("params") if isinstance(instance, dict) else None
    return params if isinstance(params, dict) else {}


def _row_dict(row: tuple[Any, ...]) -> dict:
    """A stored row with its JSON columns parsed; InputError (naming the run) for a row whose
    JSON was damaged outside exactprune (spec and record must be JSON objects)."""
    d = dict(zip(_COLUMNS, row, strict=True))
    for col in ("key", "experiment", "solver", "status", "wall_time_s", "created"):
        _check_plain(col, d[col], d["key"])
    for col in ("spec", "record", "solver_version"):
        if col == "solver_version" and d[col] is None:
            continue
        try:  # strict: NaN, Infinity and a key given twice (edited in) are refused (hunt 40)
            d[col] = parse_json_text(d[col], "a stored run")
        except (TypeError, ValueError, RecursionError):  # InputError, bad UTF-8, a BLOB
            d[col] = None
        if d[col] is None or (col != "solver_version" and not isinstance(d[col], dict)):
            what = "valid JSON" if col == "solver_version" else "a JSON object"
            raise InputError(f"the stored run {d['key']} is corrupt: its {col} column is not "
                             f"{what}")
    for name in RECORD_NUMBERS:  # a string edited in was a sweep's internal error (hunt 199 L2)
        value = d["record"].get(name)
        if value is not None and (isinstance(value, bool) or not isinstance(value, int | float)):
            raise InputError(f"the stored run {d['key']} is corrupt: its record's {name} is "
                             f"{type(value).__name__}, not a number")
    return d


RECORD_NUMBERS = ("objective", "bound", "kept", "wall_time_s")
"""Record fields every exactprune writer stores as numbers (or null), which the sweep tables
and `results` compute with."""


_PLAIN_TYPES: dict[str, tuple[type, ...]] = {
    "key": (str,), "experiment": (str, type(None)), "solver": (str, type(None)),
    "status": (str,), "wall_time_s": (float, int, type(None)), "created": (str,)}
"""What each plain column holds as exactprune writes it; SQLite keeps whatever it is given."""


def _check_plain(col: str, value: Any, key: Any) -> None:
    """InputError naming the run when a plain column holds what exactprune never writes (a
    BLOB, a number for a name: damage outside exactprune made `results export` an internal
    error; hunt 29)."""
    if not isinstance(value, _PLAIN_TYPES[col]) or isinstance(value, bool):
        run = f"the stored run {key}" if isinstance(key, str) else "a stored run"
        raise InputError(f"{run} is corrupt: its {col} column holds {type(value).__name__}")


def _finite_or_none(seconds: Any) -> float | None:
    """A wall time as stored: a finite float, or NULL (as NaN and inf are in the record)."""
    if seconds is None:
        return None
    seconds = float(seconds)
    return seconds if math.isfinite(seconds) else None


def _is_scalar(value: Any) -> bool:
    return value is None or isinstance(value, str | int | float | bool)


def _cell(value: Any) -> Any:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str | int | float):
        return value
    return dumps(value)
