"""Instance JSON I/O: one reader for every kind, checked destinations, atomic writes.

Reading (`read_json`, `read_bytes`): only regular files (not a folder, a device such as
/dev/zero, a FIFO), at most `MAX_INPUT_BYTES`, UTF-8, JSON nesting within Python's recursion
limit; every failure (missing, unreadable, symlink loop, too large, corrupt) is one InputError
line.

Writing: `check_output(path)` checks a destination before any work (a folder that exists and can
be written to, a name the file system accepts, not a folder, not a device or /proc file, not one
of the command's input files; "-" means stdout) and `write_text_atomic` writes through a
temporary file in the same folder and a rename, so no partial file is ever left; the file gets
the permissions of the user's umask, like any file the user creates.
"""

from __future__ import annotations

import contextlib
import dataclasses
import hashlib
import json
import math
import os
import shutil
import stat
import tempfile
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from exactprune.instances.errors import InputError
from exactprune.instances.header import check_header
from exactprune.instances.params import is_integer


def _reject_constant(name: str) -> float:
    raise InputError(f"JSON contains {name}, which is not a finite number")


def _float64_number(text: str) -> float:
    """A JSON number with a fraction or exponent as float64, refusing those float64 cannot
    hold: 1e400 was read as inf and 1e-400 as 0.0, silently (hunt 35)."""
    x = float(text)
    if math.isinf(x):
        raise InputError(f"JSON number {text[:40]} is beyond the float64 range")
    if x == 0.0 and any(c in "123456789" for c in text.lower().split("e")[0]):
        raise InputError(f"JSON number {text[:40]} underflows float64 to 0")
    return x


def _object_of_unique_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    """A JSON object, refusing a key given twice: the last one won silently, while readers
    that keep the first read another instance from the same file (hunt 35)."""
    out = dict(pairs)
    if len(out) != len(pairs):
        seen: set[str] = set()
        for key, _ in pairs:
            if key in seen:
                raise InputError(f"JSON object has the key {key!r} twice")
            seen.add(key)
    return out


MAX_INPUT_BYTES = 512 * 2**20
"""Largest file read as an instance, result or grid (512 MiB)."""


def _os_error(p: Path, exc: OSError, output: str | None = None) -> InputError:
    """One line for an OSError on `p`, read or (`output`: what it is) to be written."""
    why = exc.strerror or type(exc).__name__
    return InputError(f"cannot read {p}: {why}" if output is None else f"{output} {p}: {why}")


def as_path(path: Any, what: str = "a file path", output: bool = False) -> Path:
    """`path` (str or os.PathLike of str) as a Path; InputError for anything else (None, a
    number, bytes, a parsed JSON document), which Path() would turn into a TypeError.
    `output`: a file to write, so a name ending in a folder (`x/`, `x/.`, `x/..`, which Path()
    turns into `x`) is refused (the API's writers overwrote x; hunt 149 M1)."""
    if isinstance(path, str) or (isinstance(path, os.PathLike)
                                 and isinstance(os.fspath(path), str)):
        if not os.fspath(path):  # Path("") is ".", "cannot read .: it is a folder" (hunt 98)
            raise InputError(f"{what} is empty: give a file name")
        if "\x00" in os.fspath(path):  # every OS call raised ValueError on it (hunt 31)
            raise InputError(f"{what} contains a NUL character: {os.fspath(path)!r:.80}")
        if output and folder_ending(path) is not None:
            raise InputError(f"output file {os.fspath(path)!r} names a folder, not a file")
        return Path(path)
    raise InputError(f"expected {what} (str or pathlib.Path), got {type(path).__name__}")


def read_bytes(path: str | os.PathLike[str], limit: int = MAX_INPUT_BYTES) -> bytes:
    """The bytes of a regular file of at most `limit` bytes; InputError otherwise."""
    p = as_path(path)
    try:
        st = p.stat()
    except FileNotFoundError:
        raise InputError(f"no such file: {p}") from None
    except OSError as exc:  # ELOOP (a symlink loop), EACCES, ENAMETOOLONG, ...
        raise _os_error(p, exc) from None
    if stat.S_ISDIR(st.st_mode):
        raise InputError(f"cannot read {p}: it is a folder")
    if not stat.S_ISREG(st.st_mode):
        raise InputError(f"cannot read {p}: not a regular file")
    if st.st_size > limit:
        raise InputError(f"{p} is larger than the {limit // 2**20} MiB limit")
    try:
        with open(p, "rb") as fh:
            data = fh.read(limit + 1)
    except OSError as exc:
        raise _os_error(p, exc) from None
    if len(data) > limit:
        raise InputError(f"{p} is larger than the {limit // 2**20} MiB limit")
    return data


def parse_json_text(text: str, source: str) -> Any:
    """Parse JSON text (NaN and infinities refused, nesting bounded); InputError naming
    `source` otherwise."""
    try:
        return json.loads(text, parse_constant=_reject_constant, parse_float=_float64_number,
                          object_pairs_hook=_object_of_unique_keys)
    except json.JSONDecodeError as exc:
        raise InputError(f"{source} is not valid JSON: {exc.msg} at line {exc.lineno}") from None
    except RecursionError:
        raise InputError(f"{source}: JSON nested too deeply to read") from None
    except ValueError as exc:  # e.g. an integer of more than 4300 digits
        raise InputError(f"{source} is not valid JSON: {exc}") from None


def read_json(path: str | os.PathLike[str], what: str = "a file path") -> Any:
    """Parse a JSON file; missing, unreadable, oversized or corrupt files raise InputError
    (`what` names the path in the message when it is empty)."""
    p = as_path(path, what)
    try:
        text = read_bytes(p).decode("utf-8")
    except UnicodeDecodeError:
        raise InputError(f"{p} is not UTF-8 text") from None
    return parse_json_text(text, str(p))


def instance_from_json(data: Any) -> Any:
    """Build the instance object of the right kind from a parsed JSON document."""
    check_header(data)
    from exactprune.instances.catalog import KINDS

    kind = data.get("kind")
    if not isinstance(kind, str) or kind not in KINDS:
        raise InputError(f"unknown instance kind {kind!r} (known: {', '.join(KINDS)})")
    return KINDS[kind].instance_type.from_json(data)


def load_instance(path: str | os.PathLike[str], what: str = "the instance file path") -> Any:
    """Read an instance file of any registered kind."""
    return instance_from_json(read_json(path, what))


def check_generator(generator: Any) -> None:
    """InputError unless `generator` (how an instance was made) is None or a JSON object that
    round-trips: string keys, finite numbers, text, booleans, null, lists and objects (numpy
    numbers and arrays too), nested at most 64 deep. Anything else failed only on saving."""
    if generator is None:
        return
    if not isinstance(generator, dict):
        raise InputError("generator must be an object (dict) or null")
    import numpy as np

    def walk(x: Any, depth: int) -> None:
        if depth > 64:
            raise InputError("generator is nested too deeply (or contains itself)")
        if x is None or isinstance(x, bool | str | np.bool_) or is_integer(x):
            return  # (is_integer: not numpy's timedelta64; hunt 147 M1)
        if isinstance(x, float | np.floating):
            if not math.isfinite(float(x)):
                raise InputError(f"generator holds a non-finite number {x!r}")
            return
        if isinstance(x, np.ndarray) and x.dtype.kind in "biuf":
            walk(x.tolist(), depth + 1)
            return
        if isinstance(x, list | tuple):
            for y in x:
                walk(y, depth + 1)
            return
        if isinstance(x, dict):
            for key, y in x.items():
                if not isinstance(key, str):
                    raise InputError(f"generator keys must be text, got {key!r}")
                walk(y, depth + 1)
            return
        raise InputError(f"generator must hold JSON data, got a {type(x).__name__}")

    walk(generator, 0)


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


def json_infinity(x: float) -> float | str:
    """A float for JSON where an infinity is a proved value, not a missing one: +-inf as the
    strings "inf" / "-inf" (`dumps` writes a bare non-finite float as null, "no value")."""
    if math.isinf(x):
        return "inf" if x > 0 else "-inf"
    return x


def canonical_json(obj: Any, what: str = "value") -> str:
    """The canonical JSON text of `obj`: sorted keys, no spaces, ASCII, finite numbers only.

    numpy scalars and arrays are converted to plain numbers and lists. Note that JSON keeps the
    difference between ``1`` and ``1.0``: they give different keys. Raises InputError for
    anything not JSON-serialisable (NaN and infinities included), naming `what` it is (a
    store's "spec").
    """
    try:
        return json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=True,
                          allow_nan=False, default=json_default)
    except (TypeError, ValueError) as exc:
        raise InputError(f"{what} is not JSON-serialisable with finite numbers: {exc}") from None


def instance_sha256(instance: Any) -> str:
    """The sha256 (hex) of an instance: its type and fields in order, arrays by dtype, shape and
    bytes, everything else by its canonical JSON. What a result records of the instance it was
    solved on, so `certify` can tell a result of another instance (hunt 61 H1: a result whose
    mask had the same error on two instances lent its bound to the other). The same after the
    instance's JSON round trip (its arrays come back as the same float64 values); the bytes,
    not the JSON text, so that it costs one pass over the data (the JSON took 2 s on a
    5,000 × 512 neuron selection; hunt 62 M2)."""
    digest = hashlib.sha256()
    _feed(digest, instance)
    return digest.hexdigest()


def names_instance(claimed: Any, instance: Any) -> bool | None:
    """Whether a result (a JSON object) was solved on `instance`: its `instance_sha256` against
    the instance's; None when it names no instance (written before results recorded it)."""
    digest = claimed.get("instance_sha256") if isinstance(claimed, dict) else None
    return None if digest is None else digest == instance_sha256(instance)


def _feed(digest: Any, value: Any) -> None:
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        digest.update(f"<{type(value).__name__}".encode())
        for f in dataclasses.fields(value):
            digest.update(f"|{f.name}=".encode())
            _feed(digest, getattr(value, f.name))
        digest.update(b">")
    elif isinstance(value, np.ndarray):
        array = np.ascontiguousarray(value)
        digest.update(f"<array {array.dtype.str} {array.shape}>".encode())
        digest.update(array.tobytes())
    else:
        digest.update(canonical_json(value).encode("ascii"))


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


def write_json_atomic(path: str | os.PathLike[str], data: Any, *, follow: bool = True) -> None:
    """Write JSON to `path` through a temporary file and rename, so no partial file is left
    (`follow`: as in write_text_atomic)."""
    text = dumps(data, indent=1) + "\n"
    write_text_atomic(path, text, follow=follow)


_VIRTUAL = ("/proc", "/sys", "/dev")


def write_target(path: Path) -> Path:
    """The file a write to `path` changes: the path with every symbolic link resolved
    (os.path.realpath). A final link is followed, as the shell's `>` does, so its target gets
    the new file and the link stays (the atomic rename replaced the link by a file and left
    its target stale; hunt 149 L5); and `link/..` is what the kernel makes of it, the parent of
    the link's target, not what the text says (check_output looked at another file than the
    one written; hunt 153 M4). A link whose target does not exist yet creates the target."""
    return Path(os.path.realpath(path))


def _link_text_naming_folder(path: Path) -> str | None:
    """The text of a symbolic link on the way from `path` (a chain of final links) that ends in
    a folder (`real/new/`): the write would make a file of it, which the same name given
    directly is refused for (hunt 153 L3)."""
    for _ in range(40):  # the kernel's own limit on a chain
        try:
            if not path.is_symlink():
                return None
            text = os.readlink(path)
        except OSError:
            return None
        if folder_ending(text) is not None:
            return text
        path = path.parent / text
    return None


def user_file_mode() -> int:
    """The mode a new file gets from open(): 0o666 less the umask. Files written through
    mkstemp (0o600) and a rename are given it, so that results are readable as any file is."""
    mask = os.umask(0o022)
    os.umask(mask)
    return 0o666 & ~mask


def folder_ending(name: Any) -> str | None:
    """The last component of a file name given as text when it names a folder ("" after a
    trailing separator, "." or ".."), else None: pathlib drops it (Path("x/") and Path("x/.")
    are "x"), so the file x was written where a folder was named (hunts 137 F3, 148 L1)."""
    if isinstance(name, os.PathLike) and not isinstance(name, Path):  # its own __fspath__
        name = os.fspath(name)
    if not isinstance(name, str) or name == "":
        return None
    last = name.replace(os.sep, "/").rsplit("/", 1)[-1]
    return last if last in ("", ".", "..") else None


def check_output(path: str | os.PathLike[str] | None, *, inputs: tuple[Any, ...] = (),
                 what: str = "output file", stdout_ok: bool = True,
                 follow: bool = True) -> Path | None:
    """Check a destination file before any work: None for "-" or None (stdout), else the Path.

    InputError (one line) when the folder is missing or not writable, the name is too long,
    the path is a folder, a device or under /proc, /sys or /dev, or it is one of `inputs`.
    The file checked is the one written, `write_target(path)`: through symbolic links
    (follow=False: the name itself, which a rename replaces, link or not: a report's files).
    stdout_ok=False: the destination cannot be stdout (a results store), so the refusals do not
    suggest "-"."""
    if path is None or str(path) == "-":
        return None
    if str(path) == "":  # Path("") is ".": it said "output file . is a folder" (hunt 26)
        raise InputError(f"{what} is an empty name: give a file name")
    if folder_ending(path) is not None:  # tested on the text: Path() drops it (hunt 148 L1)
        raise InputError(f"{what} {os.fspath(path)!r} names a folder, not a file")
    p = Path(path)
    check_name_lengths(p, what)
    try:
        _check_output(p, inputs, what, " (use - for stdout)" if stdout_ok else "", follow)
    except OSError as exc:  # a folder on the way that cannot be searched, a path too long
        raise _os_error(p, exc, what) from None
    return p


def _check_output(p: Path, inputs: tuple[Any, ...], what: str, hint: str,
                  follow: bool) -> None:
    given = Path(os.path.abspath(p))
    target = write_target(p) if follow else given
    for where in (given, target):  # /dev/stdout is a link to the file stdout goes to (M2)
        if any(str(where) == v or str(where).startswith(v + os.sep) for v in _VIRTUAL):
            raise InputError(f"{what} {p}: not a regular file system location{hint}")
    if follow and (text := _link_text_naming_folder(p)) is not None:
        raise InputError(f"{what} {p} is a link to {text!r}, which names a folder, not a file")
    if follow and target.is_symlink():  # realpath stops inside a loop of links
        raise InputError(f"{what} {p} is a loop of symbolic links")
    if follow:
        _check_no_dangling_parent(p, what)
    link = p.is_symlink()
    via = f" (a link to {target})" if follow and link else ""
    parent = target.parent
    shown = parent if via else p.parent  # the folder as the user named it, when they did
    if not parent.exists():
        raise InputError(f"{what} {p}{via}: folder {shown} does not exist")
    if not parent.is_dir():
        raise InputError(f"{what} {p}{via}: {shown} is not a folder")
    if not os.access(parent, os.W_OK | os.X_OK):
        raise InputError(f"{what} {p}{via}: folder {shown} is not writable")
    if link and not follow:  # the rename replaces the link, whatever it points at (hunt 154)
        return
    if target.is_dir():
        raise InputError(f"{what} {p}{via} is a folder")
    if target.exists() and not target.is_file():
        raise InputError(f"{what} {p}{via} is not a regular file{hint}")
    for other in inputs:
        if other is not None and target.exists() and Path(other).exists() and \
                os.path.samefile(target, other):
            raise InputError(f"{what} {p} is also an input of this command; it would be "
                             "overwritten")


# names whose extension says another format than the JSON a command writes
OTHER_FORMATS = {".npz": "NumPy arrays", ".npy": "a NumPy array", ".safetensors": "safetensors",
                 ".csv": "CSV", ".tsv": "TSV", ".mps": "MPS", ".lp": "LP", ".pkl": "a pickle",
                 ".pickle": "a pickle", ".pt": "PyTorch", ".pth": "PyTorch",
                 ".parquet": "Parquet", ".db": "a database", ".sqlite": "SQLite",
                 ".h5": "HDF5", ".hdf5": "HDF5", ".svg": "SVG", ".png": "PNG", ".pdf": "PDF"}


def check_json_name(path: str | os.PathLike[str] | None, what: str = "output file") -> None:
    """InputError (one line) when a JSON destination's extension names another format
    (`solve -o result.csv`, `save_instance(inst, "x.npz")` wrote JSON under those names, as
    `export` refuses `--format lp -o model.mps`) or a compressed file (`-o r.json.gz` wrote
    plain JSON, where the text writers refuse such names); None and "-" (stdout) pass."""
    if (not isinstance(path, str | os.PathLike) or str(path) == "-"
            or folder_ending(path) is not None):
        return  # not a name, or one ending as a folder: refused as such where it is written
    for where, how in _names_written(Path(path)):  # hunt 183 L6
        if where.name.lower().endswith(COMPRESSED_SUFFIXES):  # plain JSON under .gz (hunt 226 L3)
            raise InputError(f"{what} {os.fspath(path)}{how}: this writes JSON, not a "
                             "compressed file; name it .json and compress it afterwards")
        suffix = "." + _extension(where.name)
        if suffix in OTHER_FORMATS:
            raise InputError(f"{what} {os.fspath(path)}{how}: this writes JSON, "
                             f"but {suffix} names {OTHER_FORMATS[suffix]}; name it .json")


def _names_written(path: Path) -> list[tuple[Path, str]]:
    """The output name as given, and the file a write changes where a symbolic link leads
    elsewhere (`write_target`), each with how a message shows it ("" / " (a link to X)"): a
    writer judges both by their extensions. A name that cannot be resolved (a null byte, a
    loop) is refused as such where it is written."""
    try:
        target = write_target(path)
    except (OSError, ValueError):
        return [(path, "")]
    return [(path, "")] + ([(target, f" (a link to {target})")]
                           if target.name != path.name else [])


def check_outputs_apart(paths: Sequence[Path]) -> None:
    """InputError when two of one command's output files are one file through symbolic links
    (`write_target`): the last write would be all that file held, the others lost without a
    word (train's plot over its network, one suite instance over another; hunt 153)."""
    seen: dict[Path, Path] = {}
    for path in paths:
        same = seen.setdefault(write_target(path), path)
        if same is not path:
            raise InputError(f"{same} and {path} are the same file (through a symbolic link)")


def names_a_file(value: Any) -> bool:
    """Whether `value` is a string naming an existing regular file (False for any other value,
    and for text no file system takes as a name: too long, a NUL byte)."""
    if not isinstance(value, str) or not value:
        return False
    try:
        return Path(value).is_file()
    except (OSError, ValueError):
        return False


def check_name_lengths(path: str | os.PathLike[str], what: str) -> None:
    """InputError when a name in `path` is longer than its file system allows (the limit of
    the nearest existing folder); call it before any Path.exists() on a user's output path,
    which raises ENAMETOOLONG (an internal error in bench --out and sweep --store before)."""
    resolved = Path(os.path.abspath(path))
    folder = resolved.parent
    while True:
        try:
            if folder.exists():
                break
        except OSError:
            pass
        if folder == folder.parent:
            break
        folder = folder.parent
    try:
        name_max = os.pathconf(folder, "PC_NAME_MAX")
    except (OSError, ValueError):
        name_max = 255
    if any(len(os.fsencode(part)) > name_max for part in resolved.parts):
        raise InputError(f"{what} {str(path)[:60]}...: a name in it is longer than "
                         f"{name_max} bytes")
    try:
        path_max = os.pathconf(folder, "PC_PATH_MAX")
    except (OSError, ValueError):
        path_max = 4096
    if len(os.fsencode(resolved)) >= path_max:  # ENAMETOOLONG from every call (hunt 154 M3)
        raise InputError(f"{what} {str(path)[:60]}...: the path is longer than "
                         f"{path_max - 1} bytes")


COMPRESSED_SUFFIXES = (".gz", ".bz2", ".xz", ".zst", ".zip", ".7z", ".tgz", ".tbz", ".tbz2",
                       ".txz", ".lz4", ".lzma", ".lz", ".z", ".br", ".rar", ".sz")  # hunt 227 L3
"""Names of compressed files, which the text writers refuse: they write plain text."""


def _extension(name: str) -> str:
    """The extension a file name says, lower case, without its dot: "lp" for m.LP, and for the
    hidden file .lp too (Path's suffix of ".lp" is empty, and MPS text was written there)."""
    suffix = Path(name).suffix or (name if name.count(".") == 1 and name[0] == "." else "")
    return suffix.lower().lstrip(".")


def output_format(path: str | os.PathLike[str] | None, fmt: str | None,
                  formats: tuple[str, ...], what: str = "export",
                  unlike: tuple[str, ...] = ()) -> str:
    """The format to write: the output file's extension when it names one of `formats`, else
    `fmt`, else the first of `formats`. InputError when `fmt` contradicts the extension (CSV
    text in x.jsonl, MPS text in m.lp), for an unknown format, for a compressed file name
    (plain text under .gz), or for an extension in `unlike` (a format that is not written,
    such as .json beside JSON lines) when no `fmt` is given."""
    fmt = None if fmt is None else str(fmt).lower()
    if fmt is not None and fmt not in formats:
        raise InputError(f"unknown {what} format {fmt!r} (use {' or '.join(formats)})")
    if path is None or os.fspath(path) == "-":
        return fmt or formats[0]
    given = os.fspath(path)  # as given, folder and all, as check_json_name shows it (hunt 227 L4)
    asked = fmt
    # the name given and where a link leads, as check_json_name (hunt 226 L2: export -o y.lp
    # wrote LP text into the x.json it led to)
    for where, how in _names_written(Path(path)):
        name, shown = where.name, given + how
        if name.lower().endswith(COMPRESSED_SUFFIXES):
            raise InputError(f"cannot write a compressed file ({shown}): name it "
                             f"{' or '.join('.' + f for f in formats)} and compress it "
                             "afterwards")
        suffix = _extension(name)
        if asked is None and suffix in unlike:
            raise InputError(f"{what} writes {' or '.join(formats)}, not {suffix}: name the "
                             f"file {' or '.join('.' + f for f in formats)}, or give --format "
                             f"({shown})")
        if suffix in formats:
            if fmt is not None and fmt != suffix:
                raise InputError(f"format {fmt} does not match the output file {shown}")
            fmt = suffix
    return fmt or formats[0]


def check_output_dir(path: str | os.PathLike[str], what: str = "output folder") -> Path:
    """Check an output folder before any work (it is created later, when there is something
    to write): it exists as a writable folder, or it can be made with its missing parents
    (as `mkdir -p`: the nearest folder that exists is writable; hunt 228 note). Checked where
    its name leads through symbolic links (`write_target`), as output files are, and as
    given."""
    if os.fspath(path) == "":  # Path("") is ".": the current folder, its report overwritten
        raise InputError(f"{what} needs a name, got an empty one")
    p = Path(path)
    if str(p) == "-":
        raise InputError(f"{what} must be a folder, not - (stdout)")
    check_name_lengths(p, what)
    try:
        _check_output_dir(p, what)
    except OSError as exc:  # a folder on the way that cannot be searched, a path too long
        raise _os_error(p, exc, what) from None
    return p


def _check_no_dangling_parent(p: Path, what: str, include_self: bool = False) -> None:
    """InputError when a link among the folders `p` names (and `p` itself with include_self)
    leads nowhere or in a loop: the kernel finds no such path (`dl/../x` with dl dangling),
    where realpath's text gave one (hunts 153 L1, 155 L2, 157 L2)."""
    for q in ((p, *p.parents) if include_self else p.parents):
        if q.is_symlink() and not q.exists():
            end = write_target(q)
            raise InputError(f"{what} {p}: {q} is a loop of symbolic links" if end.is_symlink()
                             else f"{what} {p}: {q} is a link to {end}, which does not exist")
        if q is not p and q.exists() and not q.is_dir():  # afile/../x (hunt 160 L3)
            raise InputError(f"{what} {p}: {q} is not a folder")


def _check_output_dir(p: Path, what: str) -> None:
    resolved = write_target(p)  # lnk/../rep is where the kernel puts it (hunt 154 M2)
    _check_no_dangling_parent(p, what, include_self=True)
    for where in (Path(os.path.abspath(p)), resolved):
        if any(str(where) == v or str(where).startswith(v + os.sep) for v in _VIRTUAL):
            raise InputError(f"{what} {p}: not a regular file system location")
    if resolved.exists():
        if not resolved.is_dir():
            raise InputError(f"{what} {p} exists and is not a folder")
        if not os.access(resolved, os.W_OK | os.X_OK):
            raise InputError(f"{what} {p} is not writable")
        return
    parent = resolved.parent
    while not parent.exists():  # mkdir(parents=True) later
        parent = parent.parent
    if not parent.is_dir() or not os.access(parent, os.W_OK | os.X_OK):
        raise InputError(f"{what} {p}: cannot create it in {parent}")


@contextlib.contextmanager
def output_dir(path: str | os.PathLike[str], what: str = "output folder") -> Iterator[Path]:
    """Create the output folder (checked first) for the body; if the body fails and the folder
    was created here and is still empty, remove it again, so that nothing is left behind."""
    p = check_output_dir(path, what)
    created = [q for q in (p, *p.parents) if not q.exists()]  # this folder and new parents
    try:
        p.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise InputError(f"cannot create {what} {p}: {exc.strerror}") from None
    try:
        yield p
    except BaseException:
        for q in created:  # innermost first; each only when empty
            try:
                q.rmdir()
            except OSError:
                break
        raise


STAGING_PREFIX = ".exactprune-staging-"
"""A report's staging folder inside its output folder: the prefix, then the writer's pid."""


@contextlib.contextmanager
def folder_lock(folder: str | os.PathLike[str], *, wait: bool = True) -> Iterator[bool]:
    """Hold an exclusive flock on `folder` (a directory) for the block; yields whether it is
    held. Without `wait`, BlockingIOError when another process holds it. Where locks do not
    exist (no fcntl, a file system without flock on folders) the block runs unlocked (False).
    The kernel drops the lock when its holder dies, whatever the pid namespace or the kill."""
    try:
        import fcntl
    except ImportError:  # pragma: no cover - not POSIX
        yield False
        return
    try:
        fd = os.open(folder, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
    except OSError:
        yield False
        return
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | (0 if wait else fcntl.LOCK_NB))
            held = True
        except BlockingIOError:
            raise
        except OSError:  # no locks here
            held = False
        yield held
    finally:
        os.close(fd)  # (releases the lock)


def reap_orphaned(root: str | os.PathLike[str], prefix: str) -> None:
    """Remove the folders `prefix` + pid + "-..." in `root` whose process died without
    cleaning up (SIGKILL): a folder whose pid no longer runs is nobody's; one of another user,
    or without a pid in its name, stays. A folder whose writer holds its `folder_lock` stays
    too: a writer in another pid namespace (a container sharing the volume), whose pid means
    nothing here, lost its live staging folder and its report (hunt 210 M1)."""
    with contextlib.suppress(OSError):
        for entry in os.scandir(root):
            name = entry.name
            if not name.startswith(prefix) or not entry.is_dir(follow_symlinks=False):
                continue
            pid_text = name[len(prefix):].split("-", 1)[0]
            if not pid_text.isdigit() or entry.stat(follow_symlinks=False).st_uid != os.getuid():
                continue
            try:
                os.kill(int(pid_text), 0)
            except ProcessLookupError:
                try:
                    with folder_lock(entry.path, wait=False):
                        shutil.rmtree(entry.path, ignore_errors=True)
                except BlockingIOError:
                    pass  # its writer lives, in another pid namespace: leave it
            except OSError:
                pass  # alive (someone else's process): leave it


@contextlib.contextmanager
def written_together(folder: str | os.PathLike[str]) -> Iterator[Path]:
    """A staging folder inside the existing `folder` for files that belong together (a report,
    its plots, its JSON): they are written there and moved into `folder` only once all are
    written, one rename each. On an error or Ctrl-C the staging folder goes and `folder` keeps
    what it had: an interrupted report left some plots without their report, or new plots
    beside an older report (hunt 27). Paths written into the files should name `folder`."""
    dest = write_target(Path(folder))  # lnk/../out is where the kernel has it (hunt 154 M2)
    # a writer killed outright (SIGKILL) left its staging folder for good (hunt 206 L1)
    reap_orphaned(dest, STAGING_PREFIX)
    try:
        stage = Path(tempfile.mkdtemp(prefix=f"{STAGING_PREFIX}{os.getpid()}-", dir=dest))
    except OSError as exc:
        raise InputError(f"cannot write in {dest}: {exc.strerror or type(exc).__name__}") \
            from None
    try:
        with folder_lock(stage):  # ours while we live (reap_orphaned)
            yield stage
            _move_in(dest, stage)
    finally:
        shutil.rmtree(stage, ignore_errors=True)


def _move_in(dest: Path, stage: Path) -> None:
    """`written_together`'s moves: every file of `stage` into `dest`, the earlier report's
    stale files removed and the manifest written, all or none, under `dest`'s `folder_lock`:
    two reports written into one folder at once left one's plots beside the other's report.md
    (or its stale plots for good), both with exit 0 (hunt 210 H1)."""
    written = sorted(stage.iterdir())
    # a folder or device under a file's name, the manifest's too: refused before any move
    # (a folder named as the manifest failed the command after the report was in; hunt 54)
    # links among them are replaced, not followed: a report's file linked to an input,
    # to its store or onto another file system overwrote it or was half moved (hunt 153)
    for name in (*(f.name for f in written), WRITTEN_LIST):
        check_output(dest / name, follow=False, stdout_ok=False)
    prints = {f.name: _fingerprint(f) for f in written}
    with folder_lock(dest):  # from reading the earlier manifest to writing the new one
        earlier = _written_before(dest)
        swap = _Swap(dest, stage / ".before")
        try:  # the moves, the stale files' removal and the manifest: all, or the folder back
            for f in written:
                swap.move_in(f)
            _forget_stale(dest, {n: h for n, h in earlier.items() if n not in prints},
                          swap.remove)
            manifest = dest / WRITTEN_LIST
            swap.keep_before_writing(manifest)
            try:
                write_json_atomic(manifest, {"format": WRITTEN_FORMAT, "files": prints},
                                  follow=False)
            except InputError:  # the report is in: a next report then removes nothing
                try:
                    manifest.unlink()
                except FileNotFoundError:
                    pass
                except OSError as exc:  # the earlier manifest would misname the new files
                    swap.unchanged(manifest)  # for the next report (hunt 212 L2)
                    raise OSError(exc.errno, f"{exc.strerror or exc}: the manifest "
                                  f"{WRITTEN_LIST} could not be replaced or removed") from None
        except BaseException as exc:  # an OS error, or a Ctrl-C between two steps
            stuck = swap.undo()
            if isinstance(exc, OSError):
                where = exc.filename2 or exc.filename  # a rename's target: the file it names
                raise InputError(f"cannot write in {dest}: {exc.strerror or exc}" + (
                    f" ({Path(where).name})" if where else "") + (
                    f"; {len(stuck)} of its files could not be put back as they were "
                    f"({', '.join(sorted(stuck))})" if stuck else "")) from None
            raise


class _Swap:
    """Changes to the files of a report folder that can be undone: each file there before is
    kept first in `keep` (beside it, on one file system) by a hard link, or a copy where links
    fail, so a reader never finds it missing. A summary.json that could not be replaced left
    the new report and plots beside the older JSON (hunt 203 M1), and a Ctrl-C after the last
    rename left old plots beside the new report, under the old manifest (hunt 205 M1)."""

    def __init__(self, dest: Path, keep: Path) -> None:
        self.dest, self.keep = dest, keep
        self.done: list[tuple[Path, Path | None]] = []
        keep.mkdir()

    def _kept(self, target: Path) -> Path | None:
        if not os.path.lexists(target):
            return None
        kept = self.keep / target.name
        try:
            os.link(target, kept, follow_symlinks=False)
        except OSError:
            shutil.copy2(target, kept, follow_symlinks=False)
        return kept

    def _change(self, target: Path, change: Callable[[], None]) -> None:
        self.done.append((target, self._kept(target)))
        try:
            change()
        except OSError:  # a rename or unlink that fails leaves the file as it was: nothing
            _, kept = self.done.pop()  # to put back (an immutable one cannot be)
            if kept is not None:
                with contextlib.suppress(OSError):
                    kept.unlink()
            raise

    def move_in(self, f: Path) -> None:
        target = self.dest / f.name
        self._change(target, lambda: os.replace(f, target))

    def remove(self, target: Path) -> None:
        self._change(target, target.unlink)

    def keep_before_writing(self, target: Path) -> None:
        self.done.append((target, self._kept(target)))

    def unchanged(self, target: Path) -> None:
        """`target`, kept before writing, was left as it was: nothing to put back."""
        if self.done and self.done[-1][0] == target:
            _, kept = self.done.pop()
            if kept is not None:
                with contextlib.suppress(OSError):
                    kept.unlink()

    def undo(self) -> list[str]:
        """Put every file back as it was, last change first; the names it could not."""
        stuck = []
        for target, kept in reversed(self.done):
            try:
                if kept is not None:
                    os.replace(kept, target)
                elif os.path.lexists(target):
                    target.unlink()
            except OSError:
                stuck.append(target.name)
        return stuck


def _same_folder(a: Path, b: Path) -> bool:
    """Whether two resolved folder paths are one folder: by name, or by the device and inode
    of their nearest existing folders and the same names below them (a bind mount shows one
    folder under two names, also before the report folder is made; hunts 155 L1, 157 L1)."""
    if a == b:
        return True

    def existing(path: Path) -> tuple[Path, tuple[str, ...]]:
        rest: list[str] = []
        while not path.exists() and path != path.parent:
            rest.append(path.name)
            path = path.parent
        return path, tuple(reversed(rest))

    try:
        (a_base, a_rest), (b_base, b_rest) = existing(a), existing(b)
        return a_rest == b_rest and os.path.samefile(a_base, b_base)
    except OSError:
        return False


REPORT_SUFFIXES = (".md", ".json", ".png", ".svg")
"""The endings of the files the reports write (report.md, summary.json, plots)."""


def check_store_beside_report(store: str | os.PathLike[str] | None,
                              folder: str | os.PathLike[str]) -> None:
    """InputError, before any work, when the results store `store` is the report folder
    `folder` itself or a folder above it (hunts 181 L1, 183 L2), or is in it under a name a
    report's file may take (an ending in REPORT_SUFFIXES, the manifest), by the name as given
    or where its links lead: the report's rename replaced the store, every run in it lost,
    with exit 0 (hunts 68 M1, 154 H1, L2)."""
    if store is None:
        return
    p = Path(store)
    home = write_target(Path(folder))
    target = write_target(p)
    for above in (home, *home.parents):
        # verify pruning-gap ran every trial into a store made at the folder's path (or at a
        # folder above it), then found no folder to write its report in (hunts 181 L1, 183 L2)
        if _same_folder(target, above):
            said = (f"results store {p} and the report folder {folder} are the same path"
                    if above == home else f"results store {p} is a folder on the report "
                    f"folder's path ({folder})")
            raise InputError(f"{said}: name the store otherwise (e.g. runs.sqlite beside the "
                             "folder)")
    for where in (write_target(p.parent) / p.name, write_target(p)):
        if (where.suffix.lower() in REPORT_SUFFIXES or where.name == WRITTEN_LIST) and \
                _same_folder(where.parent, home):
            raise InputError(f"results store {p} is in the report folder {folder} under a "
                             f"name its files may take (*{', *'.join(REPORT_SUFFIXES)}): the "
                             "report would replace it; name the store otherwise (.sqlite)")


WRITTEN_LIST = ".exactprune-written.json"
"""The files `written_together` last moved into a folder, each with the SHA-256 of its bytes:
the next report written there removes those it does not write again (a plot an earlier run
drew stayed beside a report saying it had none; hunt 53), and only while a file still holds
those bytes: a file the user saved or edited under such a name since is theirs (removed by
name alone before; hunt 54). Files it never wrote are never touched."""
WRITTEN_FORMAT = "exactprune.written/2"


def _fingerprint(path: Path) -> str:
    """SHA-256 (hex) of a file's bytes."""
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _written_before(dest: Path) -> dict[str, str]:
    """The files the previous report in `dest` wrote, name to SHA-256 (none when unknown or
    unreadable: a manifest of the first form, a list of names, gives none)."""
    try:
        data = json.loads((dest / WRITTEN_LIST).read_text(encoding="utf-8"))
    except (OSError, ValueError, RecursionError):
        return {}
    files = data.get("files") if isinstance(data, dict) and \
        data.get("format") == WRITTEN_FORMAT else None
    if not isinstance(files, dict):
        return {}
    return {n: h for n, h in files.items() if isinstance(n, str) and isinstance(h, str)
            and n and os.sep not in n and "\0" not in n and n not in (".", "..", WRITTEN_LIST)}


def _forget_stale(dest: Path, files: dict[str, str],
                  remove: Callable[[Path], None] = Path.unlink) -> None:
    """Remove from `dest` (by `remove`) the regular files `files` names that still hold the
    bytes recorded (an earlier report's, not rewritten); any other, or one that cannot be
    read, stays. One that is the earlier report's but cannot be removed (immutable) is an
    OSError naming it: it stayed beside the new report, silently (hunt 205 L4)."""
    for name, digest in files.items():
        f = dest / name
        try:
            stale = f.is_file() and not f.is_symlink() and _fingerprint(f) == digest
        except (OSError, ValueError):  # a name too long, unreadable: left as it is
            continue
        if stale:
            try:
                remove(f)
            except OSError as exc:
                raise OSError(exc.errno, f"{exc.strerror or exc}: the earlier report's {name} "
                              "could not be removed") from None


def write_text_atomic(path: str | os.PathLike[str], text: str, *,
                      follow: bool = True) -> None:
    """Write `text` to `path` atomically (temporary file in the same folder, then rename);
    the file gets the user's umask permissions. Failures are InputError lines; nothing is left
    behind. A symbolic link is written through to its target (follow=False: replaced, as a
    report's own files are). A path holding a byte the file system's encoding could not
    decode (a surrogate escape) is written as its escape: a bench report naming such a
    folder ran every solve, then failed (UnicodeEncodeError, exit 1; hunt 214 M2)."""
    write_bytes_atomic(path, text.encode("utf-8", "backslashreplace"), follow=follow)


def write_bytes_atomic(path: str | os.PathLike[str], data: bytes, *,
                       follow: bool = True) -> None:
    """write_text_atomic for bytes (a plot's PNG)."""
    p = as_path(path, output=True)
    check_output(p, follow=follow)
    target = write_target(p) if follow else p  # messages name p, as the user did (hunt 155 L3)
    try:  # the temporary name <= 200 bytes
        fd, tmp = tempfile.mkstemp(prefix=f".{target.name[:50]}.", dir=target.parent)
    except OSError as exc:
        raise InputError(f"cannot write {p}: {exc.strerror or type(exc).__name__}") from None
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
        os.chmod(tmp, user_file_mode())
        os.replace(tmp, target)
    except BaseException as exc:
        Path(tmp).unlink(missing_ok=True)
        if isinstance(exc, OSError):
            raise InputError(f"cannot write {p}: {exc.strerror or exc}") from None
        raise


def save_instance(instance: Any, path: str | os.PathLike[str]) -> None:
    """Write an instance as JSON (atomically)."""
    # check_mask as solve() asks: a SolveResult has kind and to_json, and overwrote the
    # instance file it was given (hunt 93 M2)
    if not isinstance(getattr(instance, "kind", None), str) or not all(
            hasattr(instance, name) for name in ("to_json", "check_mask")):
        raise InputError("save_instance takes an exactprune instance (load_instance, "
                         f"generate_*), got {type(instance).__name__}")
    check_json_name(path, "instance file")
    write_json_atomic(path, instance.to_json())
