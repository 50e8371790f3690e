"""Problem data: instance types, generators, JSON I/O, validation, evaluation of a mask."""

from exactprune.instances.errors import InputError
from exactprune.instances.generators import generate_subset_sum
from exactprune.instances.io import (
    INSTANCE_KINDS,
    instance_from_json,
    load_instance,
    read_json,
    register_kind,
    save_instance,
    write_json_atomic,
)
from exactprune.instances.subset_sum import SubsetSumInstance

__all__ = [
    "INSTANCE_KINDS",
    "InputError",
    "SubsetSumInstance",
    "generate_subset_sum",
    "instance_from_json",
    "load_instance",
    "read_json",
    "register_kind",
    "save_instance",
    "write_json_atomic",
]
