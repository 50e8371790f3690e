"""Problem data: the problem catalog, instance types, generators, JSON I/O, evaluation of a mask."""

from exactprune.instances.catalog import KINDS, ProblemKind, get_kind, register_kind
from exactprune.instances.errors import InputError
from exactprune.instances.io import (
    instance_from_json,
    load_instance,
    read_json,
    save_instance,
    write_json_atomic,
)
from exactprune.instances.network import TwoLayerNet
from exactprune.instances.pruning import (
    MaskSummary,
    NeuronPruningInstance,
    WeightPruningInstance,
    canonical_mask,
    cube_points,
    gaussian_points,
    generate_neuron_pruning,
    generate_weight_pruning,
    sphere_points,
    to_graph,
)
from exactprune.instances.subset_sum import SubsetSumInstance, generate_subset_sum

__all__ = [
    "KINDS",
    "InputError",
    "MaskSummary",
    "NeuronPruningInstance",
    "ProblemKind",
    "SubsetSumInstance",
    "TwoLayerNet",
    "WeightPruningInstance",
    "canonical_mask",
    "cube_points",
    "gaussian_points",
    "generate_neuron_pruning",
    "generate_subset_sum",
    "generate_weight_pruning",
    "get_kind",
    "instance_from_json",
    "load_instance",
    "read_json",
    "register_kind",
    "save_instance",
    "sphere_points",
    "to_graph",
    "write_json_atomic",
]
