"""Neuron-selection instances from a trained two-layer net and an offline data set, and seeded
synthetic ones (for tests and benchmarks).

`generate_neuron_selection`: the network file (`.npz` / `.safetensors`, `instances.mlp`) must be
a two-layer MLP fc2(relu(fc1(x))) whose input size matches the data set and whose outputs are
the data set's classes (classification) or target columns (teacher). `samples` rows of the
training split are taken (`instances.datasets.subsample`, seeded), so exact solvers stay
small; hidden = relu(fc1(x)) on them, output_weights = fc2.weight transposed, output_bias =
fc2's bias (None without one), targets = one-hot labels or the teacher's outputs. digits-pair
uses the default pair (3 vs 8) and teacher the default teacher (d = 10).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from exactprune.instances.errors import InputError
from exactprune.instances.limits import MAX_ENTRIES
from exactprune.instances.neuron_selection.instance import LOSSES, RULES, NeuronSelectionInstance
from exactprune.instances.params import param

DATA: tuple[str, ...] = ("digits", "digits-pair", "mnist", "teacher")
"""The data sets of `instances.datasets` (same names)."""

GENERATOR_NAME = "trained_two_layer"


@dataclass(frozen=True, kw_only=True)
class NeuronSelectionParams:
    """Parameters of `generate_neuron_selection` (``generate neuron-selection`` flags)."""

    network: str = param(help="trained two-layer net (.npz or .safetensors)")
    data: str = param(help="data set the net was trained on", choices=DATA)
    k: int = param(help="hidden units to keep", minimum=1, maximum=MAX_ENTRIES)
    loss: str = param("squared", help="loss over the m x C residuals", choices=LOSSES)
    rule: str = param("average", help="combine kept units: (N/k) average or least-squares refit",
                      choices=RULES)
    repeats: bool = param(False, help="a unit may be chosen several times (counts)")
    samples: int = param(200, help="training samples used (seeded subset)", minimum=1,
                         maximum=MAX_ENTRIES)
    seed: int = param(0, help="seed of the sample subset", minimum=0)


def generate_neuron_selection(network: str, data: str, k: int, loss: str = "squared",
                              rule: str = "average", repeats: bool = False, samples: int = 200,
                              seed: int = 0) -> NeuronSelectionInstance:
    """The instance of the trained net at path `network` on `samples` rows of `data`."""
    from exactprune.instances.datasets import load_dataset, subsample
    from exactprune.instances.mlp import load_mlp

    mlp = load_mlp(network)
    if mlp.depth != 2:
        raise InputError(f"{network}: neuron selection needs a two-layer MLP (fc1, fc2), this "
                         f"network has {mlp.depth} layers")
    if data not in DATA:
        raise InputError(f"unknown data set {data!r} (known: {', '.join(DATA)})")
    ds = load_dataset(data)
    if mlp.widths[0] != ds.inputs:
        raise InputError(f"{network} takes {mlp.widths[0]} inputs but {data} has {ds.inputs}")
    if mlp.widths[2] != ds.outputs:
        raise InputError(f"{network} has {mlp.widths[2]} outputs but {data} has {ds.outputs} "
                         f"{'classes' if ds.is_classification else 'target columns'}")
    ds = subsample(ds, samples, seed)
    W1, W2 = mlp.weights
    b1, b2 = mlp.biases
    with np.errstate(over="ignore", invalid="ignore"):  # non-finite: refused by the instance
        Z = ds.X_train @ W1.T
        if b1 is not None:
            Z = Z + b1
        hidden = np.maximum(Z, 0.0)
    if ds.is_classification:
        targets = np.eye(ds.outputs)[ds.y_train]
    else:
        targets = np.asarray(ds.y_train, dtype=np.float64)
    params = {"name": GENERATOR_NAME, "network": str(network), "data": data, "k": k,
              "loss": loss, "rule": rule, "repeats": repeats, "samples": samples, "seed": seed,
              "widths": list(mlp.widths), "data_info": ds.info}
    return NeuronSelectionInstance(hidden=hidden, output_weights=W2.T.copy(), targets=targets,
                                   k=k, output_bias=None if b2 is None else b2.copy(),
                                   loss=loss, rule=rule, repeats=repeats, generator=params)


def synthetic_neuron_selection(n: int, k: int, m: int = 20, outputs: int = 2,
                               loss: str = "l1", rule: str = "average", repeats: bool = False,
                               bias: bool = False, seed: int = 0) -> NeuronSelectionInstance:
    """A seeded random instance without training: H = relu(N(0,1)) (m, n), V ~ N(0, 1/n)
    (n, outputs), b ~ N(0, 0.1²) when `bias`, T = the full net's average output plus
    N(0, 0.1²) noise (so good subsets exist but are not trivial)."""
    rng = np.random.default_rng(seed)
    H = np.maximum(rng.standard_normal((m, n)), 0.0)
    V = rng.standard_normal((n, outputs)) / np.sqrt(n)
    b = 0.1 * rng.standard_normal(outputs) if bias else None
    T = H @ V + (0.0 if b is None else b) + 0.1 * rng.standard_normal((m, outputs))
    return NeuronSelectionInstance(hidden=H, output_weights=V, targets=T, k=k, output_bias=b,
                                   loss=loss, rule=rule, repeats=repeats,
                                   generator={"name": "synthetic", "seed": seed})
