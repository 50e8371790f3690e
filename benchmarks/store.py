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
parent); readers (``exactprune results ...``) may open the file while a sweep runs.

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
import json
import sqlite3
import urllib.parse
from datetime import UTC, datetime
from pathlib import Path
from types import TracebackType
from typing import Any, TextIO

from exactprune.instances.errors import InputError
from exactprune.instances.io import check_output, dumps, json_default

SCHEMA_VERSION = 1
APPLICATION_ID = 0x45585052
"""SQLite application id of our stores ("EXPR"): a file without it is never written to."""

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

_COLUMNS = ("key", "experiment", "solver", "status", "wall_time_s", "solver_version", "spec",
            "record", "created")

EXPORT_FORMATS = ("csv", "jsonl")


def canonical_json(obj: Any) -> str:
    """The canonical JSON text of `obj`: sorted keys, no spaces, ASCII, finite numbers only.

    numpy scalars and arrays are converted to plain numbers and lists. Note that JSON keeps the
    difference between ``1`` and ``1.0``: they give different keys. Raises InputError for
    anything not JSON-serialisable (NaN and infinities included).
    """
    try:
        return json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=True,
                          allow_nan=False, default=json_default)
    except (TypeError, ValueError) as exc:
        raise InputError(f"spec is not JSON-serialisable with finite numbers: {exc}") from None


def store_state(path: Path) -> str:
    """"missing" (no file, or an empty one), "ours" (our application id, or a store written
    before the id existed: tables meta and runs with a schema_version), or "foreign".

    Only the SQLite header is read for the id; a file of another kind is never opened for
    writing."""
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
    try:
        uri = f"file:{urllib.parse.quote(str(path.resolve()))}?mode=ro"
        with contextlib.closing(sqlite3.connect(uri, uri=True)) as conn:
            tables = {r[0] for r in conn.execute(
                "SELECT name FROM sqlite_master WHERE type = 'table'")}
            if not {"meta", "runs"} <= tables:
                return "foreign"
            row = conn.execute("SELECT value FROM meta WHERE name = 'schema_version'").fetchone()
    except sqlite3.DatabaseError:
        return "foreign"
    return "ours" if row is not None else "foreign"


class ResultStore:
    """An embedded SQLite file of finished runs (see the module docstring).

    `path`: the SQLite file; created (with its table) if missing unless ``create=False``, in
    which case a missing file is an InputError and the file is opened read-only (readers never
    change it). A file that is not an exactprune results store (no application id of ours, no
    store tables) is an InputError and is never written to. Use as a context manager, or call
    :meth:`close`.
    """

    def __init__(self, path: str | Path, *, create: bool = True) -> None:
        self.path = Path(path)
        self._conn: sqlite3.Connection | None = None
        state = store_state(self.path)
        if state == "missing" and not create:
            raise InputError(f"no such results store: {self.path}" if not self.path.exists()
                             else f"results store {self.path} is empty (nothing stored yet)")
        if state == "foreign":
            raise InputError(f"{self.path} is not an exactprune results store"
                             + (" (refusing to write to it)" if create else ""))
        if state == "missing":
            check_output(self.path, what="results store")
        try:
            if create:
                # autocommit mode: every transaction below is explicit (BEGIN IMMEDIATE..COMMIT)
                self._conn = sqlite3.connect(str(self.path), timeout=60.0, isolation_level=None)
                conn = self._conn
                mode = conn.execute("PRAGMA journal_mode=WAL").fetchone()[0]
                if str(mode).lower() != "wal":
                    raise InputError(f"cannot put {self.path} in WAL mode (got {mode!r})")
                conn.execute("PRAGMA synchronous=FULL")
                conn.execute(f"PRAGMA application_id = {APPLICATION_ID}")
                conn.executescript(_SCHEMA)
                conn.execute("INSERT OR IGNORE INTO meta (name, value) "
                             "VALUES ('schema_version', ?)", (str(SCHEMA_VERSION),))
            else:  # read only: never changes the file (not even its journal mode)
                uri = f"file:{urllib.parse.quote(str(self.path.resolve()))}?mode=ro"
                self._conn = sqlite3.connect(uri, uri=True, timeout=60.0, isolation_level=None)
            version = self._conn.execute(
                "SELECT value FROM meta WHERE name = 'schema_version'").fetchone()[0]
        except sqlite3.DatabaseError as exc:
            self.close()
            raise InputError(f"{self.path} is not a usable results store: {exc}") from None
        except InputError:
            self.close()
            raise
        if version != str(SCHEMA_VERSION):
            self.close()
            raise InputError(f"{self.path} has results schema version {version}; this version "
                             f"of exactprune reads version {SCHEMA_VERSION}")

    # -- keys and single rows ---------------------------------------------------------------
    @staticmethod
    def key(spec: dict) -> str:
        """sha256 hex digest of the canonical JSON of `spec` (see :func:`canonical_json`)."""
        if not isinstance(spec, dict):
            raise InputError(f"a run spec must be a dict, got {type(spec).__name__}")
        return hashlib.sha256(canonical_json(spec).encode("ascii")).hexdigest()

    @property
    def conn(self) -> sqlite3.Connection:
        if self._conn is None:
            raise ValueError("the results store is closed")
        return self._conn

    def has(self, key: str) -> bool:
        """Whether a run with this key is stored (whatever its status)."""
        return self.conn.execute("SELECT 1 FROM runs WHERE key = ?", (key,)).fetchone() is not None

    def keys(self) -> set[str]:
        """Every stored key."""
        return {r[0] for r in self.conn.execute("SELECT key FROM runs")}

    def get(self, key: str) -> dict | None:
        """The stored run, or None.

        Returns ``{"key", "spec", "status", "record", "wall_time_s", "created"}`` (spec and
        record parsed back from JSON) plus ``"experiment"``, ``"solver"`` and
        ``"solver_version"``.
        """
        row = self.conn.execute(f"SELECT {', '.join(_COLUMNS)} FROM runs WHERE key = ?",
                                (key,)).fetchone()
        return None if row is None else _row_dict(row)

    def put(self, key: str, spec: dict, status: str, record: dict, wall_time_s: float) -> None:
        """Store one finished run in its own committed transaction (replacing any older row).

        `record` is stored as JSON text; non-finite floats in it become null (as in every
        exactprune JSON). When this returns, the row is durable.
        """
        if not isinstance(status, str) or not status:
            raise InputError(f"status must be a non-empty string, got {status!r}")
        if not isinstance(record, dict):
            raise InputError(f"record must be a dict, got {type(record).__name__}")
        spec_text = canonical_json(spec)
        record_text = dumps(record)
        versions = record.get("solver_versions", record.get("solver_version"))
        version_text = None if versions is None else dumps(versions)
        experiment = spec.get("experiment")
        solver = spec.get("solver")
        created = datetime.now(UTC).isoformat(timespec="milliseconds")
        conn = self.conn
        conn.execute("BEGIN IMMEDIATE")
        try:
            conn.execute(
                "INSERT INTO runs (key, experiment, solver, status, wall_time_s, solver_version, "
                "spec, record, created) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) "
                "ON CONFLICT (key) DO UPDATE SET experiment = excluded.experiment, "
                "solver = excluded.solver, status = excluded.status, "
                "wall_time_s = excluded.wall_time_s, solver_version = excluded.solver_version, "
                "spec = excluded.spec, record = excluded.record, created = excluded.created",
                (key, None if experiment is None else str(experiment),
                 None if solver is None else str(solver), status,
                 None if wall_time_s is None else float(wall_time_s), version_text, spec_text,
                 record_text, created))
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        conn.execute("COMMIT")

    # -- many rows ----------------------------------------------------------------------------
    def rows(self, experiment: str | None = None) -> list[dict]:
        """Every stored run (optionally of one experiment), oldest first, as :meth:`get` gives."""
        sql = f"SELECT {', '.join(_COLUMNS)} FROM runs"
        args: tuple[Any, ...] = ()
        if experiment is not None:
            sql += " WHERE experiment = ?"
            args = (experiment,)
        sql += " ORDER BY created, rowid"
        return [_row_dict(r) for r in self.conn.execute(sql, args)]

    def summary(self) -> list[dict]:
        """Counts per (experiment, status): ``[{"experiment", "status", "runs",
        "wall_time_s"}]`` with the total wall seconds, sorted by experiment then status."""
        cur = self.conn.execute(
            "SELECT experiment, status, COUNT(*), COALESCE(SUM(wall_time_s), 0) FROM runs "
            "GROUP BY experiment, status ORDER BY experiment, status")
        return [{"experiment": e, "status": s, "runs": n, "wall_time_s": w} for e, s, n, w in cur]

    def export(self, fmt: str, out: TextIO, experiment: str | None = None) -> int:
        """Write every row (or one experiment's) to `out` as ``csv`` or ``jsonl``; returns the
        number of rows written.

        jsonl: one object per line, as :meth:`get` returns it. csv: the columns key,
        experiment, solver, status, wall_time_s, solver_version, created, then one
        ``param.NAME`` column per parameter in ``spec["params"]`` and one ``record.NAME`` column
        per scalar field of the record (union over the rows, blank where absent; non-scalars as
        JSON), then the full ``spec`` and ``record`` as JSON text.
        """
        if fmt not in EXPORT_FORMATS:
            raise InputError(f"unknown export format {fmt!r} (use csv or jsonl)")
        rows = self.rows(experiment)
        if fmt == "jsonl":
            for row in rows:
                out.write(dumps(row) + "\n")
            return len(rows)
        params: dict[str, None] = {}
        fields: dict[str, None] = {}
        for row in rows:
            p = row["spec"].get("params")
            if isinstance(p, dict):
                params.update(dict.fromkeys(p))
            fields.update(dict.fromkeys(k for k, v in row["record"].items() if _is_scalar(v)))
        head = ["key", "experiment", "solver", "status", "wall_time_s", "solver_version",
                "created"]
        columns = (head + [f"param.{k}" for k in params] + [f"record.{k}" for k in fields]
                   + ["spec", "record"])
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(columns)
        for row in rows:
            p = row["spec"].get("params")
            p = p if isinstance(p, dict) else {}
            rec = row["record"]
            line = [_cell(row[c]) for c in head]
            line += [_cell(p[k]) if k in p else "" for k in params]
            line += [_cell(rec[k]) if k in rec and _is_scalar(rec[k]) else "" for k in fields]
            line += [dumps(row["spec"]), dumps(rec)]
            writer.writerow(line)
        return len(rows)

    # -- lifetime -----------------------------------------------------------------------------
    def close(self) -> None:
        """Close the connection (idempotent)."""
        conn, self._conn = getattr(self, "_conn", None), None
        if conn is not None:
            conn.close()

    def __enter__(self) -> ResultStore:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"ResultStore({str(self.path)!r})"


def _row_dict(row: tuple[Any, ...]) -> dict:
    """A stored row with its JSON columns parsed; InputError (naming the run) for a row whose
    JSON was damaged outside exactprune (spec and record must be JSON objects)."""
    d = dict(zip(_COLUMNS, row, strict=True))
    for col in ("spec", "record", "solver_version"):
        if col == "solver_version" and d[col] is None:
            continue
        try:
            d[col] = json.loads(d[col])
        except (TypeError, ValueError, RecursionError):  # JSONDecodeError, bad UTF-8, a BLOB
            d[col] = None
        if d[col] is None or (col != "solver_version" and not isinstance(d[col], dict)):
            what = "valid JSON" if col == "solver_version" else "a JSON object"
            raise InputError(f"the stored run {d['key']} is corrupt: its {col} column is not "
                             f"{what}")
    return d


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
