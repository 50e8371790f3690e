"""Random subset-sum: the instance, its evaluation, and its seeded generator."""

from exactprune.instances.subset_sum.generator import generate_subset_sum
from exactprune.instances.subset_sum.instance import SubsetSumInstance

__all__ = ["SubsetSumInstance", "generate_subset_sum"]
