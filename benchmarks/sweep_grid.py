"""Sweep grids: the specs of (parameters x trials x solvers), their seeds, TOML grid files and
the command-line flags of a sweep (`exactprune sweep`; :mod:`exactprune.benchmarks.sweep` runs
the specs).

Seeds. :func:`instance_seed` derives an instance's seed from (base seed, a sha256 of the
instance's parameters, trial index) through ``numpy.random.SeedSequence``: never from the
position in the grid, so adding values to a grid leaves every existing instance, and its key, as
it was. ``seed_params`` restricts the parameters that enter the seed: e.g. leaving out
``"width"`` gives every width the same seed (nested networks: common random numbers).

A TOML sweep file (:func:`load_grid_toml`) gives the same arguments as :func:`grid`::

    experiment = "subset_sum_scaling"
    base_seed = 0
    seeds = 10                      # trials 0..9 (or a list of trial indices)
    solvers = ["mitm", "cpsat"]
    # seed_params = ["n"]           # parameters the instance seed depends on (default: all)
    [params]
    n = [16, 20, 24]
    low = -1.0                      # a single value
    [options]                       # copied into every spec
    time_limit = 60
"""

from __future__ import annotations

import argparse
import hashlib
import itertools
import math
import os
import tomllib
from typing import Any

import numpy as np

from exactprune.benchmarks.sweep_dask import scheduler_flag
from exactprune.instances.errors import InputError
from exactprune.instances.io import canonical_json
from exactprune.instances.params import (
    INTEGER_TEXT,
    is_integer,
    nonneg_int,
    positive_amount,
    positive_int,
)

__all__ = [
    "add_sweep_arguments",
    "check_distinct",
    "grid",
    "grid_kwargs_from_args",
    "instance_seed",
    "load_grid_toml",
    "parse_param",
    "stable_ints",
]


def stable_ints(obj: Any) -> list[int]:
    """Eight 32-bit integers from the sha256 of the canonical JSON of `obj`: the same on every
    machine, Python version and dict order (unlike ``hash()``)."""
    digest = hashlib.sha256(canonical_json(obj).encode("ascii")).digest()
    return [int.from_bytes(digest[i:i + 4], "little") for i in range(0, 32, 4)]


def instance_seed(base_seed: int, params: dict, trial: int) -> int:
    """The seed of instance (`params`, `trial`): a 63-bit non-negative integer drawn by
    ``SeedSequence([base_seed, *stable_ints(params), trial])``.

    Depends only on these three, never on a position in a grid. Note that JSON tells ``1`` from
    ``1.0``, so ``{"n": 20}`` and ``{"n": 20.0}`` get different seeds. Solvers that need a 31-bit
    seed can use ``seed % 2**31``.
    """
    for name, value in (("base_seed", base_seed), ("trial", trial)):
        if not is_integer(value) or value < 0:
            raise InputError(f"{name} must be a non-negative integer, got {value!r}")
    if not isinstance(params, dict):
        raise InputError(f"params must be a dict, got {type(params).__name__}")
    ss = np.random.SeedSequence([int(base_seed), *stable_ints(params), int(trial)])
    return int(ss.generate_state(1, dtype=np.uint64)[0] >> np.uint64(1))


MAX_RUNS = 1_000_000
"""The most runs one grid may have (each is a spec in memory and a row in the store; a typo
such as --seeds 1000000000 was a MemoryError after minutes). Bulk subset-sum is solve_many's
job, not a sweep's."""


def _hashable(value: Any) -> Any:
    """`value` as a hashable token that compares like the value (lists become tuples)."""
    if isinstance(value, list | tuple):
        return ("list", tuple(_hashable(v) for v in value))
    if isinstance(value, dict):
        return ("dict", tuple(sorted((str(k), _hashable(v)) for k, v in value.items())))
    try:
        hash(value)
    except TypeError:
        return ("repr", repr(value))
    return value


def check_distinct(what: str, values: list) -> None:
    """Refuse a repeated entry: it would be the same run twice, counted twice."""
    seen: set[Any] = set()
    for v in values:
        token = _hashable(v)  # == semantics: 2 and 2.0 are one value, as the run is one
        if token in seen:
            raise InputError(f"{what} lists {v!r} twice")
        seen.add(token)


def _trials(seeds: Any) -> list[int]:
    """The trial indices `seeds` stands for: a count (``range(seeds)``) or a list of distinct
    non-negative integers."""
    if isinstance(seeds, bool):
        raise InputError(f"seeds must be a count or a list of trial indices, got {seeds!r}")
    if is_integer(seeds):
        if seeds < 1:
            raise InputError(f"seeds must be >= 1, got {seeds}")
        if seeds > MAX_RUNS:
            raise InputError(f"seeds must be at most {MAX_RUNS:,} (a grid of at most "
                             f"{MAX_RUNS:,} runs), got {seeds}")
        return list(range(int(seeds)))
    if not isinstance(seeds, list | tuple) or len(seeds) == 0:
        raise InputError(f"seeds must be a count or a non-empty list of trial indices, got "
                         f"{seeds!r}")
    for trial in seeds:  # [-1] said "trial must be a non-negative integer" (hunt 199 L3)
        if isinstance(trial, bool) or not is_integer(trial) or trial < 0:
            raise InputError(f"seeds lists {trial!r}: trial indices are non-negative integers")
    check_distinct("seeds", list(seeds))
    return list(seeds)


def _check_solver_names(solvers: Any) -> None:
    if isinstance(solvers, str) or not isinstance(solvers, list | tuple) or len(solvers) == 0 \
            or not all(isinstance(s, str) for s in solvers):
        raise InputError(f"solvers must be a non-empty list of names, got {solvers!r}")
    check_distinct("solvers", list(solvers))


def _check_base_seed(base_seed: Any) -> None:
    if isinstance(base_seed, bool) or not is_integer(base_seed) or base_seed < 0:
        raise InputError(f"base_seed must be a non-negative integer, got {base_seed!r}")


def grid(params: dict[str, list], seeds: int | list[int], solvers: list[str] | None = None,
         base_seed: int = 0, *, experiment: str | None = None, options: dict | None = None,
         seed_params: list[str] | None = None) -> list[dict]:
    """The cartesian product params x trials x solvers as a list of spec dicts.

    `params`: name -> list of values (in that order; the first name varies slowest).
    `seeds`: a number of trials (``range(seeds)``) or a list of trial indices. `solvers`: one
    spec per solver for each instance (solver innermost, so one instance's runs are adjacent);
    None for no "solver" field. Each spec is ``{"params": {...}, "trial": t, "seed":
    instance_seed(base_seed, seeded params, t)}`` plus ``"solver"``, ``"experiment"`` and
    ``"options"`` when given. `seed_params`: the parameter names the seed depends on (default
    all): every solver of an instance, and every value of a left-out parameter, share a seed.
    """
    if not isinstance(params, dict) or not params:
        raise InputError("params must be a non-empty dict of name -> list of values")
    for name, values in params.items():
        if not isinstance(name, str):
            raise InputError(f"parameter names must be strings, got {name!r}")
        if not isinstance(values, list | tuple) or len(values) == 0:
            raise InputError(f"parameter {name!r} needs a non-empty list of values")
    trials = _trials(seeds)
    if solvers is not None:
        _check_solver_names(solvers)
    _check_base_seed(base_seed)
    if seed_params is not None:
        unknown = [p for p in seed_params if p not in params]
        if unknown:
            raise InputError(f"seed_params names unknown parameters: {', '.join(unknown)}")
    if options is not None and not isinstance(options, dict):
        raise InputError(f"options must be a dict, got {type(options).__name__}")
    runs = len(trials) * max(1, len(solvers or []))
    for values in params.values():
        runs *= len(values)
    if runs > MAX_RUNS:
        raise InputError(f"the grid has {runs:,} runs, more than {MAX_RUNS:,}: split it into "
                         f"several sweeps (they may share one store)")
    # a repeated value, trial or solver would be the same run twice, counted twice
    for name, values in params.items():
        check_distinct(f"parameter {name!r}", list(values))
    names = list(params)
    specs: list[dict] = []
    for combo in itertools.product(*(params[n] for n in names)):
        point = dict(zip(names, combo, strict=True))
        seeded = point if seed_params is None else {n: point[n] for n in seed_params}
        for trial in trials:
            seed = instance_seed(base_seed, seeded, trial)
            for solver in (solvers if solvers is not None else [None]):
                spec: dict[str, Any] = {"params": dict(point), "trial": int(trial), "seed": seed}
                if solver is not None:
                    spec["solver"] = solver
                if experiment is not None:
                    spec["experiment"] = experiment
                if options is not None:
                    spec["options"] = dict(options)
                specs.append(spec)
    return specs


_TOML_KEYS = ("params", "seeds", "solvers", "base_seed", "experiment", "options", "seed_params")


def load_grid_toml(path: str | os.PathLike[str]) -> dict:
    """Read a TOML sweep file (format in the module docstring) into keyword arguments of
    :func:`grid`: ``params`` (each scalar becomes a one-value list), ``seeds`` (default 1),
    ``solvers``, ``base_seed``, ``experiment``, ``options``, ``seed_params`` (absent keys are
    left out). Unknown keys, a missing file and invalid TOML are InputErrors."""
    from exactprune.instances.io import as_path, read_bytes

    p = as_path(path, "the grid file path")  # Path("") is "." (hunt 101 M1)
    try:
        # TOML floats as decimal_float reads them: 1e-400 became 0.0 silently (hunt 36)
        data = tomllib.loads(read_bytes(p).decode("utf-8"), parse_float=_toml_float)
    except UnicodeDecodeError:
        raise InputError(f"{p} is not UTF-8 text") from None
    except tomllib.TOMLDecodeError as exc:
        raise InputError(f"{p} is not valid TOML: {exc}") from None
    except InputError as exc:  # a number float64 cannot hold (_toml_float)
        raise InputError(f"{p}: {exc}") from None
    except RecursionError:
        raise InputError(f"{p}: TOML nested too deeply to read") from None
    unknown = sorted(set(data) - set(_TOML_KEYS))
    if unknown:
        raise InputError(f"{p}: unknown keys {', '.join(unknown)} (allowed: "
                         f"{', '.join(_TOML_KEYS)})")
    if not isinstance(data.get("params"), dict) or not data["params"]:
        raise InputError(f"{p}: needs a non-empty [params] table")
    out: dict[str, Any] = {
        "params": {k: (list(v) if isinstance(v, list) else [v]) for k, v in data["params"].items()},
        "seeds": data.get("seeds", 1),
    }
    for key in ("solvers", "base_seed", "experiment", "options", "seed_params"):
        if key in data:
            out[key] = data[key]
    if isinstance(out.get("solvers"), str):
        out["solvers"] = [out["solvers"]]
    if "options" in out and not isinstance(out["options"], dict):
        raise InputError(f"{p}: options must be a table of name = value")
    if "experiment" in out and not (isinstance(out["experiment"], str)
                                    and out["experiment"].strip()):
        raise InputError(f"{p}: experiment must be a non-empty string")
    if "seed_params" in out and not (isinstance(out["seed_params"], list)
                                     and all(isinstance(n, str) for n in out["seed_params"])):
        raise InputError(f"{p}: seed_params must be a list of parameter names")
    for where, value in _numbers(out):  # TOML's nan and inf, named (hunt 190: JSON's words)
        if not math.isfinite(value):
            raise InputError(f"{p}: {where} must be a finite number, got {value!r}")
    try:  # TOML dates and times are not JSON: reject them now, with the file's name
        canonical_json(out)
    except InputError as exc:
        raise InputError(f"{p}: {exc}") from None
    return out


def _check_file_values(path: str, kw: dict, flagged: set[str]) -> None:
    """What a grid file gets wrong in the values a sweep uses (those no flag in `flagged`
    overrides: parameter names, ``seeds``, ``solvers``, ``base_seed``), refused naming the file
    (hunt 199 L3: an empty list, a repeated seed or solver and base_seed = 1.5 were refused
    without it); a value a flag overrides is never used, so never refused (hunt 202 L2)."""
    try:
        for name, values in kw["params"].items():
            if name in flagged:
                continue
            if not values:
                raise InputError(f"parameter {name!r} needs a non-empty list of values")
            check_distinct(f"parameter {name!r}", values)
        if "seeds" not in flagged:
            _trials(kw["seeds"])
        if "solvers" in kw and "solvers" not in flagged:
            _check_solver_names(kw["solvers"])
        if "base_seed" in kw and "base_seed" not in flagged:
            _check_base_seed(kw["base_seed"])
        unknown = [n for n in kw.get("seed_params", []) if n not in kw["params"]]
        if unknown:  # seed_params is only the file's; --param may add the names it lists
            raise InputError(f"seed_params names unknown parameters: {', '.join(unknown)}")
    except InputError as exc:
        raise InputError(f"{path}: {exc}") from None


def _numbers(obj: Any, where: str = "") -> list[tuple[str, float]]:
    """Every float in a grid read from TOML, with its dotted key (params.n, options.x)."""
    if isinstance(obj, float):
        return [(where, obj)]
    if isinstance(obj, dict):
        return [f for k, v in obj.items() for f in _numbers(v, f"{where}.{k}" if where else k)]
    if isinstance(obj, list):
        return [f for v in obj for f in _numbers(v, where)]
    return []


# -- command-line flags for a grid (for the commands that run sweeps) -----------------------


def _toml_float(text: str) -> float:
    from exactprune.instances.params import decimal_float

    return decimal_float(text.replace("_", ""), "a TOML number")  # TOML allows 1_000.5


def _scalar(text: str) -> Any:
    """A flag value as bool, int, float or string."""
    low = text.strip().lower()
    if low in ("true", "false"):
        return low == "true"
    if INTEGER_TEXT.fullmatch(text.strip()):
        try:
            return int(text)
        except ValueError:  # beyond Python's digit limit: the parameter's own check says so
            return text.strip()
    from exactprune.instances.params import decimal_float

    try:
        value = decimal_float(text, "value")
    except InputError:
        # not a plain decimal, or one float64 cannot hold (1e-400 became 0 silently; hunt
        # 36): kept as written, so that the parameter's own check quotes it
        return text.strip()
    # 1e999 overflows to inf: kept as written so that the parameter's check quotes it
    return text.strip() if math.isinf(value) and "inf" not in low else value


def parse_param(text: str) -> tuple[str, list]:
    """``NAME=V1,V2,...`` -> (NAME, [values]) with each value read as bool, int, float or str;
    a value in brackets is one list value (``target_weights=[0.6,0.8],[1,0]``: two values);
    a value in double quotes is one string as written (``network="a,b.npz"``: a file name
    with a comma, which was split in two; hunt 143 L2)."""
    name, sep, raw = text.partition("=")
    if not sep or not name.strip() or not raw.strip():
        raise InputError(f"--param takes NAME=V1,V2,..., got {text!r}")
    values: list[Any] = []
    for piece in _top_level_items(raw, text):
        stripped = piece.strip()
        if stripped.startswith('"'):
            values.append(stripped[1:-1])
        elif stripped.startswith("["):  # "[]" is the empty list, for the parameter to refuse
            inner = stripped[1:-1]
            values.append([_scalar(v) for v in inner.split(",")] if inner.strip() else [])
        else:
            values.append(_scalar(piece))
    return name.strip(), values


def _top_level_items(raw: str, text: str) -> list[str]:
    """`raw` split at the commas outside brackets and double quotes; InputError for unbalanced
    or nested brackets, text around a bracketed value, or a value that opens a double quote
    and does not end with it. A double quote inside a value (``my"net.npz``) is a character of
    it, as it was before quotes were read (hunt 147 L1)."""
    items, depth, start, quoted = [], 0, 0, False
    for i, ch in enumerate(raw):
        if ch == '"' and (quoted or (depth == 0 and not raw[start:i].strip())):
            quoted = not quoted
            continue
        if quoted:
            continue
        if ch == "[":
            depth += 1
        elif ch == "]":
            depth -= 1
        if depth not in (0, 1):
            raise InputError(f"--param {text!r}: brackets must hold one list of values, "
                             f"e.g. NAME=[0.6,0.8],[1,0]")
        if ch == "," and depth == 0:
            items.append(raw[start:i])
            start = i + 1
    items.append(raw[start:])
    if quoted or any(p.strip().startswith('"') and not (
            len(p.strip()) >= 2 and p.strip().endswith('"') and p.count('"') == 2)
            for p in items):
        raise InputError(f"--param {text!r}: a double-quoted value must be a whole value, "
                         f'e.g. network="a,b.npz",c.npz (a name with a double quote of its '
                         f"own: use --grid FILE.toml)")
    if depth != 0 or any("[" in p and not p.strip().startswith('"') and not (
            p.strip().startswith("[") and p.strip().endswith("]") and p.count("[") == 1)
            for p in items):
        raise InputError(f"--param {text!r}: brackets must hold one list of values, "
                         f"e.g. NAME=[0.6,0.8],[1,0]")
    return items


def add_sweep_arguments(parser: argparse.ArgumentParser) -> None:
    """Add the flags of a sweep to a command: --grid FILE.toml, --param NAME=V1,V2 (repeatable),
    --seeds, --base-seed, --solvers, --experiment, --store, --jobs, --scheduler, --timeout,
    --retry-killed, --no-progress. Read them back with :func:`grid_kwargs_from_args`."""
    g = parser.add_argument_group("sweep")
    g.add_argument("--grid", default=None, metavar="FILE.toml", help="a TOML sweep file")
    g.add_argument("--param", action="append", default=[], metavar="NAME=V1,V2",
                   help="a grid parameter and its values (repeatable; overrides --grid); a "
                        "list value in brackets: target_weights=[0.6,0.8],[1,0]; a string "
                        "with a comma in double quotes: network='\"a,b.npz\"'")
    g.add_argument("--seeds", type=positive_int, default=None, help="trials per grid point")
    g.add_argument("--base-seed", type=nonneg_int, default=None,
                   help="seed of the whole sweep (default 0): each instance's seed comes from "
                        "SeedSequence(base seed, its parameters, trial)")
    g.add_argument("--solvers", default=None, help="comma-separated solver names")
    g.add_argument("--experiment", default=None, help="experiment name stored with each run")
    g.add_argument("--store", default=None, metavar="FILE.sqlite",
                   help="results store: finished runs are skipped when the sweep runs again")
    g.add_argument("--jobs", type=nonneg_int, default=None,
                   help="cores to fill (worker processes, default 1; 0: in this process); a "
                   "run whose spec asks for N threads fills N of them (not with --scheduler: "
                   "the cluster's workers run the runs)")
    g.add_argument("--scheduler", default=None, type=scheduler_flag, metavar="tcp://HOST:PORT",
                   help="run on this Dask distributed scheduler instead of local processes")
    g.add_argument("--timeout", type=positive_amount, default=None,
                   help="kill a run after this many seconds, stored as status killed (local "
                        "worker processes only: not with --jobs 0 or --scheduler)")
    g.add_argument("--retry-killed", action="store_true",
                   help="run again the stored runs that --timeout killed (e.g. after raising "
                        "it); runs that ended with an error are always run again")
    g.add_argument("--no-progress", dest="progress", action="store_false",
                   help="no progress bar or summary line")


def grid_kwargs_from_args(args: argparse.Namespace) -> dict:
    """Keyword arguments of :func:`grid` from the flags of :func:`add_sweep_arguments`: the
    TOML file first (if any), then each flag given on the command line overrides it."""
    # `--grid ""` was "no grid" (hunt 101 M1): only an absent flag is
    kw: dict[str, Any] = load_grid_toml(args.grid) if args.grid is not None else \
        {"params": {}, "seeds": 1}
    given: set[str] = set()
    for text in args.param:  # a flag overrides the file's values; twice in one command is a slip
        name, values = parse_param(text)
        if name in given:
            raise InputError(f"--param {name} is given twice: list all its values in one flag, "
                             f"{name}=V1,V2,...")
        given.add(name)
        kw["params"][name] = values
    if args.seeds is not None:
        kw["seeds"] = args.seeds
    if args.base_seed is not None:
        kw["base_seed"] = args.base_seed
    if args.solvers is not None:
        kw["solvers"] = [s.strip() for s in args.solvers.split(",") if s.strip()]
    if args.experiment is not None:
        if not args.experiment.strip():
            raise InputError("--experiment must be a non-empty name")
        kw["experiment"] = args.experiment
    if not kw["params"]:
        raise InputError("a sweep needs parameters: --grid FILE.toml or --param NAME=V1,V2")
    if args.grid is not None:
        flags = {"seeds": args.seeds, "base_seed": args.base_seed, "solvers": args.solvers}
        _check_file_values(args.grid, kw, given | {k for k, v in flags.items() if v is not None})
    return kw
