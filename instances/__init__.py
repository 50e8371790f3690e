"""Problem data: instance types, generators, JSON I/O, validation, evaluation of a mask."""

from exactprune.instances.errors import InputError
from exactprune.instances.io import (
    INSTANCE_KINDS,
    instance_from_json,
    load_instance,
    read_json,
    register_kind,
    save_instance,
    write_json_atomic,
)
from exactprune.instances.network import TwoLayerNet
from exactprune.instances.pruning import NeuronPruningInstance, WeightPruningInstance
from exactprune.instances.pruning.generator import (
    generate_neuron_pruning,
    generate_weight_pruning,
)
from exactprune.instances.pruning.graph import MaskSummary, canonical_mask, to_graph
from exactprune.instances.pruning.points import cube_points, gaussian_points, sphere_points
from exactprune.instances.subset_sum import SubsetSumInstance
from exactprune.instances.subset_sum.generator import generate_subset_sum

__all__ = [
    "INSTANCE_KINDS",
    "InputError",
    "MaskSummary",
    "NeuronPruningInstance",
    "SubsetSumInstance",
    "TwoLayerNet",
    "WeightPruningInstance",
    "canonical_mask",
    "cube_points",
    "gaussian_points",
    "generate_neuron_pruning",
    "generate_subset_sum",
    "generate_weight_pruning",
    "instance_from_json",
    "load_instance",
    "read_json",
    "register_kind",
    "save_instance",
    "sphere_points",
    "to_graph",
    "write_json_atomic",
]
