"""The `exactprune` command line (contract in DESIGN.md).

What it offers is derived from the problem catalog (instances/catalog.py): one ``generate``
subcommand per kind with one flag per generator parameter, the solvers and their options per
(kind, solver) pair, the formulations ``export`` can write, and what ``certify`` reports.

Exit codes: 0 success; 2 bad input or usage (one line on stderr, no partial output file);
1 internal error (one line; `--debug` shows the traceback).
"""

from __future__ import annotations

import argparse
import errno
import logging
import math
import os
import re
import sys
from collections.abc import Sequence
from typing import Any, NoReturn

from exactprune.instances import io as instance_io
from exactprune.instances.errors import InputError, clipped_line
from exactprune.instances.params import int_from_to as _int_from_to
from exactprune.instances.params import nonneg_finite_float as _nonneg_finite_float
from exactprune.instances.params import nonneg_int as _nonneg_int
from exactprune.instances.params import positive_amount as _positive_amount
from exactprune.instances.params import positive_float as _positive_float
from exactprune.instances.params import positive_int as _positive_int
from exactprune.invocation import record_command
from exactprune.termination import interrupted_exit, interruption_behind, signals_as_interrupts

EXIT_OK, EXIT_INTERNAL, EXIT_USAGE = 0, 1, 2
_OUTPUT_ERRNOS = (errno.ENOSPC, errno.EDQUOT, errno.EIO, errno.EFBIG, errno.EBADF)
"""A write that failed for want of room, a failing device or a stdout not open for writing
(`1</dev/null`: an internal error until hunt 36): the output could not be written."""
_NUMBER = r"((\d+\.?\d*|\.\d+)([eE][-+]?\d+)?|inf|infinity|nan)"
_NEGATIVE_NUMBER = re.compile(rf"^-{_NUMBER}(,.*)?$", re.IGNORECASE)
"""A value, not an option: "-1e308", "-inf", and a list that starts with one ("-4,8", "-4,a";
it was argparse's "expected one argument" and now gets the flag's own message; hunts 79, 84)."""


class _Parser(argparse.ArgumentParser):
    """argparse with one-line usage errors (exit 2), as the CLI contract asks, that reads
    "-1e308" (and "-inf") as a value, not as an option."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._negative_number_matcher = _NEGATIVE_NUMBER

    def error(self, message: str) -> NoReturn:
        # a subcommand names itself; the root's name is already the line's "exactprune:"
        raise InputError(f"{self.prog}: {message}" if " " in self.prog else message)

    def _print_message(self, message: str, file: Any = None) -> None:
        # argparse swallows OSError here: `--help > /dev/full` exited 0 with nothing written
        # (hunt 32); the CLI's handlers report it as for every other output
        if message:
            (file or sys.stderr).write(message)


# -- generate -------------------------------------------------------------------------------
def _cmd_generate(args: argparse.Namespace) -> int:
    from exactprune.instances.catalog import get_kind

    kind = get_kind(args.kind_name)
    values = {p.name: getattr(args, p.name) for p in kind.params()
              if getattr(args, p.name) is not None}
    # a parameter naming a file (a trained network) is an input -o must not overwrite
    inputs = tuple(v for v in values.values() if instance_io.names_a_file(v))
    instance_io.check_output(args.output, inputs=inputs)
    instance_io.check_json_name(args.output)
    _emit_json(kind.make(values, for_file=True).to_json(), args.output)
    return EXIT_OK


def _parse_option(text: str) -> tuple[str, str]:
    """KEY=VALUE; the value is parsed later by the backend's declared option type."""
    if "=" not in text:
        raise InputError(f"--option takes KEY=VALUE, got {text!r}")
    key, raw = text.split("=", 1)
    return key.strip(), raw


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

    out = instance_io.check_output(args.output, inputs=(args.instance, args.warm_start))
    instance_io.check_json_name(out)
    inst = instance_io.load_instance(args.instance)
    options: dict[str, Any] = {}
    for text in args.option:
        key, raw = _parse_option(text)
        if key in options:
            raise InputError(f"--option {key} given twice")
        options[key] = raw
    if args.memory_limit_gb is not None:
        if "memory_limit_gb" in options:
            raise InputError("--memory-limit-gb and --option memory_limit_gb are the same "
                             "option: give it once")
        options["memory_limit_gb"] = args.memory_limit_gb
    warm = None
    if args.warm_start is not None:
        raw = _result_mask(instance_io.read_json(args.warm_start, "the --warm-start file path"),
                           inst.kind, args.warm_start,  # (its messages name the file)
                           label=f"warm start {args.warm_start}")
        try:
            warm = inst.mask_from_json(raw)
        except InputError as exc:  # which mask is at fault, as solve() says (hunt 115 L2)
            raise InputError(f"warm start {args.warm_start}: {exc}") from None
    result = solve(inst, args.solver, time_limit=args.time_limit, seed=args.seed,
                   threads=args.threads, verbose=args.verbose, warm_start=warm,
                   options=options, **_goal_kwargs(args))
    data = result.to_json(inst.mask_to_json)
    if out is not None:
        instance_io.write_json_atomic(out, data)
    if args.json or args.output == "-":
        print(instance_io.dumps(data))
    else:
        print(format_result(result, inst))
    return EXIT_OK


def _result_mask(data: Any, kind: str | None = None, path: str | None = None,
                 infeasible: bool = False, label: str | None = None) -> Any:
    """The mask of a result file (or a bare mask); a result of another kind than the instance
    is refused (a 12-value subset-sum result warm-started a 12-unit pruning instance). A result
    (an object with a status) is checked as results are read, by `SolveResult.from_json`, for
    certify and --warm-start alike: certify took the bound of a status optimal with certified
    false (hunt 61 L2), --warm-start a malformed instance hash (hunt 62 L3). With
    `infeasible`, an infeasible result's missing mask is None (certify re-checks the claim).
    `label` names the file in a malformed result's refusal (default `path`): "warm start
    ws.json", as the warm start's mask check says (hunt 220 L4)."""
    from exactprune.solvers.result import SolveResult, check_result_header

    try:
        if isinstance(data, dict):  # an instance file with a mask, a version 9 (hunt 35)
            check_result_header(data)
        if isinstance(data, dict) and "status" in data:
            SolveResult.from_json(data)
    except InputError as exc:  # which file (certify reads two; hunt 102 L3)
        name = label or path
        raise InputError(f"{name}: {exc}" if name else str(exc)) from None
    which = f"the result file {path}" if path else "the result file"  # (hunt 207 L1)
    if isinstance(data, dict) and kind is not None and "kind" in data and data["kind"] != kind:
        raise InputError(f"{which} is for a {data['kind']!r} instance, not {kind!r}")
    if isinstance(data, dict) and ("mask" in data or "status" in data):
        # a result without the key holds no mask either (it was read whole as one; hunt 188)
        if data.get("mask") is None and not (infeasible and data.get("status") == "infeasible"):
            raise InputError(f"{which} holds no mask")
        return data.get("mask")
    return data


def format_result(result: Any, inst: Any) -> str:
    """A short human-readable summary of a SolveResult."""
    import numpy as np

    def num(x: float | None) -> str:
        return "-" if x is None else f"{x:.6g}"

    cert = "certified" if result.certified else "not certified"
    if result.certified and result.tolerance is not None:
        cert += f", tolerance {result.tolerance:.3g}"
    stopped = "" if str(result.limit) == "none" else f", stopped by the {result.limit} limit"
    lines = [
        f"status     {result.status} ({cert}{stopped})",
        f"objective  {num(result.objective)}   [{result.goal.objective}]",
        f"error      {num(result.error)}",
        f"bound      {num(result.bound)}   gap {num(result.gap)}",
        f"kept       {'-' if result.kept is None else result.kept} of {inst.mask_size}",
        f"solver     {result.solver} ({result.solver_version or 'version unknown'}), "
        f"{result.wall_time_s:.3f} s",
    ]
    if "warm_start" in result.stats:
        # the engines also judge a start of exactprune's own (its source is named): say whose
        source = result.stats.get("warm_start_source")
        whose = f" (the start from {source})" if source and source != "warm start" else ""
        lines.append(f"warm start{whose} {result.stats['warm_start']}")
    if result.mask is not None:
        flat = np.asarray(result.mask).ravel()
        if getattr(inst, "repeats", False):  # counts, whatever their values (hunt 225 L1)
            text = ",".join(str(int(c)) for c in flat)
            lines.append(f"counts     {text if len(text) <= 80 else text[:77] + '...'}")
        else:
            bits = "".join("1" if b else "0" for b in flat)
            lines.append(f"mask       {bits if len(bits) <= 80 else bits[:77] + '...'}")
    lines.extend(f"note       {note}" for note in result.notes)
    return "\n".join(lines)


# -- solvers, export, certify, demo ---------------------------------------------------------
def _cmd_solvers(args: argparse.Namespace) -> int:
    from exactprune.instances.catalog import KINDS
    from exactprune.solvers import list_backends

    rows = [b.describe() for b in list_backends(args.kind, commercial=True)]
    if args.json:
        print(instance_io.dumps(rows))
        return EXIT_OK
    width = max(len(r["solver"]) for r in rows) + 2
    kind_w = max(len(r["kind"]) for r in rows) + 2
    version_w = max([len("version"), *(len(r["version"] or "-") for r in rows)]) + 2
    print(f"{'kind':<{kind_w}}{'solver':<{width}}{'avail':<7}{'exact':<7}"
          f"{'version':<{version_w}}capabilities")
    for r in rows:
        print(f"{r['kind']:<{kind_w}}{r['solver']:<{width}}"
              f"{'yes' if r['available'] else 'no':<7}{'yes' if r['exact'] else 'no':<7}"
              f"{r['version'] or '-':<{version_w}}{', '.join(r['capabilities'])}")
        narrowed = [f"{name} {', '.join(map(str, values)).lower()}"
                    for name, values in r["accepts"].items()
                    if len(values) < len(KINDS[r["kind"]].variant_values(name))]
        if narrowed:  # what --json's "accepts" says, where it is not everything
            print(f"{'':<{kind_w + width}}  takes only: {'; '.join(narrowed)}")
        for name, text in r["options"].items():
            print(f"{'':<{kind_w + width}}  option {name}: {text}")
    return EXIT_OK


def _cmd_export(args: argparse.Namespace) -> int:
    from exactprune.formulations.export import (
        build_model,
        export_format,
        export_model,
        model_text,
    )
    from exactprune.solvers.result import Goal

    out = instance_io.check_output(args.output, inputs=(args.instance,))
    fmt = export_format(out, args.format)  # the file's extension says it (m.lp held MPS text)
    inst = instance_io.load_instance(args.instance)
    goal = Goal(**_goal_kwargs(args))
    try:
        if out is None:
            print(model_text(build_model(inst, goal, args.formulation), fmt), end="")
        else:
            export_model(inst, goal, out, fmt, args.formulation)
    except MemoryError:  # nothing is written before the whole text is built
        raise InputError("not enough memory to build the model's text: use fewer points or "
                         "units, or a smaller d") from None
    return EXIT_OK


def _cmd_certify(args: argparse.Namespace) -> int:
    from exactprune.instances.catalog import get_kind
    from exactprune.solvers.result import add_certify_note, claimed_goal, derived_numbers_match

    out_path = instance_io.check_output(args.output, inputs=(args.instance, args.result))
    instance_io.check_json_name(out_path)
    inst = instance_io.load_instance(args.instance)
    data = instance_io.read_json(args.result, "the result file path")
    if data is None:  # JSON null: no result (it was read as an infeasible claim; hunt 190)
        raise InputError(f"{args.result}: the result file holds no mask (it is JSON null)")
    given = _result_mask(data, inst.kind, args.result, infeasible=True)
    claimed = data if isinstance(data, dict) else {}  # a result was checked by _result_mask
    module = get_kind(inst.kind).module("solvers")
    if given is None:  # a claim that no mask meets the goal: re-checked where a kind can
        hook = getattr(module, "certify_infeasible", None)
        if hook is None:
            raise InputError(f"the result file {args.result} holds no mask (an infeasible "
                             f"claim, which no {inst.kind.replace('_', '-')} goal can be)")
        out: dict[str, Any] = {"kind": inst.kind, "status_claimed": "infeasible",
                               "instance_matches": instance_io.names_instance(claimed, inst),
                               **derived_numbers_match(claimed),
                               **hook(inst, claimed, args.time_limit)}
        return _certify_output(args, out_path, out)
    try:
        mask = inst.mask_from_json(given)
    except InputError as exc:  # which file's mask, as --warm-start says (hunt 196 L3)
        raise InputError(f"{args.result}: {exc}") from None
    goal = claimed_goal(claimed)
    error, kept = inst.evaluate(mask), inst.kept(mask)
    # the objective of the result's goal: the error, or (sparsest) the count kept; the
    # error recomputed always (a sparsest result's objective_recomputed was its error; hunt 18)
    sparsest = goal.get("objective") == "sparsest"
    out: dict[str, Any] = {"kind": inst.kind, "objective_recomputed": kept if sparsest else error,
                           "error_recomputed": error, "kept": kept}
    if "objective" in claimed:
        objective = claimed["objective"]
        if objective is not None and (isinstance(objective, bool)
                                      or not isinstance(objective, int | float)):
            raise InputError(f"{args.result}: the result's objective must be a number or null, "
                             f"got {objective!r}")
        out["objective_claimed"] = objective
        recomputed = out["objective_recomputed"]
        # JSON writes an objective beyond float64 (inf) as null: solve's own file matches
        out["objective_matches"] = objective == recomputed or (
            objective is None and not math.isfinite(recomputed))
    claimed_kept = claimed.get("kept")
    if claimed_kept is not None:  # a count the mask does not keep was passed over (hunt 96)
        # a count as the result reader takes one: 5 or 5.0, not -1, 2.5 or true (hunt 99 L2)
        if (isinstance(claimed_kept, bool) or not isinstance(claimed_kept, int | float)
                or not math.isfinite(claimed_kept) or not float(claimed_kept).is_integer()
                or claimed_kept < 0):
            raise InputError(f"{args.result}: the result's kept must be a count (an integer "
                             f">= 0) or null, got {claimed_kept!r:.60}")
        out["kept_claimed"] = int(claimed_kept)  # a count, as `kept` is (5.0 read as 5)
        out["kept_matches"] = claimed_kept == kept
    if "status" in claimed:  # a result: is it of this instance? (None: it does not say)
        out["instance_matches"] = instance_io.names_instance(claimed, inst)
        out.update(derived_numbers_match(claimed))
    certify = getattr(module, "certify", None)
    if certify is not None:
        out.update(certify(inst, mask, claimed, args.time_limit))
    if not math.isfinite(error):  # JSON has no inf: say what its null stands for, as solve
        # does (the report's nulls came without a word; hunt 217 L2)
        add_certify_note(out, "the mask's error exceeds float64 (inf; null in JSON)")
    return _certify_output(args, out_path, out)


def _certify_output(args: argparse.Namespace, out_path: Any, out: dict[str, Any]) -> int:
    """`certify`'s checks to -o (JSON) and stdout (JSON, or a line per field)."""
    if out_path is not None:
        instance_io.write_json_atomic(out_path, out)
    if args.json or args.output == "-":
        print(instance_io.dumps(out))
    else:
        for key, value in out.items():
            if isinstance(value, dict):
                for k2, v2 in value.items():
                    print(f"{key}.{k2:<16} {v2}")
            else:
                print(f"{key:<22} {value}")
    return EXIT_OK


def _cmd_demo(args: argparse.Namespace) -> int:
    from exactprune.instances import generate_subset_sum
    from exactprune.solvers import solve

    inst = generate_subset_sum(args.n, seed=args.seed)
    print(f"random subset-sum: n = {inst.n} values ~ Uniform[-1,1], target {inst.target:.6f}"
          f" (seed {args.seed})")
    result = solve(inst, "auto", time_limit=args.time_limit)
    print(format_result(result, inst))
    heur = solve(inst, "local_search", seed=args.seed, time_limit=args.time_limit)
    if result.objective and heur.objective is not None:
        best = ("the certified optimum" if result.certified
                else f"{result.solver}'s best, not certified")
        print(f"local_search heuristic: error {heur.objective:.6g} "
              f"({heur.objective / result.objective:.3g}x {best})")
    return EXIT_OK


# -- ticket ---------------------------------------------------------------------------------
def _cmd_ticket(args: argparse.Namespace) -> int:
    from exactprune.instances.mlp import EXTENSIONS, save_mlp
    from exactprune.solvers.tickets import load_target, make_ticket, report

    out = instance_io.check_output(args.output, inputs=(args.target,))
    if out is not None and out.suffix.lower() not in EXTENSIONS:
        raise InputError(f"-o {out}: a ticket is written as {' or '.join(EXTENSIONS)}")
    target, data = load_target(args.target, args.data)
    if out is not None and out.suffix.lower() == ".safetensors" and \
            args.construction == "pensia":
        # a pensia ticket has the target's layer names and shapes: a name order .safetensors
        # cannot keep is refused before the work, not after it (hunt 26)
        from exactprune.instances.mlp import mlp_bytes

        mlp_bytes(target, ".safetensors")
    ticket = make_ticket(target, args.coefficients, args.eps, construction=args.construction,
                         objective=args.objective, share=args.share, seed=args.seed,
                         memory_limit_gb=args.memory_limit_gb, time_limit=args.time_limit,
                         progress=sys.stderr.isatty())
    summary = report(ticket, data)
    if out is not None:
        save_mlp(ticket.network, out)
        summary["output"] = str(out)
    if args.output == "-":  # the ticket's .npz on stdout, the report on stderr
        from exactprune.instances.mlp import mlp_bytes

        sys.stdout.buffer.write(mlp_bytes(ticket.network, ".npz"))
        sys.stdout.flush()
        print(instance_io.dumps(summary), file=sys.stderr)
        return EXIT_OK
    if args.json:
        print(instance_io.dumps(summary))
        return EXIT_OK
    print(f"{ticket.construction} ticket of {args.target} ({summary['target_weights']:,} target "
          f"weights, {ticket.n} coefficients each, eps {ticket.eps:g}, {ticket.objective})")
    print(f"{'layer':<16}{'weights':>10}{'coefficients':>14}{'kept':>11}{'max error':>12}"
          f"{'mean error':>12}{'infeasible':>11}")
    for row in [*summary["layers"], {**summary, "name": "total"}]:
        print(f"{row['name']:<16}{row['target_weights']:>10,}{row['total_coefficients']:>14,}"
              f"{row['kept']:>11,}{row['max_weight_error']:>12.3g}"
              f"{row['mean_weight_error']:>12.3g}{row['infeasible']:>11,}")
    if summary["not_exact"]:
        where = " (in one of their halves or both)" if args.construction == "theory" else ""
        print(f"time limit of {args.time_limit:g} s: {summary['not_exact']:,} weights have a "
              f"greedy subset{where}, not an exact one (their errors are the greedy subsets' "
              "own)")
    if "ticket_accuracy" in summary:
        print(f"accuracy on {summary['evaluated_on']} held-out images: target "
              f"{summary['target_accuracy']:.4f}, ticket {summary['ticket_accuracy']:.4f}; "
              f"largest output deviation {summary['max_output_deviation']:.3g} (bound from the "
              f"weight errors {summary['output_deviation_bound']:.3g})")
    print(f"ticket network: {summary['graph']['nodes']:,} units, {summary['graph']['edges']:,} "
          f"weights after removing dead units; {summary['wall_time_s']:.1f} s")
    return EXIT_OK


# -- parser ---------------------------------------------------------------------------------
def _add_goal_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--objective", choices=["min_error", "sparsest"], default="min_error",
                   help="min_error (default) or sparsest: fewest kept with error <= --eps")
    p.add_argument("--eps", type=_nonneg_finite_float, default=None,
                   help="error tolerance for --objective sparsest")
    p.add_argument("--max-kept", type=_nonneg_int, default=None,
                   help="keep at most this many (min_error only)")


def _add_generate_parsers(gen_sub: Any) -> None:
    """One subcommand per kind of the catalog, one flag per generator parameter."""
    from exactprune.instances.catalog import KINDS

    for kind in KINDS.values():
        pp = gen_sub.add_parser(kind.cli_name, help=kind.summary)
        for p in kind.params():
            flag = "--" + p.name.replace("_", "-")
            choices = list(p.choices) if p.choices is not None else None
            pp.add_argument(flag, dest=p.name, default=None, required=p.required,
                            choices=choices, metavar=None if choices else p.type.upper(),
                            help=p.describe())
        pp.add_argument("-o", "--output", default=None, help="output file (default: stdout)")
        pp.set_defaults(func=_cmd_generate, kind_name=kind.name)


def build_parser() -> argparse.ArgumentParser:
    from exactprune.instances.catalog import KINDS
    from exactprune.solvers.result import MAX_THREADS
    from exactprune.solvers.tickets import MAX_N as MAX_COEFFICIENTS

    parser = _Parser(prog="exactprune", description="Exact, certified optimal pruning.")
    parser.add_argument("--debug", action="store_true", help="show tracebacks of internal errors")
    sub = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)

    gen = sub.add_parser("generate", help="write a seeded random instance as JSON")
    _add_generate_parsers(gen.add_subparsers(dest="kind", required=True, parser_class=_Parser))

    sol = sub.add_parser("solve", help="solve an instance file")
    sol.add_argument("instance")
    sol.add_argument("--solver", default="auto",
                     help="backend name (see `exactprune solvers --kind KIND`)")
    sol.add_argument("--time-limit", type=_positive_amount, default=None, help="seconds")
    sol.add_argument("--threads", type=_int_from_to(1, MAX_THREADS), default=None)
    sol.add_argument("--seed", type=_nonneg_int, default=0)
    sol.add_argument("--json", action="store_true", help="print the result as one JSON object")
    sol.add_argument("-o", "--output", default=None,
                     help="also write the result JSON here (- : print it on stdout)")
    sol.add_argument("--warm-start", default=None, help="a result JSON whose mask starts the solve")
    sol.add_argument("--memory-limit-gb", type=_positive_amount, default=None,
                     help="mitm's option memory_limit_gb: bounds the peak memory of its table "
                          "and blocks (GB, default 4)")
    sol.add_argument("--verbose", action="store_true", help="pass the solver's log to stderr")
    sol.add_argument("--option", action="append", default=[], metavar="KEY=VALUE",
                     help="backend option, parsed by its declared type (see `exactprune "
                          "solvers`), e.g. lazy=false, formulation=bigm, restarts=50")
    _add_goal_args(sol)
    sol.set_defaults(func=_cmd_solve)

    sv = sub.add_parser("solvers", help="list backends per kind: availability, version, "
                                        "capabilities, options")
    sv.add_argument("--kind", choices=[*KINDS, *(k.cli_name for k in KINDS.values())],
                    default=None, help="only this problem kind")
    sv.add_argument("--json", action="store_true",
                    help="one object per (kind, solver): kind, solver, description, exact, "
                         "available, version, capabilities, accepts (the norms, losses and "
                         "rules it takes), options, option_declarations")
    sv.set_defaults(func=_cmd_solvers)

    ex = sub.add_parser("export", help="write the instance's MILP as MPS or LP (exact)")
    ex.add_argument("instance")
    ex.add_argument("--format", choices=["mps", "lp"], default=None,
                    help="default: the output file's extension (.mps or .lp), else mps; "
                         "needed for a name saying another format (model.json)")
    ex.add_argument("-o", "--output", required=True, help="the model file (- : stdout)")
    ex.add_argument("--formulation", default=None,
                    help="the kind's formulation (default: its first, and bigm for "
                         "weight_pruning past d = 10, as the engines); neuron_pruning: "
                         "selection or antipodal; weight_pruning: dictionary, bigm or "
                         "antipodal; subset_sum: standard; neuron_selection: selection")
    _add_goal_args(ex)
    ex.set_defaults(func=_cmd_export)

    cert = sub.add_parser("certify", help="recompute a result's numbers; error bracket over "
                          "the domain for pruning instances")
    cert.add_argument("instance")
    cert.add_argument("result", help="a result JSON (exactprune solve -o), or {\"mask\": ...}")
    cert.add_argument("--time-limit", type=_positive_amount, default=None,
                      help="seconds for the sup error's search: the cube's MILPs or the "
                      "sphere's branch and bound (d >= 3, also behind the gaussian domain), "
                      "and the bruteforce re-check of a small instance's bound and certified "
                      "claim (default 10 there); neuron selection: for its bruteforce re-check "
                      "(default 60 there); subset-sum: for the mitm re-check; default none")
    cert.add_argument("--json", action="store_true")
    cert.add_argument("-o", "--output", default=None,
                      help="also write the report as JSON here (- : print it on stdout)")
    cert.set_defaults(func=_cmd_certify)

    demo = sub.add_parser("demo", help="generate a small instance and solve it exactly")
    demo.add_argument("--n", type=_positive_int, default=24, help="values (default 24)")
    demo.add_argument("--seed", type=_nonneg_int, default=0)
    demo.add_argument("--time-limit", type=_positive_amount, default=60.0,
                      help="seconds per solve (default 60): a large --n ends with an honest "
                           "status and its proven bound")
    demo.set_defaults(func=_cmd_demo)

    tk = sub.add_parser("ticket", help="a lottery ticket of a target MLP by exact subset sums "
                                       "(Pensia et al.)")
    tk.add_argument("target", help="an MLP .npz or .safetensors file (weights (out, in) as "
                                   "PyTorch stores nn.Linear), or mnist-mlp (built in)")
    tk.add_argument("--coefficients", type=_int_from_to(1, MAX_COEFFICIENTS), required=True,
                    help="N random coefficients per weight (theory: units per input "
                         "coordinate), 1 to 40: the exact bulk solver's limit")
    tk.add_argument("--eps", type=_positive_float, required=True,
                    help="error tolerance per weight")
    tk.add_argument("--objective", choices=["closest", "sparsest"], default="closest")
    tk.add_argument("--construction", choices=["pensia", "theory"], default="pensia")
    tk.add_argument("--share", choices=["per-weight", "per-row"], default=None,
                    help="pensia only: one draw of N per weight, or per row (their code; the "
                         "default)")
    tk.add_argument("--seed", type=_nonneg_int, default=1)
    tk.add_argument("--data", choices=["mnist"], default=None,
                    help="held-out data for a user TARGET (mnist-mlp has its own)")
    tk.add_argument("--memory-limit-gb", type=_positive_amount, default=2.0,
                    help="memory budget of the exact subset-sum solves, GB (mitm's)")
    tk.add_argument("--time-limit", type=_positive_amount, default=None,
                    help="seconds for the exact solves; weights not answered by then get the "
                         "greedy subset (counted as not_exact)")
    tk.add_argument("-o", "--output", default=None,
                    help="the ticket's network as .npz or .safetensors (- : .npz bytes on "
                         "stdout, the report as JSON on stderr)")
    tk.add_argument("--json", action="store_true")
    tk.set_defaults(func=_cmd_ticket)

    from exactprune.train_cmd import add_train_parser

    add_train_parser(sub)
    from exactprune.benchmarks import bench, results_cli, solve_sweep
    from exactprune.benchmarks.neuron_selection.pretraining import add_pretraining_parser
    from exactprune.benchmarks.pruning import verify_gap as verify_pruning_gap
    from exactprune.benchmarks.subset_sum import verify as verify_subset_sum
    from exactprune.benchmarks.tickets import width_factor

    ver = sub.add_parser("verify", help="experiments that test the width scalings")
    ver_sub = ver.add_subparsers(dest="experiment", required=True, parser_class=_Parser)
    verify_subset_sum.add_subset_sum_parser(ver_sub)
    verify_pruning_gap.add_pruning_gap_parser(ver_sub)
    add_pretraining_parser(ver_sub)
    width_factor.add_width_factor_parser(ver_sub)
    solve_sweep.register_cli(sub)
    results_cli.register_cli(sub)
    bench.register_cli(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the CLI; returns the exit code."""
    try:
        with signals_as_interrupts():
            return _main(argv)
    except KeyboardInterrupt as exc:  # in the set-up before _main's handlers (hunt 164 M1)
        return _interrupted(exc)
    finally:
        record_command(None)


def _interrupted(exc: KeyboardInterrupt) -> int:
    return interrupted_exit(exc)


def _main(argv: Sequence[str] | None) -> int:
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    argv = list(sys.argv[1:] if argv is None else argv)
    debug = "--debug" in argv  # anywhere: "rerun with --debug" is naturally appended
    argv = [a for a in argv if a != "--debug"]
    record_command(argv)  # quoted by the reports that a command writes
    if sys.stdout is None:  # started with stdout closed (`>&-`): like a reader gone away
        sys.stdout = open(os.devnull, "w")  # noqa: SIM115 - for the rest of the process
    if sys.stderr is None:  # `2>&-`: print(file=None) wrote the error line into stdout
        sys.stderr = open(os.devnull, "w")  # noqa: SIM115 - for the rest of the process
    try:
        try:
            args = build_parser().parse_args(argv)
            code = int(args.func(args))
        except SystemExit as exc:  # --help: what it wrote is flushed below like any output
            code = int(exc.code or 0)
        sys.stdout.flush()  # a full disk under stdout fails here, inside the handlers
        return code
    except InputError as exc:
        print(f"exactprune: error: {clipped_line(str(exc))}", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt as exc:
        return _interrupted(exc)
    except BrokenPipeError:  # the reader of stdout went away (`| head`): stop quietly
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return EXIT_OK
    except Exception as exc:
        if (stop := interruption_behind(exc)) is not None:  # hunt 155 M1
            return _interrupted(stop)
        if isinstance(exc, OSError) and exc.errno in _OUTPUT_ERRNOS and not debug:
            # files are written through instances.io, whose failures are InputError: a full
            # or failing device here is stdout's (`> /dev/full`, a full disk; hunt 29)
            print(f"exactprune: error: cannot write the output: {exc.strerror or exc}",
                  file=sys.stderr)
            return EXIT_USAGE
        if debug:
            raise
        print(f"exactprune: internal error: {clipped_line(f'{type(exc).__name__}: {exc}')} "
              "(rerun with --debug)", file=sys.stderr)
        return EXIT_INTERNAL


if __name__ == "__main__":
    raise SystemExit(main())
