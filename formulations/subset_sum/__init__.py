"""Subset-sum as a MILP: one model for min_error (with an optional budget) and sparsest."""

from exactprune.formulations.base import Formulation
from exactprune.formulations.subset_sum.milp import build_subset_sum

FORMULATIONS = (
    Formulation("standard", "subset_sum",
                "min_error: minimise e >= |x.m - z| (optional budget sum m <= k); "
                "sparsest: minimise sum m within |x.m - z| <= eps",
                build_subset_sum, objectives=frozenset({"min_error", "sparsest"}),
                max_kept=True),
)
