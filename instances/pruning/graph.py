"""The pruned network as a graph, and the canonical form of a keep-mask.

Canonical form: a weight is kept only if it lies on an input-to-output path of the pruned
net with every weight on that path nonzero. In a bias-free two-layer net every first-layer
weight starts at an input, so the only ways to fall off a path are: the weight is cut or
is exactly zero, or its unit's output weight v_i is zero, or (neuron pruning) the unit is
cut. A unit is kept when it keeps at least one nonzero input weight and v_i != 0; a unit
with all inputs cut computes relu(0) = 0 and contributes nothing, so its output edge is
dropped too. Canonicalisation never changes what the net computes: `evaluate` gives the
identical float64 number for a mask and for its canonical form.

Node names of `to_graph`: ("input", j) for j < d, ("hidden", i) for kept units i, and
("output", 0). Edges carry "weight" (W[i, j] into a hidden unit, v[i] into the output).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from exactprune.instances.errors import InputError
from exactprune.instances.masks import binary_mask
from exactprune.instances.network import TwoLayerNet

if TYPE_CHECKING:
    import networkx as nx

NEURON = "neuron_pruning"
WEIGHT = "weight_pruning"
_KIND_ALIASES = {"neuron_pruning": NEURON, "neuron": NEURON,
                 "weight_pruning": WEIGHT, "weight": WEIGHT}


@dataclass(frozen=True)
class MaskSummary:
    """Size of a canonical pruning.

    kept_units: hidden units that contribute (>= 1 nonzero kept input weight and v_i != 0);
    kept_weights: nonzero first-layer weights kept on an input-to-output path (each kept unit
    also keeps its one output weight, so the pruned graph has kept_weights + kept_units edges).
    """

    kept_units: int
    kept_weights: int


def _kind(kind: str) -> str:
    try:
        return _KIND_ALIASES[kind]
    except (KeyError, TypeError):
        raise InputError(
            f"unknown pruning kind {kind!r} (known: {NEURON}, {WEIGHT})"
        ) from None


def canonical_weight_mask(network: TwoLayerNet, weight_mask: Any = None) -> np.ndarray:
    """(n, d) bool: kept, nonzero weights of units with v_i != 0 (None = keep all)."""
    shape = network.hidden_weights.shape
    m = np.ones(shape, bool) if weight_mask is None else binary_mask(weight_mask, shape, "weight")
    return m & (network.hidden_weights != 0.0) & (network.output_weights != 0.0)[:, None]


def canonical_unit_mask(network: TwoLayerNet, unit_mask: Any = None) -> np.ndarray:
    """(n,) bool: kept units with v_i != 0 and at least one nonzero input weight."""
    shape = (network.n,)
    m = np.ones(shape, bool) if unit_mask is None else binary_mask(unit_mask, shape, "neuron")
    return m & (network.output_weights != 0.0) & np.any(network.hidden_weights != 0.0, axis=1)


def canonicalize(
    network: TwoLayerNet, mask: Any, kind: str
) -> tuple[np.ndarray, MaskSummary]:
    """Canonical mask (same shape as the kind's mask) and its `MaskSummary`.

    kind: "neuron_pruning" (mask shape (n,)) or "weight_pruning" (mask shape (n, d));
    mask None means keep everything.
    """
    kind = _kind(kind)
    if kind == NEURON:
        units = canonical_unit_mask(network, mask)
        weights = units[:, None] & (network.hidden_weights != 0.0)
        return units, MaskSummary(int(units.sum()), int(weights.sum()))
    weights = canonical_weight_mask(network, mask)
    units = weights.any(axis=1)
    return weights, MaskSummary(int(units.sum()), int(weights.sum()))


def canonical_mask(instance: Any, mask: Any) -> tuple[np.ndarray, MaskSummary]:
    """Canonical form of `mask` for a neuron- or weight-pruning instance, and its summary.

    The mask is first checked by `instance.check_mask` (InputError if malformed).
    """
    return canonicalize(instance.network, instance.check_mask(mask), instance.kind)


def to_graph(network: TwoLayerNet, mask: Any = None, kind: str = WEIGHT) -> nx.DiGraph:
    """The canonical pruned network as a `networkx.DiGraph`.

    Nodes: ("input", j) for every input j (always present, possibly isolated), ("hidden", i)
    for every kept unit, ("output", 0); node attributes "layer" ("input" | "hidden" |
    "output") and "index"; the output node also has "activation". Edges: ("input", j) ->
    ("hidden", i) with "weight" W[i, j] for each kept weight, ("hidden", i) -> ("output", 0)
    with "weight" v[i]. Graph attributes: kind, n, d, output_activation, kept_units,
    kept_weights. mask None keeps everything (still canonicalised: zero weights dropped).
    """
    import networkx as nx

    kind = _kind(kind)
    canon, summary = canonicalize(network, mask, kind)
    weights = canon[:, None] & (network.hidden_weights != 0.0) if kind == NEURON else canon
    units = weights.any(axis=1)
    g = nx.DiGraph(
        kind=kind, n=network.n, d=network.d, output_activation=network.output_activation,
        kept_units=summary.kept_units, kept_weights=summary.kept_weights,
    )
    for j in range(network.d):
        g.add_node(("input", j), layer="input", index=j)
    for i in np.flatnonzero(units).tolist():
        g.add_node(("hidden", i), layer="hidden", index=i)
    g.add_node(("output", 0), layer="output", index=0, activation=network.output_activation)
    for i, j in zip(*np.nonzero(weights), strict=True):
        g.add_edge(("input", int(j)), ("hidden", int(i)),
                   weight=float(network.hidden_weights[i, j]))
    for i in np.flatnonzero(units).tolist():
        g.add_edge(("hidden", i), ("output", 0), weight=float(network.output_weights[i]))
    return g
