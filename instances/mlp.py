"""Trained multilayer perceptrons: the `MLP` type, its `.npz` / `.safetensors` files, its graph.

An `MLP` is what a stack of PyTorch `nn.Linear` layers stores: per layer l a weight matrix of
shape (out_l, in_l) and an optional bias of shape (out_l,), ReLU between layers and the
identity on the last one (logits). f(x) = W_L relu(... relu(W_1 x + b_1) ...) + b_L.

File format (`load_mlp`, `save_mlp`; the same rules for both extensions):

- `.npz`: the arrays are taken in stored order (the zip members' data order; `np.load` lists
  them in the central directory's order, which `np.savez` writes identically).
  `.safetensors`: in the layer order of the names, else in the one order that chains
  (see below).
- An array whose name ends in "bias" is the bias of the weight matrix stored just before it;
  every other array is the next layer's weight matrix (out, in). The shapes must chain, and a
  weight named "<stem>weight" takes only the bias "<stem>bias" ("fc2.bias" right after
  "fc1.weight" is refused: its name says another layer, though the shapes may agree).
- Only float16, float32 and float64 arrays are read (and bfloat16 from `.safetensors`,
  PyTorch's usual training dtype; numpy has no bfloat16), converted to float64 exactly; NaN or
  infinite entries, more than `MAX_ENTRIES` entries in one array or along one dimension, empty
  arrays, a weight that is not 2-D or a bias that is not 1-D (the shapes checked in the
  header, before any data is read or shaped), pickled or object arrays (never unpickled:
  `np.load(..., allow_pickle=False)` and the .npy header checked first) and anything
  malformed are refused with one `InputError` line.

`.safetensors` is read and written here (8-byte little-endian header length, JSON header,
raw little-endian data) without the `safetensors` package: reading the header ourselves
checks every dtype, size and offset before any data is converted and turns each failure into
one line, with no dependency (the package's `keys()` are sorted by name; only recent versions
give the stored order, as `offset_keys()`); and the package's writer stores arrays sorted by
dtype and name ("fc1.bias" before "fc1.weight"), never in layer order. So a `.safetensors`
file is read in the layer order its metadata lists (`_ORDER_KEY`, which exactprune writes), else
in the layer order of its names (natural order, "fc2" before "fc10", each weight before its
bias: what PyTorch's `save_file(model.state_dict())` holds), else in the one order in which
the shapes chain at all, if the layer numbers agree ("features.0", "features.2",
"classifier": text sorts the head first). The stored order alone decides nothing (the
package stores by dtype, then name; hunt 58). A file whose layers
also chain in another order that the names' layer numbers do not rule out ("encoder" and
"decoder": the alphabet, not the names, set their order) is refused: it cannot say which
network it holds.
"""

from __future__ import annotations

import contextlib
import io
import json
import lzma
import math
import os
import re
import secrets
import struct
import tokenize
import zipfile
import zlib
from collections import Counter
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn

import numpy as np

from exactprune.instances.errors import InputError
from exactprune.instances.io import as_path, check_output, read_bytes, write_target
from exactprune.instances.limits import check_entries
from exactprune.instances.masks import INTEGER_KINDS, REAL_KINDS
from exactprune.instances.network import float_array, relu

if TYPE_CHECKING:
    import networkx as nx

EXTENSIONS: tuple[str, ...] = (".npz", ".safetensors")
"""File extensions `load_mlp` and `save_mlp` understand."""

MAX_SAFETENSORS_HEADER = 100_000_000
"""Largest safetensors JSON header read, in bytes (the safetensors package's own limit)."""

MAX_ARRAYS = 4096
"""Most arrays a network file may hold (2,048 layers with their biases): ordering the layers
compares every pair of names, and a file of 100,000 one-weight layers (8.8 MB) took hours
(hunt 117 M2)."""

_SAFETENSORS_DTYPES = {"F16": np.dtype("<f2"), "F32": np.dtype("<f4"), "F64": np.dtype("<f8"),
                       "BF16": np.dtype("<u2")}
"""The safetensors dtypes read, as the numpy dtype of their raw bytes. numpy has no bfloat16:
BF16 is read as its 16-bit patterns and widened by `_to_float64`."""
_ZIP_MAGIC = (b"PK\x03\x04", b"PK\x05\x06")
_NPZ_ERRORS = (zipfile.BadZipFile, ValueError, OSError, EOFError, RuntimeError, zlib.error,
               lzma.LZMAError, OverflowError, TypeError, SyntaxError, tokenize.TokenError)
"""What zipfile and numpy raise on a malformed archive or .npy header (numpy: OverflowError for
a dimension beyond int64, TypeError for a non-integer one, tokenize's TokenError for a header
whose Python literal is cut short, ValueError for the rest; lzma's error for a corrupt
LZMA-compressed member, an internal error until hunt 117 M1)."""
_STORED_ORDER = "stored order"
_NAME_ORDER = ("the layer order of the names (fc1, fc2, ..., fc10, each weight before its "
               "bias)")
_LIBRARY_ORDER_HINT = ": write the net with exactprune's save_mlp or as .npz"
_NPZ_ORDER_HINT = (" (.npz: every array is a layer's weight matrix or its bias, in stored "
                   "order, each weight before its bias: np.savez(path, **state_dict) keeps "
                   "PyTorch's order; names sorted as text, or optimizer state, do not)")
_ORDER_KEY = "exactprune.layer_order"
"""The .safetensors metadata key under which `save_mlp` lists the arrays in layer order (a
JSON list of names): the reader takes that order, whatever the names."""
_METADATA_ORDER = f"the order of the metadata's {_ORDER_KEY!r}"
_ONLY_ORDER = "the one order in which the shapes chain"


class _ChainError(InputError):
    """The arrays do not chain into layers in the order tried (`_assemble`): another order
    may. `detail` is the message without the file name (arguments as `InputError`'s, so it
    pickles)."""

    def __init__(self, message: str, detail: str = "") -> None:
        super().__init__(message)
        self.detail = detail or message


def _one_line(exc: BaseException) -> str:
    return " ".join(str(exc).split()) or type(exc).__name__


def _bias_name(weight_name: str) -> str:
    """The name a layer's bias is saved under: "fc1.weight" -> "fc1.bias", "W1" -> "W1.bias"."""
    if weight_name.endswith("weight"):
        return weight_name[: -len("weight")] + "bias"
    return weight_name + ".bias"


@dataclass(frozen=True, eq=False)
class MLP:
    """A ReLU multilayer perceptron, layer l computing W_l h + b_l (ReLU on all but the last).

    weights: one (out_l, in_l) matrix per layer, in_l equal to out_{l-1};
    biases: one (out_l,) vector or None per layer (empty: no biases anywhere);
    names: the array name of each weight matrix in its file (empty: "layer{l}.weight", l
    from 0). Arrays become read-only finite float64 on construction; anything malformed is
    one InputError line.
    """

    weights: tuple[np.ndarray, ...]
    biases: tuple[np.ndarray | None, ...] = ()
    names: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        weights = tuple(float_array(w, f"weights[{layer}]", 2)
                        for layer, w in enumerate(_sequence(self.weights, "weights")))
        biases = _sequence(self.biases, "biases") or (None,) * len(weights)
        biases = tuple(None if b is None else float_array(b, f"biases[{layer}]", 1)
                       for layer, b in enumerate(biases))
        names = _sequence(self.names, "names") or tuple(
            f"layer{layer}.weight" for layer in range(len(weights)))
        object.__setattr__(self, "weights", weights)
        object.__setattr__(self, "biases", biases)
        object.__setattr__(self, "names", names)
        self.validate()

    @property
    def depth(self) -> int:
        """Number of layers (weight matrices)."""
        return len(self.weights)

    @property
    def widths(self) -> tuple[int, ...]:
        """(inputs, hidden units of each hidden layer..., outputs): depth + 1 numbers."""
        return (int(self.weights[0].shape[1]), *(int(w.shape[0]) for w in self.weights))

    @property
    def num_weights(self) -> int:
        """Total number of weight-matrix entries (biases not counted)."""
        return sum(int(w.size) for w in self.weights)

    @property
    def has_bias(self) -> bool:
        """True when at least one layer has a bias."""
        return any(b is not None for b in self.biases)

    def validate(self) -> None:
        """Raise InputError unless the layers chain, the biases and names fit, values are
        finite float64 and no array exceeds MAX_ENTRIES entries."""
        if not self.weights:
            raise InputError("an MLP needs at least one weight matrix")
        if len(self.biases) != self.depth or len(self.names) != self.depth:
            raise InputError(f"an MLP of {self.depth} layers needs {self.depth} biases (or None) "
                             f"and {self.depth} names, got {len(self.biases)} and "
                             f"{len(self.names)}")
        _check_names(self.names)
        inputs, source = self.weights[0].shape[-1], "the input"
        for w, b, name in zip(self.weights, self.biases, self.names, strict=True):
            check_entries(int(w.size), f"weight {name!r}")
            if w.ndim != 2 or w.dtype != np.float64 or not np.all(np.isfinite(w)):
                raise InputError(f"weight {name!r} must be a finite float64 (out, in) matrix")
            if w.shape[1] != inputs:
                raise InputError(f"weight {name!r} has shape {w.shape}: its {w.shape[1]} inputs "
                                 f"must match the {inputs} outputs of {source}")
            inputs, source = w.shape[0], repr(name)
            if b is not None and (b.shape != (w.shape[0],) or b.dtype != np.float64
                                  or not np.all(np.isfinite(b))):
                raise InputError(f"the bias of {name!r} must be a finite float64 vector of shape "
                                 f"({w.shape[0]},), got shape {b.shape}")

    def forward(self, X: Any) -> np.ndarray:
        """The logits: X of shape (K, inputs) -> shape (K, outputs), float64."""
        h = self._check_inputs(X)
        for layer, (w, b) in enumerate(zip(self.weights, self.biases, strict=True)):
            h = h @ w.T
            if b is not None:
                h = h + b
            if layer < self.depth - 1:
                h = relu(h)
        return h

    def predict(self, X: Any) -> np.ndarray:
        """The predicted class of each row of X (shape (K, inputs)): argmax of the logits, (K,)."""
        return np.argmax(self.forward(X), axis=1)

    def accuracy(self, X: Any, y: Any) -> float:
        """Fraction of rows of X (shape (K, inputs)) whose prediction equals y (K integers)."""
        predicted = self.predict(X)
        return float(np.mean(predicted == self.check_labels(y, predicted.shape[0])))

    def check_labels(self, y: Any, rows: int) -> np.ndarray:
        """`y` as `rows` class labels in 0..outputs−1, or InputError: labels of shape (K, 1)
        broadcast against the predictions to K × K, and a label no output can predict was
        counted as a plain miss (hunt 31); both are refused."""
        labels = np.asarray(y)
        if labels.shape != (rows,) or labels.dtype.kind not in INTEGER_KINDS:
            raise InputError(f"labels must be {rows} integers, one per row of X, "
                             f"got {labels.dtype} of shape {labels.shape}")
        if labels.size and (labels.min() < 0 or labels.max() >= self.widths[-1]):
            raise InputError(f"labels must be in 0..{self.widths[-1] - 1}, got "
                             f"{int(labels.min())}..{int(labels.max())}")
        return labels

    def _check_inputs(self, X: Any) -> np.ndarray:
        pts = float_array(X, "X", 2)
        if pts.shape[1] != self.widths[0]:
            raise InputError(f"X must have shape (K, {self.widths[0]}), got {pts.shape}")
        check_entries(pts.shape[0] * max(self.widths), "the forward pass's activations")
        return pts


def _sequence(value: Any, what: str) -> tuple[Any, ...]:
    if not isinstance(value, list | tuple):
        raise InputError(f"MLP {what} must be a tuple or list, got {type(value).__name__}")
    return tuple(value)


MAX_NAME_CHARS = 1000
"""Longest layer name: a name is a zip member (at most 65,535 bytes) or a safetensors key."""


def _check_names(names: tuple[Any, ...]) -> None:
    """Names every file format can store and read back: non-empty UTF-8 text of at most
    MAX_NAME_CHARS characters, no NUL, not safetensors' "__metadata__" key, not ending in
    "bias" (which marks a bias in a file), distinct."""
    for name in names:
        if not isinstance(name, str) or not name:
            raise InputError(f"MLP names must be non-empty strings, got {name!r}")
        if name.endswith("bias"):
            raise InputError(f"weight name {name!r} ends in 'bias', which marks a bias in a file")
        try:
            name.encode("utf-8")
        except UnicodeEncodeError:
            raise InputError(f"MLP name {name!r} is not UTF-8 text") from None
        if len(name) > MAX_NAME_CHARS or "\x00" in name or name == "__metadata__":
            raise InputError(f"MLP name {name[:40]!r}{'...' if len(name) > 40 else ''} cannot "
                             f"be stored in a network file (at most {MAX_NAME_CHARS} characters, "
                             "no NUL, not __metadata__)")
    if len(set(names)) != len(names):
        raise InputError(f"MLP names must be distinct, got {list(names)}")


# -- reading ---------------------------------------------------------------------------------
def load_mlp(path: str | os.PathLike[str]) -> MLP:
    """Read an MLP from a `.npz` or `.safetensors` file (the rules in this module's docstring).

    Every failure (missing, unreadable or corrupt file, pickled data, bad dtype or shape,
    NaN, too large) is one InputError line; the file is never unpickled.
    """
    p = as_path(path, "a network file path")
    suffix = p.suffix.lower()
    if suffix not in EXTENSIONS:
        raise InputError(f"{p}: unknown network file extension {p.suffix!r} "
                         f"(known: {', '.join(EXTENSIONS)})")
    data = read_bytes(p)
    if suffix == ".npz":
        arrays = _npz_arrays(data, str(p))
        try:
            return _assemble(arrays, str(p))
        except _ChainError as exc:  # say what the order is (hunt 156 L1, L2), where it is the
            # order (a bias first, arrays that chain in another order) or a stray array; not
            # for layers that do not fit in any order (hunt 160 L2)
            stray = any("weight" not in n and "bias" not in n for n, _ in arrays)
            reorder = _only_chain(sorted(arrays, key=lambda a: _layer_key(a[0])))
            hint = _NPZ_ORDER_HINT if stray or reorder is not None or \
                exc.detail.startswith("bias ") else ""
            raise InputError(f"{exc}{hint}") from None
    return _safetensors_mlp(data, str(p))


def _safetensors_mlp(data: bytes, source: str) -> MLP:
    """The MLP of a .safetensors file's bytes: its arrays in the order its metadata lists, else
    in the natural order of their names (PyTorch's save_file), else in the one order that
    chains (`_only_chain`); the stored order alone is never taken (the package stores by
    dtype, then name; hunt 58).

    Every array is checked on its own first (`_safetensors_arrays`), so only a failure to
    chain depends on the order. A refusal gives the name order's reason (the order PyTorch
    files need), and says what the stored order does too unless that order holds no layer
    order to try (the same as the name order, or the names sorted as text)."""
    arrays, metadata = _safetensors_arrays(data, source)
    if _ORDER_KEY in metadata:
        return _assemble(_in_metadata_order(arrays, metadata[_ORDER_KEY], source), source,
                         _METADATA_ORDER)
    by_name = sorted(arrays, key=lambda a: _layer_key(a[0]))
    try:
        mlp = _assemble(by_name, source, _NAME_ORDER)
    except _ChainError as first:
        only = _only_chain(by_name)
        if only is not None:  # "features.0", "features.2", "classifier" (hunt 55 L2)
            with contextlib.suppress(InputError):  # a bad bias: the name order's reason
                return _assemble(only, source, _ONLY_ORDER)
        # the stored order alone fixes nothing: the package stores arrays by dtype, then
        # name, and a net of float16 and float32 layers was read out of order, against its
        # layer numbers (hunt 58 H1)
        stored = [name for name, _ in arrays]
        try:
            _assemble(arrays, source, _STORED_ORDER)
        except _ChainError as second:
            if stored in ([name for name, _ in by_name], sorted(stored)):
                raise InputError(f"{first}{_LIBRARY_ORDER_HINT}") from None
            raise InputError(f"{first}; the stored order fails too: {second.detail}"
                             f"{_LIBRARY_ORDER_HINT}") from None
        raise InputError(f"{first}; the stored order chains, but it is not the one order the "
                         "shapes allow (another chains too, or it breaks the layer numbers): "
                         f"the file does not say which network it holds{_LIBRARY_ORDER_HINT}"
                         ) from None
    other = _another_chain(mlp)
    if other is not None:
        # "encoder" (3 x 5) and "decoder" (5 x 3) chain as decoder, encoder too: the text of
        # their names, not layer numbers, chose that order, and the net read was reversed
        # (hunt 38)
        if other == "many":
            also = "so many partial orders chain that the search for another gave up"
        else:  # from the first layer where the orders differ (hunt 58 L4: the first 8 agreed)
            at = next(i for i, (a, b) in enumerate(zip(mlp.names, other, strict=True))
                      if a != b)
            also = (f"they also chain as {_names_text(other)}" if at == 0 else
                    f"they also chain as the same order with {_names_text(other[at:])} from "
                    f"layer {at + 1} on")
            also += ", which their layer numbers do not rule out"
        raise InputError(
            f"{source}: the layers {_names_text(list(mlp.names))} chain in the order of their "
            f"names, but {also}: the file does not say which network it holds; number the "
            "layers in layer order (fc1, fc2, ...) or store the arrays in layer order in an "
            ".npz (numpy.savez); a file an exactprune before 2026-12-04 wrote has its names "
            "in layer order: load it with that version and save it as .npz")
    return mlp


def _in_metadata_order(arrays: list[tuple[str, np.ndarray]], text: str,
                       source: str) -> list[tuple[str, np.ndarray]]:
    """The arrays in the order the metadata's `_ORDER_KEY` lists them (a JSON list of every
    array's name once), or InputError."""
    try:
        order = json.loads(text)
    except (ValueError, RecursionError):  # deep nesting: RecursionError (hunt 39)
        order = None
    by_name = dict(arrays)
    if not (isinstance(order, list) and sorted(map(str, order)) == sorted(by_name)
            and all(isinstance(name, str) for name in order)):
        raise InputError(f"{source}: safetensors metadata {_ORDER_KEY!r} must be a JSON list "
                         "naming every array once")
    return [(name, by_name[name]) for name in order]


def _names_text(names: list[str], most: int = 8) -> str:
    """A list of names for a message, cut after `most` (a net of 60 layers gave 2,000
    characters; hunt 39)."""
    shown = ", ".join(repr(name[:60]) for name in names[:most])
    return f"[{shown}{', ...' if len(names) > most else ''}]"


def _fixed_before(names: tuple[str, ...]) -> list[int]:
    """For each layer j (in name order), the bitmask of layers its name puts before it for
    sure: those whose names first differ from its own in a layer number ("fc2" before "fc10",
    "decoder.0" before "decoder.2"). Text does not fix an order ("encoder" and "decoder",
    "hidden" and "out", "blocks.0.dense_h_to_4h" and "blocks.0.dense_4h_to_h"), nor does a
    name that is a prefix of another ("fc" and "fc.0", "w" and "w1"): where the shapes chain
    both ways the file is refused rather than read in an order the alphabet chose (an
    autoencoder, and GPT-NeoX's and Falcon's MLPs, read back reversed; hunts 38, 39, 41, 45)."""
    keys = [_layer_key(name)[0] for name in names]
    fixed = [0] * len(names)
    for j in range(len(names)):
        for i in range(j):
            ki, kj = keys[i], keys[j]
            at = next((t for t, (x, y) in enumerate(zip(ki, kj, strict=False)) if x != y),
                      None)
            # a name that is a prefix of another ("fc" and "fc.0", "w" and "w1") has no
            # number there: that order is the alphabet's too (hunt 45 F7)
            if at is not None and ki[at][0] == 0 and kj[at][0] == 0:
                fixed[j] |= 1 << i
    return fixed


def _only_chain(arrays: list[tuple[str, np.ndarray]], budget: int = 100_000
                ) -> list[tuple[str, np.ndarray]] | None:
    """The arrays (in name order) in the one order of their weight matrices that chains, each
    bias after its weight; None when no order, or more than one, chains (or the search passes
    `budget` steps), when that order breaks one the layer numbers fix, or when a bias is not
    named after a weight. A PyTorch net of "features.0", "features.2" and "classifier" fails in
    name order (text sorts the head first) but chains only one way (hunt 55 L2). The layer
    numbers do not narrow the search: "dec1" and "dec2" of an autoencoder whose layer order
    is enc1, enc2, dec2, dec1 chained only as enc1, enc2, dec1, dec2 once the numbers were
    taken as an order, and a different net was read (hunt 56 H1)."""
    weights = [(name, arr) for name, arr in arrays if not name.endswith("bias")]
    biases = {name: arr for name, arr in arrays if name.endswith("bias")}
    if not weights or any(arr.ndim != 2 for _, arr in weights) or \
            set(biases) - {_bias_name(name) for name, _ in weights}:
        return None
    shapes = [arr.shape for _, arr in weights]
    if len(set(shapes)) < len(shapes):  # two of one shape swap places in any chain
        return None
    found = _chain_orders(shapes, [0] * len(weights), budget, limit=2)
    if isinstance(found, str) or len(found) != 1:
        return None
    order = found[0]
    fixed = _fixed_before(tuple(name for name, _ in weights))
    placed = 0
    for j in order:
        if fixed[j] & ~placed:
            return None
        placed |= 1 << j
    ordered: list[tuple[str, np.ndarray]] = []
    for j in order:
        name, arr = weights[j]
        ordered.append((name, arr))
        if _bias_name(name) in biases:
            ordered.append((_bias_name(name), biases[_bias_name(name)]))
    return ordered


def _chain_orders(shapes: list[tuple[int, ...]], fixed: list[int], budget: int,
                  limit: int) -> list[list[int]] | str:
    """Up to `limit` orders of the weight matrices with these shapes (indices, depth first in
    index order) that chain, each one's inputs the outputs of the one before, and put every
    layer after those `fixed` names (bitmasks); "many" when the search places more than
    `budget` layers. Iterative, one path and one iterator per depth: a recursion ran out of
    stack at about 1,000 layers (hunt 56), and a stack of path copies took gigabytes at
    1,500 (hunt 58)."""
    n = len(shapes)
    taking: dict[int, list[int]] = {}  # input width -> the layers taking it, in index order
    for j, shape in enumerate(shapes):
        taking.setdefault(shape[1], []).append(j)
    found: list[list[int]] = []
    path: list[int] = []
    used = 0
    steps = 0
    stack: list[Iterator[int]] = [iter(range(n))]  # one more than the path: the next choices
    while stack:
        j = next(stack[-1], None)
        if j is None:
            stack.pop()
            if path:
                used &= ~(1 << path.pop())
            continue
        if used >> j & 1 or fixed[j] & ~used:
            continue
        steps += 1
        if steps > budget:
            return "many"
        if len(path) + 1 == n:
            found.append([*path, j])
            if len(found) >= limit:
                break
            continue
        path.append(j)
        used |= 1 << j
        stack.append(iter(taking.get(shapes[j][0], ())))
    return found


def _another_chain(mlp: MLP, budget: int = 100_000) -> list[str] | str | None:
    """Another order of the weight matrices (given in name order) that chains, each one's
    inputs the outputs of the one before, and keeps the order their layer numbers fix
    (`_fixed_before`), as names; "many" when the search takes more than `budget` steps
    (refused as ambiguous: so many partial chains mean the shapes hardly fix the order);
    None when there is none."""
    n = len(mlp.weights)
    found = _chain_orders([w.shape for w in mlp.weights], _fixed_before(mlp.names), budget,
                          limit=2)
    if isinstance(found, str):
        return found
    other = next((order for order in found if order != list(range(n))), None)
    return None if other is None else [mlp.names[i] for i in other]


def _layer_key(name: str) -> tuple[Any, ...]:
    """Sort key of PyTorch-style names: layer by layer in natural order ("fc2" before "fc10"),
    the weight before the bias of the same layer."""
    stem = name[: -len("bias")] if name.endswith("bias") else name
    stem = stem[: -len("weight")] if stem.endswith("weight") else stem
    # digit runs compare by length, then as text, without int(): "²" is isdigit() but no
    # int, and int() refuses runs over 4,300 digits (hunt 38)
    parts = tuple((0, len(t.lstrip("0")), t.lstrip("0")) if t.isascii() and t.isdigit()
                  else (1, 0, t) for t in re.split(r"([0-9]+)", stem) if t)
    return (parts, name.endswith("bias"))


def _check_dtype(dtype: np.dtype, name: str, source: str) -> None:
    if dtype.hasobject:
        raise InputError(f"{source}: array {name!r} holds Python objects (pickled data), "
                         "which are never loaded")
    if dtype.kind != "f" or dtype.itemsize not in (2, 4, 8):
        raise InputError(f"{source}: array {name!r} has dtype {dtype}; only float16, float32 "
                         "and float64 arrays are read")


def _npz_arrays(data: bytes, source: str) -> list[tuple[str, np.ndarray]]:
    """(name, float64 array) of every member of an .npz file's bytes, in stored order."""
    if not data.startswith(_ZIP_MAGIC):
        raise InputError(f"{source} is not an .npz file (not a zip archive)")
    try:
        with np.load(io.BytesIO(data), allow_pickle=False) as npz:
            _check_count(len(npz.zip.infolist()), source)
            members = sorted(npz.zip.infolist(), key=lambda info: info.header_offset)
            names = [_npz_name(info, source) for info in members]
            if len(set(names)) != len(names):
                raise InputError(f"{source}: an array name occurs twice")
            pairs = list(zip(names, members, strict=True))
            # every header first: a few MB of compressed zeros can declare gigabytes over
            # several arrays, each within the one-array limit (hunt 26)
            check_entries(sum(_npz_header(npz, info, name, source) for name, info in pairs),
                          f"{source}: its arrays together")
            return [(name, _check_finite(name, _widened(npz[info.filename]), source))
                    for name, info in pairs]
    except InputError:
        raise
    except _NPZ_ERRORS as exc:
        raise InputError(f"{source} is not a valid .npz file: {_one_line(exc)}") from None


def _check_count(count: int, source: str) -> None:
    if count > MAX_ARRAYS:
        raise InputError(f"{source} holds {count:,} arrays: at most {MAX_ARRAYS:,} (layers and "
                         "their biases) are read")


def _npz_name(info: zipfile.ZipInfo, source: str) -> str:
    if not info.filename.endswith(".npy"):
        raise InputError(f"{source}: member {info.filename!r} is not a .npy array")
    return info.filename[: -len(".npy")]


def _npz_header(npz: Any, info: zipfile.ZipInfo, name: str, source: str) -> int:
    """The entry count of one member, its .npy header checked (dtype, size, length) before
    any data is read."""
    fmt = np.lib.format
    with npz.zip.open(info) as fh:
        if fh.read(len(fmt.MAGIC_PREFIX)) != fmt.MAGIC_PREFIX:
            raise InputError(f"{source}: member {info.filename!r} is not a .npy array")
        fh.seek(0)
        version = fmt.read_magic(fh)
        readers = {(1, 0): fmt.read_array_header_1_0, (2, 0): fmt.read_array_header_2_0}
        if version not in readers:
            raise InputError(f"{source}: array {name!r} has unsupported .npy version {version}")
        shape, _, dtype = readers[version](fh)
        _check_dtype(dtype, name, source)
        count = _header_count(name, shape, source)
        if info.file_size != fh.tell() + count * dtype.itemsize:
            raise InputError(f"{source}: array {name!r} is corrupt (its data does not match "
                             f"its shape {shape})")
        _check_layer_shape(name, shape, source)
    return count


def _clip(text: str, limit: int = 80) -> str:
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _shape_text(shape: Sequence[Any]) -> str:
    """A shape for a message, kept short: "shape (2, 3)" or "a 70-dimensional shape"."""
    if len(shape) <= 4 and all(isinstance(n, int) and abs(n) < 10**15 for n in shape):
        return f"shape {tuple(shape)}"
    return f"a {len(shape)}-dimensional shape"


def _layer_need(name: str) -> tuple[str, str]:
    """("bias" or "weight", the shape it must have in words), by the array's name."""
    if name.endswith("bias"):
        return "bias", "1-D (out,) vector"
    return "weight", "2-D (out, in) matrix"


def _header_count(name: str, shape: Sequence[Any], source: str) -> int:
    """The number of entries of an array of this shape, read from a file header, after
    refusing (before any data is read or shaped, so numpy never sees it) a shape beyond any
    layer: more than 2 dimensions, a dimension that is not a natural number or is above
    MAX_ENTRIES (a zero dimension next to it would hide it from the entry count), or more than
    MAX_ENTRIES entries. `_check_layer_shape` follows once the data's length is checked."""
    if len(shape) > 2:
        what, need = _layer_need(name)
        raise InputError(f"{source}: {what} {name!r} must be a {need}, got "
                         f"{_shape_text(shape)}")
    for axis, n in enumerate(shape):
        if not _natural(n):
            raise InputError(f"{source}: array {name!r} has a malformed shape "
                             f"{_clip(repr(tuple(shape)))}")
        check_entries(n, f"{source}: array {name!r}"
                      + ("" if len(shape) == 1 else f" along dimension {axis}"))
    count = math.prod(shape)
    check_entries(count, f"{source}: array {name!r}")
    return count


def _check_layer_shape(name: str, shape: Sequence[int], source: str) -> None:
    """Refuse a header shape no layer has in any order: a weight that is not 2-D, a 0-d bias,
    or no entries. A 2-D bias is left to `_check_bias`, which names the shape it needs."""
    what, need = _layer_need(name)
    if len(shape) != 2 and not (what == "bias" and len(shape) == 1):
        raise InputError(f"{source}: {what} {name!r} must be a {need}, got "
                         f"{_shape_text(shape)}")
    if math.prod(shape) == 0:
        raise InputError(f"{source}: array {name!r} is empty ({_shape_text(shape)})")


def _check_finite(name: str, arr: np.ndarray, source: str) -> np.ndarray:
    if not np.all(np.isfinite(arr)):
        raise InputError(f"{source}: array {name!r} contains NaN or infinite values")
    return arr


def _safetensors_arrays(data: bytes, source: str
                        ) -> tuple[list[tuple[str, np.ndarray]], dict[str, str]]:
    """(name, float64 array) of every tensor of a .safetensors file's bytes, in stored order,
    and the file's metadata (text keys to text values, as the format has it)."""
    if len(data) < 8:
        raise InputError(f"{source} is not a .safetensors file (shorter than 8 bytes)")
    # what the bytes are, where a name says otherwise: an .npz read as a header of 193 GB
    # (hunt 198 L1)
    if data.startswith(_ZIP_MAGIC):
        raise InputError(f"{source} is not a .safetensors file: it is a zip archive (an .npz "
                         "file, to be named .npz, or torch.save's format, which is never read)")
    if data[:1] == b"\x80" and data[1:2] in (b"\x02", b"\x03", b"\x04", b"\x05"):
        raise InputError(f"{source} is not a .safetensors file: it looks like a Python pickle "
                         "(torch.save's format), which is never read; save the state dict "
                         "with safetensors or numpy")
    (size,) = struct.unpack("<Q", data[:8])
    if size > MAX_SAFETENSORS_HEADER:
        raise InputError(f"{source}: safetensors header of {size:,} bytes is larger than the "
                         f"{MAX_SAFETENSORS_HEADER:,}-byte limit")
    if 8 + size > len(data):
        raise InputError(f"{source}: safetensors header length {size:,} runs past the end of "
                         f"the file ({len(data):,} bytes)")
    header = _safetensors_header(data[8: 8 + size], source)
    _check_count(len(header) - ("__metadata__" in header), source)
    buffer = memoryview(data)[8 + size:]
    entries = sorted((_safetensors_entry(name, spec, source)
                      for name, spec in header.items() if name != "__metadata__"),
                     key=lambda entry: entry[2])
    _check_offsets(entries, len(buffer), source)
    arrays = []
    for name, dtype, (begin, end), shape in entries:
        arr = _to_float64(np.frombuffer(buffer[begin:end], dtype=dtype)).reshape(shape)
        arrays.append((name, _check_finite(name, arr, source)))
    metadata = header.get("__metadata__") or {}  # null: none (as the old reader took it)
    if not (isinstance(metadata, dict)
            and all(isinstance(v, str) for v in metadata.values())):
        raise InputError(f"{source}: safetensors __metadata__ must map names to text")
    return arrays, metadata


def _to_float64(raw: np.ndarray) -> np.ndarray:
    """Raw safetensors data as float64, exactly. A bfloat16 is the top half of a float32 (same
    sign and exponent bits, 7 of the 23 fraction bits), so its bits shifted up 16 places are
    that float32, NaN and infinities included (refused later like any other NaN)."""
    if raw.dtype == np.dtype("<u2"):
        raw = (raw.astype("<u4") << 16).view("<f4")
    return _widened(raw)


def _widened(raw: np.ndarray) -> np.ndarray:
    """`raw` as float64, exactly. Casting a signalling NaN warned "invalid value encountered in
    cast" on stderr before the one line that refuses it (hunt 198 M1): the cast is quiet, and
    the NaN is refused by `_check_finite` as any other."""
    with np.errstate(invalid="ignore"):
        return np.asarray(raw, dtype=np.float64)


def _unique_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    keys = [key for key, _ in pairs]
    if len(set(keys)) != len(keys):
        twice = sorted(key for key, count in Counter(keys).items() if count > 1)
        # every JSON object of the header: its top level names arrays, the ones inside name
        # an array's fields or the metadata's keys (all were "names an array twice"; hunt 117)
        raise InputError(f"safetensors header repeats a key in one object: "
                         f"{_names_text(twice)}")
    return dict(pairs)


def _safetensors_header(raw: bytes, source: str) -> dict[str, Any]:
    try:
        header = json.loads(raw.decode("utf-8"), object_pairs_hook=_unique_keys)
    except InputError as exc:
        raise InputError(f"{source}: {exc}") from None
    except (UnicodeDecodeError, ValueError, RecursionError) as exc:
        raise InputError(f"{source}: safetensors header is not valid JSON: "
                         f"{_one_line(exc)}") from None
    if not isinstance(header, dict):
        raise InputError(f"{source}: safetensors header must be a JSON object")
    return header


def _natural(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value >= 0


def _safetensors_entry(name: str, spec: Any, source: str
                       ) -> tuple[str, np.dtype, tuple[int, int], tuple[int, ...]]:
    """(name, dtype, (begin, end), shape) of one header entry, checked against its size."""
    if not isinstance(spec, dict) or not {"dtype", "shape", "data_offsets"} <= spec.keys():
        raise InputError(f"{source}: safetensors entry {name!r} needs dtype, shape and "
                         "data_offsets")
    dtype, shape, offsets = spec["dtype"], spec["shape"], spec["data_offsets"]
    if not isinstance(dtype, str) or dtype not in _SAFETENSORS_DTYPES:
        raise InputError(f"{source}: array {name!r} has dtype {_clip(repr(dtype))}; only F16, "
                         "BF16, F32 and F64 arrays are read")
    if not isinstance(shape, list) or not all(_natural(n) for n in shape):
        raise InputError(f"{source}: array {name!r} has a malformed shape "
                         f"{_clip(repr(shape))}")
    if not (isinstance(offsets, list) and len(offsets) == 2 and all(map(_natural, offsets))
            and offsets[0] <= offsets[1]):
        raise InputError(f"{source}: array {name!r} has malformed data_offsets {offsets!r}")
    count = _header_count(name, shape, source)
    np_dtype = _SAFETENSORS_DTYPES[dtype]
    if offsets[1] - offsets[0] != count * np_dtype.itemsize:
        raise InputError(f"{source}: array {name!r} spans {offsets[1] - offsets[0]} bytes, but "
                         f"shape {shape} of {dtype} needs {count * np_dtype.itemsize}")
    _check_layer_shape(name, shape, source)
    return name, np_dtype, (offsets[0], offsets[1]), tuple(shape)


def _check_offsets(entries: list[Any], length: int, source: str) -> None:
    """The data offsets must tile the data buffer exactly: inside it, no gap, no overlap."""
    position = 0
    for name, _, (begin, end), _ in entries:
        if end > length:
            raise InputError(f"{source}: array {name!r} has data_offsets [{begin}, {end}] "
                             f"outside the file's {length}-byte data")
        if begin != position:
            raise InputError(f"{source}: array {name!r} starts at byte {begin}, not {position}: "
                             "the data offsets leave a gap or overlap")
        position = end
    if position != length:
        raise InputError(f"{source}: {length - position} bytes of data belong to no array")


def _assemble(arrays: list[tuple[str, np.ndarray]], source: str,
              order: str = _STORED_ORDER) -> MLP:
    """Layers from (name, float64 array) pairs taken in the given order (`order` names it in
    messages; the module's rules). A failure to chain is a `_ChainError`. Each array was
    checked on its own by the reader (`_check_layer_shape`, `_check_finite`): non-empty,
    finite, a 2-D weight or a 1-D or 2-D bias."""
    if not arrays:
        raise InputError(f"{source} holds no arrays")
    weights: list[np.ndarray] = []
    biases: list[np.ndarray | None] = []
    names: list[str] = []
    for name, arr in arrays:
        if name.endswith("bias"):
            _check_bias(name, arr, weights, biases, source, order, names)
            biases[-1] = arr
            continue
        if weights and arr.shape[1] != weights[-1].shape[0]:
            _chain_error(source, f"weight {name!r} has shape {arr.shape}: its {arr.shape[1]} "
                         f"inputs do not match the {weights[-1].shape[0]} outputs of "
                         f"{names[-1]!r} before it in {order}")
        weights.append(arr)
        biases.append(None)
        names.append(name)
    try:
        return MLP(tuple(weights), tuple(biases), tuple(names))
    except InputError as exc:
        raise InputError(f"{source}: {exc}") from None


def _check_bias(name: str, arr: np.ndarray, weights: list[np.ndarray],
                biases: list[np.ndarray | None], source: str, order: str,
                names: list[str]) -> None:
    if not weights:
        _chain_error(source, f"bias {name!r} comes before any weight matrix in {order}")
    if names[-1].endswith("weight") and name != _bias_name(names[-1]):
        # "fc2.bias" after "fc1.weight": the names say another layer (shapes may agree)
        _chain_error(source, f"bias {name!r} follows weight {names[-1]!r} in {order}, whose "
                     f"bias would be named {_bias_name(names[-1])!r}")
    if biases[-1] is not None:
        _chain_error(source, f"bias {name!r} follows another bias in {order}; each bias "
                     "follows its weight matrix")
    out = weights[-1].shape[0]
    if arr.shape != (out,):
        _chain_error(source, f"bias {name!r} must have shape ({out},) like the outputs of the "
                     f"weight matrix before it in {order}, got shape {arr.shape}")


def _chain_error(source: str, detail: str) -> NoReturn:
    raise _ChainError(f"{source}: {detail}", detail)


# -- writing ---------------------------------------------------------------------------------
def _stored_arrays(mlp: MLP) -> list[tuple[str, np.ndarray]]:
    """(name, array) in layer order as `save_mlp` stores them: each weight, then its bias
    (named by `_bias_name`). InputError if two bias names collide."""
    arrays: list[tuple[str, np.ndarray]] = []
    for w, b, name in zip(mlp.weights, mlp.biases, mlp.names, strict=True):
        arrays.append((name, w))
        if b is not None:
            arrays.append((_bias_name(name), b))
    names = [name for name, _ in arrays]
    if len(set(names)) != len(names):
        raise InputError(f"the saved array names would collide: {names}")
    return arrays


def save_mlp(mlp: MLP, path: str | os.PathLike[str]) -> None:
    """Write `mlp` as `.npz` or `.safetensors` (by extension), float64, in layer order.

    Atomic: a temporary file in the same folder, then a rename; failures are InputError
    lines and leave nothing behind. `load_mlp` returns an equal network, bit for bit.
    """
    if not isinstance(mlp, MLP):
        raise InputError(f"save_mlp takes an MLP (load_mlp, train_mlp), got {type(mlp).__name__}")
    p = as_path(path, "a network file path", output=True)
    suffix = p.suffix.lower()
    if suffix not in EXTENSIONS:
        raise InputError(f"{p}: unknown network file extension {p.suffix!r} "
                         f"(known: {', '.join(EXTENSIONS)})")
    check_output(p)
    _write_atomic(p, mlp_bytes(mlp, suffix))


def mlp_bytes(mlp: MLP, suffix: str = ".npz") -> bytes:
    """The bytes of `mlp` as a `.npz` or `.safetensors` file (what `save_mlp` writes)."""
    arrays = _stored_arrays(mlp)
    if len(arrays) > MAX_ARRAYS:  # a file load_mlp would refuse (hunt 119 M1)
        raise InputError(f"a network of {len(mlp.weights):,} layers is {len(arrays):,} arrays "
                         f"with its biases: load_mlp reads at most {MAX_ARRAYS:,}, so no file "
                         "is written")
    if suffix.lower() == ".npz":
        return _npz_bytes(arrays)
    if suffix.lower() == ".safetensors":
        data = _safetensors_bytes(arrays)
        # the metadata's layer order reads it back as written: checked all the same, as a
        # file that read back as another network was once written (hunt 26)
        if _safetensors_mlp(data, "the written file").names != mlp.names:
            raise InputError(f"the layers {_names_text(list(mlp.names))} would be read back "
                             "from .safetensors as another network: save as .npz")
        return data
    raise InputError(f"unknown network file extension {suffix!r} (known: "
                     f"{', '.join(EXTENSIONS)})")


def _npz_bytes(arrays: list[tuple[str, np.ndarray]]) -> bytes:
    """What `np.savez` writes, built directly: its keyword arguments could not carry the
    array names "file" or "allow_pickle"."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", compression=zipfile.ZIP_STORED, allowZip64=True) as zf:
        for name, arr in arrays:
            with zf.open(name + ".npy", "w", force_zip64=True) as fh:
                np.lib.format.write_array(fh, arr, allow_pickle=False)
    return buf.getvalue()


def _safetensors_bytes(arrays: list[tuple[str, np.ndarray]]) -> bytes:
    """A .safetensors file of F64 tensors stored in the given order (header padded to 8),
    that order also listed in the metadata (`_ORDER_KEY`): the safetensors package lists
    tensors by name and rewrites them in name order, so the stored order alone is lost."""
    header: dict[str, Any] = {"__metadata__": {
        _ORDER_KEY: json.dumps([name for name, _ in arrays], ensure_ascii=False)}}
    chunks: list[bytes] = []
    offset = 0
    for name, arr in arrays:
        raw = np.ascontiguousarray(arr, dtype="<f8").tobytes()
        header[name] = {"dtype": "F64", "shape": list(arr.shape),
                        "data_offsets": [offset, offset + len(raw)]}
        chunks.append(raw)
        offset += len(raw)
    text = json.dumps(header, separators=(",", ":")).encode("utf-8")
    text += b" " * (-len(text) % 8)
    return struct.pack("<Q", len(text)) + text + b"".join(chunks)


def _write_atomic(path: Path, data: bytes) -> None:
    """Write through a new file in the folder of the file `path` leads to (through links) and
    a rename (mode 0o666 less the umask); messages name `path`."""
    target = write_target(path)
    tmp = target.parent / f".{target.name[:200]}.{secrets.token_hex(6)}.tmp"
    try:
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
        os.replace(tmp, target)
    except BaseException as exc:
        tmp.unlink(missing_ok=True)
        if isinstance(exc, OSError):
            raise InputError(f"cannot write {path}: {exc.strerror or _one_line(exc)}") from None
        raise


# -- the pruned network as a graph ---------------------------------------------------------
def _masks(mlp: MLP, masks: Sequence[Any] | None) -> list[np.ndarray]:
    if masks is None:
        return [np.ones(w.shape, bool) for w in mlp.weights]
    if not isinstance(masks, list | tuple) or len(masks) != mlp.depth:
        raise InputError(f"masks must be a tuple of {mlp.depth} arrays, one per weight matrix")
    out = []
    for mask, w, name in zip(masks, mlp.weights, mlp.names, strict=True):
        arr = np.asarray(mask)
        if arr.shape != w.shape:
            raise InputError(f"the mask of {name!r} must have shape {w.shape}, got {arr.shape}")
        if arr.dtype != bool and not (arr.dtype.kind in REAL_KINDS
                                      and np.all(np.isin(arr, (0, 1)))):
            raise InputError(f"the mask of {name!r} must hold booleans or 0/1")
        out.append(arr.astype(bool))
    return out


def canonical_masks(mlp: MLP, masks: Sequence[Any] | None = None) -> tuple[np.ndarray, ...]:
    """The kept, nonzero weights (one bool array per layer, shaped like its weights) left
    after removing dead hidden units until none is left.

    A hidden unit is dead when it has no kept outgoing weight, or no kept incoming weight and
    no positive bias (it then outputs relu(b) = 0); its weights are removed, which may kill
    units next to it. Removing dead units never changes what the net computes. masks: None
    (keep every weight) or one bool (or 0/1) array per layer.
    """
    keep = [m & (w != 0.0) for m, w in zip(_masks(mlp, masks), mlp.weights, strict=True)]
    changed = True
    while changed:
        changed = False
        for layer in range(1, mlp.depth):
            bias = mlp.biases[layer - 1]
            constant = np.zeros(keep[layer - 1].shape[0], bool) if bias is None else bias > 0.0
            dead = ~((keep[layer - 1].any(axis=1) | constant) & keep[layer].any(axis=0))
            if keep[layer - 1][dead].any() or keep[layer][:, dead].any():
                keep[layer - 1][dead] = False
                keep[layer][:, dead] = False
                changed = True
    for arr in keep:
        arr.setflags(write=False)
    return tuple(keep)


def to_graph(mlp: MLP, masks: Sequence[Any] | None = None) -> nx.DiGraph:
    """The canonical pruned network (`canonical_masks`) as a `networkx.DiGraph`.

    Nodes (l, i): unit i of layer l (0 = inputs, depth = outputs), with attributes "layer",
    "index", "role" ("input" | "hidden" | "output") and "bias" (None without one). Every input
    and output unit is a node; a hidden unit is a node while it is alive. Edges (l, j) ->
    (l + 1, i) carry "weight" W_l[i, j] for each kept nonzero weight. Graph attributes: depth,
    widths, kept_units (per layer, the units on at least one edge), kept_edges (per layer)
    and kept_weights (their total).
    """
    import networkx as nx

    keep = canonical_masks(mlp, masks)
    has_out = [k.any(axis=0) for k in keep] + [np.zeros(mlp.widths[-1], bool)]
    has_in = [np.zeros(mlp.widths[0], bool)] + [k.any(axis=1) for k in keep]
    touched = [i | o for i, o in zip(has_in, has_out, strict=True)]
    edges = tuple(int(k.sum()) for k in keep)
    g = nx.DiGraph(depth=mlp.depth, widths=mlp.widths,
                   kept_units=tuple(int(t.sum()) for t in touched), kept_edges=edges,
                   kept_weights=sum(edges))
    for layer, width in enumerate(mlp.widths):
        role = "input" if layer == 0 else "output" if layer == mlp.depth else "hidden"
        bias = None if layer == 0 else mlp.biases[layer - 1]
        units = range(width) if role != "hidden" else np.flatnonzero(touched[layer]).tolist()
        g.add_nodes_from(((layer, i), {"layer": layer, "index": i, "role": role,
                                       "bias": None if bias is None else float(bias[i])})
                         for i in units)
    for layer, (k, w) in enumerate(zip(keep, mlp.weights, strict=True)):
        rows, cols = np.nonzero(k)
        g.add_edges_from(((layer, j), (layer + 1, i), {"weight": float(w[i, j])})
                         for i, j in zip(rows.tolist(), cols.tolist(), strict=True))
    return g
