"""Bias-free two-layer ReLU networks: g(x) = act_out( Σ_i v_i · relu(w_i · x) ).

`TwoLayerNet` holds the first-layer weights W (shape (n, d): row i is w_i, the input weights
of hidden unit i), the output weights v (shape (n,)) and the output activation
("identity" or "relu"). There are no biases anywhere. A target "single neuron" relu(w*·x)
is the net with one hidden unit, W = [w*], v = [1], act_out = identity
(`TwoLayerNet.single_neuron`).

All arrays are float64, finite and read-only; a bad shape, a NaN or an unknown activation
raises `InputError` with one clear message.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from exactprune.instances.errors import InputError
from exactprune.instances.masks import INTEGER_KINDS, REAL_KINDS, no_masked_entries
from exactprune.instances.params import is_integer

ACTIVATIONS: tuple[str, ...] = ("identity", "relu")
"""Allowed output activations."""

UNIT_ROUNDOFF: float = 2.0**-53
"""u, the unit roundoff of float64 (round to nearest)."""


def gamma(m: int) -> float:
    """Higham's γ_m = m·u / (1 − m·u): a float64 sum of m products errs by <= γ_m·Σ|terms|."""
    mu = m * UNIT_ROUNDOFF
    if mu >= 0.5:
        raise InputError(f"too many terms ({m}) for a float64 rounding bound")
    return mu / (1.0 - mu)


def check_exact_ints(items: Any, name: str) -> None:
    """InputError for an integer among `items` that float64 cannot hold exactly (beyond 2^53
    and not a multiple of its spacing there): it would be rounded silently, and every number
    after that, certified optima included, would be about other data than the file's."""
    for x in items:
        if is_integer(x) and abs(int(x)) > 2**53:
            try:
                exact = int(float(x)) == int(x)
            except OverflowError:
                raise InputError(f"{name} contains a number beyond the float64 range") from None
            if not exact:
                digits = str(int(x))
                shown = digits if len(digits) <= 24 else f"{digits[:20]}... ({len(digits)} digits)"
                raise InputError(f"{name}: the integer {shown} has no exact float64 value "
                                 "(write it as a float if the rounding is meant)")


def check_exact_floats(arr: np.ndarray, name: str) -> None:
    """InputError for a float wider than float64 (numpy's long double) that float64 cannot hold
    exactly: it would be rounded silently, and every number after that, certified optima
    included, would be about other data than the caller's ([1/3, 2/3] as long doubles were
    certified `optimal` at 5.6e-17 where the data given have 2.7e-20; hunt 114 L1). Scalars get
    the same rule from `params.as_number`."""
    if not np.issubdtype(arr.dtype, np.floating) or arr.dtype.itemsize <= 8:
        return
    with np.errstate(over="ignore"):
        down = arr.astype(np.float64)
    bad = np.isfinite(arr) & (down.astype(arr.dtype) != arr)
    if bad.any():
        x = arr[bad].ravel()[0]
        if not np.isfinite(down[bad].ravel()[0]):
            raise InputError(f"{name} contains a number beyond the float64 range ({x!r})")
        raise InputError(f"{name}: {x!r} has no exact float64 value (convert it to float64 "
                         "first if the rounding is meant)")


def int_entries(arr: np.ndarray) -> list[int]:
    """The entries of an integer array from 2^53 on in magnitude (the ones to check: 2^53 + 1
    rounds to the float 2^53, so a strict > on the rounded values missed it)."""
    if arr.dtype.kind not in INTEGER_KINDS:
        return []
    return [int(v) for v in arr[np.abs(arr.astype(np.float64)) >= 2.0**53].ravel()]


def float_array(raw: Any, name: str, ndim: int) -> np.ndarray:
    """`raw` as a finite, read-only float64 array with `ndim` dimensions, or InputError.

    Accepts numpy arrays and (nested) lists/tuples of real numbers; rejects booleans,
    strings, ragged lists, complex numbers, NaN and infinities.
    """
    no_masked_entries(raw, name)
    if isinstance(raw, np.ndarray):
        arr = raw
    else:
        if not isinstance(raw, list | tuple):
            raise InputError(f"{name} must be a (nested) list of numbers, got {type(raw).__name__}")
        try:
            arr = np.asarray(raw)
        except (ValueError, TypeError):
            raise InputError(f"{name} must be a rectangular (nested) list of numbers") from None
        rows = raw if ndim == 1 else [r for r in raw if isinstance(r, list | tuple)]
        flat = rows if ndim == 1 else [x for r in rows for x in r]
        if any(isinstance(x, bool) for x in flat):
            raise InputError(f"{name} must contain only real numbers, found a boolean")
        check_exact_ints(flat, name)
        if arr.dtype == object and all(isinstance(x, int | float) for x in flat):
            # ints beyond int64 (2^70) made numpy's array of objects: "dtype object" (hunt 31)
            try:
                arr = np.array(raw, dtype=np.float64)
            except (ValueError, TypeError):
                raise InputError(f"{name} must be a rectangular (nested) list of "
                                 "numbers") from None
    if arr.dtype.kind not in REAL_KINDS:  # not bool, complex, timedelta64 (hunt 144 L1)
        raise InputError(f"{name} must contain only real numbers (got dtype {arr.dtype})")
    if arr.size == 0:
        raise InputError(f"{name} must not be empty (got shape {arr.shape})")
    if arr.ndim != ndim:
        want = {1: "a list of numbers", 2: "a list of equal-length lists of numbers"}[ndim]
        raise InputError(f"{name} must be {want} (an array of {ndim} dimensions), "
                         f"got shape {arr.shape}")
    check_exact_ints(int_entries(arr), name)
    check_exact_floats(arr, name)
    try:
        arr = np.array(arr, dtype=np.float64)
    except (ValueError, TypeError):
        raise InputError(f"{name} must contain only real numbers") from None
    if not np.all(np.isfinite(arr)):
        raise InputError(f"{name} contains NaN or infinite values")
    return immutable_copy(arr)


class ReadOnlyArrays:
    """Mixin of the frozen instance and network dataclasses: a copy made by pickle or
    `copy` (a worker process's, say) holds read-only arrays too; numpy would hand it
    writable ones."""

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update({k: immutable_copy(v, v.dtype) if isinstance(v, np.ndarray)
                              else v for k, v in state.items()})


def immutable_copy(arr: Any, dtype: Any = np.float64) -> np.ndarray:
    """A copy of `arr` (float64 unless `dtype` says otherwise) over an immutable buffer:
    read-only for good, since numpy refuses ``setflags(write=True)`` on it (an instance caches
    what it derives from its arrays, such as the exact scaling of its values: hunt 66 L4).
    An array of Python objects has no buffer: it is only flagged read-only."""
    arr = np.ascontiguousarray(arr, dtype=dtype)
    if arr.dtype.hasobject:
        arr.setflags(write=False)
        return arr
    return np.frombuffer(arr.tobytes(), dtype=arr.dtype).reshape(arr.shape)


def unit_rows(W: np.ndarray, v: np.ndarray, points: np.ndarray | None = None
              ) -> tuple[np.ndarray, np.ndarray] | None:
    """The same two-layer net with each row of W (n, d) scaled by a power of two into
    max |w_ij| in [0.5, 1) and its output weight v_i by the inverse: relu being positively
    homogeneous, every output is the same bit for bit, but a solver's rows and bounds sit at
    unit scale. With `points` (K, d),
    a row whose largest product |w_ij x_kj| over the points is then still far from 1 (beyond
    2^±4) is scaled by that product's power of two instead: the big-M rows hold the products,
    and on points of 2^-47 they sat below the engines' tolerances, which certified wrong optima
    (hunt 97 H1). Per row the first exact scaling of: by the products, by the weights, none
    (only for a row near unit size, max |w_ij| in [2^-5, 2^4): a single subnormal weight beside
    a 4 made the whole net unscalable, hunt 36, and one beside far points, hunt 99 M1); None
    when a row has no exact one (a result outside float64, or bits lost to subnormals).
    Not bit for bit where a product over- or underflows after the scaling (a row whose
    products span more than float64's range, 2^600 beside 2^-600, or tiny points under the
    weights' fallback): those outputs differ by ~2^-1074 of the output scale, inside every
    engine's evaluation tolerance (hunt 101 L2)."""
    if W.shape[0] == 0:
        return W, v
    peak = np.abs(W).max(axis=1) if W.size else np.zeros(W.shape[0])
    by_weights = np.where(peak > 0, np.frexp(np.where(peak > 0, peak, 1.0))[1], 0).astype(
        np.int64)
    # per row, the first exact one of: the points' scaling, the weights', none (near unit only)
    candidates = [by_weights, np.where(np.abs(by_weights) <= 4, 0, by_weights)]
    if points is not None and W.size and points.size:
        candidates.insert(0, by_weights + _product_exponents(W, points, by_weights))
    e = candidates[0]
    done = np.zeros(W.shape[0], dtype=bool)
    for cand in candidates:
        with np.errstate(over="ignore", under="ignore"):
            Ws, vs = np.ldexp(W, -cand[:, None]), np.ldexp(v, cand)
            row_ok = (np.all(np.isfinite(Ws), axis=1) & np.isfinite(vs)
                      & np.all(np.ldexp(Ws, cand[:, None]) == W, axis=1)
                      & (np.ldexp(vs, -cand) == v))
        e = np.where(done, e, cand)
        done |= row_ok
        if np.all(done):
            return np.ldexp(W, -e[:, None]), np.ldexp(v, e)
    return None


def _product_exponents(W: np.ndarray, points: np.ndarray, e: np.ndarray) -> np.ndarray:
    """Per row i, the power of two of max_jk |w_ij x_kj| · 2^-e_i (exponents added, so no
    product under- or overflows), where that lies beyond 2^±4; else 0 (rows whose products
    are near unit keep their weight scaling bit for bit). In int64: frexp's int32 exponents
    beside an int64 sentinel wrapped it to 0, and a row with a zero weight was never scaled
    (hunt 99 H1)."""
    col = np.abs(points).max(axis=0)  # (d,)
    ew = np.frexp(np.abs(W))[1].astype(np.int64)  # (n, d); zeros are masked out below
    ec = np.frexp(col)[1].astype(np.int64)
    live = (W != 0) & (col > 0)[None, :]
    dead = np.int64(-(2**40))
    p = np.where(live, ew + ec[None, :], dead).max(axis=1) - e
    p = np.where(live.any(axis=1), p, 0)
    return np.where(np.abs(p) > 4, p, 0)


def relu(z: np.ndarray) -> np.ndarray:
    """Elementwise max(z, 0) (exact in floating point)."""
    return np.maximum(z, 0.0)


def net_outputs(W: np.ndarray, v: np.ndarray, act: str, X: np.ndarray) -> np.ndarray:
    """act(Σ_i v_i relu(w_i·x_k)) for each row x_k of X: W (n, d), v (n,), X (K, d) -> (K,).

    The forward pass of every bias-free two-layer net in exactprune (TwoLayerNet.forward, the
    pruning evaluator, the sup-error certificates)."""
    if W.shape[0] == 0:
        return np.zeros(X.shape[0])
    h = relu(X @ W.T) @ v
    return relu(h) if act == "relu" else h


@dataclass(frozen=True, eq=False)
class TwoLayerNet(ReadOnlyArrays):
    """g(x) = act_out( Σ_i v_i · relu(w_i · x) ), bias-free, x in R^d.

    hidden_weights: W, shape (n, d), n >= 1 hidden units, d >= 1 inputs;
    output_weights: v, shape (n,); output_activation: "identity" or "relu".
    Arrays are converted to read-only float64 and checked finite on construction.
    """

    hidden_weights: np.ndarray
    output_weights: np.ndarray
    output_activation: str = "identity"

    def __post_init__(self) -> None:
        object.__setattr__(
            self, "hidden_weights", float_array(self.hidden_weights, "hidden_weights", 2)
        )
        object.__setattr__(
            self, "output_weights", float_array(self.output_weights, "output_weights", 1)
        )
        self.validate()

    # -- shape -------------------------------------------------------------------------
    @property
    def n(self) -> int:
        """Number of hidden units."""
        return int(self.hidden_weights.shape[0])

    @property
    def d(self) -> int:
        """Input dimension."""
        return int(self.hidden_weights.shape[1])

    def validate(self) -> None:
        """Raise InputError unless shapes agree, n, d >= 1, values finite, activation known."""
        if not isinstance(self.output_activation, str) or (
            self.output_activation not in ACTIVATIONS
        ):
            raise InputError(
                f"unknown output_activation {self.output_activation!r} "
                f"(known: {', '.join(ACTIVATIONS)})"
            )
        n, d = self.hidden_weights.shape
        if n == 0:
            raise InputError("hidden_weights must have at least one hidden unit (row)")
        if d == 0:
            raise InputError("hidden_weights must have at least one input (column)")
        if self.output_weights.shape != (n,):
            raise InputError(
                f"output_weights must have one entry per hidden unit: expected shape ({n},), "
                f"got {self.output_weights.shape}"
            )
        if not (np.all(np.isfinite(self.hidden_weights))
                and np.all(np.isfinite(self.output_weights))):
            raise InputError("network weights must be finite")

    @classmethod
    def single_neuron(cls, w: Any) -> TwoLayerNet:
        """The target relu(w·x) as a net: one hidden unit, W = [w], v = [1], identity output."""
        vec = float_array(w, "target weights", 1)
        return cls(hidden_weights=vec[None, :], output_weights=np.ones(1),
                   output_activation="identity")

    # -- evaluation --------------------------------------------------------------------
    def _check_points(self, points: Any) -> np.ndarray:
        pts = float_array(points, "points", 2)
        if pts.shape[1] != self.d:
            raise InputError(f"points must have shape (K, {self.d}), got {pts.shape}")
        return pts

    def hidden_activations(self, points: Any) -> np.ndarray:
        """relu(X W^T): shape (K, n), entry (k, i) = relu(w_i · x_k). points: shape (K, d)."""
        pts = self._check_points(points)
        return relu(pts @ self.hidden_weights.T)

    def forward(self, points: Any) -> np.ndarray:
        """g(x_k) for every row x_k of `points` (shape (K, d)); returns shape (K,), float64."""
        return net_outputs(self.hidden_weights, self.output_weights, self.output_activation,
                           self._check_points(points))

    def masked(self, weight_mask: Any = None, unit_mask: Any = None) -> TwoLayerNet:
        """The pruned net: W ∘ weight_mask (n×d 0/1) and v ∘ unit_mask (n 0/1); None keeps all.

        Cut weights become exact zeros, so the pruned net computes exactly what the masked
        sum computes (a zero term adds nothing to a float64 sum).
        """
        w = self.hidden_weights
        v = self.output_weights
        if weight_mask is not None:
            m = np.asarray(weight_mask, dtype=bool)
            if m.shape != w.shape:
                raise InputError(f"weight mask must have shape {w.shape}, got {m.shape}")
            w = np.where(m, w, 0.0)
        if unit_mask is not None:
            u = np.asarray(unit_mask, dtype=bool)
            if u.shape != v.shape:
                raise InputError(f"unit mask must have shape {v.shape}, got {u.shape}")
            v = np.where(u, v, 0.0)
        return TwoLayerNet(w, v, self.output_activation)

    def abs_bound(self, points: Any) -> np.ndarray:
        """B_k = Σ_i |v_i| Σ_j |W_ij x_kj| for each point (shape (K,)).

        |g(x_k)| <= B_k for every pruning of this net, and B_k scales the float64 rounding
        error of `forward` (see `forward_error_bound`).
        """
        pts = self._check_points(points)
        # overflow shows as inf, which callers reject; an overflowed |w.x| times a zero output
        # weight is NaN ("invalid"; hunt 35), rejected as well
        with np.errstate(over="ignore", invalid="ignore"):
            bound = (np.abs(pts) @ np.abs(self.hidden_weights).T) @ np.abs(self.output_weights)
        return np.where(np.isnan(bound), np.inf, bound)

    def forward_error_bound(self, points: Any) -> np.ndarray:
        """Per-point bound on |forward(x_k) − g(x_k)| (float64 vs exact), valid for every pruning.

        A float64 dot product of m terms errs by at most γ_m·Σ|terms| in any summation order
        (FMA only helps); relu is exact and 1-Lipschitz. Pre-activations err by <= γ_d·A_ki,
        A_ki = Σ_j |W_ij x_kj|, and the output sum by <= (γ_n(1+γ_d) + γ_d)·Σ_i |v_i| A_ki
        <= γ_{n+d}·B_k. We return γ_{n+d+1}·B_k (one extra unit of slack for the bound's own
        rounding, inflated by a factor 1 + 2^-40) plus an underflow term. A product that
        underflows to a subnormal errs by up to 2^-1075 absolutely (sums of subnormals are
        exact): the d products of unit i's pre-activation are then multiplied by |v_i|, and the
        n products v_i·h_i add one each. That is at most (d·Σ|v_i| + n)·2^-1075; we add twice
        that plus 2^-1074 (for this bound's own underflow). With hidden weights of 1e-300 under
        output weights of 1e300 the flat 1e-300 this term replaces was 1e23 times too small and
        bruteforce certified a wrong mask (hunt 32); on data of scale 1e-302 it was 100 times
        the errors themselves (hunt 36).
        Pruning only removes terms, so it holds for every mask.
        """
        scale = gamma(self.n + self.d + 1) * (1.0 + 2.0**-40)
        # |v_i|·(d·2^-1074) term by term: Σ|v_i| alone may overflow where each term cannot
        tiny = self.d * 2.0**-1074
        underflow = math.fsum((np.abs(self.output_weights) * tiny).tolist()) * (1.0 + 2.0**-40)
        underflow += (self.n + 2) * 2.0**-1074
        return self.abs_bound(points) * scale + underflow

    # -- JSON --------------------------------------------------------------------------
    def to_json(self) -> dict[str, Any]:
        """{"hidden_weights": n×d list, "output_weights": n list, "output_activation": str}."""
        return {
            "hidden_weights": self.hidden_weights.tolist(),
            "output_weights": self.output_weights.tolist(),
            "output_activation": self.output_activation,
        }

    @classmethod
    def from_json(cls, data: Any, name: str = "network") -> TwoLayerNet:
        """Build from the dict written by `to_json`; InputError on anything malformed.

        output_activation defaults to "identity" when absent.
        """
        if not isinstance(data, dict):
            raise InputError(f"{name} must be a JSON object with hidden_weights, output_weights")
        for key in ("hidden_weights", "output_weights"):
            if key not in data:
                raise InputError(f"{name} is missing the field {key!r}")
        try:
            return cls(
                hidden_weights=float_array(data["hidden_weights"], f"{name}.hidden_weights", 2),
                output_weights=float_array(data["output_weights"], f"{name}.output_weights", 1),
                output_activation=data.get("output_activation", "identity"),
            )
        except InputError as exc:
            msg = str(exc)
            if not msg.startswith(name):
                msg = f"{name}: {msg}"
            raise InputError(msg) from None

