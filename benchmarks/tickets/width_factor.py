"""`exactprune verify width-factor TARGET --eps ...`: coefficients per weight a ticket needs.

For Pensia et al.'s construction (solvers/tickets.py) on a target MLP and each seed, tickets are
built for every N = 1..N_max from *nested* coefficients (40, the bulk solver's most, drawn per
row or weight, the first N used: more coefficients can only lower each weight's best error, and
a run with a larger N_max repeats a smaller one's tickets), each weight solved
exactly (closest). Per eps we report the smallest N with every weight within eps, and — when
held-out data are known — per seed (the closest ticket does not depend on eps) the smallest N
whose ticket has the target's accuracy or better, and the smallest from which every larger N
up to N_max keeps it (accuracy is not monotone in N).
The theory says N = O(log2(1/eps)) suffices: the smallest N against log2(1/eps) is fitted by a
line (least squares over the (seed, eps) pairs; the slope's bootstrap CI draws whole seeds, as
a seed's eps share one draw) and plotted. An eps
that some seed does not reach within N_max is left out of the fit for every seed (and named):
dropping only the censored pairs would keep the easy seeds at the hardest eps and bias the
slope low, while leaving out a whole eps selects on x only. An eps at or above the largest
|weight| is met by the empty subset (N = 0) and is left out too.
"""

from __future__ import annotations

import argparse
import math
import time
from pathlib import Path
from typing import Any

import numpy as np

from exactprune.instances.errors import InputError
from exactprune.instances.params import is_integer, nonneg_int, positive_int
from exactprune.invocation import command_lines


def width_factor(target: Any, eps: list[float], *, n_max: int = 30, seeds: int = 1,
                 seed: int = 1, share: str = "per-row",
                 data: tuple[np.ndarray, np.ndarray] | None = None,
                 memory_limit_gb: float = 2.0, progress: Any = None) -> dict[str, Any]:
    """Per seed and N: the largest weight error and the ticket's accuracy; per eps: the smallest
    N reaching it (None when N_max does not), and the fits (see the module docstring)."""
    from exactprune.benchmarks.fits import linear_fit
    from exactprune.instances.mlp import MLP
    from exactprune.solvers.subset_sum.bulk import MAX_N as BULK_MAX_N
    from exactprune.solvers.tickets import pensia_ticket

    if not isinstance(target, MLP):  # None raised AttributeError deep inside (hunt 149)
        raise InputError(f"width_factor takes the target as an MLP (load_mlp), got "
                         f"{type(target).__name__}")
    if not is_integer(n_max) or not 1 <= n_max <= BULK_MAX_N:  # numpy's too (hunt 149 M2)
        raise InputError(f"n_max must be an integer from 1 to {BULK_MAX_N} (the bulk solver's "
                         f"limit), got {n_max!r}")
    eps = sorted({float(e) for e in eps}, reverse=True)
    if not eps or any(not (math.isfinite(e) and e > 0) for e in eps):
        raise InputError(f"eps must be positive numbers, got {eps}")
    from exactprune.benchmarks.sweep_grid import MAX_RUNS

    for name, value, low in (("seeds", seeds, 1), ("seed", seed, 0)):
        if not is_integer(value) or value < low:
            raise InputError(f"{name} must be an integer >= {low}, got {value!r}")
    # Python ints from here: np.int32 products wrapped past the run-count check, np.int8 ones
    # overflowed (hunt 150 M1)
    n_max, seeds, seed = int(n_max), int(seeds), int(seed)
    if seeds * n_max > MAX_RUNS:  # before any work: --seeds 1e11 ran for ever (hunt 26)
        raise InputError(f"{seeds:,} seeds x N = 1..{n_max}: {seeds * n_max:,} tickets, more "
                         f"than {MAX_RUNS:,}")
    if seed + seeds - 1 >= 2**32:  # found only when the loop reached it (hunt 26)
        raise InputError(f"seeds {seed}..{seed + seeds - 1}: the pensia construction's seed is "
                         f"an integer from 0 to 2^32 - 1")
    # every ticket uses the first N of one draw of BULK_MAX_N coefficients per row (or
    # weight), whatever n_max: nested in N, and the same tickets at a larger --n-max, which
    # the report advises for eps not reached (they were drawn n_max wide: hunt 70 L1)
    target_acc = None if data is None else float(target.accuracy(*data))
    # the empty subset's error is the largest |weight| (biases included): an eps at or above
    # it needs no coefficient at all, and N = 1 would be read as one (hunt 81 L2)
    empty_error = max((float(np.max(np.abs(a))) for a in (*target.weights, *target.biases)
                       if a is not None and a.size), default=0.0)
    trivial = [e for e in eps if empty_error <= e]
    runs: list[dict[str, Any]] = []
    for s in range(seed, seed + seeds):
        per_n = []
        for n in range(1, n_max + 1):
            tk = pensia_ticket(target, n, min(eps), objective="closest", share=share, seed=s,
                               memory_limit_gb=memory_limit_gb, draw_width=BULK_MAX_N)
            row = {"n": n, "max_weight_error": tk.summary()["max_weight_error"]}
            if data is not None:
                row["ticket_accuracy"] = float(tk.network.accuracy(*data))
            per_n.append(row)
            if progress is not None:
                progress(s, n)
        def within_eps(row: dict[str, Any], e: float, s: int = s) -> bool:
            # the largest error is the correctly rounded exact one: below e it is within,
            # above e it is not; only an error that rounds to e itself is ambiguous, and a
            # ticket at eps = e decides it exactly (its infeasible count; hunt 19)
            if row["max_weight_error"] != e:
                return row["max_weight_error"] < e
            tk = pensia_ticket(target, row["n"], e, objective="closest", share=share, seed=s,
                               memory_limit_gb=memory_limit_gb, draw_width=BULK_MAX_N)
            return tk.summary()["infeasible"] == 0

        need = {}
        for e in eps:
            within = [0] if e in trivial else [r["n"] for r in per_n if within_eps(r, e)]
            need[e] = {"all_weights_within_eps": within[0] if within else None}
        run: dict[str, Any] = {"seed": s, "per_n": per_n, "needed": need}
        if data is not None:
            # per seed, not per eps: the closest ticket does not depend on eps (it was one
            # column per eps, the same number in each), and accuracy is not monotone in N
            # (0.129 at N = 3, below the target again at N = 4..8; hunt 55 L4)
            run.update(_accuracy_kept(per_n, target_acc))
        runs.append(run)
    censored = [e for e in eps
                if any(r["needed"][e]["all_weights_within_eps"] is None for r in runs)]
    fitted = [e for e in eps if e not in censored and e not in trivial]
    x = [-math.log2(e) for r in runs for e in fitted]  # 1/e overflowed below 5.6e-309
    y = [r["needed"][e]["all_weights_within_eps"] for r in runs for e in fitted]
    # a seed's eps share one nested draw: the bootstrap resamples whole seeds (pairs drawn
    # as if independent gave a CI too narrow, [0.79, 1.66] against [0.70, 1.87]; hunt 81 M1)
    groups = [r["seed"] for r in runs for e in fitted]
    fit = linear_fit(x, y, min_points=2, groups=groups) if len(set(x)) >= 2 else None
    return {"eps": eps, "n_max": n_max, "share": share, "seeds": list(range(seed, seed + seeds)),
            "target_accuracy": target_acc, "runs": runs, "x_log2_inv_eps": x, "y_n_needed": y,
            "censored_eps": censored, "empty_subset_error": empty_error,
            "trivial_eps": trivial,
            "fit": None if fit is None else {"slope": fit.estimate, "ci": list(fit.ci),
                                             "intercept": fit.intercept, "r2": fit.r2,
                                             "n_points": fit.n_points, "notes": list(fit.notes)},
            "_fit": fit}


def _accuracy_kept(per_n: list[dict[str, Any]], target_acc: float) -> dict[str, int | None]:
    """Of one seed's tickets N = 1..N_max: the smallest N whose accuracy reaches the target's
    (`accuracy_first_reached`), and the smallest N from which every ticket up to N_max does
    (`accuracy_kept_from`); None when there is none."""
    reached = [r["ticket_accuracy"] >= target_acc for r in per_n]
    first = next((r["n"] for r, ok in zip(per_n, reached, strict=True) if ok), None)
    kept = None
    for r, ok in zip(reversed(per_n), reversed(reached), strict=True):
        if not ok:
            break
        kept = r["n"]
    return {"accuracy_first_reached": first, "accuracy_kept_from": kept}


def _report(result: dict[str, Any], target_name: str, wall: float) -> str:
    lines = [f"# Width factor of Pensia et al.'s ticket for {target_name}", "",
             *command_lines(),
             f"Nested coefficients, N = 1..{result['n_max']}, sharing {result['share']}, seeds "
             f"{result['seeds']}; every weight solved exactly (closest). {wall:.1f} s.", "",
             "| eps | log2(1/eps) | smallest N, every weight within eps (per seed) |",
             "|---|---|---|"]
    for e in result["eps"]:
        within = [r["needed"][e]["all_weights_within_eps"] for r in result["runs"]]
        lines.append(f"| {e:g} | {-math.log2(e):.2f} | {_ns(within)} |")
    if result["target_accuracy"] is not None:
        first = [r["accuracy_first_reached"] for r in result["runs"]]
        kept = [r["accuracy_kept_from"] for r in result["runs"]]
        lines += ["", "Accuracy (the closest ticket does not depend on eps; per seed): the "
                  f"target's is first reached at N = {_ns(first)}, and kept by every N up to "
                  f"{result['n_max']} from N = {_ns(kept)}."]
    fit = result["fit"]
    seeds = len(result["seeds"])
    # the fit's own notes but those the interval's words already say (whole seeds drawn)
    notes = [] if fit is None else [n for n in fit["notes"]
                                    if not n.startswith(("bootstrap over", "one group"))
                                    and " groups: " not in n]
    lines += ["", "Fit of N against log2(1/eps): "
              + ("not enough points" if fit is None else
                 f"slope {fit['slope']:.3f} "
                 + (f"[{fit['ci'][0]:.3f}, {fit['ci'][1]:.3f}] (95 % bootstrap over the "
                    f"{seeds} seeds" + ("; so few, the interval is rough)" if seeds < 5
                                        else ")") if all(math.isfinite(c) for c in fit["ci"])
                    else "(no bootstrap interval: one seed, whose eps share one draw; more "
                    "--seeds give one)" if seeds == 1
                    else "(no bootstrap interval from so few points)")
                 + f", intercept {fit['intercept']:.2f}, r² {fit['r2']:.3f}, over "
                 f"{fit['n_points']} (seed, eps) pairs" + "".join(f"; {n}" for n in notes)),
              ""]
    if result["censored_eps"]:
        shown = ", ".join(f"{e:g}" for e in result["censored_eps"])
        lines += [f"Left out of the fit: eps {shown}, which some seed does not reach within "
                  f"N_max = {result['n_max']} (a larger --n-max measures them).", ""]
    if result["trivial_eps"]:
        shown = ", ".join(f"{e:g}" for e in result["trivial_eps"])
        lines += [f"Left out of the fit: eps {shown}, at or above the largest |weight| "
                  f"{result['empty_subset_error']:.6g}: the empty subset (N = 0) meets them.",
                  ""]
    lines += ["Pensia et al. use N = 3·round(log2(1/eps)) (slope 3).", ""]
    if result["target_accuracy"] is not None:
        lines.insert(4, f"Target accuracy on the held-out images: {result['target_accuracy']:.4f}.")
    return "\n".join(lines)


def _cmd(args: argparse.Namespace) -> int:
    from exactprune.benchmarks.plots import scatter_fit_plot, with_plots_note
    from exactprune.instances import io as instance_io
    from exactprune.instances.params import Param

    eps = Param("eps", "floats", minimum=0.0, above=True).parse(args.eps)
    out = instance_io.check_output_dir(args.out)
    from exactprune.solvers.tickets import load_target

    target, data = load_target(args.target, args.data)
    t0 = time.perf_counter()
    result = width_factor(target, list(eps), n_max=args.n_max, seeds=args.seeds,
                          seed=args.seed, share=args.share, data=data)
    wall = time.perf_counter() - t0
    fit = result.pop("_fit")
    with instance_io.output_dir(out) as folder, instance_io.written_together(folder) as stage:
        instance_io.write_text_atomic(stage / "report.md",
                                      with_plots_note(_report(result, args.target, wall)))
        instance_io.write_json_atomic(stage / "summary.json", result)
        scatter_fit_plot(result["x_log2_inv_eps"], result["y_n_needed"],
                         stage / "n_vs_log2_inv_eps",
                         "coefficients needed for every weight within eps", fit=fit,
                         xlabel="log2(1/eps)", ylabel="smallest N")
    if args.json:
        print(instance_io.dumps({**result, "wall_time_s": wall}))
    else:
        print(_report(result, args.target, wall))
        print(f"report: {Path(out) / 'report.md'}")
    return 0


def _ns(values: list[int | None]) -> str:
    """Per-seed N values for the table; '-' where N_max did not reach it."""
    return ", ".join("-" if v is None else str(v) for v in values)


def add_width_factor_parser(verify_subparsers: Any) -> None:
    """Add `verify width-factor` to the CLI."""
    from exactprune.instances.params import positive_float  # noqa: F401  (argparse types)

    p = verify_subparsers.add_parser("width-factor", help="coefficients per weight a ticket "
                                     "needs, against log2(1/eps), with a fit")
    p.add_argument("target", help="an MLP .npz/.safetensors file or mnist-mlp")
    p.add_argument("--eps", default="0.1,0.03,0.01,0.003,0.001",
                   help="comma-separated tolerances")
    p.add_argument("--n-max", type=positive_int, default=30,
                   help="largest N tried (coefficients per weight)")
    p.add_argument("--seeds", type=positive_int, default=1)
    p.add_argument("--seed", type=nonneg_int, default=1)
    p.add_argument("--share", choices=["per-row", "per-weight"], default="per-row")
    p.add_argument("--data", choices=["mnist"], default=None,
                   help="held-out data for a user TARGET (mnist-mlp has its own)")
    p.add_argument("--out", default="out/verify-width-factor")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=_cmd)
