"""Seeded random neuron-pruning and weight-pruning instances.

Defaults, and why: first-layer weights W ~ Normal(0, 1) entries and output weights
v ~ Uniform[-1, 1], the setting of the structured-vs-unstructured pruning papers we reproduce
(see SCIENCE.md §2: their exact distributions are unknown, so both are parameters:
weight_dist "uniform" means Uniform[-1, 1] entries, output_dist "normal" means Normal(0, 1)).
The target is a single neuron relu(w*·x) with w* a unit vector: `target_weights` (normalised),
or `target_angle` a (d = 2 only: w* = (cos a, sin a)), or seeded uniform on the sphere.

Random streams: `numpy.random.SeedSequence(seed).spawn(4)` gives independent children for
(0) W, (1) v, (2) the target, (3) the points, so changing the number or domain of points,
the target, or one distribution never changes the other draws for the same seed. W is drawn
row by row (shape (width, d)) and v in order, so the net of width n is the first n units of
the net of width n' > n with the same seed and distributions (nested widths). The parameters
and the seed are recorded under the instance's "generator".
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from exactprune.instances.errors import InputError
from exactprune.instances.limits import MAX_ENTRIES, check_entries
from exactprune.instances.network import ACTIVATIONS, TwoLayerNet, float_array
from exactprune.instances.params import as_number, is_integer, param
from exactprune.instances.pruning.instance import (
    DOMAINS,
    NORMS,
    NeuronPruningInstance,
    WeightPruningInstance,
)
from exactprune.instances.pruning.points import domain_points

WEIGHT_DISTS: tuple[str, ...] = ("normal", "uniform")
"""First-layer weight distributions: Normal(0, 1), Uniform[-1, 1]."""
OUTPUT_DISTS: tuple[str, ...] = ("uniform", "normal")
"""Output weight distributions: Uniform[-1, 1], Normal(0, 1)."""

GENERATOR_NAME = "two_layer_relu_random"


@dataclass(frozen=True, kw_only=True)
class PruningParams:
    """Parameters of `generate_neuron_pruning` / `generate_weight_pruning` (the CLI's
    ``generate neuron-pruning|weight-pruning`` flags, sweep keys); points is a count here."""

    d: int = param(help="input dimension", minimum=1, maximum=MAX_ENTRIES)
    width: int = param(help="hidden units n of the network to prune", minimum=1,
                       maximum=MAX_ENTRIES)
    points: int = param(help="number K of points the error is measured on", minimum=1,
                        maximum=MAX_ENTRIES)
    seed: int = param(0, help="random seed", minimum=0)
    domain: str = param("sphere", help="where the points lie", choices=DOMAINS)
    weight_dist: str = param("normal", choices=WEIGHT_DISTS,
                             help="first-layer weights: Normal(0,1) or Uniform[-1,1]")
    output_dist: str = param("uniform", choices=OUTPUT_DISTS,
                             help="output weights: Uniform[-1,1] or Normal(0,1)")
    output_activation: str = param("identity", choices=ACTIVATIONS,
                                   help="activation of the pruned network's output")
    target_weights: tuple[float, ...] | None = param(
        None, help="target neuron weights w* (normalised; comma-separated)")
    target_angle: float | None = param(None, help="d = 2: target relu(cos(a) x1 + sin(a) x2)")
    norm: str = param("linf", choices=NORMS, help="error norm over the points")


def _pos_int(val: Any, name: str) -> int:
    if not is_integer(val) or val < 1:
        raise InputError(f"{name} must be a positive integer, got {val!r}")
    return int(val)


def _draw(rng: np.random.Generator, dist: str, size: Any) -> np.ndarray:
    if dist == "normal":
        return rng.standard_normal(size)
    return rng.uniform(-1.0, 1.0, size)


def _target_vector(
    d: int, rng: np.random.Generator, target_weights: Any, target_angle: Any
) -> np.ndarray:
    if target_weights is not None and target_angle is not None:
        raise InputError("give target_weights or target_angle, not both")
    if target_angle is not None:
        if d != 2:
            raise InputError(f"target_angle needs d = 2, got d = {d}")
        target_angle = as_number(target_angle, "target_angle")
        if not math.isfinite(target_angle):
            raise InputError(f"target_angle must be a finite number, got {target_angle!r}")
        return np.array([math.cos(target_angle), math.sin(target_angle)])
    if target_weights is not None:
        w = float_array(target_weights, "target_weights", 1)
        if w.shape != (d,):
            raise InputError(f"target_weights must have {d} entries, got {w.shape[0]}")
        peak = float(np.max(np.abs(w)))
        if peak == 0.0:
            raise InputError("target_weights must not be all zero")
        with np.errstate(over="ignore", under="ignore"):
            norm = float(np.linalg.norm(w))
        if not 1e-150 < norm < 1e150:  # the squares would underflow or overflow: rescale first
            w = w / peak
            norm = float(np.linalg.norm(w))
        return w / norm
    w = rng.standard_normal(d)
    while not np.linalg.norm(w) > 0.0:  # probability zero
        w = rng.standard_normal(d)
    return w / np.linalg.norm(w)


def _generate(
    cls: type,
    d: int,
    width: int,
    points: Any,
    seed: int,
    domain: str | None,
    weight_dist: str,
    output_dist: str,
    output_activation: str,
    target_weights: Any,
    target_angle: Any,
    norm: str,
) -> Any:
    d = _pos_int(d, "d")
    width = _pos_int(width, "width")
    check_entries(width * d, f"a width-{width} net in d = {d}")
    if is_integer(points):
        check_entries(int(points) * max(d, width), f"{points} points with width {width}, d = {d}")
    if not is_integer(seed) or seed < 0:
        raise InputError(f"seed must be a non-negative integer, got {seed!r}")
    seed = int(seed)
    if not isinstance(weight_dist, str) or weight_dist not in WEIGHT_DISTS:
        raise InputError(f"unknown weight_dist {weight_dist!r} (known: {', '.join(WEIGHT_DISTS)})")
    if not isinstance(output_dist, str) or output_dist not in OUTPUT_DISTS:
        raise InputError(f"unknown output_dist {output_dist!r} (known: {', '.join(OUTPUT_DISTS)})")
    if output_activation not in ACTIVATIONS:
        raise InputError(f"unknown output_activation {output_activation!r} "
                         f"(known: {', '.join(ACTIVATIONS)})")
    if norm not in NORMS:
        raise InputError(f"unknown norm {norm!r} (known: {', '.join(NORMS)})")
    if domain is not None and domain not in DOMAINS:
        raise InputError(f"unknown domain {domain!r} (known: {', '.join(DOMAINS)})")

    s_w, s_v, s_t, s_p = np.random.SeedSequence(seed).spawn(4)
    hidden = _draw(np.random.default_rng(s_w), weight_dist, (width, d))
    output = _draw(np.random.default_rng(s_v), output_dist, width)
    w_star = _target_vector(d, np.random.default_rng(s_t), target_weights, target_angle)

    # a float count (4.0) said "points must be a (nested) list of numbers" (hunt 158 L4)
    if isinstance(points, bool | float | np.floating | str) or \
            (isinstance(points, np.ndarray) and points.ndim == 0):
        raise InputError(f"points must be a positive integer or a (K, {d}) array, got "
                         f"{points!r}")
    if is_integer(points):
        k = _pos_int(points, "points")
        if domain is None:
            raise InputError("domain must be sphere, cube or gaussian when points is a count")
        pts = domain_points(domain, d, k, int(np.random.default_rng(s_p).integers(2**63)))
        points_param: Any = k
    else:
        pts = float_array(points, "points", 2)
        points_param = "given"

    params = {
        "name": GENERATOR_NAME,
        "seed": seed,
        "d": d,
        "width": width,
        "points": points_param,
        "domain": domain,
        "weight_dist": weight_dist,
        "output_dist": output_dist,
        "output_activation": output_activation,
        "target_weights": None if target_weights is None else [float(x) for x in
                                                              np.ravel(target_weights)],
        "target_angle": None if target_angle is None else float(target_angle),
        "norm": norm,
    }
    return cls(
        network=TwoLayerNet(hidden, output, output_activation),
        target=TwoLayerNet.single_neuron(w_star),
        points=pts,
        norm=norm,
        domain=domain,
        generator=params,
    )


def generate_neuron_pruning(
    d: int,
    width: int,
    points: int | Any,
    seed: int = 0,
    *,
    domain: str | None = "sphere",
    weight_dist: str = "normal",
    output_dist: str = "uniform",
    output_activation: str = "identity",
    target_weights: Any = None,
    target_angle: float | None = None,
    norm: str = "linf",
) -> NeuronPruningInstance:
    """A random `NeuronPruningInstance`: prune a random width-`width` net to fit relu(w*·x).

    d: input dimension; width: hidden units n; points: a count K (drawn from `domain` with the
    points stream; for the sphere with d = 1 at most 2 points, see instances.points) or a
    (K, d) array used as given (then `domain` may be None; if named, the points must lie in
    it); seed: non-negative integer. Other parameters: see the module docstring.
    """
    return _generate(NeuronPruningInstance, d, width, points, seed, domain, weight_dist,
                     output_dist, output_activation, target_weights, target_angle, norm)


def generate_weight_pruning(
    d: int,
    width: int,
    points: int | Any,
    seed: int = 0,
    *,
    domain: str | None = "sphere",
    weight_dist: str = "normal",
    output_dist: str = "uniform",
    output_activation: str = "identity",
    target_weights: Any = None,
    target_angle: float | None = None,
    norm: str = "linf",
) -> WeightPruningInstance:
    """A random `WeightPruningInstance`; same parameters and the same draws as
    `generate_neuron_pruning` (same seed -> same network, target and points)."""
    return _generate(WeightPruningInstance, d, width, points, seed, domain, weight_dist,
                     output_dist, output_activation, target_weights, target_angle, norm)


def pruning_file_numbers(d: int, width: int, points: Any, **_: Any) -> int | None:
    """Numbers an instance file of either pruning kind holds (the catalog's `file_numbers`):
    the net and its target, (width + 1)(d + 1) at most, and the points; None when `points`
    is not a count."""
    if not is_integer(points):
        return None
    return (int(width) + 1) * (int(d) + 1) + int(points) * int(d)
