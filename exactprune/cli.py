"""The `exactprune` command line (contract in DESIGN.md).

Exit codes: 0 success; 2 bad input or usage (one line on stderr, no partial output file);
1 internal error (one line; `--debug` shows the traceback).
"""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Sequence
from typing import Any, NoReturn

from exactprune.instances import io as instance_io
from exactprune.instances.errors import InputError
from exactprune.instances.params import finite_float as _finite_float
from exactprune.instances.params import nonneg_int as _nonneg_int
from exactprune.instances.params import positive_float as _positive_float
from exactprune.instances.params import positive_int as _positive_int

EXIT_OK, EXIT_INTERNAL, EXIT_USAGE = 0, 1, 2



class _Parser(argparse.ArgumentParser):
    """argparse with one-line usage errors (exit 2), as the CLI contract asks."""

    def error(self, message: str) -> NoReturn:
        raise InputError(f"{self.prog}: {message}")


# -- generate -------------------------------------------------------------------------------
def _cmd_generate_subset_sum(args: argparse.Namespace) -> int:
    from exactprune.instances import generate_subset_sum

    inst = generate_subset_sum(args.n, seed=args.seed, low=args.low, high=args.high,
                               target=args.target)
    _emit_json(inst.to_json(), args.output)
    return EXIT_OK


def _cmd_generate_pruning(args: argparse.Namespace) -> int:
    from exactprune.instances import generate_neuron_pruning, generate_weight_pruning

    gen = generate_neuron_pruning if args.kind_name == "neuron-pruning" else \
        generate_weight_pruning
    target_weights = None
    if args.target_weights is not None:
        try:
            target_weights = [float(t) for t in args.target_weights.split(",")]
        except ValueError:
            raise InputError(f"--target-weights must be comma-separated numbers, got "
                             f"{args.target_weights!r}") from None
    inst = gen(args.d, args.width, args.points, args.seed, domain=args.domain,
               weight_dist=args.weight_dist, output_dist=args.output_dist,
               output_activation=args.output_activation, target_weights=target_weights,
               target_angle=args.target_angle, norm=args.norm)
    _emit_json(inst.to_json(), args.output)
    return EXIT_OK


def _parse_option(text: str) -> tuple[str, Any]:
    """KEY=VALUE with VALUE read as bool, int, float or string."""
    if "=" not in text:
        raise InputError(f"--option takes KEY=VALUE, got {text!r}")
    key, raw = text.split("=", 1)
    low = raw.lower()
    if low in ("true", "false"):
        return key, low == "true"
    for conv in (int, float):
        try:
            return key, conv(raw)
        except ValueError:
            pass
    return key, raw


def _emit_json(data: dict[str, Any], output: str | None) -> None:
    if output is None or output == "-":
        print(instance_io.dumps(data))
    else:
        instance_io.write_json_atomic(output, data)


# -- solve ----------------------------------------------------------------------------------
def _goal_kwargs(args: argparse.Namespace) -> dict[str, Any]:
    return {"objective": args.objective, "max_kept": args.max_kept, "eps": args.eps}


def _cmd_solve(args: argparse.Namespace) -> int:
    from exactprune.solvers import solve

    inst = instance_io.load_instance(args.instance)
    extra: dict[str, Any] = dict(_parse_option(o) for o in args.option)
    if args.memory_limit_gb is not None:
        extra["memory_limit_gb"] = args.memory_limit_gb
    warm = None
    if args.warm_start is not None:
        warm = inst.mask_from_json(_result_mask(instance_io.read_json(args.warm_start)))
    result = solve(inst, args.solver, time_limit=args.time_limit, seed=args.seed,
                   threads=args.threads, verbose=args.verbose, warm_start=warm,
                   **_goal_kwargs(args), **extra)
    data = result.to_json(inst.mask_to_json)
    if args.output:
        instance_io.write_json_atomic(args.output, data)
    if args.json:
        print(instance_io.dumps(data))
    else:
        print(format_result(result, inst))
    return EXIT_OK


def _result_mask(data: Any) -> Any:
    if isinstance(data, dict) and "mask" in data:
        if data["mask"] is None:
            raise InputError("the result file holds no mask")
        return data["mask"]
    return data


def format_result(result: Any, inst: Any) -> str:
    """A short human-readable summary of a SolveResult."""

    def num(x: float | None) -> str:
        return "-" if x is None else f"{x:.6g}"

    cert = "certified" if result.certified else "not certified"
    if result.certified and result.tolerance is not None:
        cert += f", tolerance {result.tolerance:.3g}"
    lines = [
        f"status     {result.status} ({cert})",
        f"objective  {num(result.objective)}   [{result.goal.objective}]",
        f"error      {num(result.error)}",
        f"bound      {num(result.bound)}   gap {num(result.gap)}",
        f"kept       {'-' if result.kept is None else result.kept} of {inst.mask_size}",
        f"solver     {result.solver} ({result.solver_version or 'version unknown'}), "
        f"{result.wall_time_s:.3f} s",
    ]
    if result.mask is not None:
        bits = "".join("1" if b else "0" for b in result.mask.ravel())
        lines.append(f"mask       {bits if len(bits) <= 80 else bits[:77] + '...'}")
    lines.extend(f"note       {note}" for note in result.notes)
    return "\n".join(lines)


# -- solvers, export, demo ------------------------------------------------------------------
def _cmd_solvers(args: argparse.Namespace) -> int:
    from exactprune.solvers import list_backends

    rows = []
    for b in list_backends():
        try:
            available = bool(b.available())
            version = b.version() if available else None
        except Exception:  # a broken optional library is "unavailable", not a crash
            available, version = False, None
        rows.append({"name": b.name, "available": available, "version": version,
                     "exact": b.exact, "kinds": sorted(b.kinds),
                     "objectives": sorted(str(o) for o in b.objectives),
                     "max_kept": b.max_kept, "description": b.description})
    if args.json:
        print(instance_io.dumps(rows))
        return EXIT_OK
    width = max(len(r["name"]) for r in rows) + 2
    print(f"{'name':<{width}}{'avail':<7}{'exact':<7}{'version':<34}description")
    for r in rows:
        print(f"{r['name']:<{width}}{'yes' if r['available'] else 'no':<7}"
              f"{'yes' if r['exact'] else 'no':<7}{(r['version'] or '-')[:33]:<34}"
              f"{r['description']}")
    return EXIT_OK


def _cmd_export(args: argparse.Namespace) -> int:
    from exactprune.formulations.export import export_model
    from exactprune.solvers.result import Goal

    inst = instance_io.load_instance(args.instance)
    options = {} if args.formulation is None else {"formulation": args.formulation}
    export_model(inst, Goal(**_goal_kwargs(args)), args.output, args.format, **options)
    return EXIT_OK


def _cmd_certify(args: argparse.Namespace) -> int:
    inst = instance_io.load_instance(args.instance)
    data = instance_io.read_json(args.result)
    mask = inst.mask_from_json(_result_mask(data))
    claimed = data if isinstance(data, dict) else {}
    bound = claimed.get("bound") if claimed.get("status") in ("optimal", "feasible",
                                                               "time_limit") else None
    if bound is not None and not isinstance(bound, int | float):
        raise InputError("the result's bound must be a number")
    out: dict[str, Any] = {"kind": inst.kind, "objective_recomputed": inst.evaluate(mask),
                           "kept": inst.kept(mask)}
    if "objective" in claimed and claimed.get("goal", {}).get("objective", "min_error") == \
            "min_error":
        out["objective_claimed"] = claimed["objective"]
        out["objective_matches"] = claimed["objective"] == out["objective_recomputed"]
    if inst.kind == "subset_sum":
        out.update(_audit_subset_sum(inst, mask, claimed))
    else:
        from exactprune.solvers.pruning.bracket import certify_bracket

        out["bracket"] = certify_bracket(inst, mask, bound, args.time_limit).to_json()
    if args.json:
        print(instance_io.dumps(out))
    else:
        for key, value in out.items():
            if isinstance(value, dict):
                for k2, v2 in value.items():
                    print(f"{key}.{k2:<16} {v2}")
            else:
                print(f"{key:<22} {value}")
    return EXIT_OK


def _audit_subset_sum(inst: Any, mask: Any, claimed: dict[str, Any]) -> dict[str, Any]:
    """Exact error of the mask, and a re-check of a claimed optimum with mitm (n <= 48)."""
    from exactprune.solvers import solve

    exact = inst.exact_error(mask)
    out: dict[str, Any] = {"exact_error": f"{exact.numerator}/{exact.denominator}"}
    if claimed.get("certified") and claimed.get("goal", {}).get("objective") != "sparsest":
        if inst.n <= 48:
            ref = solve(inst, "mitm")
            out["optimum_verified"] = inst.exact_error(ref.mask) == exact
        else:
            out["optimum_verified"] = None
    return out


def _cmd_demo(args: argparse.Namespace) -> int:
    from exactprune.instances import generate_subset_sum
    from exactprune.solvers import solve

    inst = generate_subset_sum(args.n, seed=args.seed)
    print(f"random subset-sum: n = {inst.n} values ~ Uniform[-1,1], target {inst.target:.6f}"
          f" (seed {args.seed})")
    result = solve(inst, "auto")
    print(format_result(result, inst))
    heur = solve(inst, "local_search", seed=args.seed)
    if result.objective and heur.objective is not None:
        print(f"local_search heuristic: error {heur.objective:.6g} "
              f"({heur.objective / result.objective:.3g}x the certified optimum)")
    return EXIT_OK


# -- parser ---------------------------------------------------------------------------------
def _add_goal_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--objective", choices=["min_error", "sparsest"], default="min_error",
                   help="min_error (default) or sparsest: fewest kept with error <= --eps")
    p.add_argument("--eps", type=_finite_float, default=None,
                   help="error tolerance for --objective sparsest")
    p.add_argument("--max-kept", type=_nonneg_int, default=None,
                   help="keep at most this many (min_error only)")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="exactprune", description="Exact, certified optimal pruning.")
    parser.add_argument("--debug", action="store_true", help="show tracebacks of internal errors")
    sub = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)

    gen = sub.add_parser("generate", help="write a seeded random instance as JSON")
    gen_sub = gen.add_subparsers(dest="kind", required=True, parser_class=_Parser)
    ss = gen_sub.add_parser("subset-sum", help="n values ~ Uniform[low, high] and a target")
    ss.add_argument("--n", type=_positive_int, required=True)
    ss.add_argument("--seed", type=_nonneg_int, default=0)
    ss.add_argument("--low", type=_finite_float, default=-1.0)
    ss.add_argument("--high", type=_finite_float, default=1.0)
    ss.add_argument("--target", type=_finite_float, default=None,
                    help="default: drawn from Uniform[low, high]")
    ss.add_argument("-o", "--output", default=None, help="output file (default: stdout)")
    ss.set_defaults(func=_cmd_generate_subset_sum)
    for kind in ("neuron-pruning", "weight-pruning"):
        pp = gen_sub.add_parser(kind, help=f"random two-layer ReLU net and target ({kind})")
        pp.add_argument("--d", type=_positive_int, required=True, help="input dimension")
        pp.add_argument("--width", type=_positive_int, required=True, help="hidden units n")
        pp.add_argument("--points", type=_positive_int, required=True, help="K points")
        pp.add_argument("--seed", type=_nonneg_int, default=0)
        pp.add_argument("--domain", choices=["sphere", "cube", "gaussian"], default="sphere")
        pp.add_argument("--weight-dist", choices=["normal", "uniform"], default="normal",
                        help="first-layer weights: Normal(0,1) or Uniform[-1,1]")
        pp.add_argument("--output-dist", choices=["uniform", "normal"], default="uniform",
                        help="output weights: Uniform[-1,1] or Normal(0,1)")
        pp.add_argument("--output-activation", choices=["identity", "relu"],
                        default="identity")
        pp.add_argument("--target-angle", type=_finite_float, default=None,
                        help="d = 2: target neuron relu(cos(a) x1 + sin(a) x2)")
        pp.add_argument("--target-weights", default=None,
                        help="comma-separated target neuron weights (normalised)")
        pp.add_argument("--norm", choices=["linf", "l1", "l2"], default="linf")
        pp.add_argument("-o", "--output", default=None, help="output file (default: stdout)")
        pp.set_defaults(func=_cmd_generate_pruning, kind_name=kind)

    sol = sub.add_parser("solve", help="solve an instance file")
    sol.add_argument("instance")
    sol.add_argument("--solver", default="auto", help="backend name (see `exactprune solvers`)")
    sol.add_argument("--time-limit", type=_positive_float, default=None, help="seconds")
    sol.add_argument("--threads", type=_positive_int, default=None)
    sol.add_argument("--seed", type=_nonneg_int, default=0)
    sol.add_argument("--json", action="store_true", help="print the result as one JSON object")
    sol.add_argument("-o", "--output", default=None, help="also write the result JSON here")
    sol.add_argument("--warm-start", default=None, help="a result JSON whose mask starts the solve")
    sol.add_argument("--memory-limit-gb", type=_positive_float, default=None,
                     help="memory budget of mitm's table (default 4)")
    sol.add_argument("--verbose", action="store_true", help="pass the solver's log to stderr")
    sol.add_argument("--option", action="append", default=[], metavar="KEY=VALUE",
                     help="backend option, e.g. lazy=false, formulation=dictionary, restarts=50")
    _add_goal_args(sol)
    sol.set_defaults(func=_cmd_solve)

    sv = sub.add_parser("solvers", help="list backends, versions and availability")
    sv.add_argument("--json", action="store_true")
    sv.set_defaults(func=_cmd_solvers)

    ex = sub.add_parser("export", help="write the instance's MILP as MPS or LP")
    ex.add_argument("instance")
    ex.add_argument("--format", choices=["mps", "lp"], default="mps")
    ex.add_argument("-o", "--output", required=True)
    ex.add_argument("--formulation", choices=["dictionary", "bigm"], default=None,
                    help="pruning kinds: weight pruning dictionary (default) or big-M")
    _add_goal_args(ex)
    ex.set_defaults(func=_cmd_export)

    cert = sub.add_parser("certify", help="recompute a result's numbers; error bracket over "
                          "the domain for pruning instances")
    cert.add_argument("instance")
    cert.add_argument("result", help="a result JSON (exactprune solve -o), or {\"mask\": ...}")
    cert.add_argument("--time-limit", type=_positive_float, default=None,
                      help="seconds for the cube MILP")
    cert.add_argument("--json", action="store_true")
    cert.set_defaults(func=_cmd_certify)

    demo = sub.add_parser("demo", help="generate a small instance and solve it exactly")
    demo.add_argument("--n", type=_positive_int, default=24)
    demo.add_argument("--seed", type=_nonneg_int, default=0)
    demo.set_defaults(func=_cmd_demo)

    from exactprune.benchmarks import bench, solve_sweep, sweep
    from exactprune.benchmarks.pruning import verify_gap as verify_pruning_gap
    from exactprune.benchmarks.subset_sum import verify as verify_subset_sum

    ver = sub.add_parser("verify", help="experiments that test the width scalings")
    ver_sub = ver.add_subparsers(dest="experiment", required=True, parser_class=_Parser)
    verify_subset_sum.add_subset_sum_parser(ver_sub)
    verify_pruning_gap.add_pruning_gap_parser(ver_sub)
    solve_sweep.register_cli(sub)
    sweep.register_cli(sub)
    bench.register_cli(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the CLI; returns the exit code."""
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    argv = list(sys.argv[1:] if argv is None else argv)
    debug = "--debug" in argv
    try:
        args = build_parser().parse_args(argv)
        return int(args.func(args))
    except InputError as exc:
        print(f"exactprune: error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        print("exactprune: interrupted", file=sys.stderr)
        return 130
    except SystemExit as exc:  # --help
        return int(exc.code or 0)
    except Exception as exc:
        if debug:
            raise
        print(f"exactprune: internal error: {type(exc).__name__}: {exc} (rerun with --debug)",
              file=sys.stderr)
        return EXIT_INTERNAL
