"""Neuron-selection instances from a trained two-layer net and an offline data set, and seeded
synthetic ones (for tests and benchmarks).

`generate_neuron_selection`: the network file (`.npz` / `.safetensors`, `instances.mlp`) must be
a two-layer MLP fc2(relu(fc1(x))) whose input size matches the data set and whose outputs are
the data set's classes (classification) or target columns (teacher). `samples` rows of the
training split are taken (`instances.datasets.subsample`, seeded), so exact solvers stay
small; hidden = relu(fc1(x)) on them, output_weights = fc2.weight transposed, output_bias =
fc2's bias (None without one), targets = one-hot labels or the teacher's outputs. digits-pair
uses the pair given (default 3 vs 8) and teacher the teacher given (default d = 10, 5 units,
seed 0), as `train` does: a net must be scored on the data it was trained on.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from exactprune.instances.errors import InputError
from exactprune.instances.limits import MAX_ENTRIES
from exactprune.instances.neuron_selection.instance import LOSSES, RULES, NeuronSelectionInstance
from exactprune.instances.params import as_number, param

DATA: tuple[str, ...] = ("digits", "digits-pair", "mnist", "teacher")
"""The data sets of `instances.datasets` (same names)."""

GENERATOR_NAME = "trained_two_layer"


@dataclass(frozen=True, kw_only=True)
class NeuronSelectionParams:
    """Parameters of `generate_neuron_selection` (``generate neuron-selection`` flags)."""

    network: str = param(help="trained two-layer net (.npz or .safetensors)", file=True)
    data: str = param(help="data set the net was trained on", choices=DATA)
    k: int = param(help="hidden units to keep", minimum=1, maximum=MAX_ENTRIES)
    loss: str = param("squared", help="loss over the m x C residuals", choices=LOSSES)
    rule: str = param("average", help="combine kept units: (N/k) average, keep (the trained "
                                      "weights as they are) or least-squares refit",
                      choices=RULES)
    repeats: bool = param(False, help="a unit may be chosen several times (counts)")
    samples: int = param(200, help="training samples used (seeded subset)", minimum=1,
                         maximum=MAX_ENTRIES)
    seed: int = param(0, help="seed of the sample subset", minimum=0)
    pair: str | None = param(None, help="digits-pair: the two digits the net was trained on, "
                                        "A-B or A,B (default 3-8, as train's --pair)")
    teacher_d: int | None = param(None, help="teacher: its input dimension (default 10, as "
                                             "train's --teacher-d)", minimum=1)
    teacher_width: int | None = param(None, help="teacher: its hidden units (default 5)",
                                      minimum=1)
    teacher_seed: int | None = param(None, help="teacher: its seed (default 0)", minimum=0)


def _digit_pair(pair: str | None) -> tuple[int, int] | None:
    """"3-8" or "3,8" as (3, 8); InputError unless two different digits 0..9."""
    if pair is None:
        return None
    parts = str(pair).replace(",", "-").split("-")
    if len(parts) != 2 or not all(p.strip().isdigit() and len(p.strip()) == 1 for p in parts) \
            or parts[0].strip() == parts[1].strip():
        raise InputError(f"pair takes two different digits 0..9 like 3-8, got {pair!r}")
    return int(parts[0]), int(parts[1])


def _seed(value: Any, name: str) -> int:
    """A seed as an int >= 0, or InputError naming `name`."""
    seed = as_number(value, name, integer=True)
    if seed < 0:
        raise InputError(f"{name} must be >= 0, got {seed}")
    return seed


def generate_neuron_selection(network: str, data: str, k: int, loss: str = "squared",
                              rule: str = "average", repeats: bool = False, samples: int = 200,
                              seed: int = 0, pair: str | None = None,
                              teacher_d: int | None = None, teacher_width: int | None = None,
                              teacher_seed: int | None = None) -> NeuronSelectionInstance:
    """The instance of the trained net at path `network` on `samples` rows of `data`: the data
    the net was trained on, so digits-pair takes the net's `pair` and teacher its `teacher_*`
    settings (train's --pair / --teacher-* flags; the defaults when None)."""
    from exactprune.instances.datasets import load_dataset, subsample
    from exactprune.instances.mlp import load_mlp

    if data not in DATA:
        raise InputError(f"unknown data set {data!r} (known: {', '.join(DATA)})")
    # numpy's ValueError / TypeError for seed=-1, 1.5 or None, and seed="3" recorded as text
    # (another instance_sha256 than seed=3's; hunt 93 M3)
    seed = _seed(seed, "seed")
    teacher_seed = None if teacher_seed is None else _seed(teacher_seed, "teacher_seed")
    if pair is not None and data != "digits-pair":
        raise InputError("pair applies only to the data set digits-pair")
    teacher = {key: value for key, value in (("teacher_d", teacher_d),
                                             ("teacher_width", teacher_width),
                                             ("teacher_seed", teacher_seed)) if value is not None}
    if teacher and data != "teacher":
        raise InputError(f"{', '.join(teacher)} appl{'y' if len(teacher) > 1 else 'ies'} "
                         "only to the data set teacher")
    digits = _digit_pair(pair)
    mlp = load_mlp(network)
    if mlp.depth != 2:
        raise InputError(f"{network}: neuron selection needs a two-layer MLP (fc1, fc2), this "
                         f"network has {mlp.depth} layers")
    ds = load_dataset(data, pair=digits, **teacher)
    if mlp.widths[0] != ds.inputs:
        raise InputError(f"{network} takes {mlp.widths[0]} inputs but {data} has {ds.inputs}")
    if mlp.widths[2] != ds.outputs:
        raise InputError(f"{network} has {mlp.widths[2]} outputs but {data} has {ds.outputs} "
                         f"{'classes' if ds.is_classification else 'target columns'}")
    ds = subsample(ds, samples, seed)
    W1, W2 = mlp.weights
    b1, b2 = mlp.biases
    with np.errstate(over="ignore", invalid="ignore"):
        Z = ds.X_train @ W1.T
        if b1 is not None:
            Z = Z + b1
        hidden = np.maximum(Z, 0.0)
    # the file's weights are finite (load_mlp checks); the instance said "hidden contains NaN
    # or infinite values", naming no file (hunt 143 L1)
    if not np.all(np.isfinite(hidden)):
        bias = "" if b1 is None else f", its bias up to {np.abs(b1).max():.3g}"
        raise InputError(f"{network}: its hidden activations relu(fc1(x)) on {data} overflow "
                         f"float64 (fc1 weights up to {np.abs(W1).max():.3g}{bias})")
    if ds.is_classification:
        targets = np.eye(ds.outputs)[ds.y_train]
    else:
        targets = np.asarray(ds.y_train, dtype=np.float64)
    params = {"name": GENERATOR_NAME, "network": str(network), "data": data, "k": k,
              "loss": loss, "rule": rule, "repeats": repeats, "samples": samples, "seed": seed,
              **({"pair": f"{digits[0]}-{digits[1]}"} if digits else {}), **teacher,
              "widths": list(mlp.widths), "data_info": ds.info}
    try:
        return NeuronSelectionInstance(hidden=hidden, output_weights=W2.T.copy(),
                                       targets=targets, k=k,
                                       output_bias=None if b2 is None else b2.copy(),
                                       loss=loss, rule=rule, repeats=repeats, generator=params)
    except InputError as exc:  # data too large, a k beyond the width, ...: name the file
        raise InputError(f"{network} on {data}: {exc}") from None


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
