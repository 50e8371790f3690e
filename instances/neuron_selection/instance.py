"""Neuron selection: keep k of the N hidden units of a trained two-layer net (kind
"neuron_selection").

Data (float64, finite): `hidden` H (m, N), the activations relu(fc1(x)) of the trained hidden
layer on m samples; `output_weights` V (N, C), fc2.weight transposed; `output_bias` b (C,) or
None; `targets` T (m, C), one-hot labels or teacher outputs.

A mask is c (N,): without repeats a bool vector with exactly k ones (the kept units S); with
`repeats` a vector of non-negative integer counts summing to k (a multiset of units). JSON: a
list of N integers (0/1, or the counts).

Prediction (rule "average", the uniform average of Ye et al. 2020 scaled to the full width):
    P = (N/k) · H · (c[:, None] ∘ V) + b          (m, C)
rule "keep" (magnitude pruning's subnetwork: the kept units' trained weights as they are, the
cut units' contributions zeroed):
    P = H · (c[:, None] ∘ V) + b
(both linear in the mask, the "linear rules": P = s·H·(c ∘ V) + b with s = `selection_scale()`);
rule "refit": the output weights of the kept units (and the bias when b is not None) are
re-fitted to T by least squares (numpy.linalg.lstsq on [H[:, S], 1]), P the fitted outputs
(counts do not matter: only which units are kept). Refit minimises the squared error, so it
is only defined with loss "squared" (l1/linf refit is refused).

Loss of the residual R = P − T over all m·C entries: "squared" mean R², "l1" mean |R|,
"linf" max |R|. `evaluate` recomputes it from the mask alone (math.fsum for the sums);
`evaluation_tolerance()` bounds its distance from the exact real value for every mask under
the linear rules (for refit it is an estimate, see there).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any, ClassVar

import numpy as np

from exactprune.instances.errors import InputError
from exactprune.instances.header import FORMAT, VERSION, check_header
from exactprune.instances.io import check_generator
from exactprune.instances.limits import check_entries
from exactprune.instances.masks import (
    INTEGER_KINDS,
    REAL_KINDS,
    first_bad_entry,
    is_count,
    no_masked_entries,
)
from exactprune.instances.network import UNIT_ROUNDOFF, ReadOnlyArrays, float_array, gamma
from exactprune.instances.params import is_integer

LOSSES: tuple[str, ...] = ("squared", "l1", "linf")
"""Losses over the m·C residual entries: mean square, mean absolute, max absolute."""

RULES: tuple[str, ...] = ("average", "keep", "refit")
"""How the kept units are combined: scaled uniform average, kept as trained, or least-squares
refit."""

LINEAR_RULES: tuple[str, ...] = ("average", "keep")
"""The rules whose residual is linear in the mask (P = s·H·(c ∘ V) + b): the MILP engines,
CP-SAT, branch and bound and the vectorised searches take them."""

MAX_REFIT_CONDITION: float = 1e6
"""Refit: the largest 2-norm condition number of a least-squares design whose float64 loss is
taken to be within the (estimated) evaluation tolerance (a residual then errs by about
cond·u ≈ 1e-10 relative; at 1e16 lstsq dropped a direction and bruteforce certified 2/3 where
the optimum is 0): `bruteforce` certifies only when every design it enumerates lies below it,
and a result whose mask's design lies above it says so in a note (`evaluation_caveat`)."""

MAX_SCALE: float = 1e150
"""Instances whose residual bound N·max|H V| + |b| + |T| exceeds this are refused (R² would
overflow)."""

REFIT_REL_TOL: float = 1e-9
"""Refit: the stated evaluation tolerance is REFIT_REL_TOL · mean T² (the empty fit's loss, which
bounds every mask's) plus 8 · 2^-1074, an estimate. It was REFIT_REL_TOL · max(1, mean T²):
absolute below 1, so on targets of scale 1e-120 it stated 1e-9 on losses of 1e-240 (hunt 60
L2). A least-squares residual of a design with condition number κ errs by about κ·u·|T|, so
the loss by about 2κ·u·mean T² ≈ 2e-10 · mean T² at bruteforce's certifying limit κ <= 1e6."""


def loss_of_residuals(R: np.ndarray, loss: str) -> float:
    """The loss of a residual array (any shape), float64; sums by math.fsum."""
    flat = np.abs(np.asarray(R, dtype=np.float64)).ravel()
    if loss == "linf":
        return float(flat.max())
    if loss == "l1":
        return math.fsum(flat.tolist()) / flat.size
    return math.fsum((flat * flat).tolist()) / flat.size


def batch_losses(R: np.ndarray, loss: str) -> np.ndarray:
    """Losses of a batch of residuals R (B, ...), shape (B,), numpy sums (for search)."""
    flat = np.abs(R.reshape(R.shape[0], -1))
    if loss == "linf":
        return flat.max(axis=1)
    if loss == "l1":
        return flat.mean(axis=1)
    return (flat * flat).mean(axis=1)


def _power_of_two_copy(y: np.ndarray, x: np.ndarray, shift: int) -> bool:
    """Whether y = 2^shift·x exactly (checked both ways: a scaling that loses bits does not
    come back)."""
    return bool(np.array_equal(np.ldexp(x, shift), y) and np.array_equal(np.ldexp(y, -shift), x))


def _unit_exponent(x: float) -> int:
    """The e with x·2^e in [1/2, 1) (0 for x = 0 or not finite)."""
    return -math.frexp(x)[1] if x > 0 and math.isfinite(x) else 0


@dataclass(frozen=True, eq=False)
class NeuronSelectionInstance(ReadOnlyArrays):
    """Choose k of N trained hidden units (see the module docstring for every definition).

    hidden: (m, N); output_weights: (N, C); output_bias: (C,) or None; targets: (m, C);
    k: 1 <= k <= N; loss: one of LOSSES; rule: one of RULES; repeats: masks are counts;
    generator: how it was generated, or None.
    """

    hidden: np.ndarray
    output_weights: np.ndarray
    targets: np.ndarray
    k: int
    output_bias: np.ndarray | None = None
    loss: str = "squared"
    rule: str = "average"
    repeats: bool = False
    generator: dict[str, Any] | None = field(default=None)
    kind: ClassVar[str] = "neuron_selection"

    def __post_init__(self) -> None:
        object.__setattr__(self, "hidden", float_array(self.hidden, "hidden", 2))
        object.__setattr__(self, "output_weights",
                           float_array(self.output_weights, "output_weights", 2))
        object.__setattr__(self, "targets", float_array(self.targets, "targets", 2))
        if self.output_bias is not None:
            object.__setattr__(self, "output_bias",
                               float_array(self.output_bias, "output_bias", 1))
        self.validate()

    # -- shape ---------------------------------------------------------------------------
    @property
    def n(self) -> int:
        """N, the number of hidden units to choose from."""
        return int(self.hidden.shape[1])

    @property
    def m(self) -> int:
        """Number of samples."""
        return int(self.hidden.shape[0])

    @property
    def outputs(self) -> int:
        """C, the number of outputs."""
        return int(self.output_weights.shape[1])

    @property
    def mask_shape(self) -> tuple[int, ...]:
        return (self.n,)

    @property
    def mask_size(self) -> int:
        return self.n

    def validate(self) -> None:
        """InputError unless shapes match, 1 <= k <= N, loss/rule known, refit only with squared,
        and no float64 overflow is possible."""
        m, n = self.hidden.shape
        if self.output_weights.shape[0] != n:
            raise InputError(f"output_weights must have shape (N, C) with N = {n} (the columns "
                             f"of hidden), got {self.output_weights.shape}")
        c = self.output_weights.shape[1]
        if self.targets.shape != (m, c):
            raise InputError(f"targets must have shape (m, C) = ({m}, {c}), got "
                             f"{self.targets.shape}")
        if self.output_bias is not None and self.output_bias.shape != (c,):
            raise InputError(f"output_bias must have shape ({c},) or be null, got "
                             f"{self.output_bias.shape}")
        check_entries(m * n * c, f"{m} samples x {n} units x {c} outputs")
        if not is_integer(self.k):
            raise InputError(f"k must be an integer, got {self.k!r}")
        object.__setattr__(self, "k", int(self.k))
        if not 1 <= self.k <= n:
            raise InputError(f"k must be in 1..N = 1..{n}, got {self.k}")
        if not isinstance(self.loss, str) or self.loss not in LOSSES:
            raise InputError(f"unknown loss {self.loss!r} (known: {', '.join(LOSSES)})")
        if not isinstance(self.rule, str) or self.rule not in RULES:
            raise InputError(f"unknown rule {self.rule!r} (known: {', '.join(RULES)})")
        if not isinstance(self.repeats, bool):
            raise InputError(f"repeats must be true or false, got {self.repeats!r}")
        if self.rule == "refit" and self.loss != "squared":
            raise InputError(f"rule refit re-fits by least squares and needs loss squared "
                             f"(got {self.loss})")
        bound = float(self.residual_bound().max())
        if not math.isfinite(bound) or bound > MAX_SCALE:
            reach = f"{bound:.3g}" if math.isfinite(bound) else "beyond float64"
            raise InputError(f"data too large: residuals could reach {reach} (> "
                             f"{MAX_SCALE:g}), float64 squares would overflow")
        check_generator(self.generator)

    # -- masks ---------------------------------------------------------------------------
    def check_mask(self, mask: Any) -> np.ndarray:
        """`mask` as bool (N,) with exactly k ones, or (repeats) int64 counts >= 0 summing to k."""
        if isinstance(mask, dict):
            raise InputError("a neuron_selection mask must be an array of N entries")
        no_masked_entries(mask, "a neuron_selection mask")
        try:
            arr = np.asarray(mask)
        except (ValueError, TypeError):
            raise InputError("a neuron_selection mask must be a list of integers") from None
        if arr.shape != (self.n,):
            raise InputError(f"neuron_selection mask must have shape ({self.n},), got {arr.shape}")
        if arr.dtype != bool and (arr.dtype.kind not in REAL_KINDS  # complex, timedelta64
                                  or not (np.all(np.isfinite(arr))
                                          and np.all(arr == np.round(arr)))):
            raise InputError("neuron_selection mask entries must be integers, got "
                             f"{first_bad_entry(mask, is_count)}")
        if np.any(arr < 0):
            raise InputError("neuron_selection mask entries must be >= 0, got "
                             f"{first_bad_entry(mask, is_count)}")
        # each count is at most k before any sum: counts summing past 2^63 wrapped around to
        # k in int64 and were accepted (hunt 31); the float cast of 1e19 warned
        if np.any(arr > self.k):
            raise InputError(f"a neuron_selection mask must select exactly k = {self.k} units, "
                             f"got an entry above k")
        counts = arr.astype(np.int64)
        if not self.repeats and np.any(counts > 1):
            raise InputError("neuron_selection mask entries must be 0 or 1 (repeats is false), "
                             f"got {int(counts[counts > 1][0])}")
        if int(counts.sum()) != self.k:
            raise InputError(f"a neuron_selection mask must select exactly k = {self.k} units, "
                             f"got {int(counts.sum())}")
        return counts if self.repeats else counts.astype(bool)

    def full_mask(self) -> np.ndarray:
        """The largest valid mask (every kind has one): the first k units, count 1 each."""
        counts = np.zeros(self.n, dtype=np.int64)
        counts[: self.k] = 1
        return counts if self.repeats else counts.astype(bool)

    def mask_of_units(self, units: Any) -> np.ndarray:
        """The mask of a list of k unit indices (a unit listed twice counts twice)."""
        try:
            idx = np.asarray(units)
            ok = idx.ndim == 1 and (idx.size == 0 or idx.dtype.kind in INTEGER_KINDS)
        except (ValueError, TypeError):
            ok = False
        if not ok or (idx.size and (idx.min() < 0 or idx.max() >= self.n)):
            raise InputError(f"units must be a list of unit indices in 0..{self.n - 1}, "
                             f"got {units!r:.80}")
        return self.check_mask(np.bincount(idx.astype(np.int64), minlength=self.n))

    def kept(self, mask: Any) -> int:
        """Distinct units kept (k without repeats)."""
        return int(np.count_nonzero(self.check_mask(mask)))

    def mask_to_json(self, mask: Any) -> list[int]:
        """A list of N integers: 0/1, or the counts with repeats."""
        return [int(x) for x in self.check_mask(mask)]

    def mask_from_json(self, raw: Any) -> np.ndarray:
        """Read a list of N integers (0/1, or counts with repeats)."""
        if not isinstance(raw, list) or any(isinstance(x, bool) or not isinstance(x, int | float)
                                            for x in raw):
            raise InputError("a neuron_selection mask must be a list of N integers")
        return self.check_mask(raw)

    # -- evaluation ----------------------------------------------------------------------
    @property
    def linear_rule(self) -> bool:
        """True under a rule whose residual is linear in the mask (LINEAR_RULES)."""
        return self.rule in LINEAR_RULES

    def selection_scale(self, size: int | None = None) -> float:
        """s, the factor on the summed contributions H·(c ∘ V) of a selection of `size` units
        (k when None; greedy's partial selections pass theirs): N/size under the average rule,
        1 under keep. Refit fits its own weights; it gets the average rule's N/size, which
        searches under refit (edge-popup's gradient) use as a surrogate."""
        if self.rule == "keep":
            return 1.0
        return self.n / (self.k if size is None else size)

    def counts(self, mask: Any) -> np.ndarray:
        """The mask as float64 counts (N,)."""
        return self.check_mask(mask).astype(np.float64)

    def bias(self) -> np.ndarray:
        """b, or zeros (C,)."""
        return np.zeros(self.outputs) if self.output_bias is None else self.output_bias

    def predictions(self, mask: Any) -> np.ndarray:
        """P (m, C) of the mask under the instance's rule."""
        c = self.counts(mask)
        if self.rule == "refit":
            return self.refit(mask)[2]
        with np.errstate(over="ignore", invalid="ignore"):
            P = self.selection_scale() * (self.hidden @ (c[:, None] * self.output_weights))
        if not np.all(np.isfinite(P)):
            # a count times an output weight near 1e308 overflowed before the (small) hidden
            # value brought it back: inf or NaN on valid data (hunt 34); the products first
            A = self.columns()
            P = (A @ c.astype(np.float64)).reshape(self.m, self.outputs)
        return P + self.bias()

    def refit(self, mask: Any) -> tuple[np.ndarray, np.ndarray | None, np.ndarray]:
        """Least-squares refit on the kept units: (weights (|S|, C), bias (C,) or None,
        predictions (m, C)). The bias is refitted only when output_bias is not None. Weights
        beyond float64's range (activations ~1e-300 under targets ~1e100) come back as ±inf or
        0; the predictions, computed on the scaled fit, are right all the same."""
        return self.refit_units(np.flatnonzero(self.check_mask(mask)))

    def refit_units(self, units: Any) -> tuple[np.ndarray, np.ndarray | None, np.ndarray]:
        """`refit` on the units `units` (indices; any number of them: greedy's partial
        selections)."""
        X, col_exp, _ = self._scaled_design(units)
        t_exp = _unit_exponent(np.abs(self.targets).max(initial=0.0))
        # on the design's columns and T brought to unit size by powers of two (exact): weights
        # of ~T/H that underflow to subnormals (H ~1e200, T ~1e-118) or overflow (H ~1e-300)
        # lost the fit, and bruteforce certified a loss 3.8x the optimum, or skipped NaNs
        # (hunt 130 H1, H2); P comes from the scaled fit, the weights are scaled back
        coef = np.linalg.lstsq(X, np.ldexp(self.targets, t_exp), rcond=None)[0]
        P = np.ldexp(X @ coef, -t_exp)
        with np.errstate(over="ignore", under="ignore"):
            coef = np.ldexp(coef, col_exp[:, None] - t_exp)
        if self.output_bias is not None:
            return coef[:-1], coef[-1], P
        return coef, None, P

    def _design(self, units: Any) -> np.ndarray:
        """The refit's least-squares design on `units` (indices): those hidden columns, and a
        column of ones when the bias is refitted."""
        X = self.hidden[:, np.asarray(units, dtype=np.int64)]
        if self.output_bias is not None:
            X = np.hstack([X, np.ones((self.m, 1))])
        return X

    def _scaled_design(self, units: Any) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """The refit's design on `units` (indices) with each column scaled by a power of two to
        max |x| in [1/2, 1), those exponents (a zero column keeps 0), and per column whether
        its scaling was exact: scaled down, an entry about 2^1022 or more below its column's
        largest becomes subnormal and may lose bits, each at most 2^-1075 (2^-1000 beside
        2^1000 became 0, two columns became copies, and a wrong refit optimum was certified;
        hunt 131 H1)."""
        X = self._design(units)
        exps = np.array([_unit_exponent(v) for v in np.abs(X).max(axis=0, initial=0.0)],
                        dtype=np.int64)
        scaled = np.ldexp(X, exps[None, :])
        exact = (exps >= 0) | np.all(np.ldexp(scaled, -exps[None, :]) == X, axis=0)
        return scaled, exps, exact

    def refit_condition(self, mask: Any) -> float:
        """The 2-norm condition number of the refit's least-squares design on `mask` (the kept
        hidden columns, and a column of ones when the bias is refitted), measured on the design
        `refit` solves (columns scaled to unit size); inf when singular. Columns that are
        exactly redundant (all zero: a dead unit; a copy of another up to sign and a power of
        two) change no least-squares residual and are left out; copies are told on the design
        as given (hunt 131 H1: two columns that became copies only by the bits their scaling
        lost had been merged, at condition 1; hunt 136 L2: copies that each lost a bit were
        not merged, and never certified). A column whose scaling lost bits (entries ~2^1022
        below its largest) moves by at most 2^-1075 per entry: that changes nothing unless the
        smallest singular value lies near it, and then the condition is inf (hunt 135 M1: one
        lost bit had made every such design inf)."""
        units = np.flatnonzero(self.check_mask(mask))
        X, exps, exact = self._scaled_design(units)  # as `refit` solves it
        live = np.any(X != 0, axis=0)
        raw, X, exps, exact = self._design(units)[:, live], X[:, live], exps[live], exact[live]
        if X.shape[1] == 0:
            return 1.0
        sign = np.sign(X[np.argmax(X != 0, axis=0), np.arange(X.shape[1])])
        _, first, group = np.unique(X * sign, axis=1, return_index=True, return_inverse=True)
        keep = np.ones(X.shape[1], dtype=bool)
        for j, g in enumerate(np.ravel(group)):
            i = first[g]  # the first column scaled to the same values, up to sign
            if j != i and (exact[i] and exact[j] or _power_of_two_copy(
                    raw[:, j] * sign[j], raw[:, i] * sign[i], int(exps[i] - exps[j]))):
                keep[j] = False
        X, exact = X[:, keep], exact[keep]
        s = np.linalg.svd(X, compute_uv=False)
        if not s[-1] > (0.0 if exact.all() else math.sqrt(X.size) * 2.0**-1000):
            return math.inf
        return float(s[0] / s[-1])

    def evaluation_caveat(self, mask: Any) -> str | None:
        """Why `evaluate(mask)` may be off by more than `evaluation_tolerance()`, or None: under
        refit, a least-squares design of condition above MAX_REFIT_CONDITION (a rounded outer
        product reported 1.24 for an exact 1.11; hunt 131 H2). Results and `certify` say it."""
        if self.rule != "refit":
            return None
        cond = self.refit_condition(mask)
        if cond <= MAX_REFIT_CONDITION:
            return None
        return (f"the refit of this mask's units has condition number {cond:.3g} (above "
                f"{MAX_REFIT_CONDITION:g}): its float64 loss may be off by more than the "
                "evaluation tolerance")

    def residuals(self, mask: Any) -> np.ndarray:
        """R = P − T, (m, C)."""
        return self.predictions(mask) - self.targets

    def evaluate(self, mask: Any) -> float:
        """The loss of `mask` (float64, from the mask alone)."""
        return loss_of_residuals(self.residuals(mask), self.loss)

    def columns(self) -> np.ndarray:
        """A (m·C, N): column i is vec(H[:, i] V[i]) times `selection_scale()` (N/k under the
        average rule, 1 under keep), so P = A c + vec(b) (row p = j·C + c_out) under the
        linear rules; under refit, the average rule's (a surrogate for searches)."""
        A = self.selection_scale() * (self.hidden[:, :, None] * self.output_weights[None, :, :])
        return A.transpose(0, 2, 1).reshape(self.m * self.outputs, self.n)

    def offset(self) -> np.ndarray:
        """f = vec(T − b), (m·C,): the residual is A c − f."""
        return (self.targets - self.bias()).reshape(-1)

    def errors(self, masks: Any, columns: np.ndarray | None = None) -> np.ndarray:
        """Losses of a batch of masks (B, N), (B,), vectorised for search (numpy sums: each
        within the evaluation tolerance plus (mC+2)·u·loss of `evaluate`); refit loops.
        `columns`: `self.columns()` when the caller already holds it (linear rules). Search
        loops that score a few masks at a time pass it: building it costs more than scoring
        one mask (0.08 s against 0.006 s at m = 3000, N = 1000, C = 2)."""
        try:
            raw = np.asarray(masks)
        except (ValueError, TypeError):
            raw = np.asarray(None)
        if raw.dtype != bool and raw.dtype.kind not in REAL_KINDS:
            raise InputError("neuron_selection masks must be a rectangular array of counts")
        M = raw.astype(np.float64)
        if M.ndim != 2 or M.shape[1] != self.n:
            raise InputError(f"masks must have shape (B, {self.n}), got {M.shape}")
        top = np.inf if self.repeats else 1.0  # partial selections (search) are allowed
        if not np.all((M >= 0) & (M <= top) & (M == np.round(M))):
            raise InputError("neuron_selection mask entries must be integer counts >= 0"
                             + ("" if self.repeats else " and <= 1 (repeats is false)"))
        if M.shape[0] == 0:  # an empty batch, as the other kinds give it
            return np.zeros(0)
        if self.rule == "refit":
            return np.array([self.evaluate(row) for row in M])
        A = self.columns() if columns is None else columns
        R = (M @ A.T) - self.offset()
        return batch_losses(R, self.loss)

    def residual_bound(self) -> np.ndarray:
        """M (m, C): |R| <= M for every mask (linear rules: s·k <= N counts of at most
        max_i |H_ji V_ic| each): N·max_i |H_ji V_ic| + |b| + |T|."""
        with np.errstate(over="ignore"):  # inf: refused by `validate` in one line
            prod = np.abs(self.hidden)[:, :, None] * np.abs(self.output_weights)[None, :, :]
            return self.n * prod.max(axis=1) + np.abs(self.bias()) + np.abs(self.targets)

    def evaluation_tolerance(self) -> float:
        """An upper bound on |evaluate(mask) − exact loss| for every mask (linear rules).

        Each residual is a dot product of at most N products, scaled by s (N/k or 1), plus b
        minus T: error e <= γ_{N+5}·M with M the residual bound, plus the underflow of its
        products: N·(s + 1) + 4 of them can each lose 2^-1075 (a flat 1e-300 made certificates on
        data of scale 1e-300 prove nothing; hunt 36). linf: max e; l1: max e plus 2u of the
        correctly rounded mean; squared: e·(2M + e) + 3u·(M + e)². Result 1.01·that plus
        8·2^-1074 for the mean's and the squares' own underflow.
        Refit: REFIT_REL_TOL·mean T² + 8·2^-1074, an estimate (the least-squares solve is not
        bounded here); relative, as the losses scale with T².
        """
        if self.rule == "refit":
            mean_t2 = math.fsum((self.targets.ravel() ** 2).tolist()) / self.targets.size
            return REFIT_REL_TOL * mean_t2 + 8 * 2.0**-1074
        u = UNIT_ROUNDOFF
        M = float(self.residual_bound().max())
        e = gamma(self.n + 5) * M + (self.n * (self.selection_scale() + 1) + 4) * 2.0**-1074
        if self.loss == "linf":
            tol = e
        elif self.loss == "l1":
            tol = e + 2 * u * (M + e)
        else:
            tol = e * (2 * M + e) + 3 * u * (M + e) ** 2
        return 1.01 * tol + 8 * 2.0**-1074

    # -- JSON ----------------------------------------------------------------------------
    def to_json(self) -> dict[str, Any]:
        """The instance as a JSON-ready dict (format exactprune.instance, version 1)."""
        data: dict[str, Any] = {
            "format": FORMAT, "version": VERSION, "kind": self.kind,
            "hidden": self.hidden.tolist(),
            "output_weights": self.output_weights.tolist(),
            "output_bias": None if self.output_bias is None else self.output_bias.tolist(),
            "targets": self.targets.tolist(),
            "k": self.k, "loss": self.loss, "rule": self.rule, "repeats": self.repeats,
        }
        if self.generator is not None:
            data["generator"] = self.generator
        return data

    @classmethod
    def from_json(cls, data: Any) -> NeuronSelectionInstance:
        """Build from the JSON dict; required: hidden, output_weights, targets, k, loss;
        optional: output_bias (null), rule ("average"), repeats (false), generator."""
        check_header(data, cls.kind)
        for key in ("hidden", "output_weights", "targets", "k", "loss"):
            if key not in data:
                raise InputError(f"neuron_selection instance is missing the field {key!r}")
        bias = data.get("output_bias")
        return cls(
            hidden=float_array(data["hidden"], "hidden", 2),
            output_weights=float_array(data["output_weights"], "output_weights", 2),
            targets=float_array(data["targets"], "targets", 2),
            k=data["k"],
            output_bias=None if bias is None else float_array(bias, "output_bias", 1),
            loss=data["loss"], rule=data.get("rule", "average"),
            repeats=data.get("repeats", False), generator=data.get("generator"),
        )
