"""Neuron pruning and weight pruning of a bias-free two-layer ReLU net against a target.

Model: g(x) = act_out( Σ_i v_i · relu(w_i · x) ), W = network.hidden_weights (n, d),
v = network.output_weights (n,), act_out in {identity, relu}; the target f is a net of the
same form (a single neuron relu(w*·x) is one hidden unit with v = 1, identity output).

- `NeuronPruningInstance` (kind "neuron_pruning"): the mask m in {0,1}^n keeps hidden units;
  g_m(x) = act_out( Σ_i m_i v_i relu(w_i · x) ).
- `WeightPruningInstance` (kind "weight_pruning"): the mask M in {0,1}^(n×d) keeps
  first-layer weights; g_M(x) = act_out( Σ_i v_i relu((M_i ∘ w_i) · x) ).

Why weight pruning needs only the first-layer mask: there are no biases, so a unit whose input
weights are all cut computes relu(0) = 0, exactly what it contributes when its output weight
v_i is cut. Cutting v_i is therefore the same as cutting row i of the mask, and a mask over
the output weights would add nothing. For the same reason a neuron mask m is the weight mask
that keeps whole rows (`WeightPruningInstance.neuron_mask_to_weight_mask`), so every neuron
pruning is a weight pruning; with d = 1 each unit has a single input weight and the two kinds
coincide (same masks, same errors).

Error of a mask over the point set X (K points, shape (K, d)), r_k = g_mask(x_k) − f(x_k):
norm "linf": max_k |r_k|; "l1": mean_k |r_k|; "l2": sqrt(mean_k r_k²) (root mean square).
`evaluate` recomputes it in float64 from the mask alone; `evaluation_tolerance()` bounds its
distance from the exact real-number error for every mask.

`domain` says where the points come from ("sphere": unit sphere; "cube": [-1, 1]^d;
"gaussian": standard normal; None: user points). It matters for certified brackets (the
optimum over points of D is a lower bound on the best sup error over D), so points must lie
in the stated domain: exactly inside the cube, within 1e-12 of norm 1 for the sphere.
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
from exactprune.instances.masks import binary_mask, binary_masks
from exactprune.instances.network import UNIT_ROUNDOFF, ReadOnlyArrays, TwoLayerNet, float_array
from exactprune.instances.pruning.evaluate import batch_outputs, exact_norm, reduce_errors
from exactprune.instances.pruning.graph import MaskSummary, canonicalize
from exactprune.instances.scaling import norm_parts

NORMS: tuple[str, ...] = ("linf", "l1", "l2")
"""Error norms over the point set: max abs, mean abs, root mean square."""

DOMAINS: tuple[str, ...] = ("sphere", "cube", "gaussian")
"""Named point domains (None = user-given points)."""

MAX_SCALE: float = 1e300
"""Instances whose |g|+|f| bound Σ_i |v_i| Σ_j |W_ij x_j| exceeds this are rejected (overflow)."""


SPHERE_TOL: float = 1e-12
"""Points of a "sphere" instance must have | ||x||_2 − 1 | <= SPHERE_TOL."""


@dataclass(frozen=True, eq=False)
class _PruningInstance(ReadOnlyArrays):
    """Fields shared by both kinds (see the module docstring).

    network: the net to prune (n hidden units, d inputs); target: the net to approximate
    (same d); points: (K, d) float64, K >= 1; norm: "linf" | "l1" | "l2"; domain: "sphere" |
    "cube" | "gaussian" | None; generator: how it was generated (seed, parameters) or None.
    """

    network: TwoLayerNet
    target: TwoLayerNet
    points: np.ndarray
    norm: str = "linf"
    domain: str | None = None
    generator: dict[str, Any] | None = field(default=None)
    kind: ClassVar[str] = ""

    def __post_init__(self) -> None:
        for name in ("network", "target"):
            if not isinstance(getattr(self, name), TwoLayerNet):
                raise InputError(f"{name} must be a TwoLayerNet")
        object.__setattr__(self, "points", float_array(self.points, "points", 2))
        self.validate()

    # -- shape ---------------------------------------------------------------------------
    @property
    def n(self) -> int:
        """Number of hidden units of the network being pruned."""
        return self.network.n

    @property
    def d(self) -> int:
        """Input dimension."""
        return self.network.d

    @property
    def num_points(self) -> int:
        """K, the number of points."""
        return int(self.points.shape[0])

    @property
    def mask_shape(self) -> tuple[int, ...]:
        """(n,) for neuron pruning, (n, d) for weight pruning."""
        raise NotImplementedError

    @property
    def mask_size(self) -> int:
        """Number of binary decisions."""
        return math.prod(self.mask_shape)

    def validate(self) -> None:
        """Raise InputError unless the instance is well formed.

        Checks: network and target valid with the same d; points (K, d) with K >= 1, finite;
        no float64 overflow possible (bound <= MAX_SCALE); norm and domain known; points
        inside the stated domain; generator a dict or None.
        """
        self.network.validate()
        self.target.validate()
        if self.target.d != self.network.d:
            raise InputError(f"target has d = {self.target.d} inputs but the network has "
                             f"d = {self.network.d}")
        if self.points.ndim != 2 or self.points.shape[1] != self.network.d:
            raise InputError(f"points must have shape (K, {self.network.d}) to match the "
                             f"network, got {self.points.shape}")
        if self.points.shape[0] == 0:
            raise InputError("points must not be empty")
        check_entries(self.points.shape[0] * max(self.network.n, self.target.n, self.d),
                      f"{self.points.shape[0]} points with {self.network.n} units")
        if not np.all(np.isfinite(self.points)):
            raise InputError("points contains NaN or infinite values")
        if not isinstance(self.norm, str) or self.norm not in NORMS:
            raise InputError(f"unknown norm {self.norm!r} (known: {', '.join(NORMS)})")
        with np.errstate(over="ignore"):  # inf: refused below, in one line (hunt 35)
            scale = self.network.abs_bound(self.points) + self.target.abs_bound(self.points)
        # (l2 too: it squares residuals scaled to unit size, `evaluate.reduce_errors`; its
        # limit of 1e150 for the squares went with that, hunt 119 L2)
        if not np.all(np.isfinite(scale)) or float(scale.max()) > MAX_SCALE:
            raise InputError(f"weights and points are too large: sum_i |v_i| |w_i|.|x| exceeds "
                             f"{MAX_SCALE:g}, so float64 evaluation could overflow")
        if self.domain is not None and (
            not isinstance(self.domain, str) or self.domain not in DOMAINS
        ):
            raise InputError(f"unknown domain {self.domain!r} (known: {', '.join(DOMAINS)}, "
                             "or null for user points)")
        if self.domain == "cube" and np.any(np.abs(self.points) > 1.0):
            raise InputError("domain is 'cube' but some points lie outside [-1, 1]^d")
        if self.domain == "sphere":
            # scaled to unit size first: a coordinate of 1e200 overflowed the squares, with
            # numpy's warning before the error line and "off 1 by inf" (hunt 209 F1)
            mant, exp = norm_parts(self.points, axis=1)
            with np.errstate(over="ignore"):
                dev = np.abs(np.ldexp(mant, exp) - 1.0)
            if np.any(dev > SPHERE_TOL):
                off = float(dev.max())  # inf: a norm beyond float64 (hunt 212 L3)
                said = f"{off:.3g}" if math.isfinite(off) else \
                    f"more than {np.finfo(np.float64).max:.3g}"
                raise InputError(f"domain is 'sphere' but some points have norm off 1 by "
                                 f"{said} (> {SPHERE_TOL:g})")
        check_generator(self.generator)

    # -- masks ---------------------------------------------------------------------------
    def check_mask(self, mask: Any) -> np.ndarray:
        """Return `mask` as a bool array of `mask_shape` (0/1 ints accepted), or InputError."""
        return binary_mask(mask, self.mask_shape, self.kind)

    def full_mask(self) -> np.ndarray:
        """The mask keeping everything."""
        return np.ones(self.mask_shape, dtype=bool)

    def pruned_network(self, mask: Any) -> TwoLayerNet:
        """The network with the cut weights set to exact zeros."""
        raise NotImplementedError

    def canonical_mask(self, mask: Any) -> tuple[np.ndarray, MaskSummary]:
        """Canonical form of the mask (see instances.graph) and its MaskSummary."""
        return canonicalize(self.network, self.check_mask(mask), self.kind)

    def kept(self, mask: Any) -> int:
        """Kept units (neuron pruning) or kept first-layer weights (weight pruning), counted
        after canonicalisation: cut-off or zero weights and dead units are not counted."""
        raise NotImplementedError

    # -- evaluation ----------------------------------------------------------------------
    def predictions(self, mask: Any) -> np.ndarray:
        """g_mask(x_k) for every point: shape (K,), float64."""
        return self.pruned_network(mask).forward(self.points)

    def target_values(self) -> np.ndarray:
        """f(x_k) for every point: shape (K,), float64."""
        return self.target.forward(self.points)

    def residuals(self, mask: Any) -> np.ndarray:
        """g_mask(x_k) − f(x_k): shape (K,)."""
        return self.predictions(mask) - self.target_values()

    def error_of_residuals(self, r: np.ndarray) -> float:
        """The instance's norm of a residual vector (K,): max|r|, mean|r| or sqrt(mean r²).

        Sums use math.fsum (correctly rounded), so only the residuals carry rounding error.
        """
        return exact_norm(r, self.norm)

    def evaluate(self, mask: Any) -> float:
        """The error of `mask`: the norm of g_mask(points) − f(points), float64, from the mask
        alone (see `evaluation_tolerance` for how far it can be from the exact value)."""
        return self.error_of_residuals(self.residuals(mask))

    def errors(self, masks: Any) -> np.ndarray:
        """Errors of a batch of masks (B, *mask_shape), shape (B,), float64, vectorised: for
        search. Each is within `evaluation_tolerance()` plus K·u·error of `evaluate` (numpy
        sums instead of fsum); results report `evaluate`."""
        m = binary_masks(masks, tuple(self.mask_shape), self.kind)
        net = self.network
        g = batch_outputs(net.hidden_weights, net.output_weights, net.output_activation,
                          self.points, m, self.kind)
        return reduce_errors(np.abs(g - self.target_values()), self.norm, axis=1)

    def evaluation_tolerance(self) -> float:
        """An upper bound on |evaluate(mask) − exact error| valid for every mask.

        The exact error is the real-number norm of g_mask − f on the (float64) points. Per point,
        forward passes err by at most E_k (TwoLayerNet.forward_error_bound, for g and f) and
        the subtraction by u·(|r_k| + E_k) with |r_k| <= M_k = B_k(g) + B_k(f); each norm is
        1-Lipschitz in the max-norm of the residual perturbation, and the final fsum/division/
        square root add at most 4u relative. Result: 1.01·(max_k e_k + 4u·(max_k M_k +
        max_k e_k)) plus the norm's own underflow, with e_k = E_k(1+u) + u·M_k (E_k holds the
        products' underflow). The mean of l1 underflows by at most 2^-1075 and max is exact:
        4·2^-1074 covers both. l2 squares the residuals scaled to a largest entry in [0.5, 1)
        (`reduce_errors`): a square that underflows there moves the root by ~sqrt(K)·2^-1075
        relative, inside the 4u, and scaling the root back underflows by at most 2^-1075, so
        4·2^-1074 covers l2 too (unscaled squares lost everything below ~1e-162, and a floor of
        1e-150 let every mask of such data certify; hunt 112 M2). A flat 1e-150 for every norm
        made certificates on data of scale 1e-300 prove nothing (hunt 36).
        """
        u = UNIT_ROUNDOFF
        e_g = self.network.forward_error_bound(self.points)
        e_f = self.target.forward_error_bound(self.points)
        m = self.network.abs_bound(self.points) + self.target.abs_bound(self.points)
        e = (e_g + e_f) * (1 + u) + u * m
        emax = float(e.max())
        return 1.01 * (emax + 4 * u * (float(m.max()) + emax)) + 4 * 2.0**-1074

    # -- JSON ----------------------------------------------------------------------------
    def mask_to_json(self, mask: Any) -> Any:
        raise NotImplementedError

    def mask_from_json(self, raw: Any) -> np.ndarray:
        raise NotImplementedError

    def to_json(self) -> dict[str, Any]:
        """The instance as a JSON-ready dict (format exactprune.instance, version 1)."""
        data: dict[str, Any] = {
            "format": FORMAT,
            "version": VERSION,
            "kind": self.kind,
            "network": self.network.to_json(),
            "target": self.target.to_json(),
            "points": self.points.tolist(),
            "norm": self.norm,
        }
        if self.domain is not None:
            data["domain"] = self.domain
        if self.generator is not None:
            data["generator"] = self.generator
        return data

    @classmethod
    def from_json(cls, data: Any) -> Any:
        """Build an instance from its JSON dict; InputError on anything malformed.

        Required: network, target, points, norm. Optional: domain, generator. If "kind",
        "format" or "version" are present they must match this class.
        """
        check_header(data, cls.kind)
        for key in ("network", "target", "points", "norm"):
            if key not in data:
                raise InputError(f"{cls.kind} instance is missing the field {key!r}")
        return cls(
            network=TwoLayerNet.from_json(data["network"], "network"),
            target=TwoLayerNet.from_json(data["target"], "target"),
            points=float_array(data["points"], "points", 2),
            norm=data["norm"],
            domain=data.get("domain"),
            generator=data.get("generator"),
        )

    def _same_data(self, cls: type) -> Any:
        return cls(network=self.network, target=self.target, points=self.points,
                   norm=self.norm, domain=self.domain, generator=self.generator)


@dataclass(frozen=True, eq=False)
class NeuronPruningInstance(_PruningInstance):
    """Neuron pruning: keep a subset of the n hidden units (mask shape (n,), bool).

    Error: norm over the points of act_out(Σ_i m_i v_i relu(w_i·x)) − f(x). See the module
    docstring for why this is the special case of weight pruning that keeps whole rows.
    """

    kind: ClassVar[str] = "neuron_pruning"

    @property
    def mask_shape(self) -> tuple[int, ...]:
        return (self.n,)

    def weight_mask(self, mask: Any) -> np.ndarray:
        """The (n, d) weight mask keeping every input weight of each kept unit."""
        m = self.check_mask(mask)
        return np.repeat(m[:, None], self.d, axis=1)

    def pruned_network(self, mask: Any) -> TwoLayerNet:
        """The network with cut units' input weights set to zero (same computation as the
        weight-pruning mask `weight_mask(mask)`, so both kinds give bit-identical errors)."""
        return self.network.masked(weight_mask=self.weight_mask(mask))

    def kept(self, mask: Any) -> int:
        """Number of kept units that contribute (v_i != 0 and some w_ij != 0)."""
        return self.canonical_mask(mask)[1].kept_units

    def mask_to_json(self, mask: Any) -> list[int]:
        """A list of n 0/1 integers."""
        return [int(b) for b in self.check_mask(mask)]

    def mask_from_json(self, raw: Any) -> np.ndarray:
        """Read a list of n 0/1 integers."""
        if not isinstance(raw, list):
            raise InputError("a neuron_pruning mask must be a list of 0/1")
        return self.check_mask(raw)

    def as_weight_pruning(self) -> WeightPruningInstance:
        """The weight-pruning instance on the same data."""
        return self._same_data(WeightPruningInstance)


@dataclass(frozen=True, eq=False)
class WeightPruningInstance(_PruningInstance):
    """Weight pruning: keep a subset of the n×d first-layer weights (mask shape (n, d), bool).

    Output weights are not masked: cutting v_i equals cutting row i (no biases). Error: norm
    over the points of act_out(Σ_i v_i relu((M_i ∘ w_i)·x)) − f(x).
    """

    kind: ClassVar[str] = "weight_pruning"

    @property
    def mask_shape(self) -> tuple[int, ...]:
        return (self.n, self.d)

    def neuron_mask_to_weight_mask(self, mask_n: Any) -> np.ndarray:
        """(n,) unit mask -> (n, d) weight mask: a kept unit keeps all its input weights."""
        m = binary_mask(mask_n, (self.n,), "neuron_pruning")
        return np.repeat(m[:, None], self.d, axis=1)

    def pruned_network(self, mask: Any) -> TwoLayerNet:
        """The network with the cut first-layer weights set to zero."""
        return self.network.masked(weight_mask=self.check_mask(mask))

    def kept(self, mask: Any) -> int:
        """Number of kept first-layer weights on an input-to-output path (nonzero weight,
        v_i != 0)."""
        return self.canonical_mask(mask)[1].kept_weights

    def mask_to_json(self, mask: Any) -> dict[str, list[list[int]]]:
        """{"hidden_weights": n×d nested list of 0/1 integers}."""
        return {"hidden_weights": self.check_mask(mask).astype(int).tolist()}

    def mask_from_json(self, raw: Any) -> np.ndarray:
        """Read {"hidden_weights": n×d 0/1}."""
        if not isinstance(raw, dict) or "hidden_weights" not in raw:
            raise InputError('a weight_pruning mask must be {"hidden_weights": n×d 0/1}')
        if not isinstance(raw["hidden_weights"], list):
            raise InputError("a weight_pruning mask's hidden_weights must be a list of lists")
        if extra := sorted(set(raw) - {"hidden_weights"}):  # output_weights was ignored, not
            # pruned: units are cut by cutting their hidden weights (hunt 195 L1)
            raise InputError(f"a weight_pruning mask is {{\"hidden_weights\": n×d 0/1}} only, "
                             f"got also {', '.join(map(repr, extra))}")
        return self.check_mask(raw["hidden_weights"])

    def as_neuron_pruning(self) -> NeuronPruningInstance:
        """The neuron-pruning instance on the same data."""
        return self._same_data(NeuronPruningInstance)


PruningInstance = NeuronPruningInstance | WeightPruningInstance
"""Either pruning kind (for type hints)."""
