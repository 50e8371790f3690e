"""Instance JSON I/O: one reader for every kind, atomic writes, clear errors."""

from __future__ import annotations

import json
import math
import os
import tempfile
from pathlib import Path
from typing import Any

from exactprune.instances.errors import InputError
from exactprune.instances.header import FORMAT, VERSION


def _reject_constant(name: str) -> float:
    raise InputError(f"JSON contains {name}, which is not a finite number")


def read_json(path: str | os.PathLike[str]) -> Any:
    """Parse a JSON file; missing, unreadable or corrupt files raise InputError."""
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise InputError(f"no such file: {p}") from None
    except (IsADirectoryError, PermissionError, UnicodeDecodeError) as exc:
        raise InputError(f"cannot read {p}: {exc.__class__.__name__}") from None
    try:
        return json.loads(text, parse_constant=_reject_constant)
    except json.JSONDecodeError as exc:
        raise InputError(f"{p} is not valid JSON: {exc.msg} at line {exc.lineno}") from None


def instance_from_json(data: Any) -> Any:
    """Build the instance object of the right kind from a parsed JSON document."""
    if not isinstance(data, dict):
        raise InputError("an instance file must hold a JSON object")
    if data.get("format", FORMAT) != FORMAT:
        raise InputError(f"not an exactprune instance (format {data.get('format')!r})")
    version = data.get("version", VERSION)
    if version != VERSION:
        raise InputError(f"unsupported instance version {version!r} (this version reads 1)")
    from exactprune.instances.catalog import KINDS

    kind = data.get("kind")
    if not isinstance(kind, str) or kind not in KINDS:
        raise InputError(f"unknown instance kind {kind!r} (known: {', '.join(KINDS)})")
    return KINDS[kind].instance_type.from_json(data)


def load_instance(path: str | os.PathLike[str]) -> Any:
    """Read an instance file of any registered kind."""
    return instance_from_json(read_json(path))


def json_default(obj: Any) -> Any:
    """numpy scalars and arrays as plain Python values (the `default` of json.dumps)."""
    import numpy as np

    if isinstance(obj, np.bool_):
        return bool(obj)
    if isinstance(obj, np.integer):
        return int(obj)
    if isinstance(obj, np.floating):
        return float(obj)
    if isinstance(obj, np.ndarray):
        return obj.tolist()
    raise TypeError(f"not JSON serialisable: {type(obj).__name__}")


def dumps(data: Any, indent: int | None = None) -> str:
    """JSON text; non-finite floats become null rather than invalid JSON."""

    def clean(obj: Any) -> Any:
        if isinstance(obj, float) and not math.isfinite(obj):
            return None
        if isinstance(obj, dict):
            return {k: clean(v) for k, v in obj.items()}
        if isinstance(obj, list | tuple):
            return [clean(v) for v in obj]
        return obj

    return json.dumps(clean(data), indent=indent, default=json_default, allow_nan=False)


def write_json_atomic(path: str | os.PathLike[str], data: Any) -> None:
    """Write JSON to `path` through a temporary file and rename, so no partial file is left."""
    text = dumps(data, indent=1) + "\n"
    write_text_atomic(path, text)


def write_text_atomic(path: str | os.PathLike[str], text: str) -> None:
    """Write `text` to `path` atomically (temporary file in the same folder, then rename)."""
    p = Path(path)
    if not p.parent.exists():
        raise InputError(f"output folder does not exist: {p.parent}")
    fd, tmp = tempfile.mkstemp(prefix=f".{p.name}.", dir=p.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(text)
        os.replace(tmp, p)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def save_instance(instance: Any, path: str | os.PathLike[str]) -> None:
    """Write an instance as JSON (atomically)."""
    write_json_atomic(path, instance.to_json())
