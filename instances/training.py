"""Training a two-layer ReLU network x -> fc2(relu(fc1(x))) in numpy (`exactprune train`).

Model: fc1 (N, d) with optional bias (N,), fc2 (C, N) with optional bias (C,); no activation
on the output. Initialisation (He/Kaiming normal for fc1): fc1 entries ~ N(0, 2/d), fc2
entries ~ N(0, 1/N), biases 0.

Scaling (`scaling`): "standard" is the above with one learning rate for every parameter.
"mean-field" is the parametrisation of Ye et al.'s (2020) greedy-selection theory,
out(x) = (1/N) sum_i a_i relu(w_i.x): a_i entries ~ N(0, 1) (so fc2 = a / N), and gradient
descent on (w_i, a_i) with step lr * N (the mean-field time scale, which keeps every unit's
motion O(1) as N grows). In fc1/fc2 terms: fc2 ~ N(0, 1/N^2), fc1 and its bias step lr * N,
fc2 steps lr / N, the output bias steps lr. The saved network is an ordinary fc1/fc2 file.

Losses, averaged over the m samples of a batch (out = the network's C outputs):
- `squared`: 0.5 * ||out - target||^2, target the one-hot vector of the label
  (classification) or the regression target;
- `cross-entropy`: -log softmax(out)[label] (classification only).

Optimiser: plain gradient descent with a constant learning rate, W <- W - lr * grad.
`batch="full"`: every step uses the whole training set (full-batch GD); `batch=B`: minibatch
SGD, steps walking seeded permutations of the training set B rows at a time, a fresh
permutation when fewer than B rows are left (the rest of that epoch is skipped).

Reproducibility: one numpy.random.Generator seeded with `seed` draws fc1, then fc2, then the
minibatch permutations; the same arguments give the same arrays bit for bit (same machine and
BLAS), and the network after T steps does not depend on `iters`: a checkpoint at T equals a
run with iters = T.

Logging: the training (and test) loss and accuracy of the current weights on the whole split,
at iteration 0, every `log_every` steps, at each checkpoint and at the end. Iteration t means
"after t updates".
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from exactprune.instances.errors import InputError
from exactprune.instances.limits import check_entries
from exactprune.instances.masks import INTEGER_KINDS
from exactprune.instances.mlp import MLP
from exactprune.instances.network import float_array
from exactprune.instances.params import as_flag, as_number, is_integer

LOSSES: tuple[str, ...] = ("squared", "cross-entropy")
SCALINGS: tuple[str, ...] = ("standard", "mean-field")
NAMES = ("fc1.weight", "fc2.weight")

Params = list[np.ndarray]
"""[W1 (N, d), W2 (C, N)] or, with biases, [W1, b1 (N,), W2, b2 (C,)]."""


@dataclass(frozen=True, eq=False)
class TrainResult:
    """What `train_two_layer` returns.

    mlp: the network after `iters` steps; checkpoints: iteration -> network after that many
    steps; curve: one row per logged iteration ({"iter", "train_loss", "test_loss"?,
    "train_accuracy"?, "test_accuracy"?}, losses as defined in the module docstring,
    accuracies as fractions in [0, 1]); batch_losses: (iters,) loss of the batch each update
    was computed on, before it (full batch: the training loss at iterations 0..iters-1);
    wall_time_s: seconds spent training.
    """

    mlp: MLP
    checkpoints: dict[int, MLP]
    curve: list[dict[str, Any]]
    batch_losses: np.ndarray
    wall_time_s: float


# -- checks ----------------------------------------------------------------------------------
def check_batch(batch: Any) -> str | int:
    """"full" or a positive integer; anything else is an InputError."""
    if isinstance(batch, str) and batch == "full":  # (an array compared element-wise; hunt 149)
        return "full"
    if not (is_integer(batch) and batch >= 1):
        raise InputError(f"batch must be 'full' or a positive integer, got {batch!r}")
    return int(batch)


def check_checkpoints(checkpoints: Sequence[Any], iters: int) -> tuple[int, ...]:
    """Integers 0 <= T <= iters, strictly increasing."""
    if isinstance(checkpoints, str) or not isinstance(checkpoints, Sequence | np.ndarray):
        raise InputError(f"checkpoints must be a list of iterations, got {checkpoints!r}")
    points = tuple(checkpoints)
    if not all(is_integer(t) and 0 <= t <= iters for t in points):
        raise InputError(f"checkpoints must be iterations in 0..{iters} (iters, --iters), got "
                         f"{list(points)}")
    if any(a >= b for a, b in zip(points, points[1:], strict=False)):
        raise InputError(f"checkpoints must be strictly increasing, got {list(points)}")
    return tuple(int(t) for t in points)


def _targets(Y: Any, name: str, rows: int, classes: int | None, loss: str
             ) -> tuple[np.ndarray, np.ndarray | None, int]:
    """(float targets (m, C), integer labels (m,) or None, C) from labels or targets."""
    arr = np.asarray(Y)
    if classes is not None and not (is_integer(classes) and 1 <= classes <= MAX_CLASSES):
        raise InputError(f"classes must be an integer from 1 to {MAX_CLASSES}, got {classes!r}")
    if arr.ndim == 1 and arr.dtype.kind in INTEGER_KINDS:
        if arr.shape != (rows,) or rows == 0:
            raise InputError(f"{name} must hold {rows} integer labels, got shape {arr.shape}")
        if arr.min() < 0:  # (a label of -1 said "labels in 0..0"; hunt 26)
            raise InputError(f"{name} must hold non-negative integer labels, got {arr.min()}")
        count = int(arr.max()) + 1 if classes is None else int(classes)
        if arr.max() >= min(count, MAX_CLASSES):
            raise InputError(f"{name} must hold {rows} integer labels in 0.."
                             f"{min(count, MAX_CLASSES) - 1}")
        check_entries(rows * count, f"{rows} one-hot targets of {count} classes")
        return np.eye(count)[arr], arr.astype(np.int64), count
    if loss == "cross-entropy":
        raise InputError("cross-entropy needs class labels, but the targets are real-valued "
                         "(teacher data): use the squared loss")
    targets = float_array(arr, name, 2)
    if targets.shape[0] != rows:
        raise InputError(f"{name} has {targets.shape[0]} rows, X has {rows}")
    return targets, None, int(targets.shape[1])


MAX_CLASSES = 10**6
"""Most classes of integer labels (one output unit each)."""

MAX_ITERS = 10**8
"""Most gradient steps: the result keeps each step's batch loss (8 bytes), and 1e8 steps of
even the smallest net take most of an hour here."""


def _check_args(hidden: Any, iters: Any, lr: Any, loss: str, seed: Any, scaling: str) -> None:
    if scaling not in SCALINGS:
        raise InputError(f"unknown scaling {scaling!r} (known: {', '.join(SCALINGS)})")
    if not (is_integer(hidden) and hidden >= 1):
        raise InputError(f"hidden must be a positive integer, got {hidden!r}")
    if not (is_integer(iters) and 0 <= iters <= MAX_ITERS):
        raise InputError(f"iters must be an integer from 0 to {MAX_ITERS:,} (every step's batch "
                         f"loss is kept), got {iters!r}")
    lr = as_number(lr, "lr")
    if not (math.isfinite(lr) and lr > 0):
        raise InputError(f"lr must be a positive finite number, got {lr!r}")
    if loss not in LOSSES:
        raise InputError(f"unknown loss {loss!r} (known: {', '.join(LOSSES)})")
    if not (is_integer(seed) and seed >= 0):
        raise InputError(f"seed must be an integer >= 0, got {seed!r}")


# -- the model -------------------------------------------------------------------------------
def init_params(rng: np.random.Generator, d: int, hidden: int, outputs: int, bias: bool,
                scaling: str = "standard") -> Params:
    """fc1 ~ N(0, 2/d) (He), fc2 ~ N(0, 1/hidden) (standard) or N(0, 1/hidden^2)
    (mean-field), biases 0 (see the module docstring)."""
    W1 = rng.standard_normal((hidden, d)) * np.sqrt(2.0 / d)
    fc2_std = 1.0 / hidden if scaling == "mean-field" else np.sqrt(1.0 / hidden)
    W2 = rng.standard_normal((outputs, hidden)) * fc2_std
    if bias:
        return [W1, np.zeros(hidden), W2, np.zeros(outputs)]
    return [W1, W2]


def step_sizes(lr: float, hidden: int, bias: bool, scaling: str = "standard") -> list[float]:
    """The step of each parameter in the order of `Params` (see the module docstring)."""
    if scaling == "standard":
        return [lr] * (4 if bias else 2)
    first, second = lr * hidden, lr / hidden
    return [first, first, second, lr] if bias else [first, second]


def _layers(params: Params) -> tuple[np.ndarray, np.ndarray | None, np.ndarray,
                                     np.ndarray | None]:
    if len(params) == 4:
        return params[0], params[1], params[2], params[3]
    return params[0], None, params[1], None


def forward(params: Params, X: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(pre-activations Z (m, N), outputs (m, C)) of the network on X (m, d)."""
    W1, b1, W2, b2 = _layers(params)
    Z = X @ W1.T
    if b1 is not None:
        Z += b1
    out = np.maximum(Z, 0.0) @ W2.T
    if b2 is not None:
        out += b2
    return Z, out


def loss_and_delta(out: np.ndarray, T: np.ndarray, labels: np.ndarray | None, loss: str
                   ) -> tuple[float, np.ndarray]:
    """(mean loss, its gradient with respect to out (m, C)); T the float targets (m, C)."""
    m = out.shape[0]
    if loss == "squared":
        residual = out - T
        return 0.5 * float(np.einsum("ij,ij->", residual, residual)) / m, residual / m
    shifted = out - out.max(axis=1, keepdims=True)
    log_norm = np.log(np.exp(shifted).sum(axis=1, keepdims=True))
    log_probs = shifted - log_norm
    assert labels is not None
    value = -float(log_probs[np.arange(m), labels].sum()) / m
    return value, (np.exp(log_probs) - T) / m


def gradients(params: Params, X: np.ndarray, T: np.ndarray, labels: np.ndarray | None,
              loss: str) -> tuple[float, Params]:
    """(batch loss, gradients in the order of `params`) on X (m, d), targets T (m, C)."""
    W1, b1, W2, _ = _layers(params)
    Z, out = forward(params, X)
    value, delta = loss_and_delta(out, T, labels, loss)
    H = np.maximum(Z, 0.0)
    dW2 = delta.T @ H
    dZ = delta @ W2
    dZ *= Z > 0.0
    dW1 = dZ.T @ X
    if b1 is None:
        return value, [dW1, dW2]
    return value, [dW1, dZ.sum(axis=0), dW2, delta.sum(axis=0)]


def to_mlp(params: Params) -> MLP:
    """The network as an `MLP` named fc1/fc2 (copies of the arrays)."""
    W1, b1, W2, b2 = _layers(params)
    biases = () if b1 is None else (b1.copy(), None if b2 is None else b2.copy())
    return MLP((W1.copy(), W2.copy()), biases, NAMES)


def evaluate(params: Params, X: np.ndarray, T: np.ndarray, labels: np.ndarray | None,
             loss: str) -> tuple[float, float | None]:
    """(mean loss, accuracy or None for regression) of the network on a whole split."""
    _, out = forward(params, X)
    value, _ = loss_and_delta(out, T, labels, loss)
    if labels is None:
        return value, None
    return value, float(np.mean(np.argmax(out, axis=1) == labels))


# -- training --------------------------------------------------------------------------------
def _batches(rng: np.random.Generator, m: int, batch: str | int) -> Iterator[np.ndarray | None]:
    """Row indices of each step (None: the whole set), endless; see the module docstring."""
    if batch == "full":
        while True:
            yield None
    assert isinstance(batch, int)
    order, position = rng.permutation(m), 0
    while True:
        if position + batch > m:
            order, position = rng.permutation(m), 0
        yield order[position: position + batch]
        position += batch


def default_log_every(iters: int) -> int:
    """The largest of 1, 2, 5 x 10^k at most iters / 10 (so 10 to 25 logged rows), >= 1."""
    target = max(iters / 10.0, 1.0)
    step = 10 ** math.floor(math.log10(target))
    return int(max(s for s in (step, 2 * step, 5 * step) if s <= target))


def train_two_layer(X: Any, Y: Any, hidden: int, iters: int, lr: float, batch: str | int = "full",
                    loss: str = "squared", bias: bool = False, seed: int = 0,
                    checkpoints: Sequence[int] = (), X_test: Any = None, Y_test: Any = None,
                    log_every: int | None = None, classes: int | None = None,
                    progress: Callable[[int], None] | None = None,
                    scaling: str = "standard") -> TrainResult:
    """Train x -> fc2(relu(fc1(x))) by gradient descent (see the module docstring).

    X: (m, d) inputs; Y: (m,) integer labels (classification, C = classes, default
    max label + 1) or (m, C) float targets (regression; cross-entropy refused). hidden: N.
    iters: number of updates (0: the initial network). lr: step size (> 0). batch: "full" or
    B <= m rows per step. checkpoints: iterations 0..iters (strictly increasing) whose
    networks are kept. X_test, Y_test: a held-out split, logged too. log_every: steps between
    logged rows (default `default_log_every(iters)`). progress: called with the number of
    steps done (every step). scaling: "standard" or "mean-field" (initialisation and
    per-layer steps, module docstring). InputError on bad arguments or when the loss becomes
    non-finite (lower lr).
    """
    _check_args(hidden, iters, lr, loss, seed, scaling)
    bias = as_flag(bias, "bias")  # bias=1 was taken as True (hunt 31)
    if progress is not None and not callable(progress):
        raise InputError(f"progress must be a function of the steps done, or None, got "
                         f"{progress!r}")
    data = float_array(X, "X", 2)
    m, d = data.shape
    T, labels, outputs = _targets(Y, "Y", m, classes, loss)
    check_entries(int(hidden) * max(d + outputs + 2, m), f"a net of {hidden} hidden units on "
                  f"{m} samples")
    batch = check_batch(batch)
    if batch != "full" and batch > m:
        raise InputError(f"batch {batch} is larger than the {m} training samples "
                         "(use full)")
    points = check_checkpoints(checkpoints, iters)
    if (X_test is None) != (Y_test is None):  # Y_test alone was "dtype object" (hunt 31)
        raise InputError("X_test and Y_test go together: give both or neither")
    test = None if X_test is None else _test_split(X_test, Y_test, d, outputs, labels, loss)
    every = default_log_every(iters) if log_every is None else log_every
    if not (is_integer(every) and every >= 1):
        raise InputError(f"log_every must be a positive integer, got {log_every!r}")
    logged = set(range(0, iters + 1, every)) | set(points) | {iters}

    start = time.perf_counter()
    rng = np.random.default_rng(seed)
    params = init_params(rng, d, hidden, outputs, bias, scaling)
    steps = step_sizes(lr, hidden, bias, scaling)
    batches = _batches(rng, m, batch)
    curve: list[dict[str, Any]] = []
    saved: dict[int, MLP] = {}
    batch_losses = np.empty(iters)
    for t in range(iters + 1):
        if t in logged:
            row = _log_row(t, params, (data, T, labels), test, loss)
            if not all(math.isfinite(row[k]) for k in ("train_loss", "test_loss") if k in row):
                raise InputError(f"training diverged by iteration {t} (the loss over the split "
                                 f"is not finite): lower the learning rate (now {lr:g})")
            curve.append(row)
        if t in points:
            saved[t] = to_mlp(params)
        if t == iters:
            break
        rows = next(batches)
        Xb, Tb, lb = (data, T, labels) if rows is None else \
            (data[rows], T[rows], None if labels is None else labels[rows])
        with np.errstate(over="ignore", invalid="ignore"):
            value, grads = gradients(params, Xb, Tb, lb, loss)
            for p, g, step in zip(params, grads, steps, strict=True):
                p -= step * g
        if not math.isfinite(value) or t + 1 in points or t + 1 == iters:
            _check_finite(value, params, t + 1, lr)
        batch_losses[t] = value
        if progress is not None:
            progress(t + 1)
    return TrainResult(to_mlp(params), saved, curve, batch_losses,
                       time.perf_counter() - start)


def _check_finite(value: float, params: Params, t: int, lr: float) -> None:
    """InputError when the loss of step t or the weights after it are not finite."""
    if not (math.isfinite(value) and all(np.isfinite(p).all() for p in params)):
        raise InputError(f"training diverged at iteration {t} (loss {value:.3g}): lower the "
                         f"learning rate (now {lr:g})")


def _test_split(X_test: Any, Y_test: Any, d: int, outputs: int, labels: np.ndarray | None,
                loss: str) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
    """(X_test, float targets, labels or None), checked against the training split."""
    X_te = float_array(X_test, "X_test", 2)
    if X_te.shape[1] != d:
        raise InputError(f"X_test has {X_te.shape[1]} columns, X has {d}")
    T_te, labels_te, count = _targets(Y_test, "Y_test", X_te.shape[0],
                                      outputs if labels is not None else None, loss)
    if count != outputs or (labels is None) != (labels_te is None):
        raise InputError("Y_test must be of the same kind and width as Y")
    return X_te, T_te, labels_te


def _log_row(t: int, params: Params, train: tuple[np.ndarray, np.ndarray, np.ndarray | None],
             test: tuple[np.ndarray, np.ndarray, np.ndarray | None] | None, loss: str
             ) -> dict[str, Any]:
    """One row of the loss curve: iteration, losses and accuracies on the whole splits."""
    row: dict[str, Any] = {"iter": t}
    with np.errstate(over="ignore", invalid="ignore"):  # a diverged net: checked by the caller
        train_loss, train_acc = evaluate(params, *train, loss)
        row["train_loss"] = train_loss
        if test is not None:
            row["test_loss"], test_acc = evaluate(params, *test, loss)
    if train_acc is not None:
        row["train_accuracy"] = train_acc
        if test is not None:
            row["test_accuracy"] = test_acc
    return row
