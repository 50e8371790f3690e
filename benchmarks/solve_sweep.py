"""`exactprune sweep KIND`: solve a grid of seeded random instances with several solvers.

A grid comes from flags or a TOML file (benchmarks.sweep: --param NAME=V1,V2, --grid FILE.toml,
--seeds, --solvers); every (parameters, trial, solver) run is stored in the SQLite store
(--store) when it finishes, so the command resumes where a killed run stopped; runs go to local
processes (--jobs) or a Dask cluster (--scheduler). KIND is any kind of the problem catalog, and
its parameters are its generator's (`exactprune generate KIND --help` lists them; the seed comes
from the sweep), each value parsed by its declared type before anything runs.

    exactprune sweep subset-sum --param n=16,20,24 --seeds 5 --solvers mitm,cpsat \\
        --time-limit 10 --store sweep.sqlite --jobs 2
    exactprune sweep neuron-pruning --param d=2 --param width=8,16,32 --param points=64 \\
        --seeds 3 --solvers scip,prune_local_search --store sweep.sqlite
"""

from __future__ import annotations

import argparse
import dataclasses
import statistics
import sys
from pathlib import Path
from typing import Any

from exactprune.instances.errors import InputError
from exactprune.instances.params import int_from_to, positive_amount
from exactprune.solvers.result import MAX_THREADS


def make_instance(kind: str, params: dict[str, Any], seed: int) -> Any:
    """The instance of `kind` for grid parameters `params` and an instance seed."""
    from exactprune.instances.catalog import get_kind

    if "seed" in params:
        raise InputError("seed is not a sweep parameter: instance seeds come from --seeds and "
                         "--base-seed")
    return get_kind(kind).make({**params, "seed": seed})


def _validate(kind: str, specs: list[dict], options: dict[str, Any], in_file: str = "") -> None:
    """InputError before anything runs: every grid point's parameters (declared types and
    ranges, and the generator's own checks on every distinct point), every solver name for the
    kind, every option (time_limit: seconds > 0, or an option every solver declares), and
    every named solver on each distinct point (its first trial's instance): installed, able to
    do what the sweep asks (a time limit, its threads) and within its limits (e.g. mitm's
    n <= 62), so that a grid one solver cannot run is refused whole, not stored as error
    rows (a limit on the numbers a later trial draws is not checked: see docs/verify.md)."""
    from exactprune.instances.catalog import get_kind
    from exactprune.instances.params import build_params
    from exactprune.solvers import get_backend
    from exactprune.solvers.result import Goal, SolveOptions

    k = get_kind(kind)
    backends = [get_backend(name, kind) for name in dict.fromkeys(s["solver"] for s in specs)
                if name != "auto"]
    time_limit = None
    if "time_limit" in options:
        time_limit = positive_float_value(options["time_limit"], "time_limit")
    solver_options = {k2: v for k2, v in options.items() if k2 != "time_limit"}
    parsed = {b.name: b.parse_options(solver_options) for b in backends}
    if solver_options and len(backends) < len({s["solver"] for s in specs}):
        raise InputError(f"{in_file}solver options need named solvers, not auto")
    for b in backends:
        if not b.available():
            raise InputError(b.unavailable())
    seen: set[str] = set()
    for spec in specs:
        key = repr(sorted(spec["params"].items()))
        if key in seen:
            # not every trial: a limit on the numbers drawn (bruteforce's float64 overflow)
            # on a later trial is an error row (hunt 159 M1), but checking every trial made
            # a 500-run pruning sweep start in 86 s instead of 1 s (hunt 161 M1)
            continue
        seen.add(key)
        point = ", ".join(f"{n}={_value_label(v)}" for n, v in spec["params"].items())
        build_params(k.params_type, {**spec["params"], "seed": spec["seed"]},
                     what=f"{k.cli_name} parameter")
        try:  # the generator's own checks, which tie parameters together (d, target_weights)
            inst = make_instance(kind, spec["params"], spec["seed"])
        except InputError as exc:
            raise InputError(f"grid point {point}: {exc}") from None
        for b in backends:
            opts = SolveOptions(time_limit=time_limit, threads=spec.get("threads", 1),
                                extra=parsed[b.name])
            try:
                b.check(inst, Goal(), opts)
            except InputError as exc:
                raise InputError(f"grid point {point}: {exc}") from None
        if any(s["solver"] == "auto" for s in specs):
            _check_auto_choice(inst, time_limit, spec.get("threads", 1), point)


def _check_auto_choice(inst: Any, time_limit: float | None, threads: int, point: str) -> None:
    """InputError when the backend `auto` picks for this grid point refuses it (the l2 error
    beyond bruteforce's size: one error row per run, exit 0; hunt 89 M1), worded as `solve`
    words it."""
    from exactprune.solvers.dispatch import auto_choice
    from exactprune.solvers.result import Goal, SolveOptions

    backend, fitted = auto_choice(inst, Goal(), threads)
    try:
        backend.check(inst, Goal(), SolveOptions(time_limit=time_limit, threads=fitted))
    except InputError as exc:
        raise InputError(f"grid point {point}: auto chose {backend.name} for this instance: "
                         f"{exc}") from None


def declared_values(kind: str, params: dict[str, list]) -> dict[str, list]:
    """Every grid value parsed by its parameter's declared type, so that one grid point has one
    spelling: a float parameter written 2 in one sweep and 2.0 in another gave two instance
    seeds (two different instances), and TOML's integer 10 and the flag's 10.0 two store keys.
    Unknown names are left for `_validate` to refuse. A float −0.0 is 0.0 (the same draws, but
    it gave another seed and key; hunt 88 L1)."""
    from exactprune.instances.catalog import get_kind
    from exactprune.instances.params import params_of

    declared = {p.name: p for p in params_of(get_kind(kind).params_type)}
    return {name: [_no_negative_zero(declared[name].parse(v)) for v in values]
            if name in declared else values for name, values in params.items()}


def _no_negative_zero(value: Any) -> Any:
    """`value` with every float −0.0 in it (also inside a tuple or list) made 0.0."""
    if isinstance(value, float):
        return value + 0.0  # -0.0 + 0.0 == +0.0; every other float unchanged
    if isinstance(value, tuple | list):
        return type(value)(_no_negative_zero(v) for v in value)
    return value


def positive_float_value(raw: Any, name: str) -> float:
    """A finite number > 0 of seconds from a TOML value (10**30 may round); InputError
    otherwise."""
    from exactprune.instances.params import Param

    return float(Param(name, "float", None, minimum=0.0, above=True, amount=True).parse(raw))


def _declared_options(kind: str, specs: list[dict], options: dict[str, Any]) -> None:
    """Each spec's solver options as its solver parses them (in place), so that one run has
    one store key however an option is spelled: `memory_limit_gb = 1`, `1.0` and `"1"` in a
    TOML grid were three keys, and the run was solved and counted three times (hunt 40 F1).
    `auto` takes no options (`_validate` refuses them)."""
    from exactprune.solvers import get_backend

    given = {name: value for name, value in options.items() if name != "time_limit"}
    if not given:
        return
    declared: dict[str, dict[str, Any]] = {}
    for name in dict.fromkeys(spec["solver"] for spec in specs):
        if name != "auto":
            parsed = get_backend(name, kind).parse_options(given)
            declared[name] = {option: parsed[option] for option in given}
    for spec in specs:
        if spec["solver"] in declared:
            spec["options"] = {**spec.get("options", {}), **declared[spec["solver"]]}


def check_sweep_execution(args: argparse.Namespace, time_limit: float | None = None) -> None:
    """InputError for flag combinations that cannot work: --timeout needs local worker
    processes (--scheduler's address is checked by its flag type, `sweep_dask.scheduler_flag`)
    and must be above the solves' `time_limit` (seconds), as `bench` asks: at or below it
    every run that used its limit was stored as killed (hunt 187 L2)."""
    from exactprune.benchmarks.sweep_dask import local_jobs

    jobs = local_jobs(args.jobs, args.scheduler)
    if args.timeout is not None and (args.scheduler is not None or args.jobs == 0):
        raise InputError("--timeout kills local worker processes: it cannot be used with "
                         "--scheduler or --jobs 0")
    if args.timeout is not None and time_limit is not None and args.timeout <= time_limit:
        raise InputError(f"--timeout must be above the time limit {time_limit!r} s (it kills "
                         f"a run that overruns it), got {args.timeout!r}")
    args.jobs = jobs


def input_file_digests(params: dict[str, Any], cache: dict[str, str]) -> dict[str, str]:
    """SHA-256 of the content of every string parameter that names a file (a trained
    network, say), by parameter name; `cache` maps paths already read to their digests."""
    import hashlib

    from exactprune.instances.io import names_a_file, read_bytes

    out = {}
    for name, value in params.items():
        if names_a_file(value):
            if value not in cache:
                cache[value] = hashlib.sha256(read_bytes(Path(value))).hexdigest()
            out[name] = cache[value]
    return out


def other_spellings(store: Any, specs: list[dict]) -> list[str]:
    """One line per input file that `store` (a path, or None) already holds runs of under
    another name than these specs give it: the name as given is part of the seed and of the
    key, so `net.npz`, `./net.npz` and its absolute path are three grid points, three sets of
    instances solved and counted (hunt 137 F1). The lines name both spellings."""
    from exactprune.benchmarks.store import (
        ResultStore,
        _check_store_name,
        _state_now,
        check_store_text,
    )

    asked: dict[tuple[str, str], set[str]] = {}
    for spec in specs:
        for name, digest in (spec.get("input_sha256") or {}).items():
            asked.setdefault((name, digest), set()).add(spec["params"][name])
    if store is None or not asked:
        return []
    stored: dict[tuple[str, str], set[str]] = {}
    experiments = {spec.get("experiment") for spec in specs}
    try:  # anything but a readable store of ours is for the sweep to say (hunts 139, 140)
        check_store_text(store)
        _check_store_name(Path(store))
        if _state_now(Path(store)) != "ours":  # no wait for a store being created
            return []
        with ResultStore(store, create=False) as st:  # only the sweep's experiments' rows
            for spec in (s for e in sorted(experiments, key=str) if isinstance(e, str)
                         for s in st.readable_specs(e)):  # a damaged row skipped, not all
                params, digests = spec.get("params"), spec.get("input_sha256")  # (hunt 141)
                if not (isinstance(params, dict) and isinstance(digests, dict)):
                    continue  # rows put by other code (hunt 139 F1: a crash)
                for name, digest in digests.items():
                    if isinstance(digest, str) and isinstance(params.get(name), str):
                        stored.setdefault((name, digest), set()).add(params[name])
    except (OSError, InputError):  # a store it cannot read: for the sweep to say (hunt 140)
        return []
    # a note only where the grid names a stored file by none of its stored names (hunt 140 F4)
    return [f"note: {store} holds runs of a {key[0]} file with the same content named "
            f"{', '.join(map(repr, sorted(stored[key])))}; {', '.join(map(repr, sorted(names)))} "
            f"{'is another grid point' if len(names) == 1 else 'are other grid points'} (the "
            "name as given is part of the seed and the key): name it as before to resume those "
            "runs"
            for key, names in sorted(asked.items()) if key in stored and not names & stored[key]]


def other_kinds(store: Any, kind: str, experiment: str) -> list[str]:
    """A note when `store` (a path, or None) holds runs of `experiment` of another kind than
    `kind`: the sweep adds its runs beside them (`verify pruning-gap` keeps two kinds in one
    experiment on purpose), but `results plot` finds no parameter common to every run of two
    sweeps' grids (hunt 199: `--experiment sweep_subset_sum` on a neuron-pruning sweep)."""
    from exactprune.benchmarks.store import (
        ResultStore,
        _check_store_name,
        _state_now,
        check_store_text,
    )

    if store is None:
        return []
    try:  # anything but a readable store of ours is for the sweep to say
        check_store_text(store)
        _check_store_name(Path(store))
        if _state_now(Path(store)) != "ours":
            return []
        with ResultStore(store, create=False) as st:
            others = sorted(st.kinds(experiment) - {kind})
    except (OSError, InputError):
        return []
    if not others:
        return []
    kinds = "another kind" if len(others) == 1 else "other kinds"
    return [f"note: {store} holds runs of experiment {experiment!r} of {kinds} "
            f"({', '.join(others)}); this sweep's {kind} runs are stored beside them (give "
            "them an --experiment of their own to plot or export them apart)"]


def check_input_files(params: dict[str, Any], wanted: dict[str, str] | None) -> None:
    """InputError unless every input file in `params` still has the SHA-256 in `wanted` (the
    digests a sweep or bench keyed the run with): a file replaced while they run (a network
    retrained into the same name) would be solved, and stored under the old file's key,
    answering a later resume with another network's optimum. The run is stored as an error,
    which a resume runs again."""
    if not wanted:
        return
    now = input_file_digests({k: v for k, v in params.items() if k in wanted}, {})
    for name, digest in wanted.items():
        if now.get(name) != digest:
            raise InputError(f"{name} file {params[name]!r} changed after the run was keyed "
                             "(its SHA-256 is not the one the sweep or bench started with): "
                             "run it again")


def _with_given_paths(inst: Any, params: dict[str, Any], given: dict[str, str] | None) -> Any:
    """`inst` with its generator record naming each input file as the sweep was given it: a
    Dask worker reads the file by its absolute path (`sweep_dask.worker_spec`), and that path
    in the record changed the instance's SHA-256, so `certify` took a Dask run for another
    instance than the local run of the same key (hunt 88 M1)."""
    record = getattr(inst, "generator", None)
    if not given or not isinstance(record, dict):
        return inst
    restored = {k: given[k] if k in given and v == str(params[k]) else v
                for k, v in record.items()}
    return inst if restored == record else dataclasses.replace(inst, generator=restored)


def solve_task(spec: dict) -> dict:
    """Sweep task: build the instance, solve it with spec["solver"], return the record (with
    `solved_by`, the backend that ran: `auto`'s choice was in a note only; hunt 137 F2)."""
    from exactprune.solvers import solve

    check_input_files(spec["params"], spec.get("input_sha256"))
    inst = make_instance(spec["kind"], spec["params"], spec["seed"])
    # the file read is the file hashed, not one swapped in between
    check_input_files(spec["params"], spec.get("input_sha256"))
    inst = _with_given_paths(inst, spec["params"], spec.get("given_paths"))
    opts = dict(spec.get("options", {}))
    time_limit = opts.pop("time_limit", None)
    res = solve(inst, spec["solver"], time_limit=time_limit, threads=spec.get("threads", 1),
                seed=spec["seed"] % 2**31, options=opts)
    return {"status": str(res.status), "certified": res.certified, "objective": res.objective,
            "bound": res.bound, "kept": res.kept, "solved_by": res.solver,
            "tolerance": res.tolerance, "solver_version": res.solver_version,
            "wall_time_s": res.wall_time_s, "notes": res.notes,
            "mask": None if res.mask is None else inst.mask_to_json(res.mask),
            "instance_sha256": res.instance_sha256}


def _value_label(value: Any) -> str:
    """A grid value as a --param would spell it: a vector in brackets, not a Python tuple
    (hunt 88: "target_weights=(0.6, 0.8)")."""
    if isinstance(value, (list, tuple)):
        return "[" + ",".join(str(x) for x in value) + "]"
    return str(value)


def summary_table(specs: list[dict], records: list[dict]) -> str:
    """Per grid point and solver: runs, certified, errors, and the median time and objective
    of the runs that did not end in an error (a crash's or kill's time says nothing of the
    solver)."""
    cells: dict[tuple[str, str], list[dict]] = {}
    for spec, rec in zip(specs, records, strict=True):
        point = ", ".join(f"{k}={_value_label(v)}" for k, v in spec["params"].items())
        cells.setdefault((point, spec["solver"]), []).append(rec)
    lines = ["| parameters | solver | runs | certified | errors | median time (s) | "
             "median objective |", "|---|---|---|---|---|---|---|"]
    for (point, solver), recs in cells.items():
        failed = [r.get("status") in ("error", "killed") for r in recs]
        ran = [r for r, bad in zip(recs, failed, strict=True) if not bad]
        times = [r["wall_time_s"] for r in ran if r.get("wall_time_s") is not None]
        objs = [r["objective"] for r in ran if r.get("objective") is not None]
        errors = sum(failed)
        lines.append(f"| {point} | {solver} | {len(recs)} | "
                     f"{sum(bool(r.get('certified')) for r in recs)} | {errors} | "
                     f"{format(statistics.median(times), '.3g') if times else '-'} | "
                     f"{format(statistics.median(objs), '.4g') if objs else '-'} |")
    return "\n".join(lines)


def _cmd_sweep(args: argparse.Namespace) -> int:
    from exactprune.benchmarks.sweep import Task, run_sweep
    from exactprune.benchmarks.sweep_grid import grid, grid_kwargs_from_args
    from exactprune.instances import io as instance_io
    from exactprune.instances.catalog import get_kind

    kind = get_kind(args.kind).name
    kw = grid_kwargs_from_args(args)
    if args.grid is not None:  # a bad value of the file names the file (hunt 88), one of
        # --param not (hunt 99 M4)
        from exactprune.benchmarks.sweep_grid import check_distinct, parse_param

        flagged = {parse_param(text)[0] for text in args.param}
        try:
            read = declared_values(kind, {k: v for k, v in kw["params"].items()
                                          if k not in flagged})
            for name, values in read.items():  # 8 and "8" are one value once read
                check_distinct(f"parameter {name!r}", values)
        except InputError as exc:
            raise InputError(f"{args.grid}: {exc}") from None
    kw["params"] = declared_values(kind, kw["params"])
    kw.setdefault("solvers", ["auto"])
    kw.setdefault("experiment", f"sweep_{kind}")
    options = dict(kw.pop("options", None) or {})
    in_file = f"{args.grid}: " if args.grid is not None else ""  # [options] is the file's
    if args.time_limit is not None:
        options["time_limit"] = args.time_limit
    if "time_limit" in options:
        try:
            options["time_limit"] = positive_float_value(options["time_limit"], "time_limit")
        except InputError as exc:  # named as a bad [params] value is (hunt 188)
            raise InputError(f"{in_file}{exc}") from None
    specs = grid(**kw, options=options)
    digests: dict[str, str] = {}
    # only parameters declared as files: domain=sphere beside a file named "sphere" was hashed
    # as one, and handed to Dask workers as its absolute path (hunt 54 F4)
    file_params = {p.name for p in get_kind(kind).params() if p.file}
    for spec in specs:
        spec["kind"] = kind
        if args.threads is not None and args.threads > 1:  # one thread: the key as before
            spec["threads"] = args.threads
        files = input_file_digests({k: v for k, v in spec["params"].items()
                                    if k in file_params}, digests)
        if files:  # part of the store key: a changed file is a new run, never a stale one
            spec["input_sha256"] = files
    try:
        _declared_options(kind, specs, options)  # every option but time_limit is the file's
    except InputError as exc:
        raise InputError(f"{in_file}{exc}") from None
    _validate(kind, specs, options, in_file)  # (options but time_limit are the file's)
    check_sweep_execution(args, options.get("time_limit"))
    for line in [*other_kinds(args.store, kind, kw["experiment"]),
                 *other_spellings(args.store, specs)]:
        print(line, file=sys.stderr)
    records = run_sweep([Task(f"{__name__}:solve_task", s) for s in specs], args.store,
                        jobs=args.jobs, scheduler=args.scheduler, progress=args.progress,
                        desc=f"sweep {args.kind}", timeout=args.timeout,
                        retry_killed=args.retry_killed)
    if args.json:
        print(instance_io.dumps({"runs": [{"spec": s, "record": r}
                                          for s, r in zip(specs, records, strict=True)]}))
    else:
        print(summary_table(specs, records))
    return 0


def register_cli(subparsers: Any) -> None:
    """Add `exactprune sweep KIND` to the CLI."""
    from exactprune.benchmarks.sweep_grid import add_sweep_arguments

    p = subparsers.add_parser("sweep", help="solve a grid of random instances (resumable)",
                              description=__doc__.split("\n\n")[0])
    from exactprune.instances.catalog import KINDS

    p.add_argument("kind", choices=[k.cli_name for k in KINDS.values()])
    p.add_argument("--time-limit", type=positive_amount, default=None, help="seconds per run")
    p.add_argument("--threads", type=int_from_to(1, MAX_THREADS), default=None,
                   help="threads per run (default 1); a run fills that many of --jobs' cores")
    p.add_argument("--json", action="store_true", help="print every run as JSON")
    add_sweep_arguments(p)
    p.set_defaults(func=_cmd_sweep)
