"""Neuron and weight pruning of a bias-free two-layer ReLU net: instances, point sets,
seeded generators, and the pruned net as a graph."""

from exactprune.instances.pruning.generator import (
    generate_neuron_pruning,
    generate_weight_pruning,
)
from exactprune.instances.pruning.graph import MaskSummary, canonical_mask, to_graph
from exactprune.instances.pruning.instance import (
    NeuronPruningInstance,
    PruningInstance,
    WeightPruningInstance,
)
from exactprune.instances.pruning.points import cube_points, gaussian_points, sphere_points

__all__ = [
    "MaskSummary",
    "NeuronPruningInstance",
    "PruningInstance",
    "WeightPruningInstance",
    "canonical_mask",
    "cube_points",
    "gaussian_points",
    "generate_neuron_pruning",
    "generate_weight_pruning",
    "sphere_points",
    "to_graph",
]
