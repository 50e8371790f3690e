"""`exactprune results export|summary|plot`: what a sweep's SQLite results store holds,
read-only."""

from __future__ import annotations

import argparse
import io
import sys
from typing import Any

from exactprune.benchmarks.store import EXPORT_FORMATS, ResultStore
from exactprune.instances.errors import InputError
from exactprune.instances.io import dumps


def _cmd_results_export(args: argparse.Namespace) -> int:
    from exactprune.instances.io import check_output, output_format, write_text_atomic

    check_output(args.output, inputs=(args.store,))
    _refuse_store_companions(args.output, args.store)
    # the file's extension says the format, as for `exactprune export`: -o runs.jsonl held
    # CSV and -o runs.csv.gz plain text (hunt 69 L1)
    # CSV in r.json, without --format (hunt 73): JSON lines are not one JSON document either
    fmt = output_format(args.output, args.format, EXPORT_FORMATS, "results export",
                        unlike=("json",))
    with ResultStore(args.store, create=False) as store:
        if args.experiment is not None:
            # runs stored without an experiment (the Python API allows it) have no name to
            # ask for: "None" matched nothing and exported 0 runs (hunt 29)
            known = sorted({r["experiment"] for r in store.summary()
                            if r["experiment"] is not None})
            if args.experiment not in known:
                raise InputError(f"no experiment {args.experiment!r} in {args.store} (it has: "
                                 f"{', '.join(map(_shown, known)) or 'no named experiment'})")
        buf = io.StringIO()
        n = store.export(fmt, buf, experiment=args.experiment)
    if args.output is None or args.output == "-":
        sys.stdout.write(buf.getvalue())
        sys.stdout.flush()  # before the count: a full stdout said "exported" first (hunt 32)
    else:
        write_text_atomic(args.output, buf.getvalue())
    print(f"exported {n} runs", file=sys.stderr)
    return 0


def _refuse_store_companions(output: Any, store: Any) -> None:
    """InputError when `output` is one of SQLite's files beside the store (-wal, -shm,
    -journal): after a killed sweep the committed runs live in the -wal, and an export written
    over it lost them all (hunt 10). Compared by resolved name: they may not exist yet."""
    import os

    if output is None or str(output) == "-":
        return
    target = os.path.realpath(output)
    base = os.path.realpath(store)
    for suffix in ("-wal", "-shm", "-journal"):
        if target == base + suffix:
            raise InputError(f"output file {output} is part of the results store {store} "
                             f"(its {suffix[1:]} file); choose another name")


def _shown(name: Any) -> str:
    """An experiment's name for a line of text: as it is, or quoted when it holds a newline
    or another character that would break the line (hunt 29); runs without one: "-"."""
    if name is None:
        return "-"
    text = str(name)
    return text if text.isprintable() else repr(text)


def _cmd_results_summary(args: argparse.Namespace) -> int:
    with ResultStore(args.store, create=False) as store:
        rows = store.summary()
    if args.json:
        print(dumps(rows))
        return 0
    width = max([len(_shown(r["experiment"])) for r in rows] + [len("experiment")]) + 2
    print(f"{'experiment':<{width}}{'status':<14}{'runs':>8}{'wall_s':>14}")
    for r in rows:
        print(f"{_shown(r['experiment']):<{width}}{_shown(r['status']):<14}{r['runs']:>8}"
              f"{r['wall_time_s']:>14.1f}")
    total = sum(r["runs"] for r in rows)
    print(f"{'total':<{width}}{'':<14}{total:>8}"
          f"{sum(r['wall_time_s'] for r in rows):>14.1f}")
    return 0


def _cmd_results_plot(args: argparse.Namespace) -> int:
    from exactprune.benchmarks.plots import DISTINCT_SERIES
    from exactprune.benchmarks.results_plot import (
        PLOT_SUFFIXES,
        plot_curves,
        require_matplotlib,
        results_curves,
    )
    from exactprune.benchmarks.store import check_store_text
    from exactprune.instances.io import check_output

    check_store_text(args.store)
    out = check_output(args.output, inputs=(args.store,), what="plot file", stdout_ok=False)
    if out is None or out.suffix.lower() not in PLOT_SUFFIXES:
        raise InputError(f"-o {args.output}: a plot is written as a .png or .svg file")
    _refuse_store_companions(args.output, args.store)
    require_matplotlib()
    curves = results_curves(args.store, args.x, y=args.y, experiment=args.experiment)
    hidden_x, hidden_y = plot_curves(curves, args.output, logx=args.logx,
                                     logy=False if args.linear_y else None)
    if args.json:
        print(dumps({**curves.to_json(), "plot": str(args.output)}))
    else:
        constant = curves.constant_text()
        print(f"{_shown(curves.experiment)}: median {args.y} against {args.x}"
              f"{f' ({constant})' if constant else ''}")
        print(curves.table())
    if hidden_x:
        print(f"exactprune: note: {hidden_x} point{'s' if hidden_x > 1 else ''} with "
              f"{args.x} <= 0 not drawn on the log x axis", file=sys.stderr)
    if hidden_y:
        print(f"exactprune: note: {hidden_y} median{'s' if hidden_y > 1 else ''} <= 0 not "
              "drawn on the log y axis (--linear-y draws them)", file=sys.stderr)
    if len(curves.curves) > DISTINCT_SERIES:
        print(f"exactprune: note: {len(curves.curves)} series: colours and line styles "
              f"repeat after {DISTINCT_SERIES}", file=sys.stderr)
    print(f"plot in {args.output}", file=sys.stderr)
    return 0


def register_cli(subparsers: Any) -> None:
    """Add ``results export``, ``summary`` and ``plot`` to the CLI's subparsers (the object
    returned by ``ArgumentParser.add_subparsers``). Handlers are set as ``func`` and return
    the exit code; a missing or foreign store file is an InputError (exit 2)."""
    res = subparsers.add_parser("results", help="inspect and export a sweep's results store")
    sub = res.add_subparsers(dest="results_command", required=True, metavar="{export,summary,plot}")
    ex = sub.add_parser("export", help="write every stored run as CSV or JSON lines")
    ex.add_argument("--store", required=True, metavar="FILE.sqlite")
    ex.add_argument("--format", choices=list(EXPORT_FORMATS), default=None,
                    help="default: the output file's extension (.csv or .jsonl), else csv")
    ex.add_argument("--experiment", default=None, help="only this experiment's runs")
    ex.add_argument("-o", "--output", default=None, help="output file (default: stdout)")
    ex.set_defaults(func=_cmd_results_export)
    sm = sub.add_parser("summary", help="number of runs per experiment and status")
    sm.add_argument("--store", required=True, metavar="FILE.sqlite")
    sm.add_argument("--json", action="store_true")
    sm.set_defaults(func=_cmd_results_summary)
    from exactprune.benchmarks.results_plot import Y_FIELDS

    pl = sub.add_parser("plot", help="scaling curves: per solver, the median and quartiles of "
                                     "a run's number against a grid parameter")
    pl.add_argument("--store", required=True, metavar="FILE.sqlite")
    pl.add_argument("--x", required=True, metavar="PARAM",
                    help="a numeric grid parameter (n, width, ...)")
    pl.add_argument("--y", choices=list(Y_FIELDS), default="objective",
                    help="the run's number (default objective); runs that ended in an error "
                         "or were killed are counted, not drawn")
    pl.add_argument("--experiment", default=None,
                    help="this experiment's runs (needed when the store holds several)")
    pl.add_argument("--logx", action="store_true", help="log x axis")
    pl.add_argument("--linear-y", action="store_true",
                    help="linear y axis (default: log, but for kept)")
    pl.add_argument("-o", "--output", required=True, metavar="FILE.png|FILE.svg")
    pl.add_argument("--json", action="store_true", help="print the curves as JSON")
    pl.set_defaults(func=_cmd_results_plot)

