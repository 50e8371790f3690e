"""Benchmark suite of neuron selection on trained nets (listed in benchmarks/suites.py).

``trained``: k of the N hidden units of a bias-free two-layer ReLU net trained by full-batch
gradient descent (`instances.training.train_two_layer`, squared loss, seed 0, TRAIN_LR) on the
whole training split of ``digits-pair`` (3 vs 8: 285 images, 64 inputs, 2 classes;
TRAIN_ITERS["digits-pair"] iterations) or ``teacher`` (the default teacher, d = 10: 1,000
inputs, one target; TRAIN_ITERS["teacher"] iterations). Each instance takes SAMPLES seeded rows
of the training split (`generate_neuron_selection`, subset seed 0), rule average (Ye et al.'s
convention: the kept units scaled by N/k), no repeats. Families: (data, loss) for loss squared,
l1 and linf; sizes (N, k) in SIZES.

``trained-keep``: the same instances under rule keep (the kept units' trained weights as they
are: magnitude pruning's subnetwork, and the scale IMP trains at), so magnitude and IMP are
scored as the published methods build their subnetworks (hunt 128 H1: under the average rule
magnitude's own unscaled mask lay below the certified optimum).

The networks are files (the kind's generator reads a network file): NETS_DIR/<name>.npz,
written by `write_networks`, shipped with the source and in the wheel (package data). When one
is missing, the suite's `prepare` (`ensure_networks`, run when the suite is chosen, before any
run; never on import: it made every command of an install with scikit-learn train for 67 s,
hunt 74 M3) trains it again, or says in one line what is missing and which extra trains it.
Training is seeded, but a retrained net may differ from the shipped one in the last bits
(BLAS threads, hunt 74 M1): results are comparable with docs/benchmarks only with the shipped
files. The store key of a run holds the network's absolute path.
"""

from __future__ import annotations

from pathlib import Path

from exactprune.benchmarks.suites import BenchInstance, Suite

NETS_DIR = Path(__file__).resolve().parent / "nets"
DATA = ("digits-pair", "teacher")
LOSSES = ("squared", "l1", "linf")
SIZES: tuple[tuple[int, int], ...] = ((32, 4), (64, 8), (128, 16))
"""(hidden units N, units kept k) of each family, in increasing order."""
SAMPLES = 100
"""Training rows each instance is built on."""
TRAIN_ITERS = {"digits-pair": 1000, "teacher": 1000}
TRAIN_LR = {"digits-pair": 0.1, "teacher": 0.05}
"""Learning rates (teacher at 0.1 diverges for N = 128)."""
TRAIN_SEED = 0


def network_name(data: str, hidden: int) -> str:
    """File stem of the trained net of `data` with `hidden` units."""
    return f"{data}-h{hidden}-t{TRAIN_ITERS[data]}-s{TRAIN_SEED}"


def network_path(data: str, hidden: int) -> Path:
    """Where the trained net of (data, hidden) lives."""
    return NETS_DIR / f"{network_name(data, hidden)}.npz"


def train_network(data: str, hidden: int) -> object:
    """The trained net of (data, hidden) (see the module docstring), an `MLP`."""
    from exactprune.instances.datasets import load_dataset
    from exactprune.instances.training import train_two_layer

    ds = load_dataset(data)
    res = train_two_layer(ds.X_train, ds.y_train, hidden, TRAIN_ITERS[data], TRAIN_LR[data],
                          loss="squared", seed=TRAIN_SEED, classes=ds.classes)
    return res.mlp


def write_networks(force: bool = False) -> list[Path]:
    """Train and write every network of the suite that is missing (all with `force`)."""
    from exactprune.instances.mlp import save_mlp

    written = []
    for data in DATA:
        for hidden in sorted({n for n, _ in SIZES}):
            path = network_path(data, hidden)
            if force or not path.exists():
                NETS_DIR.mkdir(exist_ok=True)
                save_mlp(train_network(data, hidden), path)
                written.append(path)
    return written


def _trained(suite: str, rule: str) -> tuple[BenchInstance, ...]:
    out = []
    for data in DATA:
        for loss in LOSSES:
            for n, k in SIZES:
                params = {"network": str(network_path(data, n)), "data": data, "k": k,
                          "loss": loss, "rule": rule, "repeats": False,
                          "samples": SAMPLES, "seed": 0}
                out.append(BenchInstance(f"{suite}_{data}_{loss}_N{n}_k{k}",
                                         "neuron_selection", f"{suite}/{data}/{loss}", n,
                                         params))
    return tuple(out)


def ensure_networks() -> None:
    """Train and write the suite's missing networks (the suite's `prepare`); InputError in one
    line when that fails (no scikit-learn for digits-pair, a read-only install), before any
    run: `bench all` ran three suites for hours and then failed on a missing file, and
    `bench trained` left an empty store (hunt 74 M2)."""
    from exactprune.instances.errors import InputError

    missing = [p for d in DATA for h in sorted({n for n, _ in SIZES})
               if not (p := network_path(d, h)).exists()]
    if not missing:
        return
    try:
        write_networks()
    except (InputError, OSError) as exc:
        raise InputError(f"the trained suite's network {missing[0].name} is missing from "
                         f"{NETS_DIR} ({len(missing)} of {len(DATA) * len(SIZES)}), and "
                         f"training it failed: {exc}") from None


SUITES = (
    Suite("trained",
          f"neuron selection on trained nets (digits-pair, teacher), (N, k) in "
          f"{', '.join(f'({n}, {k})' for n, k in SIZES)}, losses squared, l1, linf, "
          f"{SAMPLES} samples",
          _trained("trained", "average"), prepare=ensure_networks),
    Suite("trained-keep",
          "the trained suite under rule keep: the kept units' trained weights unscaled "
          "(magnitude pruning's subnetwork)",
          _trained("trained-keep", "keep"), prepare=ensure_networks),
)
